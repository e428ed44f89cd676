"""The campaign driver: random economies solved by emgame and by the independent solver.

    python -m benchmarks.campaign run --seed 0 --count 155 --out out/campaign
    python -m benchmarks.campaign run --seed 0 --start 40 --count 20 --out out/campaign
    python -m benchmarks.campaign report --out out/campaign
    python -m benchmarks.campaign economy --seed 0 --k 12 > campaign-0-0012.toml

``run`` draws economies ``start .. start+count-1`` of the campaign ``seed``
(:mod:`.generator`), writes each to ``OUT/economies/NAME.toml`` and runs four tasks per economy,
each in its own forked process with a hard stop: emgame's Nash solve (``max_seconds`` 30) and
competitive solve (both through ``emgame.solve``, wall clock measured), then the independent
solvers (:mod:`.nash`, :mod:`.competitive`). Every profile emgame certifies — and every
candidate it declines — is judged by the independent checker (:mod:`.check`), outside
emgame's clock. Each task writes ``OUT/tasks/NAME.CONCEPT.SOLVER.json``; a task whose file
exists is skipped, so a campaign can be stopped and resumed, or run in chunks (``--start``,
``--count``) into the same folder.

``report`` reads the task files, classifies every (economy, concept) case and writes
``OUT/cases.jsonl`` (one record per case), ``OUT/cases.csv``, ``OUT/campaign.duckdb`` (table
``cases``), ``OUT/summary.json`` and copies the economies of every case worth a look into
``OUT/failing/`` (re-run one with ``emgame solve OUT/failing/NAME.toml --concept CONCEPT``);
then prints the tables (see ``benchmarks/README.md``, "The random-economy campaign").
"""

from __future__ import annotations

import os

# One thread per task (two cores, shared); numba's "workqueue" threading layer, since GNU
# OpenMP's refuses to run in a forked child ("fork() called from a process already using GNU
# OpenMP") and the tasks are forked from a parent that compiled emgame's kernels once.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from .generator import features, random_economy, to_toml, write_toml  # noqa: E402

CONCEPTS = ("nash", "competitive")
SOLVERS = ("emgame", "independent")


def _num(x) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _list(a) -> list:
    return [_list(v) if np.ndim(v) else _num(v) for v in np.asarray(a, dtype=float)]


def profile_record(profile) -> dict[str, Any]:
    return {"consumer_bids": _list(profile.consumer_bids),
            "producer_bids": _list(profile.producer_bids),
            "offers": _list(profile.offers), "capacity": _list(profile.capacity)}


def emgame_certificate(e, profile, prices=None) -> dict[str, Any]:
    """emgame's own certificate of a profile found by the independent solver: a second,
    unrelated judge of every emgame miss (the driver may use emgame; the independent solver
    and checker do not). Under prepaid settlement it needs each type's wallet multiplier,
    read off the profile by the checker's first-order conditions."""
    from emgame.certificate import certify
    from emgame.market import evaluate
    from emgame.results import Multipliers

    from .check import wallet_multipliers

    out = evaluate(e, profile, prices)
    mult = None
    if e.market.prepaid:
        lc, lp = wallet_multipliers(e, profile, prices)
        p0 = float(out.prices[0]) if np.isfinite(out.prices[0]) else 1.0
        mult = Multipliers(lc, lp, lp * p0, np.zeros((len(e.producers), e.periods)))
    cert = certify(e, profile, multipliers=mult, outcome=out,
                   price_taking=prices is not None)
    return {"passed": cert.passed, "inconclusive": bool(cert.inconclusive),
            "max_regret": _num(cert.max_regret),
            "max_relative_regret": _num(cert.max_relative_regret), "notes": list(cert.notes)}


