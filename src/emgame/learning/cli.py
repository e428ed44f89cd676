"""``emgame learn FILE --sessions N --store S [--scheduler tcp://…]``: learning sessions.

Registered on emgame's command line by one line in :mod:`emgame.cli`; everything else about the
command lives here. Exit codes: 0 when every session is stored, 1 when the sessions could not
run (the environment cannot be built, no scheduler...), 2 on bad input, 130 when interrupted
(run the same command again to resume).
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table


def _fail(message: str, code: int) -> None:
    for line in [x.strip() for x in str(message).splitlines() if x.strip()] or ["error"]:
        typer.echo(f"emgame: error: {line}", err=True)
    raise typer.Exit(code)


def _duration(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    return f"{m} min {sec:02d} s"


class _Progress:
    """A rich bar on a terminal, a plain line at most every second otherwise."""

    def __init__(self, name: str, quiet: bool) -> None:
        self.name = name
        self.quiet = quiet
        self.console = Console(stderr=True, highlight=False)
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}
        self.last = -math.inf

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, p: Any) -> None:
        if self.quiet:
            return
        what = ("tabulating the stage game (rounds solved)" if p.phase == "table"
                else "sessions")
        if self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            if self.bar is None:
                self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                    MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                                    TimeRemainingColumn(), console=self.console)
                self.bar.start()
            if what not in self.tasks:
                self.tasks[what] = self.bar.add_task(f"{self.name}: {what}", total=p.todo)
            self.bar.update(self.tasks[what], completed=p.done)
            return
        now = time.monotonic()
        if p.done not in (0, p.todo) and now - self.last < 1.0:
            return
        self.last = now
        typer.echo(f"emgame: {self.name}: {what} {p.done}/{p.todo}, "
                   f"{_duration(p.elapsed)} elapsed", err=True)


def _print_summary(s: dict[str, Any]) -> None:
    console = Console(highlight=False)
    t = Table(title=f"{s['name']} ({s['algorithm']}, {s['sessions']} sessions)",
              title_justify="left")
    t.add_column("quantity", justify="left")
    t.add_column("value", justify="right")

    def f(x: Any, d: int = 4) -> str:
        return "—" if x is None else (f"{x:.{d}g}" if isinstance(x, float) else str(x))

    d = s["delta"]
    t.add_row("profit gain Δ, mean (sd)", f"{f(d['mean'])} ({f(d['sd'])})")
    t.add_row("converged share", f(s["converged_share"]))
    t.add_row("rounds, mean", f(s["rounds"]["mean"], 7))
    t.add_row("seconds per session, mean", f(s["seconds"]["mean"]))
    if s.get("learned_action", {}).get("n") and s.get("action_label"):
        t.add_row(f"learned {s['action_label']}, mean", f(s["learned_action"]["mean"]))
        for k, v in (s.get("benchmark_share") or {}).items():
            t.add_row(f"  {k} share", f(v))
    t.add_row("learned price index, mean", f(s["price_index"]["mean"]))
    for k, v in s["benchmark_price_index"].items():
        st, why = s["benchmark_status"][k]
        t.add_row(f"  {k} price index", f(v) + ("" if st == "ok" else f" ({st})"))
    t.add_row("electricity burnt per round (learned play)", f(s["burnt"]["mean"]))
    t.add_row("certificate: regret at final play, mean", f(s["regret_final"]["mean"]))
    t.add_row("certificate: regret at averaged play, mean", f(s["regret_average"]["mean"]))
    if s["external_regret"]["n"]:
        t.add_row("external regret (largest learner), mean", f(s["external_regret"]["mean"]))
    if s["impulse"]:
        t.add_row("impulse: rivals punish a deviation", f(s["impulse"]["punished_share"]))
    console.print(t)
    for k, (st, why) in s["benchmark_status"].items():
        if st != "ok" and why:
            console.print(f"note: {k} benchmark: {why}", soft_wrap=True)


def learn(
    file: Annotated[Path, typer.Argument(
        help="Learning file: an economy file (TOML) with a learning table.", metavar="FILE",
        show_default=False)],
    store: Annotated[Path, typer.Option(
        "--store", "-s", help="DuckDB file for the sessions (created if missing); run the same "
                              "command again to resume.", show_default=False)],
    sessions: Annotated[int, typer.Option("--sessions", "-n", min=1,
                                          help="Sessions per run (seeds 0..N-1).")] = 100,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Address of a running Dask scheduler (tcp://HOST:PORT); default: "
                            "a local cluster, one worker process per core.",
        show_default=False)] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1,
                                                help="Worker processes of the local cluster.",
                                                show_default=False)] = None,
    serial: Annotated[bool, typer.Option("--serial", help="Run in this process, without "
                                                          "Dask.")] = False,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Also write a self-contained HTML report of the store's learning "
                         "runs.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summaries as JSON.")]
    = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress; errors only.")]
    = False,
) -> None:
    """Let learning agents play the repeated market game (or Calvano's logit Bertrand game).

    Every round is one play of the stage game; sessions are stored in STORE, one row each.
    Exit 0 when every session is stored, 1 when they could not run, 2 on bad input.
    """
    from emgame.learning._emgame import EconomyError, EconomyFileError
    from emgame.learning.config import LearningFileError, load_learning
    from emgame.learning.market import LearningError
    from emgame.learning.runner import LearningRunError, run_sessions
    from emgame.learning.store import LearningStore, LearningStoreError
    from emgame.learning.summary import summarise

    if serial and scheduler:
        _fail("--serial and --scheduler exclude each other", 2)
    try:
        spec = load_learning(file)
    except LearningFileError as exc:
        _fail(str(exc), 2)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    summaries = []
    try:
        st = LearningStore(store)
    except LearningStoreError as exc:
        _fail(str(exc), 2)
    with st:
        for point in spec.points():
            try:
                with _Progress(point.name, quiet or as_json) as progress:
                    rep = run_sessions(point, st, sessions, scheduler=scheduler, workers=workers,
                                       serial=serial, on_progress=progress)
            except (EconomyFileError, EconomyError, LearningFileError) as exc:
                _fail(str(exc), 2)
            except (LearningError, LearningRunError) as exc:
                _fail(str(exc), 1)
            except KeyboardInterrupt:
                typer.echo(f"emgame: interrupted; {len(st.stored(point.run_id))} sessions of "
                           f"{point.name} are stored in {store}; run the same command again "
                           "to resume", err=True)
                raise typer.Exit(130) from None
            run = next(r for r in st.runs() if r["run_id"] == point.run_id)
            s = summarise(run, st.sessions(point.run_id)[:sessions])
            summaries.append(s)
            if not quiet and not as_json:
                typer.echo(f"{point.name}: {rep.done} sessions run now, {rep.already} already "
                           f"stored, in {_duration(rep.seconds)} on {rep.executor} (stage game: "
                           f"{_duration(rep.table_seconds)})", err=True)
                _print_summary(s)
        if report is not None:
            from emgame.learning.report import learning_page

            page = learning_page(st)
            try:
                report.parent.mkdir(parents=True, exist_ok=True)
                report.write_text(page, encoding="utf-8")
            except OSError as exc:
                _fail(f"{report}: cannot write: {exc}", 2)
            if not quiet and not as_json:
                typer.echo(f"wrote {report} ({len(page.encode()) // 1024} KiB)", err=True)
    if as_json:
        typer.echo(json.dumps(summaries, indent=1, default=str))
