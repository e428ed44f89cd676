"""Which posts each type pays on (and, with increasing returns, produces on): the solvers' own
choice of regimes between rounds (docs/model.md, The crypto layer, participation).

With a fixed verification cost a payment is a discrete choice the first-order conditions cannot
make, so both solvers solve for fixed regimes and then ask, at the candidate, whether some type
would rather pay on another set of posts. The answer here is a heuristic of the solvers' own —
the certificate decides, independently, whether the final candidate is an equilibrium:

* a consumer (and a price-taking producer, whose income is its profit) facing the others'
  totals minimises its Lagrangian dual over its budget multiplier ``λ`` with every post's
  payment chosen freely at each ``λ`` (:func:`consumer_choice`); the posts paid on at the
  least dual value are its new regime, taken if that dual value beats its payoff now;
* a producer in the game compares, at its own multipliers ``(λ, ν)`` from the solver, the
  Lagrangian value of paying or not, and of producing or not, on each post
  (:func:`producer_choice`).

Utility is in the solvers' separable form: terms ``a h_γ(y)`` with state weights ``w``
(:mod:`emgame.solvers._records`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from emgame._jit import njit, unliteral
from emgame._numerics import bracket, golden_max, illinois, objective
from emgame.solvers._records import NO_OUTPUT, PAYS
from emgame.solvers._terms import INF, fixed_burn, h, h1, phi, x_floor


class Purchase(NamedTuple):
    """One post as a buyer sees it: its utility term (weight ``a``, curvature ``g``, state
    weights ``w``, shares ``kappa``, fixed burn ``F``), others' bids ``B``, the supply ``Qo``
    including the buyer's own offer ``o``, the value ``thR`` of its own revenue and ``lam`` of
    its money; a price taker (``pt``) pays ``p`` per unit instead."""

    a: float
    g: float
    w: np.ndarray
    kappa: np.ndarray
    F: np.ndarray
    B: float
    Qo: float
    o: float
    thR: float
    lam: float
    pt: bool
    p: float


@njit
def _value(x, pp):
    """Utility term plus money term of buying ``x``: ``Σ_s w_s a h(E_s) + m(x)``; ``-inf``
    where some ``E_s < 0`` (infeasible)."""
    e = 0.0
    for s in range(pp.w.size):
        E = (1.0 - pp.kappa[s]) * x - pp.F[s]
        if E < -1e-12 * pp.F[s]:
            return -INF
        if pp.a > 0.0:
            e += pp.w[s] * pp.a * h(max(E, 0.0), pp.g)
    if pp.pt:
        return e + pp.thR * pp.p * pp.o - pp.lam * pp.p * x
    if pp.B <= 0.0:
        return e
    return e + (pp.thR * pp.o - pp.lam * x) * pp.B / (pp.Qo - x)


@objective(Purchase)
@njit
def _minus_slope(x, pp):
    """Minus the derivative of :func:`_value` (increasing in ``x`` where the value is
    concave)."""
    d = 0.0
    if pp.a > 0.0:
        for s in range(pp.w.size):
            k = 1.0 - pp.kappa[s]
            d += pp.w[s] * pp.a * k * h1(k * x - pp.F[s], pp.g)
    if pp.pt:
        d -= pp.lam * pp.p
    elif pp.B > 0.0:
        W = pp.Qo - x
        d += pp.B * (pp.thR * pp.o - pp.lam * pp.Qo) / (W * W)
    return -d


@njit
def best_purchase(pp):
    """The best purchase on a post the buyer pays on: ``(value, x)``; ``+inf`` where the value
    has no upper bound, ``-inf`` where paying cannot leave ``E >= 0``."""
    lo = x_floor(pp.kappa, pp.F)
    if not pp.pt:
        if lo >= pp.Qo:
            return -INF, 0.0
        if pp.B <= 0.0:
            return _value(pp.Qo, pp), pp.Qo   # any bid buys the whole post
        if pp.thR * pp.o - pp.lam * pp.Qo > 0.0:
            return INF, pp.Qo                 # revenue outgrows the bid as x -> Q
        hi = pp.Qo
    else:
        hi = max(2.0 * lo, 1.0)
        for _ in range(2000):
            if _minus_slope(hi, pp) > 0.0:
                break
            hi *= 4.0
        else:
            return INF, hi
    f_lo = _minus_slope(lo, pp)
    if f_lo >= 0.0:
        return _value(lo, pp), lo
    f_hi = _minus_slope(hi, pp) if pp.pt else INF
    a, fa, b, fb = illinois(pp, lo, f_lo, hi, f_hi, 1e-14, 200)
    x = a if fa == 0.0 else 0.5 * (a + b)
    return _value(x, pp), x


class Chooser(NamedTuple):
    """A consumer-like type facing fixed others: its utility (``a (T,)``, ``a0``, curvatures,
    state weights ``w``), verification (``kappa``, ``v``, ``t0``), what it faces (others' bids
    ``Bm``, supplies ``Qo`` with its own endowment in ``Qo[0]``, prices ``p`` for a price
    taker ``pt``), its budget (``simult``: revenue from its goods offer ``omega`` at the price
    its own bid helps set, valued at ``λ``; otherwise a fixed ``income`` and revenue valued at
    ``thR``), participation forced per post (``force``: -1 free, 0 not paying, 1 paying),
    the target below which the search stops, and
    outputs: ``best`` =
    ``[least dual value, its log λ]``, ``paid`` and ``x`` at the least value."""

    a: np.ndarray
    a0: float
    ge: float
    gg: float
    w: np.ndarray
    kappa: np.ndarray
    v: np.ndarray
    t0: int
    Bm: np.ndarray
    Qo: np.ndarray
    p: np.ndarray
    pt: bool
    simult: bool
    thR: float
    income: float
    omega: float
    force: np.ndarray
    target: float
    best: np.ndarray
    paid: np.ndarray
    x: np.ndarray


@njit
def _dual(lam, ch, paid, x):
    """The dual value ``D(λ)`` and its slope in ``λ`` (the budget slack at the maximiser, put
    into ``paid`` and ``x``)."""
    T = ch.a.size
    S = ch.w.size
    thR = lam if ch.simult else ch.thR
    goods_fee = np.any(ch.v[:, 0] > 0.0)
    couple = ch.a0 > 0.0 and goods_fee and ch.force[0] < 0
    best = -INF
    F = np.zeros(S)
    pd = np.zeros(T + 1, dtype=np.bool_)
    xs = np.zeros(T + 1)
    for goods in range(2 if couple else 1):
        # Goods post: sell the endowment, buy back x0 if goods are valued.
        Bg = ch.Bm[0]
        stay = thR * ch.p[0] * ch.omega if ch.pt else (
            thR * ch.omega * Bg / ch.Qo[0] if Bg > 0.0 else 0.0)
        if ch.a0 > 0.0:
            stay += ch.a0 * ch.w.sum() * h(0.0, ch.gg)
        total = lam * ch.income
        pd[0] = False
        xs[0] = 0.0
        val = stay
        if ch.a0 > 0.0 and (goods == 1 or not couple) and ch.force[0] != 0:
            gv, g0 = best_purchase(Purchase(ch.a0 * ch.w.sum(), ch.gg, np.ones(1), np.zeros(1),
                                            np.zeros(1), Bg, ch.Qo[0], ch.omega, thR, lam,
                                            ch.pt, ch.p[0]))
            if gv > stay or goods == 1 or ch.force[0] == 1:
                val = gv
                pd[0] = True
                xs[0] = g0
        total += val
        for t in range(1, T + 1):
            fixed_burn(ch.v, t, ch.t0, pd[0], F)
            if t == ch.t0 and pd[0] and goods_fee:
                stay = -INF   # the goods payment's verification must be bought here
            elif ch.a[t - 1] > 0.0:
                stay = ch.w.sum() * ch.a[t - 1] * h(0.0, ch.ge)
            else:
                stay = 0.0
            if ch.force[t] == 1:
                stay = -INF
            val, xt = best_purchase(Purchase(ch.a[t - 1], ch.ge, ch.w, ch.kappa, F, ch.Bm[t],
                                             ch.Qo[t], 0.0, thR, lam, ch.pt, ch.p[t]))
            if ch.force[t] == 0:
                val = -INF
            pd[t] = val > stay
            xs[t] = xt if pd[t] else 0.0
            total += val if pd[t] else stay
        if total > best:
            best = total
            paid[:] = pd
            x[:] = xs
    # Slack at the maximiser: income (+ revenue under simultaneous settlement) - spending.
    slack = ch.income
    for t in range(T + 1):
        if not paid[t]:
            continue
        if ch.pt:
            slack -= ch.p[t] * x[t]
        elif ch.Bm[t] > 0.0 and ch.Qo[t] > x[t]:
            slack -= ch.Bm[t] * x[t] / (ch.Qo[t] - x[t])
    if ch.simult:
        if ch.pt:
            slack += ch.p[0] * ch.omega
        elif ch.Bm[0] > 0.0:
            slack += ch.omega * ch.Bm[0] / (ch.Qo[0] - x[0])
    return best, slack


@objective(Chooser)
@njit
def _slope(y, ch):
    """``dD/dlog λ`` (increasing), keeping the least ``D`` found; 0 once it is at or below the
    target (nothing to gain: stop)."""
    T = ch.a.size
    paid = np.zeros(T + 1, dtype=np.bool_)
    x = np.zeros(T + 1)
    lam = math.exp(y)
    D, slack = _dual(lam, ch, paid, x)
    if D < ch.best[0]:
        ch.best[0] = D
        ch.best[1] = y
        ch.paid[:] = paid
        ch.x[:] = x
    if ch.best[0] <= ch.target:
        return 0.0
    if D == INF:
        return -1.0
    return lam * slack


@njit
def pattern_at(ch, lam):
    """The posts paid on by the dual's maximiser at ``λ``."""
    T = ch.a.size
    paid = np.zeros(T + 1, dtype=np.bool_)
    _dual(lam, ch, paid, np.zeros(T + 1))
    return paid


