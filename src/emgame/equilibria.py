"""Every equilibrium a search finds: many starts, each candidate certified, duplicates merged.

The equilibria of the market game are generically finite, not unique (Peck, Shell and Spear
1992), and fixed verification costs make participation (the posts a type pays on,
docs/model.md, "The crypto layer") a discrete choice, so "nobody of this type pays on post t"
and "everybody does" can both be equilibria. :func:`solve_all` runs the solver from many
starts, one at a time:

- totals ``(p, Q)``: the competitive benchmark, the solver's rough guess and random
  log-normal perturbations of it (drawn from ``numpy.random.SeedSequence(seed)``);
- participation patterns: a type barred from some posts it could do without (utility finite
  at zero consumption there), solved as an economy in which its weights on those posts are
  zero; the profile found is then certified in the *original* economy, where the type may pay
  on every post (the certificate decides whether staying out is a best response);
- shut-down producers: a producer type removed, its agents then playing zero bids and offers
  in the original economy (again certified there).

Each candidate goes through the same certificate as :func:`emgame.solve`; nothing uncertified
is reported. Certified profiles are merged when their relative prices and per-type bids and
offers agree (relative tolerance ``1e-6``), counting the starts that reached each.

**Split equilibria.** Where no type-symmetric equilibrium exists (a type's best set of posts
flips with what the others of its type do), the ``n`` agents of a type may divide into groups
``n_A + n_B = n`` that play differently. The search splits the type into two types with
counts ``n_A`` and ``n_B`` (same parameters): a type-symmetric equilibrium of that economy,
certified there (every agent of each group best-responds to all others), is a split
equilibrium of the original. The competitive benchmark splits a type in fractions. Under Nash,
where two groups find nothing, better-response moves of agents between sets of posts split the
type into as many groups as it takes (:func:`_multi_split`; docs/model.md, "Solution concepts").
An increasing-returns producer type (``c > 1``: producing on a post or not is a discrete
choice) may divide the same way by the posts it *produces* on (:func:`_output_splits`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from emgame.market.game import Profile
from emgame.market.utility import CES, CRRA
from emgame.model.economy import Economy, Population, as_economy
from emgame.results import Solution, Status
from emgame.solve import (
    Options,
    _certified,
    _empty_wallet_traps,
    idle_patterns,
    insert_producer,
    solve,
    without_producer,
)
from emgame.solvers.candidate import Candidate
from emgame.solvers.competitive import solve_competitive
from emgame.solvers.nash import rough_start, solve_nash

log = logging.getLogger(__name__)

Concept = Literal["nash", "competitive"]

ROLES = ("consumers", "producers")


# ------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """One group of a split type: ``count`` agents paying on ``posts`` (goods post is 0) and,
    for a producer type, producing on the electricity posts ``produces``."""

    name: str
    count: float
    posts: tuple[int, ...]
    produces: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Split:
    """How the agents of one type of the original economy divide (docs/model.md, "Solution
    concepts"): the groups are types of the solved economy."""

    role: str
    type: str
    groups: tuple[Group, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "type": self.type,
                "groups": [{"name": g.name, "count": g.count, "posts": list(g.posts)}
                           | ({} if g.produces is None else {"produces": list(g.produces)})
                           for g in self.groups]}


@dataclass(frozen=True, eq=False)
class Found:
    """One certified equilibrium and the starts that reached it.

    ``solution`` is certified in its own economy: the original one, or for a split equilibrium
    the economy in which the split type is two types (``split`` says which and how).
    """

    solution: Solution
    starts: tuple[str, ...]
    split: tuple[Split, ...] = ()

    @property
    def count(self) -> int:
        """How many starts reached this equilibrium."""
        return len(self.starts)

    @property
    def symmetric(self) -> bool:
        """Every agent of a type plays alike (no split)."""
        return not self.split

    @property
    def empty_wallets(self) -> tuple[str, ...]:
        """Producer types that do nothing under stationary prepaid wallets: their wallet is
        their revenue, 0, so they can make no payment (docs/model.md, "The certificate"): a
        steady state the model certifies, not a choice to stay out."""
        e, prof = self.solution.economy, self.solution.profile
        if prof is None or not _empty_wallet_traps(e):
            return ()
        idle = (np.all(prof.producer_bids == 0, axis=1) & np.all(prof.offers == 0, axis=1))
        return tuple(e.producers.names[j] for j in np.flatnonzero(idle))

    @property
    def active(self) -> bool:
        """Every post some agent values trades (docs/model.md, "Solution concepts": the
        object of study); an equilibrium in which a valued post does not trade (nobody bids
        and nobody offers there, so nobody gains by starting alone) is reported too, as not
        active."""
        o = self.solution.outcome
        assert o is not None
        return bool(np.all(o.active[1:][self.solution.economy.valued_periods]))


@dataclass(frozen=True, eq=False)
class Equilibria:
    """What :func:`solve_all` found: every distinct certified equilibrium, most-reached first.

    ``status`` is ``equilibrium`` when at least one was found; ``reasons`` counts why the other
    starts gave none. ``symmetric`` / ``split`` say which kinds were found; a split search runs
    only where no type-symmetric equilibrium was found. ``default`` is what the first start
    (:func:`emgame.solve` itself) returned, certified or not (kept for diagnosis).
    """

    economy: Economy
    concept: str
    equilibria: tuple[Found, ...]
    starts: int
    seed: int
    reasons: dict[str, int] = field(default_factory=dict)
    split_searched: bool = False
    split_note: str = ""
    seconds: float = 0.0
    default: Solution | None = field(default=None, repr=False)

    @property
    def status(self) -> Status:
        return Status.EQUILIBRIUM if self.equilibria else Status.NO_EQUILIBRIUM

    @property
    def ok(self) -> bool:
        return bool(self.equilibria)

    @property
    def symmetric(self) -> tuple[Found, ...]:
        return tuple(f for f in self.equilibria if f.symmetric)

    @property
    def split(self) -> tuple[Found, ...]:
        return tuple(f for f in self.equilibria if not f.symmetric)

    def __len__(self) -> int:
        return len(self.equilibria)

    def __iter__(self):  # noqa: ANN204
        return iter(self.equilibria)

    @property
    def reason(self) -> str:
        if self.equilibria:
            return ""
        parts = [f"{n} start(s): {r}" for r, n in sorted(self.reasons.items(),
                                                        key=lambda kv: -kv[1])[:4]]
        return ("no certified equilibrium from any of the " f"{self.starts} starts"
                + (" (a split search ran too: " + self.split_note + ")"
                   if self.split_searched else "")
                + ("; " + "; ".join(parts) if parts else ""))

    def to_dict(self) -> dict[str, Any]:
        """``status``, ``concept``, ``starts``, ``seed``, and ``equilibria``: each the JSON
        contract of its solution (docs/model.md, "The JSON contract") plus ``starts_reached``,
        ``start_names``, ``symmetric`` and ``split`` (per split type: its groups)."""
        eqs = []
        for f in self.equilibria:
            d = f.solution.to_dict()
            d["starts_reached"] = f.count
            d["start_names"] = list(f.starts)
            d["symmetric"] = f.symmetric
            d["active"] = f.active
            d["split"] = [s.to_dict() for s in f.split]
            d["empty_wallets"] = list(f.empty_wallets)
            eqs.append(d)
        return {"status": self.status.value, "concept": self.concept,
                "reason": self.reason, "starts": self.starts, "seed": self.seed,
                "found": len(self.equilibria), "symmetric_found": len(self.symmetric),
                "active_found": sum(f.active for f in self.equilibria),
                "split_found": len(self.split), "split_searched": self.split_searched,
                "split_note": self.split_note,
                "reasons": dict(self.reasons), "seconds": self.seconds,
                "equilibria": eqs}

    def to_frame(self):  # noqa: ANN201  (a pandas.DataFrame)
        """One row per type per equilibrium: each solution's :meth:`Solution.to_frame` with
        leading columns ``equilibrium`` (0, 1, ...), ``starts_reached`` and ``split_of`` (the
        original type a group row belongs to, else empty)."""
        from emgame._extras import require

        pd = require("pandas", "tables", "Equilibria.to_frame()")
        frames = []
        for k, f in enumerate(self.equilibria):
            fr = f.solution.to_frame().reset_index(drop=False)
            of = {g.name: s.type for s in f.split for g in s.groups}
            name_col = "name" if "name" in fr.columns else fr.columns[0]
            fr.insert(0, "split_of", [of.get(str(n), "") for n in fr[name_col]])
            fr.insert(0, "active", f.active)
            fr.insert(0, "starts_reached", f.count)
            fr.insert(0, "equilibrium", k)
            frames.append(fr)
        if not frames:
            return pd.DataFrame(columns=["equilibrium", "starts_reached", "split_of"])
        return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------------
# Economy transformations
# ------------------------------------------------------------------------------------------

def droppable(economy: Economy, pop: Population) -> np.ndarray:
    """``bool (n, T)``: posts a type values but could do without (its utility stays finite
    with no electricity there: CRRA with ``γ < 1``, CES with ``r > 0``), and that carry a
    fixed verification cost in some state (else a small payment always beats none)."""
    if not len(pop):
        return np.zeros((0, economy.periods), dtype=bool)
    gamma = np.nan_to_num(pop.gamma, nan=2.0)
    r = np.nan_to_num(pop.r, nan=-1.0)
    finite = ((pop.family == CRRA) & (gamma < 1.0)) | ((pop.family == CES) & (r > 0.0))
    costly = np.any(economy.fixed_costs[:, 1:] > 0, axis=0)
    return (pop.weights > 0) & finite[:, None] & costly[None, :]


def _pop(economy: Economy, role: str) -> Population:
    return economy.consumers if role == "consumers" else economy.producers


def restrict(economy: Economy, role: str, i: int, keep: np.ndarray) -> Economy:
    """``economy`` with type ``i`` of ``role`` valuing only the posts in ``keep`` (bool T)."""
    pop = _pop(economy, role)
    w = pop.weights.copy()
    w[i] = np.where(keep, w[i], 0.0)
    return economy.replace(**{role: dataclasses.replace(pop, weights=w)})


def split_economy(economy: Economy, role: str, i: int, counts: tuple[float, ...],
                  labels: tuple[str, ...] | None = None) -> Economy:
    """``economy`` with type ``i`` of ``role`` replaced by ``len(counts)`` types of the same
    parameters and these counts (named ``NAME/A``, ``NAME/B``, ...), placed where it was."""
    k = len(counts)
    labels = labels or tuple(_group_label(g) for g in range(k))
    pop = _pop(economy, role)
    idx = list(range(len(pop)))
    rows = pop.select(idx[:i] + [i] * k + idx[i + 1:])
    count = rows.count.copy()
    count[i:i + k] = counts
    names = list(rows.names)
    base = pop.names[i]
    names[i:i + k] = [f"{base}/{lab}" for lab in labels]
    new = dataclasses.replace(rows, names=tuple(names), count=count)
    return economy.replace(**{role: new})


def _group_label(g: int) -> str:
    """A, B, ..., Z, then G27, G28, ..."""
    return chr(ord("A") + g) if g < 26 else f"G{g + 1}"


# ------------------------------------------------------------------------------------------
# Starts
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Start:
    name: str
    solved_in: Economy                    # the economy the solver runs on
    totals: tuple[np.ndarray, np.ndarray] | None = None
    removed_producer: int | None = None   # embed zero rows for this producer type


def _starts(economy: Economy, concept: str, n: int, rng: np.random.Generator,
            options: Options) -> list[_Start]:
    """Structured starts first (they find the distinct equilibria), random ones after."""
    out: list[_Start] = [_Start("default", economy)]
    p0, Q0 = rough_start(economy)
    if concept == "nash":
        comp = solve_competitive(economy, options.competitive)
        if comp.totals is not None and comp.converged:
            out.append(_Start("competitive benchmark", economy, comp.totals))
    out.append(_Start("rough guess", economy, (p0, Q0)))
    # Participation patterns: each type barred from each droppable post, then from all but
    # its most valued one.
    patterns: list[_Start] = []
    for role in ROLES:
        pop = _pop(economy, role)
        drop = droppable(economy, pop)
        for i in range(len(pop)):
            posts = np.flatnonzero(drop[i])
            valued = pop.weights[i] > 0
            for t in posts:
                keep = valued.copy()
                keep[t] = False
                if keep.any():
                    patterns.append(_Start(f"{pop.names[i]} not on post {t + 1}",
                                           restrict(economy, role, i, keep)))
            if len(posts) > 1:
                keep = valued & ~drop[i]
                if not keep.any():
                    best = int(np.argmax(np.where(drop[i], pop.weights[i], -1.0)))
                    keep[best] = True
                    label = f"{pop.names[i]} only on post {best + 1}"
                else:
                    label = f"{pop.names[i]} only on its indispensable posts"
                patterns.append(_Start(label, restrict(economy, role, i, keep)))
    # Shut-down producer types (where another type still supplies).
    if len(economy.producers) > 1:
        for j in range(len(economy.producers)):
            patterns.append(_Start(f"{economy.producers.names[j]} shut down",
                                   without_producer(economy, j), removed_producer=j))
    out += patterns
    k = 0
    while len(out) < n:
        k += 1
        p = p0.copy()
        Q = Q0.copy()
        p[1:] *= np.exp(rng.normal(0.0, 0.8, size=p0.size - 1))
        Q[1:] *= np.exp(rng.normal(0.0, 0.5, size=Q0.size - 1))
        out.append(_Start(f"random {k}", economy, (p, Q)))
    return out[:max(n, 1)]


# ------------------------------------------------------------------------------------------
# The search
# ------------------------------------------------------------------------------------------

def _run(start: _Start, concept: str, options: Options, deadline: float,
         keep: list[Solution] | None = None) -> Candidate:
    left = max(deadline - time.monotonic(), 0.5)
    nopts = dataclasses.replace(options.nash, max_seconds=min(options.nash.max_seconds, left))
    if start.name == "default" and start.totals is None:
        s = solve(start.solved_in, concept,  # type: ignore[arg-type]
                  options=dataclasses.replace(options, nash=nopts))
        if keep is not None:
            keep.append(s)
        return _as_candidate(s)
    if concept == "nash":
        return solve_nash(start.solved_in, nopts,
                          starts=[(start.name, start.totals)] if start.totals is not None
                          else [])
    return solve_competitive(start.solved_in, options.competitive, start=start.totals)


def _as_candidate(s: Solution) -> Candidate:
    conv = s.profile is not None and s.status is Status.EQUILIBRIUM
    totals = None
    if s.outcome is not None:
        p = np.where(np.isfinite(s.outcome.prices), s.outcome.prices, 0.0)
        totals = (p, s.outcome.offers_total.copy())
    return Candidate(s.concept, conv, s.status, s.reason, profile=s.profile,
                     multipliers=s.multipliers, diagnostics=dict(s.diagnostics),
                     totals=totals)


def _certify(target: Economy, cand: Candidate, options: Options) -> Solution:
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _certified(target, cand, options, {}, started)


def _embed(start: _Start, cand: Candidate, target: Economy, steer: bool = False
           ) -> Candidate | None:
    """The candidate as a profile of ``target`` (the economy in which it is certified).
    ``steer``: also an unconverged one (its certificate only steers a search; its status
    stays 'not converged', so it is never reported)."""
    if cand.profile is None or not (cand.converged or steer):
        return None
    prof, mult = cand.profile, cand.multipliers
    if start.removed_producer is not None:
        prof, mult = insert_producer(prof, mult, start.removed_producer, target)
    totals = cand.totals
    return dataclasses.replace(cand, profile=prof, multipliers=mult, totals=totals,
                               status=Status.EQUILIBRIUM if cand.converged else cand.status)


def _same(a: Solution, b: Solution, rtol: float = 1e-6) -> bool:
    if a.economy is not b.economy:
        return False
    pa, pb = a.profile, b.profile
    assert pa is not None and pb is not None
    ra, rb = a.relative_prices, b.relative_prices
    if not np.array_equal(np.isnan(ra), np.isnan(rb)):
        return False

    def close(x: np.ndarray, y: np.ndarray, scale: float) -> bool:
        x, y = np.asarray(x, float), np.asarray(y, float)
        return x.shape == y.shape and bool(np.all(np.abs(x - y) <= rtol * (np.abs(x) + np.abs(y))
                                                  + 1e-9 * scale))

    p0a, p0b = float(a.prices[0]), float(b.prices[0])
    scale = max(1.0, float(np.nanmax(np.abs(ra))) if ra.size else 1.0)
    return (close(np.nan_to_num(ra), np.nan_to_num(rb), scale)
            and close(pa.consumer_bids / p0a, pb.consumer_bids / p0b, 1.0)
            and close(pa.producer_bids / p0a, pb.producer_bids / p0b, 1.0)
            and close(pa.offers, pb.offers, 1.0))


def _collect(found: list[list[Any]], sol: Solution, name: str, split: tuple[Split, ...]
             ) -> None:
    for entry in found:
        if _same(entry[0], sol):
            entry[1].append(name)
            return
    found.append([sol, [name], split])


def solve_all(economy: Economy | str, concept: Concept = "nash", *, starts: int = 24,
              seed: int = 0, options: Options | None = None, max_seconds: float = 120.0,
              split: bool | None = None) -> Equilibria:
    """Search an economy for every equilibrium it has, from ``starts`` starts.

    Parameters
    ----------
    economy : Economy or path
    concept : {"nash", "competitive"}
    starts : int
        How many starts (structured ones first: the default solve, the competitive
        benchmark, participation patterns, shut-down producer types; then random totals).
    seed : int
        Seeds the random starts (``numpy.random.SeedSequence(seed)``); recorded in the result.
    options : Options, optional
        Solver options and the certificate's tolerances.
    max_seconds : float
        Wall-clock budget of the whole search (each start gets what is left; where a split
        may be needed and ``split`` is not False, the starts stop at two thirds of it).
    split : bool, optional
        Search split equilibria (a type's agents divided into groups): ``None`` (default)
        does so only when no type-symmetric equilibrium was found.

    Returns
    -------
    Equilibria
        Every distinct certified equilibrium, with the starts that reached each.
    """
    economy = as_economy(economy)
    if concept not in ("nash", "competitive"):
        raise ValueError(f"concept must be 'nash' or 'competitive', not {concept!r}")
    opts = options or Options()
    t0 = time.monotonic()
    deadline = t0 + max_seconds
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    found: list[list[Any]] = []
    reasons: dict[str, int] = {}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        plan = _starts(economy, concept, starts, rng, opts)
    tried = 0
    default: list[Solution] = []
    # Where a split may be needed, the starts leave a third of the budget to its search.
    splits = split is not False and splits_possible(economy, concept)
    starts_end = t0 + (2.0 / 3.0) * max_seconds if splits else deadline
    for st in plan:
        if time.monotonic() > starts_end:
            reasons["time budget reached before this start"] = \
                reasons.get("time budget reached before this start", 0) + len(plan) - tried
            break
        tried += 1
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            cand = _run(st, concept, opts, starts_end, default)
            emb = _embed(st, cand, economy)
            if emb is None:
                key = _short(cand.reason)
                reasons[key] = reasons.get(key, 0) + 1
                continue
            sol = _certify(economy, emb, opts)
        if sol.ok and concept == "competitive" and not _is_active(sol):
            # A benchmark needs a price on every valued post: with none, price takers have
            # nothing to take, and the certificate's price-taking bound does not apply.
            key = "competitive candidate leaves a valued post without a price (not a benchmark)"
            reasons[key] = reasons.get(key, 0) + 1
        elif sol.ok:
            _collect(found, sol, st.name, ())
        else:
            key = _short(sol.reason)
            reasons[key] = reasons.get(key, 0) + 1
    split_searched, note = False, ""
    if split or (split is None and not found):
        split_searched = True
        note = _split_search(economy, concept, opts, deadline, found, reasons,
                             default[0] if default else None)
    # Active, type-symmetric and most reached first.
    found.sort(key=lambda e: (not _is_active(e[0]), bool(e[2]), -len(e[1])))
    return Equilibria(economy, concept,
                      tuple(Found(s, tuple(n), sp) for s, n, sp in found),
                      starts=tried, seed=seed, reasons=reasons, split_searched=split_searched,
                      split_note=note, seconds=time.monotonic() - t0,
                      default=default[0] if default else None)


def _is_active(sol: Solution) -> bool:
    assert sol.outcome is not None
    return bool(np.all(sol.outcome.active[1:][sol.economy.valued_periods]))


def _short(reason: str) -> str:
    r = reason.split(";")[0].split(" (")[0]
    return r[:160]


# ------------------------------------------------------------------------------------------
# Split equilibria
# ------------------------------------------------------------------------------------------

def _paid(profile: Profile, role: str, i: int) -> tuple[int, ...]:
    bids = profile.consumer_bids if role == "consumers" else profile.producer_bids
    return tuple(int(t) for t in np.flatnonzero(np.asarray(bids[i]) > 0))


def _produces(profile: Profile, i: int) -> tuple[int, ...]:
    return tuple(int(t) + 1 for t in np.flatnonzero(np.asarray(profile.offers[i]) > 0))


def splits_possible(economy: Economy, concept: Concept = "nash") -> bool:
    """Whether the agents of some type may divide into groups that act differently: a
    participation choice (fixed verification costs), or, for Nash, an increasing-returns
    producer type of two agents or more (docs/model.md, "Solution concepts"). Only
    :func:`solve_all` searches such equilibria."""
    return bool(_split_candidates(economy) or (concept == "nash" and _output_types(economy)))


def _output_types(economy: Economy) -> list[int]:
    """Increasing-returns producer types of two agents or more: with ``c > 1`` producing on a
    post or not is a discrete choice (docs/model.md, Agents), so their agents may divide by
    the posts they produce on."""
    P = economy.producers
    return [j for j in range(len(P)) if P.returns[j] > 1.0 and P.count[j] >= 2]


def _output_pairs(economy: Economy, j: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs of sets of posts where two groups of type ``j`` produce nothing (``idle``): none
    against each set :func:`emgame.solve.idle_patterns` gives, then those sets pairwise;
    the group idle on fewer posts first."""
    masks = [np.zeros(economy.periods, dtype=bool)]
    masks += [m for k, m in idle_patterns(economy) if k == j]
    return [(masks[a], masks[b]) for a in range(len(masks)) for b in range(a + 1, len(masks))
            if masks[a].sum() <= masks[b].sum()]


def _split_candidates(economy: Economy) -> list[tuple[str, int]]:
    """Types that can split: two agents or more, and a participation choice to make."""
    out = []
    for role in ROLES:
        pop = _pop(economy, role)
        drop = droppable(economy, pop)
        for i in range(len(pop)):
            if pop.count[i] >= 2 and drop[i].any():
                out.append((role, i))
    return out


def _patterns(economy: Economy, role: str, i: int, limit: int = 8) -> list[np.ndarray]:
    """Posts a type may pay on: its indispensable posts plus any subset of the droppable ones
    (all subsets for up to three droppable posts; else all but one, and only the best)."""
    pop = _pop(economy, role)
    drop = droppable(economy, pop)[i]
    valued = pop.weights[i] > 0
    must = valued & ~drop
    posts = np.flatnonzero(drop)
    pats = []
    if len(posts) <= 3:
        for mask in range(1, 2 ** len(posts)):
            keep = must.copy()
            for k, t in enumerate(posts):
                if mask >> k & 1:
                    keep[t] = True
            pats.append(keep)
        if must.any():
            pats.append(must.copy())
    else:
        pats.append(valued.copy())
        order = posts[np.argsort(pop.weights[i, posts])]
        for t in order[:limit]:
            keep = valued.copy()
            keep[t] = False
            pats.append(keep)
    # most posts first
    pats.sort(key=lambda k: -int(k.sum()))
    return pats


def _split_search(economy: Economy, concept: str, opts: Options, deadline: float,
                  found: list[list[Any]], reasons: dict[str, int],
                  failed: Solution | None = None) -> str:
    """Search split equilibria; see the module notes. Returns a note on what was searched.

    Targeted first: a type that failed the certificate at the symmetric solver's last
    candidate pays there on ``S0``; one agent of it, alone in a group of its own against the
    rest on ``S0``, finds its best set ``S1`` (the solver's own participation rounds); then the
    type is split ``n_A`` on ``S0``, ``n_B`` on ``S1``. Then, for types with at most three
    posts they could do without, every pair of participation patterns. Under Nash, before the
    pairs, the failing types' agents are moved between sets of posts from ``S0`` in as many
    groups as it takes (:func:`_multi_split`); where no candidate failed, after them, from every
    post a type values.
    """
    kinds = _split_candidates(economy)
    outputs = _output_types(economy) if concept == "nash" else []
    if not kinds and not outputs:
        return ("no type can split: none has two agents or more and a post it could do "
                "without at a fixed verification cost, or (Nash) increasing returns")
    tried = 0
    pairs: list[tuple[str, int, np.ndarray, np.ndarray]] = []
    starts: list[tuple[str, int, np.ndarray]] = []  # failing types and where they paid
    if failed is not None and failed.profile is not None and failed.certificate is not None:
        cert = failed.certificate
        for role, i in kinds:
            ok = cert.consumer_passed if role == "consumers" else cert.producer_passed
            if ok[i]:
                continue
            pop = _pop(economy, role)
            valued = pop.weights[i] > 0
            s0 = np.zeros(economy.periods, dtype=bool)
            s0[[t - 1 for t in _paid(failed.profile, role, i) if t > 0]] = True
            s0 &= valued
            if not s0.any():
                s0 = valued.copy()
            starts.append((role, i, s0))
            for s1 in _alternatives(economy, role, i, s0, failed):
                pairs.append((role, i, s0, s1) if s1.sum() < s0.sum() else (role, i, s1, s0))
    for role, i in kinds:
        if int(droppable(economy, _pop(economy, role))[i].sum()) <= 3:
            pats = _patterns(economy, role, i)
            pairs += [(role, i, pats[a], pats[b]) for a in range(len(pats))
                      for b in range(a + 1, len(pats))]
    notes: list[str] = []

    def active_split() -> bool:
        return any(e[2] and _is_active(e[0]) for e in found)

    def multi(todo: list[tuple[str, int, np.ndarray]], until: float) -> None:
        for role, i, s0 in todo:
            if time.monotonic() > until or active_split():
                return
            notes.append(f"{role[:-1]} type {_pop(economy, role).names[i]}: " + _multi_split(
                economy, role, i, s0, opts, until, found, reasons))

    if concept == "nash":
        # Groups grown from where the failed candidate had each failing type pay (the pairs'
        # S0 -> S1 move, and more), on half the time left; then the pairs.
        multi(starts, time.monotonic() + 0.5 * max(deadline - time.monotonic(), 0.0))
    for role, i, pa, pb in pairs if not active_split() else []:
        log.debug("split pair %s %d: %s / %s", role, i, np.flatnonzero(pa) + 1,
                  np.flatnonzero(pb) + 1)
        if time.monotonic() > deadline:
            notes.append(f"{tried} pair(s) tried before the time budget ran out")
            break
        n = float(_pop(economy, role).count[i])
        _split_root(economy, concept, role, i, n, pa, pb, opts, deadline, found, reasons)
        tried += 1
        if any(e[2] for e in found):
            break  # one split equilibrium answers the question; --starts finds more
    else:
        if kinds and (tried or not active_split()):
            notes.append(f"{tried} pair(s) of participation patterns tried over {len(kinds)} "
                         "type(s)")
    if concept == "nash" and not starts:
        # No failed candidate to start from: every post a type values.
        multi([(role, i, _pop(economy, role).weights[i] > 0) for role, i in kinds], deadline)
    if outputs and not active_split():
        notes.append(_output_splits(economy, outputs, opts, deadline, found, reasons))
    return "; ".join(notes)


def _output_splits(economy: Economy, types: list[int], opts: Options, deadline: float,
                   found: list[list[Any]], reasons: dict[str, int]) -> str:
    """Nash: the agents of an increasing-returns producer type divided into two groups that
    produce on different posts, each held there (:func:`_output_pairs`), the group sizes
    found as for participation (:func:`_split_root`)."""
    tried = 0
    for j in types:
        n = float(economy.producers.count[j])
        for pa, pb in _output_pairs(economy, j):
            if time.monotonic() > deadline:
                return (f"{tried} pair(s) of output patterns tried before the time budget "
                        "ran out")
            _split_root(economy, "nash", "producers", j, n, pa, pb, opts, deadline, found,
                        reasons, outputs=True)
            tried += 1
            if any(e[2] for e in found):
                return f"output patterns: a split found after {tried} pair(s)"
    return f"{tried} pair(s) of output patterns tried over {len(types)} producer type(s)"


def _multi_split(economy: Economy, role: str, i: int, s0: np.ndarray, opts: Options,
                 deadline: float, found: list[list[Any]], reasons: dict[str, int],
                 max_groups: int = 12, max_steps: int = 200) -> str:
    """Nash: type ``i`` of ``role`` divided into as many groups as it takes.

    Where several posts tie (a type weighs some hours alike), an equilibrium may spread the
    type over more than two sets of posts, which a two-group split cannot reach. Start with all
    ``n`` agents on ``s0``; solve with each group held on its set of posts; while some group's
    agents would gain by deviating, move agents of the group with the largest regret to the
    set of posts where one of them does best (a group of its own if no group pays there):
    better-response dynamics over the groups' counts. Moves start at ``n/8`` agents and halve
    whenever agents would move back the way a move of this size came; at one agent a move,
    the dynamics of a congestion game, ends only at an equilibrium or when a state comes
    back (a cycle). Every candidate goes through the certificate; the search stops at the
    first certified split whose valued posts all trade."""
    n = int(round(float(_pop(economy, role).count[i])))
    groups: list[tuple[np.ndarray, int]] = [(s0.copy(), n)]
    fallback = [p for p in _patterns(economy, role, i) if not np.array_equal(p, s0)][:4]
    k = max(1, n // 8)
    moved: set[tuple[bytes, bytes]] = set()   # moves made at the current size
    seen: set[tuple[tuple[bytes, int], ...]] = set()
    started = False
    for step in range(max_steps):
        if time.monotonic() > deadline:
            return f"{step} multi-group step(s) before the time budget ran out"
        state = tuple(sorted((p.tobytes(), c) for p, c in groups))
        if state in seen:
            if k == 1:
                return f"the multi-group search came back to a state after {step} step(s)"
            k = max(1, k // 2)  # a cycle of moves this size: smaller moves
            moved.clear()
        seen.add(state)
        counts = tuple(float(c) for _, c in groups)
        target = split_economy(economy, role, i, counts)
        left = max(deadline - time.monotonic(), 0.5)
        nopts = dataclasses.replace(opts.nash, max_seconds=min(opts.nash.max_seconds, left))
        pin = {(role, i + g): p for g, (p, _) in enumerate(groups)}
        cand = solve_nash(target, nopts, pin=pin)
        st = _Start("split " + "+".join(f"{c:g}" for c in counts), target)
        emb = _embed(st, cand, target, steer=True)
        if emb is None and not started and fallback:
            # No solution with every agent on s0: start from the next set of posts instead.
            groups = [(fallback.pop(0), n)]
            seen.clear()
            continue
        if emb is None:
            key = f"multi-group split: {_short(cand.reason)}"
            reasons[key] = reasons.get(key, 0) + 1
            return f"the multi-group search stopped after {step} step(s): {_short(cand.reason)}"
        started = True
        sol = _certify(target, emb, opts)
        if sol.ok and len(groups) == 1:
            # One group is the type itself: the profile is one of the original economy.
            whole = _certify(economy, emb, opts)
            if whole.ok:
                _collect(found, whole, f"{_pop(economy, role).names[i]} held on one set of "
                         "posts", ())
            return ("all agents on one set of posts pass: a type-symmetric equilibrium"
                    + ("" if whole.ok else " of the renamed economy, not certified in the "
                       "original (" + _short(whole.reason) + ")"))
        if sol.ok:
            _record_split(found, sol, economy, role, i, counts)
            if _is_active(sol):
                return f"{len(groups)} groups after {step} step(s)"
            return (f"the multi-group search stopped after {step} step(s) at a certified split "
                    "in which a valued post does not trade")
        assert sol.certificate is not None
        regret = [_regret_over(sol, role, i + g) for g in range(len(groups))]
        log.debug("multi-group split %s (moves of %d): regrets %s", counts, k, regret)
        g = int(np.argmax(regret))
        if regret[g] <= 0.0:
            return (f"the multi-group search stopped after {step} step(s): the split type's "
                    "groups best-respond, another type does not")
        src = groups[g][0]
        dev = _best_pattern(target, sol, role, i + g, src, [p for p, _ in groups])
        if dev is None:
            return (f"the multi-group search stopped after {step} step(s): no other set of "
                    "posts for the group that would deviate")
        move = (src.tobytes(), dev.tobytes())
        if (move[1], move[0]) in moved and k > 1:
            k = max(1, k // 2)
            moved.clear()
        moved.add(move)
        h = next((h for h, (p, _) in enumerate(groups) if np.array_equal(p, dev)), None)
        if h is None:
            if len(groups) >= max_groups:
                return f"the multi-group search stopped at {max_groups} groups"
            groups.append((dev.copy(), 0))
            h = len(groups) - 1
        m = min(k, groups[g][1])
        groups[g] = (src, groups[g][1] - m)
        groups[h] = (groups[h][0], groups[h][1] + m)
        groups = [(p, c) for p, c in groups if c > 0]
    return f"the multi-group search stopped after {max_steps} steps"


def _best_pattern(economy: Economy, sol: Solution, role: str, k: int, now: np.ndarray,
                  groups: list[np.ndarray], width: int = 6) -> np.ndarray | None:
    """The set of electricity posts on which one agent of type ``k`` does best at ``sol``
    (the certificate's bound with its payments forced there), among the other groups' sets
    and the neighbours of ``now``: one of its ``width`` least valued droppable posts left,
    one of its ``width`` most valued ones outside taken up, or one swapped for the other.
    ``None`` when none beats staying on ``now``."""
    from emgame.agents.verdict import forced_bound

    pop = _pop(economy, role)
    drop = droppable(economy, pop)[k]
    w = pop.weights[k]
    inside = np.flatnonzero(now & drop)
    inside = inside[np.argsort(w[inside])][:width]
    outside = np.flatnonzero(~now & drop)
    outside = outside[np.argsort(-w[outside])][:width]
    cands = [g for g in groups if not np.array_equal(g, now)]
    for t in inside:
        a = now.copy()
        a[t] = False
        cands.append(a)
        for u in outside:
            b = a.copy()
            b[u] = True
            cands.append(b)
    for u in outside:
        a = now.copy()
        a[u] = True
        cands.append(a)
    assert sol.profile is not None and sol.certificate is not None

    def value(c: np.ndarray) -> float:
        force = np.concatenate([[-1.0], c.astype(float)])
        return forced_bound(economy, sol.profile, role, k, force)  # type: ignore[arg-type]

    stay = value(now)
    cert = sol.certificate
    best, best_value = None, stay + max(cert.atol, cert.rtol * abs(stay))
    seen: set[bytes] = {now.tobytes()}
    for c in cands:
        if not c.any() or c.tobytes() in seen:
            continue
        seen.add(c.tobytes())
        v = value(c)
        if v > best_value:
            best, best_value = c, v
    return best


def _alternatives(economy: Economy, role: str, i: int, s0: np.ndarray,
                  failed: Solution, limit: int = 3) -> list[np.ndarray]:
    """Sets of posts type ``i`` may flip to from ``s0``: its best deviation's where the
    deviation search says (one agent's global best response at the failed candidate), then
    ``s0`` without each of its least valued droppable posts and with the most valued one it
    leaves out."""
    pop = _pop(economy, role)
    drop = droppable(economy, pop)[i]
    out: list[np.ndarray] = []
    dev = _deviation_posts(economy, failed, role, i)
    if dev is not None and dev.any() and not np.array_equal(dev, s0):
        out.append(dev)
    w = pop.weights[i]
    inside = np.flatnonzero(s0 & drop)
    for t in inside[np.argsort(w[inside])][:limit]:
        alt = s0.copy()
        alt[t] = False
        if alt.any():
            out.append(alt)
    outside = np.flatnonzero(~s0 & drop)
    for t in outside[np.argsort(-w[outside])][:1]:
        alt = s0.copy()
        alt[t] = True
        out.append(alt)
    unique: list[np.ndarray] = []
    for a in out:
        if not any(np.array_equal(a, u) for u in unique):
            unique.append(a)
    return unique


def _deviation_posts(economy: Economy, sol: Solution, role: str, i: int) -> np.ndarray | None:
    """The electricity posts of one agent's best deviation at ``sol`` (the certificate's
    deviation search), or ``None`` where it does not say."""
    from emgame.agents.verdict import deviations

    if sol.profile is None:
        return None
    try:
        cons, prod = deviations(economy, sol.profile)
        d = cons if role == "consumers" else prod
        paid = np.asarray(d.deviation.paid[i], dtype=bool)
    except (AttributeError, TypeError, ValueError):
        return None
    return paid[1:] if paid.size == economy.periods + 1 else None


def _solve_split(economy: Economy, concept: str, role: str, i: int, counts, pa, pb,
                 opts: Options, deadline: float, outputs: bool = False
                 ) -> tuple[Solution | None, Economy, str]:
    target = split_economy(economy, role, i, counts)
    if concept == "nash":
        # Each group held on its set of posts (the others choose theirs); with ``outputs``,
        # each group of an increasing-returns producer type held idle on its own posts
        # (``pa``, ``pb``), free to choose where it pays.
        st = _Start(f"split {counts[0]:g}+{counts[1]:g}", target)
        left = max(deadline - time.monotonic(), 0.5)
        nopts = dataclasses.replace(opts.nash, max_seconds=min(opts.nash.max_seconds, left))
        held: dict[str, Any] = (
            {"idle": {i: pa, i + 1: pb}, "hold_outputs": True} if outputs
            else {"pin": {(role, i): pa, (role, i + 1): pb}})
        cand = solve_nash(target, nopts, **held)
    else:
        # Price takers: each group valuing only its set (it may still leave some of it).
        restricted = restrict(restrict(target, role, i, pa), role, i + 1, pb)
        st = _Start(f"split {counts[0]:g}+{counts[1]:g}", restricted)
        cand = _run(st, concept, opts, deadline)
    emb = _embed(st, cand, target, steer=True)
    if emb is None:
        return None, target, _short(cand.reason)
    sol = _certify(target, emb, opts)
    return sol, target, _short(sol.reason)


def _regret_over(sol: Solution, role: str, k: int) -> float:
    """Type ``k``'s regret less its pass mark (> 0: it fails the certificate)."""
    cert = sol.certificate
    assert cert is not None
    r = cert.consumer_regret if role == "consumers" else cert.producer_regret
    u = cert.consumer_utility if role == "consumers" else cert.producer_utility
    tol = max(cert.atol, cert.rtol * abs(float(u[k])) if np.isfinite(u[k]) else 0.0)
    return float(r[k]) - tol


def _group_regret(sol: Solution, role: str, i: int) -> tuple[float, float]:
    return _regret_over(sol, role, i), _regret_over(sol, role, i + 1)


def _record_split(found, sol: Solution, economy: Economy, role: str, i: int, counts) -> None:
    """Keep a certified split (type ``i`` of ``role`` as ``len(counts)`` groups from ``i``)."""
    assert sol.profile is not None
    pop = _pop(sol.economy, role)
    groups = tuple(Group(pop.names[i + g], float(c), tuple(_paid(sol.profile, role, i + g)),
                         _produces(sol.profile, i + g) if role == "producers" else None)
                   for g, c in enumerate(counts))
    if len({(g.posts, g.produces) for g in groups}) == 1:
        return  # all groups play alike: a symmetric equilibrium, found by the main search
    if sol.concept == "competitive" and not _is_active(sol):
        return  # no price on some valued post: not a benchmark
    sp = (Split(role, _pop(economy, role).names[i], groups),)
    name = "split " + "+".join(f"{c:g}" for c in counts)
    for entry in found:
        if entry[2] and entry[2] == sp or (entry[2] and _same(entry[0], sol)):
            entry[1].append(name)
            return
    found.append([sol, [name], sp])


def _split_root(economy: Economy, concept: str, role: str, i: int, n: float, pa: np.ndarray,
                pb: np.ndarray, opts: Options, deadline: float, found, reasons,
                outputs: bool = False) -> bool:
    """Find ``n_A`` (agents on ``pa``, the larger set; ``n − n_A`` on ``pb``) at which both
    groups best-respond (with ``outputs``, ``pa`` and ``pb`` are where the groups of an
    increasing-returns producer type produce nothing, ``pa`` the smaller). ``g = U_A − U_B``
    (one agent of each group) falls as ``n_A`` grows (the more agents pay, or produce, on a
    post, the less each gains from it): ``g > 0`` means a B agent
    would rather join A. Nash: bisection over the integers ``1..n−1``; competitive (price
    takers, so a share of the type): regula falsi (Illinois) on ``g`` over ``(0, n)``, where
    the certificate needs ``g`` to vanish. A group that gives up posts of its set (both
    groups then alike) counts as ``g < 0``. Every candidate goes through the certificate."""
    integer = concept == "nash"
    lo, hi = (1.0, n - 1.0) if integer else (0.0, n)
    if hi < lo:
        return False
    g_lo = g_hi = None

    def g_at(x: float) -> tuple[Solution | None, float | None]:
        counts = (x, n - x)
        sol, _, why = _solve_split(economy, concept, role, i, counts, pa, pb, opts, deadline,
                                   outputs)
        if sol is None or sol.certificate is None or sol.profile is None:
            reasons[f"split: {why}"] = reasons.get(f"split: {why}", 0) + 1
            return None, None
        if sol.ok:
            _record_split(found, sol, economy, role, i, counts)
            if any(e[2] for e in found):
                return sol, 0.0
        a, b = _paid(sol.profile, role, i), _paid(sol.profile, role, i + 1)
        if outputs:
            a, b = _produces(sol.profile, i), _produces(sol.profile, i + 1)
        log.debug("split %s %g+%g: A on %s, B on %s, regrets %s, utilities %s, %s", role, x,
                  n - x, a, b, _group_regret(sol, role, i),
                  (sol.certificate.consumer_utility if role == "consumers"
                   else sol.certificate.producer_utility)[i:i + 2], why)
        if a == b:
            return sol, -np.inf
        U = (sol.certificate.consumer_utility if role == "consumers"
             else sol.certificate.producer_utility)
        return sol, float(U[i] - U[i + 1])

    x = 0.5 * (lo + hi)
    if integer:
        x = float(np.floor(x))
    side = 0
    tried: set[float] = set()
    for _ in range(60):
        if time.monotonic() > deadline:
            return False
        tried.add(x)
        sol, g = g_at(x)
        if g is None:
            return False
        if g == 0.0 and sol is not None and sol.ok:
            return True
        if g > 0:
            lo, g_lo = x, g
            side_now = 1
        else:
            hi, g_hi = x, g
            side_now = -1
        if integer:
            if hi - lo <= 1.0:
                # The root lies between two neighbours; ``g`` compares the groups at one
                # count and only suggests where it lies, so an end not tried yet (1 or n−1,
                # where the bisection started) is tried before giving up.
                ends = [e for e in (lo, hi) if e not in tried]
                if not ends:
                    return False
                x = ends[0]
                continue
            x = float(np.floor(0.5 * (lo + hi)))
            continue
        if g_lo is not None and g_hi is not None and np.isfinite(g_hi):
            # Illinois: halve the weight of the end that stays put twice in a row.
            wl, wh = g_lo, g_hi
            if side == side_now:
                if side_now > 0:
                    wh = 0.5 * wh
                else:
                    wl = 0.5 * wl
            x = lo + (hi - lo) * wl / (wl - wh)
            if not (lo < x < hi):
                x = 0.5 * (lo + hi)
        else:
            x = 0.5 * (lo + hi)
        side = side_now
        if hi - lo <= 1e-12 * n:
            return False
    return False
