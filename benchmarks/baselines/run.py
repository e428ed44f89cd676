"""Run the three generic baselines on the benchmark economy family and print a table.

    python -m benchmarks.baselines.run                      # N in 5 20 50 200, 60 s each
    python -m benchmarks.baselines.run --sizes 5 20 --budget 30 --json out.json

Every solve runs in its own (spawned) process and is killed if it is not back within the budget
(plus a small allowance for process start-up): the budget is a hard stop, compilation included.
Each method's answer is then judged by :mod:`check` (independent regret), outside the budget.
Relative prices are compared with method (b)'s (``stacked_root``) on the same economy.

BLAS is pinned to one thread (set before numpy is imported, inherited by the workers): on this
2-core machine a second OpenBLAS thread that has to share a core makes small dense
factorisations 10-500x slower (NashOpt's ``least_squares`` SVDs went from ms to seconds).
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import queue as _queue  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

METHODS = {
    "nashopt": "benchmarks.baselines.nashopt_game",
    "stacked_root": "benchmarks.baselines.stacked_root",
    "best_response": "benchmarks.baselines.best_response",
}
REFERENCE = "stacked_root"
STARTUP_ALLOWANCE = 10.0  # seconds for a spawned worker to start before its clock starts
CHECK_LIMIT = 300.0
MEMORY_LIMIT_GB = 8.0  # NashOpt at N=50 passes 18 GB within a minute; the machine has 24 GB


class _Stopped(Exception):
    pass


def _rss_gb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return 0.0


def _get(q, p, timeout: float, mem_gb: float):
    """``q.get`` that also stops on the worker's death or on its memory passing ``mem_gb``."""
    end = time.time() + timeout
    peak = 0.0
    while True:
        try:
            return q.get(timeout=max(0.0, min(0.25, end - time.time())))
        except _queue.Empty:
            peak = max(peak, _rss_gb(p.pid))
            if peak > mem_gb:
                raise _Stopped(f"killed: memory passed {mem_gb:g} GB") from None
            if not p.is_alive():
                raise _Stopped(f"worker died (exit code {p.exitcode})") from None
            if time.time() >= end:
                raise _Stopped("timeout") from None


