"""Storage operators in the Nash and competitive solvers (docs/model.md, "Storage").

Both solvers hold the operators' schedules fixed while they solve for everyone else: the
operators' purchases ``x`` and discharge ``q`` enter the market-clearing equations as given
quantities (they bid ``b = p x``), and their goods bid is what their trades leave,
``b^0 = Σ_t p^t (q^t − x^t)`` (:mod:`emgame.agents.storage`: the operators the solvers take
maximise profit). An outer loop then moves the schedules:

- **Nash.** Each operator's best response to the others' totals (a concave program in its net
  sales, solved by SLSQP), damped, until the schedules stop moving. The rest of the economy is
  solved exactly at every schedule, so the profile's regrets are second order in the last
  step's size.
- **Competitive.** A price taker's schedule solves a linear program, whose answer jumps with
  prices, so a plain iteration cycles. Instead the prices' response to the operators' net
  supply, ``J = dp/dN`` (the benchmark's implicit derivative at its solution; central
  differences of re-solves where it has none), linearises the market: each operator's schedule
  maximises ``Σ_t n^t (p^t + (J_sym count (n − n_0))^t / 2)``,
  a concave quadratic program (the Josephy–Newton step of the variational inequality that
  defines the equilibrium), and the loop stops when the schedules stop moving.

The candidates are judged by the certificate like any other.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from emgame.agents.storage import (
    Battery,
    Money,
    feasible_schedule,
    polish,
    respond,
    snap_prices,
)
from emgame.market.game import Profile
from emgame.model.economy import Economy, Population
from emgame.results import Status
from emgame.solvers.candidate import Candidate

log = logging.getLogger(__name__)


def unsupported(economy: Economy) -> str | None:
    """Why the solvers cannot take this economy's storage operators yet, or ``None``."""
    st = economy.storage
    if not len(st):
        return None
    names = [st.names[k] for k in range(len(st))
             if np.any(st.weights[k] > 0) or not st.classic[k]]
    if names:
        return (f"storage type(s) {names} value electricity: the solvers take storage "
                "operators that maximise profit (kind 'classic', electricity weights all 0) "
                "in this version")
    if np.any(economy.fixed_costs > 0):
        return ("storage operators with a fixed verification cost per payment are not solved "
                "in this version (their participation is a discrete choice)")
    if economy.market.prepaid:
        return "storage operators under prepaid settlement are not solved in this version"
    return None


def rest_of(economy: Economy) -> Economy:
    """The economy without its storage operators (whose flows the solvers add as given)."""
    return economy.replace(storage=Population.empty(economy.periods))


def batteries(economy: Economy) -> list[Battery]:
    """One :class:`Battery` per storage type, with ``κ̄ = max_s κ_s``."""
    st = economy.storage
    keep = 1.0 - float(np.max(economy.shares))
    return [Battery(S=float(st.energy_capacity[k]), G=float(st.power_capacity[k]),
                    ec=float(st.charge_efficiency[k]) * keep,
                    ed=float(st.discharge_efficiency[k]), keep=keep)
            for k in range(len(st))]


