"""One producer type's replacement response: Newton on its multipliers, a bracketing fallback,
and the derivatives of its demand and supply in the totals (numba).

The unknowns are ``(log λ, log ν, K)`` (``K`` in the long run only) and the residuals those of
:func:`emgame.solvers._producer.producer_eval`: budget, goods condition, capacity.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from emgame._jit import njit, unliteral
from emgame._numerics import bracket, illinois, now, objective, past
from emgame.solvers._producer import ProducerWork, post_jac, post_of, producer_eval
from emgame.solvers._records import PAYS, Response, producer
from emgame.solvers._terms import MAXIT, phi1

NESTED_EVALS = 20000
"""Evaluations the bracketing fallback of a producer's response may spend (about 2 s with
smooth returns; far more where increasing returns make each evaluation a search)."""
NESTED_SECONDS = 1.0
"""Seconds the bracketing fallback may spend on one response, whatever its evaluations cost
(where no response exists it would otherwise spend its whole evaluation budget, ten seconds
and more with increasing returns and states)."""


class ProducerState(NamedTuple):
    """Every producer type's last response (also the next warm start): ``z (np, 3)`` =
    ``(log λ, log ν, K)``, hints ``xh``, ``qh``, purchases ``x`` (``x[:, 0]`` goods bought),
    offers ``q``, capacity multipliers ``mu`` (all ``(np, T+1)``), derivatives ``dx_dY``,
    ``dq_dY`` ``(np, T+1, 2T+1)`` and ``status (np,)`` (:class:`Response`)."""

    z: np.ndarray
    xh: np.ndarray
    qh: np.ndarray
    x: np.ndarray
    q: np.ndarray
    mu: np.ndarray
    dx_dY: np.ndarray
    dq_dY: np.ndarray
    status: np.ndarray


@njit
def _turnover(tot, ws):
    T = ws.x.size - 1
    sc = tot.p[0] * ws.x[0]
    for t in range(1, T + 1):
        sc += tot.p[t] * (ws.x[t] + ws.q[t])
    return max(sc, 1e-300)


@njit
def _newton(tot, mk, pr, z, ws):
    """Newton on ``(log λ, log r, K)`` with ``r = ν/λ``, the goods price in money including
    market power; residuals scaled to be dimensionless: budget over turnover, goods condition
    ``r (1 - τG/Ω) - p^0``, capacity over ``ν``. Returns ``True`` on convergence."""
    long_run = mk.long_run
    jac = ws.jac
    nz = 3 if long_run else 2
    lam = math.exp(z[0])
    nu = math.exp(z[1])
    K = z[2] if long_run else pr.Kbar
    for _ in range(MAXIT):
        G1, G2, G3 = producer_eval(lam, nu, K, tot, mk, pr, ws, unliteral(True))
        ws.xh[:] = ws.x
        ws.qh[:] = ws.q
        sc = _turnover(tot, ws)
        R = np.zeros(nz)
        R[0] = G1 / sc
        R[1] = G2 / lam
        if nz == 3:
            R[2] = G3 / nu
        res = np.max(np.abs(R))
        if res <= 1e-13:
            z[0] = math.log(lam)
            z[1] = math.log(nu)
            if long_run:
                z[2] = K
            return True
        # Jacobian in (log λ, log r, K): ∂/∂log λ|r = ∂/∂log λ|ν + ∂/∂log ν.
        H = np.zeros((nz, nz))
        divs = (sc, lam, nu)
        for r_ in range(nz):
            H[r_, 0] = (jac[r_, 0] + jac[r_, 1]) / divs[r_]
            H[r_, 1] = jac[r_, 1] / divs[r_]
            if nz == 3:
                H[r_, 2] = jac[r_, 2] / divs[r_]
        H[1, 0] -= G2 / lam          # d(G2/λ)/d log λ
        if nz == 3:
            H[2, 0] -= G3 / nu       # ν = r λ moves with both logs
            H[2, 1] -= G3 / nu
        step = np.zeros(nz)
        if np.all(np.isfinite(H)) and np.all(np.isfinite(R)) and abs(np.linalg.det(H)) > 0.0:
            step = np.linalg.solve(H, -R)
        if not np.all(np.isfinite(step)) or np.all(step == 0.0):
            return False
        for k in range(min(nz, 2)):
            step[k] = min(max(step[k], -2.0), 2.0)
        t_ = 1.0
        accepted = False
        lr = math.log(nu / lam)
        for _ in range(50):
            lam_n = lam * math.exp(t_ * step[0])
            nu_n = lam_n * math.exp(lr + t_ * step[1])
            K_n = max(K + t_ * step[2], 0.25 * K) if nz == 3 else K
            g1, g2, g3 = producer_eval(lam_n, nu_n, K_n, tot, mk, pr, ws, unliteral(False))
            rn = max(abs(g1 / _turnover(tot, ws)), abs(g2 / lam_n))
            if nz == 3:
                rn = max(rn, abs(g3 / nu_n))
            if rn < (1.0 - 1e-4 * t_) * res or rn <= 1e-13:
                accepted = True
                break
            t_ *= 0.5
        if not accepted:
            return False
        lam, nu, K = lam_n, nu_n, K_n
    return False


@njit
def _capacity_reach(tot, mk, pr):
    """The capacity past which no post's offer can grow: the own share of a post stays below
    one (``q < Q^t/(τβ)``, :func:`emgame.solvers._producer._post_output`), and the offer on
    post ``t`` is capped at ``s^t K``; ``inf`` for a price taker."""
    if mk.tau <= 0.0:
        return np.inf
    reach = 0.0
    for t in range(1, pr.a.size + 1):
        if pr.s[t] > 0.0:
            reach = max(reach, tot.Q[t] / (mk.tau * max(mk.beta, 1e-300) * pr.s[t]))
    return reach


@njit
def _nested_eval(lam, r, K, tot, mk, pr, ws, budget):
    """Residuals at ``(λ, ν = rλ)``, solving the capacity condition for ``K`` in the long run.
    ``budget[0]`` counts down the evaluations the fallback may still spend; past the clock
    time ``budget[1]`` none are left."""
    budget[0] -= 1
    if past(budget[1]):
        budget[0] = 0
    if not mk.long_run:
        return producer_eval(lam, r * lam, K, tot, mk, pr, ws, unliteral(False)), K
    # Σ_t μ_t(K) - νρ falls with K where returns are not increasing: bisect (geometrically)
    # on [0, Khi].
    nu = r * lam
    lo = 0.0
    hi = max(K, 1e-12)
    g = producer_eval(lam, nu, hi, tot, mk, pr, ws, unliteral(False))
    if g[2] <= 0.0 and pr.c > 1.0:
        # Increasing returns: marginal cost is infinite at q = 0, so the capacity condition is
        # negative for small K, positive where capacity pays, negative again past it. Look for
        # a K where it is positive (above hi first, up to where the own share caps output,
        # then below) and bisect the falling crossing to its right.
        kmax = _capacity_reach(tot, mk, pr)
        up = hi
        found = False
        for _ in range(64):
            if up >= kmax or budget[0] <= 0:
                break
            up *= 2.0
            budget[0] -= 1
            gu = producer_eval(lam, nu, up, tot, mk, pr, ws, unliteral(False))
            if gu[2] > 0.0:
                found = True
                break
        if not found:
            down = hi
            for _ in range(48):
                if budget[0] <= 0:
                    break
                down *= 0.5
                budget[0] -= 1
                gd = producer_eval(lam, nu, down, tot, mk, pr, ws, unliteral(False))
                if gd[2] > 0.0:
                    # The falling crossing lies in (down, 2 down].
                    lo, hi = down, 2.0 * down
                    g = producer_eval(lam, nu, hi, tot, mk, pr, ws, unliteral(False))
                    found = True
                    break
        else:
            hi = up
            g = gu
    for _ in range(200):
        if g[2] <= 0.0 or budget[0] <= 0:
            break
        budget[0] -= 1
        lo = hi
        hi *= 2.0
        g = producer_eval(lam, nu, hi, tot, mk, pr, ws, unliteral(False))
    for _ in range(200):
        if budget[0] <= 0:
            break
        budget[0] -= 1
        mid = math.sqrt(lo * hi) if lo > 0.0 and hi > 4.0 * lo else 0.5 * (lo + hi)
        g = producer_eval(lam, nu, mid, tot, mk, pr, ws, unliteral(False))
        if g[2] > 0.0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * hi:
            break
    K = 0.5 * (lo + hi)
    return producer_eval(lam, nu, K, tot, mk, pr, ws, unliteral(False)), K


class GoodsGap(NamedTuple):
    """The goods condition as a function of ``log r`` at fixed ``λ`` (see :func:`_r_of_lambda`);
    ``carry`` keeps the capacity last found (``[1]``) and the budget residual (``[2]``)."""

    lam: float
    tot: tuple
    mk: tuple
    pr: tuple
    ws: tuple
    budget: np.ndarray
    carry: np.ndarray


@objective(GoodsGap)
@njit
def _goods_gap(y, g):
    res, K = _nested_eval(g.lam, math.exp(y), g.carry[1], g.tot, g.mk, g.pr, g.ws, g.budget)
    g.carry[1] = K
    g.carry[2] = res[0]
    return res[1]


@njit
def _r_of_lambda(lam, r0, K, tot, mk, pr, ws, budget):
    """The goods price ``r = ν/λ`` solving the goods condition ``r(1 - τG/Ω) = p^0`` at ``λ``;
    returns ``(r, K, budget residual)``.

    Its left side rises with ``r`` (dearer goods: less output, less goods consumed), so the
    root is bracketed from ``r = p^0`` upwards and closed by the Illinois method in ``log r``.
    """
    p0 = tot.p[0]
    gap = GoodsGap(lam, tot, mk, pr, ws, budget, np.array([0.0, K, 0.0]))
    lo = math.log(p0)
    flo = _goods_gap(lo, gap)
    if mk.tau == 0.0:
        return p0, gap.carry[1], gap.carry[2]
    hi = max(math.log(r0), lo + 1e-3) if r0 > 0.0 else lo + 1.0
    fhi = _goods_gap(hi, gap)
    if fhi < 0.0:
        lo, flo, hi, fhi, _ = bracket(gap, hi, fhi, 1.0, -np.inf, np.inf, 11)
    # The caller polishes by Newton, so 1e-12 is plenty.
    lo, flo, hi, fhi = illinois(gap, lo, flo, hi, fhi, 1e-12, 100)
    r = math.exp(0.5 * (lo + hi))
    g, K = _nested_eval(lam, r, gap.carry[1], tot, mk, pr, ws, budget)
    return r, K, g[0]


class BudgetGap(NamedTuple):
    """Minus the budget residual as a function of ``log λ`` (see :func:`_nested`); ``carry``
    keeps ``r``, ``K`` and ``log λ`` of the last evaluation."""

    tot: tuple
    mk: tuple
    pr: tuple
    ws: tuple
    budget: np.ndarray
    carry: np.ndarray


@objective(BudgetGap)
@njit
def _budget_gap(y, g):
    if g.budget[0] <= 0:
        return np.nan
    r, K, G1 = _r_of_lambda(math.exp(y), g.carry[0], g.carry[1], g.tot, g.mk, g.pr, g.ws,
                            g.budget)
    g.carry[0] = r
    g.carry[1] = K
    g.carry[2] = y
    return -G1


@njit
def _nested(tot, mk, pr, z, ws):
    """Robust fallback: bracket and Illinois on ``log λ`` for the budget (spending falls as
    money grows dearer), with the goods price ``r(λ)`` and, in the long run, ``K`` solved
    inside. Returns ``True`` when the budget balances; ``False`` also when it has spent
    :data:`NESTED_EVALS` evaluations or :data:`NESTED_SECONDS` (nested bisections can
    otherwise run for minutes where no response exists), or reached the solve's deadline."""
    stop = min(mk.deadline, now() + NESTED_SECONDS)
    gap = BudgetGap(tot, mk, pr, ws, np.array([float(NESTED_EVALS), stop]),
                    np.array([tot.p[0], z[2] if mk.long_run else pr.Kbar, z[0]]))
    f0 = _budget_gap(z[0], gap)
    lo, flo, hi, fhi, found = bracket(gap, z[0], f0, 1.0, -np.inf, np.inf, 11)
    if not found or gap.budget[0] <= 0:
        return False  # no λ balances the budget: no response at these totals
    # Newton polishes afterwards.
    illinois(gap, lo, flo, hi, fhi, 1e-12, 100)
    r, K, y = gap.carry[0], gap.carry[1], gap.carry[2]
    if gap.budget[0] <= 0 or not (abs(y) < 700.0 and r > 0.0 and r < np.inf):
        return False
    lam = math.exp(y)
    z[0] = y
    z[1] = math.log(r * lam)
    if mk.long_run:
        z[2] = K
    return True


