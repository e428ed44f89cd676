"""Scale: Nash with its certificate for 10²…10⁶ consumer types, the one-pass ratio, and types with
huge counts.

    python -m benchmarks.scale                    # sizes 1e2..1e6, table input, huge counts
    python -m benchmarks.scale --quick            # 1e2..1e4 only
    python -m benchmarks.scale --json out.json

Every measurement runs in a fresh Python process (so that peak memory, ``ru_maxrss``, is that
run's own), which first solves a tiny economy to load numba's compiled kernels from its cache
(reported as ``warm-up``; it includes compilation when the cache is stale), then:

* ``scale``: builds :func:`benchmarks.economies.scale_economy` (T = 24, ``n`` consumer types,
  50 producer types) in memory, or loads it from TOML + Parquet (``source = table``), and
  solves Nash with its certificate via :func:`emgame.solve`; reports status, max regret, the
  phases of ``solution.seconds``, and the **one-pass time**: one evaluation of every type's
  response (its first-order conditions) at the solution's totals, by
  :class:`emgame.solvers._aggregate.Aggregate` constructed as the Nash solver does
  (``nash._fresh``) and called once with ``want_jac=False``; also a second (warm) call and one
  call with the Jacobian. ``passes = solve time / one-pass time``.
* ``huge``: 10 consumer types of 10⁸ agents, 5 producer types of 10⁶
  (:func:`benchmarks.economies.huge_counts_economy`): Nash and competitive, the largest relative
  gap between their relative prices, and the certificates' regrets.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZES = [100, 1_000, 10_000, 100_000, 1_000_000]
QUICK_SIZES = [100, 1_000, 10_000]
TABLE_SIZE = 1_000_000
QUICK_TABLE_SIZE = 10_000
DATA = ROOT / "benchmarks" / "results" / "data"
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Cleared for the children (``benchmarks/baselines/run.py`` pins them to 1 in its process):
emgame is measured as a user runs it, except in the rows that pin them on purpose."""
ONE_BLAS_THREAD = {v: "1" for v in BLAS_VARS}
CHILD_TIMEOUT = 1800.0


# --------------------------------------------------------------------------------------------
# In the child process.
# --------------------------------------------------------------------------------------------


