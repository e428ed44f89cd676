"""Consumer types given as a table (Parquet or CSV) instead of inline TOML (docs/model.md,
"Economy files").

An economy file names the table with a top-level key; its rows are appended, as consumer types,
after the file's inline ``[[consumers]]`` (if any)::

    periods = 24
    consumers_table = "consumers.parquet"     # relative to this file; or .csv

    [[consumers]]                             # optional: inline types come first
    ...

One row per type; columns (any order; names are case-sensitive):

========================  ======================================================================
``name``                  unique across all types; default ``row<k>``
``count``                 whole number >= 1 (agents of the type); default 1
``kind``                  ``ai`` (default) or ``classic``
``endowment``             required, > 0 (``ω``)
``family``                ``cobb_douglas`` (default), ``crra``, ``ces``, ``quasilinear``
``w1`` .. ``wT``          the weights ``a_1..a_T``, one column per period (or ``weight_1`` ..
                          ``weight_T``, or one list column ``weights`` in Parquet)
``goods_weight``          ``a_0``, ``classic`` rows only
``gamma``, ``r``          ``crra`` / ``ces`` rows only
``wallet``                prepaid only: a number >= 0 or ``stationary``
========================  ======================================================================

Rows are numbered from 1, the header not counted (row ``k`` is line ``k + 1`` of a CSV file). An
empty cell (a null) means "not given": the column's default where it has one, a missing value
where it is required. Every row is checked by the same rules as an inline ``[[consumers]]``
entry (:mod:`emgame.model.schema`), vectorised over whole columns; problems are reported by row
and column, at most :data:`MAX_ROWS_REPORTED` of them, the rest counted::

    consumers.parquet: row 1234, column "endowment": must be > 0 (got -1.0)

The table is read with pyarrow straight into numpy columns and becomes a
:class:`~emgame.model.economy.Population` without one Python object per row (only the names are
Python strings). A table-backed economy remembers where its rows came from: when it has more than
:data:`INLINE_LIMIT` table rows, :func:`~emgame.model.files.economy_to_dict` writes a reference
(``consumers_table`` with the table's absolute path, and ``consumers_table_digest``, a hash of
the file's content) instead of the rows, provided the file is unchanged since it was read;
otherwise (small tables, changed files, economies built in Python) every type is written
inline. Reading such a dictionary back checks the digest, so an edited table is never taken for
the one that was written (and a sweep's point ids, which hash the economy, follow the content).

Checking the rows is :mod:`emgame.model.table_check`; writing tables and TOML,
:mod:`emgame.model.table_io`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emgame.model.economy import _COLUMNS, FAMILIES, Population

MAX_ROWS_REPORTED = 10
"""At most this many bad cells are named in one error; the rest are counted."""

INLINE_LIMIT = 1000
"""A table-backed economy with more table rows than this is written as a reference."""

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}

_SCALAR_COLUMNS = ("name", "count", "kind", "endowment", "family", "goods_weight", "gamma", "r",
                   "wallet")
_WEIGHT_COLUMN = re.compile(r"^(w|weight_)(\d+)$")
_KINDS = ("ai", "classic")
_CRRA, _CES, _QUASILINEAR = (FAMILIES.index(f) for f in ("crra", "ces", "quasilinear"))


# --------------------------------------------------------------------------------------------
# Where a population's rows came from.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableOrigin:
    """A consumer population loaded from ``path``: its first ``inline`` rows came from the TOML
    file, the rest from the table; ``stamp`` is the file's (size, mtime) when it was read."""

    path: str
    inline: int
    stamp: tuple[int, int]

    def unchanged(self) -> bool:
        try:
            return _stamp(self.path) == self.stamp
        except OSError:
            return False

    def digest(self) -> str:
        """A hash of the table file's content (computed once per file version)."""
        key = (self.path, self.stamp)
        if key not in _DIGESTS:
            _DIGESTS[key] = file_digest(self.path)
        return _DIGESTS[key]


_DIGESTS: dict[tuple[str, tuple[int, int]], str] = {}


def file_digest(path: str | Path) -> str:
    """BLAKE2b (128 bits, hex) of a file's bytes, read in blocks."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


_ORIGINS: weakref.WeakKeyDictionary[Population, TableOrigin] = weakref.WeakKeyDictionary()


def _stamp(path: str | Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def table_origin(pop: Population) -> TableOrigin | None:
    """Where ``pop``'s table rows were read from (``None`` if it was not read from a table)."""
    return _ORIGINS.get(pop)


def remember_origin(pop: Population, path: str | Path, inline: int) -> None:
    p = Path(path).resolve()
    _ORIGINS[pop] = TableOrigin(str(p), int(inline), _stamp(p))