def allocation(e, profile, prices=None) -> dict[str, Any]:
    """What one agent of each type gets (real quantities, comparable across nominal levels):
    electricity consumed ``[state][period]``, goods, offers; and relative prices."""
    from emgame.market import evaluate

    out = evaluate(e, profile, prices)
    return {
        "relative_prices": _list(out.relative_prices),
        "prices": _list(out.prices),
        "consumers": [{"consumption": _list(out.consumers.consumption[i]),
                       "goods": _num(out.consumers.goods[i]),
                       "utility": _num(out.consumers.utility[i])}
                      for i in range(len(e.consumers))],
        "producers": [{"consumption": _list(out.producers.consumption[j]),
                       "goods": _num(out.producers.goods[j]),
                       "offers": _list(profile.offers[j]),
                       "utility": _num(out.producers.utility[j])}
                      for j in range(len(e.producers))],
    }


# --------------------------------------------------------------------------------------------
# Tasks (each runs in a forked child).
# --------------------------------------------------------------------------------------------


def _task_emgame(e, concept: str, nash_seconds: float, check_starts: int) -> dict:
    from emgame.solve import Options, solve
    from emgame.solvers.nash import NashOptions

    from .check import check_competitive, check_nash

    opts = Options(nash=NashOptions(max_seconds=nash_seconds))
    t = time.perf_counter()
    s = solve(e, concept, options=opts)  # type: ignore[arg-type]
    wall = time.perf_counter() - t
    rec: dict[str, Any] = {"status": s.status.value, "reason": s.reason, "seconds": wall,
                           "iterations": s.iterations}
    if s.certificate is not None:
        rec["certificate"] = {"max_regret": _num(s.certificate.max_regret),
                              "max_relative_regret": _num(s.certificate.max_relative_regret),
                              "passed": s.certificate.passed,
                              "notes": list(s.certificate.notes)}
    if s.profile is not None and s.outcome is not None:
        prices = s.outcome.prices if concept == "competitive" else None
        rec["allocation"] = allocation(e, s.profile, prices)
        rec["profile"] = profile_record(s.profile)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            chk = (check_nash(e, s.profile, starts=check_starts) if concept == "nash"
                   else check_competitive(e, s.profile, s.outcome.prices, starts=check_starts))
        rec["check"] = chk.to_dict()
        rec["check"]["seconds"] = time.perf_counter() - t
    return rec


def _task_independent(e, concept: str, seconds: float, check_starts: int) -> dict:
    from .competitive import solve_competitive
    from .nash import solve_nash

    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = (solve_nash(e, max_seconds=seconds, check_starts=check_starts) if concept == "nash"
             else solve_competitive(e, max_seconds=seconds, check_starts=check_starts))
    wall = time.perf_counter() - t
    rec = r.to_dict()
    rec["seconds"] = wall
    if r.profile is not None and r.ok:
        prices = r.prices if concept == "competitive" else None
        rec["allocation"] = allocation(e, r.profile, prices)
        rec["profile"] = profile_record(r.profile)
        try:
            rec["emgame_certificate"] = emgame_certificate(e, r.profile, prices)
        except (ValueError, FloatingPointError, ZeroDivisionError) as exc:
            rec["emgame_certificate"] = {"passed": None, "error": f"{type(exc).__name__}: "
                                         f"{exc}"}
    return rec


def _child(path: str, seed: int, k: int, concept: str, solver: str, cfg: dict) -> None:
    e = random_economy(seed, k)
    try:
        with np.errstate(all="ignore"):
            if solver == "emgame":
                rec = _task_emgame(e, concept, cfg["nash_seconds"], cfg["check_starts"])
            else:
                rec = _task_independent(e, concept, cfg["independent_seconds"],
                                        cfg["check_starts"])
    except Exception as exc:  # noqa: BLE001 - a crash of either side is a result to record
        rec = {"status": "crashed", "reason": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc()[-3000:]}
    rec.update(economy=e.name, seed=seed, k=k, concept=concept, solver=solver)
    tmp = Path(path + ".tmp")
    tmp.write_text(json.dumps(rec))
    tmp.replace(path)


def _warm_up() -> None:
    """Compile emgame's kernels once in the parent, so forked children start warm."""
    from emgame.solve import solve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = random_economy(0, 5)
        solve(e, "nash")
        solve(e, "competitive")


