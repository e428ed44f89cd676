"""An independent solver for the competitive (Walrasian) benchmark (docs/model.md, Solution
concepts).

Every agent takes prices as given. A price taker's problem separates (docs/model.md sections 4, 5):
a producer chooses output (and capacity) to maximise its profit
``β Σ_t p^t q^t - p^0 (Σ_t φ(q^t) + ρK)`` (``β = 1`` unless prepaid with ``β < 1``: revenue is
worth ``βλ``, inputs paid now cost ``λ``), and then, like a consumer, spends its income — the
wallet, or its revenue — on the posts it values, paying for its inputs on the goods post
(:class:`agent.Agent` with its production given). It shares no code with emgame's solvers or
certificate, and an answer counts only when :func:`check.check_competitive` accepts it (global
price-taking best responses of every type at the prices, clearing of every post, budgets,
feasibility).

Method
------
1. **Tâtonnement** from prices at the producers' marginal cost of a rough output, on the
   economy with returns ``c >= 1`` replaced by ``0.9`` (then ``0.97``, ... in later rounds:
   :func:`with_returns`), where supply is a function of prices: supply by profit
   maximisation (closed form in the short run; a one-dimensional concave search over ``K``
   in the long run), demand by every household's global best response (participation
   patterns, SLSQP). Each post's log price moves by a safeguarded secant step on its relative
   excess demand. A producer whose income cannot pay the verification its inputs' payment
   burns shuts down (if that is better).
2. **Polish**: the stacked conditions — every household's KKT conditions on its pattern
   (:mod:`kkt`), each firm's profit maximisation (natural residual) and clearing of every
   traded post, goods included — by ``scipy.optimize.least_squares`` in log prices, with the
   true returns: constant returns both at zero profit (the producer then buys only its
   inputs) and with profit; increasing returns at the corners (its profit is convex in each
   period's output: nothing, capacity, or where the smooth solution leans). If that fails,
   along the continuation ``c = 1 - eps`` (:data:`EPS_PATH`) and again with the true returns.
3. **Check** by :func:`check.check_competitive`; otherwise another round, until the time
   limit.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from scipy.optimize import minimize_scalar

from emgame.market import Profile, evaluate
from emgame.model import Economy

from . import kkt
from .agent import Agent, best_response
from .check import check_competitive
from .nash import Result, initial_profile


def traded_posts(e: Economy) -> np.ndarray:
    """``bool (T+1,)``: the goods post, the valued periods and the goods-settlement period when
    goods payments burn electricity there."""
    T = e.periods
    tr = np.concatenate([[True], e.valued_periods])
    if np.any(e.fixed_costs[:, 0] > 0):
        tr[e.market.goods_settlement_period] = True
    return tr & np.ones(T + 1, bool)


def _beta(e: Economy) -> float:
    return e.market.discount if e.market.prepaid else 1.0


def _phi(q, theta, c):
    return (np.maximum(q, 0.0) / theta) ** (1.0 / c)


def _dphi(q, theta, c):
    qq = np.maximum(q, 1e-300) if c > 1 else np.maximum(q, 0.0)
    return (1.0 / (c * theta)) * (qq / theta) ** (1.0 / c - 1.0)


def firm_supply(e: Economy, j: int, p: np.ndarray, traded: np.ndarray,
                big: float) -> tuple[np.ndarray, float | None]:
    """Profit-maximising offers (and capacity) of producer type ``j`` at prices ``p``.

    ``big`` caps an unbounded output (constant or increasing returns priced above cost).
    """
    pop = e.producers
    T = e.periods
    th, c = float(pop.productivity[j]), float(pop.returns[j])
    beta = _beta(e)
    price = np.where(traded[1:], beta * p[1:] / p[0], 0.0)   # in goods
    if not e.market.long_run:
        Kb = min(float(pop.capacity[j]), big)
        q = np.zeros(T)
        for t in range(T):
            if price[t] <= 0:
                continue
            if c < 1:
                q[t] = min(_interior(price[t], th, c), Kb)
            elif c == 1:
                q[t] = Kb if price[t] * th > 1.0 else 0.0
            else:
                q[t] = Kb if price[t] * Kb - _phi(Kb, th, c) > 0 else 0.0
        return q, None
    rho = float(pop.capacity_cost[j])

    def best_q(K):
        if c < 1:
            return np.minimum(np.where(price > 0, _interior(price, th, c), 0.0), K)
        if c > 1:
            return np.where(price * K - _phi(K, th, c) > 0, K, 0.0)
        return np.where(price * th > 1.0, K, 0.0)

    def profit(K):
        q = best_q(K)
        return float(np.sum(price * q - _phi(q, th, c)) - rho * K)

    if c >= 1:
        K = big if profit(big) > 0 else 0.0
        return best_q(K), K
    hi = max(float(np.max(best_q(np.inf), initial=0.0)), 1e-12)
    hi = min(hi, big)
    r = minimize_scalar(lambda K: -profit(K), bounds=(0.0, hi), method="bounded",
                        options={"xatol": 1e-12 * hi})
    K = float(r.x)
    return best_q(K), K


def with_returns(e: Economy, eps: float) -> Economy:
    """``e`` with returns ``c >= 1`` replaced by ``1 - eps`` (continuation from decreasing
    returns: supply becomes a smooth function of prices, ``log q`` linear in ``log p`` with
    slope ``c/(1-c)``, where the true choice is all-or-nothing)."""
    from dataclasses import replace

    pop = e.producers
    c = np.where(pop.returns >= 1.0, 1.0 - eps, pop.returns)
    return e.replace(producers=replace(pop, returns=c))


def _interior(price, th, c):
    """The output at which marginal cost ``φ'(q)`` equals ``price`` (``c < 1``)."""
    with np.errstate(over="ignore"):
        return th * (c * th * np.maximum(price, 1e-300)) ** (c / (1 - c))


