"""Utility families (docs/model.md, Agents), vectorised over types, states and periods.

``E`` has shape ``(n, S, T)`` (electricity consumed per type, state and period) and ``x0`` shape
``(n,)`` (goods consumed; ignored for ``ai`` kinds). Expected utility is ``Σ_s π_s u(E_s, x0)``.

For best responses every family is written as a sum of one-good terms ``a_g h_γ(y)`` with
``h_γ(y) = y^{1-γ}/(1-γ)``, ``h_1 = log`` and ``h_0(y) = y`` (linear), a monotone transform of the
utility when there is one state: Cobb–Douglas is ``γ = 1``, CRRA ``γ``, CES ``γ = 1 - r``
(maximising ``Σ a y^r / r`` is maximising ``(Σ a y^r)^{1/r}``), quasilinear ``γ = 1`` on
electricity and ``γ = 0`` on goods. :func:`curvatures` gives these ``γ``.
"""

from __future__ import annotations

import math

import numpy as np

from emgame._jit import njit
from emgame.model.economy import FAMILIES, Population

CD, CRRA, CES, QUASILINEAR = (FAMILIES.index(f) for f in FAMILIES)


def curvatures(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Curvature ``γ`` of each type's one-good terms: ``(electricity, goods)``, each ``(n,)``."""
    fam = pop.family
    g_el = np.ones(len(pop))
    g_el = np.where(fam == CRRA, pop.gamma, g_el)
    g_el = np.where(fam == CES, 1.0 - pop.r, g_el)
    g_goods = np.where(fam == QUASILINEAR, 0.0, g_el)
    return g_el, g_goods


def h(y: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """One-good term ``h_γ(y)``; ``-inf`` where ``y <= 0`` and the term is unbounded below."""
    y = np.asarray(y, dtype=np.float64)
    gamma = np.broadcast_to(gamma, y.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if np.all(gamma == 1):
            return np.log(np.where(y > 0, y, 0.0))     # log 0 = -inf
        yp = np.where(y > 0, y, 0.0)
        log = np.where(y > 0, np.log(np.where(y > 0, y, 1.0)), -np.inf)
        power = np.where(
            gamma < 1, yp ** (1 - gamma) / (1 - gamma),
            np.where(y > 0, np.where(y > 0, y, 1.0) ** (1 - gamma) / (1 - gamma), -np.inf))
        out = np.where(gamma == 1, log, np.where(gamma == 0, y, power))
    return out


def h_prime(y: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """``h_γ'(y) = y^{-γ}`` (``+inf`` at ``y <= 0`` for ``γ > 0``)."""
    y = np.asarray(y, dtype=np.float64)
    gamma = np.broadcast_to(gamma, y.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if np.all(gamma == 1):
            return np.where(y > 0, 1.0 / np.where(y > 0, y, 1.0), np.inf)
        out = np.where(y > 0, np.where(y > 0, y, 1.0) ** (-gamma), np.inf)
    return np.where(gamma == 0, 1.0, out)


def weighted(a: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """``a * h`` with the convention ``0 · h = 0`` (an unvalued good never costs utility)."""
    with np.errstate(invalid="ignore"):
        return np.where(a > 0, a * terms, 0.0)


def ces_from_separable(V: np.ndarray, r: np.ndarray) -> np.ndarray:
    """CES utility ``(Σ a y^r)^{1/r} = (rV)^{1/r}`` from its separable form ``V = Σ a y^r / r``.

    With ``r > 0`` every term is finite and ``0^{1/r} = 0``: nothing consumed is utility 0, not
    ``-inf``. With ``r < 0`` a valued good at zero makes ``V = -inf``, ``rV = +inf`` and the
    utility 0; ``rV = 0`` (no valued good) gives ``+inf``, the limit.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.where(np.isfinite(r) & (r != 0), r, 1.0)
        base = r * V                                        # Σ a y^r >= 0
        return np.where(r > 0, np.where(base >= 0, np.maximum(base, 0.0) ** (1.0 / r), np.nan),
                        np.where(base > 0, np.abs(base) ** (1.0 / r), np.inf))


def utility(pop: Population, E: np.ndarray, x0: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Expected utility ``Σ_s π_s u_i(E_is, x0_i)`` of each type, shape ``(n,)``.

    ``-inf`` where some valued good is consumed at zero under a family unbounded below.
    """
    n, S, T = E.shape
    a = pop.weights[:, None, :]                        # (n, 1, T)
    a0 = np.where(pop.classic, pop.goods_weight, 0.0)  # (n,)
    g_el, g_goods = curvatures(pop)
    el = weighted(a, h(E, g_el[:, None, None])).sum(axis=2)   # (n, S)
    goods = weighted(a0, h(x0, g_goods))                       # (n,)
    V = el + goods[:, None]                                     # separable form, (n, S)
    ces = pop.family == CES
    if np.any(ces):
        V = np.where(ces[:, None], ces_from_separable(V, pop.r[:, None]), V)
    with np.errstate(invalid="ignore"):
        return np.where(np.isneginf(V).any(axis=1), -np.inf, (V * prob[None, :]).sum(axis=1))


def marginal_utility(pop: Population, E: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Shadow value of electricity ``λ_s^t = ∂u/∂E_s^t`` (not multiplied by ``π_s``),
    ``(n, S, T)``."""
    a = pop.weights[:, None, :]
    g_el, g_goods = curvatures(pop)
    with np.errstate(invalid="ignore", over="ignore"):
        mu = np.where(a > 0, a * h_prime(E, g_el[:, None, None]), 0.0)
    ces = pop.family == CES
    if np.any(ces):
        # ∂/∂E (Σ a y^r)^{1/r} = a E^{r-1} (Σ a y^r)^{1/r - 1}
        r = pop.r[:, None]
        a0 = np.where(pop.classic, pop.goods_weight, 0.0)
        el = weighted(a, h(E, g_el[:, None, None])).sum(axis=2)
        V = el + weighted(a0, h(x0, g_goods))[:, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            base = np.where(ces[:, None], r * V, 1.0)
            scale = np.where(base > 0, base ** (1.0 / np.where(ces[:, None], r, 1.0) - 1.0), 0.0)
        with np.errstate(invalid="ignore"):
            mu_ces = mu * scale[:, :, None]
        # r < 0 and E = 0: U = 0 and E^{r-1} = inf; along the good alone U ≈ a^{1/r} E, whose
        # derivative a^{1/r} is the limit.
        r3 = np.where(ces, pop.r, 1.0)[:, None, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            limit = np.where(a > 0, np.abs(a) ** (1.0 / r3), 0.0)
        # r > 0 and nothing consumed in the state (U = 0): along one good U = a^{1/r} E again.
        origin = ((r3 > 0) & (scale[:, :, None] == 0) & (E <= 0))
        mu_ces = np.where(((r3 < 0) & (E <= 0) | origin) & (a > 0), limit, mu_ces)
        mu = np.where(ces[:, None, None], mu_ces, mu)
    return mu


def goods_marginal_utility(pop: Population, E: np.ndarray, x0: np.ndarray,
                           prob: np.ndarray) -> np.ndarray:
    """Expected marginal utility of goods ``∂Eu/∂x0``, shape ``(n,)`` (zero for ``ai`` kinds)."""
    a0 = np.where(pop.classic, pop.goods_weight, 0.0)
    g_el, g_goods = curvatures(pop)
    with np.errstate(invalid="ignore", over="ignore"):
        m = np.where(a0 > 0, a0 * h_prime(x0, g_goods), 0.0)
    ces = pop.family == CES
    if np.any(ces):
        r = pop.r[:, None]
        a = pop.weights[:, None, :]
        el = weighted(a, h(E, g_el[:, None, None])).sum(axis=2)
        V = el + weighted(a0, h(x0, g_goods))[:, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            base = np.where(ces[:, None], r * V, 1.0)
            scale = np.where(base > 0, base ** (1.0 / np.where(ces[:, None], r, 1.0) - 1.0), 0.0)
            per_state = m[:, None] * scale
            # r > 0 with nothing consumed in the state: U = a0^{1/r} x0 along goods alone.
            rr = np.where(ces, pop.r, 1.0)
            limit = np.where(a0 > 0, np.abs(a0) ** (1.0 / rr), 0.0)
            origin = (rr[:, None] > 0) & (base == 0) & (np.asarray(x0)[:, None] <= 0)
            per_state = np.where(origin, limit[:, None], per_state)
        m = np.where(ces, (per_state * prob[None, :]).sum(axis=1), m)
    return m


# --------------------------------------------------------------------------------------------
# Scalar forms for compiled code (the certificate's kernels): the same definitions, one value.
# --------------------------------------------------------------------------------------------


@njit
def term(y: float, g: float) -> float:
    """``h_γ(y)``: ``y^{1-γ}/(1-γ)``, ``log y`` (γ = 1), ``y`` (γ = 0); at ``y = 0`` it is 0 for
    ``γ < 1`` and ``-inf`` otherwise; ``-inf`` below 0 (infeasible)."""
    if g == 0.0:
        return y
    if y <= 0.0:
        if y == 0.0 and g < 1.0:
            return 0.0
        return -np.inf
    if g == 1.0:
        return math.log(y)
    return y ** (1.0 - g) / (1.0 - g)


@njit
def term_slope(y: float, g: float) -> float:
    """``h_γ'(y) = y^{-γ}`` (``+inf`` at ``y <= 0`` for ``γ > 0``)."""
    if g == 0.0:
        return 1.0
    if y <= 0.0:
        return np.inf
    return y ** (-g)


@njit
def term_curvature(y: float, g: float) -> float:
    """``h_γ''(y) = -γ y^{-γ-1}`` (``-inf`` at ``y <= 0`` for ``γ > 0``)."""
    if g == 0.0:
        return 0.0
    if y <= 0.0:
        return -np.inf
    return -g * y ** (-g - 1.0)
