"""What figures and reports are drawn from: one economy's solutions (from a JSON or Parquet file
written by ``emgame solve``, an economy file, or a point of a store) or a sweep's rows in a
results store.

Nothing here draws; :mod:`emgame.report.figures` and :mod:`emgame.report.html` do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emgame.model import economy_to_dict, load_economy
from emgame.report.figures import (
    MAX_TYPES_DRAWN,
    Series,
    column_label,
    parameter_label,
    short_label,
)

if TYPE_CHECKING:  # pragma: no cover - the store needs the `sweep` extra
    from emgame.store import Store


def quote(name: str) -> str:
    """A SQL identifier, double-quoted (parameter paths hold dots, stars and dashes)."""
    return '"' + name.replace('"', '""') + '"'

CONCEPTS = ("nash", "competitive")


class SourceError(ValueError):
    """A file or query that figures and reports cannot be drawn from; the message says why."""


@dataclass(frozen=True)
class SolutionSet:
    """The solutions of one economy: concept → solution dictionary (``Solution.to_dict``).

    ``economy`` is the economy as a dictionary when known (from an economy file or a store),
    ``params`` the swept parameter values when the solutions come from a store.
    """

    title: str
    solutions: Mapping[str, Mapping[str, Any]]
    source: str
    economy: Mapping[str, Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    point: str = ""
    types_total: int | None = None  # all types of the economy, when only some are listed
    comparison: Mapping[str, Any] | None = None  # Nash against competitive, when both are here

    @property
    def subtitle(self) -> str:
        """Which point of a sweep this is (empty for a single economy)."""
        if not self.params:
            return ""
        where = ", ".join(f"{short_label(k)} = {_fmt(v)}" for k, v in self.params.items())
        return f"point {self.point[:12]}: {where}" if self.point else where

    @property
    def probabilities(self) -> list[float] | None:
        if not self.economy:
            return None
        states = self.economy.get("states")
        if states:
            return [float(s.get("probability", 0.0)) for s in states]
        return [1.0]


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a DuckDB file (by its header, whatever its name)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) >= 12 and head[8:12] == b"DUCK"


def is_parquet(path: str | Path) -> bool:
    """Whether ``path`` is a Parquet file (by its magic bytes, whatever its name)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False


def solutions_from_parquet(path: str | Path) -> SolutionSet:
    """Solutions from a Parquet file of ``emgame solve --out result.parquet``: the summaries
    from its metadata, and the per-type rows of at most :data:`~emgame.report.figures.
    MAX_TYPES_DRAWN` types per concept (the largest consumers of electricity; the rest as one
    ``other`` row), read column by column."""
    from emgame.store.parquet import read_summary

    p = Path(path)
    try:
        meta = read_summary(p)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    sols: dict[str, dict[str, Any]] = {}
    total = 0
    for concept, summary in (meta.get("solutions") or {}).items():
        sol = dict(summary)
        types = sol.pop("types", None) or {}
        total = max(total, int(types.get("consumers", 0)) + int(types.get("producers", 0)))
        sol["consumers"], sol["producers"] = _parquet_rows(p, concept, summary)
        sols[concept] = sol
    if not sols:
        raise SourceError(f"{p}: holds no solution")
    first = next(iter(sols.values()))
    return SolutionSet(str(first.get("economy") or p.stem), sols, str(p), types_total=total,
                       comparison=meta.get("comparison"))


