"""Capacity by period in the solvers (docs/model.md, "Availability").

Facts checked:
- The competitive benchmark with capacity by period matches an independent closed-form
  solution: with `ai` Cobb–Douglas buyers whose weights sum to one (each spends the share
  a_t of its endowment on period t at p^0 = 1) and profit-maximising sellers, each period's
  price solves W_t / p = Σ_j n_j min(s_j^t K_j, φ_j'^{-1}(p)) — one equation per period,
  solved here by bracketing (brentq), not by emgame.
- Capacity given as T equal numbers is the same economy as one number (same solutions).
- Both concepts are certified where the solar type has no capacity in some periods.
- A period no producer can supply, valued only by a type whose utility stays finite without it
  (CRRA with γ < 1), does not trade; the rest of the economy is solved and certified.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from emgame import ConsumerType, Economy, ProducerType, Status, Utility, solve
from emgame.model.economy import Market

PROFIT3 = Utility("quasilinear", (0.0, 0.0, 0.0), goods_weight=1.0)
SOLAR = (0.0, 1.2, 0.3)          # K̄^t: nothing at night, a little in the evening
W1, W2 = (0.3, 0.4, 0.3), (0.5, 0.2, 0.3)


def _economy(solar=SOLAR, gas_cap=2.0, share=0.01) -> Economy:
    return Economy.build(
        name="three hours", periods=3, verification=(0.0, share),
        consumers=[ConsumerType("a", 8, 1.0, Utility("cobb_douglas", W1)),
                   ConsumerType("b", 5, 2.0, Utility("cobb_douglas", W2))],
        producers=[ProducerType("solar", 5, 3.0, 0.8, PROFIT3, kind="classic",
                                capacity=solar),
                   ProducerType("gas", 3, 1.2, 0.6, PROFIT3, kind="classic",
                                capacity=gas_cap)])


def _closed_form(solar=SOLAR, gas_cap=2.0) -> np.ndarray:
    W = 8 * 1.0 * np.array(W1) + 5 * 2.0 * np.array(W2)
    types = [(5, 3.0, 0.8, np.asarray(solar)), (3, 1.2, 0.6, np.full(3, gas_cap))]

    def supply(p, t):
        # φ'(q) = p  ⇔  q = θ (c θ p)^{c/(1-c)}, capped at s^t K
        return sum(n * min(cap[t], th * (c * th * p) ** (c / (1 - c)))
                   for n, th, c, cap in types)

    return np.array([brentq(lambda p, t=t: W[t] / p - supply(p, t), 1e-6, 1e6, xtol=1e-15,
                            rtol=1e-15) for t in range(3)])


def test_competitive_prices_match_the_closed_form():
    s = solve(_economy(), "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    np.testing.assert_allclose(s.relative_prices, _closed_form(), rtol=1e-9)
    q = s.profile.offers
    assert q[0, 0] == 0.0                         # no sun at night
    assert q[0, 2] == pytest.approx(0.3, rel=1e-12)   # the evening cap binds


def test_capacity_by_period_equal_numbers_is_one_number():
    a = _economy(solar=(1.0, 1.0, 1.0))
    b = _economy(solar=1.0)
    for concept in ("nash", "competitive"):
        sa, sb = solve(a, concept), solve(b, concept)
        assert sa.ok and sb.ok, (sa.reason, sb.reason)
        np.testing.assert_allclose(sa.relative_prices, sb.relative_prices, rtol=1e-10)


@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_certified_with_zero_capacity_periods(concept):
    s = solve(_economy(), concept)
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.certificate.passed
    caps = s.economy.producers.period_capacity(s.profile.capacity)
    assert np.all(s.profile.offers <= caps * (1 + 1e-12))


def test_unsupplied_period_valued_with_finite_utility_does_not_trade():
    """Only solar, dark in period 2; the buyers' CRRA utility (γ = 0.5) is finite without
    period 2's electricity, so they buy nothing there and the economy has an equilibrium."""
    e = Economy.build(
        name="dark hour", periods=2,
        consumers=[ConsumerType("c", 4, 1.0, Utility("crra", (0.5, 0.5), gamma=0.5))],
        producers=[ProducerType("solar", 3, 2.0, 0.8,
                                Utility("quasilinear", (0.0, 0.0), goods_weight=1.0),
                                kind="classic", capacity=(1.0, 0.0))])
    for concept in ("nash", "competitive"):
        s = solve(e, concept)
        assert s.status is Status.EQUILIBRIUM, (concept, s.reason)
        assert s.certificate.passed
        assert np.isnan(s.outcome.prices[2])          # the dark post does not trade
        assert np.all(s.profile.consumer_bids[:, 2] == 0.0)
        assert np.all(s.profile.offers[:, 1] == 0.0)


def _long_run(avail=(0.2, 1.0, 0.6)) -> Economy:
    return Economy.build(
        name="long run, sun by the hour", periods=3, market=Market(horizon="long-run"),
        consumers=[ConsumerType("a", 8, 1.0, Utility("cobb_douglas", W1))],
        producers=[ProducerType("solar", 5, 3.0, 0.8, PROFIT3, kind="classic",
                                capacity_cost=0.05, availability=avail)])


def _long_run_closed_form(avail=(0.2, 1.0, 0.6)):
    """One producer type, price takers: given K, each period's price solves
    W_t/p = n min(s^t K, φ'^{-1}(p)); K solves Σ_t s^t (p_t − φ'(s^t K))⁺ = ρ (a unit of
    capacity adds s^t to each period's cap; rents pay for it)."""
    W = 8 * np.array(W1)
    n, th, c, rho = 5, 3.0, 0.8, 0.05
    s = np.asarray(avail)

    def prices(K):
        out = []
        for t in range(3):
            def f(p, t=t):
                return W[t] / p - n * min(s[t] * K, th * (c * th * p) ** (c / (1 - c)))
            out.append(brentq(f, 1e-9, 1e9, xtol=1e-300, rtol=1e-15))
        return np.array(out)

    def rent(K):
        p = prices(K)
        mc = (1 / (c * th)) * (s * K / th) ** (1 / c - 1)
        return float(np.sum(s * np.maximum(p - mc, 0.0))) - rho

    K = brentq(rent, 1e-6, 1e3, xtol=1e-300, rtol=1e-15)
    return prices(K), K


def test_long_run_competitive_capacity_matches_the_closed_form():
    """The chosen capacity K and the prices, price takers with availability s^t."""
    s = solve(_long_run(), "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    p, K = _long_run_closed_form()
    np.testing.assert_allclose(s.profile.capacity, [K], rtol=1e-8)
    np.testing.assert_allclose(s.relative_prices, p, rtol=1e-8)


def test_long_run_nash_with_availability_is_certified():
    s = solve(_long_run(), "nash")
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.certificate.passed
    K = s.profile.capacity[0]
    assert np.all(s.profile.offers[0] <= K * np.array([0.2, 1.0, 0.6]) * (1 + 1e-12))
