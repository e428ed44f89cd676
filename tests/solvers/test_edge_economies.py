"""Economies at the edges of the model, with answers known by an argument given in each test.

* A period nobody values: its post need not trade (an active equilibrium is one in which
  every post *with some positive weight* trades, docs/model.md, Solution concepts), and with
  separable utilities
  nothing on the other posts depends on it: the equilibrium is that of the economy without it.
* Long-run competitive benchmark with constant returns (c = 1): peak-load pricing. With
  demand higher in period 2 at the candidate prices, capacity K = q² is paid for by the peak:
  p^1/p^0 = 1/θ, p^2/p^0 = 1/θ + ρ; producers earn zero profit (docs/model.md, Solution concepts:
  an ai producer
  then consumes nothing, utility −∞).
"""

from __future__ import annotations

import numpy as np
import pytest

from emgame import Status, solve
from oracles import cd, consumer, deviation_gain, economy, producer


def test_a_period_nobody_values_changes_nothing_else():
    """T = 3 with every weight on period 2 zero, against the same economy with T = 2: same
    relative prices on the valued periods, post 2 inactive, reported as an equilibrium."""
    e3 = economy("unvalued middle", 3, [consumer("c", 5, 1.0, cd(0.5, 0.0, 0.5))],
                 [producer("p", 3, 1.0, 0.8, cd(0.5, 0.0, 0.5), capacity=20.0)])
    e2 = economy("two periods", 2, [consumer("c", 5, 1.0, cd(0.5, 0.5))],
                 [producer("p", 3, 1.0, 0.8, cd(0.5, 0.5), capacity=20.0)])
    b = solve(e2)
    assert b.status is Status.EQUILIBRIUM, b.reason
    a = solve(e3)
    if a.profile is not None:  # whatever is reported, the candidate is an equilibrium
        for role in ("consumers", "producers"):
            g = deviation_gain(e3, a.profile, role, 0)
            assert g.gain <= 1e-7 * abs(g.current)
    assert a.status is Status.EQUILIBRIUM, a.reason
    np.testing.assert_allclose(a.relative_prices[[0, 2]], b.relative_prices, rtol=1e-9)
    assert not a.outcome.active[2]


@pytest.mark.parametrize("kind", [
    pytest.param("ai"),
    pytest.param("classic"),
])
def test_long_run_competitive_peak_load_pricing(kind):
    """6 ai buyers (ω = 1, weights 0.4, 0.6), 3 producers θ = 1, c = 1, ρ = 0.1, long run:
    p = (1/θ, 1/θ + ρ) = (1, 1.1); buyers receive a_t/p^t = (0.4, 0.6/1.1); capacity equals
    peak output (module notes)."""
    u = cd(0.5, 0.5) if kind == "ai" else cd(0.25, 0.25, goods=0.5)
    e = economy("peak load, long run", 2, [consumer("c", 6, 1.0, cd(0.4, 0.6))],
                [producer("q", 3, 1.0, 1.0, u, kind=kind, capacity=None, rho=0.1)],
                long_run=True)
    c = solve(e, "competitive")
    assert c.status is Status.EQUILIBRIUM, c.reason
    np.testing.assert_allclose(c.relative_prices, [1.0, 1.1], rtol=1e-10)
    np.testing.assert_allclose(c.outcome.consumers.electricity[0], [0.4, 0.6 / 1.1], rtol=1e-10)
    np.testing.assert_allclose(c.profile.capacity, c.profile.offers[:, 1], rtol=1e-10)
