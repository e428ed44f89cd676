"""Sweeps that search every equilibrium at each point (``all = true`` or ``emgame sweep --all``):
the store keeps how many certified equilibria the search found and how many starts reached each.

The economy is tests/test_equilibria.py's: T = 2, four ``ai`` consumers with CRRA utility
(γ = 1/2, weights 1/2, 1/2), two ``classic`` producers valuing goods only, ``q = φ^c`` with
c = 0.8, a fixed verification cost ``v`` on each electricity post. For the small ``v`` swept here
its Nash equilibria include, in closed form, the active one (``q = (c/4)^c``, ``p^t/p^0 = 1/q``)
and the symmetric pair in which one post does not trade (``q = (c/2)^c``, ``p/p^0 = 2/q`` on
the post that trades). The oracles: those closed forms, and ``solve_all`` called independently
on each point's economy with the sweep's settings.
"""

from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from emgame.analysis.runner import run_sweep
from emgame.analysis.sweep import ALL_SECONDS, ALL_STARTS, SearchAll, load_sweep, tasks
from emgame.analysis.sweep_file import SweepFileError
from emgame.analysis.worker import _result_all, stored_equilibrium
from emgame.cli import app
from emgame.equilibria import Equilibria, solve_all
from emgame.model import economy_from_dict
from emgame.results import Status
from emgame.solve import Options
from emgame.store import open_store
from test_equilibria import TOML, C

SEARCH = ("equilibria_found", "symmetric_found", "active_found", "split_found", "starts",
          "starts_reached", "equilibria")
BUDGET = 600.0  # seconds per point's search: never reached here, so counts do not hang on time

runner = CliRunner()


def write_files(folder: Path, *, search: str = "all = true", concept: str = "both",
                values: str = "[0.04, 0.08]", name: str = "sweep.toml") -> Path:
    """The economy (v = 0.04 on both electricity posts, none on goods) and a sweep of ``v``
    over both posts together."""
    (folder / "econ.toml").write_text(TOML.format(v=0.04, c=C), encoding="utf-8")
    path = folder / name
    path.write_text(f"""economy = "econ.toml"
concept = "{concept}"
{search}

[[parameters]]
path = "verification.fixed[1]"
values = {values}
zip = "v"

[[parameters]]
path = "verification.fixed[2]"
values = {values}
zip = "v"
""", encoding="utf-8")
    return path


def rows(store: Path, where: str = "TRUE") -> list[dict]:
    with open_store(store, read_only=True) as st:
        return st.query(f"SELECT * FROM points WHERE {where} ORDER BY point_id, concept")


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """Two points (v = 0.04, 0.08) × both concepts, every equilibrium searched, in a store."""
    folder = tmp_path_factory.mktemp("all")
    sw = load_sweep(write_files(folder, search=f"all = true\nall_seconds = {BUDGET}"))
    store = folder / "r.duckdb"
    with open_store(store) as st:
        rep = run_sweep(sw, st, serial=True)
    assert rep.solved == 4 and rep.errors == 0
    return folder, sw, store


def test_the_store_counts_what_solve_all_finds(searched):
    """Each row's counts are those of an independent ``solve_all`` on the point's economy with
    the sweep's settings; the starts that reached the equilibria are at most the starts run."""
    _, sw, store = searched
    by_key = {(r["point_id"], r["concept"]): r for r in rows(store)}
    assert len(by_key) == 4
    for pt in sw.points:
        economy = economy_from_dict(pt.economy, "<point>")
        for concept in ("nash", "competitive"):
            row = by_key[(pt.point_id, concept)]
            direct = solve_all(economy, concept, starts=ALL_STARTS, seed=0,
                               options=Options(atol=sw.atol, rtol=sw.rtol), max_seconds=BUDGET)
            d = direct.to_dict()
            assert direct.ok and row["ok"] and row["status"] == "equilibrium"
            assert row["equilibria_found"] == d["found"] >= 1
            assert row["symmetric_found"] == d["symmetric_found"]
            assert row["active_found"] == d["active_found"]
            assert row["split_found"] == d["split_found"]
            assert row["starts"] == d["starts"] == ALL_STARTS
            assert sorted(row["starts_reached"]) == sorted(e["starts_reached"]
                                                           for e in d["equilibria"])
            assert sum(row["starts_reached"]) <= row["starts"]
            assert row["warm_start_from"] is None  # searched cold: counts do not hang on order


