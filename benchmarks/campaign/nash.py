"""An independent solver for the type-symmetric Nash equilibrium (docs/model.md, Solution concepts).

It shares no code with ``emgame.solvers``, ``emgame.agents`` or ``emgame.certificate``: agents'
problems come from :mod:`agent` (the market rules and the model's utilities), and an answer
counts only when :func:`check.check_nash` accepts it.

Method
------
1. **Start.** Consumers spend most of their endowment's value (``p^0 = 1``) across the posts they
   value, in proportion to their weights; producers use part of the goods as inputs, spread over
   the periods by the weights agents put on them, and bid the inputs' cost on goods.
2. **Damped best responses.** Every type's global best response to the current profile
   (:func:`agent.best_response`: participation patterns enumerated, SLSQP, multi-start for
   producers) is computed at once (Jacobi); each type moves a fraction ``α_i`` of the way
   (``α_i = min(0.5, 2/(n_i+1))``: a type of ``n`` agents moving together overshoots by about
   ``n/2``; halved while the residual grows); bids are rescaled so that ``p^0 = 1`` (except
   with exogenous wallets). Under prepaid settlement the best response uses the budget
   ``W + β(R - R̄) - spending`` (:mod:`agent`), whose fixed points are the model's equilibria.
3. **Polish.** With the participation patterns of the last responses fixed, the stacked
   Karush–Kuhn–Tucker conditions of one agent of every type (:mod:`kkt`; the others' totals
   computed from the stacked variables) plus ``B^0 = Ω`` are solved by
   ``scipy.optimize.least_squares`` (finite-difference Jacobian): Newton-fast whatever the
   counts, where the best-response iteration slows down as ``α`` falls.
4. **Check.** :func:`check.check_nash` (global best responses, conservation, budgets,
   feasibility). If it fails, the types that gain move to the deviation it found and the
   iteration resumes; the time limit ends the search with status ``not-found``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emgame.market import Profile, evaluate, others_totals
from emgame.model import Economy

from . import kkt
from .agent import Agent, best_response
from .check import Check, _scales, check_nash


@dataclass
class Result:
    """An independent solve: status ``equilibrium`` only when :mod:`check` accepted it."""

    concept: str
    status: str
    reason: str = ""
    profile: Profile | None = None
    prices: np.ndarray | None = None
    check: Check | None = None
    seconds: float = 0.0
    sweeps: int = 0
    polishes: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "equilibrium"

    def to_dict(self) -> dict[str, Any]:
        return {"concept": self.concept, "status": self.status, "reason": self.reason,
                "seconds": round(self.seconds, 3), "sweeps": self.sweeps,
                "polishes": self.polishes,
                "prices": None if self.prices is None else [
                    None if not np.isfinite(p) else float(p) for p in self.prices],
                "check": None if self.check is None else self.check.to_dict(),
                "log": self.log[-12:]}


# --------------------------------------------------------------------------------------------


def _types(e: Economy) -> list[tuple[str, int]]:
    return [("consumers", i) for i in range(len(e.consumers))] + \
        [("producers", j) for j in range(len(e.producers))]


def initial_profile(e: Economy) -> Profile:
    """A rough interior start (see the module notes)."""
    T = e.periods
    c, p = e.consumers, e.producers
    Omega = e.goods_supply
    cb = np.zeros((len(c), T + 1))
    for i in range(len(c)):
        w = np.concatenate([[c.goods_weight[i] if c.classic[i] else 0.0], c.weights[i]])
        cb[i] = 0.8 * c.endowment[i] * w / max(w.sum(), 1e-300)
    demand = c.count @ c.weights + p.count @ p.weights + 1e-3
    share = demand / demand.sum()
    offers = np.zeros((len(p), T))
    pb = np.zeros((len(p), T + 1))
    K = np.zeros(len(p))
    goods_each = 0.5 * Omega / max(p.agents, 1.0)
    for j in range(len(p)):
        phi = goods_each * share
        q = p.productivity[j] * phi ** p.returns[j]
        if not e.market.long_run:
            q = np.minimum(q, 0.5 * p.capacity[j])
            K[j] = p.capacity[j]
        else:
            K[j] = q.max()
        offers[j] = q
        cost = ((q / p.productivity[j]) ** (1 / p.returns[j])).sum()
        if e.market.long_run:
            cost += p.capacity_cost[j] * K[j]
        pb[j, 0] = 1.2 * cost
        w = p.weights[j]
        pb[j, 1:] = 0.3 * cost * w / max(w.sum(), 1e-300)
        if p.classic[j]:
            pb[j, 0] += 0.2 * cost
    prof = Profile(cb, pb, offers, K)
    return _normalised(e, prof)


def _normalised(e: Economy, prof: Profile) -> Profile:
    if not e.stationary_wallets:
        return prof
    B0 = float(e.consumers.count @ prof.consumer_bids[:, 0] + e.producers.count
               @ prof.producer_bids[:, 0])
    if B0 <= 0 or not np.isfinite(B0):
        return prof
    return prof.scaled(e.goods_supply / B0)


def _agent(e: Economy, role: str, i: int, Bm, Qm, R: float | None, money: float,
           supply: float, **kw) -> Agent:
    pop = e.producers if role == "producers" else e.consumers
    beta = e.market.discount if e.market.prepaid else 1.0
    W = float(pop.wallet[i]) if (e.market.prepaid and np.isfinite(pop.wallet[i])) else None
    return Agent(e, role, i, Bm=Bm, Qm=Qm, W=W, Rbar=R, beta=beta, money=money, supply=supply,
                 **kw)


def _strategy(prof: Profile, role: str, i: int, long_run: bool):
    if role == "consumers":
        return prof.consumer_bids[i], None, None
    return prof.producer_bids[i], prof.offers[i], (float(prof.capacity[i]) if long_run
                                                     else None)


def _with(prof: Profile, role: str, i: int, b, q, K) -> Profile:
    cb, pb = prof.consumer_bids.copy(), prof.producer_bids.copy()
    off, cap = prof.offers.copy(), prof.capacity.copy()
    if role == "consumers":
        cb[i] = b
    else:
        pb[i] = b
        off[i] = q
        if K is not None:
            cap[i] = K
    return Profile(cb, pb, off, cap)


def best_responses(e: Economy, prof: Profile, seed: int, starts: int = 2):
    """Every type's best response to ``prof``: ``[(role, i, Response)]`` and the scales."""
    out = evaluate(e, prof)
    money, supply = _scales(e, out.bids_total, out.offers_total)
    Bc, Qc, Bp, Qp = others_totals(e, prof)
    res = []
    for role, i in _types(e):
        Bm, Qm = (Bc[i], Qc[i]) if role == "consumers" else (Bp[i], Qp[i])
        R = float((out.consumers if role == "consumers" else out.producers).revenue[i])
        a = _agent(e, role, i, Bm, Qm, R, money, supply)
        b, q, K = _strategy(prof, role, i, e.market.long_run)
        res.append((role, i, best_response(a, b0=b, q0=q, K0=K, starts=starts, seed=seed)))
    return res, money, supply