@njit
def consumer_choice(ch, lam0):
    """Minimise the dual of :class:`Chooser` ``ch`` over ``λ`` from ``lam0``; the least value
    and the posts paid on there are left in ``ch.best`` and ``ch.paid``."""
    ch.best[0] = INF
    y0 = math.log(lam0) if lam0 > 0.0 and lam0 < INF else 0.0
    f0 = _slope(y0, ch)
    a, fa, b, fb, found = bracket(ch, y0, f0, 0.25, -700.0, 700.0, 200)
    if found and ch.best[0] > ch.target:
        illinois(ch, a, fa, b, fb, 1e-13, 100)


# --------------------------------------------------------------------------------------------
# Producers in the game: post by post at their own multipliers.
# --------------------------------------------------------------------------------------------


class Offer(NamedTuple):
    """A producer's offer ``q`` on one post at multipliers ``(λ, ν)``: the post as a buyer sees
    it when paying there (:class:`Purchase`; its ``o`` and ``Qo`` are set by ``q``), the
    electricity burnt there when not paying (``F_stay``), others' supply ``Qm``, whether it
    pays, and its technology."""

    pp: Purchase
    F_stay: np.ndarray
    Qm: float
    paying: bool
    nu: float
    theta: float
    c: float


@objective(Offer)
@njit
def offer_value(q, of):
    """``max_x [utility + money] - ν φ(q)`` with the offer ``q`` on the post."""
    b = of.pp
    if of.paying:
        v, _ = best_purchase(Purchase(b.a, b.g, b.w, b.kappa, b.F, b.B, of.Qm + q, q, b.thR,
                                      b.lam, b.pt, b.p))
    else:
        v = _value(0.0, Purchase(b.a, b.g, b.w, b.kappa, of.F_stay, b.B, of.Qm + q, q, b.thR,
                                 b.lam, b.pt, b.p))
    return v - of.nu * phi(q, of.theta, of.c)