@njit
def _dz(mk, ws, nY):
    """``dz/dY = -H^{-1} ∂G/∂Y``: how the multipliers (and ``K``) move with the totals, from
    the Jacobian in ``ws.jac`` (zero where it is singular)."""
    nz = 3 if mk.long_run else 2
    H = np.ascontiguousarray(ws.jac[:nz, :nz])
    GY = np.ascontiguousarray(ws.jac[:nz, 3:3 + nY])
    dz = np.zeros((3, nY))
    if np.all(np.isfinite(H)) and np.all(np.isfinite(GY)) and abs(np.linalg.det(H)) > 0.0:
        dz[:nz, :] = np.linalg.solve(H, -GY)
    return dz


@njit
def producer_response(tot, mk, pr, z, ws, dx_dY, dq_dY):
    """One producer type's replacement response, by Newton on its multipliers.

    ``z = (log λ, log ν, K)`` is read as the start and written; ``ws`` (:class:`ProducerWork`)
    receives ``x`` (``x[0] = G`` goods bought), ``q``, ``μ``; ``dx_dY``, ``dq_dY`` the
    derivatives (rows posts ``0..T``, columns ``p^0..p^T, Q^1..Q^T``). A failed warm start is
    retried by the bracketing fallback. Returns a :class:`Response` status.
    """
    p, Q = tot.p, tot.Q
    x, q = ws.x, ws.q
    theta, c = pr.theta, pr.c
    T = pr.a.size
    z_in = z.copy()
    status = Response.OK
    if not _newton(tot, mk, pr, z, ws):
        status = Response.NOT_CONVERGED
        # Bracketing fallback, then a final Newton polish from its answer.
        z[:] = z_in
        if _nested(tot, mk, pr, z, ws) and _newton(tot, mk, pr, z, ws):
            status = Response.OK
    if status != Response.OK:
        z[:] = z_in  # keep the caller's warm start usable
    lam = math.exp(z[0])
    nu = math.exp(z[1])
    K = z[2] if mk.long_run else pr.Kbar
    # Derivatives with respect to the totals: dz/dY, then each post.
    producer_eval(lam, nu, K, tot, mk, pr, ws, unliteral(True))
    nY = 2 * T + 1
    dz = _dz(mk, ws, nY)
    F = np.zeros(mk.pi.size)
    pj = np.zeros((3, 5))
    dx_dY[:, :] = 0.0
    dq_dY[:, :] = 0.0
    zs = (lam, nu, 1.0)
    for t in range(1, T + 1):
        post = post_of(tot, mk, pr, t, F)
        post_jac(lam, nu, post, mk, (pr.part[t] & PAYS) != 0, pr, x[t], q[t], ws.state[t], pj)
        for k in range(nY):
            sx = 0.0
            sq = 0.0
            for r in range(3):
                sx += pj[0, r] * zs[r] * dz[r, k]
                sq += pj[1, r] * zs[r] * dz[r, k]
            dx_dY[t, k] = sx
            dq_dY[t, k] = sq
        dx_dY[t, t] += pj[0, 3]
        dq_dY[t, t] += pj[1, 3]
        dx_dY[t, T + t] += pj[0, 4]
        dq_dY[t, T + t] += pj[1, 4]
    # Goods bought G = Σ φ(q) + ρK + x0(ν).
    for k in range(nY):
        d = 0.0
        for t in range(1, T + 1):
            if q[t] > 0.0:   # dq = 0 at q = 0, where φ' may be infinite (c > 1)
                d += phi1(q[t], theta, c) * dq_dY[t, k]
        if mk.long_run:
            d += pr.rho * dz[2, k]
        if pr.classic and pr.a0 > 0.0 and pr.gg > 0.0:
            x0 = (pr.a0 * pr.w.sum() / nu) ** (1.0 / pr.gg)
            d += -x0 / (pr.gg * nu) * nu * dz[1, k]
        dx_dY[0, k] = d
    if pr.classic and pr.a0 > 0.0 and pr.gg == 0.0 and mk.tau > 0.0 and x[0] > 0.0:
        Gs = Q[0] / mk.tau * (1.0 - lam * p[0] / nu)
        if abs(Gs - x[0]) <= 1e-12 * max(Gs, 1e-300):
            # Goods consumed: G = (Ω/τ)(1 - λp^0/ν), whatever the inputs.
            c0 = Q[0] / mk.tau * lam * p[0] / nu
            for k in range(nY):
                dx_dY[0, k] = -c0 * dz[0, k] + c0 * dz[1, k]
            dx_dY[0, 0] += -Q[0] / mk.tau * lam / nu
    return status


@njit
def producer_responses(tot, mk, ps, st):
    """:func:`producer_response` for every producer type (few: a plain loop)."""
    T = ps.a.shape[1]
    for j in range(ps.a.shape[0]):
        ws = ProducerWork(st.xh[j], st.qh[j], st.x[j], st.q[j], st.mu[j],
                          np.zeros(T + 1, dtype=np.int64), np.zeros((3, 3 + 2 * T + 1)))
        st.status[j] = producer_response(tot, mk, producer(ps, j), st.z[j], ws, st.dx_dY[j],
                                         st.dq_dY[j])
