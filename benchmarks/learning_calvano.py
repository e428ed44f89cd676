"""Calvano et al. (2020) baseline, replicated: speed of one session and the full validation.

1. One session on one core (2 learners, 15 prices, one-period memory, Q-learning until no
   greedy action changes for 100,000 rounds): the median wall time of ``--speed`` sessions
   after one warm-up (numba compilation excluded), and the rounds per second.
2. ``--sessions`` sessions (default 1,000) on the local Dask cluster (one single-threaded
   worker per core) into a DuckDB store, timed from the first submitted task to the last
   stored row; then the average profit gain Δ, its standard deviation and the share of
   sessions that converged. The paper's baseline: Δ ≈ 0.85, nearly all converge; the
   validation band is [0.80, 0.90].

    .venv/bin/python benchmarks/learning_calvano.py [--sessions 1000] [--store out/calvano.duckdb]

Writes benchmarks/results/learning_calvano.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from emgame.learning import LearningConfig, calvano_game, run_session
from emgame.learning.config import load_learning
from emgame.learning.runner import run_sessions
from emgame.learning.store import LearningStore
from emgame.learning.summary import summarise

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--speed", type=int, default=10)
    ap.add_argument("--store", default=str(ROOT / "out" / "calvano.duckdb"))
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()

    game = calvano_game()
    cfg = LearningConfig(environment="calvano")
    run_session(game, cfg, 10_000, certify=False)          # compile
    times, rounds = [], []
    for k in range(args.speed):
        t = time.perf_counter()
        r = run_session(game, cfg, 10_001 + k, certify=False)
        times.append(time.perf_counter() - t)
        rounds.append(r.rounds)
    speed = {"sessions": args.speed, "median_seconds": statistics.median(times),
             "max_seconds": max(times), "median_rounds": statistics.median(rounds),
             "rounds_per_second": float(np.sum(rounds) / np.sum(times))}
    print(f"one session on one core: median {speed['median_seconds']:.3f} s, max "
          f"{speed['max_seconds']:.3f} s, median {speed['median_rounds']:.0f} rounds, "
          f"{speed['rounds_per_second'] / 1e6:.2f} M rounds/s")

    spec = load_learning(ROOT / "examples" / "studies" / "learning_calvano.toml")
    store_path = Path(args.store)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with LearningStore(store_path) as st:
        t = time.perf_counter()
        rep = run_sessions(spec, st, args.sessions, workers=args.workers)
        wall = time.perf_counter() - t
        run = next(r for r in st.runs() if r["run_id"] == spec.run_id)
        s = summarise(run, st.sessions(spec.run_id)[: args.sessions])
    out = {"speed": speed, "sessions": args.sessions, "ran_now": rep.done,
           "wall_seconds_sessions": rep.seconds, "startup_seconds": rep.startup,
           "wall_seconds_total": wall, "executor": rep.executor,
           "delta_mean": s["delta"]["mean"], "delta_sd": s["delta"]["sd"],
           "converged_share": s["converged_share"], "rounds_mean": s["rounds"]["mean"],
           "punished_share": (s["impulse"] or {}).get("punished_share"),
           "price_index_mean": s["price_index"]["mean"],
           "in_band": bool(0.80 <= (s["delta"]["mean"] or -1) <= 0.90)}
    print(json.dumps(out, indent=1))
    res = ROOT / "benchmarks" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "learning_calvano.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
