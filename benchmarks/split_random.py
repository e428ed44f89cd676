"""Split equilibria on random economies built to need them, each re-checked independently.

    python benchmarks/split_random.py --seed 7 --count 60

Each draw: T = 3 or 4 hours, two Cobb-Douglas buyers (who pay on every hour), a CRRA
``γ < 1`` type ``dc`` of 3-12 agents (an hour without electricity is a finite loss, so it may
leave hours), hours weighed alike in half the draws, a fixed verification cost of 0.01-0.06
per payment, 2-3 classic producers with decreasing returns. Where ``emgame.solve`` finds no
type-symmetric Nash equilibrium, ``emgame.solve_all(..., split=True)`` searches split ones;
every equilibrium it reports is re-checked by the campaign's independent checker
(``benchmarks/campaign/check.py``: each type's global best response, sharing no code with the
solvers or the certificate). One JSON line per draw, then the counts; exit 1 if any reported
equilibrium fails the independent check.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOML = """
name = "random split {k}"
periods = {T}
[market]
settlement = "simultaneous"
horizon = "short-run"
[verification]
fixed = [0.0{vs}]
share = {share}
[[consumers]]
name = "anchor"
count = 2
kind = "ai"
endowment = {ea}
utility = {{ family = "cobb_douglas", weights = [{wa}] }}
[[consumers]]
name = "dc"
count = {n}
kind = "ai"
endowment = {ed}
utility = {{ family = "crra", gamma = {g}, weights = [{wd}] }}
[[producers]]
name = "solar"
count = {m}
kind = "classic"
productivity = {theta}
returns = {c}
capacity = 1000.0
utility = {{ family = "cobb_douglas", weights = [{zeros}], goods_weight = 1.0 }}
"""


def _fmt(a: np.ndarray) -> str:
    return ", ".join(f"{x:.4g}" for x in a)


def draw(rng: np.random.Generator, k: int) -> str:
    """One economy's TOML text."""
    T = int(rng.integers(3, 5))
    wd = np.ones(T) if rng.random() < 0.5 else rng.uniform(0.5, 1.5, T)
    return TOML.format(
        k=k, T=T, vs="".join(f", {rng.uniform(0.01, 0.06):.4g}" for _ in range(T)),
        share=0.0 if rng.random() < 0.5 else 0.01, ea=f"{rng.uniform(0.5, 2):.3g}",
        wa=_fmt(rng.uniform(0.5, 1.5, T)), n=int(rng.integers(3, 13)),
        ed=f"{rng.uniform(0.2, 0.8):.3g}", g=f"{rng.uniform(0.3, 0.8):.3g}", wd=_fmt(wd),
        m=int(rng.integers(2, 4)), theta=f"{rng.uniform(0.8, 1.5):.3g}",
        c=f"{rng.uniform(0.6, 0.9):.3g}", zeros=", ".join(["0.0"] * T))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=90.0, help="solve_all budget per draw")
    args = ap.parse_args(argv)
    from benchmarks.campaign.check import check_nash

    import emgame
    from emgame.equilibria import solve_all

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="split-random-"))
    counts = {"symmetric": 0, "split": 0, "none": 0, "independent check failed": 0}
    for k in range(args.count):
        path = folder / f"draw-{k}.toml"
        path.write_text(draw(rng, k))
        e = emgame.load_economy(path)
        t = time.perf_counter()
        s = emgame.solve(e, "nash")
        row: dict = {"draw": k}
        if s.ok:
            counts["symmetric"] += 1
            row.update(found="symmetric")
        else:
            r = solve_all(e, "nash", starts=4, split=True, max_seconds=args.seconds)
            row.update(found="split" if r.split else "symmetric" if r.symmetric else "none",
                       note=r.split_note, reason=r.reason[:200], equilibria=[])
            counts[row["found"]] += 1
            for f in r.equilibria:
                chk = check_nash(f.solution.economy, f.solution.profile)
                counts["independent check failed"] += not chk.ok
                row["equilibria"].append({
                    "groups": [[g.count, list(g.posts)] for sp in f.split for g in sp.groups],
                    "active": f.active, "independent_ok": chk.ok,
                    "max_relative_gain": chk.max_relative_gain})
        row["seconds"] = round(time.perf_counter() - t, 2)
        print(json.dumps(row), flush=True)
    print(json.dumps(counts))
    return 1 if counts["independent check failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
