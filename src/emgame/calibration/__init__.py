"""Calibration: economies built from real hourly profiles (docs/calibration.md).

:func:`build_day` turns hourly profiles (solar availability, data-centre load) and published
figures (battery characteristics, plant costs, the electricity used by Bitcoin and by data
centres) into an economy description, a plain dict in the economy-file format;
:func:`day_toml` / :func:`write_day` write it as TOML with a header that documents every
number. The bundled profiles (``emgame/examples/calibration/*.csv``) were computed offline with
pvlib and demandlib by ``make_profiles.py`` beside them; :mod:`emgame.calibration.generate`
recomputes them (or others) when the ``calibrate`` extra is installed.
"""

from emgame.calibration.build import (
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
    day_toml,
    marginal_cost,
    productivity_for,
    write_day,
)
from emgame.calibration.profiles import (
    ProfileError,
    Profiles,
    bundled,
    format_profiles,
    parse_profiles,
    read_profiles,
    write_profiles,
)
from emgame.calibration.verification import VerificationMapping, mapping

__all__ = [
    "BATTERIES",
    "BUDGET_PRICE",
    "DATA_CENTRES",
    "DISPATCHABLE",
    "SOLAR",
    "Batteries",
    "DataCentres",
    "Dispatchable",
    "ProfileError",
    "Profiles",
    "SolarFarms",
    "VerificationMapping",
    "build_day",
    "bundled",
    "day_toml",
    "format_profiles",
    "mapping",
    "marginal_cost",
    "parse_profiles",
    "productivity_for",
    "read_profiles",
    "write_day",
    "write_profiles",
]