def _parquet_rows(path: Path, concept: str, summary: Mapping[str, Any]
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The largest types' rows of one concept, as dictionaries shaped like the JSON's."""
    import pyarrow.parquet as pq

    from emgame.store.parquet import read_types

    T = len(summary.get("relative_prices") or [])
    names = set(pq.read_schema(path).names)
    S = max((int(c.split("_s")[1].split("_")[0]) for c in names
             if c.startswith("consumption_s")), default=1)

    def stems(stem: str, states: bool = True) -> list[str]:
        if states and S > 1:
            return [f"{stem}_s{k}_{t}" for k in range(1, S + 1) for t in range(1, T + 1)]
        return [f"{stem}_{t}" for t in range(1, T + 1)]

    con, ver = stems("consumption"), stems("verification")
    ele, mk = stems("electricity", False), stems("markup", False)
    scalars = ["role", "name", "count", "utility", "regret", "capacity"]
    table = read_types(path, columns=[c for c in scalars + con + ver + ele + mk if c in names],
                       concept=concept)
    n = table.num_rows
    if n == 0:
        return [], []

    def block(cols: list[str], rows: np.ndarray | slice) -> np.ndarray:
        return np.column_stack([np.asarray(table.column(c).to_numpy(zero_copy_only=False),
                                           dtype=float)[rows] for c in cols])

    count = np.asarray(table.column("count").to_numpy(zero_copy_only=False), dtype=float)
    everyone = slice(None)
    total = count * block(con, everyone).sum(axis=1)
    keep = (np.sort(np.argsort(total)[::-1][:MAX_TYPES_DRAWN - 1]) if n > MAX_TYPES_DRAWN
            else np.arange(n))
    C = block(con, keep).reshape(len(keep), S, T)
    V = block(ver, keep).reshape(len(keep), S, T)
    E = block(ele, keep)
    M = block(mk, keep) if all(c in names for c in mk) else None

    def take(name: str) -> list[Any]:
        if name not in table.column_names:
            return [None] * len(keep)
        return table.column(name).take(keep).to_pylist()

    roles, labels, utility, regret, capacity = (take(c) for c in
                                                ("role", "name", "utility", "regret",
                                                 "capacity"))
    out: dict[str, list[dict[str, Any]]] = {"consumer": [], "producer": []}
    for k, i in enumerate(keep):
        row: dict[str, Any] = {"name": labels[k], "count": float(count[i]),
                               "utility": utility[k], "regret": regret[k],
                               "consumption": C[k].tolist(), "verification": V[k].tolist(),
                               "electricity": E[k].tolist()}
        if roles[k] == "producer":
            row["capacity"] = capacity[k]
            if M is not None:
                row["markups"] = M[k].tolist()
        out[roles[k]].append(row)
    rest = np.setdiff1d(np.arange(n), keep)
    if rest.size:
        w = count[rest]
        out["consumer"].append({
            "name": f"other {rest.size:,} types", "count": float(w.sum()),
            "consumption": (w @ block(con, rest) / w.sum()).reshape(S, T).tolist(),
            "verification": (w @ block(ver, rest) / w.sum()).reshape(S, T).tolist(),
            "electricity": (w @ block(ele, rest) / w.sum()).tolist()})
    return out["consumer"], out["producer"]


def load_solutions(path: str | Path) -> SolutionSet:
    """Solutions from a JSON file (``emgame solve --json``, one concept or both), a Parquet
    file (``emgame solve --out result.parquet``) or an economy file (solved here, Nash and
    competitive).

    Raises
    ------
    SourceError
        For a file that is neither.
    EconomyFileError
        For an economy file that breaks the rules.
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(f"{p}: no such file")
    if is_parquet(p):
        return solutions_from_parquet(p)
    if p.suffix.lower() == ".toml":
        from emgame.report.compare import comparison
        from emgame.solve import solve_both

        economy = load_economy(p)
        nash, competitive = solve_both(economy)
        return SolutionSet(economy.name, {"nash": nash.to_dict(),
                                          "competitive": competitive.to_dict()},
                           str(p), economy_to_dict(economy),
                           comparison=comparison(nash, competitive))
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{p}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"{p}: not JSON (nor an economy .toml or a results store): "
                          f"{exc}") from None
    if not isinstance(data, dict):
        raise SourceError(f"{p}: expected a solution (a JSON object)")
    if any(isinstance(data.get(c), dict) for c in CONCEPTS):
        sols = {c: data[c] for c in CONCEPTS if isinstance(data.get(c), dict)}
    elif data.get("concept") in CONCEPTS:
        sols = {data["concept"]: data}
    else:
        raise SourceError(f"{p}: not a solution JSON (no 'concept', no 'nash'/'competitive')")
    first = next(iter(sols.values()))
    cmp = data.get("comparison") if isinstance(data.get("comparison"), dict) else None
    return SolutionSet(str(first.get("economy") or p.stem), sols, str(p), comparison=cmp)


