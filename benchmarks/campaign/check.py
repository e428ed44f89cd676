"""The independent checker: is a profile an equilibrium, by code that shares nothing with emgame's
solvers or certificate?

For a Nash profile (:func:`check_nash`) and for a competitive benchmark (:func:`check_competitive`,
price takers at the given prices) it checks

* **regret**: for one agent of every type, the best objective a generic global search finds by
  deviating alone (:func:`agent.best_response`: participation patterns enumerated, SLSQP from
  several starts, every candidate scored and checked by :func:`emgame.market.play`) minus the
  objective at the profile; it must be ``<= max(atol, rtol·|U|)``. A gain found is attained at
  a feasible strategy, so it is a genuine profitable deviation (a lower bound on the regret);
* **conservation**: bytecoins (revenue = spending, summed over agents), electricity
  (``Σ n x^t = Q^t`` on every post that trades; received = consumed + burnt in every state),
  goods (``Σ n x^0 = Ω``: consumption, inputs and capacity costs use up the endowments);
* **budgets** (revenue, or the wallet under prepaid settlement, covers the bids) and
  **feasibility** (``E >= 0`` in every state and period, a producer's goods ``x^0 >= 0``,
  ``0 <= q <= K``, bids ``>= 0``);
* **normalisation** ``p^0 = 1`` (except with exogenous wallets) and that every valued post
  trades (an *active* equilibrium, docs/model.md, Solution concepts; reported as a note).

Under prepaid settlement the objective is ``u + βλR`` with the wallet ``W`` (stationary: the
revenue at the profile) and ``λ`` held fixed (docs/model.md, The crypto layer). ``λ`` is read off
the profile
by the first-order condition of a positive bid on a valued post,
``λ = (∂u/∂b^t) / (1 - β ∂R/∂b^t)`` (own derivatives of :mod:`agent`, not emgame's); where no
such bid exists, the checker uses the budget ``W + β(R - R̄) - spending``, which has the same
first-order conditions (noted in the result) — except for a type whose utility is ``-inf`` with
a positive wallet: for every finite ``λ`` a deviation within ``W`` that buys what its utility
needs gains ``+inf`` against a finite loss of revenue, so its regret is measured within ``W``.

Any regret above tolerance, or any violated identity or constraint, makes the profile *not an
equilibrium*; if emgame certified it, that is a FALSE CERTIFICATE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emgame.market import Profile, evaluate, others_totals
from emgame.model import Economy

from .agent import Agent, best_response

CONS_TOL = 1e-8
"""Relative tolerance of the conservation identities, budgets and feasibility."""


@dataclass
class Check:
    """The checker's verdict on one profile."""

    ok: bool
    max_gain: float = 0.0
    max_relative_gain: float = 0.0
    gains: list[dict] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "max_gain": _num(self.max_gain),
                "max_relative_gain": _num(self.max_relative_gain), "gains": self.gains,
                "violations": self.violations, "notes": self.notes}


