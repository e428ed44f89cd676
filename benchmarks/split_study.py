"""Every point of the verification-cost study gets a certified equilibrium, symmetric or split.

    python benchmarks/split_study.py                          # the whole grid, both concepts
    python benchmarks/split_study.py --values 0.0025 0.008 --concept competitive
    python benchmarks/split_study.py --json out/split_study.json

The study is ``examples/studies/verification_cost.toml`` (the 24-hour AI solar day of
``examples/verification_costs.toml`` with the fixed verification cost ``v`` swept from 0 to
0.02). For each point and concept: ``emgame.solve`` (a type-symmetric equilibrium); where it
finds none, ``emgame.solve_all`` with its split search (a type's agents divided into groups
paying on different sets of hours, two or, under Nash, as many as it takes, each group
certified to best-respond; the competitive benchmark splits a type in two, in fractions).
Printed per point: what was found (symmetric, the split per type, or the reason for none) and
the seconds; at the end the counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "examples" / "studies" / "verification_cost.toml"


def grid() -> list[float]:
    spec = tomllib.loads(STUDY.read_text())["parameters"][0]["grid"]
    return [float(v) for v in np.linspace(spec["start"], spec["stop"], spec["num"])]


def economy_at(v: float):  # noqa: ANN201
    import emgame
    from emgame.model import economy_from_dict, economy_to_dict

    base = emgame.load_economy(STUDY.parent.parent / "verification_costs.toml")
    d = economy_to_dict(base)
    d["verification"] = {**d["verification"], "fixed": v}
    return economy_from_dict(d)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--values", type=float, nargs="*", help="fixed costs v (default: the grid)")
    ap.add_argument("--concept", choices=["nash", "competitive", "both"], default="both")
    ap.add_argument("--starts", type=int, default=4, help="solve_all starts at a failed point")
    ap.add_argument("--seconds", type=float, default=600.0, help="solve_all budget per point")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    import emgame

    concepts = ["nash", "competitive"] if args.concept == "both" else [args.concept]
    rows = []
    for v in args.values or grid():
        e = economy_at(v)
        for concept in concepts:
            t = time.perf_counter()
            s = emgame.solve(e, concept)
            row = {"v": v, "concept": concept, "symmetric": s.ok, "split": None,
                   "reason": "", "seconds_solve": time.perf_counter() - t}
            if not s.ok:
                t2 = time.perf_counter()
                r = emgame.solve_all(e, concept, starts=args.starts, max_seconds=args.seconds)
                row["seconds_all"] = time.perf_counter() - t2
                if r.symmetric:
                    row["symmetric"] = True
                elif r.split:
                    f = r.split[0]
                    row["split"] = [sp.to_dict() for sp in f.split]
                    row["max_regret"] = f.solution.certificate.max_regret
                else:
                    row["reason"] = r.reason
            what = ("symmetric" if row["symmetric"] else
                    "split " + "; ".join(
                        f"{sp['type']}: " + " + ".join(
                            f"{g['count']:.6g} on {len(g['posts'])} hours" for g in sp["groups"])
                        for sp in row["split"]) if row["split"] else "NONE: " + row["reason"])
            secs = row["seconds_solve"] + row.get("seconds_all", 0.0)
            print(f"v = {v:<7.4g} {concept:<12} {secs:7.1f} s  {what}", flush=True)
            rows.append(row)
    n = len(rows)
    sym = sum(r["symmetric"] for r in rows)
    spl = sum(bool(r["split"]) for r in rows)
    print(f"{n} solves: {sym} type-symmetric, {spl} split, {n - sym - spl} without a "
          "certified equilibrium")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if sym + spl == n else 1


if __name__ == "__main__":
    sys.exit(main())
