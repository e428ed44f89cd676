"""Figures: prices by period, allocations, sweeps, replication; labelled axes, PNG and SVG."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from emgame import economy_from_dict, solve_both
from emgame.report import figures
from sweep_helpers import SMALL_ECONOMY


@pytest.fixture(scope="module")
def both() -> dict:
    import tomllib

    economy = economy_from_dict(tomllib.loads(SMALL_ECONOMY))
    nash, competitive = solve_both(economy)
    assert nash.ok and competitive.ok
    return {"nash": nash.to_dict(), "competitive": competitive.to_dict()}


def labelled(fig) -> None:
    for ax in fig.axes:
        assert ax.get_xlabel() or ax.get_xticklabels(), "x axis without a label"
        assert ax.get_ylabel(), "y axis without a label"


def saved(fig, tmp_path, name: str) -> None:
    png = figures.save(fig, tmp_path / f"{name}.png")
    svg = figures.save(fig, tmp_path / f"{name}.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


def test_prices_nash_beside_competitive(both, tmp_path):
    fig = figures.prices_figure(both)
    labelled(fig)
    ax = fig.axes[0]
    assert "relative price" in ax.get_ylabel() and "goods per unit of electricity" in \
        ax.get_ylabel()
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["Nash", "competitive"]
    assert np.allclose(lines[0].get_ydata(), both["nash"]["relative_prices"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["night", "day"]
    saved(fig, tmp_path, "prices")


def test_a_failed_solution_is_marked(both):
    failed = {"status": "no-equilibrium-found", "concept": "nash", "reason": "x",
              "relative_prices": None}
    fig = figures.prices_figure({"nash": failed, "competitive": both["competitive"]})
    assert "NOT an equilibrium" in fig._suptitle.get_text()
    fig = figures.prices_figure({"nash": failed})
    assert "no prices" in fig.axes[0].texts[0].get_text()


def test_allocations_by_type(both, tmp_path):
    fig = figures.allocations_figure(both)
    labelled(fig)
    assert len(fig.axes) == 2
    left, right = fig.axes
    assert "electricity consumed" in left.get_ylabel()
    assert [t.get_text() for t in right.get_xticklabels()] == ["dc", "farms"]
    assert any("burnt by verification" in t.get_text() for t in right.get_legend().get_texts())
    saved(fig, tmp_path, "allocations")


def test_sweep_figure_with_reference_and_log_axes(tmp_path):
    x = np.array([2.0, 3, 4, 6, 8])
    s = [figures.Series("Nash", x, 0.5 * (x / (x - 1)) ** 2, "nash")]
    ref = figures.reference_curve("(1/2)*(x/(x-1))**2")
    fig = figures.sweep_figure(s, xlabel=figures.parameter_label("producers.firms.count"),
                               ylabel=figures.column_label("mean_relative_price"),
                               reference=ref, reference_label="Cournot", logx=True)
    labelled(fig)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [ln.get_label() for ln in ax.get_lines()] == ["Nash", "Cournot"]
    grid, y = ax.get_lines()[1].get_data()
    assert np.allclose(y, 0.5 * (grid / (grid - 1)) ** 2)
    assert "agents per type" in ax.get_xlabel()
    saved(fig, tmp_path, "sweep")


def test_replication_fit_recovers_the_rate(tmp_path):
    n = np.array([1.0, 2, 4, 8, 16, 32])
    fig, fit = figures.replication_figure(n, 0.3 * n ** -1.0)
    assert fit is not None and fit.b == pytest.approx(-1.0) and fit.a == pytest.approx(0.3)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "n^{-1.000}" in ax.get_title()
    labelled(fig)
    saved(fig, tmp_path, "replication")
    assert figures.fit_power_law([1.0], [1.0]) is None


@pytest.mark.parametrize("expr", ["__import__('os')", "x.real", "open('f')", "x if x else 1",
                                  "[x]", "lambda: 1", "True + x"])
def test_reference_curve_refuses_anything_but_arithmetic(expr):
    with pytest.raises(ValueError):
        figures.reference_curve(expr)


def test_reference_curve_functions():
    f = figures.reference_curve("sqrt(x) + log(exp(2)) - -x**2 / 4")
    assert f(np.array([4.0]))[0] == pytest.approx(2 + 2 + 4)


def test_save_refuses_other_formats(both, tmp_path):
    with pytest.raises(ValueError, match=r".png, .svg or .pdf"):
        figures.save(figures.prices_figure(both), tmp_path / "x.jpg")


def test_pdf_for_papers(both, tmp_path):
    """-o fig.pdf writes a vector PDF, the same bytes every time (no timestamp)."""
    a = figures.save(figures.prices_figure(both), tmp_path / "a.pdf").read_bytes()
    b = figures.save(figures.prices_figure(both), tmp_path / "b.pdf").read_bytes()
    assert a[:5] == b"%PDF-" and a == b


def _overlaps(fig, legend, ax) -> bool:
    fig.canvas.draw()
    lb, ab = legend.get_window_extent(), ax.get_window_extent()
    return lb.x0 < ab.x1 - 1 and lb.x1 > ab.x0 + 1 and lb.y0 < ab.y1 - 1 and lb.y1 > ab.y0 + 1


def test_legends_do_not_sit_on_the_data(both):
    """Legends stand beside the axes (they used to be placed inside, over the lines)."""
    x = np.linspace(0, 1, 9)
    series = [figures.Series(f"Nash, n = {k}", x, x * k, "nash") for k in range(4)]
    for fig in (figures.sweep_figure(series, xlabel="x", ylabel="y"),
                figures.prices_figure(both)):
        ax = fig.axes[0]
        assert not _overlaps(fig, ax.get_legend(), ax)


def test_lines_break_at_points_that_are_not_equilibria():
    """A NaN (a point that is not an equilibrium) breaks the line: no segment joins its
    neighbours across it."""
    x = np.arange(5.0)
    y = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    fig = figures.sweep_figure([figures.Series("Nash", x, y, "nash")], xlabel="x", ylabel="y")
    line = fig.axes[0].get_lines()[0]
    path = line.get_path()
    codes = [c for _, c in path.iter_segments()]
    assert codes.count(1) == 2  # MOVETO twice: two pieces, not one line through x = 2


def test_whole_number_parameters_are_points():
    x = np.array([2.0, 3.0, 5.0])
    fig = figures.sweep_figure([figures.Series("Nash", x, x, "nash")], xlabel="P",
                               ylabel="y", discrete=True)
    line = fig.axes[0].get_lines()[0]
    assert line.get_linestyle() in ("None", "none", "") and line.get_marker() == "o"


def test_short_labels_name_parameters():
    assert figures.short_label("producers.farms.count") == "agents per type (farms)"
    assert figures.short_label("consumers.*.count") == "agents per type (all consumers)"
    assert figures.short_label("verification.fixed").startswith("fixed verification cost")
    assert figures.short_label("producers.farms.count", "firms $P$") == "firms $P$"


def test_many_types_are_summed_in_allocations(both):
    """With more types than can be drawn, the largest are drawn and the rest are one bar
    whose agents and consumption add up to theirs."""
    sol = both["nash"]
    many = dict(sol)
    base = sol["consumers"][0]
    many["consumers"] = [{**base, "name": f"c{k}", "count": 1 + k}
                         for k in range(figures.MAX_TYPES_DRAWN + 5)]
    lumped = figures.lump_types({"nash": many})["nash"]
    rows = lumped["consumers"] + lumped["producers"]
    assert len(rows) == figures.MAX_TYPES_DRAWN
    other = [r for r in lumped["consumers"] if r["name"].startswith("other")]
    assert len(other) == 1
    total = sum(r["count"] for r in many["consumers"])
    assert sum(r["count"] for r in lumped["consumers"]) == total
    fig = figures.allocations_figure({"nash": many})
    assert len(fig.axes[1].get_xticklabels()) == figures.MAX_TYPES_DRAWN


def test_parameter_labels():
    assert "replication factor" in figures.parameter_label("consumers.*.count", "multiply")
    assert "fixed verification cost" in figures.parameter_label("verification.fixed")
    assert "capacity cost" in figures.parameter_label("producers.*.capacity_cost")
    assert figures.parameter_label("x.y", label="my label") == "my label"


def test_figures_use_no_pyplot_and_set_no_global_backend():
    code = ("import matplotlib, sys\nbefore = matplotlib.get_backend() if 'matplotlib.pyplot' "
            "in sys.modules else None\nfrom emgame.report import figures\n"
            "fig, ax = figures.new_figure(); ax.plot([1, 2])\nfigures.to_bytes(fig)\n"
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_panels_share_the_x_axis(tmp_path):
    x = np.linspace(0, 1, 5)
    panels = [([figures.Series("Nash", x, x, "nash")], figures.column_label("participation")),
              ([figures.Series("competitive", x, x ** 2, "competitive")],
               figures.column_label("verification_share"))]
    fig = figures.sweep_panels(panels, xlabel="v", title="t", note="1 stored row is not ...")
    assert len(fig.axes) == 2
    assert fig.axes[-1].get_xlabel() == "v" and fig.axes[0].get_title() == "t"
    assert "\n(" in fig.axes[0].get_ylabel()
    assert fig.axes[0].get_legend().get_title().get_text() == "1 stored row is not ..."
    saved(fig, tmp_path, "panels")
