"""The bytecoin ledger of one round, audited from the market outcome (docs/learning.md).

For a profile and the outcome emgame's market rules give it, the ledger checks, post by post
and state by state, with counts ``n_i`` of identical agents:

* bytecoins: paid on a trading post ``Σ_i n_i b_i^t`` = received by its sellers ``p^t Q^t``
  (``Q^0 = Ω``); no agent spends more than its budget (simultaneous: its revenue; prepaid: its
  wallet);
* electricity: sold on post ``t`` ``Q^t = Σ_j n_j q_j^t`` = held after trading
  ``Σ_i n_i x_i^t`` (a post that does not trade leaves offers with their producers), and held =
  consumed + burnt by verification ``Σ_i n_i (E_is^t + V_is^t)`` in every state;
* goods: ``Ω`` = consumers' goods + producers' goods + inputs (+ ``ρK`` in the long run).

Any mismatch beyond rounding (``rtol`` relative to the post's volume) raises
:class:`LedgerError` naming the round, the post and the quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class LedgerError(RuntimeError):
    """A ledger that does not balance; the message names the round and the post."""


@dataclass(frozen=True)
class LedgerEntry:
    """The balanced totals of one round: per post, bytecoins and electricity, per state
    electricity burnt."""

    paid: np.ndarray          # (T+1,) bytecoins paid on trading posts
    received: np.ndarray      # (T+1,) bytecoins received by sellers
    produced: np.ndarray      # (T,) electricity offered
    consumed: np.ndarray      # (S, T)
    burnt: np.ndarray         # (S, T)
    goods: float              # Ω accounted for


def audit(economy, profile, outcome, *, where: str = "round ?", rtol: float = 1e-9,
          wallets: tuple[np.ndarray, np.ndarray] | None = None,
          budgets: bool = True) -> LedgerEntry:
    """Check the ledger of one round; return its totals or raise :class:`LedgerError`.

    ``wallets = (consumer_wallets, producer_wallets)`` are the bytecoins each type's agent
    carried into the round (prepaid settlement); by default each type's budget is what the
    settlement rule gives (its revenue; the wallet it holds). ``budgets=False`` checks the
    conservation laws only (for profiles that are not strategies anyone would play).
    """
    c, p = economy.consumers, economy.producers
    nc, npr = c.count, p.count
    T = economy.periods
    labels = ("goods",) + tuple(economy.labels)
    active = np.asarray(outcome.active, dtype=bool)
    prices = np.where(active, outcome.prices, 0.0)
    B = nc @ profile.consumer_bids + npr @ profile.producer_bids
    Q = np.concatenate([[economy.goods_supply], npr @ profile.offers])
    paid = np.where(active, B, 0.0)
    received = prices * Q
    for t in range(T + 1):
        scale = max(abs(paid[t]), abs(received[t]), 1e-300)
        if abs(paid[t] - received[t]) > rtol * scale:
            raise LedgerError(f"{where}, post {t} ({labels[t]}): bytecoins paid {paid[t]:.12g} "
                              f"!= bytecoins received by sellers {received[t]:.12g}")
    # Bytecoins per agent: spending within the budget.
    for role, pop, play in (("consumer", c, outcome.consumers), ("producer", p, outcome.producers)):
        if len(pop) == 0 or not budgets:
            continue
        spent = np.where(active[None, :], profile.consumer_bids if role == "consumer"
                         else profile.producer_bids, 0.0).sum(axis=1)
        if wallets is not None:
            budget = wallets[0] if role == "consumer" else wallets[1]
        elif economy.market.prepaid:
            budget = np.where(np.isnan(pop.wallet), play.revenue, pop.wallet)
        else:
            budget = play.revenue
        over = spent - budget > rtol * np.maximum(np.abs(budget), 1e-300) + 1e-12
        if np.any(over):
            i = int(np.flatnonzero(over)[0])
            raise LedgerError(f"{where}, {role} '{pop.names[i]}': spends {spent[i]:.12g} "
                              f"bytecoins, more than its budget {budget[i]:.12g}")
    # Electricity: sold = held = consumed + burnt, per post and state.
    held = nc @ outcome.consumers.electricity + npr @ outcome.producers.electricity \
        if len(c) else npr @ outcome.producers.electricity
    consumed = (np.einsum("i,ist->st", nc, outcome.consumers.consumption) if len(c) else 0.0) \
        + (np.einsum("i,ist->st", npr, outcome.producers.consumption) if len(p) else 0.0)
    burnt = (np.einsum("i,ist->st", nc, outcome.consumers.verification) if len(c) else 0.0) \
        + (np.einsum("i,ist->st", npr, outcome.producers.verification) if len(p) else 0.0)
    consumed = np.broadcast_to(consumed, (economy.S, T))
    burnt = np.broadcast_to(burnt, (economy.S, T))
    for t in range(T):
        scale = max(Q[t + 1], 1e-300)
        if abs(held[t] - Q[t + 1]) > rtol * scale:
            raise LedgerError(f"{where}, post {t + 1} ({labels[t + 1]}): electricity offered "
                              f"{Q[t + 1]:.12g} != electricity held after trading {held[t]:.12g}")
        for s in range(economy.S):
            if abs(consumed[s, t] + burnt[s, t] - held[t]) > rtol * scale:
                raise LedgerError(
                    f"{where}, post {t + 1} ({labels[t + 1]}), state {s + 1}: electricity held "
                    f"{held[t]:.12g} != consumed {consumed[s, t]:.12g} + burnt by verification "
                    f"{burnt[s, t]:.12g}")
    # Goods: Ω = consumers' goods + producers' goods + inputs (+ capacity cost).
    goods = float(nc @ outcome.consumers.goods) if len(c) else 0.0
    if len(p):
        cap_cost = (np.nan_to_num(p.capacity_cost) * profile.capacity
                    if economy.market.long_run else np.zeros(len(p)))
        goods += float(npr @ (outcome.producers.goods + outcome.producers.inputs.sum(axis=1)
                              + cap_cost))
    Omega = economy.goods_supply
    if abs(goods - Omega) > rtol * max(Omega, 1e-300) * 10:
        raise LedgerError(f"{where}, post 0 (goods): goods offered {Omega:.12g} != consumed + "
                          f"inputs{' + capacity cost' if economy.market.long_run else ''} "
                          f"{goods:.12g}")
    return LedgerEntry(paid=paid, received=received, produced=Q[1:].copy(),
                       consumed=np.array(consumed), burnt=np.array(burnt), goods=goods)


def check_wallet_carry(revenue_before: np.ndarray, wallet_now: np.ndarray, *, where: str,
                       names: tuple[str, ...], rtol: float = 1e-9) -> None:
    """Prepaid settlement: the wallet a round spends from is what the previous round earned."""
    gap = np.abs(wallet_now - revenue_before)
    bad = gap > rtol * np.maximum(np.abs(revenue_before), 1e-300)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise LedgerError(f"{where}, '{names[i]}': carried a wallet of {wallet_now[i]:.12g} "
                          f"bytecoins, but earned {revenue_before[i]:.12g} the round before")
