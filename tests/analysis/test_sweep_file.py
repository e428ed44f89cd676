"""Sweep files: schema and messages, expansion (grid, list, random; cross, zip), ids, ordering."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emgame.analysis.sweep import SweepFileError, load_sweep, parse_sweep, tasks
from emgame.model import EconomyFileError
from sweep_helpers import grid_sweep, write_economy, write_sweep


def sweep_from(tmp_path: Path, body: str):
    return load_sweep(write_sweep(tmp_path, body))


def test_grid_cross_expansion_and_snake_order(tmp_path):
    sw = load_sweep(grid_sweep(tmp_path, 3, 4))
    assert len(sw.points) == 12
    assert sw.concepts == ("nash", "competitive")
    assert sw.paths == ("producers.farms.count", "consumers.dc.endowment")
    values = [p.parameters for p in sw.points]
    assert {v["producers.farms.count"] for v in values} == {4, 5, 6}
    assert all(isinstance(v["producers.farms.count"], int) for v in values)
    # neighbours in solving order differ in one parameter, by one step
    grid = np.linspace(0.5, 0.9, 4)
    for a, b in zip(values, values[1:], strict=False):
        dc = abs(a["producers.farms.count"] - b["producers.farms.count"])
        de = abs(a["consumers.dc.endowment"] - b["consumers.dc.endowment"])
        assert (dc == 1 and de == 0) or (dc == 0 and np.isclose(de, grid[1] - grid[0]))
    assert [p.index for p in sw.points] == list(range(12))
    # each point's economy has its parameters
    p = sw.points[5]
    assert p.economy["producers"][0]["count"] == p.parameters["producers.farms.count"]
    assert p.economy["consumers"][0]["endowment"] == p.parameters["consumers.dc.endowment"]


def test_ids_are_stable_and_depend_on_what_is_solved(tmp_path):
    a = load_sweep(grid_sweep(tmp_path, 2, 2))
    b = load_sweep(grid_sweep(tmp_path, 2, 2))
    assert [p.point_id for p in a.points] == [p.point_id for p in b.points]
    assert a.sweep_id == b.sweep_id
    assert len({p.point_id for p in a.points}) == 4
    # a wider grid keeps the ids of the points it shares (resume after editing the file)
    c = load_sweep(grid_sweep(tmp_path, 3, 2, name="wider.toml"))
    assert {p.point_id for p in a.points} <= {p.point_id for p in c.points}
    assert c.sweep_id != a.sweep_id
    # the concept does not change point ids (rows are keyed by point and concept)
    d = load_sweep(grid_sweep(tmp_path, 2, 2, concept="nash", name="nash.toml"))
    assert [p.point_id for p in d.points] == [p.point_id for p in a.points]
    assert d.concepts == ("nash",)


def test_ids_stable_across_processes(tmp_path):
    path = grid_sweep(tmp_path, 2, 2)
    code = ("from emgame.analysis.sweep import load_sweep; import sys; "
            "print(' '.join(p.point_id for p in load_sweep(sys.argv[1]).points))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [p.point_id for p in load_sweep(path).points]


def test_zip_groups_and_combine(tmp_path):
    body = """
[[parameters]]
path = "consumers.*.count"
operation = "multiply"
values = [1, 2, 4]
zip = "n"

[[parameters]]
path = "producers.*.count"
operation = "multiply"
values = [1, 2, 4]
zip = "n"

[[parameters]]
path = "verification.fixed"
values = [0.0, 0.001]
"""
    sw = sweep_from(tmp_path, body)
    assert len(sw.points) == 6
    for p in sw.points:
        n = p.parameters["consumers.*.count"]
        assert p.parameters["producers.*.count"] == n
        assert p.economy["consumers"][0]["count"] == 10 * n
        assert p.economy["producers"][0]["count"] == 3 * n
    zipped = sweep_from(tmp_path, 'combine = "zip"\n' + body.replace("[0.0, 0.001]",
                                                                      "[0.0, 0.001, 0.002]"))
    assert len(zipped.points) == 3


def test_random_draws_are_seeded_and_recorded(tmp_path):
    body = """seed = 7
[[parameters]]
path = "producers.farms.productivity"
random = { distribution = "uniform", low = 1.5, high = 2.5, n = 6 }
zip = "r"

