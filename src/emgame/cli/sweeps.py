"""``emgame sweep`` and ``emgame results``: many economies, and the store that keeps them."""

from __future__ import annotations

import enum
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from emgame.cli import common
from emgame.cli.common import EXIT_INTERRUPTED, Concept, fail
from emgame.model import EconomyError, EconomyFileError

SWEEP_ARGUMENT = typer.Argument(
    help="Sweep file (TOML), or the name of a bundled study (see emgame examples).",
    metavar="SWEEP", show_default=False)


class Table(enum.StrEnum):
    points = "points"
    types = "types"


def _sweep_path(file: Path) -> Path:
    """The sweep file: as given, or a bundled study by name (``replication``)."""
    if file.exists() or "/" in str(file).replace("studies/", "", 1) or "\\" in str(file):
        return file
    from emgame.cli.economy import find_study

    found = find_study(str(file))
    return found if found is not None else file


def _load_sweep(path: Path, concept: Concept | None, search_all: bool | None = None) -> Any:
    from emgame.analysis.sweep import SweepFileError, load_sweep

    try:
        with common.extras_needed():
            return load_sweep(path, concept=None if concept is None else concept.value,
                              search_all=search_all)
    except (SweepFileError, EconomyFileError, EconomyError) as exc:
        fail(common.mention(path, str(exc)))


def open_store(path: Path, *, read_only: bool, hold: bool = True) -> Any:
    with common.extras_needed():
        from emgame.store import StoreError
        from emgame.store import open_store as _open

    try:
        return _open(path, read_only=read_only, hold=hold)
    except StoreError as exc:
        fail(str(exc))