# --------------------------------------------------------------------------------------------


class _Stack:
    """The stacked KKT system of one agent of every type on fixed patterns."""

    def __init__(self, e: Economy, prof: Profile, patterns: list[tuple[int, ...]],
                 money: float, supply: float) -> None:
        self.e = e
        self.types = _types(e)
        self.patterns = patterns
        self.money, self.supply = money, supply
        self.long_run = e.market.long_run
        self.base = prof
        self.pops = [(e.producers if role == "producers" else e.consumers).select([i])
                      for role, i in self.types]
        agents = self._agents(prof)
        self.probe = agents
        self.sizes = []
        self.fscales = []
        x = []
        for (role, i), pat, a in zip(self.types, patterns, agents, strict=True):
            b, q, K = _strategy(prof, role, i, self.long_run)
            z = a.pack(b, q, K, pat)
            lo, hi = a.bounds(pat)
            z = np.clip(z, np.maximum(lo, np.r_[np.full(len(pat), 1e-12), lo[len(pat):]]), hi)
            fs = kkt.objective_scale(a, pat, z)
            mu = kkt.initial_multipliers(a, pat, z, fs)
            self.sizes.append((len(z), len(mu)))
            self.fscales.append(fs)
            x += [kkt.to_x(z, len(pat)), mu]
        self.x0 = np.concatenate(x)
        # Where each type's multipliers sit (columns) and its rows: for the grouped Jacobian.
        self.mu_cols, self.mu_rows = [], []
        k = 0
        for d, m in self.sizes:
            self.mu_cols.append(list(range(k + d, k + d + m)))
            self.mu_rows.append(np.arange(k, k + d + m))
            k += d + m

    def _agents(self, prof: Profile) -> list[Agent]:
        Bc, Qc, Bp, Qp = others_totals(self.e, prof)
        out = []
        for (role, i), pop in zip(self.types, self.pops, strict=True):
            Bm, Qm = (Bc[i], Qc[i]) if role == "consumers" else (Bp[i], Qp[i])
            # Rbar None: the reference revenue is the profile's own.
            out.append(_agent(self.e, role, i, Bm, Qm, None, self.money, self.supply,
                              pop=pop))
        return out

    def split(self, x: np.ndarray):
        k = 0
        for d, m in self.sizes:
            yield x[k:k + d], x[k + d:k + d + m]
            k += d + m

    def profile(self, x: np.ndarray) -> Profile:
        prof = self.base
        for (role, i), pat, a, (z, _) in zip(self.types, self.patterns, self.probe,
                                             self.split(x), strict=True):
            lo, hi = a.bounds(pat)
            b, q, K = a.unpack(np.clip(kkt.to_z(z, len(pat)), lo, hi), pat)
            if role == "producers" and not self.long_run:
                K = None
            prof = _with(prof, role, i, b, q, K)
        return prof

    def residual(self, x: np.ndarray) -> np.ndarray:
        prof = self.profile(x)
        agents = self._agents(prof)
        r = []
        for pat, a, fs, (z, mu) in zip(self.patterns, agents, self.fscales, self.split(x),
                                       strict=True):
            r.append(kkt.residual(a, pat, z, mu, fs))
        if self.e.stationary_wallets:
            B0 = float(self.e.consumers.count @ prof.consumer_bids[:, 0]
                       + self.e.producers.count @ prof.producer_bids[:, 0])
            r.append([B0 / self.e.goods_supply - 1.0])
        out = np.concatenate(r)
        return np.where(np.isfinite(out), out, 1e6)


