"""Test-only helpers for sweeps: a small economy and sweep files written to a folder."""

from __future__ import annotations

from pathlib import Path

SMALL_ECONOMY = """\
# A small economy for sweep tests: two periods, one consumer and one producer type.
name = "small"
periods = 2
period_labels = ["night", "day"]

[verification]
fixed = 0.0
share = 0.0

[[consumers]]
name = "dc"
count = 10
endowment = 1.0
utility = { family = "cobb_douglas", weights = [0.4, 0.6] }

[[producers]]
name = "farms"
count = 3
productivity = 2.0
returns = 0.8
capacity = 5.0
utility = { family = "cobb_douglas", weights = [0.5, 0.5] }
"""


def write_economy(folder: Path, name: str = "econ.toml") -> Path:
    path = folder / name
    path.write_text(SMALL_ECONOMY, encoding="utf-8")
    return path


def write_sweep(folder: Path, body: str, name: str = "sweep.toml",
                economy: str = "econ.toml") -> Path:
    """A sweep file naming ``economy`` (written too when it is the small one)."""
    if economy == "econ.toml" and not (folder / economy).exists():
        write_economy(folder)
    path = folder / name
    path.write_text(f'economy = "{economy}"\n' + body, encoding="utf-8")
    return path


def grid_sweep(folder: Path, n_count: int = 3, n_endow: int = 4, *, concept: str = "both",
               chunk: int | None = None, name: str = "sweep.toml") -> Path:
    """``n_count`` producer counts × ``n_endow`` endowments of the small economy (all points
    have equilibria of both kinds: capacity never binds)."""
    counts = ", ".join(str(4 + k) for k in range(n_count))
    body = f'concept = "{concept}"\n'
    if chunk:
        body += f"chunk_size = {chunk}\n"
    body += f"""
[[parameters]]
path = "producers.farms.count"
values = [{counts}]

[[parameters]]
path = "consumers.dc.endowment"
grid = {{ start = 0.5, stop = 0.9, num = {n_endow} }}
"""
    return write_sweep(folder, body, name)
