"""Budget (wallet) and goods multipliers recovered from a profile's first-order conditions.

Under prepaid settlement an agent values its revenue at ``βλ̄``, ``λ̄`` the multiplier of its own
wallet (docs/model.md, The crypto layer), so the objective the certificate bounds, ``u + βλ̄R``,
needs ``λ̄``.
It is recovered here from the profile and its market outcome alone, as the paper's conditions
(10)–(14) define it (:mod:`emgame.analysis.foc` reports their residuals with the same fit):
every condition that holds with equality — a positive bid, an offer strictly inside
``(0, K)`` — is a linear equation in ``(λ, ν)``, and they are solved by least squares with each
equation scaled by its largest term. Marginal utilities come from
:func:`emgame.market.utility.marginal_utility` (the reference definitions).
"""

from __future__ import annotations

import numpy as np

from emgame.market.game import Outcome, Profile, others_totals
from emgame.market.utility import goods_marginal_utility, marginal_utility
from emgame.model.economy import Economy, Population

_AT_CAPACITY = 1e-9


def fit_multipliers(rows: list[tuple], two: bool) -> tuple[float, float]:
    """Least squares for ``(λ, ν)`` from rows ``(aλ, aν, c, ...)`` meaning ``aλ λ + aν ν = c``;
    each row scaled by its largest term at the current estimate (iteratively reweighted).
    ``(nan, nan)`` with fewer rows than unknowns."""
    rows = [r for r in rows if np.all(np.isfinite(r))]
    if len(rows) < (2 if two else 1):
        return float("nan"), float("nan")
    A = np.array([[r[0], r[1]] for r in rows], dtype=float)
    c = np.array([r[2] for r in rows], dtype=float)
    if not two:
        A = A[:, :1]
    # Start: each row that involves λ alone gives an estimate; take their median.
    lam0 = [ci / ai[0] for ai, ci in zip(A, c, strict=True)
            if ai[0] != 0 and (not two or ai[1] == 0) and ci / ai[0] > 0]
    z = np.ones(A.shape[1])
    if lam0:
        z[0] = float(np.median(lam0))
    if two:
        nu0 = [(ci - ai[0] * z[0]) / ai[1] for ai, ci in zip(A, c, strict=True) if ai[1] != 0]
        nu0 = [x for x in nu0 if x > 0]
        if nu0:
            z[1] = float(np.median(nu0))
    for _ in range(8):
        scale = np.maximum(np.abs(c), np.abs(A * z[None, :]).max(axis=1))
        scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
        try:
            z_new, *_ = np.linalg.lstsq(A / scale[:, None], c / scale, rcond=None)
        except np.linalg.LinAlgError:
            break
        if np.allclose(z_new, z, rtol=1e-15, atol=0.0):
            z = z_new
            break
        z = z_new
    return float(z[0]), float(z[1]) if two else float("nan")


def _expected(economy: Economy, pop: Population, play) -> tuple[np.ndarray, np.ndarray]:
    """``u_t = Σ_s π_s (1-κ_s) ∂u/∂E_s^t`` (electricity received) and ``u_0 = ∂Eu/∂x^0``."""
    pi = economy.probabilities
    goods = np.maximum(play.goods, 0.0)
    mE = marginal_utility(pop, play.consumption, goods)
    with np.errstate(invalid="ignore"):
        ut = np.einsum("s,nst->nt", pi * (1.0 - economy.shares), mE)
    return ut, goods_marginal_utility(pop, play.consumption, goods, pi)


def _consumes(play) -> np.ndarray:
    """``(n, T)``: the type consumes electricity in period ``t`` in every state."""
    return np.all(play.consumption > 0, axis=1)


