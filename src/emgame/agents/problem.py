"""One agent's problem against fixed others: its best deviation and a bound on what it is worth.

For one agent of each type, facing the others' totals ``(B_-, Q_-)`` (or, for a price taker,
fixed prices), :func:`best_deviation` returns

* ``bound``: an upper bound on the best objective the agent can reach by changing its whole
  strategy (bids on every post, offers, capacity, participation), from the Lagrangian dual
  ``min D(λ, ν)`` (weak duality: valid whether or not the problem is convex);
* the maximiser of the Lagrangian at the least ``D`` found: the best response in convex cases.

The objective is expected utility ``u`` under simultaneous settlement, and ``u + θ_R R`` with
the wallet as budget under prepaid settlement (MODEL.md section 5, ``θ_R = βλ̄``).

Utilities that are separable across posts (every family, except CES with several states or
under prepaid settlement) are bounded exactly in their separable form ``V`` (for CES,
``u = (rV)^{1/r}``). The others are bounded through the supergradient of ``u`` at a reference
point, ``u(E) <= u(E*) + ∇u(E*)·(E - E*)``, which keeps the bound valid but first-order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgame.agents._dual import consumer_bounds, producer_bounds
from emgame.agents.arrays import Kernel, Types
from emgame.market.game import Outcome, Play, Profile, evaluate, others_totals
from emgame.market.utility import CES, goods_marginal_utility, marginal_utility
from emgame.model.economy import Economy, Population


@dataclass(frozen=True, eq=False)
class Deviation:
    """Best deviation of one agent of each type; arrays over types first.

    ``bound`` bounds the objective from above; ``lam``/``nu`` are the dual multipliers at which
    it was reached; ``received (n, T+1)`` (goods first: goods bought), ``offers (n, T+1)``
    (post 0 unused), ``paid (n, T+1)`` and ``capacity`` describe the Lagrangian maximiser.
    """

    bound: np.ndarray
    lam: np.ndarray
    nu: np.ndarray
    received: np.ndarray
    offers: np.ndarray
    paid: np.ndarray
    capacity: np.ndarray
    linear: np.ndarray


def _linear_mode(economy: Economy, pop: Population) -> np.ndarray:
    """Types whose utility is not separable across posts in the dual's form."""
    return (pop.family == CES) & ((economy.S > 1) | economy.market.prepaid)


