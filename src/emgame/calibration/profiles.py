"""Hourly profiles as small CSV files: reading (with validation), writing, the bundled ones.

A profile file is a CSV with a header of ``# key: value`` comment lines (provenance: generator,
library versions, location, parameters), then a header row and one row per period::

    # title: Clear-sky solar availability (AC output / AC nameplate)
    # kind: availability
    # pvlib: 0.16.1
    period,label,utility_tracking,rooftop_fixed
    1,00h,0.000000,0.000000
    ...

``period`` (1..T, in order) is required, ``label`` optional; every other column is one profile.
``kind`` is ``availability`` (values in ``[0, 1]``: solar output per unit of capacity) or
``load`` (MWh in the period, ``>= 0``, a positive daily total). Problems are reported all at
once, one line each, naming the file, the column and the line: ``loads.csv: column "edge",
line 7: must be >= 0 (got -3)``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np

from emgame.model.economy import EconomyError

KINDS = ("availability", "load")
MAX_REPORTED = 12
"""At most this many problems are listed in one message; the rest are counted."""

DECIMALS = {"availability": 6, "load": 4}
"""Decimals written per kind (availability: a millionth; load: a tenth of a kWh)."""


class ProfileError(EconomyError):
    """A profile CSV (or in-memory profile) that cannot be used; one line per problem,
    ``<file>: <where>: <problem>``."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [f"{source}: {w}: {p}" if w else f"{source}: {p}"
                 for w, p in self.problems[:MAX_REPORTED]]
        extra = len(self.problems) - MAX_REPORTED
        if extra > 0:
            lines.append(f"{source}: ... and {extra} more problem{'s' * (extra > 1)}")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.source, list(self.problems)))


def default_labels(periods: int) -> tuple[str, ...]:
    """``00h``..``23h`` for a day of 24 hours, else ``1``..``T``."""
    if periods == 24:
        return tuple(f"{h:02d}h" for h in range(24))
    return tuple(str(t) for t in range(1, periods + 1))


@dataclass(frozen=True)
class Profiles:
    """Named hourly profiles of one kind over the same periods.

    ``columns`` maps a profile name to its ``T`` values (read-only arrays); ``metadata`` is the
    file's ``# key: value`` header; ``source`` the file it came from (for messages).
    """

    kind: str
    labels: tuple[str, ...]
    columns: Mapping[str, np.ndarray]
    metadata: Mapping[str, str] = field(default_factory=dict)
    source: str = "<profiles>"

    def __post_init__(self) -> None:
        cols = {}
        for name, v in self.columns.items():
            a = np.array(v, dtype=float)
            a.setflags(write=False)
            cols[str(name)] = a
        object.__setattr__(self, "columns", cols)
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "metadata", dict(self.metadata))
        problems = _check(self.kind, self.labels, cols, where=lambda c, t: _where(c, t))
        if problems:
            raise ProfileError(self.source, problems)

    @property
    def periods(self) -> int:
        return len(self.labels)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise ProfileError(self.source, [(
                f"column {name!r}", "no such profile; the file has "
                + ", ".join(repr(c) for c in self.columns))]) from None


def _where(column: str | None, period: int | None, line: int | None = None) -> str:
    out = f'column "{column}"' if column is not None else ""
    if line is not None:
        out += f", line {line}" if out else f"line {line}"
    elif period is not None:
        out += f", period {period}" if out else f"period {period}"
    return out


def _check(kind: str, labels: tuple[str, ...], cols: Mapping[str, np.ndarray],
           where) -> list[tuple[str, str]]:  # noqa: ANN001
    """The value rules of a kind; ``where(column, period)`` says where a problem is."""
    problems: list[tuple[str, str]] = []
    if kind not in KINDS:
        return [("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")]
    if not cols:
        problems.append(("", "no profile columns (besides period and label)"))
    if len(set(labels)) != len(labels):
        dup = sorted({x for x in labels if labels.count(x) > 1})
        problems.append(('column "label"', "labels must be distinct; repeated: "
                         + ", ".join(repr(x) for x in dup)))
    for name, a in cols.items():
        if a.shape != (len(labels),):
            problems.append((where(name, None), f"expected {len(labels)} values (one per"
                             f" period), got {a.size}"))
            continue
        for t, x in enumerate(a, start=1):
            if not math.isfinite(x):
                problems.append((where(name, t), f"must be a finite number (got {x})"))
            elif kind == "availability" and not 0.0 <= x <= 1.0:
                problems.append((where(name, t), f"must be in [0, 1] (got {x:g})"))
            elif kind == "load" and x < 0.0:
                problems.append((where(name, t), f"must be >= 0 (got {x:g})"))
        if kind == "load" and np.all(np.isfinite(a)) and not a.sum() > 0.0:
            problems.append((where(name, None), "the daily total must be positive"))
    return problems


