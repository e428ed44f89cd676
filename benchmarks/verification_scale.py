"""Nash with verification costs switched on, participation included, as types multiply.

    python benchmarks/verification_scale.py                 # n = 10, 100, 1000 consumer types
    python benchmarks/verification_scale.py --sizes 10 100 --seeds 0 1 --json out.json

The economies are ``examples/verification_costs.toml`` (the 24-hour AI solar day with a fixed
0.002 and a 1% share of electricity burnt per payment, CRRA γ = 1/2 data centres, so paying on
an hour is a real choice) with its three consumer types spread into ``n`` seeded types: type
``i`` copies base type ``i mod 3`` with its weights redrawn as Dirichlet(300·a) around the base
profile and its endowment scaled by U(0.5, 1.5); each base type's agents are shared among its
copies (count at least 1, the endowment scaled so that the base type's total stays about the
same), so the economy's size stays about the same while its types multiply.
One ``emgame.solve(economy)`` each (Nash and its certificate, which checks every agent's
dropping and adding of posts), after a warm-up solve that loads the compiled kernels.

Reported: status, seconds (the solve's phases), the certificate's max regret, and how many
(type, hour) pairs stay out of the market. "no-equilibrium-found" is an answer here, not a
crash: with participation a type-symmetric pure equilibrium need not exist (docs/model.md, Solution
concepts);
the solver then says so with the best candidate's regret.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "verification_costs.toml"


def spread_economy(n: int, seed: int = 0):  # noqa: ANN201
    """``examples/verification_costs.toml`` with its consumers spread into ``n`` types."""
    from emgame import load_economy
    from emgame.model.economy import Population

    base = load_economy(EXAMPLE)
    c = base.consumers
    K = len(c)
    rng = np.random.default_rng(np.random.SeedSequence([seed, n]))
    k = np.arange(n) % K
    copies = np.bincount(k, minlength=K)
    weights = np.vstack([rng.dirichlet(300.0 * c.weights[j]) for j in k])
    cols = {name: np.asarray(getattr(c, name))[k] for name in
            ("goods_weight", "gamma", "r", "wallet")}
    share = c.count[k] / copies[k]  # each copy's share of its base type's agents
    count = np.maximum(1.0, np.round(share))
    pop = Population.from_arrays(
        names=[f"{c.names[j]}-{i}" for i, j in enumerate(k)],
        count=count, weights=weights, family=c.family[k], classic=c.classic[k],
        endowment=c.endowment[k] * share / count * rng.uniform(0.5, 1.5, size=n), **cols)
    return base.replace(name=f"{base.name} ({n} consumer types)", consumers=pop)


def run(sizes: list[int], seeds: list[int], log=print) -> list[dict]:  # noqa: ANN001
    from emgame import solve

    solve(spread_economy(3, 12345))  # warm-up: load the compiled kernels
    rows = []
    for n in sizes:
        for seed in seeds:
            e = spread_economy(n, seed)
            t = time.perf_counter()
            s = solve(e)
            wall = time.perf_counter() - t
            row = {"types": n, "seed": seed, "status": s.status.value, "seconds": wall,
                   "phases": {k: float(v) for k, v in s.seconds.items()},
                   "max_regret": None if s.certificate is None else s.certificate.max_regret,
                   "reason": s.reason}
            if s.profile is not None:
                bids = np.asarray(s.profile.consumer_bids)[:, 1:]
                row["pairs_out"] = int(np.sum(bids <= 0.0))
                row["types_out_somewhere"] = int(np.sum(np.any(bids <= 0.0, axis=1)))
            rows.append(row)
            log(f"n={n:>5,d} seed={seed}: {row['status']:>20s} {wall:7.2f} s  "
                f"max regret {row['max_regret'] if row['max_regret'] is not None else '-'}  "
                f"(type, hour) pairs out: {row.get('pairs_out', '-')}"
                + (f"  [{s.reason[:120]}]" if not s.ok else ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", type=int, default=[10, 100, 1000])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    rows = run(args.sizes, args.seeds)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
