"""The bundled profiles (emgame/examples/calibration/*.csv) are what their headers say they are.

Oracles independent of pvlib and demandlib: NOAA's solar-position equations for night and solar
noon at the stated site and date; the stated daily energies and flat shares for the loads.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pytest

from emgame.calibration import bundled


@pytest.fixture(scope="module")
def solar():
    return bundled("availability")


@pytest.fixture(scope="module")
def loads():
    return bundled("load")


def _site(meta):
    """Latitude, longitude and UTC offset from the header (``site:`` and ``time:`` lines)."""
    lat = float(re.search(r"latitude (-?[\d.]+)", meta["site"]).group(1))
    lon = float(re.search(r"longitude (-?[\d.]+)", meta["site"]).group(1))
    tz = int(re.search(r"UTC([+-]\d+)", meta["time"]).group(1))
    return lat, lon, tz


def _noaa_elevation(lat, lon, tz, day, minutes):
    """Solar elevation (degrees) at local standard ``minutes`` after midnight: NOAA's general
    solar position equations (Spencer's Fourier series for declination and equation of time)."""
    doy = day.timetuple().tm_yday
    g = 2 * math.pi / 365 * (doy - 1 + (minutes / 60 - 12) / 24)
    eqtime = 229.18 * (0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g)
                       - 0.014615 * np.cos(2 * g) - 0.040849 * np.sin(2 * g))
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g)
            + 0.000907 * np.sin(2 * g) - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    tst = minutes + eqtime + 4 * lon - 60 * tz
    ha = np.radians(tst / 4 - 180)
    phi = math.radians(lat)
    cosz = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(ha)
    return 90 - np.degrees(np.arccos(np.clip(cosz, -1, 1)))


def test_availability_is_a_share_of_capacity(solar):
    """docs/model.md, Extensions: availability s^t is in [0, 1]; one value per hour of the day."""
    assert solar.periods == 24
    assert solar.labels == tuple(f"{h:02d}h" for h in range(24))
    assert len(solar.columns) >= 1
    for name, s in solar.columns.items():
        assert np.all((s >= 0) & (s <= 1)), name
        assert s.max() > 0.5, f"{name}: a clear June day in Phoenix peaks well above half"


def test_availability_is_zero_at_night_and_positive_in_daylight(solar):
    """Night-time zero: an hour with the sun below the horizon throughout (NOAA, 1 degree of
    margin for refraction) has no solar capacity; an hour with the sun above 3 degrees
    throughout has some."""
    lat, lon, tz = _site(solar.metadata)
    day = dt.date.fromisoformat(solar.metadata["date"])
    minutes = np.arange(24 * 60).reshape(24, 60)
    elev = _noaa_elevation(lat, lon, tz, day, minutes)
    night = np.all(elev < -1.0, axis=1)
    daylight = np.all(elev > 3.0, axis=1)
    assert night.sum() >= 8 and daylight.sum() >= 12  # a June day at 33 N
    for name, s in solar.columns.items():
        assert np.all(s[night] == 0.0), name
        assert np.all(s[daylight] > 0.0), name


def test_availability_is_centred_on_solar_noon(solar):
    """The hours are local standard time, hour-beginning: the output-weighted mean time of the
    fixed south-facing plant falls within 10 minutes of NOAA's solar noon (a one-hour shift, as
    from hour-ending labels or a daylight-saving clock, would miss by 60)."""
    lat, lon, tz = _site(solar.metadata)
    day = dt.date.fromisoformat(solar.metadata["date"])
    minutes = np.arange(24 * 60)
    noon = minutes[np.argmax(_noaa_elevation(lat, lon, tz, day, minutes))]
    s = solar["rooftop_fixed"]
    centre = 60 * np.sum(s * (np.arange(24) + 0.5)) / s.sum()
    assert abs(centre - noon) < 10, (centre, noon)


def test_headers_record_provenance(solar, loads):
    """The CSV headers record the libraries' versions, the site, the date and the method."""
    for p in (solar, loads):
        for key in ("pvlib version", "demandlib version", "date", "generator", "time"):
            assert p.metadata.get(key), (p.source, key)
    assert "Phoenix" in solar.metadata["site"]
    assert solar.metadata["date"] == loads.metadata["date"] == "2024-06-21"
    assert "ineichen" in solar.metadata["irradiance"].lower()


def _shapes(meta):
    out = {}
    for key, value in meta.items():
        if key.startswith("shape "):
            b = float(re.search(r"flat_share=([\d.]+)", value).group(1))
            e = float(re.search(r"daily_energy=([\d.]+) MWh", value).group(1))
            out[key.removeprefix("shape ")] = (b, e)
    return out


def test_loads_are_positive_and_sum_to_the_stated_daily_energy(loads):
    """Each load column is positive every hour and sums to its header's daily energy (to the
    rounding of the file: 24 values to 4 decimals)."""
    shapes = _shapes(loads.metadata)
    assert set(shapes) == set(loads.columns) and len(shapes) == 3
    for name, (_, energy) in shapes.items():
        col = loads[name]
        assert np.all(col > 0), name
        assert abs(col.sum() - energy) <= 24 * 0.5e-4, (name, col.sum(), energy)


def test_loads_have_their_flat_base(loads):
    """L^t = E (b/24 + (1-b) s^t) with s^t >= 0, so every hour carries at least the flat base
    E b / 24, and the day's peak is at most E (b/24 + (1-b))."""
    for name, (b, e) in _shapes(loads.metadata).items():
        col = loads[name]
        assert col.min() >= e * b / 24 - 0.5e-4, name
        assert col.max() <= e * (b / 24 + (1 - b)), name
        assert col.max() / col.mean() < 1.5, f"{name}: data centres run nearly flat"
