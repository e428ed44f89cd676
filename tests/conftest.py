"""Shared test setup: make the test-only helpers (tests/oracles.py) importable as ``oracles``
from every test folder."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def _calibrated_day_pending() -> str | None:
    """Why the bundled calibrated_day.toml cannot be read or solved yet (None once it can): it
    uses MODEL.md section 10 (hourly capacity, [[storage]], [units]), which the solvers do not
    take yet. tests/calibration/test_calibrated_day_file.py checks that nothing else is refused."""
    from importlib.resources import files

    from emgame import EconomyFileError, load_economy

    try:
        economy = load_economy(files("emgame") / "examples" / "calibrated_day.toml")
    except EconomyFileError as exc:
        return "calibrated_day.toml needs MODEL.md section 10 in the reader: " + "; ".join(
            k for k, _ in exc.problems)
    from emgame.solve import _phase_pending

    pending = _phase_pending(economy)
    return None if pending is None else f"calibrated_day.toml: {pending}"


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ARG001
    """While the reader refuses calibrated_day.toml, the generic tests over every bundled
    example expect it to fail (not strict: they pass again, unmarked, once it is read)."""
    import pytest

    mine = [i for i in items if "calibrated_day" in i.nodeid
            and not i.nodeid.startswith("tests/calibration/")]
    reason = _calibrated_day_pending() if mine else None
    if reason:
        for item in mine:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
