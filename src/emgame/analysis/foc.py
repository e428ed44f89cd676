"""Residuals of the paper's first-order conditions (10)–(17) at a solution (docs/model.md, Solution
concepts).

Everything here is computed from the strategy profile and its market outcome alone: the totals
an agent faces come from :func:`emgame.market.others_totals`, the marginal utilities from the
utility families' closed forms (written out below, independently of the market layer), and the
budget multiplier ``λ`` of every type is *recovered* from the conditions themselves. No number
the solver computed (its multipliers, its totals) is used, so a residual near zero is a genuine
check of the solution.

The conditions, for one agent of a type facing the others' totals ``B_-^t``, ``Q_-^t`` (all
posts ``t = 0..T``, ``Q^0 = Ω``), with ``B^t = B_-^t + b^t`` and ``Q^t = Q_-^t + q^t``:

Consumers (``h``)
    (10) ``u_t Q^t B_-^t/(B^t)^2 = λ``                     for ``t = 1..T``
    (11) ``u_0 Ω B_-^0/(B^0)^2 = λ (1 - β ω_h/Ω)``          (``β = 1``: ``λ Ω_-h/Ω``)
Producers (``j``)
    (12) ``u_t Q^t B_-^t/(B^t)^2 = λ (1 - β q^t/Q^t)``       (``β = 1``: ``λ Q_-^t/Q^t``)
    (13) ``ν Ω B_-^0/(B^0)^2 = λ``
    (14)/(15) ``u_t b^t/B^t - ν φ'(q^t) + β λ B^t Q_-^t/(Q^t)^2 - μ^t = 0``, derived with respect
         to ``q^t`` holding ``b^t`` fixed; ``φ'(q) = (1/(cθ)) (q/θ)^{(1-c)/c}`` is (15)'s form
    (16) ``μ^t (K - q^t) = 0``, ``μ^t >= 0``, ``q^t <= K``; in the long run also the condition
         for the chosen capacity, ``Σ_t μ^t = ρ ν`` (reported under ``"(K)"``)
    (17) ``q^t = θ (φ^t)^c``, with the goods identity (8) ``x^0 = b^0 Ω/B^0 - Σ_t φ^t - ρK``
    ``x^0 >= 0``: for ``ai`` producers (goods not valued) ``ν`` is the multiplier of this
         constraint, so ``ν > 0`` requires ``x^0 = 0`` (reported under ``"x0"``).

``u_t = ∂Eu/∂x^t = Σ_s π_s (1 - κ_s) ∂u/∂E_s^t`` is the expected marginal utility of
electricity *received* on post ``t``: consumption is ``E_s^t = x^t - V_s^t`` and the share
``κ_s`` of what is received is burnt by verification (docs/model.md, The crypto layer; the fixed
part ``v``
does not vary with the bid, it only makes the zero bid a separate, participation, choice).
``u_0 = ∂Eu/∂x^0``; ``ν = u_0`` for a ``classic`` producer with ``x^0 > 0``, else it is the
unknown multiplier of ``x^0 >= 0``.

``β = 1`` under simultaneous settlement (the paper's equations). Under prepaid settlement the
agent maximises ``u + βλR`` within its wallet (docs/model.md, The crypto layer), which gives the
forms above
with the market's ``β``; with ``β = 1`` they are the paper's. For a competitive solution
(price takers) the same conditions are reported in their price-taking form: ``∂x^t/∂b^t =
1/p^t``, ``λ``'s coefficients are 1, and (14) reads ``-ν φ'(q^t) + β λ p^t - μ^t = 0``.

Recovering the multipliers
    The unknowns of a type are ``λ`` (and ``ν`` for ``ai`` producers or a producer at
    ``x^0 = 0``). Every condition that must hold with equality (bids that are positive, offers
    strictly inside ``(0, K)``) is a linear equation in them; they are found by least squares
    in which each equation is scaled by the size of its largest term (iteratively reweighted),
    so every equation beyond the number of unknowns is a check (the fit is
    :func:`emgame.agents.multipliers.fit_multipliers`, which the certificate shares). A type
    with as many equations as unknowns (e.g. an ``ai`` consumer in one period) has those residuals
    zero by construction.

Residuals
    Relative: an equation's residual divided by its largest term. Per type and equation the
    largest over posts is reported. Zero bids are checked as inequalities (marginal value of
    the first bytecoin ``<=`` its cost; a positive excess is the residual), except on posts with
    a fixed verification cost, where bidding zero is a participation choice and no local
    condition applies (``None``). Offers at capacity give the implied ``μ^t = max(g^t, 0)``
    (``g^t`` the left side of (14) without ``μ``) and the residual ``max(-g^t, 0)``; zero offers
    the residual ``max(g^t, 0)``. ``"budget"`` is the budget's relative slack (``λ > 0`` makes
    it bind). ``None`` marks an equation that does not apply to the type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from emgame.agents.multipliers import fit_multipliers as _fit
from emgame.market.game import Outcome, Profile, evaluate, others_totals
from emgame.model.economy import FAMILIES, Economy, Population

if TYPE_CHECKING:
    from emgame.results import Solution

EQUATIONS: tuple[str, ...] = ("(10)", "(11)", "(12)", "(13)", "(14)/(15)", "(16)", "(17)")
"""The paper's equation numbers, the keys of every type's residuals."""

_CD, _CRRA, _CES, _QL = (FAMILIES.index(f) for f in FAMILIES)
_TINY = 1e-300
_AT_CAPACITY = 1e-9  # q >= K (1 - this) counts as at capacity


# --------------------------------------------------------------------------------------------
# Marginal utilities, from the families' definitions (docs/model.md, Agents).
# --------------------------------------------------------------------------------------------


def marginal_utilities(pop: Population, E: np.ndarray, x0: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``(∂u/∂E_s^t, ∂u/∂x^0)`` per state: shapes ``(n, S, T)`` and ``(n, S)``.

    ``x0`` is goods consumed, ``(n,)``. An unvalued good has marginal utility 0 (also at zero
    consumption); a valued one at zero consumption ``+inf`` (all families but the linear goods
    term of ``quasilinear``).
    """
    n, S, T = E.shape
    a = pop.weights[:, None, :]
    a0 = np.where(pop.classic, pop.goods_weight, 0.0)[:, None]
    fam = pop.family[:, None]
    X0 = np.broadcast_to(np.asarray(x0, dtype=float)[:, None], (n, S))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        gamma = np.where(fam == _CRRA, pop.gamma[:, None], 1.0)          # CD, quasilinear: 1
        r = np.where(fam == _CES, pop.r[:, None], 1.0)
        # Power terms a y^{-γ}: Cobb–Douglas and quasilinear electricity γ = 1, CRRA γ.
        el = np.where(a > 0, a * _pow(E, -gamma[:, :, None]), 0.0)
        goods = np.where(a0 > 0, a0 * _pow(X0, -gamma), 0.0)
        goods = np.where(fam == _QL, a0, goods)
        # CES: u = (Σ a E^r + a0 x0^r)^{1/r}, ∂u/∂y = a y^{r-1} u^{1-r}.
        base = (np.where(a > 0, a * _pow(E, r[:, :, None]), 0.0).sum(axis=2)
                + np.where(a0 > 0, a0 * _pow(X0, r), 0.0))
        u_ces = _pow(base, 1.0 / r)
        scale = _pow(u_ces, 1.0 - r)
        ces_el = np.where(a > 0, a * _pow(E, r[:, :, None] - 1.0) * scale[:, :, None], 0.0)
        ces_goods = np.where(a0 > 0, a0 * _pow(X0, r - 1.0) * scale, 0.0)
    ces = fam == _CES
    return np.where(ces[:, :, None], ces_el, el), np.where(ces, ces_goods, goods)


