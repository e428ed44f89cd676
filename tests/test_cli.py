"""The ``emgame`` command line (typer's CliRunner): exit codes, messages, JSON, examples.

The ``solve`` tests against the real solver are skipped until ``emgame.solve`` exists; the
mapping from a solution's status to exit code and output is tested now with a stand-in solver
that returns hand-built solutions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import emgame
from emgame import Certificate, Economy, Profile, Solution, Status, evaluate
from emgame.cli import _examples, app

runner = CliRunner()

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(_examples())
SOLAR_DAY = str(ROOT / "examples" / "ai_solar_day.toml")
solver_landed = pytest.mark.skipif(not hasattr(emgame, "solve"),
                                   reason="solver not landed yet")

CONTRACT_KEYS = {"status", "concept", "prices", "relative_prices", "consumers", "producers",
                 "totals", "certificate"}
CONSUMER_KEYS = {"name", "count", "bids", "electricity", "goods", "verification", "consumption",
                 "utility", "regret"}
PRODUCER_KEYS = CONSUMER_KEYS | {"offers", "inputs", "capacity"}

GOOD = """\
# A small economy for the CLI tests.
name = "cli test economy"
periods = 2
period_labels = ["night", "day"]

[verification]
fixed = 0.01
share = 0.0

[[consumers]]
name = "data-centres"
count = 10
endowment = 1.0
utility = { family = "cobb_douglas", weights = [0.4, 0.6] }

