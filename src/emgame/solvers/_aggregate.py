"""The aggregate system both solvers share: post totals ``(p^t, Q^t)`` → every type's response →
market-clearing residuals and their Jacobian.

Unknowns ``y`` are logarithms of the prices and supplies of the posts that trade (and of
``p^0`` when exogenous wallets fix the nominal level; otherwise ``p^0 = 1``). Residuals, all
relative: for each trading post ``t``

    demand   Σ_i n_i x_i^t / Q^t - 1 = 0     (what agents receive adds up to what is offered)
    supply   Σ_j n_j q_j^t / Q^t - 1 = 0     (the offers add up to the total)

and goods ``Σ_i n_i x_i^0 / Ω - 1 = 0`` (with exogenous wallets an equation of its own, the
nominal level ``p^0`` being unknown; otherwise redundant by Walras' law at a solution, and kept
as a guard).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from emgame._numerics import clock
from emgame.market.game import inputs
from emgame.market.utility import weighted
from emgame.model.economy import Economy
from emgame.solvers._consumer import ConsumerState, consumer_aggregate
from emgame.solvers._joint import JointWork, closed_form, consumer_joint
from emgame.solvers._newton import NewtonResult, newton
from emgame.solvers._producer_solve import ProducerState, producer_responses
from emgame.solvers._records import NO_OUTPUT, PAYS, Response, Totals, TypeParams, market

log = logging.getLogger(__name__)


def inputs_of(economy: Economy, q: np.ndarray, z: np.ndarray, Kbar: np.ndarray) -> np.ndarray:
    """Goods used by each producer type: inputs ``Σ_t φ(q^t)`` (plus ``ρK`` in the long run)."""
    need = inputs(economy.producers, q[:, 1:]).sum(axis=1) if q.size else np.zeros(0)
    if economy.market.long_run:
        need = need + np.nan_to_num(economy.producers.capacity_cost) * z[:, 2]
    return need


def valued_posts(economy: Economy) -> np.ndarray:
    """Posts ``0..T`` that some agent values (the goods post always trades)."""
    return np.concatenate([[True], economy.valued_periods])


__all__ = ["NO_OUTPUT", "PAYS", "Aggregate", "default_participation", "state_weights"]


def default_participation(economy: Economy, types: TypeParams, producers: bool) -> np.ndarray:
    """Pay on every valued post (and on the goods post if goods are valued or are inputs).

    Consumers get a ``bool (n, T+1)`` array; producers an ``int8 (n, T+1)`` array of regime
    bits (:data:`PAYS`, :data:`NO_OUTPUT`).
    """
    T = economy.periods
    n = len(types)
    part = np.zeros((n, T + 1), dtype=bool)
    part[:, 1:] = (types.a > 0) & economy.valued_periods[None, :]   # (posts that can trade)
    part[:, 0] = True if producers else (types.a0 > 0)
    v = economy.fixed_costs
    t0 = economy.market.goods_settlement_period
    if np.any(v[:, 0] > 0):
        # A goods payment is verified with electricity of period t0: it must be bought.
        part[:, t0] |= part[:, 0]
    if producers:
        return part.astype(np.int8) * PAYS
    return part


def _goods_term(a0: np.ndarray, goods: np.ndarray, r: np.ndarray) -> np.ndarray:
    """CES's goods term ``a_0 y_0^r`` with the market's ``0 · h = 0`` (AI types, ``a_0 = 0``:
    with ``r < 0`` and no goods, ``0 · ∞`` would make the whole utility NaN)."""
    with np.errstate(divide="ignore", over="ignore"):
        return weighted(a0, np.maximum(goods, 1e-300) ** r)


def state_weights(economy: Economy, types: TypeParams, x: np.ndarray, goods: np.ndarray,
                  producers: bool) -> np.ndarray:
    """Each type's state weights ``(n, S)``: ``π_s``, times ``U_s^{1-r}`` for CES types when
    there are several states (``U_s`` evaluated at purchases ``x (n, T+1)`` and goods consumed
    ``goods (n,)``), so that the kernels' separable marginal utilities are exact there."""
    k = market(economy, 1.0)
    n = len(types)
    W = np.tile(k.pi, (n, 1))
    ces = np.flatnonzero(types.ces)
    if economy.S == 1 or ces.size == 0:
        return W
    T = economy.periods
    xe = x[ces, 1:]
    paid = xe > 0
    E = ((1.0 - k.kappa)[None, :, None] * xe[:, None, :]
         - k.v[None, :, 1:] * paid[:, None, :])
    pays_goods = np.ones(ces.size, bool) if producers else (x[ces, 0] > 0)
    E[:, :, k.t0 - 1] -= k.v[None, :, 0] * pays_goods[:, None]
    r = 1.0 - types.ge[ces]                                   # CES: γ = 1 - r
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        Ep = np.where(E > 0, np.maximum(E, 1e-300) ** r[:, None, None], 0.0)
        base = (types.a[ces][:, None, :] * Ep).sum(axis=2)
        base = base + _goods_term(types.a0[ces], goods[ces], r)[:, None]
        U = base ** (1.0 / r)[:, None]
        w = U ** (1.0 - r)[:, None]
    W[ces] = np.where(np.isfinite(w) & (w > 0), k.pi[None, :] * w, W[ces])
    del T
    return W


