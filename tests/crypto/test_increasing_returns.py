"""Increasing returns (``c > 1``, the bundled increasing_returns example): the producer's problem
is not concave, so a best response must compare the corners (no output, capacity) with interior
outputs (docs/model.md sections 2 and 6).

The Nash equilibrium is checked by an independent global search over the producer's offers
(a grid over ``[0, K]`` on each post, corners included, refined around its best points), with
its bids re-spent exactly for each offer (:func:`crypto._lib.best_spending`) and every payoff
scored by the market rules. The competitive benchmark's non-existence is derived by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emgame import Status
from oracles import deviation_gain

from ._lib import Facing, best_spending, edited, solved, tol

NAME = "increasing_returns"


def _nash():
    s = solved(NAME, "nash")
    assert s.status is Status.EQUILIBRIUM, s.reason
    return s


def test_nash_equilibrium_passes_its_certificate():
    """The example's Nash equilibrium is reported as an equilibrium only with a passed
    certificate (docs/model.md, Solution concepts): every type's regret within ``max(1e-8, 1e-8
    |U|)``; the
    producers really have increasing returns."""
    s = _nash()
    assert np.all(s.economy.producers.returns > 1)
    c = s.certificate
    assert c.passed
    for regret, U in ((c.consumer_regret, s.outcome.consumers.utility),
                      (c.producer_regret, s.outcome.producers.utility)):
        for r, u in zip(regret, U, strict=True):
            assert np.isfinite(r) and r <= tol(u)


def test_nash_equilibrium_is_the_one_the_header_describes():
    """The example's header: the farms run at capacity (K = 2) in the dearer second period
    and below it in the first."""
    s = _nash()
    q = s.profile.offers[0]
    K = s.economy.producers.capacity[0]
    assert q[1] == pytest.approx(K, rel=1e-12)
    assert 0 < q[0] < K
    assert s.relative_prices[1] > s.relative_prices[0]


def _producer_search(s, points: int = 41, refinements: int = 2):
    """Best payoff of one producer over offers ``q ∈ [0, K]^T`` (grid with both corners,
    then ``refinements`` finer grids around the five best points), bids re-spent exactly."""
    e = s.economy
    f = Facing.of(e, s.profile, "producers", 0)
    K = float(e.producers.capacity[0])
    T = e.periods
    paid = s.profile.producer_bids[0, 1:] > 0

    def score(Q):
        U, _ = best_spending(f, np.repeat(paid[None], len(Q), 0), offers=Q)
        return U

    g = np.linspace(0.0, K, points)
    Q = np.stack(np.meshgrid(*([g] * T), indexing="ij"), -1).reshape(-1, T)
    U = score(Q)
    best_U, best_q = [U.max()], [Q[np.argmax(U)]]
    h = K / (points - 1)
    for _ in range(refinements):
        centres = Q[np.argsort(U)[-5:]]
        local = np.linspace(-h, h, 11)
        cand = [np.clip(c + np.stack(np.meshgrid(*([local] * T), indexing="ij"), -1)
                        .reshape(-1, T), 0.0, K) for c in centres]
        Q = np.concatenate(cand)
        U = score(Q)
        best_U.append(U.max())
        best_q.append(Q[np.argmax(U)])
        h /= 5
    k = int(np.argmax(best_U))
    return best_U[k], best_q[k], f, paid


def test_no_producer_offer_beats_the_equilibrium_globally():
    """Independent global check of the producer's best response (docs/model.md, Solution concepts
    with ``c > 1``):
    over a 41×41 grid of offers in ``[0, K]²`` (0 and K included), refined twice around its
    best points, with the bids re-optimised for each offer (inputs bought exactly, the rest
    of the budget (4) spent optimally), no payoff (market rules) exceeds the equilibrium's.
    The same search at the equilibrium offers gives back the equilibrium payoff (the oracle
    is as good as the solver there), and the no-output corners are strictly worse."""
    s = _nash()
    U_star = float(s.outcome.producers.utility[0])
    best, q, f, paid = _producer_search(s)
    assert best <= U_star + tol(U_star), (q, best - U_star)
    U_eq, _ = best_spending(f, paid[None], offers=s.profile.offers[0][None])
    assert U_eq[0] == pytest.approx(U_star, rel=1e-11)
    K = float(s.economy.producers.capacity[0])
    corners = np.array([[0.0, 0.0], [0.0, K], [K, 0.0], [K, K]])
    Uc, _ = best_spending(f, np.repeat(paid[None], 4, 0), offers=corners)
    assert np.all(Uc[:3] < U_star)
    assert Uc[3] <= U_star + tol(U_star)


def test_consumers_gain_nothing_by_the_slsqp_oracle():
    """The test oracle's independent best response for the consumers (multi-start SLSQP over
    their bids, scored by the market rules) finds no gain at the Nash equilibrium."""
    s = _nash()
    g = deviation_gain(s.economy, s.profile, "consumers", 0, starts=3)
    assert g.gain <= tol(g.current)


def test_competitive_benchmark_is_reported_as_no_equilibrium():
    """Derived by hand from the example's numbers: a price taker with ``c > 1`` has a convex
    profit ``p q - p^0 φ(q)`` (``φ(q) = (q/θ)^{1/c}`` is concave), so it offers 0 or ``K``,
    and a type-symmetric benchmark offers 0 or ``n K`` per post. The consumers are
    Cobb–Douglas in both periods, so both need output: ``n K`` in each, which needs
    ``n T φ(K)`` goods, more than ``Ω``. So no competitive equilibrium exists, and emgame
    must say so (``no-equilibrium-found`` with a reason naming increasing returns; no crash,
    no prices reported as an equilibrium), in Python and in the JSON (docs/model.md, Solution
    concepts)."""
    e = solved(NAME, "nash").economy
    P = e.producers
    n, theta, c, K = P.count[0], P.productivity[0], P.returns[0], P.capacity[0]
    assert c > 1
    assert np.all(e.consumers.weights > 0)
    assert n * e.periods * (K / theta) ** (1 / c) > e.goods_supply
    s = solved(NAME, "competitive")
    assert s.status is Status.NO_EQUILIBRIUM
    assert not s.ok
    assert "increasing returns" in s.reason
    d = s.to_dict()
    assert d["status"] == "no-equilibrium-found"
    assert d["concept"] == "competitive"
    assert "increasing returns" in d["reason"]


def _ces_two_states(d):
    """The example with CES producers (``r = -1``) and two states whose verification burns
    a share only (1% and 5% of each payment): no fixed cost anywhere."""
    d["producers"][0]["utility"] = {"family": "ces", "weights": [0.5, 0.5], "r": -1.0}
    d["states"] = [{"probability": 0.6, "verification": {"fixed": 0.0, "share": 0.01}},
                   {"probability": 0.4, "verification": {"fixed": 0.0, "share": 0.05}}]
    d.pop("verification", None)


def test_ces_over_states_without_fixed_costs_is_certified_and_beaten_by_no_offer():
    """With shares only, consumption in state ``s`` is ``(1 - κ_s)`` times the electricity
    received, and CES is homogeneous of degree one: expected utility is ``Σ_s π_s (1 - κ_s)``
    times one state's (docs/model.md, The certificate). The certificate's bound is then exact
    without linearising the CES utility, which with ``c > 1`` left a gap no branch closed
    (inconclusive before). Checked: the Nash equilibrium passes, and neither the producer nor
    the consumers gain by the independent multi-start SLSQP best response (bids, offers;
    market rules)."""
    from emgame import solve

    e = edited(solved(NAME, "nash").economy, _ces_two_states)
    assert e.S == 2 and not np.any(e.fixed_costs > 0)
    s = solve(e, "nash")
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.certificate.passed
    U_star = float(s.outcome.producers.utility[0])
    assert s.certificate.producer_regret[0] <= tol(U_star)
    for role in ("producers", "consumers"):
        g = deviation_gain(s.economy, s.profile, role, 0, starts=8, seed=1)
        assert g.gain <= tol(g.current), (role, g.gain)


def _long_run(d):
    """The example in the long run: capacity chosen at 0.05 goods per unit."""
    d["market"]["horizon"] = "long-run"
    d["producers"][0].pop("capacity", None)
    d["producers"][0]["capacity_cost"] = 0.05


def _random_box(seed: int, horizon: str):
    """The example's equilibrium (in the long run: the same profile, its capacity the largest
    offer), its producer's problem there, and a random box ``[lo, hi]`` of offers."""
    from emgame.agents.multipliers import producer_multipliers
    from emgame.agents.problem import agent
    from emgame.market import Profile, evaluate

    s = _nash()
    e, prof = s.economy, s.profile
    K = float(e.producers.capacity[0])
    if horizon == "long-run":
        e = edited(e, _long_run)
        prof = Profile(prof.consumer_bids, prof.producer_bids, prof.offers,
                       prof.offers.max(axis=1))
    rng = np.random.default_rng(seed)
    lo = rng.uniform(0.0, 0.8 * K, e.periods)
    hi = lo + rng.uniform(0.05, 1.0, e.periods) * (K - lo)
    out = evaluate(e, prof)
    lam, nu = producer_multipliers(e, prof, out, False)
    ag = agent(e, out, producers=True, price_taking=False, lam_bar=lam, nu_bar=nu)
    return e, prof, ag, lo, hi


