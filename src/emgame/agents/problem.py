"""One agent's problem against fixed others, for one agent of every type of a role: the
records the kernels take, and a proven upper bound on its best deviation.

The objective is expected utility ``u`` under simultaneous settlement, and ``u + βλ̄R`` with
the wallet as budget under prepaid settlement (docs/model.md, The crypto layer), ``λ̄`` recovered
from the
profile's first-order conditions (:mod:`emgame.agents.multipliers`). The bound is the
Lagrangian dual (weak duality), minimised over its multipliers (:mod:`emgame.agents._search`),
with utility in a form the dual can separate across posts:

* Cobb–Douglas, CRRA and quasilinear: sums of one-good terms, exactly;
* CES under simultaneous settlement with one state, or with several whose verification burns
  a share only: its separable form ``V = Σ a y^r / r`` (maximising ``V`` is maximising
  ``u = (rV)^{1/r}``; over such states the expected utility is a multiple of one state's,
  :func:`_state_weights`), exactly;
* CES otherwise (fixed costs with several states, or ``u + βλ̄R`` under prepaid): ``u_s`` is
  concave and homogeneous of degree one, so ``u_s(E) <= ∇u_s(E*)·E`` for every ``E >= 0``
  and every point ``E*`` (Euler's theorem and concavity), with equality at ``E = E*``: the
  *linear* form at a best response ``E*`` bounds the utility exactly there
  (:mod:`emgame.agents.branch` finds ``E*`` for each set of posts paid on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgame._jit import kernel_array
from emgame.agents._records import Bounds, Facing, Rules, Search, Types, empty_bounds
from emgame.agents._search import consumer_bounds, producer_bounds
from emgame.market.game import Outcome, Play
from emgame.market.utility import (
    CES,
    ces_from_separable,
    curvatures,
    goods_marginal_utility,
    marginal_utility,
)
from emgame.model.economy import Economy, Population


@dataclass(frozen=True, eq=False)
class Agent:
    """One role's problem at a profile: the records and, per type, the objective at the profile
    ``U`` (``u``, or ``u + βλ̄R``), the dual's form (``lin``: linear CES; ``sep_ces``: CES in
    its separable form), ``r``, the value ``thR`` of revenue, the outcome ``play``."""

    economy: Economy
    pop: Population
    producers: bool
    types: Types
    rules: Rules
    facing: Facing
    U: np.ndarray
    lin: np.ndarray
    sep_ces: np.ndarray
    play: Play
    thR: np.ndarray
    lam_hint: np.ndarray
    nu_hint: np.ndarray

    def __len__(self) -> int:
        return len(self.pop)

    # ---------------------------------------------------------------------------------------
    def to_dual(self, value: np.ndarray) -> np.ndarray:
        """Objective values in the dual's units (``V`` for CES in separable form)."""
        out = np.array(value, dtype=np.float64)
        if np.any(self.sep_ces):
            r = np.where(self.sep_ces, self.pop.r, 1.0)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                v = np.where(out > 0, np.abs(out) ** r / r, np.where(r > 0, 0.0, -np.inf))
            out = np.where(self.sep_ces, v, out)
        return out

    def to_objective(self, D: np.ndarray) -> np.ndarray:
        """Dual values in the objective's units (the inverse of :meth:`to_dual`; a bound stays
        a bound, the transform being increasing)."""
        out = np.array(D, dtype=np.float64)
        if np.any(self.sep_ces):
            u = ces_from_separable(out, np.where(self.sep_ces, self.pop.r, 1.0))
            out = np.where(self.sep_ces, np.where(np.isnan(u), np.inf, u), out)
        return out

    def search(self, target: np.ndarray, force: np.ndarray | None = None,
               deadline: float = np.inf) -> Search:
        """Search settings: stop at ``target`` (objective units); non-concave one-dimensional
        searches close gaps of a quarter of the slack to the target, spread over the posts;
        the multiplier searches stop at ``deadline`` (:func:`emgame._numerics.clock`), the bound
        then standing but marked not exact."""
        n, T = len(self), self.economy.periods
        t_dual = self.to_dual(target)
        u_dual = self.to_dual(self.U)
        with np.errstate(invalid="ignore"):
            room = np.where(np.isfinite(t_dual - u_dual), t_dual - u_dual, 0.0)
        # Boxes of offers are a producer's only: consumers get empty rows (10⁶ types would
        # otherwise carry two (n, T+1) arrays no kernel reads).
        boxes = T + 1 if self.producers else 0
        gap = np.maximum(room / (4.0 * (T + 2)), 1e-13 * np.maximum(1.0, np.abs(
            np.where(np.isfinite(t_dual), t_dual, 0.0))))
        return Search(np.full((n, T + 1), -1, np.int8) if force is None
                      else np.ascontiguousarray(force, dtype=np.int8),
                      np.ascontiguousarray(np.where(np.isnan(t_dual), -np.inf, t_dual)),
                      np.ascontiguousarray(gap), self.lam_hint.copy(), self.nu_hint.copy(),
                      np.full(n, float(deadline)), np.zeros((n, boxes)),
                      np.full((n, boxes), np.nan))

    def bounds(self, se: Search, idx: np.ndarray | None = None,
               types: Types | None = None) -> Bounds:
        """The dual minimised for the types ``idx`` (all by default), in dual units; ``types``
        replaces their records (already for ``idx`` only)."""
        ty = self.types
        fa = self.facing
        if idx is not None:
            ty = _rows(ty, idx) if types is None else types
            fa = Facing(fa.Bm[idx], fa.Qm[idx], fa.p, fa.simult, fa.income[idx], fa.thR[idx])
            se = Search(*(f[idx] for f in se))
        n = ty.a.shape[0]
        out = empty_bounds(n, self.economy.periods, self.producers)
        if n:
            (producer_bounds if self.producers else consumer_bounds)(ty, self.rules, fa, se,
                                                                     out)
        return out

    def take(self, idx: np.ndarray) -> Agent:
        """The same problem for the types ``idx`` only."""
        fa = self.facing
        return Agent(self.economy, self.pop.select(idx), self.producers,
                     _rows(self.types, idx), self.rules,
                     Facing(fa.Bm[idx], fa.Qm[idx], fa.p, fa.simult, fa.income[idx],
                            fa.thR[idx]),
                     self.U[idx], self.lin[idx], self.sep_ces[idx], self.play.take(idx),
                     self.thR[idx], self.lam_hint[idx], self.nu_hint[idx])


