"""Solve an economy: run a solver, certify its candidate, return one :class:`Solution`.

A profile is reported as an equilibrium only when its certificate passed (docs/model.md, Solution
concepts).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from emgame._numerics import clock
from emgame.certificate import certify
from emgame.market.game import Profile, evaluate
from emgame.model.economy import Economy, as_economy
from emgame.results import Certificate, Multipliers, Solution, SolveError, Status
from emgame.solvers import checks
from emgame.solvers.candidate import Candidate
from emgame.solvers.competitive import CompetitiveOptions, solve_competitive
from emgame.solvers.nash import (
    NashOptions,
    coarse_start,
    easier_starts,
    price_taking_start,
    solve_nash,
)
from emgame.solvers.storage import (
    rest_of,
    solve_competitive_storage,
    solve_nash_storage,
)
from emgame.solvers.storage import unsupported as unsupported_storage

Concept = Literal["nash", "competitive"]


@dataclass(frozen=True)
class Options:
    """Settings for :func:`solve`: the certificate's tolerances and each solver's options.

    ``small_seconds`` caps the Nash search, or the competitive benchmark, of a small economy
    (``T <= 3``, at most five types) so that it ends, with an answer or a reason, within about
    that time (``None``: only ``nash.max_seconds``, ``competitive.max_seconds``). The search's
    time is measured without the one-off compilation of the kernels
    (:func:`emgame._numerics.clock`), so a fresh install's first solve has its whole budget;
    the certificate has its own. On the random campaign (benchmarks/campaign) a 300 s budget
    found nothing the 30 s one did not.
    ``certificate_seconds`` bounds the certificate's searches (past it, a type whose bound is not
    yet under the pass mark is inconclusive); compilation is not counted against it.
    """

    atol: float = 1e-8
    rtol: float = 1e-8
    nash: NashOptions = field(default_factory=NashOptions)
    competitive: CompetitiveOptions = field(default_factory=CompetitiveOptions)
    small_seconds: float | None = 30.0
    certificate_seconds: float = 60.0


def solve(economy: Economy, concept: Concept = "nash", *, options: Options | None = None,
          start: Solution | None = None, raise_on_failure: bool = False) -> Solution:
    """The Nash equilibrium or the competitive benchmark of ``economy``, certified.

    Parameters
    ----------
    economy : Economy
    concept : {"nash", "competitive"}
    options : Options, optional
    start : Solution, optional
        A solution of a neighbouring economy (same periods) to start from (warm start); the
        usual starts are still tried if it fails.
    raise_on_failure : bool
        Raise :class:`SolveError` (carrying the solution) instead of returning a failure.

    Returns
    -------
    Solution
        ``status`` is ``equilibrium`` only if the certificate passed; otherwise the reason
        says why (no equilibrium found, infeasible), and any candidate is kept for diagnosis.

    Examples
    --------
    >>> from emgame import Economy, ConsumerType, ProducerType, Utility, solve
    >>> e = Economy.build(name="two producers", periods=1,
    ...     consumers=[ConsumerType("c", 4, 1.0, Utility("cobb_douglas", (1.0,)))],
    ...     producers=[ProducerType("p", 2, 1.0, 1.0, Utility("cobb_douglas", (1.0,)),
    ...                             capacity=10.0)])
    >>> s = solve(e)
    >>> s.status.value, s.certificate.passed
    ('equilibrium', True)
    """
    economy = as_economy(economy)  # an Economy, or the path of an economy file
    if concept not in ("nash", "competitive"):
        raise ValueError(f"concept must be 'nash' or 'competitive', not {concept!r}")
    # Trial points far from an equilibrium overflow; the solvers see inf/nan and back off, so
    # numpy's warnings would only be noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _solve(economy, concept, options or Options(), start, raise_on_failure)


def unsupplied_needs(economy: Economy) -> str | None:
    """Why ``economy`` has no equilibrium because a period some type cannot do without has
    no possible supply (docs/model.md, Availability), or ``None``.

    A period has no possible supply when no producer can produce in it (``s^t K̄ = 0`` for
    all, or ``s^t = 0`` in the long run) and no storage operator can bring electricity to it.
    A type needs a period when its utility is ``−∞`` without it: a positive weight under
    Cobb–Douglas or quasilinear utility (``log``), or CRRA with ``γ > 1``.
    """
    from emgame.market.utility import CD, CRRA, QUASILINEAR

    missing = ~economy.supplied_periods
    if not missing.any():
        return None
    for role, pop in economy.roles:
        if not len(pop):
            continue
        unbounded = (pop.family == CD) | (pop.family == QUASILINEAR) | (
            (pop.family == CRRA) & (np.nan_to_num(pop.gamma) > 1))
        needs = (pop.weights[:, missing] > 0) & unbounded[:, None]
        if needs.any():
            i, k = (int(v[0]) for v in np.nonzero(needs))
            t = int(np.flatnonzero(missing)[k])
            what = {"consumers": "consumer", "producers": "producer", "storage": "storage"}[role]
            return (f"no equilibrium: nothing can supply electricity in period "
                    f"{economy.labels[t]!r} (no producer is available then and no storage "
                    f"can bring any), but {what} type {pop.names[i]!r} values it with a utility"
                    " that is -inf without it")
    return None


def _phase_pending(economy: Economy) -> str | None:
    """What this version's solvers do not take (refused, never solved wrongly), or ``None``:
    storage operators that value electricity, pay a fixed verification cost or settle
    prepaid (:func:`emgame.solvers.storage.unsupported`)."""
    return unsupported_storage(economy)


def _solve(economy: Economy, concept: Concept, opts: Options, start: Solution | None,
           raise_on_failure: bool) -> Solution:
    started = time.perf_counter()
    refused = unsupplied_needs(economy) or _phase_pending(economy)
    if refused:
        solution = Solution(economy, concept, Status.NO_EQUILIBRIUM, refused,
                            seconds={"total": time.perf_counter() - started})
        if raise_on_failure:
            raise SolveError(solution)
        return solution
    seconds: dict[str, float] = {}
    begun = clock()   # time budgets run on this clock, which leaves out compilation
    warm = None
    if start is not None and start.outcome is not None and \
            start.economy.periods == economy.periods:
        p = np.where(np.isfinite(start.outcome.prices), start.outcome.prices, 0.0)
        Q = start.outcome.offers_total.copy()
        Q[0] = economy.goods_supply
        warm = (p, Q)
    storage = economy.has_storage
    rest = rest_of(economy) if storage else economy   # the solvers add storage as given flows
    budget = opts.nash.max_seconds
    small = opts.small_seconds is not None and economy.periods <= 3 and \
        len(economy.consumers) + len(economy.producers) <= 5
    if small:
        budget = min(budget, opts.small_seconds)
    if concept == "nash":
        starts = [("given", warm)] if warm is not None else []
        if warm is None or start is None or start.concept != "nash":
            # The competitive benchmark is a natural start: market power then moves prices.
            # Large economies start from the Nash equilibrium of a coarse copy (every k-th
            # consumer type, k times as many agents), or else from the price-taking totals.
            big = len(economy.consumers) >= opts.nash.joint_from
            coarse = coarse_start(rest, opts.nash) if big else None
            fast = None
            if coarse is not None:
                starts.append(("coarse Nash", coarse))
            elif big:
                fast = price_taking_start(rest, opts.nash)
            if fast is not None:
                starts.append(("price-taking", fast))
            elif coarse is None:
                # Only a start: it may take a tenth of the search's budget (uncapped outside
                # small economies, a benchmark's 300 Newton steps once took 43 s of a 30 s
                # budget and left the search none: campaign-3-0010, T = 6).
                comp = solve_competitive(rest, replace(opts.competitive, max_seconds=min(
                    opts.competitive.max_seconds, 0.1 * budget)))
                if comp.totals is not None and comp.converged:
                    starts.append(("competitive", comp.totals))
        seconds["start"] = time.perf_counter() - started
        if storage:
            cand = solve_nash_storage(economy, opts.nash, starts)
        else:
            solution = _nash(economy, opts, starts, seconds, started, begun, budget, small)
            if raise_on_failure and not solution.ok:
                raise SolveError(solution)
            return solution
    else:
        # A small economy's benchmark has the same budget as its Nash search: the solve up to
        # four fifths of it, the certificate until 0.93 of it (a benchmark whose Newton
        # method ran its 300 steps took 31 s, campaign-2-0035).
        copts = (replace(opts.competitive, max_seconds=min(opts.competitive.max_seconds,
                                                           0.8 * budget))
                 if small else opts.competitive)
        cand = (solve_competitive_storage(economy, copts, start=warm) if storage
                else solve_competitive(economy, copts, start=warm))
    seconds["solve"] = time.perf_counter() - started
    end = begun + 0.93 * budget if small else None
    solution = _certified(economy, cand, opts, seconds, started, end)
    broke = cand.diagnostics.get("cannot_pay_verification") if cand.diagnostics else None
    if not storage and solution.status is Status.NO_EQUILIBRIUM and (
            solution.certificate is not None or broke):
        # (Also where Newton failed at prices at which some producer types' profit cannot
        # pay the verification of their own payments: campaign-4-0010.)
        solution = _without_hopeless(economy, concept, opts, solution, started, begun,
                                     budget if small else None, end,
                                     drop=None if solution.certificate is not None else
                                     [list(economy.producers.names).index(n) for n in broke])
    if raise_on_failure and not solution.ok:
        raise SolveError(solution)
    return solution


def _nash(economy: Economy, opts: Options, starts: list, seconds: dict[str, float],
          started: float, begun: float, budget: float, small: bool = False) -> Solution:
    """The Nash search within ``budget`` seconds (on :func:`emgame._numerics.clock` from
    ``begun``): Newton from the starts (with damped best responses and continuation in market
    power); where it fails from every start, equilibria with some producer types shut down
    (first those that had no response at some start), the totals of easier neighbours, then
    the other shut-downs. Only a certified profile is returned as an equilibrium. In a small
    economy (``small``) the certificates count against the budget too."""
    # A small economy's budget is a promise to the user: the search stops 2% early, leaving
    # the time its last steps take (the campaign measured 0.1 s past a 30 s deadline).
    deadline = begun + (0.98 * budget if small else budget)
    # The certificates end a little before the search's deadline: what follows them (the
    # diagnosis of a failed candidate) must fit too.
    end = deadline - 0.05 * budget if small else None
    several = len(economy.producers) > 1 and not checks.before_nash(economy)
    # Where Newton fails from every start, the rest of the budget goes to easier neighbours
    # and, with several producer types, to shutting some of them down: the direct search gets
    # half of it then (more with one producer type).
    share = 0.5 if several else 0.7
    nopts = replace(opts.nash, max_seconds=max(begun + share * budget - clock(), 0.0))
    cand = solve_nash(economy, replace(nopts, dynamics=True), starts=starts)
    hard = not cand.converged and cand.status is Status.NO_EQUILIBRIUM and \
        "did not converge" in cand.reason
    silent = list(cand.diagnostics.get("no_response", []))
    order = shut_down_order(economy, silent) if several else []
    tried: list[str] = []
    undecided: list[Solution] = []   # candidates whose certificate could not decide
    if hard and silent and order and not _empty_wallet_traps(economy):
        # (Where a type shut down may be trapped by its empty wallet, the easier neighbours
        # come first: a shut-down must also be shown not to be a trap, a longer way.)
        first = [d for d in order if all(economy.producers.names[j] in silent for j in d)]
        found = _shut_down(economy, opts, first, seconds, started, begun + 0.8 * budget, tried,
                           end, undecided)
        if found is not None:
            return found
        order = [d for d in order if d not in first]
    if hard and np.any(economy.producers.returns > 1.0):
        found = _idle_outputs(economy, opts, seconds, started,
                              begun + (0.8 if several else 0.85) * budget, tried, end,
                              undecided)
        if found is not None:
            return found
    if hard:
        cand = _easier(economy, nopts, cand, deadline if not several else
                       max(begun + 0.8 * budget, clock() + 0.25 * (deadline - clock())))
    seconds["solve"] = time.perf_counter() - started
    solution = _certified(economy, cand, opts, seconds, started, end)
    if solution.status is Status.NO_EQUILIBRIUM and solution.certificate is not None:
        solution = _without_hopeless(economy, "nash", opts, solution, started, begun, budget,
                                     end)
    if solution.status is Status.NO_EQUILIBRIUM and order:
        found = _shut_down(economy, opts, order, seconds, started, deadline, tried, end,
                           undecided)
        if found is not None:
            return found
    if tried and not solution.ok:
        # What the shut-downs and idle outputs found first: it says more than Newton's log.
        solution = replace(solution, reason="no equilibrium found with producer types shut "
                           "down or idle on some posts (" + "; ".join(tried)
                           + "), nor with every type active: " + solution.reason,
                           diagnostics={**solution.diagnostics, "shut_down_tried": tried})
    if undecided and solution.status is Status.NO_EQUILIBRIUM:
        # A candidate the certificate could not judge says more than "none found": the one
        # with the least regret bound is returned, inconclusive (never as an equilibrium).
        best = min(undecided, key=lambda u: u.certificate.max_regret)
        solution = replace(best, reason=best.reason + "; the closest of the candidates the "
                           "search found (" + "; ".join(tried) + ")",
                           diagnostics={**best.diagnostics, "shut_down_tried": tried},
                           seconds={**best.seconds, "total": time.perf_counter() - started})
    return solution


def without_producer(economy: Economy, j: int) -> Economy:
    """``economy`` without producer type ``j``."""
    return without_producers(economy, (j,))


def without_producers(economy: Economy, drop: Sequence[int] | np.ndarray) -> Economy:
    """``economy`` without the producer types in ``drop``."""
    pop = economy.producers
    gone = {int(j) for j in drop}
    return economy.replace(producers=pop.select([k for k in range(len(pop)) if k not in gone]))


def insert_producer(profile: Profile, mult: Multipliers | None, j: int, economy: Economy
                    ) -> tuple[Profile, Multipliers | None]:
    """Embed a profile of the economy without producer type ``j``: that type plays nothing."""
    T = profile.offers.shape[1]
    K = economy.producers.capacity[j]
    cap = 0.0 if economy.market.long_run or not np.isfinite(K) else float(K)
    prof = Profile(np.asarray(profile.consumer_bids),
                   np.insert(profile.producer_bids, j, np.zeros(T + 1), axis=0),
                   np.insert(profile.offers, j, np.zeros(T), axis=0),
                   np.insert(profile.capacity, j, cap))
    if mult is None:
        return prof, None
    m = Multipliers(mult.consumer_budget, np.insert(mult.producer_budget, j, 0.0),
                    np.insert(mult.producer_goods, j, 0.0),
                    np.insert(mult.producer_capacity, j, np.zeros(T), axis=0))
    return prof, m


def _shut_down_in(economy: Economy, cand: Candidate, drop: Sequence[int] | np.ndarray
                  ) -> Candidate:
    """A candidate of ``economy`` without the producer types ``drop`` as a candidate of
    ``economy``: those types play nothing (named in ``diagnostics["shut_down"]``)."""
    prof, mult = cand.profile, cand.multipliers
    for j in sorted(int(j) for j in drop):
        prof, mult = insert_producer(prof, mult, j, economy)
    names = [economy.producers.names[j] for j in drop]
    return replace(cand, profile=prof, multipliers=mult,
                   diagnostics={**cand.diagnostics, "shut_down": names})


def _without_hopeless(economy: Economy, concept: Concept, opts: Options, failed: Solution,
                      started: float, begun: float, budget: float | None = None,
                      end: float | None = None, drop: Sequence[int] | None = None
                      ) -> Solution:
    """The candidate failed where some producer types cannot pay for their verification
    (utility ``-inf``), or the benchmark's search ended where the types ``drop`` could not:
    solve again with those types shut down (playing nothing) and certify the result in the
    whole economy. It replaces ``failed`` only if its certificate passes.

    Under stationary prepaid wallets a type shut down has wallet 0 and can pay for nothing, a
    steady state the certificate cannot fault ("empty wallets", docs/model.md, The
    certificate): there the result is refused where a shut-down type is shown to gain by
    entering for good, spending each period what it earns (its stationary wallet once it has
    entered) — the certificate under simultaneous settlement, for the shut-down types alone.
    Whether entering pays is a question of what the type can afford and enjoy in that steady
    state, which ``β`` does not enter (``β`` weighs revenue against spending in an active
    type's first-order conditions). campaign-2-0016 (``β = 1``): a constant-returns producer
    was kept out at a price 60 times its cost, refused; campaign-2-0026 (``β = 0.856``): a
    producer whose profit cannot pay for its fixed verification, kept."""
    if drop is None:
        cert = failed.certificate
        assert cert is not None
        with np.errstate(invalid="ignore"):
            drop = np.flatnonzero(np.isneginf(cert.producer_utility) & ~cert.producer_passed)
    drop = np.asarray(drop, int)
    if drop.size == 0 or drop.size == len(economy.producers):
        return failed
    smaller = without_producers(economy, drop)
    seconds = dict(failed.seconds)
    if concept == "nash":
        left = (budget if budget is not None else opts.nash.max_seconds) - (clock() - begun)
        if left <= 0:
            return failed
        cand = solve_nash(smaller, replace(opts.nash, max_seconds=left), starts=[])
    else:
        copts = opts.competitive
        if budget is not None:
            left = budget - (clock() - begun)
            if left <= 0:
                return failed
            copts = replace(copts, max_seconds=min(copts.max_seconds, left))
        cand = solve_competitive(smaller, copts)
    if not cand.converged or cand.profile is None:
        return failed
    solution = _certified(economy, _shut_down_in(economy, cand, drop), opts, seconds, started,
                          end)
    if solution.ok and _empty_wallet_traps(economy):
        # Refused where a type kept out is shown to gain by entering; an undecided one is
        # the empty-wallet steady state as the model states it (docs/model.md, The
        # certificate).
        sim = _entering(solution, end)
        if np.any(~sim.producer_passed[drop] & ~sim.producer_inconclusive[drop]):
            return failed
    return solution if solution.ok else failed


def _empty_wallet_traps(economy: Economy) -> bool:
    """Whether a producer type shut down is stuck there: under stationary prepaid wallets its
    revenue, 0, is its wallet, so it can bid nothing and no certificate finds it a deviation
    (a "poverty trap", not a choice to stay out). The Nash search and the retry after a
    candidate failed keep such a type out only where :func:`_entering` shows it would not
    gain by entering for good; ``solve_all`` lists the other steady states too, certified as
    the model states them."""
    return economy.market.prepaid and economy.stationary_wallets


def _entering(solution: Solution, end: float | None = None) -> Certificate:
    """The certificate of ``solution`` under simultaneous settlement, where a type's budget is
    what it earns: for producer types shut down under stationary wallets (wallet 0, so they
    pass whatever entering would bring), whether entering for good, spending the revenue
    entering brings, pays — a type that fails gains by it, one that passes is shown not to.
    ``end``: a small economy's budget, which bounds this certificate too (at least half a
    second)."""
    e = solution.economy
    sim = replace(e, market=replace(e.market, settlement="simultaneous", discount=1.0))
    competitive = solution.concept == "competitive"
    prices = solution.prices if competitive else None
    kw = {} if end is None else {"max_seconds": max(end - clock(), 0.5)}
    return certify(sim, solution.profile, outcome=evaluate(sim, solution.profile, prices),
                   price_taking=competitive, **kw)


def shut_down_order(economy: Economy, silent: list[str]) -> list[tuple[int, ...]]:
    """The sets of producer types to try shutting down, most likely first: the types that had
    no response at some start (a constant- or increasing-returns type priced below its cost
    earns nothing there), then the other types with ``c >= 1`` by falling unit cost ``1/θ``
    (plus ``ρ`` in the long run), each alone; then the silent ones together, then pairs."""
    pop = economy.producers
    n = len(pop)
    unit = 1.0 / pop.productivity + (np.nan_to_num(pop.capacity_cost)
                                     if economy.market.long_run else 0.0)
    by_cost = sorted(range(n), key=lambda j: -unit[j])
    flagged = [j for j in by_cost if pop.names[j] in silent]
    flat = [j for j in by_cost if pop.returns[j] >= 1.0 and j not in flagged]
    rest = [j for j in by_cost if j not in flagged and j not in flat]
    order: list[tuple[int, ...]] = [(j,) for j in flagged + flat + rest]
    if len(flagged) > 1 and len(flagged) < n:
        order.append(tuple(sorted(flagged)))
    head = (flagged + flat)[:3]
    order += [tuple(sorted((a, b))) for i, a in enumerate(head) for b in head[i + 1:]
              if n > 2 and tuple(sorted((a, b))) not in order]
    return order


def _shut_down(economy: Economy, opts: Options, sets: list[tuple[int, ...]],
               seconds: dict[str, float], started: float, deadline: float,
               tried: list[str], end: float | None,
               undecided: list[Solution]) -> Solution | None:
    """An equilibrium in which the producer types of one of ``sets`` stay out (docs/model.md,
    Solution concepts: a constant-returns type priced below its cost, or an increasing-returns
    type that cannot cover its average cost, may produce nothing), or ``None`` (what was tried
    is added to ``tried``). Each set is removed, the rest solved, and the profile, those types
    playing nothing, certified in the whole economy: only a passed certificate counts (the
    types kept out then cannot gain by entering); inconclusive ones go to ``undecided``. Under
    stationary prepaid wallets a type kept out has wallet 0 and passes whatever entering
    would bring: there the types kept out must also pass the certificate under simultaneous
    settlement (entering for good, spending what they earn, does not pay)."""
    for drop in sets:
        if clock() > deadline:
            tried.append("time budget reached")
            break
        names = [economy.producers.names[j] for j in drop]
        smaller = without_producers(economy, drop)
        why = checks.before_nash(smaller)
        if why:  # e.g. a sole seller left: no equilibrium without these types
            tried.append(f"without {names}: no equilibrium without them ({why.split(':')[0]})")
            continue
        # Only a start: a quarter of the time left at most.
        comp = solve_competitive(smaller, replace(opts.competitive, max_seconds=max(
            0.25 * (deadline - clock()), 0.1)))
        start = [("competitive", comp.totals)] if comp.converged and comp.totals is not None \
            else []
        cand = solve_nash(smaller, replace(opts.nash, max_seconds=max(deadline - clock(), 0.0)),
                          starts=start)
        if not cand.converged or cand.profile is None:
            tried.append(f"without {names}: not solved")
            continue
        seconds["solve"] = time.perf_counter() - started
        solution = _certified(economy, _shut_down_in(economy, cand, drop), opts, dict(seconds),
                              started, end)
        if solution.ok and _empty_wallet_traps(economy) and \
                not np.all(_entering(solution, end).producer_passed[list(drop)]):
            tried.append(f"without {names}: an empty-wallet steady state, not shown to stay "
                         "out by choice (entering for good, spending what it earns, may pay)")
            continue
        if solution.ok:
            return solution
        if solution.status is Status.INCONCLUSIVE:
            undecided.append(solution)
        tried.append(f"without {names}: {_entrants(economy, solution, drop)}")
    return None


def idle_patterns(economy: Economy) -> list[tuple[int, np.ndarray]]:
    """Output regimes to start from for increasing-returns producer types: type ``j`` idle
    (output pinned at zero) on a set of the valued posts, one type at a time, fewest idle posts
    first (idle on every post is a shut-down, tried separately)."""
    pop = economy.producers
    valued = np.flatnonzero(economy.valued_periods)
    out = []
    for size in range(1, len(valued)):
        for j in np.flatnonzero(pop.returns > 1.0):
            for posts in itertools.combinations(valued, size):
                mask = np.zeros(economy.periods, dtype=bool)
                mask[list(posts)] = True
                out.append((int(j), mask))
    return out


def _idle_outputs(economy: Economy, opts: Options, seconds: dict[str, float], started: float,
                  deadline: float, tried: list[str], end: float | None,
                  undecided: list[Solution]) -> Solution | None:
    """An equilibrium in which an increasing-returns producer type produces nothing on some
    posts (docs/model.md, Agents: with ``c > 1`` marginal cost is infinite at zero output, so
    producing on a post or not is a discrete choice, made by the regime rounds; this gives them
    starts where "produce everywhere" has no solution). Each start is solved, the rounds free
    to switch; only a certified profile counts. What was found is added to ``tried``."""
    for j, mask in idle_patterns(economy):
        if clock() > deadline:
            tried.append("time budget reached")
            break
        name = economy.producers.names[j]
        where = ", ".join(economy.labels[t] for t in np.flatnonzero(mask))
        cand = solve_nash(economy, replace(opts.nash, max_seconds=max(deadline - clock(), 0.0)),
                          idle={j: mask})
        history = cand.diagnostics.get("regime_history") or []
        moved = f" (then {history[-1]})" if history else ""
        if not cand.converged or cand.profile is None:
            tried.append(f"'{name}' idle in {where}{moved}: not solved")
            continue
        seconds["solve"] = time.perf_counter() - started
        solution = _certified(economy, cand, opts, dict(seconds), started, end)
        if solution.ok:
            return solution
        if solution.status is Status.INCONCLUSIVE:
            undecided.append(solution)
        tried.append(f"'{name}' idle in {where}{moved}: {solution.status.value}")
    return None


def _entrants(economy: Economy, solution: Solution, drop: tuple[int, ...]) -> str:
    """What the certificate said of an equilibrium of the others with ``drop`` kept out."""
    cert = solution.certificate
    if cert is None:
        return "no candidate"
    undecided = cert.producer_inconclusive if cert.producer_inconclusive is not None else \
        np.zeros(len(economy.producers), bool)
    enter = [economy.producers.names[j] for j in drop
             if not cert.producer_passed[j] and not undecided[j]]
    if enter:
        return f"{enter} would enter (certificate fails)"
    return "the certificate did not pass (" + solution.status.value + ")"


def _easier(economy: Economy, nopts: NashOptions, cand: Candidate, deadline: float
            ) -> Candidate:
    """Newton failed from every start: try the totals of easier neighbours (zero verification
    cost continued, returns below one, a producer type shut down), each within the budget."""
    tried = []
    try:
        for name, totals in easier_starts(economy, replace(
                nopts, max_seconds=max(deadline - clock(), 0.1))):
            left = deadline - clock()
            if left <= 0:
                tried.append("time budget reached")
                break
            nxt = solve_nash(economy, replace(nopts, max_seconds=left), starts=[(name, totals)])
            tried.append(f"{name}: {'converged' if nxt.converged else 'no'}")
            if nxt.converged or (nxt.profile is not None and cand.profile is None):
                nxt.diagnostics["easier_starts"] = tried
                if nxt.converged:
                    return nxt
                cand = nxt
            if clock() > deadline:
                tried.append("time budget reached")
                break
    except (FloatingPointError, np.linalg.LinAlgError) as exc:  # an easier solve broke down
        tried.append(f"stopped: {exc}")
    if tried:
        return replace(cand, reason=cand.reason + "; easier starts: " + ", ".join(tried),
                       diagnostics={**cand.diagnostics, "easier_starts": tried})
    return cand


def solve_both(economy: Economy, *, options: Options | None = None) -> tuple[Solution, Solution]:
    """``(nash, competitive)`` for the same economy."""
    return solve(economy, "nash", options=options), solve(economy, "competitive",
                                                          options=options)


def _named(economy: Economy, cert: Certificate, mask_c: np.ndarray, mask_p: np.ndarray,
           mask_s: np.ndarray | None = None) -> list[str]:
    names = [f"consumer '{economy.consumers.names[i]}'" for i in np.flatnonzero(mask_c)]
    names += [f"producer '{economy.producers.names[j]}'" for j in np.flatnonzero(mask_p)]
    if mask_s is not None:
        names += [f"storage '{economy.storage.names[k]}'" for k in np.flatnonzero(mask_s)]
    return names


def _hopeless(economy: Economy, cert: Certificate) -> str:
    """The types whose utility at the candidate is -inf while their regret is not (named)."""
    with np.errstate(invalid="ignore"):
        bad_c = np.isneginf(cert.consumer_utility) & (cert.consumer_regret > 0)
        bad_p = np.isneginf(cert.producer_utility) & (cert.producer_regret > 0)
    return ", ".join(_named(economy, cert, bad_c, bad_p))


def _verdict(economy: Economy, cert: Certificate) -> tuple[Status, str]:
    """Status and reason for a converged candidate, from its certificate."""
    if cert.passed:
        return Status.EQUILIBRIUM, ""
    inc_c = cert.consumer_inconclusive if cert.consumer_inconclusive is not None else \
        np.zeros(len(economy.consumers), bool)
    inc_p = cert.producer_inconclusive if cert.producer_inconclusive is not None else \
        np.zeros(len(economy.producers), bool)
    fail_c = ~cert.consumer_passed & ~inc_c
    fail_p = ~cert.producer_passed & ~inc_p
    inc_s = cert.storage_inconclusive if cert.storage_inconclusive is not None else \
        np.zeros(len(cert.storage_regret), bool)
    fail_s = ~cert.storage_passed & ~inc_s
    if not cert.cleared:
        return Status.NO_EQUILIBRIUM, (
            "the candidate's markets do not clear: the largest relative excess demand is "
            f"{float(np.nanmax(cert.clearing)):.3g} (tolerance {cert.rtol:g}); it is not "
            "reported as an equilibrium")
    if np.any(fail_c) or np.any(fail_p) or np.any(fail_s):
        gains = [g[m] for g, m in ((cert.consumer_gain, fail_c), (cert.producer_gain, fail_p),
                                   (cert.storage_gain, fail_s))
                 if g is not None and np.any(m)]
        shown = max((float(np.nanmax(g)) for g in gains if np.any(np.isfinite(g))),
                    default=float("nan"))
        worst = max(cert.max_regret, 0.0)
        who = ", ".join(_named(economy, cert, fail_c, fail_p, fail_s)[:5])
        reason = (f"the candidate failed its certificate: {who} can gain by deviating ("
                  + (f"a deviation found gains {shown:.3g} in utility; " if np.isfinite(shown)
                     else "")
                  + f"max regret {worst:.3g}, max relative regret "
                  f"{cert.max_relative_regret:.3g}); it is not reported as an equilibrium")
        hopeless = _hopeless(economy, cert)
        if hopeless:
            reason += (f"; at the candidate the utility of {hopeless} is -inf: the income "
                       "left (after inputs, for a producer) buys none of a good the utility "
                       "needs, or cannot pay its verification, while a deviation gets a "
                       "finite one" + (" (under prepaid settlement the wallet is no credit: "
                                       "a type that spends it all on inputs earning nothing "
                                       "could buy with it instead)"
                                       if economy.market.prepaid else ""))
        return Status.NO_EQUILIBRIUM, reason
    parts = []
    for role, pop, mask in (("consumer", economy.consumers, inc_c),
                            ("producer", economy.producers, inc_p),
                            ("storage", economy.storage, inc_s)):
        for i in np.flatnonzero(mask):
            key = "storage" if role == "storage" else f"{role}s"
            why = cert.reasons.get(f"{key}/{pop.names[i]}", "")
            parts.append(f"{role} '{pop.names[i]}'" + (f" ({why})" if why else ""))
    return Status.INCONCLUSIVE, (
        "the certificate could not decide whether the candidate is an equilibrium: no "
        "deviation was found that gains more than the pass mark, but no bound proved that "
        "none does, for " + "; ".join(parts[:5]) + (" ..." if len(parts) > 5 else "")
        + f" (max regret bound {max(cert.max_regret, 0.0):.3g}); it is not reported as an "
        "equilibrium")


def _certified(economy: Economy, cand: Candidate, opts: Options, seconds: dict[str, float],
               started: float, end: float | None = None) -> Solution:
    """Certify ``cand``. ``end`` (on :func:`emgame._numerics.clock`): the end of a small
    economy's budget, which also bounds the certificate's searches (at least half a second); a
    type still undecided then is inconclusive, and the reason says the budget cut it short."""
    if cand.profile is None:
        seconds["total"] = time.perf_counter() - started
        return Solution(economy, cand.concept, cand.status if cand.status is not
                        Status.EQUILIBRIUM else Status.NO_EQUILIBRIUM, cand.reason,
                        iterations=cand.iterations, evaluations=cand.evaluations,
                        seconds=seconds, diagnostics=cand.diagnostics)
    t = time.perf_counter()
    # The benchmark's agents take the solver's prices; the game's prices come from the bids.
    outcome = evaluate(economy, cand.profile, cand.totals[0] if cand.concept == "competitive"
                       and cand.totals is not None else None)
    limit = opts.certificate_seconds
    if end is not None:
        limit = min(limit, max(end - clock(), 0.5))
    cert = certify(economy, cand.profile, multipliers=cand.multipliers, outcome=outcome,
                   atol=opts.atol, rtol=opts.rtol, price_taking=cand.concept == "competitive",
                   max_seconds=limit)
    seconds["certificate"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - started
    if not cand.converged:
        status = cand.status if cand.status is not Status.EQUILIBRIUM else Status.NO_EQUILIBRIUM
        reason = (f"{cand.reason} (the best candidate kept for diagnosis has max regret "
                  f"{max(cert.max_regret, 0.0):.3g}, relative {cert.max_relative_regret:.3g})")
    else:
        status, reason = _verdict(economy, cert)
        if status is Status.INCONCLUSIVE and limit < opts.certificate_seconds:
            reason += (f" (the certificate had {limit:.1f} s left of the small economy's "
                       f"{opts.small_seconds:g} s budget; Options(small_seconds=None) gives it "
                       f"{opts.certificate_seconds:g} s)")
    diagnostics = dict(cand.diagnostics)
    if cand.totals is not None:
        p, _ = cand.totals
        diagnostics["solver_prices_match_market"] = float(np.nanmax(np.abs(
            np.where(outcome.active, outcome.prices - p, 0.0))))
    return Solution(economy, cand.concept, status, reason, profile=cand.profile, outcome=outcome,
                    multipliers=cand.multipliers, certificate=cert, iterations=cand.iterations,
                    evaluations=cand.evaluations, seconds=seconds, diagnostics=diagnostics)
