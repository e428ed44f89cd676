"""The Lagrangian dual of one agent's problem, per type (numba).

For multipliers ``λ`` (money) and, for producers, ``ν`` (goods), the dual function

    D(λ, ν) = max over the agent's whole strategy of  L(strategy; λ, ν)

is separable across posts (see :mod:`emgame.agents._kernels`), so it is computed exactly by
one-dimensional searches. By weak duality ``D(λ, ν)`` bounds the best the agent can do, for any
``λ, ν >= 0``, convex or not; minimising it over ``(λ, ν)`` tightens the bound, and in convex
cases reaches the agent's best-response value. The maximiser at the minimum is the best
response.

A goods-post payment is verified in period ``t0``; that couples the goods post with post ``t0``,
so both settings of "pays on goods" are tried when the goods post has a fixed cost.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from emgame._jit import njit
from emgame.agents._kernels import (
    INF,
    PRICE_TOL,
    best_offer,
    best_x,
    best_x_in,
    el_terms,
    h,
    phi,
)

_ONE = np.ones(1)
_ZERO = np.zeros(1)


@njit
def _goods_consumer(paid_choice, a0, gg, lin, w0, B0, Omega, omega, thR, lam, pt, p0, hint,
                    force):
    """Consumer's goods post: ``(value, x0, paid)``; ``paid_choice`` -1 free, 0 no, 1 yes."""
    w = np.array([w0])
    if paid_choice == 1:
        v, x = best_x_in(a0, gg, _ONE, _ZERO, _ZERO, lin, w, B0, Omega, omega, thR, lam, pt, p0,
                         hint)
        return v, x, True
    if paid_choice == 0:
        e, _, _ = el_terms(0.0, a0, gg, _ONE, _ZERO, _ZERO, lin, w)
        if pt:
            return e + thR * p0 * omega, 0.0, False
        return e + thR * omega * B0 / Omega, 0.0, False
    return best_x(a0, gg, _ONE, _ZERO, _ZERO, _ZERO, lin, w, B0, Omega, omega, thR, lam, pt, p0,
                  hint, force)


@njit
def consumer_dual(lam, simult, thR_fixed, a, a0, ge, gg, omega, Omega, pi, kappa, v, t0, Bm, Qo,
                  pt, p, income, lin, w, w0, xhint, force, x_out, paid_out):
    """``(D(λ), dD/dλ)`` for one consumer; the maximiser goes to ``x_out``, ``paid_out``.

    ``Bm[t]`` others' bids, ``Qo[t]`` the post's supply (``Qo[0] = Ω``); ``income`` is the
    wallet under exogenous prepaid settlement, else 0 (revenue is inside the goods term).
    """
    T = a.size
    S = pi.size
    thR = lam if simult else thR_fixed
    couple = False
    for s in range(S):
        if v[s, 0] > 0.0:
            couple = True
    best = -INF
    ch_lo = (1 if force[0] == 1 else 0) if couple else -1
    ch_hi = (0 if force[0] == 0 else 1) if couple else -1
    xt = np.zeros(T + 1)
    pd = np.zeros(T + 1, dtype=np.bool_)
    extra = np.zeros(S)
    noextra = np.zeros(S)
    for ch in range(ch_lo, ch_hi + 1):
        gv, x0, paid0 = _goods_consumer(ch, a0, gg, lin, w0, Bm[0], Omega, omega, thR, lam, pt,
                                        p[0], xhint[0], force[0])
        total = gv + lam * income
        xt[0] = x0
        pd[0] = paid0
        for s in range(S):
            extra[s] = v[s, 0] if paid0 else 0.0
        for t in range(1, T + 1):
            ext = extra if t == t0 else noextra
            val, x, paid = best_x(a[t - 1], ge, pi, kappa, v[:, t], ext, lin, w[:, t - 1], Bm[t],
                                  Qo[t], 0.0, thR, lam, pt, p[t], xhint[t], force[t])
            total += val
            xt[t] = x
            pd[t] = paid
        if total > best or best == -INF:
            best = total
            x_out[:] = xt
            paid_out[:] = pd
    # Danskin: dD/dλ is ∂L/∂λ at the maximiser, the budget slack.
    spend = 0.0
    for t in range(T + 1):
        x = x_out[t]
        if paid_out[t]:
            if pt:
                spend += p[t] * x
            elif Qo[t] - x > 0.0:
                spend += Bm[t] * x / (Qo[t] - x)
    if simult:
        if pt:
            rev = p[0] * omega
        else:
            rev = omega * Bm[0] / (Omega - x_out[0])
        return best, rev - spend
    return best, income - spend


