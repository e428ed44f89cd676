"""``emgame solve FILE --sensitivity PATH[,PATH…]``: comparative statics of the solutions
(docs/sensitivity.md), as a table, a ``sensitivity`` key in the JSON and a LaTeX file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emgame.cli.common import fail, mention


def parse(spec: list[str] | None) -> list[str]:
    """Every path of the (repeatable, comma-separated) option, in order."""
    out: list[str] = []
    for item in spec or []:
        out += [p.strip() for p in item.split(",") if p.strip()]
    return out


def check_paths(file: Path, economy: Any, paths: list[str]) -> None:
    """Refuse bad paths before solving (exit 2 naming the path)."""
    from emgame.analysis.sensitivity import SensitivityError
    from emgame.analysis.sensitivity import check_paths as check

    try:
        check(economy, paths)
    except SensitivityError as exc:
        fail(mention(file, str(exc)))


def compute(solutions: list[Any], paths: list[str]) -> list[Any]:
    """The sensitivity of every certified solution (``None`` for the others)."""
    from emgame.analysis.sensitivity import sensitivity

    return [sensitivity(s, paths) if s.ok else None for s in solutions]


def add_to_document(payload: dict[str, Any], results: list[Any], both: bool) -> None:
    """Add the ``sensitivity`` key(s): at the top for one concept, in each concept's document
    for ``--concept both``; existing keys are untouched."""
    if both:
        for r, key in zip(results, ("nash", "competitive"), strict=True):
            if r is not None:
                payload[key]["sensitivity"] = r.to_dict()
    elif results[0] is not None:
        payload["sensitivity"] = results[0].to_dict()


def tables(results: list[Any], width: int) -> list[Any]:
    from emgame.report.sensitivity_tables import sensitivity_tables

    parts: list[Any] = []
    for r in results:
        if r is not None:
            parts += sensitivity_tables(r, width=width)
    return parts


def write_latex(out: Path, results: list[Any]) -> None:
    from emgame.cli import common

    body = "\n".join(r.to_latex() for r in results if r is not None)
    if not body:
        fail(f"{out}: nothing to write: no certified solution to differentiate", 1)
    try:
        with common.extras_needed():
            common.write_bytes(out, body.encode("utf-8"))
    except OSError as exc:
        fail(f"{out}: cannot write: {exc}")
