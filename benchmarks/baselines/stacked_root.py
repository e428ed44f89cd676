"""Baseline (b): ``scipy.optimize.root`` on the stacked first-order conditions of all players.

Every player's KKT conditions (the paper's (10)-(17) for this economy), stacked and solved as one
square nonlinear system. ``ai`` players value electricity only, so every budget binds, every bid
and offer is interior (log utility), capacity is slack, and the only inequality that matters
besides the budgets is the producer's ``x_j^0 >= 0``, which binds (an ``ai`` producer has no use
for goods): its multiplier ``nu_j`` takes the place of the paper's ``u_j0``. With everything
interior the system is written in logs of the bids, offers and multipliers, which keeps them
positive without bounds.

Consumer ``h`` (multiplier ``lam_h`` of its budget; ``ai`` consumers have no goods bid, so no
(11)):

    a_ht B_-h^t / (b_h^t B^t) = lam_h                          (10)
    sum_t b_h^t = B^0 omega_h / Omega                          (budget, (2), binding)

Producer ``j`` (``lam_j`` budget, ``nu_j`` goods feasibility, standing in for the paper's
``u_j0``; capacity slack, so ``mu^t = 0`` in (14)-(16)):

    a_t B_-j^t / (b_j^t B^t) = lam_j Q_-j^t / Q^t              (12)
    lam_j = nu_j Omega B_-j^0 / (B^0)^2                        (13)
    nu_j phi'(q_j^t) = a_t / Q^t + lam_j p^t Q_-j^t / Q^t      (14)/(15), (17)
    b_j^0 + sum_t b_j^t = sum_t B^t q_j^t / Q^t                (budget, (4), binding)
    sum_t phi(q_j^t) = b_j^0 Omega / B^0                       (x_j^0 = 0, (8))

(With Cobb-Douglas ``u_jt = a_t / x_j^t`` and ``x_j^t = b_j^t Q^t / B^t``, the paper's
``u_jt B_-j^t Q^t / (B^t)^2`` is ``a_t B_-j^t / (b_j^t B^t)`` and ``u_jt b_j^t / B^t`` is
``a_t / Q^t``.)

Summing all budgets gives an identity (Walras' law for bytecoins), so the last producer's budget
is dropped and replaced by the normalisation ``B^0 = Omega`` (``p^0 = 1``), which removes the
nominal ray of equilibria. Each equation is written as a difference of logs, so residuals are
relative errors.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import root

from .economy import Economy, Profile, result_dict, starting_profile


class _Timeout(Exception):
    pass


def _unpack(econ: Economy, z: np.ndarray):
    N, T, P = econ.N, econ.T, econ.P
    i = 0

    def take(n):
        nonlocal i
        out = z[i : i + n]
        i += n
        return out

    cb = np.exp(take(N * T)).reshape(N, T)
    llh = take(N)
    q = np.exp(take(P * T)).reshape(P, T)
    pb = np.exp(take(P * T)).reshape(P, T)
    pb0 = np.exp(take(P))
    llj = take(P)
    lnu = take(P)
    return cb, llh, q, pb, pb0, llj, lnu


def residual(econ: Economy, z: np.ndarray) -> np.ndarray:
    """The stacked KKT residual (relative errors), in the order of the module docstring."""
    cb, llh, q, pb, pb0, llj, lnu = _unpack(econ, z)
    a, ap, om, Om = econ.a, econ.ap, econ.omega, econ.Omega
    B = cb.sum(0) + pb.sum(0)
    Q = q.sum(0)
    B0 = pb0.sum()
    # consumers
    r1 = np.log(a) + np.log(B - cb) - np.log(cb) - np.log(B) - llh[:, None]
    r2 = np.log(cb.sum(1)) - np.log(B0 * om / Om)
    # producers
    Qm = Q - q
    r3 = np.log(ap) + np.log(B - pb) - np.log(pb) - np.log(B) - (llj[:, None] + np.log(Qm / Q))
    r4 = llj - (lnu + np.log(Om) + np.log(B0 - pb0) - 2.0 * np.log(B0))
    lam = np.exp(llj)[:, None]
    r5 = lnu[:, None] + np.log(econ.dphi(q)) - np.log(ap / Q + lam * (B / Q) * Qm / Q)
    rev = (B * q / Q).sum(1)
    r6 = np.log(pb0 + pb.sum(1)) - np.log(rev)
    r6[-1] = np.log(B0) - np.log(Om)  # Walras: last budget redundant -> normalisation
    r7 = np.log(econ.phi(q).sum(1)) - np.log(pb0 * Om / B0)
    return np.concatenate([r1.ravel(), r2, r3.ravel(), r4, r5.ravel(), r6, r7])


def initial_guess(econ: Economy, prof: Profile | None = None) -> np.ndarray:
    """Log variables from a starting profile, multipliers from their own FOCs there."""
    prof = starting_profile(econ) if prof is None else prof
    cb, q, pb, pb0 = prof.cb, prof.q, prof.pb, prof.pb0
    B = cb.sum(0) + pb.sum(0)
    Q = q.sum(0)
    B0 = pb0.sum()
    lam_h = np.mean(econ.a * (B - cb) / (cb * B), axis=1)
    lam_j = np.mean(econ.ap * (B - pb) / (pb * B) * Q / (Q - q), axis=1)
    nu_j = lam_j * B0**2 / (econ.Omega * (B0 - pb0))
    return np.concatenate(
        [
            np.log(cb).ravel(),
            np.log(lam_h),
            np.log(q).ravel(),
            np.log(pb).ravel(),
            np.log(pb0),
            np.log(lam_j),
            np.log(nu_j),
        ]
    )


def solve(
    econ: Economy, *, time_limit: float = 60, method: str = "hybr", tol: float = 1e-12
) -> dict:
    """Solve the stacked FOCs with ``scipy.optimize.root``; stop hard at ``time_limit`` seconds.

    ``converged`` means scipy reported success *and* ``max |residual| < 1e-9``.
    """
    t0 = time.perf_counter()
    nfev = 0

    def fun(z):
        nonlocal nfev
        nfev += 1
        if time.perf_counter() - t0 > time_limit:
            raise _Timeout
        with np.errstate(all="ignore"):
            r = residual(econ, z)
        # scipy's MINPACK wrappers cannot handle NaN: steer them back with a large residual
        return np.where(np.isfinite(r), r, 1e6)

    z0 = initial_guess(econ)
    notes = []
    sol_x = None
    try:
        if method == "hybr":
            sol = root(fun, z0, method="hybr", options={"xtol": tol, "maxfev": 200 * (z0.size + 1)})
        else:
            sol = root(fun, z0, method=method, options={"xtol": tol, "ftol": tol})
        sol_x = sol.x
        notes.append(f"root({method}): {sol.message.strip()}")
        ok = bool(sol.success)
    except _Timeout:
        ok = False
        notes.append(f"time limit {time_limit}s hit")
    seconds = time.perf_counter() - t0
    if sol_x is None:
        return result_dict(econ, None, seconds=seconds, converged=False, notes="; ".join(notes),
                           nfev=nfev, residual=float("nan"))
    r = residual(econ, sol_x)
    res = float(np.max(np.abs(r)))
    cb, _, q, pb, pb0, _, _ = _unpack(econ, sol_x)
    prof = Profile(cb, q, pb, pb0)
    converged = ok and res < 1e-9
    notes.append(f"max|FOC residual| = {res:.2e}, nfev = {nfev}")
    return result_dict(econ, prof, seconds=seconds, converged=converged, notes="; ".join(notes),
                       nfev=nfev, residual=res)
