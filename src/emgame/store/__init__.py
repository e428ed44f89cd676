"""Results on disk: the sweep results store (an embedded DuckDB file, one row per point and
concept; ``docs/store.md``) and single solutions as Parquet (:mod:`emgame.store.parquet`).

Only the process running a sweep writes to a store; :func:`open_store` with ``read_only=True``
is for everything else (summaries, exports, figures, reports). The store needs the ``sweep``
extra (DuckDB); its names are imported on first use, so that ``emgame.store.parquet`` works
without it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "POINT_COLUMNS",
    "SCHEMA_VERSION",
    "TYPE_COLUMNS",
    "Store",
    "StoreError",
    "open_store",
    "quote",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from emgame._extras import require

        require("duckdb", "sweep", "the results store")
        from emgame.store import db

        return getattr(db, name)
    raise AttributeError(f"module 'emgame.store' has no attribute {name!r}")
