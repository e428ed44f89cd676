"""The results store: an embedded DuckDB file, one row per point and concept (``docs/store.md``).

Only the process running a sweep writes to it; :func:`open_store` with ``read_only=True`` is for
everything else (summaries, exports, figures, reports).
"""

from emgame.store.db import (
    POINT_COLUMNS,
    SCHEMA_VERSION,
    TYPE_COLUMNS,
    Store,
    StoreError,
    open_store,
    quote,
)

__all__ = [
    "POINT_COLUMNS",
    "SCHEMA_VERSION",
    "TYPE_COLUMNS",
    "Store",
    "StoreError",
    "open_store",
    "quote",
]
