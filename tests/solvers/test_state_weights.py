"""CES state weights of the solvers (docs/model.md, Utility): with several states the solvers
maximise the separable form ``Σ_s w_s Σ_t a_t E_st^r / r`` with ``w_s = π_s u_s^{1-r}``, whose
first-order conditions are those of ``Σ_s π_s u_s`` at the point where ``u_s`` is taken. The
weights must be exactly that, for every CES type — also an AI type (no goods term) with
``r < 0``, where ``0 · 0^r`` once made them NaN and silently left them at ``π_s``."""

from __future__ import annotations

import tomllib

import numpy as np

from emgame.market.utility import utility
from emgame.model.files import economy_from_dict
from emgame.solvers._aggregate import Aggregate, ces_utility_scale, state_weights

TWO_STATES = """
name = "ces state weights"
periods = 2

[market]
goods_settlement_period = 2

[[states]]
probability = 0.4
[states.verification]
fixed = [0.02, 0.001, 0.005]
share = 0.05

[[states]]
probability = 0.6
[states.verification]
fixed = [0.03, 0.002, 0.0]
share = 0.08

[[consumers]]
name = "ai_negative_r"
count = 3
kind = "ai"
endowment = 1.0
utility = { family = "ces", weights = [0.3, 0.7], r = -2.0 }

[[consumers]]
name = "ai_positive_r"
count = 2
kind = "ai"
endowment = 1.5
utility = { family = "ces", weights = [0.6, 0.4], r = 0.5 }

[[consumers]]
name = "classic_negative_r"
count = 4
kind = "classic"
endowment = 2.0
utility = { family = "ces", weights = [0.5, 0.2], goods_weight = 0.3, r = -1.0 }

[[producers]]
name = "p"
count = 2
kind = "ai"
productivity = 1.0
returns = 0.8
capacity = 5.0
utility = { family = "ces", weights = [0.5, 0.5], r = -0.5 }
"""


def _consumption(e, x: np.ndarray, pays_goods: bool) -> np.ndarray:
    """``E (S, T)`` by the model's verification rule: a share ``κ_s`` of each purchase and a
    fixed ``v_st`` per payment are burnt; the goods payment's fixed cost in period ``t0``."""
    kappa, v, t0 = e.shares, e.fixed_costs, e.market.goods_settlement_period
    E = (1.0 - kappa)[:, None] * x[None, 1:] - v[:, 1:] * (x[None, 1:] > 0)
    if pays_goods:
        E[:, t0 - 1] -= v[:, 0]
    return E


def _economy(text: str):
    return economy_from_dict(tomllib.loads(text), "state weights")


def test_state_weights_are_probability_times_state_utility_for_every_ces_type():
    e = _economy(TWO_STATES)
    agg = Aggregate(e, 1.0, np.ones((len(e.consumers), 3), bool),
                    np.ones((len(e.producers), 3), bool))
    x = np.array([[0.0, 0.4, 0.3],      # AI: no goods bought
                  [0.0, 0.5, 0.2],
                  [0.7, 0.3, 0.25]])
    goods = x[:, 0]
    W = state_weights(e, agg.C, x, goods, False)
    pop = e.consumers
    for i in range(len(pop)):
        E = _consumption(e, x[i], pays_goods=goods[i] > 0)
        u = np.array([utility(pop.select([i]), E[None, s:s + 1], goods[i:i + 1], np.ones(1))[0]
                      for s in range(e.S)])
        r = float(pop.r[i])
        expected = e.probabilities * u ** (1.0 - r)
        assert np.all(np.isfinite(expected)) and np.all(expected > 0)
        np.testing.assert_allclose(W[i], expected, rtol=1e-12, err_msg=pop.names[i])
    # The AI type with r < 0 is not left at the probabilities (what the NaN fallback gave).
    assert not np.allclose(W[0], e.probabilities)


def test_the_utility_scale_of_an_ai_type_with_negative_r_is_its_own():
    """One state: ``dU/dV = U^{1-r}`` multiplies a multiplier in units of ``V`` into utility
    units (prepaid); for an AI type with ``r < 0`` it was 1 (the NaN fallback)."""
    e = _economy(TWO_STATES.split("[[states]]")[0] + "[verification]\nfixed = 0.01\n"
                 "share = 0.05\n\n" + TWO_STATES[TWO_STATES.index("[[consumers]]"):])
    assert e.S == 1
    agg = Aggregate(e, 1.0, np.ones((len(e.consumers), 3), bool),
                    np.ones((len(e.producers), 3), bool))
    x = np.array([[0.0, 0.4, 0.3], [0.0, 0.5, 0.2], [0.7, 0.3, 0.25]])
    scale = ces_utility_scale(e, agg.C, x, x[:, 0], False)
    pop = e.consumers
    for i in range(len(pop)):
        E = _consumption(e, x[i], pays_goods=x[i, 0] > 0)
        u = utility(pop.select([i]), E[None], x[i:i + 1, 0], np.ones(1))[0]
        np.testing.assert_allclose(scale[i], u ** (1.0 - float(pop.r[i])), rtol=1e-12)
