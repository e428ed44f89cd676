"""The results store: schema, idempotent and atomic writes, resume, failures, exports."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from emgame.analysis.sweep import load_sweep, tasks
from emgame.analysis.worker import ERROR, failed_result, solve_task
from emgame.store import POINT_COLUMNS, TYPE_COLUMNS, Store, StoreError, open_store
from sweep_helpers import grid_sweep


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """A 2 × 2 sweep of the small economy, both concepts, solved in this process."""
    folder = tmp_path_factory.mktemp("sweep")
    sw = load_sweep(grid_sweep(folder, 2, 2))
    results = [r for t in tasks(sw, chunk_size=2) for r in solve_task(t)]
    assert all(r.ok for r in results), [r.reason for r in results if not r.ok]
    return sw, results


def count(store: Store, table: str = "points") -> int:
    return store.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_schema_and_parameter_columns(tmp_path, solved):
    sw, _ = solved
    with open_store(tmp_path / "r.duckdb") as st:
        st.register(sw)
        cols = [r["column_name"] for r in st.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'points' "
            "ORDER BY ordinal_position")]
        assert cols[:len(POINT_COLUMNS)] == [c for c, _ in POINT_COLUMNS]
        assert st.param_columns() == ["producers.farms.count", "consumers.dc.endowment"]
        tcols = [r["column_name"] for r in st.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'types' "
            "ORDER BY ordinal_position")]
        assert tcols == [c for c, _ in TYPE_COLUMNS]
        assert count(st, "sweep_points") == 4
        st.register(sw)  # idempotent
        assert count(st, "sweep_points") == 4 and count(st, "sweeps") == 1


def test_write_is_idempotent_and_resume_skips_stored_rows(tmp_path, solved):
    sw, results = solved
    with open_store(tmp_path / "r.duckdb") as st:
        pending = st.pending(sw)
        assert sum(len(c) for c in pending.values()) == 8
        assert st.write(results[:3]) == 3
        assert st.write(results[:3]) == 0          # nothing stored twice
        assert st.write(results) == 5
        assert count(st) == 8
        assert count(st, "types") == 8 * 2         # one consumer and one producer type
        assert st.pending(sw) == {}
    with open_store(tmp_path / "r.duckdb", read_only=True) as st:  # it persisted
        assert count(st) == 8
        row = st.query('SELECT * FROM points WHERE concept = \'nash\' ORDER BY '
                       '"producers.farms.count", "consumers.dc.endowment" LIMIT 1')[0]
        assert row["status"] == "equilibrium" and row["ok"] and row["certified"]
        assert len(row["relative_prices"]) == 2 and row["periods"] == 2
        assert row["period_labels"] == ["night", "day"]
        assert row["producers.farms.count"] == 4
        assert json.loads(row["params"])["producers.farms.count"] == 4
        assert json.loads(row["solution"])["concept"] == "nash"
        assert row["participation"] == 1.0 and row["verification_share"] == 0.0
        assert row["seconds"] > 0 and row["worker"]


def test_a_failed_batch_leaves_nothing(tmp_path, solved):
    sw, results = solved
    bad_types = ({**results[1].types[0], "count": "not a number"},)
    broken = dataclasses.replace(results[1], types=bad_types)
    with open_store(tmp_path / "r.duckdb") as st:
        st.register(sw)
        with pytest.raises((duckdb.Error, ValueError)):  # DuckDB's or Arrow's refusal
            st.write([results[0], broken])
        assert count(st) == 0 and count(st, "types") == 0
        assert st.write([results[0], results[1]]) == 2


def test_failures_are_stored_with_their_reason(tmp_path, solved):
    sw, results = solved
    point = sw.points[0]
    failed = failed_result(point, "nash", "the solver raised FloatingPointError: boom")
    with open_store(tmp_path / "r.duckdb") as st:
        st.register(sw)
        st.write([failed])
        row = st.query("SELECT * FROM points")[0]
        assert row["status"] == ERROR and not row["ok"]
        assert "FloatingPointError" in row["reason"]
        assert row["relative_prices"] is None and row["solution"] is None
        assert count(st, "types") == 0
        assert st.summary()["sweeps"][0]["failures"][0]["reason"].startswith("the solver raised")
        assert (point.point_id, "nash") in st.stored(sw)
        assert st.forget_failed(sw) == 1
        assert count(st) == 0


def test_non_equilibrium_rows_have_no_outcome_columns(tmp_path, solved):
    sw, results = solved
    r = dataclasses.replace(results[0], status="no-equilibrium-found", reason="not converged")
    with open_store(tmp_path / "r.duckdb") as st:
        st.register(sw)
        st.write([r])
        row = st.query("SELECT * FROM points")[0]
        assert row["mean_relative_price"] is None and row["relative_prices"] is None
        assert row["max_regret"] is not None        # the certificate stays, for diagnosis
        assert json.loads(row["solution"])["relative_prices"] is not None  # the candidate too
        assert count(st, "types") == 0


def test_summary_and_exports(tmp_path, solved):
    sw, results = solved
    path = tmp_path / "r.duckdb"
    with open_store(path) as st:
        st.pending(sw)
        st.write(results)
        s = st.summary()
        (only,) = s["sweeps"]
        assert only["rows_expected"] == only["rows_stored"] == 8 and only["missing"] == 0
        assert only["by_status"] == {"competitive": {"equilibrium": 4},
                                     "nash": {"equilibrium": 4}}
        assert [p["path"] for p in only["parameters"]] == list(sw.paths)
        assert st.sweep(sw.sweep_id[:6])["name"] == sw.name
        assert st.sweep(sw.name)["sweep_id"] == sw.sweep_id
        with pytest.raises(StoreError, match="no sweep"):
            st.sweep("nope")
        assert st.export(tmp_path / "p.csv") == 8
        assert st.export(tmp_path / "t.parquet", table="types", sweep=sw.name) == 16
        assert st.export(tmp_path / "full.parquet", full=True) == 8
        with pytest.raises(StoreError, match="format"):
            st.export(tmp_path / "p.xlsx")
    con = duckdb.connect()
    header = (tmp_path / "p.csv").read_text().splitlines()[0]
    assert "producers_farms_count" in header and "solution" not in header
    t = con.execute(f"SELECT sweep_id, idx, name, utility FROM '{tmp_path / 't.parquet'}'"
                    ).fetchall()
    assert len(t) == 16 and all(r[0] == sw.sweep_id for r in t)
    full = con.execute(f"SELECT solution FROM '{tmp_path / 'full.parquet'}'").fetchall()
    assert all(json.loads(r[0])["status"] == "equilibrium" for r in full)


def test_csv_for_r_and_stata(tmp_path, solved):
    """CSV exports (issue 11): list columns become one column per period, every name is a
    valid R and Stata name (letters, digits, _, starting with a letter, at most 32
    characters), and rows come in the sweep's solving order. Before, the CSV held lists as
    "[0.79, 0.81]" strings, names such as "producers.farms.count", rows in hash order."""
    import csv
    import re

    sw, results = solved
    with open_store(tmp_path / "r.duckdb") as st:
        st.pending(sw)
        st.write(results)
        n, names = st.export(tmp_path / "p.csv", with_names=True)
        assert n == 8
        assert st.export(tmp_path / "t.csv", table="types") == 16
    with open(tmp_path / "p.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    safe = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
    assert all(safe.match(h) for h in header), [h for h in header if not safe.match(h)]
    assert names["producers.farms.count"] == "producers_farms_count"
    assert {"relative_prices_1", "relative_prices_2", "production_1", "production_2"} <= set(
        header)
    assert not any("[" in v for r in rows for v in r.values())
    idx = [int(r["idx"]) for r in rows]
    assert idx == sorted(idx)
    order = {p.point_id: p.index for p in sw.points}
    assert idx == [order[r["point_id"]] for r in rows]
    nash = [r for r in rows if r["concept"] == "nash"]
    stored = {(r.point_id, r.concept): r for r in results}
    for r in nash:
        rel = stored[(r["point_id"], "nash")].summary["relative_prices"]
        assert float(r["relative_prices_1"]) == pytest.approx(rel[0], rel=1e-12)
        assert float(r["relative_prices_2"]) == pytest.approx(rel[1], rel=1e-12)
    with open(tmp_path / "t.csv", newline="") as fh:
        types = list(csv.DictReader(fh))
    assert {"bid_goods", "bid_1", "bid_2", "electricity_1", "offers_2"} <= set(types[0])
    assert all(safe.match(h) for h in types[0])


def test_safe_names():
    from emgame.store.export import safe_name

    taken: set[str] = set()
    assert safe_name("verification.fixed", taken) == "verification_fixed"
    assert safe_name("consumers.*.count", taken) == "consumers_all_count"
    assert safe_name("states[1].verification.fixed[0]", taken) == "states_1_verification_fixed_0"
    assert safe_name("2nd", taken) == "x_2nd"
    long = safe_name("producers.utility-scale-solar-farms.capacity_cost", taken)
    assert len(long) <= 32
    again = safe_name("producers.utility-scale-solar-farms.capacity_cost", taken)
    assert again != long and len(again) <= 32


def test_latex_table(tmp_path, solved):
    """--latex: a booktabs table of the sweep's points, one row per point and concept."""
    pytest.importorskip("jinja2")
    sw, results = solved
    with open_store(tmp_path / "r.duckdb") as st:
        st.pending(sw)
        st.write(results)
        assert st.export_latex(tmp_path / "t.tex") == 8
    tex = (tmp_path / "t.tex").read_text()
    for s in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}", "nash",
              "competitive", r"producers.farms.count".replace("_", r"\_")):
        assert s in tex, s
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
    assert body.count(r"\\") == 8