@njit
def best_offer(of, K):
    """A heuristic best offer ``q`` in ``[0, K]``: ``(value, q)`` (a grid refined by golden
    section; the certificate, not this, proves what a producer can get)."""
    best_v = offer_value(0.0, of)
    best_q = 0.0
    n = 24
    grid = np.empty(2 * n + 1)
    for i in range(n):
        grid[i] = K * (i + 1) / n
        grid[n + i] = K * 10.0 ** (-12.0 * (i + 1) / n)
    grid[2 * n] = K
    grid = np.sort(grid)
    k = -1
    for i in range(grid.size):
        v = offer_value(grid[i], of)
        if v > best_v:
            best_v, best_q, k = v, grid[i], i
    if k >= 0:
        lo = grid[k - 1] if k > 0 else 0.0
        hi = grid[k + 1] if k + 1 < grid.size else K
        q, v = golden_max(of, lo, hi, 1e-12, 200)
        if v > best_v:
            best_v, best_q = v, q
    return best_v, best_q


class Seller(NamedTuple):
    """A producer in the game facing fixed others, at its own multipliers: utility (``a (T,)``,
    ``ge``, state weights ``w``), verification (``kappa``, ``v``, ``t0``), others' bids ``Bm``
    and supplies ``Qm``, the values ``thR`` of its revenue, ``lam`` of money and ``nu`` of
    goods, its technology and capacity ``K``."""

    a: np.ndarray
    ge: float
    w: np.ndarray
    kappa: np.ndarray
    v: np.ndarray
    t0: int
    Bm: np.ndarray
    Qm: np.ndarray
    thR: float
    lam: float
    nu: float
    theta: float
    c: float
    K: float
    s: np.ndarray


