"""How fast does a sweep run, and what does Dask cost per point against a plain loop?

    python benchmarks/sweep_speed.py                   # 1,000 points, overhead on 200
    python benchmarks/sweep_speed.py --points 1000 --overhead-points 200 --concept nash
    python benchmarks/sweep_speed.py --json out.json

1. The headline: ``emgame sweep`` (the real command, a fresh process, its default local Dask
   cluster: one worker process per core) on ``--points`` points of the bundled AI solar day
   (``examples/ai_solar_day.toml``, 24 periods, 6 types), varying the fixed verification cost
   ``verification.fixed`` over a grid. Wall time from launch to exit, everything included.
2. The overhead: the first ``--overhead-points`` of those points, solved (a) in a plain loop in
   one process (``run_sweep(serial=True)``) and (b) on a local Dask cluster with **one** worker,
   each in a fresh process with one BLAS thread (as Dask gives its workers), into fresh stores.
   Both do the same solves and the same store writes, one at a time, so ``(b - a) / N`` is
   Dask's cost per point: reported with and without the cluster's start-up. On a busy machine
   the two runs see different contention, so each run's own "time outside the solves" (the
   solving phase's wall time minus the points' time on their worker) is reported too: that
   one does not depend on the load.

Every run uses a fresh store in a temporary folder; nothing is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ai_solar_day.toml"


def sweep_file(folder: Path, points: int, concept: str, name: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f"""name = "{name}"
economy = "{EXAMPLE.as_posix()}"
concept = "{concept}"

[[parameters]]
path = "verification.fixed"
grid = {{ start = 0.0, stop = 0.02, num = {points} }}
""", encoding="utf-8")
    return path


def child(mode: str, sweep: str, store: str) -> None:
    """Run one sweep in this (fresh) process and print its report as JSON."""
    started = time.perf_counter()
    from emgame.analysis.runner import run_sweep
    from emgame.analysis.sweep import load_sweep
    from emgame.store import open_store

    sw = load_sweep(sweep)
    with open_store(store) as st:
        rep = run_sweep(sw, st, serial=mode == "loop", workers=1 if mode == "dask1" else None)
        med = st.con.execute("SELECT median(seconds_worker), sum(seconds_worker) FROM points"
                             ).fetchone()
    print(json.dumps({"mode": mode, "points": rep.total, "solved": rep.solved,
                      "failed": rep.failed, "seconds": rep.seconds, "startup": rep.startup,
                      "workers": rep.workers, "tasks": rep.tasks, "executor": rep.executor,
                      "process_seconds": time.perf_counter() - started,
                      "median_point_seconds": med[0], "worker_seconds": med[1]}))


def run_child(mode: str, sweep: Path, store: Path) -> dict:
    # One BLAS thread in the loop too, as Dask's nanny gives its workers: a second OpenBLAS
    # thread fighting for a core slows small factorisations many times over.
    env = {**os.environ, **dict.fromkeys(("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                          "MKL_NUM_THREADS"), "1")}
    t = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(sweep), str(store)],
                         capture_output=True, text=True, check=True, env=env)
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    rep["wall"] = time.perf_counter() - t
    return rep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--overhead-points", type=int, default=200)
    ap.add_argument("--concept", default="nash", choices=["nash", "competitive", "both"])
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--child", nargs=3, metavar=("MODE", "SWEEP", "STORE"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    env_note = f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
    results: dict = {"machine": env_note, "concept": args.concept}
    with tempfile.TemporaryDirectory(prefix="emgame-bench-") as tmp:
        folder = Path(tmp)
        big = sweep_file(folder, args.points, args.concept, "speed")
        emgame = Path(sys.executable).parent / "emgame"
        t = time.perf_counter()
        out = subprocess.run([str(emgame), "sweep", str(big), "--store",
                              str(folder / "speed.duckdb"), "--quiet"],
                             capture_output=True, text=True)
        wall = time.perf_counter() - t
        if out.returncode != 0:
            sys.exit(f"emgame sweep failed ({out.returncode}):\n{out.stderr[-2000:]}")
        import duckdb

        con = duckdb.connect(str(folder / "speed.duckdb"), read_only=True)
        rows, ok, med = con.execute("SELECT count(*), count(*) FILTER (WHERE ok), "
                                    "median(seconds_worker) FROM points").fetchone()
        con.close()
        results["sweep"] = {"points": args.points, "rows": rows, "equilibria": ok,
                            "wall_seconds": wall, "median_point_seconds": med}
        print(f"emgame sweep, {args.points} points ({args.concept}) of {EXAMPLE.name}, local "
              f"Dask cluster: {wall:.1f} s wall ({rows} rows, {ok} equilibria; median "
              f"{med * 1000:.0f} ms per point on a worker)  [{env_note}]")

        n = args.overhead_points
        small = sweep_file(folder, n, args.concept, "overhead")
        loop = run_child("loop", small, folder / "loop.duckdb")
        dask1 = run_child("dask1", small, folder / "dask1.duckdb")
        per_total = (dask1["wall"] - loop["wall"]) / dask1["points"]
        per_steady = (dask1["seconds"] - loop["seconds"]) / dask1["points"]
        results["overhead"] = {"points": n, "loop": loop, "dask_one_worker": dask1,
                               "per_point_seconds_with_startup": per_total,
                               "per_point_seconds_steady": per_steady}
        print(f"{n} points, plain loop: {loop['wall']:.1f} s wall ({loop['seconds']:.1f} s "
              f"solving); Dask, 1 worker: {dask1['wall']:.1f} s wall ({dask1['seconds']:.1f} s "
              f"solving after {dask1['startup']:.1f} s start-up)")
        print(f"Dask overhead per point: {per_steady * 1000:.1f} ms steady "
              f"({per_total * 1000:.1f} ms with the cluster's start-up spread over {n} points)")
        # Robust to a busy machine: within one run, the solving phase's wall time minus the
        # time the points took on their worker is what the machinery around the solves costs.
        for label, rep in (("plain loop", loop), ("Dask, 1 worker", dask1)):
            rep["outside_solves_per_point"] = (rep["seconds"] - rep["worker_seconds"]) / n
            print(f"{label}: {rep['outside_solves_per_point'] * 1000:.1f} ms per point outside "
                  f"the solves (median solve {rep['median_point_seconds'] * 1000:.0f} ms)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
