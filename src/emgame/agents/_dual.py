"""The Lagrangian dual of one agent's problem (numba).

For multipliers ``λ`` (money) and, for a producer, ``ν`` (goods), the dual function

    D(λ, ν) = sup over the agent's whole strategy of  L(strategy; λ, ν)

is separable across posts once utility is (:mod:`emgame.agents._post`), so it is the sum of
one-dimensional suprema, each bounded from above. By weak duality ``D(λ, ν)`` bounds the best
the agent can reach, for any ``λ, ν >= 0``, convex or not. A goods payment is verified in period
``t0``; that couples the goods post with post ``t0``, so both settings of "pays on goods" are
tried when the goods post has a fixed cost. A producer that does not pay on the goods post
gets no goods, so it can produce nothing (and, in the long run, buy no capacity).

Each function also returns the Danskin derivatives of ``D`` (the budget and goods slacks at the
maximiser) for the searches of :mod:`emgame.agents._search`, and whether every non-concave
one-dimensional search closed its gap (``prove``: branch and bound; otherwise a fast local
search whose value is not a bound, used only to steer the searches).
"""

from __future__ import annotations

import heapq
import math
from typing import NamedTuple

import numpy as np

from emgame._jit import njit, unliteral
from emgame._numerics import golden_max, objective
from emgame.agents._post import (
    INF,
    _concave_offer,
    best_offer,
    best_on_post,
    offer_slope,
    offer_value,
    phi,
    purchase,
)
from emgame.agents._records import Offer, Post
from emgame.market.utility import term


@njit
def _burn(ru, t, pays_goods, S):
    """``F_s`` of a payment on post ``t``, and of not paying there (the goods payment's burn
    in ``t0``)."""
    F = np.zeros(S)
    extra = np.zeros(S)
    for s in range(S):
        if t == ru.t0 and pays_goods:
            extra[s] = ru.v[s, 0]
        F[s] = ru.v[s, t] + extra[s]
    return F, extra


@njit
def _electricity_post(ty, ru, fa, i, t, lam, thR, F, o):
    """Post ``t`` of type ``i`` with burn ``F`` and own offer ``o`` (a :class:`Post`)."""
    p = fa.p[t] if ru.pt else 0.0
    B = 0.0 if ru.pt else fa.Bm[i, t]
    Qo = 1.0 if ru.pt else fa.Qm[i, t] + o
    k = i if ty.lw.shape[0] == ty.a.shape[0] else i - i   # one shared row when none is linear
    return Post(ty.a[i, t - 1], ty.ge[i], ty.w[i], ty.lin[i], ty.lw[k, :, t - 1], ru.kappa, F,
                B, Qo, o, thR, lam, ru.pt, p)


@njit
def _goods_value(ty, i, x0, nu):
    """A classic producer's goods consumption: ``sup_{x0 >= 0} u_0(x0) - ν x0``, closed form;
    returns ``(value, x0)`` (``+inf`` where it has no maximum)."""
    if not ty.classic[i]:
        return 0.0, 0.0
    if ty.lin[i]:
        return (INF, INF) if ty.lw0[i] > nu else (0.0, 0.0)
    a0 = ty.a0[i] * ty.w[i].sum()
    if a0 <= 0.0:
        return 0.0, 0.0
    gg = ty.gg[i]
    if gg == 0.0:
        return (INF, INF) if a0 > nu else (0.0, 0.0)
    if nu <= 0.0:
        return INF, INF
    x0 = (a0 / nu) ** (1.0 / gg)
    return a0 * term(x0, gg) - nu * x0, x0


