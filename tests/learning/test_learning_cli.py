"""``emgame learn``: the user's whole path from a learning file to stored sessions, printed
summaries, JSON and the HTML report.

Facts checked: sessions are stored one row each and a second run resumes (runs nothing new);
the JSON summary carries Δ, the convergence share and the benchmarks; the report is
self-contained (no script, no external resource); a bad key exits 2 naming the file and the key;
sessions run on a local Dask cluster give exactly the rows a serial run gives (reproducible from
their seeds, whatever the executor).
"""

from __future__ import annotations

import json

import duckdb
import pytest
from typer.testing import CliRunner

from emgame.cli import app

FAST_CALVANO = """
name = "fast calvano"
[learning]
environment = "calvano"
beta = 1e-4
stable_rounds = 2000
max_rounds = 300000
"""


@pytest.fixture()
def calvano_file(tmp_path):
    p = tmp_path / "calvano.toml"
    p.write_text(FAST_CALVANO)
    return p


def _rows(store):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT idx, seed, rounds, mean_delta, learned FROM "
                           "learning_sessions ORDER BY idx").fetchall()
    finally:
        con.close()


def test_learn_stores_sessions_and_resumes(calvano_file, tmp_path):
    store = tmp_path / "s.duckdb"
    r = CliRunner().invoke(app, ["learn", str(calvano_file), "-n", "3", "--store", str(store),
                                 "--serial", "--report", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    assert "profit gain" in r.output
    assert len(_rows(store)) == 3
    page = (tmp_path / "r.html").read_text()
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    assert "data:image/png;base64," in page
    r = CliRunner().invoke(app, ["learn", str(calvano_file), "-n", "3", "--store", str(store),
                                 "--serial", "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)[0]
    assert s["sessions"] == 3 and s["delta"]["n"] == 3
    assert set(s["benchmark_price_index"]) == {"nash", "competitive", "collusive"}
    assert len(_rows(store)) == 3


def test_bad_key_exits_2_naming_file_and_key(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(FAST_CALVANO.replace("beta = 1e-4", "betta = 1e-4"))
    r = CliRunner().invoke(app, ["learn", str(p), "--store", str(tmp_path / "s.duckdb")])
    assert r.exit_code == 2
    assert "bad.toml" in r.output and "learning.betta" in r.output
    assert "Traceback" not in r.output


@pytest.mark.slow
def test_dask_sessions_equal_serial_sessions(calvano_file, tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    r = CliRunner().invoke(app, ["learn", str(calvano_file), "-n", "4", "--store", str(a),
                                 "--serial", "-q"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["learn", str(calvano_file), "-n", "4", "--store", str(b),
                                 "--workers", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert _rows(a) == _rows(b)
