"""Sweep files: which economy, which parameters to vary and how; their expansion into points.

A sweep file (TOML) names a base economy and the parameters to vary::

    name = "costly verification"
    economy = "../ai_solar_day.toml"      # relative to this file; or a bundled example's name,
                                          # or an inline [economy] table
    concept = "both"                      # "nash" (default), "competitive" or "both"
    combine = "cross"                     # "cross" (default: every combination) or "zip"
    seed = 20240601                       # seeds the random draws (default: from the file)

    [[parameters]]
    path = "verification.fixed"           # any numeric field, see emgame.analysis.paths
    grid = { start = 0.0, stop = 0.02, num = 11 }     # scale = "log" for geometric spacing

    [[parameters]]
    path = "consumers.*.count"
    operation = "multiply"                # "set" (default) or "multiply" the base value
    values = [1, 2, 4, 8]
    zip = "n"                             # parameters sharing a zip label move together

    [[parameters]]
    path = "producers.solar-farms.productivity"
    random = { distribution = "uniform", low = 1.5, high = 2.5, n = 20 }

Each ``[[parameters]]`` entry gives exactly one of ``values``, ``grid`` or ``random``.
Parameters with the same ``zip`` label are zipped (equal lengths, taken together); the groups so
formed (a parameter without a label is a group of its own) are crossed. ``combine = "zip"`` zips
every parameter. Random draws use :class:`numpy.random.SeedSequence`: the file's ``seed`` (or,
when absent, one derived from the file's content, so that the same file gives the same points)
spawns one child per parameter, in file order; both are recorded with the sweep.

Optional keys: ``label`` per parameter (used on figure axes), ``warm_start`` (default true: each
point starts from the solution of the point solved before it on the same worker),
``chunk_size`` (points per task), and ``[options]`` with the certificate's ``atol``/``rtol``.

Every equilibrium (opt-in)::

    all = true            # search every equilibrium at each point (emgame.equilibria.solve_all)
    starts = 12           # starts per point and concept (default 12)
    all_seconds = 120     # time budget of each point's search (default 120 s)

With ``all = true`` each point and concept is searched from ``starts`` starts (random ones
seeded with ``numpy.random.SeedSequence(0)``, as ``emgame solve --all --seed 0``); the point's
stored solution is the equilibrium the default solve reaches if it is among those found, else
the one most starts reached; the store keeps how many were found (``docs/store.md``). Points
are then solved cold (no warm start: the search has its own starts, and its count must not
depend on which point was solved before). The search settings are hashed into the point ids,
so a sweep run with and without ``all`` keeps both answers. ``starts`` and ``all_seconds``
apply only when the search runs (``all = true`` or ``emgame sweep --all``).

Points are put in an order where neighbours differ little (a boustrophedon over crossed groups,
nearest-neighbour order within groups of random draws), so that consecutive points of a task
warm-start one another. Every point has a stable id, a hash of the base economy, the parameter
values and the solver options: rerunning a sweep finds the points already solved.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from emgame.analysis import paths
from emgame.analysis.sweep_file import (
    MAX_POINTS,
    GridSpec,
    RandomSpec,
    SweepFileError,
    SweepSpec,
    _clean_loc,
    _format_loc,
    _problem,
)
from emgame.model import EconomyError, EconomyFileError, economy_from_dict, economy_to_dict
from emgame.model.files import load_economy
from emgame.model.schema import describe_value

CONCEPTS: tuple[str, ...] = ("nash", "competitive")
ALL_STARTS = 12
"""Starts per point and concept of the every-equilibrium search when the file gives none."""
ALL_SECONDS = 120.0
"""Time budget (seconds) of each point's every-equilibrium search when the file gives none."""
ALL_SEED = 0
"""Seed of the search's random starts (that of ``emgame solve --all``)."""
ID_VERSION = 1
"""Bumped when the content hashed into point ids changes meaning."""


# --------------------------------------------------------------------------------------------
# Expanded sweeps.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One varied parameter, expanded: its path, operation and the values it takes."""

    path: str
    operation: str
    values: tuple[float | int, ...]
    source: str  # "values" | "grid" | "random"
    label: str | None = None
    group: str = ""
    integer: bool = False
    seed: dict[str, Any] | None = None  # {"entropy": int, "spawn_key": [k]} for random draws

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "operation": self.operation,
                             "source": self.source, "group": self.group,
                             "integer": self.integer, "values": list(self.values)}
        if self.label is not None:
            d["label"] = self.label
        if self.seed is not None:
            d["seed"] = {"entropy": str(self.seed["entropy"]),
                         "spawn_key": list(self.seed["spawn_key"])}
        return d


