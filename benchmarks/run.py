"""Run every benchmark, save the results, regenerate docs/performance.md and its figure.

    make bench                                   # = .venv/bin/python benchmarks/run.py
    .venv/bin/python benchmarks/run.py --quick   # a fast subset (minutes, not an hour)
    .venv/bin/python benchmarks/run.py --only scale generic profile --no-docs

Parts (each measurement in a fresh process, see the modules):

* ``scale`` — :mod:`benchmarks.scale`: T = 24, 50 producer types, 10²…10⁶ consumer types, Nash
  with its certificate; the one-pass ratio; table input (Parquet, CSV); huge counts.
* ``generic`` — :mod:`benchmarks.compare_generic`: emgame against NashOpt, scipy ``root`` on the
  stacked FOCs and best-response iteration, on the baselines' economies.
* ``profile`` — one large Nash solve under pyinstrument.

Results go to ``benchmarks/results/<UTC time>.json`` (and ``latest.json``; the folder is
gitignored); ``docs/performance.md`` and ``docs/figures/performance.png`` are rewritten from them
(``--docs-from FILE`` rewrites the docs from a saved results file without measuring).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "performance.md"
FIGURE = ROOT / "docs" / "figures" / "performance.png"
PROFILE_N = 1_000_000
QUICK_PROFILE_N = 10_000

# Targets of the issue.
TARGET_SECONDS_1E6 = 10.0
TARGET_GIB_1E6 = 6.0
TARGET_HUGE_SECONDS = 1.0
TARGET_HUGE_GAP = 1e-5
TARGET_PASSES = 30.0
TARGET_RATIO_160 = 1000.0


def _load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict:
    import numba
    import numpy
    import pyarrow
    import scipy

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = "", False
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "numpy": numpy.__version__,
        "scipy": scipy.__version__, "numba": numba.__version__,
        "pyarrow": pyarrow.__version__, "commit": commit + (" (+ local changes)" if dirty else ""),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a fast subset")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="+", choices=["scale", "generic", "profile"],
                    default=["scale", "generic", "profile"])
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    ap.add_argument("--docs-from", help="rewrite the docs from this results file; no runs")
    ap.add_argument("--merge", help="start from this results file and replace only the parts "
                    "measured now (with --only)")
    args = ap.parse_args(argv)

    if args.docs_from:
        res = json.loads(Path(args.docs_from).read_text())
        write_docs(res)
        print(f"wrote {DOC.relative_to(ROOT)} and {FIGURE.relative_to(ROOT)}")
        return 0

    started = time.time()
    RESULTS.mkdir(parents=True, exist_ok=True)
    partial = RESULTS / "partial.json"

    def save_partial() -> None:  # after each part, so that a long run can be inspected
        partial.write_text(json.dumps(res, indent=1, default=_default))

    res: dict = json.loads(Path(args.merge).read_text()) if args.merge else {}
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    res.update({"started": now, "quick": args.quick, "seed": args.seed, "machine": machine(),
                "load_average_start": _load_average(),
                "command": "make bench" if not args.quick else
                ".venv/bin/python benchmarks/run.py --quick"})
    res.setdefault("measured", {}).update({part: now for part in args.only})
    if "scale" in args.only:
        from benchmarks import scale

        print("scale (T = 24, 50 producer types):", flush=True)
        res["scale"] = scale.run(args.quick, args.seed, log=lambda m: print(m, flush=True))
        res["load_average_after_scale"] = _load_average()
        save_partial()
    if "profile" in args.only:
        from benchmarks import scale

        n = QUICK_PROFILE_N if args.quick else PROFILE_N
        print(f"profile (pyinstrument, {n:,} consumer types):", flush=True)
        res["profile"] = scale.run_child({"kind": "profile", "n": n, "seed": args.seed})
        print("  " + (res["profile"].get("error") or "done"), flush=True)
        save_partial()
    if "generic" in args.only:
        from benchmarks import compare_generic

        print("against the generic way (T = 4, 3 producers):", flush=True)
        res["generic"] = compare_generic._jsonable(
            compare_generic.run(args.quick, args.seed, log=lambda m: print(m, flush=True)))
    res["load_average_end"] = _load_average()
    res["wall_seconds"] = time.time() - started

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}{'-quick' if args.quick else ''}.json"
    text = json.dumps(res, indent=1, default=_default)
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    partial.unlink(missing_ok=True)
    print(f"results: {path.relative_to(ROOT)}")
    if not args.no_docs:
        write_docs(json.loads(text))
        print(f"wrote {DOC.relative_to(ROOT)} and {FIGURE.relative_to(ROOT)}")
    return 0


def _default(o):  # noqa: ANN001, ANN202
    import numpy as np

    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return str(o)


# --------------------------------------------------------------------------------------------
# docs/performance.md
# --------------------------------------------------------------------------------------------


def _s(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _e(x: float | None) -> str:
    return "–" if x is None else f"{x:.1e}"


def _verdict(ok: bool, got: str, target: str) -> str:
    return f"**met** ({got}; target {target})" if ok else f"**missed** ({got}; target {target})"


def _slope(xs: list[float], ys: list[float]) -> float | None:
    import numpy as np

    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if x and y and x >= 1e4]
    if len(pts) < 2:
        return None
    lx, ly = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(lx, ly, 1)[0])


def _scale_section(sc: dict) -> list[str]:
    rows = [r for r in sc.get("scale", []) if "error" not in r]
    out = ["## 1. Heterogeneous agents at scale", "",
           "T = 24 hours, 50 producer types (count 1, θ ~ U(0.5, 2), c ~ U(0.6, 0.95), "
           "Dirichlet weights, capacity never binding), `n` consumer types (count 1, "
           "Dirichlet(1,…,1) weights, ω ~ U(0.5, 1.5)), all `ai` and Cobb–Douglas "
           "(`benchmarks/economies.py: scale_economy`). One `emgame.solve(economy)` each "
           "(Nash with its certificate), each size in a fresh process. Phases are "
           "`solution.seconds`: *start* is the competitive equilibrium used as the "
           "starting point, *Nash* the Newton iterations on the aggregate system, "
           "*certificate* every type's best deviation. *One pass* is one evaluation of every "
           "type's first-order conditions at the solution's totals (see section 3). Peak "
           "memory is the process's `ru_maxrss` after the solve (it includes the interpreter, "
           "numba and the economy itself). *CPU s* is the process's CPU time for the solve "
           "(all threads): on a loaded machine it is the steadier measure; *load* is the "
           "1-minute load average when the solve ended (2 cores: above 2 means queueing).", "",
           "| consumer types | source | status | max regret | total s | CPU s | start s | Nash s "
           "| certificate s | one pass s | passes | peak MiB | load |",
           "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows + [r for r in sc.get("table", []) if "error" not in r]:
        s = r["seconds"]
        start = s.get("start") or 0.0
        src = "Parquet" if r.get("source") == "table" else "memory"
        if r.get("blas_threads", "default") != "default":
            src += f", BLAS {r['blas_threads']} thread"
        la = r.get("load_average") or [None]
        out.append(
            f"| {r['n']:,} | {src} | {r['status']} | {_e(r['max_regret'])} "
            f"| {_s(s['total'])} | {_s(r.get('cpu'))} | {_s(start)} | {_s(s['solve'] - start)} "
            f"| {_s(s.get('certificate'))} | {_s(r['pass']['first'])} "
            f"| {r['passes']:.0f} | {r['peak_mib']:,.0f} | {_s(la[0])} |")
    for r in sc.get("scale", []) + sc.get("table", []):
        if "error" in r:
            out.append(f"| {r.get('n', '?'):,} | {r.get('source', 'memory')} | failed: "
                       f"{r['error'][:120]} | | | | | | | | | | |")
    out.append("")
    pinned = [r for r in rows if r.get("blas_threads", "default") != "default"]
    rows = [r for r in rows if r.get("blas_threads", "default") == "default"]
    ok = [r for r in rows if r["status"] == "equilibrium"]
    if len(ok) >= 2:
        slope = _slope([r["n"] for r in ok], [r["seconds"]["total"] for r in ok])
        slope_pass = _slope([r["n"] for r in ok], [r["pass"]["warm"] for r in ok])
        if slope is not None:
            per = ", ".join(f"{r['n']:,}: {r['seconds']['total'] / r['n'] * 1e6:.3g} µs"
                            for r in ok)
            out.append(f"Growth: time ∝ n^{slope:.2f} for the whole solve and n^"
                       f"{slope_pass:.2f} for one (warm) pass (least squares on log–log, "
                       f"n ≥ 10⁴; 1.00 is linear; below 1 while fixed costs still weigh). Solve "
                       f"time per consumer type: {per}.")
            out.append("")
    big = next((r for r in rows if r["n"] == 1_000_000), None)
    if big is not None:
        t, mem = big["seconds"]["total"], big["peak_mib"] / 1024
        out.append("Target (10⁶ consumer types): time " + _verdict(
            t < TARGET_SECONDS_1E6 and big["status"] == "equilibrium",
            f"{t:.1f} s, {big['status']}", f"< {TARGET_SECONDS_1E6:g} s")
            + (f", missed by {t / TARGET_SECONDS_1E6:.1f}×" if t >= TARGET_SECONDS_1E6 else "")
            + "; memory " + _verdict(mem < TARGET_GIB_1E6, f"{mem:.2f} GiB",
                                     f"< {TARGET_GIB_1E6:g} GiB") + ".")
        out.append("")
    for r in pinned:
        same = next((b for b in rows if b["n"] == r["n"]), None)
        if same is not None and "error" not in r and same.get("code") == r.get("code"):
            t1, t0 = r["seconds"]["total"], same["seconds"]["total"]
            what = ("nested BLAS threads (BLAS called beside numba's parallel blocks) "
                    "multiply the work on 2 cores"
                    if t0 > 1.3 * t1 else "no material difference")
            out.append(f"With BLAS pinned to one thread (`OPENBLAS_NUM_THREADS=1`) the "
                       f"{r['n']:,}-type solve takes {t1:.1f} s, against {t0:.1f} s with the "
                       f"default threads: {what}.")
            out.append("")
    loads = [ld for ld in sc.get("loads", []) if "error" not in ld]
    if loads:
        out += ["### Table input", "",
                "The consumers of the same economy written as a table and read back by "
                "`emgame.load_economy` (TOML with `consumers_table = \"…\"`; each load in a "
                "fresh process, imports excluded). *columns* is one column per hour "
                "(`w1..w24`), *list* one fixed-size list column `weights` (Parquet only; "
                "read without copying).", "",
                "| rows | format | weights | load s | CPU s | peak MiB | load |",
                "|---:|---|---|---:|---:|---:|---:|"]
        for ld in loads:
            la = ld.get("load_average") or [None]
            out.append(f"| {ld['n']:,} | {ld['fmt']} | {ld['weights']} | {_s(ld['seconds'])} "
                       f"| {_s(ld.get('cpu'))} | {ld['peak_mib']:,.0f} | {_s(la[0])} |")
        out.append("")
    return out


def _pass_section(sc: dict, prof: dict | None) -> list[str]:
    rows = [r for r in sc.get("scale", []) if "error" not in r and "pass" in r]
    default = [r for r in rows if r.get("blas_threads", "default") == "default"]
    out = ["## 3. The one-pass bound", "",
           "In the same run as each solve above: the time of one vectorised evaluation of every "
           "type's first-order conditions (every consumer's and producer's best response to the "
           "post totals `(p, Q)`: `emgame.solvers._aggregate.Aggregate`, built as the Nash "
           "solver builds it, called with `want_jac=False` at the solution's totals), and the "
           "whole solve (competitive start + Nash + certificate) in units of it. The *first "
           "call* on a fresh `Aggregate` starts every type's own solve from the default guess; "
           "a *warm* call (the second, at the same point) starts from the last answers, as "
           "every evaluation inside the solver does, so it is the cost of one of the solver's "
           "passes. *With Jacobian* is a call with the derivatives Newton needs.",
           "", "| consumer types | one pass (warm) ms | first call ms | with Jacobian ms "
           "| solve s | solve / warm pass | solve / first call | solver's evaluations |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def warm_ratio(r: dict) -> float:
        return r.get("passes_warm", r["seconds"]["total"] / r["pass"]["warm"])

    for r in rows:
        p = r["pass"]
        blas = "" if r in default else f" (BLAS {r['blas_threads']} thread)"
        out.append(f"| {r['n']:,}{blas} | {p['warm'] * 1e3:.3g} | {p['first'] * 1e3:.3g} "
                   f"| {p['with_jacobian'] * 1e3:.3g} | {_s(r['seconds']['total'])} "
                   f"| **{warm_ratio(r):.0f}** | {r['passes']:.1f} | {r['evaluations']} |")
    out.append("")
    cold = [r for r in rows if r["pass"]["first"] > max(5 * r["pass"]["warm"], 0.5)]
    if cold:
        out.append("Where the first call costs many times a warm one ("
                   + ", ".join(f"{r['n']:,} types: {r['pass']['first']:.2f} s against "
                               f"{r['pass']['warm']:.3f} s" for r in cold)
                   + "), the time goes to the 50 producer types' own solves from their default "
                   "start (`producer_responses`), which take seconds once the economy's goods Ω "
                   "reach about 10⁴ and tens of milliseconds below. The solver does not pay this "
                   "(its solve phase is shorter than that first call): it starts producers "
                   "elsewhere.")
        out.append("")
    big = max(default, key=lambda r: r["n"]) if default else None
    if big is not None:
        w = warm_ratio(big)
        out.append(f"Target (a solve under {TARGET_PASSES:g} passes, at {big['n']:,} types): "
                   + _verdict(w < TARGET_PASSES, f"{w:.0f} warm passes",
                              f"< {TARGET_PASSES:g}")
                   + f"; in first calls it is {big['passes']:.1f}.")
        out.append("")
    if prof and "error" not in prof:
        def body(text: str) -> list[str]:  # without pyinstrument's banner
            lines = [ln for ln in text.splitlines() if ln.strip()]
            start = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("Profile at")), 0)
            return lines[start:]

        tree, flat = body(prof["tree"]), body(prof["flat"])
        out += [f"### Where the time goes: pyinstrument, one Nash solve of {prof['n']:,} "
                "consumer types", "",
                "Phases (`solution.seconds`): " + ", ".join(
                    f"{k} {v:.2f} s" for k, v in prof["seconds"].items()) + ".", "",
                "Functions by own time (top 20; numba kernels run outside the Python stack, "
                "so they show as roots with their own time):", "", "```"]
        out += flat[:20]
        out += ["```", "", "Call tree (top):", "", "```"] + tree[:60] + ["```", ""]
    return out


def _huge_section(h: dict | None) -> list[str]:
    out = ["## 2. Types with huge counts", ""]
    if not h or "error" in h:
        out += [f"Not measured: {h.get('error') if h else 'not run'}.", ""]
        return out
    n, c = h["nash"], h["competitive"]
    out += [f"{h['consumer_types']} consumer types of 10⁸ agents each and "
            f"{h['producer_types']} producer types of 10⁶ each ({h['agents']:.3g} agents; T = 24; "
            "`benchmarks/economies.py: huge_counts_economy`), in a fresh process after a "
            "warm-up solve.", "",
            "| concept | status | seconds | CPU s | start s | solve s | certificate s "
            "| max regret | max relative regret |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in (("Nash", n), ("competitive", c)):
        s = r["seconds"]
        out.append(f"| {name} | {r['status']} | {r['wall']:.3f} | {_s(r.get('cpu'))} "
                   f"| {_s(s.get('start'))} "
                   f"| {_s(s.get('solve'))} | {_s(s.get('certificate'))} "
                   f"| {_e(r['max_regret'])} | {_e(r['max_relative_regret'])} |")
    out.append("")
    if "gap_max" in h:
        out.append(f"Nash relative prices `p^t/p^0` sit above the competitive ones by "
                   f"{h['gap_min']:.2e} to {h['gap_max']:.2e} (relative), the market power "
                   f"that producers of 10⁶ agents per type keep; the largest share one consumer "
                   f"has of a post is {h['largest_consumer_share']:.1e}.")
        out.append("")
        out.append("Targets: time " + _verdict(n["wall"] < TARGET_HUGE_SECONDS,
                                               f"{n['wall']:.3f} s", f"< {TARGET_HUGE_SECONDS:g}"
                                               " s") + "; gap " +
                   _verdict(h["gap_max"] < TARGET_HUGE_GAP, f"{h['gap_max']:.1e}",
                            f"< {TARGET_HUGE_GAP:g}") + "; certificate regret "
                   f"{n['max_regret']:.1e} (relative {n['max_relative_regret']:.1e}), far below "
                   "the gap: shares of 10⁻⁹ are resolved, not lost in `B − b`.")
        out.append("")
    return out


def _generic_section(g: dict | None) -> list[str]:
    from benchmarks.compare_generic import comparison_table, largest_table

    out = ["## 4. Against the generic way", ""]
    if not g:
        return out + ["Not measured.", ""]
    import numpy as np

    for r in g["rows"]:
        r["prices"] = np.asarray([np.nan if v is None else v for v in r["prices"]], float)
        for k in ("max_regret", "price_diff_vs_emgame"):
            if r.get(k) is None:
                r[k] = float("nan")
    out += ["The baselines' economies (`benchmarks/baselines/economy.py`, seed "
            f"{g['seed']}: T = 4, N Cobb–Douglas `ai` consumers as separate players, 3 "
            "producers θ = 1, c = 0.8, no verification), each solve in a fresh process with "
            f"a hard stop at {g['budget']:g} s and 8 GB (`benchmarks/baselines/run.py`). "
            "*Independent max regret* is `benchmarks/baselines/check.py` (SLSQP from "
            "several starts per player; its noise floor is about 1e-10); relative prices "
            "are `p^t/p^0`. emgame's seconds exclude loading its compiled kernels from "
            "numba's cache (a first solve in the process, typically 1–5 s, more when the "
            "cache is stale); NashOpt's include its JAX compilation, which it repeats on "
            "every solve. Every method here runs with BLAS pinned to one thread, emgame "
            "included (`baselines/run.py`'s setting).", ""]
    out += comparison_table(g) + [""]
    out += ["Largest N solved within the budget (each method climbs N = "
            + ", ".join(f"{n:,}" for n in
                        sorted({r['N'] for r in g['rows'] + g.get('ladder', [])}))
            + " until its first failure; above N = 200 without the independent check):", ""]
    out += largest_table(g) + [""]
    ratio = g.get("ratio") or {}
    if ratio:
        em, no = ratio["emgame"], ratio["nashopt"]
        t_em = em["seconds"]
        if no.get("converged"):
            r = no["seconds"] / t_em
            txt = f"NashOpt {no['seconds']:.1f} s, emgame {t_em:.4f} s: **{r:,.0f}×**"
        else:
            r = no["seconds"] / t_em
            txt = (f"NashOpt did not finish ({no.get('notes', '')[:160]}, given "
                   f"{ratio.get('budget', g['budget']):g} s and "
                   f"{ratio.get('memory_gb', 8):g} GB); emgame {t_em:.4f} s: "
                   f"**more than {r:,.0f}×** (NashOpt's time when stopped over emgame's)")
        verdict = ("**met**." if r >= TARGET_RATIO_160 else
                   "**missed**." if no.get("converged") else
                   "**not shown**: NashOpt stopped first, so only the bound above is measured.")
        out += [f"At N = {ratio['N']}: {txt}. Target: thousands of times faster — "
                + verdict, ""]
    return out


def _figure(res: dict) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    g = res.get("generic")
    if g:
        allrows = g["rows"] + g.get("ladder", []) + [v for v in (g.get("ratio") or {}).values()
                                                      if isinstance(v, dict)]
        styles = {"emgame": "o-", "nashopt": "s-", "stacked_root": "^-", "best_response": "d-"}
        for m in ("emgame", "nashopt", "stacked_root", "best_response"):
            pts = sorted({(r["N"], r["seconds"]) for r in allrows
                          if r["method"] == m and r.get("converged")})
            if pts:
                ax1.loglog([p[0] + 3 for p in pts], [p[1] for p in pts], styles[m], label=m)
            fails = sorted({r["N"] for r in allrows if r["method"] == m and not r.get("converged")})
            if fails:
                ax1.loglog([n + 3 for n in fails], [g["budget"]] * len(fails), "x",
                           color=ax1.lines[-1].get_color() if pts else "k",
                           label=f"{m}: no answer (≥ budget or killed)")
        ax1.axhline(g["budget"], color="grey", lw=0.8, ls=":")
        ax1.set_xlabel("types (N consumers + 3 producers, each its own type)")
        ax1.set_ylabel("seconds per solve")
        ax1.set_title("Generic solvers, T = 4 (baselines' economies)")
        ax1.legend(fontsize=7)
    sc = res.get("scale")
    if sc:
        good = [r for r in sc["scale"] if "error" not in r and r["status"] == "equilibrium"]
        rows = [r for r in good if r.get("blas_threads", "default") == "default"]
        pinned = [r for r in good if r not in rows]
        if pinned:
            ax2.loglog([r["n"] + 50 for r in pinned], [r["seconds"]["total"] for r in pinned],
                       "*", ms=11, label="Nash + certificate, BLAS 1 thread")
        if rows:
            n = [r["n"] + 50 for r in rows]
            ax2.loglog(n, [r["seconds"]["total"] for r in rows], "o-",
                       label="emgame: Nash + certificate")
            ax2.loglog(n, [r["seconds"]["certificate"] for r in rows], ".--",
                       label="of which certificate")
            ax2.loglog(n, [r["pass"]["first"] for r in rows], "s-",
                       label="one pass (every type's FOCs), first call")
            ax2.loglog(n, [r["pass"]["warm"] for r in rows], "s--",
                       label="one pass, warm")
            ax2.loglog(n, [n_ * rows[-1]["seconds"]["total"] / n[-1] for n_ in n], ":",
                       color="grey", label="linear")
            ax2.axhline(TARGET_SECONDS_1E6, color="red", lw=0.8, ls=":", label="10 s target")
        ax2.set_xlabel("types (consumer types + 50 producer types)")
        ax2.set_ylabel("seconds")
        ax2.set_title("emgame at scale, T = 24")
        ax2.legend(fontsize=7)
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=110)
    plt.close(fig)
    return True


def _code_versions(res: dict) -> list[str]:
    """A note when rows were measured on different versions of src/emgame (edited mid-run)."""
    seen: dict[str, list[str]] = {}

    def add(code: str | None, what: str) -> None:
        seen.setdefault(code or "(no hash recorded)", []).append(what)

    sc = res.get("scale") or {}
    for r in sc.get("scale", []) + sc.get("table", []):
        add(r.get("code"), f"scale {r.get('n', '?'):,}" + (" (Parquet)" if r.get("source") ==
                                                            "table" else ""))
    if sc.get("huge"):
        add(sc["huge"].get("code"), "huge counts")
    if res.get("profile"):
        add(res["profile"].get("code"), "profile")
    g = res.get("generic") or {}
    for r in g.get("rows", []) + g.get("ladder", []):
        if r.get("method") == "emgame":
            add(r.get("code"), f"generic N={r['N']:,}")
    if len(seen) <= 1:
        return [f"All emgame rows were measured on one version of `src/emgame` (source hash "
                f"{next(iter(seen))})." if seen else "", ""]
    out = ["**`src/emgame` changed during this run** (it was being edited): rows on different "
           "source versions are not comparable with each other. Source hash → rows:", ""]
    for code, rows in seen.items():
        out.append(f"- `{code}`: " + ", ".join(rows))
    return out + [""]


def write_docs(res: dict) -> None:
    m = res["machine"]
    lines = [
        "# Performance",
        "",
        "<!-- Generated by benchmarks/run.py from its results file; edit the generator, not "
        "this file. -->",
        "",
        f"Measured {res['started']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB, "
        f"{m['os']}); Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, numba "
        f"{m['numba']}, pyarrow {m['pyarrow']}; emgame at {m['commit']}. Load average at the "
        f"start {res.get('load_average_start')}, at the end {res.get('load_average_end')}: "
        "the machine is shared, and timings move by up to 2× with other load. "
        + ("**Quick run** (a subset of sizes)." if res.get("quick") else ""),
        "",
        "Regenerate everything (results JSON under `benchmarks/results/`, this page and "
        "`docs/figures/performance.png`):",
        "",
        "```",
        "make bench                                    # full run (10–15 minutes)",
        ".venv/bin/python benchmarks/run.py --quick    # a fast subset",
        ".venv/bin/python benchmarks/run.py --docs-from benchmarks/results/latest.json",
        "```",
        "",
        "![time against number of types](figures/performance.png)",
        "",
    ]
    if len(set((res.get("measured") or {}).values())) > 1:
        lines += ["Parts measured at different times (`--merge`): " + ", ".join(
            f"{k} {v}" for k, v in res["measured"].items()) + ".", ""]
    lines += _code_versions(res)
    sc = res.get("scale") or {}
    lines += _scale_section(sc)
    lines += _huge_section(sc.get("huge"))
    lines += _pass_section(sc, res.get("profile"))
    lines += _generic_section(res.get("generic"))
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines).rstrip() + "\n")
    _figure(res)


if __name__ == "__main__":
    raise SystemExit(main())
