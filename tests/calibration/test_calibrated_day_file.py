"""The bundled calibrated_day.toml against emgame's economy-file reader.

It uses docs/model.md, Extensions (hourly capacity, [[storage]], [units]). Until the reader accepts
those keys, the generic example tests are expected to fail on it (tests/conftest.py marks them),
and this test makes sure that the reader refuses it for those keys only: nothing else in the
file may be wrong. Once the reader accepts it, it must load as a 24-hour economy.
"""

from __future__ import annotations

import re
from importlib.resources import files

from emgame import EconomyFileError, load_economy

SECTION_10 = re.compile(r"^(units|storage|producers\[\d+\]\.capacity)(\.|\[|$)")


def test_refused_only_for_section_10_keys():
    path = files("emgame") / "examples" / "calibrated_day.toml"
    try:
        economy = load_economy(path)
    except EconomyFileError as exc:
        keys = [k for k, _ in exc.problems]
        assert keys, str(exc)
        assert all(SECTION_10.match(k) for k in keys), str(exc)
    else:
        assert economy.periods == 24