@njit
def producer_choice(sl, regime, new):
    """For every post of :class:`Seller` ``sl``, the regime bits (pay there or not; with
    increasing returns, produce there or not) with the greatest Lagrangian value, into ``new``;
    returns the gain of ``new`` over ``regime`` at these multipliers."""
    S = sl.w.size
    gain = 0.0
    for t in range(1, regime.size):
        F = np.zeros(S)
        stay = np.zeros(S)
        fixed_burn(sl.v, t, sl.t0, unliteral(True), F)   # it pays on the goods post for its inputs
        if t == sl.t0:
            stay[:] = sl.v[:, 0]
        pp = Purchase(sl.a[t - 1], sl.ge, sl.w, sl.kappa, F, sl.Bm[t], sl.Qm[t], 0.0, sl.thR,
                      sl.lam, False, 0.0)
        now = -INF
        best = -INF
        bits = 0
        for paying in (False, True):
            of = Offer(pp, stay, sl.Qm[t], paying, sl.nu, sl.theta, sl.c)
            v, q = best_offer(of, sl.K * sl.s[t])
            v0 = offer_value(0.0, of)
            option = PAYS if paying else 0
            if sl.c > 1.0 and v0 >= v:
                v, option = v0, option | NO_OUTPUT
            if v > best:
                best, bits = v, option
            if paying == ((regime[t] & PAYS) != 0):
                now = v0 if (regime[t] & NO_OUTPUT) != 0 else max(v, v0)
        new[t] = bits
        if math.isfinite(best) and math.isfinite(now):
            gain += best - now
        elif best > now:
            gain = INF
    new[0] = regime[0]
    return gain


# --------------------------------------------------------------------------------------------
# The solvers' entry points.
# --------------------------------------------------------------------------------------------


def _utility_now(pop, w: np.ndarray, E: np.ndarray, goods: np.ndarray) -> np.ndarray:
    """Each type's payoff now in the solvers' separable form ``Σ_s w_s Σ_t a_t h(E_st)`` (plus
    goods), ``(n,)``."""
    from emgame.market.utility import curvatures
    from emgame.market.utility import h as h_terms

    ge, gg = curvatures(pop)
    with np.errstate(invalid="ignore", divide="ignore"):
        el = np.where(pop.weights[:, None, :] > 0,
                      pop.weights[:, None, :] * h_terms(np.maximum(E, 0.0), ge[:, None, None]),
                      0.0)
        a0 = np.where(pop.classic, pop.goods_weight, 0.0)
        g = np.where(a0 > 0, a0 * h_terms(np.maximum(goods, 0.0), gg), 0.0)
        return (w * el.sum(axis=2)).sum(axis=1) + g * w.sum(axis=1)


def _tol(v: np.ndarray) -> np.ndarray:
    return 1e-8 * np.maximum(1.0, np.abs(np.where(np.isfinite(v), v, 0.0)))


