"""The certificate on learned play: how far from an equilibrium is what the learners learned?

Market environment: emgame's certificate (an upper bound on every type's gain from a
unilateral deviation over its *whole* strategy, capacity up to its real ``K̄`` included) at the
learned profile, in the economy where each learner is its own type. Two profiles are certified:
the final greedy one (the first joint action of the learned cycle, or the most played joint
action of a no-regret run) and the time-averaged one (bids and offers averaged over the learned
play with its weights; a profile, not a mixed strategy).

Calvano environment: each firm's gain from its continuous best response to the rivals' prices
(a bounded one-dimensional maximisation of the logit profit), at the final and at the
time-averaged prices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emgame.learning.table import StageGame


def _profile(game: StageGame, weights_by_joint: dict[int, float]):  # noqa: ANN202
    """The weighted average profile of the given rounds, and their averaged multipliers."""
    from emgame.learning._emgame import Profile

    arr = game.profiles
    assert arr is not None
    out = {}
    for key in ("consumer_bids", "producer_bids", "offers", "capacity", "lam_consumers",
                "lam_producers", "nu_producers"):
        out[key] = sum(w * arr[key][j] for j, w in weights_by_joint.items())
    return (Profile(out["consumer_bids"], out["producer_bids"], out["offers"], out["capacity"]),
            (out["lam_consumers"], out["lam_producers"], out["nu_producers"]))


def _market(game: StageGame, profile_and_multipliers) -> dict[str, Any]:  # noqa: ANN001
    from emgame.learning._emgame import certify

    profile, multipliers = profile_and_multipliers
    c = certify(game.economy, profile, multipliers=multipliers)
    names = game.economy.producers.names
    learners = [names.index(n) for n in game.learners]
    pr = np.asarray(c.producer_regret, dtype=float)
    return {
        "max_regret": _f(c.max_regret),
        "max_relative_regret": _f(c.max_relative_regret),
        "passed": bool(c.passed),
        # The bound could not decide (neither passed nor a gain exhibited): not certified.
        "inconclusive": bool(c.inconclusive) and not bool(c.passed),
        "learner_regret": [_f(pr[k]) for k in learners],
        "consumer_regret": [_f(x) for x in np.asarray(c.consumer_regret, dtype=float)],
        "producer_regret": [_f(x) for x in pr],
    }


def _f(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _calvano(game: StageGame, prices: np.ndarray) -> dict[str, Any]:
    from emgame.learning.calvano import Calvano

    p = game.diagnostics["parameters"]
    env = Calvano(**p)
    now = env.profits(prices)
    regret = np.array([env.best_response(i, prices)[1] - now[i] for i in range(env.n)])
    regret = np.maximum(regret, 0.0)
    return {"max_regret": float(regret.max()), "learner_regret": regret.tolist(),
            "max_relative_regret": float((regret / np.maximum(np.abs(now), 1e-300)).max()),
            "passed": bool(regret.max() <= 1e-8 * max(1.0, float(np.abs(now).max())))}


def learned_certificate(game: StageGame, final: int, learned: np.ndarray,
                        weights: np.ndarray) -> dict[str, Any]:
    """``{"final": ..., "average": ...}``: regrets at the final and time-averaged play."""
    if game.environment == "calvano":
        avg = weights @ game.prices[learned]
        return {"final": _calvano(game, game.prices[final]), "average": _calvano(game, avg)}
    if game.profiles is None or game.economy is None:
        return {}
    final_c = _market(game, _profile(game, {final: 1.0}))
    avg_c = final_c if len(learned) == 1 else _market(
        game, _profile(game, {int(j): float(w) for j, w in zip(learned, weights, strict=True)}))
    return {"final": final_c, "average": avg_c}
