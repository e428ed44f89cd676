"""The iteration loop every solver shares: Newton's method with a backtracking line search.

Solves ``F(y) = 0`` for a residual ``F`` scaled so that its entries are relative errors (with
more equations than unknowns, a consistent system, each step is Gauss–Newton's). Stops
when ``max |F| <= atol`` (the residuals are already relative, so no ``rtol``); fails when the
line search cannot reduce ``½‖F‖²`` or after ``max_iter`` steps.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emgame._numerics import clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewtonResult:
    y: np.ndarray
    residual: float
    converged: bool
    iterations: int
    evaluations: int
    message: str


def newton(fun: Callable[[np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]],
           y0: np.ndarray, *, atol: float = 1e-12, max_iter: int = 60,
           max_step: float = 2.0, stall_tol: float = 1e-9,
           deadline: float = math.inf, max_undefined: int | None = None) -> NewtonResult:
    """Damped Newton on ``fun(y, want_jacobian) -> (F, J)``.

    Steps are capped at ``max_step`` in the sup norm (the unknowns are logarithms, so a cap of 2
    moves a price by at most a factor e²) and halved until ``½‖F‖²`` falls (Armijo, 1e-4).
    When rounding in ``F`` stops progress below ``stall_tol``, the iterate is returned as
    converged (the certificate, not this loop, decides whether it is an equilibrium). A trial
    point where ``F`` is not finite (e.g. some type has no response there) is a failed trial;
    after ``max_undefined`` of them in a row (``None``: no limit) the step fails (each may be
    costly). Past
    ``deadline`` (a :func:`emgame._numerics.clock` time, which leaves out compilation) it stops,
    not converged.
    """
    y = np.array(y0, dtype=np.float64)
    F, J = fun(y, True)
    evaluations = 1
    f = 0.5 * float(F @ F)
    for it in range(1, max_iter + 1):
        res = float(np.max(np.abs(F))) if F.size else 0.0
        if not np.isfinite(res):
            return NewtonResult(y, res, False, it - 1, evaluations, "residual is not finite")
        if res <= atol:
            return NewtonResult(y, res, True, it - 1, evaluations, "converged")
        if clock() > deadline:
            return NewtonResult(y, res, False, it - 1, evaluations, "time limit reached")
        assert J is not None
        if not np.all(np.isfinite(J)):
            return NewtonResult(y, res, False, it - 1, evaluations, "Jacobian is not finite")
        step = None
        if J.shape[0] == J.shape[1]:
            try:
                step = np.linalg.solve(J, -F)
            except np.linalg.LinAlgError:
                step = None
        if step is None:
            # Over-determined (a redundant equation kept as a guard) or singular: Gauss–Newton.
            step = np.linalg.lstsq(J, -F, rcond=None)[0]
        if not np.all(np.isfinite(step)):
            return NewtonResult(y, res, False, it - 1, evaluations, "singular Jacobian")
        big = float(np.max(np.abs(step))) if step.size else 0.0
        if big > max_step:
            step *= max_step / big
        slope = float(F @ (J @ step))
        t = 1.0
        undefined = 0
        while True:
            y_new = y + t * step
            F_new, _ = fun(y_new, False)
            evaluations += 1
            f_new = 0.5 * float(F_new @ F_new)
            if np.isfinite(f_new) and (f_new <= f + 1e-4 * t * min(slope, 0.0) or
                                       float(np.max(np.abs(F_new))) <= atol):
                break
            undefined = 0 if np.isfinite(f_new) else undefined + 1
            if max_undefined is not None and undefined >= max_undefined:
                fun(y, False)   # leave the warm starts at y
                return NewtonResult(y, res, False, it, evaluations,
                                    "the residual is undefined along the step (some type has "
                                    "no response there)")
            t *= 0.5
            if clock() > deadline:
                return NewtonResult(y, res, False, it, evaluations, "time limit reached")
            if t < 1e-12:
                if res <= stall_tol:
                    return NewtonResult(y, res, True, it, evaluations,
                                        "converged to rounding error")
                return NewtonResult(y, res, False, it, evaluations,
                                    "line search failed to reduce the residual")
        y = y_new
        F, J = fun(y, True)
        evaluations += 1
        f = 0.5 * float(F @ F)
        log.debug("newton %d: |F| = %.3e, step %.3e (t = %g)", it, np.max(np.abs(F)), big, t)
    res = float(np.max(np.abs(F))) if F.size else 0.0
    if res <= atol:
        return NewtonResult(y, res, True, max_iter, evaluations, "converged")
    if res <= stall_tol:
        return NewtonResult(y, res, True, max_iter, evaluations, "converged to rounding error")
    return NewtonResult(y, res, False, max_iter, evaluations,
                        f"not converged after {max_iter} steps")