def _big(e: Economy) -> float:
    """A cap on unbounded output: far above what the goods could ever produce at c = 1."""
    return 20.0 * e.goods_supply * max(float(np.max(e.producers.productivity)), 1.0) + 1.0


def _household(e: Economy, role: str, i: int, p: np.ndarray, production, money: float,
               supply: float) -> Agent:
    """A price taker of type ``i`` choosing its bids (a producer's production given)."""
    pop = e.producers if role == "producers" else e.consumers
    if e.market.prepaid and np.isfinite(pop.wallet[i]):
        W = float(pop.wallet[i])
    elif role == "producers":
        W = float(np.nansum(np.where(p[1:] > 0, p[1:], 0.0) * production[0]))
    else:
        W = float(pop.endowment[i] * p[0])
    return Agent(e, role, i, prices=p, W=W, Rbar=W, credit=False, money=money, supply=supply,
                 production=production if role == "producers" else None)


def _scales(e: Economy, p: np.ndarray, S: np.ndarray) -> tuple[float, float]:
    agents = max(e.consumers.agents + e.producers.agents, 1.0)
    money = max(3 * p[0] * e.goods_supply / agents, 1e-12)
    supply = max(3 * float(np.max(S, initial=0.0)) / agents, 1e-12)
    return money, supply


def _responses(e, p, production, money, supply, seed, prev=None):
    """Every household's best response at ``p`` (producers' production given)."""
    out = []
    for role, pop in (("consumers", e.consumers), ("producers", e.producers)):
        for i in range(len(pop)):
            prod = production[i] if role == "producers" else None
            a = _household(e, role, i, p, prod, money, supply)
            b0 = None if prev is None else prev.get((role, i))
            out.append((role, i, a, best_response(a, b0=b0, starts=1, seed=seed)))
    return out


def _demand(e: Economy, p: np.ndarray, resp) -> np.ndarray:
    """Total demand per post (goods: everything bought on the goods post, inputs included)."""
    D = np.zeros(e.periods + 1)
    for role, i, _, r in resp:
        n = (e.producers if role == "producers" else e.consumers).count[i]
        D += n * np.divide(r.bids, p, out=np.zeros_like(r.bids), where=p > 0)
    return D


def _shutdown(e, j, p, money, supply, seed):
    """The household of producer type ``j`` when it produces nothing."""
    q0 = np.zeros(e.periods)
    K0 = 0.0 if e.market.long_run else None
    a = _household(e, "producers", j, p, (q0, K0), money, supply)
    return a, best_response(a, starts=1, seed=seed), (q0, K0)


