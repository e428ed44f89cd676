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

from emgame.agents.problem import best_deviation
from emgame.market.game import Outcome, Profile, evaluate, others_totals
from emgame.model.economy import Economy
from emgame.results import Certificate, Multipliers


def _tolerance(U: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    return np.maximum(atol, rtol * np.abs(np.where(np.isfinite(U), U, 0.0)))


def certify(economy: Economy, profile: Profile, *, multipliers: Multipliers | None = None,
            outcome: Outcome | None = None, atol: float = 1e-8, rtol: float = 1e-8,
            price_taking: bool = False) -> Certificate:
    """Bound every type's gain from a unilateral deviation (price takers: at fixed prices).

    ``multipliers`` (the solver's) only choose where the bound's search starts, except under
    prepaid settlement, where the agent's own wallet multiplier ``λ̄`` is part of its
    objective ``u + βλ̄R`` (MODEL.md section 5).
    """
    out = outcome or evaluate(economy, profile)
    m = economy.market
    beta = m.discount if m.prepaid else 1.0
    regrets = []
    utilities = []
    notes = []
    details = {}
    roles = (
        ("consumers", economy.consumers, out.consumers, False),
        ("producers", economy.producers, out.producers, True),
    )
    Bc, Qc, Bp, Qp = (None,) * 4 if price_taking else others_totals(economy, profile)
    for role, pop, play, producer in roles:
        n = len(pop)
        if n == 0:
            regrets.append(np.zeros(0))
            utilities.append(np.zeros(0))
            continue
        if multipliers is not None:
            lam = multipliers.producer_budget if producer else multipliers.consumer_budget
            nu = multipliers.producer_goods if producer else None
        else:
            lam, nu = None, None
        U = play.utility.copy()
        revenue_value = wallet = None
        if m.prepaid:
            if lam is None:
                raise ValueError("prepaid settlement: the certificate needs each type's wallet "
                                 "multiplier λ̄ (its objective is u + βλ̄R)")
            revenue_value = beta * lam
            wallet = np.where(np.isnan(pop.wallet), play.revenue, pop.wallet)
            U = U + revenue_value * play.revenue
        tol = _tolerance(U, atol, rtol)
        B_minus, Q_minus = ((Bp, Qp) if producer else (Bc, Qc))
        dev = best_deviation(
            economy, pop, play, producers=producer, B_minus=B_minus, Q_minus=Q_minus,
            prices=out.prices if price_taking else None, revenue_value=revenue_value,
            wallet=wallet, lam0=lam, nu0=nu,
            offers=profile.offers if producer else None,
            capacity=profile.capacity if producer else None, target=U + tol)
        with np.errstate(invalid="ignore"):
            regret = np.where(np.isfinite(U), dev.bound - U, np.inf)
        # Utility -inf now and at every deviation (e.g. a price taker with no profit that values
        # only electricity): nothing to gain.
        hopeless = np.isneginf(dev.bound)
        if np.any(hopeless):
            regret = np.where(hopeless, 0.0, regret)
            names = [pop.names[i] for i in np.flatnonzero(hopeless)]
            notes.append(f"{role} {names}: utility is -inf at every deviation (no income to "
                         "buy what it values): nothing to gain")
        regrets.append(regret)
        utilities.append(U)
        details[role] = {"bound": dev.bound, "lam": dev.lam}
        if np.any(dev.linear):
            notes.append(f"{role}: CES utility bounded through its supergradient (first order)")
    method = ("Lagrangian dual bound of each agent's own problem (weak duality), "
              + ("price takers at the equilibrium prices" if price_taking
                 else "against the others' totals"))
    return Certificate(consumer_regret=regrets[0], producer_regret=regrets[1],
                       consumer_utility=utilities[0], producer_utility=utilities[1],
                       atol=atol, rtol=rtol, method=method, notes=tuple(notes), details=details)
