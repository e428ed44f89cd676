"""The market game: a type-symmetric strategy profile → prices, allocations, verification,
consumption and utility (MODEL.md sections 3–5, the paper's (1)–(8)).

Every number here comes from the rules of the game alone; no first-order condition is used, so
these functions are the common ground on which solvers and the certificate are judged.

Conventions
-----------
Posts are indexed ``0..T``, goods first. Per-type arrays are for **one** agent of the type:
``bids (n, T+1)``, ``offers (np, T)``, ``capacity (np,)``. Totals over all agents:
``B^t = Σ_i n_i b_i^t``, ``Q^t = Σ_j n_j q_j^t`` and ``Q^0 = Ω``.

Each agent is evaluated as one player facing the others' totals ``B_-i = B - b_i`` and
``Q_-i = Q - q_i`` (:func:`others_totals` computes them without the cancellation of ``B - b``, so
that shares of 10⁻⁹ stay exact), so the same code gives the outcome of the profile and of any
unilateral deviation (:func:`play`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgame.market.utility import marginal_utility, utility
from emgame.model.economy import Economy, Population


@dataclass(frozen=True, eq=False)
class Profile:
    """A type-symmetric strategy profile: what one agent of each type plays.

    ``consumer_bids (nc, T+1)`` and ``producer_bids (np, T+1)`` are bids in bytecoins, goods post
    first; ``offers (np, T)`` electricity offered; ``capacity (np,)`` is ``K`` (``K̄`` in the
    short run).
    """

    consumer_bids: np.ndarray
    producer_bids: np.ndarray
    offers: np.ndarray
    capacity: np.ndarray

    def scaled(self, factor: float) -> Profile:
        """The same profile with every bid multiplied by ``factor`` (a nominal rescaling)."""
        return Profile(self.consumer_bids * factor, self.producer_bids * factor, self.offers,
                       self.capacity)


@dataclass(frozen=True, eq=False)
class Play:
    """What one agent of each type gets, facing the others' totals (arrays over types first).

    ``electricity (n, T)`` received through posts (plus, for producers, electricity kept from posts
    that did not trade); ``goods (n,)`` consumed (a producer's net of inputs and capacity cost);
    ``verification`` and ``consumption`` are ``(n, S, T)``; ``spending`` counts bids on posts
    that traded (bids on other posts are refunded); ``slack`` is what is left of the budget.
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
    shadow_values: np.ndarray


@dataclass(frozen=True, eq=False)
class Outcome:
    """The market outcome of a profile (MODEL.md section 7), one :class:`Play` per role."""

    bids_total: np.ndarray      # B^t, (T+1,)
    offers_total: np.ndarray    # Q^t with Q^0 = Ω, (T+1,)
    prices: np.ndarray          # p^t = B^t / Q^t, NaN where the post does not trade, (T+1,)
    active: np.ndarray          # (T+1,) bool
    consumers: Play
    producers: Play

    @property
    def relative_prices(self) -> np.ndarray:
        return self.prices[1:] / self.prices[0]


# --------------------------------------------------------------------------------------------


def inputs(pop: Population, offers: np.ndarray) -> np.ndarray:
    """Goods needed to produce ``offers``: ``φ(q) = (q/θ)^{1/c}``, shape ``(np, T)``."""
    theta = pop.productivity[:, None]
    c = pop.returns[:, None]
    return (np.maximum(offers, 0.0) / theta) ** (1.0 / c)


def _exclusive_sums(count: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``Σ_{k≠i} n_k v_k`` for every ``i``, from prefix and suffix sums (no ``total - own``)."""
    weighted = count[:, None] * values
    zero = np.zeros((1, values.shape[1]))
    before = np.concatenate([zero, np.cumsum(weighted, axis=0)[:-1]])
    after = np.concatenate([np.cumsum(weighted[::-1], axis=0)[::-1][1:], zero])
    return before + after


def totals(economy: Economy, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
    """``(B, Q)``: total bids and offers on every post, ``Q^0 = Ω``."""
    c, p = economy.consumers, economy.producers
    B = c.count @ profile.consumer_bids + p.count @ profile.producer_bids
    Q = np.concatenate([[economy.goods_supply], p.count @ profile.offers])
    return B, Q


def others_totals(economy: Economy, profile: Profile) -> tuple[np.ndarray, ...]:
    """The totals each type's agent faces from everyone else.

    Returns ``(B_c, Q_c, B_p, Q_p)``: ``(nc, T+1)`` for consumers and ``(np, T+1)`` for
    producers, ``B_-i^t = Σ_{k≠i} n_k b_k^t + (n_i - 1) b_i^t`` and likewise ``Q_-i``.
    """
    c, p = economy.consumers, economy.producers
    T = economy.periods
    bc, bp = profile.consumer_bids, profile.producer_bids
    # Everyone else's bids: the other role's whole total plus this role's others.
    Bc = (_exclusive_sums(c.count, bc) + (c.count - 1)[:, None] * bc
          + (p.count @ bp)[None, :])
    Bp = (_exclusive_sums(p.count, bp) + (p.count - 1)[:, None] * bp
          + (c.count @ bc)[None, :])
    Qc = np.zeros((len(c), T + 1))
    Qp = np.zeros((len(p), T + 1))
    if len(c):
        goods_c = _exclusive_sums(c.count, c.endowment[:, None])[:, 0] + (c.count - 1) * c.endowment
        Qc[:, 0] = goods_c
        Qc[:, 1:] = (p.count @ profile.offers)[None, :]
    Qp[:, 0] = economy.goods_supply
    if len(p):
        Qp[:, 1:] = _exclusive_sums(p.count, profile.offers) + (p.count - 1)[:, None] * profile.offers
    return Bc, Qc, Bp, Qp


def play(economy: Economy, pop: Population, bids: np.ndarray, B_minus: np.ndarray | None,
         Q_minus: np.ndarray | None, *, offers: np.ndarray | None = None,
         capacity: np.ndarray | None = None, revenue_weight: np.ndarray | None = None,
         prices: np.ndarray | None = None) -> Play:
    """One agent of each type of ``pop`` plays ``bids`` (and ``offers``, ``capacity``) against
    the others' totals ``B_minus``, ``Q_minus`` (each ``(n, T+1)``).

    ``offers is None`` means consumers: they offer their endowment on the goods post (sell-all).
    Allocations follow (5)–(8); a post with no bids or no offers does not trade: bids are
    refunded and offers stay with their owner (Shapley–Shubik). Verification follows MODEL.md
    section 5: every positive bid is verified, also on a post that does not trade.

    With ``prices`` given instead of the others' totals, the agent is a price taker (the
    competitive benchmark): it receives ``b/p`` and earns ``p q``.
    """
    n = len(pop)
    T = economy.periods
    producer = offers is not None
    own_q = np.zeros((n, T + 1))
    if producer:
        own_q[:, 1:] = offers
    else:
        own_q[:, 0] = pop.endowment
    if prices is not None:
        active = np.broadcast_to(np.isfinite(prices) & (prices > 0), (n, T + 1))
        post_prices = np.where(active, prices[None, :], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(active, bids / np.where(active, post_prices, 1.0), 0.0)
        prices = post_prices
    else:
        B = B_minus + bids
        Q = Q_minus + own_q
        active = (B > 0) & (Q > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(active, bids * (Q / np.where(active, B, 1.0)), 0.0)
            prices = np.where(active, B / np.where(active, Q, 1.0), 0.0)
    revenue = (prices * own_q).sum(axis=1)
    spending = np.where(active, bids, 0.0).sum(axis=1)

    # Electricity: received through posts, plus a producer's offer on a post that did not trade.
    kept = np.where(active[:, 1:], 0.0, own_q[:, 1:])
    electricity = x[:, 1:] + kept

    # Verification (MODEL.md section 5): fixed cost per positive bid, share of electricity received.
    v = economy.fixed_costs                  # (S, T+1)
    kappa = economy.shares                   # (S,)
    paid = bids > 0
    V = paid[:, None, 1:] * v[None, :, 1:] + kappa[None, :, None] * x[:, None, 1:]
    t0 = economy.market.goods_settlement_period
    V[:, :, t0 - 1] += paid[:, 0, None] * v[None, :, 0]
    E = electricity[:, None, :] - V

    goods_received = x[:, 0] + (0.0 if producer else np.where(active[:, 0], 0.0, pop.endowment))
    if producer:
        phi = inputs(pop, offers)
        K = np.zeros(n) if capacity is None else capacity
        cap_cost = (np.nan_to_num(pop.capacity_cost) * K) if economy.market.long_run else 0.0
        goods = goods_received - phi.sum(axis=1) - cap_cost
    else:
        phi = np.zeros((n, T))
        goods = goods_received

    if economy.market.prepaid:
        wallet = np.where(np.isnan(pop.wallet), revenue, pop.wallet)
        slack = wallet - spending
    else:
        slack = revenue - spending
    U = utility(pop, np.maximum(E, 0.0), np.maximum(goods, 0.0), economy.probabilities)
    # Feasibility (MODEL.md §3, §5): E >= 0 and a producer's goods >= 0, up to rounding.
    scale = 1e-10 * np.maximum(electricity.max(axis=1, initial=0.0), 1e-300)
    short = (E < -scale[:, None, None]).any(axis=(1, 2))
    short |= goods < -1e-10 * np.maximum(goods_received, 1e-300)
    U = np.where(short, -np.inf, U)
    if revenue_weight is not None:
        U = U + revenue_weight * revenue
    return Play(electricity=electricity, goods_received=goods_received, goods=goods, inputs=phi,
                verification=V, consumption=E, revenue=revenue, spending=spending, slack=slack,
                utility=U, shadow_values=marginal_utility(pop, E, np.maximum(goods, 0.0)))


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
        taking = None
    else:
        active = np.isfinite(prices) & (prices > 0)
        prices = np.where(active, prices, np.nan)
        Bc = Qc = Bp = Qp = None
        taking = prices
    consumers = play(economy, economy.consumers, profile.consumer_bids, Bc, Qc, prices=taking)
    producers = play(economy, economy.producers, profile.producer_bids, Bp, Qp,
                     offers=profile.offers, capacity=profile.capacity, prices=taking)
    return Outcome(bids_total=B, offers_total=Q, prices=prices, active=active,
                   consumers=consumers, producers=producers)
