"""Economies shared by the learning tests (imported by conftest.py and the tests).

The Cournot-style economy (one period): two identical ``classic`` producers that value only
goods (constant returns, θ = 2, slack capacity) sell to ``classic`` CRRA (γ = 1/2) consumers,
whose demand is elastic, so a cartel's withholding has an interior optimum (with unit-elastic
Cobb–Douglas demand the cartel would shrink output to nothing).
"""

from __future__ import annotations

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
