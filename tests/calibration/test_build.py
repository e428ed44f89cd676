"""The calibrated day's builder: the economy-file keys of docs/model.md sections 8 and 10, the
mappings from profiles to parameters (docs/calibration.md), and the bundled file."""

from __future__ import annotations

import sys
import tomllib
from importlib.resources import files

import numpy as np
import pytest
import tomli_w

from emgame.calibration import (
    BATTERIES,
    BUDGET_PRICE,
    DATA_CENTRES,
    DISPATCHABLE,
    SOLAR,
    Batteries,
    DataCentres,
    Dispatchable,
    SolarFarms,
    build_day,
    bundled,
    day_toml,
    productivity_for,
    write_day,
)
from emgame.calibration.generate import MissingExtraError

WEIGHT_ROUNDING = 24 * 0.5e-6  # 24 weights written to 6 significant digits (each < 0.1)


@pytest.fixture(scope="module")
def day():
    return build_day()


def test_round_trips_through_toml(day):
    """The description is plain TOML data: written by tomli_w and read by tomllib it is the
    same dict."""
    assert tomllib.loads(tomli_w.dumps(day)) == day


def test_bundled_file_is_the_builder_output(day):
    """src/emgame/examples/calibrated_day.toml is exactly what day_toml() writes today (so the
    shipped file and the documented calibration cannot drift apart), and reads back as
    build_day()'s dict."""
    text = (files("emgame") / "examples" / "calibrated_day.toml").read_text(encoding="utf-8")
    assert text == day_toml()
    assert tomllib.loads(text) == day


def test_write_day(tmp_path):
    p = write_day(tmp_path / "d.toml")
    assert tomllib.loads(p.read_text(encoding="utf-8")) == build_day()
    assert p.read_text(encoding="utf-8").startswith("# A calibrated day: Phoenix")


def test_keys_are_the_decided_ones(day):
    """docs/model.md sections 8 and 10: periods 24 with labels, [units] MWh/USD, [market],
    [verification] with fixed and share, [[consumers]], [[producers]] with hourly capacity
    lists, [[storage]] with energy and power capacity and efficiencies."""
    assert set(day) == {"name", "periods", "period_labels", "units", "market", "verification",
                        "consumers", "producers", "storage"}
    assert day["periods"] == 24 and len(day["period_labels"]) == 24
    assert day["units"] == {"electricity": "MWh", "goods": "USD"}
    assert set(day["verification"]) == {"fixed", "share"}
    assert day["market"]["settlement"] == "simultaneous"
    assert day["market"]["horizon"] == "short-run"
    for c in day["consumers"]:
        assert set(c) == {"name", "count", "kind", "endowment", "utility"}
        assert c["kind"] == "ai"
    for p in day["producers"]:
        assert set(p) == {"name", "count", "kind", "productivity", "returns", "capacity",
                          "utility"}
    for s in day["storage"]:
        assert set(s) == {"name", "count", "kind", "utility", "energy_capacity",
                          "power_capacity", "charge_efficiency", "discharge_efficiency"}
        assert 0 < s["charge_efficiency"] <= 1 and 0 < s["discharge_efficiency"] <= 1
    names = [t["name"] for k in ("consumers", "producers", "storage") for t in day[k]]
    assert len(names) == len(set(names)), "names are unique across roles"


def test_the_bundled_day_has_every_ingredient(day):
    """Issue 13: solar with night-time zero, a dispatchable producer with decreasing returns, a
    battery operator, three data-centre load shapes, costly verification."""
    solar = [p for p in day["producers"] if isinstance(p["capacity"], list)]
    gas = [p for p in day["producers"] if not isinstance(p["capacity"], list)]
    assert len(solar) >= 1 and len(gas) >= 1 and len(day["storage"]) >= 1
    assert len(day["consumers"]) == 3
    assert all(p["returns"] < 1 for p in gas)
    assert all(min(p["capacity"]) == 0 and max(p["capacity"]) > 0 for p in solar)
    assert day["verification"]["share"] > 0


