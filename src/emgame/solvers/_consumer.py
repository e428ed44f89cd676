"""Consumers' responses to post totals, with their derivatives (numba).

The game is aggregative: an agent meets the others only through each post's totals. Given the
totals ``(p^t, Q^t)`` of every post (``p^t = B^t/Q^t``, ``Q^0 = Ω``), the *replacement* response
of a type is the strategy that is a best response to the others **and** consistent with those
totals (Cornes and Hartley's replacement function). With ``s = x/Q`` the agent's share of what
it buys and market power scaled by ``τ`` (``τ = 1`` Nash, ``τ = 0`` price taking), a consumer's
first-order conditions (the paper's (10), (11)) and budget ((1)–(2)) read

    purchase  (10):  MU_t(x) (1 - τ s) = λ p^t
    goods     (11):  MU_0(x0) (1 - τ s^0) = λ p^0 (1 - τ β ω/Ω)
    budget:          Σ_t p^t x^t + p^0 x^0 = income     (p^0 ω, or an exogenous wallet)

(``MU`` in :mod:`emgame.solvers._terms`; ``β`` the discount on own revenue under prepaid
settlement, 1 otherwise.) :func:`consumer_response` solves them for one type by Newton on
``log λ`` and returns, by the implicit function theorem, the derivatives of its demand in the
totals; :func:`consumer_aggregate` adds every type's demand and derivatives, in blocks (in
parallel when there are many types), so that no per-type derivative array is ever stored.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import prange

from emgame._jit import njit, unliteral
from emgame.solvers._records import Response, consumer, slopes
from emgame.solvers._terms import INF, MAXIT, fixed_burn, mu_el, solve_x, x_floor


class ConsumerState(NamedTuple):
    """Every consumer type's last response (also the next warm start): ``lam (m,)``,
    ``x (m, T+1)`` purchases (goods first), ``status (m,)`` (:class:`Response`)."""

    lam: np.ndarray
    x: np.ndarray
    status: np.ndarray


@njit
def _purchases(lam, tot, mk, ct, part, x, fx):
    """Given ``λ``: each post's purchase ``x`` and ``f'`` (``fx``); returns spending. (Each
    purchase is solved from scratch: a warm start saves little and would make the result
    depend on the path.)"""
    p, Q = tot.p, tot.Q
    T = ct.a.size
    F = np.zeros(mk.pi.size)
    Omega = Q[0]
    tau = mk.tau
    spend = 0.0
    # Goods post (classic consumers who value goods).
    x[0] = 0.0
    fx[0] = -INF
    if part[0] and ct.a0 > 0.0:
        R = lam * p[0] * (1.0 - tau * mk.beta * ct.omega / Omega)
        if ct.gg == 0.0:
            # Quasilinear goods: a0 (1 - τ x0/Ω) = R.
            if tau > 0.0:
                x[0] = max(0.0, Omega / tau * (1.0 - R / ct.a0))
                if x[0] > 0.0:
                    fx[0] = -ct.a0 * tau / Omega
            else:
                x[0] = 0.0  # handled by the caller (λ pinned at a0/p0)
        else:
            # Goods are consumed in every state: their weight is a0 Σ_s w_s.
            xg, fg = solve_x(R, ct.a0 * ct.w.sum(), ct.gg, np.ones(1), np.zeros(1), np.zeros(1),
                             tau, Omega, 0.0)
            x[0] = xg
            fx[0] = fg
        spend += p[0] * x[0]
    for t in range(1, T + 1):
        x[t] = 0.0
        fx[t] = -INF
        if not part[t]:
            continue
        fixed_burn(mk.v, t, mk.t0, part[0], F)
        xt, ft = solve_x(lam * p[t], ct.a[t - 1], ct.ge, ct.w, mk.kappa, F, tau, Q[t], 0.0)
        x[t] = xt
        fx[t] = ft
        spend += p[t] * xt
    return spend


@njit
def _slopes(lam, tot, mk, ct, part, x, fx, pinned, sl):
    """Implicit derivatives of a consumer's response into ``sl`` (see :func:`consumer_response`)."""
    p, Q = tot.p, tot.Q
    tau = mk.tau
    T = ct.a.size
    Omega = Q[0]
    F = np.zeros(mk.pi.size)
    sl.dx_dp[:] = 0.0
    sl.dx_dQ[:] = 0.0
    sl.dx_dl[:] = 0.0
    sl.dl_dY[:] = 0.0
    sl.dx0_dY[:] = 0.0
    for t in range(T + 1):
        if not (fx[t] > -INF and fx[t] < 0.0):
            continue
        wt = (1.0 - tau * mk.beta * ct.omega / Omega) if t == 0 else 1.0
        sl.dx_dl[t] = p[t] * wt / fx[t]
        sl.dx_dp[t] = lam * wt / fx[t]
        if t > 0:
            fixed_burn(mk.v, t, mk.t0, part[0], F)
            m, _ = mu_el(x[t], ct.a[t - 1], ct.ge, ct.w, mk.kappa, F)
            sl.dx_dQ[t] = -m * tau * x[t] / (Q[t] * Q[t] * fx[t])
    if pinned:
        # λ = a0/p0 (price taker, linear goods): goods absorb the rest of income,
        # x0 = (income - Σ_t p_t x_t)/p0, whose row is not diagonal in the prices.
        sl.dl_dY[0] = -lam / p[0]
        exog = ct.wallet == ct.wallet
        ds_dl = 0.0
        for t in range(1, T + 1):
            ds_dl += p[t] * sl.dx_dl[t]
            sl.dx0_dY[t] = -(x[t] + p[t] * sl.dx_dp[t]) / p[0]
            sl.dx0_dY[T + t] = -(p[t] * sl.dx_dQ[t]) / p[0]
        sl.dx0_dY[0] = ((0.0 if exog else ct.omega) - ds_dl * sl.dl_dY[0] - x[0]) / p[0]
        return
    dr_dl = 0.0
    for t in range(T + 1):
        dr_dl += p[t] * sl.dx_dl[t]
    if dr_dl == 0.0:
        return
    # r = Σ p_t x_t - income;  income = p0 ω under revenue-financed budgets.
    exog = ct.wallet == ct.wallet
    dr0 = x[0] + p[0] * sl.dx_dp[0] - (0.0 if exog else ct.omega)
    sl.dl_dY[0] = -dr0 / dr_dl
    for t in range(1, T + 1):
        sl.dl_dY[t] = -(x[t] + p[t] * sl.dx_dp[t]) / dr_dl
        sl.dl_dY[T + t] = -(p[t] * sl.dx_dQ[t]) / dr_dl


