"""Each type's response to post totals, with its derivatives (numba).

The game is aggregative: an agent meets the others only through each post's totals. Given the
totals ``(p^t, Q^t)`` of every post (``p^t = B^t/Q^t``, ``Q^0 = Ω``), the *replacement* response
of a type is the strategy that is a best response to the others **and** consistent with those
totals (Cornes and Hartley's replacement function). Writing ``s = x/Q`` for the agent's share of
what it buys and ``σ = q/Q`` for its share of what is offered, the first-order conditions
(10)–(15) become, with market power scaled by ``τ`` (``τ = 1`` Nash, ``τ = 0`` price taking):

    purchase  (10), (12):  MU_t(x) (1 - τ s) = λ p^t (1 - τ β σ)
    output    (14), (15):  τ s MU_t(x) + β λ p^t (1 - τ σ) = ν φ'(q) + μ^t,   0 <= q <= K
    goods     (11), (13):  MU_0(x0) (1 - τ s^0) = λ p^0 (1 - τ β ω/Ω)    (consumers)
                           ν (1 - τ G/Ω) = λ p^0                          (producers)
    capacity  (16):        Σ_t μ^t = ν ρ                                  (long run)
    budget    (1)–(4):     Σ_t p^t x^t + p^0 x^0 = income

``MU_t(x) = a_t Σ_s π_s (1-κ_s) h'((1-κ_s) x - F_s)`` is the expected marginal utility of
electricity bought on post ``t`` net of verification (MODEL.md section 5); ``β`` is 1 under
simultaneous settlement and the discount under prepaid (the own revenue valued at ``βλ``).

The kernels solve these exactly for one type at given totals (nested safeguarded Newton) and
return, by the implicit function theorem, the derivatives of the type's demand and supply with
respect to the totals, from which the Nash solver assembles its Jacobian.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from emgame._jit import njit
from emgame.agents._kernels import INF, h1, h2, phi, phi1, x_floor

_MAXIT = 100


@njit
def phi2(q, theta, c):
    if c == 1.0 or q <= 0.0:
        return 0.0
    return (1.0 / (c * theta * theta)) * (1.0 / c - 1.0) * (q / theta) ** (1.0 / c - 2.0)


@njit
def mu_el(x, a, g, pi, kappa, F):
    """``MU_t(x)`` and its derivative."""
    m = 0.0
    d = 0.0
    for s in range(pi.size):
        k = 1.0 - kappa[s]
        E = k * x - F[s]
        m += pi[s] * a * k * h1(E, g)
        d += pi[s] * a * k * k * h2(E, g)
    return m, d


@njit
def solve_x(R, a, g, pi, kappa, F, tau, Q, hint):
    """Solve ``MU(x)(1 - τx/Q) = R`` for ``x`` in ``(x_floor, Q/τ)``; returns ``(x, f'(x))``.

    The left side falls from ``+inf`` to ``0``: one root, found by Newton safeguarded by
    bisection. ``f' = MU'(1-τx/Q) - τ MU/Q`` is returned for the implicit derivatives.
    """
    xlo = x_floor(kappa, F)
    if a <= 0.0:
        return xlo, -INF
    hi = Q / tau if tau > 0.0 else INF
    simple = True
    for s in range(pi.size):
        if F[s] != 0.0 or kappa[s] != 0.0:
            simple = False
    if simple and g == 1.0:
        # Cobb–Douglas without verification: a (1 - τx/Q)/x = R.
        x = a / (R + a * tau / Q) if tau > 0.0 else a / R
        m = a / x
        return x, -a / (x * x) * (1.0 - tau * x / Q) - tau * m / Q
    lo = xlo
    if hi == INF:
        hi = max(2.0 * xlo, hint, 1e-300)
        for _ in range(2100):
            m, _ = mu_el(hi, a, g, pi, kappa, F)
            if m < R:
                break
            lo = hi
            hi *= 2.0
    x = hint if (hint > lo and hint < hi) else (lo + 0.5 * (hi - lo))
    fp = -1.0
    for _ in range(_MAXIT * 2):
        m, d = mu_el(x, a, g, pi, kappa, F)
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
    m, d = mu_el(x, a, g, pi, kappa, F)
    fp = d * (1.0 - tau * x / Q) - tau * m / Q
    return x, fp


# --------------------------------------------------------------------------------------------
# Consumers
# --------------------------------------------------------------------------------------------


@njit
def _consumer_at(lam, p, Q, tau, beta, a, a0, ge, gg, omega, part, pi, kappa, v, t0, xhint,
                 x, fx):
    """Given ``λ``: each post's purchase ``x`` (and ``f'``); returns spending."""
    T = a.size
    S = pi.size
    F = np.zeros(S)
    Omega = Q[0]
    spend = 0.0
    # Goods post (classic consumers who value goods).
    x[0] = 0.0
    fx[0] = -INF
    if part[0] and a0 > 0.0:
        R = lam * p[0] * (1.0 - tau * beta * omega / Omega)
        if gg == 0.0:
            # Quasilinear goods: a0 (1 - τ x0/Ω) = R.
            if tau > 0.0:
                x[0] = max(0.0, Omega / tau * (1.0 - R / a0))
                if x[0] > 0.0:
                    fx[0] = -a0 * tau / Omega
            else:
                x[0] = 0.0  # handled by the caller (λ pinned at a0/p0)
        else:
            # Goods are consumed in every state: their weight is a0 Σ_s π_s (state weights
            # included, see `consumer_aggregate`).
            xg, fg = solve_x(R, a0 * pi.sum(), gg, np.ones(1), np.zeros(1), np.zeros(1), tau,
                             Omega, xhint[0])
            x[0] = xg
            fx[0] = fg
        spend += p[0] * x[0]
    for t in range(1, T + 1):
        x[t] = 0.0
        fx[t] = -INF
        if not part[t]:
            continue
        for s in range(S):
            F[s] = v[s, t] + (v[s, 0] if (t == t0 and part[0]) else 0.0)
        xt, ft = solve_x(lam * p[t], a[t - 1], ge, pi, kappa, F, tau, Q[t], xhint[t])
        x[t] = xt
        fx[t] = ft
        spend += p[t] * xt
    return spend


@njit
def consumer_response(p, Q, tau, beta, wallet, a, a0, ge, gg, omega, part, pi, kappa, v, t0,
                      lam0, xhint, x, dx_dp, dx_dQ, dx_dl, dl_dY):
    """One consumer type's replacement response; returns ``(λ, status)``.

    Income is the wallet ``W`` when ``wallet`` is a number, else the revenue ``p^0 ω``
    (simultaneous settlement, or stationary wallets);
    ``dl_dY`` receives ``dλ/d(p^0..p^T, Q^1..Q^T)``. Status 0 ok, 2 not converged, 3 the
    income cannot pay the verification of every post in ``part``: the least valued posts were
    dropped until it could (4: none left; it buys nothing).
    """
    T = a.size
    S = pi.size
    exog = wallet == wallet
    income = wallet if exog else p[0] * omega
    fx = np.zeros(T + 1)
    for t in range(T + 1):
        dx_dp[t] = 0.0
        dx_dQ[t] = 0.0
        dx_dl[t] = 0.0
    for k in range(dl_dY.size):
        dl_dY[k] = 0.0
    # The least spending that buys the verification of every post paid on; drop the least
    # valued posts while it exceeds the income.
    F = np.zeros(S)
    part = part.copy()
    reduced = False
    for _ in range(T + 2):
        need = 0.0
        for t in range(1, T + 1):
            if part[t]:
                for s in range(S):
                    F[s] = v[s, t] + (v[s, 0] if (t == t0 and part[0]) else 0.0)
                need += p[t] * x_floor(kappa, F)
        if need < income:
            break
        reduced = True
        worst = -1
        for t in range(1, T + 1):
            if part[t] and (worst < 0 or a[t - 1] < a[worst - 1]):
                worst = t
        if worst < 0:
            break
        part[worst] = False
        if worst == t0:
            part[0] = False
    buys = part[0] and a0 > 0.0
    for t in range(1, T + 1):
        if part[t] and a[t - 1] > 0.0:
            buys = True
    if not buys:
        for t in range(T + 1):
            x[t] = 0.0
        return lam0, 4 if reduced else 0
    Omega = Q[0]
    quasilinear = part[0] and a0 > 0.0 and gg == 0.0
    if quasilinear and tau == 0.0:
        # Price taker with linear goods: λ = a0/p0 if that leaves income for goods.
        lam = a0 / p[0]
        spend = _consumer_at(lam, p, Q, tau, beta, a, a0, ge, gg, omega, part, pi, kappa, v, t0,
                             xhint, x, fx)
        if spend <= income:
            x[0] = (income - spend) / p[0]
            _derivs_consumer(lam, p, Q, tau, beta, omega, part, x, fx, a, ge, pi, kappa, v, t0,
                             exog, True, dx_dp, dx_dQ, dx_dl, dl_dY)
            return lam, 0
        part0 = part.copy()
        part0[0] = False
        return consumer_response(p, Q, tau, beta, wallet, a, a0, ge, gg, omega, part0, pi, kappa,
                                 v, t0, lam0, xhint, x, dx_dp, dx_dQ, dx_dl, dl_dY)
    # Newton on y = log λ for spend(λ) = income (spend falls with λ), safeguarded by a bracket.
    y = math.log(lam0) if lam0 > 0.0 else 0.0
    lo = -INF
    hi = INF
    status = 2
    for _ in range(_MAXIT):
        lam = math.exp(y)
        spend = _consumer_at(lam, p, Q, tau, beta, a, a0, ge, gg, omega, part, pi, kappa, v, t0,
                             xhint, x, fx)
        r = spend - income
        if r > 0.0:
            lo = y
        else:
            hi = y
        # d spend / d y = λ Σ p_t dx_t/dλ,  dx_t/dλ = p_t (1 - ...)/f'
        ds = 0.0
        for t in range(T + 1):
            if fx[t] > -INF and fx[t] < 0.0:
                rhs = p[t] * (1.0 - tau * beta * omega / Omega) if t == 0 else p[t]
                ds += p[t] * rhs / fx[t]
        ds *= lam
        if abs(r) <= 1e-14 * income:
            status = 0
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
            status = 0
            break
        y = yn
    lam = math.exp(y)
    _consumer_at(lam, p, Q, tau, beta, a, a0, ge, gg, omega, part, pi, kappa, v, t0, x, x, fx)
    _derivs_consumer(lam, p, Q, tau, beta, omega, part, x, fx, a, ge, pi, kappa, v, t0, exog,
                     False, dx_dp, dx_dQ, dx_dl, dl_dY)
    if status == 0 and reduced:
        status = 3
    return lam, status


@njit
def _derivs_consumer(lam, p, Q, tau, beta, omega, part, x, fx, a, ge, pi, kappa, v, t0, exog,
                     pinned, dx_dp, dx_dQ, dx_dl, dl_dY):
    """Implicit derivatives of a consumer's response (see :func:`consumer_response`)."""
    T = a.size
    S = pi.size
    Omega = Q[0]
    F = np.zeros(S)
    for t in range(T + 1):
        dx_dp[t] = 0.0
        dx_dQ[t] = 0.0
        dx_dl[t] = 0.0
    for k in range(dl_dY.size):
        dl_dY[k] = 0.0
    for t in range(T + 1):
        if not (fx[t] > -INF and fx[t] < 0.0):
            continue
        w = (1.0 - tau * beta * omega / Omega) if t == 0 else 1.0
        dx_dl[t] = p[t] * w / fx[t]
        dx_dp[t] = lam * w / fx[t]
        if t > 0:
            for s in range(S):
                F[s] = v[s, t] + (v[s, 0] if (t == t0 and part[0]) else 0.0)
            m, _ = mu_el(x[t], a[t - 1], ge, pi, kappa, F)
            dx_dQ[t] = -m * tau * x[t] / (Q[t] * Q[t] * fx[t])
    if pinned:
        # λ = a0/p0 (price taker, linear goods): goods absorb the rest of income.
        dl_dY[0] = -lam / p[0]
        return
    dr_dl = 0.0
    for t in range(T + 1):
        dr_dl += p[t] * dx_dl[t]
    if dr_dl == 0.0:
        return
    # r = Σ p_t x_t - income;  income = p0 ω under revenue-financed budgets.
    dr0 = x[0] + p[0] * dx_dp[0] - (0.0 if exog else omega)
    dl_dY[0] = -dr0 / dr_dl
    for t in range(1, T + 1):
        dl_dY[t] = -(x[t] + p[t] * dx_dp[t]) / dr_dl
        dl_dY[T + t] = -(p[t] * dx_dQ[t]) / dr_dl


