"""Random small economies over every feature of the model, seeded and reproducible.

Economy ``k`` of campaign seed ``seed`` is drawn from
``numpy.random.default_rng(SeedSequence(seed, spawn_key=(k,)))``: the same ``(seed, k)`` always
gives the same economy, whatever chunk of the campaign draws it, so a campaign can run in pieces.

What is drawn (the model's features, docs/model.md, The game to The crypto layer, as implemented by
``emgame.model``):

========================  ====================================================================
periods ``T``             1, 2, 3 (30 / 35 / 30 %), 6 (5 %)
types                     1–3 consumer types and 1–3 producer types, at most 5 types in all
counts                    consumers 1–8 agents; producers 2–4 (1 one time in ten: a sole
                          seller when it is the only producer type)
kind                      ``ai`` (60 %) or ``classic`` (40 %), per type
utility                   ``cobb_douglas``, ``crra`` (γ ∈ {0.5, 2, 3}), ``ces``
                          (r ∈ {-2, -1, -0.5, 0.25, 0.5}), and ``quasilinear`` for ``classic``;
                          Dirichlet weights, one period's weight set to zero one time in ten
endowments, technology    ω ~ U(0.5, 3); θ ~ U(0.8, 2); c ∈ {0.6, 0.8, 1, 1.3}
                          (30 / 30 / 25 / 15 %)
horizon                   short run (75 %: capacity slack, 1e3, or U(0.2, 2)) or long run
                          (ρ ~ U(0.02, 0.3))
settlement                simultaneous (70 %) or prepaid (30 %): stationary wallets with β = 1
                          or β ~ U(0.85, 0.99), or (one prepaid economy in five) exogenous wallets
states                    1 (65 %), 2 (25 %) or 3 (10 %), probabilities Dirichlet(2, ..)
verification              none (35 %), a share κ ∈ {0.01, 0.05} only, fixed costs only, or both;
                          fixed costs one number or one per post (goods post included, sometimes
                          free), values in {0, 0.001, 0.005, 0.02}, scaled per state
goods settlement period   1 (70 %) or drawn from 1..T
========================  ====================================================================

Every draw is checked by the rules of economy files (:meth:`Economy.validate`) and can be
written to a TOML file (:func:`write_toml`) that ``emgame solve FILE`` reads back unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from emgame.model import (
    ConsumerType,
    Economy,
    Market,
    ProducerType,
    State,
    Utility,
    economy_to_dict,
    load_economy,
)

GAMMAS = (0.5, 2.0, 3.0)
CES_R = (-2.0, -1.0, -0.5, 0.25, 0.5)
RETURNS = (0.6, 0.8, 1.0, 1.3)
FIXED = (0.0, 0.001, 0.005, 0.02)


def rng_for(seed: int, k: int) -> np.random.Generator:
    """The generator of economy ``k`` of campaign ``seed`` (independent of chunking)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))


def _round(x: float, digits: int = 4) -> float:
    # Round draws so that the TOML files are short and read back bit-for-bit.
    return float(round(float(x), digits))


def _weights(rng: np.random.Generator, n: int, T: int) -> np.ndarray:
    w = rng.dirichlet(np.ones(n))
    if T >= 2 and rng.random() < 0.1:  # one period nobody of this type values
        w[1 + rng.integers(T) if n > T else rng.integers(T)] = 0.0
        w = w / w.sum()
    w = np.round(w, 4)
    w[np.argmax(w)] += 1.0 - w.sum()  # keep the sum exact after rounding
    return np.round(w, 6)


def _utility(rng: np.random.Generator, kind: str, T: int) -> Utility:
    families = ["cobb_douglas", "crra", "ces"] + (["quasilinear"] if kind == "classic" else [])
    family = str(rng.choice(families))
    classic = kind == "classic"
    w = _weights(rng, T + (1 if classic else 0), T)
    kw: dict[str, Any] = {}
    if family == "crra":
        kw["gamma"] = float(rng.choice(GAMMAS))
    if family == "ces":
        kw["r"] = float(rng.choice(CES_R))
    if classic:
        el = tuple(float(a) for a in w[1:])
        if not any(el):  # a classic type still values some electricity
            el = tuple(1.0 / T for _ in range(T))
        return Utility(family, el, goods_weight=float(w[0]) or 0.1, **kw)  # type: ignore[arg-type]
    return Utility(family, tuple(float(a) for a in w), **kw)  # type: ignore[arg-type]


def _verification(rng: np.random.Generator, T: int, S: int) -> tuple[list[State], str]:
    """States with their verification costs, and the verification label."""
    probs = rng.dirichlet(2 * np.ones(S)) if S > 1 else np.ones(1)
    probs = np.round(probs, 4)
    probs[-1] = 1.0 - probs[:-1].sum()
    u = rng.random()
    mode = "none" if u < 0.35 else "share" if u < 0.5 else "fixed" if u < 0.75 else "fixed+share"
    per_post = bool(rng.random() < 0.5)
    base_fixed = ([float(rng.choice(FIXED[1:]))] if not per_post
                  else [float(rng.choice(FIXED)) for _ in range(T + 1)])
    if per_post and mode in ("fixed", "fixed+share") and not any(base_fixed):
        base_fixed[1 + rng.integers(T)] = 0.005
    base_share = float(rng.choice([0.01, 0.05]))
    states = []
    for s in range(S):
        scale = 1.0 if s == 0 else _round(rng.uniform(0.5, 2.0), 2)
        fixed = tuple(_round(v * scale, 6) for v in base_fixed) if "fixed" in mode else (0.0,)
        fixed = fixed * (T + 1) if len(fixed) == 1 else fixed
        share = _round(min(base_share * scale, 0.2), 6) if "share" in mode else 0.0
        states.append(State(float(probs[s]), fixed, share))
    label = mode if "fixed" not in mode else mode + (" per post" if per_post else " one number")
    return states, label