def _pow(y: np.ndarray, e: np.ndarray | float) -> np.ndarray:
    """``y^e`` for ``y >= 0`` with ``0^e = inf`` for ``e < 0`` and ``0`` for ``e > 0``."""
    y = np.maximum(np.asarray(y, dtype=float), 0.0)
    e = np.broadcast_to(e, y.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(y > 0, np.where(y > 0, y, 1.0) ** e, np.where(e < 0, np.inf, 0.0))
    return np.where(e == 0, 1.0, out)


# --------------------------------------------------------------------------------------------
# Results.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TypeResiduals:
    """The FOC residuals of one type (one agent of it).

    ``residuals`` maps every key of :data:`EQUATIONS` (plus ``"x0"``, ``"budget"`` and, for
    long-run producers, ``"(K)"``) to the largest relative residual over posts, ``None`` where
    the equation does not apply. ``by_post`` holds the per-post residuals (NaN where a post's
    condition does not apply). ``lam``, ``nu`` and ``mu`` are the recovered multipliers.
    """

    role: str
    name: str
    kind: str
    lam: float
    nu: float | None
    mu: np.ndarray | None
    residuals: dict[str, float | None]
    by_post: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def max(self) -> float:
        vals = [v for v in self.residuals.values() if v is not None]
        return float(max(vals)) if vals else 0.0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "lambda": _num(self.lam)}
        if self.role == "producers":
            d["nu"] = _num(self.nu)
            d["mu"] = None if self.mu is None else [_num(m) for m in self.mu]
        d.update({k: _num(v) for k, v in self.residuals.items()})
        d["max"] = _num(self.max)
        # JSON has no infinity: an infinite residual is null above and named here.
        d["unbounded"] = [k for k, v in self.residuals.items() if v is not None
                          and math.isinf(v)]
        return d