@njit
def consumer_dual(lam, i, ty, ru, fa, se, x_out, paid_out):
    """``(D(λ), dD/dλ)`` for consumer type ``i`` (an upper bound, and the budget slack at the
    maximiser, which goes to ``x_out``, ``paid_out``)."""
    T = ty.a.shape[1]
    S = ru.kappa.size
    thR = lam if fa.simult else fa.thR[i]
    income = 0.0 if fa.simult else fa.income[i]
    force = se.force[i]
    # With a fixed cost on the goods post, paying there changes post t0: both ways are tried.
    couple = np.any(ru.v[:, 0] > 0.0) and force[0] < 0
    valued0 = ty.lw0[i] > 0.0 if ty.lin[i] else ty.a0[i] > 0.0
    omega = ty.omega[i]
    best_ub = -INF
    best_v = -INF
    xt = np.zeros(T + 1)
    pd = np.zeros(T + 1, dtype=np.bool_)
    # The goods post's records have the types of the electricity posts' (a column of ``lw``,
    # writable ``kappa``, ``F``): one type of post, so each post kernel compiles once.
    lw0 = np.full((1, 1), ty.lw0[i])[:, 0]
    zero = np.zeros(1)
    # The posts' records are built from these locals: passing the records ``ty``, ``ru``,
    # ``fa`` to a function, even an inlined one, counts references to each of their arrays,
    # which costs more than a post's closed form.
    pt, lin, ge, kappa, v = ru.pt, ty.lin[i], ty.ge[i], ru.kappa, ru.v
    Bm, Qm, p, a, w = fa.Bm[i], fa.Qm[i], fa.p, ty.a[i], ty.w[i]
    lw = ty.lw[i if ty.lw.shape[0] == ty.a.shape[0] else i - i]   # one shared row unless linear
    lw_t = lw[:, 0]       # (column t replaces it in linear mode only)
    F = np.zeros(S)       # the burns of post t, overwritten post by post (each post's
    extra = np.zeros(S)   # records are used before the next is built)
    goods = Post(ty.a0[i], ty.gg[i], np.array([ty.w[i].sum()]), ty.lin[i], lw0, zero, zero,
                 0.0 if ru.pt else fa.Bm[i, 0], 1.0 if ru.pt else fa.Qm[i, 0] + omega, omega,
                 thR, lam, ru.pt, fa.p[0])
    # The goods post: the consumer sells ω there and may buy goods back.
    out = -INF if force[0] == 1 else value_out(goods, valued0)
    g_ub, g_v, g_x = purchase(goods) if force[0] != 0 else (-INF, -INF, 0.0)
    for choice in range(2 if couple else 1):
        if couple:
            use = choice == 1
            ub0, v0 = (g_ub, g_v) if use else (out, out)
        else:
            use = g_v > out
            ub0, v0 = max(g_ub, out), (g_v if use else out)
        total_ub = lam * income + ub0
        total_v = lam * income + v0
        xt[0] = g_x if use else 0.0
        pd[0] = use
        for t in range(1, T + 1):
            for s in range(S):   # the burn of paying on t, and of not paying (the goods
                extra[s] = v[s, 0] if (t == ru.t0 and use) else 0.0   # payment's, in t0)
                F[s] = v[s, t] + extra[s]
            if lin:
                lw_t = lw[:, t - 1]
            B = 0.0 if pt else Bm[t]
            Qo = 1.0 if pt else Qm[t]
            pt_p = p[t] if pt else 0.0
            pay = Post(a[t - 1], ge, w, lin, lw_t, kappa, F, B, Qo, 0.0, thR, lam, pt, pt_p)
            off = Post(a[t - 1], ge, w, lin, lw_t, kappa, extra, B, Qo, 0.0, thR, lam, pt, pt_p)
            ub, val, x, paid = best_on_post(pay, off, force[t])
            total_ub += ub
            total_v += val
            xt[t] = x
            pd[t] = paid
        best_ub = max(best_ub, total_ub)
        if total_v > best_v or best_v == -INF:
            best_v = total_v
            x_out[:] = xt
            paid_out[:] = pd
    # Danskin: dD/dλ is the budget slack at the maximiser.
    spend = 0.0
    for t in range(T + 1):
        x = x_out[t]
        if paid_out[t]:
            if ru.pt:
                spend += fa.p[t] * x
            else:
                Qo = fa.Qm[i, t] + (omega if t == 0 else 0.0)
                if Qo - x > 0.0:
                    spend += fa.Bm[i, t] * x / (Qo - x)
    if fa.simult:
        if ru.pt:
            rev = fa.p[0] * omega
        else:
            rev = omega * fa.Bm[i, 0] / (fa.Qm[i, 0] + omega - x_out[0])
        return best_ub, rev - spend
    return best_ub, income - spend


