"""Baseline (c): damped Gauss-Seidel best-response iteration with a generic optimiser.

Each player in turn (consumers ``0..N-1``, then producers) maximises its own utility with the rest
of the profile held fixed, by ``scipy.optimize.minimize`` (SLSQP with analytic gradients), warm
started at its current strategy; its strategy then moves a fraction ``damping`` of the way to the
best response (in logs, which keeps it positive). After every sweep all bids are rescaled so that
``B^0 = Omega`` (``p^0 = 1``): best responses are homogeneous of degree one in the others' bids,
so the rescaling changes nothing real, but without it the nominal level drifts.

Each best response is computed in log variables ``v = s exp(y)`` (``s`` the current strategy): an
``ai`` player with Cobb-Douglas utility puts something on every valued post, so a zero bid or
offer is never a best response and the log parametrisation loses nothing; it removes the sign
bounds and makes the problem scale-free.

Stops when a whole sweep leaves every strategy within ``tol`` of its best response, measured
against the size of the market: ``|BR - b| / budget`` for a consumer, ``|BR - v| / (Q^t, B^0,
B^t)`` for a producer's ``(q, b^0, b)``. Then every player is (to the optimiser's accuracy) best
responding, i.e. a Nash equilibrium. If the residual grows, the damping is halved.

Why not a relative change per variable: SLSQP pins a bid down only as well as the player's
utility depends on it, and a post with a small Dirichlet weight ``a_ht ~ 1e-3`` moves the utility
by ``a_ht delta^2`` for a relative error ``delta`` in its bid, so ``delta ~ 1e-7`` is all the
optimiser can resolve there (and such a bid hardly matters for any price). Measured against the
budget, the optimiser's noise floor is ~1e-10.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from .economy import Economy, Profile, aggregates, normalise, result_dict, starting_profile

_OPTS = {"ftol": 1e-16, "maxiter": 500}


def consumer_br(econ: Economy, h: int, b_cur: np.ndarray, Bm: np.ndarray, B0: float) -> np.ndarray:
    """Best response of consumer ``h`` (its electricity bids)."""
    W = B0 * econ.omega[h] / econ.Omega
    a = econ.a[h]
    s = b_cur * (1.0 / max(b_cur.sum() / W, 1.0))  # start within the budget

    # utility minus its value at the start, written with log1p/expm1 so that it is accurate to
    # rounding *relative to the change*: near the optimum a plain sum of logs has absolute
    # rounding ~1e-16 |U|, which stops SLSQP ~1e-8 away from the best response
    w = s / (s + Bm)

    def f(y):
        return -float(np.sum(a * (y - np.log1p(w * np.expm1(y)))))

    def g(y):
        b = s * np.exp(y)
        return -a * Bm / (b + Bm)

    cons = [{"type": "ineq",
             "fun": lambda y: 1.0 - float(np.sum(s * np.exp(y))) / W,
             "jac": lambda y: -s * np.exp(y) / W}]
    r = minimize(f, np.zeros(econ.T), jac=g, method="SLSQP", constraints=cons, options=_OPTS)
    return s * np.exp(r.x)


def producer_br(econ: Economy, j: int, cur: np.ndarray, Bm: np.ndarray, Qm: np.ndarray,
                B0m: float) -> np.ndarray:
    """Best response of producer ``j``: ``(q (T), b0, b (T))``."""
    T = econ.T
    a, Om = econ.ap[j], econ.Omega
    s = cur.copy()

    def split(y):
        v = s * np.exp(y)
        return v[:T], v[T], v[T + 1 :]

    wq = s[:T] / (s[:T] + Qm)
    wb = s[T + 1 :] / (s[T + 1 :] + Bm)

    def f(y):  # utility minus its value at the start (see consumer_br)
        yq, yb = y[:T], y[T + 1 :]
        return -float(np.sum(a * (yb - np.log1p(wb * np.expm1(yb)) + np.log1p(wq * np.expm1(yq)))))

    def g(y):
        q, _, b = split(y)
        return -np.concatenate([a * q / (q + Qm), [0.0], a * Bm / (b + Bm)])

    def budget(y):
        q, b0, b = split(y)
        return (float(np.sum((b + Bm) * q / (q + Qm))) - b0 - float(np.sum(b))) / Om

    def budget_g(y):
        q, b0, b = split(y)
        return np.concatenate([q * (b + Bm) * Qm / (q + Qm) ** 2, [-b0], -b * Qm / (q + Qm)]) / Om

    def goods(y):
        q, b0, _ = split(y)
        return (b0 * Om / (b0 + B0m) - float(np.sum(econ.phi(q)))) / Om

    def goods_g(y):
        q, b0, _ = split(y)
        return np.concatenate([-q * econ.dphi(q), [b0 * Om * B0m / (b0 + B0m) ** 2],
                               np.zeros(T)]) / Om

    cons = [{"type": "ineq", "fun": budget, "jac": budget_g},
            {"type": "ineq", "fun": goods, "jac": goods_g}]
    bounds = [(None, float(np.log(econ.K / s[t]))) for t in range(T)] + [(None, None)] * (T + 1)
    r = minimize(f, np.zeros(2 * T + 1), jac=g, method="SLSQP", bounds=bounds, constraints=cons,
                 options=_OPTS)
    return s * np.exp(r.x)


def solve(econ: Economy, *, time_limit: float = 60, damping: float = 1.0, tol: float = 1e-9,
          max_sweeps: int = 10_000, start: Profile | None = None) -> dict:
    """Best-response iteration from :func:`economy.starting_profile`; hard stop at
    ``time_limit`` seconds (checked before every single best response)."""
    t0 = time.perf_counter()
    prof = normalise(econ, starting_profile(econ) if start is None else start)
    alpha = damping
    history: list[float] = []
    converged = False
    timed_out = False
    sweeps = 0
    n_br = 0
    while sweeps < max_sweeps:
        sweeps += 1
        step = 0.0
        for h in range(econ.N):
            if time.perf_counter() - t0 > time_limit:
                timed_out = True
                break
            B0, B, Q = aggregates(prof)
            br = consumer_br(econ, h, prof.cb[h], B - prof.cb[h], B0)
            n_br += 1
            d = br - prof.cb[h]
            step = max(step, float(np.max(np.abs(d))) / (B0 * econ.omega[h] / econ.Omega))
            prof.cb[h] = prof.cb[h] + alpha * d
        for j in range(econ.P):
            if timed_out or time.perf_counter() - t0 > time_limit:
                timed_out = True
                break
            B0, B, Q = aggregates(prof)
            cur = np.concatenate([prof.q[j], [prof.pb0[j]], prof.pb[j]])
            br = producer_br(econ, j, cur, B - prof.pb[j], Q - prof.q[j], B0 - prof.pb0[j])
            n_br += 1
            d = br - cur
            step = max(step, float(np.max(np.abs(d) / np.concatenate([Q, [B0], B]))))
            new = cur + alpha * d
            T = econ.T
            prof.q[j], prof.pb0[j], prof.pb[j] = new[:T], new[T], new[T + 1 :]
        if timed_out:
            break
        prof = normalise(econ, prof)
        history.append(step)
        if step < tol:
            converged = True
            break
        # a residual that keeps growing (well above the optimiser's noise) means the map
        # overshoots: damp harder
        if (len(history) >= 4 and history[-1] > 1.5 * history[-4] and history[-1] > 1e3 * tol
                and alpha > 1 / 64):
            alpha *= 0.5
            history.clear()
    seconds = time.perf_counter() - t0
    last = history[-1] if history else float("nan")
    notes = (f"sweeps={sweeps}, best responses={n_br}, final damping={alpha:g}, "
             f"last max|BR - x|/scale={last:.2e}"
             + (f"; time limit {time_limit}s hit" if timed_out else ""))
    return result_dict(econ, prof, seconds=seconds, converged=converged, notes=notes,
                       sweeps=sweeps, best_responses=n_br)