@dataclass(frozen=True, eq=False)
class FocResiduals:
    """FOC residuals of every type of a solution (see the module notes)."""

    concept: str
    consumers: tuple[TypeResiduals, ...]
    producers: tuple[TypeResiduals, ...]
    notes: tuple[str, ...] = ()

    @property
    def max(self) -> float:
        """The largest residual over types and equations (NaN-free; ``inf`` if unbounded)."""
        vals = [t.max for t in self.consumers + self.producers]
        return float(max(vals)) if vals else 0.0

    def by_equation(self) -> dict[str, float | None]:
        """The largest residual of each equation over all types."""
        out: dict[str, float | None] = {}
        for t in self.consumers + self.producers:
            for k, v in t.residuals.items():
                if v is None:
                    out.setdefault(k, None)
                else:
                    prev = out.get(k)
                    out[k] = v if prev is None else max(prev, v)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "concept": self.concept,
            "max": _num(self.max),
            "by_equation": {k: _num(v) for k, v in self.by_equation().items()},
            "consumers": [t.to_dict() for t in self.consumers],
            "producers": [t.to_dict() for t in self.producers],
            "notes": list(self.notes),
        }


def _num(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


# --------------------------------------------------------------------------------------------
# The computation.
# --------------------------------------------------------------------------------------------


def foc_check(economy: Economy, profile: Profile, outcome: Outcome | None = None, *,
              price_taking: bool = False) -> FocResiduals:
    """FOC residuals of ``profile`` (and its ``outcome``; computed by the market if omitted).

    ``price_taking`` selects the competitive form of the conditions; then ``outcome`` must be
    the price-taking outcome (``evaluate(economy, profile, prices)``).
    """
    if outcome is None:
        if price_taking:
            raise ValueError("price-taking residuals need the outcome at the benchmark's prices")
        outcome = evaluate(economy, profile)
    m = economy.market
    beta = float(m.discount) if m.prepaid else 1.0
    v = economy.fixed_costs
    # Posts on which a zero bid is a participation choice (a fixed verification cost: the
    # payoff jumps at b = 0). A goods payment is verified in period t0, with v^0.
    fixed_post = (v > 0).any(axis=0)
    if price_taking:
        totals = None
    else:
        totals = others_totals(economy, profile)
    notes = []
    consumers = _consumers(economy, profile, outcome, totals, price_taking, beta, fixed_post)
    producers = _producers(economy, profile, outcome, totals, price_taking, beta, fixed_post)
    if np.any(fixed_post):
        notes.append("zero bids on posts with a fixed verification cost are participation "
                     "choices: no local condition is reported for them")
    return FocResiduals("competitive" if price_taking else "nash", consumers, producers,
                        tuple(notes))


def foc_of(solution: Solution) -> FocResiduals | None:
    """The FOC residuals of a :class:`~emgame.results.Solution`; ``None`` without a profile."""
    if solution.profile is None or solution.outcome is None:
        return None
    return foc_check(solution.economy, solution.profile, solution.outcome,
                     price_taking=solution.concept == "competitive")


def foc_residuals(solution: Solution) -> dict[str, Any] | None:
    """The JSON form (the ``"foc_residuals"`` key of ``emgame solve --json``), or ``None``."""
    r = foc_of(solution)
    return None if r is None else r.to_dict()


def _expected_marginals(economy: Economy, pop: Population, play) -> tuple[np.ndarray, ...]:
    """``(u_t (n, T), u_0 (n,))``: expected marginal utility of electricity received and of
    goods consumed."""
    pi = economy.probabilities
    kappa = economy.shares
    mE, m0 = marginal_utilities(pop, play.consumption, np.maximum(play.goods, 0.0))
    with np.errstate(invalid="ignore"):
        ut = np.einsum("s,nst->nt", pi * (1.0 - kappa), mE)
        u0 = m0 @ pi
    return ut, u0


def _relative(resid: np.ndarray, *terms: np.ndarray) -> np.ndarray:
    scale = np.zeros_like(resid)
    for t in terms:
        scale = np.maximum(scale, np.abs(t))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, np.abs(resid) / np.maximum(scale, _TINY),
                        np.where(resid == 0, 0.0, np.inf))


