"""emgame against the generic ways, on the same small economies, in one run.

    python -m benchmarks.compare_generic                 # N = 5 20 50 200, ladders, N = 160
    python -m benchmarks.compare_generic --quick         # N = 5 20, short ladders
    python -m benchmarks.compare_generic --json out.json

The economies are ``benchmarks/baselines/economy.py``'s ``make_economy(N, seed)`` (T = 4, N ``ai``
Cobb–Douglas consumers as separate players, 3 producers, no verification). emgame solves the
same economy, built from that generator's arrays (:func:`benchmarks.economies.baseline_economy`:
every consumer its own type with count 1), with :func:`emgame.solve` (Nash with its
certificate). Methods:

* ``emgame`` — this package;
* ``nashopt`` — NashOpt 1.3.9's ``GNEP`` (``baselines/nashopt_game.py``);
* ``stacked_root`` — ``scipy.optimize.root`` on the stacked first-order conditions
  (``baselines/stacked_root.py``);
* ``best_response`` — Gauss–Seidel best-response iteration, SLSQP per player
  (``baselines/best_response.py``).

Every solve runs in its own spawned process with a hard stop (60 s, and 8 GB of memory) by
``baselines/run.py``'s machinery; each answer is then judged by the independent regret of
``baselines/check.py`` (for N <= 200) and its relative prices are compared with emgame's.
emgame's worker (:func:`run_emgame`, the same machinery) first solves small economies of the
family, which loads numba's compiled kernels from the on-disk cache (or compiles them when the
cache is stale: minutes), and starts its clock after that (``warm_up_seconds``, reported beside
it); NashOpt's time includes its JAX compilation, which it repeats on every solve.

"Largest N within 60 s": each method climbs :data:`LADDER` until its first failure (not
converged, or over the budget); above N = 200 the independent check is skipped (it takes
minutes) and success is the method's own convergence test (emgame: its certificate).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from benchmarks.baselines import run as base_run  # noqa: E402  (pins BLAS threads first)

SIZES = [5, 20, 50, 200]
QUICK_SIZES = [5, 20]
LADDER = [5, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 100_000, 1_000_000]
QUICK_LADDER = [5, 20, 50, 100, 200, 1_000, 10_000]
METHODS = ["emgame", "nashopt", "stacked_root", "best_response"]
BUDGET = 60.0
RATIO_N = 160
# NashOpt at N = RATIO_N gets a longer leash than the ladder's, so that the ratio is measured
# rather than bounded by the budget: 15 minutes, and memory up to 20 of the machine's 24 GB.
RATIO_BUDGET = 900.0
RATIO_MEMORY_GB = 20.0
CHECK_UP_TO = 200

base_run.METHODS.setdefault("emgame", "benchmarks.compare_generic")  # solve() below


# --------------------------------------------------------------------------------------------
# emgame as a "method" of baselines/run.py: solve(econ, time_limit) -> result dict.
# --------------------------------------------------------------------------------------------


def warm_up(N: int) -> float:
    """Load (or, when the cache is stale, compile) emgame's kernels for both of the Nash
    solver's paths by solving small economies of the family; the seconds it took."""
    from benchmarks.baselines.economy import make_economy
    from benchmarks.economies import from_baseline
    from benchmarks.scale import options

    from emgame import solve as em_solve
    from emgame.solvers.nash import NashOptions

    t = time.perf_counter()
    em_solve(from_baseline(make_economy(3, seed=987)), options=options())
    joint_from = getattr(NashOptions(), "joint_from", None)
    if joint_from is not None and N >= joint_from:
        em_solve(from_baseline(make_economy(int(joint_from), seed=987)), options=options())
    return time.perf_counter() - t


def solve(econ, *, time_limit: float = BUDGET, warm: bool = True) -> dict:  # noqa: ANN001
    """Solve a baselines economy with emgame; the baselines' result dict. ``warm`` first runs
    :func:`warm_up` (inside the caller's clock when called through ``baselines/run.py``)."""
    from benchmarks.baselines.economy import Profile, result_dict
    from benchmarks.economies import from_baseline
    from benchmarks.scale import code_version, options

    from emgame import solve as em_solve

    warm_s = warm_up(econ.N) if warm else float("nan")
    e = from_baseline(econ)
    t = time.perf_counter()
    s = em_solve(e, options=options())
    seconds = time.perf_counter() - t
    prof = None
    if s.profile is not None:
        p = s.profile
        prof = Profile(cb=np.array(p.consumer_bids[:, 1:]), q=np.array(p.offers),
                       pb=np.array(p.producer_bids[:, 1:]), pb0=np.array(p.producer_bids[:, 0]))
    cert = s.certificate
    notes = (f"{s.status.value}; certificate max regret "
             f"{cert.max_regret:.1e}" if cert is not None else s.status.value)
    if s.reason:
        notes += f"; {s.reason[:200]}"
    return result_dict(econ, prof, seconds=seconds, converged=s.ok, notes=notes,
                       warm_up_seconds=warm_s, code=code_version(),
                       emgame_prices=np.asarray(s.relative_prices) if s.ok else None,
                       certificate_max_regret=None if cert is None else cert.max_regret,
                       phases={k: float(v) for k, v in s.seconds.items()})