def point_at(store: Store, sweep_row: Mapping[str, Any], at: Mapping[str, float]) -> str:
    """The id of the sweep's point whose parameters equal ``at`` (``path → value``, compared
    to 1e-9 relative); every varied parameter that ``at`` leaves out must take one value
    among the matches, else the choice is ambiguous.

    Raises
    ------
    SourceError
        For an unknown path, no matching point (naming the nearest values), or several.
    """
    paths = [p["path"] for p in sweep_row["parameters"]]
    for path in at:
        if path not in paths:
            raise SourceError(f"--at {path}: sweep {sweep_row['name']} does not vary it; it "
                              f"varies {', '.join(paths)}")
    cols = ", ".join(f"sp.idx, p.point_id, {', '.join('p.' + quote(x) for x in paths)}"
                     .split(", "))
    rows = store.query(f"SELECT DISTINCT {cols} FROM sweep_points sp JOIN points p ON "
                       "p.point_id = sp.point_id WHERE sp.sweep_id = ? ORDER BY sp.idx",
                       [sweep_row["sweep_id"]])
    hits = [r for r in rows if all(
        r[x] is not None and abs(float(r[x]) - v) <= 1e-9 * max(1.0, abs(v))
        for x, v in at.items())]
    if not hits:
        near = []
        for x, v in at.items():
            values = sorted({float(r[x]) for r in rows if r[x] is not None},
                            key=lambda u: abs(u - v))[:3]
            near.append(f"{x}: nearest stored values {', '.join(_fmt(u) for u in values)}")
        raise SourceError(f"no stored point of sweep {sweep_row['name']} has "
                          + ", ".join(f"{x} = {_fmt(v)}" for x, v in at.items()) + "; "
                          + "; ".join(near))
    ids = {r["point_id"] for r in hits}
    if len(ids) > 1:
        free = [x for x in paths if x not in at and len({r[x] for r in hits}) > 1]
        raise SourceError(f"{len(ids)} stored points match; pick one with --at for "
                          f"{', '.join(free) or 'another parameter'} (or --point ID)")
    return hits[0]["point_id"]


def solutions_from_store(store: Store, *, sweep: str | None = None, point: str | None = None,
                         at: Mapping[str, float] | None = None) -> SolutionSet:
    """The solutions stored for one point: by id (or id prefix), by its parameter values
    (``at``), or by default the sweep's first."""
    s = store.sweep(sweep)
    if at:
        pid = point_at(store, s, at)
    elif point is None:
        rows = store.query("SELECT point_id FROM sweep_points WHERE sweep_id = ? ORDER BY idx "
                           "LIMIT 1", [s["sweep_id"]])
        if not rows:
            raise SourceError(f"sweep {s['name']} has no points")
        pid = rows[0]["point_id"]
    else:
        rows = store.query("SELECT DISTINCT point_id FROM points WHERE point_id LIKE ?",
                           [point + "%"])
        if len(rows) != 1:
            raise SourceError(f"{'no' if not rows else len(rows)} stored points match "
                              f"{point!r}")
        pid = rows[0]["point_id"]
    rows = store.query("SELECT concept, params, economy, solution FROM points WHERE "
                       "point_id = ?", [pid])
    if not rows:
        raise SourceError(f"point {pid} is not solved yet")
    sols = {r["concept"]: json.loads(r["solution"]) for r in rows if r["solution"]}
    if not sols:
        sols = {r["concept"]: {"status": "error", "concept": r["concept"]} for r in rows}
    params = json.loads(rows[0]["params"])
    economy = json.loads(rows[0]["economy"]) if rows[0]["economy"] else None
    where = ", ".join(f"{k} = {_fmt(v)}" for k, v in params.items())
    return SolutionSet(f"{s['name']}: {where}", sols, f"{store.path} point {pid[:12]}",
                       economy, params, point=pid)


