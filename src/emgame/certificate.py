"""The certificate (docs/model.md, Solution concepts): how much one agent of each type could gain
by deviating
alone, found independently of the solver that produced the profile.

The profile's outcome comes from the market rules (:func:`emgame.market.evaluate`). For one
agent of every type, facing the others' totals (or, for the competitive benchmark, the prices),
:mod:`emgame.agents` bounds the best objective over *all* its strategies from above by the
Lagrangian dual (weak duality), each one-dimensional piece bounded with proof, so

    regret = bound - objective at the profile

is an upper bound on the true gain: a type that passes (``regret <= max(atol, rtol·|U|)``)
cannot gain more than that by any deviation, participation and capacity included. A type whose
bound stays above the pass mark fails when a deviation that gains more is exhibited (scored by
the market rules), and is otherwise *inconclusive*, never passed. Under prepaid settlement the
objective is ``u + βλ̄R`` with ``λ̄`` recovered from the profile's own first-order conditions.
The certificate shares no code with the solvers: it takes utility and its derivatives from
:mod:`emgame.market.utility`, and the solvers' multipliers, when given, only start its searches.

For a competitive benchmark the same bound is taken for price takers at the benchmark's
prices, and every market must clear: electricity on every post (what agents receive equals
what producers offer) and goods (consumption, inputs and capacity cost equal ``Ω``), each
within ``rtol``.
"""

from __future__ import annotations

import numpy as np

from emgame._numerics import clock
from emgame.agents.storage import storage_verdicts
from emgame.agents.verdict import verdicts
from emgame.market.game import Outcome, Profile, evaluate
from emgame.model.economy import Economy
from emgame.results import Certificate, Multipliers


def clearing(economy: Economy, profile: Profile, outcome: Outcome) -> np.ndarray:
    """Relative excess demand of every post at a price-taking outcome, goods first ``(T+1,)``:
    ``|demand - supply| / max(demand, supply)`` (0 where both are 0)."""
    nc, npr = economy.consumers.count, economy.producers.count
    demand = np.zeros(economy.periods + 1)
    demand[1:] = nc @ outcome.consumers.electricity + npr @ outcome.producers.electricity
    demand[0] = nc @ outcome.consumers.goods_received + npr @ outcome.producers.goods_received
    supply = np.concatenate([[economy.goods_supply], npr @ profile.offers])
    if economy.has_storage and outcome.storage is not None:
        # Storage operators buy (demand) and discharge (supply) like everyone else.
        ns = economy.storage.count
        demand[1:] += ns @ outcome.storage.electricity
        demand[0] += ns @ outcome.storage.goods_received
        supply[1:] += ns @ profile.storage_offers
    scale = np.maximum(np.abs(demand), np.abs(supply))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, np.abs(demand - supply) / np.where(scale > 0, scale, 1.0),
                        0.0)


def certify(economy: Economy, profile: Profile, *, multipliers: Multipliers | None = None,
            outcome: Outcome | None = None, atol: float = 1e-8, rtol: float = 1e-8,
            price_taking: bool = False, max_seconds: float = 120.0) -> Certificate:
    """Bound every type's gain from a unilateral deviation (price takers: at fixed prices).

    ``outcome`` is the profile's market outcome (computed by the game's rules when omitted; a
    price-taking certificate needs the outcome at the benchmark's prices). ``multipliers`` (a
    solver's) only choose where the searches start. After ``max_seconds`` the searches over the
    dual's multipliers stop where they are: each bound found stands, and a type whose bound is
    then not under its pass mark is inconclusive, never passed.
    """
    if outcome is None:
        if price_taking:
            raise ValueError("a price-taking certificate needs the outcome at the benchmark's "
                             "prices: evaluate(economy, profile, prices)")
        outcome = evaluate(economy, profile)
    if not price_taking and (outcome.others is None or (
            economy.has_storage and outcome.storage_others is None)):
        outcome = evaluate(economy, profile)
    hints = None
    if multipliers is not None:
        hints = (multipliers.consumer_budget, multipliers.producer_budget,
                 multipliers.producer_goods)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        cons, prod = verdicts(economy, profile, outcome, price_taking=price_taking,
                              atol=atol, rtol=rtol, hints=hints,
                              deadline=clock() + max_seconds)
    notes = []
    reasons = {}
    for role, pop, v in (("consumers", economy.consumers, cons),
                         ("producers", economy.producers, prod)):
        if np.any(v.infeasible):
            names = [pop.names[i] for i in np.flatnonzero(v.infeasible)]
            notes.append(f"{role} {names}: the profile spends more than the budget (or wallet) "
                         "allows, or leaves goods or electricity below zero or offers above "
                         "capacity: infeasible")
        for i in np.flatnonzero(v.inconclusive):
            reasons[f"{role}/{pop.names[i]}"] = v.reasons[i]
    method = ("Lagrangian dual bound of each agent's own problem (weak duality), every "
              "one-dimensional piece bounded with proof, "
              + ("price takers at the equilibrium prices" if price_taking
                 else "against the others' totals"))
    clear = clearing(economy, profile, outcome) if price_taking else None
    stor = storage_verdicts(economy, profile, outcome, price_taking=price_taking, atol=atol,
                            rtol=rtol)
    for k in np.flatnonzero(stor.inconclusive):
        reasons[f"storage/{economy.storage.names[k]}"] = stor.reasons[k]
    if len(economy.storage):
        method += ("; storage operators: weak-duality bound of the net money of their "
                   "schedules (a concave program with linear state-of-charge constraints)")
    details = {"consumers": {"bound": cons.bound, "lam": cons.lam},
               "producers": {"bound": prod.bound, "lam": prod.lam}}
    return Certificate(consumer_regret=cons.regret, producer_regret=prod.regret,
                       consumer_utility=cons.objective, producer_utility=prod.objective,
                       atol=atol, rtol=rtol, method=method, notes=tuple(notes), details=details,
                       consumer_inconclusive=cons.inconclusive,
                       producer_inconclusive=prod.inconclusive, consumer_gain=cons.gain,
                       producer_gain=prod.gain, reasons=reasons, clearing=clear,
                       storage_regret=stor.regret, storage_utility=stor.objective,
                       storage_inconclusive=stor.inconclusive, storage_gain=stor.gain)
