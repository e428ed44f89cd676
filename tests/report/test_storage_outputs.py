"""Outputs with storage operators and units (docs/model.md, "Storage", "Units", "Outputs", "The
JSON contract"): the JSON's ``storage`` rows and ``units``, the frame's and Parquet's storage
rows, the terminal tables' unit headers and storage tables, and the figures' axes.

The solution here is a hand-made candidate profile evaluated by the market rules (status
``no-equilibrium-found``: nothing certifies it); the checks are on what the outputs report of
it, each against the profile or the rules."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from rich.console import Console

from emgame import ConsumerType, Economy, ProducerType, StorageType, Units, Utility
from emgame.market import Profile, evaluate
from emgame.results import Solution, Status


@pytest.fixture(scope="module")
def candidate() -> Solution:
    u = Utility("cobb_douglas", (0.5, 0.5))
    e = Economy.build(
        name="night and day", periods=2, period_labels=("night", "day"),
        consumers=[ConsumerType("homes", 3, 1.0, u)],
        producers=[ProducerType("solar", 2, 1.0, 0.8, u, capacity=(0.0, 2.0))],
        storage=[StorageType("battery", 2, 1.0, 0.5,
                             Utility("quasilinear", (0.0, 0.0), goods_weight=1.0),
                             kind="classic", charge_efficiency=0.9, discharge_efficiency=0.9)],
        units=Units("MWh", "USD"), verification=(0.0, 0.01))
    y = 0.2
    prof = Profile(np.array([[1.0, 0.5, 0.5]]), np.array([[0.2, 0.1, 0.1]]),
                   np.array([[0.0, 1.5]]), np.array([2.0]),
                   np.array([[0.05, 0.0, 0.3]]), np.array([[0.81 * y, 0.0]]),
                   np.array([[0.0, y]]))
    return Solution(e, "nash", Status.NO_EQUILIBRIUM, "hand-made", profile=prof,
                    outcome=evaluate(e, prof))


def test_json_has_storage_rows_and_units(candidate: Solution) -> None:
    """``storage`` rows carry the profile's bids, offers and charge, the market's state of
    charge (σ^t = σ^{t-1} + η_c y^t − q^t/η_d, lowest path) and consumption E = x − V − y;
    ``units`` names the labels and the relative price's unit; totals add discharge and
    charge."""
    d = json.loads(json.dumps(candidate.to_dict(), allow_nan=False))
    assert d["units"] == {"electricity": "MWh", "goods": "USD", "price": "USD/MWh"}
    (row,) = d["storage"]
    prof, out = candidate.profile, candidate.outcome
    assert row["name"] == "battery" and row["count"] == 2 and "endowment" not in row
    assert row["bids"] == {"goods": 0.05, "electricity": [0.0, 0.3]}
    assert row["offers"] == pytest.approx(list(prof.storage_offers[0]))
    assert row["charge"] == pytest.approx([0.0, 0.2])
    # σ: period 1 discharges 0.162 (takes 0.18 from the battery), period 2 stores 0.9 × 0.2.
    assert row["state_of_charge"] == pytest.approx([0.0, 0.18])
    x = out.storage.electricity[0]
    assert row["consumption"][0] == pytest.approx(list(x - 0.01 * x - prof.storage_charge[0]))
    assert d["totals"]["discharge"] == pytest.approx([2 * 0.162, 0.0])
    assert d["totals"]["charge"] == pytest.approx([0.0, 0.4])
    assert d["storage"][0]["energy_capacity"] == 1.0


def test_frame_and_parquet_have_storage_rows(candidate: Solution, tmp_path) -> None:
    pytest.importorskip("pyarrow")
    from emgame.store.parquet import read_types, write_solutions

    df = candidate.to_frame()
    assert list(df["role"]) == ["consumer", "producer", "storage"]
    st = df[df["role"] == "storage"].iloc[0]
    assert st["charge_2"] == pytest.approx(0.2) and st["state_of_charge_2"] == pytest.approx(0.18)
    assert np.isnan(df[df["role"] == "consumer"].iloc[0]["charge_2"])
    path = write_solutions(tmp_path / "r.parquet", [candidate])
    t = read_types(path).to_pydict()
    assert t["role"] == ["consumer", "producer", "storage"]
    assert t["charge_2"][2] == pytest.approx(0.2) and t["charge_2"][0] is None


def _text(parts) -> str:  # noqa: ANN001
    from emgame.report.tables import render

    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None).print(render(parts))
    return buf.getvalue()


def test_tables_show_units_and_storage(candidate: Solution) -> None:
    from emgame.report.tables import economy_tables, solution_tables

    text = _text(solution_tables(candidate, width=120))
    for header in ("(USD/MWh)", "(bytecoins/MWh)", "(MWh)", "discharge", "Storage operators",
                   "Storage per period", "σ"):
        assert header in text, header
    assert "units: electricity in MWh, goods in USD" in text
    econ = _text(economy_tables(candidate.economy, width=120))
    assert "units" in econ and "relative prices USD/MWh" in econ and "ηc=0.9" in econ


def test_figures_label_axes_in_units(candidate: Solution) -> None:
    pytest.importorskip("matplotlib")
    from emgame.report.figures import allocations_figure, prices_figure

    d = candidate.to_dict()
    fig = prices_figure({"nash": d}, baseline={"nash": d}, label="with storage",
                        baseline_label="without storage")
    ax = fig.axes[0]
    assert "USD/MWh" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("with storage" in s for s in labels)
    assert any("without storage" in s for s in labels)
    fig = allocations_figure({"nash": d})
    assert "MWh" in fig.axes[0].get_ylabel() and "MWh" in fig.axes[1].get_ylabel()
    # Without units: goods per unit of electricity, as before.
    plain = {k: v for k, v in d.items() if k != "units"}
    assert "goods per unit" in prices_figure({"nash": plain}).axes[0].get_ylabel()