@dataclass(frozen=True)
class SearchAll:
    """The every-equilibrium search run at each point (``all = true`` in the sweep file): the
    arguments of :func:`emgame.equilibria.solve_all`."""

    starts: int = ALL_STARTS
    seconds: float = ALL_SECONDS
    seed: int = ALL_SEED

    def to_dict(self) -> dict[str, Any]:
        return {"starts": self.starts, "seconds": self.seconds, "seed": self.seed}


@dataclass(frozen=True)
class Point:
    """One parameter setting of a sweep.

    ``point_id`` hashes the base economy, the parameter values (with their operations) and the
    solver options; ``index`` is the point's place in the sweep's solving order; ``economy`` is
    the changed economy as a dictionary (validated when the sweep was expanded).
    """

    index: int
    point_id: str
    params: tuple[tuple[str, float | int], ...]
    economy: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def parameters(self) -> dict[str, float | int]:
        return dict(self.params)


@dataclass(frozen=True)
class Sweep:
    """An expanded sweep: the base economy, the parameters and every point, in solving order."""

    name: str
    source: str
    sweep_id: str
    base: Mapping[str, Any] = field(repr=False)
    concepts: tuple[str, ...] = ("nash",)
    parameters: tuple[Parameter, ...] = ()
    points: tuple[Point, ...] = field(default=(), repr=False)
    seed: int = 0
    warm_start: bool = True
    chunk_size: int | None = None
    atol: float = 1e-8
    rtol: float = 1e-8
    spec: Mapping[str, Any] = field(default_factory=dict, repr=False)
    search: SearchAll | None = None
    """Search every equilibrium at each point (``None``: one solve per point, the default)."""

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(p.path for p in self.parameters)

    @property
    def labels(self) -> dict[str, str]:
        return {p.path: p.label for p in self.parameters if p.label}

    def to_dict(self) -> dict[str, Any]:
        """What the store records about the sweep (JSON-ready)."""
        return {"name": self.name, "source": self.source, "sweep_id": self.sweep_id,
                "concepts": list(self.concepts), "seed": str(self.seed),
                "warm_start": self.warm_start, "chunk_size": self.chunk_size,
                "options": {"atol": self.atol, "rtol": self.rtol},
                "all": None if self.search is None else self.search.to_dict(),
                "parameters": [p.to_dict() for p in self.parameters],
                "n_points": len(self.points), "spec": dict(self.spec)}


@dataclass(frozen=True)
class Task:
    """Points solved one after the other by one worker (each warm-starting the next).

    ``items`` pairs each point with the concepts still to solve there.
    """

    items: tuple[tuple[Point, tuple[str, ...]], ...]
    warm_start: bool = True
    atol: float = 1e-8
    rtol: float = 1e-8
    sweep: str = ""
    workers_per_host: int = 0
    """Worker processes sharing each machine's cores (0: leave numba's threads alone). The
    worker solving the task gives numba's parallel kernels its share of the cores."""
    search: SearchAll | None = None
    """Search every equilibrium at each point (see :class:`SearchAll`)."""

    def __len__(self) -> int:
        return sum(len(c) for _, c in self.items)

    def split(self) -> list[Task]:
        """One task per point (to isolate a point that brings its worker down)."""
        return [Task((item,), self.warm_start, self.atol, self.rtol, self.sweep,
                     self.workers_per_host, self.search) for item in self.items]


def canonical_json(data: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces, shortest float repr): what ids hash."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False,
                      ensure_ascii=False)


def digest(data: Any, size: int = 16) -> str:
    return hashlib.blake2b(canonical_json(data).encode(), digest_size=size).hexdigest()


def point_id(base: Mapping[str, Any], params: Sequence[tuple[str, str, float | int]],
             atol: float = 1e-8, rtol: float = 1e-8, search: SearchAll | None = None) -> str:
    """The stable id of a point: base economy, ``(path, operation, value)`` and options (with
    the every-equilibrium search's settings when it runs; without it, ids are as before)."""
    data: dict[str, Any] = {"v": ID_VERSION, "base": base,
                            "params": sorted([p, o, v] for p, o, v in params),
                            "options": {"atol": atol, "rtol": rtol}}
    if search is not None:
        data["all"] = search.to_dict()
    return digest(data)


GRID_DIGITS = 12
"""Grid values are rounded to this many significant digits: ``start + k·step`` in binary
floating point gives ``0.013000000000000001`` where the user asked for ``0.013``."""


