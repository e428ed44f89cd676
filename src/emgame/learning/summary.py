"""Aggregates of a run's sessions: what the CLI prints and the report shows."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _finite(xs: Sequence[Any]) -> np.ndarray:
    a = np.array([np.nan if x is None else float(x) for x in xs], dtype=float)
    return a[np.isfinite(a)]


def _stat(xs: Sequence[Any]) -> dict[str, float | None]:
    a = _finite(xs)
    if a.size == 0:
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0}
    return {"mean": float(a.mean()), "sd": float(a.std(ddof=1)) if a.size > 1 else 0.0,
            "min": float(a.min()), "max": float(a.max()), "n": int(a.size)}


def summarise(run: Mapping[str, Any], sessions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Across sessions: convergence, Δ, prices beside the benchmarks, verification, participation,
    regrets (grid, external, certificate on learned play) and the mean impulse response."""
    game = run["game"]
    bench = game["benchmarks"]
    n = len(sessions)
    conv = [bool(s["converged"]) for s in sessions]
    out: dict[str, Any] = {
        "run_id": run["run_id"], "name": run["name"], "environment": run["environment"],
        "algorithm": run["algorithm"], "learners": game["learners"], "sessions": n,
        "converged_share": (sum(conv) / n) if n else None,
        "rounds": _stat([s["rounds"] for s in sessions]),
        "seconds": _stat([s["seconds"] for s in sessions]),
        "delta": _stat([s["mean_delta"] for s in sessions]),
        "delta_per_learner": [_stat([(s["delta"] or [None] * 99)[i] for s in sessions])
                              for i in range(len(game["learners"]))],
        "price_index": _stat([s["price_index"] for s in sessions]),
        "benchmark_price_index": {k: v["price_index"] for k, v in bench.items()},
        "benchmark_status": {k: (v["status"], v["reason"]) for k, v in bench.items()},
        "burnt": _stat([s["burnt"] for s in sessions]),
        "burnt_all": _stat([s.get("burnt_all") for s in sessions]),
        "grid_regret": _stat([max(s["grid_regret"] or [0.0]) for s in sessions]),
        "external_regret": _stat([max((x for x in (s["external_regret"] or []) if x is not None),
                                      default=None) for s in sessions]),
        "regret_final": _stat([s["regret_final"] for s in sessions]),
        "regret_average": _stat([s["regret_average"] for s in sessions]),
    }
    # The learned action (cap, share) beside the benchmarks' where the game defines them.
    out["action_label"] = game.get("action_label")
    out["learned_action"] = _stat([float(np.mean(s_["actions"])) for s_ in sessions
                                   if s_.get("actions")])
    diag = game.get("diagnostics") or {}
    if diag.get("share_post"):
        out["benchmark_share"] = {k: next((x for x in diag.get(f"{k}_share") or []
                                           if x is not None), None)
                                  for k in ("nash", "competitive", "collusive")}
    nash_pay = bench.get("nash", {}).get("payoffs")
    gains = []
    for s_ in sessions:
        pay = s_["payoff"] or []
        if nash_pay and len(pay) == len(nash_pay) and all(x is not None for x in pay):
            gains.append(float(np.mean([(a - b) / max(abs(b), 1e-300)
                                        for a, b in zip(pay, nash_pay, strict=True)])))
    out["payoff_vs_nash"] = _stat(gains)
    pn = bench.get("nash", {}).get("price_index")
    pc = bench.get("competitive", {}).get("price_index")
    mean_p = out["price_index"]["mean"]
    if mean_p is not None and pn is not None and pc is not None and math.isfinite(pn) \
            and math.isfinite(pc) and abs(pn - pc) > 1e-12:
        out["price_position"] = (mean_p - pc) / (pn - pc)   # 0: competitive, 1: Nash
    else:
        out["price_position"] = None
    patterns: dict[str, float] = {}
    for s in sessions:
        for k, v in (s["patterns"] or {}).items():
            patterns[k] = patterns.get(k, 0.0) + v / max(n, 1)
    out["patterns"] = dict(sorted(patterns.items(), key=lambda kv: -kv[1]))
    every: dict[str, float] = {}
    for s in sessions:
        for k, v in (s.get("patterns_all") or {}).items():
            every[k] = every.get(k, 0.0) + v / max(n, 1)
    out["patterns_all"] = dict(sorted(every.items(), key=lambda kv: -kv[1]))
    imp = [s["impulse"] for s in sessions if s.get("impulse")]
    if imp:
        L = min(len(i["price_index"]) for i in imp)
        traces = np.array([[i["pre_price_index"]] + i["price_index"][:L] for i in imp])
        dev = np.array([[i["pre_actions"][i["deviator"]]]
                        + [a[i["deviator"]] for a in i["actions"][:L]] for i in imp])
        riv = np.array([[np.mean([x for k, x in enumerate(i["pre_actions"]) if k != i["deviator"]]
                                 or [np.nan])]
                        + [np.mean([x for k, x in enumerate(a) if k != i["deviator"]] or [np.nan])
                           for a in i["actions"][:L]] for i in imp])
        out["impulse"] = {"price_index": traces.mean(axis=0).tolist(),
                          "deviator": dev.mean(axis=0).tolist(),
                          "rivals": riv.mean(axis=0).tolist(),
                          "punished_share": float(np.mean([i["punished"] for i in imp])),
                          "deviation_share": float(np.mean([i["deviation_is_change"]
                                                            for i in imp])),
                          "sessions": len(imp)}
    else:
        out["impulse"] = None
    return out