@njit
def _affordable(tot, mk, ct, part, income):
    """Drop the least valued posts of ``part`` (in place) while the least spending that buys
    the verification of every post paid on exceeds the income; returns whether any was."""
    p = tot.p
    T = ct.a.size
    F = np.zeros(mk.pi.size)
    reduced = False
    for _ in range(T + 2):
        need = 0.0
        for t in range(1, T + 1):
            if part[t]:
                fixed_burn(mk.v, t, mk.t0, part[0], F)
                need += p[t] * x_floor(mk.kappa, F)
        if need < income:
            break
        reduced = True
        worst = -1
        for t in range(1, T + 1):
            if part[t] and (worst < 0 or ct.a[t - 1] < ct.a[worst - 1]):
                worst = t
        if worst < 0:
            break
        part[worst] = False
        if worst == mk.t0:
            part[0] = False
    return reduced


@njit
def _respond(tot, mk, ct, part, lam0, x, sl):
    """:func:`consumer_response` for the regime ``part`` (a copy the function may change)."""
    p, Q = tot.p, tot.Q
    T = ct.a.size
    exog = ct.wallet == ct.wallet
    income = ct.wallet if exog else p[0] * ct.omega
    fx = np.zeros(T + 1)
    sl.dx_dp[:] = 0.0
    sl.dx_dQ[:] = 0.0
    sl.dx_dl[:] = 0.0
    sl.dl_dY[:] = 0.0
    sl.dx0_dY[:] = 0.0
    reduced = _affordable(tot, mk, ct, part, income)
    buys = part[0] and ct.a0 > 0.0
    for t in range(1, T + 1):
        if part[t] and ct.a[t - 1] > 0.0:
            buys = True
    if not buys:
        x[:] = 0.0
        return lam0, Response.NONE_LEFT if reduced else Response.OK
    tau = mk.tau
    Omega = Q[0]
    if part[0] and ct.a0 > 0.0 and ct.gg == 0.0 and tau == 0.0:
        # Price taker with linear goods: λ = a0/p0 if that leaves income for goods.
        lam = ct.a0 / p[0]
        spend = _purchases(lam, tot, mk, ct, part, x, fx)
        if spend <= income:
            x[0] = (income - spend) / p[0]
            _slopes(lam, tot, mk, ct, part, x, fx, unliteral(True), sl)
            return lam, Response.OK
        part0 = part.copy()
        part0[0] = False
        return _respond(tot, mk, ct, part0, lam0, x, sl)
    # Newton on y = log λ for spend(λ) = income (spend falls with λ), safeguarded by a bracket.
    # A warm start that ran off to λ = inf at far-off totals would stay there (no step leaves
    # it): start afresh.
    y = math.log(lam0) if lam0 > 0.0 and lam0 < INF else 0.0
    lo = -INF
    hi = INF
    status = Response.NOT_CONVERGED
    for _ in range(MAXIT):
        lam = math.exp(y)
        spend = _purchases(lam, tot, mk, ct, part, x, fx)
        r = spend - income
        if r > 0.0:
            lo = y
        else:
            hi = y
        # d spend / d y = λ Σ p_t dx_t/dλ,  dx_t/dλ = p_t (1 - ...)/f'
        ds = 0.0
        for t in range(T + 1):
            if fx[t] > -INF and fx[t] < 0.0:
                rhs = p[t] * (1.0 - tau * mk.beta * ct.omega / Omega) if t == 0 else p[t]
                ds += p[t] * rhs / fx[t]
        ds *= lam
        if abs(r) <= 1e-14 * income:
            status = Response.OK
            break
        # Newton on log(spend) - log(income), which is nearly linear in log λ (spending on
        # log-utility goods is ∝ 1/λ), with steps capped at e^±8.
        yn = y - (math.log(spend) - math.log(income)) * spend / ds if (
            ds < 0.0 and spend > 0.0) else INF
        if yn != INF:
            yn = min(max(yn, y - 8.0), y + 8.0)
        if not (yn > lo and yn < hi):
            if lo == -INF:
                yn = y - 2.0 if hi == INF else hi - 2.0
            elif hi == INF:
                yn = lo + 2.0
            else:
                yn = 0.5 * (lo + hi)
        if abs(yn - y) <= 1e-15:
            y = yn
            status = Response.OK
            break
        y = yn
    lam = math.exp(y)
    _purchases(lam, tot, mk, ct, part, x, fx)
    _slopes(lam, tot, mk, ct, part, x, fx, unliteral(False), sl)
    if status == Response.OK and reduced:
        status = Response.DROPPED
    return lam, status