@njit
def _capacity_value(K, nu, rho, qstar, pstar, vstar, concave, a, ge, pi, kappa, v, t0, extra,
                    lin, w, Bm, Qm, thR, lam, theta, c, pt, p, xhint, force, q_out, x_out,
                    paid_out):
    """``Σ_t max_{q <= K} V_t(q) - ν ρ K`` given each post's unconstrained best ``qstar``."""
    T = a.size
    S = pi.size
    noextra = np.zeros(S)
    total = -nu * rho * K
    for t in range(1, T + 1):
        ext = extra if t == t0 else noextra
        if qstar[t] <= K:
            total += vstar[t]
            q_out[t] = qstar[t]
            x_out[t] = xhint[t]
            paid_out[t] = pstar[t]
        else:
            val, q, x, paid = best_offer(K, concave, a[t - 1], ge, pi, kappa, v[:, t], ext, lin,
                                         w[:, t - 1], Bm[t], Qm[t], thR, lam, nu, theta, c, pt,
                                         p[t], K, xhint[t], force[t])
            total += val
            q_out[t] = q
            x_out[t] = x
            paid_out[t] = paid
    return total


@njit
def _zero_rent(nu, rho, theta, thR, p, T):
    """``Σ_t (θ_R p^t - ν/θ)^+ = νρ`` to rounding (see ``PRICE_TOL``)."""
    rent = 0.0
    for t in range(1, T + 1):
        rent += max(thR * p[t] - nu / theta, 0.0)
    return abs(rent - nu * rho) <= PRICE_TOL * max(nu * rho, 1e-300)


