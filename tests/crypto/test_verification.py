"""Verification energy (docs/model.md, The crypto layer): what it costs, who burns it, and that it
is
accounted for.

Expected values come from the formulas of docs/model.md, The crypto layer, transcribed by hand in
:mod:`crypto._lib` (``V = v 1[b>0] + κ x + 1[t=t0] v^0 1[b^0>0]``, ``E = x - V``), from closed
forms derived in the docstrings, or from the same economy without the crypto layer.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emgame import ConsumerType, Economy, Market, ProducerType, State, Status, Utility, solve
from emgame.market import Profile, evaluate, totals
from oracles import cd, consumer, economy, producer

from ._lib import edited, example, hand_verification, received, solved

# --------------------------------------------------------------------------------------------
# Zero costs: the crypto layer switched off is the core game.
# --------------------------------------------------------------------------------------------


def _drop_verification(d):
    d.pop("verification", None)
    d.pop("states", None)


def _zero_table(d):
    d["verification"] = {"fixed": 0.0, "share": 0.0}


def _zero_list(d):
    d["verification"] = {"fixed": [0.0] * (d["periods"] + 1), "share": 0.0}


def _zero_states(d):
    d.pop("verification", None)
    d["states"] = [{"probability": 0.4, "verification": {"fixed": 0.0, "share": 0.0}},
                   {"probability": 0.6,
                    "verification": {"fixed": [0.0] * (d["periods"] + 1), "share": 0.0}}]


@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_zero_verification_costs_give_the_core_results(concept):
    """With ``v = 0`` and ``κ = 0`` every ``V`` is zero and ``E = x`` (docs/model.md, The crypto
    layer), so the
    crypto layer is inert: the verification_costs example written with no verification table,
    with an all-zero ``[verification]`` (number and per-post list) and with two all-zero
    ``[[states]]`` must give identical prices, bids, offers, allocations and expected utility
    (to 1e-12), and zero verification. Expected answer: the economy without the table."""
    e = example("verification_costs")
    core = solve(edited(e, _drop_verification), concept)
    assert core.status is Status.EQUILIBRIUM, core.reason
    assert core.economy.S == 1 and not core.economy.costly_verification
    for edit in (_zero_table, _zero_list, _zero_states):
        s = solve(edited(e, edit), concept)
        assert s.status is Status.EQUILIBRIUM, (edit.__name__, s.reason)
        kw = dict(rtol=1e-12, atol=1e-12, err_msg=edit.__name__)
        np.testing.assert_allclose(s.prices, core.prices, **kw)
        np.testing.assert_allclose(s.profile.consumer_bids, core.profile.consumer_bids, **kw)
        np.testing.assert_allclose(s.profile.producer_bids, core.profile.producer_bids, **kw)
        np.testing.assert_allclose(s.profile.offers, core.profile.offers, **kw)
        for role in ("consumers", "producers"):
            a, b = getattr(s.outcome, role), getattr(core.outcome, role)
            np.testing.assert_allclose(a.electricity, b.electricity, **kw)
            np.testing.assert_allclose(a.goods, b.goods, **kw)
            np.testing.assert_allclose(a.utility, b.utility, **kw)
            assert a.verification.shape[1] == s.economy.S
            assert np.all(a.verification == 0.0)
            for st_ in range(s.economy.S):
                np.testing.assert_allclose(a.consumption[:, st_], b.consumption[:, 0], **kw)
                np.testing.assert_array_equal(a.consumption[:, st_], a.electricity)
        d = s.to_dict()
        assert np.all(np.array(d["totals"]["verification"]) == 0.0)


# --------------------------------------------------------------------------------------------
# A share without a fixed cost is an iceberg cost.
# --------------------------------------------------------------------------------------------

A = {"a": (0.3, 0.7), "b": (0.6, 0.4)}
OMEGA = {"a": 1.0, "b": 2.0}
COUNT = {"a": 4, "b": 3}
THETA = 2.0


def _iceberg_economy(kappa: float) -> Economy:
    return economy(
        f"iceberg {kappa}", 2,
        [consumer(k, COUNT[k], OMEGA[k], cd(*A[k])) for k in ("a", "b")],
        [producer("p", 3, THETA, 1.0, cd(0.5, 0.5), capacity=100.0)],
        verification=(0.0, kappa))


@pytest.mark.parametrize("kappa", [0.05, 0.3])
def test_share_is_an_iceberg_cost_competitive_closed_form(kappa):
    """Closed form (derived here). ``ai`` Cobb–Douglas consumers with ``Σ_t a_t = 1``, ``ai``
    producers with ``c = 1``, ``θ = 2`` and slack capacity, share ``κ``, no fixed cost.

    Price takers with constant marginal cost ``p^0/θ`` supply any amount at
    ``p^t = p^0/θ``, so ``p^t/p^0 = 1/θ`` whatever ``κ``, and earn no profit (they buy
    nothing). A consumer spends its income ``p^0 ω`` on electricity and maximises
    ``Σ a_t log((1-κ) x^t) = Σ a_t log x^t + log(1-κ)``: the same bids ``b^t = a_t p^0 ω``,
    so it receives ``x^t = a_t θ ω``, burns ``κ a_t θ ω`` and consumes ``(1-κ) a_t θ ω``.
    Goods clear: inputs ``Σ_t Q^t/θ = Σ_h n_h ω_h = Ω``. So each consumer's consumption is
    ``(1-κ)`` times its zero-cost allocation, and total verification is ``κ Q^t``.
    """
    s0 = solve(_iceberg_economy(0.0), "competitive")
    s = solve(_iceberg_economy(kappa), "competitive")
    for sol in (s0, s):
        assert sol.status is Status.EQUILIBRIUM, sol.reason
        np.testing.assert_allclose(sol.relative_prices, [1 / THETA, 1 / THETA], rtol=1e-10)
    x = np.array([[A[k][t] * THETA * OMEGA[k] for t in range(2)] for k in ("a", "b")])
    c = s.outcome.consumers
    np.testing.assert_allclose(c.electricity, x, rtol=1e-10)
    np.testing.assert_allclose(c.consumption[:, 0], (1 - kappa) * x, rtol=1e-10)
    np.testing.assert_allclose(c.verification[:, 0], kappa * x, rtol=1e-10)
    np.testing.assert_allclose(c.consumption[:, 0],
                               (1 - kappa) * s0.outcome.consumers.consumption[:, 0], rtol=1e-10)
    Q = np.array([sum(COUNT[k] * A[k][t] * THETA * OMEGA[k] for k in A) for t in range(2)])
    d = s.to_dict()
    np.testing.assert_allclose(d["totals"]["production"], Q, rtol=1e-10)
    np.testing.assert_allclose(d["totals"]["verification"][0], kappa * Q, rtol=1e-10)
    np.testing.assert_allclose(d["producers"][0]["offers"], Q / 3, rtol=1e-10)


def test_zero_profit_producers_cannot_pay_a_fixed_cost_competitive():
    """docs/model.md, Solution concepts (known case without a competitive equilibrium): with ``c =
    1`` price
    takers earn no profit (derived above: ``p^t = p^0/θ``), so an ``ai`` producer has no
    income, yet to consume the electricity it values it must pay, and a fixed verification
    cost ``v > 0`` makes any payment need electricity it cannot buy. The iceberg economy
    above with ``v = 0.001`` must be reported as ``no-equilibrium-found`` with a reason
    naming the verification (no crash, no equilibrium)."""
    e = economy("fixed cost, c = 1", 2,
                [consumer(k, COUNT[k], OMEGA[k], cd(*A[k])) for k in ("a", "b")],
                [producer("p", 3, THETA, 1.0, cd(0.5, 0.5), capacity=100.0)],
                verification=(0.001, 0.0))
    s = solve(e, "competitive")
    assert s.status is Status.NO_EQUILIBRIUM
    assert "verification" in s.reason and "'p'" in s.reason
    assert s.to_dict()["status"] == "no-equilibrium-found"


def _homothetic(states) -> Economy:
    return economy(
        "homothetic", 2,
        [consumer("data-centres", 4, 1.0, cd(0.4, 0.6)),
         consumer("edge", 2, 3.0, Utility("crra", (0.7, 0.3), gamma=2.0))],
        [producer("solar", 3, 2.0, 0.8, cd(0.5, 0.5), capacity=10.0)], states=states)


def test_share_is_an_iceberg_cost_in_the_nash_game_with_states():
    """Derived here: with shares ``κ_s`` and no fixed cost, ``E_s = (1-κ_s) x``. For ``ai``
    Cobb–Douglas utility ``Σ_s π_s Σ_t a_t log((1-κ_s) x^t) = Σ_t a_t log x^t + const``; for
    CRRA ``Σ_s π_s (1-κ_s)^{1-γ} u(x)``, a positive multiple of ``u(x)``. Either way every
    agent ranks its strategies as without the share, so the Nash equilibrium has the same
    prices, bids and offers, and consumption in state ``s`` is ``(1-κ_s)`` times the
    zero-cost allocation; utilities shift by those constants and factors.
    """
    kappa = np.array([0.1, 0.3])
    pi = np.array([0.6, 0.4])
    zero = solve(_homothetic(()), "nash")
    s = solve(_homothetic([State(pi[k], (0.0,) * 3, kappa[k]) for k in range(2)]), "nash")
    assert zero.status is Status.EQUILIBRIUM, zero.reason
    assert s.status is Status.EQUILIBRIUM, s.reason
    np.testing.assert_allclose(s.prices, zero.prices, rtol=1e-9)
    np.testing.assert_allclose(s.profile.consumer_bids, zero.profile.consumer_bids, rtol=1e-9)
    np.testing.assert_allclose(s.profile.producer_bids, zero.profile.producer_bids, rtol=1e-9)
    np.testing.assert_allclose(s.profile.offers, zero.profile.offers, rtol=1e-9)
    for role in ("consumers", "producers"):
        x0 = getattr(zero.outcome, role).electricity
        got = getattr(s.outcome, role).consumption
        for k in range(2):
            np.testing.assert_allclose(got[:, k], (1 - kappa[k]) * x0, rtol=1e-9)
    u0 = zero.outcome.consumers.utility
    u = s.outcome.consumers.utility
    np.testing.assert_allclose(u[0], u0[0] + (pi * np.log(1 - kappa)).sum() * 1.0, rtol=1e-9)
    np.testing.assert_allclose(u[1], (pi * (1 - kappa) ** (1 - 2.0)).sum() * u0[1], rtol=1e-9)


# --------------------------------------------------------------------------------------------
# Totals: fixed costs on the posts paid plus shares.
# --------------------------------------------------------------------------------------------


def _by_hand(sol):
    """Electricity received and verification per type, from the profile and the rules alone."""
    e, prof = sol.economy, sol.profile
    if sol.concept == "competitive":  # price takers: x = b / p (bids are expenditures)
        p = sol.prices
        xc = prof.consumer_bids / p
        xp = prof.producer_bids / p
    else:
        nc, npr = e.consumers.count, e.producers.count
        B = nc @ prof.consumer_bids + npr @ prof.producer_bids
        Q = np.concatenate([[e.goods_supply], npr @ prof.offers])
        xc = received(prof.consumer_bids, B, Q)
        xp = received(prof.producer_bids, B, Q)
    return (xc, hand_verification(e, prof.consumer_bids, xc),
            xp, hand_verification(e, prof.producer_bids, xp))


@pytest.mark.parametrize("name", ["verification_costs", "two_states"])
@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_verification_totals_by_hand(name, concept):
    """Total verification energy in state ``s`` and period ``t`` is
    ``Σ_i n_i (v_s^t 1[b_i^t>0] + κ_s x_i^t) + 1[t=t0] Σ_i n_i v_s^0 1[b_i^0>0]`` (docs/model.md
    §5): computed by hand from the solved profile (``x`` from (5)/(7), or ``b/p`` for price
    takers) and compared with ``Play.verification`` per type and the JSON ``totals`` (and
    its share of production). The examples have agents that stay out of posts, so the
    indicator matters."""
    sol = solved(name, concept)
    assert sol.status is Status.EQUILIBRIUM, sol.reason
    e = sol.economy
    xc, Vc, xp, Vp = _by_hand(sol)
    assert np.any(sol.profile.consumer_bids[:, 1:] == 0)  # participation is exercised
    np.testing.assert_allclose(sol.outcome.consumers.verification, Vc, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sol.outcome.producers.verification, Vp, rtol=1e-12, atol=1e-15)
    total = (np.tensordot(e.consumers.count, Vc, axes=1)
             + np.tensordot(e.producers.count, Vp, axes=1))
    d = sol.to_dict()
    np.testing.assert_allclose(d["totals"]["verification"], total, rtol=1e-12)
    production = e.producers.count @ sol.profile.offers
    np.testing.assert_allclose(d["totals"]["verification_share"], total / production,
                               rtol=1e-12)
    for k, row in enumerate(d["consumers"]):
        np.testing.assert_allclose(row["verification"], Vc[k], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(row["consumption"], xc[k, 1:][None, :] - Vc[k],
                                   rtol=1e-12, atol=1e-13)


def test_a_payment_on_a_post_that_does_not_trade_is_refunded_but_verified():
    """docs/model.md, The crypto layer Decision: every positive bid is verified, also on a post
    that ends up not
    trading (no offers): the bid is refunded (not in ``spending``) but ``v`` is burnt, and no
    share is burnt (nothing was received). Here post 2 has no offers; the consumer bids 0.5
    there, so it burns ``v^2 = 0.03`` out of nothing: ``E = -0.03 < 0``, infeasible."""
    e = economy("refund", 2, [consumer("c", 2, 1.0, cd(0.5, 0.5))],
                [producer("p", 2, 1.0, 0.8, cd(0.5, 0.5), capacity=5.0)],
                verification=([0.0, 0.01, 0.03], 0.1))
    prof = Profile(np.array([[0.0, 0.5, 0.5]]), np.array([[0.8, 0.2, 0.0]]),
                   np.array([[1.0, 0.0]]), np.array([5.0]))
    out = evaluate(e, prof)
    c = out.consumers
    assert not out.active[2] and out.active[1]
    assert c.spending[0] == pytest.approx(0.5, rel=1e-15)       # only post 1 is paid
    x1 = 0.5 * 2.0 / (2 * 0.5 + 2 * 0.2)                        # b Q / B on post 1
    np.testing.assert_allclose(c.verification[0, 0], [0.01 + 0.1 * x1, 0.03], rtol=1e-14)
    np.testing.assert_allclose(c.consumption[0, 0], [0.9 * x1 - 0.01, -0.03], rtol=1e-14)
    assert c.utility[0] == -np.inf


# --------------------------------------------------------------------------------------------
# Electricity balances in every state.
# --------------------------------------------------------------------------------------------


@st.composite
def crypto_cases(draw):
    T = draw(st.integers(1, 3))
    S = draw(st.integers(1, 3))
    raw = [draw(st.floats(0.05, 1.0)) for _ in range(S)]
    probs = [r / sum(raw) for r in raw]
    states = []
    for s in range(S):
        fixed = tuple(draw(st.sampled_from([0.0, 0.0005, 0.01, 0.2])) for _ in range(T + 1))
        states.append(State(probs[s], fixed, draw(st.sampled_from([0.0, 0.01, 0.2, 0.6]))))
    counts = st.sampled_from([1, 3, 40])
    fam = st.sampled_from(["cobb_douglas", "crra"])

    def util():
        f = draw(fam)
        w = tuple(draw(st.sampled_from([0.2, 1.0])) for _ in range(T))
        return Utility(f, w, gamma=0.5 if f == "crra" else None)

    cons = [ConsumerType(f"c{k}", draw(counts), draw(st.floats(0.1, 5.0)), util())
            for k in range(draw(st.integers(1, 2)))]
    prods = [ProducerType(f"p{k}", draw(counts), draw(st.floats(0.5, 3.0)),
                          draw(st.sampled_from([0.7, 1.0, 1.2])), util(),
                          capacity=draw(st.floats(0.5, 10.0)))
             for k in range(draw(st.integers(1, 2)))]
    e = Economy.build(name="random crypto", periods=T, consumers=cons, producers=prods,
                      market=Market(goods_settlement_period=draw(st.integers(1, T))),
                      states=states)
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    nc, npr = len(cons), len(prods)
    cb = rng.uniform(0.01, 2.0, (nc, T + 1)) * (rng.random((nc, T + 1)) > 0.3)
    pb = rng.uniform(0.01, 2.0, (npr, T + 1)) * (rng.random((npr, T + 1)) > 0.3)
    K = e.producers.capacity.copy()
    q = rng.uniform(0.0, 1.0, (npr, T)) * K[:, None] * (rng.random((npr, T)) > 0.2)
    return e, Profile(cb, pb, q, K)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(crypto_cases())
def test_electricity_balances_in_every_state_on_random_profiles(case):
    """``Q^t = Σ_i n_i E_is^t + Σ_i n_i V_is^t`` in every state and period (docs/model.md, The
    crypto layer) on
    random profiles with random fixed costs, shares, states and settlement period, some bids
    and offers zero: verification comes out of electricity received, never from nowhere. On
    a post with no offers nothing can be burnt out of it, so a payer there (``V > 0``) has
    ``E < 0`` and its strategy is infeasible (utility ``-inf``). ``V`` is also checked against
    the hand formula."""
    e, prof = case
    out = evaluate(e, prof)
    B, Q = totals(e, prof)
    nc, npr = e.consumers.count, e.producers.count
    E = (np.tensordot(nc, out.consumers.consumption, axes=1)
         + np.tensordot(npr, out.producers.consumption, axes=1))
    V = (np.tensordot(nc, out.consumers.verification, axes=1)
         + np.tensordot(npr, out.producers.verification, axes=1))
    for bids, pl in ((prof.consumer_bids, out.consumers),
                     (prof.producer_bids, out.producers)):
        x = received(bids, B, Q)
        np.testing.assert_allclose(pl.verification, hand_verification(e, bids, x),
                                   rtol=1e-12, atol=1e-15)
    for t in range(1, e.periods + 1):
        if Q[t] > 0:
            np.testing.assert_allclose(E[:, t - 1] + V[:, t - 1], Q[t], rtol=1e-12)
        else:
            for pl in (out.consumers, out.producers):
                burnt = pl.verification[:, :, t - 1] > 0
                assert np.all(pl.consumption[:, :, t - 1][burnt] < 0)
                assert np.all(pl.utility[burnt.any(axis=1)] == -np.inf)


EXAMPLE_SOLUTIONS = [(n, c) for n in ("verification_costs", "two_states", "prepaid",
                                      "increasing_returns") for c in ("nash", "competitive")]


@pytest.mark.parametrize(("name", "concept"), EXAMPLE_SOLUTIONS)
def test_electricity_balances_at_every_example_equilibrium(name, concept):
    """At every solved equilibrium of the crypto examples, per state and period, the JSON
    totals satisfy production = consumption + verification (docs/model.md, The crypto layer), and
    electricity
    received adds up to production (market clearing). The one example without an equilibrium
    (increasing returns, competitive) must say so (docs/model.md, Solution concepts)."""
    sol = solved(name, concept)
    if (name, concept) == ("increasing_returns", "competitive"):
        assert sol.status is Status.NO_EQUILIBRIUM
        return
    assert sol.status is Status.EQUILIBRIUM, sol.reason
    e = sol.economy
    d = sol.to_dict()
    prod = np.array(d["totals"]["production"])
    cons = np.array(d["totals"]["consumption"])
    ver = np.array(d["totals"]["verification"])
    assert cons.shape == ver.shape == (e.S, e.periods)
    np.testing.assert_allclose(cons + ver, np.broadcast_to(prod, cons.shape), rtol=1e-10)
    got = (e.consumers.count @ sol.outcome.consumers.electricity
           + e.producers.count @ sol.outcome.producers.electricity)
    np.testing.assert_allclose(got, e.producers.count @ sol.profile.offers, rtol=1e-10)


def test_price_taking_producer_without_goods_still_verifies_its_input_payment():
    """docs/model.md, The crypto layer: a goods-post payment is verified with electricity of period
    t0. A producer
    always pays on the goods post (its inputs), so that electricity is burnt even when it
    consumes no goods — here a classic quasilinear producer whose goods weight is too small to
    buy any. Its benchmark demand must buy for it; otherwise the independent certificate finds
    the better plan (it did, by 9e-4, before the demand counted it)."""
    ql = Utility("quasilinear", (0.08, 0.36, 0.03), goods_weight=0.0135)
    e = economy("ql producer, verified inputs", 3,
                [consumer("a", 3, 1.0, cd(0.2, 0.5, 0.3)),
                 consumer("b", 2, 2.0, cd(0.6, 0.2, 0.2))],
                [producer("p", 4, 1.85, 0.8, ql, kind="classic", capacity=1e6)],
                verification=(0.01, 0.01))
    s = solve(e, "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.outcome.producers.goods[0] == 0.0  # the goods corner: no goods consumed
    assert s.profile.producer_bids[0, 0] > 0.0  # yet it pays on the goods post, for inputs


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.05, 3.0), min_size=2, max_size=4), st.floats(0.3, 2.0),
       st.floats(0.3, 1.0), st.lists(st.floats(0.0, 5.0), min_size=3, max_size=3))
def test_a_price_takers_largest_profit_is_never_below_a_profit_it_can_make(p, theta, c, caps):
    """The certificate proves that a producer's profit cannot pay its verification burn from
    ``largest_profit``'s closed form (docs/model.md, The certificate): were it below some
    profit the producer can make, the proof would be false. scipy's bounded maximisation of
    each post's profit ``p^t q − p^0 (q/θ)^{1/c}`` over ``[0, cap]`` (a feasible value) never
    exceeds it, and comes within 1e-7 of it (the closed form is the maximum)."""
    from scipy.optimize import minimize_scalar

    from emgame.agents.verdict import largest_profit

    p = np.asarray(p)
    caps = np.asarray(caps[: len(p) - 1])
    closed = largest_profit(p, theta, c, caps)
    found = 0.0
    for t, cap in enumerate(caps):
        if cap <= 0:
            continue
        r = minimize_scalar(lambda q, t=t: -(p[t + 1] * q - p[0] * (q / theta) ** (1 / c)),
                            bounds=(0.0, cap), method="bounded", options={"xatol": 1e-12})
        ends = [p[t + 1] * q - p[0] * (q / theta) ** (1 / c) for q in (0.0, cap)]
        found += max(-r.fun, *ends)
    assert found <= closed + 1e-12 * max(1.0, abs(closed))
    assert closed <= found + 1e-7 * max(1.0, abs(closed))