def polish(e: Economy, prof: Profile, patterns, money: float, supply: float,
           deadline: float, max_nfev: int = 40) -> tuple[Profile | None, float]:
    """Solve the stacked KKT conditions from ``prof``; ``(profile, residual norm)``."""
    with np.errstate(all="ignore"):
        st = _Stack(e, prof, patterns, money, supply)
        r = kkt.solve_stack(st, max(deadline - time.perf_counter(), 0.5), max_nfev, x_scale=1.0)
        if r is None:
            return None, np.inf
        res = float(np.max(np.abs(r.fun)))
        return _normalised(e, st.profile(r.x)), res


# --------------------------------------------------------------------------------------------


def solve_nash(e: Economy, *, max_seconds: float = 60.0, seed: int = 0, atol: float = 1e-8,
               rtol: float = 1e-8, check_starts: int = 4) -> Result:
    """The type-symmetric Nash equilibrium by the method of the module notes."""
    started = time.perf_counter()
    deadline = started + max_seconds
    log: list[str] = []
    prof = initial_profile(e)
    counts = np.concatenate([e.consumers.count, e.producers.count])
    alpha = np.minimum(0.5, 2.0 / (counts + 1.0))
    last = np.inf
    sweeps = polishes = 0
    best_check: Check | None = None
    best_prof: Profile | None = None
    checked_at = -10
    with np.errstate(all="ignore"):
        while time.perf_counter() < deadline:
            brs, money, supply = best_responses(e, prof, seed + sweeps)
            sweeps += 1
            if any(not np.isfinite(r.value) for _, _, r in brs):
                hopeless = [f"{role} {i}" for role, i, r in brs if not np.isfinite(r.value)]
                log.append(f"sweep {sweeps}: no finite best response for {hopeless}")
            # The step to the responses, relative to the market's scale.
            dist = 0.0
            new = prof
            for k, (role, i, r) in enumerate(brs):
                b, q, K = _strategy(prof, role, i, e.market.long_run)
                if not np.isfinite(r.value):
                    continue
                d = float(np.max(np.abs(r.bids - b))) / money
                if q is not None:
                    d = max(d, float(np.max(np.abs(r.offers - q), initial=0.0)) / supply)
                dist = max(dist, d)
                a = alpha[k]
                nb = b + a * (r.bids - b)
                nq = None if q is None else q + a * (r.offers - q)
                nK = None if K is None else K + a * (r.capacity - K)
                new = _with(new, role, i, nb, nq, nK)
            prof = _normalised(e, new)
            if dist > last * 1.05:
                alpha = np.maximum(alpha * 0.6, 0.02)
            last = dist
            top = max(float(np.max(prof.consumer_bids, initial=0.0)),
                      float(np.max(prof.producer_bids, initial=0.0)))
            if not np.all(np.isfinite(prof.consumer_bids)) or \
                    not np.all(np.isfinite(prof.producer_bids)) or dist > 1e8 or \
                    top > 1e6 * money:
                log.append(f"sweep {sweeps}: bids diverge")
                return Result("nash", "not-found", "best-response iteration diverges (bids "
                              "grow without bound: a sole seller?)",
                              seconds=time.perf_counter() - started, sweeps=sweeps,
                              polishes=polishes, log=log)
            log.append(f"sweep {sweeps}: step {dist:.3g}")
            if dist < 1e-3 or sweeps % 15 == 0:
                patterns = [r.pattern for _, _, r in brs]
                cand, res = polish(e, prof, patterns, money, supply, deadline)
                polishes += 1
                log.append(f"sweep {sweeps}: polish residual {res:.2g}")
                if cand is not None and res < 1e-6 and sweeps - checked_at >= 1:
                    checked_at = sweeps
                    chk = check_nash(e, cand, atol=atol, rtol=rtol, starts=check_starts,
                                     seed=seed)
                    if chk.ok:
                        out = evaluate(e, cand)
                        return Result("nash", "equilibrium", "", cand, out.prices, chk,
                                      time.perf_counter() - started, sweeps, polishes, log)
                    log.append(f"sweep {sweeps}: polished profile fails the check: "
                               f"{chk.violations[:2]}")
                    if best_check is None or chk.max_gain < best_check.max_gain:
                        best_check, best_prof = chk, cand
                    prof = cand
            if dist < 1e-9:
                # Converged best responses that the polish could not finish: check as is.
                chk = check_nash(e, prof, atol=atol, rtol=rtol, starts=check_starts, seed=seed)
                if chk.ok:
                    out = evaluate(e, prof)
                    return Result("nash", "equilibrium", "", prof, out.prices, chk,
                                  time.perf_counter() - started, sweeps, polishes, log)
    reason = f"no equilibrium found within {max_seconds:.0f} s ({sweeps} best-response sweeps"
    reason += f", {polishes} polishes; last step {last:.2g})"
    if best_check is not None:
        reason += f"; best candidate fails: {best_check.violations[0][:200]}"
    return Result("nash", "not-found", reason, best_prof, None, best_check,
                  time.perf_counter() - started, sweeps, polishes, log)
