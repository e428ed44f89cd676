"""Nash equilibrium of the market game (MODEL.md section 6), type-symmetric and active.

Method: the game is aggregative, so an equilibrium is a set of post totals ``(p^t, Q^t)`` at
which every type's replacement response (:mod:`emgame.solvers._responses`) adds up to those
totals. The solver runs Newton's method on the ``2T`` (``2T + 1`` with exogenous wallets)
market-clearing residuals of :mod:`emgame.solvers._aggregate`, with an exact Jacobian assembled
from each type's implicit derivatives; work per iteration is linear in the number of types.

Starts: the competitive equilibrium when given (market power then moves prices away from it),
else a rough guess. When Newton fails from a start, the market power ``τ`` is switched on
gradually (``τ = τ_0 → 1``), each step starting from the last solution.

The answer is a *candidate*: :mod:`emgame.certificate` decides whether it is an equilibrium.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from emgame.market.game import Profile, inputs
from emgame.model.economy import Economy
from emgame.results import Multipliers, Status
from emgame.solvers import checks
from emgame.solvers._aggregate import Aggregate, default_participation
from emgame.solvers._newton import newton
from emgame.solvers.candidate import Candidate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NashOptions:
    """Solver settings.

    Newton stops when every market-clearing residual (relative) is below ``atol``.
    ``tau0`` is where the market-power continuation starts when a direct solve fails.
    """

    atol: float = 1e-12
    max_iter: int = 60
    tau0: float = 0.02
    max_continuation_steps: int = 200


def rough_start(economy: Economy) -> tuple[np.ndarray, np.ndarray]:
    """A guess at ``(p, Q)``: goods spread over valued periods as inputs, spending by weights."""
    T = economy.periods
    prod, cons = economy.producers, economy.consumers
    Omega = economy.goods_supply
    valued = np.zeros(T, dtype=bool)
    spend = np.zeros(T)
    for pop in (cons, prod):
        if len(pop):
            valued |= (pop.weights > 0).any(axis=0)
            w = pop.weights / np.maximum(pop.weights.sum(axis=1, keepdims=True), 1e-300)
            spend += pop.count @ w
    n_valued = max(int(valued.sum()), 1)
    per_agent = Omega / (n_valued * max(prod.agents, 1.0))
    K = np.where(np.isnan(prod.capacity), np.inf, prod.capacity)
    q = np.minimum(prod.productivity * per_agent ** prod.returns, 0.5 * K)
    Q = np.where(valued, float(prod.count @ q), 1.0)
    share = spend / max(spend.sum(), 1e-300)
    p = np.concatenate([[1.0], np.where(valued, Omega * share / Q, 0.0)])
    return p, np.concatenate([[Omega], Q])


def solve_nash(economy: Economy, options: NashOptions | None = None,
               starts: list[tuple[str, tuple[np.ndarray, np.ndarray]]] | None = None
               ) -> Candidate:
    """Find a Nash equilibrium candidate; see the module notes for the method.

    ``starts`` are named ``(p, Q)`` guesses tried first (e.g. a neighbour's solution, the
    competitive benchmark); a rough guess follows, and each is also tried marked up.
    """
    opts = options or NashOptions()
    reason = checks.before_nash(economy)
    if reason:
        return Candidate("nash", False, Status.NO_EQUILIBRIUM, reason)
    # Market power raises prices above the benchmark's: where producers earn nothing at the
    # benchmark (constant returns), responses exist only above it. Try plain and marked-up
    # starts; the markup is the Cournot one for N sellers, (N/(N-1))².
    N = economy.producers.agents
    markup = float(np.clip((N / (N - 1)) ** 2, 1.05, 4.0)) if N > 1 else 2.0
    base = list(starts or [])
    base.append(("rough", rough_start(economy)))
    starts = []
    for name, (p, Q) in base:
        starts.append((name, (p, Q)))
        up = p.copy()
        up[1:] *= markup
        starts.append((f"{name} x{markup:.3g}", (up, Q)))
    tried = []
    evaluations = 0
    for name, (p0, Q0) in starts:
        agg = _fresh(economy)  # no warm starts left over from a failed attempt
        y0 = agg.unknowns(p0, Q0)
        agg(y0, False)
        if np.any(agg.status_p != 0) or np.any(agg.status_c == 2):
            tried.append(f"{name} start: some type has no response at these totals; skipped")
            evaluations += agg.evaluations
            continue
        r = newton(agg, agg.unknowns(p0, Q0), atol=opts.atol, max_iter=opts.max_iter)
        tried.append(f"{name} start: {r.message} (residual {r.residual:.2e})")
        if not r.converged:
            r = _continuation(agg, agg.unknowns(p0, Q0), opts, tried, name)
        evaluations += agg.evaluations
        if r is not None and r.converged:
            return _candidate(economy, agg, r.y, r, tried)
    infeasible = _unaffordable(economy, agg)
    if infeasible:
        return Candidate("nash", False, Status.INFEASIBLE, infeasible,
                         diagnostics={"starts": tried})
    return Candidate("nash", False, Status.NO_EQUILIBRIUM,
                     "Newton's method did not converge from any start; " + "; ".join(tried),
                     diagnostics={"starts": tried}, evaluations=evaluations)


def _fresh(economy: Economy) -> Aggregate:
    agg = Aggregate(economy, 1.0, np.zeros(0), np.zeros(0))
    agg.consumer_part = default_participation(economy, agg.C, producers=False)
    agg.producer_part = default_participation(economy, agg.P, producers=True)
    return agg


def _continuation(agg: Aggregate, y0: np.ndarray, opts: NashOptions, tried: list[str],
                  name: str):
    """Switch market power on gradually: solve at ``τ_0``, then step ``τ`` up to 1."""
    tau = opts.tau0
    agg.tau = tau
    r = newton(agg, y0, atol=opts.atol, max_iter=opts.max_iter)
    if not r.converged:
        tried.append(f"{name} start, continuation from τ = {tau:g}: {r.message}")
        return None
    y = r.y
    step = 0.1
    for _ in range(opts.max_continuation_steps):
        nxt = min(1.0, tau + step)
        agg.tau = nxt
        r = newton(agg, y, atol=opts.atol, max_iter=opts.max_iter)
        if r.converged:
            y, tau = r.y, nxt
            if tau >= 1.0:
                tried.append(f"{name} start: converged by continuation in τ")
                return r
            step = min(step * 1.5, 0.5)
        else:
            agg.tau = tau
            agg(y, False)  # restore warm starts at the last good point
            step *= 0.5
            if step < 1e-4:
                break
    agg.tau = 1.0
    tried.append(f"{name} start: continuation stalled at τ = {tau:.4g}")
    return None


def _unaffordable(economy: Economy, agg: Aggregate) -> str | None:
    bad = np.flatnonzero(agg.status_c == 1)
    if bad.size:
        names = ", ".join(f"'{economy.consumers.names[i]}'" for i in bad[:5])
        return (f"consumer type(s) {names} cannot afford the verification of payments on every "
                "period they value: their income is below the fixed verification energy's cost")
    return None


def _candidate(economy: Economy, agg: Aggregate, y: np.ndarray, r, tried: list[str]) -> Candidate:
    """Turn the converged totals into a profile (bids ``b = p x``), with multipliers."""
    p, Q = agg.totals(y)
    agg(y, False)
    T = economy.periods
    consumer_bids = p[None, :] * agg.x_c
    producer_bids = p[None, :] * agg.x_p
    offers = agg.q_p[:, 1:].copy()
    long_run = economy.market.long_run
    capacity = agg.z_p[:, 2].copy() if long_run else agg.Kbar.copy()
    profile = Profile(consumer_bids, producer_bids, offers, capacity)
    mult = Multipliers(
        consumer_budget=agg.lam_c.copy(),
        producer_budget=np.exp(agg.z_p[:, 0]),
        producer_goods=np.exp(agg.z_p[:, 1]),
        producer_capacity=agg.mu_p[:, 1:].copy(),
    )
    status_bad = int(np.sum(agg.status_c != 0) + np.sum(agg.status_p != 0))
    diag = {"starts": tried, "residual": r.residual, "tau": agg.tau,
            "types_not_converged": status_bad,
            "inputs_check": float(np.max(np.abs(
                agg.x_p[:, 0] - inputs(economy.producers, offers).sum(axis=1)
                - (economy.producers.capacity_cost * capacity if long_run else 0.0))))
            if len(economy.producers) and not np.any(economy.producers.classic) else 0.0}
    return Candidate("nash", status_bad == 0, Status.EQUILIBRIUM if status_bad == 0
                     else Status.NO_EQUILIBRIUM,
                     "" if status_bad == 0 else f"{status_bad} type response(s) did not converge",
                     profile=profile, multipliers=mult, iterations=r.iterations,
                     evaluations=agg.evaluations, diagnostics=diag, totals=(p, Q))