@njit
def consumer_response(tot, mk, ct, lam0, x, sl):
    """One consumer type's replacement response; returns ``(λ, status)``.

    ``x`` is read as the warm start and receives the purchases; ``sl`` (:class:`Slopes`) the
    derivatives, ``dl_dY`` being ``dλ/d(p^0..p^T, Q^1..Q^T)``. Income is the wallet when
    ``ct.wallet`` is a number, else the revenue ``p^0 ω`` (simultaneous settlement, or
    stationary wallets). Status: :class:`Response`.
    """
    return _respond(tot, mk, ct, ct.part.copy(), lam0, x, sl)


@njit
def accumulate(n, x, sl, want_jac, X, JX):
    """Add one type's demand ``x`` (weight ``n``, its count) to ``X`` and, with ``want_jac``,
    its derivatives ``dx/dY = diag(dx/dp, dx/dQ) + (dx/dλ)(dλ/dY)`` (plus ``dx0_dY`` on the
    goods row) to ``JX``."""
    T = x.size - 1
    for t in range(T + 1):
        X[t] += n * x[t]
    if want_jac:
        for k in range(sl.dx0_dY.size):
            JX[0, k] += n * sl.dx0_dY[k]
        for t in range(T + 1):
            JX[t, t] += n * sl.dx_dp[t]
            if t > 0:
                JX[t, T + t] += n * sl.dx_dQ[t]
            c = n * sl.dx_dl[t]
            if c != 0.0:
                for k in range(sl.dl_dY.size):
                    JX[t, k] += c * sl.dl_dY[k]