def _consumers(economy: Economy, profile: Profile, outcome: Outcome, totals, pt: bool,
               beta: float, fixed_post: np.ndarray) -> tuple[TypeResiduals, ...]:
    pop = economy.consumers
    n = len(pop)
    if n == 0:
        return ()
    T = economy.periods
    play = outcome.consumers
    bids = profile.consumer_bids
    ut, u0 = _expected_marginals(economy, pop, play)
    Omega = economy.goods_supply
    U = np.concatenate([u0[:, None], ut], axis=1)        # (n, T+1), goods first
    if pt:
        p = outcome.prices
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = np.broadcast_to(1.0 / p, (n, T + 1))
        coef = np.ones((n, T + 1))
    else:
        Bm, Qm = totals[0], totals[1]
        B = Bm + bids
        Q = Qm.copy()
        Q[:, 0] = Omega
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = Q * Bm / B ** 2
        coef = np.ones((n, T + 1))
        coef[:, 0] = 1.0 - beta * pop.endowment / Omega
    with np.errstate(invalid="ignore"):
        A = np.where(U > 0, U * dx, 0.0)                # marginal value of a bytecoin
    # A bid that buys verification only (the post's electricity unvalued, or none consumed in
    # some state) meets E >= 0 at its bound: its condition is A <= λ·coef, not an equality.
    floor = np.zeros((n, T + 1), bool)
    floor[:, 1:] = ~(np.all(play.consumption > 0, axis=1) & (ut > 0))
    floor[:, 0] = ~(U[:, 0] > 0)
    out = []
    for i in range(n):
        pos = (bids[i] > 0) & ~floor[i]
        rows = [(coef[i, t], 0.0, A[i, t]) for t in range(T + 1)
                if pos[t] and np.isfinite(A[i, t]) and np.isfinite(dx[i, t])]
        lam = _fit(rows, False)[0] if rows else float("nan")
        res = np.full(T + 1, np.nan)
        for t in range(T + 1):
            if not np.isfinite(dx[i, t]):
                continue
            r = _relative(np.array(A[i, t] - lam * coef[i, t]), np.array(A[i, t]),
                          np.array(lam * coef[i, t]))
            if pos[t]:
                res[t] = float(r)
            elif not fixed_post[t] or (floor[i, t] and bids[i, t] > 0):
                res[t] = float(r) if A[i, t] > lam * coef[i, t] else 0.0
        budget = abs(play.slack[i]) / max(play.spending[i], play.revenue[i], _TINY)
        residuals: dict[str, float | None] = dict.fromkeys(EQUATIONS)
        residuals["(10)"] = _nanmax(res[1:])
        residuals["(11)"] = _nanmax(res[:1])
        residuals["x0"] = None
        residuals["budget"] = float(budget)
        out.append(TypeResiduals("consumers", pop.names[i], pop.kind(i), lam, None, None,
                                 residuals, {"(10)": res[1:], "(11)": res[:1]}))
    return tuple(out)


