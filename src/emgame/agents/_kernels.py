"""Compiled kernels for one agent's problem against fixed others (numba).

Everything is written in the agent's own variables on each post: ``x`` the amount received
(its bid is ``b = B_- x / (Q_o - x)`` with market power, ``b = p x`` for a price taker) and,
for a producer, its offer ``q``. With the others' bids ``B_-`` and the post's supply
``Q_o = Q_- + o`` (``o`` the agent's own offer), the post's money term is

    m(x) = (θ_R o - λ x) B_- / (Q_o - x)         (market power)
    m(x) = θ_R p o - λ p x                       (price taking)

``θ_R o B_-/(Q_o - x)`` is the agent's revenue from its offer valued at ``θ_R`` and
``λ B_- x/(Q_o - x)`` its bid valued at ``λ``. Under ``simultaneous`` settlement ``θ_R = λ``
(the budget (1)/(3)); under ``prepaid`` ``θ_R = βλ̄`` (MODEL.md section 5).

The electricity term on post ``t`` is ``Σ_s π_s a h_γ((1-κ_s) x - F_s)`` with ``F_s`` the fixed
verification burnt in period ``t`` (the post's own ``v_s^t`` when the agent pays there, plus
``v_s^0`` in the goods-settlement period when it pays on the goods post); or, in *linear* mode,
``Σ_s w_s ((1-κ_s) x - F_s)``: a supergradient of a non-separable utility at a reference point.

Each routine returns a global maximum over the agent's choice on one post, participation
(paying or not) included; summing them gives the Lagrangian dual, an upper bound on what the
agent can get (weak duality), used by the certificate.
"""

from __future__ import annotations

import math

import numpy as np

from emgame._jit import njit

INF = np.inf
_MAXIT = 200
PRICE_TOL = 1e-9
"""Relative gap between a price and a constant marginal cost below which a price taker's
margin is zero: prices are computed to about 1e-12, so smaller gaps are rounding."""


@njit
def h(y: float, g: float) -> float:
    """``h_γ(y)``: ``y^{1-γ}/(1-γ)``, ``log y`` (γ = 1), ``y`` (γ = 0)."""
    if g == 0.0:
        return y
    if y <= 0.0:
        if y == 0.0 and g < 1.0:
            return 0.0
        return -INF
    if g == 1.0:
        return math.log(y)
    return y ** (1.0 - g) / (1.0 - g)


@njit
def h1(y: float, g: float) -> float:
    if g == 0.0:
        return 1.0
    if y <= 0.0:
        return INF
    return y ** (-g)


@njit
def h2(y: float, g: float) -> float:
    if g == 0.0:
        return 0.0
    if y <= 0.0:
        return -INF
    return -g * y ** (-g - 1.0)


@njit
def el_terms(x, a, g, pi, kappa, F, lin, w):
    """Electricity term on one post and its first two derivatives in ``x``."""
    val = 0.0
    d1 = 0.0
    d2 = 0.0
    for s in range(pi.size):
        k = 1.0 - kappa[s]
        E = k * x - F[s]
        if lin:
            val += w[s] * E
            d1 += w[s] * k
        elif a > 0.0:
            val += pi[s] * a * h(E, g)
            d1 += pi[s] * a * k * h1(E, g)
            d2 += pi[s] * a * k * k * h2(E, g)
    return val, d1, d2


@njit
def x_floor(kappa, F):
    """Least ``x`` with ``E_s = (1-κ_s) x - F_s >= 0`` in every state."""
    lo = 0.0
    for s in range(kappa.size):
        if F[s] > 0.0:
            lo = max(lo, F[s] / (1.0 - kappa[s]))
    return lo


@njit
def money(x, B, Qo, o, thR, lam, pt, p):
    """Money term ``m(x)`` of a post and its first two derivatives (see the module notes)."""
    if pt:
        return thR * p * o - lam * p * x, -lam * p, 0.0
    if B <= 0.0:
        return 0.0, 0.0, 0.0  # nobody else bids: no bytecoin changes hands on this post
    W = Qo - x
    num = thR * o - lam * Qo
    return (thR * o - lam * x) * B / W, B * num / (W * W), 2.0 * B * num / (W * W * W)


