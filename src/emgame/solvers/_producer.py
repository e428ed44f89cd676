"""Producers' first-order conditions at given multipliers, post by post (numba).

With ``s = x/Q`` a producer's share of what it buys on a post, ``σ = q/Q`` of what is offered,
and market power scaled by ``τ`` (``τ = 1`` Nash, ``τ = 0`` price taking), its conditions (the
paper's (12)–(16)) are

    purchase  (12):  MU_t(x) (1 - τ s) = λ p^t (1 - τ β σ)
    output    (14), (15):  τ s MU_t(x) + β λ p^t (1 - τ σ) = ν φ'(q) + μ^t,   0 <= q <= K
    goods     (13):  ν (1 - τ G/Ω) = λ p^0
    capacity  (16):  Σ_t s^t μ^t = ν ρ                    (long run; the cap is s^t K)
    budget    (3)–(4):  Σ_t p^t x^t + p^0 G = Σ_t p^t q^t  (or an exogenous wallet)

``G`` is the goods bought: inputs ``Σ_t φ(q^t)``, capacity ``ρK`` and goods consumed.
:func:`producer_eval` solves every post's purchase and output at given ``(λ, ν, K)`` and returns
the type's residuals (budget, goods, capacity) with their derivatives; the Newton method on the
multipliers is in :mod:`emgame.solvers._producer_solve`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from emgame._jit import njit, unliteral
from emgame.solvers._records import NO_OUTPUT, PAYS
from emgame.solvers._terms import INF, MAXIT, fixed_burn, mu_el, phi, phi1, phi2, solve_x


class Post(NamedTuple):
    """One electricity post as a producer sees it: price ``p``, supply ``Q``, its weight ``a``
    and curvature ``g``, state weights ``w``, shares ``kappa`` and fixed verification ``F``."""

    p: float
    Q: float
    a: float
    g: float
    w: np.ndarray
    kappa: np.ndarray
    F: np.ndarray


class ProducerWork(NamedTuple):
    """One producer type's workspace: hints ``xh``, ``qh`` and outputs ``x``, ``q``, ``μ``,
    the state of each post's output (0 interior, 1 at zero, 2 at capacity) and ``jac`` (see
    :func:`producer_eval`)."""

    xh: np.ndarray
    qh: np.ndarray
    x: np.ndarray
    q: np.ndarray
    mu: np.ndarray
    state: np.ndarray
    jac: np.ndarray


@njit
def _output_residual(q, lam, nu, post, mk, paying, pr, xh):
    """``(F2, dF2/dq, x, f1x)`` at offer ``q``, with ``x`` solving the purchase condition."""
    tau, beta = mk.tau, mk.beta
    p, Q = post.p, post.Q
    if paying:
        x, f1x = solve_x(lam * p * (1.0 - tau * beta * q / Q), post.a, post.g, post.w,
                         post.kappa, post.F, tau, Q, xh)
        if post.a > 0.0:
            m, dm = mu_el(x, post.a, post.g, post.w, post.kappa, post.F)
        else:
            m, dm = floor_value(lam, p, q, x, Q, tau, beta), 0.0
    else:
        x, f1x, m, dm = 0.0, -INF, 0.0, 0.0
    F2 = tau * x / Q * m + beta * lam * p * (1.0 - tau * q / Q) - nu * phi1(q, pr.theta, pr.c)
    dxdq = 0.0
    if paying and f1x < 0.0 and f1x > -INF:
        dxdq = -(lam * p * tau * beta / Q) / f1x
    dF2 = (tau / Q * (m + x * dm) * dxdq - beta * lam * p * tau / Q
           - nu * phi2(q, pr.theta, pr.c))
    if paying and post.a <= 0.0 and x > 0.0:
        dF2 += tau * x / Q * (-lam * p * tau * beta / Q) / (1.0 - tau * x / Q)
    return F2, dF2, x, f1x


@njit
def floor_value(lam, p, q, x, Q, tau, beta):
    """The marginal value of electricity a producer buys on a post it does not value, only to
    cover the verification it must burn there (``x`` at its floor): the multiplier of
    ``E >= 0``, equal to the marginal cost of buying, ``λp(1 - τβq/Q)/(1 - τx/Q)``. It takes
    the place of the marginal utility in the output condition: more output lowers the price
    of that purchase too."""
    return lam * p * (1.0 - tau * beta * q / Q) / (1.0 - tau * x / Q)


@njit
def _post_output(lam, nu, post, mk, paying, pr, K, xhint, qhint):
    """One producer post at given ``(λ, ν, K)``: ``(x, q, μ, state)``.

    ``state``: 0 interior ``q``, 1 ``q = 0``, 2 ``q = K`` (capacity binds, ``μ = F2 >= 0``).
    F2 (output) falls with ``q`` when costs are convex; it is solved by Newton safeguarded by
    bisection, with ``x`` from the purchase condition at each trial ``q``.
    """
    tau, beta = mk.tau, mk.beta
    # The own share of the post stays below one: q < Q/(τβ) keeps F1's right side positive.
    qcap = K
    if tau > 0.0:
        qcap = min(K, post.Q / (tau * max(beta, 1e-300)) * (1.0 - 1e-12))
    lo = 0.0
    if pr.c > 1.0:
        # Increasing returns: marginal cost is infinite at q = 0, so q = 0 is always a local
        # best; the other candidate is capacity or an interior maximum (where F2 falls through
        # zero). Which of them is best is settled by the caller's regime (q pinned at zero).
        F2, dF2, x, _ = _output_residual(qcap, lam, nu, post, mk, paying, pr, xhint)
        if F2 >= 0.0:
            return x, qcap, F2 if qcap == K else 0.0, 2 if qcap == K else 0
        found = False
        for k in range(1, 61):
            qk = qcap * 0.5 ** (k * 0.5)
            F2, dF2, x, _ = _output_residual(qk, lam, nu, post, mk, paying, pr, xhint)
            if F2 > 0.0:
                lo = qk
                found = True
                break
        if not found:
            x0 = 0.0
            if paying:
                x0, _ = solve_x(lam * post.p, post.a, post.g, post.w, post.kappa, post.F, tau,
                                post.Q, xhint)
            return x0, 0.0, 0.0, 1
    else:
        F2, dF2, x, _ = _output_residual(0.0, lam, nu, post, mk, paying, pr, xhint)
        if F2 <= 0.0:
            return x, 0.0, 0.0, 1
        F2, dF2, x, _ = _output_residual(qcap, lam, nu, post, mk, paying, pr, xhint)
        if F2 >= 0.0:
            return x, qcap, F2 if qcap == K else 0.0, 2 if qcap == K else 0
    hi = qcap
    q = qhint if (qhint > 0.0 and qhint < qcap) else 0.5 * qcap
    x = xhint
    for _ in range(MAXIT * 2):
        F2, dF2, x, _ = _output_residual(q, lam, nu, post, mk, paying, pr, x)
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
    F2, dF2, x, _ = _output_residual(q, lam, nu, post, mk, paying, pr, x)
    return x, q, 0.0, 0


@njit
def post_jac(lam, nu, post, mk, paying, pr, x, q, state, out):
    """Implicit derivatives of one producer post's ``(x, q)`` and ``μ``.

    Fills ``out[k, m]``: rows ``k`` = x, q, μ; columns ``m`` = λ, ν, K, p^t, Q^t.
    """
    tau, beta = mk.tau, mk.beta
    p, Q = post.p, post.Q
    theta, c = pr.theta, pr.c
    out[:, :] = 0.0
    floor = paying and post.a <= 0.0 and x > 0.0
    if paying and post.a > 0.0:
        mu, dmu = mu_el(x, post.a, post.g, post.w, post.kappa, post.F)
    elif floor:
        mu, dmu = floor_value(lam, p, q, x, Q, tau, beta), 0.0
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
    if floor:
        # MU is floor_value(λ, p, q, x, Q): its own derivatives enter F2 (x stays at its floor).
        w = 1.0 - tau * x / Q
        s = tau * x / Q
        F2q += s * (-lam * p * tau * beta / Q) / w
        F2_par[0] += s * mu / lam
        F2_par[3] += s * mu / p
        F2_par[4] += s * lam * p * ((tau * beta * q / (Q * Q)) * w
                                    - (1.0 - tau * beta * q / Q) * (tau * x / (Q * Q))) / (w * w)
    if state == 0:
        # Both F1 and F2 hold (x free if paying).
        if paying and post.a > 0.0:
            det = F1x * F2q - F1q * F2x
            for m in range(5):
                out[0, m] = -(F2q * F1_par[m] - F1q * F2_par[m]) / det
                out[1, m] = -(-F2x * F1_par[m] + F1x * F2_par[m]) / det
        else:
            for m in range(5):
                out[1, m] = -F2_par[m] / F2q if F2q != 0.0 else 0.0
        return
    # q pinned: at 0, or at K (which moves with the chosen capacity in the long run).
    if state == 2 and mk.long_run:
        out[1, 2] = 1.0
    if paying and post.a > 0.0:
        for m in range(5):
            out[0, m] = -(F1_par[m] + F1q * out[1, m]) / F1x
    if state == 2:
        # μ = F2 at (x, K)
        for m in range(5):
            out[2, m] = F2_par[m] + F2x * out[0, m] + F2q * out[1, m]


@njit
def post_of(tot, mk, pr, t, F):
    """Post ``t`` as producer type ``pr`` sees it (it always pays on the goods post, for its
    inputs, so the goods payment's verification falls in ``t0``)."""
    fixed_burn(mk.v, t, mk.t0, unliteral(True), F)
    return Post(tot.p[t], tot.Q[t], pr.a[t - 1], pr.ge, pr.w, mk.kappa, F)


@njit
def _quasilinear_goods(lam, nu, need, tot, mk, pr, ws, G1, G3, want_jac, dG_dz):
    """The goods condition of a quasilinear classic producer whose goods are consumed, or
    ``None`` where none are (see :func:`producer_eval`)."""
    p, Omega, tau = tot.p, tot.Q[0], mk.tau
    a0w = pr.a0 * pr.w.sum()
    Gs = Omega / tau * (1.0 - lam * p[0] / nu)
    if not (lam * (nu - a0w) / a0w < nu * (1.0 - tau * need / Omega) - lam * p[0]):
        return False, G1, 0.0, G3
    exog = pr.wallet == pr.wallet
    G = Gs
    ws.x[0] = G
    ws.q[0] = 0.0
    G1 += p[0] * G - (pr.wallet if exog else 0.0)
    G2 = lam * (nu - a0w) / a0w
    if want_jac:
        jac = ws.jac
        if mk.long_run:
            dG_dz[2] += pr.rho
        # budget: p0 G with G = Gs(λ, ν, p0); inputs no longer enter G.
        c0 = Omega / tau * lam * p[0] / nu
        jac[0, 0] += p[0] * (-c0)
        jac[0, 1] += p[0] * c0
        jac[0, 3] += G - p[0] * Omega / tau * lam / nu
        jac[1, 0] += lam * (nu - a0w) / a0w
        jac[1, 1] += lam * nu / a0w
        if mk.long_run:
            jac[2, 1] += -nu * pr.rho
    return True, G1, G2, G3


@njit
def producer_eval(lam, nu, K, tot, mk, pr, ws, want_jac):
    """Per-post outputs at ``(λ, ν, K)`` (into ``ws``) and the type's residuals
    ``(G1, G2, G3)``: budget, goods-post condition, capacity (long run).

    With ``want_jac``, ``ws.jac`` receives ``d(G1, G2, G3)/d(log λ, log ν, K)`` in its first
    three columns and ``d/d(p^0..p^T, Q^1..Q^T)`` after.
    """
    p, Q = tot.p, tot.Q
    tau, long_run = mk.tau, mk.long_run
    T = pr.a.size
    F = np.zeros(mk.pi.size)
    Omega = Q[0]
    exog = pr.wallet == pr.wallet
    theta, c, rho = pr.theta, pr.c, pr.rho
    jac = ws.jac
    need = rho * K if long_run else 0.0
    x0 = 0.0
    dx0_dnu = 0.0
    if pr.classic and pr.a0 > 0.0 and pr.gg > 0.0:
        x0 = (pr.a0 * pr.w.sum() / nu) ** (1.0 / pr.gg)
        dx0_dnu = -x0 / (pr.gg * nu)
    G1 = 0.0
    G3 = -nu * rho if long_run else 0.0
    pj = np.zeros((3, 5))
    if want_jac:
        jac[:, :] = 0.0
    dG_dz = np.zeros(3)      # dG(goods)/d(log λ, log ν, K)
    dG_dY = np.zeros(2 * T + 1)
    for t in range(1, T + 1):
        paying = (pr.part[t] & PAYS) != 0
        post = post_of(tot, mk, pr, t, F)
        st_t = pr.s[t]
        if (pr.part[t] & NO_OUTPUT) != 0 or st_t <= 0.0:
            # Output pinned at zero on this post (a regime chosen by the caller).
            if paying:
                xt, _ = solve_x(lam * p[t], post.a, post.g, post.w, post.kappa, post.F, tau,
                                Q[t], ws.xh[t])
            else:
                xt = 0.0
            qt, mt, st = 0.0, 0.0, 1
        else:
            xt, qt, mt, st = _post_output(lam, nu, post, mk, paying, pr, K * st_t, ws.xh[t],
                                          ws.qh[t])
        ws.x[t] = xt
        ws.q[t] = qt
        ws.mu[t] = mt
        ws.state[t] = st
        need += phi(qt, theta, c)
        G1 += p[t] * xt - (0.0 if exog else p[t] * qt)
        if long_run and st == 2:
            G3 += st_t * mt
        if want_jac:
            post_jac(lam, nu, post, mk, paying, pr, xt, qt, st, pj)
            # At q = 0 the offer does not move (dq = 0), while φ'(0) is infinite with
            # increasing returns: inf·0 would poison the Jacobian with NaN.
            dphi = phi1(qt, theta, c) if qt > 0.0 else 0.0
            # chain: columns of pj are (λ, ν, K, p_t, Q_t); z uses log λ, log ν.
            # (the cap s^t K moves by s^t per unit of K; μ^t enters Σ_t s^t μ^t = νρ)
            zs = (lam, nu, st_t)
            for k in range(3):
                dxk = pj[0, k] * zs[k]
                dqk = pj[1, k] * zs[k]
                jac[0, k] += p[t] * dxk - (0.0 if exog else p[t] * dqk)
                dG_dz[k] += dphi * dqk
                if long_run and st == 2:
                    jac[2, k] += st_t * pj[2, k] * zs[k]
            # Y columns: p_t at index t, Q_t at index T + t (offset 3 in jac).
            jac[0, 3 + t] += xt - (0.0 if exog else qt) + p[t] * pj[0, 3] - (
                0.0 if exog else p[t] * pj[1, 3])
            jac[0, 3 + T + t] += p[t] * pj[0, 4] - (0.0 if exog else p[t] * pj[1, 4])
            dG_dY[t] += dphi * pj[1, 3]
            dG_dY[T + t] += dphi * pj[1, 4]
            if long_run and st == 2:
                jac[2, 3 + t] += st_t * pj[2, 3]
                jac[2, 3 + T + t] += st_t * pj[2, 4]
    if pr.classic and pr.a0 > 0.0 and pr.gg == 0.0 and tau > 0.0:
        # Quasilinear goods: their marginal utility a0 is constant, so either goods are
        # consumed and ν = a0, with G from the goods condition ν(1 - τG/Ω) = λp^0, or none are
        # consumed (x0 = 0: G = inputs, ν >= a0). The complementarity x0 >= 0 ⊥ ν - a0 >= 0
        # in min form: G2 = min(goods condition at x0 = 0, λ(ν - a0)/a0), each piece where it
        # is the smaller.
        consumed, G1q, G2q, G3q = _quasilinear_goods(lam, nu, need, tot, mk, pr, ws, G1, G3,
                                                     want_jac, dG_dz)
        if consumed:
            return G1q, G2q, G3q
    G = need + x0
    ws.x[0] = G
    ws.q[0] = 0.0
    G1 += p[0] * G - (pr.wallet if exog else 0.0)
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