def _fmt(v: Any) -> str:
    from emgame.analysis.sweep import format_value

    return format_value(v) if isinstance(v, int | float) else str(v)


@dataclass(frozen=True)
class SweepData:
    """Series for a sweep figure, with axis labels."""

    series: list[Series]
    xlabel: str
    ylabel: str
    title: str
    logx: bool = False
    excluded: int = 0
    discrete: bool = False  # a whole-number parameter: drawn as points


def excluded_note(n: int) -> str:
    """The note a figure carries when some stored rows are not equilibria (not drawn: the
    lines break there)."""
    if not n:
        return ""
    return (f"{n} stored row is not an equilibrium: not drawn (gap)" if n == 1 else
            f"{n} stored rows are not equilibria: not drawn (gaps)")


def _parameter(sweep_row: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    for p in sweep_row["parameters"]:
        if p["path"] == path:
            return p
    known = ", ".join(repr(p["path"]) for p in sweep_row["parameters"])
    raise SourceError(f"sweep {sweep_row['name']} does not vary {path!r}; it varies {known}")


def sweep_series(store: Store, *, sweep: str | None = None, x: str | None = None,
                 y: str = "mean_relative_price", type_name: str | None = None,
                 concepts: Sequence[str] | None = None, hue: str | None = None) -> SweepData:
    """``y`` against the swept parameter ``x``, one series per concept (and per ``hue`` value).

    Parameters
    ----------
    store : Store
    sweep : str, optional
        Name or id (needed when the store holds several sweeps).
    x : str, optional
        A parameter path of the sweep (default: its first).
    y : str
        A column of ``points`` or a SQL expression over them (e.g. ``relative_prices[13]``,
        1-based; ``list_max(relative_prices)``); with ``type_name``, over ``types`` instead.
    type_name : str, optional
        An agent type's name: ``y`` is then read from that type's rows.
    concepts : sequence of str, optional
        Default: every concept stored.
    hue : str, optional
        A second parameter path: one series per value.

    Raises
    ------
    SourceError
        Unknown sweep, parameter, column or a ``y`` that is not a number.
    """
    import duckdb

    s = store.sweep(sweep)
    params = s["parameters"]
    x = x or params[0]["path"]
    xp = _parameter(s, x)
    if hue is not None and hue == x:
        raise SourceError(f"--hue {hue}: the same parameter as the x axis; give another swept "
                          "parameter (or none)")
    hp = _parameter(s, hue) if hue else None
    wanted = [c for c in (concepts or CONCEPTS) if c in s["concepts"]]
    hue_sql = f", p.{quote(hue)} AS hue" if hue else ", NULL AS hue"
    of_sweep = "point_id IN (SELECT point_id FROM sweep_points WHERE sweep_id = ?)"
    try:
        if type_name is None:
            sql = (f"SELECT p.{quote(x)} AS x, p.concept AS concept{hue_sql}, CASE WHEN p.ok "
                   f"THEN ({y}) END AS y FROM points p WHERE p.{of_sweep}")
            args: list[Any] = [s["sweep_id"]]
        else:
            hue_inner = f", {quote(hue)} AS __hue" if hue else ""
            sql = (f"SELECT p.__x AS x, p.__concept AS concept"
                   f"{', p.__hue AS hue' if hue else ', NULL AS hue'}, ({y}) AS y FROM types t "
                   f"JOIN (SELECT point_id AS __pid, concept AS __concept, {quote(x)} AS __x"
                   f"{hue_inner} FROM points WHERE ok AND {of_sweep}) p ON t.point_id = "
                   f"p.__pid AND t.concept = p.__concept WHERE t.name = ?")
            args = [s["sweep_id"], type_name]
        rows = store.query(sql, args)
        if type_name is not None:  # failed points have no type rows: add them, without y
            rows += store.query(f"SELECT p.{quote(x)} AS x, p.concept AS concept{hue_sql}, "
                                f"NULL AS y FROM points p WHERE NOT p.ok AND p.{of_sweep}",
                                [s["sweep_id"]])
    except duckdb.Error as exc:
        raise SourceError(f"cannot read y = {y!r}: {str(exc).splitlines()[0]}") from None
    if type_name is not None and not any(r["y"] is not None for r in rows):
        names = store.query("SELECT DISTINCT name FROM types WHERE point_id IN (SELECT point_id "
                            "FROM sweep_points WHERE sweep_id = ?)", [s["sweep_id"]])
        if type_name not in {r["name"] for r in names}:
            raise SourceError(f"no type named {type_name!r}; the types are "
                              f"{', '.join(sorted(repr(r['name']) for r in names))}")
    for r in rows:
        v = r["y"]
        if v is not None and not isinstance(v, int | float):
            raise SourceError(f"y = {y!r} is not a number (got {type(v).__name__}); for a "
                              f"list, pick an element (1-based), e.g. {y}[1], or reduce it, "
                              f"e.g. list_avg({y})")
    excluded = store.query(
        f"SELECT count(*) AS n FROM points WHERE NOT ok AND {of_sweep}",
        [s["sweep_id"]])[0]["n"]
    series: list[Series] = []
    hues = sorted({r["hue"] for r in rows if r["hue"] is not None}) if hue else [None]
    for concept in wanted:
        for h in hues:
            sel = [r for r in rows if r["concept"] == concept and (h is None or r["hue"] == h)
                   and r["x"] is not None]
            if not any(r["y"] is not None for r in sel):
                continue
            label = "Nash" if concept == "nash" else "competitive"
            if h is not None:
                assert hp is not None
                label += f", {short_label(hue or '', hp.get('label'))} = {_fmt(h)}"
            # Points that are not equilibria stay in the series with y = NaN: the line breaks
            # there instead of running through them.
            series.append(Series(label, np.array([float(r["x"]) for r in sel]),
                                 np.array([np.nan if r["y"] is None else float(r["y"])
                                           for r in sel]), concept))
    ylabel = column_label(y)
    if type_name is not None:
        ylabel = f"{ylabel} — {type_name}"
    leaf = x.split(".")[-1].split("[")[0]
    multiply_count = xp["operation"] == "multiply"
    discrete = bool(xp.get("integer")) or (multiply_count and leaf == "count")
    return SweepData(series, parameter_label(x, xp["operation"], xp.get("label")), ylabel,
                     s["name"], logx=multiply_count, excluded=int(excluded), discrete=discrete)


def replication_data(store: Store, *, sweep: str | None = None,
                     x: str | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """``(n, gap, xlabel)``: for each point with both a Nash and a competitive equilibrium, the
    largest relative gap between their relative prices, ``max_t |p_N^t − p_C^t| / p_C^t``."""
    s = store.sweep(sweep)
    if set(CONCEPTS) - set(s["concepts"]):
        raise SourceError(f"sweep {s['name']} does not solve both concepts (concept = "
                          f"\"both\" is needed to compare Nash with competitive)")
    x = x or s["parameters"][0]["path"]
    xp = _parameter(s, x)
    rows = store.query(
        f"SELECT n.{quote(x)} AS x, n.relative_prices AS rn, c.relative_prices AS rc "
        f"FROM points n JOIN points c ON n.point_id = c.point_id AND n.concept = 'nash' AND "
        f"c.concept = 'competitive' WHERE n.ok AND c.ok AND n.point_id IN (SELECT point_id "
        f"FROM sweep_points WHERE sweep_id = ?) ORDER BY x", [s["sweep_id"]])
    ns, gaps = [], []
    for r in rows:
        rn = np.array([np.nan if v is None else v for v in r["rn"]], float)
        rc = np.array([np.nan if v is None else v for v in r["rc"]], float)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.abs(rn - rc) / np.abs(rc)
        g = g[np.isfinite(g)]
        if g.size:
            ns.append(float(r["x"]))
            gaps.append(float(g.max()))
    return np.array(ns), np.array(gaps), parameter_label(x, xp["operation"], xp.get("label"))