def tatonnement(e: Economy, p: np.ndarray, iters: int, deadline: float, seed: int,
                big: float | None = None):
    """Price adjustment with global best responses; returns the last state
    ``(prices, production, responses, money, supply, max |excess|)`` and the best one.

    Each traded post's log price moves by a safeguarded secant step on its relative excess
    demand ``(D - S)/(D + S)`` (a bracket is kept where the sign changed; Illinois steps
    inside it, steps of at most 0.7 outside), others' prices held.
    """
    traded = traded_posts(e)
    free = traded.copy()
    if e.stationary_wallets:
        free[0] = False
    npr = len(e.producers)
    T = e.periods
    prev = None
    big = big if big is not None else _big(e)
    state = best = None
    x = np.log(np.where(p > 0, p, 1.0))
    lo = {t: None for t in np.flatnonzero(free)}   # (log p, gap) with excess demand > 0
    hi = {t: None for t in np.flatnonzero(free)}   # ... and < 0
    side = {t: 0 for t in lo}
    for it in range(iters):
        if time.perf_counter() > deadline:
            break
        p = np.where(traded, np.exp(x), 0.0)
        production = [firm_supply(e, j, p, traded, big) for j in range(npr)]
        S = np.zeros(T + 1)
        S[0] = e.goods_supply
        money, supply = _scales(e, p, sum(e.producers.count[j] * np.concatenate(
            [[0.0], production[j][0]]) for j in range(npr)) if npr else np.zeros(T + 1))
        resp = _responses(e, p, production, money, supply, seed + it, prev)
        # A producer that cannot finance its production (verification it cannot pay) shuts
        # down if that is better.
        shut = [False] * npr
        for k, (role, j, _, r) in enumerate(resp):
            if role == "producers" and (not r.feasible or not np.isfinite(r.value)):
                a2, r2, prod2 = _shutdown(e, j, p, money, supply, seed)
                if r2.feasible and (not r.feasible or r2.value > r.value):
                    resp[k] = (role, j, a2, r2)
                    production[j] = prod2
                    shut[j] = True
        for j in range(npr):
            S[1:] += e.producers.count[j] * production[j][0]
        prev = {(role, i): r.bids for role, i, _, r in resp}
        D = _demand(e, p, resp)
        gap = np.where(free, (D - S) / np.maximum(D + S, 1e-300), 0.0)
        worst = float(np.max(np.abs(gap)))
        state = (p.copy(), production, resp, money, supply, worst, shut)
        if best is None or worst < best[5]:
            best = state
        if worst < 1e-6:
            break
        for t in lo:
            g = gap[t]
            if g > 0:
                lo[t] = (x[t], g)
                if hi[t] is not None and hi[t][0] <= x[t]:
                    hi[t] = None
                if side[t] == 1 and hi[t] is not None:
                    hi[t] = (hi[t][0], hi[t][1] / 2)   # Illinois
                side[t] = 1
            elif g < 0:
                hi[t] = (x[t], g)
                if lo[t] is not None and lo[t][0] >= x[t]:
                    lo[t] = None
                if side[t] == -1 and lo[t] is not None:
                    lo[t] = (lo[t][0], lo[t][1] / 2)
                side[t] = -1
            else:
                continue
            if lo[t] is not None and hi[t] is not None:
                (xl, gl), (xh, gh) = lo[t], hi[t]
                x[t] = xl + gl * (xh - xl) / (gl - gh)
            else:
                x[t] = x[t] + float(np.clip(2.0 * g, -0.7, 0.7))
    return state, best
# --------------------------------------------------------------------------------------------


