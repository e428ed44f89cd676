"""Participation (docs/model.md, The crypto layer): with a fixed verification cost an agent's
payoff jumps at
``b = 0``, so on which posts to pay at all is part of every best response.

The Nash equilibria of the bundled verification_costs and two_states examples have the edge
data centres stay out of some hours. Here an agent's alternatives are scored by the market rules
(:func:`emgame.market.play`) after re-spending its budget exactly (:func:`crypto._lib.
best_spending`: nested bisection on the agent's own first-order conditions, a concave problem
once the posts paid on are fixed), by the test oracle's multi-start SLSQP
(:func:`oracles.deviation_gain`), and by the certificate's dual bound with the post forced.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from emgame import Status, economy_from_dict, solve
from emgame.agents.verdict import forced_bound
from emgame.certificate import certify
from emgame.market import Profile, evaluate, play
from oracles import deviation_gain

from ._lib import Facing, best_spending, edited, example, solved, tol

NAME = "verification_costs"
BOTH = pytest.mark.parametrize("name", [NAME, "two_states"])


def _sol(name: str = NAME):
    s = solved(name)
    assert s.status is Status.EQUILIBRIUM, s.reason
    return s


def _consumer_types():
    return range(len(example(NAME).consumers))


def _entry_floor(f: Facing, t: int) -> float:
    """The least bid on post ``t`` whose electricity covers its own verification (E >= 0):
    ``x = b Q/(B_- + b) >= max_s v_s^t/(1 - κ_s)`` (docs/model.md, The crypto layer), solved for
    ``b``."""
    e = f.e
    need = max(st.fixed[t] / (1 - st.share) for st in e.states)
    Q = f.Qm[t]
    return need * f.Bm[t] / (Q - need)


def test_the_example_has_agents_that_stay_out():
    """The header of verification_costs.toml: the edge data centres pay only in the hours they
    value most and stay out of others; the large buyers pay in every hour. (All periods have
    positive weight for every type, so an unpaid post is a participation choice.)"""
    s = _sol()
    paid = s.profile.consumer_bids[:, 1:] > 0
    assert paid[0].all() and paid[1].all()
    assert 0 < paid[2].sum() < s.economy.periods
    assert np.all(s.economy.consumers.weights > 0)


@BOTH
@pytest.mark.parametrize("i", _consumer_types())
def test_reoptimised_spending_reproduces_the_equilibrium(name, i):
    """Sanity of the oracle: re-spending the budget exactly on the posts the type pays on now
    gives back its equilibrium payoff and bids (the equilibrium is a best response within its
    own participation), so the comparisons below start from the right level."""
    s = _sol(name)
    f = Facing.of(s.economy, s.profile, "consumers", i)
    bids = s.profile.consumer_bids[i]
    U, b = best_spending(f, (bids[1:] > 0)[None])
    U_star = s.outcome.consumers.utility[i]
    assert U[0] == pytest.approx(U_star, rel=1e-12, abs=1e-13)
    np.testing.assert_allclose(b[0], bids, rtol=1e-9, atol=1e-15)


def _outsiders(s):
    """``(type, posts it stays out of)`` for every consumer type that stays out of some post."""
    out = []
    for i in _consumer_types():
        posts = np.flatnonzero(s.profile.consumer_bids[i, 1:] == 0) + 1
        if posts.size:
            out.append((i, posts))
    assert out, "the example should have a type that stays out of some post"
    return out


_ENTERING: dict = {}


def _entering(name: str, i: int) -> dict:
    """For every post ``t`` type ``i`` stays out of: payoffs (market rules) of entering it with
    every bid of a grid, the rest of the budget re-spent optimally on the posts paid now;
    with the grid and its floor. ``{t: (U, grid, floor)}``, cached; one batch for all posts."""
    key = (name, i)
    if key in _ENTERING:
        return _ENTERING[key]
    s = _sol(name)
    e = s.economy
    f = Facing.of(e, s.profile, "consumers", i)
    paid = s.profile.consumer_bids[i, 1:] > 0
    M = f.Bm[0] * e.consumers.endowment[i] / e.goods_supply
    grids, rows, fixed = {}, [], []
    for t in np.flatnonzero(~paid) + 1:
        floor = _entry_floor(f, t)
        grid = np.concatenate([[0.5 * floor, 0.999 * floor],
                               np.geomspace(floor * (1 + 1e-9), 0.9 * M, 40)])
        grids[t] = (grid, floor)
        r = np.repeat(paid[None], grid.size, 0)
        r[:, t - 1] = True
        fx = np.zeros((grid.size, e.periods))
        fx[:, t - 1] = grid
        rows.append(r)
        fixed.append(fx)
    U, _ = best_spending(f, np.concatenate(rows), np.concatenate(fixed))
    out, k = {}, 0
    for t, (grid, floor) in grids.items():
        out[t] = (U[k:k + grid.size], grid, floor)
        k += grid.size
    _ENTERING[key] = out
    return out


@BOTH
def test_an_agent_that_stays_out_gains_nothing_by_entering_with_any_bid(name):
    """For every post a type stays out of and every entering bid on a grid (below the least
    bid that pays for its own verification, where ``E < 0`` makes the strategy infeasible,
    up to 90% of its budget), the best payoff with the rest of the budget re-spent on its
    other posts is no higher than the equilibrium payoff (docs/model.md, The crypto layer and
    Solution concepts: participation is
    part of the best response). Scored by the market rules."""
    s = _sol(name)
    for i, posts in _outsiders(s):
        U_star = float(s.outcome.consumers.utility[i])
        entering = _entering(name, i)
        assert sorted(entering) == sorted(posts)
        for t, (U, grid, floor) in entering.items():
            k = int(np.argmax(U))
            assert U[k] <= U_star + tol(U_star), (i, t, grid[k], U[k] - U_star)
            assert np.all(U[grid < floor] == -np.inf)
            assert np.isfinite(U[2])  # just above the floor: feasible


@BOTH
def test_the_certificate_bounds_entering_a_post(name):
    """The certificate's dual bound (docs/model.md, Solution concepts) with the type forced to pay
    on a post it
    stays out of is no higher than its equilibrium payoff (within the pass mark), so the
    type passes; and, being an upper bound (weak duality), it is no lower than the best
    payoff actually reached by entering that post on the grid of the test above."""
    s = _sol(name)
    e = s.economy
    for i, posts in _outsiders(s):
        U_star = float(s.outcome.consumers.utility[i])
        assert s.certificate.consumer_passed[i]
        for t in posts:
            force = np.full(e.periods + 1, -1, dtype=np.int8)
            force[t] = 1
            bound = forced_bound(e, s.profile, "consumers", i, force)
            assert bound <= U_star + tol(U_star), (i, t, bound - U_star)
            U, _, _ = _entering(name, i)[t]
            assert bound >= U.max() - 1e-12, (i, t, bound - U.max())


@BOTH
@pytest.mark.parametrize("role", ["consumers", "producers"])
def test_an_agent_that_pays_gains_nothing_by_leaving_a_post(name, role):
    """For every type and every electricity post it pays on: set that bid to zero (saving the
    post's verification) and re-spend the money on its other posts, optimally (exact
    re-optimisation; a producer keeps its offers and buys its inputs) and proportionally
    (every other bid scaled up to use the same budget). Neither beats the equilibrium payoff
    (docs/model.md, The crypto layer–§6). Scored by the market rules. For consumers, the
    certificate's dual
    bound with the post forced out lies between the best payoff found by leaving it and the
    equilibrium payoff."""
    s = _sol(name)
    e = s.economy
    pop = getattr(e, role)
    allbids = s.profile.consumer_bids if role == "consumers" else s.profile.producer_bids
    for i in range(len(pop)):
        bids = allbids[i]
        f = Facing.of(e, s.profile, role, i)
        U_star = float(getattr(s.outcome, role).utility[i])
        paid_posts = np.flatnonzero(bids[1:] > 0)
        rows = np.repeat((bids[1:] > 0)[None], paid_posts.size, 0)
        rows[np.arange(paid_posts.size), paid_posts] = False
        offers = (None if role == "consumers"
                  else np.repeat(s.profile.offers[i][None], paid_posts.size, 0))
        U, _ = best_spending(f, rows, offers=offers)
        k = int(np.argmax(U))
        assert U[k] <= U_star + tol(U_star), (pop.names[i], paid_posts[k] + 1, U[k] - U_star)
        if role == "consumers":
            prop = np.repeat(bids[None], paid_posts.size, 0)
            for r, t in enumerate(paid_posts):
                saved = prop[r, t + 1]
                prop[r, t + 1] = 0.0
                prop[r, 1:] *= (prop[r, 1:].sum() + saved) / prop[r, 1:].sum()
            Up = f.play(prop).utility
            assert np.all(Up <= U_star + tol(U_star)), pop.names[i]
            # The certificate's bound with the post forced out: a valid upper bound on what
            # leaving it can reach (weak duality), yet no higher than the payoff now.
            for r, t in enumerate(paid_posts):
                force = np.full(e.periods + 1, -1, dtype=np.int8)
                force[t + 1] = 0
                bound = forced_bound(e, s.profile, "consumers", i, force)
                assert U[r] - 1e-12 <= bound <= U_star + tol(U_star), (
                    pop.names[i], t + 1, U[r] - U_star, bound - U_star)


def test_the_slsqp_oracle_finds_no_gain_from_entering():
    """The test oracle's independent best response (multi-start SLSQP over the bids, scored by
    the market rules) for the edge data centres, allowed to pay on the posts it pays on now
    plus one it stays out of: no gain beyond the pass mark. (Leaving a post is checked by
    exact re-optimisation above; SLSQP there is slow and adds nothing.)"""
    s = _sol()
    i = 2
    paid = s.profile.consumer_bids[i] > 0
    for t in np.flatnonzero(~paid[1:]) + 1:
        enter = paid.copy()
        enter[t] = True
        g = deviation_gain(s.economy, s.profile, "consumers", i, participation=enter, starts=1)
        assert g.gain <= tol(g.current), (t, g.gain)


# --------------------------------------------------------------------------------------------
# The certificate sees participation mistakes.
# --------------------------------------------------------------------------------------------


def _moved(s, i: int, enter: bool) -> tuple[Profile, int]:
    """The equilibrium with type ``i``'s participation changed: it pays a small bid (three
    times the least that covers its own verification) on a post it had left, taken from its
    largest bid (``enter``), or it drops its smallest paid post and adds that bid to its
    largest (leave). Returns the profile and the post changed."""
    f = Facing.of(s.economy, s.profile, "consumers", i)
    cb = s.profile.consumer_bids.copy()
    b = cb[i]
    big = int(np.argmax(b[1:])) + 1
    if enter:
        t = int(np.flatnonzero(b[1:] == 0)[0]) + 1
        amount = 3 * _entry_floor(f, t)
        b[t] = amount
        b[big] -= amount
    else:
        t = int(np.argmin(np.where(b[1:] > 0, b[1:], np.inf))) + 1
        b[big] += b[t]
        b[t] = 0.0
    return Profile(cb, s.profile.producer_bids, s.profile.offers, s.profile.capacity), t


@pytest.mark.parametrize("enter", [True, False], ids=["pays-on-a-post-it-left", "leaves-a-post"])
def test_the_certificate_fails_when_one_type_changes_its_participation(enter):
    """From the example's equilibrium, the edge data centres (all 200) change participation on
    one post, with the same total spending. The certificate must fail for that type (it
    bounds every deviation, adding and dropping posts included, docs/model.md, Solution concepts),
    and its regret
    must be at least the gain actually available: one edge agent, against the changed
    profile, going back to the equilibrium's posts with its budget re-spent optimally."""
    s = _sol()
    i = 2
    prof, _ = _moved(s, i, enter)
    out = evaluate(s.economy, prof)
    U_now = float(out.consumers.utility[i])
    assert np.isfinite(U_now)  # a feasible, merely suboptimal, profile
    cert = certify(s.economy, prof, multipliers=s.multipliers, outcome=out)
    assert not cert.passed
    assert not cert.consumer_passed[i]
    f = Facing.of(s.economy, prof, "consumers", i)
    U_back, _ = best_spending(f, (s.profile.consumer_bids[i, 1:] > 0)[None])
    witnessed = float(U_back[0]) - U_now
    assert witnessed > tol(U_now)
    assert cert.consumer_regret[i] >= witnessed - 1e-12