@njit
def _accumulate(w, x, dx_dp, dx_dQ, dx_dl, dl_dY, want_jac, X, JX):
    """Add one type's demand ``x`` (weight ``w``, its count) to ``X`` and, with ``want_jac``,
    its derivatives ``dx/dY = diag(dx/dp, dx/dQ) + (dx/dλ)(dλ/dY)`` to ``JX``."""
    T = x.size - 1
    for t in range(T + 1):
        X[t] += w * x[t]
    if want_jac:
        for t in range(T + 1):
            JX[t, t] += w * dx_dp[t]
            if t > 0:
                JX[t, T + t] += w * dx_dQ[t]
            c = w * dx_dl[t]
            if c != 0.0:
                for k in range(dl_dY.size):
                    JX[t, k] += c * dl_dY[k]


def _blocks(m: int) -> np.ndarray:
    """Block boundaries over ``m`` types: one block below 4096 types, else up to 64 (in
    parallel)."""
    nb = 1 if m < 4096 else min(64, max(2, m // 4096))
    return np.linspace(0, m, nb + 1).astype(np.int64)


@njit
def _consumer_block(lo, hi, p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi, kappa, v,
                    t0, lam, x, status, want_jac, X, JX):
    """Responses of types ``lo..hi-1``, added (weighted by counts) into ``X`` and ``JX``."""
    T = a.shape[1]
    nY = 2 * T + 1
    dx_dp = np.zeros(T + 1)
    dx_dQ = np.zeros(T + 1)
    dx_dl = np.zeros(T + 1)
    dl_dY = np.zeros(nY)
    for i in range(lo, hi):
        li, st = consumer_response(p, Q, tau, beta, wallet[i], a[i], a0[i], ge[i], gg[i],
                                   omega[i], part[i], pi[i], kappa, v, t0, lam[i], x[i], x[i],
                                   dx_dp, dx_dQ, dx_dl, dl_dY)
        lam[i] = li
        status[i] = st
        _accumulate(n[i], x[i], dx_dp, dx_dQ, dx_dl, dl_dY, want_jac, X, JX)


@njit(parallel=True)
def _consumer_blocks(blocks, p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi, kappa,
                     v, t0, lam, x, status, want_jac, Xb, JXb):
    for b in prange(blocks.size - 1):
        _consumer_block(blocks[b], blocks[b + 1], p, Q, tau, beta, wallet, n, a, a0, ge, gg,
                        omega, part, pi, kappa, v, t0, lam, x, status, want_jac, Xb[b], JXb[b])


def consumer_aggregate(p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi, kappa, v, t0,
                       lam, x, status, want_jac):
    """Every consumer type's response to ``(p, Q)``; returns the count-weighted total demand
    ``X (T+1,)`` and, with ``want_jac``, ``dX/d(p^0..p^T, Q^1..Q^T)``.

    ``pi (n, S)`` are each type's state weights: the probabilities ``π_s``, times
    ``U_s^{1-r}`` for CES utilities with several states (whose marginal utility of ``E_st`` is
    ``π_s a_t E_st^{r-1} U_s^{1-r}``: separable once ``U_s`` is held fixed).

    Types are processed in blocks (in parallel when there are many), each block summing its
    own derivatives, so no per-type derivative array is ever stored: memory stays linear in
    the number of types with a small constant, and the work is one pass over them.
    """
    T = a.shape[1]
    m = a.shape[0]
    blocks = _blocks(m)
    nb = blocks.size - 1
    Xb = np.zeros((nb, T + 1))
    JXb = np.zeros((nb, T + 1, 2 * T + 1))
    # Each block sums its rank-one terms n_i (dx_i/dλ_i)(dλ_i/dY) in a plain loop: a BLAS
    # matrix product would be faster on paper, but multithreaded BLAS beside numba's threads (or
    # on machines that report more cores than they give) can be a hundred times slower.
    if nb == 1:
        _consumer_block(0, m, p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi, kappa,
                        v, t0, lam, x, status, want_jac, Xb[0], JXb[0])
    else:
        _consumer_blocks(blocks, p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi,
                         kappa, v, t0, lam, x, status, want_jac, Xb, JXb)
    return Xb.sum(axis=0), JXb.sum(axis=0)


@njit
def _joint_block(lo, hi, p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi, kappa, v,
                 t0, lam, x, want_jac, X, Xc, JX, corr, dldY, rres):
    """Responses of types ``lo..hi-1`` at their current ``λ`` (not solved: one Newton step's
    worth), for :func:`consumer_joint`."""
    T = a.shape[1]
    nY = 2 * T + 1
    fx = np.zeros(T + 1)
    dx_dp = np.zeros(T + 1)
    dx_dQ = np.zeros(T + 1)
    dx_dl = np.zeros(T + 1)
    dl = np.zeros(nY)
    for i in range(lo, hi):
        exog = wallet[i] == wallet[i]
        income = wallet[i] if exog else p[0] * omega[i]
        spend = _consumer_at(lam[i], p, Q, tau, beta, a[i], a0[i], ge[i], gg[i], omega[i],
                             part[i], pi[i], kappa, v, t0, x[i], x[i], fx)
        _derivs_consumer(lam[i], p, Q, tau, beta, omega[i], part[i], x[i], fx, a[i], ge[i],
                         pi[i], kappa, v, t0, exog, False, dx_dp, dx_dQ, dx_dl, dl)
        r = spend - income
        r_l = 0.0
        for t in range(T + 1):
            r_l += p[t] * dx_dl[t]
        c = -r / r_l if r_l < 0.0 else 0.0
        corr[i] = c
        rres[i] = r / income if income > 0.0 else r
        for k in range(nY):
            dldY[i, k] = dl[k]
        for t in range(T + 1):
            Xc[t] += n[i] * dx_dl[t] * c
        _accumulate(n[i], x[i], dx_dp, dx_dQ, dx_dl, dl, want_jac, X, JX)


@njit
def _joint_block_cd(lo, hi, p, Q, tau, beta, wallet, n, a, a0, omega, lam, x, want_jac, X, Xc,
                    JX, corr, dldY, rres):
    """:func:`_joint_block` for Cobb–Douglas types without verification costs, in closed form:
    ``x_t = a_t / (λ p^t + a_t τ/Q^t)`` (the purchase condition solved for ``x``)."""
    T = a.shape[1]
    nY = 2 * T + 1
    Omega = Q[0]
    U = np.zeros((hi - lo if want_jac else 0, T + 1))
    for i in range(lo, hi):
        exog = wallet[i] == wallet[i]
        income = wallet[i] if exog else p[0] * omega[i]
        li = lam[i]
        spend = 0.0
        r_l = 0.0
        for k in range(nY):
            dldY[i, k] = 0.0
        # Goods (classic types): a0 (1 - τ x0/Ω)/x0 = λ p0 (1 - τβω/Ω).
        w0 = 1.0 - tau * beta * omega[i] / Omega
        dxl0 = 0.0
        dxp0 = 0.0
        if a0[i] > 0.0:
            d = li * p[0] * w0 + a0[i] * tau / Omega
            x0 = a0[i] / d
            dxl0 = -a0[i] * p[0] * w0 / (d * d)
            dxp0 = -a0[i] * li * w0 / (d * d)
        else:
            x0 = 0.0
        x[i, 0] = x0
        spend += p[0] * x0
        r_l += p[0] * dxl0
        dr_p0 = x0 + p[0] * dxp0 - (0.0 if exog else omega[i])
        for t in range(1, T + 1):
            at = a[i, t - 1]
            if at > 0.0:
                d = li * p[t] + at * tau / Q[t]
                xt = at / d
                dxl = -at * p[t] / (d * d)
                dxp = -at * li / (d * d)
                dxq = at * at * tau / (Q[t] * Q[t] * d * d)
            else:
                xt = 0.0
                dxl = 0.0
                dxp = 0.0
                dxq = 0.0
            x[i, t] = xt
            spend += p[t] * xt
            r_l += p[t] * dxl
            dldY[i, t] = xt + p[t] * dxp          # dr/dp_t for now
            dldY[i, T + t] = p[t] * dxq           # dr/dQ_t
            if want_jac:
                JX[t, t] += n[i] * dxp
                JX[t, T + t] += n[i] * dxq
                U[i - lo, t] = n[i] * dxl
        dldY[i, 0] = dr_p0
        if want_jac:
            JX[0, 0] += n[i] * dxp0
            U[i - lo, 0] = n[i] * dxl0
        r = spend - income
        c = -r / r_l if r_l < 0.0 else 0.0
        corr[i] = c
        rres[i] = r / income if income > 0.0 else r
        for k in range(nY):
            dldY[i, k] = -dldY[i, k] / r_l if r_l < 0.0 else 0.0
        w = n[i]
        if want_jac:
            for t in range(T + 1):
                ut = U[i - lo, t]
                if ut != 0.0:
                    for k in range(nY):
                        JX[t, k] += ut * dldY[i, k]
        X[0] += w * x0
        Xc[0] += w * dxl0 * c
        for t in range(1, T + 1):
            X[t] += w * x[i, t]
        if c != 0.0:
            for t in range(1, T + 1):
                at = a[i, t - 1]
                if at > 0.0:
                    d = li * p[t] + at * tau / Q[t]
                    Xc[t] += w * (-at * p[t] / (d * d)) * c


@njit(parallel=True)
def _joint_blocks_cd(blocks, p, Q, tau, beta, wallet, n, a, a0, omega, lam, x, want_jac, Xb,
                     Xcb, JXb, corr, dldY, rres):
    for b in prange(blocks.size - 1):
        _joint_block_cd(blocks[b], blocks[b + 1], p, Q, tau, beta, wallet, n, a, a0, omega, lam,
                        x, want_jac, Xb[b], Xcb[b], JXb[b], corr, dldY, rres)


@njit(parallel=True)
def _joint_blocks(blocks, p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi, kappa, v,
                  t0, lam, x, want_jac, Xb, Xcb, JXb, corr, dldY, rres):
    for b in prange(blocks.size - 1):
        _joint_block(blocks[b], blocks[b + 1], p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega,
                     part, pi, kappa, v, t0, lam, x, want_jac, Xb[b], Xcb[b], JXb[b], corr, dldY,
                     rres)


def joint_closed_form(a, a0, ge, gg, part, kappa, v) -> bool:
    """Whether :func:`consumer_joint` may use the closed form: Cobb–Douglas types without
    verification costs, paying wherever they value."""
    return bool(np.all(ge == 1.0) and np.all(gg == 1.0) and not np.any(v)
                and not np.any(kappa) and np.array_equal(part[:, 1:], a > 0)
                and np.array_equal(part[:, 0], a0 > 0))


def consumer_joint(p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi, kappa, v, t0,
                   lam, x, want_jac, corr, dldY, rres, closed_form):
    """One pass of Newton's method on consumers' budgets jointly with the totals.

    At each type's current ``λ`` (not re-solved): demand ``x``, its budget residual ``rres``
    (relative), the Newton correction of ``λ`` at fixed totals ``corr = -r/r_λ`` and
    ``dldY = dλ/dY``. Returns the weighted demand ``X``, the demand change the corrections
    predict ``Xc``, and (with ``want_jac``) the Schur-complemented Jacobian ``dX/dY``: the
    same matrix as :func:`consumer_aggregate`'s, at a third of the work per pass.
    ``closed_form`` is :func:`joint_closed_form` of the same arguments (fixed within a solve,
    so the caller tests it once).
    """
    T = a.shape[1]
    m = a.shape[0]
    blocks = _blocks(m)
    nb = blocks.size - 1
    Xb = np.zeros((nb, T + 1))
    Xcb = np.zeros((nb, T + 1))
    JXb = np.zeros((nb, T + 1, 2 * T + 1))
    if closed_form:
        _joint_blocks_cd(blocks, p, Q, tau, beta, wallet, n, a, a0, omega, lam, x, want_jac, Xb,
                         Xcb, JXb, corr, dldY, rres)
    elif nb == 1:
        _joint_block(0, m, p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi, kappa, v,
                     t0, lam, x, want_jac, Xb[0], Xcb[0], JXb[0], corr, dldY, rres)
    else:
        _joint_blocks(blocks, p, Q, tau, beta, wallet, n, a, a0, ge, gg, omega, part, pi, kappa,
                      v, t0, lam, x, want_jac, Xb, Xcb, JXb, corr, dldY, rres)
    return Xb.sum(axis=0), Xcb.sum(axis=0), JXb.sum(axis=0)


# --------------------------------------------------------------------------------------------
# Producers
# --------------------------------------------------------------------------------------------


@njit
def _output_residual(q, lam, nu, p, Q, tau, beta, a, g, pi, kappa, F, paying, theta, c, xh):
    """``(F2, dF2/dq, x, f1x)`` at offer ``q``, with ``x`` solving the purchase condition F1."""
    if paying:
        x, f1x = solve_x(lam * p * (1.0 - tau * beta * q / Q), a, g, pi, kappa, F, tau, Q, xh)
        if a > 0.0:
            m, dm = mu_el(x, a, g, pi, kappa, F)
        else:
            m, dm = 0.0, 0.0
    else:
        x, f1x, m, dm = 0.0, -INF, 0.0, 0.0
    F2 = tau * x / Q * m + beta * lam * p * (1.0 - tau * q / Q) - nu * phi1(q, theta, c)
    dxdq = 0.0
    if paying and f1x < 0.0 and f1x > -INF:
        dxdq = -(lam * p * tau * beta / Q) / f1x
    dF2 = tau / Q * (m + x * dm) * dxdq - beta * lam * p * tau / Q - nu * phi2(q, theta, c)
    return F2, dF2, x, f1x


@njit
def _post_output(lam, nu, p, Q, tau, beta, a, g, pi, kappa, F, paying, theta, c, K, xhint,
                 qhint):
    """One producer post at given ``(λ, ν, K)``: ``(x, q, μ, state)``.

    ``state``: 0 interior ``q``, 1 ``q = 0``, 2 ``q = K`` (capacity binds, ``μ = F2 >= 0``).
    F2 (output) falls with ``q`` when costs are convex; it is solved by Newton safeguarded by
    bisection, with ``x`` from F1 (purchase) at each trial ``q``.
    """
    # The own share of the post stays below one: q < Q/(τβ) keeps F1's right side positive.
    qcap = K
    if tau > 0.0:
        qcap = min(K, Q / (tau * max(beta, 1e-300)) * (1.0 - 1e-12))
    lo = 0.0
    if c > 1.0:
        # Increasing returns: marginal cost is infinite at q = 0, so q = 0 is always a local
        # best; the other candidate is capacity or an interior maximum (where F2 falls through
        # zero). Which of them is best is settled by the caller's regime (q pinned at zero).
        F2, dF2, x, _ = _output_residual(qcap, lam, nu, p, Q, tau, beta, a, g, pi, kappa, F,
                                         paying, theta, c, xhint)
        if F2 >= 0.0:
            return x, qcap, F2 if qcap == K else 0.0, 2 if qcap == K else 0
        found = False
        for k in range(1, 61):
            qk = qcap * 0.5 ** (k * 0.5)
            F2, dF2, x, _ = _output_residual(qk, lam, nu, p, Q, tau, beta, a, g, pi, kappa, F,
                                             paying, theta, c, xhint)
            if F2 > 0.0:
                lo = qk
                found = True
                break
        if not found:
            x0, _ = solve_x(lam * p, a, g, pi, kappa, F, tau, Q, xhint) if paying else (0.0, 0.0)
            return x0, 0.0, 0.0, 1
    else:
        F2, dF2, x, _ = _output_residual(0.0, lam, nu, p, Q, tau, beta, a, g, pi, kappa, F,
                                         paying, theta, c, xhint)
        if F2 <= 0.0:
            return x, 0.0, 0.0, 1
        F2, dF2, x, _ = _output_residual(qcap, lam, nu, p, Q, tau, beta, a, g, pi, kappa, F,
                                         paying, theta, c, xhint)
        if F2 >= 0.0:
            return x, qcap, F2 if qcap == K else 0.0, 2 if qcap == K else 0
    hi = qcap
    q = qhint if (qhint > 0.0 and qhint < qcap) else 0.5 * qcap
    x = xhint
    for _ in range(_MAXIT * 2):
        F2, dF2, x, _ = _output_residual(q, lam, nu, p, Q, tau, beta, a, g, pi, kappa, F,
                                         paying, theta, c, x)
        if F2 > 0.0:
            lo = q
        else:
            hi = q
        qn = q - F2 / dF2 if dF2 < 0.0 else -1.0
        if not (qn > lo and qn < hi):
            if lo > 0.0 and hi > 8.0 * lo:
                qn = math.sqrt(lo * hi)
            elif lo == 0.0 and q > 1e-12 * qcap:
                qn = 0.25 * q
            else:
                qn = 0.5 * (lo + hi)
        if abs(qn - q) <= 4e-16 * q or hi - lo <= 4e-16 * hi:
            q = qn
            break
        q = qn
    F2, dF2, x, _ = _output_residual(q, lam, nu, p, Q, tau, beta, a, g, pi, kappa, F, paying,
                                     theta, c, x)
    return x, q, 0.0, 0


@njit
def _post_jac(lam, nu, p, Q, tau, beta, a, g, pi, kappa, F, paying, theta, c, x, q, state,
              long_run, out):
    """Implicit derivatives of one producer post's ``(x, q)`` and ``μ``.

    Fills ``out[k, m]``: rows ``k`` = x, q, μ; columns ``m`` = λ, ν, K, p^t, Q^t.
    """
    for k in range(3):
        for m in range(5):
            out[k, m] = 0.0
    if paying and a > 0.0:
        mu, dmu = mu_el(x, a, g, pi, kappa, F)
    else:
        mu, dmu = 0.0, 0.0
    # F1 = MU(1-τx/Q) - λp(1-τβq/Q);  F2 = τ(x/Q)MU + βλp(1-τq/Q) - νφ'(q) - μ
    F1x = dmu * (1.0 - tau * x / Q) - tau * mu / Q
    F1q = lam * p * tau * beta / Q
    F1_par = np.array([-p * (1.0 - tau * beta * q / Q), 0.0, 0.0,
                       -lam * (1.0 - tau * beta * q / Q),
                       mu * tau * x / (Q * Q) - lam * p * tau * beta * q / (Q * Q)])
    F2x = tau / Q * (mu + x * dmu)
    F2q = -beta * lam * p * tau / Q - nu * phi2(q, theta, c)
    F2_par = np.array([beta * p * (1.0 - tau * q / Q), -phi1(q, theta, c), 0.0,
                       beta * lam * (1.0 - tau * q / Q),
                       -tau * x * mu / (Q * Q) + beta * lam * p * tau * q / (Q * Q)])
    if state == 0:
        # Both F1 and F2 hold (x free if paying).
        if paying and a > 0.0:
            det = F1x * F2q - F1q * F2x
            for m in range(5):
                out[0, m] = -(F2q * F1_par[m] - F1q * F2_par[m]) / det
                out[1, m] = -(-F2x * F1_par[m] + F1x * F2_par[m]) / det
        else:
            for m in range(5):
                out[1, m] = -F2_par[m] / F2q if F2q != 0.0 else 0.0
        return
    # q pinned: at 0, or at K (which moves with the chosen capacity in the long run).
    if state == 2 and long_run:
        out[1, 2] = 1.0
    if paying and a > 0.0:
        for m in range(5):
            out[0, m] = -(F1_par[m] + F1q * out[1, m]) / F1x
    if state == 2:
        # μ = F2 at (x, K)
        for m in range(5):
            out[2, m] = F2_par[m] + F2x * out[0, m] + F2q * out[1, m]


@njit
def _producer_eval(lam, nu, K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, rho,
                   long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac, want_jac):
    """Per-post outputs at ``(λ, ν, K)`` and the type's residuals ``(G1, G2, G3)``.

    G1 budget, G2 goods-post condition, G3 capacity (long run). With ``want_jac``, ``jac``
    receives ``d(G1, G2, G3)/d(log λ, log ν, K)`` in its first three columns and
    ``d/d(p^0..p^T, Q^1..Q^T)`` after.
    """
    T = a.size
    S = pi.size
    F = np.zeros(S)
    Omega = Q[0]
    need = rho * K if long_run else 0.0
    x0 = 0.0
    dx0_dnu = 0.0
    if classic and a0 > 0.0 and gg > 0.0:
        x0 = (a0 * pi.sum() / nu) ** (1.0 / gg)
        dx0_dnu = -x0 / (gg * nu)
    G1 = 0.0
    G3 = -nu * rho if long_run else 0.0
    pj = np.zeros((3, 5))
    if want_jac:
        for r in range(3):
            for k in range(jac.shape[1]):
                jac[r, k] = 0.0
    dG_dz = np.zeros(3)      # dG(goods)/d(log λ, log ν, K)
    dG_dY = np.zeros(2 * T + 1)
    for t in range(1, T + 1):
        paying = (part[t] & 1) != 0
        for s in range(S):
            F[s] = v[s, t] + (v[s, 0] if t == t0 else 0.0)
        if (part[t] & 2) != 0:
            # Output pinned at zero on this post (a regime chosen by the caller).
            if paying:
                xt, _ = solve_x(lam * p[t], a[t - 1], ge, pi, kappa, F, tau, Q[t], xh[t])
            else:
                xt = 0.0
            qt, mt, st = 0.0, 0.0, 1
        else:
            xt, qt, mt, st = _post_output(lam, nu, p[t], Q[t], tau, beta, a[t - 1], ge, pi,
                                          kappa, F, paying, theta, c, K, xh[t], qh[t])
        x[t] = xt
        q[t] = qt
        mu[t] = mt
        state[t] = st
        need += phi(qt, theta, c)
        G1 += p[t] * xt - (0.0 if exog else p[t] * qt)
        if long_run and st == 2:
            G3 += mt
        if want_jac:
            _post_jac(lam, nu, p[t], Q[t], tau, beta, a[t - 1], ge, pi, kappa, F, paying, theta,
                      c, xt, qt, st, long_run, pj)
            dphi = phi1(qt, theta, c)
            # chain: columns of pj are (λ, ν, K, p_t, Q_t); z uses log λ, log ν.
            zs = (lam, nu, 1.0)
            for k in range(3):
                dxk = pj[0, k] * zs[k]
                dqk = pj[1, k] * zs[k]
                jac[0, k] += p[t] * dxk - (0.0 if exog else p[t] * dqk)
                dG_dz[k] += dphi * dqk
                if long_run and st == 2:
                    jac[2, k] += pj[2, k] * zs[k]
            # Y columns: p_t at index t, Q_t at index T + t (offset 3 in jac).
            jac[0, 3 + t] += xt - (0.0 if exog else qt) + p[t] * pj[0, 3] - (
                0.0 if exog else p[t] * pj[1, 3])
            jac[0, 3 + T + t] += p[t] * pj[0, 4] - (0.0 if exog else p[t] * pj[1, 4])
            dG_dY[t] += dphi * pj[1, 3]
            dG_dY[T + t] += dphi * pj[1, 4]
            if long_run and st == 2:
                jac[2, 3 + t] += pj[2, 3]
                jac[2, 3 + T + t] += pj[2, 4]
    if classic and a0 > 0.0 and gg == 0.0 and tau > 0.0:
        # Quasilinear goods: their marginal utility a0 is constant, so either goods are
        # consumed and ν = a0, with G from the goods condition ν(1 - τG/Ω) = λp^0, or none are
        # consumed (x0 = 0: G = inputs, ν >= a0). The complementarity x0 >= 0 ⊥ ν - a0 >= 0
        # in min form: G2 = min(goods condition at x0 = 0, λ(ν - a0)/a0), each piece where it
        # is the smaller.
        a0w = a0 * pi.sum()
        Gs = Omega / tau * (1.0 - lam * p[0] / nu)
        if lam * (nu - a0w) / a0w < nu * (1.0 - tau * need / Omega) - lam * p[0]:
            G = Gs
            x[0] = G
            q[0] = 0.0
            G1 += p[0] * G - (W if exog else 0.0)
            G2 = lam * (nu - a0w) / a0w
            if want_jac:
                if long_run:
                    dG_dz[2] += rho
                # budget: p0 G with G = Gs(λ, ν, p0); inputs no longer enter G.
                c0 = Omega / tau * lam * p[0] / nu
                jac[0, 0] += p[0] * (-c0)
                jac[0, 1] += p[0] * c0
                jac[0, 3] += G - p[0] * Omega / tau * lam / nu
                jac[1, 0] += lam * (nu - a0w) / a0w
                jac[1, 1] += lam * nu / a0w
                if long_run:
                    jac[2, 1] += -nu * rho
            return G1, G2, G3
    G = need + x0
    x[0] = G
    q[0] = 0.0
    G1 += p[0] * G - (W if exog else 0.0)
    G2 = nu * (1.0 - tau * G / Omega) - lam * p[0]
    if want_jac:
        if long_run:
            dG_dz[2] += rho
        dG_dz[1] += dx0_dnu * nu
        for k in range(3):
            jac[0, k] += p[0] * dG_dz[k]
            jac[1, k] += -nu * tau / Omega * dG_dz[k]
        jac[1, 0] += -lam * p[0]
        jac[1, 1] += nu * (1.0 - tau * G / Omega)
        if long_run:
            jac[2, 1] += -nu * rho
        jac[0, 3] += G
        jac[1, 3] += -lam
        for k in range(2 * T + 1):
            jac[0, 3 + k] += p[0] * dG_dY[k]
            jac[1, 3 + k] += -nu * tau / Omega * dG_dY[k]
    return G1, G2, G3


_NESTED_EVALS = 20000
"""Evaluations the bracketing fallback of a producer's response may spend (about 2 s)."""


@njit
def _producer_newton(p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, Kbar, rho,
                     long_run, part, pi, kappa, v, t0, z, xh, qh, x, q, mu, state, jac):
    """Newton on ``(log λ, log r, K)`` with ``r = ν/λ``, the goods price in money including
    market power; residuals scaled to be dimensionless: budget over turnover, goods condition
    ``r (1 - τG/Ω) - p^0``, capacity over ``ν``. Returns ``True`` on convergence."""
    T = a.size
    nz = 3 if long_run else 2
    lam = math.exp(z[0])
    nu = math.exp(z[1])
    K = z[2] if long_run else Kbar
    for _ in range(_MAXIT):
        G1, G2, G3 = _producer_eval(lam, nu, K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic,
                                    theta, c, rho, long_run, part, pi, kappa, v, t0, xh, qh, x, q,
                                    mu, state, jac, True)
        for t in range(T + 1):
            xh[t] = x[t]
            qh[t] = q[t]
        sc = p[0] * x[0]
        for t in range(1, T + 1):
            sc += p[t] * (x[t] + q[t])
        sc = max(sc, 1e-300)
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
            dl = jac[r_, 0] + jac[r_, 1]
            dr = jac[r_, 1]
            H[r_, 0] = dl / divs[r_]
            H[r_, 1] = dr / divs[r_]
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
            g1, g2, g3 = _producer_eval(lam_n, nu_n, K_n, p, Q, tau, beta, exog, W, a, a0, ge,
                                        gg, classic, theta, c, rho, long_run, part, pi, kappa, v,
                                        t0, xh, qh, x, q, mu, state, jac, False)
            s2 = p[0] * x[0]
            for t in range(1, T + 1):
                s2 += p[t] * (x[t] + q[t])
            s2 = max(s2, 1e-300)
            rn = max(abs(g1 / s2), abs(g2 / lam_n))
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
def _nested_eval(lam, r, K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, rho,
                 long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac, budget):
    """Residuals at ``(λ, ν = rλ)``, solving the capacity condition for ``K`` in the long run.
    ``budget[0]`` counts down the evaluations the fallback may still spend."""
    budget[0] -= 1
    if not long_run:
        return _producer_eval(lam, r * lam, K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic,
                              theta, c, rho, long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu,
                              state, jac, False), K
    # Σ_t μ_t(K) - νρ falls with K: bisect (geometrically) on [0, Khi].
    nu = r * lam
    lo = 0.0
    hi = max(K, 1e-12)
    g = _producer_eval(lam, nu, hi, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c,
                       rho, long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac, False)
    for _ in range(200):
        if g[2] <= 0.0 or budget[0] <= 0:
            break
        budget[0] -= 1
        lo = hi
        hi *= 2.0
        g = _producer_eval(lam, nu, hi, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta,
                           c, rho, long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac,
                           False)
    for _ in range(200):
        if budget[0] <= 0:
            break
        budget[0] -= 1
        mid = math.sqrt(lo * hi) if lo > 0.0 and hi > 4.0 * lo else 0.5 * (lo + hi)
        g = _producer_eval(lam, nu, mid, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta,
                           c, rho, long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac,
                           False)
        if g[2] > 0.0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * hi:
            break
    K = 0.5 * (lo + hi)
    return _producer_eval(lam, nu, K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c,
                          rho, long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac,
                          False), K


@njit
def _r_of_lambda(lam, r0, K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, rho,
                 long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac, budget):
    """The goods price ``r = ν/λ`` solving the goods condition ``r(1 - τG/Ω) = p^0`` at ``λ``.

    Its left side rises with ``r`` (dearer goods: less output, less goods consumed), so the
    root is bracketed from ``r = p^0`` upwards and closed by the Illinois method in ``log r``.
    """
    lo = math.log(p[0])
    if tau == 0.0:
        g, K = _nested_eval(lam, p[0], K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta,
                            c, rho, long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state,
                            jac, budget)
        return p[0], K, g[0]
    g, K = _nested_eval(lam, p[0], K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c,
                        rho, long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac, budget)
    flo = g[1]
    hi = max(math.log(r0), lo + 1e-3) if r0 > 0.0 else lo + 1.0
    step = 1.0
    fhi = -1.0
    for _ in range(12):
        g, K = _nested_eval(lam, math.exp(hi), K, p, Q, tau, beta, exog, W, a, a0, ge, gg,
                            classic, theta, c, rho, long_run, part, pi, kappa, v, t0, xh, qh, x,
                            q, mu, state, jac, budget)
        fhi = g[1]
        if fhi >= 0.0:
            break
        lo, flo = hi, fhi
        hi = hi + step
        step *= 2.0
    # Illinois on the bracket (the caller polishes by Newton, so 1e-12 is plenty).
    side = 0
    mid = hi
    for _ in range(100):
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            break
        mid = (lo * fhi - hi * flo) / (fhi - flo) if fhi != flo else 0.5 * (lo + hi)
        if not (mid > lo and mid < hi):
            mid = 0.5 * (lo + hi)
        g, K = _nested_eval(lam, math.exp(mid), K, p, Q, tau, beta, exog, W, a, a0, ge, gg,
                            classic, theta, c, rho, long_run, part, pi, kappa, v, t0, xh, qh, x,
                            q, mu, state, jac, budget)
        fm = g[1]
        if fm == 0.0:
            lo = hi = mid
            break
        if fm > 0.0:
            hi, fhi = mid, fm
            if side == 1:
                flo *= 0.5
            side = 1
        else:
            lo, flo = mid, fm
            if side == -1:
                fhi *= 0.5
            side = -1
    r = math.exp(0.5 * (lo + hi))
    g, K = _nested_eval(lam, r, K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c,
                        rho, long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac, budget)
    return r, K, g[0]


@njit
def _producer_nested(p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, Kbar, rho,
                     long_run, part, pi, kappa, v, t0, z, xh, qh, x, q, mu, state, jac):
    """Robust fallback: bisection on ``log λ`` for the budget (spending falls as money grows
    dearer), with the goods price ``r(λ)`` and, in the long run, ``K`` solved inside.
    Returns ``True`` when the budget balances; ``False`` also when it has spent
    :data:`_NESTED_EVALS` evaluations (nested bisections can otherwise run for minutes where
    no response exists)."""
    budget = np.array([_NESTED_EVALS])
    K = z[2] if long_run else Kbar
    r = p[0]
    ylo = -INF
    yhi = INF
    y = z[0]
    glo = 0.0
    ghi = 0.0
    step = 1.0
    for _ in range(12):
        r, K, G1 = _r_of_lambda(math.exp(y), r, K, p, Q, tau, beta, exog, W, a, a0, ge, gg,
                                classic, theta, c, rho, long_run, part, pi, kappa, v, t0, xh, qh,
                                x, q, mu, state, jac, budget)
        if G1 > 0.0:
            ylo, glo = y, G1
        else:
            yhi, ghi = y, G1
        if (ylo > -INF and yhi < INF) or budget[0] <= 0:
            break
        y = y + step if yhi == INF else y - step
        step *= 2.0
    if not (ylo > -INF and yhi < INF):
        return False  # no λ balances the budget: no response at these totals
    # Illinois on the bracket (G1 falls with y); Newton polishes afterwards.
    side = 0
    for _ in range(100):
        if yhi - ylo <= 1e-12 * max(1.0, abs(y)):
            break
        if budget[0] <= 0:
            return False
        y = (ylo * ghi - yhi * glo) / (ghi - glo) if ghi != glo else 0.5 * (ylo + yhi)
        if not (y > ylo and y < yhi):
            y = 0.5 * (ylo + yhi)
        r, K, G1 = _r_of_lambda(math.exp(y), r, K, p, Q, tau, beta, exog, W, a, a0, ge, gg,
                                classic, theta, c, rho, long_run, part, pi, kappa, v, t0, xh, qh,
                                x, q, mu, state, jac, budget)
        if G1 == 0.0:
            break
        if G1 > 0.0:
            ylo, glo = y, G1
            if side == -1:
                ghi *= 0.5
            side = -1
        else:
            yhi, ghi = y, G1
            if side == 1:
                glo *= 0.5
            side = 1
    if not (abs(y) < 700.0 and r > 0.0 and r < INF):
        return False
    lam = math.exp(y)
    z[0] = y
    z[1] = math.log(r * lam)
    if long_run:
        z[2] = K
    return True


@njit
def producer_response(p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, Kbar, rho,
                      long_run, part, pi, kappa, v, t0, z, xh, qh, x, q, mu, dx_dY, dq_dY):
    """One producer type's replacement response, by Newton on its multipliers.

    ``z = (log λ, log ν, K)`` is read as the start and written. Fills ``x`` (``x[0] = G`` goods
    bought), ``q``, ``μ`` and the derivatives ``dx_dY``, ``dq_dY`` (rows posts ``0..T``,
    columns ``p^0..p^T, Q^1..Q^T``). A failed warm start is retried from cold starts. Returns
    status 0 ok, 2 not converged.
    """
    T = a.size
    nY = 2 * T + 1
    nz = 3 if long_run else 2
    state = np.zeros(T + 1, dtype=np.int64)
    jac = np.zeros((3, 3 + nY))
    z_in = z.copy()
    status = 0
    if not _producer_newton(p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, Kbar,
                            rho, long_run, part, pi, kappa, v, t0, z, xh, qh, x, q, mu, state,
                            jac):
        status = 2
        # Bracketing fallback, then a final Newton polish from its answer.
        z[:] = z_in
        if _producer_nested(p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, Kbar,
                            rho, long_run, part, pi, kappa, v, t0, z, xh, qh, x, q, mu, state,
                            jac):
            if _producer_newton(p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c,
                                Kbar, rho, long_run, part, pi, kappa, v, t0, z, xh, qh, x, q, mu,
                                state, jac):
                status = 0
    if status != 0:
        z[:] = z_in  # keep the caller's warm start usable
    lam = math.exp(z[0])
    nu = math.exp(z[1])
    K = z[2] if long_run else Kbar
    # Derivatives with respect to the totals: dz/dY = -H^{-1} ∂G/∂Y, then each post.
    _producer_eval(lam, nu, K, p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, rho,
                   long_run, part, pi, kappa, v, t0, xh, qh, x, q, mu, state, jac, True)
    H = np.zeros((nz, nz))
    for r in range(nz):
        for k in range(nz):
            H[r, k] = jac[r, k]
    GY = np.zeros((nz, nY))
    for r in range(nz):
        for k in range(nY):
            GY[r, k] = jac[r, 3 + k]
    dz = np.zeros((3, nY))
    if np.all(np.isfinite(H)) and np.all(np.isfinite(GY)) and abs(np.linalg.det(H)) > 0.0:
        sol = np.linalg.solve(H, -GY)
        for r in range(nz):
            dz[r, :] = sol[r, :]
    S = pi.size
    F = np.zeros(S)
    pj = np.zeros((3, 5))
    zs = (lam, nu, 1.0)
    for t in range(T + 1):
        for k in range(nY):
            dx_dY[t, k] = 0.0
            dq_dY[t, k] = 0.0
    for t in range(1, T + 1):
        for s in range(S):
            F[s] = v[s, t] + (v[s, 0] if t == t0 else 0.0)
        _post_jac(lam, nu, p[t], Q[t], tau, beta, a[t - 1], ge, pi, kappa, F,
                  (part[t] & 1) != 0, theta, c, x[t], q[t], state[t], long_run, pj)
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
            d += phi1(q[t], theta, c) * dq_dY[t, k]
        if long_run:
            d += rho * dz[2, k]
        if classic and a0 > 0.0 and gg > 0.0:
            x0 = (a0 * pi.sum() / nu) ** (1.0 / gg)
            d += -x0 / (gg * nu) * nu * dz[1, k]
        dx_dY[0, k] = d
    if classic and a0 > 0.0 and gg == 0.0 and tau > 0.0 and x[0] > 0.0:
        Gs = Q[0] / tau * (1.0 - lam * p[0] / nu)
        if abs(Gs - x[0]) <= 1e-12 * max(Gs, 1e-300):
            # Goods consumed: G = (Ω/τ)(1 - λp^0/ν), whatever the inputs.
            c0 = Q[0] / tau * lam * p[0] / nu
            for k in range(nY):
                dx_dY[0, k] = -c0 * dz[0, k] + c0 * dz[1, k]
            dx_dY[0, 0] += -Q[0] / tau * lam / nu
    return status


@njit
def producer_responses(p, Q, tau, beta, exog, W, a, a0, ge, gg, classic, theta, c, Kbar, rho,
                       long_run, part, pi, kappa, v, t0, z, xh, qh, x, q, mu, dx_dY, dq_dY,
                       status):
    """:func:`producer_response` for every producer type (few: a plain loop)."""
    n = a.shape[0]
    for j in range(n):
        status[j] = producer_response(p, Q, tau, beta, exog, W[j], a[j], a0[j], ge[j], gg[j],
                                      classic[j], theta[j], c[j], Kbar[j], rho[j], long_run,
                                      part[j], pi[j], kappa, v, t0, z[j], xh[j], qh[j], x[j], q[j],
                                      mu[j], dx_dY[j], dq_dY[j])
