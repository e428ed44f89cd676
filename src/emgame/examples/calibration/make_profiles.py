"""Write the hourly profiles of the calibrated day, offline, with pvlib and demandlib.

    pip install 'emgame[calibrate]'
    python make_profiles.py                        # the bundled day: Phoenix, 21 June 2024
    python make_profiles.py --date 2024-12-21 --out my_profiles/

Writes two small CSV files (24 rows each) that emgame reads without either library:

* ``solar_availability.csv``: clear-sky AC output per unit of AC nameplate, hour by hour, for a
  single-axis tracking utility-scale plant and a fixed rooftop plant (pvlib's Ineichen clear-sky
  model with its bundled Linke turbidity climatology; no network);
* ``data_centre_loads.csv``: the hourly load (MWh) of one data centre of each of three kinds,
  a flat base under a BDEW standard load profile from demandlib, scaled to a daily energy.

Each file's ``#`` header records the library versions, the location, the date and every
parameter. The method and the reasons for each choice are in docs/calibration.md; the models
are in :mod:`emgame.calibration.generate`.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import asdict
from pathlib import Path

from emgame.calibration.generate import (
    LOAD_SHAPES,
    PV_SYSTEMS,
    SITES,
    data_centre_loads,
    library_versions,
    site_of,
    solar_availability,
)
from emgame.calibration.profiles import BUNDLED, Profiles, default_labels, write_profiles

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--location", default="phoenix", choices=sorted(SITES),
                    help="a named site (default: phoenix)")
    ap.add_argument("--date", default="2024-06-21", type=dt.date.fromisoformat,
                    help="the day, YYYY-MM-DD (default: 2024-06-21, a Friday)")
    ap.add_argument("--temp-air", default=35.0, type=float,
                    help="air temperature, constant over the day, in °C (default 35)")
    ap.add_argument("--wind-speed", default=1.0, type=float,
                    help="wind speed, constant over the day, in m/s (default 1)")
    ap.add_argument("--out", default=HERE, type=Path, help="output folder (default: here)")
    args = ap.parse_args(argv)

    site = site_of(args.location)
    args.out.mkdir(parents=True, exist_ok=True)
    versions = library_versions()
    common = {
        "generator": "emgame/examples/calibration/make_profiles.py",
        **{f"{name} version": v for name, v in versions.items()},
        "date": args.date.isoformat(),
        "weekday": args.date.strftime("%A"),
        "time": f"local standard time, UTC{site.utc_offset:+d} (no daylight saving);"
                " hour-beginning (period 1 = 00:00-01:00)",
    }
    labels = default_labels(24)

    avail = solar_availability(site, args.date, PV_SYSTEMS, temp_air=args.temp_air,
                               wind_speed=args.wind_speed)
    meta = {
        "title": "Clear-sky solar availability: hourly mean AC output / AC nameplate",
        **common,
        "location": args.location,
        "site": f"{site.name}; latitude {site.latitude}, longitude {site.longitude},"
                f" altitude {site.altitude} m",
        "irradiance": "pvlib Location.get_clearsky(model='ineichen'), Linke turbidity from"
                      " pvlib's bundled climatology; Hay-Davies transposition; physical IAM",
        "pv model": "SAPM cell temperature; PVWatts DC (gamma_pdc) with PVWatts default"
                    " system losses; PVWatts inverter, AC limit = nameplate (clipping)",
        "weather": f"air {args.temp_air} °C, wind {args.wind_speed} m/s, constant (assumed)",
        "sampling": "one-minute values averaged per hour; an hour with the sun below the"
                    " horizon throughout is 0",
    }
    for s in PV_SYSTEMS:
        meta[f"system {s.name}"] = ", ".join(f"{k}={v}" for k, v in asdict(s).items()
                                             if k != "name")
    write_profiles(args.out / BUNDLED["availability"],
                   Profiles("availability", labels, avail, meta))

    loads = data_centre_loads(args.date, LOAD_SHAPES)
    meta = {
        "title": "Data-centre load: MWh per hour for one data centre of each kind",
        **common,
        "method": "L(t) = E * (b/24 + (1-b) * s(t)), s(t) = the BDEW standard load profile's"
                  " share of the day's energy in hour t (demandlib ElecSlp, VDEW 1999"
                  " profiles), b = flat share, E = daily energy",
    }
    for s in LOAD_SHAPES:
        meta[f"shape {s.name}"] = (f"slp={s.slp}, flat_share={s.flat_share},"
                                   f" daily_energy={s.daily_energy} MWh; {s.description}")
    write_profiles(args.out / BUNDLED["load"], Profiles("load", labels, loads, meta))


if __name__ == "__main__":
    main()
