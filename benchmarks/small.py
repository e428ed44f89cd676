"""Small economies, solved many times: the core's speed target and the bundled examples.

    python benchmarks/small.py                  # 20 repeats each, medians
    python benchmarks/small.py --repeats 50 --json out.json

* ``T = 24, 10 consumer types, 3 producer types``: ``benchmarks/economies.py: scale_economy``
  with 10 consumer types and 3 producer types (seeds 0..4), Nash with its certificate.
* Every file in ``examples/`` (not the studies): Nash and competitive, each with its certificate.

Each economy is solved once to load the compiled kernels, then ``--repeats`` times; the median
and the fastest wall time of ``emgame.solve`` are reported, with the status (a solve that finds
no equilibrium is timed once, its first run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _time(economy, concept: str, repeats: int) -> dict:  # noqa: ANN001
    from emgame import solve

    t = time.perf_counter()
    s = solve(economy, concept)
    walls = [time.perf_counter() - t] if not s.ok else []  # a failure: timed once, cold
    for _ in range(repeats if s.ok else 0):
        t = time.perf_counter()
        s = solve(economy, concept)
        walls.append(time.perf_counter() - t)
    return {"economy": economy.name, "concept": concept, "status": s.status.value,
            "median_seconds": statistics.median(walls), "min_seconds": min(walls),
            "max_regret": None if s.certificate is None else s.certificate.max_regret}


def run(repeats: int, log=print) -> list[dict]:  # noqa: ANN001
    from benchmarks.economies import scale_economy

    from emgame import load_economy

    rows = []
    for seed in range(5):
        e = scale_economy(10, seed, producers=3)
        rows.append(_time(e.replace(name=f"T=24, 10 consumer + 3 producer types, seed {seed}"),
                          "nash", repeats))
        log(_line(rows[-1]))
    for path in sorted((ROOT / "examples").glob("*.toml")):
        e = load_economy(path)
        for concept in ("nash", "competitive"):
            row = _time(e, concept, repeats)
            row["file"] = path.name
            rows.append(row)
            log(_line(row))
    return rows


def _line(r: dict) -> str:
    reg = "-" if r["max_regret"] is None else f"{r['max_regret']:.1e}"
    return (f"{r.get('file', r['economy'])[:58]:58s} {r['concept']:>11s} {r['status']:>20s} "
            f"median {r['median_seconds'] * 1e3:8.1f} ms  min {r['min_seconds'] * 1e3:8.1f} ms"
            f"  max regret {reg}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    rows = run(args.repeats)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