class _CStack:
    """The stacked competitive conditions on fixed patterns (see the module notes)."""

    def __init__(self, e: Economy, p: np.ndarray, production, patterns, bids, money, supply,
                 firm_mode: list[str]):
        self.e = e
        self.T = e.periods
        self.traded = traded_posts(e)
        self.free_p = self.traded.copy()
        if e.stationary_wallets:
            self.free_p[0] = False               # p^0 = 1
        self.p0 = p.copy()
        self.money, self.supply = money, supply
        self.patterns = patterns
        self.long_run = e.market.long_run
        pop = e.producers
        # Firms: "free" (offers on traded periods as unknowns, natural residuals of profit
        # maximisation) or "fixed" (a corner of convex profit, c > 1, or shut down).
        self.firm_free = [m == "free" for m in firm_mode]
        self.firm_mode = firm_mode
        self.fixed_prod = production
        x = [np.log(p[self.free_p])]
        self.layout = []
        for j in range(len(pop)):
            if self.firm_free[j]:
                q, K = production[j]
                x.append(np.asarray(q)[self.traded[1:]] / supply)
                if self.long_run:
                    x.append([K / supply])
                    x.append(np.zeros(self.T))  # η: multipliers of q^t <= K
        self.nfirm = sum(len(v) for v in x)
        self.types = [("consumers", i) for i in range(len(e.consumers))] + \
            [("producers", j) for j in range(len(pop))]
        agents = self._households(p, production)
        self.sizes, self.fscales = [], []
        for (role, i), pat, a in zip(self.types, patterns, agents, strict=True):
            if pat is None:  # a producer that can buy nothing: it only buys its inputs
                self.sizes.append((0, 0))
                self.fscales.append(1.0)
                continue
            z = a.pack(bids[(role, i)], None, None, pat)
            lo, hi = a.bounds(pat)
            z = np.clip(z, np.maximum(lo, np.r_[np.full(len(pat), 1e-12), lo[len(pat):]]), hi)
            fs = kkt.objective_scale(a, pat, z)
            mu = kkt.initial_multipliers(a, pat, z, fs)
            self.sizes.append((len(z), len(mu)))
            self.fscales.append(fs)
            x += [kkt.to_x(z, len(pat)), mu]
        self.x0 = np.concatenate([np.asarray(v, float) for v in x])
        # Each household's multipliers (columns) enter only its own rows: grouped Jacobian.
        nt = int(self.traded[1:].sum())
        row = sum((nt + (1 + self.T if self.long_run else 0)) for f in self.firm_free if f)
        col = self.x0.size - sum(d + m for d, m in self.sizes)
        self.mu_cols, self.mu_rows = [], []
        for d, m in self.sizes:
            self.mu_cols.append(list(range(col + d, col + d + m)))
            self.mu_rows.append(np.arange(row, row + d + m))
            row += d + m
            col += d + m

    def _households(self, p, production):
        return [(_household(self.e, role, i, p, production[i] if role == "producers" else None,
                            self.money, self.supply)) for role, i in self.types]

    def unpack(self, x: np.ndarray):
        T = self.T
        k = int(self.free_p.sum())
        p = self.p0.copy()
        p[self.free_p] = np.exp(np.clip(x[:k], -700, 700))
        production, firm = [], []
        pop = self.e.producers
        for j in range(len(pop)):
            if not self.firm_free[j]:
                production.append(self.fixed_prod[j])
                firm.append(None)
                continue
            nt = int(self.traded[1:].sum())
            qv = x[k:k + nt]
            k += nt
            q = np.zeros(T)
            q[self.traded[1:]] = np.maximum(qv, 0.0) * self.supply
            if not self.long_run:
                q = np.minimum(q, float(pop.capacity[j]))
                production.append((q, None))
                firm.append((qv, None, None))
            else:
                Kv = x[k]
                eta = x[k + 1:k + 1 + T]
                k += 1 + T
                production.append((q, max(Kv, 0.0) * self.supply))
                firm.append((qv, Kv, eta))
        hh = []
        for d, m in self.sizes:
            hh.append((x[k:k + d], x[k + d:k + d + m]))
            k += d + m
        return p, production, firm, hh

    def residual(self, x: np.ndarray) -> np.ndarray:
        e, T = self.e, self.T
        p, production, firm, hh = self.unpack(x)
        pop = e.producers
        beta = _beta(e)
        r = []
        # Firms: natural residuals of profit maximisation (scaled by the supply and price).
        for j, f in enumerate(firm):
            if f is None:
                continue
            th, c = float(pop.productivity[j]), float(pop.returns[j])
            qv, Kv, eta = f
            q = np.maximum(qv, 0.0) * self.supply
            tr = self.traded[1:]
            marg = (beta * p[1:][tr] / p[0] - _dphi(q[tr], th, c))     # goods per unit
            s = self.supply
            if not self.long_run:
                Kb = float(pop.capacity[j]) / self.supply
                r.append(qv - np.clip(qv + marg * s, 0.0, Kb))
            else:
                rho = float(pop.capacity_cost[j])
                r.append(qv - np.maximum(qv + (marg - eta[tr]) * s, 0.0))
                r.append([Kv - max(Kv + (float(np.sum(eta)) - rho) * s, 0.0)])
                gap = np.zeros(T)
                gap[tr] = Kv - qv
                r.append(kkt.fischer_burmeister(gap, eta * 1.0))
        # Households.
        agents = self._households(p, production)
        for pat, a, fs, (z, mu) in zip(self.patterns, agents, self.fscales, hh, strict=True):
            if pat is not None:
                r.append(kkt.residual(a, pat, z, mu, fs))
        # Clearing of every traded post (goods included).
        D = np.zeros(T + 1)
        for (role, i), pat, a, (z, _) in zip(self.types, self.patterns, agents, hh, strict=True):
            b = self._bids(a, pat, z, p)
            n = (pop if role == "producers" else e.consumers).count[i]
            D += n * np.divide(b, p, out=np.zeros(T + 1), where=p > 0)
        S = np.zeros(T + 1)
        S[0] = e.goods_supply
        for j in range(len(pop)):
            S[1:] += pop.count[j] * production[j][0]
        scale = np.maximum(np.maximum(S, D), 1e-12)
        r.append(np.where(self.traded, (D - S) / scale, 0.0))
        out = np.concatenate([np.asarray(v, float).ravel() for v in r])
        return np.where(np.isfinite(out), out, 1e6)

    def _bids(self, a: Agent, pat, z, p) -> np.ndarray:
        if pat is None:
            b = np.zeros(self.T + 1)
            q, K = a.fixed_q, a.fixed_K
            b[0] = p[0] * (float(np.sum(_phi(np.asarray(q), a.theta, a.c)))
                           + (a.rho * K if self.long_run else 0.0))
            return b
        lo, hi = a.bounds(pat)
        b, _, _ = a.unpack(np.clip(kkt.to_z(z, len(pat)), lo, hi), pat)
        return b

    def solution(self, x: np.ndarray):
        p, production, _, hh = self.unpack(x)
        agents = self._households(p, production)
        e = self.e
        T = self.T
        cb = np.zeros((len(e.consumers), T + 1))
        pb = np.zeros((len(e.producers), T + 1))
        offers = np.zeros((len(e.producers), T))
        K = np.zeros(len(e.producers))
        for (role, i), pat, a, (z, _) in zip(self.types, self.patterns, agents, hh, strict=True):
            b = self._bids(a, pat, z, p)
            if role == "consumers":
                cb[i] = b
            else:
                pb[i] = b
        for j in range(len(e.producers)):
            offers[j] = production[j][0]
            K[j] = production[j][1] if self.long_run else e.producers.capacity[j]
        prices = np.where(self.traded, p, np.nan)
        return Profile(cb, pb, offers, K), prices