# --------------------------------------------------------------------------------------------
# Participation falls as verification gets dearer.
# --------------------------------------------------------------------------------------------

FIXED_GRID = [0.0, 0.001, 0.002, 0.0045, 0.009, 0.015, 0.021, 0.03]


def test_participation_falls_as_the_fixed_cost_rises():
    """Sweep ``verification.fixed`` over a fixed (deterministic) grid on the verification_costs
    example, each solve warm-started from the last. A dearer payment makes paying on a post
    worth less and leaving it worth more, so the number of posts each type pays on is
    non-increasing in the fixed cost, for every consumer and producer type; the smallest
    buyers (edge, endowment 0.2) pay on every hour when payments are free and on strictly
    fewer at the top of the grid, yet never leave altogether (the example's header: every
    bytecoin earned is spent). Every grid point must have a certified equilibrium; the grid
    avoids the narrow bands around switching points (e.g. v = 0.003, 0.0165, 0.024) where
    no type-symmetric pure-strategy equilibrium is found."""
    e = example(NAME)
    prev = None
    counts = []
    for v in FIXED_GRID:
        ev = edited(e, lambda d, v=v: d["verification"].update(fixed=v))
        sol = solve(ev, "nash", start=prev)
        assert sol.status is Status.EQUILIBRIUM, (v, sol.reason)
        prev = sol
        counts.append(np.concatenate([(sol.profile.consumer_bids[:, 1:] > 0).sum(axis=1),
                                      (sol.profile.producer_bids[:, 1:] > 0).sum(axis=1)]))
    counts = np.array(counts)
    assert np.all(np.diff(counts, axis=0) <= 0), counts
    edge = counts[:, 2]
    assert edge[0] == e.periods
    assert edge[-1] < edge[0]
    assert edge[-1] >= 1


