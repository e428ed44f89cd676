"""The calibrated day's prices by hour, with and without its batteries, Nash beside competitive.

    python benchmarks/calibrated_day_figure.py [-o docs/figures/calibrated_day.png]

Solves the bundled ``calibrated_day.toml`` (docs/calibration.md) under both concepts, then the
same day with its ``[[storage]]`` removed, checks that all four are certified equilibria, draws
the prices in USD/MWh (``emgame.report.figures.prices_figure``, as ``emgame plot --baseline``
does) and prints the numbers the README quotes: mean prices over the hours the batteries charge
and discharge, their ratio, and the same hours' prices without the batteries.

The same figure from the command line (the day without batteries written first):

    python -c "import emgame.calibration as c; c.write_day('no_storage.toml', storage=())"
    emgame plot src/emgame/examples/calibrated_day.toml --baseline no_storage.toml \\
        --label 'with storage' --baseline-label 'without storage' -o calibrated_day.png
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

import emgame
from emgame.model.economy import Population
from emgame.report import figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", type=Path, default=Path("docs/figures/calibrated_day.png"))
    args = ap.parse_args(argv)
    day = emgame.load_economy(files("emgame") / "examples" / "calibrated_day.toml")
    bare = day.replace(storage=Population.empty(day.periods))
    sols: dict[str, dict[str, emgame.Solution]] = {}
    for tag, econ in (("with storage", day), ("without storage", bare)):
        sols[tag] = {}
        for concept in ("nash", "competitive"):
            t = time.perf_counter()
            s = emgame.solve(econ, concept)
            sec = time.perf_counter() - t
            cert = s.certificate
            print(f"{tag:16s} {concept:12s} {s.status.value:12s} {sec:6.2f} s  max relative "
                  f"regret {cert.max_relative_regret if cert else float('nan'):.2e}")
            if not s.ok:
                print(f"  not an equilibrium: {s.reason}", file=sys.stderr)
                return 1
            sols[tag][concept] = s
    for concept in ("nash", "competitive"):
        s = sols["with storage"][concept]
        d = s.to_dict()
        (row,) = d["storage"]
        net = np.asarray(row["offers"]) - np.asarray(row["electricity"])
        r = np.asarray(s.relative_prices)
        r0 = np.asarray(sols["without storage"][concept].relative_prices)
        charge, discharge = net < -1e-6, net > 1e-6
        print(f"{concept}: battery charges in {int(charge.sum())} h at {r[charge].mean():.3f} "
              f"USD/MWh (without storage {r0[charge].mean():.3f}), discharges in "
              f"{int(discharge.sum())} h at {r[discharge].mean():.3f} (without "
              f"{r0[discharge].mean():.3f}); ratio {r[discharge].mean() / r[charge].mean():.4f}"
              f"; price range {r.min():.2f}-{r.max():.2f} (without {r0.min():.2f}-"
              f"{r0.max():.2f})")
    fig = figures.prices_figure(
        {c: s.to_dict() for c, s in sols["with storage"].items()},
        baseline={c: s.to_dict() for c, s in sols["without storage"].items()},
        label="with storage", baseline_label="without storage")
    # (the economy's own name is too long for a title over one panel)
    fig.axes[0].set_title("Calibrated day, Phoenix, 21 June 2024: prices by hour", fontsize=11)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figures.save(fig, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