@njit
def producer_dual(lam, nu, simult, thR_fixed, K_fixed, Khi, rho, theta, c, classic, a, a0, ge,
                  gg, pi, kappa, v, t0, Bm, Qm, Omega, pt, p, income, lin, w, w0, concave, qhint,
                  xhint, force, x_out, q_out, paid_out):
    """``(D(λ, ν), dD/dλ, dD/dν, K)`` for one producer; maximiser in ``x_out``, ``q_out``.

    ``x_out[0]`` is the goods bought ``G``; ``K_fixed`` is ``K̄`` (NaN in the long run, where
    ``K`` is chosen in ``[0, Khi]`` at ``ρ`` goods per unit).
    """
    T = a.size
    S = pi.size
    thR = lam if simult else thR_fixed
    couple = False
    for s in range(S):
        if v[s, 0] > 0.0:
            couple = True
    # Goods consumption x0 (classic): max a0 h(x0) - ν x0.
    x0 = 0.0
    v_x0 = 0.0
    if classic:
        slope = w0 if lin else a0
        if lin or gg == 0.0:
            if slope > nu:
                return INF, 0.0, 0.0, 0.0
        else:
            x0 = (a0 / nu) ** (1.0 / gg) if nu > 0.0 else INF
            if x0 == INF:
                return INF, 0.0, 0.0, 0.0
            v_x0 = a0 * h(x0, gg) - nu * x0
    best = -INF
    best_K = 0.0
    ch_lo = (1 if force[0] == 1 else 0) if couple else -1
    ch_hi = (0 if force[0] == 0 else 1) if couple else -1
    xt = np.zeros(T + 1)
    qt = np.zeros(T + 1)
    pd = np.zeros(T + 1, dtype=np.bool_)
    extra = np.zeros(S)
    noextra = np.zeros(S)
    qstar = np.zeros(T + 1)
    vstar = np.zeros(T + 1)
    pstar = np.zeros(T + 1, dtype=np.bool_)
    xstar = np.zeros(T + 1)
    for ch in range(ch_lo, ch_hi + 1):
        # Goods purchase G: ν G - λ b(G).
        if pt:
            gv, G, paid0 = 0.0, 0.0, True  # ν = λ p0 for a price taker: goods cost nothing net
        elif ch == 1:
            gv, G = best_x_in(nu, 0.0, _ONE, _ZERO, _ZERO, False, _ONE, Bm[0], Omega, 0.0, thR,
                              lam, pt, p[0], xhint[0])
            paid0 = True
        elif ch == 0:
            gv, G, paid0 = 0.0, 0.0, False
        else:
            gv, G, paid0 = best_x(nu, 0.0, _ONE, _ZERO, _ZERO, _ZERO, False, _ONE, Bm[0], Omega,
                                  0.0, thR, lam, pt, p[0], xhint[0], force[0])
        for s in range(S):
            extra[s] = v[s, 0] if paid0 else 0.0
        total = gv + v_x0 + lam * income
        if K_fixed == K_fixed:  # short run
            Kc = K_fixed
            for t in range(1, T + 1):
                ext = extra if t == t0 else noextra
                val, q, x, paid = best_offer(Kc, concave, a[t - 1], ge, pi, kappa, v[:, t], ext,
                                             lin, w[:, t - 1], Bm[t], Qm[t], thR, lam, nu, theta,
                                             c, pt, p[t], qhint[t], xhint[t], force[t])
                total += val
                xt[t] = x
                qt[t] = q
                pd[t] = paid
        elif pt and c == 1.0 and _zero_rent(nu, rho, theta, thR, p, T):
            # Price taker, constant returns, capacity cost just covered by the rents (to
            # rounding): every capacity earns nothing; keep the reference one.
            Kc = qhint.max()
            for t in range(1, T + 1):
                ext = extra if t == t0 else noextra
                val, q, x, paid = best_offer(Kc, concave, a[t - 1], ge, pi, kappa, v[:, t], ext,
                                             lin, w[:, t - 1], Bm[t], Qm[t], thR, lam, nu, theta,
                                             c, pt, p[t], qhint[t], xhint[t], force[t])
                total += val
                xt[t] = x
                qt[t] = q
                pd[t] = paid
            total -= nu * rho * Kc
        else:
            # Long run: each post's best offer without the capacity limit, then the best K.
            for t in range(1, T + 1):
                ext = extra if t == t0 else noextra
                val, q, x, paid = best_offer(Khi, concave, a[t - 1], ge, pi, kappa, v[:, t], ext,
                                             lin, w[:, t - 1], Bm[t], Qm[t], thR, lam, nu, theta,
                                             c, pt, p[t], qhint[t], xhint[t], force[t])
                qstar[t] = q
                vstar[t] = val
                pstar[t] = paid
                xstar[t] = x
            bps = np.sort(np.concatenate((np.zeros(1), qstar[1:])))
            vals = np.empty(bps.size)
            for k in range(bps.size):
                vals[k] = _capacity_value(bps[k], nu, rho, qstar, pstar, vstar, concave, a, ge,
                                          pi, kappa, v, t0, extra, lin, w, Bm, Qm, thR, lam,
                                          theta, c, pt, p, xstar, force, qt, xt, pd)
            k = np.argmax(vals)
            Kbest = bps[k]
            vbest = vals[k]
            lo = bps[max(k - 1, 0)]
            hi = bps[min(k + 1, bps.size - 1)]
            r = 0.5 * (math.sqrt(5.0) - 1.0)
            for side in range(2):
                l2 = lo if side == 0 else Kbest
                h2_ = Kbest if side == 0 else hi
                if h2_ - l2 <= 0.0:
                    continue
                aa = h2_ - r * (h2_ - l2)
                bb = l2 + r * (h2_ - l2)
                fa = _capacity_value(aa, nu, rho, qstar, pstar, vstar, concave, a, ge, pi, kappa,
                                     v, t0, extra, lin, w, Bm, Qm, thR, lam, theta, c, pt, p,
                                     xstar, force, qt, xt, pd)
                fb = _capacity_value(bb, nu, rho, qstar, pstar, vstar, concave, a, ge, pi, kappa,
                                     v, t0, extra, lin, w, Bm, Qm, thR, lam, theta, c, pt, p,
                                     xstar, force, qt, xt, pd)
                for _ in range(100):
                    if fa > fb:
                        h2_ = bb
                        bb = aa
                        fb = fa
                        aa = h2_ - r * (h2_ - l2)
                        fa = _capacity_value(aa, nu, rho, qstar, pstar, vstar, concave, a, ge,
                                             pi, kappa, v, t0, extra, lin, w, Bm, Qm, thR, lam,
                                             theta, c, pt, p, xstar, force, qt, xt, pd)
                    else:
                        l2 = aa
                        aa = bb
                        fa = fb
                        bb = l2 + r * (h2_ - l2)
                        fb = _capacity_value(bb, nu, rho, qstar, pstar, vstar, concave, a, ge,
                                             pi, kappa, v, t0, extra, lin, w, Bm, Qm, thR, lam,
                                             theta, c, pt, p, xstar, force, qt, xt, pd)
                    if h2_ - l2 <= 1e-13 * max(h2_, 1e-300):
                        break
                if fa > vbest:
                    vbest, Kbest = fa, aa
                if fb > vbest:
                    vbest, Kbest = fb, bb
            Kc = Kbest
            total += _capacity_value(Kc, nu, rho, qstar, pstar, vstar, concave, a, ge, pi, kappa,
                                     v, t0, extra, lin, w, Bm, Qm, thR, lam, theta, c, pt, p,
                                     xstar, force, qt, xt, pd)
        xt[0] = G
        pd[0] = paid0
        if total > best or best == -INF:
            best = total
            best_K = Kc
            x_out[:] = xt
            q_out[:] = qt
            paid_out[:] = pd
    # Danskin derivatives: budget slack and goods slack at the maximiser.
    spend = 0.0
    rev = 0.0
    need = 0.0
    for t in range(1, T + 1):
        x = x_out[t]
        q = q_out[t]
        need += phi(q, theta, c)
        if pt:
            rev += p[t] * q
            if paid_out[t]:
                spend += p[t] * x
        else:
            W = Qm[t] + q - x
            if W > 0.0:
                rev += Bm[t] * q / W
                if paid_out[t]:
                    spend += Bm[t] * x / W
    K = best_K
    need += (rho * K) if K_fixed != K_fixed else 0.0
    need += x0
    G = x_out[0]
    if pt:
        G = need
        x_out[0] = G
        spend += p[0] * G
    elif paid_out[0] and Omega - G > 0.0:
        spend += Bm[0] * G / (Omega - G)
    d_lam = (rev - spend) if simult else (income - spend)
    d_nu = G - need
    return best, d_lam, d_nu, K