@njit
def value_out(goods, valued):
    """The goods post when not buying: the endowment sold, no goods consumed."""
    u = 0.0
    if valued:
        if goods.lin:
            u = 0.0
        else:
            u = goods.w[0] * goods.a * term(0.0, goods.g)
    if goods.pt:
        return u + goods.thR * goods.p * goods.o
    if goods.B <= 0.0:
        return u
    return u + goods.thR * goods.o * goods.B / goods.Qo


@njit
def _goods_purchase(ru, fa, i, lam, nu):
    """``sup_G ν G - λ b(G)`` on the goods post (``b = B_- G/(Ω - G)``), closed form:
    ``(value, G)``. For a price taker it is 0 at ``ν = λ p^0`` (and ``G`` is what it needs)."""
    if ru.pt:
        return (0.0 if nu <= lam * fa.p[0] * (1.0 + 1e-15) else INF), 0.0
    B = fa.Bm[i, 0]
    Om = ru.Omega
    if B <= 0.0:
        return nu * Om, Om
    G = Om - math.sqrt(lam * B * Om / nu)
    if G <= 0.0:
        return 0.0, 0.0
    return nu * G - lam * B * G / (Om - G), G


@njit
def _offer_record(ty, ru, fa, se, i, t, lam, nu, thR, pays_goods, S):
    """Post ``t``'s :class:`Offer` (not paying; no price on the offer), with the technology
    of :func:`_secant` (the secant's inside a box of offers)."""
    F, extra = _burn(ru, t, pays_goods, S)
    pay = _electricity_post(ty, ru, fa, i, t, lam, thR, F, 0.0)
    off = _electricity_post(ty, ru, fa, i, t, lam, thR, extra, 0.0)
    theta, c, _, _ = _secant(ty, se, i, t)
    return Offer(pay, off, 0.0 if ru.pt else fa.Qm[i, t], nu, theta, c, 0.0, False)


@njit
def _secant(ty, se, i, t):
    """Type ``i``'s technology on post ``t``: ``(θ, c, fixed goods, largest offer)``. Inside a
    box ``[lo, hi]`` of offers (``se.qlo``, ``se.qhi``) with ``c > 1`` the input ``φ``, concave,
    is at least its secant ``φ(lo) + s (q - lo)``: linear, ``c = 1`` with ``θ = 1/s``, plus
    the fixed ``φ(lo) - s lo >= 0``, and offers capped at ``hi`` (the floor ``lo`` is dropped:
    a larger set, so still an upper bound on the box)."""
    hi = se.qhi[i, t]
    theta, c = ty.theta[i], ty.c[i]
    if hi != hi or c <= 1.0:
        return theta, c, 0.0, INF
    lo = se.qlo[i, t]
    f_lo = phi(lo, theta, c)
    s = (phi(hi, theta, c) - f_lo) / (hi - lo) if hi > lo else 0.0
    return (1.0 / s if s > 0.0 else INF), 1.0, f_lo - s * lo, hi


@njit
def _boxed(ty, se, i):
    """``(Σ_t fixed goods, every post's technology concave)`` of type ``i`` (:func:`_secant`):
    the goods a box's secants need whatever is offered, and whether the problem is concave
    in the offers (``c <= 1``, or every post inside a box)."""
    fixed, concave = 0.0, True
    for t in range(1, ty.a.shape[1] + 1):
        _, c, f, _ = _secant(ty, se, i, t)
        fixed += f
        concave = concave and c <= 1.0
    return fixed, concave


@njit
def _free(K, T):
    """Offers up to ``s^t K`` with no price on them: the ``cap`` of :func:`_posts`."""
    return (K, np.zeros(T + 1), unliteral(True))