def ces_utility_scale(economy: Economy, types: TypeParams, x: np.ndarray, goods: np.ndarray,
                      producers: bool) -> np.ndarray:
    """``dU/dV = U^{1-r}`` for CES types solved in their separable form ``V = Σ a y^r / r``
    (one state), 1 for every other type: multiplies a multiplier in units of ``V`` into one in
    units of utility (needed where ``λ`` is part of an objective, ``u + βλR`` under prepaid)."""
    scale = np.ones(len(types))
    ces = np.flatnonzero(types.ces)
    if economy.S > 1 or ces.size == 0:
        return scale
    k = market(economy, 1.0)
    xe = x[ces, 1:]
    paid = xe > 0
    E = (1.0 - k.kappa[0]) * xe - k.v[0, 1:][None, :] * paid
    pays_goods = np.ones(ces.size, bool) if producers else (x[ces, 0] > 0)
    E[:, k.t0 - 1] -= k.v[0, 0] * pays_goods
    r = 1.0 - types.ge[ces]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        base = (types.a[ces] * np.where(E > 0, np.maximum(E, 1e-300) ** r[:, None], 0.0)).sum(1)
        base = base + _goods_term(types.a0[ces], goods[ces], r)
        U = base ** (1.0 / r)
        sc = U ** (1.0 - r)
    scale[ces] = np.where(np.isfinite(sc) & (sc > 0), sc, 1.0)
    return scale


