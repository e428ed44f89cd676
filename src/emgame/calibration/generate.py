"""Hourly profiles from pvlib and demandlib, offline (needs the ``calibrate`` extra).

Two kinds of profile feed a calibrated day (docs/calibration.md):

* **solar availability** ``s^t`` in ``[0, 1]``: the AC output of a photovoltaic plant under a
  cloudless sky, as a share of its AC nameplate, averaged over each hour. Clear-sky irradiance is
  pvlib's Ineichen–Perez model with the Linke turbidity climatology that ships with pvlib (no
  network); it is transposed to the plane of the modules (Hay–Davies), reduced by the modules'
  reflection losses, their temperature (SAPM cell temperature, PVWatts DC model) and PVWatts'
  default system losses, and clipped by the inverter (PVWatts inverter model). Hours in which the
  sun stays below the horizon are exactly zero.
* **data-centre load** ``L^t`` in MWh: a flat base plus a share of the day that follows one of
  demandlib's BDEW standard load profiles (VDEW 1999), scaled to a stated daily energy:
  ``L^t = E (b / 24 + (1 - b) s^t)`` with ``s^t`` the profile's share of the day's energy in
  hour ``t`` and ``b`` the flat share.

Hours are local *standard* time (a fixed UTC offset, no daylight saving), hour-beginning: period
``t = 1`` is 00:00–01:00. Each profile is an hourly mean of one-minute values (solar) or the sum
of the four quarter-hours of the BDEW profile (load).

pvlib and demandlib are imported inside the functions, so that ``import emgame.calibration``
works without them; the bundled CSV files (``emgame/examples/calibration``) were written by
``make_profiles.py`` beside them and are all that the rest of :mod:`emgame.calibration` needs.
"""

from __future__ import annotations

import datetime as dt
import importlib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType

import numpy as np

HOURS = 24


class MissingExtraError(ImportError):
    """pvlib or demandlib is not installed (the ``calibrate`` extra)."""