def _grid(g: GridSpec) -> np.ndarray:
    if g.num is not None:
        if g.scale == "log":
            raw = np.geomspace(g.start, g.stop, g.num)
        else:
            raw = np.linspace(g.start, g.stop, g.num)
    else:
        assert g.step is not None
        n = (math.floor((g.stop - g.start) / g.step * (1 + 1e-12)) + 1 if g.stop >= g.start
             else 0)
        if n < 1 or n > MAX_POINTS:
            raise ValueError(f"step gives {n} values; need 1..{MAX_POINTS} (is stop >= start?)")
        raw = g.start + g.step * np.arange(n)
    return np.array([float(f"{v:.{GRID_DIGITS}g}") for v in raw])


def format_value(v: float | int) -> str:
    """A parameter value for people: integers as they are, floats in the shortest form that
    rounds to them at 12 significant digits (``0.013``, ``1e-05``)."""
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        return str(v)
    if isinstance(v, int | np.integer):
        return str(int(v))
    return f"{float(v):.12g}"


def _draw(r: RandomSpec, seq: np.random.SeedSequence) -> np.ndarray:
    rng = np.random.default_rng(seq)
    if r.distribution == "uniform":
        return rng.uniform(r.low, r.high, r.n)
    if r.distribution == "loguniform":
        assert r.low is not None and r.high is not None
        return np.exp(rng.uniform(math.log(r.low), math.log(r.high), r.n))
    if r.distribution == "integers":
        assert r.low is not None and r.high is not None
        return rng.integers(int(r.low), int(r.high), r.n, endpoint=True).astype(float)
    return rng.normal(r.mean, r.sd, r.n)


