"""Shared test setup: make the test-only helpers (tests/oracles.py) importable as ``oracles``
from every test folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# numba re-reads its thread count (from the environment, else the CPU affinity) at every
# compilation and refuses a different value once its threads run; a test worker whose
# affinity reading changes mid-run (seen once, on a shared machine) would then fail compiling.
# Pin the count this worker starts with.
if "NUMBA_NUM_THREADS" not in os.environ:
    import numba

    os.environ["NUMBA_NUM_THREADS"] = str(numba.config.NUMBA_NUM_THREADS)


def _pending_examples() -> dict[str, str]:
    """Bundled examples the solvers cannot take, with the reason (empty today: every bundled
    example solves; an example with, say, a storage operator that values electricity would be
    refused by emgame.solve, never solved wrongly, and is then expected to fail here)."""
    from importlib.resources import files

    from emgame import EconomyFileError, load_economy
    from emgame.solve import _phase_pending

    out = {}
    for path in (files("emgame") / "examples").iterdir():
        if not path.name.endswith(".toml"):
            continue
        try:
            economy = load_economy(path)
        except EconomyFileError as exc:
            out[path.name[:-5]] = f"{path.name}: refused by the reader: {exc}"
            continue
        pending = _phase_pending(economy)
        if pending is not None:
            out[path.name[:-5]] = f"{path.name}: {pending}"
    return out


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ARG001
    """While the solvers refuse an example, the solver tests over every bundled example expect
    it to fail (not strict: they pass, unmarked, once it solves)."""
    import pytest

    pending = _pending_examples() if items else {}
    for item in items:
        if not item.nodeid.startswith("tests/solvers/"):  # only solving fails; reading works
            continue
        for stem, reason in pending.items():
            if stem in item.nodeid:
                item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
