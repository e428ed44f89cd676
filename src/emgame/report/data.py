"""What figures and reports are drawn from: one economy's solutions (from a JSON file, an economy
file, or a point of a store) or a sweep's rows in a results store.

Nothing here draws; :mod:`emgame.report.figures` and :mod:`emgame.report.html` do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from emgame.model import economy_to_dict, load_economy
from emgame.report.figures import Series, column_label, parameter_label
from emgame.store import Store, quote

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


def load_solutions(path: str | Path) -> SolutionSet:
    """Solutions from a JSON file (``emgame solve --json``, one concept or both) or from an
    economy file (solved here, Nash and competitive).

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
    if p.suffix.lower() == ".toml":
        from emgame.solve import solve_both

        economy = load_economy(p)
        nash, competitive = solve_both(economy)
        return SolutionSet(economy.name, {"nash": nash.to_dict(),
                                          "competitive": competitive.to_dict()},
                           str(p), economy_to_dict(economy))
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
    return SolutionSet(str(first.get("economy") or p.stem), sols, str(p))


def solutions_from_store(store: Store, *, sweep: str | None = None,
                         point: str | None = None) -> SolutionSet:
    """The solutions stored for one point (by id or id prefix; default the sweep's first)."""
    s = store.sweep(sweep)
    if point is None:
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
                       economy, params)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


@dataclass(frozen=True)
class SweepData:
    """Series for a sweep figure, with axis labels."""

    series: list[Series]
    xlabel: str
    ylabel: str
    title: str
    logx: bool = False
    excluded: int = 0


def excluded_note(n: int) -> str:
    """The note a figure carries when some stored rows are not equilibria (not drawn)."""
    if not n:
        return ""
    return (f"{n} stored row is not an equilibrium and is not drawn" if n == 1 else
            f"{n} stored rows are not equilibria and are not drawn")


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
    s = store.sweep(sweep)
    params = s["parameters"]
    x = x or params[0]["path"]
    xp = _parameter(s, x)
    hp = _parameter(s, hue) if hue else None
    wanted = [c for c in (concepts or CONCEPTS) if c in s["concepts"]]
    hue_sql = f", p.{quote(hue)} AS hue" if hue else ", NULL AS hue"
    try:
        if type_name is None:
            sql = (f"SELECT p.{quote(x)} AS x, p.concept AS concept{hue_sql}, ({y}) AS y "
                   f"FROM points p WHERE p.ok AND p.point_id IN (SELECT point_id FROM "
                   f"sweep_points WHERE sweep_id = ?)")
            args: list[Any] = [s["sweep_id"]]
        else:
            hue_inner = f", {quote(hue)} AS __hue" if hue else ""
            sql = (f"SELECT p.__x AS x, p.__concept AS concept"
                   f"{', p.__hue AS hue' if hue else ', NULL AS hue'}, ({y}) AS y FROM types t "
                   f"JOIN (SELECT point_id AS __pid, concept AS __concept, {quote(x)} AS __x"
                   f"{hue_inner} FROM points WHERE ok AND point_id IN (SELECT point_id FROM "
                   f"sweep_points WHERE sweep_id = ?)) p ON t.point_id = p.__pid AND "
                   f"t.concept = p.__concept WHERE t.name = ?")
            args = [s["sweep_id"], type_name]
        rows = store.query(sql, args)
    except duckdb.Error as exc:
        raise SourceError(f"cannot read y = {y!r}: {str(exc).splitlines()[0]}") from None
    if type_name is not None and not rows:
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
        "SELECT count(*) AS n FROM points WHERE NOT ok AND point_id IN (SELECT point_id FROM "
        "sweep_points WHERE sweep_id = ?)", [s["sweep_id"]])[0]["n"]
    series: list[Series] = []
    hues = sorted({r["hue"] for r in rows if r["hue"] is not None}) if hue else [None]
    for concept in wanted:
        for h in hues:
            sel = [r for r in rows if r["concept"] == concept and (h is None or r["hue"] == h)
                   and r["x"] is not None and r["y"] is not None
                   and math.isfinite(float(r["y"]))]
            if not sel:
                continue
            label = "Nash" if concept == "nash" else "competitive"
            if h is not None:
                assert hp is not None
                label += f", {hp.get('label') or hue} = {_fmt(h)}"
            series.append(Series(label, np.array([float(r["x"]) for r in sel]),
                                 np.array([float(r["y"]) for r in sel]), concept))
    ylabel = column_label(y)
    if type_name is not None:
        ylabel = f"{ylabel} — {type_name}"
    multiply_count = xp["operation"] == "multiply"
    return SweepData(series, parameter_label(x, xp["operation"], xp.get("label")), ylabel,
                     s["name"], logx=multiply_count, excluded=int(excluded))


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
