"""The ``emgame`` command: parse arguments, call the library, render, map status to exit code.

Commands
--------
``emgame solve FILE [--concept nash|competitive|both] [--json] [--out PATH] [--quiet]``
    Solve an economy file and print tables (or, with ``--json``, the JSON contract of MODEL.md
    section 9 on standard output).
``emgame check FILE``
    Validate an economy file and summarise it.
``emgame examples [NAME] [--out PATH] [--force]``
    List the bundled example economies, or write one out.
``emgame sweep SWEEP.toml --store STORE [--scheduler tcp://HOST:PORT] [--workers N] [--serial]``
    Solve every point of a sweep (resuming: only the points not yet in the store).
``emgame results STORE [--sweep NAME] [--csv PATH] [--parquet PATH] [--table points|types]``
    Summarise a results store; export it.
``emgame plot SOURCE -o FIG.png [--kind prices|allocations|sweep|replication] ...``
    Figures from a store, a solution JSON or an economy file.
``emgame report SOURCE -o report.html``
    A self-contained HTML report of a store, a solution JSON or an economy file.

Exit codes
----------
0
    Success (``solve``: an equilibrium was found; with ``--concept both``, both were).
1
    ``solve`` found no equilibrium, or the economy is infeasible (the reason goes to standard
    error, and into the JSON); ``examples`` refused to overwrite a file.
2
    Bad input: a missing or unreadable file, TOML syntax, an economy that breaks the model's
    rules, an unknown example, or a bad option. One line on standard error, no traceback.

``sweep`` exits 0 once every point is stored (points that are not equilibria are stored with
their reason: they are results too), 1 when the sweep could not run (no scheduler at the
address...), 2 on bad input, 130 when interrupted (run the same command again to resume).

Nothing here computes anything about the economy: that is :mod:`emgame` and
:mod:`emgame.report`.
"""

from __future__ import annotations

import contextlib
import enum
import importlib.resources
import json
import logging
import math
import sys
import time
import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

import emgame
from emgame.model import EconomyError, EconomyFileError, load_economy
from emgame.report.compare import both_to_dict, solution_to_dict
from emgame.report.tables import comparison_tables, economy_tables, render, solution_tables
from emgame.results import Status