def test_nash_multiplicity_matches_the_closed_forms(searched):
    """Nash at v = 0.04 and 0.08: the active equilibrium and the pair with one post idle, at
    their closed-form prices; the stored solution (the first) is the one the default solve
    reaches, the active one, so every column keeps its meaning."""
    _, _, store = searched
    q_act, q_one = (C / 4) ** C, (C / 2) ** C
    nash = rows(store, "concept = 'nash'")
    assert len(nash) == 2
    for row in nash:
        assert row["equilibria_found"] == 3 and row["active_found"] == 1
        assert row["symmetric_found"] == 3 and row["split_found"] == 0
        np.testing.assert_allclose(row["relative_prices"], [1 / q_act] * 2, rtol=1e-8)
        assert row["active_posts"] == 2 and row["certified"]
        found = json.loads(row["equilibria"])
        assert found["found"] == 3 and len(found["equilibria"]) == 3
        first, *others = found["equilibria"]
        assert "default" in first["start_names"] and first["active"]
        assert [e["starts_reached"] for e in found["equilibria"]] == row["starts_reached"]
        np.testing.assert_allclose(first["relative_prices"], row["relative_prices"], rtol=1e-12)
        idle = sorted(tuple(np.nan_to_num(np.array(e["relative_prices"], dtype=float)))
                      for e in others)
        np.testing.assert_allclose(idle, [(0.0, 2 / q_one), (2 / q_one, 0.0)], rtol=1e-8)
        assert not any(e["active"] for e in others)
        # the stored solution is the first equilibrium's, whole
        assert json.loads(row["solution"])["status"] == "equilibrium"
    with open_store(store, read_only=True) as st:
        n = st.query("SELECT count(*) AS n FROM types WHERE concept = 'nash'")[0]["n"]
    assert n == 2 * 2  # a consumer and a producer type per point


def test_without_all_the_columns_are_null_and_both_answers_are_kept(searched):
    """The same sweep without ``all``: one solve per point as before, search columns NULL; the
    search settings are part of the point ids, so both runs' rows live side by side."""
    folder, sw, store = searched
    plain = load_sweep(write_files(folder, search="", name="plain.toml"))
    assert plain.search is None
    assert {p.point_id for p in plain.points}.isdisjoint(p.point_id for p in sw.points)
    with open_store(store) as st:
        rep = run_sweep(plain, st, serial=True)
    assert rep.solved == 4 and rep.failed == 0
    ids = ", ".join(f"'{p.point_id}'" for p in plain.points)
    got = rows(store, f"point_id IN ({ids})")
    assert len(got) == 4 and all(r["ok"] for r in got)
    for r in got:
        assert all(r[c] is None for c in SEARCH), r
    # same economy, same stored answer with and without the search
    searched_rows = {(r["params"], r["concept"]): r for r in rows(store, "equilibria_found "
                                                                  "IS NOT NULL")}
    for r in got:
        np.testing.assert_allclose(r["relative_prices"],
                                   searched_rows[(r["params"], r["concept"])]["relative_prices"],
                                   rtol=1e-7)


def test_cli_all_flag_overrides_the_file(tmp_path):
    """``emgame sweep --all`` searches a file without ``all``; ``--no-all`` turns a file's
    ``all = true`` off; the summary says how many equilibria the rows found."""
    plain = write_files(tmp_path, search="", concept="nash", values="[0.08]")
    store = tmp_path / "r.duckdb"
    res = runner.invoke(app, ["sweep", str(plain), "-s", str(store), "--serial", "--all"])
    assert res.exit_code == 0, res.output
    assert "every equilibrium searched (12 starts per point and concept): 1 row with 3 " \
           "equilibria" in " ".join(res.output.split())
    (row,) = rows(store)
    assert row["equilibria_found"] == 3 and row["starts"] == 12
    dry = runner.invoke(app, ["sweep", str(plain), "-s", str(store), "--dry-run", "--all"])
    assert dry.exit_code == 0 and "1 stored, 0 to solve" in dry.output
    assert "every equilibrium searched at each point (12 starts" in " ".join(dry.output.split())
    res = runner.invoke(app, ["sweep", str(plain), "-s", str(store), "--serial", "-q"])
    assert res.exit_code == 0, res.output
    assert len(rows(store)) == 2  # without --all: another row, the point solved once
    assert len(rows(store, "equilibria_found IS NULL")) == 1
    on = write_files(tmp_path, search="all = true", concept="nash", values="[0.08]",
                     name="on.toml")
    assert load_sweep(on).search is not None
    assert load_sweep(on, search_all=False).search is None
    res = runner.invoke(app, ["sweep", str(on), "-s", str(store), "--serial", "--no-all"])
    assert res.exit_code == 0 and "were already in" in res.output  # = the plain row
    summary = json.loads(runner.invoke(app, ["results", str(store), "--json"]).stdout)
    assert [s["equilibria_found"] for s in summary["sweeps"]][0] == {"nash": {"3": 1}}
    table = runner.invoke(app, ["results", str(store)])
    assert "Equilibria found (all searched)" in table.output


