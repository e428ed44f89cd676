"""Economies known to have no active equilibrium, detected before any solving (MODEL.md §3, §6).

Each check returns a reason (naming the type and post) or ``None``.
"""

from __future__ import annotations

import numpy as np

from emgame.market.game import inputs
from emgame.model.economy import Economy


def no_trade(economy: Economy) -> str | None:
    """Nobody values electricity in any period: there is nothing to trade."""
    valued = np.zeros(economy.periods, dtype=bool)
    for pop in (economy.consumers, economy.producers):
        if len(pop):
            valued |= (pop.weights > 0).any(axis=0)
    if not valued.any():
        return "no agent values electricity in any period: no post with positive weight can trade"
    return None


def sole_sellers(economy: Economy) -> str | None:
    """A lone seller that values what it sells bids without bound ((2), (4); Nash only).

    Under prepaid settlement with ``β < 1`` its own bid comes back worth only ``βλ``, so the
    rule applies to simultaneous settlement and ``β = 1``.
    """
    m = economy.market
    if m.prepaid and m.discount < 1.0:
        return None
    prod, cons = economy.producers, economy.consumers
    labels = economy.labels
    if len(prod) and prod.agents == 1:
        j = int(np.flatnonzero(prod.count > 0)[0])
        valued = np.flatnonzero(prod.weights[j] > 0)
        if valued.size:
            t = int(valued[0])
            return (f"producer type '{prod.names[j]}' is a single agent, the only seller on post "
                    f"{t + 1} ('{labels[t]}'), and values its electricity: by (4) it gets back "
                    "every bytecoin it bids there (Q_-j = 0), so it bids without bound and no "
                    "Nash equilibrium exists")
    if len(cons) and cons.agents == 1:
        h = int(np.flatnonzero(cons.count > 0)[0])
        if cons.classic[h] and cons.goods_weight[h] > 0:
            return (f"consumer type '{cons.names[h]}' is a single agent, the only seller on the "
                    "goods post, and values goods: by (2) it gets back every bytecoin it bids "
                    "there, so it bids without bound and no Nash equilibrium exists")
    return None


def vanishing_monopoly(economy: Economy) -> str | None:
    """A lone producer that values only goods, facing buyers whose spending on electricity
    does not depend on its price (Cobb–Douglas, unit-elastic demand): its revenue is the same
    whatever it sells, so it shrinks output towards nothing and no active equilibrium exists
    (MODEL.md §6)."""
    prod, cons = economy.producers, economy.consumers
    if not len(prod) or prod.agents != 1:
        return None
    j = int(np.flatnonzero(prod.count > 0)[0])
    if np.any(prod.weights[j] > 0) or not prod.classic[j]:
        return None
    from emgame.market.utility import CD

    if not np.all(cons.family == CD) or economy.costly_verification:
        return None
    return (f"producer type '{prod.names[j]}' is a single agent that values only goods and "
            "faces Cobb–Douglas buyers, whose spending on electricity does not depend on its "
            "price: its revenue is the same whatever it offers, so it cuts output (and its "
            "inputs) towards nothing, and there is no active Nash equilibrium")


def worthless_goods(economy: Economy) -> str | None:
    """All-``ai`` economy whose producers cannot use all goods even at full capacity (§3)."""
    if economy.market.long_run:
        return None
    if np.any(economy.consumers.classic) or np.any(economy.producers.classic):
        return None
    prod = economy.producers
    if not len(prod):
        return None
    valued = np.zeros(economy.periods, dtype=bool)
    for pop in (economy.consumers, prod):
        valued |= (pop.weights > 0).any(axis=0)
    K = np.broadcast_to(prod.capacity[:, None], (len(prod), economy.periods))
    need = float(prod.count @ (inputs(prod, K) * valued[None, :]).sum(axis=1))
    Omega = economy.goods_supply
    if need < Omega:
        return (f"no agent values goods and producers cannot use all of them even at full "
                f"capacity (inputs at capacity {need:.6g} < Ω = {Omega:.6g}): goods are "
                "worthless, goods bids race to zero and there is no active equilibrium with "
                "p^0 > 0; make some type 'classic' (goods valued) or raise capacity")
    return None


def before_nash(economy: Economy) -> str | None:
    return (no_trade(economy) or sole_sellers(economy) or worthless_goods(economy)
            or vanishing_monopoly(economy))


def before_competitive(economy: Economy) -> str | None:
    return no_trade(economy) or worthless_goods(economy)
