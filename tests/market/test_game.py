"""The market rules (docs/model.md, Prices and allocations to The crypto layer; the paper's
(5)–(8)) on random economies and random
positive profiles (hypothesis, derandomised).

Every expected value here is an accounting identity of the game or a direct transcription of an
allocation rule, computed in the test from the profile alone; none is copied from the program.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emgame import ConsumerType, Economy, Market, ProducerType, State, Utility
from emgame.market import Profile, evaluate, others_totals, totals

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
RTOL = 1e-12


# --------------------------------------------------------------------------------------------
# Random economies and profiles.
# --------------------------------------------------------------------------------------------

pos = st.floats(0.2, 5.0)


@st.composite
def utilities(draw, T: int, classic: bool) -> Utility:
    fams = ["cobb_douglas", "crra", "ces"] + (["quasilinear"] if classic else [])
    fam = draw(st.sampled_from(fams))
    w = [draw(st.sampled_from([0.0, 0.3, 1.0, 2.5])) for _ in range(T)]
    if sum(w) == 0:
        w[0] = 1.0
    goods = draw(st.sampled_from([0.5, 1.0])) if classic else 0.0
    return Utility(fam, tuple(w), goods_weight=goods,
                   gamma=draw(st.sampled_from([0.5, 2.0])) if fam == "crra" else None,
                   r=draw(st.sampled_from([-1.0, 0.5])) if fam == "ces" else None)


@st.composite
def economies(draw, verification: bool | None = None) -> Economy:
    T = draw(st.integers(1, 3))
    long_run = draw(st.booleans())
    counts = st.sampled_from([1, 2, 3, 7, 1000])
    cons = []
    for k in range(draw(st.integers(1, 3))):
        classic = draw(st.booleans())
        cons.append(ConsumerType(f"c{k}", draw(counts), draw(pos), draw(utilities(T, classic)),
                                 kind="classic" if classic else "ai"))
    prods = []
    for k in range(draw(st.integers(1, 3))):
        classic = draw(st.booleans())
        prods.append(ProducerType(
            f"p{k}", draw(counts), draw(pos), draw(st.sampled_from([0.6, 1.0, 1.3])),
            draw(utilities(T, classic)), kind="classic" if classic else "ai",
            capacity=None if long_run else draw(st.floats(0.5, 20.0)),
            capacity_cost=draw(st.floats(0.01, 0.5)) if long_run else None))
    costly = draw(st.booleans()) if verification is None else verification
    states: list[State] = []
    if costly:
        S = draw(st.integers(1, 2))
        probs = [1.0] if S == 1 else [0.3, 0.7]
        for s in range(S):
            fixed = tuple(draw(st.sampled_from([0.0, 0.001, 0.01])) for _ in range(T + 1))
            states.append(State(probs[s], fixed, draw(st.sampled_from([0.0, 0.05, 0.2]))))
    market = Market(horizon="long-run" if long_run else "short-run",
                    goods_settlement_period=draw(st.integers(1, T)))
    return Economy.build(name="random", periods=T, consumers=cons, producers=prods,
                         market=market, states=states)


@st.composite
def profiles(draw, e: Economy, zero_bids: bool = True) -> Profile:
    T = e.periods
    nc, npr = len(e.consumers), len(e.producers)
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    cb = rng.uniform(0.01, 2.0, (nc, T + 1))
    pb = rng.uniform(0.01, 2.0, (npr, T + 1))
    if zero_bids:  # some agents stay out of some posts (never all of them: see the test below)
        cb *= rng.random((nc, T + 1)) > 0.2
        pb *= rng.random((npr, T + 1)) > 0.2
        empty = (cb.sum(axis=0) == 0) & (pb.sum(axis=0) == 0)
        cb[0, empty] = rng.uniform(0.01, 2.0, int(empty.sum()))
    if e.market.long_run:
        K = rng.uniform(0.5, 10.0, npr)
    else:
        K = e.producers.capacity.copy()
    q = rng.uniform(0.05, 1.0, (npr, T)) * K[:, None]
    return Profile(cb, pb, q, K)


@st.composite
def cases(draw, verification: bool | None = None, zero_bids: bool = True):
    e = draw(economies(verification))
    return e, draw(profiles(e, zero_bids))


def _close(a, b, rtol=RTOL, atol=0.0) -> None:
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------------------------
# Conservation.
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(cases())
def test_bytecoins_paid_equal_bytecoins_received(case):
    """Bytecoins are a unit of account that only changes hands: over the posts that trade,
    Σ_i n_i (bids paid) = Σ_i n_i (revenue) = Σ_t B^t (docs/model.md, Prices and allocations–§4;
    revenue is p^0 ω_h for
    a consumer and Σ_t p^t q_j^t for a producer)."""
    e, prof = case
    out = evaluate(e, prof)
    nc, npr = e.consumers.count, e.producers.count
    paid = nc @ out.consumers.spending + npr @ out.producers.spending
    received = nc @ out.consumers.revenue + npr @ out.producers.revenue
    B, _ = totals(e, prof)
    traded = math.fsum(B[out.active])
    _close(paid, traded)
    _close(received, traded)


@SETTINGS
@given(cases())
def test_electricity_offered_equals_electricity_allocated(case):
    """On every trading post, x_i^t = b_i^t Q^t / B^t ((5), (7)) and Σ_i n_i x_i^t = Q^t: all
    electricity offered is allocated."""
    e, prof = case
    out = evaluate(e, prof)
    B, Q = totals(e, prof)
    for t in range(1, e.periods + 1):
        if not out.active[t]:
            continue
        xc = prof.consumer_bids[:, t] * Q[t] / B[t]
        xp = prof.producer_bids[:, t] * Q[t] / B[t]
        _close(out.consumers.electricity[:, t - 1], xc)
        _close(out.producers.electricity[:, t - 1], xp)
        allocated = e.consumers.count @ xc + e.producers.count @ xp
        _close(allocated, Q[t])
        _close(Q[t], e.producers.count @ prof.offers[:, t - 1])


@SETTINGS
@given(cases())
def test_goods_offered_equal_goods_allocated_plus_inputs(case):
    """Goods: Ω = Σ_h n_h x_h^0 + Σ_j n_j (x_j^0 + Σ_t φ_j(q_j^t) [+ ρ K_j in the long run]),
    with x^0 = b^0 Ω / B^0 ((6), (8)) and φ(q) = (q/θ)^{1/c}."""
    e, prof = case
    out = evaluate(e, prof)
    B, _ = totals(e, prof)
    Om = e.goods_supply
    assert out.active[0]
    pr = e.producers
    phi = (prof.offers / pr.productivity[:, None]) ** (1.0 / pr.returns[:, None])
    _close(out.producers.inputs, phi)
    cap = (pr.capacity_cost * prof.capacity) if e.market.long_run else np.zeros(len(pr))
    _close(out.consumers.goods, prof.consumer_bids[:, 0] * Om / B[0])
    _close(out.producers.goods, prof.producer_bids[:, 0] * Om / B[0] - phi.sum(axis=1) - cap,
           atol=1e-12 * Om)
    total = (e.consumers.count @ out.consumers.goods
             + pr.count @ (out.producers.goods + phi.sum(axis=1) + cap))
    # Adding the inputs back to the net goods cancels terms of size Σ n_j (φ + ρK): rounding
    # of the check itself is a few ulps of that magnitude, not of Ω.
    _close(total, Om, atol=8 * np.finfo(float).eps * float(pr.count @ (phi.sum(axis=1) + cap)))


@SETTINGS
@given(cases(), st.integers(0, 2), st.booleans())
def test_inactive_post_refunds_bids_and_keeps_offers(case, which, zero_side_bids):
    """A post on which all bids (or all offers) are zero does not trade (Shapley–Shubik,
    docs/model.md
    §3): its price is undefined, bids on it are refunded (not counted as paid) and the
    electricity offered there stays with its producer; nobody else receives any."""
    e, prof = case
    t = 1 + which % e.periods
    cb, pb, q = prof.consumer_bids.copy(), prof.producer_bids.copy(), prof.offers.copy()
    if zero_side_bids:
        cb[:, t] = 0.0
        pb[:, t] = 0.0
    else:
        q[:, t - 1] = 0.0
    p2 = Profile(cb, pb, q, prof.capacity)
    out = evaluate(e, p2)
    assert not out.active[t]
    assert np.isnan(out.prices[t])
    _close(out.consumers.electricity[:, t - 1], 0.0, atol=0.0)
    _close(out.producers.electricity[:, t - 1], q[:, t - 1])  # kept (zero if it offered 0)
    # Refund: spending counts only posts that trade; revenue likewise.
    live = out.active.copy()
    _close(out.consumers.spending, (cb * live).sum(axis=1))
    _close(out.producers.spending, (pb * live).sum(axis=1))
    assert np.all(out.producers.revenue >= 0)
    # Revenue from the dead post is nothing: recompute from the live posts only.
    B, Q = totals(e, p2)
    rev = np.zeros(len(e.producers))
    for s in range(1, e.periods + 1):
        if live[s]:
            rev += B[s] / Q[s] * q[:, s - 1]
    _close(out.producers.revenue, rev, atol=1e-15)


def test_inactive_goods_post_consumers_keep_endowment():
    """Zero bids on the goods post: it does not trade, so consumers keep their endowment (the
    offer stays with its owner) and producers receive no goods."""
    e = Economy.build(name="g", periods=1,
                      consumers=[ConsumerType("c", 2, 3.0, Utility("cobb_douglas", (1.0,)))],
                      producers=[ProducerType("p", 2, 1.0, 1.0, Utility("cobb_douglas", (1.0,)),
                                              capacity=5.0)])
    prof = Profile(np.array([[0.0, 1.0]]), np.array([[0.0, 0.5]]), np.array([[1.0]]),
                   np.array([5.0]))
    out = evaluate(e, prof)
    assert not out.active[0]
    _close(out.consumers.goods, [3.0])
    _close(out.producers.goods_received, [0.0], atol=0.0)
    assert np.all(out.consumers.revenue == 0.0)


@SETTINGS
@given(cases(verification=True))
def test_verification_energy_and_electricity_balance(case):
    """Verification (docs/model.md, The crypto layer): V_is^t = v_s^t 1[b_i^t>0] + κ_s x_i^t +
    1[t=t0] v_s^0
    1[b_i^0>0], burnt also for bids on posts that do not trade; E = x − V; and production
    equals consumption plus verification in every state: Q^t = Σ_i n_i (E_is^t + V_is^t)."""
    e, prof = case
    out = evaluate(e, prof)
    v, kappa = e.fixed_costs, e.shares
    t0 = e.market.goods_settlement_period
    B, Q = totals(e, prof)
    for play, bids in ((out.consumers, prof.consumer_bids),
                       (out.producers, prof.producer_bids)):
        n = bids.shape[0]
        x = np.where(out.active[None, 1:], bids[:, 1:] * Q[1:] / np.where(B[1:] > 0, B[1:], 1),
                     0.0)
        V = np.zeros((n, e.S, e.periods))
        for s in range(e.S):
            V[:, s, :] = (bids[:, 1:] > 0) * v[s, 1:] + kappa[s] * x
            V[:, s, t0 - 1] += (bids[:, 0] > 0) * v[s, 0]
        _close(play.verification, V, atol=1e-15)
        _close(play.consumption, play.electricity[:, None, :] - V, atol=1e-14)
    for t in range(1, e.periods + 1):
        if not out.active[t]:
            continue
        for s in range(e.S):
            used = sum(float(c @ (p.consumption[:, s, t - 1] + p.verification[:, s, t - 1]))
                       for c, p in ((e.consumers.count, out.consumers),
                                    (e.producers.count, out.producers)))
            _close(used, Q[t])


@SETTINGS
@given(cases(), st.sampled_from([1e-6, 0.37, 3.0, 2.5e5]))
def test_scaling_bids_scales_prices_and_changes_no_allocation(case, k):
    """Homogeneity (docs/model.md, Prices and allocations, normalisation): multiplying every bid by
    k leaves every
    allocation, consumption and utility unchanged and multiplies every price by k."""
    e, prof = case
    a, b = evaluate(e, prof), evaluate(e, prof.scaled(k))
    np.testing.assert_array_equal(a.active, b.active)
    _close(b.prices[a.active], k * a.prices[a.active], rtol=1e-12)
    for pa, pb in ((a.consumers, b.consumers), (a.producers, b.producers)):
        _close(pb.electricity, pa.electricity, rtol=1e-12, atol=1e-300)
        _close(pb.goods, pa.goods, rtol=1e-12, atol=1e-12 * e.goods_supply)
        _close(pb.consumption, pa.consumption, rtol=1e-12, atol=1e-14)
        fin = np.isfinite(pa.utility)
        np.testing.assert_array_equal(fin, np.isfinite(pb.utility))
        _close(pb.utility[fin], pa.utility[fin], rtol=1e-11, atol=1e-13)
        _close(pb.revenue, k * pa.revenue, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Others' totals.
# --------------------------------------------------------------------------------------------


def _brute_others(e: Economy, prof: Profile):
    """Σ over every *other agent* (types expanded into agents), with math.fsum."""
    agents = []  # (role, type, bids, offers-with-goods)
    T = e.periods
    for i in range(len(e.consumers)):
        own = np.zeros(T + 1)
        own[0] = e.consumers.endowment[i]
        agents.append(("c", i, int(e.consumers.count[i]), prof.consumer_bids[i], own))
    for j in range(len(e.producers)):
        own = np.concatenate([[0.0], prof.offers[j]])
        agents.append(("p", j, int(e.producers.count[j]), prof.producer_bids[j], own))
    out = {}
    for role, i, _, _, _ in agents:
        Bm, Qm = np.zeros(T + 1), np.zeros(T + 1)
        for t in range(T + 1):
            bs, qs = [], []
            for r2, i2, n2, b2, q2 in agents:
                k = n2 - 1 if (r2, i2) == (role, i) else n2
                bs.append(k * b2[t])
                qs.append(k * q2[t])
            Bm[t] = math.fsum(bs)
            Qm[t] = math.fsum(qs)
        if role == "p":
            Qm[0] = e.goods_supply  # producers face the whole goods supply
        out[(role, i)] = (Bm, Qm)
    return out


@SETTINGS
@given(cases())
def test_others_totals_equal_a_brute_force_loop(case):
    """B_-i and Q_-i are what everyone else (including the other n_i − 1 agents of one's own
    type) bids and offers: compared with an explicit sum over agents (docs/model.md, Prices and
    allocations)."""
    e, prof = case
    Bc, Qc, Bp, Qp = others_totals(e, prof)
    ref = _brute_others(e, prof)
    for i in range(len(e.consumers)):
        _close(Bc[i], ref[("c", i)][0], rtol=1e-13)
        _close(Qc[i], ref[("c", i)][1], rtol=1e-13)
    for j in range(len(e.producers)):
        _close(Bp[j], ref[("p", j)][0], rtol=1e-13)
        _close(Qp[j], ref[("p", j)][1], rtol=1e-13)


def test_others_totals_do_not_cancel_with_a_huge_type():
    """A lone agent bidding 1 beside 10⁸ agents bidding 10⁻¹⁷ each faces B_- = 10⁻⁹ exactly;
    ``B − b = (1 + 10⁻⁹) − 1`` would be off by ~8% (cancellation). Likewise Q_- for a lone
    producer beside 10⁸ tiny ones, and the goods others offer beside 10⁸ consumers."""
    u = Utility("cobb_douglas", (1.0,))
    e = Economy.build(
        name="huge", periods=1,
        consumers=[ConsumerType("big", 1, 1.0, u), ConsumerType("many", 10**8, 1e-17, u)],
        producers=[ProducerType("lone", 1, 1.0, 1.0, u, capacity=2.0),
                   ProducerType("tiny", 10**8, 1.0, 1.0, u, capacity=1.0)])
    prof = Profile(np.array([[0.0, 1.0], [0.0, 1e-17]]), np.array([[0.0, 0.0], [0.0, 0.0]]),
                   np.array([[1.0], [1e-17]]), np.array([2.0, 1.0]))
    Bc, Qc, Bp, Qp = others_totals(e, prof)
    assert Bc[0, 1] == pytest.approx(1e-9, rel=1e-14)
    assert Bc[1, 1] == pytest.approx(1.0 + (10**8 - 1) * 1e-17, rel=1e-14)
    assert Qp[0, 1] == pytest.approx(1e-9, rel=1e-14)
    assert Qc[0, 0] == pytest.approx(1e-9, rel=1e-14)   # goods offered by the others
    # and the lone agent's allocation: b Q / B with B = 1 + 1e-9, Q = 1 + 1e-9
    out = evaluate(e, prof)
    assert out.consumers.electricity[0, 0] == pytest.approx(1.0, rel=1e-15)


# --------------------------------------------------------------------------------------------
# Price taking.
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(cases(verification=False))
def test_price_takers_receive_bid_over_price(case):
    """With prices given (the competitive benchmark's outcome), an agent receives b^t/p^t and a
    producer earns Σ_t p^t q^t (docs/model.md, Solution concepts)."""
    e, prof = case
    rng = np.random.default_rng(0)
    p = np.concatenate([[1.0], rng.uniform(0.2, 3.0, e.periods)])
    out = evaluate(e, prof, prices=p)
    _close(out.consumers.electricity, prof.consumer_bids[:, 1:] / p[1:])
    _close(out.consumers.goods, prof.consumer_bids[:, 0] / p[0])
    _close(out.producers.revenue, prof.offers @ p[1:])
    _close(out.producers.electricity, prof.producer_bids[:, 1:] / p[1:])