def test_bad_all_value_names_file_and_key(tmp_path):
    path = write_files(tmp_path, search='all = "yes"')
    res = runner.invoke(app, ["sweep", str(path), "-s", str(tmp_path / "r.duckdb")])
    assert res.exit_code == 2
    assert f'{path}: all: expected true or false, got string "yes"' in res.stderr
    assert not (tmp_path / "r.duckdb").exists()


def test_file_keys_ids_and_tasks(tmp_path):
    """``all`` and its settings are read, carried to every task and hashed into the ids only
    when the search runs: files without them keep their ids."""
    base = load_sweep(write_files(tmp_path, search="", name="a.toml"))
    off = load_sweep(write_files(tmp_path, search="all = false\nstarts = 30\nall_seconds = 5",
                                 name="b.toml"))
    assert off.search is None
    assert off.sweep_id == base.sweep_id
    assert [p.point_id for p in off.points] == [p.point_id for p in base.points]
    on = load_sweep(write_files(tmp_path, search="all = true\nstarts = 30\nall_seconds = 5",
                                name="c.toml"))
    assert on.search == SearchAll(starts=30, seconds=5.0, seed=0)
    assert on.sweep_id != base.sweep_id
    assert set(p.point_id for p in on.points).isdisjoint(p.point_id for p in base.points)
    assert on.to_dict()["all"] == {"starts": 30, "seconds": 5.0, "seed": 0}
    default = load_sweep(write_files(tmp_path, search="all = true", name="d.toml"))
    assert default.search == SearchAll(ALL_STARTS, ALL_SECONDS, 0)
    flag = load_sweep(tmp_path / "a.toml", search_all=True)
    assert [p.point_id for p in flag.points] == [p.point_id for p in default.points]
    work = tasks(on, chunk_size=1)
    assert work and all(t.search == on.search for t in work)
    assert all(s.search == on.search for t in tasks(on) for s in t.split())
    assert all(t.search is None for t in tasks(base))


@pytest.mark.parametrize("body, message", [
    ('all = "yes"', 'all: expected true or false, got string "yes"'),
    ("all = 1", "all: expected true or false"),
    ("all = true\nstarts = 0", "starts: must be >= 1, got 0"),
    ("all = true\nstarts = 2.5", "starts: expected an integer"),
    ("all = true\nall_seconds = 0", "all_seconds: must be > 0"),
    ("al = true", "al: unknown key (did you mean 'all'?)"),
])
def test_bad_keys_name_file_and_key(tmp_path, body, message):
    path = write_files(tmp_path, search=body)
    with pytest.raises(SweepFileError) as info:
        load_sweep(path)
    assert f"{path}: {message}" in str(info.value)


def fake_found(*starts: tuple[str, ...]) -> list:
    return [types.SimpleNamespace(starts=s, count=len(s)) for s in starts]


def test_the_stored_equilibrium_is_the_default_solves_else_the_most_reached():
    """The default solve's equilibrium wherever it is among those found; else the one most
    starts reached (the first of those on a tie: the search's own order)."""
    a, b, c = fake_found(("random 1",), ("rough guess", "random 2", "random 3"), ("default",))
    pick = stored_equilibrium
    assert pick(types.SimpleNamespace(equilibria=(a, b, c))) is c
    assert pick(types.SimpleNamespace(equilibria=(a, b))) is b
    d, e = fake_found(("random 1", "random 2"), ("random 3", "random 4"))
    assert pick(types.SimpleNamespace(equilibria=(d, e))) is d
    assert pick(types.SimpleNamespace(equilibria=())) is None


def test_a_point_without_equilibrium_stores_zero_and_the_reason(searched):
    """No certified equilibrium from any start: 0 found, the search's status and reason (the
    default solve's where it says infeasible), no outcome, the candidate kept for diagnosis."""
    _, sw, _ = searched
    pt = sw.points[0]
    economy = economy_from_dict(pt.economy, "<point>")
    none = Equilibria(economy, "nash", (), starts=5, seed=0,
                      reasons={"Newton's method did not converge": 5})
    r = _result_all(pt, "nash", none, 0.0)
    assert r.status == Status.NO_EQUILIBRIUM.value and not r.ok
    assert "no certified equilibrium from any of the 5 starts" in r.reason
    assert r.search["equilibria_found"] == 0 and r.search["starts_reached"] == []
    assert r.search["starts"] == 5 and r.solution is None and r.types == ()
    from emgame import solve

    candidate = dataclasses.replace(solve(economy, "nash"), status=Status.INFEASIBLE,
                                    reason="no feasible profile")
    r = _result_all(pt, "nash", Equilibria(economy, "nash", (), starts=5, seed=0,
                                           default=candidate), 0.0)
    assert r.status == "infeasible" and r.reason.startswith("no feasible profile; no certified")
    assert r.solution is not None and r.search["equilibria_found"] == 0
