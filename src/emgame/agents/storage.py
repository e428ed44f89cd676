"""A storage operator's problem given everyone else's play (docs/model.md, "Storage").

The solvers take storage operators that maximise profit: ``classic`` kinds whose electricity
weights are all zero, so that their utility rises with the goods they buy and nothing else.
Such an operator's goods bid is what its electricity trades leave, ``b^0 = Σ_t (R^t − b^t)``
(revenue ``R^t = p^t q^t``), so its best response maximises its **net money**
``M = Σ_t (R^t − b^t)`` over its battery schedule, and then spends ``M`` on goods.

Net money on a post depends only on the net sale ``n^t = q^t − x^t`` (discharge offered less
electricity bought). Given the others' totals ``B_−^t, Q_−^t``, a purchase ``x`` costs
``b = x B_−/(Q_− + q − x)`` (from ``x = b Q/B``) and the offer earns ``R = B q/Q``, so

    R − b = B_− n / (Q_− + n)          (market power; concave in n on n > −Q_−)
    R − b = p n                        (a price taker)

and, since buying and selling on one post only wastes battery (the round trip loses
``1 − η_c η_d (1 − κ̄)``), ``q = n⁺`` and ``x = n⁻``. The problem is concave with linear
constraints:

    max  Σ_t m_t(q^t − x^t)
    s.t. σ^t = σ^{t−1} + η_c (1 − κ̄) x^t − q^t/η_d,  σ^0 = σ^T,  0 ≤ σ^t ≤ S,
         0 ≤ q^t ≤ G,  0 ≤ (1 − κ̄) x^t ≤ G,

where ``κ̄ = max_s κ_s`` (the charge ``y = (1 − κ̄) x`` must be there in every state).

:func:`respond` solves it (SLSQP; the solvers' method). :func:`money_bound` bounds it from
above for the certificate, by another method: weak duality. For any multipliers ``π`` of the
state-of-charge equations the Lagrangian separates by post, and its maximum

    D(π) = Σ_t max_n h_t(n; π) + S Σ_t (π^{t+1} − π^t)⁺

is an upper bound on the best net money. Each ``h_t`` is a concave function of one variable,
bounded by bisection on its one-sided derivatives (a concave function lies below its
tangents); ``π`` comes from a linear outer approximation (tangent cuts of ``m_t``) solved by
HiGHS, refined by cutting planes. Nothing in the bound depends on how ``π`` was found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog, minimize

__all__ = ["Battery", "Money", "money_bound", "respond", "net_money", "schedule"]


@dataclass(frozen=True)
class Battery:
    """One operator's battery: ``S``, ``G``, ``η_c (1 − κ̄)`` (stored per unit bought) and
    ``η_d``."""

    S: float
    G: float
    ec: float
    ed: float
    keep: float  # 1 − κ̄: the share of a purchase left after verification

    @property
    def xbar(self) -> float:
        """The most it can buy in a period: ``(1 − κ̄) x ≤ G``."""
        return self.G / self.keep


@dataclass(frozen=True)
class Money:
    """Net money on each post as a function of the net sale ``n``: ``B_− n/(Q_− + n)`` where
    ``prices`` is ``None``, else ``p n``. Arrays are ``(T,)`` over electricity posts."""

    Bm: np.ndarray | None = None
    Qm: np.ndarray | None = None
    prices: np.ndarray | None = None

    @property
    def T(self) -> int:
        return int((self.prices if self.prices is not None else self.Bm).size)

    def lower(self, battery: Battery) -> np.ndarray:
        """The smallest net sale on each post (``−x̄``, above ``−Q_−`` under market power)."""
        lo = np.full(self.T, -battery.xbar)
        if self.prices is None:
            assert self.Qm is not None and self.Bm is not None
            lim = np.where(self.Bm > 0, self.Qm * (1.0 - 1e-9), self.Qm)
            lo = np.maximum(lo, -lim)
        return lo

    def value(self, n: np.ndarray) -> np.ndarray:
        if self.prices is not None:
            return self.prices * n
        assert self.Qm is not None and self.Bm is not None
        with np.errstate(divide="ignore", invalid="ignore"):
            d = self.Qm + n
            v = np.where(d > 0, self.Bm * n / np.where(d > 0, d, 1.0),
                         np.where(self.Bm > 0, -np.inf, 0.0))
        # A lone seller (Q_− = 0) collects B_− for any positive offer.
        return np.where((self.Qm == 0) & (n > 0), self.Bm, v)

    def slope(self, n: np.ndarray) -> np.ndarray:
        if self.prices is not None:
            return np.broadcast_to(self.prices, np.shape(n)).astype(np.float64)
        assert self.Qm is not None and self.Bm is not None
        with np.errstate(divide="ignore", invalid="ignore"):
            d = self.Qm + n
            return np.where(d > 0, self.Bm * self.Qm / np.where(d > 0, d, 1.0) ** 2, np.inf)


def schedule(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(q, x)``: discharge offered and electricity bought for net sales ``n``."""
    return np.maximum(n, 0.0), np.maximum(-n, 0.0)


