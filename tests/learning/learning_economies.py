"""Economies shared by the learning tests (imported by conftest.py and the tests).

The Cournot-style economy (one period): two identical ``classic`` producers that value only
goods (constant returns, θ = 2, slack capacity) sell to ``classic`` CRRA (γ = 1/2) consumers,
whose demand is elastic, so a cartel's withholding has an interior optimum (with unit-elastic
Cobb–Douglas demand the cartel would shrink output to nothing).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

# Tabulating a random stage game solves many rounds: few examples, no shrinking.
slow_tables = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                       phases=[Phase.explicit, Phase.reuse, Phase.generate])


def random_market(draw: Any, T: int, learner: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A random economy of ``T`` periods for hypothesis tests of learning consumers: the
    ``learner`` consumer type beside Cobb–Douglas households and decreasing-returns solar
    farms; ``top`` gives the file's other keys (name, verification, learning, ...)."""
    def w() -> list[float]:
        return [draw(st.floats(0.1, 1.0)) for _ in range(T)]

    return {
        **top, "periods": T,
        "consumers": [
            {"name": "homes", "count": draw(st.integers(5, 20)), "kind": "ai",
             "endowment": draw(st.floats(0.5, 2.0)),
             "utility": {"family": "cobb_douglas", "weights": w()}},
            learner],
        "producers": [{"name": "farms", "count": draw(st.integers(3, 6)), "kind": "ai",
                       "productivity": draw(st.floats(1.0, 3.0)),
                       "returns": draw(st.floats(0.7, 0.9)), "capacity": 50.0,
                       "utility": {"family": "cobb_douglas", "weights": w()}}],
    }

COURNOT = {
    "name": "two learning firms",
    "periods": 1,
    "learning": {"learners": ["firms"], "actions": 5, "seed": 7},
    "consumers": [{"name": "buyers", "count": 50, "kind": "classic", "endowment": 1.0,
                   "utility": {"family": "crra", "gamma": 0.5, "weights": [1.0],
                               "goods_weight": 1.0}}],
    "producers": [{"name": "firms", "count": 2, "kind": "classic", "productivity": 2.0,
                   "returns": 1.0, "capacity": 1000.0,
                   "utility": {"family": "cobb_douglas", "weights": [0.0],
                               "goods_weight": 1.0}}],
}

# Learning consumers (docs/learning.md, "Learning consumers"): a crypto miner with flexible,
# CRRA (γ = 1/2) demand, which values the day four times as much as the night, chooses the
# posts it pays on; every payment burns a fixed amount of electricity (`verification.fixed`).
# At a high fixed cost its certified Nash best response skips the night post, at a low one it
# pays on both: the learned participation must follow.
MINER = {
    "name": "a miner learns where to pay",
    "periods": 2,
    "period_labels": ["night", "day"],
    "verification": {"fixed": 0.06, "share": 0.0},
    "learning": {"learners": ["miner"], "algorithm": "hedge", "rounds": 100000, "eta": 0.05,
                 "gamma": 0.05, "seed": 3},
    "consumers": [
        {"name": "homes", "count": 20, "kind": "ai", "endowment": 1.0,
         "utility": {"family": "crra", "gamma": 0.5, "weights": [0.5, 0.5]}},
        {"name": "miner", "count": 1, "kind": "ai", "endowment": 1.0,
         "utility": {"family": "crra", "gamma": 0.5, "weights": [0.2, 0.8]}}],
    "producers": [{"name": "farms", "count": 4, "kind": "ai", "productivity": 2.0,
                   "returns": 0.8, "capacity": 20.0,
                   "utility": {"family": "cobb_douglas", "weights": [0.5, 0.5]}}],
}
