"""Equilibria known in closed form (derived in each docstring from the model's (docs/model.md)
rules).

Competitive benchmark, ai agents, c = 1
    Producers' marginal cost is 1/θ goods per unit, so p^t/p^0 = 1/θ; a Cobb–Douglas consumer
    with weights summing to one spends a_t of its income p^0 ω on period t and receives
    a_t ω p^0/p^t = a_t θ ω.

Cournot (classic producers valuing only goods: u = log x^0, c = 1, slack capacity, P of them)
    From (13) and (14) with u_t = 0: u_0 Ω B_-^0/(B^0)^2 = λ and u_0/θ = λ B^1 Q_-/Q^2, so
    (p^1/p^0)(Q_-/Q)(B_-^0/B^0) = 1/θ. At a symmetric equilibrium Q_-/Q = (P−1)/P and
    B_-^0/B^0 = 1 − R_j/B^0 (a producer spends its revenue R_j on goods), hence
    p^1/p^0 = (1/θ)·P/(P−1)/(1 − R_j/B^0) — whatever the buyers.
    * ai buyers bid nothing on goods, so B^0 = P R_j and p^1/p^0 = (1/θ)(P/(P−1))².
    * M classic Cobb–Douglas buyers spending a share s on electricity: as price takers
      (M → ∞) they spend s p^0 Ω on electricity = P R_j and B^0 = p^0 Ω, so
      p^1/p^0 → (1/θ)·P/(P−1)·P/(P−s); their own market power on the goods post is O(1/M).
    * For finite M, (10)–(11) give one equation for a buyer's electricity bid y (ω = 1,
      Ω = M, B^0 = Ω): (1−s)(Ω−1+y)/((1−y)Ω) = s(M−1)²/(M² y), a quadratic; then R_j = My/P.
"""

from __future__ import annotations

import numpy as np
import pytest

from emgame import Status, Utility, solve
from oracles import cd, consumer, deviation_gain, economy, producer