def _producers(economy: Economy, profile: Profile, outcome: Outcome, totals, pt: bool,
               beta: float, fixed_post: np.ndarray) -> tuple[TypeResiduals, ...]:
    pop = economy.producers
    n = len(pop)
    if n == 0:
        return ()
    T = economy.periods
    play = outcome.producers
    bids = profile.producer_bids
    q = profile.offers
    K = profile.capacity
    cap = K[:, None] * pop.availability       # s^t K (docs/model.md, Availability)
    theta = pop.productivity[:, None]
    c_ret = pop.returns[:, None]
    ut, u0 = _expected_marginals(economy, pop, play)
    Omega = economy.goods_supply
    long_run = economy.market.long_run
    rho = np.nan_to_num(pop.capacity_cost) if long_run else np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dphi = (1.0 / (c_ret * theta)) * _pow(q / theta, 1.0 / c_ret - 1.0)   # φ'(q), (15)
        phi = _pow(q / theta, 1.0 / c_ret)
    if pt:
        p = outcome.prices
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = np.broadcast_to(1.0 / p, (n, T + 1)).copy()
            H = np.zeros((n, T))                           # u_t b^t/B^t: no own-price effect
            G = np.broadcast_to(p[1:], (n, T)).copy()      # ∂R/∂q^t
        coef = np.ones((n, T))
        D0 = dx[:, 0]
        active = np.broadcast_to(outcome.active, (n, T + 1))
    else:
        Bm, Qm = totals[2], totals[3]
        B = Bm + bids
        Q = Qm.copy()
        Q[:, 1:] += q
        Q[:, 0] = Omega
        active = (B > 0) & (Q > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = Q * Bm / B ** 2
            H = np.where(ut > 0, ut * bids[:, 1:] / B[:, 1:], 0.0)
            G = B[:, 1:] * Qm[:, 1:] / Q[:, 1:] ** 2
            coef = 1.0 - beta * q / Q[:, 1:]
        D0 = dx[:, 0]
    with np.errstate(invalid="ignore"):
        A = np.where(ut > 0, ut * dx[:, 1:], 0.0)         # (12)'s marginal value of a bytecoin
    floor = ~(np.all(play.consumption > 0, axis=1) & (ut > 0))   # as for consumers
    out = []
    for j in range(n):
        classic = bool(pop.classic[j])
        x0 = float(play.goods[j])
        g_recv = float(play.goods_received[j])
        corner = (not classic) or x0 <= 1e-12 * max(g_recv, _TINY)
        two = corner
        nu_known = float(u0[j]) if not corner else float("nan")
        pos = bids[j] > 0
        pos[1:] &= ~floor[j]
        at_cap = q[j] >= cap[j] * (1.0 - _AT_CAPACITY)
        interior_q = (q[j] > 0) & ~at_cap & active[j, 1:]
        rows = []
        for t in range(T):
            if pos[t + 1] and active[j, t + 1] and np.isfinite(A[j, t]):
                rows.append((coef[j, t], 0.0, A[j, t]))
        if pos[0] and np.isfinite(D0[j]):
            # (13): λ - ν D0 = 0
            rows.append((1.0, -D0[j], 0.0) if two else (1.0, 0.0, nu_known * D0[j]))
        for t in range(T):
            if interior_q[t]:
                # (14): -βGλ + φ'ν = H
                rows.append((-beta * G[j, t], dphi[j, t], H[j, t]) if two
                            else (-beta * G[j, t], 0.0, H[j, t] - dphi[j, t] * nu_known))
        unknowns = 2 if two else 1
        if len(rows) >= unknowns:
            lam, nu = _fit(rows, two)
        else:
            lam, nu = float("nan"), float("nan")
        if not two:
            nu = nu_known
        # (12)
        r12 = np.full(T, np.nan)
        for t in range(T):
            if not (active[j, t + 1] and np.isfinite(A[j, t])):
                continue
            lhs, rhs = A[j, t], lam * coef[j, t]
            r = float(_relative(np.array(lhs - rhs), np.array(lhs), np.array(rhs)))
            if pos[t + 1]:
                r12[t] = r
            elif not fixed_post[t + 1] or (floor[j, t] and bids[j, t + 1] > 0):
                r12[t] = r if lhs > rhs else 0.0
        # (13)
        r13 = np.full(1, np.nan)
        if np.isfinite(D0[j]):
            lhs, rhs = nu * D0[j], lam
            r = float(_relative(np.array(lhs - rhs), np.array(lhs), np.array(rhs)))
            r13[0] = r if pos[0] else (r if lhs > rhs else 0.0)
        # (14)/(15) and (16)
        g = H[j] - nu * dphi[j] + beta * lam * G[j]
        rel = _relative(g, H[j], nu * dphi[j], beta * lam * G[j])
        with np.errstate(invalid="ignore"):
            sign = np.sign(g)
        r14 = np.full(T, np.nan)
        mu = np.zeros(T)
        for t in range(T):
            if not active[j, t + 1]:
                continue
            if interior_q[t]:
                r14[t] = rel[t]
            elif at_cap[t]:
                mu[t] = max(g[t], 0.0)
                r14[t] = rel[t] if sign[t] < 0 else 0.0
            else:  # q = 0
                r14[t] = rel[t] if sign[t] > 0 else 0.0
        scale14 = np.maximum.reduce([np.abs(H[j]), np.abs(nu * dphi[j]),
                                     np.abs(beta * lam * G[j])])
        with np.errstate(invalid="ignore", divide="ignore"):
            r16 = np.where(active[j, 1:],
                           np.maximum(mu * np.maximum(cap[j] - q[j], 0.0)
                                      / np.maximum(scale14 * K[j], _TINY),
                                      np.maximum(q[j] - cap[j], 0.0) / max(K[j], _TINY)),
                           np.nan)
        # (17): technology, and the goods identity (8)
        with np.errstate(invalid="ignore", divide="ignore"):
            r_tech = np.abs(theta[j, 0] * _pow(play.inputs[j], c_ret[j, 0]) - q[j]) / np.maximum(
                q[j], _TINY)
            r_tech = np.where(q[j] > 0, r_tech, np.abs(play.inputs[j]))
            r_phi = np.abs(play.inputs[j] - phi[j]) / np.maximum(phi[j], _TINY)
            r_phi = np.where(phi[j] > 0, r_phi, np.abs(play.inputs[j]))
            if pt:
                recv = bids[j, 0] / outcome.prices[0]
            else:
                recv = bids[j, 0] * Omega / B[j, 0] if B[j, 0] > 0 else 0.0
            x0_rule = recv - phi[j].sum() - rho[j] * K[j]
            r_goods = abs(x0_rule - x0) / max(recv, _TINY)
        r17 = np.maximum(np.maximum(r_tech, r_phi), r_goods)
        # x0 >= 0 and its multiplier
        if two:
            rx0 = abs(x0) / max(g_recv, _TINY)
        else:
            rx0 = max(-x0, 0.0) / max(g_recv, _TINY)
        budget = abs(play.slack[j]) / max(play.spending[j], play.revenue[j], _TINY)
        residuals: dict[str, float | None] = dict.fromkeys(EQUATIONS)
        residuals["(12)"] = _nanmax(r12)
        residuals["(13)"] = _nanmax(r13)
        residuals["(14)/(15)"] = _nanmax(r14)
        residuals["(16)"] = _nanmax(r16)
        residuals["(17)"] = _nanmax(r17)
        residuals["x0"] = float(rx0)
        residuals["budget"] = float(budget)
        if long_run:
            need = rho[j] * nu
            have = float(mu @ pop.availability[j])
            residuals["(K)"] = float(_relative(np.array(have - need), np.array(have),
                                               np.array(need))) if K[j] > 0 else (
                0.0 if have <= need else float(_relative(np.array(have - need), np.array(have),
                                                         np.array(need))))
        out.append(TypeResiduals("producers", pop.names[j], pop.kind(j), lam, nu, mu, residuals,
                                 {"(12)": r12, "(13)": r13, "(14)/(15)": r14, "(16)": r16,
                                  "(17)": r17}))
    return tuple(out)


def _nanmax(a: np.ndarray) -> float | None:
    a = np.asarray(a, dtype=float)
    if a.size == 0 or np.all(np.isnan(a)):
        return None
    return float(np.nanmax(a))