def read_profiles(path: str | Path | Traversable, kind: str | None = None) -> Profiles:
    """Read and validate a profile CSV.

    ``kind`` is ``"availability"`` or ``"load"``; when omitted it is taken from the file's
    ``# kind:`` line. Raises :class:`ProfileError` naming the file, column and line of every
    problem.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8") if isinstance(path, Traversable) \
            else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(source, [("", f"cannot read the file ({exc})")]) from None
    return parse_profiles(text, kind=kind, source=source)


def parse_profiles(text: str, kind: str | None = None, source: str = "<text>") -> Profiles:
    """:func:`read_profiles` on the text of a file."""
    metadata: dict[str, str] = {}
    body: list[tuple[int, str]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            key, sep, value = stripped.lstrip("#").partition(":")
            if sep and key.strip():
                metadata[key.strip()] = value.strip()
        elif stripped:
            body.append((n, line))
    if kind is None:
        kind = metadata.get("kind")
        if kind is None:
            raise ProfileError(source, [("", "no '# kind: availability' or '# kind: load'"
                                         " line, and no kind given")])
    if kind not in KINDS:
        raise ProfileError(source, [("kind", f"must be one of {', '.join(KINDS)},"
                                     f" got {kind!r}")])
    if not body:
        raise ProfileError(source, [("", "no header row (period,label,<profiles>...)")])
    rows = list(csv.reader(io.StringIO("\n".join(line for _, line in body))))
    lines = [n for n, _ in body]
    header = [h.strip() for h in rows[0]]
    problems: list[tuple[str, str]] = []
    if "period" not in header:
        raise ProfileError(source, [(f"line {lines[0]}", "the header row needs a 'period'"
                                     f" column; got {', '.join(map(repr, header))}")])
    for h in header:
        if not h:
            problems.append((f"line {lines[0]}", "a column has an empty name"))
    dup = sorted({h for h in header if h and header.count(h) > 1})
    if dup:
        problems.append((f"line {lines[0]}", "repeated columns: " + ", ".join(map(repr, dup))))
    if problems:
        raise ProfileError(source, problems)
    i_period = header.index("period")
    i_label = header.index("label") if "label" in header else None
    data_idx = [i for i, h in enumerate(header) if i not in (i_period, i_label)]
    data = rows[1:]
    if not data:
        raise ProfileError(source, [("", "no data rows")])
    labels: list[str] = []
    values: dict[str, list[float]] = {header[i]: [] for i in data_idx}
    for k, row in enumerate(data):
        line = lines[k + 1]
        if len(row) != len(header):
            problems.append((f"line {line}", f"expected {len(header)} fields, got {len(row)}"))
            continue
        cell = row[i_period].strip()
        if cell != str(k + 1):
            problems.append((_where("period", None, line),
                             f"periods must run 1, 2, ... in order; expected {k + 1},"
                             f" got {cell!r}"))
        labels.append(row[i_label].strip() if i_label is not None else "")
        for i in data_idx:
            cell = row[i].strip()
            try:
                x = float(cell)
            except ValueError:
                problems.append((_where(header[i], None, line),
                                 f"expected a number, got {cell!r}"))
                x = math.nan
            else:
                if not math.isfinite(x):
                    problems.append((_where(header[i], None, line),
                                     f"must be a finite number (got {cell!r})"))
            values[header[i]].append(x)
    if problems:
        raise ProfileError(source, problems)
    if i_label is None:
        labels = list(default_labels(len(data)))
    cols = {name: np.array(v) for name, v in values.items()}
    line_of = {t: lines[t] for t in range(1, len(data) + 1)}
    check = _check(kind, tuple(labels), cols,
                   where=lambda c, t: _where(c, None, line_of[t] if t else None))
    if check:
        raise ProfileError(source, check)
    return Profiles(kind=kind, labels=tuple(labels), columns=cols, metadata=metadata,
                    source=source)


def format_profiles(p: Profiles) -> str:
    """The CSV text of ``p``: its metadata as ``# key: value`` lines, then the table."""
    out = io.StringIO()
    meta = dict(p.metadata)
    meta["kind"] = p.kind
    for key, value in meta.items():
        out.write(f"# {key}: {value}\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["period", "label", *p.columns])
    d = DECIMALS[p.kind]
    for t, label in enumerate(p.labels):
        w.writerow([t + 1, label, *(f"{p.columns[c][t]:.{d}f}" for c in p.columns)])
    return out.getvalue()


def write_profiles(path: str | Path, p: Profiles) -> None:
    """Write ``p`` as a profile CSV (see :func:`format_profiles`)."""
    Path(path).write_text(format_profiles(p), encoding="utf-8")


BUNDLED_DIR = "examples/calibration"
BUNDLED = {"availability": "solar_availability.csv", "load": "data_centre_loads.csv"}
"""The bundled profile files (package data), written by ``make_profiles.py`` beside them."""


def bundled(kind: str) -> Profiles:
    """The bundled profiles of ``kind`` (``"availability"`` or ``"load"``)."""
    if kind not in BUNDLED:
        raise ValueError(f"kind must be one of {', '.join(BUNDLED)}, got {kind!r}")
    path = files("emgame").joinpath(BUNDLED_DIR, BUNDLED[kind])
    return parse_profiles(path.read_text(encoding="utf-8"), kind=kind,
                          source=f"{BUNDLED_DIR}/{BUNDLED[kind]}")