def run(seed: int, start: int, count: int, out: Path, *, workers: int = 1,
        nash_seconds: float = 30.0, independent_seconds: float = 60.0,
        hard_timeout: float = 300.0, check_starts: int = 4, quiet: bool = False) -> None:
    """Run the tasks of economies ``start..start+count-1`` that are not done yet."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "tasks").mkdir(exist_ok=True)
    cfg = {"nash_seconds": nash_seconds, "independent_seconds": independent_seconds,
           "check_starts": check_starts, "hard_timeout": hard_timeout}
    meta = out / "campaign.json"
    if not meta.exists():
        meta.write_text(json.dumps({"seed": seed, **cfg}, indent=1))
    todo = []
    for k in range(start, start + count):
        e = random_economy(seed, k)
        write_toml(e, out / "economies" / f"{e.name}.toml")
        for concept in CONCEPTS:
            for solver in SOLVERS:
                path = out / "tasks" / f"{e.name}.{concept}.{solver}.json"
                if not path.exists():
                    todo.append((str(path), k, concept, solver))
    if not todo:
        return
    _warm_up()
    ctx = mp.get_context("fork")
    running: list[tuple[Any, tuple, float]] = []
    done = 0
    while todo or running:
        while todo and len(running) < workers:
            job = todo.pop(0)
            p = ctx.Process(target=_child, args=(job[0], seed, job[1], job[2], job[3], cfg))
            p.start()
            running.append((p, job, time.perf_counter()))
        time.sleep(0.05)
        still = []
        for p, job, t0 in running:
            if p.is_alive() and time.perf_counter() - t0 < hard_timeout:
                still.append((p, job, t0))
                continue
            if p.is_alive():
                p.kill()
                p.join()
                rec = {"status": "killed", "reason": f"killed at the {hard_timeout:g} s hard "
                       "stop", "seconds": time.perf_counter() - t0}
            else:
                p.join()
                rec = None
            path, k, concept, solver = job
            if rec is not None or not Path(path).exists():
                rec = rec or {"status": "crashed", "reason": f"exit code {p.exitcode}",
                              "seconds": time.perf_counter() - t0}
                rec.update(economy=random_economy(seed, k).name, seed=seed, k=k,
                           concept=concept, solver=solver)
                Path(path).write_text(json.dumps(rec))
            done += 1
            if not quiet:
                r = json.loads(Path(path).read_text())
                print(f"{r['economy']} {concept:11s} {solver:11s} {r.get('status', '?'):22s} "
                      f"{r.get('seconds') or 0:7.1f} s", flush=True)
        running = still


# --------------------------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.campaign",
                                 description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="solve economies (resumable)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--start", type=int, default=0)
    r.add_argument("--count", type=int, default=10)
    r.add_argument("--out", type=Path, default=Path("out/campaign"))
    r.add_argument("--workers", type=int, default=1)
    r.add_argument("--nash-seconds", type=float, default=30.0,
                   help="emgame's Nash time limit (NashOptions.max_seconds)")
    r.add_argument("--independent-seconds", type=float, default=60.0)
    r.add_argument("--hard-timeout", type=float, default=300.0,
                   help="kill a task after this many seconds")
    r.add_argument("--check-starts", type=int, default=4)
    r.add_argument("--report", action="store_true", help="print the report at the end")
    p = sub.add_parser("report", help="classify the cases and print the tables")
    p.add_argument("--out", type=Path, default=Path("out/campaign"))
    p.add_argument("--width", type=int, default=None)
    g = sub.add_parser("economy", help="print one economy as TOML")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--k", type=int, required=True)
    a = ap.parse_args(argv)
    if a.cmd == "economy":
        sys.stdout.write(to_toml(random_economy(a.seed, a.k)))
        return 0
    if a.cmd == "run":
        run(a.seed, a.start, a.count, a.out, workers=a.workers, nash_seconds=a.nash_seconds,
            independent_seconds=a.independent_seconds, hard_timeout=a.hard_timeout,
            check_starts=a.check_starts)
        if not a.report:
            return 0
    from .report import report

    summary = report(a.out)
    return 1 if summary["false_certificates"] else 0


__all__ = ["allocation", "features", "main", "run"]