@dataclass(eq=False)
class Aggregate:
    """Evaluates the aggregate system; keeps each type's last response as the next start."""

    economy: Economy
    tau: float
    consumer_part: np.ndarray
    producer_part: np.ndarray
    C: TypeParams = field(init=False)
    P: TypeParams = field(init=False)
    evaluations: int = 0
    deadline: float = math.inf   # clock() past which the producers' fallback stops
    storage_flows = None  # (purchases (T,), discharge (T,)) of all storage operators, fixed

    def __post_init__(self) -> None:
        e = self.economy
        self.exogenous = not e.stationary_wallets
        self.Omega = e.goods_supply
        self.C = TypeParams(e.consumers)
        self.P = TypeParams(e.producers)
        T = e.periods
        self.T = T
        self.active = valued_posts(e)
        self.posts = np.flatnonzero(self.active[1:]) + 1
        nc, npr = len(self.C), len(self.P)
        # Warm starts and outputs.
        self.lam_c = np.maximum(self.C.a.sum(axis=1) + self.C.a0, 1e-3) / np.maximum(
            self.C.omega, 1e-300)
        self.x_c = np.zeros((nc, T + 1))
        self.status_c = np.zeros(nc, dtype=np.int64)
        self.z_p = np.zeros((npr, 3))
        self.z_p[:, 2] = np.where(np.isnan(self.P.Kbar), 1.0, self.P.Kbar)
        self.xh_p = np.zeros((npr, T + 1))
        self.qh_p = np.zeros((npr, T + 1))
        self.x_p = np.zeros((npr, T + 1))
        self.q_p = np.zeros((npr, T + 1))
        self.mu_p = np.zeros((npr, T + 1))
        self.dx_dY_p = np.zeros((npr, T + 1, 2 * T + 1))
        self.dq_dY_p = np.zeros((npr, T + 1, 2 * T + 1))
        self.status_p = np.zeros(npr, dtype=np.int64)
        self.Kbar = np.where(np.isnan(self.P.Kbar), 0.0, self.P.Kbar)
        self.pi_c = np.tile(e.probabilities, (nc, 1))
        self.pi_p = np.tile(e.probabilities, (npr, 1))
        self._settled: np.ndarray | None = None
        self.silent: set[int] = set()   # producer types without a response at some evaluation

    @property
    def weighted_states(self) -> bool:
        """CES types with several states: state weights to iterate on."""
        return self.economy.S > 1 and bool(np.any(self.C.ces) or np.any(self.P.ces))

    def update_state_weights(self, step: float = 1.0) -> float:
        """Recompute the CES state weights at the current responses and move them a
        fraction ``step`` of the way there (geometrically); returns the largest relative
        change to the recomputed weights (the distance from the fixed point)."""
        goods_p = self.x_p[:, 0] - inputs_of(self.economy, self.q_p, self.z_p, self.Kbar)
        new_c = state_weights(self.economy, self.C, self.x_c, self.x_c[:, 0], False)
        new_p = state_weights(self.economy, self.P, self.x_p, goods_p, True)
        change = 0.0
        for old, new in ((self.pi_c, new_c), (self.pi_p, new_p)):
            if old.size:
                change = max(change, float(np.max(np.abs(new - old) / np.abs(old))))
        if step < 1.0:
            new_c = self.pi_c * (new_c / self.pi_c) ** step
            new_p = self.pi_p * (new_p / self.pi_p) ** step
        self.pi_c, self.pi_p = new_c, new_p
        return change

    # ------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return 2 * len(self.posts) + (1 if self.exogenous else 0)

    def totals(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(p, Q)`` over posts ``0..T`` from the unknowns (non-trading posts: ``p = 0``)."""
        T = self.T
        m = len(self.posts)
        p = np.zeros(T + 1)
        Q = np.ones(T + 1)
        p[0] = np.exp(y[2 * m]) if self.exogenous else 1.0
        Q[0] = self.Omega
        p[self.posts] = np.exp(y[:m])
        Q[self.posts] = np.exp(y[m:2 * m])
        return p, Q

    def unknowns(self, p: np.ndarray, Q: np.ndarray) -> np.ndarray:
        y = [np.log(p[self.posts]), np.log(Q[self.posts])]
        if self.exogenous:
            y.append([np.log(p[0])])
        return np.concatenate(y)

    def market(self):  # noqa: ANN201
        return market(self.economy, self.tau, self.deadline)

    def consumer_records(self):  # noqa: ANN201
        """The consumers' parameters (with the current regimes and state weights) and their
        last responses, as the kernels take them."""
        return (self.C.consumers(self.consumer_part, self.pi_c),
                ConsumerState(self.lam_c, self.x_c, self.status_c))

    def respond(self, p: np.ndarray, Q: np.ndarray, want_jac: bool = True) -> None:
        """Every type's response to ``(p, Q)``: consumers' total demand ``X_c`` (and its
        derivatives ``JX_c``), each producer type's response with derivatives."""
        T = self.T
        if len(self.C):
            cs, st = self.consumer_records()
            self.X_c, self.JX_c = consumer_aggregate(Totals(p, Q), self.market(), cs, st,
                                                     want_jac)
        else:
            self.X_c, self.JX_c = np.zeros(T + 1), np.zeros((T + 1, 2 * T + 1))
        self.respond_producers(p, Q)
        self.evaluations += 1

    def respond_producers(self, p: np.ndarray, Q: np.ndarray) -> None:
        """Every producer type's response to ``(p, Q)`` (exact, with derivatives)."""
        if len(self.P):
            producer_responses(
                Totals(p, Q), self.market(),
                self.P.producers(self.producer_part, self.pi_p, self.Kbar),
                ProducerState(self.z_p, self.xh_p, self.qh_p, self.x_p, self.q_p, self.mu_p,
                              self.dx_dY_p, self.dq_dY_p, self.status_p))

    def __call__(self, y: np.ndarray, want_jac: bool) -> tuple[np.ndarray, np.ndarray | None]:
        p, Q = self.totals(y)
        if not want_jac and self._settled is not None and np.array_equal(y, self._settled):
            # Every response is already exact at y (the joint solver ended here).
            return self._assemble(p, Q, self.X_c, None, False)
        self._settled = None
        self.respond(p, Q, want_jac)
        F, J = self._assemble(p, Q, self.X_c, self.JX_c, want_jac)
        self.silent |= set(np.flatnonzero(self.status_p != Response.OK).tolist())
        if not self.responded:
            # Some type has no response here: its outputs are those of its last multipliers,
            # which do not balance its budget. Not a point to step to (NaN: the line search
            # backs off).
            F = np.full_like(F, np.nan)
        return F, J

    @property
    def responded(self) -> bool:
        """Whether every type responded at the last evaluation."""
        return not (np.any(self.status_p != Response.OK)
                    or np.any(self.status_c == Response.NOT_CONVERGED))

    def _cols(self) -> list[int]:
        """Indices of the unknowns in ``Y = (p^0..p^T, Q^1..Q^T)``."""
        T = self.T
        return list(self.posts) + list(T + self.posts) + ([0] if self.exogenous else [])

    def _assemble(self, p: np.ndarray, Q: np.ndarray, X_c: np.ndarray,
                  JX_c: np.ndarray | None, want_jac: bool
                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """Residuals (and Jacobian in the unknowns) from consumers' total demand ``X_c`` (and
        ``dX_c/dY``) and the producers' last responses."""
        P = self.P
        posts = self.posts
        X = X_c + P.n @ self.x_p                      # (T+1,) demand, goods first
        Z = P.n @ self.q_p                            # (T+1,) supply
        flows = self.storage_flows
        if flows is not None:
            # Storage operators' schedules held fixed (solvers.storage): their purchases are
            # demand, their discharge supply, and their net revenue buys goods.
            X = X.copy()
            Z = Z.copy()
            X[1:] += flows[0]
            Z[1:] += flows[1]
            X[0] += float(p[1:] @ (flows[1] - flows[0])) / p[0]
        # Goods clear by Walras' law at a solution, but the row is kept (Newton then takes
        # Gauss–Newton steps): without it, electricity nearly clears at ever higher prices
        # while the goods market does not (producers buying back their own output).
        F = np.concatenate([X[posts] / Q[posts] - 1.0, Z[posts] / Q[posts] - 1.0,
                            [X[0] / Q[0] - 1.0]])
        if not want_jac:
            return F, None
        # dX/dY and dZ/dY over Y = (p^0..p^T, Q^1..Q^T).
        assert JX_c is not None
        JX = JX_c.copy()
        if len(P):
            JX += np.tensordot(P.n, self.dx_dY_p, axes=1)
            JZ = np.tensordot(P.n, self.dq_dY_p, axes=1)
        else:
            JZ = np.zeros_like(JX)
        if flows is not None:
            JX[0, 1:self.T + 1] += (flows[1] - flows[0]) / p[0]
            JX[0, 0] -= float(p[1:] @ (flows[1] - flows[0])) / p[0] ** 2
        cols = self._cols()
        Y = np.concatenate([p, Q[1:]])
        scale = Y[cols]                               # d/dlog Y = Y d/dY
        rows_q = Q[posts][:, None]
        JD = JX[posts][:, cols] * scale / rows_q
        JS = JZ[posts][:, cols] * scale / rows_q
        m = len(posts)
        # ∂(X/Q)/∂log Q_t has the extra term -X_t/Q_t on its own post.
        JD[np.arange(m), m + np.arange(m)] -= X[posts] / Q[posts]
        JS[np.arange(m), m + np.arange(m)] -= Z[posts] / Q[posts]
        return F, np.vstack([JD, JS, JX[[0]][:, cols] * scale / Q[0]])

    # ------------------------------------------------------------------------------------
    @property
    def joint_ready(self) -> bool:
        """Joint Newton applies: no fixed verification costs (participation is settled) and no
        price taker with linear goods (whose λ is pinned, not solved)."""
        return (not np.any(self.economy.fixed_costs > 0)
                and not (self.tau == 0.0 and np.any(self.C.quasilinear)))

    def joint_newton(self, y0: np.ndarray, *, atol: float = 1e-12, max_iter: int = 60,
                     max_step: float = 2.0, deadline: float = math.inf) -> NewtonResult:
        """Newton's method on the totals and every consumer's ``λ`` jointly.

        The same Newton step as :func:`emgame.solvers._newton.newton` on the totals, but each
        consumer's budget is not solved exactly at every trial: its ``λ`` takes one Newton
        step along (its Schur-complement update ``λ + corr + dλ/dY·ΔY``), so a pass over the
        consumers costs one evaluation of their first-order conditions. The merit is
        ``‖F‖² + mean(budget residual²)``; the result is polished by an exact pass.
        """
        nc = len(self.C)
        nY = 2 * self.T + 1
        jw = JointWork(np.zeros(nc), np.zeros((nc, nY)), np.zeros(nc))
        rres = jw.rres
        cols = self._cols()
        cs, st = self.consumer_records()
        mk = self.market()
        cobb_douglas = closed_form(cs, mk)

        def joint(y: np.ndarray, want_jac: bool):
            p, Q = self.totals(y)
            X_c, Xc, JX_c = consumer_joint(Totals(p, Q), mk, cs, st, want_jac, jw, cobb_douglas)
            self.respond_producers(p, Q)
            self.evaluations += 1
            F, J = self._assemble(p, Q, X_c, JX_c, want_jac)
            Fp, _ = self._assemble(p, Q, X_c + Xc, JX_c, False)
            return F, Fp, J, p, Q

        y = np.array(y0, dtype=np.float64)
        F, Fp, J, p, Q = joint(y, True)
        evaluations = 1
        for it in range(1, max_iter + 1):
            res = max(float(np.max(np.abs(F))), float(np.max(np.abs(rres))) if nc else 0.0)
            if res <= atol:
                break
            if clock() > deadline:
                return NewtonResult(y, res, False, it, evaluations, "time limit reached")
            if not (np.all(np.isfinite(J)) and np.all(np.isfinite(Fp))):
                return NewtonResult(y, res, False, it, evaluations, "not finite")
            step = np.linalg.lstsq(J, -Fp, rcond=None)[0]
            big = float(np.max(np.abs(step)))
            if big > max_step:
                step *= max_step / big
            Y = np.concatenate([p, Q[1:]])
            dY = np.zeros(nY)
            dY[cols] = Y[cols] * step
            dlam = jw.corr + jw.dldY @ dY
            lam0 = self.lam_c.copy()
            merit0 = float(F @ F) + float(np.mean(rres ** 2)) if nc else float(F @ F)
            t = 1.0
            while True:
                trial = lam0 + t * dlam
                self.lam_c[:] = np.where(trial > 0.1 * lam0, trial,
                                         lam0 * np.exp(np.clip(t * dlam / lam0, -5, 5)))
                F_t, Fp_t, J_t, p_t, Q_t = joint(y + t * step, True)
                evaluations += 1
                merit = float(F_t @ F_t) + (float(np.mean(rres ** 2)) if nc else 0.0)
                if np.isfinite(merit) and merit < (1 - 1e-4 * t) * merit0:
                    break
                t *= 0.5
                if t < 1e-8:
                    self.lam_c[:] = lam0
                    return NewtonResult(y, res, False, it, evaluations,
                                        "joint line search failed")
            y = y + t * step
            F, Fp, J, p, Q = F_t, Fp_t, J_t, p_t, Q_t
            log.debug("joint %d: |F| = %.3e, budgets %.3e, t = %g", it, np.max(np.abs(F)),
                      np.max(np.abs(rres)) if nc else 0.0, t)
        res = max(float(np.max(np.abs(F))), float(np.max(np.abs(rres))) if nc else 0.0)
        if res <= atol:
            # Budgets hold to rounding at the last pass: every response is exact at y.
            self.X_c = self.C.n @ self.x_c
            self.status_c[:] = 0
            self._settled = y.copy()
            return NewtonResult(y, res, True, it, evaluations, "converged")
        # Otherwise polish from here with exact budgets.
        r = newton(self, y, atol=atol, max_iter=8, deadline=deadline)
        return NewtonResult(r.y, r.residual, r.converged, it + r.iterations,
                            evaluations + r.evaluations, r.message)