def code_version() -> str:
    """A short hash of emgame's source files, so that rows measured while the package was being
    edited can be told apart."""
    import hashlib

    h = hashlib.sha1()
    src = ROOT / "src" / "emgame"
    for f in sorted(src.rglob("*.py")):
        h.update(str(f.relative_to(src)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


MAX_SECONDS = 3600.0
"""The Nash solver's own time limit (``NashOptions.max_seconds``) for these runs: large enough
that a slow solve is measured, not cut off."""


def options():  # noqa: ANN201
    """:class:`emgame.Options` for the benchmark: defaults, except the Nash time limit."""
    import dataclasses

    from emgame import Options
    from emgame.solvers.nash import NashOptions

    fields = {f.name for f in dataclasses.fields(NashOptions)}
    nash = NashOptions(max_seconds=MAX_SECONDS) if "max_seconds" in fields else NashOptions()
    return Options(nash=nash)


def _warm_up() -> float:
    """Solve small economies of the same family: loads the numba kernels from their cache, or
    compiles them if it is stale, outside the timings. Two sizes, so that both of the Nash
    solver's paths run (below and from ``NashOptions.joint_from`` consumer types on)."""
    from benchmarks.economies import scale_economy

    from emgame import solve
    from emgame.solvers.nash import NashOptions

    sizes = [200]
    joint_from = getattr(NashOptions(), "joint_from", None)
    if joint_from is not None and joint_from > 200:
        sizes.append(int(joint_from))
    t = time.perf_counter()
    for n in sizes:
        solve(scale_economy(n, seed=12345), options=options())
    return time.perf_counter() - t


def one_pass(economy, solution) -> dict:  # noqa: ANN001
    """Time one evaluation of every type's response at the solution's totals."""
    import numpy as np

    from emgame.solvers.nash import _fresh

    out = solution.outcome
    p = np.where(np.isfinite(out.prices), out.prices, 0.0)
    Q = out.offers_total.copy()
    Q[0] = economy.goods_supply
    t = time.perf_counter()
    agg = _fresh(economy)
    y = agg.unknowns(p, Q)
    setup = time.perf_counter() - t
    t = time.perf_counter()
    F, _ = agg(y, False)
    first = time.perf_counter() - t
    t = time.perf_counter()
    agg(y, False)
    warm = time.perf_counter() - t
    t = time.perf_counter()
    agg(y, True)
    jac = time.perf_counter() - t
    return {"setup": setup, "first": first, "warm": warm, "with_jacobian": jac,
            "residual": float(np.max(np.abs(F)))}


def _solution_row(sol, wall: float) -> dict:  # noqa: ANN001
    cert = sol.certificate
    return {
        "status": sol.status.value, "reason": sol.reason[:300],
        "max_regret": None if cert is None else float(cert.max_regret),
        "max_relative_regret": None if cert is None else float(cert.max_relative_regret),
        "seconds": {k: float(v) for k, v in sol.seconds.items()},
        "iterations": sol.iterations, "evaluations": sol.evaluations, "wall": wall,
    }


def child_scale(n: int, seed: int, source: str, toml: str | None) -> dict:
    from benchmarks.economies import scale_economy

    from emgame import load_economy, solve

    row: dict = {"kind": "scale", "n": n, "seed": seed, "source": source,
                 "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}
    row["warm_up"] = _warm_up()
    t, c = time.perf_counter(), time.process_time()
    economy = load_economy(toml) if source == "table" else scale_economy(n, seed)
    row["build"] = time.perf_counter() - t
    row["build_cpu"] = time.process_time() - c
    row["types"] = len(economy.consumers) + len(economy.producers)
    row["periods"] = economy.periods
    row["peak_mib_before_solve"] = _peak_mib()
    t, c = time.perf_counter(), time.process_time()
    sol = solve(economy, options=options())
    wall = time.perf_counter() - t
    row.update(_solution_row(sol, wall))
    row["cpu"] = time.process_time() - c
    row["peak_mib"] = _peak_mib()
    row["load_average"] = list(os.getloadavg())
    if sol.outcome is not None:
        row["pass"] = one_pass(economy, sol)
        row["passes"] = wall / row["pass"]["first"]
        row["passes_warm"] = wall / row["pass"]["warm"]
    return row


def child_huge(seed: int) -> dict:
    import numpy as np
    from benchmarks.economies import huge_counts_economy

    from emgame import solve

    row: dict = {"kind": "huge", "seed": seed}
    row["warm_up"] = _warm_up()
    e = huge_counts_economy(seed)
    row["consumer_types"], row["producer_types"] = len(e.consumers), len(e.producers)
    row["agents"] = e.consumers.agents + e.producers.agents
    t, c = time.perf_counter(), time.process_time()
    nash = solve(e, "nash", options=options())
    row["nash"] = _solution_row(nash, time.perf_counter() - t)
    row["nash"]["cpu"] = time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    comp = solve(e, "competitive", options=options())
    row["competitive"] = _solution_row(comp, time.perf_counter() - t)
    row["competitive"]["cpu"] = time.process_time() - c
    if nash.ok and comp.ok:
        rn, rc = nash.relative_prices, comp.relative_prices
        gap = rn / rc - 1.0
        row["gap_max"] = float(np.max(np.abs(gap)))
        row["gap_min"] = float(np.min(np.abs(gap)))
        row["nash_relative_prices"] = rn.tolist()
        row["competitive_relative_prices"] = rc.tolist()
        # A consumer's share of a post: its bid over the post's total.
        bids = nash.profile.consumer_bids[:, 1:]
        B = nash.outcome.bids_total[1:]
        row["largest_consumer_share"] = float(np.max(bids / B))
    row["peak_mib"] = _peak_mib()
    return row


def child_write_table(n: int, seed: int, weights: str, fmt: str) -> dict:
    from benchmarks.economies import scale_economy, write_consumer_table

    t = time.perf_counter()
    path = write_consumer_table(scale_economy(n, seed), DATA, fmt=fmt, weights=weights)
    return {"kind": "write", "toml": str(path), "seconds": time.perf_counter() - t}


def child_load(toml: str) -> dict:
    import pyarrow.parquet  # noqa: F401  (imports are not the loader's time)

    from emgame import load_economy
    t, c = time.perf_counter(), time.process_time()
    e = load_economy(toml)
    return {"kind": "load", "toml": toml, "rows": len(e.consumers),
            "seconds": time.perf_counter() - t, "cpu": time.process_time() - c,
            "peak_mib": _peak_mib(), "load_average": list(os.getloadavg())}


def child_profile(n: int, seed: int) -> dict:
    """One Nash solve of the scale family under pyinstrument (sampling every 1 ms)."""
    from benchmarks.economies import scale_economy
    from pyinstrument import Profiler

    from emgame import solve

    warm = _warm_up()
    e = scale_economy(n, seed)
    prof = Profiler(interval=0.001)
    prof.start()
    sol = solve(e, options=options())
    prof.stop()
    return {"kind": "profile", "n": n, "seed": seed, "warm_up": warm,
            "status": sol.status.value, "seconds": dict(sol.seconds),
            "tree": prof.output_text(unicode=True, color=False, show_all=False),
            "flat": prof.output_text(unicode=True, color=False, flat=True)}


def _child_main(spec: dict) -> dict:
    out = _child_run(spec)
    out["code"] = code_version()
    return out


def _child_run(spec: dict) -> dict:
    kind = spec["kind"]
    if kind == "scale":
        return child_scale(spec["n"], spec.get("seed", 0), spec.get("source", "memory"),
                           spec.get("toml"))
    if kind == "huge":
        return child_huge(spec.get("seed", 0))
    if kind == "write":
        return child_write_table(spec["n"], spec.get("seed", 0), spec.get("weights", "columns"),
                                 spec.get("fmt", "parquet"))
    if kind == "load":
        return child_load(spec["toml"])
    if kind == "profile":
        return child_profile(spec["n"], spec.get("seed", 0))
    raise ValueError(kind)


# --------------------------------------------------------------------------------------------
# In the parent.
# --------------------------------------------------------------------------------------------


def run_child(spec: dict, timeout: float = CHILD_TIMEOUT) -> dict:
    """Run one measurement in a fresh process; its result dict (or an error row)."""
    t = time.perf_counter()
    try:
        env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
        env.update(PYTHONPATH=str(ROOT), **spec.get("env", {}))
        p = subprocess.run([sys.executable, "-m", "benchmarks.scale", "--child", json.dumps(spec)],
                           cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"timeout after {timeout:g} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr or p.stdout).strip().splitlines()[-5:]
        return {**spec, "error": f"exit {p.returncode}: " + " | ".join(tail),
                "seconds_in_child": time.perf_counter() - t}
    return json.loads(lines[-1])


def fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def scale_table(rows: list[dict]) -> list[str]:
    hdr = ("| consumer types | source | status | max regret | total s | start s | solve s "
           "| certificate s | one pass s | passes | peak MiB |")
    out = [hdr, "|" + "---|" * (hdr.count("|") - 1)]
    for r in rows:
        if "error" in r:
            out.append(f"| {r.get('n')} | {r.get('source', 'memory')} | error: {r['error']} "
                       "| | | | | | | | |")
            continue
        s = r["seconds"]
        start = s.get("start")
        solve_only = s["solve"] - (start or 0.0)
        out.append(
            f"| {r['n']:,} | {r['source']} | {r['status']} | {r['max_regret']:.1e} "
            f"| {fmt_s(s['total'])} | {fmt_s(start)} | {fmt_s(solve_only)} "
            f"| {fmt_s(s.get('certificate'))} | {fmt_s(r['pass']['first'])} "
            f"| {r['passes']:.0f} | {r['peak_mib']:.0f} |")
    return out


def run(quick: bool = False, seed: int = 0, log=print) -> dict:  # noqa: ANN001
    """All scale measurements; a dict of rows (see the module notes)."""
    sizes = QUICK_SIZES if quick else SIZES
    rows = []
    for n in sizes:
        r = run_child({"kind": "scale", "n": n, "seed": seed})
        rows.append(r)
        log(f"  scale n={n:>9,}: " + (r["error"] if "error" in r else
            f"{r['status']} total {r['seconds']['total']:.2f}s, one pass "
            f"{r['pass']['first'] * 1e3:.1f} ms, {r['passes']:.0f} passes, peak "
            f"{r['peak_mib']:.0f} MiB"))
    # The largest size again with BLAS pinned to one thread (numba's parallel blocks call BLAS;
    # nested BLAS threads on 2 cores were measured to cost several times the work).
    r = run_child({"kind": "scale", "n": sizes[-1], "seed": seed, "env": ONE_BLAS_THREAD})
    rows.append(r)
    log(f"  scale n={sizes[-1]:>9,} (BLAS 1 thread): " + (r["error"] if "error" in r else
        f"{r['status']} total {r['seconds']['total']:.2f}s, one pass "
        f"{r['pass']['first'] * 1e3:.1f} ms, {r['passes']:.0f} passes, peak "
        f"{r['peak_mib']:.0f} MiB"))
    # The table-input path: the same economy from TOML + Parquet.
    n_table = QUICK_TABLE_SIZE if quick else TABLE_SIZE
    loads = []
    tomls = {}
    variants = [("columns", "parquet"), ("list", "parquet")] + ([] if quick else
                                                                 [("columns", "csv")])
    for weights, fmt in variants:
        w = run_child({"kind": "write", "n": n_table, "seed": seed, "weights": weights,
                       "fmt": fmt})
        if "error" in w:
            loads.append({"weights": weights, "fmt": fmt, "error": w["error"]})
            continue
        tomls[(weights, fmt)] = w["toml"]
        ld = run_child({"kind": "load", "toml": w["toml"]})
        ld.update(weights=weights, fmt=fmt, n=n_table)
        loads.append(ld)
        log(f"  load {fmt} ({weights}) n={n_table:,}: "
            + (ld.get("error") or f"{ld['seconds']:.2f}s, peak {ld['peak_mib']:.0f} MiB"))
    table_rows = []
    if ("columns", "parquet") in tomls:
        r = run_child({"kind": "scale", "n": n_table, "seed": seed, "source": "table",
                       "toml": tomls[("columns", "parquet")]})
        table_rows.append(r)
        log(f"  scale n={n_table:>9,} from Parquet: " + (r["error"] if "error" in r else
            f"{r['status']} load {r['build']:.2f}s + total {r['seconds']['total']:.2f}s, "
            f"peak {r['peak_mib']:.0f} MiB"))
    huge = run_child({"kind": "huge", "seed": seed})
    log("  huge counts: " + (huge.get("error") or
        f"nash {huge['nash']['status']} {huge['nash']['wall']:.3f}s, gap {huge.get('gap_max')}"))
    return {"scale": rows, "table": table_rows, "loads": loads, "huge": huge}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child_main(json.loads(args.child))), flush=True)
        return 0
    res = run(args.quick, args.seed)
    print("\n".join(scale_table(res["scale"] + res["table"])))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
