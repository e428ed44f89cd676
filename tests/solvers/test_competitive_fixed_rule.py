"""The competitive "no profit, cannot pay the fixed verification" rule (docs/model.md,
"Solution concepts"): with constant returns a producer earns nothing; it has no competitive
equilibrium only when a payment it must make — its goods bid for inputs — carries a fixed
verification cost. Where the goods post is free and the fixed costs are on electricity posts,
it buys no electricity (an ``ai`` producer's utility is then -inf) and the benchmark exists.
"""

from __future__ import annotations

import numpy as np

import emgame
from emgame import ConsumerType, Economy, ProducerType, Utility


def economy(fixed: list[float]) -> Economy:
    return Economy.build(
        name="constant returns, fixed costs", periods=2,
        consumers=[ConsumerType("c", 4, 1.0, Utility("cobb_douglas", (0.5, 0.5)))],
        producers=[ProducerType("p", 2, 1.0, 1.0, Utility("cobb_douglas", (0.5, 0.5)),
                                capacity=1000.0)],
        verification=(fixed, 0.0))


def test_free_goods_post_leaves_the_benchmark() -> None:
    """Goods post free: the benchmark exists; with c = 1 and θ = 1 every price is 1 (price =
    marginal cost), consumers spend half their income on each period, so each buys
    ``1/2 − v`` net of the fixed cost, and the producers consume nothing."""
    v = 0.01
    s = emgame.solve(economy([0.0, v, v]), "competitive")
    assert s.ok, s.reason
    np.testing.assert_allclose(s.relative_prices, [1.0, 1.0], rtol=1e-8)
    np.testing.assert_allclose(s.outcome.consumers.consumption[0, 0], [0.5 - v, 0.5 - v],
                               rtol=1e-8)


def test_fee_on_the_goods_post_rules_it_out() -> None:
    """A fixed cost on the goods post (inputs must be bought there): no benchmark, and the
    reason says why."""
    s = emgame.solve(economy([0.01, 0.0, 0.0]), "competitive")
    assert not s.ok
    assert "cannot pay" in s.reason and "'p'" in s.reason