def best_deviation(economy: Economy, pop: Population, reference: Play, *, producers: bool,
                   B_minus: np.ndarray | None = None, Q_minus: np.ndarray | None = None,
                   prices: np.ndarray | None = None, revenue_value: np.ndarray | None = None,
                   wallet: np.ndarray | None = None, lam0: np.ndarray | None = None,
                   nu0: np.ndarray | None = None, offers: np.ndarray | None = None,
                   capacity: np.ndarray | None = None,
                   target: np.ndarray | None = None, force: np.ndarray | None = None,
                   branch: bool = True) -> Deviation:
    """Bound the best deviation of one agent of each type of ``pop``.

    Parameters
    ----------
    reference : Play
        What the agent gets now (hints for the searches; the expansion point in linear mode).
    B_minus, Q_minus : (n, T+1)
        Others' totals; ``Q_minus[:, 0]`` is the goods offered by others. ``None`` with
        ``prices`` given means price taking.
    revenue_value : (n,)
        ``θ_R = βλ̄`` under prepaid settlement (``None``: simultaneous, ``θ_R = λ``).
    wallet : (n,)
        The budget under prepaid settlement (stationary: the reference revenue).
    lam0, nu0 : (n,)
        Where to start the search over multipliers (any positive values are valid).
    target : (n,)
        Stop improving a type's bound once it is at or below this (in the objective's units).
    force : (n, T+1) int8
        Participation forced per post: -1 free, 0 no payment, 1 payment.
    branch : bool
        Where the dual leaves a gap above ``target`` because paying on some post is a
        discrete choice, branch on those posts (:func:`_branch`).
    """
    n = len(pop)
    T = economy.periods
    k = Kernel.of(economy)
    ty = Types.of(pop)
    call = dict(producers=producers, B_minus=B_minus, Q_minus=Q_minus, prices=prices,
                revenue_value=revenue_value, wallet=wallet, offers=offers, capacity=capacity)
    force = (np.full((n, T + 1), -1, dtype=np.int8) if force is None
             else np.ascontiguousarray(force, dtype=np.int8))
    simult = revenue_value is None
    pt = B_minus is None
    if pt:
        assert prices is not None
        B_minus = np.zeros((n, T + 1))
        Q_minus = np.ones((n, T + 1))
    p = np.zeros(T + 1) if prices is None else np.where(np.isfinite(prices), prices, 0.0)
    thR = np.zeros(n) if simult else np.ascontiguousarray(revenue_value, dtype=np.float64)
    income = np.zeros(n) if simult else np.ascontiguousarray(wallet, dtype=np.float64)
    lin = _linear_mode(economy, pop)
    # Linear mode: w[s, t] = π_s ∂u/∂E_st at the reference, w0 = ∂u/∂x0; the constant is added
    # back in `_to_objective`.
    S = economy.S
    w = np.zeros((n, S, T))
    w0 = np.zeros(n)
    if np.any(lin):
        mu = marginal_utility(pop, reference.consumption, np.maximum(reference.goods, 0.0))
        w = np.where(lin[:, None, None], mu * economy.probabilities[None, :, None], 0.0)
        w0 = np.where(lin, goods_marginal_utility(pop, reference.consumption,
                                                  np.maximum(reference.goods, 0.0),
                                                  economy.probabilities), 0.0)
    w = np.ascontiguousarray(w)
    xhint = np.zeros((n, T + 1))
    xhint[:, 1:] = reference.electricity
    xhint[:, 0] = reference.goods_received
    lam0 = np.ones(n) if lam0 is None else np.where(np.isfinite(lam0) & (lam0 > 0), lam0, 1.0)
    target = np.full(n, -np.inf) if target is None else target
    dual_target = _to_dual(economy, pop, reference, lin, target)
    D = np.zeros(n)
    lam = np.zeros(n)
    paid = np.zeros((n, T + 1), dtype=bool)
    xo = np.zeros((n, T + 1))
    if not producers:
        Qo = Q_minus.copy()
        Qo[:, 0] = k.Omega  # the goods post's supply includes the consumer's own endowment
        consumer_bounds(np.ascontiguousarray(lam0), dual_target, simult, thR, ty.a, ty.a0, ty.ge,
                        ty.gg, ty.omega, k.Omega, k.pi, k.kappa, k.v, k.t0,
                        np.ascontiguousarray(B_minus), np.ascontiguousarray(Qo), pt, p, income,
                        np.ascontiguousarray(lin), w, w0, xhint, force, D, lam, xo, paid)
        nu = np.zeros(n)
        qo = np.zeros((n, T + 1))
        K = np.zeros(n)
    else:
        nu0 = np.maximum(lam0 * max(p[0], 1e-300), 1e-300) if nu0 is None else nu0
        nu0 = np.where(np.isfinite(nu0) & (nu0 > 0), nu0, 1.0)
        qhint = np.zeros((n, T + 1))
        if offers is not None:
            qhint[:, 1:] = offers
        K_fixed = ty.Kbar if not k.long_run else np.full(n, np.nan)
        # Nobody can produce more than all goods allow: φ(q) <= Ω.
        Khi = ty.theta * k.Omega ** ty.c
        if capacity is not None:
            Khi = np.maximum(Khi, capacity)
        concave = (ty.c <= 1.0) & simult
        nu = np.zeros(n)
        K = np.zeros(n)
        qo = np.zeros((n, T + 1))
        producer_bounds(np.ascontiguousarray(lam0), np.ascontiguousarray(nu0, dtype=np.float64),
                        dual_target, simult, thR, np.ascontiguousarray(K_fixed),
                        np.ascontiguousarray(Khi), ty.rho, ty.theta, ty.c, ty.classic, ty.a,
                        ty.a0, ty.ge, ty.gg, k.pi, k.kappa, k.v, k.t0,
                        np.ascontiguousarray(B_minus), np.ascontiguousarray(Q_minus), k.Omega, pt,
                        p, income, np.ascontiguousarray(lin), w, w0,
                        np.ascontiguousarray(concave), qhint, xhint, force, D, lam, nu, K, xo, qo,
                        paid)
    bound = _to_objective(economy, pop, reference, lin, D)
    dev = Deviation(bound=bound, lam=lam, nu=nu, received=xo, offers=qo, paid=paid,
                    capacity=K, linear=lin)
    if branch:
        gap = np.flatnonzero(bound > target)
        if gap.size and np.any(economy.fixed_costs > 0):
            dev = _branch(economy, pop, reference, call, dev, gap, target, force)
    return dev


def _rows(x, idx):
    return None if x is None else x[idx]


def _take_play(play: Play, idx: np.ndarray) -> Play:
    return play.take(idx)