app = typer.Typer(
    name="emgame",
    help="Nash and competitive equilibria of the electricity market game with AI agents "
         "paying in bytecoins.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# Status.exit_code gives 0 (equilibrium) or 1 (none found, infeasible) for `solve`.
EXIT_REFUSED, EXIT_BAD_INPUT = 1, 2


FILE_ARGUMENT = typer.Argument(help="Economy file (TOML).", metavar="FILE", show_default=False)


class Concept(enum.StrEnum):
    nash = "nash"
    competitive = "competitive"
    both = "both"


# --------------------------------------------------------------------------------------------
# Helpers.
# --------------------------------------------------------------------------------------------


def _stdout() -> Console:
    # Created per call so that rich writes to whatever sys.stdout is then (tests swap it).
    return Console(highlight=False)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _lines(message: str) -> list[str]:
    return [line.strip() for line in str(message).splitlines() if line.strip()]


def _one_line(message: str) -> str:
    return "; ".join(_lines(message))


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``emgame: error: ...`` on standard error, one line per problem, then exit.

    Plain text, no rich markup: messages contain key paths such as ``consumers[0]``.
    """
    for line in _lines(message) or ["unknown error"]:
        typer.echo(f"emgame: error: {line}", err=True)
    raise typer.Exit(code)


def _mention(path: Path, message: str) -> str:
    """``message`` with every line naming ``path`` (the loader's lines name it already)."""
    return "\n".join(line if (str(path) in line or path.name in line) else f"{path}: {line}"
                     for line in _lines(message))


def _load(path: Path) -> emgame.Economy:
    """Load an economy file; any problem with the input exits 2 with one line naming it."""
    if not path.exists():
        _fail(f"{path}: no such file")
    if path.is_dir():
        _fail(f"{path}: is a directory, not an economy file")
    try:
        return load_economy(path)
    except (EconomyFileError, EconomyError) as exc:
        _fail(_mention(path, str(exc)))
    except tomllib.TOMLDecodeError as exc:
        _fail(f"{path}: TOML syntax error: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{path}: cannot read: {exc}")


def _write_text(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        _fail(f"{path}: cannot write: {exc}")


def _dumps(payload: dict[str, Any]) -> str:
    """Strict JSON (no NaN or Infinity, which JSON lacks): ``to_dict`` already maps them to
    ``null``; anything it missed is mapped the same way rather than written as invalid JSON."""
    return json.dumps(_finite(payload), indent=2, allow_nan=False, ensure_ascii=False,
                      default=_json_default)


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def _json_default(x: Any) -> Any:
    # numpy scalars and arrays that slipped into diagnostics
    if hasattr(x, "tolist"):
        return _finite(x.tolist())
    return str(x)


def _examples_dir() -> Traversable:
    """The bundled examples (package data), from a source tree or an installed wheel."""
    return importlib.resources.files("emgame") / "examples"


def _examples() -> dict[str, Traversable]:
    folder = _examples_dir()
    if not folder.is_dir():
        return {}
    files = [f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()]
    return {f.name.removesuffix(".toml"): f for f in sorted(files, key=lambda f: f.name)}


def _describe(text: str) -> str:
    """The first line of a file's leading comment header, without the ``#``."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        body = stripped.lstrip("#").strip()
        if body:
            return body
    return ""


# --------------------------------------------------------------------------------------------
# Commands.
# --------------------------------------------------------------------------------------------


@app.command()
def solve(
    file: Annotated[Path, FILE_ARGUMENT],
    concept: Annotated[Concept, typer.Option(
        "--concept", "-c", case_sensitive=False,
        help="Solution concept: the game's Nash equilibrium, the competitive benchmark, or "
             "both side by side.")] = Concept.nash,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the JSON result on standard output instead of tables.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Also write the JSON result to this file (parents created).",
        show_default=False)] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No tables, no progress, no notes; errors only.")] = False,
) -> None:
    """Solve an economy: find its Nash equilibrium, competitive equilibrium, or both.

    Exit 0 when an equilibrium was found (for both: both were), 1 when none was found or the
    economy is infeasible, 2 on bad input.
    """
    economy = _load(file)
    err = _stderr()
    what = "both equilibria" if concept is Concept.both else f"the {concept.value} equilibrium"
    spinner = (contextlib.nullcontext() if quiet
               else err.status(Text(f"Solving {what} of {economy.name} …"), spinner="dots"))
    with spinner:
        try:
            if concept is Concept.both:
                nash, competitive = emgame.solve_both(economy)
                solutions = [nash, competitive]
            else:
                solutions = [emgame.solve(economy, concept.value)]
        except EconomyError as exc:
            # The solver refused the economy as a whole (e.g. a combination the model excludes).
            _fail(_mention(file, str(exc)))
    text = None
    if as_json or out is not None:
        text = _dumps(both_to_dict(*solutions) if concept is Concept.both
                      else solution_to_dict(solutions[0]))
    if as_json:
        typer.echo(text)
    elif not quiet:
        console = _stdout()
        parts = (comparison_tables(*solutions, width=console.width) if concept is Concept.both
                 else solution_tables(solutions[0], width=console.width))
        console.print(render(parts))
    if out is not None and text is not None:
        _write_text(out, text)
        if not quiet:
            # Keep standard output pure JSON under --json; plain echo so the path never wraps.
            typer.echo(f"JSON written to {out}", err=as_json)

    for s in solutions:
        if s.status is not Status.EQUILIBRIUM:
            typer.echo(f"emgame: {s.concept}: {s.status.value}: "
                       f"{_one_line(s.reason or s.status.message)}", err=True)
    raise typer.Exit(max(s.status.exit_code for s in solutions))


@app.command()
def check(
    file: Annotated[Path, FILE_ARGUMENT],
) -> None:
    """Validate an economy file and summarise it. Exit 0 if valid, 2 if not."""
    economy = _load(file)
    console = _stdout()
    console.print(render(economy_tables(economy)))
    typer.secho(f"{file}: valid", fg="green")


@app.command()
def examples(
    name: Annotated[str | None, typer.Argument(
        help="Example to write out; omit to list them.", metavar="NAME",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Where to write it: a file or a folder (default: ./NAME.toml).",
        show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing file.")]
    = False,
) -> None:
    """List the bundled example economies, or write one to a file."""
    found = _examples()
    if name is None:
        from rich.table import Table

        table = Table(title="Bundled examples", title_justify="left", show_edge=False,
                      box=None, padding=(0, 2, 0, 0))
        table.add_column("name", style="bold", no_wrap=True)
        table.add_column("description")
        for key, f in found.items():
            table.add_row(Text(key), Text(_describe(f.read_text(encoding="utf-8"))))
        console = _stdout()
        console.print(table)
        typer.echo("Write one out with: emgame examples NAME [--out PATH]")
        return
    key = name.removesuffix(".toml")
    if key not in found:
        _fail(f"no bundled example named {name!r}; the examples are: "
              f"{', '.join(found) or '(none)'}")
    target = out if out is not None else Path(f"{key}.toml")
    if target.is_dir():
        target = target / f"{key}.toml"
    if target.exists() and not force:
        _fail(f"{target}: exists; not overwritten (use --force)", EXIT_REFUSED)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(found[key].read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        _fail(f"{target}: cannot write: {exc}")
    typer.echo(f"Wrote {target}; solve it with: emgame solve {target}")


# --------------------------------------------------------------------------------------------
# Sweeps, results, figures and reports.
# --------------------------------------------------------------------------------------------

SWEEP_ARGUMENT = typer.Argument(help="Sweep file (TOML).", metavar="SWEEP", show_default=False)
SOURCE_ARGUMENT = typer.Argument(
    help="A results store (DuckDB), a solution JSON (emgame solve --json) or an economy file.",
    metavar="SOURCE", show_default=False)
EXIT_INTERRUPTED = 130


class PlotKind(enum.StrEnum):
    prices = "prices"
    allocations = "allocations"
    sweep = "sweep"
    replication = "replication"


class Table(enum.StrEnum):
    points = "points"
    types = "types"


def _load_sweep(path: Path, concept: Concept | None) -> Any:
    from emgame.analysis.sweep import SweepFileError, load_sweep

    try:
        return load_sweep(path, concept=None if concept is None else concept.value)
    except (SweepFileError, EconomyFileError, EconomyError) as exc:
        _fail(_mention(path, str(exc)))


def _open_store(path: Path, *, read_only: bool) -> Any:
    from emgame.store import StoreError, open_store

    try:
        return open_store(path, read_only=read_only)
    except StoreError as exc:
        _fail(str(exc))


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _log_to_stderr() -> None:
    """Warnings of emgame, and errors of the libraries under it (Dask is chatty), on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("emgame: %(levelname)s: %(message)s"))
    handler.addFilter(lambda r: r.levelno >= (logging.WARNING if r.name.startswith("emgame")
                                              else logging.ERROR))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)


class _SweepProgress:
    """Progress of a sweep on standard error: a rich bar with an ETA on a terminal, one plain
    line at most every second otherwise (logs, CI, pipes)."""

    def __init__(self, name: str, *, quiet: bool) -> None:
        self.name = name
        self.quiet = quiet
        self.console = _stderr()
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
                   f"{p.todo} solved now, {p.failed} not equilibria), {_duration(p.elapsed)} "
                   f"elapsed, ETA {_duration(eta) if p.solved < p.todo else '0 s'}", err=True)


