"""Storage operators in the solvers (docs/model.md, "Storage").

Facts checked:
- Competitive: a price-taking battery at none of its limits between a period it charges in and
  one it discharges in equalises their prices up to its losses,
  p^d = p^c / (η_c η_d (1 − κ)) (lossless and free: equal prices). The relation is the model's
  (a price taker's marginal condition), not emgame's output.
- Nash: an operator with market power keeps a larger gap; replicating the operators (k times
  as many, each 1/k the size, so the total battery is fixed) shrinks the gap monotonically
  towards the price-taking relation.
- The certificate passes (its regret for an operator is a computed weak-duality bound), and
  the battery's state of charge is feasible and cyclic.
"""

from __future__ import annotations

import numpy as np
import pytest

from emgame import ConsumerType, Economy, ProducerType, Status, Utility, solve
from emgame.model.economy import StorageType

PROFIT = Utility("quasilinear", (0.0, 0.0), goods_weight=1.0)


def _day(count: int = 1, size: float = 1.0, eta: float = 1.0, kappa: float = 0.0,
         S: float = 0.6, G: float = 0.3) -> Economy:
    """Two periods: a sunny one (cheap solar) and a dark one (dearer gas only); data centres
    value both; one battery type of ``count`` operators, each ``size`` of (S, G)."""
    return Economy.build(
        name="battery day", periods=2, period_labels=("day", "night"),
        verification=(0.0, kappa),
        consumers=[ConsumerType("dc", 10, 1.0, Utility("cobb_douglas", (0.5, 0.5)))],
        producers=[ProducerType("solar", 6, 4.0, 0.9, PROFIT, kind="classic",
                                capacity=(1.0, 0.0)),
                   ProducerType("gas", 4, 1.2, 0.6, PROFIT, kind="classic", capacity=3.0)],
        storage=[StorageType("battery", count, S * size, G * size,
                             Utility("quasilinear", (0.0, 0.0), goods_weight=1.0),
                             kind="classic", charge_efficiency=eta, discharge_efficiency=eta)])


def _net(sol):
    d = sol.to_dict()
    (row,) = d["storage"]
    return np.asarray(row["offers"]) - np.asarray(row["electricity"]), row


@pytest.mark.parametrize("eta,kappa", [(1.0, 0.0), (0.9, 0.0), (0.95, 0.05)])
def test_competitive_storage_equalises_prices_up_to_losses(eta, kappa):
    """Charge by day, discharge at night, battery within its limits: the night's price is the
    day's over η_c η_d (1 − κ)."""
    e = _day(eta=eta, kappa=kappa, S=10.0, G=5.0)   # a battery too big to bind
    s = solve(e, "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.certificate.passed
    net, row = _net(s)
    assert net[0] < 0 < net[1], net        # charges by day, discharges at night
    assert max(abs(net[0]), net[1]) < 5.0 * (1 - 1e-6)   # below the power limit
    r = s.relative_prices
    np.testing.assert_allclose(r[1], r[0] / (eta * eta * (1 - kappa)), rtol=1e-8)
    soc = np.asarray(row["state_of_charge"])
    assert soc.min() == pytest.approx(0.0, abs=1e-12) and soc.max() < 10.0


def test_competitive_storage_at_its_power_limit_leaves_the_inequality():
    """A small battery runs at its power limit: then p^d > p^c / (η_c η_d) strictly."""
    e = _day(eta=0.95, S=0.6, G=0.05)
    s = solve(e, "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    net, row = _net(s)
    # The charge y = x (no κ) is at G by day; the night gets η_c η_d G.
    np.testing.assert_allclose(row["charge"][0], 0.05, rtol=1e-9)
    np.testing.assert_allclose(net, [-0.05, 0.05 * 0.95 ** 2], rtol=1e-9)
    r = s.relative_prices
    assert r[1] > r[0] / 0.95 ** 2 * (1 + 1e-6)


def test_nash_gap_shrinks_as_operators_are_replicated():
    """k operators of size 1/k (k = 1, 2, 4, 8): the Nash ratio p^night/p^day falls with k,
    stays above the price-taking relation 1/(η_c η_d), and the gap to it shrinks towards 0
    (each halving of an operator's size about halves its market power)."""
    eta = 0.95
    target = 1.0 / eta ** 2
    gaps = []
    for k in (1, 2, 4, 8):
        e = _day(count=k, size=1.0 / k, eta=eta, S=10.0, G=5.0)
        s = solve(e, "nash")
        assert s.status is Status.EQUILIBRIUM, (k, s.reason)
        assert s.certificate.passed
        r = s.relative_prices
        gaps.append(r[1] / r[0] - target)
    gaps = np.array(gaps)
    assert np.all(gaps > 0), gaps
    assert np.all(np.diff(gaps) < 0), gaps
    assert gaps[-1] < 0.35 * gaps[0], gaps


def test_nash_storage_profile_is_feasible_and_certified():
    """The operator's schedule: within its power, state of charge in [0, S] and cyclic (the
    market rules give it a finite utility), and the certificate's bound for it was computed."""
    e = _day(S=0.6, G=0.3, eta=0.95, kappa=0.01)
    s = solve(e, "nash")
    assert s.status is Status.EQUILIBRIUM, s.reason
    out = s.outcome
    assert np.isfinite(out.storage.utility).all()
    assert (out.storage.state_of_charge <= 0.6 * (1 + 1e-9)).all()
    cert = s.certificate
    assert cert.storage_regret.shape == (1,)
    assert np.isfinite(cert.storage_regret).all()
    assert not cert.storage_inconclusive.any()