[[parameters]]
path = "producers.farms.count"
random = { distribution = "integers", low = 2, high = 9, n = 6 }
zip = "r"
"""
    a = sweep_from(tmp_path, body)
    b = sweep_from(tmp_path, body)
    assert [p.params for p in a.points] == [p.params for p in b.points]
    prm = a.parameters[0]
    assert prm.source == "random" and prm.seed == {"entropy": 7, "spawn_key": [0]}
    assert a.parameters[1].seed == {"entropy": 7, "spawn_key": [1]}
    expected = np.random.default_rng(np.random.SeedSequence(7).spawn(2)[0]).uniform(1.5, 2.5, 6)
    assert sorted(prm.values) == sorted(expected.tolist())
    assert all(2 <= p.parameters["producers.farms.count"] <= 9 for p in a.points)
    other = sweep_from(tmp_path, body.replace("seed = 7", "seed = 8"))
    assert [p.params for p in other.points] != [p.params for p in a.points]
    # without a seed: one derived from the file, the same every time
    c = sweep_from(tmp_path, body.replace("seed = 7\n", ""))
    d = sweep_from(tmp_path, body.replace("seed = 7\n", ""))
    assert c.seed == d.seed and [p.params for p in c.points] == [p.params for p in d.points]


def test_grid_step_and_log(tmp_path):
    sw = sweep_from(tmp_path, """
[[parameters]]
path = "verification.fixed"
grid = { start = 0.0, stop = 0.003, step = 0.001 }
""")
    assert [p.parameters["verification.fixed"] for p in sw.points] == pytest.approx(
        [0.0, 0.001, 0.002, 0.003])
    sw = sweep_from(tmp_path, """
[[parameters]]
path = "consumers.dc.endowment"
grid = { start = 0.5, stop = 2.0, num = 3, scale = "log" }
""")
    assert [p.parameters["consumers.dc.endowment"] for p in sw.points] == pytest.approx(
        [0.5, 1.0, 2.0])


def test_repeated_values_are_one_point(tmp_path):
    sw = sweep_from(tmp_path, """
[[parameters]]
path = "verification.fixed"
values = [0.0, 0.001, 0.0]
""")
    assert len(sw.points) == 2


@pytest.mark.parametrize("body, message", [
    ("[[parameters]]\npath = 'verification.fixed'\nvales = [1]\n",
     "parameters[0].vales: unknown key (did you mean 'values'?)"),
    ("[[parameters]]\npath = 'verification.fixed'\n",
     "parameters[0]: give exactly one of values, grid or random"),
    ("[[parameters]]\npath = 'verification.fixed'\ngrid = { start = 0, stop = 1 }\n",
     "parameters[0].grid: give exactly one of num or step"),
    ("[[parameters]]\npath = 'verification.fixd'\nvalues = [1]\n",
     "parameters[0].path: 'verification.fixd': unknown field 'fixd' in verification "
     "(did you mean 'fixed'?)"),
    ("[[parameters]]\npath = 'producers.solar.count'\nvalues = [1]\n",
     "no producer type named 'solar'"),
    ("[[parameters]]\npath = 'consumers.*.count'\nvalues = [1.5]\n",
     "'consumers.*.count' takes whole numbers"),
    ("[[parameters]]\npath = 'consumers.*.count'\nvalues = [0]\n",
     "the point consumers.*.count = 0 is not a valid economy: consumers[0].count: must be >= 1"),
    ("concept = 'nsh'\n[[parameters]]\npath = 'verification.fixed'\nvalues = [1]\n",
     'concept: expected "nash", "competitive" or "both", got string "nsh"'),
    ("[[parameters]]\npath = 'verification.fixed'\nvalues = [1, 2]\nzip = 'a'\n"
     "[[parameters]]\npath = 'verification.share'\nvalues = [0.1]\nzip = 'a'\n",
     "zipped parameters (zip = 'a') need equally many values"),
    ("[[parameters]]\npath = 'verification.fixed'\nvalues = [1]\n"
     "[[parameters]]\npath = 'verification.fixed'\nvalues = [2]\n",
     "is varied twice"),
    ("[[parameters]]\npath = 'verification.fixed'\nrandom = { n = 3 }\n",
     'distribution = "uniform" needs low and high'),
    ("", "parameters: required key is missing"),
])
def test_errors_name_the_file_and_key(tmp_path, body, message):
    path = write_sweep(tmp_path, body)
    with pytest.raises(SweepFileError) as info:
        load_sweep(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_economy_references(tmp_path):
    (tmp_path / "sub").mkdir()
    write_economy(tmp_path / "sub", "e.toml")
    body = "[[parameters]]\npath = 'verification.fixed'\nvalues = [0.0]\n"
    assert len(load_sweep(write_sweep(tmp_path, body, economy="sub/e.toml")).points) == 1
    bundled = load_sweep(write_sweep(tmp_path, body, economy="ai_solar_day"))
    assert bundled.base["periods"] == 24
    with pytest.raises(SweepFileError, match="no such economy file: 'nope.toml'"):
        load_sweep(write_sweep(tmp_path, body, economy="nope.toml"))
    (tmp_path / "bad.toml").write_text("periods = 0\n")
    with pytest.raises(EconomyFileError, match="bad.toml"):
        load_sweep(write_sweep(tmp_path, body, economy="bad.toml"))


def test_inline_economy():
    data = {"economy": {"periods": 1, "consumers": [
        {"name": "c", "count": 4, "endowment": 1.0,
         "utility": {"family": "cobb_douglas", "weights": [1.0]}}],
        "producers": [{"name": "p", "count": 2, "productivity": 1.0, "returns": 1.0,
                       "capacity": 10.0, "kind": "classic",
                       "utility": {"family": "cobb_douglas", "weights": [0.0],
                                   "goods_weight": 1.0}}]},
        "parameters": [{"path": "producers.p.count", "values": [2, 3]}]}
    sw = parse_sweep(data, "inline.toml")
    assert [p.parameters["producers.p.count"] for p in sw.points] == [2, 3]
    data["economy"]["producers"][0]["count"] = 0
    with pytest.raises(EconomyFileError, match="inline.toml: economy"):
        parse_sweep(data, "inline.toml")


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(SweepFileError, match="no such file"):
        load_sweep(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("economy = \n")
    with pytest.raises(SweepFileError, match="invalid TOML"):
        load_sweep(bad)


def test_tasks_chunk_in_order_and_skip_what_is_done(tmp_path):
    sw = load_sweep(grid_sweep(tmp_path, 3, 4))
    work = tasks(sw, chunk_size=5)
    assert [len(t.items) for t in work] == [5, 5, 2]
    assert [p.index for t in work for p, _ in t.items] == list(range(12))
    assert len(work[0]) == 10  # rows: points × concepts
    todo = {p.point_id: ("competitive",) for p in sw.points[:3]}
    left = tasks(sw, todo, chunk_size=5)
    assert len(left) == 1 and [c for _, c in left[0].items] == [("competitive",)] * 3
    assert tasks(sw, {}) == []
    # default size: about four tasks per worker
    assert len(tasks(sw, workers=1)) == 4
    assert [len(t.split()) for t in work] == [5, 5, 2]


def test_grid_values_carry_no_rounding_noise(tmp_path):
    """A grid's values are the decimals asked for (0.013, not 0.013000000000000001 from
    start + k·step in binary floating point)."""
    path = write_sweep(tmp_path, """[[parameters]]
