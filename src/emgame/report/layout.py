"""Terminal tables that never cut a number: formatting, rounding noise, and fitting a table to
the terminal's width by splitting it into whole columns.

A number is formatted once (:func:`fmt`, four significant digits; :func:`fmt_small` for regrets)
and its cell is as wide as its text: it is never wrapped, shortened or cut. When the columns do
not fit the width, :func:`fit` moves whole columns to further tables (the key columns, such as
the type's name, repeated in each) and says so in a note; where even one column does not fit
beside the keys, the rows are stacked (one ``column: value`` line each). Rounding noise is shown
as what it is: a value within the solve's tolerance of zero (``|x| ≤ rtol · scale``, the scale
that of the quantity) is printed as ``0`` (:func:`snap`).
"""

from __future__ import annotations

import copy
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

DEFAULT_WIDTH = 100
"""Terminal width the tables are laid out for, unless told otherwise (piped: 80)."""

PADDING = 2
"""Characters a column costs beyond its content (left padding and divider)."""

TEXT_WIDTH = 18
"""A wrapped text column (a type's name) is at most this wide, unless a word is longer ..."""

TEXT_WIDTH_MAX = 30
"""... up to this width (longer words are folded)."""


# --------------------------------------------------------------------------------------------
# Numbers.
# --------------------------------------------------------------------------------------------


def fmt(x: Any, digits: int = 4) -> str:
    """A number in four significant digits: ``—`` for missing or NaN, ``∞``, ``0`` for zero."""
    if x is None:
        return "—"
    f = float(x)
    if math.isnan(f):
        return "—"
    if math.isinf(f):
        return "∞" if f > 0 else "−∞"
    if f == 0:
        return "0"
    return f"{f:.{digits}g}"


def fmt_small(x: Any) -> str:
    """Regrets and tolerances: two significant digits in scientific notation."""
    if x is None:
        return "—"
    f = float(x)
    if math.isnan(f):
        return "—"
    if math.isinf(f):
        return "∞" if f > 0 else "−∞"
    return "0" if f == 0 else f"{f:.1e}"


def fmt_count(x: Any) -> str:
    return f"{int(round(float(x))):,}"


def pct(x: Any) -> str:
    f = float(x)
    return "—" if not math.isfinite(f) else f"{100 * f:.3g}%"


def snap(values: Any, scale: float, rtol: float = 1e-8) -> np.ndarray:
    """``values`` with every entry within ``rtol · scale`` of zero set to exactly 0 (rounding
    noise such as ``-1.4e-14`` goods or a Lerner index of ``1.5e-16``). NaN and infinities are
    kept; ``scale`` is the size of the quantity (an endowment, a price, 1 for an index)."""
    a = np.array(values, dtype=float, copy=True)
    if a.size == 0:
        return a
    limit = rtol * abs(scale) if math.isfinite(scale) and scale > 0 else 0.0
    with np.errstate(invalid="ignore"):
        a[np.isfinite(a) & (np.abs(a) <= limit)] = 0.0
    return a


def scale_of(*arrays: Any, floor: float = 0.0) -> float:
    """The largest finite absolute value in ``arrays`` (at least ``floor``)."""
    best = floor
    for arr in arrays:
        a = np.asarray(arr, dtype=float)
        if a.size:
            # One pass without copying the finite entries out (10⁶ types: 24·10⁶ of them).
            best = max(best, float(np.max(np.abs(a), where=np.isfinite(a), initial=0.0)))
    return best


def regret_text(regret: Any, tolerance: float) -> str:
    """A regret: a negative one within the tolerance is rounding (shown ``0``)."""
    if regret is None:
        return "—"
    r = float(regret)
    if math.isfinite(r) and -tolerance <= r < 0:
        return "0"
    return fmt_small(r)


def check_text(ok: bool | None, *, inconclusive: bool = False) -> Text:
    if inconclusive:
        return Text("?", style="bold yellow")
    if ok is None:
        return Text("—")
    return Text("yes", style="green") if ok else Text("NO", style="bold red")


# --------------------------------------------------------------------------------------------
# Columns and fitting.
# --------------------------------------------------------------------------------------------


@dataclass
class Column:
    """One column: a header (may hold line breaks), its cells (text or rich Text), and whether
    it is a key (repeated in every part of a split table) or wraps (text only)."""

    header: str
    cells: list[Any]
    justify: str = "right"
    key: bool = False
    wrap: bool = False
    style: str | None = None
    width: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        strings = [c.plain if isinstance(c, Text) else str(c) for c in self.cells]
        content = max((len(s) for s in strings), default=0)
        words = max((len(w) for w in self.header.split()), default=0)
        header = max((len(line) for line in self.header.splitlines()), default=0)
        if self.wrap:
            # Text wraps between words; a word longer than TEXT_WIDTH_MAX is folded.
            longest = max((len(w) for s in strings for w in s.split()), default=0)
            self.width = max(min(content, TEXT_WIDTH), min(longest, TEXT_WIDTH_MAX), words, 4)
        else:
            # A number is never wrapped; a header wraps between words if it is the widest.
            self.width = max(content, words if header > content else header, 1)


def numbers(header: str, values: Sequence[Any], format: Callable[[Any], str] = fmt,
            **kw: Any) -> Column:
    """A right-aligned numeric column."""
    return Column(header, [format(v) for v in values], **kw)


