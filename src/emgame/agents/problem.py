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
from emgame.market.game import Play
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
                   target: np.ndarray | None = None) -> Deviation:
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
    """
    n = len(pop)
    T = economy.periods
    k = Kernel.of(economy)
    ty = Types.of(pop)
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
                        np.ascontiguousarray(lin), w, w0, xhint, D, lam, xo, paid)
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
                        np.ascontiguousarray(concave), qhint, xhint, D, lam, nu, K, xo, qo, paid)
    bound = _to_objective(economy, pop, reference, lin, D)
    return Deviation(bound=bound, lam=lam, nu=nu, received=xo, offers=qo, paid=paid,
                     capacity=K, linear=lin)


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