def _require(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingExtraError(
            f"{name} is needed to compute profiles: pip install 'emgame[calibrate]' "
            "(the bundled CSV profiles need neither pvlib nor demandlib)") from exc


@dataclass(frozen=True)
class Site:
    """A named location; ``utc_offset`` is the local standard time zone in hours (e.g. -7)."""

    name: str
    latitude: float
    longitude: float
    altitude: float
    utc_offset: int

    @property
    def tz(self) -> str:
        """The fixed-offset IANA zone (``Etc/GMT+7`` is UTC-7: POSIX signs are reversed)."""
        if self.utc_offset == 0:
            return "Etc/GMT"
        return f"Etc/GMT{-self.utc_offset:+d}"


SITES: dict[str, Site] = {
    # Phoenix, Arizona: a large and fast-growing data-centre market with mostly clear summer
    # skies (so a clear-sky day is a fair typical day), and no daylight saving time (Arizona
    # stays on MST, UTC-7), so clock-time load shapes and solar time line up all year.
    "phoenix": Site("Phoenix, Arizona, USA", 33.4484, -112.0740, 331.0, -7),
}
"""Named sites for :func:`solar_availability` (``location="phoenix"``)."""


@dataclass(frozen=True)
class PVSystem:
    """A photovoltaic plant, per unit of AC nameplate (1 MW AC).

    ``mount`` is ``"single_axis"`` (north–south axis, east–west tracking with backtracking) or
    ``"fixed"`` (``tilt`` degrees, facing ``azimuth``). ``dc_ac_ratio`` is the inverter loading
    ratio (DC nameplate / AC nameplate); ``gamma_pdc`` the power temperature coefficient (1/°C);
    ``losses`` PVWatts' system losses in percent; ``racking`` a key of pvlib's SAPM cell
    temperature parameters.
    """

    name: str
    mount: str
    tilt: float = 0.0
    azimuth: float = 180.0
    max_angle: float = 60.0
    gcr: float = 0.35
    dc_ac_ratio: float = 1.3
    gamma_pdc: float = -0.0037
    losses: float | None = None
    racking: str = "open_rack_glass_polymer"
    inverter_efficiency: float = 0.96


PV_SYSTEMS: tuple[PVSystem, ...] = (
    # Utility-scale: single-axis trackers (the common design of new US utility-scale plants)
    # with an inverter loading ratio of 1.3.
    PVSystem("utility_tracking", "single_axis", dc_ac_ratio=1.3),
    # Rooftop / community: fixed, south-facing, 20 degrees, roof-mounted modules run hotter.
    PVSystem("rooftop_fixed", "fixed", tilt=20.0, azimuth=180.0, dc_ac_ratio=1.15,
             racking="close_mount_glass_glass"),
)
"""The two plant designs of the bundled profiles."""


@dataclass(frozen=True)
class LoadShape:
    """A data-centre load: a BDEW profile ``slp`` under a flat share ``flat_share`` of the day's
    energy, scaled to ``daily_energy`` MWh per data centre."""

    name: str
    slp: str
    flat_share: float
    daily_energy: float
    description: str = ""


LOAD_SHAPES: tuple[LoadShape, ...] = (
    LoadShape("training", "g3", 0.90, 7200.0,
              "AI training campus, 300 MW average: runs around the clock (BDEW G3, continuous"
              " business) with a 90% flat share"),
    LoadShape("enterprise", "g1", 0.80, 720.0,
              "enterprise inference and colocation, 30 MW average: business hours (BDEW G1,"
              " weekdays 8-18) over an 80% flat share"),
    LoadShape("consumer", "h0", 0.70, 48.0,
              "consumer-facing inference at the edge, 2 MW average: household activity with its"
              " evening peak (BDEW H0) over a 70% flat share"),
)
"""The three data-centre shapes of the bundled profiles (docs/calibration.md says why)."""


def _day(day: dt.date | str) -> dt.date:
    return day if isinstance(day, dt.date) else dt.date.fromisoformat(day)


def site_of(location: Site | str) -> Site:
    """A :class:`Site`, or the named one of :data:`SITES` (case-insensitive)."""
    if isinstance(location, Site):
        return location
    key = location.strip().lower()
    if key not in SITES:
        raise ValueError(f"unknown location {location!r}; named sites: {', '.join(SITES)}"
                         " (or give a Site(name, latitude, longitude, altitude, utc_offset))")
    return SITES[key]


def solar_availability(location: Site | str, day: dt.date | str,
                       systems: Iterable[PVSystem] = PV_SYSTEMS, *, temp_air: float = 35.0,
                       wind_speed: float = 1.0) -> dict[str, np.ndarray]:
    """Hourly clear-sky availability (AC output / AC nameplate) of each system, 24 values in
    ``[0, 1]``, zero in hours when the sun is below the horizon throughout.

    ``temp_air`` (°C) and ``wind_speed`` (m/s) are constant over the day: a clear-sky model
    gives no weather, so they are stated assumptions (the defaults are roughly Phoenix's
    late-June daily mean).
    """
    site = site_of(location)
    pd = _require("pandas")
    pvlib = _require("pvlib")
    d = _day(day)
    loc = pvlib.location.Location(site.latitude, site.longitude, tz=site.tz,
                                  altitude=site.altitude, name=site.name)
    start = pd.Timestamp(d.isoformat(), tz=site.tz)
    times = pd.date_range(start, periods=HOURS * 60, freq="1min")
    solpos = loc.get_solarposition(times)
    clear = loc.get_clearsky(times, model="ineichen", solar_position=solpos)
    dni_extra = pvlib.irradiance.get_extra_radiation(times)
    airmass = pvlib.atmosphere.get_relative_airmass(solpos["apparent_zenith"])
    out: dict[str, np.ndarray] = {}
    for sys in systems:
        if sys.mount == "single_axis":
            trk = pvlib.tracking.singleaxis(solpos["apparent_zenith"], solpos["azimuth"],
                                            axis_tilt=0.0, axis_azimuth=180.0,
                                            max_angle=sys.max_angle, backtrack=True,
                                            gcr=sys.gcr)
            # The tracker's angles are undefined at night (NaN): park it flat.
            tilt = trk["surface_tilt"].fillna(0.0)
            azimuth = trk["surface_azimuth"].fillna(180.0)
        elif sys.mount == "fixed":
            tilt, azimuth = sys.tilt, sys.azimuth
        else:
            raise ValueError(f"{sys.name}: mount must be 'single_axis' or 'fixed',"
                             f" got {sys.mount!r}")
        poa = pvlib.irradiance.get_total_irradiance(
            tilt, azimuth, solpos["apparent_zenith"], solpos["azimuth"], clear["dni"],
            clear["ghi"], clear["dhi"], dni_extra=dni_extra, airmass=airmass,
            model="haydavies")
        aoi = pvlib.irradiance.aoi(tilt, azimuth, solpos["apparent_zenith"], solpos["azimuth"])
        iam = pvlib.iam.physical(aoi).fillna(0.0)
        effective = (poa["poa_direct"].fillna(0.0) * iam + poa["poa_diffuse"].fillna(0.0))
        params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][sys.racking]
        t_cell = pvlib.temperature.sapm_cell(poa["poa_global"].fillna(0.0), temp_air,
                                             wind_speed, **params)
        losses = (pvlib.pvsystem.pvwatts_losses() if sys.losses is None else sys.losses)
        pdc = pvlib.pvsystem.pvwatts_dc(effective, t_cell, pdc0=sys.dc_ac_ratio,
                                        gamma_pdc=sys.gamma_pdc) * (1.0 - losses / 100.0)
        # Inverter sized so that its AC limit is 1 (the AC nameplate): it clips above that.
        pac = pvlib.inverter.pvwatts(pdc, pdc0=1.0 / sys.inverter_efficiency,
                                     eta_inv_nom=sys.inverter_efficiency)
        pac = np.clip(np.asarray(pac, dtype=float), 0.0, 1.0)
        hourly = pac.reshape(HOURS, 60).mean(axis=1)
        # A whole hour below the horizon is exactly zero (no numerical dust at night).
        up = (np.asarray(solpos["elevation"], dtype=float) > 0.0).reshape(HOURS, 60).any(axis=1)
        hourly[~up] = 0.0
        out[sys.name] = hourly
    return out


