"""Constant-returns prices made exact (docs/model.md, Solution concepts: a ``c = 1`` producer earns
zero profit).

The benchmark's prices come out of a root finder, so a price that should equal a
constant-returns type's cost ``p^0/(βθ)`` can sit one part in 10^16 above it: a margin that a
large capacity multiplies into a profit, which the certificate (rightly) counts as a gain. This
is the one place the benchmark treats that zero profit: it sets such prices at the cost exactly,
in rational arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def at_cost(price: float, p0: float, theta: float, beta: float) -> float:
    """The largest float ``p`` with ``βpθ <= p^0`` in exact (rational) arithmetic, searched
    from ``price`` (within 64 units of rounding of it)."""
    limit = Fraction(p0) / (Fraction(theta) * Fraction(beta))
    p = float(price)
    for _ in range(64):
        if Fraction(p) <= limit:
            break
        p = float(np.nextafter(p, 0.0))
    for _ in range(64):
        up = float(np.nextafter(p, np.inf))
        if Fraction(up) > limit:
            break
        p = up
    return p


def _excess_rent(p: np.ndarray, beta: float, theta: float, rho: float) -> Fraction:
    """A long-run constant-returns type's rent per unit of capacity, less its cost, exactly:
    ``Σ_t max(βp^t - p^0/θ, 0) - ρp^0``."""
    th, r, b = Fraction(theta), Fraction(rho), Fraction(beta)
    p0 = Fraction(float(p[0]))
    rent = sum((max(b * Fraction(float(x)) - p0 / th, Fraction(0)) for x in p[1:]),
               Fraction(0))
    return rent - r * p0


def snap_to_cost(P, beta: float, long_flat, p: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Prices within ``1e-12`` (relative) of a constant-returns type's cost set exactly at it
    (:func:`at_cost`); for the long-run constant-returns types ``long_flat``, their rent per
    unit of capacity brought to at most its cost exactly (the highest price lowered by units of
    rounding, where it exceeds the cost by rounding only). ``P`` holds the producers'
    ``c``, ``theta`` and ``rho``."""
    p = np.array(p, dtype=np.float64)
    for j in np.flatnonzero(P.c == 1.0):
        cost = p[0] / (P.theta[j] * beta)
        for t in np.flatnonzero(np.abs(p[1:] - cost) <= 1e-12 * cost) + 1:
            p[t] = at_cost(p[t], p[0], P.theta[j], beta)
    for j in long_flat:
        theta, rho = float(P.theta[j]), float(P.rho[j])
        for _ in range(256):
            excess = _excess_rent(p, beta, theta, rho)
            if excess <= 0 or abs(float(excess)) > 1e-12 * float(p[0]):
                break
            t = int(np.argmax(p[1:])) + 1
            p[t] = float(np.nextafter(p[t], 0.0))
    return p
