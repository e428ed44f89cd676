"""``emgame solve``, ``emgame check`` and ``emgame examples``: one economy at a time."""

from __future__ import annotations

import contextlib
import re
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

import emgame
from emgame.cli import common
from emgame.cli import sensitivity as sens_cli
from emgame.cli.common import EXIT_REFUSED, FILE_ARGUMENT, Concept, fail
from emgame.equilibria import splits_possible
from emgame.model import EconomyError
from emgame.results import Status

JSON_TYPES_WARNING = 200_000
"""Above this many types, ``--json`` suggests Parquet (JSON grows to gigabytes)."""
ALL_TYPES_HINT = 20
"""Up to this many types, a failed solve where a split equilibrium may exist suggests
``--all`` (a search over many starts, meant for small economies)."""


def solve(
    file: Annotated[Path, FILE_ARGUMENT],
    concept: Annotated[Concept, typer.Option(
        "--concept", "-c", case_sensitive=False,
        help="Solution concept: the game's Nash equilibrium, the competitive benchmark, or "
             "both side by side.")] = Concept.nash,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the JSON result on standard output instead of tables.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Also write the result to this file (parents created): JSON, or "
                            "with a .parquet name one row per type (for large economies).",
        show_default=False)] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No tables, no progress, no notes; errors only.")] = False,
    sensitivity: Annotated[list[str] | None, typer.Option(
        "--sensitivity", "-s", metavar="PATH[,PATH…]",
        help="Also differentiate the solution with respect to these parameter paths (as in "
             "sweeps: verification.fixed, producers.*.productivity, consumers[0].endowment): "
             "an elasticity table, and a 'sensitivity' key in the JSON.",
        show_default=False)] = None,
    latex: Annotated[Path | None, typer.Option(
        "--latex", help="With --sensitivity: write the elasticity table as LaTeX to this file.",
        show_default=False)] = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="Search for every equilibrium from many starts and report each "
                      "certified one with how many starts reached it (split equilibria too "
                      "where no type-symmetric one is found).")] = False,
    starts: Annotated[int, typer.Option(
        "--starts", min=1, help="With --all: how many starts.")] = 24,
    seed: Annotated[int, typer.Option("--seed", help="With --all: seed of the random starts.")]
    = 0,
) -> None:
    """Solve an economy: find its Nash equilibrium, competitive equilibrium, or both.

    Exit 0 when an equilibrium was found (for both: both were), 1 when none was found or the
    economy is infeasible, 2 on bad input.
    """
    economy = common.load(file)
    sens_paths = sens_cli.parse(sensitivity)
    if sens_paths:
        sens_cli.check_paths(file, economy, sens_paths)
    elif latex is not None:
        fail("--latex needs --sensitivity PATH (the table it writes)")
    if all_:
        _solve_all(file, economy, concept, as_json, out, quiet, starts, seed)
    parquet = out is not None and out.suffix.lower() in (".parquet", ".pq")
    if parquet:
        with common.extras_needed():
            from emgame._extras import require

            require("pyarrow", "tables", "--out FILE.parquet")
    err = common.stderr()
    n_types = len(economy.consumers) + len(economy.producers)
    if as_json and n_types > JSON_TYPES_WARNING and not quiet:
        typer.echo(f"emgame: note: {n_types:,} types make a large JSON document; "
                   "--out result.parquet writes one row per type instead", err=True)
    what = "both equilibria" if concept is Concept.both else f"the {concept.value} equilibrium"
    spinner = (contextlib.nullcontext() if quiet
               else err.status(Text(f"Solving {what} of {economy.name} …"), spinner="dots"))
    with spinner as status:
        common.announce_compilation(quiet=quiet, status=status)
        try:
            if concept is Concept.both:
                nash, competitive = emgame.solve_both(economy)
                solutions = [nash, competitive]
            else:
                solutions = [emgame.solve(economy, concept.value)]
        except EconomyError as exc:
            # The solver refused the economy as a whole (e.g. a combination the model excludes).
            fail(common.mention(file, str(exc)))
    sens = sens_cli.compute(solutions, sens_paths) if sens_paths else []
    payload = None
    if as_json or (out is not None and not parquet):
        payload = _document(solutions, concept)
        if sens:
            sens_cli.add_to_document(payload, sens, concept is Concept.both)
    if as_json:
        from emgame.report.jsonio import dump_bytes

        common.echo_bytes(dump_bytes(payload))
    elif not quiet:
        from emgame.report.tables import comparison_tables, render, solution_tables

        console = common.stdout()
        parts = (comparison_tables(*solutions, width=console.width) if concept is Concept.both
                 else solution_tables(solutions[0], width=console.width))
        parts += sens_cli.tables(sens, console.width)
        console.print(render(parts))
    if out is not None:
        _write(out, solutions, concept, payload, parquet)
        if not quiet:
            # Keep standard output pure JSON under --json; plain echo so the path never wraps.
            what = "Parquet (one row per type)" if parquet else "JSON"
            typer.echo(f"{what} written to {out}", err=as_json)
    if latex is not None and sens:
        sens_cli.write_latex(latex, sens)
        if not quiet:
            typer.echo(f"LaTeX written to {latex}", err=as_json)

    for s in solutions:
        if not s.ok:
            typer.echo(f"emgame: {s.concept}: {s.status.value}: "
                       f"{common.one_line(s.reason or s.status.message)}", err=True)
            if s.status is Status.NO_EQUILIBRIUM and not quiet and \
                    n_types <= ALL_TYPES_HINT and splits_possible(economy, s.concept):
                typer.echo(f"emgame: hint: `emgame solve {file} --all` also searches split "
                           "equilibria (the agents of one type acting in groups), which a "
                           "plain solve does not", err=True)
    raise typer.Exit(max(s.status.exit_code for s in solutions))


