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
