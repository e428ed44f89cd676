"""The solvers' own one-good terms, technology and purchase condition (numba).

Utility is a sum of terms ``a h_γ(y)`` (:mod:`emgame.market.utility`, the reference definitions,
which these are tested against); ``φ(q) = (q/θ)^{1/c}`` is the goods input of an offer ``q``.
``MU(x) = a Σ_s w_s (1-κ_s) h'((1-κ_s) x - F_s)`` is the expected marginal utility of electricity
bought on a post, net of its verification ``F_s`` (docs/model.md, The crypto layer), with state
weights
``w_s``.
"""

from __future__ import annotations

import math

from emgame._jit import njit

INF = math.inf
MAXIT = 100


@njit
def h(y, g):
    """``h_γ(y)``: ``y^{1-γ}/(1-γ)``, ``log y`` (γ = 1), ``y`` (γ = 0)."""
    if g == 0.0:
        return y
    if y <= 0.0:
        if y == 0.0 and g < 1.0:
            return 0.0
        return -INF
    if g == 1.0:
        return math.log(y)
    return y ** (1.0 - g) / (1.0 - g)


@njit
def h1(y, g):
    """``h_γ'(y) = y^{-γ}``."""
    if g == 0.0:
        return 1.0
    if y <= 0.0:
        return INF
    return y ** (-g)


@njit
def h2(y, g):
    """``h_γ''(y) = -γ y^{-γ-1}``."""
    if g == 0.0:
        return 0.0
    if y <= 0.0:
        return -INF
    return -g * y ** (-g - 1.0)


@njit
def phi(q, theta, c):
    """Goods input ``φ(q) = (q/θ)^{1/c}``."""
    return (q / theta) ** (1.0 / c) if q > 0.0 else 0.0


@njit
def phi1(q, theta, c):
    """Marginal cost in goods ``φ'(q)``."""
    if c == 1.0:
        return 1.0 / theta
    if q <= 0.0:
        return 0.0 if c < 1.0 else INF
    return (1.0 / (c * theta)) * (q / theta) ** (1.0 / c - 1.0)


@njit
def phi2(q, theta, c):
    """``φ''(q)``."""
    if c == 1.0 or q <= 0.0:
        return 0.0
    return (1.0 / (c * theta * theta)) * (1.0 / c - 1.0) * (q / theta) ** (1.0 / c - 2.0)


@njit
def x_floor(kappa, F):
    """Least ``x`` with ``E_s = (1-κ_s) x - F_s >= 0`` in every state."""
    lo = 0.0
    for s in range(kappa.size):
        if F[s] > 0.0:
            lo = max(lo, F[s] / (1.0 - kappa[s]))
    return lo


@njit
def mu_el(x, a, g, w, kappa, F):
    """``MU(x)`` and its derivative."""
    m = 0.0
    d = 0.0
    for s in range(w.size):
        k = 1.0 - kappa[s]
        E = k * x - F[s]
        m += w[s] * a * k * h1(E, g)
        d += w[s] * a * k * k * h2(E, g)
    return m, d


@njit
def fixed_burn(v, t, t0, pays_goods, F):
    """``F_s`` of post ``t``: its own fixed verification, plus the goods post's in the goods
    settlement period ``t0`` when the type pays on the goods post (written into ``F``)."""
    for s in range(F.size):
        F[s] = v[s, t] + (v[s, 0] if (t == t0 and pays_goods) else 0.0)
    return F


@njit
def _simple(kappa, F):
    for s in range(kappa.size):
        if F[s] != 0.0 or kappa[s] != 0.0:
            return False
    return True


@njit
def solve_x(R, a, g, w, kappa, F, tau, Q, hint):
    """Solve the purchase condition ``MU(x)(1 - τx/Q) = R`` for ``x`` in ``(x_floor, Q/τ)``;
    returns ``(x, f'(x))``.

    The left side falls from ``+inf`` to ``0``: one root, found by Newton safeguarded by
    bisection. ``f' = MU'(1-τx/Q) - τ MU/Q`` is returned for the implicit derivatives.
    """
    xlo = x_floor(kappa, F)
    if a <= 0.0:
        return xlo, -INF
    hi = Q / tau if tau > 0.0 else INF
    if g == 1.0 and _simple(kappa, F):
        # Cobb–Douglas without verification: a (1 - τx/Q)/x = R.
        x = a / (R + a * tau / Q) if tau > 0.0 else a / R
        m = a / x
        return x, -a / (x * x) * (1.0 - tau * x / Q) - tau * m / Q
    lo = xlo
    if hi == INF:
        hi = max(2.0 * xlo, hint, 1e-300)
        for _ in range(2100):
            m, _ = mu_el(hi, a, g, w, kappa, F)
            if m < R:
                break
            lo = hi
            hi *= 2.0
    x = hint if (hint > lo and hint < hi) else (lo + 0.5 * (hi - lo))
    for _ in range(MAXIT * 2):
        m, d = mu_el(x, a, g, w, kappa, F)
        f = m * (1.0 - tau * x / Q) - R
        fp = d * (1.0 - tau * x / Q) - tau * m / Q
        if f > 0.0:
            lo = x
        else:
            hi = x
        xn = x - f / fp if fp < 0.0 else -1.0
        if not (xn > lo and xn < hi):
            if lo > xlo and hi > 8.0 * (lo - xlo) + xlo:
                xn = xlo + math.sqrt((lo - xlo) * (hi - xlo))
            elif lo == xlo and x - xlo > 1e-6 * (hi - xlo):
                xn = xlo + 0.25 * (x - xlo)
            else:
                xn = 0.5 * (lo + hi)
        if abs(xn - x) <= 4e-16 * abs(x) or hi - lo <= 4e-16 * hi:
            x = xn
            break
        x = xn
    m, d = mu_el(x, a, g, w, kappa, F)
    fp = d * (1.0 - tau * x / Q) - tau * m / Q
    return x, fp
