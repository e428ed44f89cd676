"""Crypto-in-advance settlement (docs/model.md, The crypto layer): with stationary wallets and β =
1 the
first-order conditions are those of simultaneous settlement, so the two settlements must give
the same equilibrium (relative prices and allocations); with β < 1 the equilibrium satisfies
the discounted first-order conditions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from emgame import Market, Status, solve
from oracles import CATALOGUE


@pytest.mark.parametrize("name", ["ai-cd", "classic-cd", "ai-crra", "ai-ces"])
@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_stationary_prepaid_with_beta_one_equals_simultaneous(name, concept):
    """Same relative prices and per-agent electricity under both settlements (β = 1)."""
    e = CATALOGUE[name]
    m = Market(settlement="prepaid", horizon=e.market.horizon,
               goods_settlement_period=e.market.goods_settlement_period, discount=1.0)
    ep = replace(e, market=m)
    a, b = solve(e, concept), solve(ep, concept)
    assert a.status is Status.EQUILIBRIUM, a.reason
    assert b.status is Status.EQUILIBRIUM, b.reason
    np.testing.assert_allclose(b.relative_prices, a.relative_prices, rtol=1e-9)
    np.testing.assert_allclose(b.outcome.consumers.electricity,
                               a.outcome.consumers.electricity, rtol=1e-9)
    np.testing.assert_allclose(b.outcome.producers.electricity,
                               a.outcome.producers.electricity, rtol=1e-9)


@pytest.mark.parametrize("name", ["ai-cd", "classic-cd", "ai-ces", "ai-long-run"])
def test_crypto_in_advance_with_discount_satisfies_its_first_order_conditions(name):
    """β = 0.9 (revenue earned now buys less than bytecoins spent now): the reported Nash
    equilibrium satisfies the first-order conditions of u + βλR within the wallet — the
    paper's (10)–(17) with the discount on own-revenue terms (emgame.analysis.foc) — with the
    wallet multiplier λ recovered from the conditions themselves."""
    from emgame.analysis.foc import foc_of

    e = CATALOGUE[name]
    m = Market(settlement="prepaid", horizon=e.market.horizon,
               goods_settlement_period=e.market.goods_settlement_period, discount=0.9)
    s = solve(replace(e, market=m))
    assert s.status is Status.EQUILIBRIUM, s.reason
    f = foc_of(s)
    assert f.max <= 1e-8, f.by_equation()
