"""The shared Newton loop (emgame.solvers._newton) where the residual is undefined at some
trial points: a type without a response there (docs/model.md, Solution concepts: the aggregate
system is each type's response to the totals) makes the residual NaN, and the line search
must back off rather than step there, and give up after a few such trials."""

from __future__ import annotations

import numpy as np

from emgame.solvers._newton import newton


def _bumpy(y, want_jac):
    """F(y) = atan(y - 0.5): root 0.5; undefined (NaN) for y > 1.2, where a full Newton step
    from y = -2 lands (atan is flat far away, so the step overshoots)."""
    F = np.array([np.arctan(y[0] - 0.5)])
    if y[0] > 1.2:
        F = np.full(1, np.nan)
    J = np.array([[1.0 / (1.0 + (y[0] - 0.5) ** 2)]]) if want_jac else None
    return F, J


def test_newton_backs_off_from_undefined_points():
    """From y = -2 the first Newton step overshoots into the undefined region; the line search
    halves it back into the defined one and Newton converges to the root (known: 0.5)."""
    r = newton(_bumpy, np.array([-2.0]), max_step=10.0)
    assert r.converged and abs(r.y[0] - 0.5) < 1e-12


def test_newton_gives_up_after_a_few_undefined_trials():
    """Where every trial point is undefined, the step fails after ``max_undefined`` trials
    (each may cost a search for a response that does not exist), saying why."""
    calls = []

    def fun(y, want_jac):
        calls.append(float(y[0]))
        if len(calls) == 1:
            return np.array([1.0]), np.array([[1.0]])
        return np.full(1, np.nan), None

    r = newton(fun, np.array([0.0]), max_undefined=4)
    assert not r.converged and "undefined" in r.message
    assert len(calls) <= 1 + 4 + 1   # the start, four trials, the start again (warm starts)