# --------------------------------------------------------------------------------------------
# Price takers choose their posts too (the competitive benchmark).
# --------------------------------------------------------------------------------------------


def _price_taker_best(e, i: int, p: np.ndarray, paid: np.ndarray) -> float:
    """Best payoff (market rules, price taking) of a CRRA ``ai`` consumer paying exactly on
    ``paid (T,)`` at prices ``p``. Closed form given the multiplier: on a paid post
    ``E_t = (a_t (1-κ) / (λ p_t))^{1/γ}`` and ``b_t = p_t (E_t + v_t) / (1-κ)`` (one state;
    ``E = (1-κ) b/p - v``); ``λ`` is found by bisection so that ``Σ b_t = p^0 ω``."""
    pop = e.consumers.select([i])
    a, g = pop.weights[0], float(pop.gamma[0])
    kap, v = float(e.shares[0]), e.fixed_costs[0, 1:]
    pt = p[1:]
    M = p[0] * float(pop.endowment[0])

    def bids(loglam):
        E = (a * (1 - kap) / (np.exp(loglam) * pt)) ** (1 / g)
        return np.where(paid, pt * (E + v) / (1 - kap), 0.0)

    lo, hi = -200.0, 200.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if bids(mid).sum() > M else (lo, mid)
    b = np.concatenate([[0.0], bids(hi)])[None]
    return float(play(e, pop, b, None, None, prices=p).utility[0])