# --------------------------------------------------------------------------------------------
# Minimising the dual (any multiplier gives a bound: minimising only tightens it).
# --------------------------------------------------------------------------------------------


@njit
def _flat(g, y, D):
    """``dD/dλ`` at rounding level (relative to ``D``): no reliable sign."""
    return abs(g) * math.exp(y) <= 1e-12 * max(abs(D), 1.0)


@njit
def _log_post(a, B, Qo, o, thR, lam):
    """``max_x a log x + (θ_R o - λ x) B/(Q_o - x)``: the root of a quadratic (log utility, no
    verification). Returns ``(value, x)``."""
    if a <= 0.0:
        x = 0.0
    elif B <= 0.0:
        return a * math.log(Qo), Qo
    else:
        c0 = thR * o - lam * Qo
        if c0 >= 0.0:
            return INF, Qo
        bq = 2.0 * a * Qo - B * c0
        x = 2.0 * a * Qo * Qo / (bq + math.sqrt(max(bq * bq - 4.0 * a * a * Qo * Qo, 0.0)))
    val = (a * math.log(x) if a > 0.0 else 0.0)
    if B > 0.0:
        val += (thR * o - lam * x) * B / (Qo - x)
    return val, x


@njit
def _consumer_dual_log(lam, simult, thR_fixed, a, a0, omega, Omega, Bm, Qo, income, x_out,
                       paid_out):
    """:func:`consumer_dual` for log (Cobb–Douglas) utility without verification costs, where
    every post's best purchase is a closed form and paying is always best where it is valued."""
    T = a.size
    thR = lam if simult else thR_fixed
    total = lam * income
    spend = 0.0
    v0, x0 = _log_post(a0, Bm[0], Omega, omega, thR, lam)
    total += v0
    x_out[0] = x0
    paid_out[0] = x0 > 0.0
    if x0 > 0.0 and Bm[0] > 0.0:
        spend += Bm[0] * x0 / (Omega - x0)
    for t in range(1, T + 1):
        vt, xt = _log_post(a[t - 1], Bm[t], Qo[t], 0.0, thR, lam)
        total += vt
        x_out[t] = xt
        paid_out[t] = xt > 0.0
        if xt > 0.0 and Bm[t] > 0.0:
            spend += Bm[t] * xt / (Qo[t] - xt)
    if simult:
        return total, omega * Bm[0] / (Omega - x0) - spend
    return total, income - spend


