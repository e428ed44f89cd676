"""The one-dimensional searches every compiled kernel shares (numba): a bracket, the Illinois
method that closes it, and golden-section search.

Each searches the function registered for the type of its first argument: a problem is a
``NamedTuple`` class holding whatever the function needs, registered with :func:`objective`;
``value(x, problem)`` calls the registered ``fun(x, problem)``. The dispatch is static (numba
resolves it when it compiles the caller), so every kernel that searches keeps its on-disk
cache (numba cannot cache kernels that take functions as arguments).

Sign convention of the root finders: ``f`` is *increasing* (a caller with a decreasing function
passes its negative); ``f(x) < 0`` means the root lies to the right. ``f = 0`` exactly ends a
search at once (a caller may return it to stop early), NaN abandons it (a caller out of
evaluations returns NaN). Infinite values are allowed (``-inf``: far to the left of the root,
``+inf``: far to the right); they are bisected, not interpolated.
"""

from __future__ import annotations

import math
import time

from numba import objmode, types
from numba.core.event import TimingListener, register
from numba.extending import overload

from emgame._jit import njit

GOLDEN = 0.5 * (math.sqrt(5.0) - 1.0)

_OBJECTIVES: dict[type, object] = {}


def objective(problem: type):
    """Register the compiled function ``fun(x, problem)`` searched for problems of the
    ``NamedTuple`` class ``problem`` (a decorator; returns ``fun`` unchanged)."""
    def register(fun):  # noqa: ANN001, ANN202
        _OBJECTIVES[problem] = fun
        return fun
    return register


def value(x, problem):  # noqa: ANN001, ANN201
    """``fun(x, problem)`` for the function registered for ``type(problem)`` (compiled code)."""
    return _OBJECTIVES[type(problem)](x, problem)


@overload(value, jit_options={"cache": True})
def _value(x, problem):  # noqa: ANN001, ANN202
    if isinstance(problem, types.NamedTuple) and problem.instance_class in _OBJECTIVES:
        fun = _OBJECTIVES[problem.instance_class]
        return lambda x, problem: fun(x, problem)
    return None


@njit
def bracket(problem, x0, f0, step, xmin, xmax, maxit):
    """Step away from ``x0`` (where ``f = f0``) until ``f`` changes sign.

    Steps go right where ``f0 < 0``, left where ``f0 > 0``, starting at ``step`` and doubling,
    never past ``[xmin, xmax]``. Returns ``(a, fa, b, fb, found)`` with ``a < b``: when
    ``found``, ``fa <= 0 <= fb``; otherwise the last two points tried (the root, if any, lies
    beyond the limit that was reached).
    """
    a = x0
    fa = f0
    if f0 == 0.0:
        return x0, 0.0, x0, 0.0, True
    right = f0 < 0.0
    for _ in range(maxit):
        if right:
            if a >= xmax:
                break
            b = min(a + step, xmax)
        else:
            if a <= xmin:
                break
            b = max(a - step, xmin)
        fb = value(b, problem)
        if fb != fb:
            break
        if fb == 0.0 or (fb > 0.0) == right:
            if right:
                return a, fa, b, fb, True
            return b, fb, a, fa, True
        a = b
        fa = fb
        step *= 2.0
    return (x0, f0, a, fa, False) if right else (a, fa, x0, f0, False)


@njit
def illinois(problem, a, fa, b, fb, xtol, maxit):
    """Close a bracket ``a < b`` with ``fa <= 0 <= fb`` by the Illinois variant of regula falsi
    (the retained end's value is halved when the same end is kept twice; bisection where a
    value is infinite). Stops when ``b - a <= xtol·max(1, |b|)`` or ``f = 0``; returns the final
    ``(a, fa, b, fb)`` (``a == b`` at an exact root)."""
    if fa == 0.0:
        return a, fa, a, fa
    if fb == 0.0:
        return b, fb, b, fb
    side = 0
    ga = fa   # the (possibly halved) values used for interpolation
    gb = fb
    for _ in range(maxit):
        if b - a <= xtol * max(1.0, abs(b)):
            break
        if math.isfinite(ga) and math.isfinite(gb) and gb != ga:
            x = (a * gb - b * ga) / (gb - ga)
            if not (x > a and x < b):
                x = 0.5 * (a + b)
        else:
            x = 0.5 * (a + b)
        fx = value(x, problem)
        if fx != fx:
            break
        if fx == 0.0:
            return x, 0.0, x, 0.0
        if fx < 0.0:
            a, fa, ga = x, fx, fx
            if side == -1:
                gb *= 0.5
            side = -1
        else:
            b, fb, gb = x, fx, fx
            if side == 1:
                ga *= 0.5
            side = 1
    return a, fa, b, fb


@njit
def golden_max(problem, lo, hi, xtol, maxit):
    """Golden-section search for the largest value on ``[lo, hi]`` (exact for unimodal
    functions, a local search otherwise). Returns ``(x, f(x))``, the better of the last two
    points."""
    a1 = hi - GOLDEN * (hi - lo)
    b1 = lo + GOLDEN * (hi - lo)
    fa = value(a1, problem)
    fb = value(b1, problem)
    for _ in range(maxit):
        if hi - lo <= xtol * max(abs(hi), 1e-300):
            break
        if fa > fb:
            hi = b1
            b1, fb = a1, fa
            a1 = hi - GOLDEN * (hi - lo)
            fa = value(a1, problem)
        else:
            lo = a1
            a1, fa = b1, fb
            b1 = lo + GOLDEN * (hi - lo)
            fb = value(b1, problem)
    return (a1, fa) if fa > fb else (b1, fb)


class _Compiling(TimingListener):
    """Total seconds numba has spent compiling in this process."""

    def seconds(self) -> float:
        return self.duration if self.done else 0.0


_COMPILING = _Compiling()
register("numba:compile", _COMPILING)


def clock() -> float:
    """``time.monotonic()`` less the time numba has spent compiling: time budgets measured
    on it do not run out while a fresh install compiles its kernels (a minute or more)."""
    return time.monotonic() - _COMPILING.seconds()


@njit
def now():
    """:func:`clock` from compiled code (about a microsecond)."""
    with objmode(t="float64"):
        t = clock()
    return t


@njit
def past(deadline):
    """Whether :func:`clock` is past ``deadline`` (``inf``: never). About a microsecond a
    call: callers check it every few evaluations, not in inner loops."""
    if deadline == math.inf:
        return False
    with objmode(now="float64"):
        now = clock()
    return now > deadline
