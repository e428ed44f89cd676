"""The results store's tables (``docs/store.md``): the columns of ``points`` and ``types``, the
DDL, and the Arrow batches rows are inserted as."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emgame.analysis.summary import POINT_FIELDS
from emgame.analysis.worker import SEARCH_FIELDS

SCHEMA_VERSION = "1"

POINT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("point_id", "VARCHAR NOT NULL"),
    ("concept", "VARCHAR NOT NULL"),
    ("status", "VARCHAR NOT NULL"),
    ("reason", "VARCHAR"),
    ("ok", "BOOLEAN NOT NULL"),
    ("params", "JSON NOT NULL"),
    ("periods", "INTEGER"),
    ("period_labels", "VARCHAR[]"),
    ("price_goods", "DOUBLE"),
    ("prices", "DOUBLE[]"),
    ("relative_prices", "DOUBLE[]"),
    ("mean_relative_price", "DOUBLE"),
    ("min_relative_price", "DOUBLE"),
    ("max_relative_price", "DOUBLE"),
    ("production", "DOUBLE[]"),
    ("production_total", "DOUBLE"),
    ("verification", "DOUBLE[]"),
    ("verification_total", "DOUBLE"),
    ("verification_share", "DOUBLE"),
    ("consumption", "DOUBLE[]"),
    ("consumption_total", "DOUBLE"),
    ("capacity_total", "DOUBLE"),
    ("participation", "DOUBLE"),
    ("active_posts", "INTEGER"),
    ("mean_markup", "DOUBLE"),
    ("mean_lerner", "DOUBLE"),
    ("max_regret", "DOUBLE"),
    ("max_relative_regret", "DOUBLE"),
    ("certified", "BOOLEAN"),
    # The every-equilibrium search (sweep files with all = true); NULL without it.
    ("equilibria_found", "INTEGER"),
    ("symmetric_found", "INTEGER"),
    ("active_found", "INTEGER"),
    ("split_found", "INTEGER"),
    ("starts", "INTEGER"),
    ("starts_reached", "INTEGER[]"),
    ("iterations", "INTEGER"),
    ("evaluations", "INTEGER"),
    ("seconds", "DOUBLE"),
    ("seconds_worker", "DOUBLE"),
    ("warm_start_from", "VARCHAR"),
    ("worker", "VARCHAR"),
    ("solved_at", "TIMESTAMP"),
    # JSON text, stored as VARCHAR: DuckDB's JSON type would parse and check every 30 KB
    # solution on insert (4x the cost of the whole write); its JSON functions read VARCHAR.
    ("economy", "VARCHAR"),
    ("solution", "VARCHAR"),
    ("equilibria", "VARCHAR"),
)
"""The fixed columns of ``points``, in order (parameter columns are added per sweep)."""

SEARCH_COLUMNS = SEARCH_FIELDS
"""Columns of ``points`` added after schema version 1 was first released (the every-equilibrium
search): a store made before them gets them, ``NULL``, when next opened for writing; readers
of such a store find them absent and treat them as ``NULL``."""

OUTCOME_COLUMNS = frozenset(POINT_FIELDS) - {"periods", "period_labels", "max_regret",
                                             "max_relative_regret", "certified"}
"""Columns left ``NULL`` for points that are not equilibria."""

TYPE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("point_id", "VARCHAR NOT NULL"),
    ("concept", "VARCHAR NOT NULL"),
    ("role", "VARCHAR NOT NULL"),
    ("type_index", "INTEGER NOT NULL"),
    ("name", "VARCHAR NOT NULL"),
    ("kind", "VARCHAR"),
    ("count", "BIGINT"),
    ("utility", "DOUBLE"),
    ("regret", "DOUBLE"),
    ("certified", "BOOLEAN"),
    ("goods", "DOUBLE"),
    ("revenue", "DOUBLE"),
    ("spending", "DOUBLE"),
    ("budget_multiplier", "DOUBLE"),
    ("bids", "DOUBLE[]"),
    ("electricity", "DOUBLE[]"),
    ("consumption", "DOUBLE[]"),
    ("verification", "DOUBLE[]"),
    ("electricity_total", "DOUBLE"),
    ("consumption_total", "DOUBLE"),
    ("verification_total", "DOUBLE"),
    ("posts_paid", "INTEGER"),
    ("participation", "DOUBLE"),
    ("offers", "DOUBLE[]"),
    ("inputs", "DOUBLE[]"),
    ("capacity", "DOUBLE"),
    ("capacity_withheld", "DOUBLE[]"),
    ("markups", "DOUBLE[]"),
    ("lerner", "DOUBLE[]"),
    ("mean_markup", "DOUBLE"),
    ("production_total", "DOUBLE"),
)
"""The columns of ``types``, in order."""

JSON_COLUMNS = ("params", "economy", "solution", "equilibria")
"""Heavy JSON columns, left out of exports unless asked for."""


def _ddl() -> list[str]:
    points = ",\n    ".join(f"{quote(c)} {t}" for c, t in POINT_COLUMNS)
    types = ",\n    ".join(f"{quote(c)} {t}" for c, t in TYPE_COLUMNS)
    return [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        """CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    source VARCHAR,
    concepts VARCHAR[] NOT NULL,
    n_points INTEGER NOT NULL,
    parameters JSON NOT NULL,
    spec JSON NOT NULL,
    base_economy JSON NOT NULL,
    emgame_version VARCHAR,
    created TIMESTAMP)""",
        """CREATE TABLE IF NOT EXISTS sweep_points (
    sweep_id VARCHAR NOT NULL,
    point_id VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (sweep_id, point_id))""",
        f"""CREATE TABLE IF NOT EXISTS points (
    {points},
    PRIMARY KEY (point_id, concept))""",
        f"""CREATE TABLE IF NOT EXISTS types (
    {types},
    PRIMARY KEY (point_id, concept, role, type_index))""",
    ]


def quote(name: str) -> str:
    """A SQL identifier, double-quoted (parameter paths hold dots, stars and dashes)."""
    return '"' + name.replace('"', '""') + '"'


def _literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _param(v: Any) -> float | None:
    return None if v is None else float(v)


_ARROW_TYPES: dict[str, Any] = {}


def _arrow_type(sql: str) -> Any:
    import pyarrow as pa

    if not _ARROW_TYPES:
        _ARROW_TYPES.update({
            "VARCHAR": pa.string(), "JSON": pa.string(), "BOOLEAN": pa.bool_(),
            "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
            "DOUBLE[]": pa.list_(pa.float64()), "VARCHAR[]": pa.list_(pa.string()),
            "INTEGER[]": pa.list_(pa.int32()),
            "TIMESTAMP": pa.timestamp("us")})
    return _ARROW_TYPES[sql.split(" NOT NULL")[0].split(" PRIMARY")[0].strip()]


def _arrow(names: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    """Rows as a pyarrow Table with the store's column types (a bad value raises here, inside
    the caller's transaction)."""
    import pyarrow as pa

    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    arrays = [pa.array(list(col), type=_arrow_type(t)) for col, t in zip(columns, types,
                                                                            strict=True)]
    return pa.Table.from_arrays(arrays, names=list(names))
