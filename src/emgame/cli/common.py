"""What every ``emgame`` command shares: consoles, one-line errors, loading files, writing
results, the exit codes and the first-run compilation notice.

Nothing here computes anything about an economy.
"""

from __future__ import annotations

import contextlib
import enum
import importlib.resources
import logging
import math
import sys
import threading
import tomllib
from collections.abc import Iterator
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from emgame.model import EconomyError, EconomyFileError, load_economy

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
"""0 success; 1 no equilibrium / could not run / refused; 2 bad input or option, or an
optional part not installed; 130 interrupted (Ctrl-C)."""

FILE_ARGUMENT = typer.Argument(help="Economy file (TOML).", metavar="FILE", show_default=False)
SOURCE_ARGUMENT = typer.Argument(
    help="A results store (DuckDB), a solution (JSON or Parquet from emgame solve) or an "
         "economy file.", metavar="SOURCE", show_default=False)


class Concept(enum.StrEnum):
    nash = "nash"
    competitive = "competitive"
    both = "both"


# --------------------------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------------------------


def stdout() -> Console:
    """A console on standard output; created per call so that rich writes to whatever
    ``sys.stdout`` is then (tests swap it). Piped output is laid out for 80 columns."""
    return Console(highlight=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def lines(message: str) -> list[str]:
    return [line.strip() for line in str(message).splitlines() if line.strip()]


def one_line(message: str) -> str:
    return "; ".join(lines(message))


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``emgame: error: ...`` on standard error, one line per problem, then exit.

    Plain text, no rich markup: messages contain key paths such as ``consumers[0]``.
    """
    for line in lines(message) or ["unknown error"]:
        typer.echo(f"emgame: error: {line}", err=True)
    raise typer.Exit(code)


def mention(path: Path, message: str) -> str:
    """``message`` with every line naming ``path`` (the loader's lines name it already)."""
    return "\n".join(line if (str(path) in line or path.name in line) else f"{path}: {line}"
                     for line in lines(message))


@contextlib.contextmanager
def extras_needed() -> Iterator[None]:
    """Turn a missing optional dependency into one line naming the extra to install."""
    from emgame._extras import MissingExtraError

    try:
        yield
    except MissingExtraError as exc:
        fail(str(exc))


# --------------------------------------------------------------------------------------------
# Files.
# --------------------------------------------------------------------------------------------


def load(path: Path) -> Any:
    """Load an economy file; any problem with the input exits 2 with one line naming it."""
    if not path.exists():
        fail(f"{path}: no such file")
    if path.is_dir():
        fail(f"{path}: is a directory, not an economy file")
    try:
        with extras_needed():
            return load_economy(path)
    except (EconomyFileError, EconomyError) as exc:
        fail(mention(path, str(exc)))
    except tomllib.TOMLDecodeError as exc:
        fail(f"{path}: TOML syntax error: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read: {exc}")


def write_bytes(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        fail(f"{path}: cannot write: {exc}")


def echo_bytes(data: bytes) -> None:
    """Write UTF-8 ``data`` and a newline to standard output as bytes: decoding a document of
    10⁶ types to ``str`` for ``typer.echo`` (which encodes it again) held it three times over
    (24 GiB, 150 s, where the bytes alone are 2 GiB)."""
    out = sys.stdout.buffer
    view = memoryview(data)
    # In pieces: one write of more than 2 GiB to a pipe came out cut at 2 GiB − 4 KiB.
    for start in range(0, len(view), 1 << 26):
        out.write(view[start:start + (1 << 26)])
    out.write(b"\n")
    out.flush()


def dumps(payload: Any) -> str:
    """Strict JSON text (no NaN or Infinity: ``null``), indented."""
    from emgame.report.jsonio import dumps as _dumps

    return _dumps(payload)


def examples_dir() -> Traversable:
    """The bundled examples (package data), from a source tree or an installed wheel."""
    return importlib.resources.files("emgame") / "examples"


def duration(seconds: float | None) -> str:
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


def log_to_stderr() -> None:
    """Warnings of emgame, and errors of the libraries under it (Dask is chatty), on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("emgame: %(levelname)s: %(message)s"))
    handler.addFilter(lambda r: r.levelno >= (logging.WARNING if r.name.startswith("emgame")
                                              else logging.ERROR))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)


# --------------------------------------------------------------------------------------------
# The first run compiles numba's kernels: say so.
# --------------------------------------------------------------------------------------------

COMPILING = ("emgame: compiling the numerical kernels (once after installing or upgrading; "
             "several minutes on a 2-core machine) ...")


class _CompileNotice:
    """A numba event listener. numba fires ``numba:compile`` only on a cache miss (a kernel
    compiled rather than loaded from the on-disk cache); when a compilation has been running
    for :data:`NOTICE_AFTER` seconds (the cold cache of a first run: minutes; a single new
    specialisation: a fraction of a second, not worth a line), print one line on standard
    error, once."""

    def __init__(self, say: Any) -> None:
        self.say = say
        self.said = False
        self.depth = 0
        self.timer: threading.Timer | None = None
        self.lock = threading.Lock()

    def _fire(self) -> None:
        with self.lock:
            if self.said or self.depth == 0:
                return
            self.said = True
        self.say()

    def on_start(self, event: Any) -> None:
        with self.lock:
            self.depth += 1
            if self.depth == 1 and not self.said:
                self.timer = threading.Timer(NOTICE_AFTER, self._fire)
                self.timer.daemon = True
                self.timer.start()

    def on_end(self, event: Any) -> None:
        with self.lock:
            self.depth = max(0, self.depth - 1)
            if self.depth == 0 and self.timer is not None:
                self.timer.cancel()
                self.timer = None


NOTICE_AFTER = 1.0
"""Seconds of compiling before the first-run notice is printed."""


_NOTICE: list[Any] = []


def announce_compilation(*, quiet: bool = False, status: Any = None) -> None:
    """Print :data:`COMPILING` on standard error if numba compiles a kernel in this process
    (a cold cache), once; ``status`` (a rich status spinner) also shows it."""
    if quiet or _NOTICE:
        return
    try:
        from numba.core import event
    except ImportError:  # pragma: no cover - numba is a core dependency
        return

    def say() -> None:
        if status is not None:
            with contextlib.suppress(Exception):  # a finished spinner: the line is enough
                status.update("Compiling the numerical kernels (once, several minutes) ...")
        print(COMPILING, file=sys.stderr, flush=True)

    listener = type("CompileNotice", (_CompileNotice, event.Listener), {})(say)
    event.register("numba:compile", listener)
    _NOTICE.append(listener)