def _setup(e: Economy, state):
    """Patterns, bids and firm modes for the polish, from a tâtonnement state."""
    p, production, resp, money, supply, _, shut_down = state
    patterns: list[tuple[int, ...] | None] = []
    bids = {}
    shut = list(shut_down)
    for role, i, _a, r in resp:
        pat: tuple[int, ...] | None = tuple(r.pattern)
        if role == "producers":
            if shut[i] or (not np.any(np.asarray(production[i][0]) > 0) and r.feasible
                           and np.isfinite(r.value) and 0 not in r.pattern):
                shut[i] = True
            elif not np.isfinite(r.value):
                pat = None   # no income to spend: it buys its inputs and nothing else
            elif 0 not in pat:
                # It produces, or may (its output is an unknown): it pays for its inputs on
                # the goods post.
                pat = tuple(sorted((0,) + pat))
        patterns.append(pat)
        b = r.bids.copy()
        if role == "producers" and b[0] <= 0:
            q, K = production[i]
            pop = e.producers
            b[0] = p[0] * float(np.sum(_phi(np.asarray(q), pop.productivity[i],
                                            pop.returns[i])) + (pop.capacity_cost[i] * K
                                                               if e.market.long_run else 0.0))
        bids[(role, i)] = b
    return patterns, bids, shut


