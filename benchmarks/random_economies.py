"""A campaign of random small economies: how often does each concept find an equilibrium, and
why does it fail when it doesn't?

    python benchmarks/random_economies.py SEED COUNT     # e.g. 0 30

Each economy draws T in {1, 2, 3, 6}; 1–3 consumer types and 1–2 producer types, each `ai` or
`classic`, of every utility family the kind allows (CRRA γ in {0.5, 2}, CES r in {-1, 0.5});
returns c in {0.6, 0.8, 1}; short run (capacity slack or binding) or, one time in four, long
run; and, one time in three, verification costs. Both concepts are solved (Nash with a 40 s time
limit); the counts of each status are printed, then every failure with its reason. A failure
is not a defect by itself: several classes of economy have no equilibrium (MODEL.md sections 3,
5 and 6), and the reasons should say which.
"""

from __future__ import annotations

import collections
import sys
import time

import numpy as np

from emgame import ConsumerType, ProducerType, Utility, solve
from emgame.model.economy import Economy, Market
from emgame.solve import Options
from emgame.solvers.nash import NashOptions

OPTIONS = Options(nash=NashOptions(max_seconds=40))


def _utility(rng: np.random.Generator, kind: str, T: int) -> Utility:
    families = ["cobb_douglas", "crra", "ces"] + (["quasilinear"] if kind == "classic" else [])
    family = families[rng.integers(len(families))]
    w = rng.dirichlet(np.ones(T + (1 if kind == "classic" else 0)))
    kw = {}
    if family == "crra":
        kw["gamma"] = float(rng.choice([0.5, 2.0]))
    if family == "ces":
        kw["r"] = float(rng.choice([-1.0, 0.5]))
    if kind == "classic":
        return Utility(family, tuple(w[1:]), goods_weight=float(w[0]), **kw)
    return Utility(family, tuple(w), **kw)


def random_economy(rng: np.random.Generator, k: int) -> Economy:
    """One random economy (see the module notes)."""
    T = int(rng.choice([1, 2, 3, 6]))
    long_run = bool(rng.random() < 0.25)
    consumers = []
    for i in range(rng.integers(1, 4)):
        kind = str(rng.choice(["ai", "classic"]))
        consumers.append(ConsumerType(f"c{i}", int(rng.integers(1, 8)),
                                      float(rng.uniform(0.5, 3)), _utility(rng, kind, T),
                                      kind=kind))
    producers = []
    for j in range(rng.integers(1, 3)):
        kind = str(rng.choice(["ai", "classic"]))
        c = float(rng.choice([0.6, 0.8, 1.0]))
        producers.append(ProducerType(
            f"p{j}", int(rng.integers(2, 5)), float(rng.uniform(1, 2)), c,
            _utility(rng, kind, T), kind=kind,
            capacity=None if long_run else float(rng.choice([1e6, rng.uniform(0.3, 3)])),
            capacity_cost=float(rng.uniform(0.02, 0.3)) if long_run else None))
    verification = None
    if rng.random() < 0.3:
        verification = (float(rng.choice([0.0, 0.002, 0.01])), float(rng.choice([0.0, 0.01])))
    return Economy.build(name=f"random-{k}", periods=T, consumers=consumers,
                         producers=producers, verification=verification,
                         market=Market(horizon="long-run" if long_run else "short-run"))


def main(argv: list[str]) -> int:
    seed = int(argv[0]) if argv else 0
    count = int(argv[1]) if len(argv) > 1 else 30
    rng = np.random.default_rng(seed)
    stats: collections.Counter = collections.Counter()
    fails = []
    for k in range(count):
        e = random_economy(rng, k)
        for concept in ("nash", "competitive"):
            t = time.perf_counter()
            s = solve(e, concept, options=OPTIONS)
            stats[f"{concept}: {s.status.value}"] += 1
            if not s.ok:
                fails.append(f"#{k} {concept} ({time.perf_counter() - t:.1f} s, T = "
                             f"{e.periods}, {e.market.horizon}): {s.reason[:300]}")
    print(dict(stats))
    print("\n".join(fails))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