def _box_bound(ag, lo: np.ndarray, hi: np.ndarray, target: float = -np.inf) -> float:
    """The producer's dual bound over the box ``[lo, hi]`` (objective units), its search
    stopping at ``target``."""
    se = ag.search(np.full(len(ag), target))
    se.qlo[0, 1:] = lo
    se.qhi[0, 1:] = hi
    return float(ag.to_objective(ag.bounds(se, np.array([0])).D)[0])


@pytest.mark.parametrize("horizon", ["short-run", "long-run"])
@pytest.mark.parametrize("seed", range(3))
def test_a_box_of_offers_bounds_every_offer_in_it(seed, horizon):
    """With ``c > 1`` the certificate closes its gap over offers by boxes (docs/model.md, The
    certificate): inside ``[lo, hi]`` on each post the concave input ``φ`` is at least its
    secant, so the box's dual bounds every offer in it (in the long run with the capacity
    chosen too). Checked at the example's equilibrium profile (in the long run: the same
    profile, its capacity the largest offer) on a random box: the bound is at least the best
    payoff over a 15×15 grid of offers in the box, bids re-spent exactly, the least capacity
    bought in the long run, every payoff scored by the market rules (an independent route:
    it never calls the certificate's kernels)."""
    e, prof, ag, lo, hi = _random_box(seed, horizon)
    bound = _box_bound(ag, lo, hi)
    f = Facing.of(e, prof, "producers", 0)
    g = [np.linspace(lo[t], hi[t], 15) for t in range(e.periods)]
    Q = np.stack(np.meshgrid(*g, indexing="ij"), -1).reshape(-1, e.periods)
    paid = prof.producer_bids[0, 1:] > 0
    U, _ = best_spending(f, np.repeat(paid[None], len(Q), 0), offers=Q)
    best = float(U.max())
    assert np.isfinite(best)
    assert bound >= best - 1e-12 * max(1.0, abs(best)), (lo, hi, bound, best)