# --------------------------------------------------------------------------------------------
# Competitive, ai, c = 1.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("theta,omega,weights,n_c,n_p", [
    (2.0, 1.0, (0.3, 0.7), 5, 3),
    (0.5, 3.0, (0.2, 0.5, 0.3), 2, 1),
    (1.7, 0.4, (1.0,), 10, 4),
    (1.0, 2.0, (0.1, 0.2, 0.3, 0.4), 3, 2),
])
def test_competitive_ai_constant_returns(theta, omega, weights, n_c, n_p):
    """Competitive benchmark, ai, c = 1, slack capacity, Cobb–Douglas weights summing to one:
    p^t/p^0 = 1/θ and each consumer receives a_t θ ω (module notes). A lone producer is
    fine here: the sole-seller problem is the game's, not the benchmark's (docs/model.md, Solution
    concepts)."""
    T = len(weights)
    e = economy("ai c=1", T, [consumer("c", n_c, omega, cd(*weights))],
                [producer("p", n_p, theta, 1.0, cd(*([1.0 / T] * T)), capacity=1e4)])
    s = solve(e, "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    np.testing.assert_allclose(s.relative_prices, 1.0 / theta, rtol=1e-10)
    np.testing.assert_allclose(s.outcome.consumers.electricity[0],
                               np.array(weights) * theta * omega, rtol=1e-10)
    # Producers earn nothing at constant returns (docs/model.md, Solution concepts): an ai producer
    # consumes nothing.
    assert s.outcome.producers.revenue[0] == pytest.approx(
        s.outcome.producers.spending[0], rel=1e-10)


@pytest.mark.parametrize("K", [1e5, 1e9])
def test_competitive_constant_returns_with_huge_slack_capacity(K):
    """The same closed form (p^t/p^0 = 1/θ, x = a θ ω) must not depend on how slack the
    capacity is: K̄ only bounds output, and it does not bind here."""
    theta = 1.5
    e = economy("ai c=1 huge K", 1, [consumer("c", 6, 1.0, cd(1.0))],
                [producer("p", 3, theta, 1.0, cd(1.0), capacity=K)])
    s = solve(e, "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    np.testing.assert_allclose(s.relative_prices, 1.0 / theta, rtol=1e-10)
    np.testing.assert_allclose(s.outcome.consumers.electricity[0], theta, rtol=1e-10)


def test_competitive_classic_constant_returns_quasilinear():
    """Competitive benchmark, c = 1, slack capacity, quasilinear classic consumers
    u = Σ a_t log E^t + a_0 x^0 with income to spare: p^t/p^0 = 1/θ (marginal cost) and each
    consumer buys E^t = a_t p^0/(a_0 p^t) = a_t θ/a_0 (marginal utility a_t/E^t equals the
    price in goods times a_0). Producers (classic, Cobb–Douglas) earn zero profit."""
    e = economy("ql c=1", 2,
                [consumer("households", 6, 2.0,
                          Utility("quasilinear", (0.3, 0.5), goods_weight=1.0), kind="classic")],
                [producer("plants", 3, 1.2, 1.0, cd(0.1, 0.1, goods=0.8), kind="classic",
                          capacity=50.0)])
    s = solve(e, "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    np.testing.assert_allclose(s.relative_prices, 1.0 / 1.2, rtol=1e-10)
    np.testing.assert_allclose(s.outcome.consumers.electricity[0],
                               np.array([0.3, 0.5]) * 1.2, rtol=1e-10)


# --------------------------------------------------------------------------------------------
# Cournot.
# --------------------------------------------------------------------------------------------


def _cournot(P: int, buyers, theta: float = 1.5, utility: Utility | None = None):
    return economy(f"cournot P={P}", 1, buyers,
                   [producer("p", P, theta, 1.0, utility or cd(0.0, goods=1.0), kind="classic",
                             capacity=1e9)])


# Producers who value only goods maximise goods, whatever the family's curvature.
GOODS_ONLY = {
    "cobb_douglas": Utility("cobb_douglas", (0.0,), goods_weight=1.0),
    "crra": Utility("crra", (0.0,), goods_weight=1.0, gamma=2.0),
    "ces": Utility("ces", (0.0,), goods_weight=1.0, r=0.5),
    "quasilinear": Utility("quasilinear", (0.0,), goods_weight=1.0),
}


def _general_relation(s, P, theta):
    R = s.outcome.producers.revenue[0]
    B0 = s.outcome.bids_total[0]
    return (1.0 / theta) * P / (P - 1) / (1.0 - R / B0)


@pytest.mark.parametrize("family", list(GOODS_ONLY))
@pytest.mark.parametrize("P", [2, 3, 5, 10])
def test_cournot_with_ai_buyers(P, family):
    """Cournot with ai buyers: p^1/p^0 = (1/θ)(P/(P−1))² exactly, and the general relation
    p^1/p^0 = (1/θ)·P/(P−1)/(1 − R_j/B^0) holds (module notes), for goods-only producers of
    every family."""
    theta = 1.5
    e = _cournot(P, [consumer("c", 7, 1.0, cd(1.0))], theta, GOODS_ONLY[family])
    s = solve(e)
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.relative_prices[0] == pytest.approx((1 / theta) * (P / (P - 1)) ** 2, rel=1e-10)
    assert s.relative_prices[0] == pytest.approx(_general_relation(s, P, theta), rel=1e-10)


def _buyer_bid(M: int, s: float) -> float:
    """The buyers' electricity bid y at the symmetric equilibrium (module notes), ω = 1."""
    Om = float(M)
    a2 = (1 - s) * M**2
    a1 = (1 - s) * M**2 * (Om - 1.0) + s * (M - 1) ** 2 * Om
    a0 = -s * (M - 1) ** 2 * Om
    return (-a1 + np.sqrt(a1 * a1 - 4 * a2 * a0)) / (2 * a2)


@pytest.mark.parametrize("P,M", [(3, 2), (3, 10), (2, 100), (5, 40)])
def test_cournot_with_few_classic_buyers_matches_the_finite_m_closed_form(P, M):
    """M classic Cobb–Douglas buyers (share s = 0.4 on electricity): the equilibrium price is
    (1/θ)·P/(P−1)/(1 − R_j/B^0) with R_j = M y/P and y from the buyers' quadratic (module
    notes) — an exact finite-M formula, independent of the solver."""
    theta, s_ = 1.5, 0.4
    e = _cournot(P, [consumer("c", M, 1.0, cd(s_, goods=1 - s_), kind="classic")], theta)
    sol = solve(e)
    assert sol.status is Status.EQUILIBRIUM, sol.reason
    y = _buyer_bid(M, s_)
    expected = (1 / theta) * P / (P - 1) / (1 - (M * y / P) / M)
    assert sol.relative_prices[0] == pytest.approx(expected, rel=1e-9)
    assert sol.relative_prices[0] == pytest.approx(_general_relation(sol, P, theta), rel=1e-10)


@pytest.mark.parametrize("M", [2, 10])
def test_cournot_duopoly_with_few_classic_buyers_is_found(M):
    """P = 2, M = 2 or 10: the finite-M closed form gives an interior equilibrium (y ∈ (0, 1),
    positive output, x_j^0 > 0; each agent's problem is concave — log of a concave function
    of its own bids — so the FOCs are sufficient); the independent best response confirms it
    below. The solver must find it, at p^1/p^0 = (1/θ)·P/(P−1)/(1 − b_j^0/Ω) with
    b_j^0 = R_j = M y/P and Ω = M."""
    from emgame.market import Profile

    P, theta, s_ = 2, 1.5, 0.4
    e = _cournot(P, [consumer("c", M, 1.0, cd(s_, goods=1 - s_), kind="classic")], theta)
    y = _buyer_bid(M, s_)
    bj0 = M * y / P
    q = theta * (1 - bj0 / M) * M * y * (P - 1) / P**2
    prof = Profile(np.array([[1 - y, y]]), np.array([[bj0, 0.0]]), np.array([[q]]),
                   np.array([1e9]))
    for role in ("consumers", "producers"):  # it is an equilibrium
        g = deviation_gain(e, prof, role, 0)
        assert g.gain <= 1e-9 * abs(g.current)
    sol = solve(e)
    assert sol.status is Status.EQUILIBRIUM, sol.reason
    assert sol.relative_prices[0] == pytest.approx((1 / theta) * P / (P - 1) / (1 - bj0 / M),
                                                   rel=1e-9)


def test_cournot_with_many_classic_buyers_converges_to_the_price_taking_limit():
    """As the number M of classic buyers grows, p^1/p^0 tends to (1/θ)·P/(P−1)·P/(P−s) (module
    notes). The buyers' market power is O(1/M): the error must shrink about tenfold per decade
    of M (ratio in [0.05, 0.2]) and be below 1e-4 (relative) at M = 10⁵."""
    theta, s_ = 1.5, 0.4
    for P in (2, 3):
        limit = (1 / theta) * P / (P - 1) * P / (P - s_)
        errors = []
        for M in (100, 1000, 10_000, 100_000):
            e = _cournot(P, [consumer("c", M, 1.0, cd(s_, goods=1 - s_), kind="classic")],
                         theta)
            sol = solve(e)
            assert sol.status is Status.EQUILIBRIUM, sol.reason
            assert sol.relative_prices[0] == pytest.approx(_general_relation(sol, P, theta),
                                                           rel=1e-10)
            errors.append(abs(sol.relative_prices[0] - limit) / limit)
        ratios = np.array(errors[1:]) / np.array(errors[:-1])
        assert np.all((ratios > 0.05) & (ratios < 0.2)), (P, errors)
        assert errors[-1] < 1e-4