class _SweepProgress:
    """Progress of a sweep on standard error: a rich bar with an ETA on a terminal, one plain
    line at most every second otherwise (logs, CI, pipes)."""

    def __init__(self, name: str, *, quiet: bool) -> None:
        self.name = name
        self.quiet = quiet
        self.console = common.stderr()
        self.bar: Any = None
        self.task: Any = None
        self.last = -math.inf

    def __enter__(self) -> _SweepProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, p: Any) -> None:
        if self.quiet:
            return
        if self.console.is_terminal:
            self._bar(p)
        else:
            self._line(p)

    def _bar(self, p: Any) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        if self.bar is None:
            self.bar = Progress(
                SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                MofNCompleteColumn(), TextColumn("{task.fields[failed]} not equilibria"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=self.console, transient=False)
            self.bar.start()
            self.task = self.bar.add_task(f"sweep {self.name}", total=p.todo, failed=0)
        self.bar.update(self.task, completed=p.solved, failed=p.failed)

    def _line(self, p: Any) -> None:
        now = time.monotonic()
        if p.solved not in (0, p.todo) and now - self.last < 1.0:
            return
        self.last = now
        eta = (p.elapsed / p.solved * (p.todo - p.solved)) if p.solved else None
        typer.echo(f"emgame: sweep {self.name}: {p.stored}/{p.total} stored ({p.solved}/"
                   f"{p.todo} solved now, {p.failed} not equilibria), "
                   f"{common.duration(p.elapsed)} elapsed, ETA "
                   f"{common.duration(eta) if p.solved < p.todo else '0 s'}", err=True)


def sweep(
    file: Annotated[Path, SWEEP_ARGUMENT],
    store: Annotated[Path, typer.Option(
        "--store", "-s", help="Results store: a DuckDB file, created if missing. Run the same "
                              "command again to resume an interrupted sweep.",
        show_default=False)],
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Address of a running Dask scheduler (tcp://HOST:PORT); default: "
                            "a local cluster, one worker process per core.",
        show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", min=1, help="Worker processes of the local cluster "
                                       "(default: one per core).", show_default=False)] = None,
    serial: Annotated[bool, typer.Option(
        "--serial", help="Solve in this process, one point after the other, without Dask.")]
    = False,
    chunk_size: Annotated[int | None, typer.Option(
        "--chunk-size", min=1, help="Points per task (neighbours warm-start one another "
                                    "within a task).", show_default=False)] = None,
    concept: Annotated[Concept | None, typer.Option(
        "--concept", "-c", case_sensitive=False, help="Override the sweep file's concept.",
        show_default=False)] = None,
    search_all: Annotated[bool | None, typer.Option(
        "--all/--no-all", help="Search every equilibrium at each point (many starts; the store "
                               "counts them) or not; overrides the sweep file's 'all'.",
        show_default=False)] = None,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Solve again the points stored as not equilibria.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List the points and what is left to solve; solve nothing, create "
                          "nothing.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress; errors only.")]
    = False,
) -> None:
    """Solve every point of a sweep and store the results (only the points not stored yet).

    SWEEP is a sweep file or a bundled study's name (emgame examples lists them). Exit 0 when
    every point is stored (also those that are not equilibria: their reason is stored), 1 when
    the sweep could not run, 2 on bad input, 130 when interrupted.
    """
    if serial and scheduler:
        fail("--serial and --scheduler exclude each other")
    sw = _load_sweep(_sweep_path(file), concept, search_all)
    if dry_run:
        _dry_run(sw, store)
        return
    common.log_to_stderr()
    with common.extras_needed():
        from emgame.analysis.runner import SweepRunError, run_sweep
    # The store is opened for each batch of results and closed in between, so that
    # `emgame results` / `plot` / `report` can read it while the sweep runs.
    with open_store(store, read_only=False, hold=False) as st:
        if retry_failed:
            n = st.forget_failed(sw)
            if not quiet:
                what = ("row that is not an equilibrium" if n == 1
                        else "rows that are not equilibria")
                typer.echo(f"emgame: {n} stored {what} will be solved again", err=True)
        try:
            with _SweepProgress(sw.name, quiet=quiet) as progress:
                rep = run_sweep(sw, st, scheduler=scheduler, workers=workers, serial=serial,
                                chunk_size=chunk_size, on_progress=progress)
        except SweepRunError as exc:
            fail(str(exc), 1)
        except KeyboardInterrupt:
            stored = len(st.stored(sw))
            typer.echo(f"emgame: sweep interrupted; {stored} of "
                       f"{len(sw.points) * len(sw.concepts)} rows are stored in {store}; run "
                       "the same command again to resume", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
    if not quiet:
        rows = f"{rep.total} rows ({len(sw.points)} points × {', '.join(sw.concepts)})"
        if rep.solved == 0:
            typer.echo(f"sweep {sw.name}: all {rows} were already in {store}; nothing to solve")
        else:
            typer.echo(
                f"sweep {sw.name}: all {rows} stored in {store}: {rep.already} already there, "
                f"{rep.solved} solved now ({rep.failed} not equilibria, {rep.errors} solver "
                f"errors) in {common.duration(rep.seconds)} on {rep.executor}"
                + (f" after {common.duration(rep.startup)} start-up" if rep.startup else ""))
        if sw.search is not None:
            typer.echo(_searched(sw, store))
        if rep.failed:
            typer.echo(f"see the reasons with: emgame results {store}")


def _searched(sw: Any, store: Path) -> str:
    """One line on the every-equilibrium search: rows with 0, 1, 2, ... equilibria."""
    with open_store(store, read_only=True) as st:
        rows = st.query(
            "SELECT p.equilibria_found AS k, count(*) AS n FROM points p JOIN sweep_points s "
            "ON p.point_id = s.point_id WHERE s.sweep_id = ? GROUP BY ALL ORDER BY k",
            [sw.sweep_id])
    parts = [f"{r['n']} row{'s' if r['n'] != 1 else ''} with "
             + ("none" if r["k"] == 0 else f"{r['k']} equilibri{'a' if r['k'] != 1 else 'um'}")
             for r in rows if r["k"] is not None]
    return (f"every equilibrium searched ({sw.search.starts} starts per point and concept): "
            + (", ".join(parts) or "no row stored"))


def _dry_run(sw: Any, store: Path) -> None:
    """What a run would solve; reads the store if it exists, creates nothing."""
    from rich.table import Table as RichTable

    from emgame.analysis.sweep import format_value

    if store.exists():
        with open_store(store, read_only=True) as st:
            done = st.stored(sw)
    else:
        done = set()
    pending = {pt.point_id: tuple(c for c in sw.concepts if (pt.point_id, c) not in done)
               for pt in sw.points}
    pending = {k: v for k, v in pending.items() if v}
    console = common.stdout()
    left = sum(len(c) for c in pending.values())
    total = len(sw.points) * len(sw.concepts)
    typer.echo(f"sweep {sw.name} ({sw.sweep_id[:12]}): {len(sw.points)} points × "
               f"{', '.join(sw.concepts)} = {total} rows; {total - left} stored, "
               f"{left} to solve" + ("" if store.exists() else f" ({store} does not exist yet)")
               + ("" if sw.search is None else
                  f"; every equilibrium searched at each point ({sw.search.starts} starts, "
                  f"{sw.search.seconds:g} s at most)"))
    table = RichTable(box=None, show_edge=False, padding=(0, 2, 0, 0))
    for col in ("#", *sw.paths, "to solve", "point id"):
        table.add_column(col, no_wrap=col != "to solve")
    for pt in sw.points[:40]:
        table.add_row(str(pt.index), *[format_value(v) for _, v in pt.params],
                      ", ".join(pending.get(pt.point_id, ())) or "—", pt.point_id[:12])
    console.print(table)
    if len(sw.points) > 40:
        console.print(Text(f"… and {len(sw.points) - 40} more points"))


def results(
    store: Annotated[Path, typer.Argument(help="Results store (DuckDB file).", metavar="STORE",
                                          show_default=False)],
    sweep: Annotated[str | None, typer.Option(
        "--sweep", help="Only this sweep (name or id prefix).", show_default=False)] = None,
    csv: Annotated[Path | None, typer.Option(
        "--csv", help="Export the table to this CSV file: one column per period, names usable "
                      "in R and Stata, in the sweep's order.", show_default=False)] = None,
    parquet: Annotated[Path | None, typer.Option(
        "--parquet", help="Export the table to this Parquet file.", show_default=False)] = None,
    latex: Annotated[Path | None, typer.Option(
        "--latex", help="Write a table for papers (LaTeX, booktabs): one row per point and "
                        "concept, the parameters and the main results.", show_default=False)]
    = None,
    table: Annotated[Table, typer.Option(
        "--table", help="What to export: one row per point and concept, or per agent type.")]
    = Table.points,
    full: Annotated[bool, typer.Option(
        "--full", help="Export the solution, economy and parameter JSON columns too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Summarise a results store (sweeps, statuses, timings, failures) and export it.

    The store can be read while a sweep is writing to it.
    """
    with common.extras_needed():
        from emgame.store import StoreError

    if not store.exists():
        fail(f"{store}: no such store")
    written: list[tuple[Path, int]] = []
    renamed: dict[str, str] = {}
    with open_store(store, read_only=True) as st:
        try:
            summary = st.summary()
            if sweep is not None:
                sid = st.sweep(sweep)["sweep_id"]
                summary["sweeps"] = [s for s in summary["sweeps"] if s["sweep_id"] == sid]
            for target, fmt in ((csv, "csv"), (parquet, "parquet")):
                if target is not None:
                    n, names = st.export(target, table=table.value, sweep=sweep, fmt=fmt,
                                         full=full, with_names=True)
                    written.append((target, n))
                    if fmt == "csv":
                        renamed = names
            if latex is not None:
                with common.extras_needed():
                    n = st.export_latex(latex, sweep=sweep)
                written.append((latex, n))
        except StoreError as exc:
            fail(str(exc))
    if as_json:
        typer.echo(common.dumps(summary))
    else:
        from emgame.report.summary import store_tables
        from emgame.report.tables import render

        console = common.stdout()
        console.print(render(store_tables(summary)))
    for target, n in written:
        typer.echo(f"wrote {n} rows to {target}", err=as_json)
    changed = {k: v for k, v in renamed.items() if k != v}
    if changed:
        typer.echo("CSV column names made safe for R and Stata: "
                   + ", ".join(f"{k} → {v}" for k, v in list(changed.items())[:12])
                   + (f", … ({len(changed)} in all)" if len(changed) > 12 else ""),
                   err=as_json)
