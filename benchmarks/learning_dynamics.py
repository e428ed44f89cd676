"""Best-response dynamics and fictitious play on the bundled examples: do they reach emgame's
certified Nash equilibrium, and from where?

For every bundled example with simultaneous settlement, from each start of
:func:`emgame.learning.dynamics.starts` (the competitive profile, the Nash profile with offers
-20% or electricity bids +20%, a uniform profile), runs plain best-response dynamics (w = 1),
damped ones (w = 0.5) and fictitious play, up to ``--max-iter`` iterations, and prints whether
each converged (every type's regret below the certificate's tolerance), whether the limit passed
emgame's certificate, and the largest relative gap between its prices and the certified Nash
prices.

    .venv/bin/python benchmarks/learning_dynamics.py [--max-iter 150] [--examples a b ...]
        [--methods best-response:0.5 ...]

Writes benchmarks/results/learning_dynamics.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import emgame
from emgame.learning.dynamics import run_dynamics, starts

ROOT = Path(__file__).resolve().parents[1]
METHODS = (("best-response", 1.0), ("best-response", 0.5), ("fictitious-play", 1.0))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-iter", type=int, default=150)
    ap.add_argument("--examples", nargs="*", default=None)
    ap.add_argument("--methods", nargs="*", default=None,
                    help="e.g. best-response:1 best-response:0.5 fictitious-play:1")
    args = ap.parse_args()
    files = sorted((ROOT / "src" / "emgame" / "examples").glob("*.toml"))
    if args.examples:
        files = [f for f in files if f.stem in args.examples]
    methods = METHODS if not args.methods else tuple(
        (m.split(":")[0], float(m.split(":")[1])) for m in args.methods)
    rows = []
    for f in files:
        e = emgame.load_economy(f)
        if e.market.prepaid:
            print(f"{f.stem}: skipped (prepaid settlement)")
            continue
        nash, comp = emgame.solve(e, "nash"), emgame.solve(e, "competitive")
        if not nash.ok:
            print(f"{f.stem}: skipped (no certified Nash equilibrium: {nash.reason})")
            continue
        for name, start in starts(e, nash, comp).items():
            for method, w in methods:
                t = time.perf_counter()
                r = run_dynamics(e, start, method=method, weight=w, start_name=name, nash=nash,
                                 max_iter=args.max_iter)
                row = {"example": f.stem, "start": name, "method": method, "weight": w,
                       "converged": r.converged, "certified": r.certified,
                       "iterations": r.iterations, "max_regret": r.max_regret,
                       "price_gap_to_nash": r.price_gap_to_nash,
                       "seconds": time.perf_counter() - t, "notes": list(r.notes)}
                rows.append(row)
                gap = "—" if r.price_gap_to_nash is None else f"{r.price_gap_to_nash:.1e}"
                print(f"{f.stem:22s} {name:32s} {method:16s} w={w:<4} converged={r.converged!s:5} "
                      f"certified={r.certified!s:5} it={r.iterations:4d} "
                      f"regret={r.max_regret:.1e} gap={gap} {row['seconds']:.1f}s", flush=True)
    res = ROOT / "benchmarks" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "learning_dynamics.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