def _solve_all(file: Path, economy: Any, concept: Concept, as_json: bool, out: Path | None,
               quiet: bool, starts: int, seed: int) -> None:
    """``emgame solve FILE --all``: every certified equilibrium found (JSON: one document per
    concept, or ``{"nash": ..., "competitive": ...}`` for both)."""
    from emgame.equilibria import solve_all

    if out is not None and out.suffix.lower() in (".parquet", ".pq"):
        fail(f"{out}: --all writes JSON only")
    concepts = ["nash", "competitive"] if concept is Concept.both else [concept.value]
    err = common.stderr()
    spinner = (contextlib.nullcontext() if quiet else err.status(
        Text(f"Searching all equilibria of {economy.name} …"), spinner="dots"))
    with spinner as status:
        common.announce_compilation(quiet=quiet, status=status)
        try:
            results = [solve_all(economy, c, starts=starts, seed=seed) for c in concepts]
        except EconomyError as exc:
            fail(common.mention(file, str(exc)))
    payload = (results[0].to_dict() if len(results) == 1
               else {r.concept: r.to_dict() for r in results})
    from emgame.report.jsonio import dump_bytes

    if as_json:
        common.echo_bytes(dump_bytes(payload))
    elif not quiet:
        from emgame.report.equilibria_tables import equilibria_tables
        from emgame.report.tables import render

        console = common.stdout()
        for r in results:
            console.print(render(equilibria_tables(r, width=console.width)))
    if out is not None:
        common.write_bytes(out, dump_bytes(payload) + b"\n")
        if not quiet:
            typer.echo(f"JSON written to {out}", err=as_json)
    for r in results:
        if not r.ok:
            typer.echo(f"emgame: {r.concept}: {r.status.value}: {common.one_line(r.reason)}",
                       err=True)
    raise typer.Exit(max(r.status.exit_code for r in results))


def _document(solutions: list[Any], concept: Concept) -> dict[str, Any]:
    from emgame.report.compare import both_to_dict, solution_to_dict

    return (both_to_dict(*solutions) if concept is Concept.both
            else solution_to_dict(solutions[0]))


def _write(out: Path, solutions: list[Any], concept: Concept, payload: Any,
           parquet: bool) -> None:
    if parquet:
        from emgame.report.compare import comparison_summary
        from emgame.store.parquet import write_solutions

        extra = ({"comparison": comparison_summary(*solutions)} if concept is Concept.both
                 else {})
        try:
            with common.extras_needed():
                write_solutions(out, solutions, extra)
        except OSError as exc:
            fail(f"{out}: cannot write: {exc}")
        return
    from emgame.report.jsonio import dump_bytes

    common.write_bytes(out, dump_bytes(payload) + b"\n")


