"""The Nash solver's time limit (``NashOptions.max_seconds``) is honoured inside Newton's
method too, not only between starts: a solve that runs out of time says so and is never
reported as an equilibrium."""

from __future__ import annotations

import numpy as np

from emgame import Status, solve
from emgame._numerics import clock
from emgame.solve import Options
from emgame.solvers._newton import newton
from emgame.solvers.nash import NashOptions
from oracles import CATALOGUE


def test_newton_stops_at_its_deadline():
    """A residual that needs many steps, with a deadline already past: not converged, and
    the message names the time limit; without the deadline the same call converges."""
    def fun(y, want_jac):
        F = np.array([np.tanh(y[0] - 3.0)])  # Newton on tanh from far away: many damped steps
        J = np.array([[1.0 - np.tanh(y[0] - 3.0) ** 2]]) if want_jac else None
        return F, J

    late = newton(fun, np.array([0.0]), deadline=clock() - 1.0)
    assert not late.converged and late.message == "time limit reached"
    free = newton(fun, np.array([0.0]))
    assert free.converged and abs(free.y[0] - 3.0) < 1e-10


def test_nash_out_of_time_says_so():
    """With no time at all, the Nash solver gives up with the reason, and no equilibrium."""
    e = CATALOGUE["ai-cd"]
    s = solve(e, options=Options(nash=NashOptions(max_seconds=0.0)))
    assert s.status is Status.NO_EQUILIBRIUM and not s.ok
    assert "time limit" in s.reason
    assert solve(e).ok  # the same economy with the default limit
