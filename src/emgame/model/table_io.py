"""Writing consumer populations as tables (Parquet or CSV) and economies as TOML text."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from emgame.model.economy import FAMILIES, Population
from emgame.model.tables import FORMATS, table_format


def population_table(pop: Population, *, prepaid: bool = False,  # noqa: ANN201
                     weights: str = "columns"):
    """A consumer population as a pyarrow table in the format read above: weights as columns
    ``w1..wT`` (``weights="columns"``) or one fixed-size list column ``weights``
    (``weights="list"``, Parquet only, the fastest to read); the optional columns only where
    some row needs them."""
    import pyarrow as pa

    cols: dict[str, Any] = {
        "name": pa.array(pop.names, pa.string()),
        "count": pa.array(pop.count.astype(np.int64)),
        "kind": pa.array(np.where(pop.classic, "classic", "ai")),
        "endowment": pa.array(pop.endowment),
        "family": pa.array(np.asarray(FAMILIES)[pop.family.astype(np.int64)]),
    }
    if weights == "list":
        T = pop.periods
        flat = pa.array(np.ascontiguousarray(pop.weights).reshape(-1))
        cols["weights"] = pa.FixedSizeListArray.from_arrays(flat, T)
    elif weights == "columns":
        for t in range(pop.periods):
            cols[f"w{t + 1}"] = pa.array(pop.weights[:, t])
    else:
        raise ValueError(f'weights must be "columns" or "list", not {weights!r}')
    if pop.classic.any():
        cols["goods_weight"] = pa.array(pop.goods_weight, mask=~pop.classic)
    for c in ("gamma", "r"):
        v = getattr(pop, c)
        if np.isfinite(v).any():
            cols[c] = pa.array(v, mask=np.isnan(v))
    if prepaid:
        if np.isnan(pop.wallet).all():
            cols["wallet"] = pa.array(["stationary"] * len(pop))
        else:
            cols["wallet"] = pa.array(pop.wallet)
    return pa.table(cols)


def write_table(pop: Population, path: str | Path, *, prepaid: bool = False,
                weights: str = "columns") -> Path:
    """Write a consumer population as Parquet or CSV (by the file name's ending); ``weights``
    as in :func:`population_table`."""
    table = population_table(pop, prepaid=prepaid, weights=weights)
    fmt = table_format(path)
    path = Path(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    elif fmt == "csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path)
    else:
        raise ValueError(f"unknown table format: {path} (expected {', '.join(FORMATS)})")
    return path


def dump_toml(data: Mapping[str, Any]) -> str:
    """A dictionary shaped like an economy file as TOML text (the inverse of ``tomllib``),
    written by tomli-w."""
    return tomli_w.dumps(data)