def check(
    file: Annotated[Path, FILE_ARGUMENT],
) -> None:
    """Validate an economy file and summarise it. Exit 0 if valid, 2 if not."""
    from emgame.report.tables import economy_tables, render

    economy = common.load(file)
    console = common.stdout()
    console.print(render(economy_tables(economy)))
    typer.secho(f"{file}: valid", fg="green")


# --------------------------------------------------------------------------------------------
# Bundled examples and studies.
# --------------------------------------------------------------------------------------------

STUDIES = "studies/"


def _examples_dir() -> Traversable:
    return common.examples_dir()


def _examples() -> dict[str, Traversable]:
    """Bundled economies by name (``ai_solar_day``)."""
    folder = _examples_dir()
    if not folder.is_dir():
        return {}
    files = [f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()]
    return {f.name.removesuffix(".toml"): f for f in sorted(files, key=lambda f: f.name)}


def studies() -> dict[str, Traversable]:
    """Bundled studies (sweep files) by name (``replication``)."""
    folder = _examples_dir() / STUDIES.rstrip("/")
    if not folder.is_dir():
        return {}
    files = [f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()]
    return {f.name.removesuffix(".toml"): f for f in sorted(files, key=lambda f: f.name)}


def find_study(name: str) -> Path | None:
    """The bundled study called ``name`` (``replication`` or ``studies/replication``)."""
    key = name.removeprefix(STUDIES).removesuffix(".toml")
    found = studies().get(key)
    return None if found is None else Path(str(found))


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


def _standalone(text: str) -> str:
    """A study as a file of its own: ``economy = "../x.toml"`` (a bundled example, relative to
    the package) becomes ``economy = "x"``, which a sweep resolves to the bundled example."""
    return re.sub(r'^(economy\s*=\s*)"\.\./([A-Za-z0-9_\-]+)\.toml"',
                  r'\1"\2"  # the bundled example of that name', text, flags=re.MULTILINE)


def examples(
    name: Annotated[str | None, typer.Argument(
        help="Example or study to write out (studies/NAME for a study); omit to list them.",
        metavar="NAME", show_default=False)] = None,
    out: Annotated[str | None, typer.Option(
        "--out", "-o", help="Where to write it: a file, or a folder (ends in / or exists; "
                            "created).", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing file.")]
    = False,
) -> None:
    """List the bundled example economies and studies, or write one to a file."""
    found = _examples()
    found_studies = studies()
    if name is None:
        _list(found, found_studies)
        return
    key = name.removesuffix(".toml")
    if key in found:
        source, text = found[key], found[key].read_text(encoding="utf-8")
    elif key.removeprefix(STUDIES) in found_studies:
        key = key.removeprefix(STUDIES)
        source = found_studies[key]
        text = _standalone(source.read_text(encoding="utf-8"))
    else:
        fail(f"no bundled example or study named {name!r}; the examples are: "
             f"{', '.join(found) or '(none)'}; the studies: "
             f"{', '.join(STUDIES + s for s in found_studies) or '(none)'}")
    target = Path(out) if out is not None else Path(f"{key}.toml")
    if target.is_dir() or (out is not None and out.endswith(("/", "\\"))):
        target = target / f"{key}.toml"
    if target.exists() and not force:
        fail(f"{target}: exists; not overwritten (use --force)", EXIT_REFUSED)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{target}: cannot write: {exc}")
    run = (f"emgame sweep {target} --store {key}.duckdb" if source in found_studies.values()
           else f"emgame solve {target}")
    typer.echo(f"Wrote {target}; run it with: {run}")


def _list(found: dict[str, Traversable], found_studies: dict[str, Traversable]) -> None:
    from rich.table import Table

    console = common.stdout()
    for title, items, prefix in (("Example economies", found, ""),
                                 ("Studies (sweep files)", found_studies, STUDIES)):
        table = Table(title=title, title_justify="left", show_edge=False, box=None,
                      padding=(0, 2, 0, 0))
        table.add_column("name", style="bold", no_wrap=True)
        table.add_column("description")
        for key, f in items.items():
            table.add_row(Text(prefix + key), Text(_describe(f.read_text(encoding="utf-8"))))
        console.print(table)
        console.print()
    typer.echo("Write one out with: emgame examples NAME [--out FILE or FOLDER/]")
    typer.echo("Run a study with:   emgame sweep NAME --store results.duckdb")
