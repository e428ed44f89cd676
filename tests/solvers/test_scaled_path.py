"""The scaled path (used for many consumer types) against the plain path.

Above ``NashOptions.joint_from`` consumer types the Nash solver starts from a coarse copy of the
economy, solves consumers' budgets jointly with the totals (:meth:`Aggregate.joint_newton`)
and sums their responses in parallel blocks. None of that may change the answer: the Nash
equilibrium is a property of the game (docs/model.md, Solution concepts), not of the path to it.

Oracles: (1) the same economy solved with the joint path forced on (``joint_from = 1``) and
off; (2) a type with count ``n`` is ``n`` rows of count 1 in a type-symmetric equilibrium, so
3 types × 3,000 agents given as 9,000 rows (scaled path: coarse start, joint Newton, parallel
blocks) must give the equilibrium of the same 3 types given with counts (plain path).
Same equilibrium to 1e-9 relative (issue 4).
"""

from __future__ import annotations

import numpy as np
import pytest

from emgame import Status, solve
from emgame.model.economy import Economy, Market, Population
from emgame.solve import Options
from emgame.solvers.nash import NashOptions

PLAIN = Options(nash=NashOptions(joint_from=10**9))
JOINT = Options(nash=NashOptions(joint_from=1))


def _random_economy(seed: int, n: int, T: int, family: str) -> Economy:
    rng = np.random.default_rng(seed)
    fam = {"cobb_douglas": 0, "crra": 1}[family]
    cons = Population.from_arrays(
        names=[f"c{i}" for i in range(n)], count=rng.integers(1, 6, n).astype(float),
        weights=rng.dirichlet(np.ones(T), size=n), endowment=rng.uniform(0.5, 1.5, n),
        family=np.full(n, fam, np.int8),
        gamma=np.full(n, 2.0 if family == "crra" else np.nan))
    P = 3
    prod = Population.from_arrays(
        names=[f"p{j}" for j in range(P)], count=np.ones(P),
        weights=rng.dirichlet(np.ones(T), size=P), productivity=rng.uniform(1.0, 2.0, P),
        returns=rng.uniform(0.6, 0.9, P), capacity=np.full(P, 1e6))
    return Economy(name=f"random-{seed}", periods=T, consumers=cons, producers=prod,
                   market=Market())


def _same(a, b, rtol=1e-9):
    assert a.status is Status.EQUILIBRIUM, a.reason
    assert b.status is Status.EQUILIBRIUM, b.reason
    np.testing.assert_allclose(a.relative_prices, b.relative_prices, rtol=rtol, atol=0)


@pytest.mark.parametrize("family", ["cobb_douglas", "crra"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_joint_newton_gives_the_plain_equilibrium(seed, family):
    """Consumers' budgets solved jointly with the totals or exactly at every trial: the same
    equilibrium, prices and every type's bids."""
    e = _random_economy(seed, 30, 5, family)
    joint, plain = solve(e, options=JOINT), solve(e, options=PLAIN)
    _same(joint, plain)
    np.testing.assert_allclose(joint.profile.consumer_bids, plain.profile.consumer_bids,
                               rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(joint.profile.offers, plain.profile.offers, rtol=1e-9)


def test_nine_thousand_rows_are_three_types_with_counts():
    """3 types of 3,000 agents as 9,000 rows of count 1 (coarse start, joint Newton, parallel
    blocks) and as 3 rows with counts (plain path): the same equilibrium, and every row's bids
    equal its type's."""
    base = _random_economy(7, 3, 4, "cobb_douglas")
    c = base.consumers
    counted = base.replace(consumers=Population.from_arrays(
        names=list(c.names), count=np.full(3, 3000.0), weights=c.weights, endowment=c.endowment))
    rows = np.repeat(np.arange(3), 3000)
    spread = base.replace(consumers=Population.from_arrays(
        names=[f"c{i}" for i in range(rows.size)], count=np.ones(rows.size),
        weights=c.weights[rows], endowment=c.endowment[rows]))
    assert len(spread.consumers) >= NashOptions().joint_from  # the scaled path is taken
    a, b = solve(spread), solve(counted, options=PLAIN)
    _same(a, b)
    np.testing.assert_allclose(a.profile.consumer_bids, b.profile.consumer_bids[rows],
                               rtol=1e-9, atol=1e-14)
