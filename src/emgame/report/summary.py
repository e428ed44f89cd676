"""Terminal tables (rich) summarising a results store, for ``emgame results``.

:func:`store_tables` reads the dictionary :meth:`emgame.store.Store.summary` returns and gives
rich renderables; nothing is printed or queried here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from emgame.report.layout import fmt


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                 padding=(0, 1))


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def store_tables(summary: Mapping[str, Any]) -> list[RenderableType]:
    """One block per sweep: parameters, statuses per concept, timings and failure reasons."""
    parts: list[RenderableType] = [Text(
        f"{summary['path']}: {len(summary['sweeps'])} sweep(s), {summary['points']} stored "
        f"rows, {_size(int(summary['size_bytes']))} (store schema {summary['schema_version']})")]
    for s in summary["sweeps"]:
        parts.append(Rule(Text(f"sweep {s['name']} ({s['sweep_id'][:12]})"), align="left"))
        state = ("complete" if s["missing"] == 0 else
                 f"{s['missing']} rows missing (run the sweep again to resume)")
        parts.append(Text(f"{s['source']}: {s['n_points']} points × {', '.join(s['concepts'])}"
                          f" = {s['rows_expected']} rows; {s['rows_stored']} stored, {state}"))
        params = _table("Parameters")
        for col in ("path", "operation", "values", "distinct", "min", "max"):
            params.add_column(col, justify="left" if col in ("path", "operation", "values")
                              else "right")
        for p in s["parameters"]:
            params.add_row(Text(p["path"]), p["operation"], p["source"], str(p["n"]),
                           fmt(p["min"]), fmt(p["max"]))
        parts.append(params)
        status = _table("Status")
        status.add_column("concept")
        status.add_column("status")
        status.add_column("rows", justify="right")
        for concept, by in s["by_status"].items():
            for k, n in by.items():
                style = "green" if k == "equilibrium" else "red"
                status.add_row(concept, Text(k, style=style), str(n))
        parts.append(status)
        if s.get("equilibria_found"):
            many = _table("Equilibria found (all searched)")
            many.add_column("concept")
            many.add_column("equilibria found", justify="right")
            many.add_column("rows", justify="right")
            for concept, by in s["equilibria_found"].items():
                for k, n in by.items():
                    many.add_row(concept, Text(str(k), style="" if k else "red"), str(n))
            parts.append(many)
        timing = _table("Timing")
        timing.show_header = False
        timing.add_column("")
        timing.add_column("", justify="right")
        timing.add_row("median per point on a worker", f"{fmt(s['median_seconds'])} s")
        timing.add_row("total worker time", f"{fmt(s['total_seconds'])} s")
        if s["first"] is not None:
            timing.add_row("first / last stored", f"{s['first']:%Y-%m-%d %H:%M:%S} / "
                                                  f"{s['last']:%Y-%m-%d %H:%M:%S}")
        parts.append(timing)
        if s["failures"]:
            fails = _table("Not equilibria (most common reasons, first line)")
            fails.add_column("concept")
            fails.add_column("status")
            fails.add_column("rows", justify="right")
            fails.add_column("reason", overflow="fold")
            for r in s["failures"]:
                fails.add_row(r["concept"], Text(r["status"], style="red"), str(r["n"]),
                              Text(r["reason"]))
            parts.append(fails)
            parts.append(_failed_points(s))
    return parts


def _failed_points(s: Mapping[str, Any]) -> RenderableType:
    """Which points are not equilibria: their parameter values, concept and reason."""
    from emgame.analysis.sweep import format_value

    failed = s.get("failed_points") or []
    title = (f"Points that are not equilibria (the first {len(failed)} of "
             f"{s.get('failed_total', len(failed))})" if s.get("failed_total", 0) > len(failed)
             else "Points that are not equilibria")
    table = _table(title)
    paths = [p["path"] for p in s["parameters"]]
    table.add_column("#", justify="right")
    for path in paths:
        table.add_column(Text(path), justify="right", overflow="fold")
    table.add_column("concept")
    table.add_column("reason", overflow="fold")
    for r in failed:
        table.add_row(str(r["idx"]), *[format_value(r["params"].get(x)) for x in paths],
                      r["concept"], Text(r["reason"]))
    return table