def _branch(economy: Economy, pop: Population, reference: Play, call: dict, dev: Deviation,
            types: np.ndarray, target: np.ndarray, force: np.ndarray, depth: int = 0,
            max_switching: int = 10) -> Deviation:
    """Tighten the bound where the dual has a gap (MODEL.md section 5: participation).

    At the dual's best multiplier a post whose payment decision flips between slightly lower
    and slightly higher ``λ`` is *switching*: the relaxation may pay on it "in part". Every
    assignment of the switching posts (paid or not) is a branch whose own dual bound holds for
    the strategies in it; the type's bound is the largest over branches, and a branch's
    maximiser is a best response candidate. Branches below ``target`` are pruned; at most
    ``max_switching`` posts are branched on (beyond that the plain bound stands).
    """
    fields = {f: getattr(dev, f).copy() for f in dev.__dataclass_fields__}
    T = economy.periods
    for i in types:
        idx = np.array([i])
        sub = pop.select(idx)
        ref = _take_play(reference, idx)
        kw = {k: _rows(v, idx) for k, v in call.items() if k not in ("producers", "prices")}
        kw["prices"] = call["prices"]

        # The payment decisions just below and just above the dual's best λ.
        near = [best_deviation(economy, sub, ref, producers=call["producers"],
                               lam0=np.array([dev.lam[i] * scale]),
                               nu0=np.array([dev.nu[i]]) if call["producers"] else None,
                               target=np.array([np.inf]), force=force[i][None, :],
                               branch=False, **kw)
                for scale in (1.0 - 1e-7, 1.0 + 1e-7)]
        lo, hi = near
        switching = np.flatnonzero((lo.paid[0] != hi.paid[0]) & (force[i] < 0))
        if switching.size == 0 or switching.size > max_switching:
            continue
        best_bound = -np.inf
        best_leaf = None
        for code in range(2 ** switching.size):
            leaf = force[i].copy()
            for b, t in enumerate(switching):
                leaf[t] = (code >> b) & 1
            d = best_deviation(economy, sub, ref, producers=call["producers"],
                               lam0=np.array([dev.lam[i]]),
                               nu0=np.array([dev.nu[i]]) if call["producers"] else None,
                               target=target[idx], force=leaf[None, :],
                               branch=depth < 2, **kw)
            if d.bound[0] > best_bound:
                best_bound = float(d.bound[0])
                best_leaf = d
        if best_leaf is not None and best_bound < fields["bound"][i]:
            for f in fields:
                fields[f][i] = getattr(best_leaf, f)[0]
    del T
    return Deviation(**fields)


def _linear_constant(economy: Economy, pop: Population, reference: Play) -> np.ndarray:
    """``u(E*) - ∇u(E*)·E* - u_0(x0*) x0*`` at the reference (linear mode)."""
    mu = marginal_utility(pop, reference.consumption, np.maximum(reference.goods, 0.0))
    w = mu * economy.probabilities[None, :, None]
    m0 = goods_marginal_utility(pop, reference.consumption, np.maximum(reference.goods, 0.0),
                                economy.probabilities)
    from emgame.market.utility import utility

    u = utility(pop, reference.consumption, np.maximum(reference.goods, 0.0),
                economy.probabilities)
    return u - (w * reference.consumption).sum(axis=(1, 2)) - m0 * np.maximum(reference.goods, 0.0)


def _ces_exact(economy: Economy, pop: Population, lin: np.ndarray) -> np.ndarray:
    return (pop.family == CES) & ~lin


def _to_objective(economy: Economy, pop: Population, reference: Play, lin: np.ndarray,
                  D: np.ndarray) -> np.ndarray:
    """Dual values in the objective's units (``u``, or ``u + θ_R R``)."""
    out = D.copy()
    ces = _ces_exact(economy, pop, lin)
    if np.any(ces):
        r = pop.r
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            base = r * D
            u = np.where(base > 0, np.abs(base) ** (1.0 / np.where(ces, r, 1.0)), np.inf)
        out = np.where(ces, u, out)
    if np.any(lin):
        out = np.where(lin, D + _linear_constant(economy, pop, reference), out)
    return out


