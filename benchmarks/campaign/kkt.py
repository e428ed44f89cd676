"""First-order conditions of one agent's problem on a fixed participation pattern, as residuals.

For an agent maximising ``f(z)`` subject to ``g(z) >= 0`` and bounds ``lo <= z <= hi`` (scaled
variables of :class:`agent.Agent`), the Karush–Kuhn–Tucker conditions with multipliers
``μ >= 0`` are written as a system of equations that is zero exactly at a KKT point:

* stationarity on the box, by the natural residual ``z - clip(z + ∇f + Jᵀμ, lo, hi)``;
* complementarity of every constraint by the Fischer–Burmeister function
  ``g + μ - sqrt(g² + μ²)`` (zero iff ``g >= 0``, ``μ >= 0``, ``gμ = 0``).

Stacking these for one agent of every type (each facing the totals of the profile the stacked
variables describe) gives the equilibrium conditions that :mod:`nash` and :mod:`competitive`
polish with ``scipy.optimize.least_squares``. On a fixed pattern a consumer's problem is concave
and the conditions are sufficient; elsewhere they are only necessary, which is why every
answer is then checked globally by :mod:`check`.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import least_squares, nnls

from .agent import Agent


def fischer_burmeister(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a + b - np.sqrt(a * a + b * b)


def scaled_point(a: Agent, pattern: tuple[int, ...], z: np.ndarray):
    """``(G, g, J, vals)``: objective gradient, constraints and their Jacobian, scaled."""
    lo, hi = a.bounds(pattern)
    zc = np.clip(z, lo, hi)
    b, q, K = a.unpack(zc, pattern)
    pt, vals = a.point(b, q, K, pattern)
    nb = len(pattern)
    dz = np.concatenate([np.full(nb, a.money), np.full(len(z) - nb, a.supply)])
    gs = a._gscales(pattern)
    return pt.grad * dz, pt.g / gs, pt.jac * dz[None, :] / gs[:, None], vals


def residual(a: Agent, pattern: tuple[int, ...], x: np.ndarray, mu: np.ndarray,
             fscale: float) -> np.ndarray:
    """The KKT residual of one agent (see the module notes); ``x`` holds the logs of the
    pattern's bids (positive by definition of the pattern), then the other variables.

    In log variables the bids' stationarity reads ``z ∂L/∂z = 0``: a post the agent values
    little has a small bid and a large curvature ``∂²L/∂z²``, and the product keeps that row
    of the Jacobian of the order of the agent's weight on the post instead of its inverse.
    """
    z = to_z(x, len(pattern))
    lo, hi = a.bounds(pattern)
    G, g, J, _ = scaled_point(a, pattern, z)
    gradL = G / fscale + J.T @ mu
    nb = len(pattern)
    r1 = np.concatenate([z[:nb] * gradL[:nb],
                         z[nb:] - np.clip(z[nb:] + gradL[nb:], lo[nb:], hi[nb:])])
    r2 = fischer_burmeister(g, mu)
    return np.concatenate([r1, r2])


def to_z(x: np.ndarray, nb: int) -> np.ndarray:
    """Scaled variables from ``x`` (logs of the first ``nb``)."""
    return np.concatenate([np.exp(np.clip(x[:nb], -700, 700)), x[nb:]])


def to_x(z: np.ndarray, nb: int) -> np.ndarray:
    """The inverse of :func:`to_z` (bids floored at a tiny positive value)."""
    return np.concatenate([np.log(np.maximum(z[:nb], 1e-300)), z[nb:]])


def initial_multipliers(a: Agent, pattern: tuple[int, ...], z: np.ndarray,
                        fscale: float) -> np.ndarray:
    """Multipliers that best satisfy stationarity at ``z`` (non-negative least squares over the
    constraints that nearly bind, on the variables off their bounds)."""
    lo, hi = a.bounds(pattern)
    G, g, J, _ = scaled_point(a, pattern, z)
    mu = np.zeros(len(g))
    free = (z > lo + 1e-9) & (z < hi - 1e-9)
    near = g < 1e-4
    if not np.any(near) or not np.any(free):
        return mu
    A = J[near][:, free].T
    rhs = -(G / fscale)[free]
    try:
        sol, _ = nnls(A, rhs)
    except (RuntimeError, ValueError):
        return mu
    mu[near] = sol
    return mu


def objective_scale(a: Agent, pattern: tuple[int, ...], z: np.ndarray) -> float:
    G, _, _, _ = scaled_point(a, pattern, z)
    s = float(np.max(np.abs(G), initial=0.0))
    return s if np.isfinite(s) and s > 0 else 1.0


def grouped_jacobian(fun, x: np.ndarray, f0: np.ndarray, mu_cols: list[list[int]],
                     mu_rows: list[np.ndarray]) -> np.ndarray:
    """Forward-difference Jacobian of a stacked system in which type ``i``'s multipliers
    (columns ``mu_cols[i]``) enter only its own rows (``mu_rows[i]``): the ``k``-th multiplier
    of every type is perturbed at once, every other column alone (Curtis–Powell–Reid)."""
    n = x.size
    J = np.zeros((f0.size, n))
    in_mu = np.zeros(n, bool)
    for cols in mu_cols:
        in_mu[cols] = True
    h = 1e-8 * np.maximum(1.0, np.abs(x))
    for j in np.flatnonzero(~in_mu):
        xp = x.copy()
        xp[j] += h[j]
        J[:, j] = (fun(xp) - f0) / h[j]
    depth = max((len(c) for c in mu_cols), default=0)
    for k in range(depth):
        xp = x.copy()
        group = [(cols[k], rows) for cols, rows in zip(mu_cols, mu_rows, strict=True)
                 if len(cols) > k]
        for j, _ in group:
            xp[j] += h[j]
        df = fun(xp) - f0
        for j, rows in group:
            J[rows, j] = df[rows] / h[j]
    return J


def solve_stack(st, budget: float, max_nfev: int, **options):
    """Least squares on a stacked KKT system ``st`` (its ``residual``, ``x0`` and multiplier
    columns/rows) within ``budget`` seconds; ``None`` when it runs out of time or fails."""
    t0 = time.perf_counter()

    def fun(x):
        if time.perf_counter() - t0 > budget:
            raise TimeoutError
        return st.residual(x)

    def jac(x):
        return grouped_jacobian(fun, x, fun(x), st.mu_cols, st.mu_rows)

    try:
        return least_squares(fun, st.x0, jac=jac, method="trf", xtol=1e-15, ftol=1e-15,
                             gtol=1e-15, max_nfev=max_nfev, **options)
    except (TimeoutError, ValueError, np.linalg.LinAlgError):
        return None