def slp_day_shares(day: dt.date | str, slps: Iterable[str]) -> dict[str, np.ndarray]:
    """Each BDEW standard load profile's share of the day's energy, hour by hour (sums to 1).

    demandlib's ``ElecSlp`` turns every warning into an error process-wide while it builds the
    profiles (``warnings.simplefilter("error")``); the filters are restored afterwards.
    """
    bdew = _require("demandlib.bdew")
    d = _day(day)
    with warnings.catch_warnings():
        slp = bdew.ElecSlp(d.year)
        frame = slp.get_profiles(*slps)
    sel = frame[frame.index.date == d]
    if len(sel) != HOURS * 4:
        raise ValueError(f"demandlib gave {len(sel)} quarter-hours for {d}, expected {HOURS * 4}")
    out = {}
    for name in slps:
        hourly = np.asarray(sel[name], dtype=float).reshape(HOURS, 4).sum(axis=1)
        out[name] = hourly / hourly.sum()
    return out


def data_centre_loads(day: dt.date | str,
                      shapes: Iterable[LoadShape] = LOAD_SHAPES) -> dict[str, np.ndarray]:
    """Hourly load (MWh per hour, one data centre) of each shape, summing to its daily energy:
    ``L^t = E (b / 24 + (1 - b) s^t)``."""
    shapes = tuple(shapes)
    shares = slp_day_shares(day, sorted({s.slp for s in shapes}))
    out = {}
    for s in shapes:
        if not 0.0 <= s.flat_share <= 1.0:
            raise ValueError(f"{s.name}: flat_share must be in [0, 1], got {s.flat_share}")
        out[s.name] = s.daily_energy * (s.flat_share / HOURS
                                        + (1.0 - s.flat_share) * shares[s.slp])
    return out


def library_versions() -> dict[str, str]:
    """The versions of the libraries that compute profiles (recorded in the CSV headers)."""
    return {name: _require(name).__version__ for name in ("pvlib", "demandlib", "pandas")}
