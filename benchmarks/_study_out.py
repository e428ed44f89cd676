"""What the learning study scripts share: their numbers in ``out/NAME.json`` and a headless
pyplot for their figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def write_points(name: str, sessions: int, rows: list[dict[str, Any]]) -> Path:
    """Write ``{"sessions", "points"}`` to ``out/NAME.json`` (the folder made if missing)."""
    out = ROOT / "out" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"sessions": sessions, "points": rows}, indent=1))
    return out


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