def consumer_regimes(economy, pop, outcome, B_minus, Q_minus, weights, lam, part, *,
                     prices=None, income=None, omega=None, must=None, v=None):
    """Every consumer-like type's best set of posts at the candidate: ``(new part, gains)``.

    ``B_minus``/``Q_minus`` are the others' totals ``(n, T+1)`` (``None`` with ``prices`` for
    price takers; the type's own endowment is added to the goods post's supply here),
    ``weights`` the state weights, ``lam`` the solver's multipliers (the search's start, and
    the value of own revenue under prepaid settlement). ``income``/``omega`` override the
    budget (a price-taking producer: its profit, no endowment); ``must`` marks posts a type
    must pay on; ``v`` the fixed costs to use.

    A type's dual with every payment free is minimised first; where it beats the payoff now,
    the posts whose payment flips near its least value are tried both ways, each set of posts
    solved exactly (with the posts fixed the problem is concave, so its dual value is its
    best payoff), and the best set is taken if it beats the payoff now. ``gains[i]`` is that
    gain (``-inf``: none found).
    """
    m = economy.market
    T = economy.periods
    n = len(pop)
    beta = m.discount if m.prepaid else 1.0
    pt = prices is not None
    play = outcome.consumers if pop is economy.consumers else outcome.producers
    from emgame.market.utility import curvatures

    ge, gg = curvatures(pop)
    a0 = np.where(pop.classic, pop.goods_weight, 0.0)
    goods = np.maximum(play.goods, 0.0)
    now = _utility_now(pop, weights, play.consumption, goods)
    simult = not m.prepaid and income is None
    if income is None:
        income = (np.zeros(n) if not m.prepaid else
                  np.where(np.isnan(pop.wallet), play.revenue, pop.wallet))
    if m.prepaid and omega is None:
        now = now + beta * lam * play.revenue
    omega = pop.endowment if omega is None else omega
    vv = economy.fixed_costs if v is None else v
    base = np.full((n, T + 1), -1, np.int8)
    if must is not None:
        base[must] = 1
    p = np.zeros(T + 1) if prices is None else np.where(np.isfinite(prices), prices, 0.0)
    tol = _tol(now)
    new = part.copy()
    gains = np.full(n, -np.inf)
    if not pt:
        # What each type faces: the others' supplies, and on the goods post its own endowment
        # too (its revenue is ω B^0/Ω, the chooser's Q[0] = Ω).
        Q_faced = np.array(Q_minus, dtype=np.float64)
        Q_faced[:, 0] += omega
    for i in range(n):
        if not np.isfinite(lam[i]) or income[i] < 0:
            continue

        def chooser(force, target, i=i):  # noqa: ANN001, ANN202
            return Chooser(
                np.ascontiguousarray(pop.weights[i]), float(a0[i]), float(ge[i]),
                float(gg[i]), np.ascontiguousarray(weights[i]),
                np.ascontiguousarray(economy.shares), np.ascontiguousarray(vv),
                int(m.goods_settlement_period),
                np.zeros(T + 1) if pt else np.ascontiguousarray(B_minus[i], dtype=np.float64),
                np.ones(T + 1) if pt else Q_faced[i],
                p, pt, simult, float(beta * lam[i]), float(income[i]), float(omega[i]),
                np.ascontiguousarray(force, dtype=np.int8), float(target), np.zeros(2),
                np.zeros(T + 1, dtype=np.bool_), np.zeros(T + 1))

        ch = chooser(base[i], now[i] + tol[i])
        consumer_choice(ch, float(lam[i]))
        if not ch.best[0] > now[i] + tol[i]:
            continue
        lam_star = float(np.exp(ch.best[1]))
        lo = pattern_at(ch, lam_star * (1.0 - 1e-7))
        hi = pattern_at(ch, lam_star * (1.0 + 1e-7))
        free = base[i] < 0
        flips = np.flatnonzero((lo != hi) & free)[:6]
        best_v, best_paid = -np.inf, None
        for code in range(2 ** flips.size):
            pattern = ch.paid.copy()
            for b, t in enumerate(flips):
                pattern[t] = bool((code >> b) & 1)
            exact = chooser(np.where(pattern, 1, 0).astype(np.int8), -np.inf)
            consumer_choice(exact, lam_star)
            if exact.best[0] > best_v:
                best_v, best_paid = float(exact.best[0]), exact.paid.copy()
        gains[i] = best_v - now[i]
        if best_paid is not None and gains[i] > tol[i]:
            new[i] = best_paid
    return new, gains


def producer_regimes(economy, profile, weights, lam, nu, part, B_minus, Q_minus):
    """Every producer type's best regime bits at its own multipliers: ``(new part, gains)``."""
    m = economy.market
    pop = economy.producers
    beta = m.discount if m.prepaid else 1.0
    from emgame.market.utility import curvatures

    ge, _ = curvatures(pop)
    new = part.copy()
    gains = np.full(len(pop), -np.inf)
    for j in range(len(pop)):
        if not (np.isfinite(lam[j]) and np.isfinite(nu[j])):
            continue
        sl = Seller(np.ascontiguousarray(pop.weights[j]), float(ge[j]),
                    np.ascontiguousarray(weights[j]), np.ascontiguousarray(economy.shares),
                    np.ascontiguousarray(economy.fixed_costs), int(m.goods_settlement_period),
                    np.ascontiguousarray(B_minus[j], dtype=np.float64),
                    np.ascontiguousarray(Q_minus[j], dtype=np.float64),
                    float((beta if m.prepaid else 1.0) * lam[j]), float(lam[j]), float(nu[j]),
                    float(pop.productivity[j]), float(pop.returns[j]),
                    float(profile.capacity[j]),
                    np.ascontiguousarray(np.concatenate([[1.0], pop.availability[j]])))
        row = np.ascontiguousarray(part[j]).copy()
        gains[j] = producer_choice(sl, part[j], row)
        if gains[j] > 1e-10 * max(1.0, float(lam[j] * np.abs(B_minus[j]).max())):
            new[j] = row
    return new, gains