@njit
def _posts(ty, ru, fa, se, i, mult, pays_goods, cap, prove, out):
    """Every electricity post's best offer up to ``K``, less ``mu[t]`` per unit offered
    (``cap = (K, mu, scaled)``: up to ``s^t K`` where ``scaled``, else ``K``;
    ``mult = (λ, ν, θ_R)``): ``(upper bound, value, closed)``, the
    maximiser into ``out = (x, q, paid)``."""
    lam, nu, thR = mult
    K, mu, scaled = cap
    T = ty.a.shape[1]
    S = ru.kappa.size
    ub_sum, v_sum, closed = 0.0, 0.0, True
    for t in range(1, T + 1):
        base = _offer_record(ty, ru, fa, se, i, t, lam, nu, thR, pays_goods, S)
        _, c, fixed, cap_t = _secant(ty, se, i, t)
        off = Offer(base.pay, base.stay, base.Qm, base.nu, base.theta, c, mu[t], False)
        qmax = min(K * ty.s[i, t] if scaled else K, cap_t)
        # Concave in q: simultaneous settlement, or a price taker (whose purchase does not
        # depend on its offer), with non-increasing returns.
        concave = c <= 1.0 and (fa.simult or ru.pt)
        ub, v, q, x, paid, ok = best_offer(off, qmax, concave, se.gap[i], prove,
                                           se.force[i, t])
        ub_sum += ub - nu * fixed
        v_sum += v - nu * fixed
        closed = closed and ok
        out[0][t] = x
        out[1][t] = q
        out[2][t] = paid
    return ub_sum, v_sum, closed


@njit
def _options_at(K, s, offs, qstar, vstar, allowed, f, sl, lb):
    """Each post's best value with the offer capped at ``K``, per option (not paying, paying):
    upper bounds into ``f``, slopes in ``K`` into ``sl``; returns the value attained (for the
    best option of each post, minus nothing: the caller subtracts the capacity cost)."""
    T = qstar.shape[0] - 1
    total = 0.0
    for t in range(1, T + 1):
        best = -INF
        for o in range(2):
            if not allowed[t, o]:
                f[t, o] = -INF
                sl[t, o] = 0.0
                continue
            off = offs[t - 1][o]
            Kt = K * s[t]       # the cap s^t K: concave in K, slope s^t times the offer's
            if Kt >= qstar[t, o]:
                f[t, o] = vstar[t, o]
                sl[t, o] = 0.0
                best = max(best, lb[t, o])
            else:
                ub, v, x = offer_value(Kt, off)
                f[t, o] = ub
                sl[t, o] = s[t] * max(offer_slope(Kt, x, off), 0.0)
                best = max(best, v)
        total += best
    return total


@njit
def _k_range(Khi, s):
    """The largest useful capacity: a post's cap ``s^t K`` is no use beyond ``Khi`` (what all
    goods can make), so ``K <= Khi / min_{s^t > 0} s^t``."""
    low = 1.0
    for t in range(1, s.size):
        if s[t] > 0.0:
            low = min(low, s[t])
    return Khi / low


@njit
def _capacity_bound(K1, f1, s1, K2, f2, s2, nu_rho):
    """An upper bound of ``Σ_t max_o f_to(K) - νρK`` on ``[K1, K2]``, each ``f_to`` concave and
    so below its tangents at both ends: the piecewise-linear bound is largest at an end or
    where a pair of tangents cross."""
    T = f1.shape[0] - 1
    cands = np.empty(2 + 2 * T)
    cands[0] = K1
    cands[1] = K2
    n = 2
    h = K2 - K1
    for t in range(1, T + 1):
        for o in range(2):
            if not (math.isfinite(f1[t, o]) and math.isfinite(f2[t, o])):
                continue
            da = f1[t, o] - (f2[t, o] - s2[t, o] * h)
            db = (f1[t, o] + s1[t, o] * h) - f2[t, o]
            if da * db < 0.0:
                cands[n] = K1 + h * da / (da - db)
                n += 1
    best = -INF
    for k in range(n):
        K = cands[k]
        tot = -nu_rho * K
        for t in range(1, T + 1):
            m = -INF
            for o in range(2):
                if math.isfinite(f1[t, o]) and math.isfinite(f2[t, o]):
                    m = max(m, min(f1[t, o] + s1[t, o] * (K - K1),
                                   f2[t, o] + s2[t, o] * (K - K2)))
                elif f1[t, o] == INF or f2[t, o] == INF:
                    m = INF
            tot += m
        best = max(best, tot)
    return best


