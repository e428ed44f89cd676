"""The ``emgame`` command: parse arguments, call the library, render, map status to exit code.

Commands
--------
``emgame solve FILE [--concept nash|competitive|both] [--json] [--out PATH] [--quiet]``
    Solve an economy file and print tables (or, with ``--json``, the JSON contract of
    docs/model.md, "The JSON contract"; ``--out result.parquet``: one row per type).
``emgame check FILE``
    Validate an economy file and summarise it.
``emgame examples [NAME] [--out PATH] [--force]``
    List the bundled example economies and studies, or write one out.
``emgame sweep SWEEP --store STORE [--scheduler tcp://HOST:PORT] [--workers N] [--serial]``
    Solve every point of a sweep (a file or a bundled study's name), resuming: only the points
    not yet in the store.
``emgame results STORE [--sweep NAME] [--csv PATH] [--parquet PATH] [--latex PATH] ...``
    Summarise a results store; export it.
``emgame plot SOURCE -o FIG.png [--kind prices|allocations|sweep|replication] ...``
    Figures (PNG, SVG, PDF) from a store, a solution (JSON or Parquet) or an economy file.
``emgame report SOURCE -o report.html``
    A self-contained HTML report of a store, a solution or an economy file.

``emgame --version`` prints the version; ``--install-completion`` installs shell completion.

Exit codes
----------
0
    Success (``solve``: an equilibrium was found; with ``--concept both``, both were).
1
    ``solve`` found no equilibrium, or the economy is infeasible (the reason goes to standard
    error, and into the JSON); ``sweep`` could not run; ``examples`` refused to overwrite a file.
2
    Bad input: a missing or unreadable file, TOML syntax, an economy that breaks the model's
    rules, an unknown example, a bad option, or an optional part that is not installed (the
    message names the extra). One line on standard error, no traceback.
130
    Interrupted (Ctrl-C); ``sweep``: run the same command again to resume.

Adding a command is one line at the bottom of this file: ``app.command()(module.function)``,
the function's parameters annotated with ``typer.Option`` / ``typer.Argument``; heavy imports
belong inside the function, so that ``emgame --help`` stays fast. Nothing here computes
anything about the economy: that is :mod:`emgame` and :mod:`emgame.report`.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from emgame.cli import economy, figures, sweeps
from emgame.cli.common import dumps as _dumps  # noqa: F401  (kept for callers and tests)
from emgame.cli.economy import _describe, _examples  # noqa: F401

app = typer.Typer(
    name="emgame",
    help="Nash and competitive equilibria of the electricity market game with AI agents "
         "paying in bytecoins.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        from emgame import __version__

        typer.echo(f"emgame {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool | None, typer.Option(
        "--version", "-V", help="Print the version and exit.", callback=_version,
        is_eager=True)] = None,
) -> None:
    """Nash and competitive equilibria of the electricity market game with AI agents paying
    in bytecoins. The model: docs/model.md."""


# One line per command (another module adds its own the same way).
app.command()(economy.solve)
app.command()(economy.check)
app.command()(economy.examples)
app.command()(sweeps.sweep)
app.command()(sweeps.results)
app.command()(figures.plot)
app.command()(figures.report)
app.command(name="learn")(importlib.import_module("emgame.learning.cli").learn)


def main() -> None:  # pragma: no cover - for ``python -m emgame`` and ``python -m emgame.cli``
    app(prog_name="emgame")