@njit
def _consumer_D(y, i, simult, thR, a, a0, ge, gg, omega, Omega, pi, kappa, v, t0, Bm, Qo, pt,
                p, income, lin, w, w0, xhint, force, x_out, paid_out):
    if (not pt and not lin[i] and ge[i] == 1.0 and (gg[i] == 1.0 or a0[i] == 0.0)
            and not np.any(v) and not np.any(kappa) and not np.any(force[i] >= 0)):
        return _consumer_dual_log(math.exp(y), simult, thR[i], a[i], a0[i], omega[i], Omega,
                                  Bm[i], Qo[i], income[i], x_out, paid_out)
    return consumer_dual(math.exp(y), simult, thR[i], a[i], a0[i], ge[i], gg[i], omega[i], Omega,
                         pi, kappa, v, t0, Bm[i], Qo[i], pt, p, income[i], lin[i], w[i], w0[i],
                         xhint[i], force[i], x_out, paid_out)


@njit(parallel=True)
def consumer_bounds(lam0, target, simult, thR, a, a0, ge, gg, omega, Omega, pi, kappa, v, t0, Bm,
                    Qo, pt, p, income, lin, w, w0, xhint, force, D_out, lam_out, x_out,
                    paid_out):
    """For every consumer type, ``min_λ D(λ)`` (stopping early once ``D <= target``).

    Search in ``y = log λ`` from ``lam0``: bracket the sign change of ``dD/dλ`` and close it by
    the Illinois method; every evaluated ``D`` is a valid bound, the least is kept.
    """
    n = a.shape[0]
    T = a.shape[1]
    for i in prange(n):
        xb = np.zeros(T + 1)
        pb = np.zeros(T + 1, dtype=np.bool_)
        y = math.log(lam0[i])
        D, g = _consumer_D(y, i, simult, thR, a, a0, ge, gg, omega, Omega, pi, kappa, v, t0, Bm,
                           Qo, pt, p, income, lin, w, w0, xhint, force, xb, pb)
        bestD = D
        besty = y
        x_out[i, :] = xb
        paid_out[i, :] = pb
        if D > target[i]:
            # Bracket: g > 0 means D still falls as λ grows... dD/dλ > 0 means lower λ.
            ya = y
            ga = g
            Da = D
            step = 0.25
            yb = y
            gb = g
            found = False
            for _ in range(200):
                yb = ya - step if ga > 0.0 else ya + step
                if abs(yb) > 700.0:
                    # λ beyond e^700 and D still falling: the agent cannot afford anything,
                    # the bound runs to -inf.
                    if ga < 0.0 and yb > 0.0:
                        bestD = -INF
                    break
                Db, gb = _consumer_D(yb, i, simult, thR, a, a0, ge, gg, omega, Omega, pi, kappa,
                                     v, t0, Bm, Qo, pt, p, income, lin, w, w0, xhint, force, xb, pb)
                if Db < bestD:
                    bestD = Db
                    besty = yb
                    x_out[i, :] = xb
                    paid_out[i, :] = pb
                if Db == INF:
                    gb = -1.0  # unbounded: λ too small
                if _flat(gb, yb, Db) and Db < Da:
                    gb = -1.0  # a slope at rounding level while D still falls: keep going
                if (gb > 0.0) != (ga > 0.0) or gb == 0.0:
                    found = True
                    break
                ya, ga, Da = yb, gb, Db
                step *= 2.0
                if bestD <= target[i]:
                    break
            if found and bestD > target[i]:
                lo, glo, hi, ghi = (ya, ga, yb, gb) if ya < yb else (yb, gb, ya, ga)
                side = 0
                for _ in range(100):
                    if hi - lo <= 1e-13 * max(1.0, abs(hi)):
                        break
                    if (glo == -1.0 or ghi == -1.0
                            or not (math.isfinite(glo) and math.isfinite(ghi))):
                        ym = 0.5 * (lo + hi)
                    else:
                        ym = (lo * ghi - hi * glo) / (ghi - glo)
                        if not (ym > lo and ym < hi):
                            ym = 0.5 * (lo + hi)
                    Dm, gm = _consumer_D(ym, i, simult, thR, a, a0, ge, gg, omega, Omega, pi,
                                         kappa, v, t0, Bm, Qo, pt, p, income, lin, w, w0, xhint,
                                         force, xb, pb)
                    if Dm < bestD:
                        bestD = Dm
                        besty = ym
                        x_out[i, :] = xb
                        paid_out[i, :] = pb
                    if Dm == INF:
                        gm = -1.0
                    if bestD <= target[i] or gm == 0.0:
                        break
                    # dD/dλ < 0 at lo (λ too small), > 0 at hi.
                    if gm < 0.0:
                        lo, glo = ym, gm
                        if side == -1:
                            ghi *= 0.5
                        side = -1
                    else:
                        hi, ghi = ym, gm
                        if side == 1:
                            glo *= 0.5
                        side = 1
        D_out[i] = bestD
        lam_out[i] = math.exp(besty)