@njit
def _capacity_concave(ty, ru, fa, se, i, mult, pays_goods, out):
    """The long run under simultaneous settlement with ``c <= 1`` (or inside a box of offers,
    :func:`_secant`): ``max_K Σ_t max_{q <= K}
    V_t(q) - νρK`` over ``[0, Khi]``, each option's ``V_t`` concave in ``q``. Branch and bound
    on ``K`` with the tangent bounds of :func:`_capacity_bound`: ``(upper bound, value, K,
    closed)``; the maximiser goes to ``out``."""
    lam, nu, thR = mult
    T = ty.a.shape[1]
    S = ru.kappa.size
    Khi = ty.Khi[i]
    s = ty.s[i]
    KhiK = _k_range(Khi, s)
    nu_rho = nu * ty.rho[i]
    qstar = np.zeros((T + 1, 2))
    vstar = np.full((T + 1, 2), -INF)
    lbstar = np.full((T + 1, 2), -INF)
    allowed = np.zeros((T + 1, 2), dtype=np.bool_)
    offs = []
    for t in range(1, T + 1):
        base = _offer_record(ty, ru, fa, se, i, t, lam, nu, thR, pays_goods, S)
        pair = (Offer(base.pay, base.stay, base.Qm, base.nu, base.theta, base.c, 0.0, False),
                Offer(base.pay, base.stay, base.Qm, base.nu, base.theta, base.c, 0.0, True))
        offs.append(pair)
        for o in range(2):
            allowed[t, o] = not ((o == 1 and se.force[i, t] == 0) or
                                 (o == 0 and se.force[i, t] == 1))
            if allowed[t, o]:
                ub, v, q, x = _concave_offer(pair[o], min(Khi, _secant(ty, se, i, t)[3]))
                qstar[t, o], vstar[t, o], lbstar[t, o] = q, ub, v
    P = 400
    Ks = np.empty(P)
    F = np.empty((P, T + 1, 2))
    Sl = np.empty((P, T + 1, 2))
    best_v, best_K = -INF, 0.0
    n = 0
    # Breakpoints in K: where a post's cap s^t K reaches its best offer.
    kinks = np.zeros((T, 2))
    for t in range(1, T + 1):
        for o in range(2):
            kinks[t - 1, o] = min(qstar[t, o] / s[t], KhiK) if s[t] > 0.0 else 0.0
    init = np.unique(np.concatenate((np.array([0.0, KhiK]), kinks.ravel())))
    for K in init:
        if n >= P:
            break
        v = _options_at(K, s, offs, qstar, vstar, allowed, F[n], Sl[n], lbstar) - nu_rho * K
        Ks[n] = K
        if v > best_v:
            best_v, best_K = v, K
        n += 1
    heap = [(0.0, 0, 0)]
    heap.pop()
    for k in range(n - 1):
        ub = _capacity_bound(Ks[k], F[k], Sl[k], Ks[k + 1], F[k + 1], Sl[k + 1], nu_rho)
        heapq.heappush(heap, (-ub, k, k + 1))
    kept = -INF
    closed = n <= 1
    while heap:
        nub, a, b = heapq.heappop(heap)
        if -nub == -INF or -nub - best_v <= se.gap[i]:
            kept = max(kept, -nub)
            closed = True
            break
        K = 0.5 * (Ks[a] + Ks[b])
        if n >= P or not (K > Ks[a] and K < Ks[b]):
            kept = max(kept, -nub)
            if n >= P:
                break
            continue
        v = _options_at(K, s, offs, qstar, vstar, allowed, F[n], Sl[n], lbstar) - nu_rho * K
        Ks[n] = K
        if v > best_v:
            best_v, best_K = v, K
        heapq.heappush(heap, (-_capacity_bound(Ks[a], F[a], Sl[a], K, F[n], Sl[n], nu_rho),
                              a, n))
        heapq.heappush(heap, (-_capacity_bound(K, F[n], Sl[n], Ks[b], F[b], Sl[b], nu_rho),
                              n, b))
        n += 1
    if not heap and not closed:
        closed = True
    bound = max(best_v, kept)
    if heap:
        bound = max(bound, -heap[0][0])
    _posts(ty, ru, fa, se, i, mult, pays_goods, _free(best_K, T), unliteral(False), out)
    fixed = nu * _boxed(ty, se, i)[0]   # a box's secants' goods, whatever is offered
    return bound - fixed, best_v - fixed, best_K, closed