[[producers]]
name = "solar-farms"
count = 3
productivity = 2.0
returns = 0.8
capacity = 5.0
utility = { family = "cobb_douglas", weights = [0.5, 0.5] }
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _no_traceback(result) -> None:  # noqa: ANN001
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --------------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_check_bundled_example(name):
    result = runner.invoke(app, ["check", str(ROOT / "examples" / f"{name}.toml")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout
    assert "Consumers" in result.stdout or "Producers" in result.stdout


def test_check_good_file(tmp_path):
    path = _write(tmp_path, "good.toml", GOOD)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    for s in ("cli test economy", "data-centres", "solar-farms", "night", "valid"):
        assert s in result.stdout


def test_check_bad_key(tmp_path):
    path = _write(tmp_path, "bad.toml", GOOD.replace("productivity = 2.0",
                                                     "productivity = -2.0"))
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    _no_traceback(result)
    assert "bad.toml" in result.stderr
    assert "productivity" in result.stderr
    assert result.stdout == ""


def test_check_unknown_key(tmp_path):
    path = _write(tmp_path, "typo.toml", GOOD.replace("count = 3", "count = 3\ncapacty = 1.0"))
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    _no_traceback(result)
    assert "typo.toml" in result.stderr and "capacty" in result.stderr


def test_check_toml_syntax(tmp_path):
    path = _write(tmp_path, "syntax.toml", 'name = "x"\nperiods = [\n')
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    _no_traceback(result)
    assert "syntax.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_check_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    _no_traceback(result)
    assert "nope.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_solve_missing_file(tmp_path):
    result = runner.invoke(app, ["solve", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    _no_traceback(result)
    assert "nope.toml" in result.stderr


def test_bad_concept(tmp_path):
    path = _write(tmp_path, "good.toml", GOOD)
    result = runner.invoke(app, ["solve", str(path), "--concept", "walras"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------------------------
# examples
# --------------------------------------------------------------------------------------------


def test_examples_lists_bundled():
    result = runner.invoke(app, ["examples"])
    assert result.exit_code == 0, result.output
    assert len(EXAMPLES) >= 4, EXAMPLES
    for name in EXAMPLES:
        assert name in result.stdout
    assert "ai_solar_day" in EXAMPLES


def test_examples_have_a_description():
    from emgame.cli import _describe

    for name, f in _examples().items():
        assert _describe(f.read_text(encoding="utf-8")), f"{name}: no comment header"


def test_examples_write_and_refuse_overwrite(tmp_path):
    name = EXAMPLES[0] if EXAMPLES else pytest.skip("no bundled examples")
    target = tmp_path / "sub" / "copy.toml"
    result = runner.invoke(app, ["examples", name, "--out", str(target)])
    assert result.exit_code == 0, result.output
    original = _examples()[name].read_text(encoding="utf-8")
    assert target.read_text(encoding="utf-8") == original

    target.write_text("# mine\n", encoding="utf-8")
    result = runner.invoke(app, ["examples", name, "--out", str(target)])
    assert result.exit_code == 1
    assert "--force" in result.stderr
    assert target.read_text(encoding="utf-8") == "# mine\n"

    result = runner.invoke(app, ["examples", f"{name}.toml", "--out", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == original


def test_examples_default_target(tmp_path, monkeypatch):
    name = EXAMPLES[0] if EXAMPLES else pytest.skip("no bundled examples")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["examples", name])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{name}.toml").is_file()


def test_examples_into_a_folder(tmp_path):
    name = EXAMPLES[0] if EXAMPLES else pytest.skip("no bundled examples")
    result = runner.invoke(app, ["examples", name, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{name}.toml").is_file()


def test_examples_unknown_name():
    result = runner.invoke(app, ["examples", "no-such-example"])
    assert result.exit_code == 2
    assert "no-such-example" in result.stderr


def test_examples_from_another_folder(tmp_path, monkeypatch):
    """Listing reads each file's first comment line, wherever the package data lives."""
    _write(tmp_path, "first.toml", "# The first one.\n#\n# More words.\nname = 'a'\n")
    _write(tmp_path, "second.toml", "\n# Second: with [brackets].\nname = 'b'\n")
    _write(tmp_path, "notes.txt", "not an example")
    monkeypatch.setattr("emgame.cli.economy._examples_dir", lambda: tmp_path)
    result = runner.invoke(app, ["examples"])
    assert result.exit_code == 0, result.output
    assert "The first one." in result.stdout
    assert "Second: with [brackets]." in result.stdout
    assert "notes" not in result.stdout


# --------------------------------------------------------------------------------------------
# solve: the CLI's mapping of solutions to output and exit codes (stand-in solver)
# --------------------------------------------------------------------------------------------


def _hand_solution(economy: Economy, concept: str, *, ok: bool = True) -> Solution:
    if not ok:
        return Solution(economy, concept, Status.NO_EQUILIBRIUM,
                        reason="sole seller on post [1]: solar-farms bids without bound")
    T, nc, npr = economy.periods, len(economy.consumers), len(economy.producers)
    K = np.nan_to_num(economy.producers.capacity, nan=1.0)
    profile = Profile(np.full((nc, T + 1), 0.1), np.full((npr, T + 1), 0.1),
                      np.tile(0.01 * K[:, None], (1, T)), K)
    out = evaluate(economy, profile)
    cert = Certificate(np.zeros(nc), np.zeros(npr), out.consumers.utility,
                       out.producers.utility, method="stand-in")
    return Solution(economy, concept, Status.EQUILIBRIUM, profile=profile, outcome=out,
                    certificate=cert)


@pytest.fixture
def stand_in(monkeypatch):
    """Replace emgame.solve / solve_both; ``fail`` names the concepts that fail."""
    fail: set[str] = set()

    def solve(economy, concept="nash", *, options=None, raise_on_failure=False):  # noqa: ANN001
        return _hand_solution(economy, concept, ok=concept not in fail)

    def solve_both(economy):  # noqa: ANN001
        return solve(economy, "nash"), solve(economy, "competitive")

    monkeypatch.setattr(emgame, "solve", solve, raising=False)
    monkeypatch.setattr(emgame, "solve_both", solve_both, raising=False)
    return fail


def test_stand_in_tables(tmp_path, stand_in):
    path = _write(tmp_path, "good.toml", GOOD)
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 0, result.output
    assert "Nash equilibrium found" in result.stdout
    assert "Market" in result.stdout and "Certificate" in result.stdout


def test_stand_in_json_and_out(tmp_path, stand_in):
    path = _write(tmp_path, "good.toml", GOOD)
    out = tmp_path / "deep" / "er" / "result.json"
    result = runner.invoke(app, ["solve", str(path), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert CONTRACT_KEYS <= set(doc)
    assert json.loads(out.read_text(encoding="utf-8")) == doc
    assert str(out) in result.stderr  # the note stays off standard output


def test_stand_in_both(tmp_path, stand_in):
    path = _write(tmp_path, "good.toml", GOOD)
    result = runner.invoke(app, ["solve", str(path), "--concept", "both", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"nash", "competitive", "comparison"} <= set(doc)
    assert doc["nash"]["concept"] == "nash"
    assert doc["competitive"]["concept"] == "competitive"
    assert set(doc["comparison"]["relative_prices"]) >= {"nash", "competitive", "gap"}
    result = runner.invoke(app, ["solve", str(path), "-c", "both"])
    assert result.exit_code == 0, result.output
    assert "Nash vs competitive" in result.stdout


@pytest.mark.parametrize("concept", ["nash", "both"])
def test_stand_in_failure_exits_1(tmp_path, stand_in, concept):
    stand_in.add("nash")
    path = _write(tmp_path, "good.toml", GOOD)
    result = runner.invoke(app, ["solve", str(path), "--concept", concept])
    assert result.exit_code == 1
    _no_traceback(result)
    assert "NOT an equilibrium: sole seller on post [1]" in result.stdout
    assert "no-equilibrium-found" in result.stderr and "sole seller" in result.stderr

    result = runner.invoke(app, ["solve", str(path), "--concept", concept, "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    nash = doc if concept == "nash" else doc["nash"]
    assert nash["status"] == "no-equilibrium-found"
    assert "sole seller" in nash["reason"]
    if concept == "both":
        assert doc["status"] == "no-equilibrium-found"
        assert doc["competitive"]["status"] == "equilibrium"


def test_stand_in_quiet(tmp_path, stand_in):
    path = _write(tmp_path, "good.toml", GOOD)
    out = tmp_path / "q.json"
    result = runner.invoke(app, ["solve", str(path), "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert out.is_file()


# --------------------------------------------------------------------------------------------
# solve: the real solver
# --------------------------------------------------------------------------------------------


@solver_landed
def test_solve_bundled_example_json(tmp_path):
    out = tmp_path / "out" / "ai_solar_day.json"
    result = runner.invoke(app, ["solve", SOLAR_DAY, "--json",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert CONTRACT_KEYS <= set(doc)
    assert doc["status"] == "equilibrium" and doc["concept"] == "nash"
    assert set(doc["prices"]) >= {"goods", "electricity"}
    assert len(doc["prices"]["electricity"]) == len(doc["relative_prices"]) == 24
    assert all(CONSUMER_KEYS <= set(c) for c in doc["consumers"])
    assert all(PRODUCER_KEYS <= set(p) for p in doc["producers"])
    assert set(doc["totals"]) >= {"production", "verification", "consumption"}
    assert set(doc["certificate"]) >= {"max_regret", "max_relative_regret", "passed"}
    assert doc["certificate"]["passed"] is True
    assert json.loads(out.read_text(encoding="utf-8")) == doc


@solver_landed
def test_solve_bundled_example_both_tables(tmp_path):
    out = tmp_path / "both.json"
    result = runner.invoke(app, ["solve", SOLAR_DAY, "--concept", "both",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Nash vs competitive" in result.stdout
    assert f"JSON written to {out}" in result.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {"nash", "competitive", "comparison"} <= set(doc)
    assert CONTRACT_KEYS <= set(doc["nash"]) and CONTRACT_KEYS <= set(doc["competitive"])


@solver_landed
def test_solve_no_equilibrium_exits_1(tmp_path):
    """A lone producer valuing electricity bids without bound: no Nash equilibrium
    (docs/model.md, Solution concepts, sole sellers)."""
    path = _write(tmp_path, "sole.toml", GOOD.replace("count = 3", "count = 1"))
    result = runner.invoke(app, ["solve", str(path), "--json"])
    assert result.exit_code == 1, result.output
    _no_traceback(result)
    doc = json.loads(result.stdout)
    assert doc["status"] != "equilibrium"
    assert doc["reason"]
    assert doc["status"] in result.stderr


def test_readme_example_is_valid(tmp_path):
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    path = _write(tmp_path, "readme.toml", block)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output


def test_readme_starts_with_the_two_commands():
    readme = ROOT / "README.md"
    first = readme.read_text(encoding="utf-8").splitlines()[:2]
    assert first[0].startswith("`make demo`") and first[1].startswith("`make test`")


def test_json_is_strict():
    from emgame.cli import _dumps

    doc = json.loads(_dumps({"a": float("nan"), "b": np.float64(2.0), "c": [float("inf")],
                             "d": np.array([np.nan, 1.0]), "e": np.int64(3)}))
    assert doc == {"a": None, "b": 2.0, "c": [None], "d": [None, 1.0], "e": 3}


# --------------------------------------------------------------------------------------------
# Conventions (issue 11): version, python -m, completion, examples and studies, extras.
# --------------------------------------------------------------------------------------------


def test_version_everywhere():
    import subprocess
    import sys

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"emgame {emgame.__version__}"
    assert emgame.__version__ and emgame.__version__[0].isdigit()
    out = subprocess.run([sys.executable, "-m", "emgame", "--version"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == f"emgame {emgame.__version__}"


def test_shell_completion_is_offered():
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_examples_list_the_studies_too():
    result = runner.invoke(app, ["examples"])
    assert result.exit_code == 0
    for study in ("studies/replication", "studies/cournot_markup", "studies/verification_cost"):
        assert study in result.stdout
    assert "emgame sweep NAME" in result.stdout


def test_a_study_written_out_runs_from_its_new_folder(tmp_path):
    """`emgame examples studies/replication -o dir/` writes into the folder (created), and the
    copy names its economy so that it still loads there (the original points at
    ../ai_solar_day.toml, beside the bundled file)."""
    from emgame.analysis.sweep import load_sweep

    folder = tmp_path / "mine" / ""
    result = runner.invoke(app, ["examples", "studies/replication", "-o", f"{folder}/"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "mine" / "replication.toml"
    assert written.is_file() and "emgame sweep" in result.stdout
    sw = load_sweep(written)
    assert len(sw.points) == 8 and sw.base["name"].startswith("AI agents")


def test_a_missing_extra_is_named(tmp_path, monkeypatch):
    """Without pyarrow, --out result.parquet says which extra to install (exit 2, one line,
    no traceback)."""
    import importlib

    real = importlib.import_module

    def fake(name: str, *a, **k):  # noqa: ANN002, ANN003
        if name.split(".")[0] == "pyarrow":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, *a, **k)

    monkeypatch.setattr("emgame._extras.importlib.import_module", fake)
    path = _write(tmp_path, "good.toml", GOOD)
    result = runner.invoke(app, ["solve", str(path), "--out", str(tmp_path / "r.parquet")])
    assert result.exit_code == 2
    _no_traceback(result)
    assert "pip install 'emgame[tables]'" in result.stderr


def test_compilation_is_announced():
    """A kernel compiled in this process (a cold cache: numba fires its compile event only
    on a cache miss) for longer than a moment makes the CLI say so once, on standard error;
    a quick compilation says nothing."""
    import contextlib
    import io

    import numba
    from numba.core import event

    from emgame.cli import common

    for listener in common._NOTICE:  # left by earlier solves in this process
        event.unregister("numba:compile", listener)
    common._NOTICE.clear()
    import time

    @numba.njit
    def quick(x):  # noqa: ANN001, ANN202
        return x - 1

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        common.announce_compilation()
        quick(1)
        time.sleep(0.05)
    assert err.getvalue() == ""  # compiled in well under NOTICE_AFTER
    for listener in common._NOTICE:
        event.unregister("numba:compile", listener)
    common._NOTICE.clear()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        common.announce_compilation()

        @numba.njit
        def fresh(x):  # noqa: ANN001, ANN202
            return x + 1

        listener = common._NOTICE[0]
        listener.on_start(None)  # a compilation that lasts: as if numba were still at it
        time.sleep(common.NOTICE_AFTER + 0.3)
        fresh(1)
        listener.on_end(None)
        fresh(2.5)  # another compilation: still one line
    for listener in common._NOTICE:
        event.unregister("numba:compile", listener)
    common._NOTICE.clear()
    assert err.getvalue().count("compiling the numerical kernels") == 1


# --------------------------------------------------------------------------------------------
# Output at scale: Parquet, and what reads it.
# --------------------------------------------------------------------------------------------


@solver_landed
@pytest.mark.parametrize("concept", ["nash", "both"])
def test_solve_out_parquet(tmp_path, concept):
    """--out result.parquet: one row per type (all per-type fields, one column per period),
    the summary in the metadata; the values are the JSON's."""
    import pyarrow.parquet as pq

    from emgame.store.parquet import read_summary

    target = tmp_path / "r.parquet"
    result = runner.invoke(app, ["solve", SOLAR_DAY, "-c", concept, "--out", str(target), "-q"])
    assert result.exit_code == 0, result.output
    table = pq.read_table(target)
    meta = read_summary(target)
    concepts = ["nash", "competitive"] if concept == "both" else ["nash"]
    assert meta["concepts"] == concepts and meta["status"] == "equilibrium"
    economy = emgame.load_economy(SOLAR_DAY)
    n = len(economy.consumers) + len(economy.producers)
    assert table.num_rows == n * len(concepts)
    if concept == "both":
        assert "deadweight_loss" in meta["comparison"]["welfare"]
    doc = json.loads(runner.invoke(app, ["solve", SOLAR_DAY, "--json"]).stdout)
    rows = table.filter(pq.pa.compute.equal(table.column("concept"), "nash")).to_pylist() \
        if hasattr(pq, "pa") else [r for r in table.to_pylist() if r["concept"] == "nash"]
    by_name = {r["name"]: r for r in rows}
    for c in doc["consumers"]:
        r = by_name[c["name"]]
        assert [r[f"electricity_{t}"] for t in range(1, 25)] == c["electricity"]
        assert r["utility"] == c["utility"] and r["bid_goods"] == c["bids"]["goods"]
    for p in doc["producers"]:
        r = by_name[p["name"]]
        assert [r[f"offer_{t}"] for t in range(1, 25)] == p["offers"]
    assert meta["solutions"]["nash"]["prices"] == doc["prices"]


@solver_landed
def test_report_and_plot_read_parquet(tmp_path):
    target = tmp_path / "r.parquet"
    assert runner.invoke(app, ["solve", SOLAR_DAY, "-c", "both", "--out", str(target),
                               "-q"]).exit_code == 0
    fig = tmp_path / "a.png"
    result = runner.invoke(app, ["plot", str(target), "--kind", "allocations", "-o", str(fig)])
    assert result.exit_code == 0, result.output
    assert fig.stat().st_size > 5000
    page = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(target), "-o", str(page)])
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "data:image/png;base64," in text and "hyperscale" in text


# --------------------------------------------------------------------------------------------
# Inconclusive: a certificate that cannot decide is neither a pass nor a failure
# --------------------------------------------------------------------------------------------


@solver_landed
def test_inconclusive_flows_to_every_output(tmp_path, monkeypatch):
    """docs/model.md, Solution concepts: no profile is an equilibrium unless every type passes. A
    certificate that
    could not decide for one type (here: flagged so, its bound otherwise fine) makes the
    solution ``inconclusive`` — its status, reason and per-type flag in the JSON, the tables,
    the frame and the Parquet metadata — and the command exits 1 naming the reason."""
    import dataclasses
    import importlib

    import pyarrow.parquet as pq

    from emgame.store.parquet import read_summary

    solve_module = importlib.import_module("emgame.solve")
    real = solve_module.certify

    def undecided(economy, profile, **kw):  # noqa: ANN001, ANN202
        cert = real(economy, profile, **kw)
        flags = np.zeros(len(economy.producers), bool)
        flags[0] = True
        name = economy.producers.names[0]
        return dataclasses.replace(cert, producer_inconclusive=flags,
                                   reasons={f"producers/{name}": "planted: no proof"})

    monkeypatch.setattr(solve_module, "certify", undecided)
    economy = emgame.load_economy(SOLAR_DAY)
    sol = emgame.solve(economy, "nash")
    assert sol.status is Status.INCONCLUSIVE and not sol.ok
    assert "planted: no proof" in sol.reason
    d = sol.to_dict()
    assert d["status"] == "inconclusive" and "planted" in d["reason"]
    assert d["certificate"]["passed"] is False and d["certificate"]["inconclusive"] is True
    assert [p["inconclusive"] for p in d["producers"]][0] is True
    assert bool(sol.to_frame().query("role == 'producer'")["inconclusive"].iloc[0])

    result = runner.invoke(app, ["solve", SOLAR_DAY])
    assert result.exit_code == 1
    _no_traceback(result)
    assert "inconclusive" in result.stderr and "planted: no proof" in result.stderr
    result = runner.invoke(app, ["solve", SOLAR_DAY, "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["status"] == "inconclusive" and "planted" in doc["reason"]
    target = tmp_path / "r.parquet"
    result = runner.invoke(app, ["solve", SOLAR_DAY, "--out", str(target), "-q"])
    assert result.exit_code == 1
    assert read_summary(target)["status"] == "inconclusive"
    assert pq.read_table(target).num_rows == len(economy.consumers) + len(economy.producers)
