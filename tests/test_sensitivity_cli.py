"""``emgame solve FILE --sensitivity PATH[,PATH…]`` (docs/sensitivity.md): the elasticity
table (fitted to the terminal, plain when piped), the ``sensitivity`` key added to the JSON
contract without changing its keys, the LaTeX export, and bad paths refused naming the path
(exit 2) before anything is solved."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import emgame
from emgame.cli import app
from emgame.model import load_economy

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
FILE = str(ROOT / "examples" / "increasing_returns.toml")
PATHS = "producers.*.productivity,consumers[0].endowment"


def test_json_has_sensitivity_equal_to_the_library_and_keeps_the_contract():
    plain = runner.invoke(app, ["solve", FILE, "--json"])
    res = runner.invoke(app, ["solve", FILE, "--json", "--sensitivity", PATHS])
    assert res.exit_code == 0, res.output
    doc, base = json.loads(res.stdout), json.loads(plain.stdout)
    assert set(doc) - set(base) == {"sensitivity"}
    # Every key of the document without --sensitivity is unchanged (timings aside).
    assert {k: doc[k] for k in base if k != "seconds"} == {k: base[k] for k in base
                                                          if k != "seconds"}
    sens = doc["sensitivity"]
    assert sens["status"] == "ok"
    lib = emgame.sensitivity(emgame.solve(load_economy(FILE)), PATHS)
    for p_json, p in zip(sens["parameters"], lib.parameters, strict=True):
        assert p_json["path"] == p.path
        got = np.array([p_json["derivative"][k] for k in lib.outputs], dtype=float)
        np.testing.assert_allclose(got, p.derivative, rtol=1e-9)


def test_table_fits_a_narrow_terminal_and_is_plain_when_piped(tmp_path):
    tex = tmp_path / "sens.tex"
    res = runner.invoke(app, ["solve", FILE, "-s", PATHS, "--latex", str(tex)])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Elasticities, nash" in out and "θ1 = producers.*.productivity" in out
    assert "\x1b[" not in out                      # piped: no terminal escapes
    tables = [line for line in out.splitlines() if not line.startswith("LaTeX written")]
    assert max(len(line) for line in tables) <= 80   # piped output: 80 columns
    # A narrow terminal: the tables are split, never cut.
    from rich.console import Console

    from emgame.report.layout import render
    from emgame.report.sensitivity_tables import sensitivity_tables

    r = emgame.sensitivity(emgame.solve(load_economy(FILE)), PATHS + ",verification.fixed")
    console = Console(width=40, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render(sensitivity_tables(r, width=40)))
    narrow = console.export_text()
    assert max(len(line) for line in narrow.splitlines()) <= 40
    assert "θ3" in narrow and "-41.31" in narrow   # dW/dv: the last column is still shown
    body = tex.read_text()
    assert r"\begin{tabular}" in body and r"\toprule" in body


def test_bad_path_exits_2_naming_the_path():
    res = runner.invoke(app, ["solve", FILE, "--sensitivity", "producers.nope.productivity"])
    assert res.exit_code == 2
    assert "producers.nope.productivity" in res.stderr
    assert re.search(r"increasing_returns\.toml", res.stderr)
    res = runner.invoke(app, ["solve", FILE, "--latex", "x.tex"])
    assert res.exit_code == 2 and "--sensitivity" in res.stderr


def test_html_report_has_the_sensitivity_section(tmp_path):
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", FILE, "-s", PATHS, "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    page = tmp_path / "r.html"
    res = runner.invoke(app, ["report", str(out), "-o", str(page)])
    assert res.exit_code == 0, res.output
    html = page.read_text()
    assert "Sensitivity (nash)" in html and "θ2 = consumers[0].endowment" in html