class Capacity(NamedTuple):
    """The long-run objective as a function of the capacity ``K`` for the fast searches (for
    :func:`emgame._numerics.golden_max`), read from offers evaluated once per ``(λ, ν)``: on
    each post and option (not paying, paying; ``allowed``) a grid of offers ``grid`` with the
    running best of their values ``best``, and the unconstrained best offer ``qstar`` and its
    value ``vstar``. With the cap ``s^t K`` below ``qstar``, the post's value is the better of
    the grid's best below the cap and the value at the cap itself: a local search (a value
    attained, never a bound), as every fast search is."""

    ty: tuple
    ru: tuple
    fa: tuple
    se: tuple
    i: int
    mult: tuple
    pays_goods: bool
    grid: np.ndarray
    best: np.ndarray
    qstar: np.ndarray
    vstar: np.ndarray
    allowed: np.ndarray


_GRID = 16
"""A fast capacity search's grid: ``2·_GRID + 1`` offers per post (:func:`_offer_grid`)."""


@njit
def _offer_grid(qmax):
    """Offers ``[0, qmax]``, uniform and geometric towards zero, sorted (duplicates allowed)."""
    n = _GRID
    g = np.empty(2 * n + 1)
    for k in range(n + 1):
        g[k] = qmax * k / n
    for k in range(n):
        g[n + 1 + k] = qmax * 10.0 ** (-12.0 * (k + 1) / n)
    return np.sort(g)


@njit
def _capacity_table(ty, ru, fa, se, i, mult, pays_goods, KhiK):
    """The :class:`Capacity` of type ``i`` at ``mult = (λ, ν, θ_R)``."""
    lam, nu, thR = mult
    T = ty.a.shape[1]
    S = ru.kappa.size
    M = 2 * _GRID + 1
    grid = np.zeros((T + 1, 2, M))
    best = np.full((T + 1, 2, M), -INF)
    qstar = np.zeros((T + 1, 2))
    vstar = np.full((T + 1, 2), -INF)
    allowed = np.zeros((T + 1, 2), dtype=np.bool_)
    for t in range(1, T + 1):
        base = _offer_record(ty, ru, fa, se, i, t, lam, nu, thR, pays_goods, S)
        # Inside a box of offers (:func:`_secant`) no offer goes past its top.
        qmax = min(KhiK * ty.s[i, t], _secant(ty, se, i, t)[3])
        g = _offer_grid(qmax)
        for o in range(2):
            force = se.force[i, t]
            allowed[t, o] = not ((o == 1 and force == 0) or (o == 0 and force == 1))
            if not allowed[t, o]:
                continue
            off = Offer(base.pay, base.stay, base.Qm, nu, base.theta, base.c, 0.0, o == 1)
            run, k_best = -INF, 0
            for k in range(M):
                v = offer_value(g[k], off)[1]
                if v > run:
                    run, k_best = v, k
                grid[t, o, k] = g[k]
                best[t, o, k] = run
            q_b, v_b = g[k_best], run
            lo, hi = g[max(k_best - 1, 0)], g[min(k_best + 1, M - 1)]
            if hi > lo:
                q, v = golden_max(off, lo, hi, 1e-13, 200)
                if v > v_b:
                    q_b, v_b = q, v
            qstar[t, o], vstar[t, o] = q_b, v_b
    return Capacity(ty, ru, fa, se, i, mult, pays_goods, grid, best, qstar, vstar, allowed)