# --------------------------------------------------------------------------------------------
# Running.
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _no_check():
    """Do not wait for the independent regret check (above N = 200 it takes minutes)."""
    saved = base_run.CHECK_LIMIT
    base_run.CHECK_LIMIT = -29.0  # the parent waits CHECK_LIMIT + 30 s, then stops the worker
    try:
        yield
    finally:
        base_run.CHECK_LIMIT = saved


WARM_UP_LIMIT = 900.0
"""How long emgame's worker may take to load or compile its kernels before its clock starts."""


def _emgame_worker(N: int, seed: int, budget: float, check: bool, out) -> None:  # noqa: ANN001
    """``baselines/run.py``'s worker for emgame, with the warm-up before the clock starts."""
    from benchmarks.baselines import check as checker
    from benchmarks.baselines import economy

    econ = economy.make_economy(N, seed)
    warm = warm_up(N)
    out.put(("started", time.time()))
    res = solve(econ, time_limit=budget, warm=False)
    res["warm_up_seconds"] = warm
    out.put(("solved", res))
    if check and res.get("profile") is not None:
        prof = economy.Profile.from_vector(econ, res["profile"])
        out.put(("checked", checker.regrets(econ, prof, time_limit=base_run.CHECK_LIMIT)))
    else:
        out.put(("checked", None))