def test_solar_capacity_is_availability_times_installed(day):
    """K^t = s^t K: hourly capacity is availability times installed AC capacity (to the
    file's 3 decimals), zero exactly where availability is zero."""
    avail = bundled("availability")
    by_name = {p["name"]: p for p in day["producers"]}
    for s in SOLAR:
        k = np.array(by_name[s.name]["capacity"])
        np.testing.assert_allclose(k, avail[s.profile] * s.installed, atol=0.5e-3)
        assert np.array_equal(k == 0, avail[s.profile] == 0)


def test_cobb_douglas_weights_are_load_shares(day):
    """Weights a^t = L^t / Σ L: they sum to 1 (to rounding) and are proportional to the hourly
    load, so a Cobb–Douglas buyer's spending shares follow its load shape."""
    loads = bundled("load")
    by_name = {c["name"]: c for c in day["consumers"]}
    for dc in DATA_CENTRES:
        w = np.array(by_name[dc.name]["utility"]["weights"])
        assert by_name[dc.name]["utility"]["family"] == "cobb_douglas"
        assert abs(w.sum() - 1.0) <= WEIGHT_ROUNDING
        np.testing.assert_allclose(w, loads[dc.profile] / loads[dc.profile].sum(),
                                   atol=0.5e-6)


def test_endowment_buys_the_load_at_the_budget_price(day):
    """ω = p̄ Σ L: at a flat price p̄ a Cobb–Douglas buyer's purchases a^t ω / p̄ are its load
    L^t, hour by hour."""
    loads = bundled("load")
    by_name = {c["name"]: c for c in day["consumers"]}
    for dc in DATA_CENTRES:
        c = by_name[dc.name]
        w = np.array(c["utility"]["weights"])
        purchases = w / w.sum() * c["endowment"] / BUDGET_PRICE
        np.testing.assert_allclose(purchases, loads[dc.profile], rtol=1e-5)


def test_ces_weights_give_the_load_at_flat_prices():
    """CES u = (Σ a_t x_t^r)^(1/r): the first-order conditions a_t x_t^(r-1) = λ p give, at
    flat prices, x_t ∝ a_t^(1/(1-r)); with a_t ∝ L_t^(1-r) that is x_t ∝ L_t."""
    r = -3.0
    d = build_day(utility="ces", r=r)
    loads = bundled("load")
    for dc, c in zip(DATA_CENTRES, d["consumers"], strict=True):
        assert c["utility"]["family"] == "ces" and c["utility"]["r"] == r
        a = np.array(c["utility"]["weights"])
        x = a ** (1.0 / (1.0 - r))
        np.testing.assert_allclose(x / x.sum(), loads[dc.profile] / loads[dc.profile].sum(),
                                   rtol=2e-5)


@pytest.mark.parametrize(("m", "q", "c"), [(35.0, 300.0, 0.6), (2.0, 150.0, 0.9),
                                           (80.0, 1.0, 0.3), (10.0, 50.0, 1.0)])
def test_productivity_hits_the_stated_marginal_cost(m, q, c):
    """θ = (c m)^(-c) q^(1-c) makes the marginal cost of φ(q) = (q/θ)^(1/c) equal m at q
    (checked by a central difference of φ, not by the closed form), and the average cost
    φ(q)/q equal c m."""
    theta = productivity_for(m, q, c)

    def phi(x):
        return (x / theta) ** (1.0 / c)

    h = 1e-4 * q
    assert (phi(q + h) - phi(q - h)) / (2 * h) == pytest.approx(m, rel=1e-6)
    assert phi(q) / q == pytest.approx(c * m, rel=1e-12)


def test_gas_parameters_follow_the_stated_cost(day):
    """The dispatchable plants' θ in the file hits the stated marginal cost at the stated load
    (to the file's 6 significant digits)."""
    by_name = {p["name"]: p for p in day["producers"]}
    for g in DISPATCHABLE:
        p = by_name[g.name]
        q = g.at_load * g.capacity
        c = p["returns"]
        mc = (1.0 / c) * p["productivity"] ** (-1.0 / c) * q ** (1.0 / c - 1.0)
        assert mc == pytest.approx(g.marginal_cost, rel=1e-5)
        assert p["capacity"] == g.capacity


def test_owners_maximise_profit(day):
    """Plant and battery owners are classic, quasilinear in goods with zero electricity
    weights (they value only goods: profit)."""
    for t in day["producers"] + day["storage"]:
        assert t["kind"] == "classic"
        u = t["utility"]
        assert u["family"] == "quasilinear" and u["goods_weight"] == 1.0
        assert u["weights"] == [0.0] * 24