def _to_dual(economy: Economy, pop: Population, reference: Play, lin: np.ndarray,
             target: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_to_objective`, for early stopping."""
    out = np.array(target, dtype=np.float64)
    ces = _ces_exact(economy, pop, lin)
    if np.any(ces):
        r = pop.r
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            v = np.where(target > 0, np.abs(target) ** np.where(ces, r, 1.0) / r, -np.inf)
        out = np.where(ces, v, out)
    if np.any(lin):
        out = np.where(lin, target - _linear_constant(economy, pop, reference), out)
    return np.ascontiguousarray(np.where(np.isnan(out), -np.inf, out))


@dataclass(frozen=True, eq=False)
class RoleDeviations:
    """One role's deviations at a profile: the bound, the objective now, and ``regret``."""

    deviation: Deviation
    objective: np.ndarray
    regret: np.ndarray
    hopeless: np.ndarray
    overspent: np.ndarray


def tolerance(U: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """``max(atol, rtol·|U|)`` (MODEL.md section 6)."""
    return np.maximum(atol, rtol * np.abs(np.where(np.isfinite(U), U, 0.0)))


def deviations(economy: Economy, profile: Profile, *, budget_multipliers: tuple | None = None,
               outcome: Outcome | None = None, atol: float = 1e-8, rtol: float = 1e-8,
               price_taking: bool = False) -> tuple[RoleDeviations, RoleDeviations]:
    """Bound every type's best unilateral deviation from ``profile``: ``(consumers, producers)``.

    ``budget_multipliers = (λ_consumers, λ_producers, ν_producers)`` (a solver's) choose where
    the searches start, except under prepaid settlement, where each type's own wallet
    multiplier ``λ̄`` is part of its objective ``u + βλ̄R`` (MODEL.md section 5). A type's
    search stops once its bound is within tolerance of what it gets now (it cannot gain).
    """
    out = outcome or evaluate(economy, profile)
    m = economy.market
    beta = m.discount if m.prepaid else 1.0
    totals = ((None,) * 4 if price_taking else
              out.others if out.others is not None else others_totals(economy, profile))
    result = []
    for pop, play, producer in ((economy.consumers, out.consumers, False),
                                (economy.producers, out.producers, True)):
        lam = nu = None
        if budget_multipliers is not None:
            lam = budget_multipliers[1] if producer else budget_multipliers[0]
            nu = budget_multipliers[2] if producer else None
        U = play.utility.copy()
        revenue_value = wallet = None
        if m.prepaid:
            if lam is None:
                raise ValueError("prepaid settlement: bounding a deviation needs each type's "
                                 "wallet multiplier λ̄ (its objective is u + βλ̄R)")
            revenue_value = beta * lam
            wallet = np.where(np.isnan(pop.wallet), play.revenue, pop.wallet)
            with np.errstate(invalid="ignore"):  # λ = inf for a type with no income
                U = U + revenue_value * play.revenue
        B_minus, Q_minus = (totals[2], totals[3]) if producer else (totals[0], totals[1])
        if len(pop) == 0:
            dev = Deviation(*(np.zeros(0),) * 3, np.zeros((0, economy.periods + 1)),
                            np.zeros((0, economy.periods + 1)),
                            np.zeros((0, economy.periods + 1), dtype=bool), np.zeros(0),
                            np.zeros(0, dtype=bool))
        else:
            dev = best_deviation(
                economy, pop, play, producers=producer, B_minus=B_minus, Q_minus=Q_minus,
                prices=out.prices if price_taking else None, revenue_value=revenue_value,
                wallet=wallet, lam0=lam, nu0=nu,
                offers=profile.offers if producer else None,
                capacity=profile.capacity if producer else None,
                target=U + tolerance(U, atol, rtol))
        with np.errstate(invalid="ignore"):
            regret = np.where(np.isfinite(U), dev.bound - U, np.inf)
            regret = np.where(np.isnan(regret), np.inf, regret)
        # Utility -inf at every deviation (no income to buy what it values): nothing to gain.
        hopeless = np.isneginf(dev.bound)
        if producer and price_taking and not np.any(np.isfinite(pop.wallet)):
            # A price taker with constant returns at prices equal to its costs earns nothing
            # whatever it produces (MODEL.md §6): its dual bound then only falls to -inf as
            # λ -> inf, where rounding swamps it, so the zero profit is checked directly.
            hopeless |= np.isneginf(U) & _no_profit(economy, pop, out.prices)
        regret = np.where(hopeless, 0.0, regret)
        # A profile that breaks a budget is no candidate at all, whatever the bound says.
        scale = np.maximum(np.abs(play.spending), np.abs(play.revenue))
        overspent = play.slack < -1e-9 * np.maximum(scale, 1e-300)
        regret = np.where(overspent, np.inf, regret)
        result.append(RoleDeviations(dev, U, regret, hopeless, overspent))
    return result[0], result[1]


def _no_profit(economy: Economy, pop: Population, prices: np.ndarray) -> np.ndarray:
    """Constant-returns price takers whose best production plan earns nothing at ``prices``
    (to ``PRICE_TOL``): every margin ``βp^t - p^0/θ`` is at most zero and, in the long run, the
    rents do not exceed the capacity cost ``ρ p^0``."""
    from emgame.agents._kernels import PRICE_TOL

    m = economy.market
    beta = m.discount if m.prepaid else 1.0
    p = np.where(np.isfinite(prices), prices, 0.0)
    theta = pop.productivity[:, None]
    margin = beta * p[None, 1:] - p[0] / theta
    margin = np.where(np.abs(margin) <= PRICE_TOL * beta * p[None, 1:], 0.0, margin)
    if m.long_run:
        rent = np.maximum(margin, 0.0).sum(axis=1)
        cost = np.nan_to_num(pop.capacity_cost) * p[0]
        ok = rent <= cost * (1 + PRICE_TOL)
    else:
        ok = np.all(margin <= 0.0, axis=1)
    return (pop.returns == 1.0) & ok