def run_emgame(N: int, seed: int, budget: float = BUDGET, check: bool = True) -> dict:
    """emgame in a fresh spawned process with ``baselines/run.py``'s hard stop (time, memory),
    the clock starting after the warm-up; then the same independent check."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_emgame_worker, args=(N, seed, budget, check, q), daemon=True)
    p.start()
    row: dict = {"method": "emgame", "N": N}
    failed = {"converged": False, "prices": np.full(4, np.nan), "check": None}
    try:
        try:
            _, t_start = base_run._get(q, p, WARM_UP_LIMIT, base_run.MEMORY_LIMIT_GB)
        except base_run._Stopped as e:
            row.update(failed, seconds=float("nan"), notes=f"did not start: {e}")
            return base_run._finish(row)
        try:
            _, res = base_run._get(q, p, max(budget + 2.0 - (time.time() - t_start), 0.1),
                                   base_run.MEMORY_LIMIT_GB)
        except base_run._Stopped as e:
            why = f"killed at the {budget:g}s hard stop" if str(e) == "timeout" else str(e)
            row.update(failed, seconds=time.time() - t_start, notes=why)
            return base_run._finish(row)
        row.update(res)
        if check:
            try:
                _, row["check"] = base_run._get(q, p, base_run.CHECK_LIMIT + 30,
                                                base_run.MEMORY_LIMIT_GB)
            except base_run._Stopped:
                row["check"] = None
        return base_run._finish(row)
    finally:
        if p.is_alive():
            p.kill()
        p.join(5)


def run_method(method: str, N: int, seed: int, budget: float = BUDGET, check: bool = True,
               mem_gb: float = base_run.MEMORY_LIMIT_GB) -> dict:
    if method == "emgame":
        row = run_emgame(N, seed, budget, check)
    else:
        with contextlib.nullcontext() if check else _no_check():
            row = base_run.run_one(method, N, seed, budget, mem_gb)
    row["method"] = method
    row["prices"] = np.asarray(row.get("prices", np.full(4, np.nan)), dtype=float)
    row["ok"] = bool(row.get("converged")) and row["seconds"] <= budget and (
        not check or not np.isfinite(row["max_regret"]) or row["max_regret"] <= 1e-8)
    row.pop("profile", None)
    row.pop("consumer_bids", None)
    return row


def _short(row: dict) -> str:
    return (f"{row['method']:>13s} N={row['N']:<8,d} {row['seconds']:8.3f}s "
            f"converged={bool(row.get('converged'))}")


def run(quick: bool = False, seed: int = 0, methods: list[str] | None = None,
        log=print) -> dict:  # noqa: ANN001
    methods = methods or METHODS
    sizes = QUICK_SIZES if quick else SIZES
    ladder = QUICK_LADDER if quick else LADDER
    rows: list[dict] = []
    for N in sizes:
        for m in methods:
            r = run_method(m, N, seed, check=N <= CHECK_UP_TO)
            rows.append(r)
            log("  " + _short(r))
    # Agreement with emgame.
    ref = {r["N"]: r["prices"] for r in rows if r["method"] == "emgame" and r["ok"]}
    for r in rows:
        p = ref.get(r["N"])
        r["price_diff_vs_emgame"] = (float(np.max(np.abs(r["prices"] / p - 1.0)))
                                     if p is not None and np.all(np.isfinite(r["prices"]))
                                     else float("nan"))
    # Ladders: the largest N each method handles within the budget.
    largest: dict[str, dict] = {}
    ladder_rows: list[dict] = []
    for m in methods:
        done = {r["N"]: r for r in rows if r["method"] == m}
        best = None
        for N in ladder:
            r = done.get(N)
            if r is None:
                r = run_method(m, N, seed, check=False)
                ladder_rows.append(r)
                log("  ladder " + _short(r))
            if not r["ok"]:
                largest[m] = {"largest": best, "failed_at": N, "why": r.get("notes", "")[:200],
                              "seconds_at_failure": r["seconds"]}
                break
            best = N
        else:
            largest[m] = {"largest": best, "failed_at": None, "why": "top of the ladder"}
    # The speed ratio at N = 160.
    ratio = {}
    if not quick:
        em = run_method("emgame", RATIO_N, seed)
        no = run_method("nashopt", RATIO_N, seed, budget=RATIO_BUDGET, check=False,
                        mem_gb=RATIO_MEMORY_GB)
        ratio = {"N": RATIO_N, "emgame": em, "nashopt": no, "budget": RATIO_BUDGET,
                 "memory_gb": RATIO_MEMORY_GB}
        log("  " + _short(em))
        log("  " + _short(no))
    return {"rows": rows, "ladder": ladder_rows, "largest": largest, "ratio": ratio,
            "budget": BUDGET, "seed": seed}


def _fmt(x: float | None, spec: str = ".1e") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return format(x, spec)


def why(notes: str) -> str:
    """The last clause of a method's notes (why it stopped)."""
    parts = [p.strip() for p in str(notes or "").split(";") if p.strip()]
    return parts[-1][:90] if parts else ""


def comparison_table(res: dict) -> list[str]:
    out = ["| N | method | seconds | converged | independent max regret | relative prices "
           "p¹..p⁴ / p⁰ | max rel. diff vs emgame |", "|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        pr = r["prices"]
        prices = " ".join(f"{v:.8f}" for v in pr) if np.all(np.isfinite(pr)) else "-"
        secs = r["seconds"]
        sec = f"{secs:.3f}" if r.get("converged") or np.isfinite(secs) else "-"
        note = "" if r.get("converged") else f" ({why(r.get('notes', ''))})"
        out.append(f"| {r['N']} | {r['method']} | {sec}{note} | {bool(r.get('converged'))} "
                   f"| {_fmt(r.get('max_regret'))} | {prices} "
                   f"| {_fmt(r.get('price_diff_vs_emgame'))} |")
    return out


def largest_table(res: dict) -> list[str]:
    out = [f"| method | largest N within {res['budget']:g} s | first failure |",
           "|---|---|---|"]
    for m, v in res["largest"].items():
        fail = ("none up to the top of the ladder" if v["failed_at"] is None else
                f"N = {v['failed_at']:,}: {why(v['why'])}")
        largest = "none" if v["largest"] is None else f"{v['largest']:,}"
        out.append(f"| {m} | {largest} | {fail} |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", nargs="+", choices=METHODS)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    res = run(args.quick, args.seed, args.methods)
    print("\n".join(comparison_table(res)))
    print()
    print("\n".join(largest_table(res)))
    if args.json:
        Path(args.json).write_text(json.dumps(_jsonable(res), indent=1))
    return 0


def _jsonable(v):  # noqa: ANN001, ANN202
    if isinstance(v, np.ndarray):
        return [_jsonable(x) for x in v.tolist()]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


if __name__ == "__main__":
    raise SystemExit(main())