def test_open_errors(tmp_path):
    with pytest.raises(StoreError, match="no such store"):
        open_store(tmp_path / "absent.duckdb", read_only=True)
    text = tmp_path / "text.duckdb"
    text.write_text("hello\n" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        open_store(text)
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE x (a INTEGER)").close()
    with pytest.raises(StoreError, match="not an emgame results store"):
        open_store(other)


READER = ("import sys\nfrom emgame.store import open_store, StoreError\n"
          "try:\n    st = open_store(sys.argv[1], read_only=True, wait=1)\n"
          "    print('rows', st.query('SELECT count(*) AS n FROM points')[0]['n'])\n"
          "except StoreError as e:\n    print(e)\n")


def test_a_second_process_cannot_open_a_store_held_for_writing(tmp_path):
    """A store held open for writing locks the file; a reader waits (here 1 s), then says
    the store is in use."""
    path = tmp_path / "r.duckdb"
    with open_store(path):
        out = subprocess.run([sys.executable, "-c", READER, str(path)], capture_output=True,
                             text=True, timeout=60)
    assert "in use by another process" in out.stdout, out.stderr


def test_a_store_written_in_batches_can_be_read_between_them(tmp_path, solved):
    """A sweep's store (hold=False) connects for each batch and lets readers in between:
    another process reads it while the writer is still open (issue 11: `emgame results`
    could not read a store while a sweep ran)."""
    sw, results = solved
    path = tmp_path / "r.duckdb"
    with open_store(path, hold=False) as st:
        st.pending(sw)
        st.write(results[:3])
        out = subprocess.run([sys.executable, "-c", READER, str(path)], capture_output=True,
                             text=True, timeout=60)
        assert out.stdout.strip() == "rows 3", out.stdout + out.stderr
        st.write(results[3:])
        assert len(st.stored(sw)) == 8


def test_store_file_path_is_created(tmp_path):
    path = tmp_path / "deep" / "er" / "r.duckdb"
    with open_store(path):
        pass
    assert Path(path).exists()


def test_a_store_made_before_the_search_columns_is_read_and_completed(tmp_path, solved):
    """A store written before ``points`` had the every-equilibrium columns (mimicked by
    dropping them) is still read as it is (summary, CSV and Parquet exports), and gets the
    columns, NULL for its rows (they were not searched), when next opened for writing."""
    from emgame.store.schema import SEARCH_COLUMNS

    sw, results = solved
    path = tmp_path / "old.duckdb"
    with open_store(path) as st:
        st.pending(sw)
        st.write(results[:4])
        for col in SEARCH_COLUMNS:
            st.con.execute(f"ALTER TABLE points DROP COLUMN {col}")
    with open_store(path, read_only=True) as st:
        assert st.summary()["sweeps"][0]["equilibria_found"] == {}
        assert st.export(tmp_path / "old.csv") == 4
        assert st.export(tmp_path / "old.parquet") == 4
        names = {r["column_name"] for r in st.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'points'")}
        assert not names & set(SEARCH_COLUMNS)
    with open_store(path) as st:
        assert st.write(results[4:]) == 4
        got = st.query("SELECT " + ", ".join(SEARCH_COLUMNS) + " FROM points")
        assert len(got) == 8 and all(v is None for r in got for v in r.values())
        assert st.param_columns() == ["producers.farms.count", "consumers.dc.endowment"]
