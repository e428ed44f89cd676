"""Per type: pass, fail or inconclusive (docs/model.md, Solution concepts).

A type **passes** when the upper bound on its best deviation is within the pass mark of what it
gets now; it **fails** when a deviation actually exhibited — scored by the market rules
(:func:`emgame.market.play`), feasible by those rules — gains more than the pass mark, or when
the profile breaks its own budget; otherwise the certificate cannot decide and says so
(**inconclusive**, with the reason). A bound that was not computed is never a pass.

Two bounds are proved in closed form, where a dual value only tends to ``-inf``: an agent
whose every feasible strategy leaves some good its utility needs at zero (its income cannot
pay the verification of every such payment; or, a producer with constant or increasing
returns, it can earn no profit at all, checked in exact rational arithmetic where margins are
linear) can get no more
than its utility at zero consumption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.optimize import brentq

from emgame.agents.branch import refine, refine_offers
from emgame.agents.multipliers import (
    consumer_multipliers,
    least_wallet_multipliers,
    producer_multipliers,
)
from emgame.agents.problem import Agent, agent
from emgame.market.game import Outcome, Profile, play
from emgame.market.utility import utility
from emgame.model.economy import Economy

_SLACK = 1e-12


@dataclass(frozen=True, eq=False)
class Verdict:
    """One role's verdicts, arrays over types: the bound on the best objective, the objective
    now, ``regret = bound - objective``, the gain of the best deviation exhibited (NaN: none),
    ``passed``/``inconclusive`` and the reasons, and the dual's multipliers. ``infeasible``
    marks types whose play at the profile is infeasible (a budget or wallet overspent, goods
    or electricity below zero, offers above capacity): they fail whatever the bound says."""

    bound: np.ndarray
    objective: np.ndarray
    regret: np.ndarray
    gain: np.ndarray
    passed: np.ndarray
    inconclusive: np.ndarray
    reasons: tuple[str, ...]
    infeasible: np.ndarray
    lam: np.ndarray
    nu: np.ndarray
    maximiser: Deviation | None = None


@dataclass(frozen=True, eq=False)
class Deviation:
    """The dual's maximiser for one agent of every type, ``(n, T+1)`` arrays with the goods
    post first: what it would receive (``received``), offer (``offers``, producers; zeros for
    consumers) and on which posts it pays (``paid``), and its capacity (long run). Exact in the
    concave cases; elsewhere a best guess that only starts a search (the verdict is the
    certificate's)."""

    received: np.ndarray
    offers: np.ndarray
    paid: np.ndarray
    capacity: np.ndarray


@dataclass(frozen=True, eq=False)
class RoleDeviations:
    """One role's best deviations at a profile: the maximiser, the bound on the objective,
    the objective now and ``regret = bound - objective`` (as the certificate counts it)."""

    deviation: Deviation
    bound: np.ndarray
    objective: np.ndarray
    regret: np.ndarray


def _bids(ag: Agent, idx: np.ndarray, rows: list[tuple], surplus: bool = False) -> tuple:
    """A strategy ``(bids, offers, capacity)`` for each type in ``idx`` from a maximiser
    ``(x, q, paid, K)``; a producer buys exactly the goods its inputs (and its capacity and
    goods consumption) need, or, with ``surplus``, a ``classic`` one buys the goods the
    maximiser buys (``x[0]``) where that is more, and consumes what its inputs leave."""
    e = ag.economy
    T = e.periods
    m = len(idx)
    fa, pt = ag.facing, ag.rules.pt
    bids = np.zeros((m, T + 1))
    offers = np.zeros((m, T))
    K = np.zeros(m)
    for k, (i, (x, q, paid, Kk)) in enumerate(zip(idx, rows, strict=True)):
        x = np.where(paid, np.where(np.isfinite(x), x, 0.0), 0.0)
        if ag.producers:
            pop = ag.pop
            offers[k] = np.maximum(q[1:], 0.0)
            K[k] = Kk if e.market.long_run else pop.capacity[i]
            need = ((offers[k] / pop.productivity[i]) ** (1.0 / pop.returns[i])).sum()
            need += np.nan_to_num(pop.capacity_cost[i]) * K[k] if e.market.long_run else 0.0
            need += max(float(q[0]), 0.0)
            x = x.copy()
            x[0] = max(need, float(x[0])) if (surplus and pop.classic[i]) else need
        for t in range(T + 1):
            if x[t] <= 0.0:
                continue
            if pt:
                bids[k, t] = fa.p[t] * x[t]
            else:
                own = ag.pop.endowment[i] if (t == 0 and not ag.producers) else (
                    offers[k, t - 1] if (ag.producers and t > 0) else 0.0)
                Qo = (e.goods_supply if (ag.producers and t == 0) else fa.Qm[i, t] + own)
                B = fa.Bm[i, t]
                bids[k, t] = (B * x[t] / (Qo - x[t]) if (B > 0 and x[t] < Qo) else 1e-9)
    return bids, offers, K


def _score(ag: Agent, idx: np.ndarray, bids, offers, K) -> tuple:
    """Objective, budget slack and its scale for the strategies, by the market rules."""
    e = ag.economy
    pop = ag.pop.select(idx)
    fa = ag.facing
    weight = ag.thR[idx] if e.market.prepaid else None
    kw = dict(revenue_weight=weight)
    if ag.rules.pt:
        kw["prices"] = np.where(fa.p > 0, fa.p, np.nan)
        B = Q = None
    else:
        B, Q = fa.Bm[idx], fa.Qm[idx]
    if ag.producers:
        pl = play(e, pop, bids, B, Q, offers=offers, capacity=K, **kw)
    else:
        pl = play(e, pop, bids, B, Q, **kw)
    # Under prepaid settlement the wallet is held fixed (a stationary one at the profile's
    # revenue, docs/model.md, The crypto layer), whatever the deviation earns.
    slack = fa.income[idx] - pl.spending if e.market.prepaid else pl.slack
    return pl.utility, slack, np.maximum(np.abs(pl.spending), np.abs(pl.revenue))


def attained(ag: Agent, idx: np.ndarray, rows: list[tuple]) -> np.ndarray:
    """The objective each type of ``idx`` attains with the deviation its ``rows`` point to,
    its electricity bids scaled down, where needed, until its budget holds (``-inf`` where no
    scaling makes it feasible).

    A ``classic`` producer's goods are read both ways: buying only what its inputs and the
    maximiser's goods consumption need, and buying what the maximiser buys (consuming the
    rest). With linear goods utility (quasilinear) the dual pins ``ν`` at the goods weight,
    where every goods consumption is a maximiser and the one the dual reports (none) is not
    the feasible one; the second reading is."""
    out = _attained(ag, idx, rows, False)
    if ag.producers and np.any(ag.pop.classic[idx]):
        out = np.maximum(out, _attained(ag, idx, rows, True))
    return out


def _attained(ag: Agent, idx: np.ndarray, rows: list[tuple], surplus: bool) -> np.ndarray:
    bids, offers, K = _bids(ag, idx, rows, surplus)
    U, slack, scale = _score(ag, idx, bids, offers, K)
    over = slack < -_SLACK * np.maximum(scale, 1e-300)
    if np.any(over):
        lo = np.zeros(len(idx))
        hi = np.ones(len(idx))
        for _ in range(60):
            f = np.where(over, 0.5 * (lo + hi), 1.0)
            trial = bids.copy()
            trial[:, 1:] *= f[:, None]
            _, s, sc = _score(ag, idx, trial, offers, K)
            ok = s >= -_SLACK * np.maximum(sc, 1e-300)
            lo = np.where(ok, f, lo)
            hi = np.where(ok, hi, f)
        bids[:, 1:] *= np.where(over, lo, 1.0)[:, None]
        U, slack, scale = _score(ag, idx, bids, offers, K)
    feasible = slack >= -_SLACK * np.maximum(scale, 1e-300)
    return np.where(feasible & ~np.isnan(U), U, -np.inf)


# --------------------------------------------------------------------------------------------
# Bounds in closed form where a dual only tends to -inf.
# --------------------------------------------------------------------------------------------


def _needs_every_valued_good(pop, i: int) -> bool:
    """Utility is ``-inf`` when some valued good is at zero (log or CRRA ``γ >= 1`` terms)."""
    from emgame.market.utility import CD, CRRA, QUASILINEAR

    fam = int(pop.family[i])
    return fam in (CD, QUASILINEAR) or (fam == CRRA and pop.gamma[i] >= 1.0)


def _zero_profit(ag: Agent, i: int) -> bool:
    """A producer under simultaneous settlement that can earn no profit whatever it does, so
    can buy nothing: margins ``p^t - p^0/θ <= 0`` exactly with ``c = 1`` (in the long run: its
    rents cannot pay for capacity); with ``c > 1``, no offer up to capacity earning more than
    its inputs (in the long run, at no capacity: :func:`no_profit_at_any_scale`). A price
    taker faces the prices; one agent of a Nash type faces the others' totals, and
    ``B^t/Q^t`` (others' bids over others' supply) bounds what it earns per unit sold from
    above (``B q/(Q + q) <= (B/Q) q``) and ``B^0/Ω`` what a unit of goods costs from below
    (buying ``φ`` costs ``B^0 φ/(Ω − φ)``). A bid on its own post pays itself back only the
    share it sells, so it cannot make money either."""
    e = ag.economy
    pop = ag.pop
    if not (ag.producers and not e.market.prepaid):
        return False
    T = e.periods
    if ag.rules.pt:
        p = [Fraction(float(v)) for v in ag.facing.p]
    else:
        B, Q = ag.facing.Bm[i], ag.facing.Qm[i]
        if not (Q[0] > 0 and B[0] > 0):
            return False     # free inputs: any bid on a post would be profit
        p = [Fraction(float(B[0])) / Fraction(float(Q[0]))]
        for t in range(1, T + 1):
            if Q[t] > 0:
                p.append(Fraction(float(B[t])) / Fraction(float(Q[t])))
            elif B[t] > 0:
                return False     # the only seller on a post others bid on
            else:
                p.append(Fraction(0))
    theta, c = float(pop.productivity[i]), float(pop.returns[i])
    if c == 1.0:
        margins = [p[t] - p[0] / Fraction(theta) for t in range(1, T + 1)]
        if e.market.long_run:
            rent = sum((mg for mg in margins if mg > 0), Fraction(0))
            return rent <= p[0] * Fraction(float(np.nan_to_num(pop.capacity_cost[i])))
        return all(mg <= 0 for mg in margins)
    if c > 1.0 and not e.market.long_run:
        K = float(pop.capacity[i])
        cost = float(p[0]) * (K / theta) ** (1.0 / c)
        return all(float(p[t]) * K < cost * (1.0 - 1e-12) for t in range(1, T + 1))
    if c > 1.0:
        s = ag.types.s[i, 1:]
        rho = Fraction(float(pop.capacity_cost[i]))
        if ag.rules.pt:
            # Capacity K lets it sell s^t K on every post, and costs p^0 ρ K; its inputs only add.
            return sum((max(p[t + 1], Fraction(0)) * Fraction(float(s[t])) for t in range(T)),
                       Fraction(0)) <= p[0] * rho
        return no_profit_at_any_scale(B[1:], Q[1:], float(p[0]), theta, c, float(rho), s)
    return False


def no_profit_at_any_scale(B: np.ndarray, Q: np.ndarray, p0: float, theta: float, c: float,
                           rho: float, s: np.ndarray) -> bool:
    """Whether one producer with increasing returns (``c > 1``) choosing its capacity ``K``
    can earn no profit selling ``q_t <= s^t K`` on posts where others bid ``B`` and offer
    ``Q``: revenue at most ``B q/(Q+q)`` per post, goods at least ``p0`` each for its inputs
    ``Σ_t (q_t/θ)^{1/c} + ρK``. Since ``K >= Σ_t w_t q_t/s^t`` for weights summing to 1, it
    suffices that each post, charged ``p0 ρ w_t/s^t`` per unit for capacity, loses at every
    scale: with ``m_t`` its largest margin per unit (:func:`_scale_margin`), that the
    ``w_t = s^t m_t/(p0 ρ)`` sum to at most 1 (floats, with a relative margin of 1e-9)."""
    a = p0 * theta ** (-1.0 / c)   # least goods cost of φ(q) = (q/θ)^{1/c}, per q^{1/c}
    need = 0.0
    for t in range(len(B)):
        if s[t] > 0:
            need += float(s[t]) * _scale_margin(float(B[t]), float(Q[t]), a, 1.0 / c)
    return need <= p0 * rho * (1.0 - 1e-9)


def _scale_margin(B: float, Q: float, a: float, alpha: float) -> float:
    """An upper bound on ``m = sup_{q>0} f(q)``, ``f = B/(Q+q) - a q^{α-1}``: what a unit of
    offer on a post fetches (at most ``B/(Q+q)``) beyond its least input cost per unit
    (``a q^{α-1}``, falling with ``q``: increasing returns), the capacity cost per unit a post
    can bear without profit at any scale. ``f`` rises from ``-inf`` where
    ``g(q) = a(1-α) q^{α-2} (Q+q)^2 > B`` and falls where ``g < B``; ``log g`` falls, then
    rises (least at ``q_m = (2-α)Q/α``), so ``f`` rises, may fall between the two roots of
    ``g = B``, and rises again towards its limit 0: ``m`` is ``f`` at the first root, or 0.
    A margin of 1e-12 ``B/Q`` covers rounding. ``inf`` where no other agent offers."""
    if B <= 0.0:
        return 0.0
    if not Q > 0.0:
        return np.inf

    def log_g(q: float) -> float:
        return (math.log(a * (1.0 - alpha)) + (alpha - 2.0) * math.log(q)
                + 2.0 * math.log(Q + q) - math.log(B))

    qm = (2.0 - alpha) * Q / alpha
    if log_g(qm) >= 0.0:
        return 1e-12 * B / Q
    lo = qm
    while log_g(lo) < 0.0:      # (log g grows without bound as q falls to 0)
        lo *= 0.5
    q = brentq(log_g, lo, qm, xtol=1e-300, rtol=4 * np.finfo(float).eps)
    return max(B / (Q + q) - a * q ** (alpha - 1.0), 0.0) + 1e-12 * B / Q


def _cannot_afford(ag: Agent, i: int) -> bool:
    """A consumer whose income cannot buy, beyond its verification, some electricity in every
    period its utility needs (``E > 0``): every feasible strategy has utility ``-inf``. A
    producer likewise (:func:`_profit_cannot_afford`)."""
    e = ag.economy
    if not _needs_every_valued_good(ag.pop, i):
        return False
    if ag.producers:
        return _profit_cannot_afford(ag, i)
    pop, fa = ag.pop, ag.facing
    v, kappa = e.fixed_costs, e.shares
    need = np.flatnonzero(pop.weights[i] > 0) + 1
    spend = 0.0
    for t in need:
        floor = float(np.max(v[:, t] / (1.0 - kappa)))
        if floor <= 0.0:
            continue
        if ag.rules.pt:
            spend += fa.p[t] * floor
        else:
            Q, B = fa.Qm[i, t], fa.Bm[i, t]
            spend += np.inf if floor >= Q else (B * floor / (Q - floor) if B > 0 else 0.0)
    if e.market.prepaid:
        income = fa.income[i]
    elif ag.rules.pt:
        income = fa.p[0] * pop.endowment[i]
    else:
        income = fa.Bm[i, 0] * pop.endowment[i] / (fa.Qm[i, 0] + pop.endowment[i])
    return spend >= income


def _profit_cannot_afford(ag: Agent, i: int) -> bool:
    """A price-taking producer under simultaneous settlement in the short run, ``c <= 1``,
    whose largest profit, ``Σ_t max_{0<=q<=s^t K} (p^t q - p^0 (q/θ)^{1/c})``, buys no more
    than the electricity the fixed verification of its own payments burns in the periods its
    utility needs (the goods payment's in period ``t0`` too, bought there; margin 1e-9):
    producing or not, some ``E`` it needs is 0 (campaign-4-0010)."""
    e = ag.economy
    m = e.market
    if not ag.rules.pt or m.prepaid or m.long_run or e.fixed_costs.max(initial=0.0) <= 0:
        return False
    pop = ag.pop
    theta, c, K = float(pop.productivity[i]), float(pop.returns[i]), float(pop.capacity[i])
    if c > 1.0 or not np.isfinite(K):
        return False
    p = np.asarray(ag.facing.p, float)
    profit = largest_profit(p, theta, c, ag.types.s[i, 1:] * K)
    v, kappa, t0 = e.fixed_costs, e.shares, m.goods_settlement_period
    need = set((np.flatnonzero(pop.weights[i] > 0) + 1).tolist()) | {t0}
    spend = 0.0
    for t in need:
        burn = v[:, t] + (v[:, 0] if t == t0 else 0.0)
        spend += p[t] * float(np.max(burn / (1.0 - kappa)))
    return profit <= spend * (1.0 - 1e-9)


def largest_profit(p: np.ndarray, theta: float, c: float, caps: np.ndarray) -> float:
    """A price taker's largest profit with ``c <= 1``, ``Σ_t max_{0<=q<=caps_t} (p^t q -
    p^0 (q/θ)^{1/c})`` (``p`` goods first): each post's is concave, its maximiser
    ``p^t = p^0 φ'(q)``, ``q = θ (c θ p^t/p^0)^{c/(1-c)}``, capped (``c = 1``: all or nothing)."""
    profit = 0.0
    for t in range(len(caps)):
        top = float(caps[t])
        if not (p[t + 1] > 0 and top > 0):
            continue
        if c == 1.0:
            q = top if p[t + 1] * theta > p[0] else 0.0
        else:
            log_q = math.log(theta) + c / (1.0 - c) * math.log(c * theta * p[t + 1] / p[0])
            q = top if log_q >= math.log(top) else math.exp(log_q)
        profit += max(p[t + 1] * q - p[0] * (q / theta) ** (1.0 / c), 0.0)
    return profit


def _at_zero(ag: Agent, i: int) -> float:
    """Utility with nothing consumed (no payment, nothing burnt)."""
    e = ag.economy
    return float(utility(ag.pop.select([i]), np.zeros((1, e.S, e.periods)), np.zeros(1),
                         e.probabilities)[0])


def _gain(ag: Agent, idx: np.ndarray, rows: list[tuple], U: float) -> float:
    """The gain of the best of the deviations ``rows`` for the one type ``idx`` over its
    objective now ``U`` (NaN: none feasible; ``inf`` from ``U = -inf`` to a finite one).
    The rows are scored together, one market evaluation per step for all of them."""
    if not rows:
        return np.nan
    best = float(np.max(attained(ag, np.full(len(rows), int(idx[0])), rows)))
    if not np.isfinite(best):
        return np.nan
    return np.inf if np.isneginf(U) else best - U


# --------------------------------------------------------------------------------------------


def verdicts(economy: Economy, profile: Profile, outcome: Outcome, *, price_taking: bool,
             atol: float, rtol: float, hints: tuple | None = None,
             deadline: float = np.inf, settle: bool = True) -> tuple[Verdict, Verdict]:
    """Every type's verdict: ``(consumers, producers)``. ``hints = (λ_c, λ_p, ν_p)`` (a
    solver's multipliers, utility units) only start the searches; they stop at ``deadline``
    (:func:`emgame._numerics.clock`, which leaves out compilation). Without ``settle`` the
    dual's bound is returned as it is, no type's verdict settled by a deviation or a branch
    (a valid upper bound, and its maximiser, for best-response dynamics)."""
    out = []
    for producers in (False, True):
        least = None
        if producers:
            lam_bar, nu_bar = producer_multipliers(economy, profile, outcome, price_taking)
            if price_taking:
                # Where no condition pins λ̄ down, the least multiplier of the wallet that
                # leaves every first purchase unmade (a pass there proves the type).
                low = least_wallet_multipliers(economy, profile, outcome)
                least = np.isnan(lam_bar) & np.isfinite(low)
                lam_bar = np.where(least, low, lam_bar)
                nu_bar = np.where(least, low * outcome.prices[0], nu_bar)
        elif hints is not None and not economy.market.prepaid and \
                np.all(np.isfinite(hints[0]) & (hints[0] > 0)):
            # Under simultaneous settlement λ̄ only starts the search, and the hints replace
            # it wherever they are usable: fitting it for 10⁶ types would be wasted time.
            lam_bar = np.full(len(economy.consumers), np.nan)
            nu_bar = lam_bar
        else:
            lam_bar = consumer_multipliers(economy, profile, outcome, price_taking)
            nu_bar = np.full(len(lam_bar), np.nan)
        h = None
        if hints is not None:
            h = (hints[1], hints[2]) if producers else (hints[0], None)
        out.append(_role(economy, outcome, producers, price_taking, lam_bar, nu_bar, h,
                         atol, rtol, deadline,
                         _wash_trading(economy, profile) if producers and not price_taking
                         else None, settle, least))
    return out[0], out[1]


def _wash_trading(economy: Economy, profile: Profile) -> np.ndarray | None:
    """Producer types that bid and offer on one electricity post under prepaid settlement
    with ``β < 1``: there the revenue counts ``β`` and the payment ``1``, and the problem is
    not jointly concave in the bid and the offer (docs/model.md, The certificate): its dual
    may keep a gap no branch over payments closes. ``None`` where no such type can exist."""
    m = economy.market
    if not (m.prepaid and m.discount < 1.0) or len(economy.producers) == 0:
        return None
    return np.any((profile.producer_bids[:, 1:] > 0) & (profile.offers > 0), axis=1)


def _role(economy, outcome, producers, price_taking, lam_bar, nu_bar, hints, atol, rtol,
          deadline=np.inf, wash=None, settle=True, least=None) -> Verdict:
    m = economy.market
    # A price-taking consumer's revenue p^0 ω does not move with what it does: βλ̄R is a
    # constant of its problem, and its regret is the same whatever λ̄ is.
    undetermined = np.isnan(lam_bar) & m.prepaid & (producers or not price_taking)
    lam_safe = np.where(np.isnan(lam_bar), 0.0, lam_bar)
    ag = agent(economy, outcome, producers=producers, price_taking=price_taking,
               lam_bar=lam_safe, nu_bar=nu_bar, hints=hints)
    n = len(ag)
    U = ag.U
    tol = np.maximum(atol, rtol * np.abs(np.where(np.isfinite(U), U, 0.0)))
    target = U + tol
    b = ag.bounds(ag.search(target, deadline=deadline))
    bound = ag.to_objective(b.D)
    reasons = [""] * n
    gain = np.full(n, np.nan)
    inconclusive = np.zeros(n, bool)
    # A profile that breaks a budget, or is infeasible otherwise (a producer's inputs above
    # the goods it buys, E < 0, offers above capacity: utility -inf by the market rules, which
    # a bound of -inf must not pass), is no candidate at all, whatever the bound says.
    pl = ag.play
    scale = np.maximum(np.abs(pl.spending), np.abs(pl.revenue))
    infeasible = pl.slack < -1e-9 * np.maximum(scale, 1e-300)
    if pl.feasible is not None:
        infeasible |= ~pl.feasible
    # An empty wallet under prepaid settlement allows no payment, so no inputs and no sale:
    # an agent that does nothing at the profile has no other feasible plan, and no regret
    # whatever λ̄ is (a shut-down producer whose stationary wallet, its revenue, is 0).
    idle = (m.prepaid & (ag.facing.income <= 0) & (pl.spending == 0) & (pl.revenue == 0)
            & (np.asarray(pl.inputs).sum(axis=1) == 0) & (pl.goods == 0) & ~infeasible)
    bound = np.where(idle, U, bound)
    undetermined &= ~idle
    # Weak duality puts every dual value at or above the objective at the (feasible) profile:
    # one below it is a numerical failure of the search from where it started (a far-off
    # hint: ν run off to 1e54 and D = −inf, campaign-0-0032), never a proof. Such types are
    # searched again from the multipliers recovered from the profile; still below, they are
    # inconclusive (below), neither passed nor failed.
    broken = np.isfinite(U) & ~(bound >= U - tol) & ~infeasible & ~idle
    if np.any(broken) and hints is not None:
        again = np.flatnonzero(broken)
        ag2 = agent(economy, outcome, producers=producers, price_taking=price_taking,
                    lam_bar=lam_safe, nu_bar=nu_bar).take(again)
        b2 = ag2.bounds(ag2.search(target[again], deadline=deadline))
        for mine, theirs in zip(b, b2, strict=True):
            if mine.shape[0] == n:     # (consumers have no offers: an empty q)
                mine[again] = theirs
        bound[again] = ag2.to_objective(b2.D)
        broken = np.isfinite(U) & ~(bound >= U - tol) & ~infeasible & ~idle
    for i in np.flatnonzero(broken):
        bound[i] = np.inf   # no bound: the type is decided below by a gain or inconclusive
    for i in np.flatnonzero(~(bound <= target) & ~infeasible & settle):
        idx = np.array([i])
        if np.isneginf(U[i]) and _cannot_afford(ag, i):
            bound[i] = -np.inf
            continue
        if _zero_profit(ag, i):
            # It earns nothing whatever it does, so buys nothing: its utility at zero, also
            # where that is finite (CRRA γ < 1, CES r > 0). There a dual bound would be off
            # by the square root (say) of a margin of one part in 1e16 times its capacity
            # (campaign-3-0027, -0021: 9e-8 and 3e-4 above the pass mark).
            bound[i] = min(bound[i], _at_zero(ag, i))
            if bound[i] <= target[i]:
                continue
        q_i = b.q[i].copy() if b.q.shape[0] else np.zeros(b.x.shape[1])
        rows = [(b.x[i].copy(), q_i, b.paid[i].copy(), float(b.K[i]))]
        # The dual's own maximiser first: where it already gains more than the pass mark the
        # type fails, and branching (which only tightens the bound, the regret reported
        # standing as an upper bound) would be time spent on a decided verdict.
        gain[i] = _gain(ag, idx, rows, U[i])
        if gain[i] > tol[i]:
            continue   # a deviation that gains: the type fails
        cut = open_search = cut_offers = boxes = False
        # Increasing returns: the dual's gap over offers, closed by boxes of offers (within
        # each settled set of payments where there are fixed costs).
        offers_gap = producers and ag.types.c[i] > 1.0

        def by_boxes(force=None, types=None, i=i, idx=idx):  # noqa: ANN001, ANN202
            return refine_offers(ag, i, float(target[i]), deadline=deadline, force=force,
                                 gains=lambda r: bool(r and _gain(ag, idx, r, U[i]) > tol[i]),
                                 types=types)

        if np.any(economy.fixed_costs > 0) or ag.lin[i]:
            ref = refine(ag, i, float(target[i]), deadline=deadline,
                         boxes=by_boxes if offers_gap else None)
            bound[i] = min(bound[i], ref.bound)
            rows += ref.candidates
            cut, open_search = ref.cut, ref.open_search
            boxes = offers_gap
        elif bound[i] > target[i] and offers_gap:
            ref = by_boxes()
            bound[i] = min(bound[i], ref.bound)
            rows += ref.candidates
            boxes = True
            cut_offers, open_search = ref.cut, open_search or ref.open_search
        open_search = open_search or not bool(b.exact[i])
        if bound[i] <= target[i]:
            gain[i] = np.nan
            continue
        gain[i] = _gain(ag, idx, rows, U[i])
        if gain[i] > tol[i]:
            continue   # a deviation that gains: the type fails
        inconclusive[i] = True
        why = [f"its bound exceeds the pass mark by {bound[i] - target[i]:.3g}"
               + (f" while the best deviation found gains {gain[i]:.3g}"
                  if np.isfinite(gain[i]) else "")]
        if broken[i]:
            why = ["the search over the dual's multipliers failed numerically (a value below "
                   "the objective at the profile, which weak duality rules out)"]
        if cut:
            why.append("the search over which posts to pay on was cut off")
        if cut_offers:
            why.append("the branch and bound over its offers (increasing returns) was cut "
                       "off")
        if open_search:
            why.append("a non-concave search (offers, capacity) ran out of evaluations, or "
                       "the certificate's time budget ran out")
        if boxes and not (cut or cut_offers or open_search):
            why.append("boxes of offers (increasing returns) did not bring it under")
        elif not (cut or cut_offers or open_search):
            why.append("it bids and offers on the same post under prepaid settlement with "
                       "β < 1, where its problem is not jointly concave in bid and offer "
                       "(revenue counts β, payments 1): a duality gap, vanishing at β = 1, that "
                       "the branches over payments do not close" if wash is not None and wash[i]
                       else "a duality gap the branches over payments do not close "
                       "(a non-concave objective), or a best deviation the maximisers tried "
                       "do not reach")
        reasons[i] = "; ".join(why)
    for i in np.flatnonzero(undetermined):
        if np.isneginf(U[i]) and np.isposinf(gain[i]):
            # A deviation with a finite utility found (at λ̄ = 0): it gains +inf against a
            # finite change of revenue whatever λ̄ is, so the type fails (campaign-2-0016).
            continue
        inconclusive[i] = True
        reasons[i] = ("no first-order condition holds with equality (no positive bid), so the "
                      "wallet multiplier λ̄ of its objective u + βλ̄R cannot be recovered from "
                      "the profile")
    with np.errstate(invalid="ignore"):
        regret = np.where(np.isneginf(U) & np.isneginf(bound), 0.0, bound - U)
    regret = np.where(np.isnan(regret), np.inf, regret)
    regret = np.where(infeasible, np.inf, regret)
    # At the least λ̄ a gain is no failure: a larger λ̄ (also the wallet's multiplier) values
    # revenue more and may pass.
    for i in np.flatnonzero(least & ~(regret <= tol) & ~infeasible if least is not None
                            else []):
        inconclusive[i] = True
        reasons[i] = ("no first-order condition pins its wallet multiplier λ̄ down (constant "
                      "returns at zero profit, buying nothing for itself); at the least λ̄ that "
                      f"leaves every first purchase unmade ({lam_bar[i]:.6g}) it does not pass, "
                      "and a larger one is not tried")
    inconclusive &= ~infeasible
    passed = (regret <= tol) & ~inconclusive & ~infeasible
    offers = b.q if producers else np.zeros_like(b.x)
    dev = Deviation(b.x.copy(), offers.copy(), b.paid.copy(), b.K.copy())
    return Verdict(bound, U, regret, gain, passed, inconclusive, tuple(reasons), infeasible,
                   b.lam, b.nu, dev)


def deviations(economy: Economy, profile: Profile, *, atol: float = 1e-8, rtol: float = 1e-8,
               settle: bool = True) -> tuple[RoleDeviations, RoleDeviations]:
    """Every type's best unilateral deviation from ``profile`` in the game (others' totals
    fixed): ``(consumers, producers)``, each with the dual's maximiser and the certificate's
    bound and regret (for best-response dynamics). Without ``settle``, the dual's bound as it
    is, without the branches that tighten it (the maximiser is the same)."""
    from emgame.market.game import evaluate, others_totals

    out = evaluate(economy, profile)
    if out.others is None:
        out = Outcome(out.bids_total, out.offers_total, out.prices, out.active, out.consumers,
                      out.producers, others_totals(economy, profile))
    cons, prod = verdicts(economy, profile, out, price_taking=False, atol=atol, rtol=rtol,
                          settle=settle)
    return tuple(RoleDeviations(v.maximiser, v.bound, v.objective, v.regret)  # type: ignore
                 for v in (cons, prod))


def forced_bound(economy: Economy, profile: Profile, role: str, i: int, force: np.ndarray, *,
                 outcome: Outcome | None = None, price_taking: bool = False,
                 atol: float = 1e-8, rtol: float = 1e-8) -> float:
    """The certificate's bound on what one agent of type ``i`` of ``role`` can reach with its
    payments forced (``force (T+1,)``: -1 free, 0 not paying, 1 paying on each post), in
    objective units: the dual, refined by branches over the free payments until it is within
    the pass mark of the payoff now or they are settled."""
    from emgame.market.game import evaluate, others_totals

    if outcome is None:
        outcome = evaluate(economy, profile)
    if not price_taking and outcome.others is None:
        outcome = Outcome(outcome.bids_total, outcome.offers_total, outcome.prices,
                          outcome.active, outcome.consumers, outcome.producers,
                          others_totals(economy, profile))
    producers = role == "producers"
    if producers:
        lam_bar, nu_bar = producer_multipliers(economy, profile, outcome, price_taking)
    else:
        lam_bar = consumer_multipliers(economy, profile, outcome, price_taking)
        nu_bar = np.full(len(lam_bar), np.nan)
    ag = agent(economy, outcome, producers=producers, price_taking=price_taking,
               lam_bar=np.where(np.isnan(lam_bar), 0.0, lam_bar), nu_bar=nu_bar)
    U = ag.U[i]
    target = U + max(atol, rtol * abs(U)) if np.isfinite(U) else -np.inf
    se = ag.search(np.full(len(ag), target))
    se.force[i] = force
    b = ag.bounds(se, np.array([i]))
    bound = float(ag.take(np.array([i])).to_objective(b.D)[0])
    if bound > target:
        bound = min(bound, refine(ag, i, target, force).bound)
    return bound
