"""Utility families and their shadow values (docs/model.md sections 2 and 5).

Oracle: the definitions. ``marginal_utility`` (the shadow value λ_s^t = ∂u/∂E_s^t reported per
agent, state and period) and ``goods_marginal_utility`` must be the derivatives of ``utility``;
checked against central finite differences, and at the edge of the domain against the limit
computed by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from emgame.market.utility import goods_marginal_utility, marginal_utility, utility
from emgame.model.economy import FAMILIES, Population


def _pop(family: str, classic: bool, n: int = 3, T: int = 3, **extra) -> Population:
    rng = np.random.default_rng(5)
    return Population.from_arrays(
        names=tuple(f"t{i}" for i in range(n)), count=np.ones(n),
        weights=rng.uniform(0.1, 1.0, (n, T)),
        family=np.full(n, FAMILIES.index(family), np.int8), classic=np.full(n, classic),
        goods_weight=np.full(n, 0.6 if classic else 0.0),
        gamma=np.full(n, extra.get("gamma", np.nan)), r=np.full(n, extra.get("r", np.nan)))


CASES = [("cobb_douglas", {}), ("crra", {"gamma": 2.0}), ("crra", {"gamma": 0.4}),
         ("ces", {"r": 0.5}), ("ces", {"r": -1.5}), ("quasilinear", {})]


@pytest.mark.parametrize("classic", [False, True])
@pytest.mark.parametrize("family,extra", CASES)
def test_shadow_values_are_derivatives_of_utility(family, extra, classic):
    """λ_s^t = ∂u/∂E_s^t (not multiplied by π_s, docs/model.md, The crypto layer) and ∂Eu/∂x^0, by
    central
    differences of u in one state (λ) and of Eu over two states (goods), at interior points."""
    if family == "quasilinear" and not classic:
        pytest.skip("quasilinear is classic only")
    pop = _pop(family, classic, **extra)
    rng = np.random.default_rng(2)
    S = 2
    E = rng.uniform(0.3, 3.0, (3, S, 3))
    x0 = rng.uniform(0.3, 3.0, 3)
    prob = np.array([0.35, 0.65])
    mu = marginal_utility(pop, E, x0)
    h = 1e-6
    for s in range(S):
        one = np.zeros(S)
        one[s] = 1.0
        for t in range(3):
            up, dn = E.copy(), E.copy()
            up[:, s, t] += h
            dn[:, s, t] -= h
            fd = (utility(pop, up, x0, one) - utility(pop, dn, x0, one)) / (2 * h)
            np.testing.assert_allclose(mu[:, s, t], fd, rtol=1e-7)
    g = goods_marginal_utility(pop, E, x0, prob)
    fd0 = (utility(pop, E, x0 + h, prob) - utility(pop, E, x0 - h, prob)) / (2 * h)
    np.testing.assert_allclose(g, fd0 if classic else 0.0, rtol=1e-7, atol=1e-12)


def test_ces_shadow_value_at_zero_consumption_with_negative_r():
    """u = (E1^{-1} + E2^{-1})^{-1} = E1 E2/(E1 + E2): at E = (0, 1), ∂u/∂E1 = E2²/(E1+E2)² = 1
    and ∂u/∂E2 = 0 (by hand); u itself is 0 there."""
    pop = Population.from_arrays(names=("a",), count=np.ones(1), weights=np.array([[1.0, 1.0]]),
                                 family=np.array([FAMILIES.index("ces")], np.int8),
                                 r=np.array([-1.0]))
    E = np.array([[[0.0, 1.0]]])
    assert utility(pop, E, np.zeros(1), np.ones(1))[0] == 0.0
    np.testing.assert_allclose(marginal_utility(pop, E, np.zeros(1))[0, 0], [1.0, 0.0])
