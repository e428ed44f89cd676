"""The market game: a type-symmetric strategy profile → prices, allocations, verification,
consumption and utility (docs/model.md, Prices and allocations to The crypto layer, the paper's
(1)–(8)).

Every number here comes from the rules of the game alone; no first-order condition is used, so
these functions are the common ground on which solvers and the certificate are judged.

Conventions
-----------
Posts are indexed ``0..T``, goods first. Per-type arrays are for **one** agent of the type:
``bids (n, T+1)``, ``offers (np, T)``, ``capacity (np,)``; storage operators (docs/model.md,
"Storage") bid ``(ns, T+1)``, offer what they discharge ``(ns, T)`` and choose how much of what
they buy they store, ``charge (ns, T)``. Totals over all agents: ``B^t = Σ_i n_i b_i^t``,
``Q^t = Σ_j n_j q_j^t + Σ_k n_k q_k^t`` (producers and storage operators) and ``Q^0 = Ω``.

Each agent is evaluated as one player facing the others' totals ``B_-i = B - b_i`` and
``Q_-i = Q - q_i`` (:func:`others_totals`; where one agent holds most of a post the others are
summed without it, so no subtraction cancels), so the same code gives the outcome of the profile
and of any unilateral deviation (:func:`play`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from emgame.market.utility import marginal_utility, utility
from emgame.model.economy import Economy, Population


@dataclass(frozen=True, eq=False)
class Profile:
    """A type-symmetric strategy profile: what one agent of each type plays.

    ``consumer_bids (nc, T+1)`` and ``producer_bids (np, T+1)`` are bids in bytecoins, goods post
    first; ``offers (np, T)`` electricity offered; ``capacity (np,)`` is ``K`` (``K̄`` in the
    short run; the offer on post ``t`` is at most ``s^t K``, docs/model.md, Availability).
    Storage operators: ``storage_bids (ns, T+1)``, ``storage_offers (ns, T)`` (electricity
    discharged and offered) and ``storage_charge (ns, T)`` (electricity bought and put into the
    battery, ``y^t``); empty when the economy has none.
    """

    consumer_bids: np.ndarray
    producer_bids: np.ndarray
    offers: np.ndarray
    capacity: np.ndarray
    storage_bids: np.ndarray | None = None
    storage_offers: np.ndarray | None = None
    storage_charge: np.ndarray | None = None

    def __post_init__(self) -> None:
        T = np.shape(self.offers)[1] if np.ndim(self.offers) == 2 else \
            np.shape(self.consumer_bids)[1] - 1
        for name, width in (("storage_bids", T + 1), ("storage_offers", T),
                            ("storage_charge", T)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros((0, width)))

    def scaled(self, factor: float) -> Profile:
        """The same profile with every bid multiplied by ``factor`` (a nominal rescaling)."""
        return Profile(self.consumer_bids * factor, self.producer_bids * factor, self.offers,
                       self.capacity, self.storage_bids * factor, self.storage_offers,
                       self.storage_charge)


@dataclass(frozen=True, eq=False)
class Play:
    """What one agent of each type gets, facing the others' totals (arrays over types first).

    ``electricity (n, T)`` received through posts (plus, for producers and storage operators,
    electricity kept from posts that did not trade); ``goods (n,)`` consumed (a producer's net
    of inputs and capacity cost); ``verification`` and ``consumption`` are ``(n, S, T)``;
    ``spending`` counts bids on posts that traded (bids on other posts are refunded); ``slack``
    is what is left of the budget. Storage operators also have ``charge (n, T)``, the
    electricity put into the battery (``x = E + V + charge``), and ``state_of_charge (n, T)``,
    ``σ^t`` at the end of each period (the lowest feasible path of the cyclic day: its minimum
    is 0); ``None`` for other roles. ``feasible (n,)`` says whether the play is feasible by the
    market rules (``E >= 0``, a producer's goods ``>= 0``, offers within capacity, a battery
    plan within bounds); where it is not, ``utility`` is ``-inf``.
    """

    electricity: np.ndarray
    goods_received: np.ndarray
    goods: np.ndarray
    inputs: np.ndarray
    verification: np.ndarray
    consumption: np.ndarray
    revenue: np.ndarray
    spending: np.ndarray
    slack: np.ndarray
    utility: np.ndarray
    population: Population
    charge: np.ndarray | None = None
    state_of_charge: np.ndarray | None = None
    feasible: np.ndarray | None = None

    @cached_property
    def shadow_values(self) -> np.ndarray:
        """``λ_s^t = ∂u/∂E_s^t`` (not multiplied by ``π_s``), ``(n, S, T)``: the paper's
        section 3 (computed on first use)."""
        return marginal_utility(self.population, self.consumption, np.maximum(self.goods, 0.0))

    def take(self, index: np.ndarray) -> Play:
        """The rows of the given types."""
        return Play(**{f: None if getattr(self, f) is None else getattr(self, f)[index]
                       for f in self.__dataclass_fields__ if f != "population"},
                    population=self.population.select(index))


@dataclass(frozen=True, eq=False)
class Outcome:
    """The market outcome of a profile (docs/model.md, Outputs), one :class:`Play` per role."""

    bids_total: np.ndarray      # B^t, (T+1,)
    offers_total: np.ndarray    # Q^t with Q^0 = Ω, (T+1,)
    prices: np.ndarray          # p^t = B^t / Q^t, NaN where the post does not trade, (T+1,)
    active: np.ndarray          # (T+1,) bool
    consumers: Play
    producers: Play
    others: tuple | None = None  # others_totals(), when the game set the prices
    storage: Play | None = None  # always set by evaluate() (no rows without storage)
    storage_others: tuple | None = None  # storage_others_totals(), when the game set prices

    @property
    def relative_prices(self) -> np.ndarray:
        return self.prices[1:] / self.prices[0]


# --------------------------------------------------------------------------------------------


def inputs(pop: Population, offers: np.ndarray) -> np.ndarray:
    """Goods needed to produce ``offers``: ``φ(q) = (q/θ)^{1/c}``, shape ``(np, T)``."""
    theta = pop.productivity[:, None]
    c = pop.returns[:, None]
    return (np.maximum(offers, 0.0) / theta) ** (1.0 / c)


def _others(count: np.ndarray, values: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """``Σ_{k≠i} n_k v_k + (n_i - 1) v_i + extra`` for every ``i``: everyone's total but one
    agent of type ``i``.

    ``total - v_i`` is exact up to rounding of the total unless one agent holds most of a post
    (then the subtraction would cancel): those entries are summed without the agent instead.
    """
    total = np.einsum("i,ij->j", count, values) + extra
    out = total[None, :] - values
    for i, t in zip(*np.nonzero(values > 0.5 * total[None, :]), strict=True):
        col = count * values[:, t]
        out[i, t] = math.fsum(np.delete(col, i)) + (count[i] - 1) * values[i, t] + extra[t]
    return out


def totals(economy: Economy, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
    """``(B, Q)``: total bids and offers on every post, ``Q^0 = Ω``."""
    c, p, st = economy.consumers, economy.producers, economy.storage
    B = c.count @ profile.consumer_bids + p.count @ profile.producer_bids
    supply = p.count @ profile.offers
    if len(st):
        B = B + st.count @ profile.storage_bids
        supply = supply + st.count @ profile.storage_offers
    Q = np.concatenate([[economy.goods_supply], supply])
    return B, Q


def _role_totals(economy: Economy, profile: Profile) -> tuple[np.ndarray, ...]:
    """``(B_consumers, B_producers, B_storage, Q_producers, Q_storage)``: each role's total
    bids ``(T+1,)`` and offers ``(T,)``."""
    c, p, st = economy.consumers, economy.producers, economy.storage
    T = economy.periods
    Bc = np.einsum("i,ij->j", c.count, profile.consumer_bids) if len(c) else np.zeros(T + 1)
    Bp = np.einsum("i,ij->j", p.count, profile.producer_bids) if len(p) else np.zeros(T + 1)
    Qp = np.einsum("i,ij->j", p.count, profile.offers) if len(p) else np.zeros(T)
    if len(st):
        Bs = np.einsum("i,ij->j", st.count, profile.storage_bids)
        Qs = np.einsum("i,ij->j", st.count, profile.storage_offers)
    else:
        Bs, Qs = np.zeros(T + 1), np.zeros(T)
    return Bc, Bp, Bs, Qp, Qs


def others_totals(economy: Economy, profile: Profile) -> tuple[np.ndarray, ...]:
    """The totals each type's agent faces from everyone else.

    Returns ``(B_c, Q_c, B_p, Q_p)``: ``(nc, T+1)`` for consumers and ``(np, T+1)`` for
    producers, ``B_-i^t = Σ_{k≠i} n_k b_k^t + (n_i - 1) b_i^t`` and likewise ``Q_-i``
    (storage operators' bids and offers included; their own totals:
    :func:`storage_others_totals`).
    """
    c, p = economy.consumers, economy.producers
    T = economy.periods
    bc, bp = profile.consumer_bids, profile.producer_bids
    Bc_all, Bp_all, Bs_all, supply, storage_supply = _role_totals(economy, profile)
    Bc = _others(c.count, bc, Bp_all + Bs_all) if len(c) else np.zeros((0, T + 1))
    Bp = _others(p.count, bp, Bc_all + Bs_all) if len(p) else np.zeros((0, T + 1))
    Qc = np.empty((len(c), T + 1))
    Qp = np.empty((len(p), T + 1))
    if len(c):
        Qc[:, :1] = _others(c.count, c.endowment[:, None], np.zeros(1))
        Qc[:, 1:] = (supply + storage_supply)[None, :]
    if len(p):
        Qp[:, 0] = economy.goods_supply
        Qp[:, 1:] = _others(p.count, profile.offers, storage_supply)
    return Bc, Qc, Bp, Qp


def storage_others_totals(economy: Economy, profile: Profile) -> tuple[np.ndarray, ...]:
    """``(B_s, Q_s)``, each ``(ns, T+1)``: the totals each storage operator faces from everyone
    else (as :func:`others_totals`)."""
    st = economy.storage
    T = economy.periods
    if not len(st):
        return np.zeros((0, T + 1)), np.zeros((0, T + 1))
    Bc_all, Bp_all, _, supply, _ = _role_totals(economy, profile)
    Bs = _others(st.count, profile.storage_bids, Bc_all + Bp_all)
    Qs = np.empty((len(st), T + 1))
    Qs[:, 0] = economy.goods_supply
    Qs[:, 1:] = _others(st.count, profile.storage_offers, supply)
    return Bs, Qs


FEASIBILITY_RTOL = 1e-9
"""Rounding allowed in the feasibility checks of :func:`play`, relative to the bound's scale
(capacity, battery size, electricity received)."""


def state_of_charge(pop: Population, charge: np.ndarray, offers: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(σ, feasible)``: the state of charge ``σ^t`` at the end of each period, ``(n, T)``,
    and whether the battery plan is feasible, ``(n,)`` bool.

    ``σ^t = σ^{t−1} + η_c y^t − q^t/η_d`` over the cyclic day (``σ^0 = σ^T``): feasible when
    the day's net is zero, ``0 ≤ σ^t ≤ S``, and ``0 ≤ y^t, q^t ≤ G`` (up to
    :data:`FEASIBILITY_RTOL`). The level is determined up to a constant; the path reported is
    the lowest one (``min_t σ^t = 0``).
    """
    eta_c = pop.charge_efficiency[:, None]
    eta_d = pop.discharge_efficiency[:, None]
    S = pop.energy_capacity
    G = pop.power_capacity
    path = np.cumsum(eta_c * charge - offers / eta_d, axis=1)          # σ^t − σ^0
    low = np.minimum(path.min(axis=1, initial=0.0), 0.0)
    soc = path - low[:, None]
    tol_e = FEASIBILITY_RTOL * S
    tol_p = FEASIBILITY_RTOL * G
    ok = np.abs(path[:, -1]) <= tol_e if path.shape[1] else np.ones(len(pop), bool)
    ok &= soc.max(axis=1, initial=0.0) <= S + tol_e
    for a in (charge, offers):
        ok &= (a >= -tol_p[:, None]).all(axis=1) & (a <= (G + tol_p)[:, None]).all(axis=1)
    return soc, ok


