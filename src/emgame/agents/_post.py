"""One post of one agent's Lagrangian, maximised with a proven upper bound (numba).

In the agent's own variables on a post — ``x`` the amount it receives (its bid is
``b = B_- x/(Q_o - x)`` with market power, ``b = p x`` for a price taker) and, for a producer,
its offer ``q`` — the post's money term is

    m(x) = (θ_R o - λ x) B_- / (Q_o - x)        (market power; Q_o = Q_- + o)
    m(x) = θ_R p o - λ p x                      (price taking)

(``θ_R o B_-/(Q_o - x)`` its revenue from its own offer ``o``, valued at ``θ_R``; ``λ`` the value
of its money; ``θ_R = λ`` under simultaneous settlement, ``βλ̄`` under prepaid, docs/model.md
section 5), and its utility term is ``Σ_s w_s a h_γ(E_s)`` with ``E_s = (1-κ_s) x - F_s`` (the
terms of :mod:`emgame.market.utility`), or ``Σ_s lw_s E_s`` in linear mode.

Each routine returns an **upper bound** on the supremum it is asked for, a value attained (or
approached) and where. Concave maximisations are closed by the Illinois method and bounded by
the tangent at the end of the final bracket (a concave function lies below its tangents);
non-concave ones (a producer's offer with increasing returns, or under prepaid settlement) by
branch and bound: on an interval ``[q1, q2]`` of offers the value is at most
``max(g(q1), g(q2)) - νφ(q1)``, because ``φ`` increases and, for every purchase ``x``, the money
term is monotone in ``q`` (``∂m/∂q ∝ θ_R Q_- + (λ - θ_R) x``, whose sign does not depend on
``q``), so ``g(q) = max_x [utility + money]`` is at most its larger end value.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from emgame._jit import njit
from emgame._numerics import golden_max, illinois, objective
from emgame.agents._records import Offer, Post
from emgame.market.utility import term, term_slope

INF = math.inf
MAX_SPLITS = 20000
"""Evaluations a branch-and-bound search of one post may spend before its bound stands (then
possibly loose: the type is inconclusive if it matters)."""


@njit
def phi(q, theta, c):
    """Goods input of an offer: ``φ(q) = (q/θ)^{1/c}`` (docs/model.md, Agents)."""
    return (q / theta) ** (1.0 / c) if q > 0.0 else 0.0


@njit
def phi_slope(q, theta, c):
    if c == 1.0:
        return 1.0 / theta
    if q <= 0.0:
        return 0.0 if c < 1.0 else INF
    return (1.0 / (c * theta)) * (q / theta) ** (1.0 / c - 1.0)


@njit(inline="always")
def floor(post):
    """Least ``x`` with ``E_s >= 0`` in every state (the purchase that just covers the fixed
    verification)."""
    lo = 0.0
    for s in range(post.kappa.size):
        if post.F[s] > 0.0:
            lo = max(lo, post.F[s] / (1.0 - post.kappa[s]))
    return lo


@njit(inline="always")
def utility(x, post):
    """The utility term at a purchase ``x`` (``-inf`` where some ``E_s < 0``)."""
    val = 0.0
    for s in range(post.kappa.size):
        E = (1.0 - post.kappa[s]) * x - post.F[s]
        if E < 0.0:
            if E < -1e-12 * max(post.F[s], 1e-300):
                return -INF
            E = 0.0
        if post.lin:
            if E > 0.0:
                val += post.lw[s] * E
        elif post.a > 0.0:
            val += post.w[s] * post.a * term(E, post.g)
    return val


@njit(inline="always")
def utility_slope(x, post):
    d = 0.0
    for s in range(post.kappa.size):
        k = 1.0 - post.kappa[s]
        E = k * x - post.F[s]
        if post.lin:
            d += post.lw[s] * k
        elif post.a > 0.0:
            d += post.w[s] * post.a * k * term_slope(E, post.g)
    return d


@njit(inline="always")
def money(x, post):
    if post.pt:
        return post.thR * post.p * post.o - post.lam * post.p * x
    if post.B <= 0.0:
        return 0.0
    return (post.thR * post.o - post.lam * x) * post.B / (post.Qo - x)


@njit(inline="always")
def money_slope(x, post):
    if post.pt:
        return -post.lam * post.p
    if post.B <= 0.0:
        return 0.0
    W = post.Qo - x
    return post.B * (post.thR * post.o - post.lam * post.Qo) / (W * W)


@njit(inline="always")
def value(x, post):
    return utility(x, post) + money(x, post)


@objective(Post)
@njit
def _minus_slope(x, post):
    """``-d value/dx``: increasing where the value is concave."""
    return -(utility_slope(x, post) + money_slope(x, post))


@njit(inline="always")
def _linear_utility(post):
    """The utility term is linear in ``x`` (its slope never falls)."""
    return post.lin or post.a <= 0.0 or post.g == 0.0


@njit(inline="always")
def _logarithmic(post):
    """Log utility with no verification at all: the purchase has a closed form."""
    if post.lin or post.g != 1.0 or post.a <= 0.0:
        return False
    for s in range(post.kappa.size):
        if post.F[s] != 0.0 or post.kappa[s] != 0.0:
            return False
    return True


@njit(inline="always")
def purchase(post):
    """The best purchase when paying on the post: ``(upper bound, value, x)``.

    The value is concave on ``[floor, Q_o)`` when ``θ_R o <= λ Q_o`` (always under
    simultaneous settlement); otherwise the revenue term grows without bound as ``x -> Q_o``
    and so does the supremum. Where nobody else bids, any bid buys the whole post: the
    supremum, approached as the bid goes to zero, is at ``x = Q_o``. ``-inf`` where paying
    cannot leave ``E >= 0``. (Inlined where it is called, with the small functions it uses: a
    call passes the post's arrays, and their reference counting costs more than the closed
    forms; the search where no closed form applies is :func:`_concave_purchase`.)
    """
    lo = floor(post)
    if not post.pt:
        if lo >= post.Qo:
            return -INF, -INF, 0.0
        if post.B <= 0.0:
            v = utility(post.Qo, post)
            return v, v, post.Qo
        c0 = post.thR * post.o - post.lam * post.Qo
        if c0 > 0.0:
            return INF, INF, post.Qo
        if c0 == 0.0:
            v = utility(post.Qo, post) + post.lam * post.B
            return v, v, post.Qo
        if _logarithmic(post):
            # a log x + B c0/(Q - x): its maximiser solves a (Q - x)^2 = -B c0 x.
            a = post.a * post.w.sum()
            bq = 2.0 * a * post.Qo - post.B * c0
            x = 2.0 * a * post.Qo * post.Qo / (
                bq + math.sqrt(max(bq * bq - 4.0 * a * a * post.Qo * post.Qo, 0.0)))
            v = value(x, post)
            return v, v, x
    elif _logarithmic(post) and post.lam * post.p > 0.0:
        x = post.a * post.w.sum() / (post.lam * post.p)
        v = value(x, post)
        return v, v, x
    return _concave_purchase(post, lo)


@njit
def _concave_purchase(post, lo):
    """:func:`purchase` where no closed form applies: the concave value on ``[lo, Q_o)`` (a
    price taker's on ``[lo, ∞)``) maximised by the Illinois method on its slope."""
    if not post.pt:
        hi = post.Qo
        f_hi = INF
    else:
        if _linear_utility(post):
            if -_minus_slope(lo, post) > 0.0:
                return INF, INF, INF
            v = value(lo, post)
            return v, v, lo
        hi = max(2.0 * lo, 1.0)
        f_hi = _minus_slope(hi, post)
        for _ in range(2100):
            if f_hi > 0.0:
                break
            hi *= 4.0
            f_hi = _minus_slope(hi, post)
        else:
            return INF, INF, INF
    f_lo = _minus_slope(lo, post)
    if f_lo >= 0.0:
        v = value(lo, post)
        return v, v, lo
    a, fa, b, fb = illinois(post, lo, f_lo, hi, f_hi, 1e-15, 200)
    if a == b:
        v = value(a, post)
        return v, v, a
    x = 0.5 * (a + b)
    v = value(x, post)
    # A concave function lies below its tangents: at a (slope -fa >= 0) and at b (<= 0).
    ub = INF
    if math.isfinite(fa):
        ub = min(ub, value(a, post) - fa * (b - a))
    if math.isfinite(fb) and b < post.Qo:
        ub = min(ub, value(b, post) + fb * (b - a))
    return max(ub, v), v, x


@njit(inline="always")
def stay(post):
    """The value of not paying on the post (``x = 0``). A seller whose post nobody else bids on
    keeps its own offer: the post does not trade (docs/model.md, Prices and allocations), and the
    share ``κ`` does
    not apply to electricity kept (section 5)."""
    if not post.pt and post.B <= 0.0 and post.o > 0.0:
        val = 0.0
        for s in range(post.kappa.size):
            E = post.o - post.F[s]
            if E < 0.0:
                return -INF
            if post.lin:
                val += post.lw[s] * E
            elif post.a > 0.0:
                val += post.w[s] * post.a * term(E, post.g)
        return val
    return value(0.0, post)


@njit(inline="always")
def best_on_post(pay, off, force):
    """Paying or not on a consumer's post: ``(upper bound, value, x, paid)``; ``force`` is -1
    (free), 0 (must not pay) or 1 (must pay)."""
    v_out = stay(off) if force != 1 else -INF
    if force == 0:
        return v_out, v_out, 0.0, False
    ub, v, x = purchase(pay)
    if v > v_out or (v == v_out and ub > v_out):
        return max(ub, v_out), v, x, True
    return max(ub, v_out), v_out, 0.0, False


# --------------------------------------------------------------------------------------------
# A producer's offer.
# --------------------------------------------------------------------------------------------


@njit
def _with_offer(post, q, Qm):
    return Post(post.a, post.g, post.w, post.lin, post.lw, post.kappa, post.F, post.B, Qm + q, q,
                post.thR, post.lam, post.pt, post.p)


@njit
def offer_value(q, off):
    """``g(q) - νφ(q) - μq`` for the offer ``q``: ``(upper bound, value, x)``, with ``g`` the
    best of the utility and money terms over the purchase (paying) or at ``x = 0`` (not
    paying)."""
    cost = off.nu * phi(q, off.theta, off.c) + off.mu * q
    if off.paying:
        ub, v, x = purchase(_with_offer(off.pay, q, off.Qm))
        return ub - cost, v - cost, x
    v = stay(_with_offer(off.stay, q, off.Qm))
    return v - cost, v - cost, 0.0


@njit
def _kept_slope(q, post):
    """Slope in ``q`` of the utility of electricity kept from a post that does not trade."""
    d = 0.0
    for s in range(post.kappa.size):
        if post.lin:
            d += post.lw[s]
        elif post.a > 0.0:
            d += post.w[s] * post.a * term_slope(q - post.F[s], post.g)
    return d


@njit
def offer_slope(q, x, off):
    """``d/dq [g(q) - νφ(q)]`` at the purchase ``x`` (the envelope theorem)."""
    post = off.pay if off.paying else off.stay
    if post.pt:
        dm = post.thR * post.p
    elif post.B <= 0.0:
        # Nobody else bids: paying buys the whole post, not paying keeps the own offer.
        dm = (utility_slope(off.Qm + q, post) if off.paying else _kept_slope(q, post))
    else:
        W = off.Qm + q - x
        dm = post.B * (post.thR * off.Qm + (post.lam - post.thR) * x) / (W * W)
    return dm - off.nu * phi_slope(q, off.theta, off.c) - off.mu


@njit
def _concave_offer(off, qmax):
    """The best offer for a concave ``g - νφ`` (simultaneous settlement, ``c <= 1``), a root
    of its slope: geometric steps while the bracket spans decades, then regula falsi with the
    Illinois safeguard (an end kept twice has its slope halved): ``(upper bound, value, q,
    x)``."""
    ub0, v0, x0 = offer_value(0.0, off)
    s0 = offer_slope(0.0, x0, off)
    if s0 <= 0.0:
        return ub0, v0, 0.0, x0
    ubK, vK, xK = offer_value(qmax, off)
    sK = offer_slope(qmax, xK, off)
    if sK >= 0.0:
        return ubK, vK, qmax, xK
    lo, hi = 0.0, qmax
    s_lo, s_hi = s0, sK
    g_lo, g_hi = s0, sK   # the (possibly halved) slopes used to interpolate
    side = 0
    q = 0.5 * qmax
    x = x0
    for _ in range(200):
        if hi - lo <= 1e-15 * hi:
            break
        if lo > 0.0 and hi > 8.0 * lo:
            q = math.sqrt(lo * hi)
        elif lo == 0.0 and hi > 1e-9 * qmax:
            q = 0.25 * hi
        else:
            q = (lo * g_hi - hi * g_lo) / (g_hi - g_lo) if math.isfinite(g_lo - g_hi) else lo
            if not (q > lo and q < hi):
                q = 0.5 * (lo + hi)
        _, _, x = offer_value(q, off)
        s = offer_slope(q, x, off)
        if s == 0.0:
            lo = hi = q
            s_lo = s_hi = 0.0
            break
        if s > 0.0:
            lo, s_lo, g_lo = q, s, s
            if side == 1:
                g_hi *= 0.5
            side = 1
        else:
            hi, s_hi, g_hi = q, s, s
            if side == -1:
                g_lo *= 0.5
            side = -1
    q = 0.5 * (lo + hi)
    ub_q, v, x = offer_value(q, off)
    # The maximum lies in [lo, hi], below the tangents at both ends (concavity).
    ub_lo, _, _ = offer_value(lo, off)
    ub_hi, _, _ = offer_value(hi, off)
    bound = INF
    if math.isfinite(s_lo):
        bound = ub_lo + s_lo * (hi - lo)
    if math.isfinite(s_hi):
        bound = min(bound, ub_hi - s_hi * (hi - lo))
    return max(bound, ub_q, v), v, q, x


@njit
def _grid(qmax, n):
    """Offers to start a search from: uniform, and geometric towards zero."""
    g = np.empty(2 * n + 1)
    for i in range(n):
        g[i] = qmax * i / n
        g[n + i] = qmax * 10.0 ** (-12.0 * (i + 1) / n)
    g[2 * n] = qmax
    return np.unique(g)


@objective(Offer)
@njit
def _offer_objective(q, off):
    return offer_value(q, off)[1]


@njit
def _money_q(q, x, off):
    post = off.pay if off.paying else off.stay
    if post.pt:
        return post.thR * post.p
    if post.B <= 0.0:
        return utility_slope(off.Qm + q, post) if off.paying else _kept_slope(q, post)
    W = off.Qm + q - x
    return post.B * (post.thR * off.Qm + (post.lam - post.thR) * x) / (W * W)


@njit
def _phi_curvature(q, theta, c):
    """``φ''(q)`` (``+inf``/``-inf`` at 0 where it is unbounded)."""
    if c == 1.0:
        return 0.0
    if q <= 0.0:
        return INF if c < 1.0 else -INF
    return (1.0 / c) * (1.0 / c - 1.0) * q ** (1.0 / c - 2.0) / theta ** (1.0 / c)


@njit
def _utility_curvature_floor(x, post):
    """``|u''(x)|`` of the utility term at ``x``, the least over ``x' <= x`` (``|h''|`` falls
    as consumption grows)."""
    if post.lin or post.a <= 0.0:
        return 0.0
    d = 0.0
    for s in range(post.kappa.size):
        k = 1.0 - post.kappa[s]
        E = k * x - post.F[s]
        if E <= 0.0:
            return INF
        d += post.w[s] * post.a * k * k * post.g * E ** (-post.g - 1.0)
    return d


@njit
def curvature_bound(q1, x1, q2, x2, off):
    """An upper bound of ``V''`` on ``[q1, q2]`` for ``V(q) = max_x F(x, q) - νφ(q)`` under
    market power (``+inf`` where none is known).

    With ``W = Q_- + q - x`` and ``N = θ_R Q_- + (λ - θ_R) x``: ``F_qq = -2BN/W³``,
    ``F_qx = B((λ - θ_R)W + 2N)/W³``, ``F_xx = u'' - 2B(λQ_- + (λ - θ_R)q)/W³``. Where
    ``F_qx > 0`` on the box the best purchase ``x*(q)`` rises with ``q``, so it stays in
    ``[x1, x2]``, and ``V'' = F_qq + F_qx²/|F_xx| - νφ''`` (the implicit function theorem) is
    bounded by bounding each term over the box ``[q1, q2] × [x1, x2]``: each is monotone in
    ``W``, ``x`` and ``q`` separately, so its extremes are at the corners.
    """
    post = off.pay if off.paying else off.stay
    if post.pt or post.B <= 0.0:
        return INF
    B, th, lam, Qm = post.B, post.thR, post.lam, off.Qm
    d = lam - th
    xl, xh = (min(x1, x2), max(x1, x2)) if off.paying else (0.0, 0.0)
    W_lo = Qm + q1 - xh
    W_hi = Qm + q2 - xl
    if W_lo <= 0.0:
        return INF
    N_lo = th * Qm + d * (xl if d >= 0.0 else xh)
    N_hi = th * Qm + d * (xh if d >= 0.0 else xl)
    Fqq = -2.0 * B * N_lo / (W_hi ** 3 if N_lo >= 0.0 else W_lo ** 3)
    bend = 0.0
    if off.paying:
        # F_qx on the box: its numerator is linear in W and x, so extreme at the corners.
        num_lo = INF
        num_hi = -INF
        for W in (W_lo, W_hi):
            for N in (N_lo, N_hi):
                num = d * W + 2.0 * N
                num_lo = min(num_lo, num)
                num_hi = max(num_hi, num)
        if num_lo <= 0.0:
            return INF          # x* need not be monotone: no box for it
        Fqx = B * num_hi / W_lo ** 3
        c0 = lam * Qm + d * (q1 if d >= 0.0 else q2)
        if c0 <= 0.0:
            return INF
        Fxx = _utility_curvature_floor(xh, post) + 2.0 * B * c0 / W_hi ** 3
        bend = Fqx * Fqx / Fxx if Fxx > 0.0 else INF
    p1 = _phi_curvature(q1, off.theta, off.c)
    p2 = _phi_curvature(q2, off.theta, off.c)
    return Fqq + bend - off.nu * min(p1, p2)


@njit
def _quadratic_max(v, d, M, a, b):
    """``max_{y in [a, b]} v + d y + M y²/2`` (``y`` measured from the tangent point)."""
    best = max(v + d * a + 0.5 * M * a * a, v + d * b + 0.5 * M * b * b)
    if M < 0.0:
        y = -d / M
        if y > a and y < b:
            best = max(best, v + d * y + 0.5 * M * y * y)
    return best


@njit
def interval_bound(e1, e2, off, dc):
    """An upper bound of ``V = g - νφ`` on ``[q1, q2]`` from what is known at its ends
    ``e = (q, g, g', V, V', x)`` (``g`` and ``V`` bounded above). Always: ``g`` at most its
    larger end value (the money term is monotone in ``q`` for every purchase) and ``φ``
    increasing. With ``dc`` (``g`` concave, ``φ`` concave: simultaneous settlement, ``c >= 1``):
    ``g`` below its tangents and ``φ`` above its chord. Where ``V''`` is bounded by ``M``
    (:func:`curvature_bound`): ``V`` below ``V(q_i) + V'(q_i)(q - q_i) + M(q - q_i)²/2``. The
    last two close the gap quadratically."""
    q1, g1, s1, V1, d1, x1 = e1
    q2, g2, s2, V2, d2, x2 = e2
    c1 = off.nu * phi(q1, off.theta, off.c) + off.mu * q1
    c2 = off.nu * phi(q2, off.theta, off.c) + off.mu * q2
    bound = max(g1, g2) - c1
    h = q2 - q1
    if dc and math.isfinite(s1) and math.isfinite(s2) and math.isfinite(g1) and \
            math.isfinite(g2):
        # L1, L2: the tangents of g at q1, q2 minus ν times the chord of φ; V <= min(L1, L2).
        L1a, L1b = g1 - c1, g1 + s1 * h - c2
        L2a, L2b = g2 - s2 * h - c1, g2 - c2
        best = max(min(L1a, L2a), min(L1b, L2b))
        da, db = L1a - L2a, L1b - L2b
        if da * db < 0.0:
            w = da / (da - db)
            best = max(best, L1a + w * (L1b - L1a))
        bound = min(bound, best)
    if math.isfinite(V1) and math.isfinite(V2) and math.isfinite(d1) and math.isfinite(d2):
        M = curvature_bound(q1, x1, q2, x2, off)
        if M < INF:
            bound = min(bound, _quadratic_max(V1, d1, M, 0.0, h),
                        _quadratic_max(V2, d2, M, -h, 0.0))
    return bound


@njit
def _point(q, off):
    """What the search keeps of an offer: ``(q, g, g', V, V', x)`` and the value attained."""
    ub, v, x = offer_value(q, off)
    cost = off.nu * phi(q, off.theta, off.c) + off.mu * q
    dV = offer_slope(q, x, off) if q > 0.0 else -INF
    return (q, ub + cost, _money_q(q, x, off), ub, dV, x), v


@njit
def _search_offer(off, qmax, gap, prove, dc):
    """The best offer in ``[0, qmax]`` of a non-concave ``g - νφ``: ``(upper bound, value, q,
    x, closed)``. Without ``prove``, a fast local search (a grid and golden section) whose
    upper bound is not a proof (``closed`` False); with it, branch and bound on the intervals
    between evaluated offers (:func:`interval_bound`) until the largest bound is within
    ``gap`` of the best value, or :data:`MAX_SPLITS` evaluations are spent."""
    grid = _grid(qmax, 16)
    m = grid.size
    pts = []
    best_v, best_q, best_x, k_best = -INF, 0.0, 0.0, 0
    for k in range(m):
        e, v = _point(grid[k], off)
        pts.append(e)
        if v > best_v:
            best_v, best_q, best_x, k_best = v, grid[k], e[5], k
    if not prove:
        lo = grid[max(k_best - 1, 0)]
        hi = grid[min(k_best + 1, m - 1)]
        if hi > lo:
            q, v = golden_max(off, lo, hi, 1e-13, 200)
            if v > best_v:
                _, best_v, best_x = offer_value(q, off)
                best_q = q
        return best_v, best_v, best_q, best_x, False
    heap = [(0.0, pts[0], pts[0])]
    heap.pop()
    for k in range(m - 1):
        heapq.heappush(heap, (-interval_bound(pts[k], pts[k + 1], off, dc), pts[k],
                              pts[k + 1]))
    kept = -INF    # bounds of intervals taken off the heap and not split
    closed = m <= 1
    for _ in range(MAX_SPLITS):
        if not heap:
            closed = True
            break
        nub, e1, e2 = heapq.heappop(heap)
        if -nub == -INF or -nub - best_v <= gap:   # (-inf: nothing feasible is left)
            kept = max(kept, -nub)
            closed = True
            break
        q1, q2 = e1[0], e2[0]
        if q1 == 0.0:
            q = q2 / 16.0
        elif q2 > 4.0 * q1:
            q = math.sqrt(q1 * q2)
        else:
            q = 0.5 * (q1 + q2)
        if not (q > q1 and q < q2):
            kept = max(kept, -nub)   # one point, to rounding: it cannot be split
            continue
        e, v = _point(q, off)
        if v > best_v:
            best_v, best_q, best_x = v, q, e[5]
        heapq.heappush(heap, (-interval_bound(e1, e, off, dc), e1, e))
        heapq.heappush(heap, (-interval_bound(e, e2, off, dc), e, e2))
    bound = max(best_v, kept)
    if heap:
        bound = max(bound, -heap[0][0])
    return bound, best_v, best_q, best_x, closed


@njit
def best_offer(off, qmax, concave, gap, prove, force):
    """A producer's best choice on one post, offer ``q`` in ``[0, qmax]`` and paying or not:
    ``(upper bound, value, q, x, paid, closed)``. ``concave``: simultaneous settlement with
    ``c <= 1`` (the value is concave in ``q``); otherwise branch and bound, with second-order
    bounds where ``c > 1`` under simultaneous settlement."""
    best_ub, best_v, best_q, best_x, paid, closed = -INF, -INF, 0.0, 0.0, False, True
    for paying in (False, True):
        if (paying and force == 0) or (not paying and force == 1):
            continue
        o = Offer(off.pay, off.stay, off.Qm, off.nu, off.theta, off.c, off.mu, paying)
        if concave:
            ub, v, q, x = _concave_offer(o, qmax)
            ok = True
        else:
            dc = off.c > 1.0 and off.pay.thR == off.pay.lam
            ub, v, q, x, ok = _search_offer(o, qmax, gap, prove, dc)
        best_ub = max(best_ub, ub)
        closed = closed and ok
        if v > best_v:
            best_v, best_q, best_x, paid = v, q, x, paying
    return best_ub, best_v, best_q, best_x, paid, closed