def net_money(money: Money, n: np.ndarray) -> float:
    return float(math.fsum(money.value(n)))


# --------------------------------------------------------------------------------------------
# The best response (the solvers' method)


def _soc_rows(T: int, battery: Battery) -> tuple[np.ndarray, np.ndarray]:
    """``σ^t − σ^0 = L @ (q, x)``: the cumulative state of charge as a linear map."""
    tri = np.tril(np.ones((T, T)))
    return np.hstack([-tri / battery.ed, tri * battery.ec]), tri


def respond(money: Money, battery: Battery, start: np.ndarray | None = None,
            objective=None) -> np.ndarray:  # noqa: ANN001
    """The net sales ``n (T,)`` that maximise ``Σ_t m_t(n^t)`` over the battery's schedules
    (SLSQP in ``(q, x, σ^0)``, scaled by ``G``, ``S``).

    ``objective`` (a function ``n -> (values (T,), slopes (T,))``) replaces ``money``'s terms:
    the competitive solver passes its linearised price model there (``money`` then only sets
    the bounds).
    """
    T = money.T
    G = battery.G
    L, _ = _soc_rows(T, battery)
    lo = money.lower(battery)

    def unpack(z):
        q, x = z[:T] * G, z[T:2 * T] * G
        return q, x, z[2 * T] * battery.S

    if objective is None:
        def f(n):
            return money.value(n), money.slope(n)
    else:
        f = objective

    scale = max(float(np.max(np.abs(f(np.zeros(T))[1]))) * G * T, 1e-300)

    def obj(z):
        q, x, _ = unpack(z)
        v, g = f(q - x)
        if not np.all(np.isfinite(v)):
            return 1e30, np.zeros_like(z)
        grad = np.concatenate([-g * G, g * G, [0.0]]) / scale
        return -float(v.sum()) / scale, grad

    S = battery.S
    A = L * G / S      # (σ^t − σ^0)/S per unit of z
    cons = [
        {"type": "eq", "fun": lambda z: np.array([A[-1] @ z[:2 * T]]),
         "jac": lambda z: np.concatenate([A[-1], [0.0]])[None, :]},
        {"type": "ineq", "fun": lambda z: A @ z[:2 * T] + z[2 * T],
         "jac": lambda z: np.hstack([A, np.ones((T, 1))])},
        {"type": "ineq", "fun": lambda z: 1.0 - (A @ z[:2 * T] + z[2 * T]),
         "jac": lambda z: -np.hstack([A, np.ones((T, 1))])},
    ]
    xcap = np.minimum(battery.xbar, -lo) / G
    bounds = [(0.0, 1.0)] * T + [(0.0, float(c)) for c in xcap] + [(0.0, 1.0)]
    if start is None:
        z0 = np.zeros(2 * T + 1)
        z0[2 * T] = 0.5
    else:
        q0, x0 = schedule(np.clip(start, lo, G))
        cum = np.cumsum(battery.ec * x0 - q0 / battery.ed)
        z0 = np.concatenate([q0 / G, np.minimum(x0 / G, xcap),
                             [float(np.clip(-cum.min(initial=0.0) / S, 0.0, 1.0))]])
    best = None
    for z_start in (z0, np.concatenate([np.zeros(2 * T), [0.5]])):
        res = minimize(obj, z_start, jac=True, method="SLSQP", bounds=bounds,
                       constraints=cons, options={"ftol": 1e-15, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
        if res.success:
            break
    assert best is not None
    q, x, _ = unpack(best.x)
    return q - x


def project(q: np.ndarray, x: np.ndarray, battery: Battery) -> tuple[np.ndarray, np.ndarray]:
    """The schedule ``(q, x)`` nearest the given one (least squares in units of ``G``) that
    the battery can run; the input itself when it already can (to rounding)."""
    T = q.size
    G, S = battery.G, battery.S
    q0 = np.clip(q, 0.0, G)
    x0 = np.clip(x, 0.0, battery.xbar)
    cum = np.cumsum(battery.ec * x0 - q0 / battery.ed)
    if abs(cum[-1]) <= 1e-12 * S and np.ptp(np.concatenate([[0.0], cum])) <= S:
        return q0, x0
    L, _ = _soc_rows(T, battery)
    A = L * G / S
    target = np.concatenate([q0, x0]) / G

    def obj(z):
        d = z[:2 * T] - target
        return float(d @ d), np.concatenate([2 * d, [0.0]])

    cons = [
        {"type": "eq", "fun": lambda z: np.array([A[-1] @ z[:2 * T]]),
         "jac": lambda z: np.concatenate([A[-1], [0.0]])[None, :]},
        {"type": "ineq", "fun": lambda z: A @ z[:2 * T] + z[2 * T],
         "jac": lambda z: np.hstack([A, np.ones((T, 1))])},
        {"type": "ineq", "fun": lambda z: 1.0 - (A @ z[:2 * T] + z[2 * T]),
         "jac": lambda z: -np.hstack([A, np.ones((T, 1))])},
    ]
    bounds = [(0.0, 1.0)] * T + [(0.0, battery.xbar / G)] * T + [(0.0, 1.0)]
    z0 = np.concatenate([target, [float(np.clip(-cum.min(initial=0.0) / S, 0.0, 1.0))]])
    res = minimize(obj, z0, jac=True, method="SLSQP", bounds=bounds, constraints=cons,
                   options={"ftol": 1e-16, "maxiter": 300})
    return res.x[:T] * G, res.x[T:2 * T] * G


def feasible_schedule(n: np.ndarray, battery: Battery) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """``(q, x, y)`` for net sales ``n``, made exactly cyclic: the side that puts more into
    the battery over the day than the other takes out is scaled down by the excess (a
    rounding-sized change), ``y = (1 − κ̄) x``; the bounds are clipped to ``[0, G]``."""
    q, x = schedule(n)
    q = np.minimum(q, battery.G)
    x = np.minimum(x, battery.xbar)
    into = battery.ec * x.sum()
    out = q.sum() / battery.ed
    if into > out and into > 0:
        x = x * (out / into)
    elif out > into and out > 0:
        q = q * (into / out)
    return q, x, battery.keep * x


# --------------------------------------------------------------------------------------------
# The certificate's bound (weak duality)


def _lin(n: np.ndarray, pi: np.ndarray, battery: Battery) -> np.ndarray:
    """The best of ``π (η_c(1−κ̄) x − q/η_d)`` over ``q − x = n`` within the power limits."""
    ec, ed, G, X = battery.ec, battery.ed, battery.G, battery.xbar
    pos = pi * (ec * np.maximum(-n, 0.0) - np.maximum(n, 0.0) / ed)
    q = np.minimum(G, X + n)
    neg = -pi * ((1.0 / ed - ec) * q + ec * n)
    return np.where(pi >= 0, pos, neg)


def _lin_slope(n: np.ndarray, pi: np.ndarray, battery: Battery, side: float) -> np.ndarray:
    """One-sided derivative of :func:`_lin` in ``n`` (``side`` +1: right, −1: left)."""
    ec, ed, G, X = battery.ec, battery.ed, battery.G, battery.xbar
    right = side > 0
    selling = (n > 0) | ((n == 0) & right)
    pos = np.where(selling, -pi / ed, -pi * ec)
    below = (X + n < G) | ((X + n == G) & (not right))
    neg = -pi * (np.where(below, 1.0 / ed - ec, 0.0) + ec)
    return np.where(pi >= 0, pos, neg)


def _post_maxima(money: Money, battery: Battery, pi: np.ndarray) -> np.ndarray:
    """Upper bounds on ``max_n m_t(n) + lin_t(n)`` for every post (concave in ``n``)."""
    T = money.T
    lo = money.lower(battery)
    hi = np.full(T, battery.G)
    out = np.empty(T)
    for t in range(T):
        mt = Money(None if money.Bm is None else money.Bm[t:t + 1],
                   None if money.Qm is None else money.Qm[t:t + 1],
                   None if money.prices is None else money.prices[t:t + 1])
        p_t = pi[t:t + 1]

        def h(v, mt=mt, p_t=p_t):
            a = np.array([v])
            return float(mt.value(a)[0] + _lin(a, p_t, battery)[0])

        def slope(v, side, mt=mt, p_t=p_t):
            a = np.array([v])
            if mt.prices is None and mt.Qm is not None and mt.Qm[0] == 0:
                m_s = 0.0
            else:
                m_s = float(mt.slope(a)[0])
            return m_s + float(_lin_slope(a, p_t, battery, side)[0])

        if money.prices is None and money.Qm is not None and money.Qm[t] == 0:
            # No other seller: any positive offer collects B_−; nothing can be bought.
            kinks = [0.0, battery.G, battery.G - battery.xbar]
            lin_max = max(float(_lin(np.array([k]), p_t, battery)[0])
                          for k in kinks if 0.0 <= k <= battery.G)
            out[t] = max(float(_lin(np.zeros(1), p_t, battery)[0]),
                         float(money.Bm[t]) + lin_max)
            continue
        a, c = float(lo[t]), float(hi[t])
        if slope(a, 1.0) <= 0:          # falls from the left end
            out[t] = h(a)
            continue
        if slope(c, -1.0) >= 0:         # rises to the right end
            out[t] = h(c)
            continue
        for _ in range(200):            # the supergradient changes sign in [a, c]
            mid = 0.5 * (a + c)
            if mid <= a or mid >= c:
                break
            if slope(mid, 1.0) > 0:
                a = mid
            elif slope(mid, -1.0) < 0:
                c = mid
            else:
                a = c = mid
                break
        ha, hc = h(a), h(c)
        out[t] = max(ha, hc) + max(slope(a, 1.0), -slope(c, -1.0), 0.0) * (c - a)
    return out


def dual_value(money: Money, battery: Battery, pi: np.ndarray) -> float:
    """``D(π)``: an upper bound on the best net money, for any ``π`` (weak duality)."""
    posts = _post_maxima(money, battery, pi)
    soc = battery.S * np.maximum(np.roll(pi, -1) - pi, 0.0)
    total = math.fsum(posts) + math.fsum(soc)
    scale = math.fsum(np.abs(posts)) + math.fsum(soc)
    return total + 1e-13 * scale  # rounding of the sums above


def _outer_lp(money: Money, battery: Battery, cuts: list[np.ndarray]):
    """The linear outer approximation with tangent cuts at ``cuts`` (each ``(T,)`` of net
    sales): HiGHS, variables ``(q, x, σ, w)``."""
    T = money.T
    G, S = battery.G, battery.S
    nv = 4 * T
    c = np.zeros(nv)
    c[3 * T:] = -1.0
    rows, rhs = [], []
    for n0 in cuts:
        v0, g0 = money.value(n0), money.slope(n0)
        ok = np.isfinite(v0) & np.isfinite(g0)
        for t in np.flatnonzero(ok):
            r = np.zeros(nv)
            r[3 * T + t] = 1.0
            r[t] = -g0[t]
            r[T + t] = g0[t]
            rows.append(r)
            rhs.append(v0[t] - g0[t] * n0[t])
    Aeq = np.zeros((T, nv))
    for t in range(T):
        Aeq[t, 2 * T + t] = 1.0
        Aeq[t, 2 * T + (t - 1) % T] -= 1.0
        Aeq[t, T + t] = -battery.ec
        Aeq[t, t] = 1.0 / battery.ed
    xcap = np.minimum(battery.xbar, -money.lower(battery))
    bounds = ([(0.0, G)] * T + [(0.0, float(v)) for v in xcap] + [(0.0, S)] * T
              + [(None, None)] * T)
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), A_eq=Aeq, b_eq=np.zeros(T),
                  bounds=bounds, method="highs")
    return res


