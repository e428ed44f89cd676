"""What a derivative costs: implicit differentiation (emgame.sensitivity) against a central
difference of two certified re-solves, on the bundled examples, in one run.

    .venv/bin/python benchmarks/sensitivity_cost.py [--paths 3]

For each example (Nash): the solve, the sensitivity with 1 and with ``--paths`` parameter paths
(one Jacobian is shared by all paths), and two warm-started re-solves per path (what a finite
difference needs), with the largest relative disagreement between the two routes
(h = --step |θ|, default 1e-5).
The number of unknowns of the equilibrium system is printed: the Jacobian takes 2n evaluations
of the market, each linear in the number of types, so the cost grows as n².
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import emgame
from emgame.analysis import paths as P
from emgame.model import economy_from_dict, economy_to_dict, load_economy

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["consumers[0].endowment", "producers.*.productivity", "producers[0].returns"]
EXAMPLES = ["increasing_returns", "classic_peak_load", "long_run_capacity", "prepaid",
            "many_consumers", "ai_solar_day", "verification_costs", "two_states"]


def _y(s: emgame.Solution) -> np.ndarray:
    o = s.outcome
    return np.concatenate([o.relative_prices, o.offers_total[1:], o.consumers.utility,
                           o.producers.utility])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--paths", type=int, default=3)
    ap.add_argument("--step", type=float, default=1e-5, help="relative step of the re-solves")
    args = ap.parse_args()
    paths = PATHS[:args.paths]
    print(f"{'example':20s} {'n':>4s} {'solve':>7s} {'IFT 1':>7s} {f'IFT {len(paths)}':>7s} "
          f"{'FD ' + str(len(paths)):>7s} {'FD/IFT':>7s} {'max rel diff':>12s}")
    for name in EXAMPLES:
        e = load_economy(ROOT / "examples" / f"{name}.toml")
        t = time.perf_counter()
        s = emgame.solve(e)
        t_solve = time.perf_counter() - t
        t = time.perf_counter()
        emgame.sensitivity(s, paths[:1])
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        r = emgame.sensitivity(s, paths)
        tk = time.perf_counter() - t
        base = economy_to_dict(e)
        t = time.perf_counter()
        worst = 0.0
        for p in r.parameters:
            targets = P.resolve(base, p.path)
            vals = [P.value_at(base, x) for x in targets]
            h = args.step * max(abs(v) for v in vals)
            ys = []
            for sg in (1, -1):
                d = P.apply(base, [(str(x), "set", v + sg * h) for x, v in
                                   zip(targets, vals, strict=True)])
                ys.append(_y(emgame.solve(economy_from_dict(d, name), start=s)))
            fd = (ys[0] - ys[1]) / (2 * h)
            idx = [r.outputs.index(o) for o in r.outputs if o.startswith(
                ("relative_price", "production", "utility"))]
            ift = p.derivative[idx]
            ok = np.abs(fd) > 1e-9
            worst = max(worst, float(np.max(np.abs(ift[ok] - fd[ok]) / np.abs(fd[ok]))))
        t_fd = time.perf_counter() - t
        print(f"{name:20s} {r.diagnostics['unknowns']:4d} {t_solve:7.2f} {t1:7.2f} {tk:7.2f} "
              f"{t_fd:7.2f} {t_fd / tk:7.2f} {worst:12.2e}")


if __name__ == "__main__":
    main()
