"""The HTML report: one self-contained page (no external resource), checked in headless
Chromium: it loads with no console error and no request, and its screenshot is not blank."""

from __future__ import annotations

import re
import tomllib

import pytest

from chromium_cdp import ensure_chromium, load_page, pixel_spread
from emgame import economy_from_dict, economy_to_dict, solve_both
from emgame.analysis.runner import run_sweep
from emgame.analysis.sweep import load_sweep
from emgame.report import html
from emgame.report.data import SolutionSet
from emgame.store import open_store
from sweep_helpers import SMALL_ECONOMY, grid_sweep


@pytest.fixture(scope="module")
def solution_page(tmp_path_factory):
    economy = economy_from_dict(tomllib.loads(SMALL_ECONOMY))
    nash, competitive = solve_both(economy)
    data = SolutionSet(economy.name, {"nash": nash.to_dict(),
                                      "competitive": competitive.to_dict()},
                       "small.toml", economy_to_dict(economy))
    path = tmp_path_factory.mktemp("html") / "solution.html"
    path.write_text(html.solution_report(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("store")
    sw = load_sweep(grid_sweep(folder, 2, 3))
    with open_store(folder / "r.duckdb") as st:
        run_sweep(sw, st, serial=True)
    with open_store(folder / "r.duckdb", read_only=True) as st:
        page = html.store_report(st)
    path = folder / "store.html"
    path.write_text(page, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def chromium():
    path, reason = ensure_chromium()
    if path is None:
        pytest.skip(f"headless Chromium check skipped: {reason}")
    return path


def self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|<iframe|<object|<embed|@import|url\(", page)
    for ref in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert ref.startswith("data:"), ref
    assert "http://" not in page and "https://" not in page


def test_solution_page_is_self_contained_and_complete(solution_page):
    page = solution_page.read_text()
    self_contained(page)
    for text in ("The economy", "Consumers", "Producers", "Prices", "Agent types",
                 "equilibrium", "night", "farms", "dc"):
        assert text in page, text
    assert page.count("data:image/png;base64,") == 2


def test_store_page_is_self_contained_and_complete(store_page):
    page = store_page.read_text()
    self_contained(page)
    for text in ("Sweep: sweep", "Parameters", "producers.farms.count",
                 "consumers.dc.endowment", "Base economy", "Results", "Status"):
        assert text in page, text
    assert page.count("data:image/png;base64,") >= 2


def test_a_failed_solution_is_marked_not_an_equilibrium(tmp_path):
    data = SolutionSet("x", {"nash": {"status": "no-equilibrium-found", "concept": "nash",
                                      "reason": "sole seller", "relative_prices": None}}, "x")
    page = html.solution_report(data)
    self_contained(page)
    assert "NOT an equilibrium" in page and "sole seller" in page


@pytest.mark.slow
@pytest.mark.parametrize("which", ["solution_page", "store_page"])
def test_page_in_headless_chromium(request, chromium, which):
    path = request.getfixturevalue(which)
    load = load_page(chromium, path)
    assert load.loaded, "the page never fired its load event"
    assert load.errors == []
    spread, colours = pixel_spread(load.screenshot)
    assert spread > 10 and colours > 20, (spread, colours)


@pytest.mark.slow
def test_the_chromium_check_sees_errors(chromium, tmp_path):
    """The harness is not vacuous: a page with a console error and a network request fails."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('boom');"
                   "</script><img src=\"http://127.0.0.1:9/x.png\"></body></html>")
    load = load_page(chromium, bad, settle=0.5)
    assert any("boom" in e for e in load.console_errors)
    assert any("127.0.0.1:9" in u for u in load.external_requests)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    spread, _ = pixel_spread(load_page(chromium, blank).screenshot)
    assert spread < 1


def test_the_report_shows_welfare(tmp_path):
    """A report of Nash beside competitive carries the welfare measures (docs/model.md,
    "Welfare"): consumer and producer surplus, deadweight loss, each type's EV."""
    from pathlib import Path

    from emgame.report.data import load_solutions
    from emgame.report.html import solution_report

    path = Path(__file__).resolve().parents[2] / "examples" / "ai_solar_day.toml"
    page = solution_report(load_solutions(path))
    for s in ("Welfare: Nash relative to competitive", "consumer surplus", "deadweight loss",
              "EV per agent"):
        assert s in page, s