def _rows(ty: Types, idx: np.ndarray) -> Types:
    """The types ``idx`` of ``ty`` (the shared ``lw`` row kept where none is linear)."""
    shared = ty.lw.shape[0] != ty.a.shape[0]
    return Types(*(f if (shared and name == "lw") else f[idx]
                   for name, f in zip(Types._fields, ty, strict=True)))


def _state_weights(economy: Economy, pop: Population, sep_ces: np.ndarray) -> np.ndarray:
    """The separable form's state weights ``w (n, S)``: the probabilities, except for CES
    types in separable form over several states, whose consumption is ``(1 - κ_s) x`` in state
    ``s`` (no fixed costs) and whose expected utility is then ``k u(x)``, ``k = Σ_s π_s (1 -
    κ_s)``: weights ``π_s k^r / Σ_s' π_s' (1 - κ_s')^r`` make the kernels' ``Σ_s w_s Σ_t a_t
    E_st^r / r`` equal ``V(k x)``, whose CES transform is that expected utility."""
    pi = economy.probabilities
    w = np.tile(pi, (len(pop), 1))
    if economy.S > 1 and np.any(sep_ces):
        keep = 1.0 - economy.shares
        r = np.where(sep_ces, pop.r, 1.0)[:, None]
        k = pi @ keep
        m = (pi[None, :] * keep[None, :] ** r).sum(axis=1, keepdims=True)
        w = np.where(sep_ces[:, None], pi[None, :] * k ** r / m, w)
    return w


