"""Damped best responses in strategies (emgame.solvers.dynamics), the Nash solver's way into
Newton's basin where replacement responses to the totals fail.

Facts checked: from a uniform profile the dynamics settle near the certified Nash equilibrium
(found by Newton on the totals, a different method) and Newton from where they settle
converges to it; the budget fit leaves every agent within its budget and conserves bytecoins
(every bid is some seller's revenue); under prepaid settlement the solver does not use them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import emgame
from emgame._numerics import clock
from emgame.market.game import evaluate
from emgame.solvers.dynamics import approach, fit_budgets, normalise, uniform_start
from emgame.solvers.nash import NashOptions, solve_nash

EXAMPLES = Path(emgame.__file__).parent / "examples"


def test_dynamics_settle_where_newton_reaches_the_certified_equilibrium():
    """increasing_returns (c = 1.2): the totals where the prices settle to 1e-3 are within a
    few per cent of the certified equilibrium's, and Newton from there alone finds it."""
    e = emgame.load_economy(EXAMPLES / "increasing_returns.toml")
    nash = emgame.solve(e, "nash")
    assert nash.ok
    log: list[str] = []
    totals = approach(e, clock() + 60.0, settle=1e-3, log=log)
    assert totals is not None, log
    p, Q = totals
    assert p[0] == 1.0 and Q[0] == e.goods_supply
    np.testing.assert_allclose(p[1:], nash.outcome.relative_prices, rtol=0.05)
    cand = solve_nash(e, NashOptions(max_seconds=30), starts=[("dynamics", totals)])
    assert cand.converged and cand.diagnostics["starts"][0].startswith("dynamics start: conv")
    np.testing.assert_allclose(evaluate(e, cand.profile).relative_prices,
                               nash.outcome.relative_prices, rtol=1e-8)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_fitted_budgets_hold_and_conserve_bytecoins(seed):
    """A profile with bids scaled at random, some types far over budget: after the fit (with
    passes enough to converge; it stops at ``passes``) no agent spends more than it earns (to
    1e-9), no producer buys fewer goods than its inputs, and total spending equals total
    revenue (bytecoins are conserved)."""
    e = emgame.load_economy(EXAMPLES / "classic_peak_load.toml")
    rng = np.random.default_rng(seed)
    u = uniform_start(e)
    prof = type(u)(u.consumer_bids * rng.uniform(0.2, 5.0, u.consumer_bids.shape),
                   u.producer_bids * rng.uniform(0.2, 5.0, u.producer_bids.shape),
                   u.offers * rng.uniform(0.5, 1.0, u.offers.shape), u.capacity)
    out = evaluate(e, fit_budgets(e, normalise(e, prof), passes=2000))
    for play in (out.consumers, out.producers):
        assert np.all(play.slack >= -1e-9 * np.maximum(play.revenue, 1e-300))
    assert np.all(out.producers.goods >= -1e-9 * out.producers.goods_received)
    c, pr = e.consumers, e.producers
    spent = c.count @ out.consumers.spending + pr.count @ out.producers.spending
    earned = c.count @ out.consumers.revenue + pr.count @ out.producers.revenue
    assert abs(spent - earned) <= 1e-9 * earned


def test_prepaid_economies_do_not_use_the_dynamics():
    """Under prepaid settlement a best response depends on the wallet multiplier, which a
    profile away from equilibrium does not define: the solver never runs them there."""
    e = emgame.load_economy(EXAMPLES / "prepaid.toml")
    assert e.market.prepaid
    cand = solve_nash(e, NashOptions(max_seconds=30, dynamics=True), starts=[
        ("far off", (np.array([1.0] + [1e3] * e.periods), np.array(
            [e.goods_supply] + [1e-3] * e.periods)))])
    assert not any("dynamics" in t for t in cand.diagnostics.get("starts", []))
