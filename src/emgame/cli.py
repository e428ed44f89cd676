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

Nothing here computes anything about the economy: that is :mod:`emgame` and
:mod:`emgame.report`.
"""

from __future__ import annotations

import contextlib
import enum
import importlib.resources
import json
import math
import sys
import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

import emgame
from emgame.model import EconomyError, EconomyFileError, load_economy
from emgame.report.compare import both_to_dict
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
                      else solutions[0].to_dict())
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


def main() -> None:  # pragma: no cover - for ``python -m emgame.cli``
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
