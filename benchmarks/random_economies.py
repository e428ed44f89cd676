"""A campaign of random small economies (kept for its old command line).

    python benchmarks/random_economies.py SEED COUNT     # e.g. 0 30

Runs ``python -m benchmarks.campaign run --seed SEED --count COUNT --out out/random-SEED
--report``: every economy is solved by emgame and by the independent solver, each answer
checked independently, and the cases are classified and tabulated. See ``benchmarks/README.md``
("The random-economy campaign") and :mod:`benchmarks.campaign.run`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.campaign.run import main  # noqa: E402

if __name__ == "__main__":
    seed = sys.argv[1] if len(sys.argv) > 1 else "0"
    count = sys.argv[2] if len(sys.argv) > 2 else "30"
    sys.exit(main(["run", "--seed", seed, "--count", count, "--out", f"out/random-{seed}",
                   "--report"]))