@pytest.mark.parametrize("horizon", ["short-run", "long-run"])
@pytest.mark.parametrize("seed", range(3))
def test_a_box_search_gives_up_only_on_targets_out_of_reach(seed, horizon):
    """A box of offers whose dual cannot get under the target is split whatever its least
    value, so its multiplier search stops once the tangents at its bracket's ends (the dual is
    convex in ``λ``) put that least value above the target (docs/model.md, The certificate).
    That stop must never fire on a target the dual can reach: on a random box, with the least
    value ``D*`` searched to the end (no target), a target ``δ`` above it is always reached
    (``δ`` from 1e-9 to 1e-2 relative), and below it the value returned still bounds
    (``>= D*``)."""
    _, _, ag, lo, hi = _random_box(100 + seed, horizon)
    least = _box_bound(ag, lo, hi)
    assert np.isfinite(least)
    scale = max(1.0, abs(least))
    for rel in (1e-9, 1e-6, 1e-2):
        target = least + rel * scale
        assert _box_bound(ag, lo, hi, target) <= target, (rel, least)
        assert _box_bound(ag, lo, hi, least - rel * scale) >= least - 1e-12 * scale, (rel, least)


def test_boxes_inside_settled_payments_still_bound_every_offer():
    """With fixed verification costs the certificate first branches over payments; where a
    branch with every payment settled stays above the target, increasing returns leave the
    gap over offers, closed by boxes within that branch (docs/model.md, The certificate).
    Checked with a fixed cost on each post and a target no bound can reach (below the payoff
    itself, 3 s of boxes): the boxes are used, with every payment settled, and the bound stays
    at least the best payoff of a 41×41 grid of offers (bids re-spent exactly, market rules)."""
    from emgame import solve
    from emgame._numerics import clock
    from emgame.agents.branch import refine, refine_offers
    from emgame.agents.multipliers import producer_multipliers
    from emgame.agents.problem import agent
    from emgame.market import evaluate

    def fixed(d):
        d["verification"] = {"fixed": [0.0, 0.002, 0.002], "share": 0.0}

    s = solve(edited(solved(NAME, "nash").economy, fixed), "nash")
    assert s.status is Status.EQUILIBRIUM, s.reason
    e, prof = s.economy, s.profile
    out = evaluate(e, prof)
    lam, nu = producer_multipliers(e, prof, out, False)
    ag = agent(e, out, producers=True, price_taking=False, lam_bar=lam, nu_bar=nu)
    U = float(ag.U[0])
    target = U - 1e-3 * abs(U)
    deadline = clock() + 3.0
    settled = []

    def boxes(force, types=None):
        settled.append(force.copy())
        return refine_offers(ag, 0, target, deadline=deadline, force=force, types=types)

    bound = refine(ag, 0, target, deadline=deadline, boxes=boxes).bound
    assert settled and all(np.all(f[1:] >= 0) for f in settled)
    best, q, _, _ = _producer_search(s)
    assert bound >= max(best, U) - 1e-12 * abs(U), (bound, best, U, q)


