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

import numpy as np
from scipy.optimize import nnls

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


def residual(a: Agent, pattern: tuple[int, ...], z: np.ndarray, mu: np.ndarray,
             fscale: float) -> np.ndarray:
    """The KKT residual of one agent (see the module notes)."""
    lo, hi = a.bounds(pattern)
    G, g, J, _ = scaled_point(a, pattern, z)
    gradL = G / fscale + J.T @ mu
    r1 = z - np.clip(z + gradL, lo, hi)
    r2 = fischer_burmeister(g, mu)
    return np.concatenate([r1, r2])


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