@app.command()
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
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Solve again the points stored as not equilibria.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List the points and what is left to solve; solve nothing.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress; errors only.")]
    = False,
) -> None:
    """Solve every point of a sweep and store the results (only the points not stored yet).

    Exit 0 when every point is stored (also those that are not equilibria: their reason is
    stored), 1 when the sweep could not run, 2 on bad input, 130 when interrupted.
    """
    from emgame.analysis.runner import SweepRunError, run_sweep

    if serial and scheduler:
        _fail("--serial and --scheduler exclude each other")
    sw = _load_sweep(file, concept)
    _log_to_stderr()
    with _open_store(store, read_only=False) as st:
        if dry_run:
            pending = st.pending(sw)
            _print_dry_run(sw, pending)
            return
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
            _fail(str(exc), 1)
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
                f"errors) in {_duration(rep.seconds)} on {rep.executor}"
                + (f" after {_duration(rep.startup)} start-up" if rep.startup else ""))
        if rep.failed:
            typer.echo(f"see the reasons with: emgame results {store}")


def _print_dry_run(sw: Any, pending: dict[str, tuple[str, ...]]) -> None:
    from rich.table import Table as RichTable

    console = _stdout()
    left = sum(len(c) for c in pending.values())
    total = len(sw.points) * len(sw.concepts)
    typer.echo(f"sweep {sw.name} ({sw.sweep_id[:12]}): {len(sw.points)} points × "
               f"{', '.join(sw.concepts)} = {total} rows; {total - left} stored, "
               f"{left} to solve")
    table = RichTable(box=None, show_edge=False, padding=(0, 2, 0, 0))
    for col in ("#", *sw.paths, "to solve", "point id"):
        table.add_column(col)
    for pt in sw.points[:40]:
        table.add_row(str(pt.index), *[f"{v:.6g}" if isinstance(v, float) else str(v)
                                       for _, v in pt.params],
                      ", ".join(pending.get(pt.point_id, ())) or "—", pt.point_id[:12])
    console.print(table)
    if len(sw.points) > 40:
        console.print(Text(f"… and {len(sw.points) - 40} more points"))