def play(economy: Economy, pop: Population, bids: np.ndarray, B_minus: np.ndarray | None,
         Q_minus: np.ndarray | None, *, offers: np.ndarray | None = None,
         capacity: np.ndarray | None = None, revenue_weight: np.ndarray | None = None,
         prices: np.ndarray | None = None, charge: np.ndarray | None = None) -> Play:
    """One agent of each type of ``pop`` plays ``bids`` (and ``offers``, ``capacity``) against
    the others' totals ``B_minus``, ``Q_minus`` (each ``(n, T+1)``).

    ``offers is None`` means consumers: they offer their endowment on the goods post (sell-all).
    Allocations follow (5)–(8); a post with no bids or no offers does not trade: bids are
    refunded and offers stay with their owner (Shapley–Shubik). Verification follows docs/model.md
    section 5: every positive bid is verified, also on a post that does not trade.

    Producers offer at most ``s^t K`` on post ``t`` (``capacity`` ``K`` times the type's
    availability). With ``charge`` given, ``pop`` are storage operators (docs/model.md,
    "Storage"): they offer what they discharge, put ``charge`` of what they receive into the
    battery and consume the rest, ``E = x − V − charge``, with no inputs; their battery plan
    must be feasible (:func:`state_of_charge`). An infeasible plan (an offer above its cap,
    ``E < 0``, goods below zero, a battery plan out of bounds) has utility ``−∞``.

    With ``prices`` given instead of the others' totals, the agent is a price taker (the
    competitive benchmark): it receives ``b/p`` and earns ``p q``.
    """
    n = len(pop)
    T = economy.periods
    producer = offers is not None
    storage = charge is not None
    # What the agent offers: its endowment on the goods post (consumers), or electricity.
    own = offers if producer else pop.endowment[:, None]
    own_cols = slice(1, None) if producer else slice(0, 1)
    if prices is not None:
        active = np.broadcast_to(np.isfinite(prices) & (prices > 0), (n, T + 1))
        post_prices = np.where(np.isfinite(prices) & (prices > 0), prices, 0.0)
        x = np.divide(bids, post_prices[None, :], out=np.zeros((n, T + 1)),
                      where=active)
        revenue = own @ post_prices[own_cols] if producer else own[:, 0] * post_prices[0]
    else:
        B = B_minus + bids
        Q = Q_minus.copy()
        Q[:, own_cols] += own
        active = (B > 0) & (Q > 0)
        x = np.multiply(bids, Q, out=np.zeros((n, T + 1)), where=active)
        np.divide(x, B, out=x, where=active)
        # Revenue at this agent's own prices p = B/Q (own offers count in Q).
        rq = np.divide(own, Q[:, own_cols], out=np.zeros_like(own, dtype=np.float64),
                       where=active[:, own_cols])
        revenue = (B[:, own_cols] * rq).sum(axis=1)
    spending = np.where(active, bids, 0.0).sum(axis=1)

    # Electricity: received through posts, plus a producer's offer on a post that did not trade.
    electricity = x[:, 1:]
    if producer:
        electricity = electricity + np.where(active[:, 1:], 0.0, own)

    # Verification (docs/model.md, The crypto layer): fixed cost per positive bid, share of
    # electricity received.
    v = economy.fixed_costs                  # (S, T+1)
    kappa = economy.shares                   # (S,)
    S = economy.S
    if economy.costly_verification:
        paid = bids > 0
        V = paid[:, None, 1:] * v[None, :, 1:] + kappa[None, :, None] * x[:, None, 1:]
        t0 = economy.market.goods_settlement_period
        V[:, :, t0 - 1] += paid[:, 0, None] * v[None, :, 0]
        E = electricity[:, None, :] - V
    else:  # (read-only views: nothing is burnt)
        V = np.broadcast_to(np.zeros(1), (n, S, T))
        E = np.broadcast_to(electricity[:, None, :], (n, S, T))

    soc = None
    if storage:
        assert offers is not None
        E = E - charge[:, None, :]
        soc, battery_ok = state_of_charge(pop, charge, offers)

    goods_received = x[:, 0] if producer else x[:, 0] + np.where(active[:, 0], 0.0,
                                                                   pop.endowment)
    if storage:
        phi = np.broadcast_to(np.zeros(1), (n, T))
        goods = goods_received
    elif producer:
        phi = inputs(pop, offers)
        K = np.zeros(n) if capacity is None else capacity
        cap_cost = (np.nan_to_num(pop.capacity_cost) * K) if economy.market.long_run else 0.0
        goods = goods_received - phi.sum(axis=1) - cap_cost
    else:
        phi = np.broadcast_to(np.zeros(1), (n, T))
        goods = goods_received

    if economy.market.prepaid:
        wallet = np.where(np.isnan(pop.wallet), revenue, pop.wallet)
        slack = wallet - spending
    else:
        slack = revenue - spending
    U = utility(pop, np.maximum(E, 0.0) if economy.costly_verification else E,
                np.maximum(goods, 0.0), economy.probabilities)
    # Feasibility (docs/model.md, Prices and allocations and The crypto layer): E >= 0 and a
    # producer's goods >= 0, up to rounding.
    short = goods < -1e-10 * np.maximum(goods_received, 1e-300)
    if economy.costly_verification or storage:
        scale = 1e-10 * np.maximum(electricity.max(axis=1, initial=0.0), 1e-300)
        short |= (E < -scale[:, None, None]).any(axis=(1, 2))
    if storage:
        short |= ~battery_ok
    elif producer and capacity is not None:
        cap = pop.period_capacity(capacity)
        short |= (offers > cap + FEASIBILITY_RTOL * np.abs(capacity)[:, None]).any(axis=1)
    U = np.where(short, -np.inf, U)
    if revenue_weight is not None:
        U = U + revenue_weight * revenue
    return Play(electricity=electricity, goods_received=goods_received, goods=goods, inputs=phi,
                verification=V, consumption=E, revenue=revenue, spending=spending, slack=slack,
                utility=U, population=pop, charge=charge, state_of_charge=soc,
                feasible=~short)