@njit
def money_dq(x, B, Qm, q, thR, lam, pt, p):
    """``∂m/∂q`` on a producer's own post (``Q_o = Q_- + q``, ``o = q``)."""
    if pt:
        return thR * p
    if B <= 0.0:
        return 0.0
    W = Qm + q - x
    return B * (thR * Qm + (lam - thR) * x) / (W * W)


@njit
def best_x_in(a, g, pi, kappa, F, lin, w, B, Qo, o, thR, lam, pt, p, hint):
    """Best ``x`` among strictly positive bids (the agent pays on the post).

    Returns ``(value, x)``; ``value = -inf`` when paying cannot be feasible. When nobody else bids
    (``B_- = 0``) any bid buys the whole post: the supremum, at ``x = Q_o``, is returned.
    """
    xlo = x_floor(kappa, F)
    xhi = INF if pt else Qo
    if xlo >= xhi:
        return -INF, 0.0
    if not pt and B <= 0.0:
        # m(x) = 0 for every x < Q_o: the post is free, and its supremum is at x -> Q_o.
        e, _, _ = el_terms(Qo, a, g, pi, kappa, F, lin, w)
        return e, Qo
    if g == 1.0 and not lin and a > 0.0 and xlo == 0.0 and _no_share(kappa):
        # Logarithmic utility and no verification: the first-order condition is a quadratic,
        # a/x = λp (price taker) or a (Q_o - x)^2 = -B c0 x with c0 = θ_R o - λ Q_o < 0.
        if pt:
            x = a / (lam * p)
        else:
            c0 = thR * o - lam * Qo
            if c0 < 0.0:
                bq = 2.0 * a * Qo - B * c0
                x = 2.0 * a * Qo * Qo / (bq + math.sqrt(max(bq * bq - 4.0 * a * a * Qo * Qo,
                                                            0.0)))
            else:
                x = -1.0
        if x > 0.0 and x < xhi:
            e, _, _ = el_terms(x, a, g, pi, kappa, F, lin, w)
            m, _, _ = money(x, B, Qo, o, thR, lam, pt, p)
            return e + m, x
    # f(x) = el'(x) + m'(x) is decreasing; find its root in (xlo, xhi).
    e, d1, d2 = el_terms(xlo, a, g, pi, kappa, F, lin, w)
    _, m1, _ = money(xlo, B, Qo, o, thR, lam, pt, p)
    if d1 + m1 <= 0.0:
        m, _, _ = money(xlo, B, Qo, o, thR, lam, pt, p)
        return e + m, xlo
    lo = xlo
    hi = xhi
    if pt:
        # Unbounded above: the root exists only if el' falls below λp.
        if lin or a <= 0.0 or g == 0.0:
            if d1 - lam * p > 0.0:
                return INF, INF
        hi = max(2.0 * xlo, 1.0)
        for _ in range(2000):
            _, d1h, _ = el_terms(hi, a, g, pi, kappa, F, lin, w)
            if d1h - lam * p < 0.0:
                break
            lo = hi
            hi *= 4.0
    if hint > lo and hint < hi:
        x = hint
    else:
        x = lo + 0.5 * (hi - lo) if hi < INF else 2.0 * lo + 1.0
    for _ in range(_MAXIT):
        _, d1, d2 = el_terms(x, a, g, pi, kappa, F, lin, w)
        _, m1, m2 = money(x, B, Qo, o, thR, lam, pt, p)
        f = d1 + m1
        if f > 0.0:
            lo = x
        else:
            hi = x
        fp = d2 + m2
        xn = x - f / fp if fp < 0.0 else -1.0
        if not (xn > lo and xn < hi):
            # Bisect, geometrically when the bracket spans orders of magnitude above the floor.
            span_lo = lo - xlo
            span_hi = hi - xlo
            if span_lo > 0.0 and span_hi > 4.0 * span_lo:
                xn = xlo + math.sqrt(span_lo * span_hi)
            elif span_lo <= 0.0 and span_hi > 1e-12 * max(1.0, hi):
                xn = xlo + 1e-3 * span_hi if x - xlo > 1e-3 * span_hi else xlo + 0.5 * (x - xlo)
                if not (xn > lo and xn < hi):
                    xn = 0.5 * (lo + hi)
            else:
                xn = 0.5 * (lo + hi)
        if abs(xn - x) <= 1e-15 * abs(x) or hi - lo <= 1e-15 * abs(hi):
            x = xn
            break
        x = xn
    e, _, _ = el_terms(x, a, g, pi, kappa, F, lin, w)
    m, _, _ = money(x, B, Qo, o, thR, lam, pt, p)
    return e + m, x