@njit
def _producer_inner(y, z0, j, target, simult, thR, K_fixed, Khi, rho, theta, c, classic, a, a0,
                    ge, gg, pi, kappa, v, t0, Bm, Qm, Omega, pt, p, income, lin, w, w0, concave,
                    qhint, xhint, force, xb, qb, pb):
    """``min_ν D(e^y, ν)`` by the same bracket-and-Illinois search in ``z = log ν``.

    Returns ``(D, dD/dλ at the minimiser, z)``; for a price taker ``ν = λ p0``.
    """
    lam = math.exp(y)
    if pt:
        nu = lam * p[0]
        D, gl, gn, K = producer_dual(lam, nu, simult, thR[j], K_fixed[j], Khi[j], rho[j],
                                     theta[j], c[j], classic[j], a[j], a0[j], ge[j], gg[j], pi,
                                     kappa, v, t0, Bm[j], Qm[j], Omega, pt, p, income[j], lin[j],
                                     w[j], w0[j], concave[j], qhint[j], xhint[j], force[j], xb,
                                     qb, pb)
        return D, gl, math.log(nu), K
    z = z0
    D, gl, gn, K = producer_dual(lam, math.exp(z), simult, thR[j], K_fixed[j], Khi[j], rho[j],
                                 theta[j], c[j], classic[j], a[j], a0[j], ge[j], gg[j], pi, kappa,
                                 v, t0, Bm[j], Qm[j], Omega, pt, p, income[j], lin[j], w[j], w0[j],
                                 concave[j], qhint[j], xhint[j], force[j], xb, qb, pb)
    bestD, bestz, bestgl, bestK = D, z, gl, K
    if D <= target:
        return bestD, bestgl, bestz, bestK
    T = a.shape[1]
    xt = np.zeros(T + 1)
    qt = np.zeros(T + 1)
    pt_ = np.zeros(T + 1, dtype=np.bool_)
    # dD/dν = goods slack: > 0 means ν too high.
    za, ga = z, gn
    if D == INF:
        ga = -1.0
    step = 0.25
    found = False
    zb, gb = za, ga
    for _ in range(200):
        zb = za - step if ga > 0.0 else za + step
        if abs(zb) > 700.0:
            break
        Db, glb, gb, Kb = producer_dual(lam, math.exp(zb), simult, thR[j], K_fixed[j], Khi[j],
                                        rho[j], theta[j], c[j], classic[j], a[j], a0[j], ge[j],
                                        gg[j], pi, kappa, v, t0, Bm[j], Qm[j], Omega, pt, p,
                                        income[j], lin[j], w[j], w0[j], concave[j], qhint[j],
                                        xhint[j], force[j], xt, qt, pt_)
        if Db == INF:
            gb = -1.0
        if Db < bestD:
            bestD, bestz, bestgl, bestK = Db, zb, glb, Kb
            xb[:] = xt
            qb[:] = qt
            pb[:] = pt_
        if (gb > 0.0) != (ga > 0.0) or gb == 0.0 or bestD <= target:
            found = True
            break
        za, ga = zb, gb
        step *= 2.0
    if found and bestD > target and gb != 0.0:
        lo, glo, hi, ghi = (za, ga, zb, gb) if za < zb else (zb, gb, za, ga)
        side = 0
        for _ in range(100):
            if hi - lo <= 1e-13 * max(1.0, abs(hi)):
                break
            zm = (lo * ghi - hi * glo) / (ghi - glo)
            if not (zm > lo and zm < hi):
                zm = 0.5 * (lo + hi)
            Dm, glm, gm, Km = producer_dual(lam, math.exp(zm), simult, thR[j], K_fixed[j], Khi[j],
                                            rho[j], theta[j], c[j], classic[j], a[j], a0[j],
                                            ge[j], gg[j], pi, kappa, v, t0, Bm[j], Qm[j], Omega,
                                            pt, p, income[j], lin[j], w[j], w0[j], concave[j],
                                            qhint[j], xhint[j], force[j], xt, qt, pt_)
            if Dm == INF:
                gm = -1.0
            if Dm < bestD:
                bestD, bestz, bestgl, bestK = Dm, zm, glm, Km
                xb[:] = xt
                qb[:] = qt
                pb[:] = pt_
            if bestD <= target or gm == 0.0:
                break
            if gm < 0.0:
                lo, glo = zm, gm
                if side == -1:
                    ghi *= 0.5
                side = -1
            else:
                hi, ghi = zm, gm
                if side == 1:
                    glo *= 0.5
                side = 1
    return bestD, bestgl, bestz, bestK