path = "verification.fixed"
grid = { start = 0.0, stop = 0.02, step = 0.001 }
""")
    sw = load_sweep(path)
    values = [v for (p, v), in (pt.params for pt in sw.points)]
    assert 0.013 in values and 0.013000000000000001 not in values
    assert all(repr(v) == f"{v:.12g}" or v == 0.0 for v in values)
    from emgame.analysis.sweep import format_value

    assert format_value(0.013000000000000001) == "0.013" and format_value(4) == "4"


def test_point_ids_follow_a_large_tables_content(tmp_path, monkeypatch):
    """A sweep over an economy whose consumers come from a large table hashes the table's
    content into its point ids: edit a row and the ids change, so a resumed sweep solves the
    points again (it hashed the table's path only)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import emgame.model.files as files
    from emgame.model.economy import Population
    from emgame.model.table_io import write_table

    monkeypatch.setattr(files, "INLINE_LIMIT", 2)
    (tmp_path / "econ.toml").write_text("""name = "small, consumers from a table"
periods = 2
consumers_table = "rows.parquet"

[[producers]]
name = "farms"
count = 3
productivity = 2.0
returns = 0.8
capacity = 5.0
utility = { family = "cobb_douglas", weights = [0.5, 0.5] }
""", encoding="utf-8")

    n = 5
    pop = Population.from_arrays(names=[f"dc{k}" for k in range(n)], count=np.full(n, 2.0),
                                 weights=np.tile([0.4, 0.6], (n, 1)),
                                 endowment=np.linspace(0.5, 1.0, n))
    write_table(pop, tmp_path / "rows.parquet")
    sweep = tmp_path / "s.toml"
    sweep.write_text('economy = "econ.toml"\n[[parameters]]\npath = "producers.farms.count"\n'
                     "values = [3, 4]\n", encoding="utf-8")
    before = [p.point_id for p in load_sweep(sweep).points]
    table = pq.read_table(tmp_path / "rows.parquet")
    k = table.column_names.index("endowment")
    table = table.set_column(k, "endowment", pa.array(np.linspace(0.5, 1.0, n) * 1.1))
    pq.write_table(table, tmp_path / "rows.parquet")
    after = [p.point_id for p in load_sweep(sweep).points]
    assert set(before).isdisjoint(after)