@njit
def _no_share(kappa):
    for s in range(kappa.size):
        if kappa[s] != 0.0:
            return False
    return True


@njit
def best_x(a, g, pi, kappa, vpost, extra, lin, w, B, Qo, o, thR, lam, pt, p, hint, force):
    """Best choice on one post, paying or not: ``(value, x, paid)``.

    ``vpost[s]`` is the fixed verification of a payment on this post, ``extra[s]`` energy burnt in
    this period whatever the agent does here (a goods payment verified in ``t0``). ``force`` is
    -1 (free), 0 (must not pay) or 1 (must pay).
    """
    # Not paying: nothing received, no verification of this post.
    e0, _, _ = el_terms(0.0, a, g, pi, kappa, extra, lin, w)
    m0, _, _ = money(0.0, B, Qo, o, thR, lam, pt, p)
    v_out = e0 + m0
    for s in range(extra.size):
        if extra[s] > 0.0:
            v_out = -INF  # E = -extra < 0: infeasible
    if force == 0:
        return v_out, 0.0, False
    if force == 1:
        v_out = -INF
    F = vpost + extra
    v_in, x_in = best_x_in(a, g, pi, kappa, F, lin, w, B, Qo, o, thR, lam, pt, p, hint)
    if v_in > v_out:
        return v_in, x_in, True
    return v_out, 0.0, False


# --------------------------------------------------------------------------------------------
# Producers: the offer q on each post, and capacity.
# --------------------------------------------------------------------------------------------


@njit
def phi(q, theta, c):
    return (q / theta) ** (1.0 / c) if q > 0.0 else 0.0


@njit
def phi1(q, theta, c):
    if c == 1.0:
        return 1.0 / theta
    if q <= 0.0:
        return 0.0 if c < 1.0 else INF
    return (1.0 / (c * theta)) * (q / theta) ** (1.0 / c - 1.0)


@njit
def _offer_value(q, paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm, thR, lam, nu, theta,
                 c, pt, p, hint):
    """Value of offering ``q`` on a post, given whether the producer also pays there:
    ``(value, x, d value/dq)``."""
    Qo = Qm + q
    if paying:
        F = vpost + extra
        v, x = best_x_in(a, g, pi, kappa, F, lin, w, B, Qo, q, thR, lam, pt, p, hint)
    else:
        x = 0.0
        e0, _, _ = el_terms(0.0, a, g, pi, kappa, extra, lin, w)
        m0, _, _ = money(0.0, B, Qo, q, thR, lam, pt, p)
        v = e0 + m0
        for s in range(extra.size):
            if extra[s] > 0.0:
                v = -INF
    if not pt and B > 0.0 and Qo - x <= 0.0:
        return -INF, x, 0.0
    if pt and c == 1.0 and abs(thR * p - nu / theta) <= PRICE_TOL * thR * p:
        # A price taker with constant returns at a price equal to cost (to rounding): no
        # margin at all. A margin of one part in 10^16 times a capacity would otherwise buy a
        # sliver of consumption where the benchmark has none (MODEL.md §6: zero profit).
        return v - thR * p * q, x, 0.0
    dv = money_dq(x, B, Qm, q, thR, lam, pt, p) - nu * phi1(q, theta, c)
    return v - nu * phi(q, theta, c), x, dv