def evaluate(economy: Economy, profile: Profile, prices: np.ndarray | None = None) -> Outcome:
    """The outcome of ``profile``: prices and what one agent of each type gets.

    By default the market game's rules set prices ``B/Q``; with ``prices`` given, agents are
    price takers at those prices (the competitive benchmark's outcome).
    """
    B, Q = totals(economy, profile)
    if prices is None:
        active = (B > 0) & (Q > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            prices = np.where(active, B / np.where(active, Q, 1.0), np.nan)
        Bc, Qc, Bp, Qp = others_totals(economy, profile)
        Bs, Qs = storage_others_totals(economy, profile)
        taking = None
    else:
        active = np.isfinite(prices) & (prices > 0)
        prices = np.where(active, prices, np.nan)
        Bc = Qc = Bp = Qp = Bs = Qs = None
        taking = prices
    consumers = play(economy, economy.consumers, profile.consumer_bids, Bc, Qc, prices=taking)
    producers = play(economy, economy.producers, profile.producer_bids, Bp, Qp,
                     offers=profile.offers, capacity=profile.capacity, prices=taking)
    storage = play(economy, economy.storage, profile.storage_bids, Bs, Qs,
                   offers=profile.storage_offers, charge=profile.storage_charge, prices=taking)
    return Outcome(bids_total=B, offers_total=Q, prices=prices, active=active,
                   consumers=consumers, producers=producers,
                   others=None if taking is not None else (Bc, Qc, Bp, Qp), storage=storage,
                   storage_others=None if taking is not None else (Bs, Qs))