# --------------------------------------------------------------------------------------------
# Problems, collected column by column.
# --------------------------------------------------------------------------------------------


class TableError(ValueError):
    """Problems with a table; ``problems`` are ``(key, problem)`` pairs as for
    :class:`~emgame.model.schema.EconomyFileError` (the schema wraps this into one)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {p}" if k else p for k, p in problems))


class _Problems:
    def __init__(self, n: int) -> None:
        self.columns: list[tuple[str, str]] = []
        self.cells: list[tuple[int, int, str, str]] = []  # (row, order, column, problem)
        self.count = 0
        self.bad = np.zeros(n, dtype=bool)
        self._order: dict[str, int] = {}

    def column(self, column: str, problem: str) -> None:
        self.columns.append((f"column {json.dumps(column)}", problem))

    def rows(self, mask: np.ndarray, column: str, problem: Callable[[int], str]) -> None:
        """Rows where ``mask`` holds break a rule; ``problem(i)`` says how (row ``i``, 0-based)."""
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        self.count += idx.size
        self.bad[idx] = True
        order = self._order.setdefault(column, len(self._order))
        for i in idx[:MAX_ROWS_REPORTED]:
            self.cells.append((int(i), order, column, problem(int(i))))

    def __bool__(self) -> bool:
        return bool(self.columns or self.cells)

    def report(self) -> list[tuple[str, str]]:
        out = list(self.columns)
        cells = sorted(self.cells)[:MAX_ROWS_REPORTED]
        out += [(f"row {i + 1}, column {json.dumps(col)}", msg) for i, _, col, msg in cells]
        rest = self.count - len(cells)
        if rest > 0:
            rows = int(self.bad.sum())
            out.append(("", f"... and {rest} more problem{'s' * (rest > 1)} "
                            f"({rows} bad row{'s' * (rows > 1)} in all)"))
        return out


def _got(v: Any) -> str:
    if isinstance(v, str):
        return f"(got {json.dumps(v, ensure_ascii=False)})"
    if isinstance(v, float | np.floating):
        return f"(got {float(v)!r})"
    return f"(got {v!r})"


# --------------------------------------------------------------------------------------------
# Reading.
# --------------------------------------------------------------------------------------------


def table_format(path: str | Path) -> str | None:
    name = str(path).lower()
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix):
            return fmt
    return None


def read_table(path: str | Path):  # noqa: ANN201  (pyarrow.Table; pyarrow imported lazily)
    """Read a Parquet or CSV table with pyarrow. Raises :class:`TableError`."""
    import pyarrow as pa

    fmt = table_format(path)
    if fmt is None:
        raise TableError([("", "unknown table format: the file name must end in "
                               + ", ".join(FORMATS))])
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path, memory_map=True)  # much faster for 10⁶ rows
        import pyarrow.csv as pcsv

        # Text columns stay text (a name "1" is a name); empty cells are nulls ("not given").
        text = {c: pa.string() for c in ("name", "kind", "family")}
        return pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
            column_types=text, strings_can_be_null=True))
    except FileNotFoundError:
        raise TableError([("", "cannot read table: no such file")]) from None
    except OSError as exc:
        raise TableError([("", f"cannot read table: {exc}")]) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowException) as exc:
        raise TableError([("", f"cannot read table: {str(exc).splitlines()[0]}")]) from None


@dataclass(frozen=True)
class TableContext:
    """What the rows are checked against: the economy file's other keys.

    ``taken`` maps names already used to where (``"consumers[0]"``, ``"producers[1]"``);
    ``wallet_reference`` is ``(key, stationary?)`` of the first wallet in the file, if any
    (``("producers[0].wallet", True)``).
    """

    periods: int
    prepaid: bool = False
    taken: Mapping[str, str] | None = None
    wallet_reference: tuple[str, bool] | None = None


def load_consumer_table(path: str | Path, ctx: TableContext) -> Population:
    """Read and check a consumer table (Parquet or CSV). Raises :class:`TableError`."""
    from emgame.model.table_check import consumers_from_table

    return consumers_from_table(read_table(path), ctx)


def concat(first: Population, second: Population) -> Population:
    """``first``'s types followed by ``second``'s (same periods)."""
    if not len(first):
        return second
    return Population(names=first.names + second.names,
                      **{c: np.concatenate([getattr(first, c), getattr(second, c)])
                         for c in _COLUMNS})


def __getattr__(name: str) -> Any:
    # Kept importable from here: the checking and the writing live in their own modules.
    if name in ("consumers_from_table",):
        from emgame.model import table_check

        return getattr(table_check, name)
    if name in ("population_table", "write_table", "dump_toml"):
        from emgame.model import table_io

        return getattr(table_io, name)
    raise AttributeError(f"module 'emgame.model.tables' has no attribute {name!r}")