def consumer_multipliers(economy: Economy, profile: Profile, outcome: Outcome,
                         price_taking: bool) -> np.ndarray:
    """Each consumer type's budget multiplier ``λ`` from (10)–(11) (NaN where no bid is
    positive)."""
    pop = economy.consumers
    n = len(pop)
    if n == 0:
        return np.zeros(0)
    T = economy.periods
    m = economy.market
    beta = float(m.discount) if m.prepaid else 1.0
    ut, u0 = _expected(economy, pop, outcome.consumers)
    U = np.concatenate([u0[:, None], ut], axis=1)
    bids = profile.consumer_bids
    Omega = economy.goods_supply
    coef = np.ones((n, T + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        if price_taking:
            dx = np.broadcast_to(1.0 / outcome.prices, (n, T + 1))
        else:
            Bm, Qm = others_totals(economy, profile)[:2]
            Q = Qm.copy()
            Q[:, 0] = Omega
            dx = Q * Bm / (Bm + bids) ** 2
            coef[:, 0] = 1.0 - beta * pop.endowment / Omega
        A = np.where(U > 0, U * dx, 0.0)
    # A bid on a post whose electricity the agent does not value, or where it consumes
    # nothing in some state, buys verification only: there E >= 0 binds and its condition
    # carries that constraint's multiplier, so it says nothing about λ.
    ok = (bids > 0) & (U > 0) & np.isfinite(A) & np.isfinite(dx)
    ok[:, 1:] &= _consumes(outcome.consumers)
    return _fit_one(np.where(ok, coef, 0.0), np.where(ok, A, 0.0), ok)


def _fit_one(a: np.ndarray, c: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """:func:`fit_multipliers` with one unknown for every row of ``(n, k)`` arrays at once:
    ``a λ = c`` on the entries ``ok``; NaN where a row has none."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(ok & (a != 0) & (c / np.where(a != 0, a, 1.0) > 0),
                         c / np.where(a != 0, a, 1.0), np.nan)
        lam = np.nanmedian(np.where(np.isnan(ratio).all(axis=1, keepdims=True), 1.0, ratio),
                           axis=1)
        for _ in range(8):
            s = np.maximum(np.abs(c), np.abs(a * lam[:, None]))
            s = np.where(ok & (s > 0) & np.isfinite(s), s, 1.0)
            w = np.where(ok, 1.0 / (s * s), 0.0)
            den = (w * a * a).sum(axis=1)
            lam = np.where(den > 0, (w * a * c).sum(axis=1) / np.where(den > 0, den, 1.0),
                           np.nan)
    return np.where(ok.any(axis=1), lam, np.nan)


def producer_multipliers(economy: Economy, profile: Profile, outcome: Outcome,
                         price_taking: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each producer type's ``(λ, ν)`` from (12)–(14) (NaN where undetermined)."""
    pop = economy.producers
    n = len(pop)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    T = economy.periods
    m = economy.market
    beta = float(m.discount) if m.prepaid else 1.0
    play = outcome.producers
    ut, u0 = _expected(economy, pop, play)
    bids, q, K = profile.producer_bids, profile.offers, profile.capacity
    theta = pop.productivity[:, None]
    c_ret = pop.returns[:, None]
    Omega = economy.goods_supply
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dphi = np.where(q > 0, (1.0 / (c_ret * theta)) * (np.maximum(q, 1e-300) / theta)
                        ** (1.0 / c_ret - 1.0), np.where(c_ret < 1, 0.0, np.inf))
        dphi = np.where(c_ret == 1.0, 1.0 / theta, dphi)
        if price_taking:
            p = outcome.prices
            dx = np.broadcast_to(1.0 / p, (n, T + 1))
            H = np.zeros((n, T))
            G = np.broadcast_to(p[1:], (n, T))
            coef = np.ones((n, T))
            active = np.broadcast_to(outcome.active, (n, T + 1))
        else:
            Bm, Qm = others_totals(economy, profile)[2:]
            B = Bm + bids
            Q = Qm.copy()
            Q[:, 1:] += q
            Q[:, 0] = Omega
            active = (B > 0) & (Q > 0)
            dx = Q * Bm / B ** 2
            H = np.where(ut > 0, ut * bids[:, 1:] / B[:, 1:], 0.0)
            G = B[:, 1:] * Qm[:, 1:] / Q[:, 1:] ** 2
            coef = 1.0 - beta * q / Q[:, 1:]
        A = np.where(ut > 0, ut * dx[:, 1:], 0.0)
    consumes = _consumes(play)   # as for consumers: rows where E >= 0 binds are left out
    lam = np.full(n, np.nan)
    nu = np.full(n, np.nan)
    for j in range(n):
        corner = (not pop.classic[j]) or play.goods[j] <= 1e-12 * max(play.goods_received[j],
                                                                      1e-300)
        nu_known = float(u0[j])
        interior = ((q[j] > 0) & (q[j] < K[j] * pop.availability[j] * (1.0 - _AT_CAPACITY))
                    & active[j, 1:])
        rows = [(coef[j, t], 0.0, A[j, t]) for t in range(T)
                if bids[j, t + 1] > 0 and active[j, t + 1] and np.isfinite(A[j, t])
                and ut[j, t] > 0 and consumes[j, t]]
        if bids[j, 0] > 0 and np.isfinite(dx[j, 0]):
            rows.append((1.0, -dx[j, 0], 0.0) if corner else (1.0, 0.0, nu_known * dx[j, 0]))
        for t in np.flatnonzero(interior):
            rows.append((-beta * G[j, t], dphi[j, t], H[j, t]) if corner
                        else (-beta * G[j, t], 0.0, H[j, t] - dphi[j, t] * nu_known))
        if len(rows) >= (2 if corner else 1):
            lam[j], nu[j] = fit_multipliers(rows, corner)
        if not corner:
            nu[j] = nu_known
    return lam, nu


def least_wallet_multipliers(economy: Economy, profile: Profile, outcome: Outcome
                             ) -> np.ndarray:
    """Price-taking producers under prepaid settlement with ``β = 1`` whose ``λ̄`` no
    first-order condition pins down: constant returns at zero profit (their wallet, their
    revenue, spent whole on inputs, each bytecoin of which earns one back), buying nothing for
    themselves. Every ``λ̄`` at or above what a first purchase is worth per bytecoin,
    ``max_t u_t(0) (1-κ) / p^t`` over what they value (goods too, for a classic type), is then
    the multiplier of their wallet: the least such ``λ̄`` per type, NaN for other types and
    where it is infinite (an Inada utility: no finite ``λ̄`` leaves the first purchase unmade)
    or where a fixed verification cost makes a first purchase more than marginal."""
    pop = economy.producers
    n = len(pop)
    lam = np.full(n, np.nan)
    m = economy.market
    if n == 0 or not m.prepaid or m.discount != 1.0:
        return lam
    play = outcome.producers
    p = outcome.prices
    bids = profile.producer_bids
    ut, u0 = _expected(economy, pop, play)
    spent = bids.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        zero_profit = np.abs(play.revenue - spent) <= 1e-9 * np.maximum(play.revenue, 1e-300)
    free = ~np.any(economy.fixed_costs[:, 1:] > 0, axis=0)          # (T,)
    for j in range(n):
        if not (pop.returns[j] == 1.0 and zero_profit[j] and bids[j, 0] > 0
                and np.all(bids[j, 1:] == 0) and play.goods[j] <= 0
                and np.any(profile.offers[j] > 0)):
            continue
        valued = pop.weights[j] > 0
        if np.any(valued & ~free):
            continue
        worth = [ut[j, t] / p[t + 1] for t in np.flatnonzero(valued) if p[t + 1] > 0]
        if pop.classic[j] and pop.goods_weight[j] > 0:
            worth.append(u0[j] / p[0])
        top = max(worth, default=np.nan)
        if np.isfinite(top) and top > 0:
            lam[j] = top
    return lam
