"""Nash equilibria checked by an independent best response (docs/model.md, Solution concepts).

At a Nash equilibrium no agent gains by deviating alone. The check here does not use the solver's
equations or the certificate: :func:`oracles.deviation_gain` maximises one agent's payoff with
scipy's SLSQP (multi-start) against the others' totals of :func:`emgame.market.others_totals`,
scoring with :func:`emgame.market.play`. Every gain it reports is attained at a point the market
rules find feasible, so a gain above rounding means the profile is not an equilibrium.

Tolerance: SLSQP resolves a smooth optimum to ~1e-10 of the payoff and its answers are kept
1e-10 (relative) inside the constraints, so 1e-7·|U| is far above its noise and far below the
gains of the perturbations below (>= 1e-4·|U|, measured by the same check).
"""

from __future__ import annotations

import numpy as np
import pytest

from emgame import Status
from emgame.market import evaluate
from oracles import CATALOGUE, deviation_gain, perturbed, solved

NAMES = list(CATALOGUE)


def _types(e):
    return [(role, i) for role, pop in (("consumers", e.consumers),
                                        ("producers", e.producers)) for i in range(len(pop))]


@pytest.mark.parametrize("name", NAMES)
def test_solver_reports_an_equilibrium(name):
    """Every economy of the catalogue has an active Nash equilibrium (they are built for it:
    several sellers per post, at least two agents per goods seller): the solver must report
    one, with a passing certificate and every valued post trading."""
    s = solved(name)
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.certificate.passed
    valued = np.zeros(s.economy.periods, bool)
    for pop in (s.economy.consumers, s.economy.producers):
        valued |= (pop.weights > 0).any(axis=0)
    assert np.all(s.outcome.active[1:][valued])
    assert s.outcome.prices[0] == pytest.approx(1.0, rel=1e-12)  # normalisation p^0 = 1


@pytest.mark.parametrize("name", NAMES)
def test_no_agent_gains_by_deviating_at_nash(name):
    """Independent best response (SLSQP, 4 starts) against the others' totals: no type's agent
    finds a gain above 1e-7·|U| at the reported equilibrium (ai and classic; all four utility
    families; short and long run; c < 1 and c = 1; binding capacity; costly verification)."""
    s = solved(name)
    assert s.ok, s.reason
    e = s.economy
    for role, i in _types(e):
        g = deviation_gain(e, s.profile, role, i, seed=i)
        assert np.isfinite(g.current)
        assert g.gain <= 1e-7 * abs(g.current), (role, i, g.gain, g.current, g.strategy)


@pytest.mark.parametrize("name", NAMES)
def test_the_check_finds_the_gain_of_a_perturbed_profile(name):
    """The same check must be able to fail: move one type's bids 1% off the equilibrium
    (feasibly for it, :func:`oracles.perturbed`) and it finds a gain above 1e-7·|U| for that
    type."""
    s = solved(name)
    assert s.ok, s.reason
    e = s.economy
    for role, i in _types(e):
        prof = perturbed(s.profile, role, i, 1e-2, seed=i)
        play = getattr(evaluate(e, prof), role)
        assert play.slack[i] >= -1e-12 * play.revenue[i] and np.isfinite(play.utility[i])
        g = deviation_gain(e, prof, role, i, seed=i)
        assert g.gain > 1e-7 * abs(g.current), (role, i, g.gain, g.current)
