"""The market environment: learning producers choose how much capacity to offer.

Each agent of a learning producer type is one learner (the type is split into types of count
one, ``name#1..name#n``). A learner's action is its **capacity cap** ``K_i``: in the round it may
offer at most ``K_i`` electricity in every period (its real capacity ``K̄`` stays the upper
limit). Given the learners' caps, the round is played by everybody's best choices (MODEL.md
sections 3–5): with ``others = "equilibrium"`` the round's outcome is the certified Nash
equilibrium of the economy in which each learner's capacity is its cap (consumers, the other
producers, and the learners themselves in their bids and offers below the cap all best-respond
to one another); with ``others = "price-taking"`` it is the competitive benchmark of that
economy. A cap at or above what a learner would offer anyway does not bind: the top of the grid
is the plain Nash (or competitive) round.

Every entry of the table is solved by :func:`emgame.solve`, certified, and its ledger audited
(:mod:`emgame.learning.ledger`); learners of one type are exchangeable, so only one joint
action per multiset of their caps is solved and the rest are permutations.

Benchmarks: **Nash** and **competitive** are emgame's for the economy (learners split, no
caps). **Collusive**: the learners of each learning type share one cap, chosen to maximise the
sum of all learners' expected utilities, everyone else (and the learners in their other
choices) playing the round as above (docs/learning.md gives the definition and its reasons).

Grid (Calvano's, in caps): from the collusive cap ``K_M`` to the cap at which the uncapped round
is reached, ``K_hi = max_t q_N^t`` (the learner's Nash peak offer; the competitive one for
price-taking rounds), widened by ``ξ (K_hi - K_M)`` on both
sides and clipped to ``(0, K̄]``. When withholding does not pay (``K_M ≥ K_N``: the collusive
benchmark is the Nash one), the lower end is ``(1 - depth) K_N`` instead and Δ is undefined.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from emgame.learning import _emgame as E
from emgame.learning.config import LearningConfig, LearningSpec
from emgame.learning.ledger import audit
from emgame.learning.table import Benchmark, StageGame

logger = logging.getLogger(__name__)


class LearningError(RuntimeError):
    """The learning environment cannot be built (the message says why)."""


def split_learners(economy: dict[str, Any], learners: tuple[str, ...],
                   source: str) -> tuple[dict[str, Any], list[str], list[int]]:
    """The economy dict with every agent of a learning type as its own type of count one.

    Returns ``(dict, learner names, group of each learner)``; a group is a learning type.
    """
    d = copy.deepcopy(economy)
    producers = d.get("producers", [])
    names = [p.get("name") for p in producers]
    consumers = [c.get("name") for c in d.get("consumers", [])]
    out: list[dict[str, Any]] = []
    lnames: list[str] = []
    groups: list[int] = []
    for name in learners:
        if name not in names:
            where = " (a consumer type: only producers learn here)" if name in consumers else ""
            raise LearningError(f"{source}: learning.learners: no producer type named "
                                f"{name!r}{where}; producers: {names}")
    if len(set(learners)) != len(learners):
        raise LearningError(f"{source}: learning.learners: a type is named twice")
    for p in producers:
        if p.get("name") in learners:
            g = learners.index(p["name"])
            n = int(p.get("count", 1))
            if p.get("capacity") is None:
                raise LearningError(f"{source}: learning.learners: {p['name']!r} has no "
                                    "capacity (long run): learners choose a short-run capacity "
                                    "cap")
            for k in range(n):
                q = copy.deepcopy(p)
                q["name"] = f"{p['name']}#{k + 1}" if n > 1 else p["name"]
                q["count"] = 1
                out.append(q)
                lnames.append(q["name"])
                groups.append(g)
        else:
            out.append(p)
    d["producers"] = out
    return d, lnames, groups


def _with_caps(d: dict[str, Any], lnames: list[str], caps: np.ndarray) -> dict[str, Any]:
    e = copy.deepcopy(d)
    for p in e["producers"]:
        if p["name"] in lnames:
            p["capacity"] = float(caps[lnames.index(p["name"])])
    return e


class _Round:
    """Solves the round for given caps, warm-starting from the last solution."""

    def __init__(self, d: dict[str, Any], lnames: list[str], concept: str, source: str) -> None:
        self.d = d
        self.lnames = lnames
        self.concept = concept
        self.source = source
        self.last: Any = None
        self.solves = 0
        self.cache: dict[tuple[float, ...], Any] = {}

    def __call__(self, caps: np.ndarray) -> tuple[Any, Any]:
        key = tuple(float(c) for c in caps)
        if key in self.cache:
            return self.cache[key]
        econ = E.economy_from_dict(_with_caps(self.d, self.lnames, caps), self.source)
        sol = E.solve(econ, self.concept, start=self.last) if self.last is not None else None
        if sol is None or not sol.ok:
            sol = E.solve(econ, self.concept)
        self.solves += 1
        if sol.ok:
            self.last = sol
        self.cache[key] = (econ, sol)
        return econ, sol


def _learner_rows(economy: Any, lnames: list[str]) -> np.ndarray:
    names = economy.producers.names
    return np.array([names.index(n) for n in lnames])


def _payoffs(economy: Any, sol: Any, rows: np.ndarray) -> np.ndarray:
    """Learners' utility per state, ``(S, n)``; checked against emgame's expected utility."""
    play = sol.outcome.producers
    u = E.state_utility(economy.producers, play.consumption, play.goods)[rows]   # (n, S)
    expected = u @ economy.probabilities
    ref = play.utility[rows]
    if not np.allclose(expected, ref, rtol=1e-9, atol=1e-12):
        raise LearningError(f"per-state utilities {expected} do not average to emgame's "
                            f"expected utility {ref}")
    return u.T


def _pattern(economy: Any, profile: Any) -> str:
    """Which posts each type pays on, as text ("every type pays on every post" when so)."""
    labels = ("goods",) + tuple(economy.labels)
    parts = []
    for pop, bids in ((economy.consumers, profile.consumer_bids),
                      (economy.producers, profile.producer_bids)):
        for i, name in enumerate(pop.names):
            skip = [labels[t] for t in range(bids.shape[1]) if not bids[i, t] > 0]
            if skip:
                parts.append(f"{name} skips {','.join(skip)}")
    return "; ".join(parts) if parts else "every type pays on every post"


def market_game(spec: LearningSpec, *, progress: Callable[[int, int], None] | None = None
                ) -> StageGame:
    """Tabulate the market environment of ``spec`` (see the module notes)."""
    cfg: LearningConfig = spec.config
    assert spec.economy is not None
    source = spec.source
    base = E.economy_from_dict(spec.economy, source)
    if base.market.long_run:
        raise LearningError(f"{source}: market.horizon: learning needs a short-run economy "
                            "(learners choose a cap on a given capacity)")
    if base.market.prepaid and not base.stationary_wallets:
        raise LearningError(f"{source}: wallet: exogenous wallets describe one round from given "
                            "holdings; in a repeated game each round's revenue becomes the next "
                            "wallet, which the tabulated game represents only with stationary "
                            "wallets (wallet = \"stationary\")")
    d, lnames, groups = split_learners(spec.economy, cfg.learners, source)
    n = len(lnames)
    m = cfg.actions
    if m ** n > 2_000_000:
        raise LearningError(f"{source}: {n} learners with {m} actions each make {m ** n} joint "
                            "actions: too many to tabulate (fewer actions or learners)")
    split = E.economy_from_dict(d, source)
    rows = _learner_rows(split, lnames)
    Kbar = split.producers.capacity[rows]

    nash = E.solve(split, "nash")
    if not nash.ok:
        raise LearningError(f"{source}: the economy (learners split) has no certified Nash "
                            f"equilibrium ({nash.status.value}: {nash.reason}); the learning "
                            "environment needs it as its benchmark")
    comp = E.solve(split, "competitive")
    concept = "nash" if cfg.others == "equilibrium" else "competitive"
    rnd = _Round(d, lnames, concept, source)
    rnd.last = nash if concept == "nash" else (comp if comp.ok else None)
    KN = nash.profile.offers[rows].max(axis=1)
    KC = comp.profile.offers[rows].max(axis=1) if comp.ok else KN

    # Collusive benchmark: one cap per learning type, maximising the learners' total utility.
    G = max(groups) + 1
    gidx = [np.flatnonzero(np.array(groups) == g) for g in range(G)]

    def caps_of(per_group: np.ndarray) -> np.ndarray:
        return np.array([per_group[g] for g in groups])

    def total(per_group: np.ndarray) -> float:
        econ, sol = rnd(np.minimum(caps_of(per_group), Kbar))
        if not sol.ok:
            return -np.inf
        return float(sol.outcome.producers.utility[_learner_rows(econ, lnames)].sum())

    no_cap = np.array([Kbar[gi[0]] for gi in gidx])
    best = no_cap.copy()
    best_val = total(best)
    hi_search = np.array([min(Kbar[gi[0]], 1.2 * max(KN[gi].max(), KC[gi].max()))
                          for gi in gidx])
    floor = np.zeros(G)
    for _sweep in range(2 if G > 1 else 1):
        for g in range(G):
            def value(x: float, g: int = g) -> float:
                trial = best.copy()
                trial[g] = x
                return total(trial)

            # A coarse scan first (the objective is flat wherever the cap does not bind, which
            # would strand a golden-section search), then a bounded refinement around the best.
            scan = np.linspace(0.05 * KN[gidx[g]].max(), hi_search[g], 25)
            vals = np.array([value(x) for x in scan])
            ok = np.isfinite(vals)
            if np.any(ok) and not ok[0]:
                # Caps below this leave the round without a certified equilibrium (e.g. an
                # all-AI economy whose producers could no longer use up the goods): the grid
                # stays above the lowest common cap that has one.
                floor[g] = max(floor[g], float(scan[np.flatnonzero(ok)[0]]))
            k = int(np.argmax(vals))
            if vals[k] > best_val:
                best[g], best_val = float(scan[k]), float(vals[k])
            lo_b, hi_b = scan[max(k - 1, 0)], scan[min(k + 1, scan.size - 1)]
            r = minimize_scalar(lambda x, g=g: -value(x) if np.isfinite(value(x)) else 1e300,
                                bounds=(lo_b, hi_b), method="bounded",
                                options={"xatol": 1e-5 * KN[gidx[g]].max(), "maxiter": 40})
            if -r.fun > best_val:
                best[g] = float(r.x)
                best_val = -float(r.fun)
    KM_group = best
    coll_econ, coll_sol = rnd(np.minimum(caps_of(KM_group), Kbar))
    pays = bool(best_val > total(no_cap) + 1e-9 * max(1.0, abs(best_val)))

    # The grid of caps, per learning type.
    actions = np.empty((n, m))
    for g in range(G):
        KNg = float(KN[gidx[g]].max())
        # A cap above what a learner offers in the uncapped round never binds: the grid ends
        # there (Nash peak offer; competitive peak offer for price-taking rounds).
        hi = KNg if concept == "nash" else float(KC[gidx[g]].max())
        withhold = pays and KM_group[g] < KNg * (1 - 1e-3)
        lo = float(KM_group[g]) if withhold else KNg * (1 - cfg.depth)
        span = hi - lo
        grid = np.linspace(lo - cfg.widen * span, hi + cfg.widen * span, m)
        grid = np.clip(grid, max(0.02 * hi, floor[g]), Kbar[gidx[g][0]])
        for i in gidx[g]:
            actions[i] = grid

    # Tabulate: one solve per multiset of caps within each learning type.
    J = m ** n
    jj = np.arange(J)
    acts = np.stack([(jj // m ** i) % m for i in range(n)], axis=1)
    canon = acts.copy()
    perm = np.tile(np.arange(n), (J, 1))        # learner i of j <- learner perm[j, i] of canon
    for gi in gidx:
        sub = acts[:, gi]
        order = np.argsort(sub, axis=1, kind="stable")
        canon[:, gi] = np.take_along_axis(sub, order, axis=1)
        inv = np.empty_like(order)
        np.put_along_axis(inv, order, np.arange(len(gi))[None, :].repeat(J, 0), axis=1)
        perm[:, gi] = np.asarray(gi)[inv]
    weights = m ** np.arange(n)
    canon_j = canon @ weights
    todo = np.unique(canon_j)
    S = split.S
    T = split.periods
    payoffs = np.empty((S, J, n))
    prices = np.empty((J, T))
    burnt = np.empty((S, J))
    pattern_names: list[str] = []
    pattern = np.empty(J, dtype=np.int64)
    prof = {"consumer_bids": np.empty((J, len(split.consumers), T + 1)),
            "producer_bids": np.empty((J, len(split.producers), T + 1)),
            "offers": np.empty((J, len(split.producers), T)),
            "capacity": np.empty((J, len(split.producers))),
            # The round's multipliers: where the certificate's search starts, and under
            # prepaid settlement each type's wallet multiplier λ̄ in its objective.
            "lam_consumers": np.empty((J, len(split.consumers))),
            "lam_producers": np.empty((J, len(split.producers))),
            "nu_producers": np.empty((J, len(split.producers)))}
    solved: dict[int, Any] = {}
    failures = []
    max_regret = 0.0
    for k, cj in enumerate(todo):
        a = acts[cj]
        caps = np.array([actions[i, a[i]] for i in range(n)])
        econ, sol = rnd(caps)
        if not sol.ok:
            failures.append((tuple(float(c) for c in caps), sol.status.value, sol.reason))
            solved[int(cj)] = None
        else:
            audit(econ, sol.profile, sol.outcome,
                  where=f"round with caps {tuple(round(float(c), 6) for c in caps)}",
                  rtol=1e-9 if concept == "nash" else 1e-6)
            max_regret = max(max_regret, float(sol.certificate.max_regret))
            solved[int(cj)] = (econ, sol)
        if progress is not None:
            progress(k + 1, len(todo))
    if failures:
        caps, status, reason = failures[0]
        what = "Nash equilibrium" if concept == "nash" else "competitive benchmark"
        raise LearningError(f"{source}: the round with learners' caps {caps} has no certified "
                            f"{what}"
                            f" ({status}: {reason}); {len(failures)} of {len(todo)} rounds failed. "
                            "Narrow the grid (learning.widen, learning.depth) or change the "
                            "economy")
    for j in range(J):
        econ, sol = solved[int(canon_j[j])]
        u = _payoffs(econ, sol, rows)                   # (S, n) in canonical learner order
        if not np.all(np.isfinite(u)):
            caps = tuple(round(float(actions[i, acts[canon_j[j]][i]]), 6) for i in range(n))
            bad = lnames[int(np.flatnonzero(~np.isfinite(u).all(axis=0))[0])]
            raise LearningError(
                f"{source}: learner {bad!r} gets utility -inf in the round with caps {caps} "
                f"({'Nash' if concept == 'nash' else 'competitive'} round): it consumes nothing "
                "it values there (constant-returns price takers, for one, earn nothing); no "
                "learning algorithm can rank such rounds")
        payoffs[:, j, :] = u[:, perm[j]]
        out = sol.outcome
        prices[j] = out.relative_prices
        V = np.einsum("i,ist->s", econ.consumers.count, out.consumers.verification) + \
            np.einsum("i,ist->s", econ.producers.count, out.producers.verification)
        burnt[:, j] = V
        name = _pattern(econ, sol.profile)
        if name not in pattern_names:
            pattern_names.append(name)
        pattern[j] = pattern_names.index(name)
        # The profile in the uncapped economy's type order, learners permuted.
        prow = np.arange(len(split.producers))
        prow[rows] = rows[perm[j]]
        pr = sol.profile
        prof["consumer_bids"][j] = pr.consumer_bids
        prof["producer_bids"][j] = pr.producer_bids[prow]
        prof["offers"][j] = pr.offers[prow]
        prof["capacity"][j] = split.producers.capacity
        mu = sol.multipliers
        prof["lam_consumers"][j] = mu.consumer_budget
        prof["lam_producers"][j] = np.asarray(mu.producer_budget)[prow]
        prof["nu_producers"][j] = np.asarray(mu.producer_goods)[prow]

    def bench(name: str, sol: Any, econ: Any) -> Benchmark:
        if sol is None or not sol.ok:
            return Benchmark(name, None, None, "failed",
                             "" if sol is None else f"{sol.status.value}: {sol.reason}")
        r = _learner_rows(econ, lnames)
        return Benchmark(name, sol.outcome.producers.utility[r].copy(),
                         sol.outcome.relative_prices.copy())

    benchmarks = {"nash": bench("nash", nash, split),
                  "competitive": bench("competitive", comp, split),
                  "collusive": bench("collusive", coll_sol, coll_econ)}
    if not pays:
        benchmarks["collusive"] = Benchmark(
            "collusive", benchmarks["nash"].payoffs, benchmarks["nash"].prices, "no-gain",
            "no common cap raises the learners' total utility above Nash: withholding does "
            "not pay, so the collusive benchmark is the Nash one and Δ is undefined")
    return StageGame(
        name=spec.name, environment="market", learners=tuple(lnames), actions=actions,
        action_label="capacity cap", payoffs=payoffs, probabilities=split.probabilities.copy(),
        prices=prices, price_labels=tuple(split.labels), price_label="p^t/p^0", burnt=burnt,
        pattern=pattern, patterns=tuple(pattern_names), benchmarks=benchmarks, profiles=prof,
        economy=split,
        diagnostics={"solves": rnd.solves, "rounds_tabulated": int(len(todo)),
                     "max_regret_in_table": max_regret, "others": cfg.others,
                     "nash_peak_offer": KN.tolist(), "competitive_peak_offer": KC.tolist(),
                     "collusive_cap": caps_of(KM_group).tolist(), "withholding_pays": pays,
                     "capacity": Kbar.tolist(), "grid_floor": caps_of(floor).tolist()})
