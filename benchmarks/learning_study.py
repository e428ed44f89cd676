"""A learning study: by default Q-learning utility-scale farms in the AI solar day.

Runs every point of a study file (default examples/studies/learning_solar.toml: the number of
learning farms, the fixed verification cost) with ``--sessions`` sessions each into a DuckDB
store, prints the learned prices beside Nash, competitive and collusive, Δ (or the learners'
payoff against Nash where Δ is undefined) and the convergence share, and writes the study
figure to docs/figures/<study>.png and an HTML report to out/<study>.html.

    .venv/bin/python benchmarks/learning_study.py [--file examples/studies/learning_cournot.toml]
        [--sessions 100]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from emgame.learning import figures
from emgame.learning.config import load_learning
from emgame.learning.report import learning_page, study_points
from emgame.learning.runner import run_sessions
from emgame.learning.store import LearningStore

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--file", default=str(ROOT / "examples" / "studies" / "learning_solar.toml"))
    ap.add_argument("--store", default=None)
    ap.add_argument("--figure", default=None)
    args = ap.parse_args()
    stem = Path(args.file).stem
    args.store = args.store or str(ROOT / "out" / f"{stem}.duckdb")
    args.figure = args.figure or str(ROOT / "docs" / "figures" / f"{stem}.png")
    spec = load_learning(args.file)
    Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with LearningStore(args.store) as st:
        for point in spec.points():
            rep = run_sessions(point, st, args.sessions)
            print(f"{point.name}: table {rep.table_seconds:.1f} s, {rep.done} sessions in "
                  f"{rep.seconds:.1f} s ({rep.executor})", flush=True)
        groups = study_points(st, st.runs())
        (ROOT / "out").mkdir(exist_ok=True)
        (ROOT / "out" / f"{stem}.html").write_text(learning_page(st), encoding="utf-8")
    print(json.dumps(groups, indent=1, default=str))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5 * len(groups), 6.2))
    for k, pts in enumerate(groups.values()):
        ax = fig.add_subplot(2, len(groups), k + 1)
        ax2 = fig.add_subplot(2, len(groups), len(groups) + k + 1, sharex=ax)
        _panel(ax, ax2, pts, pts[0]["label"])
    fig.tight_layout()
    fig.savefig(args.figure, dpi=110)
    print(f"wrote {args.figure}; total {time.perf_counter() - t0:.0f} s")


def _panel(ax, ax2, pts, label) -> None:  # noqa: ANN001
    import numpy as np

    x = np.array([p["value"] for p in pts], float)
    for key, (name, color, ls) in figures.BENCH_STYLE.items():
        y = np.array([np.nan if p["bench"].get(key) is None else p["bench"][key] for p in pts])
        ax.plot(x, y, color=color, linestyle=ls, marker=".", label=name)
    ax.plot(x, [p["price"] for p in pts], color="black", marker="o", label="learned")
    if all(p["bench"].get("collusive") is None for p in pts):
        ax.text(0.02, 0.04, "withholding does not pay: collusive = Nash", fontsize=7,
                transform=ax.transAxes)
    ax.set_ylabel("mean relative price $p^t/p^0$")
    ax.legend(fontsize=7)
    d = np.array([np.nan if p["delta"] is None else p["delta"] for p in pts], float)
    if np.any(np.isfinite(d)):
        ax2.plot(x, d, color="black", marker="o")
        ax2.set_ylabel(r"profit gain $\Delta$")
    else:
        g = np.array([np.nan if p["payoff_vs_nash"] is None else p["payoff_vs_nash"]
                      for p in pts], float)
        ax2.plot(x, g, color="black", marker="o")
        ax2.set_ylabel(r"$(\bar\pi - \pi_N)/|\pi_N|$ ($\Delta$ undefined)")
    ax2.axhline(0.0, color="#1f5fa8", linewidth=0.8)
    lo, hi = ax2.get_ylim()
    if max(abs(lo), abs(hi)) < 1e-2:   # rounding noise around Nash: do not magnify it
        ax2.set_ylim(-1e-2, 1e-2)
    ax2.set_xlabel(label, fontsize=8)
    ax2.set_xticks(x)
    ax2.set_xticklabels([f"{v:g}" for v in x], fontsize=7)
    for a in (ax, ax2):
        a.grid(True, color="#dddddd", linewidth=0.6)


if __name__ == "__main__":
    main()
