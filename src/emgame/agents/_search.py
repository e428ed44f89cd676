"""Minimising the dual over its multipliers, for every type at once (numba).

Any multiplier gives a bound; minimising only tightens it. The dual is convex in ``(λ, ν)``, so
its minimum is where its Danskin derivatives (the budget and goods slacks) change sign: the
searches bracket that change in ``log λ`` (and, inside, ``log ν``) and close it by the Illinois
method (:mod:`emgame._numerics`), keeping the least value found. A search stops as soon as
the value is at or below the type's target (it cannot gain), or, in a box of offers (which is
split unless under the target), as soon as its least value is surely above it; it never
extrapolates: where the multiplier runs past ``e^±700`` the least value found is the bound,
and nothing more is claimed.

Non-concave one-dimensional pieces are searched quickly while the multipliers are searched;
at the best multipliers found the dual is evaluated once more with every such piece bounded by
branch and bound (``prove``), and that value is the bound.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import prange

from emgame._jit import njit, unliteral
from emgame._numerics import bracket, illinois, objective, past, value
from emgame.agents._dual import consumer_dual, producer_dual

INF = math.inf
LIMIT = 700.0


class Best(NamedTuple):
    """The search's state for one type: ``val = [least D, its log λ, its log ν, K, last log ν,
    evaluations, 1 if stopped by the deadline, then (log λ, D, slope) at the bracket's left
    and right ends]`` and the maximiser at the least value (``x``, ``q``, ``paid``)."""

    val: np.ndarray
    x: np.ndarray
    q: np.ndarray
    paid: np.ndarray


@njit
def _out_of_time(best, se, i):
    """Count an evaluation; every 8th, check the deadline (the search then stops where it is:
    any multiplier gives a bound, the least found stands, marked not exact)."""
    best.val[5] += 1.0
    if best.val[6] == 0.0 and best.val[5] % 8.0 == 0.0 and past(se.deadline[i]):
        best.val[6] = 1.0
    return best.val[6] != 0.0


@njit
def _new_best(T):
    return Best(np.array([INF, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -INF, INF, 0.0, INF, INF, 0.0]),
                np.zeros(T + 1), np.zeros(T + 1), np.zeros(T + 1, dtype=np.bool_))


@njit
def _out_of_reach(b, y, D, g, target):
    """Whether the least ``D`` over ``λ`` is surely above ``target``, from the bracket's ends
    (``g = dD/d log λ``): ``D`` is convex in ``λ``, so above the tangents at both ends. A box
    of offers so bounded is split whatever its exact least value: its search stops there (the
    least value found is still a bound)."""
    if not (D < INF) or target == -INF:
        return False
    if g < 0.0 and y > b.val[7]:
        b.val[7], b.val[8], b.val[9] = y, D, g
    elif g > 0.0 and y < b.val[10]:
        b.val[10], b.val[11], b.val[12] = y, D, g
    if b.val[7] == -INF or b.val[10] == INF:
        return False
    lam_l, lam_r = math.exp(b.val[7]), math.exp(b.val[10])
    s_l, s_r = b.val[9] / lam_l, b.val[12] / lam_r   # dD/dλ
    at = (b.val[11] - b.val[8] + s_l * lam_l - s_r * lam_r) / (s_l - s_r)
    low = b.val[8] + s_l * (at - lam_l)
    return low > target + 1e-12 * abs(target)


# --------------------------------------------------------------------------------------------
# Consumers: one multiplier.
# --------------------------------------------------------------------------------------------


class ConsumerSearch(NamedTuple):
    i: int
    ty: tuple
    ru: tuple
    fa: tuple
    se: tuple
    best: Best


@objective(ConsumerSearch)
@njit
def _consumer_slope(y, cs):
    """``dD/d log λ`` (increasing), keeping the least ``D``; 0 (stop) once at the target."""
    T = cs.ty.a.shape[1]
    x = np.zeros(T + 1)
    paid = np.zeros(T + 1, dtype=np.bool_)
    if _out_of_time(cs.best, cs.se, cs.i):
        return 0.0
    lam = math.exp(y)
    D, slack = consumer_dual(lam, cs.i, cs.ty, cs.ru, cs.fa, cs.se, x, paid)
    b = cs.best
    if D < b.val[0]:
        b.val[0] = D
        b.val[1] = y
        b.x[:] = x
        b.paid[:] = paid
    if b.val[0] <= cs.se.target[cs.i]:
        return 0.0
    if D == INF:
        return -1.0   # unbounded: λ too small
    g = lam * slack
    return g if g == g else -1.0


@njit
def _search_lambda(problem, y0, target, best):
    """Root of the dual's slope in ``y = log λ`` from ``y0`` (bracket, then Illinois), pursued
    only while the best bound found is still above ``target``."""
    f0 = value(y0, problem)
    a, fa_, b, fb, found = bracket(problem, y0, f0, 0.25, -LIMIT, LIMIT, 200)
    if found and best.val[0] > target:
        illinois(problem, a, fa_, b, fb, 1e-13, 100)


@njit
def _consumer_one(i, ty, ru, fa, se, best):
    _search_lambda(ConsumerSearch(i, ty, ru, fa, se, best), math.log(se.lam0[i]),
                   se.target[i], best)


@njit
def _consumer_type(i, ty, ru, fa, se, D_out, lam_out, x_out, paid_out, exact):
    """:func:`consumer_bounds` for type ``i``. Where the search starts (a solver's multiplier)
    usually settles the type at once, so that first evaluation is made here, without the
    search's records."""
    D, _ = consumer_dual(se.lam0[i], i, ty, ru, fa, se, x_out[i], paid_out[i])
    if D <= se.target[i]:
        D_out[i] = D
        lam_out[i] = se.lam0[i]
        exact[i] = True
        return
    best = _new_best(ty.a.shape[1])
    _consumer_one(i, ty, ru, fa, se, best)
    D_out[i] = best.val[0]
    lam_out[i] = math.exp(best.val[1])
    x_out[i, :] = best.x
    paid_out[i, :] = best.paid
    exact[i] = best.val[6] == 0.0


@njit(parallel=True)
def consumer_bounds(ty, ru, fa, se, out):
    """For every consumer type, ``min_λ D(λ)`` into ``out`` (:class:`~emgame.agents._records.
    Bounds`); the search stops early once ``D <= target``."""
    n = ty.a.shape[0]
    # (Writes go through local names: numba's parallel loops drop writes made through a
    # tuple's attributes.)
    D_out, lam_out, x_out, paid_out, exact = out.D, out.lam, out.x, out.paid, out.exact
    for i in prange(n):
        # (prange's index is unsigned; cast to the signed index other callers pass, the
        # kernels below compile once.)
        _consumer_type(np.int64(i), ty, ru, fa, se, D_out, lam_out, x_out, paid_out, exact)


# --------------------------------------------------------------------------------------------
# Producers: λ outside, ν inside.
# --------------------------------------------------------------------------------------------


class NuSearch(NamedTuple):
    lam: float
    i: int
    ty: tuple
    ru: tuple
    fa: tuple
    se: tuple
    prove: bool
    inner: Best
    slope: np.ndarray


@objective(NuSearch)
@njit
def _nu_slope(z, ns):
    """``dD/d log ν`` at fixed ``λ`` (the goods slack, increasing), keeping the least ``D``
    over ``ν`` and the ``λ``-slope there."""
    if _out_of_time(ns.inner, ns.se, ns.i) and ns.inner.val[0] < INF:
        return 0.0
    T = ns.ty.a.shape[1]
    out = (np.zeros(T + 1), np.zeros(T + 1), np.zeros(T + 1, dtype=np.bool_))
    nu = math.exp(z)
    D, d_lam, d_nu, K, closed = producer_dual(ns.lam, nu, ns.i, ns.ty, ns.ru, ns.fa, ns.se,
                                              ns.prove, out)
    b = ns.inner
    if D < b.val[0]:
        b.val[0] = D
        b.val[2] = z
        b.val[3] = K
        b.x[:] = out[0]
        b.q[:] = out[1]
        b.paid[:] = out[2]
        ns.slope[0] = d_lam
    if b.val[0] <= ns.se.target[ns.i]:
        return 0.0
    if D == INF:
        return -1.0   # ν too small: goods worth more than they cost
    g = nu * d_nu
    return g if g == g else -1.0


@njit
def _inner(lam, z0, i, ty, ru, fa, se, prove):
    """``min_ν D(λ, ν)``: its :class:`Best` and ``dD/dλ`` there. A price taker's ``ν`` is
    ``λ p^0`` (it buys goods at ``p^0``)."""
    T = ty.a.shape[1]
    inner = _new_best(T)
    slope = np.zeros(1)
    ns = NuSearch(lam, i, ty, ru, fa, se, prove, inner, slope)
    if ru.pt:
        _nu_slope(math.log(lam * fa.p[0]), ns)
        return inner, slope[0]
    f0 = _nu_slope(z0, ns)
    a, fa_, b, fb, found = bracket(ns, z0, f0, 0.25, -LIMIT, LIMIT, 200)
    if found and inner.val[0] > se.target[i]:
        illinois(ns, a, fa_, b, fb, 1e-13, 100)
    return inner, slope[0]


class LamSearch(NamedTuple):
    i: int
    ty: tuple
    ru: tuple
    fa: tuple
    se: tuple
    best: Best


@objective(LamSearch)
@njit
def _lam_slope(y, ls):
    """``dD/d log λ`` at ``ν*(λ)`` (increasing), keeping the least ``D``."""
    b = ls.best
    if _out_of_time(b, ls.se, ls.i):
        return 0.0
    z0 = b.val[2] if b.val[0] < INF else math.log(ls.se.nu0[ls.i])
    inner, d_lam = _inner(math.exp(y), z0, ls.i, ls.ty, ls.ru, ls.fa, ls.se, False)
    D = inner.val[0]
    if D < b.val[0]:
        b.val[0] = D
        b.val[1] = y
        b.val[2] = inner.val[2]
        b.val[3] = inner.val[3]
        b.x[:] = inner.x
        b.q[:] = inner.q
        b.paid[:] = inner.paid
    if b.val[0] <= ls.se.target[ls.i]:
        return 0.0
    if D == INF:
        return -1.0
    g = math.exp(y) * d_lam
    if g != g:
        return -1.0
    boxed = ls.se.qhi[ls.i, 1] == ls.se.qhi[ls.i, 1]   # (a box of offers: qhi not NaN)
    if boxed and _out_of_reach(b, y, D, g, ls.se.target[ls.i]):
        return 0.0
    return g


@njit
def _producer_one(i, ty, ru, fa, se, best):
    _search_lambda(LamSearch(i, ty, ru, fa, se, best), math.log(se.lam0[i]), se.target[i],
                   best)


@njit
def producer_bounds(ty, ru, fa, se, out):
    """For every producer type, ``min_{λ,ν} D(λ, ν)`` into ``out``: searched with fast local
    searches of the non-concave pieces, then evaluated once more at the best ``(λ, ν)`` with
    every piece bounded (the value reported). Producer types are few: a plain loop."""
    n = ty.a.shape[0]
    T = ty.a.shape[1]
    D_out, lam_out, nu_out, K_out = out.D, out.lam, out.nu, out.K
    x_out, q_out, paid_out, exact = out.x, out.q, out.paid, out.exact
    for j in range(n):
        best = _new_best(T)
        _producer_one(j, ty, ru, fa, se, best)
        lam = math.exp(best.val[1])
        nu = math.exp(best.val[2]) if not ru.pt else lam * fa.p[0]
        res = (np.zeros(T + 1), np.zeros(T + 1), np.zeros(T + 1, dtype=np.bool_))
        D, _, _, K, closed = producer_dual(lam, nu, j, ty, ru, fa, se, unliteral(True), res)
        D_out[j] = D
        lam_out[j] = lam
        nu_out[j] = nu
        K_out[j] = K
        x_out[j, :] = res[0]
        if q_out.shape[0]:
            q_out[j, :] = res[1]
        paid_out[j, :] = res[2]
        exact[j] = closed and best.val[6] == 0.0


@njit
def consumer_pattern(lam, i, ty, ru, fa, se):
    """The posts a consumer's dual maximiser pays on at ``λ``."""
    T = ty.a.shape[1]
    x = np.zeros(T + 1)
    paid = np.zeros(T + 1, dtype=np.bool_)
    consumer_dual(lam, i, ty, ru, fa, se, x, paid)
    return paid


@njit
def producer_pattern(lam, nu, i, ty, ru, fa, se):
    """The posts a producer's dual maximiser pays on at ``(λ, ν)`` (fast searches)."""
    T = ty.a.shape[1]
    out = (np.zeros(T + 1), np.zeros(T + 1), np.zeros(T + 1, dtype=np.bool_))
    producer_dual(lam, nu, i, ty, ru, fa, se, unliteral(False), out)
    return out[2]
