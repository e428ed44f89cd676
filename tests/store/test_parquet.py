"""A solution as Parquet (emgame.store.parquet): one row per type in several row groups, every
column equal to the pandas frame's (the same per-type arrays), the summary in the metadata."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

import emgame.store.parquet as parquet
from emgame import solve_both
from emgame.store.parquet import read_summary, read_types, write_solutions
from oracles import cd, consumer, economy, producer


@pytest.fixture(scope="module")
def both():
    cons = [consumer(f"c{k}", 1 + k % 4, 0.5 + 0.02 * k, cd(0.2 + 0.01 * k, 0.8 - 0.01 * k))
            for k in range(30)]
    e = economy("thirty", 2, cons, [producer("p", 3, 2.0, 0.8, cd(0.5, 0.5), capacity=1e3),
                                    producer("q", 2, 1.5, 0.9, cd(0.4, 0.6), capacity=1e3)])
    nash, comp = solve_both(e)
    assert nash.ok and comp.ok
    return nash, comp


def test_row_groups_hold_every_type_in_order(tmp_path, both, monkeypatch):
    """Blocks of 7 rows (so that types span several row groups and both roles): the file is
    the frames of both concepts, row for row, column for column."""
    monkeypatch.setattr(parquet, "ROW_GROUP", 7)
    nash, comp = both
    path = write_solutions(tmp_path / "r.parquet", [nash, comp])
    f = pq.ParquetFile(path)
    assert f.metadata.num_row_groups > 4
    table = f.read().to_pandas()
    for concept, sol in (("nash", nash), ("competitive", comp)):
        got = table[table["concept"] == concept].drop(columns="concept").reset_index(drop=True)
        want = sol.to_frame()
        assert list(got["name"]) == list(want["name"])
        for col in want.columns:
            a, b = got[col].to_numpy(), want[col].to_numpy()
            if a.dtype.kind == "f" or b.dtype.kind == "f":
                np.testing.assert_array_equal(a.astype(float), b.astype(float), err_msg=col)
            else:
                assert list(a) == list(b), col
    meta = read_summary(path)
    assert meta["concepts"] == ["nash", "competitive"]
    assert meta["solutions"]["nash"]["types"] == {"consumers": 30, "producers": 2}
    assert read_types(path, ["name"], concept="competitive").num_rows == 32


def test_a_file_that_is_not_a_solution(tmp_path):
    import pyarrow as pa

    pq.write_table(pa.table({"a": [1]}), tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="not a solution written by emgame"):
        read_summary(tmp_path / "x.parquet")
