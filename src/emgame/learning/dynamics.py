"""Best-response dynamics and fictitious play with emgame's continuous best responses.

A type-symmetric profile ``s_k`` (every agent of a type plays the same) is updated by every
type's best response to it, one agent deviating alone against the others' totals (the
Lagrangian maximiser of :func:`emgame.agents.problem.deviations`, exact in concave cases):

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


def _normalise(economy: Any, p: Any) -> Any:
    B0 = economy.consumers.count @ p.consumer_bids[:, 0] + \
        economy.producers.count @ p.producer_bids[:, 0]
    if B0 <= 0:
        return p
    return p.scaled(economy.goods_supply / B0)


def fit_budgets(economy: Any, p: Any, passes: int = 100, rtol: float = 1e-10) -> Any:
    """Make a profile feasible at its own prices (simultaneous settlement): scale down the bids
    of every type that spends more than its budget, and the offers of every producer whose
    goods bid no longer buys its inputs (``x^0 < 0``), renormalising to ``p^0 = 1``, until
    neither happens (to ``rtol``, below the certificate's 1e-9).

    Bytecoins are conserved (every bid is some seller's revenue), so overspenders are matched by
    underspenders; a convex mix of best responses made against different totals can leave some
    agents over budget or short of inputs, which no strategy profile may (docs/model.md, Prices and
    allocations to Budgets).
    """
    pr = economy.producers
    for _ in range(passes):
        out = E.evaluate(economy, p)
        cb, pb = p.consumer_bids.copy(), p.producer_bids.copy()
        offers = p.offers.copy()
        changed = False
        for play, bids in ((out.consumers, cb), (out.producers, pb)):
            over = play.slack < -rtol * np.maximum(play.revenue, 1e-300)
            if np.any(over):
                f = np.where(over, play.revenue / np.maximum(play.spending, 1e-300), 1.0)
                # Slightly under the budget: the next pass's prices move with the scaling.
                bids *= (np.minimum(f, 1.0) * np.where(over, 1 - 2 * rtol, 1.0))[:, None]
                changed = True
        play = out.producers
        inputs = play.inputs.sum(axis=1)
        short = play.goods < -rtol * np.maximum(play.goods_received, 1e-300)
        if np.any(short):
            # φ(f q) = f^{1/c} φ(q): the offers whose inputs the goods received still buy.
            ratio = np.where(short, np.maximum(play.goods_received, 0.0)
                             / np.maximum(inputs, 1e-300), 1.0)
            f = np.where(short, ratio ** pr.returns * (1 - 2 * rtol), 1.0)
            offers *= f[:, None]
            changed = True
        if not changed:
            return p
        p = _normalise(economy, E.Profile(cb, pb, offers, p.capacity))
    return p


def best_response(economy: Any, profile: Any) -> tuple[Any, float, np.ndarray]:
    """Every type's best response to ``profile`` as a profile; ``(profile, max regret,
    [regret per type, objective per type])``."""
    c, pr = economy.consumers, economy.producers
    cons, prod = E.deviations(economy, profile)
    T = economy.periods
    B = c.count @ profile.consumer_bids + pr.count @ profile.producer_bids
    Q = np.concatenate([[economy.goods_supply], pr.count @ profile.offers])

    def bids(x: np.ndarray, paid: np.ndarray, own_bids: np.ndarray, supply: np.ndarray
             ) -> np.ndarray:
        Bm = np.maximum(B[None, :] - own_bids, 0.0)
        room = supply - x
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(paid & (x > 0) & (room > 0), x * Bm / np.where(room > 0, room, 1.0),
                         0.0)
        return np.nan_to_num(b, nan=0.0, posinf=0.0)

    dc = cons.deviation
    supply_c = np.broadcast_to(Q, (len(c), T + 1)).copy()
    new_cb = bids(dc.received, dc.paid, profile.consumer_bids, supply_c)
    dp = prod.deviation
    offers = np.clip(dp.offers[:, 1:], 0.0, None)
    if not economy.market.long_run:
        offers = np.minimum(offers, pr.capacity[:, None])
    supply_p = np.empty((len(pr), T + 1))
    supply_p[:, 0] = economy.goods_supply
    supply_p[:, 1:] = Q[None, 1:] - profile.offers + offers
    new_pb = bids(dp.received, dp.paid, profile.producer_bids, supply_p)
    cap = profile.capacity if not economy.market.long_run else dp.capacity
    new = E.Profile(new_cb, new_pb, offers, cap)
    regret = np.concatenate([cons.regret, prod.regret])
    U = np.concatenate([cons.objective, prod.objective])
    return new, float(np.max(regret)) if regret.size else 0.0, np.stack([regret, U])


def _mix(a: Any, b: Any, w: float) -> Any:
    return E.Profile((1 - w) * a.consumer_bids + w * b.consumer_bids,
                     (1 - w) * a.producer_bids + w * b.producer_bids,
                     (1 - w) * a.offers + w * b.offers, (1 - w) * a.capacity + w * b.capacity)


def run_dynamics(economy: Any, start: Any, *, method: str = "best-response",
                 weight: float = 0.5, max_iter: int = 300, rtol: float = 1e-8,
                 atol: float = 1e-8, start_name: str = "given",
                 nash: Any = None) -> DynamicsResult:
    """Iterate best-response dynamics (``weight``) or fictitious play from ``start``."""
    if economy.market.prepaid:
        raise ValueError("best-response dynamics need simultaneous settlement (under prepaid "
                         "settlement a best response depends on the wallet multiplier)")
    p = fit_budgets(economy, _normalise(economy, start))
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
        p = fit_budgets(economy, _normalise(economy, _mix(p, br, w)))
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