@objective(Capacity)
@njit
def _capacity_value(K, cp):
    ty, i = cp.ty, cp.i
    lam, nu, thR = cp.mult
    T = ty.a.shape[1]
    total = -nu * ty.rho[i] * K
    for t in range(1, T + 1):
        cap = ty.s[i, t] * K
        post = -INF
        for o in range(2):
            if not cp.allowed[t, o]:
                continue
            if cap >= cp.qstar[t, o]:
                v = cp.vstar[t, o]
            else:
                k = np.searchsorted(cp.grid[t, o], cap, side="right") - 1
                v = cp.best[t, o, k] if k >= 0 else -INF
                base = _offer_record(ty, cp.ru, cp.fa, cp.se, i, t, lam, nu, thR, cp.pays_goods,
                                     cp.ru.kappa.size)
                off = Offer(base.pay, base.stay, base.Qm, nu, base.theta, base.c, 0.0,
                            o == 1)
                v = max(v, offer_value(cap, off)[1])
            post = max(post, v)
        total += post
    return total


@njit
def _capacity(ty, ru, fa, se, i, mult, pays_goods, prove, out):
    """The long run otherwise (some ``V_t`` not concave): ``(upper bound, value, K, closed)``.

    The capacity is searched (:class:`Capacity`: from the posts' unconstrained best offers,
    refined by golden section); then, to prove, the capacity constraints ``q_t <= s^t K`` are
    priced instead: for multipliers ``μ_t >= 0``, ``Σ_t max_q [V_t(q) - μ_t q]`` over
    ``[0, Khi]`` plus the capacity term's largest value ``max(Σ_t s^t μ_t - νρ, 0)·K_max``
    bounds the objective (weak duality). ``μ_t`` is each binding post's marginal value at the
    capacity found, scaled so that ``Σ_t s^t μ_t = νρ``, which makes the bound tight there.
    """
    lam, nu, thR = mult
    T = ty.a.shape[1]
    rho = ty.rho[i]
    Khi = ty.Khi[i]
    s = ty.s[i]
    KhiK = _k_range(Khi, s)
    cp = _capacity_table(ty, ru, fa, se, i, mult, pays_goods, KhiK)
    ks = np.zeros(T)
    for t in range(1, T + 1):
        o = 1 if cp.vstar[t, 1] > cp.vstar[t, 0] else 0
        ks[t - 1] = cp.qstar[t, o] / s[t] if s[t] > 0.0 else 0.0
    cand = np.unique(np.append(ks, np.array([0.0, KhiK])))
    m = cand.size
    vals = np.empty(m)
    for k in range(m):
        vals[k] = _capacity_value(cand[k], cp)
    k = np.argmax(vals)
    best_K = cand[k]
    best_c = vals[k]
    for lo, hi in ((cand[max(k - 1, 0)], cand[k]), (cand[k], cand[min(k + 1, m - 1)])):
        if hi > lo:
            K, v = golden_max(cp, lo, hi, 1e-13, 200)
            if v > best_c:
                best_c, best_K = v, K
    # The maximiser at the capacity found, and its value (what the searches steer by).
    _, v, _ = _posts(ty, ru, fa, se, i, mult, pays_goods, _free(best_K, T), unliteral(False),
                     out)
    best_v = v - nu * rho * best_K
    if not prove:
        return best_v, best_v, best_K, False
    # Price the capacity: μ_t = the marginal value of offering more on posts at capacity.
    S = ru.kappa.size
    mu = np.zeros(T + 1)
    for t in range(1, T + 1):
        cap_t = s[t] * best_K
        if out[1][t] >= cap_t * (1.0 - 1e-12) and cap_t > 0.0:
            base = _offer_record(ty, ru, fa, se, i, t, lam, nu, thR, pays_goods, S)
            off = Offer(base.pay, base.stay, base.Qm, nu, base.theta, base.c, 0.0, out[2][t])
            mu[t] = max(offer_slope(cap_t, out[0][t], off), 0.0)
    # Scaled so that Σ_t s^t μ_t = νρ: the capacity term then vanishes. Where it fell short,
    # leaving it short would drop the capacity cost from the bound, (νρ - Σ s μ) K too much,
    # a first-order gap; raised to νρ the posts at capacity are held back instead, and the gap
    # left is of second order in the error of the capacity found.
    total = (mu * s).sum()
    if total > 0.0:
        mu *= nu * rho / total
    # Rounding may leave Σ s μ a hair above νρ: the capacity term's supremum, at the largest
    # useful capacity, is added.
    excess = max((mu * s).sum() - nu * rho, 0.0) * KhiK
    scratch = (np.zeros(T + 1), np.zeros(T + 1), np.zeros(T + 1, dtype=np.bool_))
    ub, _, closed = _posts(ty, ru, fa, se, i, mult, pays_goods, (Khi, mu, unliteral(False)),
                           unliteral(True), scratch)
    return max(ub + excess, best_v), best_v, best_K, closed