def random_economy(seed: int, k: int) -> Economy:
    """Economy ``k`` of campaign ``seed`` (see the module notes), validated."""
    rng = rng_for(seed, k)
    T = int(rng.choice([1, 2, 3, 6], p=[0.30, 0.35, 0.30, 0.05]))
    long_run = bool(rng.random() < 0.25)
    nc = int(rng.integers(1, 4))
    npr = int(rng.integers(1, min(3, 5 - nc) + 1))
    S = int(rng.choice([1, 2, 3], p=[0.65, 0.25, 0.10]))
    prepaid = bool(rng.random() < 0.3)
    exogenous = prepaid and bool(rng.random() < 0.2)
    discount = 1.0
    if prepaid and rng.random() < 0.5:
        discount = _round(rng.uniform(0.85, 0.99), 3)

    def wallet(scale: float) -> float | str | None:
        if not prepaid:
            return None
        return _round(scale * rng.uniform(0.3, 2.0)) if exogenous else "stationary"

    consumers = []
    for i in range(nc):
        kind = "classic" if rng.random() < 0.4 else "ai"
        omega = _round(rng.uniform(0.5, 3.0))
        consumers.append(ConsumerType(f"c{i}", int(rng.integers(1, 9)), omega,
                                      _utility(rng, kind, T), kind=kind,  # type: ignore[arg-type]
                                      wallet=wallet(omega)))  # type: ignore[arg-type]
    producers = []
    for j in range(npr):
        kind = "classic" if rng.random() < 0.4 else "ai"
        c = float(rng.choice(RETURNS, p=[0.3, 0.3, 0.25, 0.15]))
        count = 1 if rng.random() < 0.1 else int(rng.integers(2, 5))
        capacity = None if long_run else (1e3 if rng.random() < 0.5
                                          else _round(rng.uniform(0.2, 2.0)))
        producers.append(ProducerType(
            f"p{j}", count, _round(rng.uniform(0.8, 2.0)), c, _utility(rng, kind, T),
            kind=kind, capacity=capacity,  # type: ignore[arg-type]
            capacity_cost=_round(rng.uniform(0.02, 0.3)) if long_run else None,
            wallet=wallet(1.0)))  # type: ignore[arg-type]
    states, _ = _verification(rng, T, S)
    t0 = 1 if rng.random() < 0.7 else int(rng.integers(1, T + 1))
    market = Market(settlement="prepaid" if prepaid else "simultaneous",
                    horizon="long-run" if long_run else "short-run",
                    goods_settlement_period=t0, discount=discount)
    e = Economy.build(name=f"campaign-{seed}-{k:04d}", periods=T, consumers=consumers,
                      producers=producers, market=market, states=states)
    return e.validate()


# --------------------------------------------------------------------------------------------
# Features (for the tables) and files.
# --------------------------------------------------------------------------------------------


def features(e: Economy) -> dict[str, Any]:
    """The economy's features, one label per dimension (for counting by feature)."""
    from emgame.model import FAMILIES

    fams = sorted({FAMILIES[int(f)] for pop in (e.consumers, e.producers) for f in pop.family})
    ces_r = sorted({float(r) for pop in (e.consumers, e.producers)
                    for f, r in zip(pop.family, pop.r, strict=True) if FAMILIES[int(f)] == "ces"})
    c = e.producers.returns
    returns = "+".join(sorted({"c<1" if x < 1 else "c=1" if x == 1 else "c>1" for x in c}))
    m = e.market
    if not m.prepaid:
        settlement = "simultaneous"
    elif e.stationary_wallets:
        settlement = "prepaid-stationary" + ("" if m.discount == 1.0 else "-beta<1")
    else:
        settlement = "prepaid-exogenous"
    fixed = e.fixed_costs
    share = e.shares
    if not np.any(fixed > 0) and not np.any(share > 0):
        verification = "none"
    elif not np.any(fixed > 0):
        verification = "share"
    else:
        verification = "fixed" + ("+share" if np.any(share > 0) else "")
        verification += "(goods>0)" if np.any(fixed[:, 0] > 0) else "(goods=0)"
    kinds = "+".join(sorted({("classic" if k else "ai") for pop in (e.consumers, e.producers)
                             for k in pop.classic}))
    return {
        "T": e.periods,
        "states": e.S,
        "families": "+".join(fams),
        "ces_r": ces_r,
        "returns": returns,
        "settlement": settlement,
        "horizon": e.market.horizon,
        "verification": verification,
        "kinds": kinds,
        "types": len(e.consumers) + len(e.producers),
        "sole_seller": bool(len(e.producers) == 1 and e.producers.count[0] == 1),
    }


def to_toml(e: Economy) -> str:
    """The economy as TOML text (:func:`emgame.model.economy_to_dict`, written by tomli-w)."""
    return tomli_w.dumps(economy_to_dict(e))


def write_toml(e: Economy, path: Path | str) -> Path:
    """Write ``e`` to ``path`` and check that it reads back to the same economy."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {e.name}: drawn by benchmarks/campaign/generator.py\n" + to_toml(e))
    back = load_economy(path)
    if economy_to_dict(back) != economy_to_dict(e):
        raise AssertionError(f"{path}: does not read back to the economy written")
    return path
