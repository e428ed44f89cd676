"""Replication (docs/model.md, Solution concepts): with every type's count multiplied by n, each
agent's share
of every post falls like 1/n, so the game's market power — and the gap between Nash and
competitive relative prices — vanishes like 1/n.

Expected slope and its tolerance. The gap is a smooth function of 1/n: g(n) = A/n + B/n² + …
(Cournot with N = nP₀ sellers: g = 1/(N−1) = (1/P₀)/n + (1/P₀²)/n² + …; with ai buyers the
markup is squared, g = (2N−1)/(N−1)² = (2/P₀)/n + (3/P₀²)/n² + …, so |B/A| <= 1.5/P₀). The
local log–log slope is −1 − (B/A)/n + O(n⁻²), and the least-squares slope over n = 1..32 is
off −1 by about |B/A|·mean(1/n) ≈ 0.3·|B/A|. With P₀ = 7 producers in the base economy
|B/A| ≲ 0.2, so the slope must be within 0.1 of −1; and n·g(n) must converge (its successive
changes from n to 2n, B/(2n) + O(n⁻²), shrink towards halving; at the smallest n the O(n⁻²)
terms can nearly cancel the 1/n one, so this is asserted from n = 2 on).
"""

from __future__ import annotations

import numpy as np
import pytest

from emgame import Status, solve
from oracles import cd, consumer, economy, producer, replicate

NS = (1, 2, 4, 8, 16, 32)


def _base():
    return economy("replication base", 2,
                   [consumer("data-centres", 3, 2.0, cd(0.4, 0.6)),
                    consumer("edge", 4, 1.0, cd(0.7, 0.3))],
                   [producer("parks", 3, 2.0, 0.8, cd(0.5, 0.5), capacity=1e3),
                    producer("roofs", 4, 1.5, 0.8, cd(0.5, 0.5), capacity=1e3)])


@pytest.mark.slow
def test_nash_prices_approach_competitive_ones_like_one_over_n():
    """Gap max_t |r_N − r_C|/r_C (r = p^t/p^0) falls with log–log slope −1 ± 0.1 (module notes);
    the benchmark itself is invariant to replication (per-agent demand and supply do not depend
    on counts at given prices)."""
    base = _base()
    gaps, comp0 = [], None
    for n in NS:
        e = replicate(base, n)
        nash, comp = solve(e, "nash"), solve(e, "competitive")
        assert nash.status is Status.EQUILIBRIUM, (n, nash.reason)
        assert comp.status is Status.EQUILIBRIUM, (n, comp.reason)
        rc = comp.relative_prices
        if comp0 is None:
            comp0 = rc
        np.testing.assert_allclose(rc, comp0, rtol=1e-10)
        gaps.append(float(np.max(np.abs(nash.relative_prices - rc) / rc)))
    gaps = np.array(gaps)
    assert np.all(np.diff(gaps) < 0), gaps
    slope = np.polyfit(np.log(NS), np.log(gaps), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.1), (slope, gaps)
    ng = np.array(NS) * gaps
    steps = np.abs(np.diff(ng))[1:]          # n = 2→4, 4→8, 8→16, 16→32
    ratios = steps[1:] / steps[:-1]
    assert np.all(ratios < 1.0), ng
    assert 0.35 < ratios[-1] < 0.75, ng       # → 1/2 as n grows
