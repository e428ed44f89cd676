"""The market rules with storage operators and availability by period (docs/model.md,
"Availability" and "Storage") on random economies and random profiles (hypothesis,
derandomised).

Checked from the profile alone, by accounting identities and direct transcriptions of the
rules (never values copied from the program):
- energy is conserved through the batteries: on every post that trades and in every state,
  production + discharge = Σ (consumption + verification) over all roles + charge;
- bytecoins paid = bytecoins received; goods offered = goods received + producers' inputs;
- a battery's state of charge follows σ^t = σ^{t−1} + η_c y^t − q^t/η_d over the cyclic day,
  and a plan that breaks a bound (S, G, the cycle, E ≥ 0) is infeasible (utility −∞);
- offers above s^t K are infeasible; offers up to it are not refused for that.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emgame import ConsumerType, Economy, Market, ProducerType, State, StorageType, Utility
from emgame.market import (
    Profile,
    evaluate,
    others_totals,
    state_of_charge,
    storage_others_totals,
    totals,
)
from emgame.model import Population

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
RTOL = 1e-12

pos = st.floats(0.2, 5.0)


@st.composite
def utilities(draw, T: int, classic: bool) -> Utility:
    fams = ["cobb_douglas", "crra", "ces"] + (["quasilinear"] if classic else [])
    fam = draw(st.sampled_from(fams))
    w = [draw(st.sampled_from([0.0, 0.3, 1.0])) for _ in range(T)]
    goods = draw(st.sampled_from([0.5, 1.0])) if classic else 0.0
    if sum(w) == 0 and goods == 0:
        w[0] = 1.0
    return Utility(fam, tuple(w), goods_weight=goods,
                   gamma=draw(st.sampled_from([0.5, 2.0])) if fam == "crra" else None,
                   r=draw(st.sampled_from([-1.0, 0.5])) if fam == "ces" else None)


@st.composite
def economies(draw, verification: bool | None = None) -> Economy:
    T = draw(st.integers(1, 4))
    long_run = draw(st.booleans())
    counts = st.sampled_from([1, 2, 3, 7, 1000])
    cons = [ConsumerType(f"c{k}", draw(counts), draw(pos), draw(utilities(T, False)))
            for k in range(draw(st.integers(1, 3)))]
    prods = []
    for k in range(draw(st.integers(1, 3))):
        classic = draw(st.booleans())
        avail = tuple(draw(st.sampled_from([0.0, 0.25, 1.0])) for _ in range(T))
        if long_run:
            cap = None
        elif draw(st.booleans()):
            cap = tuple(a * draw(st.floats(0.5, 20.0)) for a in avail)
        else:
            cap = draw(st.floats(0.5, 20.0))
        prods.append(ProducerType(
            f"p{k}", draw(counts), draw(pos), draw(st.sampled_from([0.6, 1.0, 1.3])),
            draw(utilities(T, classic)), kind="classic" if classic else "ai", capacity=cap,
            capacity_cost=draw(st.floats(0.01, 0.5)) if long_run else None,
            availability=avail if long_run and draw(st.booleans()) else None))
    storage = []
    for k in range(draw(st.integers(1, 3))):
        classic = draw(st.booleans())
        storage.append(StorageType(
            f"b{k}", draw(counts), draw(st.floats(0.5, 10.0)), draw(st.floats(0.1, 3.0)),
            draw(utilities(T, classic)), kind="classic" if classic else "ai",
            charge_efficiency=draw(st.sampled_from([1.0, 0.9])),
            discharge_efficiency=draw(st.sampled_from([1.0, 0.8]))))
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
                         storage=storage, market=market, states=states)


def _battery_plan(rng: np.random.Generator, e: Economy) -> tuple[np.ndarray, np.ndarray]:
    """A feasible cyclic plan per storage type: charge y and offers q within G, the day's net
    zero, the state of charge within [0, S]."""
    st_ = e.storage
    T = e.periods
    y = rng.uniform(0.0, 1.0, (len(st_), T)) * (rng.random((len(st_), T)) > 0.3)
    q = rng.uniform(0.0, 1.0, (len(st_), T)) * (rng.random((len(st_), T)) > 0.3)
    eta_c, eta_d = st_.charge_efficiency[:, None], st_.discharge_efficiency[:, None]
    stored = (eta_c * y).sum(axis=1)
    drawn = (q / eta_d).sum(axis=1)
    # Balance the day: scale the discharge so that what leaves equals what enters.
    q = np.where(drawn[:, None] > 0, q * (stored / np.where(drawn > 0, drawn, 1.0))[:, None],
                 0.0)
    y = np.where(drawn[:, None] > 0, y, 0.0)
    path = np.cumsum(eta_c * y - q / eta_d, axis=1)
    span = path.max(axis=1, initial=0.0) - np.minimum(path.min(axis=1, initial=0.0), 0.0)
    top = np.maximum(y.max(axis=1, initial=0.0), q.max(axis=1, initial=0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.minimum(np.where(span > 0, 0.9 * st_.energy_capacity / span, 1.0),
                       np.where(top > 0, 0.9 * st_.power_capacity / top, 1.0))
    return y * k[:, None], q * k[:, None]


@st.composite
def profiles(draw, e: Economy) -> Profile:
    T = e.periods
    nc, npr, ns = len(e.consumers), len(e.producers), len(e.storage)
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    cb = rng.uniform(0.01, 2.0, (nc, T + 1)) * (rng.random((nc, T + 1)) > 0.2)
    pb = rng.uniform(0.01, 2.0, (npr, T + 1)) * (rng.random((npr, T + 1)) > 0.2)
    sb = rng.uniform(0.01, 2.0, (ns, T + 1)) * (rng.random((ns, T + 1)) > 0.2)
    K = rng.uniform(0.5, 10.0, npr) if e.market.long_run else e.producers.capacity.copy()
    q = rng.uniform(0.05, 1.0, (npr, T)) * e.producers.period_capacity(K)
    y, sq = _battery_plan(rng, e)
    return Profile(cb, pb, q, K, sb, sq, y)


@st.composite
def cases(draw, verification: bool | None = None):
    e = draw(economies(verification))
    return e, draw(profiles(e))


def _close(a, b, rtol=RTOL, atol=0.0) -> None:
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _roles(e: Economy, out) -> list:  # noqa: ANN001
    return [(e.consumers.count, out.consumers), (e.producers.count, out.producers),
            (e.storage.count, out.storage)]


# --------------------------------------------------------------------------------------------
# Conservation.
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(cases())
def test_energy_is_conserved_through_the_batteries(case):
    """On every post that trades and in every state: Σ_j n_j q_j^t (production) + Σ_k n_k
    q_k^t (discharge) = Σ_i n_i (E_is^t + V_is^t) over consumers, producers and storage
    operators + Σ_k n_k y_k^t (electricity put into batteries); a storage operator's
    x = E + V + y. (docs/model.md, "Storage": nothing is created or lost at the post; the
    battery's own losses are in the state of charge.)"""
    e, prof = case
    out = evaluate(e, prof)
    _, Q = totals(e, prof)
    production = e.producers.count @ prof.offers
    discharge = e.storage.count @ prof.storage_offers
    charge = e.storage.count @ prof.storage_charge
    _close(production + discharge, Q[1:])
    st_ = out.storage
    # Every storage operator's purchase is split into consumption, verification and charge.
    _close(st_.consumption + st_.verification + prof.storage_charge[:, None, :],
           np.broadcast_to(st_.electricity[:, None, :], st_.consumption.shape), atol=1e-14)
    for t in range(1, e.periods + 1):
        if not out.active[t]:
            continue
        for s in range(e.S):
            used = math.fsum(float(n @ (p.consumption[:, s, t - 1] + p.verification[:, s, t - 1]))
                             for n, p in _roles(e, out))
            # E = x − V − y cancels terms as large as the purchases: rounding is a few ulps of
            # their magnitude (Q^t plus what the batteries take), not of the difference.
            size = Q[t] + charge[t - 1]
            _close(used + charge[t - 1], production[t - 1] + discharge[t - 1],
                   atol=16 * np.finfo(float).eps * size)


@SETTINGS
@given(cases())
def test_bytecoins_paid_equal_bytecoins_received(case):
    """Bytecoins only change hands, storage operators included: over the posts that trade,
    Σ n (bids paid) = Σ n (revenue) = Σ_t B^t; a storage operator's revenue is Σ_t p^t q^t."""
    e, prof = case
    out = evaluate(e, prof)
    paid = math.fsum(float(n @ p.spending) for n, p in _roles(e, out))
    received = math.fsum(float(n @ p.revenue) for n, p in _roles(e, out))
    B, Q = totals(e, prof)
    _close(paid, math.fsum(B[out.active]))
    _close(received, math.fsum(B[out.active]))
    live = out.active[1:]
    p = np.where(live, B[1:] / np.where(live, Q[1:], 1.0), 0.0)
    _close(out.storage.revenue, prof.storage_offers @ p)


@SETTINGS
@given(cases())
def test_goods_are_conserved(case):
    """Ω = Σ_h n_h x_h^0 + Σ_j n_j (x_j^0 + inputs [+ ρ K]) + Σ_k n_k x_k^0: a storage operator
    buys goods it consumes and uses none as input."""
    e, prof = case
    out = evaluate(e, prof)
    B, _ = totals(e, prof)
    assert out.active[0]
    _close(out.storage.goods, prof.storage_bids[:, 0] * e.goods_supply / B[0])
    _close(out.storage.inputs, 0.0, atol=0.0)
    pr = e.producers
    cap = (pr.capacity_cost * prof.capacity) if e.market.long_run else np.zeros(len(pr))
    spent = pr.count @ (out.producers.inputs.sum(axis=1) + cap)
    total = (e.consumers.count @ out.consumers.goods + pr.count @ out.producers.goods + spent
             + e.storage.count @ out.storage.goods)
    _close(total, e.goods_supply, atol=8 * np.finfo(float).eps * float(spent))


@SETTINGS
@given(cases())
def test_others_totals_include_storage(case):
    """B_-i and Q_-i count storage operators' bids and offers (a brute-force loop over
    agents)."""
    e, prof = case
    B, Q = totals(e, prof)
    Bc, Qc, Bp, Qp = others_totals(e, prof)
    Bs, Qs = storage_others_totals(e, prof)
    for b, others in ((prof.consumer_bids, Bc), (prof.producer_bids, Bp),
                      (prof.storage_bids, Bs)):
        _close(others, B[None, :] - b, atol=1e-12 * B.max())
    _close(Qp[:, 1:], Q[None, 1:] - prof.offers, atol=1e-12 * Q.max())
    _close(Qs[:, 1:], Q[None, 1:] - prof.storage_offers, atol=1e-12 * Q.max())
    _close(Qc[:, 1:], np.broadcast_to(Q[1:], Qc[:, 1:].shape))


# --------------------------------------------------------------------------------------------
# The battery's bounds and the availability caps.
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(cases())
def test_state_of_charge_follows_the_cyclic_day(case):
    """σ^t = σ^{t−1} + η_c y^t − q^t/η_d with σ^0 = σ^T, reported as its lowest path
    (min σ = 0), within [0, S]; the generated plans are feasible, so no operator is refused for
    its battery (only, possibly, for E < 0 or goods)."""
    e, prof = case
    out = evaluate(e, prof)
    st_ = e.storage
    for k in range(len(st_)):
        level = [0.0]
        for t in range(e.periods):
            level.append(level[-1] + st_.charge_efficiency[k] * prof.storage_charge[k, t]
                         - prof.storage_offers[k, t] / st_.discharge_efficiency[k])
        assert abs(level[-1]) <= 1e-12 * st_.energy_capacity[k]
        lowest = min(level)
        expected = np.array(level[1:]) - lowest
        _close(out.storage.state_of_charge[k], expected, atol=1e-12 * st_.energy_capacity[k])
        assert out.storage.state_of_charge[k].min() <= 1e-12 * st_.energy_capacity[k]
        assert out.storage.state_of_charge[k].max() <= st_.energy_capacity[k] * (1 + 1e-12)
    _, ok = state_of_charge(st_, prof.storage_charge, prof.storage_offers)
    assert ok.all()


@SETTINGS
@given(cases(), st.sampled_from(["cycle", "energy", "power", "charge"]))
def test_a_battery_plan_out_of_bounds_is_infeasible(case, broken):
    """Breaking one rule of the battery makes the plan infeasible (utility −∞): the day's net
    not zero (cycle), the state of charge spanning more than S (energy), a charge or offer
    above G (power), or a charge above what is left of the purchase after verification
    (E < 0)."""
    e, prof = case
    y, q = prof.storage_charge.copy(), prof.storage_offers.copy()
    st_ = e.storage
    T = e.periods
    if broken == "cycle":
        y[0, 0] += 0.01 * st_.power_capacity[0]  # more in than out
        y[0, 0] = min(y[0, 0], st_.power_capacity[0])
        q[0] *= 0.5
        if np.all(q[0] == 0) and np.all(prof.storage_charge[0] == y[0]):
            y[0, 0] = 0.5 * st_.power_capacity[0]
    elif broken == "energy":
        if T < 2:
            return
        need = st_.energy_capacity[0] * 1.01
        # Charge hard in the first period, then discharge: span > S (G raised to allow it).
        rows = [e.storage_type(k) for k in range(len(st_))]
        rows[0] = replace(rows[0], power_capacity=10 * need)
        e = e.replace(storage=Population.from_types(rows, T))
        y[0] = 0.0
        q[0] = 0.0
        y[0, 0] = need / st_.charge_efficiency[0]
        q[0, 1] = need * st_.discharge_efficiency[0]
    elif broken == "power":
        y[0, 0] = 1.01 * st_.power_capacity[0]
        q[0, 0] += 1.01 * st_.power_capacity[0] * st_.charge_efficiency[0] \
            * st_.discharge_efficiency[0]  # balanced, but above G
    else:  # charge: y above x − V
        sb = prof.storage_bids.copy()
        sb[0, 1] = 0.0  # buys nothing in period 1 ...
        y[0, 0] = min(0.5 * st_.power_capacity[0], 0.4 * st_.energy_capacity[0]
                      / st_.charge_efficiency[0])  # ... yet charges
        q[0] = 0.0
        q[0, -1] = y[0, 0] * st_.charge_efficiency[0] * st_.discharge_efficiency[0]
        if T == 1:
            q[0, 0] = q[0, -1]
        prof = Profile(prof.consumer_bids, prof.producer_bids, prof.offers, prof.capacity, sb,
                       prof.storage_offers, prof.storage_charge)
    bad = Profile(prof.consumer_bids, prof.producer_bids, prof.offers, prof.capacity,
                  prof.storage_bids, q, y)
    out = evaluate(e, bad)
    assert np.isneginf(out.storage.utility[0])


@SETTINGS
@given(cases(), st.floats(1.001, 2.0))
def test_offers_above_availability_are_infeasible(case, factor):
    """A producer offers at most s^t K on post t (docs/model.md, "Availability"): above it the
    plan is infeasible (utility −∞); an offer at the cap exactly is not refused for that
    (the type's utility is what it is at an offer just below the cap, up to continuity)."""
    e, prof = case
    caps = e.producers.period_capacity(prof.capacity)
    j, t = np.unravel_index(np.argmax(caps), caps.shape)
    if caps[j, t] <= 0:
        return
    at_cap = prof.offers.copy()
    at_cap[j, t] = caps[j, t]
    over = at_cap.copy()
    over[j, t] = factor * caps[j, t]
    zero = np.flatnonzero(caps[j] == 0)
    a = evaluate(e, Profile(prof.consumer_bids, prof.producer_bids, at_cap, prof.capacity,
                            prof.storage_bids, prof.storage_offers, prof.storage_charge))
    b = evaluate(e, Profile(prof.consumer_bids, prof.producer_bids, over, prof.capacity,
                            prof.storage_bids, prof.storage_offers, prof.storage_charge))
    assert np.isneginf(b.producers.utility[j])
    # Offering anything in a period of zero availability is infeasible too.
    if zero.size:
        z = at_cap.copy()
        z[j, zero[0]] = 1e-6 * caps[j, t]
        c = evaluate(e, Profile(prof.consumer_bids, prof.producer_bids, z, prof.capacity,
                                prof.storage_bids, prof.storage_offers, prof.storage_charge))
        assert np.isneginf(c.producers.utility[j])
    # At the cap the utility is the market's verdict on everything else, not -inf for the cap:
    # it equals the utility computed with every cap lifted.
    if e.market.long_run:
        return
    rows = [replace(e.producer(k), capacity=1e12) for k in range(len(e.producers))]
    free = evaluate(e.replace(producers=Population.from_types(rows, e.periods)),
                    Profile(prof.consumer_bids, prof.producer_bids, at_cap,
                            np.full(len(caps), 1e12), prof.storage_bids, prof.storage_offers,
                            prof.storage_charge))
    _close(a.producers.utility[j], free.producers.utility[j])


def test_capacity_by_period_is_stored_as_its_maximum_and_availability():
    """capacity = [K̄^1..K̄^T] is K̄ = max_t K̄^t with s^t = K̄^t / K̄ (the decision of
    docs/model.md, "Availability"); all zeros: a type that never supplies; written back out as
    the same list."""
    from emgame import economy_from_dict, economy_to_dict

    e = Economy.build(
        name="sun", periods=3,
        consumers=[ConsumerType("c", 2, 1.0, Utility("cobb_douglas", (1.0, 1.0, 1.0)))],
        producers=[ProducerType("solar", 2, 1.0, 0.8, Utility("cobb_douglas", (1.0, 1.0, 1.0)),
                                capacity=(0.0, 4.0, 1.0)),
                   ProducerType("dark", 1, 1.0, 0.8, Utility("cobb_douglas", (1.0, 1.0, 1.0)),
                                capacity=(0.0, 0.0, 0.0)),
                   ProducerType("gas", 1, 1.0, 0.8, Utility("cobb_douglas", (1.0, 1.0, 1.0)),
                                capacity=2.0)])
    p = e.producers
    _close(p.capacity, [4.0, 0.0, 2.0])
    _close(p.availability, [[0.0, 1.0, 0.25], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    _close(p.period_capacity(), [[0.0, 4.0, 1.0], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0]])
    d = economy_to_dict(e)
    assert d["producers"][0]["capacity"] == [0.0, 4.0, 1.0]
    assert d["producers"][2]["capacity"] == 2.0
    _close(economy_from_dict(d).producers.period_capacity(), p.period_capacity())
    assert e.producer(0).capacity == (0.0, 4.0, 1.0) and e.producer(2).capacity == 2.0


def test_other_roles_pay_nothing_for_availability_and_storage_columns():
    """Availability and the battery columns are constants taking no memory for roles that do
    not use them (a million consumer types must not pay for them), also after select()."""
    e = Economy.build(
        name="m", periods=24,
        consumers=[ConsumerType(f"c{k}", 1, 1.0, Utility("cobb_douglas", (1.0,) * 24))
                   for k in range(50)],
        producers=[ProducerType("p", 2, 1.0, 0.8, Utility("cobb_douglas", (1.0,) * 24),
                                capacity=3.0)])
    for pop in (e.consumers, e.consumers.select(np.arange(10, 40)), e.storage):
        for col in ("availability", "energy_capacity", "power_capacity", "charge_efficiency",
                    "discharge_efficiency"):
            a = getattr(pop, col)
            assert a.size == 0 or all(s == 0 for s in a.strides), col
    assert e.consumers.availability.shape == (50, 24)