def test_boxes_bound_every_offer_for_ces_outside_its_separable_form():
    """CES with states whose fixed costs differ is bounded through linear forms (its
    supergradient), not its separable form. With increasing returns the boxes of offers apply
    to it too, each box with the linear form at the box's own best response (docs/model.md,
    The certificate). Soundness, with a target no bound can reach (3 s of boxes): the boxes
    are used with a linear form, and the bound stays at least the best payoff scipy's
    multi-start search over bids and offers finds (market rules)."""
    from emgame import solve
    from emgame._numerics import clock
    from emgame.agents.branch import refine, refine_offers
    from emgame.agents.multipliers import producer_multipliers
    from emgame.agents.problem import agent
    from emgame.market import evaluate

    def fixed(d):
        d["verification"] = {"fixed": [0.0, 0.002, 0.002], "share": 0.0}

    def ces_states(d):
        del d["verification"]
        d["states"] = [{"probability": 0.4, "verification": {"fixed": 0.001, "share": 0.0}},
                       {"probability": 0.6, "verification": {"fixed": 0.003, "share": 0.0}}]
        d["producers"][0]["utility"] = {"family": "ces", "weights": [0.5, 0.5], "r": -1.0}

    s = solve(edited(solved(NAME, "nash").economy, fixed), "nash")
    assert s.status is Status.EQUILIBRIUM, s.reason
    e = edited(s.economy, ces_states)
    out = evaluate(e, s.profile)
    lam, nu = producer_multipliers(e, s.profile, out, False)
    ag = agent(e, out, producers=True, price_taking=False, lam_bar=lam, nu_bar=nu)
    assert ag.lin[0]
    U = float(ag.U[0])
    target = U - 1e-3 * abs(U)
    deadline = clock() + 3.0
    forms = []

    def boxes(force, types=None):
        forms.append(types)
        return refine_offers(ag, 0, target, deadline=deadline, force=force, types=types)

    bound = refine(ag, 0, target, deadline=deadline, boxes=boxes).bound
    assert forms and all(f is not None for f in forms)
    best = deviation_gain(e, s.profile, "producers", 0, starts=8).best
    assert bound >= max(best, U) - 1e-12 * abs(U), (bound, best, U)