def _num(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else (None if np.isnan(x) else (1e308 if x > 0 else -1e308))


def _scales(e: Economy, B: np.ndarray, Q: np.ndarray) -> tuple[float, float]:
    """Money and electricity per agent: the scales the agents' variables are measured in.

    Money is anchored to the goods post (``B^0 = p^0 Ω``; with exogenous wallets, the wallets)
    rather than to the largest bid, which a sole seller buying its own output can blow up
    without limit (its revenue returns the bid) and which would then hide any overdraft in
    relative tolerances.
    """
    agents = max(e.consumers.agents + e.producers.agents, 1.0)
    base = float(B[0]) if B[0] > 0 else float(np.nanmax(B)) if np.any(B > 0) else 0.0
    if not e.stationary_wallets:
        W = float(np.nansum(e.consumers.count * e.consumers.wallet)
                  + np.nansum(e.producers.count * e.producers.wallet))
        base = max(base, W)
    money = max(3 * base / agents, 1e-12) if base > 0 else 1.0
    el = max(float(np.max(Q[1:], initial=0.0)) / agents * 3, 1e-12) if np.any(Q[1:] > 0) else 1.0
    return money, el


def wallet_multiplier(a: Agent, b: np.ndarray, q, K) -> tuple[float | None, float]:
    """``λ`` from the first-order conditions of the positive bids on valued posts, and the
    relative spread between the posts' values (0 at an equilibrium)."""
    pattern = tuple(int(t) for t in np.flatnonzero(b > 0))
    if not pattern:
        return None, 0.0
    pt, vals = a.point(b, q, K, pattern)
    _, d = a.raw(b, q, K)
    lams = []
    for k, t in enumerate(pattern):
        valued = a.weights[t - 1] > 0 if t >= 1 else a.goods_weight > 0 and (
            not a.producer or vals["x0"] > 0)
        if not valued:
            continue
        denom = 1.0 - a.beta * d["dR_db"][t]
        if denom <= 0:
            continue
        lams.append(pt.grad[k] / denom)
    lams = [x for x in lams if np.isfinite(x) and x > 0]
    if not lams:
        return None, 0.0
    lam = float(np.median(lams))
    return lam, float((max(lams) - min(lams)) / lam)


def _type_gain(e: Economy, a: Agent, b, q, K, atol, rtol, starts, seed) -> dict:
    cur = a.score(b, q, K, tol=CONS_TOL)
    br = best_response(a, b0=b, q0=q, K0=K, starts=starts, seed=seed, corners=True)
    if not np.isfinite(cur) and not np.isfinite(br.value):
        gain = 0.0
    else:
        gain = max(br.value - cur, 0.0) if np.isfinite(br.value) else 0.0
    scale = abs(cur) if np.isfinite(cur) else 0.0
    tol = max(atol, rtol * scale)
    return {"role": a.role, "type": (a.e.producers if a.producer else a.e.consumers).names[a.i],
            "objective": _num(cur), "best": _num(br.value), "gain": _num(gain),
            "relative_gain": _num(gain / max(scale, 1e-300)) if gain > 0 else 0.0,
            "tolerance": tol, "pass": bool(gain <= tol), "pattern": list(br.pattern),
            "current_pattern": [int(t) for t in np.flatnonzero(np.asarray(b) > 0)],
            "best_bids": br.bids.tolist(),
            "best_offers": None if br.offers is None else np.asarray(br.offers).tolist()}


def _common(e: Economy, profile: Profile, out, check: Check, price_taking: bool) -> None:
    """Conservation, budgets, feasibility and normalisation (shared by both concepts)."""
    T = e.periods
    c, p = e.consumers, e.producers
    nc, npr = c.count, p.count
    Omega = e.goods_supply
    act = out.active
    # Bids, offers, capacity.
    for name, arr in (("consumer bids", profile.consumer_bids),
                      ("producer bids", profile.producer_bids), ("offers", profile.offers)):
        if np.any(~np.isfinite(arr)) or np.any(arr < 0):
            check.violations.append(f"feasibility: {name} negative or not finite")
    if len(p):
        K = profile.capacity
        cap = K if e.market.long_run else p.capacity
        over = profile.offers - cap[:, None]
        if np.any(over > CONS_TOL * np.maximum(cap[:, None], 1.0)):
            check.violations.append(f"feasibility: offers above capacity by {over.max():.3g}")
        if not e.market.long_run and np.any(np.abs(K - p.capacity) > 1e-12 * p.capacity):
            check.violations.append("feasibility: short-run capacity differs from the file's")
    # Electricity: what the posts hand out is what the producers offered.
    x_el = nc @ (out.consumers.electricity if len(c) else np.zeros((0, T))) if len(c) \
        else np.zeros(T)
    if len(p):
        # A producer's electricity includes its own offer on a post that did not trade.
        recv = np.where(act[None, 1:], out.producers.electricity, 0.0)
        x_el = x_el + npr @ recv
    supply = npr @ profile.offers if len(p) else np.zeros(T)
    for t in range(T):
        if act[t + 1]:
            gap = abs(x_el[t] - supply[t])
            if gap > CONS_TOL * max(supply[t], 1e-300):
                check.violations.append(
                    f"conservation: electricity of period {t + 1}: handed out {x_el[t]:.10g}, "
                    f"offered {supply[t]:.10g}")
    for role, pl, n in (("consumers", out.consumers, nc), ("producers", out.producers, npr)):
        if not len(n):
            continue
        el = pl.electricity
        bal = pl.consumption + pl.verification - el[:, None, :]
        if np.any(np.abs(bal) > CONS_TOL * np.maximum(np.abs(el[:, None, :]), 1e-12)):
            check.violations.append(f"conservation: {role}: consumed + burnt != received")
        E = pl.consumption
        scale = np.maximum(el.max(axis=1, initial=0.0), 1e-12)
        bad = np.flatnonzero((E < -CONS_TOL * scale[:, None, None]).any(axis=(1, 2)))
        for i in bad:
            check.violations.append(f"feasibility: {role} '{pl.population.names[i]}' consumes "
                                    f"{E[i].min():.3g} < 0 electricity")
    # Goods.
    if act[0]:
        got = (nc @ out.consumers.goods_received if len(c) else 0.0) + \
            (npr @ out.producers.goods_received if len(p) else 0.0)
        if abs(got - Omega) > CONS_TOL * Omega:
            check.violations.append(f"conservation: goods handed out {got:.10g} != Ω = "
                                    f"{Omega:.10g}")
    if len(p):
        g = out.producers.goods
        bad = np.flatnonzero(g < -CONS_TOL * np.maximum(out.producers.goods_received, 1e-12))
        for j in bad:
            check.violations.append(f"feasibility: producer '{p.names[j]}' goods {g[j]:.3g} < 0 "
                                    "(inputs exceed the goods it bought)")
    # Bytecoins and budgets.
    rev = (nc @ out.consumers.revenue if len(c) else 0.0) + \
        (npr @ out.producers.revenue if len(p) else 0.0)
    spent = (nc @ out.consumers.spending if len(c) else 0.0) + \
        (npr @ out.producers.spending if len(p) else 0.0)
    if abs(rev - spent) > CONS_TOL * max(rev, spent, 1e-300):
        check.violations.append(f"conservation: bytecoins earned {rev:.10g} != spent {spent:.10g}")
    money, _ = _scales(e, out.bids_total, out.offers_total)
    for role, pop, pl in (("consumers", c, out.consumers), ("producers", p, out.producers)):
        for i in range(len(pop)):
            if e.market.prepaid and np.isfinite(pop.wallet[i]):
                W = float(pop.wallet[i])
            else:
                W = float(pl.revenue[i])
            # Against the economy's money per agent (see _scales), not the agent's spending.
            if pl.spending[i] - W > CONS_TOL * money:
                check.violations.append(f"budget: {role} '{pop.names[i]}' spends "
                                        f"{pl.spending[i]:.10g} > {W:.10g}")
    # Normalisation and activity.
    if e.stationary_wallets and act[0] and abs(out.prices[0] - 1.0) > 1e-9:
        check.notes.append(f"normalisation: p^0 = {out.prices[0]:.10g}, not 1")
    valued = e.valued_periods
    idle = [t + 1 for t in range(T) if valued[t] and not act[t + 1]]
    if idle:
        check.notes.append(f"not active: valued period(s) {idle} do not trade")
    _ = price_taking


def _agents(e: Economy, profile: Profile, out, *, prices=None):
    """One :class:`Agent` per type with the model's objective (prepaid: ``u + βλR``)."""
    B, Q = out.bids_total, out.offers_total
    money, el = _scales(e, B, Q)
    if prices is None:
        Bc, Qc, Bp, Qp = others_totals(e, profile)
    beta = e.market.discount if e.market.prepaid else 1.0
    res = []
    for role, pop, pl, bids in (("consumers", e.consumers, out.consumers, profile.consumer_bids),
                                ("producers", e.producers, out.producers,
                                 profile.producer_bids)):
        for i in range(len(pop)):
            kw = dict(prices=prices) if prices is not None else (
                dict(Bm=Bc[i], Qm=Qc[i]) if role == "consumers" else dict(Bm=Bp[i], Qm=Qp[i]))
            R = float(pl.revenue[i])
            W = float(pop.wallet[i]) if (e.market.prepaid and np.isfinite(pop.wallet[i])) else R
            q = profile.offers[i] if role == "producers" else None
            K = float(profile.capacity[i]) if (role == "producers" and e.market.long_run) \
                else None
            note = None
            if e.market.prepaid:
                probe = Agent(e, role, i, W=W, Rbar=R, beta=beta, money=money, supply=el, **kw)
                lam, spread = wallet_multiplier(probe, bids[i], q, K)
                if lam is None and W > 0 and np.isneginf(probe.score(bids[i], q, K,
                                                                     tol=CONS_TOL)):
                    # Nothing bought with a wallet to spend: for every finite λ, a
                    # deviation within W that buys what the utility needs gains +inf
                    # against a finite loss of revenue (the wallet is not credit).
                    a = Agent(e, role, i, W=W, Rbar=R, beta=beta, credit=False,
                              revenue_weight=0.0, money=money, supply=el, **kw)
                    note = (f"{role} '{pop.names[i]}': utility -inf with a wallet of {W:.3g} "
                            "to spend; regret measured within the wallet, for any finite λ")
                elif lam is None:
                    a = probe
                    note = (f"{role} '{pop.names[i]}': wallet multiplier not identified by a "
                            "first-order condition; regret measured with the budget "
                            "W + β(R - R̄) - spending")
                else:
                    a = Agent(e, role, i, W=W, Rbar=R, beta=beta, credit=False,
                              revenue_weight=beta * lam, money=money, supply=el, **kw)
                    if spread > 1e-6:
                        note = (f"{role} '{pop.names[i]}': the wallet multiplier differs across "
                                f"posts by {spread:.2g} (relative); median used")
            else:
                a = Agent(e, role, i, W=None, Rbar=R, beta=1.0, money=money, supply=el, **kw)
            res.append((a, bids[i], q, K, note))
    return res


def wallet_multipliers(e: Economy, profile: Profile, prices: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Each type's wallet multiplier ``λ`` read off the profile (prepaid settlement; NaN where no
    first-order condition identifies it): ``(consumers, producers)``."""
    with np.errstate(all="ignore"):
        out = evaluate(e, profile, prices)
        agents = _agents(e, profile, out, prices=None if prices is None else out.prices)
    lam = []
    for a, b, q, K, _ in agents:
        v, _ = wallet_multiplier(a, b, q, K) if e.market.prepaid else (None, 0.0)
        if not e.market.prepaid or v is None:
            v = a.revenue_weight / a.beta if a.revenue_weight else np.nan
        lam.append(np.nan if v is None else v)
    nc = len(e.consumers)
    return np.array(lam[:nc], float), np.array(lam[nc:], float)


def check_nash(e: Economy, profile: Profile, *, atol: float = 1e-8, rtol: float = 1e-8,
               starts: int = 4, seed: int = 0) -> Check:
    """Check a type-symmetric Nash profile (see the module notes)."""
    with np.errstate(all="ignore"):
        out = evaluate(e, profile)
        chk = Check(ok=True)
        _common(e, profile, out, chk, price_taking=False)
        _gains(e, _agents(e, profile, out), chk, atol, rtol, starts, seed)
    chk.ok = not chk.violations
    return chk


def check_competitive(e: Economy, profile: Profile, prices: np.ndarray, *, atol: float = 1e-8,
                      rtol: float = 1e-8, starts: int = 4, seed: int = 0) -> Check:
    """Check a competitive benchmark: price takers at ``prices`` and clearing markets."""
    with np.errstate(all="ignore"):
        p = np.asarray(prices, float)
        out = evaluate(e, profile, p)
        chk = Check(ok=True)
        _common(e, profile, out, chk, price_taking=True)
        _gains(e, _agents(e, profile, out, prices=out.prices), chk, atol, rtol, starts, seed)
    chk.ok = not chk.violations
    return chk


def _gains(e, agents, chk: Check, atol, rtol, starts, seed) -> None:
    for a, b, q, K, note in agents:
        g = _type_gain(e, a, b, q, K, atol, rtol, starts, seed)
        chk.gains.append(g)
        if note:
            chk.notes.append(note)
        gain = g["gain"] if g["gain"] is not None else np.inf
        chk.max_gain = max(chk.max_gain, gain)
        chk.max_relative_gain = max(chk.max_relative_gain, g["relative_gain"] or 0.0)
        if not g["pass"]:
            chk.violations.append(
                f"regret: {g['role']} '{g['type']}' gains {gain:.3g} (relative "
                f"{g['relative_gain']:.3g}) by deviating to bids {np.round(g['best_bids'], 6)}"
                + ("" if g["best_offers"] is None else
                   f", offers {np.round(g['best_offers'], 6)}")
                + f" (objective {g['objective']} -> {g['best']})")