def blocks(m: int) -> np.ndarray:
    """Block boundaries over ``m`` types: one block below 4096 types, else up to 64 (in
    parallel)."""
    nb = 1 if m < 4096 else min(64, max(2, m // 4096))
    return np.linspace(0, m, nb + 1).astype(np.int64)


@njit
def _block(lo, hi, tot, mk, cs, st, want_jac, X, JX):
    """Responses of types ``lo..hi-1``, added (weighted by counts) into ``X`` and ``JX``."""
    sl = slopes(cs.a.shape[1])
    for i in range(lo, hi):
        li, status = consumer_response(tot, mk, consumer(cs, i), st.lam[i], st.x[i], sl)
        st.lam[i] = li
        st.status[i] = status
        accumulate(cs.n[i], st.x[i], sl, want_jac, X, JX)


@njit(parallel=True)
def _blocks_parallel(bounds, tot, mk, cs, st, want_jac, Xb, JXb):
    for b in prange(bounds.size - 1):
        _block(bounds[b], bounds[b + 1], tot, mk, cs, st, want_jac, Xb[b], JXb[b])


def consumer_aggregate(tot, mk, cs, st, want_jac):
    """Every consumer type's response to the totals ``tot``; returns the count-weighted total
    demand ``X (T+1,)`` and, with ``want_jac``, ``dX/d(p^0..p^T, Q^1..Q^T)``.

    ``cs.w (m, S)`` are each type's state weights: the probabilities ``π_s``, times
    ``U_s^{1-r}`` for CES utilities with several states (whose marginal utility of ``E_st`` is
    ``π_s a_t E_st^{r-1} U_s^{1-r}``: separable once ``U_s`` is held fixed).

    Types are processed in blocks (in parallel when there are many), each block summing its
    own derivatives, so no per-type derivative array is ever stored: memory stays linear in
    the number of types with a small constant, and the work is one pass over them.
    """
    T = cs.a.shape[1]
    m = cs.a.shape[0]
    bounds = blocks(m)
    nb = bounds.size - 1
    Xb = np.zeros((nb, T + 1))
    JXb = np.zeros((nb, T + 1, 2 * T + 1))
    # Each block sums its rank-one terms n_i (dx_i/dλ_i)(dλ_i/dY) in a plain loop: a BLAS
    # matrix product would be faster on paper, but multithreaded BLAS beside numba's threads (or
    # on machines that report more cores than they give) can be a hundred times slower.
    if nb == 1:
        _block(0, m, tot, mk, cs, st, want_jac, Xb[0], JXb[0])
    else:
        _blocks_parallel(bounds, tot, mk, cs, st, want_jac, Xb, JXb)
    return Xb.sum(axis=0), JXb.sum(axis=0)
