"""Independent regret of a strategy profile: how much each player gains by deviating alone.

For every player, the others' strategies are held fixed and the player's own utility is maximised
over its whole feasible set (budget (2)/(4), goods feasibility ``x_j^0 >= 0``, signs, capacity)
with ``scipy.optimize.minimize`` (SLSQP, analytic gradients) from several starts: the current
strategy, the common rough start of :func:`economy.starting_profile`, and random positive
feasible points. The regret is ``max(0, best - current)``. This code shares only the payoff and
constraint definitions of :mod:`economy` with the solvers, not their equations or iterations.

The consumer's problem is convex (concave utility, linear budget); the producer's budget is not
convex in ``(q, b)`` jointly, hence the several starts.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from .economy import (
    Economy,
    Profile,
    aggregates,
    constraint_violation,
    consumer_utility,
    normalise,
    producer_utility,
    starting_profile,
    utilities,
)

_OPTS = {"ftol": 1e-15, "maxiter": 1000}
_FLOOR = 1e-10  # lower bound on a valued bid/offer, relative to its scale: log(0) = -inf


def consumer_best(
    econ: Economy, prof: Profile, h: int, starts: list[np.ndarray]
) -> tuple[float, np.ndarray]:
    """Best utility of consumer ``h`` against the rest of ``prof`` (and the maximiser)."""
    B0, B, Q = aggregates(prof)
    Bm = B - prof.cb[h]
    W = B0 * econ.omega[h] / econ.Omega  # its budget: goods sales, own bids do not affect B^0
    a = econ.a[h]

    def f(z):
        b = z * W
        return -consumer_utility(a, b, Bm, Q)

    def g(z):
        b = z * W
        return -W * a * (1.0 / b - 1.0 / (b + Bm))

    cons = [{"type": "ineq", "fun": lambda z: 1.0 - z.sum(), "jac": lambda z: -np.ones_like(z)}]
    bounds = [(_FLOOR, 1.0)] * econ.T
    best = (-np.inf, None)
    for s in starts:
        z0 = np.clip(s / W, _FLOOR, None)
        z0 = z0 / max(1.0, z0.sum() / (1.0 - 1e-12))
        r = minimize(f, z0, jac=g, method="SLSQP", bounds=bounds, constraints=cons, options=_OPTS)
        z = np.clip(r.x, _FLOOR, None)
        z = z / max(1.0, z.sum())  # enforce the budget exactly before scoring
        u = -f(z)
        if u > best[0]:
            best = (u, z * W)
    return best


def producer_best(
    econ: Economy, prof: Profile, j: int, starts: list[np.ndarray]
) -> tuple[float, np.ndarray]:
    """Best utility of producer ``j`` against the rest of ``prof``; strategy ``(q, b0, b)``."""
    T = econ.T
    B0, B, Q = aggregates(prof)
    Bm = B - prof.pb[j]
    Qm = Q - prof.q[j]
    B0m = B0 - prof.pb0[j]
    a, Om, K = econ.ap[j], econ.Omega, econ.K
    ref = starting_profile(econ)
    scale = np.concatenate([np.maximum(prof.q[j], ref.q[j]), [max(prof.pb0[j], ref.pb0[j])],
                            np.maximum(prof.pb[j], ref.pb[j])])

    def split(z):
        v = z * scale
        return v[:T], v[T], v[T + 1 :]

    def f(z):
        q, _, b = split(z)
        return -producer_utility(a, q, b, Bm, Qm)

    def fg(z):
        q, _, b = split(z)
        d = np.concatenate([a / (q + Qm), [0.0], a * (1.0 / b - 1.0 / (b + Bm))])
        return -d * scale

    def budget(z):
        q, b0, b = split(z)
        return float(np.sum((b + Bm) * q / (q + Qm)) - b0 - np.sum(b))

    def budget_g(z):
        q, _, b = split(z)
        d = np.concatenate([(b + Bm) * Qm / (q + Qm) ** 2, [-1.0], -Qm / (q + Qm)])
        return d * scale

    def goods(z):
        q, b0, _ = split(z)
        return float(b0 * Om / (b0 + B0m) - np.sum(econ.phi(q)))

    def goods_g(z):
        q, b0, _ = split(z)
        d = np.concatenate([-econ.dphi(q), [Om * B0m / (b0 + B0m) ** 2], np.zeros(T)])
        return d * scale

    cons = [
        {"type": "ineq", "fun": budget, "jac": budget_g},
        {"type": "ineq", "fun": goods, "jac": goods_g},
    ]
    bounds = (
        [(_FLOOR, K / s) for s in scale[:T]] + [(0.0, None)] + [(_FLOOR, None)] * T
    )
    best = (-np.inf, None)
    for s in starts:
        z0 = np.maximum(s / scale, _FLOOR)
        r = minimize(f, z0, jac=fg, method="SLSQP", bounds=bounds, constraints=cons, options=_OPTS)
        z = r.x
        # score only feasible points (SLSQP may end a hair outside); a tiny shortfall is repaired
        # by shrinking the electricity bids, which only lowers the utility
        q, b0, b = split(z)
        bud = budget(z)
        if bud < 0 and np.sum(b) > 0:
            z = z.copy()
            z[T + 1 :] *= max(0.0, 1.0 + bud / np.sum(b * 1.0))
        if goods(z) < -1e-12 * np.sum(econ.phi(split(z)[0])) or budget(z) < -1e-12 * np.sum(B):
            continue
        u = -f(z)
        if u > best[0]:
            best = (u, z * scale)
    return best


def regrets(econ: Economy, prof: Profile, *, n_random: int = 3, seed: int = 12345,
            time_limit: float | None = None) -> dict:
    """Regret of every player at ``prof`` (normalised to ``p^0 = 1`` first; bids are homogeneous).

    Returns ``{"regret": (N+P,), "relative": regret/max(|U|,1), "max_regret", "max_relative",
    "violation": largest relative constraint violation, "seconds", "complete": bool}``.
    """
    t0 = time.perf_counter()
    prof = normalise(econ, prof)
    rng = np.random.default_rng(seed)
    u0 = utilities(econ, prof)
    ref = starting_profile(econ)
    B0, B, Q = aggregates(prof)
    reg = np.full(econ.N + econ.P, np.nan)
    complete = True
    for h in range(econ.N):
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            complete = False
            break
        W = B0 * econ.omega[h] / econ.Omega
        starts = [prof.cb[h], ref.cb[h] * W / max(ref.cb[h].sum(), 1e-300)]
        for _ in range(n_random):
            starts.append(rng.dirichlet(np.ones(econ.T)) * W * rng.uniform(0.5, 1.0))
        ub, _ = consumer_best(econ, prof, h, starts)
        reg[h] = max(0.0, ub - u0[h])
    for j in range(econ.P):
        if not complete or (time_limit is not None and time.perf_counter() - t0 > time_limit):
            complete = False
            break
        cur = np.concatenate([prof.q[j], [prof.pb0[j]], prof.pb[j]])
        base = np.concatenate([ref.q[j], [ref.pb0[j]], ref.pb[j]])
        starts = [cur, base]
        for _ in range(n_random):
            starts.append(cur * np.exp(rng.normal(0.0, 0.5, cur.size)))
        ub, _ = producer_best(econ, prof, j, starts)
        reg[econ.N + j] = max(0.0, ub - u0[econ.N + j])
    rel = reg / np.maximum(np.abs(u0), 1.0)
    return {
        "regret": reg,
        "relative": rel,
        "max_regret": float(np.nanmax(reg)) if np.any(np.isfinite(reg)) else float("nan"),
        "max_relative": float(np.nanmax(rel)) if np.any(np.isfinite(rel)) else float("nan"),
        "violation": constraint_violation(econ, prof),
        "seconds": time.perf_counter() - t0,
        "complete": complete,
    }
