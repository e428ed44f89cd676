"""The learning tables of a DuckDB store: one row per session, idempotent writes, and a store
written by an earlier version (fewer columns) opened and written to without loss."""

from __future__ import annotations

import duckdb

from emgame.learning import LearningConfig, calvano_game, run_session
from emgame.learning.config import parse_learning
from emgame.learning.store import LearningStore


def _row(index: int) -> dict:
    game = calvano_game()
    r = run_session(game, LearningConfig(environment="calvano", beta=1e-3, stable_rounds=500),
                    index)
    d = r.to_dict()
    d["path"] = [int(x) for x in r.path if x >= 0]
    return d


def test_writes_are_idempotent_and_old_stores_gain_new_columns(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE learning_runs (run_id VARCHAR PRIMARY KEY, name VARCHAR, source "
                "VARCHAR, environment VARCHAR, algorithm VARCHAR, config VARCHAR, economy "
                "VARCHAR, game VARCHAR, created TIMESTAMP)")
    con.execute("CREATE TABLE learning_sessions (run_id VARCHAR NOT NULL, idx INTEGER NOT NULL, "
                "seed BIGINT, PRIMARY KEY (run_id, idx))")
    con.execute("INSERT INTO learning_sessions VALUES ('old', 0, 1)")
    con.close()
    spec = parse_learning({"learning": {"environment": "calvano"}}, "<t>")
    with LearningStore(path) as st:
        st.register(spec, calvano_game())
        rows = [_row(0), _row(1)]
        st.write(spec.run_id, rows)
        st.write(spec.run_id, rows)           # stored once
        assert st.stored(spec.run_id) == {0, 1}
        got = st.sessions(spec.run_id, with_paths=True)
        assert [g["idx"] for g in got] == [0, 1]
        assert got[1]["learned"] == rows[1]["learned"]
        assert got[0]["patterns_all"] == rows[0]["patterns_all"]
        assert st.stored("old") == {0}
        assert st.runs()[0]["point"] is None
