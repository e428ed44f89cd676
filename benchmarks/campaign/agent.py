"""One agent's problem by the rules of the game, and its global best response.

An agent of type ``i`` faces either the others' totals ``B_-i, Q_-i`` (the market game; the
paper's (1)–(8)) or prices ``p`` (a price taker: the competitive benchmark). Its strategy is its
bids ``b^0..b^T`` and, for a producer, offers ``q^1..q^T`` (and capacity ``K`` in the long run).

Everything here is written from docs/model.md, Prices and allocations to The crypto layer, not from
emgame's solvers or certificate:

* allocations ``x^t = b^t Q^t / B^t`` with ``B = B_-i + b``, ``Q = Q_-i + own offer``
  (price taker: ``x^t = b^t / p^t``); revenue ``Σ_t B^t q^t / Q^t`` (producer) or
  ``B^0 ω / Q^0`` (consumer); spending ``Σ b^t`` on posts that trade;
* verification ``V_s^t = v_s^t 1[b^t>0] + κ_s x^t + 1[t=t0] v_s^0 1[b^0>0]``, consumption
  ``E_s^t = x^t - V_s^t`` (a producer keeps its offer on a post that does not trade);
* goods ``x^0`` (consumer) or ``x^0 - Σ φ(q^t) - ρK`` (producer), ``φ(q) = (q/θ)^{1/c}``;
* the budget ``W + β (R - R̄) - spending >= 0``. Simultaneous settlement: ``β = 1``, ``W = R̄``,
  i.e. ``R - spending``. Prepaid: ``W`` is the wallet (``R̄`` for a stationary one) and ``R̄``
  the revenue at the reference profile; this budget has the first-order conditions of the
  model's ``u + βλR`` within the wallet (docs/model.md, The crypto layer) with ``λ`` its
  multiplier, and
  equals the wallet constraint where ``R = R̄``. With ``credit=False`` the budget is the wallet
  alone, ``W - spending``, and the objective ``u + revenue_weight · R`` (the model's definition,
  ``revenue_weight = βλ``), as the checker measures regret.

The only things taken from emgame are the economy (``emgame.model``) and the reference
definitions of the rules: utilities and their marginal utilities (``emgame.market.utility``) and,
to score every candidate, :func:`emgame.market.play`. The own-derivatives are this module's own
(tested against finite differences of ``play`` in ``tests/benchmarks``).

Participation: a positive bid on post ``t`` costs the fixed verification ``v^t`` whatever its
size, so the payoff jumps at ``b^t = 0``. :func:`best_response` therefore enumerates participation
patterns (sets of posts paid on): posts whose good is *essential* (utility ``-inf``, or CES's
minimum 0, without it) are always in; the other candidate posts are switched on and off. For each
pattern the problem is smooth and solved by SLSQP from several starts; every answer is scored by
``play`` and checked for feasibility (budget, goods, consumption, capacity) before it counts.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from emgame.market import play
from emgame.model import FAMILIES, Economy

CES = FAMILIES.index("ces")
CRRA = FAMILIES.index("crra")
QUASILINEAR = FAMILIES.index("quasilinear")

FEAS_TOL = 1e-13
"""Relative tolerance of the feasibility checks of a candidate (budget, goods, consumption):
rounding only, so that no deviation buys anything with money or goods it does not have."""

MARGIN = 1e-10
"""Relative margin by which the optimiser keeps the constraints (SLSQP may end ~1e-14 outside
them); it costs ~1e-10 of the objective, far below the tolerances checked."""


def essential(family: int, gamma: float, r: float, weight: float, goods: bool = False) -> bool:
    """Is a good with this weight essential (no consumption of it: utility -inf or CES's 0)?"""
    if weight <= 0:
        return False
    if family == QUASILINEAR:
        return not goods  # log in electricity, linear in goods
    if family == CRRA:
        return gamma >= 1.0
    if family == CES:
        return r < 0
    return True  # Cobb–Douglas


@dataclass
class Point:
    """One evaluated strategy: values (unscaled) and derivatives w.r.t. the raw variables."""

    obj: float
    grad: np.ndarray
    g: np.ndarray
    jac: np.ndarray


@dataclass
class Response:
    """A best response found: the strategy, its objective (by ``play``) and the pattern."""

    value: float
    bids: np.ndarray
    offers: np.ndarray | None
    capacity: float | None
    pattern: tuple[int, ...]
    multipliers: np.ndarray | None = None
    tried: int = 0
    feasible: bool = True
    notes: list[str] = field(default_factory=list)


class Agent:
    """One agent of type ``i`` of ``role`` ("consumers" or "producers").

    Give either ``Bm, Qm`` (others' totals, ``(T+1,)`` each, ``Qm[0]`` the others' goods
    offered) or ``prices`` ``(T+1,)`` (NaN or 0 where a post does not trade).
    """

    def __init__(self, e: Economy, role: str, i: int, *, Bm: np.ndarray | None = None,
                 Qm: np.ndarray | None = None, prices: np.ndarray | None = None,
                 W: float | None = None, Rbar: float | None = None, beta: float = 1.0,
                 credit: bool = True, revenue_weight: float = 0.0,
                 money: float = 1.0, supply: float = 1.0,
                 production: tuple[np.ndarray, float | None] | None = None,
                 pop=None) -> None:
        self.e = e
        self.role = role
        self.i = i
        self.producer = role == "producers"
        self.T = e.periods
        self.S = e.S
        # (``pop``: the type's one-row population, when the caller has it already.)
        pop = pop if pop is not None else \
            (e.producers if self.producer else e.consumers).select([i])
        self.pop = pop
        self.price_taking = prices is not None
        if self.price_taking:
            p = np.asarray(prices, float)
            self.prices = np.where(np.isfinite(p) & (p > 0), p, 0.0)
            self.active_post = self.prices > 0
        else:
            self.Bm = np.asarray(Bm, float)
            self.Qm = np.asarray(Qm, float)
        self.long_run = e.market.long_run
        # A producer whose production is given (the competitive household: price takers
        # choose output by profit and spend the profit) chooses its bids only.
        self.free_q = self.producer and production is None
        self.fixed_q, self.fixed_K = production if production is not None else (None, None)
        self.v = e.fixed_costs                  # (S, T+1)
        self.kappa = e.shares                   # (S,)
        self.prob = e.probabilities
        self.t0 = e.market.goods_settlement_period
        self.beta = beta
        self.credit = credit
        self.revenue_weight = revenue_weight
        self.omega = float(pop.endowment[0])
        if self.producer:
            self.theta = float(pop.productivity[0])
            self.c = float(pop.returns[0])
            self.Kbar = np.inf if self.long_run else float(pop.capacity[0])
            self.rho = float(pop.capacity_cost[0]) if self.long_run else 0.0
        # What the agent values.
        fam, gam, r = int(pop.family[0]), float(pop.gamma[0]), float(pop.r[0])
        self.family, self.gamma, self.r = fam, gam, r
        self.weights = pop.weights[0]
        self.goods_weight = float(pop.goods_weight[0]) if pop.classic[0] else 0.0
        self.essential = np.array(
            [essential(fam, gam, r, self.goods_weight, goods=True)]
            + [essential(fam, gam, r, float(a)) for a in self.weights])
        self.money = max(money, 1e-300)
        self.supply = max(supply, 1e-300)
        self.W = W
        self.Rbar = Rbar
        self.scale_E = max(supply, 1e-12)
        self.stats: list[tuple[int, int]] = []

    # ----------------------------------------------------------------------------------------
    # Raw evaluation: values and derivatives w.r.t. (b[0..T], q[1..T], K).
    # ----------------------------------------------------------------------------------------
    def raw(self, b: np.ndarray, q: np.ndarray | None, K: float | None,
            derivatives: bool = True) -> tuple[dict, dict | None]:
        T, S = self.T, self.S
        b = np.asarray(b, float)
        own = np.zeros(T + 1)
        if self.producer:
            own[1:] = q
        else:
            own[0] = self.omega
        if self.price_taking:
            p = self.prices
            act = self.active_post & True
            x = np.divide(b, p, out=np.zeros(T + 1), where=act)
            dx_db = np.divide(1.0, p, out=np.zeros(T + 1), where=act)
            dx_dq = np.zeros(T + 1)
            if self.producer:
                R = float(np.dot(p[1:], q))
                dR_db = np.zeros(T + 1)
                dR_dq = p[1:].copy()
            else:
                R = self.omega * p[0]
                dR_db = np.zeros(T + 1)
                dR_dq = np.zeros(T)
        else:
            B = self.Bm + b
            Q = self.Qm + own
            act = (B > 0) & (Q > 0)
            Bs = np.where(act, B, 1.0)
            Qs = np.where(act, Q, 1.0)
            x = np.where(act, b * Q / Bs, 0.0)
            dx_db = np.where(act, Q * self.Bm / Bs**2, 0.0)
            dx_dq = np.where(act, b / Bs, 0.0)       # producers: Q^t contains q^t
            if self.producer:
                R = float(np.sum(np.where(act[1:], B[1:] * q / Qs[1:], 0.0)))
                dR_db = np.concatenate([[0.0], np.where(act[1:], q / Qs[1:], 0.0)])
                dR_dq = np.where(act[1:], B[1:] * self.Qm[1:] / Qs[1:] ** 2, 0.0)
            else:
                R = float(B[0] * self.omega / Qs[0]) if act[0] else 0.0
                dR_db = np.zeros(T + 1)
                dR_db[0] = self.omega / Qs[0] if act[0] else 0.0
                dR_dq = np.zeros(T)
        spend = float(np.sum(np.where(act, b, 0.0)))
        # Electricity through posts (and a producer's own offer on a post that did not trade).
        el = x[1:].copy()
        de_dq = np.zeros(T)
        if self.producer:
            inactive = ~act[1:]
            el = el + np.where(inactive, q, 0.0)
            de_dq = np.where(inactive, 1.0, dx_dq[1:])
        paid = b > 0
        V = (paid[None, 1:] * self.v[:, 1:] + self.kappa[:, None] * x[None, 1:])
        V[:, self.t0 - 1] += paid[0] * self.v[:, 0]
        E = el[None, :] - V                      # (S, T)
        # Goods.
        if self.producer:
            phi = (np.maximum(q, 0.0) / self.theta) ** (1.0 / self.c)
            x0 = x[0] - phi.sum() - (self.rho * K if self.long_run else 0.0)
        else:
            phi = np.zeros(T)
            x0 = x[0] + (0.0 if act[0] else self.omega)
        # Budget.
        if self.credit:
            # Rbar None: the reference revenue is the revenue here (the profile's own, as
            # in the equilibrium conditions): the budget is then W - spending, its
            # derivatives those of W + β(R - R̄) - spending.
            Rbar = R if self.Rbar is None else self.Rbar
            W = Rbar if self.W is None else self.W
            slack = W + self.beta * (R - Rbar) - spend
            dslack_db = self.beta * dR_db - act
            dslack_dq = self.beta * dR_dq
        else:
            slack = self.W - spend
            dslack_db = -act.astype(float)
            dslack_dq = np.zeros(T)
        vals = dict(x=x, E=E, x0=x0, R=R, spend=spend, slack=slack, act=act, phi=phi)
        if not derivatives:
            return vals, None
        # d(E_s^t)/d b^t = (1 - κ_s) dx/db on the same post; d/dq^t likewise.
        one_k = 1.0 - self.kappa[:, None]       # (S, 1)
        dE_db = one_k * dx_db[None, 1:]          # (S, T): only post t affects E^t
        if self.producer:
            dE_dq = de_dq[None, :] - self.kappa[:, None] * np.where(
                ~act[1:], 0.0, dx_dq[1:])[None, :]
            # φ'(q); at q = 0 with c > 1 it is infinite: evaluated a hair above zero instead.
            qq = np.maximum(q, 1e-12 * self.supply) if self.c > 1.0 else np.maximum(q, 0.0)
            dphi = (1.0 / (self.c * self.theta)) * (qq / self.theta) ** (1.0 / self.c - 1.0)
        else:
            dE_dq = np.zeros((S, T))
            dphi = np.zeros(T)
        dx0_db0 = dx_db[0]
        ders = dict(dE_db=dE_db, dE_dq=dE_dq, dx0_db0=dx0_db0, dphi=dphi, dR_db=dR_db,
                    dR_dq=dR_dq, dslack_db=dslack_db, dslack_dq=dslack_dq, act=act)
        return vals, ders

    # ----------------------------------------------------------------------------------------
    def utility_ext(self, E: np.ndarray, x0: float) -> tuple[float, np.ndarray, float]:
        """Expected utility, extended below a small floor by its first-order Taylor expansion
        (finite and concave everywhere, equal to the utility where consumption is above the
        floor), and its derivatives ``∂U/∂E_s^t`` (with ``π_s``) and ``∂U/∂x^0``.

        The formulas are docs/model.md, Agents's, written out for one agent (fast); they are tied
        to :func:`emgame.market.utility.utility` by a test.
        """
        floor = 1e-9 * self.scale_E
        Ec = np.maximum(E, floor)
        a0 = self.goods_weight
        x0c = max(x0, 1e-9 * self.supply) if a0 > 0 else 1.0
        U, mu, m0 = self.utility_at(Ec, x0c)
        U += float(np.sum(mu * (E - Ec)))
        if a0 > 0:
            U += m0 * (x0 - x0c)
        return U, mu, m0

    def utility_at(self, E: np.ndarray, x0: float) -> tuple[float, np.ndarray, float]:
        """``(U, ∂U/∂E (S, T) with π_s, ∂U/∂x^0)`` at positive consumption."""
        a = self.weights
        on = a > 0
        a0 = self.goods_weight
        pi = self.prob[:, None]
        fam = self.family
        if fam == CES:
            r = self.r
            base = (np.where(on[None, :], a[None, :] * E ** r, 0.0)).sum(axis=1)  # (S,)
            if a0 > 0:
                base = base + a0 * x0 ** r
            us = base ** (1.0 / r)
            k = base ** (1.0 / r - 1.0)                                          # (S,)
            U = float(np.dot(self.prob, us))
            mu = np.where(on[None, :], pi * a[None, :] * E ** (r - 1.0) * k[:, None], 0.0)
            m0 = float(np.dot(self.prob, k)) * a0 * x0 ** (r - 1.0) if a0 > 0 else 0.0
            return U, mu, m0
        if fam == CRRA:
            g = self.gamma
            terms = np.where(on[None, :], a[None, :] * E ** (1.0 - g) / (1.0 - g), 0.0)
            mu = np.where(on[None, :], pi * a[None, :] * E ** (-g), 0.0)
            U = float(np.sum(pi * terms))
            if a0 > 0:
                U += a0 * x0 ** (1.0 - g) / (1.0 - g)
            return U, mu, (a0 * x0 ** (-g) if a0 > 0 else 0.0)
        # Cobb–Douglas and quasilinear: logs in electricity.
        with np.errstate(divide="ignore"):
            terms = np.where(on[None, :], a[None, :] * np.log(E), 0.0)
        mu = np.where(on[None, :], pi * a[None, :] / E, 0.0)
        U = float(np.sum(pi * terms))
        if a0 > 0:
            if fam == QUASILINEAR:
                return U + a0 * x0, mu, a0
            return U + a0 * np.log(x0), mu, a0 / x0
        return U, mu, 0.0

    def point(self, b: np.ndarray, q: np.ndarray | None, K: float | None,
              pattern: tuple[int, ...]) -> tuple[Point, dict]:
        """Objective and constraints ``g >= 0`` with derivatives w.r.t. the pattern's bids,
        the offers and the capacity (in that order)."""
        vals, d = self.raw(b, q, K)
        T = self.T
        U, mu, m0 = self.utility_ext(vals["E"], vals["x0"])
        obj = U + (0.0 if self.credit else self.revenue_weight * vals["R"])
        nb = len(pattern)
        nq = T if self.free_q else 0
        nk = 1 if (self.free_q and self.long_run) else 0
        dim = nb + nq + nk
        grad = np.zeros(dim)
        pat = np.array(pattern, int)
        # d obj / d b^t
        gb = np.zeros(T + 1)
        gb[1:] = (mu * d["dE_db"]).sum(axis=0)
        gb[0] = m0 * d["dx0_db0"]
        if not self.credit:
            gb += self.revenue_weight * d["dR_db"]
        grad[:nb] = gb[pat]
        if self.free_q:
            gq = (mu * d["dE_dq"]).sum(axis=0) - m0 * d["dphi"]
            if not self.credit:
                gq = gq + self.revenue_weight * d["dR_dq"]
            grad[nb:nb + T] = gq
            if nk:
                grad[-1] = -m0 * self.rho
        # Constraints: budget, goods (producers), E >= 0 where fixed costs are paid, K - q.
        rows_g = [vals["slack"]]
        rows_j = [np.concatenate([d["dslack_db"][pat], d["dslack_dq"] if self.free_q
                                  else [], [0.0] * nk])]
        if self.producer:
            rows_g.append(vals["x0"])
            jx = np.zeros(dim)
            if 0 in pattern:
                jx[pattern.index(0)] = d["dx0_db0"]
            if self.free_q:
                jx[nb:nb + T] = -d["dphi"]
            if nk:
                jx[-1] = -self.rho
            rows_j.append(jx)
        for s, t in self.e_rows(pattern):
            rows_g.append(vals["E"][s, t])
            j = np.zeros(dim)
            if (t + 1) in pattern:
                j[pattern.index(t + 1)] = d["dE_db"][s, t]
            if self.free_q:
                j[nb + t] = d["dE_dq"][s, t]
            rows_j.append(j)
        if nk:
            for t in range(T):
                rows_g.append(K - q[t])
                j = np.zeros(dim)
                j[nb + t] = -1.0
                j[-1] = 1.0
                rows_j.append(j)
        return Point(obj, grad, np.array(rows_g, float), np.array(rows_j, float)), vals

    def e_rows(self, pattern: tuple[int, ...]) -> list[tuple[int, int]]:
        """The ``(s, t)`` (t 0-based period) where a fixed verification cost is paid."""
        rows = []
        for s in range(self.S):
            for t in range(self.T):
                cost = (self.v[s, t + 1] if (t + 1) in pattern else 0.0) + \
                    (self.v[s, 0] if (0 in pattern and t == self.t0 - 1) else 0.0)
                if cost > 0:
                    rows.append((s, t))
        return rows

    # ----------------------------------------------------------------------------------------
    def candidates(self) -> list[int]:
        """Posts the agent may usefully pay on."""
        cand = [t + 1 for t in range(self.T) if self.weights[t] > 0]
        if self.producer or self.goods_weight > 0:
            cand = [0] + cand
            if np.any(self.v[:, 0] > 0) and self.t0 not in cand:
                cand.append(self.t0)  # electricity to burn for the goods payment
        if self.price_taking:
            cand = [t for t in cand if self.active_post[t] or t == 0 and self.producer]
        return sorted(cand)

    def patterns(self) -> list[tuple[int, ...]]:
        """Participation patterns to try (all candidates when nothing is fixed)."""
        cand = self.candidates()
        if not np.any(self.v > 0):
            return [tuple(cand)]
        must = [t for t in cand if self.essential[t]]
        free = [t for t in cand if t not in must]
        out = []
        goods_fixed = bool(np.any(self.v[:, 0] > 0))
        for k in range(len(free) + 1):
            for sub in itertools.combinations(free, k):
                pat = tuple(sorted(must + list(sub)))
                # A goods payment burns electricity of period t0: without buying some there,
                # consumption in t0 would be negative (infeasible).
                if goods_fixed and 0 in pat and self.t0 not in pat:
                    continue
                # Given production needs a goods bid for its inputs.
                if self.producer and not self.free_q and 0 not in pat and \
                        np.any(np.asarray(self.fixed_q) > 0):
                    continue
                out.append(pat)
        # (A pattern without an essential post is worth -inf, or CES's minimum 0: never better
        # than paying nothing at all, which best_response scores separately.)
        return out

    # ----------------------------------------------------------------------------------------
    def score(self, b: np.ndarray, q: np.ndarray | None, K: float | None,
              tol: float = FEAS_TOL) -> float:
        """The objective by the market rules (:func:`emgame.market.play`); ``-inf`` where the
        strategy is infeasible (budget, goods, consumption, bounds)."""
        value, feasible = self.assess(b, q, K, tol)
        return value if feasible else -np.inf

    def assess(self, b: np.ndarray, q: np.ndarray | None, K: float | None,
               tol: float = FEAS_TOL) -> tuple[float, bool]:
        """``(objective by the market rules, feasible?)``: a feasible strategy may still be
        worth ``-inf`` (no income to buy what the utility needs)."""
        b = np.asarray(b, float)
        if np.any(b < 0):
            return -np.inf, False
        if self.producer:
            if np.any(q < 0) or np.any(q > self.Kbar * (1 + 1e-12)) or \
                    (self.long_run and (K < 0 or np.any(q > K * (1 + 1e-12)))):
                return -np.inf, False
        pop = self.pop
        kw: dict = {}
        if self.producer:
            kw = dict(offers=np.asarray(q, float)[None],
                      capacity=np.array([K if self.long_run else self.Kbar]))
        if self.price_taking:
            pl = play(self.e, pop, b[None], None, None, prices=np.where(
                self.prices > 0, self.prices, np.nan), **kw)
        else:
            pl = play(self.e, pop, b[None], self.Bm[None], self.Qm[None], **kw)
        U = float(pl.utility[0])
        R = float(pl.revenue[0])
        spend = float(pl.spending[0])
        if self.credit:
            Rbar = R if self.Rbar is None else self.Rbar
            W = Rbar if self.W is None else self.W
            slack = W + self.beta * (R - Rbar) - spend
        else:
            slack = self.W - spend
        # Measured against the economy's money per agent, not the agent's own spending: a bid
        # blown up (a sole seller buying its own output) must not hide an overdraft.
        feasible = slack >= -tol * max(self.money, 1e-300)
        if self.producer and pl.goods[0] < -tol * max(pl.goods_received[0], 1e-300):
            feasible = False
        if np.any(pl.consumption < -tol * max(float(np.max(pl.electricity, initial=0)),
                                              1e-300)):
            feasible = False
        return U + (0.0 if self.credit else self.revenue_weight * R), bool(feasible)

    # ----------------------------------------------------------------------------------------
    def unpack(self, z: np.ndarray, pattern: tuple[int, ...]):
        nb = len(pattern)
        b = np.zeros(self.T + 1)
        b[list(pattern)] = z[:nb] * self.money
        if not self.producer:
            return b, None, None
        if not self.free_q:
            return b, self.fixed_q, self.fixed_K
        q = z[nb:nb + self.T] * self.supply
        K = z[-1] * self.supply if self.long_run else None
        return b, q, K

    def pack(self, b, q, K, pattern):
        z = [np.asarray(b, float)[list(pattern)] / self.money]
        if self.free_q:
            z.append(np.asarray(q, float) / self.supply)
            if self.long_run:
                z.append([K / self.supply])
        return np.concatenate(z)

    def bounds(self, pattern):
        nb = len(pattern)
        lo = np.zeros(nb)
        hi = np.full(nb, np.inf)
        if self.free_q:
            # Without a goods bid there are no inputs: nothing can be produced.
            top = self.Kbar / self.supply if 0 in pattern else 0.0
            lo = np.concatenate([lo, np.zeros(self.T)])
            hi = np.concatenate([hi, np.full(self.T, top)])
            if self.long_run:
                lo = np.append(lo, 0.0)
                hi = np.append(hi, np.inf)
        return lo, hi

    def solve_pattern(self, pattern: tuple[int, ...], z0: np.ndarray,
                      maxiter: int = 200) -> tuple[np.ndarray, np.ndarray | None]:
        """SLSQP on one pattern from ``z0`` (scaled variables); returns ``(z, multipliers)``."""
        lo, hi = self.bounds(pattern)
        nb = len(pattern)
        if lo.size == 0:
            self.stats.append((0, 0))
            return z0, None
        # Bids on a pattern's posts stay positive (a zero bid is another pattern).
        lo = lo.copy()
        lo[:nb] = 1e-12
        cache: dict[bytes, tuple] = {}
        fscale = [None]

        def ev(z):
            key = z.tobytes()
            if key not in cache:
                b, q, K = self.unpack(z, pattern)
                pt, _ = self.point(b, q, K, pattern)
                dz = np.concatenate([np.full(nb, self.money),
                                     np.full(len(z) - nb, self.supply)])
                if fscale[0] is None:
                    fscale[0] = max(float(np.max(np.abs(pt.grad * dz), initial=0.0)), 1e-300)
                gs = self._gscales(pattern)
                cache.clear()
                cache[key] = (-pt.obj / fscale[0], -pt.grad * dz / fscale[0],
                              pt.g / gs - MARGIN, pt.jac * dz[None, :] / gs[:, None])
            return cache[key]

        z0 = np.clip(z0, lo, np.where(np.isfinite(hi), hi, np.inf))
        cons = [{"type": "ineq", "fun": lambda z: ev(z)[2], "jac": lambda z: ev(z)[3]}]
        bnds = list(zip(lo, [h if np.isfinite(h) else None for h in hi], strict=True))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                try:
                    r = minimize(lambda z: ev(z)[0], z0, jac=lambda z: ev(z)[1],
                                 method="SLSQP", bounds=bnds, constraints=cons,
                                 options={"ftol": 1e-14, "maxiter": maxiter})
                except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                    return z0, None
        self.stats.append((int(getattr(r, "nit", 0)), int(getattr(r, "status", -1))))
        return r.x, getattr(r, "multipliers", None)

    def _gscales(self, pattern):
        n = 1 + (1 if self.producer else 0) + len(self.e_rows(pattern)) + \
            (self.T if (self.free_q and self.long_run) else 0)
        s = np.full(n, self.scale_E)
        s[0] = self.money
        if self.producer:
            s[1] = self.supply
        return s

    # ----------------------------------------------------------------------------------------
    def starts(self, pattern, b0, q0, K0, rng, n, corners: bool = False):
        """Starting points (scaled) for a pattern: the current strategy, then random ones.

        With ``corners`` (a producer with ``c >= 1``, whose cost is concave in each period's
        output, so that its best output may sit at ``0`` or at capacity period by period), also
        every corner output ``{0, top}^T`` (at most 8, drawn for larger T) and the current
        output with one period moved to each end, each with the current bids.
        """
        out = []
        lo, hi = self.bounds(pattern)
        budget = self.W if self.W is not None else self.Rbar
        budget = budget if budget is not None and budget > 0 else self.money
        nb = len(pattern)
        T = self.T
        top = min(self.Kbar, 3.0 * self.supply) if self.free_q else 0.0

        def current_bids():
            bb = np.asarray(b0, float).copy() if b0 is not None else np.zeros(T + 1)
            if nb:
                sel = bb[list(pattern)]
                fill = 0.1 * budget / max(nb, 1)
                bb[list(pattern)] = np.where(sel > 0, sel, fill)
            return bb

        plans = []
        for k in range(n):
            if k == 0 and b0 is not None:
                plans.append((current_bids(), None if q0 is None else np.asarray(q0, float),
                              K0))
                continue
            w = rng.dirichlet(np.ones(max(nb, 1)))
            bb = np.zeros(T + 1)
            bb[list(pattern)] = w[:nb] * budget * rng.uniform(0.2, 1.0)
            q = None
            if self.free_q:
                if k == 1 and self.c >= 1.0:
                    q = np.full(T, top)
                elif k == 2 and self.c >= 1.0:
                    q = np.zeros(T)
                else:
                    q = rng.uniform(0.05, 1.0, T) * top
            plans.append((bb, q, None))
        if corners and self.free_q and self.c >= 1.0 and 0 in pattern:
            combos = list(itertools.product((0.0, 1.0), repeat=T))
            if len(combos) > 8:
                combos = [combos[i] for i in rng.choice(len(combos), 8, replace=False)]
            for c in combos:
                plans.append((current_bids(), np.array(c) * top, None))
            if q0 is not None:
                for t in range(T):
                    for end in (0.0, top):
                        q = np.asarray(q0, float).copy()
                        q[t] = end
                        plans.append((current_bids(), q, None))
        for bb, q, K in plans:
            if self.free_q:
                if q is None:
                    q = np.full(T, min(self.Kbar, self.supply) * 0.5)
                if self.long_run:
                    K = max(K if K is not None else 0.0, float(np.max(q)))
            z = self.pack(bb, q, K, pattern)
            out.append(np.clip(z, lo, hi))
        return out


def best_response(a: Agent, *, b0=None, q0=None, K0=None, starts: int = 3, seed: int = 0,
                  patterns: list[tuple[int, ...]] | None = None,
                  corners: bool = False) -> Response:
    """The best strategy found over participation patterns and starts (scored by ``play``).

    A consumer's problem on a fixed pattern is concave (``x = bQ/(B_-+b)`` is concave in ``b``,
    the budget linear), so one start per pattern is enough (a second where SLSQP did not
    finish); a producer's is not (revenue ``B q/Q`` is not concave in ``(b, q)``, nor is
    ``-φ`` for ``c > 1``), so it gets ``starts`` starts, and with ``corners`` (the checker's
    search) every corner output of constant or increasing returns as well.
    """
    rng = np.random.default_rng(seed)
    best = Response(-np.inf, np.zeros(a.T + 1), None if not a.producer else np.zeros(a.T),
                    None, (), feasible=False)
    tried = 0
    n = starts if a.producer else 2

    def consider(u: float, feasible: bool, b, q, K, pattern, mult) -> None:
        nonlocal best
        if not feasible:
            return
        if not best.feasible or u > best.value:
            best = Response(u, b, q, K, pattern, mult, tried)

    for pattern in (patterns if patterns is not None else a.patterns()):
        for k, z0 in enumerate(a.starts(pattern, b0, q0, K0, rng, n, corners=corners)):
            if k >= 1 and not a.producer and a.stats and a.stats[-1][1] == 0:
                break  # concave: the first start converged
            z, mult = a.solve_pattern(pattern, z0)
            tried += 1
            b, q, K = a.unpack(z, pattern)
            consider(*a.assess(b, q, K), b, q, K, pattern, mult)
    # The strategy of paying nothing at all (and, for a producer, producing nothing).
    b = np.zeros(a.T + 1)
    q = (np.zeros(a.T) if a.free_q else a.fixed_q) if a.producer else None
    K = (0.0 if a.free_q else a.fixed_K) if (a.producer and a.long_run) else None
    consider(*a.assess(b, q, K), b, q, K, (), None)
    best.tried = tried
    return best