def text(header: str, values: Sequence[Any], **kw: Any) -> Column:
    """A left-aligned text column (user text: never read as markup)."""
    kw.setdefault("justify", "left")
    return Column(header, [v if isinstance(v, Text) else Text(str(v)) for v in values], **kw)


def new_table(title: str | None, *, caption: str | None = None,
              show_header: bool = True) -> Table:
    # No outer edge; padding on the left only.
    return Table(title=Text(title) if title else None, caption=None if not caption
                 else Text(caption), box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1),
                 show_edge=False, title_justify="left", caption_justify="left",
                 title_style="bold", header_style="bold", show_header=show_header)


def _cost(cols: Sequence[Column]) -> int:
    return sum(c.width + PADDING for c in cols)


def _table(title: str, cols: Sequence[Column], caption: str | None,
           sections: Sequence[int] = ()) -> Table:
    table = new_table(title, caption=caption)
    for c in cols:
        lines: list[str] = []
        for line in c.header.splitlines() or [""]:
            lines += (textwrap.wrap(line, c.width, break_long_words=False) or [""]
                      if len(line) > c.width else [line])
        header = "\n".join(lines)
        table.add_column(Text(header), justify=c.justify,  # type: ignore[arg-type]
                         no_wrap=not c.wrap, overflow="fold" if c.wrap else "ignore",
                         min_width=c.width, max_width=None if not c.wrap else c.width,
                         style=c.style)
    rows = len(cols[0].cells) if cols else 0
    for i in range(rows):
        table.add_row(*[c.cells[i] if isinstance(c.cells[i], Text) else Text(str(c.cells[i]))
                        for c in cols], end_section=i in sections)
    return table


def fit(title: str, columns: Sequence[Column], *, width: int, caption: str | None = None,
        sections: Sequence[int] = (), groups: Sequence[Sequence[int]] | None = None
        ) -> list[RenderableType]:
    """``columns`` as one or more tables no wider than ``width``, numbers uncut.

    Key columns are repeated in every part; the other columns are packed in order (``groups``
    of column indices stay together, e.g. one agent type's columns), each part titled
    ``title (k/n)`` and the last one carrying ``caption`` and a note on the split. Where a
    single group does not fit beside the keys, its rows are stacked instead.
    """
    key_idx = [i for i, c in enumerate(columns) if c.key]
    keys = [columns[i] for i in key_idx]
    values_idx = [i for i, c in enumerate(columns) if not c.key]
    if groups is None:
        groups = [[i] for i in values_idx]
    budget = width - _cost(keys)
    parts: list[list[int]] = []
    used = 0
    for g in groups:
        cost = _cost([columns[i] for i in g])
        if not parts or used + cost > budget:
            parts.append([])
            used = 0
        parts[-1].extend(g)
        used += cost
    if not parts:
        parts = [[]]
    if len(parts) == 1 and _cost(keys) + _cost([columns[i] for i in parts[0]]) <= width:
        return [_table(title, [columns[i] for i in sorted(key_idx + parts[0])], caption,
                       sections)]
    out: list[RenderableType] = []
    for k, part in enumerate(parts):
        cols = keys + [columns[i] for i in part]
        name = f"{title} ({k + 1}/{len(parts)})"
        last = k == len(parts) - 1
        note = (f"(split into {len(parts)} tables to fit {width} columns; a wider terminal "
                "shows one)")
        cap = "\n".join(x for x in (caption, note) if x) if last else None
        if _cost(cols) > width:
            out.append(stacked(name, cols, caption=cap))
        else:
            out.append(_table(name, cols, cap, sections))
    return out


def stacked(title: str, cols: Sequence[Column], *, caption: str | None = None) -> Group:
    """Rows as blocks of ``column: value`` lines (for a terminal too narrow for a table)."""
    keys = [c for c in cols if c.key]
    others = [c for c in cols if not c.key]
    lines: list[RenderableType] = [Text(title, style="bold")]
    rows = len(cols[0].cells) if cols else 0
    label = max((len(c.header.replace("\n", " ")) for c in others), default=0)
    for i in range(rows):
        head = " · ".join((c.cells[i].plain if isinstance(c.cells[i], Text)
                           else str(c.cells[i])) for c in keys)
        lines.append(Text(head or f"row {i + 1}", style="italic"))
        for c in others:
            cell = c.cells[i]
            lines.append(Text(f"  {c.header.replace(chr(10), ' '):<{label}}  ")
                         + (cell if isinstance(cell, Text) else Text(str(cell))))
    if caption:
        lines.append(Text(caption, style="dim"))
    return Group(*lines)


def render(parts: Sequence[RenderableType]) -> Group:
    """Stack renderables for ``console.print``: a blank line before each table, and each
    table's caption printed below it at full width (rich would wrap it to the table's)."""
    out: list[RenderableType] = []
    for part in parts:
        if out and isinstance(part, Table | Rule | Group):
            out.append(Text(""))
        if isinstance(part, Table) and part.caption:
            note = part.caption
            part = copy.copy(part)
            part.caption = None
            note = note.copy() if isinstance(note, Text) else Text(str(note))
            note.stylize("dim")
            out.extend([part, note])
        else:
            out.append(part)
    return Group(*out)