def test_battery_is_four_hours(day):
    for b, s in zip(BATTERIES, day["storage"], strict=True):
        assert s["energy_capacity"] == 4 * s["power_capacity"] == b.energy_capacity


def test_daily_energy_rescales_a_load():
    """daily_energy rescales one profile's day to the stated MWh and keeps its shape."""
    d = build_day(daily_energy={"training": 3600.0})
    base = build_day()
    w = np.array(d["consumers"][0]["utility"]["weights"])
    np.testing.assert_array_equal(w, base["consumers"][0]["utility"]["weights"])
    assert d["consumers"][0]["endowment"] == pytest.approx(3600.0 * BUDGET_PRICE)
    assert d["consumers"][1] == base["consumers"][1]


def test_user_csvs_and_types(tmp_path):
    """User profiles and user agent types: every number follows from the inputs."""
    solar = tmp_path / "s.csv"
    solar.write_text("# kind: availability\nperiod,label,pv\n"
                     + "".join(f"{t + 1},h{t},{0.5 if 8 <= t < 16 else 0}\n" for t in range(24)),
                     encoding="utf-8")
    loads = tmp_path / "l.csv"
    loads.write_text("# kind: load\nperiod,label,dc\n"
                     + "".join(f"{t + 1},h{t},{10 + (t % 2)}\n" for t in range(24)),
                     encoding="utf-8")
    d = build_day(availability=solar, load_profiles=loads,
                  data_centres=(DataCentres("dc", "dc", 5),),
                  solar=(SolarFarms("pv", "pv", 3, 20.0),),
                  dispatchable=(Dispatchable("gas", 2, 50.0, 40.0),),
                  storage=(Batteries("bat", 1, 8.0, 2.0, 0.9, 0.9),),
                  budget_price=50.0, verification="data-centres")
    assert d["period_labels"] == [f"h{t}" for t in range(24)]
    assert d["producers"][0]["capacity"] == [10.0 if 8 <= t < 16 else 0.0 for t in range(24)]
    assert d["consumers"][0]["endowment"] == 50.0 * 252.0
    assert d["storage"][0]["energy_capacity"] == 8.0
    assert d["verification"]["share"] == pytest.approx(138 / 553, rel=1e-3)


def test_other_days_need_the_calibrate_extra(monkeypatch):
    """A location or date without bundled profiles is computed with pvlib/demandlib; without
    them the error says what to install (simulated by hiding the modules)."""
    for mod in ("pvlib", "demandlib", "demandlib.bdew", "pandas"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(MissingExtraError, match=r"pip install 'emgame\[calibrate\]'"):
        build_day(date="2024-12-21")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"budget_price": 0.0}, "budget_price must be > 0"),
    ({"utility": "crra"}, "utility must be"),
    ({"utility": "ces"}, "needs r < 1"),
    ({"verification": "moon"}, "unknown verification mapping"),
    ({"location": "atlantis", "date": "2024-01-01"}, "unknown location 'atlantis'"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_day(**kwargs)


def test_days_of_other_lengths(tmp_path):
    """Profiles over T periods give an economy of T periods (default labels 1..T), with goods
    payments verified in period 1 (noon, period 13, only exists on a 24-hour day)."""
    solar = tmp_path / "s.csv"
    solar.write_text("# kind: availability\nperiod,pv\n1,0\n2,0.5\n3,1\n4,0.5\n5,0\n6,0\n",
                     encoding="utf-8")
    loads = tmp_path / "l.csv"
    loads.write_text("# kind: load\nperiod,dc\n1,1\n2,2\n3,3\n4,2\n5,1\n6,1\n", encoding="utf-8")
    d = build_day(availability=solar, load_profiles=loads,
                  data_centres=(DataCentres("dc", "dc", 2),),
                  solar=(SolarFarms("pv", "pv", 1, 10.0),), storage=())
    assert d["periods"] == 6 and d["period_labels"] == ["1", "2", "3", "4", "5", "6"]
    assert d["market"]["goods_settlement_period"] == 1
    assert "storage" not in d
    assert d["consumers"][0]["utility"]["weights"] == [0.1, 0.2, 0.3, 0.2, 0.1, 0.1]