def _flows(economy: Economy, q: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total purchases and discharge over all operators, each ``(T,)``."""
    n = economy.storage.count
    return n @ x, n @ q


def with_storage(economy: Economy, cand: Candidate, q: np.ndarray, x: np.ndarray
                 ) -> Candidate:
    """The candidate of the rest of the economy with the operators' play added: bids ``p x``
    (expenditures), goods bid ``Σ_t p^t (q^t − x^t)``, offers ``q``, charge ``(1 − κ̄) x``."""
    if cand.profile is None or cand.totals is None:
        return cand
    p, Q = cand.totals
    bats = batteries(economy)
    ns, T = q.shape
    bids = np.zeros((ns, T + 1))
    charge = np.zeros((ns, T))
    for k in range(ns):
        bids[k, 1:] = p[1:] * x[k]
        bids[k, 0] = max(float(p[1:] @ (q[k] - x[k])), 0.0)
        charge[k] = bats[k].keep * x[k]
    pr = cand.profile
    profile = Profile(pr.consumer_bids, pr.producer_bids, pr.offers, pr.capacity,
                      bids, q.copy(), charge)
    return dataclasses.replace(cand, profile=profile)


def _fail(concept: str, reason: str, cand: Candidate | None = None) -> Candidate:
    return Candidate(concept, False, Status.NO_EQUILIBRIUM, reason,
                     diagnostics={} if cand is None else dict(cand.diagnostics))


def solve_nash_storage(economy: Economy, options, starts, *, max_outer: int = 400,  # noqa: ANN001
                       tol: float = 1e-10) -> Candidate:
    """The Nash candidate with storage operators (see the module notes)."""
    from emgame.solvers.nash import solve_nash

    bats = batteries(economy)
    st = economy.storage
    ns, T = len(st), economy.periods
    bare = rest_of(economy)
    q = np.zeros((ns, T))
    x = np.zeros((ns, T))
    n = np.zeros((ns, T))
    given = list(starts or [])
    # The best-response map of k alike operators has slope about -(k - 1)/2 in the others'
    # play (Cournot-like): a damped step 2/(k + 1) takes most of that out; Anderson mixing
    # over the last few steps takes care of the rest.
    alpha = 2.0 / (float(np.max(st.count)) + 1.0)
    s_hist: list[np.ndarray] = []
    f_hist: list[np.ndarray] = []
    last_change = np.inf
    cand = None
    started = time.monotonic()
    scale = np.concatenate([np.full(T, b.G) for b in bats] * 2)
    for it in range(1, max_outer + 1):
        cand = solve_nash(bare, options, starts=given, storage=_flows(economy, q, x))
        if not cand.converged or cand.totals is None:
            return _fail("nash", "with the storage operators' schedules held fixed at "
                         f"outer step {it}, the rest of the economy was not solved: "
                         f"{cand.reason}", cand)
        p, Q = cand.totals
        given = [("previous schedule", (p.copy(), Q.copy()))]
        newq, newx = q.copy(), x.copy()
        for k in range(ns):
            own_b = p[1:] * x[k]
            Bm = p[1:] * Q[1:] - own_b
            Qm = Q[1:] - q[k]
            nk = respond(Money(Bm=Bm, Qm=Qm), bats[k], start=n[k])
            newq[k], newx[k], _ = feasible_schedule(nk, bats[k])
        cur = np.concatenate([q.ravel(), x.ravel()])
        f = np.concatenate([newq.ravel(), newx.ravel()]) - cur
        change = float(np.max(np.abs(f) / scale))
        log.debug("storage Nash step %d: change %.3e", it, change)
        if change <= tol:
            break
        if change > 2.0 * last_change:   # mixing went astray: restart it, damp harder
            s_hist.clear()
            f_hist.clear()
            alpha *= 0.5
        last_change = min(change, last_change) if s_hist else change
        s_hist.append(cur)
        f_hist.append(f)
        del s_hist[:-6], f_hist[:-6]
        nxt = cur + alpha * f
        if len(f_hist) > 1:
            dF = np.array([f_hist[i + 1] - f_hist[i] for i in range(len(f_hist) - 1)]).T
            dS = np.array([s_hist[i + 1] - s_hist[i] for i in range(len(s_hist) - 1)]).T
            gamma = np.linalg.lstsq(dF / scale[:, None], f / scale, rcond=None)[0]
            nxt = cur + alpha * f - (dS + alpha * dF) @ gamma
        nq, nx = nxt[:ns * T].reshape(ns, T), nxt[ns * T:].reshape(ns, T)
        # Back into the battery's feasible set (mixing is not a convex combination).
        for k in range(ns):
            nq[k], nx[k] = _project(nq[k], nx[k], bats[k])
        q, x = nq, nx
        n = q - x
    else:
        assert cand is not None
        return _fail("nash", f"the storage operators' best responses did not settle in "
                     f"{max_outer} steps (last change {last_change:.2e} of their power)", cand)
    assert cand is not None
    cand.diagnostics["storage_outer_steps"] = it
    cand.diagnostics["storage_seconds"] = time.monotonic() - started
    return with_storage(economy, cand, q, x)


def solve_competitive_storage(economy: Economy, options, start=None, *,  # noqa: ANN001
                              max_outer: int = 60, tol: float = 1e-11) -> Candidate:
    """The competitive candidate with price-taking storage operators (see the module notes)."""
    from emgame.solvers.competitive import solve_competitive

    bats = batteries(economy)
    st = economy.storage
    ns, T = len(st), economy.periods
    q = np.zeros((ns, T))
    x = np.zeros((ns, T))
    bare = rest_of(economy)

    def rest(q, x, warm):  # noqa: ANN001, ANN202
        return solve_competitive(bare, options, start=warm,
                                 storage=_flows(economy, q, x))

    cand = rest(q, x, start)
    if not cand.converged or cand.totals is None:
        return _fail("competitive", f"without storage flows: {cand.reason}", cand)
    started = time.monotonic()
    J = None
    last_change = change_before = np.inf
    for it in range(1, max_outer + 1):
        p = cand.totals[0]
        warm = cand.totals
        exact = cand.internal.get("price_response")
        if exact is not None:
            J = exact     # the solver's own implicit derivative at this point
        elif J is None or last_change > 0.25 * change_before:
            # (by re-solves; again when the linear model stops paying)
            J = _price_response(economy, rest, q, x, warm, p)
        Js = 0.5 * (J + J.T)
        newq, newx = q.copy(), x.copy()
        pl = p[1:].copy()
        for k in range(ns):
            n0 = q[k] - x[k]
            ck = float(st.count[k])
            H = ck * Js

            def model(nn, pl=pl, n0=n0, H=H):  # noqa: ANN001, ANN202
                d = nn - n0
                g = pl + H @ d
                # values whose sum is Σ p n + dᵀ H d / 2 (its gradient is p + H d)
                return pl * nn + 0.5 * d * (H @ d), g

            nk = respond(Money(prices=pl), bats[k], start=n0, objective=model)
            qk, xk, _ = feasible_schedule(nk, bats[k])
            # SLSQP finds the active set; on it the step is a linear system, solved exactly.
            exact = polish(qk, xk, bats[k], pl, H, n0)
            if exact is not None:
                qk, xk = exact
            # The other types see this one's move in the model's prices.
            pl = pl + J @ (ck * ((qk - xk) - n0))
            newq[k], newx[k] = qk, xk
        change = max(float(np.max(np.abs(newq[k] - q[k]) + np.abs(newx[k] - x[k])))
                     / bats[k].G for k in range(ns))
        q, x = newq, newx
        change_before, last_change = last_change, change
        cand = rest(q, x, warm)
        if not cand.converged or cand.totals is None:
            return _fail("competitive", "with the storage operators' schedules held fixed at "
                         f"outer step {it}, the rest of the economy was not solved: "
                         f"{cand.reason}", cand)
        log.debug("storage competitive step %d: change %.3e", it, change)
        if change <= tol:
            break
    else:
        return _fail("competitive", f"the storage operators' schedules did not settle in "
                     f"{max_outer} steps", cand)
    cand.diagnostics["storage_outer_steps"] = it
    cand.diagnostics["storage_seconds"] = time.monotonic() - started
    # The prices the operators are indifferent at, exact to the float (a zero-profit price
    # taker's regret is measured in absolute terms): moved by at most 1e-9 (relative).
    p, Qt = cand.totals
    snapped = p[1:].copy()
    for k in range(ns):
        new = snap_prices(q[k], x[k], bats[k], snapped)
        if new is None:
            break
        snapped = new
    else:
        moved = float(np.max(np.abs(snapped - p[1:]) / p[1:]))
        cand.diagnostics["storage_price_snap"] = moved
        cand = dataclasses.replace(cand, totals=(np.concatenate([p[:1], snapped]), Qt))
    return with_storage(economy, cand, q, x)


def _project(q: np.ndarray, x: np.ndarray, battery: Battery) -> tuple[np.ndarray, np.ndarray]:
    """The nearest schedule ``(q, x)`` the battery can run (Euclidean, SLSQP): within the power
    limits, cyclic, state of charge in ``[0, S]``. Returns the input when it is feasible."""
    from emgame.agents.storage import project

    return project(q, x, battery)


def _price_response(economy: Economy, rest, q, x, warm, p) -> np.ndarray:  # noqa: ANN001
    """``dp^t/dN^s`` (``T × T``, electricity prices over the operators' total net supply),
    by central differences of re-solves with one period's net supply moved."""
    T = economy.periods
    st = economy.storage
    total = float(st.count @ st.power_capacity)
    h = 1e-4 * total
    J = np.zeros((T, T))
    for s in range(T):
        cols = []
        for sign in (1.0, -1.0):
            # A fictitious extra net supply of ±h in period s: put it on the first type's
            # discharge (its flows are only totals to the rest of the economy).
            qq = q.copy()
            xx = x.copy()
            extra = sign * h / float(st.count[0])
            if extra >= 0:
                qq[0, s] += extra
            else:
                xx[0, s] -= extra
            c = rest(qq, xx, warm)
            if not c.converged or c.totals is None:
                cols.append(None)
            else:
                cols.append(c.totals[0][1:])
        if cols[0] is None or cols[1] is None:
            continue
        J[:, s] = (cols[0] - cols[1]) / (2 * h)
    return J
