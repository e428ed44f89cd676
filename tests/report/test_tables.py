"""Rich tables of emgame.report.tables on hand-built solutions (no solver needed)."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

from emgame import (
    Certificate,
    ConsumerType,
    Economy,
    ProducerType,
    Profile,
    Solution,
    State,
    Status,
    Utility,
    evaluate,
)
from emgame.report import tables
from emgame.report.compare import both_to_dict, comparison

T = 24
LABELS = tuple(f"{h:02d}h" for h in range(T))


def _weights(n: int, tilt: float = 0.0) -> tuple[float, ...]:
    w = 1.0 + tilt * np.sin(np.linspace(0, np.pi, n))
    return tuple(w / w.sum())


def _economy(*, states: bool = True, classic: bool = False, consumers: int = 2) -> Economy:
    cons = [ConsumerType("hyperscale-data-centres", 10, 1.0,
                         Utility("cobb_douglas", _weights(T, 0.5))),
            ConsumerType("edge", 5, 2.0, Utility("crra", _weights(T), gamma=2.0),
                         kind="classic" if classic else "ai")]
    if classic:
        cons[1] = ConsumerType("edge", 5, 2.0,
                               Utility("cobb_douglas", _weights(T), goods_weight=0.3),
                               kind="classic")
    cons += [ConsumerType(f"extra-{k}", 1, 0.5, Utility("cobb_douglas", _weights(T)))
             for k in range(consumers - 2)]
    prods = [ProducerType("utility-scale-solar", 3, 2.0, 1.0,
                          Utility("cobb_douglas", _weights(T, 1.0)), capacity=5.0,
                          capacity_cost=0.1),
             ProducerType("rooftop", 20, 1.0, 0.8, Utility("cobb_douglas", _weights(T)),
                          capacity=0.5)]
    kw: dict = {}
    if states:
        fixed = (0.001,) * (T + 1)
        kw["states"] = [State(0.7, fixed, 0.01), State(0.3, tuple(2 * v for v in fixed), 0.02)]
    else:
        kw["verification"] = (0.0, 0.0)
    return Economy.build(name="hand-built day", periods=T, consumers=cons, producers=prods,
                         period_labels=LABELS, **kw)


def _profile(economy: Economy, scale: float = 1.0) -> Profile:
    nc, npr = len(economy.consumers), len(economy.producers)
    cb = np.full((nc, T + 1), 0.1)
    pb = np.full((npr, T + 1), 0.05)
    pb[:, 0] = [5.0, 0.1]  # enough goods for the producers' inputs
    offers = np.array([np.linspace(0.05, 0.2, T), np.full(T, 0.01)]) * scale
    return Profile(cb, pb, offers, np.array([5.0, 0.5]))


def _solution(economy: Economy, concept: str = "nash", status: Status = Status.EQUILIBRIUM,
              reason: str = "", scale: float = 1.0, candidate: bool = True) -> Solution:
    if not candidate:
        return Solution(economy, concept, status, reason=reason)
    p = _profile(economy, scale)
    out = evaluate(economy, p)
    cert = Certificate(np.full(len(economy.consumers), 1e-10),
                       np.full(len(economy.producers), 2e-10),
                       out.consumers.utility, out.producers.utility, method="hand-built")
    return Solution(economy, concept, status, reason=reason, profile=p, outcome=out,
                    certificate=cert)


def _text(parts, width: int = 100) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(tables.render(parts))
    return console.export_text()


def _assert_fits(text: str, width: int = 100) -> None:
    too_wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert not too_wide, too_wide[:3]


def test_hand_built_profile_is_feasible():
    sol = _solution(_economy())
    assert np.all(np.isfinite(sol.outcome.consumers.utility))
    assert np.all(np.isfinite(sol.outcome.producers.utility))


@pytest.mark.parametrize("states", [True, False])
def test_solution_tables_render_in_100_columns(states):
    sol = _solution(_economy(states=states))
    text = _text(tables.solution_tables(sol, width=100))
    _assert_fits(text)
    assert "Nash equilibrium found" in text
    for name in ("Market", "Consumers", "Producers", "Certificate", "markup", "Lerner",
                 "K − q", "00h", "23h", "utility-scale-solar", "rooftop"):
        assert name in text
    assert "NOT an equilibrium" not in text
    if states:
        assert "expected over 2 states" in text
        assert "burnt" in text and "consumed" in text
    else:
        assert "verification is free" in text


def test_every_period_is_a_row():
    text = _text(tables.solution_tables(_solution(_economy()), width=100))
    market = text.split("Market", 1)[1].split("Consumers", 1)[0]
    assert all(label in market for label in LABELS)


def test_narrow_terminal_splits_per_period_tables():
    text = _text(tables.solution_tables(_solution(_economy()), width=60), width=60)
    assert "(1/" in text  # a per-period table split over several parts
    _assert_fits(text, 60)


def test_many_types_are_summarised():
    econ = _economy(consumers=tables.MAX_PERIOD_TYPES + 3)
    nc = len(econ.consumers)
    p = _profile(econ)
    sol = Solution(econ, "nash", Status.EQUILIBRIUM, profile=p, outcome=evaluate(econ, p))
    text = _text(tables.solution_tables(sol))
    assert f"and {nc - tables.MAX_PERIOD_TYPES} more consumer types" in text
    assert "none (no candidate to certify)" in text  # no certificate given


def test_failed_solve_without_candidate():
    sol = _solution(_economy(), status=Status.NO_EQUILIBRIUM,
                    reason="sole seller on post 3: rooftop", candidate=False)
    parts = tables.solution_tables(sol)
    assert len(parts) == 1
    text = _text(parts)
    assert "NOT an equilibrium: sole seller on post 3: rooftop" in text
    assert "no-equilibrium-found" in text


def test_failed_solve_with_candidate_is_marked():
    sol = _solution(_economy(), status=Status.NO_EQUILIBRIUM, reason="did not converge")
    text = _text(tables.solution_tables(sol))
    assert "NOT an equilibrium: did not converge" in text
    assert "candidate, NOT an equilibrium" in text


def test_classic_kind_column():
    text = _text(tables.solution_tables(_solution(_economy(classic=True))))
    assert "classic" in text


def test_comparison_tables_and_dict():
    econ = _economy()
    nash = _solution(econ, "nash")
    comp = _solution(econ, "competitive", scale=1.5)
    text = _text(tables.comparison_tables(nash, comp))
    _assert_fits(text)
    for s in ("Relative prices", "Nash", "compet.", "gap", "ratio",
              "Utility and equivalent variation", "Welfare", "Competitive equilibrium found"):
        assert s in text

    cmp = comparison(nash, comp)
    rn, rc = nash.relative_prices, comp.relative_prices
    np.testing.assert_allclose(cmp["relative_prices"]["nash"], rn)
    np.testing.assert_allclose(cmp["relative_prices"]["competitive"], rc)
    np.testing.assert_allclose(cmp["relative_prices"]["gap"], rn - rc)
    np.testing.assert_allclose(cmp["relative_prices"]["ratio"], rn / rc)
    assert cmp["periods"] == list(LABELS)
    assert cmp["both_equilibria"] is True
    row = cmp["utility"]["producers"][0]
    assert row["name"] == "utility-scale-solar"
    assert row["difference"] == pytest.approx(row["nash"] - row["competitive"])

    doc = both_to_dict(nash, comp)
    assert set(doc) >= {"status", "nash", "competitive", "comparison"}
    assert doc["status"] == "equilibrium"
    json.dumps(doc, allow_nan=False)


def test_comparison_with_a_failed_side():
    econ = _economy()
    nash = _solution(econ, "nash", status=Status.NO_EQUILIBRIUM, reason="no luck",
                     candidate=False)
    comp = _solution(econ, "competitive")
    cmp = comparison(nash, comp)
    assert cmp["both_equilibria"] is False
    assert cmp["relative_prices"]["nash"] == [None] * T
    assert cmp["relative_prices"]["gap"] == [None] * T
    assert all(r["difference"] is None for r in cmp["utility"]["consumers"])
    doc = both_to_dict(nash, comp)
    assert doc["status"] == "no-equilibrium-found"
    json.dumps(doc, allow_nan=False)
    text = _text(tables.comparison_tables(nash, comp))
    assert "Nash: NOT an equilibrium: no luck" in text
    assert "Competitive equilibrium found" in text


def test_economy_tables():
    text = _text(tables.economy_tables(_economy()))
    _assert_fits(text)
    for s in ("hand-built day", "24 (00h", "state 1", "state 2", "hyperscale-data-centres",
              "θ=2", "K̄=5", "crra", "γ: 2"):
        assert s in text


@pytest.mark.parametrize(("x", "expected"), [
    (None, "—"), (float("nan"), "—"), (float("inf"), "∞"), (-float("inf"), "−∞"), (0.0, "0"),
    (1.23456, "1.235"), (123456.0, "1.235e+05"), (0.000123456, "0.0001235"),
])
def test_fmt(x, expected):
    assert tables.fmt(x) == expected
    assert len(tables.fmt(x)) <= tables.NUMBER_WIDTH


def test_names_are_not_markup():
    cons = [ConsumerType("[bold]dc[/bold]", 2, 1.0, Utility("cobb_douglas", (0.5, 0.5)))]
    prods = [ProducerType("farm[1]", 2, 2.0, 1.0, Utility("cobb_douglas", (0.5, 0.5)),
                          capacity=5.0)]
    econ = Economy.build(name="[red]odd[/red]", periods=2, consumers=cons, producers=prods,
                         period_labels=["[x]", "day"])
    p = Profile(np.full((1, 3), 0.1), np.array([[1.0, 0.1, 0.1]]), np.full((1, 2), 0.1),
                np.array([5.0]))
    sol = Solution(econ, "nash", Status.NO_EQUILIBRIUM, reason="post [1] failed", profile=p,
                   outcome=evaluate(econ, p))
    text = _text([*tables.solution_tables(sol), *tables.economy_tables(econ)])
    for s in ("[bold]dc[/bold]", "farm[1]", "[red]odd[/red]", "[x]", "post [1] failed"):
        assert s in text


# --------------------------------------------------------------------------------------------
# The user's terminal: numbers never cut, noise shown as 0 (issue 11).
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def costly():
    """The bundled verification_costs example, both concepts (its producers' regrets are
    rounding noise such as -4e-15, its competitive Lerner indices 1e-16)."""
    from pathlib import Path

    from emgame import load_economy, solve_both

    path = Path(__file__).resolve().parents[2] / "examples" / "verification_costs.toml"
    nash, comp = solve_both(load_economy(path))
    assert nash.ok and comp.ok
    return nash, comp


@pytest.mark.parametrize("width", [80, 60, 100])
def test_no_number_is_cut_in_a_narrow_terminal(costly, width):
    """Every line fits the width, and every regret and every consumer's utility appears whole
    (at 80 columns a producer's regret -4.0e-15 used to print as -4.0e-1 and the ok column
    was dropped)."""
    from emgame.report.layout import fmt, regret_text

    nash, comp = costly
    text = _text(tables.comparison_tables(nash, comp, width=width), width=width)
    _assert_fits(text, width)
    tokens = set(text.split())
    for sol in (nash, comp):
        cert = sol.certificate
        for regrets, utils in ((cert.consumer_regret, sol.outcome.consumers.utility),
                               (cert.producer_regret, sol.outcome.producers.utility)):
            for r, u in zip(regrets, utils, strict=True):
                tol = max(cert.atol, cert.rtol * abs(u))
                assert regret_text(r, tol) in tokens
                assert fmt(u) in tokens
    n_types = len(nash.economy.consumers) + len(nash.economy.producers)
    assert text.count("yes") >= 2 * n_types  # every type's ok cell, under both concepts


def test_rounding_noise_is_shown_as_zero(costly):
    """Competitive Lerner indices are zero up to rounding (|L| ~ 1e-16): shown as 0, not as
    1.459e-16; the same for goods, bids and capacity withheld."""
    _, comp = costly
    lerner = comp.lerner()
    assert np.all(np.abs(lerner) < 1e-12) and np.any(lerner != 0)  # noise is there
    text = _text(tables.solution_tables(comp, width=100))
    supply = text.split("Producers' supply per period", 1)[1].split("purchases", 1)[0]
    assert not re.search(r"e-1\d", supply), re.findall(r"\S*e-1\d\S*", supply)[:5]
    summary = text.split("Consumers", 1)[1].split("purchases", 1)[0]
    assert not re.search(r"e-1\d", summary.split("regret", 1)[0])


def test_snap():
    from emgame.report.layout import snap

    np.testing.assert_array_equal(snap([-1.4e-14, 0.5, 2e-9, np.nan], 1.0, 1e-8),
                                  [0.0, 0.5, 0.0, np.nan])
    assert snap([1e-12], 1e-12, 1e-8)[0] == 1e-12  # small but of its own scale: kept


def test_every_table_defines_its_columns(costly):
    """Each table carries a note defining its columns (Nash Q, compet. Q, EV, ...)."""
    nash, comp = costly
    text = " ".join(_text(tables.comparison_tables(nash, comp)).split())
    for s in ("Nash Q, compet. Q: electricity produced", "EV: equivalent variation",
              "ΔCS = Σ_h n_h EV_h", "regret: the most one agent", "markup = power × scarcity",
              "p/p⁰: relative price"):
        assert s in text, s


def test_welfare_table_reports_surplus_and_deadweight_loss():
    """Welfare in the tables: consumer and producer surplus, deadweight loss, profits (from
    the bundled AI solar day, where every type has an equivalent variation)."""
    from pathlib import Path

    from emgame import load_economy, solve_both

    path = Path(__file__).resolve().parents[2] / "examples" / "ai_solar_day.toml"
    nash, comp = solve_both(load_economy(path))
    text = _text(tables.comparison_tables(nash, comp))
    cmp = comparison(nash, comp)["welfare"]
    for label, key in (("consumer surplus ΔCS", "consumer_surplus"),
                       ("producer surplus ΔPS", "producer_surplus"),
                       ("deadweight loss DWL", "deadweight_loss")):
        line = next(ln for ln in text.splitlines() if label in ln)
        assert tables.fmt(cmp[key]) in line.split()
    assert cmp["deadweight_loss"] > 0