def _grid_profit(B, Q, p0, theta, c, rho, s) -> float:
    """The largest profit of one producer choosing capacity ``K`` and offers ``q_t <= s^t K``
    (revenue ``B q/(Q+q)``, goods at ``p0``), on a log grid of 4,000 points (an attained
    value, so at most the true largest)."""
    g = np.concatenate(([0.0], np.geomspace(1e-10, 1e8, 4000)))
    total = -p0 * rho * g
    for t in range(len(B)):
        v = B[t] * g / (Q[t] + g) - p0 * (g / theta) ** (1.0 / c)
        best = np.maximum.accumulate(v)          # the best offer up to each cap
        k = np.searchsorted(g, s[t] * g, side="right") - 1
        total = total + best[k]
    return float(total.max())


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 3), st.floats(0.05, 2.0), st.floats(0.5, 2.0), st.floats(1.05, 2.0),
       st.floats(0.01, 2.0), st.randoms(use_true_random=False))
def test_no_profit_at_any_scale_is_never_claimed_where_a_scale_pays(T, p0, theta, c, rho, rnd):
    """The closed-form bound for an idle increasing-returns producer in the long run
    (docs/model.md, The certificate): where it says no capacity and offers earn a profit, a
    grid search over capacity and offers (each post's best offer up to its cap ``s^t K``,
    revenue ``B q/(Q+q)``) finds none either."""
    from emgame.agents.verdict import no_profit_at_any_scale

    B = np.array([rnd.uniform(0.0, 2.0) for _ in range(T)])
    Q = np.array([rnd.uniform(0.01, 3.0) for _ in range(T)])
    s = np.array([rnd.choice([0.0, 0.5, 1.0]) for _ in range(T)])
    if no_profit_at_any_scale(B, Q, p0, theta, c, rho, s):
        assert _grid_profit(B, Q, p0, theta, c, rho, s) <= 1e-9 * max(1.0, B.sum())


@pytest.mark.parametrize("B, Q, theta, c", [(1.0, 1.0, 1.0, 2.0), (0.7, 0.3, 1.6, 1.3),
                                            (2.0, 5.0, 0.8, 1.1)])
def test_one_post_earns_nothing_exactly_when_capacity_costs_more_than_its_best_margin(B, Q,
                                                                                      theta, c):
    """With one post the bound is exact: no profit at any scale iff the capacity cost
    ``p0 ρ`` per unit is at least the post's largest margin ``sup_q B/(Q+q) - p0 θ^{-1/c}
    q^{1/c-1}`` (found here by scipy on ``log q``); checked just above and just below that
    threshold, with goods at ``p0 = 0.2``."""
    from scipy.optimize import minimize_scalar

    from emgame.agents.verdict import no_profit_at_any_scale

    p0 = 0.2
    a = p0 * theta ** (-1.0 / c)

    def margin(z):
        q = np.exp(z)
        return -(B / (Q + q) - a * q ** (1.0 / c - 1.0))

    zs = np.linspace(-30, 30, 6001)
    z0 = zs[np.argmin([margin(z) for z in zs])]
    m = -minimize_scalar(margin, bracket=(z0 - 0.01, z0, z0 + 0.01), tol=1e-14).fun
    assert m > 0
    rho = m / p0
    one = (np.array([B]), np.array([Q]), p0, theta, c)
    assert no_profit_at_any_scale(*one, rho * (1 + 1e-6), np.ones(1))
    assert not no_profit_at_any_scale(*one, rho * (1 - 1e-6), np.ones(1))
    assert _grid_profit(np.array([B]), np.array([Q]), p0, theta, c, rho * (1 - 1e-3),
                        np.ones(1)) > 0