def _worker(module: str, N: int, seed: int, budget: float, kwargs: dict, out) -> None:
    import importlib

    from benchmarks.baselines import check, economy

    mod = importlib.import_module(module)
    econ = economy.make_economy(N, seed)
    t0 = time.time()
    out.put(("started", t0))
    try:
        res = mod.solve(econ, time_limit=budget, **kwargs)
    except Exception as e:  # the method's own failure (e.g. JAX out of memory): report it
        out.put(("failed", f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"))
        return
    out.put(("solved", res))
    if res.get("profile") is not None:
        prof = economy.Profile.from_vector(econ, res["profile"])
        out.put(("checked", check.regrets(econ, prof, time_limit=CHECK_LIMIT)))
    else:
        out.put(("checked", None))


def run_one(method: str, N: int, seed: int, budget: float, mem_gb: float = MEMORY_LIMIT_GB,
            **kwargs) -> dict:
    """One solve in a fresh process with a hard stop (time, and memory above ``mem_gb``); the
    result dict plus its regret check."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_worker, args=(METHODS[method], N, seed, budget, kwargs, q), daemon=True)
    p.start()
    row: dict = {"method": method + ("" if not kwargs else " " + json.dumps(kwargs)), "N": N}
    failed = {"converged": False, "prices": np.full(4, np.nan), "check": None}
    try:
        try:
            tag, t_start = _get(q, p, STARTUP_ALLOWANCE + 60, mem_gb)
        except _Stopped as e:
            row.update(failed, seconds=float("nan"), notes=f"did not start: {e}")
            return _finish(row)
        # hard stop: the solve must be back within the budget (+2 s to hand the result over)
        remaining = budget + 2.0 - (time.time() - t_start)
        try:
            tag, res = _get(q, p, max(remaining, 0.1), mem_gb)
        except _Stopped as e:
            why = f"killed at the {budget:g}s hard stop" if str(e) == "timeout" else str(e)
            row.update(failed, seconds=time.time() - t_start, notes=why)
            return _finish(row)
        if tag == "failed":
            row.update(failed, seconds=time.time() - t_start, notes=f"raised {res}")
            return _finish(row)
        row.update(res)
        try:
            tag, row["check"] = _get(q, p, CHECK_LIMIT + 30, mem_gb)
        except _Stopped:
            row["check"] = None
        return _finish(row)
    finally:
        if p.is_alive():
            p.kill()
        p.join(5)


def _finish(row: dict) -> dict:
    chk = row.get("check")
    row["max_regret"] = chk["max_regret"] if chk else float("nan")
    row["max_relative_regret"] = chk["max_relative"] if chk else float("nan")
    row["violation"] = chk["violation"] if chk else float("nan")
    return row


def fmt(x: float, spec: str = ".1e") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return format(x, spec)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[5, 20, 50, 200])
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--extended", type=float, default=0.0,
                    help="re-run NashOpt with this budget where it failed within --budget, for the "
                    "agreement check on N <= 20 (0: off)")
    ap.add_argument("--pitfall", action="store_true",
                    help="also run the NashOpt variants that show its pitfalls: budgets as plain "
                    "shared constraints (hybr, trf), stop_gradient rows, two solves in a row")
    ap.add_argument("--json", help="write all rows to this file")
    args = ap.parse_args(argv)

    rows = []
    refs: dict[int, np.ndarray] = {}
    for N in args.sizes:
        order = [REFERENCE] + [m for m in args.methods if m != REFERENCE]
        for m in order:
            if m not in args.methods and m != REFERENCE:
                continue
            row = run_one(m, N, args.seed, args.budget)
            if m == REFERENCE and row.get("converged"):
                refs[N] = np.asarray(row["prices"])
            rows.append(row)
            print(f"  done {row['method']:>14s} N={N:<4d} {row['seconds']:7.2f}s "
                  f"converged={row['converged']}", flush=True)
            if m == "nashopt" and args.extended > args.budget and N <= 20 and not row["converged"]:
                row2 = run_one(m, N, args.seed, args.extended)
                row2["method"] = f"nashopt ({args.extended:g}s)"
                rows.append(row2)
                print(f"  done {row2['method']:>14s} N={N:<4d} {row2['seconds']:7.2f}s "
                      f"converged={row2['converged']}", flush=True)
        if args.pitfall and N in (5, 20):
            variants = [("nashopt stopgrad", {"formulation": "stopgrad"})]
            if N == 5:
                variants += [
                    ("nashopt shared-g", {"formulation": "shared"}),
                    ("nashopt shared trf", {"formulation": "shared", "solver": "trf"}),
                    ("nashopt solve x2", {"repeat": 2}),
                ]
            for name, kw in variants:
                row = run_one("nashopt", N, args.seed, args.budget, **kw)
                row["method"] = name
                rows.append(row)
                print(f"  done {name:>18s} N={N:<4d} {row['seconds']:7.2f}s "
                      f"converged={row['converged']}", flush=True)

    for row in rows:
        ref = refs.get(row["N"])
        pr = np.asarray(row["prices"], dtype=float)
        row["price_diff"] = (float(np.max(np.abs(pr / ref - 1.0)))
                             if ref is not None and np.all(np.isfinite(pr)) else float("nan"))

    print()
    print(f"budget {args.budget:g}s per solve (hard stop), seed {args.seed}, T=4, 3 producers")
    hdr = (f"{'method':<18s} {'N':>4s} {'seconds':>8s} {'compile':>8s} {'conv':>5s} "
           f"{'max regret':>10s} {'rel regret':>10s} {'|dp/p| vs b':>11s}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        comp = r.get("compile_seconds")
        print(f"{r['method']:<18s} {r['N']:>4d} {r['seconds']:>8.2f} {fmt(comp, '8.2f'):>8s} "
              f"{str(bool(r['converged'])):>5s} {fmt(r['max_regret']):>10s} "
              f"{fmt(r['max_relative_regret']):>10s} {fmt(r['price_diff']):>11s}")
    print()
    print("largest N solved within the budget (converged, regret <= 1e-8):")
    for m in args.methods:
        ok = [r["N"] for r in rows if r["method"] == m and r["converged"]
              and r["seconds"] <= args.budget and np.isfinite(r["max_regret"])
              and r["max_regret"] <= 1e-8]
        print(f"  {m:<14s} {max(ok) if ok else 'none'}")
    print()
    for N in (5, 20):
        sel = [r for r in rows
               if r["N"] == N and np.all(np.isfinite(np.asarray(r["prices"], float)))]
        if not sel:
            continue
        print(f"relative prices p^t/p^0, N={N}, seed {args.seed}:")
        for r in sel:
            print(f"  {r['method']:<18s} " + " ".join(f"{v:.10f}" for v in r["prices"]))
    print()
    print("notes:")
    for r in rows:
        print(f"  {r['method']} N={r['N']}: {r['notes']}")

    if args.json:
        def clean(v):
            if isinstance(v, np.ndarray):
                return v.tolist()
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            if isinstance(v, (np.floating, np.integer, np.bool_)):
                return v.item()
            return v

        with open(args.json, "w") as fh:
            json.dump([clean(r) for r in rows], fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
