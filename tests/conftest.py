"""Shared test setup: make the test-only helpers (tests/oracles.py) importable as ``oracles``
from every test folder."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
