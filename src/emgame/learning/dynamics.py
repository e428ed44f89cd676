"""Best-response dynamics and fictitious play with emgame's continuous best responses.

A type-symmetric profile ``s_k`` (every agent of a type plays the same) is updated by every
type's best response to it, one agent deviating alone against the others' totals (the
Lagrangian maximiser of :func:`emgame.agents.verdict.deviations`, exact in concave cases;
:func:`emgame.solvers.dynamics.best_response`, which the Nash solver uses too):

* best-response dynamics: ``s_{k+1} = (1 - w) s_k + w BR(s_k)`` (``w = 1``: plain Jacobi;
  ``w < 1`` damped);
* fictitious play: ``s_{k+1} = s_k + (BR(s_k) - s_k)/(k + 2)``, the running average of the best
  responses (the time-averaged play).

Best responses are returned as quantities (electricity and goods received, offers); a bid is
the payment that buys them against the others' bids, ``b^t = x^t B_-^t / (Q^t - x^t)`` with
``Q^t`` the post's supply after the deviation. Bids are homogeneous of degree one, so every
iterate is rescaled to ``p^0 = 1`` (``B^0 = Ω``). The run stops when every type's regret bound
(from the same call) is below the certificate's ``max(atol, rtol·|U|)``, or after
``max_iter``; the limit is then
certified by emgame's certificate and compared with emgame's certified Nash equilibrium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emgame.learning import _emgame as E


@dataclass(frozen=True, eq=False)
class DynamicsResult:
    """Where the dynamics went from one start: converged or not, the limit, its certificate."""

    method: str
    start: str
    converged: bool
    iterations: int
    profile: Any
    max_regret: float
    regrets: np.ndarray                  # max regret per iteration
    prices: np.ndarray                   # relative prices at the end
    certified: bool | None = None
    price_gap_to_nash: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "start": self.start, "converged": self.converged,
                "iterations": self.iterations, "max_regret": self.max_regret,
                "relative_prices": self.prices.tolist(), "certified": self.certified,
                "price_gap_to_nash": self.price_gap_to_nash, "notes": list(self.notes)}


# The best responses and the budget fit are the Nash solver's (emgame.solvers.dynamics).
best_response = E.best_response
fit_budgets = E.fit_budgets


def run_dynamics(economy: Any, start: Any, *, method: str = "best-response",
                 weight: float = 0.5, max_iter: int = 300, rtol: float = 1e-8,
                 atol: float = 1e-8, start_name: str = "given",
                 nash: Any = None) -> DynamicsResult:
    """Iterate best-response dynamics (``weight``) or fictitious play from ``start``."""
    if economy.market.prepaid:
        raise ValueError("best-response dynamics need simultaneous settlement (under prepaid "
                         "settlement a best response depends on the wallet multiplier)")
    p = fit_budgets(economy, E.normalise(economy, start))
    history = []
    valued = np.concatenate([[True], np.asarray(economy.valued_periods, dtype=bool)])
    notes: list[str] = []
    converged = False
    k = 0
    for k in range(max_iter):
        br, worst, (regret, U) = best_response(economy, p)
        out = E.evaluate(economy, p)
        # The certificate's rule, type by type: regret <= max(atol, rtol |U|).
        tol = np.maximum(atol, rtol * np.abs(np.where(np.isfinite(U), U, 0.0)))
        history.append(worst)
        if not np.all(out.active[valued]):
            notes.append(f"iteration {k}: a valued post stopped trading (the dynamics fell to "
                         "the no-trade profile, always an equilibrium, never the object of study)")
            break
        if np.all(np.isfinite(regret) & (regret <= tol)):
            converged = True
            break
        w = weight if method == "best-response" else 1.0 / (k + 2)
        p = fit_budgets(economy, E.normalise(economy, E.mix(p, br, w)))
    out = E.evaluate(economy, p)
    cert = E.certify(economy, p)
    gap = None
    if nash is not None and nash.ok and np.all(out.active[valued]):
        gap = float(np.max(np.abs(out.relative_prices - nash.outcome.relative_prices)
                              / nash.outcome.relative_prices))
    return DynamicsResult(method=method, start=start_name, converged=converged,
                          iterations=k + 1, profile=p, max_regret=float(cert.max_regret),
                          regrets=np.array(history), prices=np.asarray(out.relative_prices),
                          certified=bool(cert.passed) and not notes,
                          price_gap_to_nash=gap, notes=tuple(notes))


def starts(economy: Any, nash: Any = None, competitive: Any = None) -> dict[str, Any]:
    """Starting profiles: the competitive benchmark's, the Nash profile with offers -20% or with
    the consumers' electricity bids tilted ±20% across periods (same spending), and a uniform
    one (bids spread evenly, producers at half capacity)."""
    out: dict[str, Any] = {}
    if competitive is not None and competitive.ok:
        out["competitive"] = competitive.profile
    if nash is not None and nash.ok:
        n = nash.profile
        out["nash, offers -20%"] = E.Profile(n.consumer_bids, n.producer_bids, 0.8 * n.offers,
                                             n.capacity)
        T = economy.periods
        if T > 1:
            # Consumers' electricity bids tilted +-20% in alternate periods, each consumer's
            # spending unchanged (a uniform scaling would only be undone by the budgets).
            tilt = 1.0 + 0.2 * (-1.0) ** np.arange(T)
            el = n.consumer_bids[:, 1:] * tilt[None, :]
            el *= (n.consumer_bids[:, 1:].sum(axis=1) / np.maximum(el.sum(axis=1), 1e-300))[:, None]
            out["nash, consumers' bids tilted"] = E.Profile(
                np.concatenate([n.consumer_bids[:, :1], el], axis=1), n.producer_bids, n.offers,
                n.capacity)
    c, pr = economy.consumers, economy.producers
    T = economy.periods
    if not economy.market.long_run:
        cb = np.tile(c.endowment[:, None] / (T + 1), (1, T + 1))
        offers = np.tile(0.5 * pr.capacity[:, None], (1, T))
        pb = np.full((len(pr), T + 1), float(np.mean(c.endowment)) / (T + 1))
        out["uniform"] = E.Profile(cb, pb, offers, pr.capacity.copy())
    return out
