"""The certificate (MODEL.md section 6): how much one agent of each type could gain by deviating
alone, found independently of the solver that produced the profile.

The profile's outcome comes from the market rules (:func:`emgame.market.evaluate`). For one
agent of every type, facing the others' totals, :func:`emgame.agents.best_deviation` bounds the
best objective over *all* its strategies from above by the Lagrangian dual (weak duality), so

    regret = bound - objective at the profile

is an upper bound on the true gain: a type that passes (``regret <= max(atol, rtol·|U|)``)
cannot gain more than that by any deviation, participation and capacity included. It shares no
equation with the solvers: those solve first-order conditions in post totals; this maximises
each agent's own payoff over its own strategy set.

For a competitive benchmark the same bound is taken for price takers: the gain an agent could
get at the equilibrium prices by re-optimising, with markets clearing by construction.
"""

from __future__ import annotations

import numpy as np

from emgame.agents.problem import deviations
from emgame.market.game import Outcome, Profile
from emgame.model.economy import Economy
from emgame.results import Certificate, Multipliers


def certify(economy: Economy, profile: Profile, *, multipliers: Multipliers | None = None,
            outcome: Outcome | None = None, atol: float = 1e-8, rtol: float = 1e-8,
            price_taking: bool = False) -> Certificate:
    """Bound every type's gain from a unilateral deviation (price takers: at fixed prices).

    ``multipliers`` (the solver's) only choose where the bound's search starts, except under
    prepaid settlement, where the agent's own wallet multiplier ``λ̄`` is part of its
    objective ``u + βλ̄R`` (MODEL.md section 5).
    """
    lams = None
    if multipliers is not None:
        lams = (multipliers.consumer_budget, multipliers.producer_budget,
                multipliers.producer_goods)
    cons, prod = deviations(economy, profile, budget_multipliers=lams, outcome=outcome,
                            atol=atol, rtol=rtol, price_taking=price_taking)
    notes = []
    details = {}
    for role, pop, d in (("consumers", economy.consumers, cons),
                         ("producers", economy.producers, prod)):
        if np.any(d.hopeless):
            names = [pop.names[i] for i in np.flatnonzero(d.hopeless)]
            notes.append(f"{role} {names}: utility is -inf at every deviation (no income to "
                         "buy what it values): nothing to gain")
        if np.any(d.overspent):
            names = [pop.names[i] for i in np.flatnonzero(d.overspent)]
            notes.append(f"{role} {names}: the profile spends more than the budget (or wallet) "
                         "allows: infeasible")
        if np.any(d.deviation.linear):
            notes.append(f"{role}: CES utility bounded through its supergradient (first order)")
        details[role] = {"bound": d.deviation.bound, "lam": d.deviation.lam}
    method = ("Lagrangian dual bound of each agent's own problem (weak duality), "
              + ("price takers at the equilibrium prices" if price_taking
                 else "against the others' totals"))
    return Certificate(consumer_regret=cons.regret, producer_regret=prod.regret,
                       consumer_utility=cons.objective, producer_utility=prod.objective,
                       atol=atol, rtol=rtol, method=method, notes=tuple(notes), details=details)