def money_bound(money: Money, battery: Battery, hint: np.ndarray | None = None,
                rtol: float = 1e-11) -> tuple[float, np.ndarray, float]:
    """``(bound, n_best, best)``: a proven upper bound on the best net money, the best
    schedule found (net sales) and its net money.

    Cutting planes on the linear outer approximation give multipliers ``π``; the bound is
    :func:`dual_value` at the best ``π`` seen (either sign convention of HiGHS's marginals).
    """
    T = money.T
    lo = money.lower(battery)
    grid = [np.full(T, v) for v in np.linspace(0.0, 1.0, 9)[1:] * battery.G]
    grid += [np.maximum(np.full(T, -v), lo * (1 - 1e-6)) for v in
             np.linspace(0.0, 1.0, 9)[1:] * battery.xbar]
    grid.append(np.zeros(T))
    if hint is not None:
        grid.append(np.clip(hint, lo, battery.G))
    cuts = list(grid)
    bound, best_n, best = math.inf, np.zeros(T), net_money(money, np.zeros(T))
    if hint is not None:
        h = np.clip(hint, lo, battery.G)
        hv = net_money(money, h)
        if hv > best:
            best_n, best = h, hv
    for _ in range(60):
        res = _outer_lp(money, battery, cuts)
        if res.status != 0:
            break
        n = res.x[:T] - res.x[T:2 * T]
        value = net_money(money, n)
        if np.isfinite(value) and value > best:
            best_n, best = n, value
        pi = np.asarray(res.eqlin.marginals, dtype=np.float64)
        for cand in (pi, -pi):
            bound = min(bound, dual_value(money, battery, cand))
        scale = max(abs(best), float(np.sum(np.abs(money.value(np.full(T, battery.G))))),
                    1e-300)
        if bound - best <= rtol * scale:
            break
        cuts.append(n)
    return bound, best_n, best


