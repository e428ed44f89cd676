"""Counts (docs/model.md, Agents): a type of count n is n separate, identical players. So an
economy with a type of count n must have the same equilibrium prices and per-agent allocations
as the economy in which that type is split into n types of count 1 ("batched equals looped"),
and as one in which it is split into types of counts adding up to n."""

from __future__ import annotations

import numpy as np
import pytest

from emgame import Status, Utility, solve
from oracles import cd, consumer, economy, producer


def _batched():
    return economy("batched", 2,
                   [consumer("c", 4, 1.5, cd(0.4, 0.6)),
                    consumer("h", 3, 2.0, cd(0.2, 0.3, goods=0.5), kind="classic")],
                   [producer("p", 3, 2.0, 0.8, cd(0.5, 0.5), capacity=10.0)])


def _split(parts_c: list[int], parts_p: list[int]):
    cons = [consumer(f"c{k}", n, 1.5, cd(0.4, 0.6)) for k, n in enumerate(parts_c)]
    cons.append(consumer("h", 3, 2.0, cd(0.2, 0.3, goods=0.5), kind="classic"))
    prods = [producer(f"p{k}", n, 2.0, 0.8, cd(0.5, 0.5), capacity=10.0)
             for k, n in enumerate(parts_p)]
    return economy("split", 2, cons, prods)


@pytest.mark.parametrize("concept", ["nash", "competitive"])
@pytest.mark.parametrize("parts", [([1, 1, 1, 1], [1, 1, 1]), ([3, 1], [2, 1])])
def test_batched_equals_looped(parts, concept):
    """Same relative prices and the same per-agent electricity, goods and utility whether the
    4 consumers and 3 producers are one type each or split into several types."""
    a = solve(_batched(), concept)
    b = solve(_split(*parts), concept)
    assert a.status is Status.EQUILIBRIUM, a.reason
    assert b.status is Status.EQUILIBRIUM, b.reason
    np.testing.assert_allclose(b.relative_prices, a.relative_prices, rtol=1e-9)
    nc = len(parts[0])
    for k in range(nc):
        np.testing.assert_allclose(b.outcome.consumers.electricity[k],
                                   a.outcome.consumers.electricity[0], rtol=1e-9)
        assert b.outcome.consumers.utility[k] == pytest.approx(a.outcome.consumers.utility[0],
                                                               rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(b.outcome.consumers.electricity[nc],
                               a.outcome.consumers.electricity[1], rtol=1e-9)
    for k in range(len(parts[1])):
        np.testing.assert_allclose(b.profile.offers[k], a.profile.offers[0], rtol=1e-9)
        np.testing.assert_allclose(b.outcome.producers.electricity[k],
                                   a.outcome.producers.electricity[0], rtol=1e-9)


def test_huge_counts_are_exact():
    """A type of 10⁸ agents (each a negligible share) beside a type of 2: the solver still finds
    an equilibrium and the market outcome of its profile conserves bytecoins and electricity to
    rounding — counts are weights, not loops, and no share is lost to cancellation."""
    e = economy("huge", 1,
                [consumer("swarm", 10**8, 1e-8, cd(1.0)),
                 consumer("pair", 2, 0.5, Utility("crra", (1.0,), gamma=2.0))],
                [producer("p", 3, 1.0, 0.8, cd(1.0), capacity=100.0)])
    s = solve(e)
    assert s.status is Status.EQUILIBRIUM, s.reason
    out = s.outcome
    n_c, n_p = e.consumers.count, e.producers.count
    Q = out.offers_total[1]
    got = n_c @ out.consumers.electricity[:, 0] + n_p @ out.producers.electricity[:, 0]
    assert got == pytest.approx(Q, rel=1e-12)
    paid = n_c @ out.consumers.spending + n_p @ out.producers.spending
    assert paid == pytest.approx(out.bids_total[out.active].sum(), rel=1e-12)