def polish(e: Economy, p, production, patterns, bids, money, supply, firm_mode, deadline,
           max_nfev: int = 80):
    """Solve the stacked conditions from the given start: ``(profile, prices, residual)``."""
    with np.errstate(all="ignore"):
        try:
            st = _CStack(e, p, production, patterns, bids, money, supply, firm_mode)
        except (ValueError, np.linalg.LinAlgError):
            return None, None, np.inf
        r = kkt.solve_stack(st, max(deadline - time.perf_counter(), 0.5), max_nfev)
        if r is None:
            return None, None, np.inf
        prof, prices = st.solution(r.x)
        return prof, prices, float(np.max(np.abs(r.fun)))


EPS_PATH = (0.1, 0.03, 0.01, 0.003, 1e-3, 1e-4)
"""The continuation in returns ``c = 1 - eps`` for producers with ``c >= 1``."""


def polish_path(e: Economy, state, deadline, log: list[str], eps0: float):
    """Polish a tâtonnement state (computed with ``c >= 1`` replaced by ``1 - eps0``): first
    directly with the true returns, then, if that fails, along the continuation ``eps`` of
    :data:`EPS_PATH` below ``eps0`` and again with the true returns (``c > 1``: the corner
    the continuation leans to stays fixed, its profit being convex):
    ``(profile, prices, residual)``."""
    p, production, _, money, supply, _, _ = state
    patterns, bids, shut = _setup(e, state)
    pop = e.producers
    steep = [float(pop.returns[j]) >= 1.0 and not shut[j] for j in range(len(pop))]
    mode = ["fixed" if shut[j] else "free" for j in range(len(pop))]

    # Constant returns: a producer earns nothing at a price equal to its marginal cost (it
    # then only buys its inputs: pattern None), or something where capacity binds; both
    # hypotheses are tried, zero profit first.
    c1 = [j for j in range(len(pop)) if float(pop.returns[j]) == 1.0 and not shut[j]]
    nc = len(e.consumers)
    variants = []
    for k in range(2 ** len(c1)):
        pats = list(patterns)
        for b, j in enumerate(c1):
            if not (k >> b) & 1:
                pats[nc + j] = None
            elif pats[nc + j] is None:
                pats[nc + j] = tuple(sorted({0} | {t + 1 for t in range(e.periods)
                                                   if pop.weights[j, t] > 0}))
        if pats not in variants:
            variants.append(pats)

    def corners(production):
        """Corner outputs to try for increasing returns (convex profit): the one the current
        output leans to, nothing, full capacity in every period."""
        inc = [j for j in range(len(pop)) if float(pop.returns[j]) > 1 and not shut[j]]
        options = []
        for j in inc:
            q, K = production[j]
            top = float(pop.capacity[j]) if not e.market.long_run else (K or 0.0)
            opts = [np.where(np.asarray(q) > 0.5 * top, top, 0.0), np.zeros(e.periods),
                    np.full(e.periods, top)]
            uniq = []
            for o in opts:
                if not any(np.array_equal(o, u) for u in uniq):
                    uniq.append(o)
            options.append([(o, K) for o in uniq])
        out = []
        for combo in itertools.product(*options):
            prod = list(production)
            for j, c in zip(inc, combo, strict=True):
                prod[j] = c
            out.append(prod)
        return out[:9]

    def exact(p, production, bids):
        production = list(production)
        m = list(mode)
        for j in range(len(pop)):
            if shut[j]:
                production[j] = (np.zeros(e.periods), 0.0 if e.market.long_run else None)
            elif float(pop.returns[j]) > 1:
                m[j] = "fixed"
        best = (None, None, np.inf)
        for prod in corners(production):
            for pats in variants:
                pats = list(pats)
                for j in range(len(pop)):
                    if m[j] == "fixed" and not np.any(np.asarray(prod[j][0]) > 0) and \
                            pats[nc + j] is not None:
                        # Producing nothing, it buys no inputs; with no income (no wallet) it
                        # buys nothing at all.
                        keep = [t for t in pats[nc + j] if t > 0 or pop.goods_weight[j] > 0]
                        income = e.market.prepaid and np.isfinite(pop.wallet[j])
                        pats[nc + j] = tuple(keep) if income else ()
                out = polish(e, p, prod, pats, bids, money, supply, m,
                             min(deadline, time.perf_counter() + 15.0))
                if out[2] < best[2]:
                    best = out
                if best[2] <= 1e-6 or time.perf_counter() > deadline:
                    return best
        return best

    best = exact(p, production, bids)
    log.append(f"polish: residual {best[2]:.2g}")
    if best[2] <= 1e-6 or not any(steep):
        return best
    moved = False
    for eps in [x for x in EPS_PATH if x <= eps0]:
        prof, prices, res = polish(with_returns(e, eps), p, production, patterns, bids,
                                   money, supply, mode, min(deadline, time.perf_counter() + 15))
        log.append(f"polish with c >= 1 as {1 - eps:g}: residual {res:.2g}")
        if prof is None or res > 1e-6:
            break
        moved = True
        p = np.where(np.isfinite(prices), prices, 0.0)
        production = [(prof.offers[j], float(prof.capacity[j]) if e.market.long_run
                       else None) for j in range(len(pop))]
        bids = {("consumers", i): prof.consumer_bids[i] for i in range(len(e.consumers))}
        bids.update({("producers", j): prof.producer_bids[j] for j in range(len(pop))})
    if moved:
        out = exact(p, production, bids)
        log.append(f"  then exact: residual {out[2]:.2g}")
        if out[2] < best[2]:
            best = out
    return best