# --------------------------------------------------------------------------------------------
# Verdicts for the certificate


@dataclass(frozen=True, eq=False)
class StorageVerdict:
    """Arrays over storage types: the bound on the best utility, the utility now, ``regret =
    bound − utility``, the gain of the best deviation exhibited (NaN: none), ``inconclusive``
    and the reasons."""

    bound: np.ndarray
    objective: np.ndarray
    regret: np.ndarray
    gain: np.ndarray
    inconclusive: np.ndarray
    reasons: tuple[str, ...]


def profit_maximiser(pop, k: int) -> bool:  # noqa: ANN001
    """Whether storage type ``k`` values goods only (``classic``, electricity weights 0)."""
    return bool(pop.classic[k] and not np.any(pop.weights[k] > 0) and pop.goods_weight[k] > 0)


def storage_verdicts(economy, profile, outcome, *, price_taking: bool, atol: float,  # noqa: ANN001
                     rtol: float) -> StorageVerdict:
    """Bound every storage operator's gain from deviating alone (docs/model.md, "The
    certificate"): its best net money is bounded by :func:`money_bound` (weak duality), and
    its utility, rising with the goods that money buys, by the utility of those goods. A
    deviation that gains more than the pass mark is exhibited and scored by the market rules
    before a type is said to fail; otherwise a type above the pass mark is inconclusive."""
    from emgame.market.game import play
    from emgame.market.utility import utility

    pop = economy.storage
    ns, T = len(pop), economy.periods
    play_now = outcome.storage
    U = np.asarray(play_now.utility, dtype=np.float64) if ns else np.zeros(0)
    bound = np.full(ns, np.nan)
    gain = np.full(ns, np.nan)
    inconclusive = np.zeros(ns, dtype=bool)
    reasons = [""] * ns
    keep = 1.0 - float(np.max(economy.shares))
    for k in range(ns):
        if not profit_maximiser(pop, k) or np.any(economy.fixed_costs > 0) \
                or economy.market.prepaid:
            inconclusive[k] = True
            reasons[k] = ("no bound for a storage operator that values electricity, pays a "
                          "fixed verification cost or is under prepaid settlement (not "
                          "covered in this version)")
            continue
        bat = Battery(S=float(pop.energy_capacity[k]), G=float(pop.power_capacity[k]),
                      ec=float(pop.charge_efficiency[k]) * keep,
                      ed=float(pop.discharge_efficiency[k]), keep=keep)
        hint = profile.storage_offers[k] - np.asarray(play_now.electricity[k])
        if price_taking:
            p = outcome.prices
            el = np.where(np.isfinite(p[1:]), p[1:], 0.0)
            money = Money(prices=el)
            Bm0 = Qm0 = None
        else:
            Bs, Qs = outcome.storage_others
            money = Money(Bm=np.asarray(Bs[k, 1:], dtype=np.float64),
                          Qm=np.asarray(Qs[k, 1:], dtype=np.float64))
            Bm0, Qm0 = float(Bs[k, 0]), float(Qs[k, 0])
        M, n_best, _ = money_bound(money, bat, hint=hint)

        def goods_for(m: float, Bm0: float = Bm0, Qm0: float = Qm0) -> float:
            b0 = max(m, 0.0)
            if price_taking:
                return b0 / float(outcome.prices[0])
            return b0 * Qm0 / (Bm0 + b0) if Bm0 + b0 > 0 else 0.0

        one = pop.select([k])
        E = np.ones((1, economy.S, T))
        bound[k] = float(utility(one, E, np.array([goods_for(M)]), economy.probabilities)[0])
        tol = max(atol, rtol * abs(U[k])) if np.isfinite(U[k]) else atol
        if not bound[k] - U[k] > tol:
            continue
        # Exhibit the best schedule found, scored by the market rules.
        q, x, y = feasible_schedule(n_best, bat)
        bids = np.zeros((1, T + 1))
        if price_taking:
            bids[0, 1:] = el * x
            others = (None, None)
            prices = outcome.prices
        else:
            d = money.Qm + q - x
            bids[0, 1:] = np.where(x > 0, x * money.Bm / np.where(d > 0, d, 1.0), 0.0)
            others = (Bs[k:k + 1], Qs[k:k + 1])
            prices = None
        if price_taking:
            rev = float(el @ q)
        else:
            rev = float(np.sum(np.where(q > 0, (money.Bm + bids[0, 1:]) * q
                                        / np.maximum(money.Qm + q, 1e-300), 0.0)))
        bids[0, 0] = max(rev - float(bids[0, 1:].sum()), 0.0)
        dev = play(economy, one, bids, others[0], others[1], offers=q[None, :],
                   charge=y[None, :], prices=prices)
        g = float(dev.utility[0]) - float(U[k])
        gain[k] = g
        if not g > tol:
            inconclusive[k] = True
            reasons[k] = (f"the bound on the operator's best net money leaves a regret of "
                          f"{bound[k] - U[k]:.3g} above the pass mark {tol:.3g}, and no "
                          "deviation that gains that much was found")
    with np.errstate(invalid="ignore"):
        regret = np.where(np.isnan(bound), np.inf, np.maximum(bound - U, 0.0))
    return StorageVerdict(bound=bound, objective=U, regret=regret, gain=gain,
                          inconclusive=inconclusive, reasons=tuple(reasons))


