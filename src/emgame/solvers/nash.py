"""Nash equilibrium of the market game (docs/model.md, Solution concepts), type-symmetric and
active.

Method: the game is aggregative, so an equilibrium is a set of post totals ``(p^t, Q^t)`` at
which every type's replacement response (:mod:`emgame.solvers._consumer`,
:mod:`emgame.solvers._producer_solve`) adds up to those totals. The solver runs Newton's method
on the ``2T`` (``2T + 1`` with exogenous wallets) market-clearing residuals of
:mod:`emgame.solvers._aggregate`, with an exact Jacobian assembled from each type's implicit
derivatives; work per iteration is linear in the number of types.

Starts: the competitive equilibrium when given (market power then moves prices away from it),
else a rough guess. When Newton fails from a start, the market power ``τ`` is switched on
gradually (``τ = τ_0 → 1``), each step starting from the last solution.

The answer is a *candidate*: :mod:`emgame.certificate` decides whether it is an equilibrium.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from emgame._numerics import clock
from emgame.market.game import Profile, evaluate, others_totals
from emgame.model.economy import _COLUMNS, Economy, Population
from emgame.results import Multipliers, Status
from emgame.solvers import checks
from emgame.solvers._aggregate import (
    NO_OUTPUT,
    PAYS,
    Aggregate,
    ces_utility_scale,
    default_participation,
    inputs_of,
)
from emgame.solvers._newton import newton
from emgame.solvers._records import Response
from emgame.solvers.candidate import Candidate
from emgame.solvers.dynamics import approach
from emgame.solvers.regimes import consumer_regimes, producer_regimes

log = logging.getLogger(__name__)

UNDEFINED = 6
"""Trial points in a row without a response of some type after which a Newton step on the
aggregate system fails (each costs a fallback search for a response that does not exist)."""


@dataclass(frozen=True)
class NashOptions:
    """Solver settings.

    Newton stops when every market-clearing residual (relative) is below ``atol``.
    ``tau0`` is where the market-power continuation starts when a direct solve fails.
    From ``joint_from`` consumer types on, consumers' budgets are solved jointly with the totals
    (:meth:`Aggregate.joint_newton`) rather than exactly at every trial. The search gives up
    (no equilibrium found, saying so) after ``max_seconds``. With ``dynamics``, where Newton
    fails from every start of the first round, damped best responses in strategies
    (:mod:`emgame.solvers.dynamics`; simultaneous settlement, or prepaid with stationary
    wallets and ``β = 1``, which has the same equilibria) give one more start before the
    costlier paths.
    """

    atol: float = 1e-12
    max_iter: int = 60
    tau0: float = 0.02
    max_continuation_steps: int = 200
    max_rounds: int = 40
    joint_from: int = 5000
    max_seconds: float = 300.0
    deadline: float = float("inf")  # set by solve_nash from max_seconds
    storage: tuple | None = None     # storage operators' fixed flows (solvers.storage)
    dynamics: bool = False


def rough_start(economy: Economy) -> tuple[np.ndarray, np.ndarray]:
    """A guess at ``(p, Q)``: goods spread over valued periods as inputs, spending by weights."""
    T = economy.periods
    prod, cons = economy.producers, economy.consumers
    Omega = economy.goods_supply
    valued = economy.valued_periods
    spend = np.zeros(T)
    for pop in (cons, prod):
        if len(pop):
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
               starts: list[tuple[str, tuple[np.ndarray, np.ndarray]]] | None = None,
               storage: tuple[np.ndarray, np.ndarray] | None = None,
               pin: dict[tuple[str, int], np.ndarray] | None = None,
               idle: dict[int, np.ndarray] | None = None,
               hold_outputs: bool = False) -> Candidate:
    """Find a Nash equilibrium candidate; see the module notes for the method.

    ``starts`` are named ``(p, Q)`` guesses tried first (e.g. a neighbour's solution, the
    competitive benchmark); a rough guess follows, and each is also tried marked up.

    Regimes: which posts each type pays on (participation, docs/model.md, The crypto layer) and, for
    producers with increasing returns, whether a post's output is pinned at zero, are discrete
    choices the first-order conditions cannot make. Starting from "pay on every valued post",
    each round solves the smooth system for fixed regimes, then asks every type for its best
    regime (:mod:`emgame.solvers.regimes`); types that would gain by switching regime get the
    new regime, and the next round starts from the last solution. Rounds stop when no type wants
    to switch, or when a set of regimes repeats.

    ``pin`` holds some types on given electricity posts: ``{("consumers", i): paid}`` (or
    ``"producers"``) with ``paid`` a ``bool (T,)``; those types pay on exactly these posts and
    never switch (a split search pins each group, :mod:`emgame.equilibria`). The candidate is
    still only a candidate: the certificate judges every type, pinned or not.

    ``idle`` starts some producer types with their output pinned at zero on given posts:
    ``{j: posts}`` with ``posts`` a ``bool (T,)`` (an increasing-returns type's discrete
    choice to produce on a post or not, where the rounds cannot start from "produce
    everywhere"); the rounds may switch it as any regime, unless ``hold_outputs``: then
    these types produce on exactly the posts ``idle`` leaves them (a split search holds each
    group of an increasing-returns type on its own posts), still free to choose where they pay.
    """
    opts = options or NashOptions()
    if storage is not None:
        opts = replace(opts, storage=storage)
    reason = checks.before_nash(economy)
    if reason:
        return Candidate("nash", False, Status.NO_EQUILIBRIUM, reason)
    opts = replace(opts, deadline=clock() + opts.max_seconds)
    first = _fresh(economy, deadline=opts.deadline)
    regimes = (first.consumer_part, first.producer_part)
    if idle:
        part_p = regimes[1].copy()
        for j, posts in idle.items():
            part_p[j, 1:] |= np.where(np.asarray(posts, dtype=bool), NO_OUTPUT, 0).astype(
                part_p.dtype)
        regimes = (regimes[0], part_p)
    held = None
    if pin:
        regimes, held = _pinned(regimes, pin)
    given = list(starts or [])
    seen = {_key(regimes)}
    history = []
    cand = None
    one_at_a_time = False
    for round_ in range(opts.max_rounds):
        if clock() > opts.deadline and cand is not None:
            history.append(f"time limit of {opts.max_seconds:g} s reached")
            break
        cand = _solve_regimes(economy, regimes, opts, given,
                              dynamics=opts.dynamics and round_ == 0)
        cand.diagnostics["regime_rounds"] = round_ + 1
        if not cand.converged or cand.profile is None:
            if history:
                cand.diagnostics["regime_history"] = history
            return cand
        if not (np.any(economy.fixed_costs > 0) or np.any(economy.producers.returns > 1.0)):
            return cand  # nothing discrete to choose: every valued post is paid on
        new, gains = _better_regimes(economy, cand, regimes)
        if held is not None and new is not None:
            new, gains = _without_held(regimes, new, gains, held)
        if hold_outputs and idle and new is not None:
            new, gains = _outputs_held(regimes, new, gains, list(idle))
        _better = new
        if new is None:
            cand.diagnostics["regime_history"] = history
            return cand
        key = _key(new)
        if one_at_a_time or key in seen:
            # Switching every type at once cycled: switch one type at a time, the one that
            # gains most among the switches not tried yet.
            one_at_a_time = True
            new = None
            for gain in sorted(gains, reverse=True):
                trial = _single_switch(regimes, _better, [gain])
                if trial is not None and _key(trial) not in seen:
                    new = trial
                    break
            if new is None:
                history.append("every switch leads back to regimes already tried")
                break
            key = _key(new)
        seen.add(key)
        history.append(f"round {round_ + 1}: {_describe(economy, regimes, new)}")
        regimes = new
        given = [("previous round", cand.totals)] + list(starts or [])
    assert cand is not None
    return Candidate("nash", False, Status.NO_EQUILIBRIUM,
                     "participation did not settle: some type always prefers to pay on a "
                     "different set of posts (or, with increasing returns, to produce on a "
                     "different set); no pure-strategy equilibrium was found from the regimes "
                     "tried (" + "; ".join(history[-4:]) + ")",
                     profile=cand.profile, multipliers=cand.multipliers,
                     diagnostics={**cand.diagnostics, "regime_history": history},
                     totals=cand.totals, evaluations=cand.evaluations)


def _key(regimes: tuple[np.ndarray, np.ndarray]) -> bytes:
    return regimes[0].tobytes() + b"|" + regimes[1].tobytes()


def _better_regimes(economy: Economy, cand: Candidate, regimes):
    """The regimes of the types that would gain by switching (:mod:`emgame.solvers.regimes`)."""
    assert cand.profile is not None
    st = cand.internal
    out = evaluate(economy, cand.profile)
    Bc, Qc, Bp, Qp = others_totals(economy, cand.profile)
    part_c, part_p = regimes
    gains = []
    new_c, g_c = consumer_regimes(economy, economy.consumers, out, Bc, Qc, st["weights_c"],
                                  st["lam_c"], part_c)
    new_p = part_p
    g_p = np.zeros(0)
    if len(economy.producers):
        new_p, g_p = producer_regimes(economy, cand.profile, st["weights_p"], st["lam_p"],
                                      st["nu_p"], part_p, Bp, Qp)
    gains = [(float(g_c[i]), "c", int(i)) for i in range(len(g_c))
             if not np.array_equal(new_c[i], part_c[i])]
    gains += [(float(g_p[j]), "p", int(j)) for j in range(len(g_p))
              if not np.array_equal(new_p[j], part_p[j])]
    if not gains:
        return None, gains
    return (new_c, new_p), gains


def _pinned(regimes, pin: dict[tuple[str, int], np.ndarray]):
    """Regimes with the pinned types' electricity posts set, and the masks of pinned types."""
    part_c, part_p = regimes[0].copy(), regimes[1].copy()
    held_c = np.zeros(len(part_c), dtype=bool)
    held_p = np.zeros(len(part_p), dtype=bool)
    for (role, i), paid in pin.items():
        paid = np.asarray(paid, dtype=bool)
        if role == "consumers":
            part_c[i, 1:] = paid
            held_c[i] = True
        else:
            part_p[i, 1:] = np.where(paid, PAYS, 0) | (part_p[i, 1:] & NO_OUTPUT)
            held_p[i] = True
    return (part_c, part_p), (held_c, held_p)


def _without_held(regimes, new, gains, held):
    """Pinned types keep their regimes; only the others' switches remain."""
    held_c, held_p = held
    new_c, new_p = new[0].copy(), new[1].copy()
    new_c[held_c] = regimes[0][held_c]
    new_p[held_p] = regimes[1][held_p]
    gains = [g for g in gains if not (held_c if g[1] == "c" else held_p)[g[2]]]
    return ((new_c, new_p) if gains else None), gains


def _outputs_held(regimes, new, gains, types: list[int]):
    """The producer ``types`` keep where they produce (their ``NO_OUTPUT`` bits); the rest of
    every switch remains."""
    new_p = new[1].copy()
    for j in types:
        new_p[j, 1:] = (new_p[j, 1:] & ~NO_OUTPUT) | (regimes[1][j, 1:] & NO_OUTPUT)
    gains = [g for g in gains if g[1] == "c" or not np.array_equal(new_p[g[2]],
                                                                    regimes[1][g[2]])]
    return ((new[0], new_p) if gains else None), gains


def _single_switch(regimes, new, gains):
    if not gains:
        return None
    _, role, i = max(gains)
    part_c, part_p = regimes[0].copy(), regimes[1].copy()
    if role == "c":
        part_c[i] = new[0][i]
    else:
        part_p[i] = new[1][i]
    return part_c, part_p


def _describe(economy: Economy, old, new) -> str:
    changed = []
    for role, pop, a, b in (("consumer", economy.consumers, old[0], new[0]),
                            ("producer", economy.producers, old[1], new[1])):
        for i in np.flatnonzero((a != b).any(axis=1)):
            what = f"pays on {int((b[i] & PAYS).sum())} posts"
            if role == "producer" and np.any((a[i] ^ b[i]) & NO_OUTPUT):
                idle = [economy.labels[t - 1] for t in np.flatnonzero(b[i] & NO_OUTPUT)
                        if t > 0]
                what = f"produces nothing in {', '.join(idle)}" if idle else \
                    "produces on every post"
            changed.append(f"{role} '{pop.names[i]}' now {what}")
    return ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")


def _solve_regimes(economy: Economy, regimes, opts: NashOptions,
                   given: list[tuple[str, tuple[np.ndarray, np.ndarray]]],
                   dynamics: bool = False) -> Candidate:
    """Newton on the aggregate system for fixed regimes, from each start in turn (with
    ``dynamics``, then from where damped best responses in strategies settle), then the costlier
    paths from each start."""
    # Market power raises prices above the benchmark's: where producers earn nothing at the
    # benchmark (constant returns), responses exist only above it. Try plain and marked-up
    # starts; the markup is the Cournot one for N sellers, (N/(N-1))².
    N = economy.producers.agents
    markup = float(np.clip((N / (N - 1)) ** 2, 1.05, 4.0)) if N > 1 else 2.0
    pop = economy.producers
    flat = pop.returns >= 1.0
    unit = 1.0 / pop.productivity + (np.nan_to_num(pop.capacity_cost)
                                     if economy.market.long_run else 0.0)
    cost = float(np.max(markup * unit[flat])) if np.any(flat) else None
    constant = bool(np.any(pop.returns == 1.0))

    exogenous = economy.market.prepaid and not economy.stationary_wallets
    rough: list = []

    def starts():
        # The rough guess is made only if the given starts all fail (it costs a pass).
        for name, pQ in list(given) + [("rough", None)]:
            if pQ is None:
                rough.append(rough_start(economy))
            p, Q = pQ if pQ is not None else rough[0]
            up = p.copy()
            up[1:] *= markup
            variants = [(name, (p, Q)), (f"{name} x{markup:.3g}", (up, Q))]
            if cost is not None and np.any(up[1:] < cost * p[0]):
                # Constant returns: a type priced below its unit cost has no response (it
                # would earn nothing); start every price above every such type's cost.
                variants.append((f"{name} above cost", (np.concatenate(
                    [p[:1], np.maximum(up[1:], cost * p[0])]), Q)))
            if constant and name in ("competitive", "rough"):
                # At the benchmark's prices (or a guess near them) a constant-returns type
                # earns nothing and has no response, which takes a costly search to find
                # out: the marked-up starts go first. (With increasing returns only, the
                # plain start stays first: its types may well respond there, and the
                # marked-up ones can cost seconds of failed responses, campaign-1-0014.)
                variants = variants[1:] + variants[:1]
            yield from variants
        if exogenous and rough:
            # Exogenous wallets set the nominal price level, which the rough guess does not
            # know; where it is too high a producer's wallet cannot buy the inputs its best
            # response needs and it has no response (campaign-1-0006): other levels.
            p, Q = rough[0]
            for f in (0.5, 0.25, 2.0):
                yield f"rough at {f:g} times the nominal level", (p * f, Q)

    tried = []
    no_response: set[str] = set()   # producer types without a response at some start
    evaluations = 0
    agg = None
    # Plain Newton from every start first (cheap); the costly paths (damped best responses,
    # continuation) only then, from the starts where Newton failed, in the same order.
    later: list[tuple[str, np.ndarray, np.ndarray]] = []

    def fresh_at(p0: np.ndarray, Q0: np.ndarray) -> tuple[Aggregate, np.ndarray]:
        # No warm starts left over from a failed attempt.
        agg = _fresh(economy, regimes, opts.deadline)
        agg.storage_flows = opts.storage
        return agg, agg.unknowns(p0, Q0)

    def settled(agg: Aggregate, r):  # noqa: ANN001, ANN202
        """``r`` with the CES state weights settled where it converged (else ``None``)."""
        nonlocal evaluations
        if r is not None and r.converged and agg.weighted_states:
            r = _state_weights_fixed_point(agg, r, opts, tried)
        evaluations += agg.evaluations
        no_response.update(economy.producers.names[j] for j in agg.silent)
        return r if r is not None and r.converged else None

    def plain(name: str, p0: np.ndarray, Q0: np.ndarray) -> tuple[Candidate | None, bool]:
        """Newton from one start: ``(candidate, whether Newton ran)``; it does not run where
        some type has no response at the start."""
        nonlocal evaluations, agg
        agg, y0 = fresh_at(p0, Q0)
        joint = len(agg.C) >= opts.joint_from and agg.joint_ready
        if joint:
            agg.respond_producers(*agg.totals(y0))  # consumers always respond: check producers
        else:
            agg(y0, False)
        if np.any(agg.status_p != Response.OK) or np.any(agg.status_c == Response.NOT_CONVERGED):
            silent = [economy.producers.names[j]
                      for j in np.flatnonzero(agg.status_p != Response.OK)]
            no_response.update(silent)
            tried.append(f"{name} start: some type has no response at these totals"
                         + (f" (producer type(s) {silent})" if silent else "") + "; skipped")
            evaluations += agg.evaluations
            return None, False
        if joint:
            r = agg.joint_newton(y0, atol=opts.atol, max_iter=opts.max_iter,
                                 deadline=opts.deadline)
        else:
            r = newton(agg, y0, atol=opts.atol, max_iter=opts.max_iter,
                       deadline=opts.deadline, max_undefined=UNDEFINED)
        tried.append(f"{name} start: {r.message} (residual {r.residual:.2e})")
        done = settled(agg, r)
        return (None if done is None else _candidate(economy, agg, done.y, done, tried)), True

    for name, (p0, Q0) in starts():
        if clock() > opts.deadline:
            tried.append(f"time limit of {opts.max_seconds:g} s reached")
            break
        cand, ran = plain(name, p0, Q0)
        if cand is not None:
            return cand
        if ran:
            later.append((name, p0, Q0))
    twin = _dynamics_economy(economy) if dynamics and opts.storage is None else None
    if twin is not None and later and clock() < opts.deadline:
        # A best response to the others' strategies exists where a replacement response to
        # the totals does not (an increasing-returns producer that is the only buyer of its
        # own output on a post, campaign-3-0028); half the time left at most.
        steps: list[str] = []
        totals = approach(twin, clock() + (opts.deadline - clock()) / 2.0, log=steps)
        tried.extend(steps)
        if totals is not None and (cand := plain("best-response dynamics", *totals)[0]):
            return cand
    for name, p0, Q0 in later:
        if clock() > opts.deadline:
            tried.append(f"time limit of {opts.max_seconds:g} s reached")
            break
        agg, y0 = fresh_at(p0, Q0)
        agg(y0, False)
        r = _tatonnement(agg, y0, opts, tried, name)
        if r is None or not r.converged:
            r = _continuation(agg, y0, opts, tried, name)
        if (done := settled(agg, r)) is not None:
            return _candidate(economy, agg, done.y, done, tried)
    reason = "Newton's method did not converge from any start; " + "; ".join(tried)
    if agg is not None and agg.exogenous and np.any(agg.status_p != Response.OK):
        bad = [economy.producers.names[j] for j in np.flatnonzero(agg.status_p != Response.OK)]
        reason = (f"producer type(s) {bad} have no best response at any start tried, as "
                  "where exogenous wallets are too small for the revenue they must finance "
                  "(the wallet multiplier runs away and there is no equilibrium: "
                  "docs/model.md, The crypto layer); " + reason)
    return Candidate("nash", False, Status.NO_EQUILIBRIUM, reason,
                     diagnostics={"starts": tried, "no_response": sorted(no_response)},
                     evaluations=evaluations)


def _dynamics_economy(economy: Economy) -> Economy | None:
    """The economy best-response dynamics run on (:mod:`emgame.solvers.dynamics`): itself under
    simultaneous settlement; under prepaid settlement, where a best response depends on the
    wallet multiplier (undefined away from equilibrium), its simultaneous twin when wallets are
    stationary and ``β = 1`` (the same equilibria: docs/model.md, The crypto layer), else none."""
    m = economy.market
    if not m.prepaid:
        return economy
    if economy.stationary_wallets and m.discount == 1.0:
        return replace(economy, market=replace(m, settlement="simultaneous"))
    return None


def _tatonnement_step(agg: Aggregate, F: np.ndarray) -> np.ndarray:
    """The step of :func:`_tatonnement` from the residuals ``F`` at the current totals:
    ``Δlog p = log(X/Z)``, ``Δlog Q = log(Z/Q)`` per post (and ``Δlog p^0 = log(X^0/Ω)`` with
    exogenous wallets), each capped at 1."""
    m = len(agg.posts)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(np.maximum(1.0 + F[:m], 1e-300))
        s = np.log(np.maximum(1.0 + F[m:2 * m], 1e-300))
        step = [d - s, s]
        if agg.exogenous:
            step.append([np.log(max(1.0 + float(F[2 * m]), 1e-300))])
    step = np.concatenate(step)
    return np.clip(np.where(np.isfinite(step), step, 0.0), -1.0, 1.0)


def _tatonnement(agg: Aggregate, y: np.ndarray, opts: NashOptions, tried: list[str],
                 name: str, max_iter: int = 400):
    """Damped best responses in the totals, then Newton: where Newton fails from a start far
    from the equilibrium (responses with kinks, a type at a corner of its response), every
    type's replacement response to the totals gives new totals, ``p^t <- p^t X^t/Z^t`` (the
    bids its demand implies over the supply) and ``Q^t <- Z^t``, and the totals move a
    fraction ``α`` of the way in logarithms (``α`` shrinks while the steps grow). No Jacobian
    is needed, so it crosses kinks that stop Newton. Newton takes over once the steps are
    below 1e-3 (then below each tenth of the last hand-over that failed).

    Returns Newton's result when it converged, else ``None`` (the warm starts are then those
    of the start, ready for the next method)."""
    y0 = y.copy()
    F, _ = agg(y, False)
    if not agg.responded:
        return None
    step = _tatonnement_step(agg, F)
    size = float(np.max(np.abs(step))) if step.size else 0.0
    alpha = 0.5
    hand_over = 1e-3
    for it in range(max_iter):
        if clock() > opts.deadline:
            break
        if size <= hand_over:
            r = newton(agg, y, atol=opts.atol, max_iter=opts.max_iter, deadline=opts.deadline,
                       max_undefined=UNDEFINED)
            if r.converged:
                tried.append(f"{name} start: converged by Newton after {it} damped "
                             "best-response steps in the totals")
                return r
            hand_over = size / 10.0
            if hand_over < 1e-9:
                break
            F, _ = agg(y, False)   # warm starts back at y
        trial = y + alpha * step
        F_t, _ = agg(trial, False)
        if not agg.responded:
            # Some type has no response there: a shorter step.
            alpha *= 0.5
            agg(y, False)
            if alpha < 1e-3:
                break
            continue
        step_t = _tatonnement_step(agg, F_t)
        size_t = float(np.max(np.abs(step_t))) if step_t.size else 0.0
        if size_t > 1.05 * size:
            alpha = max(0.6 * alpha, 0.02)
        y, step, size = trial, step_t, size_t
    m = len(agg.posts)
    moved = y[:m] - y0[:m]
    k = int(np.argmax(np.abs(moved))) if m else 0
    drift = (f", the price of period {agg.economy.labels[agg.posts[k] - 1]} having moved by a "
             f"factor {float(np.exp(moved[k])):.3g}" if m and abs(moved[k]) > np.log(2.0)
             else "")
    tried.append(f"{name} start: damped best responses in the totals stopped with steps of "
                 f"{size:.2e} after {it + 1} steps{drift}")
    agg(y0, False)
    return None


def _state_weights_fixed_point(agg: Aggregate, r, opts: NashOptions, tried: list[str]):
    """CES with several states: re-solve with each type's state weights ``U_s^{1-r}`` updated
    from the last solution, until they stop moving. Where Newton fails after an update (the
    weights can move by a large factor at once), the update is made in smaller steps
    (geometric, from the last solution); the weights settle only at the full fixed point."""
    step = 1.0
    last = np.inf
    stalled = 0
    for it in range(200):
        if clock() > opts.deadline:
            break
        old = (agg.pi_c.copy(), agg.pi_p.copy())
        change = agg.update_state_weights(step)
        # Settled at 1e-13, or below 1e-9 once the change stops falling (three updates that do
        # not halve it): the rounding floor of Newton's solutions, which the certificate judges.
        stalled = stalled + 1 if step == 1.0 and change > 0.5 * last else 0
        last = change
        if change <= 1e-13 or (change <= 1e-9 and stalled >= 3):
            tried.append(f"CES state weights settled after {it} updates (last change "
                         f"{change:.1e})")
            return r
        nxt = newton(agg, r.y, atol=opts.atol, max_iter=opts.max_iter,
                     deadline=opts.deadline, max_undefined=UNDEFINED)
        if nxt.converged:
            r = nxt
            step = min(1.0, 2.0 * step)
            continue
        agg.pi_c, agg.pi_p = old
        agg(r.y, False)   # warm starts back at the last solution
        step *= 0.25
        if step < 1e-3:
            break
    tried.append("CES state weights did not settle")
    return type(r)(r.y, r.residual, False, r.iterations, r.evaluations,
                   "CES state weights did not settle")


def coarse_start(economy: Economy, opts: NashOptions | None = None, size: int = 2000
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """Totals ``(p, Q)`` of the Nash equilibrium of a coarse copy of a large economy: every
    k-th consumer type, its count multiplied by k (so each agent keeps its size and the goods
    supply its scale). Newton on the full economy then starts a few steps from its answer."""
    cons = economy.consumers
    m = len(cons)
    if m <= 2 * size:
        return None
    k = m // size
    idx = np.arange(0, m, k)
    sample = cons.select(idx)
    scale = economy.goods_supply / float(sample.count @ sample.endowment)
    coarse = economy.replace(consumers=Population(
        names=sample.names, **{c: getattr(sample, c) for c in _COLUMNS if c != "count"},
        count=sample.count * scale))
    cand = solve_nash(coarse, opts, starts=[])
    return cand.totals if cand.converged and cand.totals is not None else None


def price_taking_start(economy: Economy, opts: NashOptions | None = None
                       ) -> tuple[np.ndarray, np.ndarray] | None:
    """The price-taking totals ``(p, Q)`` from the aggregate system with ``τ = 0``: the
    competitive benchmark when every producer has decreasing returns, found at the cost of a
    few passes (used as the Nash start in large economies)."""
    opts = opts or NashOptions()
    if np.any(economy.producers.returns >= 1.0) or np.any(economy.fixed_costs > 0):
        return None
    agg = _fresh(economy)
    agg.tau = 0.0
    p0, Q0 = rough_start(economy)
    y0 = agg.unknowns(p0, Q0)
    if len(agg.C) >= opts.joint_from and agg.joint_ready:
        r = agg.joint_newton(y0, atol=1e-10, max_iter=opts.max_iter,
                             deadline=opts.deadline)
    else:
        r = newton(agg, y0, atol=1e-10, max_iter=opts.max_iter,
                   deadline=opts.deadline, max_undefined=UNDEFINED)
    return agg.totals(r.y) if r.converged else None


def _fresh(economy: Economy, regimes=None, deadline: float = math.inf) -> Aggregate:
    agg = Aggregate(economy, 1.0, np.zeros(0), np.zeros(0), deadline=deadline)
    if regimes is None:
        agg.consumer_part = default_participation(economy, agg.C, producers=False)
        agg.producer_part = default_participation(economy, agg.P, producers=True)
    else:
        agg.consumer_part = regimes[0].copy()
        agg.producer_part = regimes[1].copy()
    return agg


def _continuation(agg: Aggregate, y0: np.ndarray, opts: NashOptions, tried: list[str],
                  name: str):
    """Switch market power on gradually: solve at ``τ_0``, then step ``τ`` up to 1."""
    tau = opts.tau0
    agg.tau = tau
    r = newton(agg, y0, atol=opts.atol, max_iter=opts.max_iter,
               deadline=opts.deadline, max_undefined=UNDEFINED)
    if not r.converged:
        tried.append(f"{name} start, continuation from τ = {tau:g}: {r.message}")
        return None
    y = r.y
    step = 0.1
    for _ in range(opts.max_continuation_steps):
        if clock() > opts.deadline:
            break
        nxt = min(1.0, tau + step)
        agg.tau = nxt
        r = newton(agg, y, atol=opts.atol, max_iter=opts.max_iter,
                   deadline=opts.deadline, max_undefined=UNDEFINED)
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


def _candidate(economy: Economy, agg: Aggregate, y: np.ndarray, r, tried: list[str]) -> Candidate:
    """Turn the converged totals into a profile (bids ``b = p x``), with multipliers."""
    p, Q = agg.totals(y)
    agg(y, False)
    consumer_bids = p[None, :] * agg.x_c
    producer_bids = p[None, :] * agg.x_p
    offers = agg.q_p[:, 1:].copy()
    long_run = economy.market.long_run
    capacity = agg.z_p[:, 2].copy() if long_run else agg.Kbar.copy()
    profile = Profile(consumer_bids, producer_bids, offers, capacity)
    # Multipliers in units of utility (CES types were solved in their separable form).
    sc = ces_utility_scale(economy, agg.C, agg.x_c, agg.x_c[:, 0], False)
    sp = ces_utility_scale(economy, agg.P, agg.x_p,
                           agg.x_p[:, 0] - inputs_of(economy, agg.q_p, agg.z_p, agg.Kbar), True)
    mult = Multipliers(
        consumer_budget=agg.lam_c * sc,
        producer_budget=np.exp(agg.z_p[:, 0]) * sp,
        producer_goods=np.exp(agg.z_p[:, 1]) * sp,
        producer_capacity=agg.mu_p[:, 1:] * sp[:, None],
    )
    status_bad = int(np.sum(agg.status_c == Response.NOT_CONVERGED)
                     + np.sum(agg.status_p != Response.OK))
    diag = {"starts": tried, "residual": r.residual, "tau": agg.tau,
            "types_not_converged": status_bad}
    broke = np.flatnonzero(agg.status_c == Response.NONE_LEFT)
    if broke.size and not agg.exogenous:
        names = ", ".join(f"'{economy.consumers.names[i]}'" for i in broke[:5])
        return Candidate(
            "nash", False, Status.INFEASIBLE,
            f"consumer type(s) {names} cannot pay for the verification of even one payment "
            "at these prices, yet every bytecoin earned must be spent (under simultaneous "
            "settlement or stationary wallets total bids equal total revenue, so no budget "
            "can be left slack): there is no feasible active profile",
            profile=profile, multipliers=mult, diagnostics=diag, totals=(p, Q))
    internal = {"weights_c": agg.pi_c.copy(), "weights_p": agg.pi_p.copy(),
                "lam_c": agg.lam_c.copy(), "lam_p": np.exp(agg.z_p[:, 0]),
                "nu_p": np.exp(agg.z_p[:, 1])}
    return Candidate("nash", status_bad == 0, Status.EQUILIBRIUM if status_bad == 0
                     else Status.NO_EQUILIBRIUM,
                     "" if status_bad == 0 else f"{status_bad} type response(s) did not converge",
                     profile=profile, multipliers=mult, iterations=r.iterations,
                     evaluations=agg.evaluations, diagnostics=diag, totals=(p, Q),
                     internal=internal)


# ------------------------------------------------------------------------------------------
# Further starts for hard economies (constant or increasing returns beside other producers,
# fixed verification costs): each solves an easier neighbour and hands its totals on.
# ------------------------------------------------------------------------------------------

def easier_starts(economy: Economy, opts: NashOptions | None = None
                  ) -> Iterator[tuple[str, tuple[np.ndarray, np.ndarray]]]:
    """Named ``(p, Q)`` starts from easier neighbours of ``economy``, made one at a time (each
    costs a solve, so a caller stops as soon as one works):

    - *zero verification cost*: the same economy with fixed costs 0 (participation is then no
      choice), then the costs switched on in steps ``v/4, v/2, v``, each from the last;
    - *returns below one*: producers with ``c >= 1`` given ``c = 1 - ε`` (``ε = 0.05, 0.01``),
      whose responses exist at every price, each step from the last;
    - *shut-down producer types*: the economy without one producer type (where others
      remain), its totals as a start (the type enters or stays out in the regime rounds).
    """
    opts = opts or NashOptions()
    end = clock() + opts.max_seconds

    def left() -> NashOptions | None:  # the budget is shared by every easier solve
        rest = end - clock()
        return replace(opts, max_seconds=rest) if rest > 0 else None

    v = economy.fixed_costs
    if np.any(v > 0):
        totals = None
        for k, f in enumerate((0.0, 0.25, 0.5, 1.0)):
            if f == 1.0:
                if totals is not None:
                    yield "verification continued from zero", totals
                break
            easier = _with_fixed_costs(economy, f)
            if left() is None:
                return
            cand = solve_nash(easier, left(), starts=[] if totals is None
                              else [(f"v x {f:g}", totals)])
            if not cand.converged or cand.totals is None:
                break
            totals = cand.totals
            if k == 0:
                yield "zero verification cost", totals
    c = economy.producers.returns
    if len(c) and np.any(c >= 1.0):
        totals = None
        for eps in (0.05, 0.01):
            easier = economy.replace(producers=dataclasses.replace(
                economy.producers, returns=np.where(c >= 1.0, 1.0 - eps, c)))
            if left() is None:
                return
            cand = solve_nash(easier, left(), starts=[] if totals is None
                              else [(f"c = 1 - {eps:g}", totals)])
            if not cand.converged or cand.totals is None:
                break
            totals = cand.totals
            yield f"returns 1 - {eps:g}", totals
    if len(economy.producers) > 1:
        for j in range(len(economy.producers)):
            keep = [k for k in range(len(economy.producers)) if k != j]
            easier = economy.replace(producers=economy.producers.select(keep))
            if left() is None:
                return
            cand = solve_nash(easier, left(), starts=[])
            if cand.converged and cand.totals is not None:
                yield f"'{economy.producers.names[j]}' shut down", cand.totals


def _with_fixed_costs(economy: Economy, factor: float) -> Economy:
    states = tuple(dataclasses.replace(s, fixed=tuple(float(x) * factor for x in s.fixed))
                   for s in economy.states)
    return economy.replace(states=states)
