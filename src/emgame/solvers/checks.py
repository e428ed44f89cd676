"""Economies known to have no active equilibrium, detected before any solving (docs/model.md,
Prices and allocations and Solution concepts).

Each check returns a reason (naming the type and post) or ``None``.
"""

from __future__ import annotations

import numpy as np

from emgame.market.game import inputs
from emgame.model.economy import Economy


def no_trade(economy: Economy) -> str | None:
    """Nobody values electricity in any period: there is nothing to trade."""
    if not economy.valued_periods.any():
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
    (docs/model.md, Solution concepts)."""
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


def _inputs_at_capacity(economy: Economy) -> float:
    """The goods all producers would use as inputs at full capacity in every valued period."""
    prod = economy.producers
    K = prod.capacity[:, None] * prod.availability     # s^t K̄ by period
    return float(prod.count @ (inputs(prod, K) * economy.valued_periods[None, :]).sum(axis=1))


def worthless_goods(economy: Economy) -> str | None:
    """Goods that nobody can absorb (docs/model.md, Prices and allocations): producers cannot use
    them all as inputs even
    at full capacity, and the only agents who value goods — ``classic`` consumers — can buy
    back at most their own endowments (their income is ``p^0 ω_h``, under simultaneous or
    stationary prepaid settlement). Goods are then in excess supply at any ``p^0 > 0``."""
    m = economy.market
    if m.long_run:
        return None
    prod, cons = economy.producers, economy.consumers
    if not len(prod) or np.any(prod.classic & (prod.goods_weight > 0)):
        return None
    absorb = cons.classic & (cons.goods_weight > 0)
    if np.any(absorb) and m.prepaid and not np.all(np.isnan(cons.wallet)):
        return None  # exogenous wallets: incomes are not tied to endowments
    need = _inputs_at_capacity(economy)
    own = float(cons.count[absorb] @ cons.endowment[absorb])
    Omega = economy.goods_supply
    if need + own >= Omega:
        return None
    if not np.any(absorb):
        return (f"no agent values goods and producers cannot use all of them even at full "
                f"capacity (inputs at capacity {need:.6g} < Ω = {Omega:.6g}): goods are "
                "worthless, goods bids race to zero and there is no active equilibrium with "
                "p^0 > 0; make some type 'classic' (goods valued) or raise capacity")
    names = [cons.names[i] for i in np.flatnonzero(absorb)]
    return (f"producers cannot use all the goods even at full capacity, and the only agents who "
            f"value goods, classic consumer type(s) {names}, can buy back at most their own "
            f"endowments (inputs at capacity {need:.6g} + those endowments {own:.6g} < "
            f"Ω = {Omega:.6g}): goods are in excess supply at any p^0 > 0 and there is no "
            "active equilibrium; raise capacity or let more agents value goods")


def goods_left_by_price_takers(economy: Economy) -> str | None:
    """The benchmark's sharper form of :func:`worthless_goods`: a price-taking Cobb–Douglas
    ``classic`` consumer spends the share ``a_0 / (a_0 + Σ_t a_t)`` of its income ``p^0 ω_h``
    on goods whatever the prices (without verification costs), so it absorbs exactly that
    share of its endowment; other classic consumers at most their endowment."""
    from emgame.market.utility import CD

    m = economy.market
    if m.long_run or m.prepaid or economy.costly_verification:
        return None
    prod, cons = economy.producers, economy.consumers
    if not len(prod) or np.any(prod.classic & (prod.goods_weight > 0)):
        return None
    absorb = cons.classic & (cons.goods_weight > 0)
    cdc = absorb & (cons.family == CD)
    if not np.any(cdc):
        return None
    share = np.where(cdc, cons.goods_weight / (cons.goods_weight + cons.weights.sum(axis=1)),
                     1.0)
    need = _inputs_at_capacity(economy)
    own = float((cons.count * share * cons.endowment)[absorb].sum())
    Omega = economy.goods_supply
    if need + own >= Omega * (1.0 - 1e-12):
        return None
    names = [cons.names[i] for i in np.flatnonzero(cdc)]
    return (f"producers cannot use all the goods even at full capacity (inputs at capacity "
            f"{need:.6g}), and price takers who value goods buy back at most {own:.6g} of "
            f"them — the Cobb–Douglas classic consumer type(s) {names} spend a fixed share of "
            f"their income on goods, whatever the prices — so goods (Ω = {Omega:.6g}) are in "
            "excess supply at any p^0 > 0 and there is no competitive equilibrium")


def before_nash(economy: Economy) -> str | None:
    return (no_trade(economy) or sole_sellers(economy) or worthless_goods(economy)
            or vanishing_monopoly(economy))


def before_competitive(economy: Economy) -> str | None:
    return no_trade(economy) or worthless_goods(economy) or goods_left_by_price_takers(economy)
