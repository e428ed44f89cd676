"""``emgame plot`` and ``emgame report``: figures and HTML pages from a store or a solution."""

from __future__ import annotations

import enum
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from emgame.cli import common
from emgame.cli.common import SOURCE_ARGUMENT, Concept, fail
from emgame.cli.sweeps import open_store
from emgame.model import EconomyError, EconomyFileError


class PlotKind(enum.StrEnum):
    prices = "prices"
    allocations = "allocations"
    sweep = "sweep"
    replication = "replication"


def _solutions_source(source: Path) -> Any:
    from emgame.report.data import SourceError, load_solutions

    if source.suffix.lower() == ".toml":
        try:
            with open(source, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            fail(f"{source}: cannot read: {exc}")
        if "parameters" in data and "economy" in data:
            fail(f"{source}: is a sweep file; run `emgame sweep {source} --store STORE` and "
                 "give the store")
    try:
        with common.extras_needed():
            return load_solutions(source)
    except (SourceError, EconomyFileError, EconomyError) as exc:
        fail(common.mention(source, str(exc)))


def _store_error() -> type[Exception]:
    """The store's error class (a placeholder when the `sweep` extra is not installed: then no
    store can be read, and nothing raises it)."""
    try:
        from emgame.store import StoreError
    except ImportError:
        return type("StoreError", (RuntimeError,), {})
    return StoreError


def _at(values: list[str] | None) -> dict[str, float]:
    """``--at PATH=VALUE`` options as a mapping."""
    out: dict[str, float] = {}
    for item in values or []:
        path, sep, value = item.partition("=")
        if not sep or not path.strip():
            fail(f"--at {item!r}: expected PATH=VALUE, e.g. --at verification.fixed=0.0025")
        try:
            out[path.strip()] = float(value)
        except ValueError:
            fail(f"--at {item!r}: {value!r} is not a number")
    return out


def plot(
    source: Annotated[Path, SOURCE_ARGUMENT],
    out: Annotated[list[Path], typer.Option(
        "--out", "-o", help="Figure file: .png, .svg or .pdf (repeat for several).",
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
    at: Annotated[list[str] | None, typer.Option(
        "--at", help="A point of the store by its parameter values, PATH=VALUE (repeat for "
                     "several parameters), e.g. --at verification.fixed=0.0025.",
        show_default=False)] = None,
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
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="--kind prices: another solution (JSON or Parquet, or an economy "
                           "file) drawn beside in thin dotted lines, e.g. the same day without "
                           "storage.", show_default=False)] = None,
    label: Annotated[str, typer.Option(
        "--label", help="With --baseline: what the source's lines are (legend), e.g. 'with "
                        "storage'.")] = "",
    baseline_label: Annotated[str, typer.Option(
        "--baseline-label", help="With --baseline: what its lines are (legend).")]
    = "baseline",
) -> None:
    """Draw a figure from a results store, a solution (JSON or Parquet) or an economy file."""
    with common.extras_needed():
        from emgame._extras import require

        require("matplotlib", "report", "emgame plot")
        from emgame.report import data as rdata
        from emgame.report import figures
    StoreError = _store_error()

    if not source.exists():
        fail(f"{source}: no such file")
    for target in out:
        if target.suffix.lower().lstrip(".") not in figures.FORMATS:
            fail(f"{target}: figures are written as {figures.FORMAT_NAMES}")
    store_source = rdata.is_store(source)
    kind = kind or (PlotKind.sweep if store_source else PlotKind.prices)
    concepts = ["nash", "competitive"] if concept is Concept.both else [concept.value]
    if hue is not None and hue == x:
        fail(f"--hue {hue}: the same parameter as --x; give another swept parameter (or none)")
    where = _at(at)
    if where and point:
        fail("--point and --at both pick a point: give one")
    if baseline is not None and kind is not PlotKind.prices:
        fail("--baseline draws beside a prices figure: use it with --kind prices")
    if baseline is not None and not baseline.exists():
        fail(f"{baseline}: no such file")
    ref = None
    if reference is not None:
        try:
            ref = figures.reference_curve(reference)
        except ValueError as exc:
            fail(f"--reference: {exc}")
    message = None
    try:
        if kind in (PlotKind.prices, PlotKind.allocations):
            if store_source:
                with open_store(source, read_only=True) as st:
                    sols = rdata.solutions_from_store(st, sweep=sweep, point=point, at=where)
                message = f"the point drawn: {sols.title}"
            else:
                if where or point:
                    fail(f"{source}: --point and --at pick a point of a results store")
                sols = _solutions_source(source)
            chosen = {c: s for c, s in sols.solutions.items() if c in concepts}
            base = None
            if baseline is not None:
                base = {c: s for c, s in _solutions_source(baseline).solutions.items()
                        if c in concepts}
            fig = (figures.prices_figure(chosen, subtitle=sols.subtitle, baseline=base,
                                         label=label, baseline_label=baseline_label)
                   if kind is PlotKind.prices
                   else figures.allocations_figure(chosen, sols.probabilities,
                                                   subtitle=sols.subtitle))
        else:
            if not store_source:
                fail(f"{source}: --kind {kind.value} needs a results store")
            if where or point:
                fail(f"--point and --at pick one point; --kind {kind.value} draws the sweep")
            with open_store(source, read_only=True) as st:
                fig, message = _sweep_figure(st, rdata, figures, kind, sweep, x, y, type_name,
                                             concepts, hue, logx, logy, ref, reference_label,
                                             title, ylabel)
        if title and kind is not PlotKind.sweep:
            fig.axes[0].set_title(title, fontsize=11)
        if xlabel:
            fig.axes[-1].set_xlabel(xlabel)
        if ylabel and len(fig.axes) == 1:
            fig.axes[0].set_ylabel(ylabel)
        for target in out:
            figures.save(fig, target)
    except (rdata.SourceError, StoreError, ValueError) as exc:
        fail(str(exc))
    for target in out:
        typer.echo(f"wrote {target}")
    if message:
        typer.echo(message)


def _sweep_figure(st: Any, rdata: Any, figures: Any, kind: PlotKind, sweep: str | None,
                  x: str | None, y: list[str] | None, type_name: str | None,
                  concepts: list[str], hue: str | None, logx: bool | None, logy: bool,
                  ref: Any, reference_label: str, title: str | None,
                  ylabel: str | None) -> tuple[Any, str | None]:
    if kind is PlotKind.sweep:
        data = [rdata.sweep_series(st, sweep=sweep, x=x, y=expr, type_name=type_name,
                                   concepts=concepts, hue=hue)
                for expr in (y or ["mean_relative_price"])]
        d = data[0]
        note = rdata.excluded_note(d.excluded)
        if len(data) == 1:
            fig = figures.sweep_figure(
                d.series, xlabel=d.xlabel, ylabel=ylabel or d.ylabel, title=title or d.title,
                logx=d.logx if logx is None else logx, logy=logy, reference=ref,
                reference_label=reference_label, note=note, discrete=d.discrete)
        else:
            if ref is not None:
                fail("--reference draws on one panel: give one --y")
            fig = figures.sweep_panels(
                [(e.series, e.ylabel) for e in data], xlabel=d.xlabel, title=title or d.title,
                logx=d.logx if logx is None else logx, logy=logy, note=note,
                discrete=d.discrete)
        return fig, None
    n, gap, xlabel = rdata.replication_data(st, sweep=sweep, x=x)
    fig, fit = figures.replication_figure(n, gap, xlabel=xlabel)
    return fig, (f"fitted gap ≈ {fit.a:.4g} · n^{fit.b:.4f} ({fit.points} points)"
                 if fit else "too few points to fit a rate")


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
    at: Annotated[list[str] | None, typer.Option(
        "--at", help="Report the point of the store with these parameter values, PATH=VALUE.",
        show_default=False)] = None,
) -> None:
    """Write a self-contained HTML report (figures embedded, no network) of a store, a
    solution (JSON or Parquet) or an economy file."""
    with common.extras_needed():
        from emgame._extras import require

        require("matplotlib", "report", "emgame report")
        from emgame.report import data as rdata
        from emgame.report import html
    StoreError = _store_error()

    if not source.exists():
        fail(f"{source}: no such file")
    where = _at(at)
    try:
        if rdata.is_store(source):
            with open_store(source, read_only=True) as st:
                page = (html.store_solution_report(st, sweep, point, at=where)
                        if point or where else html.store_report(st, sweep))
        else:
            if point or where:
                fail(f"{source}: --point and --at pick a point of a results store")
            page = html.solution_report(_solutions_source(source))
    except (rdata.SourceError, StoreError) as exc:
        fail(str(exc))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        fail(f"{out}: cannot write: {exc}")
    typer.echo(f"wrote {out} ({len(page.encode()) // 1024} KiB)")