def initial_prices(e: Economy) -> np.ndarray:
    """Prices at the producers' marginal cost of the rough output of :func:`nash.initial_profile`
    (goods post: 1, or with exogenous wallets the wallets over twice the goods)."""
    prof = initial_profile(e)
    pop = e.producers
    T = e.periods
    p = np.ones(T + 1)
    for t in range(T):
        mcs = [_dphi(max(prof.offers[j, t], 1e-9), pop.productivity[j], pop.returns[j])
               for j in range(len(pop))]
        p[t + 1] = max(float(np.median(mcs)), 1e-6)
    if not e.stationary_wallets:
        W = float(e.consumers.count @ np.nan_to_num(e.consumers.wallet)
                  + pop.count @ np.nan_to_num(pop.wallet))
        p *= max(W / (2 * e.goods_supply), 1e-6)
    traded = traded_posts(e)
    return np.where(traded, p, 0.0)


def solve_competitive(e: Economy, *, max_seconds: float = 60.0, seed: int = 0,
                      atol: float = 1e-8, rtol: float = 1e-8, check_starts: int = 4) -> Result:
    """The competitive benchmark by the method of the module notes."""
    started = time.perf_counter()
    deadline = started + max_seconds
    log: list[str] = []
    p = initial_prices(e)
    sweeps = polishes = 0
    best = None
    rounds = 0
    with np.errstate(all="ignore"):
        while time.perf_counter() < deadline:
            rounds += 1
            eps0 = EPS_PATH[0] * 0.3 ** (rounds - 1)
            steep = bool(np.any(e.producers.returns >= 1.0))
            e_t = with_returns(e, eps0) if steep else e
            state, best_state = tatonnement(e_t, p, 30 if rounds == 1 else 15, deadline,
                                            seed + rounds, big=_big(e))
            if state is None:
                break
            sweeps += 1  # (rounds of tâtonnement, reported as the result's sweeps)
            gap = best_state[5]
            log.append(f"round {rounds}: tâtonnement relative excess demand {gap:.2g}")
            tries = [best_state] if best_state is state else [best_state, state]
            for st in tries:
                prof, prices, res = polish_path(e, st, deadline, log, eps0)
                polishes += 1
                log.append(f"round {rounds}: polish residual {res:.2g}")
                if prof is None or res > 1e-6:
                    continue
                chk = check_competitive(e, prof, prices, atol=atol, rtol=rtol,
                                        starts=check_starts, seed=seed)
                if chk.ok:
                    out = evaluate(e, prof, prices)
                    return Result("competitive", "equilibrium", "", prof, out.prices, chk,
                                  time.perf_counter() - started, sweeps, polishes, log)
                log.append(f"round {rounds}: polished benchmark fails the check: "
                           f"{chk.violations[:2]}")
                if best is None or chk.max_gain < best[1].max_gain:
                    best = (prof, chk)
            p = best_state[0]
    reason = (f"no competitive equilibrium found within {max_seconds:.0f} s ({rounds} "
              f"tâtonnement rounds, {polishes} polishes)")
    if best is not None:
        reason += f"; best candidate fails: {best[1].violations[0][:200]}"
    return Result("competitive", "not-found", reason, None if best is None else best[0], None,
                  None if best is None else best[1], time.perf_counter() - started, sweeps,
                  polishes, log)