@njit
def _best_offer_piece(paying, qmax, concave, a, g, pi, kappa, vpost, extra, lin, w, B, Qm, thR,
                      lam, nu, theta, c, pt, p, qhint, xhint):
    """Best ``q`` in ``[0, qmax]`` for one participation choice: ``(value, q, x)``.

    Concave pieces (simultaneous settlement, ``c <= 1``) are solved by bisection on the
    derivative; others by a grid over ``[0, qmax]`` refined by golden-section search.
    """
    if concave:
        v0, x0, d0 = _offer_value(0.0, paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm, thR,
                                  lam, nu, theta, c, pt, p, xhint)
        if d0 <= 0.0:
            return v0, 0.0, x0
        vK, xK, dK = _offer_value(qmax, paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm,
                                  thR, lam, nu, theta, c, pt, p, xhint)
        if dK >= 0.0:
            return vK, qmax, xK
        lo = 0.0
        hi = qmax
        q = qhint if (qhint > 0.0 and qhint < qmax) else 0.5 * qmax
        x = xhint
        for _ in range(_MAXIT):
            v, x, d = _offer_value(q, paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm, thR,
                                   lam, nu, theta, c, pt, p, x)
            if d > 0.0:
                lo = q
            else:
                hi = q
            if hi - lo <= 1e-15 * hi:
                break
            # Secant-free bisection, geometric while the bracket spans decades.
            if lo > 0.0 and hi > 8.0 * lo:
                q = math.sqrt(lo * hi)
            elif lo == 0.0 and hi > 1e-9 * qmax and q < 0.25 * hi:
                q = 0.25 * hi
            else:
                q = 0.5 * (lo + hi)
        v, x, _ = _offer_value(q, paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm, thR, lam,
                               nu, theta, c, pt, p, x)
        return v, q, x
    # Global search: a grid mixing uniform and geometric points, then golden section.
    n_grid = 64
    best_v = -INF
    best_q = 0.0
    best_x = 0.0
    grid = np.empty(n_grid + 2)
    for i in range(n_grid // 2):
        grid[i] = qmax * i / (n_grid // 2)
    for i in range(n_grid // 2):
        grid[n_grid // 2 + i] = qmax * 10.0 ** (-12.0 * (i + 1) / (n_grid // 2))
    grid[n_grid] = qmax
    grid[n_grid + 1] = min(max(qhint, 0.0), qmax)
    grid = np.sort(grid)
    for i in range(grid.size):
        v, x, _ = _offer_value(grid[i], paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm, thR,
                               lam, nu, theta, c, pt, p, xhint)
        if v > best_v:
            best_v = v
            best_q = grid[i]
            best_x = x
    k = 0
    for i in range(grid.size):
        if grid[i] == best_q:
            k = i
    lo = grid[max(k - 1, 0)]
    hi = grid[min(k + 1, grid.size - 1)]
    r = 0.5 * (math.sqrt(5.0) - 1.0)
    a1 = hi - r * (hi - lo)
    b1 = lo + r * (hi - lo)
    fa, xa, _ = _offer_value(a1, paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm, thR, lam,
                             nu, theta, c, pt, p, best_x)
    fb, xb, _ = _offer_value(b1, paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm, thR, lam,
                             nu, theta, c, pt, p, best_x)
    for _ in range(120):
        if fa > fb:
            hi = b1
            b1 = a1
            fb = fa
            xb = xa
            a1 = hi - r * (hi - lo)
            fa, xa, _ = _offer_value(a1, paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm,
                                     thR, lam, nu, theta, c, pt, p, xb)
        else:
            lo = a1
            a1 = b1
            fa = fb
            xa = xb
            b1 = lo + r * (hi - lo)
            fb, xb, _ = _offer_value(b1, paying, a, g, pi, kappa, vpost, extra, lin, w, B, Qm,
                                     thR, lam, nu, theta, c, pt, p, xa)
        if hi - lo <= 1e-14 * max(hi, 1e-300):
            break
    if fa > best_v:
        best_v, best_q, best_x = fa, a1, xa
    if fb > best_v:
        best_v, best_q, best_x = fb, b1, xb
    return best_v, best_q, best_x


@njit
def best_offer(qmax, concave, a, g, pi, kappa, vpost, extra, lin, w, B, Qm, thR, lam, nu, theta,
               c, pt, p, qhint, xhint, force):
    """A producer's best ``(value, q, x, paid)`` on one electricity post, ``0 <= q <= qmax``;
    ``force`` as in :func:`best_x` for paying on the post."""
    v1 = -INF
    q1 = 0.0
    x1 = 0.0
    v0 = -INF
    q0 = 0.0
    if force != 0:
        v1, q1, x1 = _best_offer_piece(True, qmax, concave, a, g, pi, kappa, vpost, extra, lin,
                                       w, B, Qm, thR, lam, nu, theta, c, pt, p, qhint, xhint)
    if force != 1:
        v0, q0, _ = _best_offer_piece(False, qmax, concave, a, g, pi, kappa, vpost, extra, lin,
                                      w, B, Qm, thR, lam, nu, theta, c, pt, p, qhint, 0.0)
    if v1 > v0:
        return v1, q1, x1, True
    return v0, q0, 0.0, False
