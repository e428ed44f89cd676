"""Are the calibrated day's magnitudes sane? Its competitive benchmark, computed by an
independent program (competitive_oracle.py: a concave planner problem whose first-order
conditions are the equilibrium's, docs/model.md sections 6 and 10), and that program checked against
emgame's own competitive solver on a variant the solver accepts today (no storage, one capacity
per producer, no [units])."""

from __future__ import annotations

import numpy as np
import pytest
from competitive_oracle import competitive

import emgame
from emgame.calibration import BUDGET_PRICE, build_day, bundled, marginal_cost


def _solvable_variant(day: dict) -> dict:
    """The day without what the current schema refuses: storage, [units], hourly capacity
    (replaced by its daily maximum, so solar also produces at night)."""
    d = {k: v for k, v in day.items() if k not in ("storage", "units")}
    d["producers"] = [{**p, "capacity": max(p["capacity"])} if isinstance(p["capacity"], list)
                      else p for p in d["producers"]]
    return d


@pytest.fixture(scope="module")
def with_storage():
    day = build_day()
    return day, competitive(day)


@pytest.fixture(scope="module")
def without_storage():
    day = build_day(storage=())
    return day, competitive(day)


def test_oracle_agrees_with_emgame_competitive_solver():
    """On the solvable variant both are exact (the oracle's prices are roots found to machine
    precision, the solver's excess demands are below 1e-12): prices agree to 1e-9, outputs
    too; and the verification energy emgame's market evaluation reports is κ of production,
    the mapping's claim that 0.5 % of the day's electricity is burnt."""
    day = _solvable_variant(build_day(storage=()))
    ref = competitive(day)
    assert ref.success, ref.message
    s = emgame.solve(emgame.economy_from_dict(day), "competitive")
    assert s.status is emgame.Status.EQUILIBRIUM and s.certificate.passed, s.reason
    d = s.to_dict()
    np.testing.assert_allclose(d["relative_prices"], ref.prices, rtol=1e-9)
    for p in d["producers"]:
        np.testing.assert_allclose(p["offers"], ref.output[p["name"]], rtol=1e-9)
    burnt = np.sum(d["totals"]["verification"])
    produced = np.sum(d["totals"]["production"])
    assert burnt / produced == pytest.approx(day["verification"]["share"], rel=1e-9)


def test_producers_are_on_their_supply_curves(with_storage):
    """KKT of the benchmark: an unconstrained producer sells where price = marginal cost; a
    producer at capacity has marginal cost at most the price. (Gas runs every hour here.)"""
    day, b = with_storage
    assert b.success, b.message
    for p in day["producers"]:
        q = b.output[p["name"]]
        cap = np.broadcast_to(np.asarray(p["capacity"], float), q.shape)
        mc = marginal_cost(q, p["productivity"], p["returns"])
        interior = (q > 1e-9) & (q < cap - 1e-6)
        np.testing.assert_allclose(mc[interior], b.prices[interior], rtol=1e-9)
        assert np.all(mc[q >= cap - 1e-6] <= b.prices[q >= cap - 1e-6] * (1 + 1e-9))
    gas = b.output["gas-fleet"]
    assert np.all(gas > 0)


def test_batteries_arbitrage_the_round_trip_loss(with_storage):
    """docs/model.md, Extensions's oracle: the batteries charge at one price and discharge at
    another, p_discharge >= p_charge / (η_c η_d); they charge in sunny hours (availability
    above 0.5) and discharge at night (below 0.05: dawn and after sunset); the state of charge
    stays in [0, S] over the cyclic day."""
    day, b = with_storage
    s = day["storage"][0]
    c, d, soc = b.charge[s["name"]], b.discharge[s["name"]], b.soc[s["name"]]
    charging, discharging = c > 1e-3, d > 1e-3
    assert charging.any() and discharging.any() and not (charging & discharging).any()
    pc, pd = b.prices[charging], b.prices[discharging]
    assert np.ptp(pc) <= 1e-6 * pc.mean() and np.ptp(pd) <= 1e-6 * pd.mean()
    loss = s["charge_efficiency"] * s["discharge_efficiency"]
    assert pd.mean() >= pc.mean() / loss * (1 - 1e-6)
    sun = bundled("availability")["utility_tracking"]
    assert np.all(sun[charging] > 0.5) and np.all(sun[discharging] < 0.05)
    assert soc.min() >= -1e-6 * s["energy_capacity"]
    assert soc.max() <= s["energy_capacity"] * (1 + 1e-6)
    assert np.all(c <= s["power_capacity"] + 1e-9) and np.all(d <= s["power_capacity"] + 1e-9)


def test_prices_are_plausible_wholesale_prices(with_storage, without_storage):
    """Competitive prices in USD/MWh within 15-40 (a gas-priced US wholesale market; the gas
    fleet's marginal cost runs from 26.7 at half load to 42.4 at full load); without storage
    the night (no solar) is dearer than the solar hours, and storage narrows the spread."""
    day, b = with_storage
    day0, b0 = without_storage
    for prices in (b.prices, b0.prices):
        assert np.all((prices > 15) & (prices < 40)), prices
    sun = np.array(day0["producers"][0]["capacity"]) > 0
    assert b0.prices[~sun].mean() > b0.prices[sun].mean() + 3
    assert np.ptp(b.prices) < 0.6 * np.ptp(b0.prices)


def test_data_centres_buy_about_their_load(with_storage):
    """The budget price is close to the day's consumption-weighted competitive price, so the
    data centres buy within 5 % of their stated daily energy."""
    day, b = with_storage
    load = sum(c["count"] * c["endowment"] / BUDGET_PRICE for c in day["consumers"])
    bought = sum(c["count"] * b.consumption[c["name"]] for c in day["consumers"])
    assert abs(bought.sum() / load - 1) < 0.05
    assert abs((b.prices * bought).sum() / bought.sum() / BUDGET_PRICE - 1) < 0.02


def test_header_figures(with_storage, without_storage):
    """The figures the bundled file's 'What to look for' paragraph states."""
    day, b = with_storage
    _, b0 = without_storage
    night = np.array(day["producers"][0]["capacity"]) == 0
    charging = b.charge["battery"] > 1e-3
    assert b.prices[night].mean() == pytest.approx(26, abs=0.5)
    assert b.prices[charging].mean() == pytest.approx(24, abs=0.5)
    assert b0.prices[night].mean() == pytest.approx(28, abs=0.5)
    assert np.all((b0.prices[10:15] > 21) & (b0.prices[10:15] < 23))
