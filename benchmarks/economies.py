"""Seeded economy generators for the benchmarks (emgame economies, built column-wise).

* :func:`scale_economy` — the T = 24 scale family: ``n`` consumer types (count 1 each: every
  consumer a separate player) with Dirichlet(1, ..., 1) weights over the 24 hours and endowments
  ``ω ~ U(0.5, 1.5)``; 50 producer types (count 1) with ``θ ~ U(0.5, 2)``, ``c ~ U(0.6, 0.95)``,
  Dirichlet weights, slack capacity; every type ``ai`` and Cobb–Douglas; simultaneous
  settlement, no verification costs. Built straight into :class:`Population` columns (no
  per-type Python objects), so 10⁶ types cost a few arrays.
* :func:`huge_counts_economy` — 10 consumer types of 10⁸ agents each and 5 producer types of 10⁶
  each (same distributions, T = 24).
* :func:`baseline_economy` — exactly the economy of ``benchmarks/baselines/economy.py``
  (``make_economy(N, seed)``) as an emgame economy: each consumer its own type with count 1.
* :func:`write_consumer_table` — a scale economy's consumers as a Parquet (or CSV) table plus the
  TOML file that references it, for the table-input path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emgame.model.economy import Economy, Market, Population

T_SCALE = 24
N_PRODUCERS = 50
CAPACITY_SLACK = 20.0
"""Capacity is this many times the output a producer would have if all producers shared the
goods equally over the periods: never binding."""


def _consumers(rng: np.random.Generator, n: int, T: int, count: float = 1.0,
               prefix: str = "c") -> Population:
    a = rng.dirichlet(np.ones(T), size=n)
    omega = rng.uniform(0.5, 1.5, size=n)
    return Population.from_arrays(names=[f"{prefix}{i}" for i in range(n)],
                                  count=np.full(n, float(count)), weights=a, endowment=omega)


def _producers(rng: np.random.Generator, n: int, T: int, Omega: float, count: float = 1.0,
               prefix: str = "p") -> Population:
    theta = rng.uniform(0.5, 2.0, size=n)
    c = rng.uniform(0.6, 0.95, size=n)
    a = rng.dirichlet(np.ones(T), size=n)
    phi_share = Omega / (count * n * T)          # goods per producer and period, equal split
    K = CAPACITY_SLACK * theta * phi_share ** c
    return Population.from_arrays(names=[f"{prefix}{j}" for j in range(n)],
                                  count=np.full(n, float(count)), weights=a, productivity=theta,
                                  returns=c, capacity=K, capacity_cost=np.full(n, np.nan))


def scale_economy(n: int, seed: int = 0, *, T: int = T_SCALE,
                  producers: int = N_PRODUCERS) -> Economy:
    """The T = 24 scale family with ``n`` consumer types (see the module notes)."""
    rc, rp = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, n]).spawn(2))
    cons = _consumers(rc, n, T)
    Omega = float(np.dot(cons.count, cons.endowment))
    prod = _producers(rp, producers, T, Omega)
    return Economy(name=f"scale-{n}", periods=T, consumers=cons, producers=prod,
                   market=Market())


def huge_counts_economy(seed: int = 0, *, T: int = T_SCALE, consumer_types: int = 10,
                        consumer_count: float = 1e8, producer_types: int = 5,
                        producer_count: float = 1e6) -> Economy:
    """10 consumer types × 10⁸ agents, 5 producer types × 10⁶ agents (T = 24)."""
    rc, rp = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, 7]).spawn(2))
    cons = _consumers(rc, consumer_types, T, consumer_count, prefix="households-")
    Omega = float(np.dot(cons.count, cons.endowment))
    prod = _producers(rp, producer_types, T, Omega, producer_count, prefix="solar-")
    return Economy(name="huge-counts", periods=T, consumers=cons, producers=prod,
                   market=Market())


def from_baseline(b) -> Economy:  # noqa: ANN001
    """A ``benchmarks.baselines.economy.Economy`` (its arrays, not a re-draw) as an emgame
    economy: every consumer its own type with count 1, likewise the producers."""
    cons = Population.from_arrays(names=[f"c{h}" for h in range(b.N)], count=np.ones(b.N),
                                  weights=np.array(b.a), endowment=np.array(b.omega))
    prod = Population.from_arrays(
        names=[f"p{j}" for j in range(b.P)], count=np.ones(b.P), weights=np.array(b.ap),
        productivity=np.full(b.P, b.theta), returns=np.full(b.P, b.c),
        capacity=np.full(b.P, b.K))
    return Economy(name=f"baseline-{b.N}", periods=b.T, consumers=cons, producers=prod,
                   market=Market())


def baseline_economy(N: int, seed: int = 0) -> Economy:
    """``benchmarks.baselines.economy.make_economy(N, seed)`` as an emgame economy."""
    from benchmarks.baselines.economy import make_economy

    return from_baseline(make_economy(N, seed))


def write_consumer_table(economy: Economy, directory: str | Path, *, fmt: str = "parquet",
                         weights: str = "columns") -> Path:
    """Write ``economy``'s consumers as a table (one row per type: ``name``, ``count``,
    ``kind``, ``endowment``, ``family`` and the weights, as columns ``w1..wT`` or one list
    column ``weights``) and the rest of the economy as a TOML file that references it
    (``consumers_table = "<table>"``); return the TOML's path."""
    from emgame.model.schema import economy_to_dict
    from emgame.model.tables import dump_toml, write_table

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{economy.name}-{weights}"
    table = directory / f"{stem}-consumers.{fmt}"
    write_table(economy.consumers, table, weights=weights)
    d = economy_to_dict(economy.replace(consumers=Population.empty(economy.periods)))
    d.pop("consumers", None)
    d = {"consumers_table": table.name, **d}
    path = directory / f"{stem}-{fmt}.toml"
    path.write_text(dump_toml(d))
    return path