def test_price_takers_choose_their_posts_optimally():
    """In the competitive benchmark of the verification_costs example (one state, CRRA
    consumers), each consumer type's payoff at the equilibrium prices is the best over its
    own posts (closed form re-derived), and neither paying on one more post nor dropping one
    of its posts does better (docs/model.md, The crypto layer–§6: participation is chosen by price
    takers too)."""
    s = solved(NAME, "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    e, p = s.economy, s.prices
    assert e.S == 1
    for i in _consumer_types():
        U_star = float(s.outcome.consumers.utility[i])
        paid = s.profile.consumer_bids[i, 1:] > 0
        assert _price_taker_best(e, i, p, paid) == pytest.approx(U_star, rel=1e-10)
        for t in range(e.periods):
            other = paid.copy()
            other[t] = not paid[t]
            if other.any():
                U = _price_taker_best(e, i, p, other)
                assert U <= U_star + tol(U_star), (e.consumers.names[i], t + 1, U - U_star)


# A consumer holding a large share of the goods post: its revenue is ω B^0/Ω with its own
# endowment in Ω. The solvers' regime chooser once took the others' endowments alone there, so
# it saw each consumer richer by the factor Ω/(Ω − ω) and chose posts on that (the learning
# study's round below then had no certified Nash equilibrium).
_BIG_SHARE = {
    "periods": 3, "verification": {"fixed": 0.16, "share": 0.0},
    "consumers": [
        {"name": "inference", "count": 30, "kind": "ai", "endowment": 1.0,
         "utility": {"family": "cobb_douglas", "weights": [0.25, 0.4, 0.35]}},
        {"name": "batch-1", "count": 1, "kind": "ai", "endowment": 1.0,
         "utility": {"family": "crra", "gamma": 0.5, "weights": [0.45, 0.2, 0.35]}},
        {"name": "batch-2", "count": 1, "kind": "ai", "endowment": 1.0,
         "utility": {"family": "crra", "gamma": 0.5, "weights": [0.45, 0.2, 0.0]}}],
    "producers": [
        {"name": "farms", "count": 6, "kind": "ai", "productivity": 2.0, "returns": 0.8,
         "capacity": 20.0, "utility": {"family": "cobb_douglas", "weights": [0.3, 0.4, 0.3]}}],
}


def test_a_consumer_with_a_large_share_of_the_goods_post_chooses_its_posts_right():
    """A Nash equilibrium exists here (batch-2 pays on the night post only) and the search
    finds it, certified; the oracle's own best response (SLSQP scored by the market rules) for
    batch-2 on each set of the posts it values gains nothing. With the overstated income the
    search kept batch-2 on night and day and returned no equilibrium (it could gain 0.0018)."""
    e = economy_from_dict(copy.deepcopy(_BIG_SHARE))
    s = solve(e, "nash")
    assert s.status is Status.EQUILIBRIUM, s.reason
    for posts in ([1], [2], [1, 2]):
        allowed = np.zeros(e.periods + 1, dtype=bool)
        allowed[posts] = True
        g = deviation_gain(e, s.profile, "consumers", 2, participation=allowed, starts=2)
        assert g.gain <= tol(g.current), (posts, g.gain)