@app.command()
def results(
    store: Annotated[Path, typer.Argument(help="Results store (DuckDB file).", metavar="STORE",
                                          show_default=False)],
    sweep: Annotated[str | None, typer.Option(
        "--sweep", help="Only this sweep (name or id prefix).", show_default=False)] = None,
    csv: Annotated[Path | None, typer.Option(
        "--csv", help="Export the table to this CSV file.", show_default=False)] = None,
    parquet: Annotated[Path | None, typer.Option(
        "--parquet", help="Export the table to this Parquet file.", show_default=False)] = None,
    table: Annotated[Table, typer.Option(
        "--table", help="What to export: one row per point and concept, or per agent type.")]
    = Table.points,
    full: Annotated[bool, typer.Option(
        "--full", help="Export the solution, economy and parameter JSON columns too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Summarise a results store (sweeps, statuses, timings, failures) and export it."""
    from emgame.store import StoreError

    if not store.exists():
        _fail(f"{store}: no such store")
    with _open_store(store, read_only=True) as st:
        try:
            summary = st.summary()
            if sweep is not None:
                sid = st.sweep(sweep)["sweep_id"]
                summary["sweeps"] = [s for s in summary["sweeps"] if s["sweep_id"] == sid]
            written = []
            for target, fmt in ((csv, "csv"), (parquet, "parquet")):
                if target is not None:
                    n = st.export(target, table=table.value, sweep=sweep, fmt=fmt, full=full)
                    written.append((target, n))
        except StoreError as exc:
            _fail(str(exc))
    if as_json:
        typer.echo(_dumps(summary))
    else:
        from emgame.report.summary import store_tables

        console = _stdout()
        console.print(render(store_tables(summary)))
    for target, n in written:
        typer.echo(f"wrote {n} rows to {target}", err=as_json)


def _solutions_source(source: Path) -> Any:
    from emgame.report.data import SourceError, load_solutions

    if source.suffix.lower() == ".toml":
        try:
            with open(source, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            _fail(f"{source}: cannot read: {exc}")
        if "parameters" in data and "economy" in data:
            _fail(f"{source}: is a sweep file; run `emgame sweep {source} --store STORE` and "
                  "give the store")
    try:
        return load_solutions(source)
    except (SourceError, EconomyFileError, EconomyError) as exc:
        _fail(_mention(source, str(exc)))


@app.command()
def plot(
    source: Annotated[Path, SOURCE_ARGUMENT],
    out: Annotated[list[Path], typer.Option(
        "--out", "-o", help="Figure file, .png or .svg (repeat for both).",
        show_default=False)],
    kind: Annotated[PlotKind | None, typer.Option(
        "--kind", "-k", case_sensitive=False,
        help="prices: relative prices by period, Nash beside competitive; allocations: "
             "consumption and verification energy by type; sweep: a result against a swept "
             "parameter; replication: gap to the competitive equilibrium against n, log-log. "
             "Default: sweep for a store, prices otherwise.", show_default=False)] = None,
    sweep: Annotated[str | None, typer.Option(
        "--sweep", help="The sweep (name or id prefix) when the store holds several.",
        show_default=False)] = None,
    point: Annotated[str | None, typer.Option(
        "--point", help="A point of the store (id prefix) for prices/allocations; default the "
                        "sweep's first.", show_default=False)] = None,
    x: Annotated[str | None, typer.Option(
        "--x", help="The swept parameter on the x axis (its path; default the first).",
        show_default=False)] = None,
    y: Annotated[list[str] | None, typer.Option(
        "--y", help="A column of the store or a SQL expression over its columns, e.g. "
                    "verification_share, participation, relative_prices[13] (1-based); "
                    "repeat for one panel each. Default: mean_relative_price.",
        show_default=False)] = None,
    type_name: Annotated[str | None, typer.Option(
        "--type", help="Read --y from this agent type's rows (e.g. --y capacity).",
        show_default=False)] = None,
    concept: Annotated[Concept, typer.Option(
        "--concept", "-c", case_sensitive=False, help="Which concepts to draw.")]
    = Concept.both,
    hue: Annotated[str | None, typer.Option(
        "--hue", help="A second swept parameter: one line per value.", show_default=False)]
    = None,
    logx: Annotated[bool | None, typer.Option(
        "--logx/--linx", help="Logarithmic x axis (default: for replication factors).",
        show_default=False)] = None,
    logy: Annotated[bool, typer.Option("--logy", help="Logarithmic y axis.")] = False,
    reference: Annotated[str | None, typer.Option(
        "--reference", help="A reference curve in x, e.g. '(1/2)*(x/(x-1))**2'.",
        show_default=False)] = None,
    reference_label: Annotated[str, typer.Option(
        "--reference-label", help="Legend of the reference curve.")] = "reference",
    title: Annotated[str | None, typer.Option("--title", help="Figure title.",
                                              show_default=False)] = None,
    xlabel: Annotated[str | None, typer.Option("--xlabel", help="x axis label (with units).",
                                               show_default=False)] = None,
    ylabel: Annotated[str | None, typer.Option("--ylabel", help="y axis label (with units).",
                                               show_default=False)] = None,
) -> None:
    """Draw a figure from a results store, a solution JSON or an economy file."""
    from emgame.report import data as rdata
    from emgame.report import figures
    from emgame.store import StoreError

    if not source.exists():
        _fail(f"{source}: no such file")
    for target in out:
        if target.suffix.lower().lstrip(".") not in figures.FORMATS:
            _fail(f"{target}: figures are written as .png or .svg")
    store_source = rdata.is_store(source)
    kind = kind or (PlotKind.sweep if store_source else PlotKind.prices)
    concepts = ["nash", "competitive"] if concept is Concept.both else [concept.value]
    ref = None
    if reference is not None:
        try:
            ref = figures.reference_curve(reference)
        except ValueError as exc:
            _fail(f"--reference: {exc}")
    message = None
    try:
        if kind in (PlotKind.prices, PlotKind.allocations):
            if store_source:
                with _open_store(source, read_only=True) as st:
                    sols = rdata.solutions_from_store(st, sweep=sweep, point=point)
            else:
                sols = _solutions_source(source)
            chosen = {c: s for c, s in sols.solutions.items() if c in concepts}
            fig = (figures.prices_figure(chosen) if kind is PlotKind.prices
                   else figures.allocations_figure(chosen, sols.probabilities))
        else:
            if not store_source:
                _fail(f"{source}: --kind {kind.value} needs a results store")
            with _open_store(source, read_only=True) as st:
                if kind is PlotKind.sweep:
                    data = [rdata.sweep_series(st, sweep=sweep, x=x, y=expr,
                                               type_name=type_name, concepts=concepts, hue=hue)
                            for expr in (y or ["mean_relative_price"])]
                    d = data[0]
                    note = rdata.excluded_note(d.excluded)
                    if len(data) == 1:
                        fig = figures.sweep_figure(
                            d.series, xlabel=d.xlabel, ylabel=ylabel or d.ylabel,
                            title=title or d.title, logx=d.logx if logx is None else logx,
                            logy=logy, reference=ref, reference_label=reference_label,
                            note=note)
                    else:
                        if reference is not None:
                            _fail("--reference draws on one panel: give one --y")
                        fig = figures.sweep_panels(
                            [(e.series, e.ylabel) for e in data], xlabel=d.xlabel,
                            title=title or d.title, logx=d.logx if logx is None else logx,
                            logy=logy, note=note)
                else:
                    n, gap, xlabel = rdata.replication_data(st, sweep=sweep, x=x)
                    fig, fit = figures.replication_figure(n, gap, xlabel=xlabel)
                    message = (f"fitted gap ≈ {fit.a:.4g} · n^{fit.b:.4f} ({fit.points} points)"
                               if fit else "too few points to fit a rate")
        if title and kind is not PlotKind.sweep:
            fig.axes[0].set_title(title, fontsize=11)
        if xlabel:
            fig.axes[-1].set_xlabel(xlabel)
        if ylabel and len(fig.axes) == 1:
            fig.axes[0].set_ylabel(ylabel)
        for target in out:
            figures.save(fig, target)
    except (rdata.SourceError, StoreError, ValueError) as exc:
        _fail(str(exc))
    for target in out:
        typer.echo(f"wrote {target}")
    if message:
        typer.echo(message)


@app.command()
def report(
    source: Annotated[Path, SOURCE_ARGUMENT],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.",
                                      show_default=False)],
    sweep: Annotated[str | None, typer.Option(
        "--sweep", help="Only this sweep of the store (name or id prefix).",
        show_default=False)] = None,
    point: Annotated[str | None, typer.Option(
        "--point", help="Report one point of the store (id prefix) instead of the sweeps.",
        show_default=False)] = None,
) -> None:
    """Write a self-contained HTML report (figures embedded, no network) of a store, a
    solution JSON or an economy file."""
    from emgame.report import data as rdata
    from emgame.report import html
    from emgame.store import StoreError

    if not source.exists():
        _fail(f"{source}: no such file")
    try:
        if rdata.is_store(source):
            with _open_store(source, read_only=True) as st:
                page = (html.store_solution_report(st, sweep, point) if point
                        else html.store_report(st, sweep))
        else:
            page = html.solution_report(_solutions_source(source))
    except (rdata.SourceError, StoreError) as exc:
        _fail(str(exc))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        _fail(f"{out}: cannot write: {exc}")
    typer.echo(f"wrote {out} ({len(page.encode()) // 1024} KiB)")


app.command(name="learn")(importlib.import_module("emgame.learning.cli").learn)


def main() -> None:  # pragma: no cover - for ``python -m emgame.cli``
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