# --------------------------------------------------------------------------------------------
# The price taker's schedule on its active set (the competitive solver's polish)


def active_set(q: np.ndarray, x: np.ndarray, battery: Battery, rtol: float = 1e-7):
    """Which bounds a schedule sits on: ``(fixed (2T,) bool, values (2T,), soc_rows,
    soc_targets, level)``. ``soc_rows`` are the periods whose state of charge is at ``0`` or
    ``S`` (only when the schedule spans the whole battery), with the target, and ``level`` the
    state of charge at the start of the day; ``None`` when some period both buys and sells."""
    T = q.size
    G, X, S = battery.G, battery.xbar, battery.S
    z = np.concatenate([q, x])
    hi = np.concatenate([np.full(T, G), np.full(T, X)])
    at0 = z <= rtol * hi
    at1 = z >= hi * (1 - rtol)
    if np.any(~at0[:T] & ~at0[T:]):
        return None
    fixed = at0 | at1
    values = np.where(at0, 0.0, hi)
    L, _ = _soc_rows(T, battery)
    c = L @ z
    lo_c, hi_c = min(c.min(), 0.0), max(c.max(), 0.0)
    rows, targets = [], []
    level = -lo_c
    if hi_c - lo_c >= S * (1 - rtol):
        for t in range(T - 1):   # the last period's σ is σ^0 (cyclic), counted at its start
            if c[t] - lo_c <= rtol * S:
                rows.append(t)
                targets.append(0.0)
            elif hi_c - c[t] <= rtol * S:
                rows.append(t)
                targets.append(S)
        if -lo_c <= rtol * S or hi_c <= rtol * S:   # σ^0 itself at a bound
            rows.append(-1)
            targets.append(0.0 if -lo_c <= rtol * S else S)
    return fixed, values, rows, targets, level


