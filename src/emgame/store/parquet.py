"""A solution as a Parquet file: one row per agent type, the economy-level summary in the
file's metadata (``emgame solve FILE --out result.parquet``).

Columns (docs/model.md, "Outputs"): ``concept`` and ``role`` first, then every per-type field
of :meth:`Solution.to_dict <emgame.results.Solution.to_dict>` flattened to one column per period
(and per state when there are several), with names usable in R and Stata (``bid_goods``,
``bid_1..bid_T``, ``electricity_1..``, ``consumption_1..`` or ``consumption_s2_1..``, ...).
Producer-only columns are null on consumer rows and the other way round. Quantities are for
**one** agent of the type, as in the JSON.

The schema metadata key ``emgame`` holds JSON: ``{"format": 1, "status", "concepts",
"solutions": {concept: Solution.summary()}, "comparison": ...}`` (read it with
``pyarrow.parquet.read_schema(path).metadata[b"emgame"]``, or :func:`read_summary`).

Rows are written in row groups of :data:`ROW_GROUP` types, each built from slices of the
solution's arrays, so that memory beyond the solution itself stays bounded whatever the size.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emgame._columns import ROLE_NAMES, ROLES, Field, fields, flat
from emgame._extras import require

if TYPE_CHECKING:  # pragma: no cover
    from emgame.results import Solution

ROW_GROUP = 1 << 17
"""Types per row group (and per write)."""

FORMAT = 1
"""Version of the file layout (bumped when a column changes meaning)."""

_TEXT = ("concept", "role", "name", "kind")


def _arrow_type(name: str, values: np.ndarray) -> Any:
    pa = require("pyarrow", "tables", "Parquet output")
    if name in _TEXT:
        return pa.string()
    if values.dtype == bool:
        return pa.bool_()
    if name == "count":
        return pa.int64()
    return pa.float64()


def write_solutions(path: str | Path, solutions: Sequence[Solution],
                    extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``solutions`` (of one economy; one per concept) to a Parquet file.

    Parameters
    ----------
    path : str or Path
        The file (parents are created).
    solutions : sequence of Solution
        Their per-type rows, one concept after the other; a solution without a candidate
        profile contributes no rows (its summary says why).
    extra : mapping, optional
        More JSON-ready entries for the metadata (the comparison of ``--concept both``).

    Returns
    -------
    Path
        The file written.
    """
    pa = require("pyarrow", "tables", "Parquet output")
    pq = require("pyarrow.parquet", "tables", "Parquet output")
    from emgame.report.jsonio import dumps

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # (concept, role, the role's fields, states, types): columns are made block by block.
    parts: list[tuple[str, str, list[Field], int, int]] = []
    for sol in solutions:
        if sol.outcome is None or sol.profile is None:
            continue
        for role in ROLES:
            n = len(getattr(sol.economy, role))
            if n:
                parts.append((sol.concept, role, fields(sol, role), sol.economy.S, n))
    # The union of the columns, in order of first appearance, with their types (read off a
    # one-row block).
    schema_fields: dict[str, Any] = {"concept": pa.string()}
    for _, role, fl, S, _ in parts:
        for name, values in _block(role, fl, S, 0, 1).items():
            if name not in schema_fields:
                schema_fields[name] = _arrow_type(name, values)
    statuses = [s.status.value for s in solutions]
    meta = {"format": FORMAT,
            "status": next((s for s in statuses if s != "equilibrium"), "equilibrium"),
            "concepts": [s.concept for s in solutions],
            "economy": solutions[0].economy.name if solutions else None,
            "solutions": {s.concept: s.summary() for s in solutions},
            **dict(extra or {})}
    schema = pa.schema([pa.field(k, t) for k, t in schema_fields.items()],
                       metadata={"emgame": dumps(meta, indent=False)})
    nulls: dict[tuple[int, Any], Any] = {}

    def null(n: int, t: Any) -> Any:
        # One all-null array per length and type, shared by every absent column.
        key = (n, t)
        if key not in nulls:
            nulls[key] = pa.nulls(n, t)
        return nulls[key]

    # Dictionary encoding only for the few text columns that repeat: tried on a million
    # distinct floats it falls back after costing ten times the write itself.
    def tables():
        for concept, role, fl, S, n in parts:
            for a in range(0, n, ROW_GROUP):
                b = min(n, a + ROW_GROUP)
                cols = _block(role, fl, S, a, b)
                arrays = []
                for name, t in schema_fields.items():
                    if name == "concept":
                        arrays.append(pa.array([concept] * (b - a), pa.string()))
                    elif name in cols:
                        v = cols[name]
                        arrays.append(pa.array(v.tolist() if v.dtype == object else v, t))
                    else:
                        arrays.append(null(b - a, t))
                yield pa.Table.from_arrays(arrays, schema=schema)

    # Dictionary encoding only for the few text columns that repeat: tried on a million
    # distinct floats it falls back after costing ten times the write itself. One thread
    # writes a row group (pyarrow releases the GIL) while the next one is built.
    with pq.ParquetWriter(target, schema, compression="snappy",
                          use_dictionary=[c for c in ("concept", "role", "kind")
                                          if c in schema_fields]) as writer, \
            ThreadPoolExecutor(max_workers=1) as pool:
        if not parts:
            writer.write_table(schema.empty_table())
        pending = None
        for table in tables():
            if pending is not None:
                pending.result()
            pending = pool.submit(writer.write_table, table, row_group_size=ROW_GROUP)
        if pending is not None:
            pending.result()
    return target


def _block(role: str, fl: Sequence[Field], states: int, a: int, b: int) -> dict[str, Any]:
    """The flat columns of rows ``a:b`` of one role (each transposed only for these rows,
    which keeps memory bounded and the copies in cache)."""
    out: dict[str, Any] = {"role": np.full(b - a, ROLE_NAMES[role])}
    for f in fl:
        v = f.values[a:b]
        if isinstance(v, tuple):
            v = np.asarray(v, dtype=object)
        for name, col in flat(Field(f.name, v, f.axis), states):
            out[name] = np.asarray(col)
    return out


def read_summary(path: str | Path) -> dict[str, Any]:
    """The ``emgame`` metadata of a solution Parquet file.

    Raises
    ------
    ValueError
        When the file is not a solution written by emgame.
    """
    pq = require("pyarrow.parquet", "tables", "reading Parquet results")
    try:
        meta = pq.read_schema(path).metadata or {}
    except OSError as exc:
        raise ValueError(f"{path}: cannot read as Parquet: {exc}") from None
    if b"emgame" not in meta:
        raise ValueError(f"{path}: a Parquet file, but not a solution written by emgame "
                         "(no 'emgame' metadata)")
    return json.loads(meta[b"emgame"])


def read_types(path: str | Path, columns: Sequence[str] | None = None,
               concept: str | None = None) -> Any:
    """The per-type rows (a pyarrow Table), only ``columns`` if given, one ``concept`` if
    given."""
    pq = require("pyarrow.parquet", "tables", "reading Parquet results")
    filters = None if concept is None else [("concept", "=", concept)]
    return pq.read_table(path, columns=list(columns) if columns is not None else None,
                         filters=filters)