@njit
def producer_dual(lam, nu, i, ty, ru, fa, se, prove, out):
    """``(D(λ, ν), dD/dλ, dD/dν, K, closed)`` for producer type ``i``; the maximiser goes to
    ``out = (x, q, paid)`` (``x[0]`` the goods bought, ``q[0]`` the goods consumed)."""
    T = ty.a.shape[1]
    thR = lam if fa.simult else fa.thR[i]
    mult = (lam, nu, thR)
    income = 0.0 if fa.simult else fa.income[i]
    force0 = se.force[i, 0]
    long_run = ty.K[i] != ty.K[i]
    goods_fee = np.any(ru.v[:, 0] > 0.0)
    x_scratch = np.zeros(T + 1)
    q_scratch = np.zeros(T + 1)
    p_scratch = np.zeros(T + 1, dtype=np.bool_)
    scratch = (x_scratch, q_scratch, p_scratch)
    best_ub, best_v, best_K, closed = -INF, -INF, 0.0, True
    G_best = 0.0
    x0_best = 0.0
    lo_choice = 0 if (goods_fee and force0 != 1) else 1
    hi_choice = 0 if force0 == 0 else 1
    for choice in range(lo_choice, hi_choice + 1):
        pays = choice == 1
        if pays:
            gv, G = _goods_purchase(ru, fa, i, lam, nu)
            xv, x0 = _goods_value(ty, i, 0.0, nu)
        else:
            gv, G, xv, x0 = 0.0, 0.0, 0.0, 0.0   # no goods: no inputs, no capacity
        total_ub = lam * income + gv + xv
        total_v = total_ub
        K = 0.0
        if not pays:
            ub, v, ok = _posts(ty, ru, fa, se, i, mult, pays, _free(0.0, T), prove, scratch)
        elif not long_run:
            K = ty.K[i]
            ub, v, ok = _posts(ty, ru, fa, se, i, mult, pays, _free(K, T), prove, scratch)
        elif _boxed(ty, se, i)[1] and (fa.simult or ru.pt):
            ub, v, K, ok = _capacity_concave(ty, ru, fa, se, i, mult, pays, scratch)
        else:
            ub, v, K, ok = _capacity(ty, ru, fa, se, i, mult, pays, prove, scratch)
        total_ub += ub
        total_v += v
        closed = closed and ok
        best_ub = max(best_ub, total_ub)
        if total_v > best_v or best_v == -INF:
            best_v, best_K = total_v, K
            out[0][:] = x_scratch
            out[1][:] = q_scratch
            out[2][:] = p_scratch
            out[2][0] = pays
            G_best, x0_best = G, x0
    # Danskin derivatives: budget slack and goods slack at the maximiser.
    x, q, paid = out
    spend, rev, need = 0.0, 0.0, 0.0
    for t in range(1, T + 1):
        theta, c, fixed, _ = _secant(ty, se, i, t)
        need += phi(q[t], theta, c) + fixed
        if ru.pt:
            rev += fa.p[t] * q[t]
            if paid[t]:
                spend += fa.p[t] * x[t]
        else:
            W = fa.Qm[i, t] + q[t] - x[t]
            if W > 0.0:
                rev += fa.Bm[i, t] * q[t] / W
                if paid[t]:
                    spend += fa.Bm[i, t] * x[t] / W
    need += ty.rho[i] * best_K if long_run else 0.0
    need += x0_best
    G = G_best
    if ru.pt:
        G = need
        spend += fa.p[0] * G
    elif paid[0] and ru.Omega - G > 0.0:
        spend += fa.Bm[i, 0] * G / (ru.Omega - G)
    x[0] = G
    q[0] = x0_best   # goods consumed (classic), kept in the unused slot
    d_lam = (rev - spend) if fa.simult else (income - spend)
    return best_ub, d_lam, G - need, best_K, closed