def polish(q: np.ndarray, x: np.ndarray, battery: Battery, prices: np.ndarray,
           H: np.ndarray, n_ref: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The schedule that solves the price taker's problem against the linear price model
    ``p + H (n − n_ref)`` exactly on the active set of ``(q, x)`` (a linear system: the
    model's prices equal the stored energy's value, ``η_c(1−κ̄) π`` in the periods it buys in
    and ``π/η_d`` in those it sells in, the state-of-charge equations that bind hold with
    equality). ``None`` when the active set is not one (the answer leaves the bounds)."""
    T = q.size
    act = active_set(q, x, battery)
    if act is None:
        return None
    fixed, values, rows, targets, _ = act
    L, _ = _soc_rows(T, battery)
    D = np.hstack([np.eye(T), -np.eye(T)])
    g0 = D.T @ (prices - H @ n_ref)
    M = D.T @ H @ D
    free = np.flatnonzero(~fixed)
    nf = free.size
    has_level = bool(rows)
    na = len(rows)
    nu = nf + (1 if has_level else 0) + 1 + na
    A = np.zeros((nu, nu))
    b = np.zeros(nu)
    zfix = np.where(fixed, values, 0.0)
    # stationarity in the free variables: g0 + M z − μ_c L_T − Σ_a μ_a L_a = 0
    r = 0
    for j in free:
        A[r, :nf] = M[j, free]
        b[r] = -(g0[j] + M[j] @ zfix)
        col = nf + (1 if has_level else 0)
        A[r, col] = -L[T - 1, j]
        for a, t in enumerate(rows):
            A[r, col + 1 + a] = -(L[t, j] if t >= 0 else 0.0)
        r += 1
    if has_level:   # stationarity in σ^0: −Σ_a μ_a = 0
        A[r, nf + 1 + 1:] = -1.0
        r += 1
    # the day's net is zero
    A[r, :nf] = L[T - 1, free]
    b[r] = -(L[T - 1] @ zfix)
    r += 1
    for t, target in zip(rows, targets, strict=True):
        A[r, :nf] = L[t, free] if t >= 0 else 0.0
        A[r, nf] = 1.0
        b[r] = target - ((L[t] @ zfix) if t >= 0 else 0.0)
        r += 1
    # (least squares: a period whose flows are all fixed repeats its neighbour's bound)
    sol, *_ = np.linalg.lstsq(A, b, rcond=None)
    if not np.all(np.isfinite(sol)) or \
            np.max(np.abs(A @ sol - b)) > 1e-9 * max(float(np.max(np.abs(b))), 1e-300):
        return None
    z = zfix.copy()
    z[free] = sol[:nf]
    hi = np.concatenate([np.full(T, battery.G), np.full(T, battery.xbar)])
    if np.any(z < -1e-9 * hi) or np.any(z > hi * (1 + 1e-9)):
        return None
    z = np.clip(z, 0.0, hi)
    c = L @ z
    level = sol[nf] if has_level else -min(c.min(), 0.0)
    sig = level + c
    if np.any(sig < -1e-9 * battery.S) or np.any(sig > battery.S * (1 + 1e-9)) \
            or level < -1e-9 * battery.S or level > battery.S * (1 + 1e-9):
        return None
    return z[:T], z[T:]


def snap_prices(q: np.ndarray, x: np.ndarray, battery: Battery, prices: np.ndarray,
                rtol: float = 1e-9) -> np.ndarray | None:
    """Prices at which the schedule ``(q, x)`` is exactly a price taker's best, moved by at
    most ``rtol`` (relative) from ``prices``, or ``None``.

    Between the periods where the battery is full or empty the stored energy has one value
    ``π``; the periods it buys in without being at its power limit are priced
    ``η_c(1−κ̄) π`` and those it sells in ``π/η_d``, with ``π`` their least-squares fit. A
    solver's prices satisfy these relations to its own rounding; the certificate, which
    measures a zero-profit price taker's regret in absolute terms, needs them to the float's."""
    T = q.size
    act = active_set(q, x, battery)
    if act is None:
        return None
    fixed, _, rows, _, _ = act
    free_q = ~fixed[:T]
    free_x = ~fixed[T:]
    # Segments of constant π: a new one starts after every period at a bound of charge.
    seg = np.zeros(T, dtype=np.int64)
    cuts = sorted({t for t in rows if t >= 0})
    if cuts:
        k = 0
        start = (cuts[0] + 1) % T
        for i in range(T):
            t = (start + i) % T
            seg[t] = k
            if t in cuts:
                k += 1
    out = prices.copy()
    for k in np.unique(seg):
        members = np.flatnonzero(seg == k)
        est = [prices[t] / battery.ec for t in members if free_x[t]]
        est += [prices[t] * battery.ed for t in members if free_q[t]]
        if not est:
            continue
        pi = float(np.mean(est))
        for t in members:
            if free_x[t]:
                out[t] = battery.ec * pi
            elif free_q[t]:
                out[t] = pi / battery.ed
    if np.any(np.abs(out - prices) > rtol * np.abs(prices)):
        return None
    return out