@njit(parallel=True)
def producer_bounds(lam0, nu0, target, simult, thR, K_fixed, Khi, rho, theta, c, classic, a, a0,
                    ge, gg, pi, kappa, v, t0, Bm, Qm, Omega, pt, p, income, lin, w, w0, concave,
                    qhint, xhint, force, D_out, lam_out, nu_out, K_out, x_out, q_out, paid_out):
    """For every producer type, ``min_{λ,ν} D(λ, ν)`` (stopping once ``D <= target``)."""
    n = a.shape[0]
    T = a.shape[1]
    for j in prange(n):
        xb = np.zeros(T + 1)
        qb = np.zeros(T + 1)
        pb = np.zeros(T + 1, dtype=np.bool_)
        z0 = math.log(nu0[j])
        y = math.log(lam0[j])
        D, g, z, K = _producer_inner(y, z0, j, target[j], simult, thR, K_fixed, Khi, rho, theta,
                                     c, classic, a, a0, ge, gg, pi, kappa, v, t0, Bm, Qm, Omega,
                                     pt, p, income, lin, w, w0, concave, qhint, xhint, force, xb,
                                     qb, pb)
        bestD, besty, bestz, bestK = D, y, z, K
        x_out[j, :] = xb
        q_out[j, :] = qb
        paid_out[j, :] = pb
        if D > target[j]:
            ya, ga, Da = y, g, D
            if D == INF:
                ga = -1.0
            step = 0.25
            found = False
            yb, gb = ya, ga
            for _ in range(200):
                yb = ya - step if ga > 0.0 else ya + step
                if abs(yb) > 700.0:
                    if ga < 0.0 and yb > 0.0:
                        bestD = -INF
                    break
                Db, gb, zb, Kb = _producer_inner(yb, bestz, j, target[j], simult, thR, K_fixed,
                                                 Khi, rho, theta, c, classic, a, a0, ge, gg, pi,
                                                 kappa, v, t0, Bm, Qm, Omega, pt, p, income, lin,
                                                 w, w0, concave, qhint, xhint, force, xb, qb, pb)
                if Db == INF:
                    gb = -1.0
                if _flat(gb, yb, Db) and Db < Da:
                    gb = -1.0  # a slope at rounding level while D still falls: keep going
                if Db < bestD:
                    bestD, besty, bestz, bestK = Db, yb, zb, Kb
                    x_out[j, :] = xb
                    q_out[j, :] = qb
                    paid_out[j, :] = pb
                if (gb > 0.0) != (ga > 0.0) or gb == 0.0 or bestD <= target[j]:
                    found = True
                    break
                ya, ga, Da = yb, gb, Db
                step *= 2.0
            if found and bestD > target[j] and gb != 0.0:
                lo, glo, hi, ghi = (ya, ga, yb, gb) if ya < yb else (yb, gb, ya, ga)
                side = 0
                for _ in range(100):
                    if hi - lo <= 1e-13 * max(1.0, abs(hi)):
                        break
                    ym = (lo * ghi - hi * glo) / (ghi - glo)
                    if not (ym > lo and ym < hi):
                        ym = 0.5 * (lo + hi)
                    Dm, gm, zm, Km = _producer_inner(ym, bestz, j, target[j], simult, thR,
                                                     K_fixed, Khi, rho, theta, c, classic, a, a0,
                                                     ge, gg, pi, kappa, v, t0, Bm, Qm, Omega, pt,
                                                     p, income, lin, w, w0, concave, qhint, xhint,
                                                     force, xb, qb, pb)
                    if Dm == INF:
                        gm = -1.0
                    if Dm < bestD:
                        bestD, besty, bestz, bestK = Dm, ym, zm, Km
                        x_out[j, :] = xb
                        q_out[j, :] = qb
                        paid_out[j, :] = pb
                    if bestD <= target[j] or gm == 0.0:
                        break
                    if gm < 0.0:
                        lo, glo = ym, gm
                        if side == -1:
                            ghi *= 0.5
                        side = -1
                    else:
                        hi, ghi = ym, gm
                        if side == 1:
                            glo *= 0.5
                        side = 1
        D_out[j] = bestD
        lam_out[j] = math.exp(besty)
        nu_out[j] = math.exp(bestz)
        K_out[j] = bestK