def linear_weights(economy: Economy, pop: Population, E: np.ndarray, x0: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The supergradient of expected utility at consumption ``E (n, S, T)``, goods ``x0``:
    ``lw = π_s ∂u_s/∂E_st`` ``(n, S, T)`` and ``lw0 = Σ_s π_s ∂u_s/∂x0`` ``(n,)``, from
    :mod:`emgame.market.utility` (``+inf`` where a valued good is at zero with ``r > 0``)."""
    pi = economy.probabilities
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        lw = marginal_utility(pop, E, x0) * pi[None, :, None]
        lw0 = goods_marginal_utility(pop, E, x0, pi)
    lw = np.where(np.isnan(lw), np.inf, lw)
    return np.ascontiguousarray(lw), np.ascontiguousarray(np.where(np.isnan(lw0), np.inf, lw0))


def agent(economy: Economy, outcome: Outcome, *, producers: bool, price_taking: bool,
          lam_bar: np.ndarray, nu_bar: np.ndarray, hints: tuple | None = None) -> Agent:
    """Build one role's problem at a profile's ``outcome``.

    ``lam_bar``/``nu_bar`` are the multipliers recovered from the profile (utility units):
    under prepaid settlement ``βλ̄`` values revenue; otherwise they only start the searches
    (as do ``hints = (λ, ν)``, e.g. a solver's, where given and finite).
    """
    pop = economy.producers if producers else economy.consumers
    play = outcome.producers if producers else outcome.consumers
    m = economy.market
    n, T, S = len(pop), economy.periods, economy.S
    beta = float(m.discount) if m.prepaid else 1.0
    ge, gg = curvatures(pop)
    ces = pop.family == CES
    # Without fixed costs every state's consumption is the purchase scaled by ``1 - κ_s``, and
    # a CES utility (homogeneous of degree one) scales alike unless it values goods (which
    # are not verified) and the shares differ between states: then the expected utility is
    # a multiple of one state's, and its separable form is exact (:func:`_state_weights`).
    values_goods = pop.classic & (pop.goods_weight > 0)
    alike = ~np.any(economy.fixed_costs > 0) & ((np.ptp(economy.shares) == 0) | ~values_goods)
    lin = ces & (((S > 1) & ~alike) | m.prepaid)
    sep_ces = ces & ~lin
    goods = np.maximum(play.goods, 0.0)
    lw = np.zeros((1, S, T))   # shared and unused unless some type is linear
    lw0 = np.zeros(n)
    if np.any(lin):
        lw_all, lw0_all = linear_weights(economy, pop, play.consumption, goods)
        lw = np.where(lin[:, None, None], lw_all, 0.0)
        lw0 = np.where(lin, lw0_all, 0.0)
    f = kernel_array
    Omega = economy.goods_supply
    theta = np.nan_to_num(pop.productivity, nan=1.0)
    c = np.nan_to_num(pop.returns, nan=1.0)
    K = pop.capacity if not m.long_run else np.full(n, np.nan)
    # Nobody can produce more than all goods allow: φ(q) <= Ω.
    Khi = theta * Omega ** c
    weights = pop.weights
    if price_taking:
        # A post that does not trade has no price: a price taker can neither buy nor sell
        # there, so its electricity counts for nothing (docs/model.md, Availability: a
        # type whose utility needs it has no equilibrium and is refused before solving).
        weights = np.where(np.isfinite(outcome.prices[1:])[None, :], weights, 0.0)
    types = Types(f(weights), f(np.where(pop.classic, pop.goods_weight, 0.0)), f(ge),
                  f(gg), f(_state_weights(economy, pop, sep_ces)), f(lin, bool), f(lw), f(lw0),
                  f(pop.endowment), f(theta), f(c), f(K),
                  f(np.nan_to_num(pop.capacity_cost, nan=0.0)), f(Khi),
                  f(pop.classic, bool),
                  f(np.hstack([np.ones((n, 1)), pop.availability])))
    rules = Rules(f(economy.shares), f(economy.fixed_costs),
                  int(m.goods_settlement_period), float(Omega), bool(price_taking))
    if price_taking:
        Bm = np.zeros((n, T + 1))
        Qm = np.ones((n, T + 1))
        prices = f(np.where(np.isfinite(outcome.prices), outcome.prices, 0.0))
    else:
        Bc, Qc, Bp, Qp = outcome.others
        Bm, Qm = (Bp, Qp) if producers else (Bc, Qc)
        prices = np.zeros(T + 1)
    thR = beta * lam_bar if m.prepaid else np.zeros(n)
    income = (np.where(np.isnan(pop.wallet), play.revenue, pop.wallet) if m.prepaid
              else np.zeros(n))
    facing = Facing(f(Bm), f(Qm), prices, not m.prepaid, f(income), f(thR))
    U = play.utility.copy()
    if m.prepaid:
        with np.errstate(invalid="ignore"):
            U = U + thR * play.revenue
    # Where the searches start: the hints, else the recovered multipliers, in dual units.
    lam0 = lam_bar.copy()
    nu0 = nu_bar.copy()
    if hints is not None:
        lam0 = np.where(np.isfinite(hints[0]) & (hints[0] > 0), hints[0], lam0)
        if hints[1] is not None:
            nu0 = np.where(np.isfinite(hints[1]) & (hints[1] > 0), hints[1], nu0)
    if np.any(sep_ces):
        # λ in units of V: λ_u / (du/dV), du/dV = u^{1-r}.
        r = np.where(sep_ces, pop.r, 1.0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            scale = np.where(play.utility > 0, play.utility ** (1.0 - r), np.nan)
        lam0 = np.where(sep_ces, lam0 / scale, lam0)
        nu0 = np.where(sep_ces, nu0 / scale, nu0)
    p0 = prices[0] if price_taking else 1.0
    lam0 = np.where(np.isfinite(lam0) & (lam0 > 0), lam0, 1.0)
    nu0 = np.where(np.isfinite(nu0) & (nu0 > 0), nu0, lam0 * max(p0, 1e-300))
    return Agent(economy, pop, producers, types, rules, facing, U, lin, sep_ces, play,
                 f(thR), f(lam0), f(nu0))