def _snake(dims: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every index of a grid, consecutive ones differing in one digit by one (boustrophedon)."""
    if not dims:
        yield ()
        return
    sub = list(_snake(dims[1:]))
    for i in range(dims[0]):
        for s in (sub if i % 2 == 0 else reversed(sub)):
            yield (i, *s)


def _nearest_order(rows: np.ndarray) -> list[int]:
    """A short path through the rows (greedy nearest neighbour in rank-scaled coordinates)."""
    n = len(rows)
    if n <= 2:
        return list(range(n))
    ranks = np.argsort(np.argsort(rows, axis=0, kind="stable"), axis=0) / max(n - 1, 1)
    if n > 5000:  # greedy is O(n^2): sort by the first coordinate instead
        return list(np.lexsort(ranks.T[::-1]))
    start = int(np.lexsort(ranks.T[::-1])[0])
    order = [start]
    left = np.ones(n, bool)
    left[start] = False
    cur = start
    for _ in range(n - 1):
        d = np.where(left, np.abs(ranks - ranks[cur]).sum(axis=1), np.inf)
        cur = int(np.argmin(d))
        order.append(cur)
        left[cur] = False
    return order


def _read(path: Path) -> dict[str, Any]:
    source = str(path)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SweepFileError(source, [("", "no such file")]) from None
    except IsADirectoryError:
        raise SweepFileError(source, [("", "is a directory, not a sweep file")]) from None
    except OSError as exc:
        raise SweepFileError(source, [("", f"cannot read file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise SweepFileError(source, [("", f"not UTF-8 text: {exc.reason}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepFileError(source, [("", f"invalid TOML: {exc}")]) from None


def _bundled_example(name: str) -> Path | None:
    import importlib.resources

    folder = importlib.resources.files("emgame") / "examples"
    stem = name.removesuffix(".toml")
    candidate = folder / f"{stem}.toml"
    return Path(str(candidate)) if candidate.is_file() else None


def _base_economy(spec: SweepSpec, source: str, folder: Path) -> dict[str, Any]:
    """The base economy as a (validated, normalised) dictionary."""
    if isinstance(spec.economy, dict):
        economy = economy_from_dict(spec.economy, f"{source}: economy")
    else:
        ref = spec.economy
        path = Path(ref).expanduser()
        if not path.is_absolute():
            path = folder / path
        if not path.exists() and "/" not in ref and "\\" not in ref:
            bundled = _bundled_example(ref)
            if bundled is not None:
                path = bundled
        if not path.exists():
            raise SweepFileError(source, [("economy", f"no such economy file: {ref!r} (looked "
                                           f"for {path}; paths are relative to the sweep file, "
                                           f"or name a bundled example)")])
        economy = load_economy(path)
    return economy_to_dict(economy)


def parse_sweep(data: Mapping[str, Any], source: str = "<dict>",
                folder: str | Path = ".") -> Sweep:
    """Check a sweep (as a dictionary) and expand it into points.

    Parameters
    ----------
    data : mapping
        As ``tomllib`` returns the file.
    source : str
        Named in error messages.
    folder : path
        Where a relative ``economy`` path is looked for (the sweep file's folder).

    Raises
    ------
    SweepFileError
        For problems with the sweep itself (unknown keys, bad values, unknown paths, points
        whose economy breaks the economy rules); every problem, one per line.
    EconomyFileError
        For a base economy that is not valid (naming the economy file and key).
    """
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = _format_loc(_clean_loc(e["loc"]))
            if loc == "economy" and e["type"] in ("string_type", "dict_type"):
                problem = ("expected the name of an economy file (or of a bundled example) or "
                           f"an inline [economy] table, got {describe_value(e.get('input'))}")
            else:
                problem = _problem(e)
            if (loc, problem) not in problems:
                problems.append((loc, problem))
        raise SweepFileError(source, problems) from None
    base = _base_economy(spec, source, Path(folder))
    T = int(base["periods"])

    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    targets: dict[str, tuple[paths.Target, ...]] = {}
    for k, p in enumerate(spec.parameters):
        key = f"parameters[{k}].path"
        if p.path in seen:
            problems.append((key, f"{p.path!r} is varied twice (also parameters[{seen[p.path]}])"))
            continue
        seen[p.path] = k
        try:
            targets[p.path] = paths.resolve(base, p.path)
        except paths.PathError as exc:
            problems.append((key, str(exc)))
    if problems:
        raise SweepFileError(source, problems)

    canonical = spec.model_dump(mode="json", exclude_none=True)
    if isinstance(spec.economy, str):
        canonical["economy"] = base  # hash what the economy *is*, not where it was found
    search = None
    for key in ("all", "starts", "all_seconds"):  # hashed only when the search runs
        canonical.pop(key, None)
    if spec.all:
        search = SearchAll(starts=spec.starts or ALL_STARTS,
                           seconds=float(spec.all_seconds or ALL_SECONDS))
        canonical.update({"all": True, "starts": search.starts, "all_seconds": search.seconds})
    seed = spec.seed if spec.seed is not None else int(digest(canonical, 8), 16)
    children = np.random.SeedSequence(seed).spawn(len(spec.parameters))

    params: list[Parameter] = []
    for k, p in enumerate(spec.parameters):
        integer = any(t.integer for t in targets[p.path]) and p.operation == "set"
        seed_info = None
        try:
            if p.values is not None:
                raw, src = np.asarray(p.values, dtype=float), "values"
            elif p.grid is not None:
                raw, src = _grid(p.grid), "grid"
            else:
                assert p.random is not None
                raw, src = _draw(p.random, children[k]), "random"
                seed_info = {"entropy": seed, "spawn_key": list(children[k].spawn_key)}
        except ValueError as exc:
            problems.append((f"parameters[{k}]", str(exc)))
            continue
        values: list[float | int] = []
        for v in raw:
            fv = float(v)
            if integer:
                if abs(fv - round(fv)) > 1e-9 * max(1.0, abs(fv)):
                    problems.append((f"parameters[{k}]", f"{p.path!r} takes whole numbers; "
                                     f"{fv!r} is not one"))
                    break
                values.append(int(round(fv)))
            else:
                values.append(fv)
        group = f"#{k}" if spec.combine == "cross" and p.zip is None else (
            "*" if spec.combine == "zip" else f"zip:{p.zip}")
        params.append(Parameter(p.path, p.operation, tuple(values), src, p.label, group,
                                integer, seed_info))
    if problems:
        raise SweepFileError(source, problems)

    # Groups: zipped within, crossed between, in order of first appearance.
    groups: dict[str, list[int]] = {}
    for i, prm in enumerate(params):
        groups.setdefault(prm.group, []).append(i)
    group_rows: list[list[tuple[float | int, ...]]] = []
    for g, members in groups.items():
        lengths = {params[i].path: len(params[i].values) for i in members}
        if len(set(lengths.values())) > 1:
            what = ", ".join(f"{p!r} has {n}" for p, n in lengths.items())
            label = "combine = \"zip\"" if g == "*" else f"zip = {g.removeprefix('zip:')!r}"
            raise SweepFileError(source, [("parameters", f"zipped parameters ({label}) need "
                                           f"equally many values: {what}")])
        rows = list(zip(*(params[i].values for i in members), strict=True))
        if any(params[i].source == "random" for i in members):
            order = _nearest_order(np.asarray(rows, dtype=float))
            rows = [rows[i] for i in order]
        group_rows.append(rows)
    total = math.prod(len(r) for r in group_rows)
    if total > MAX_POINTS:
        raise SweepFileError(source, [("parameters", f"{total} points is more than the "
                                       f"{MAX_POINTS} a sweep may have")])

    concepts = CONCEPTS if spec.concept == "both" else (spec.concept,)
    member_lists = list(groups.values())
    points: list[Point] = []
    seen_ids: set[str] = set()
    for idx in _snake([len(r) for r in group_rows]):
        values_by_param: dict[int, float | int] = {}
        for g, i in enumerate(idx):
            for member, v in zip(member_lists[g], group_rows[g][i], strict=True):
                values_by_param[member] = v
        changes = [(params[m].path, params[m].operation, values_by_param[m])
                   for m in range(len(params))]
        pid = point_id(base, changes, spec.options.atol, spec.options.rtol, search)
        if pid in seen_ids:
            continue  # the same point twice (repeated values): solved once
        seen_ids.add(pid)
        try:
            econ = paths.apply(base, [(p, o, float(v)) for p, o, v in changes], T, targets)
        except paths.PathError as exc:
            problems.append(("parameters", str(exc)))
            if len(problems) >= 5:
                break
            continue
        points.append(Point(len(points), pid, tuple((p, v) for p, _, v in changes), econ))
    if problems:
        raise SweepFileError(source, problems)

    _validate_points(points, source)
    name = spec.name or (Path(source).stem if not source.startswith("<") else "sweep")
    sweep_id = digest({"v": ID_VERSION, "spec": canonical, "seed": seed})
    return Sweep(name=name, source=source, sweep_id=sweep_id, base=base, concepts=concepts,
                 parameters=tuple(params), points=tuple(points), seed=seed,
                 warm_start=spec.warm_start, chunk_size=spec.chunk_size,
                 atol=spec.options.atol, rtol=spec.options.rtol, spec=canonical, search=search)


def _validate_points(points: Sequence[Point], source: str) -> None:
    """Every point's economy must be a valid economy; report the first few that are not."""
    problems: list[tuple[str, str]] = []
    for pt in points:
        try:
            economy_from_dict(pt.economy, "<point>")
        except (EconomyFileError, EconomyError) as exc:
            where = ", ".join(f"{p} = {format_value(v)}" for p, v in pt.params)
            lines = [line.split(": ", 1)[-1] for line in str(exc).splitlines()]
            problems.append(("parameters", f"the point {where} is not a valid economy: "
                             + "; ".join(lines)))
            if len(problems) >= 5:
                problems.append(("parameters", "(further points not checked)"))
                break
    if problems:
        raise SweepFileError(source, problems)


def load_sweep(path: str | Path, *, concept: str | None = None,
               search_all: bool | None = None) -> Sweep:
    """Read a sweep file and expand it (see :func:`parse_sweep`).

    ``concept`` (``"nash"``, ``"competitive"`` or ``"both"``) overrides the file's;
    ``search_all`` overrides its ``all`` (every equilibrium at each point).
    """
    p = Path(path)
    data = _read(p)
    if concept is not None:
        data = {**data, "concept": concept}
    if search_all is not None:
        data = {**data, "all": search_all}
    return parse_sweep(data, str(path), p.parent)


def tasks(sweep: Sweep, todo: Mapping[str, Sequence[str]] | None = None,
          chunk_size: int | None = None, workers: int = 1,
          workers_per_host: int = 0) -> list[Task]:
    """The points still to solve, in solving order, cut into tasks of neighbouring points.

    Parameters
    ----------
    sweep : Sweep
    todo : mapping point id -> concepts, optional
        What is left to solve (default: every point, every concept of the sweep).
    chunk_size : int, optional
        Points per task; default ``sweep.chunk_size``, else about four tasks per worker, at
        most 16 points each.
    workers : int
        Workers the tasks are for (sets the default chunk size).
    workers_per_host : int
        Worker processes per machine (each then runs numba with its share of the cores);
        0 leaves numba alone (solving in the calling process).
    """
    items = []
    for pt in sweep.points:
        concepts = sweep.concepts if todo is None else tuple(
            c for c in sweep.concepts if c in todo.get(pt.point_id, ()))
        if concepts:
            items.append((pt, concepts))
    if not items:
        return []
    size = chunk_size or sweep.chunk_size or max(1, min(16, math.ceil(
        len(items) / (4 * max(1, workers)))))
    return [Task(tuple(items[i:i + size]), sweep.warm_start, sweep.atol, sweep.rtol,
                 sweep.sweep_id, workers_per_host, sweep.search)
            for i in range(0, len(items), size)]
