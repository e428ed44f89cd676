"""The comparison of the game with its competitive benchmark (emgame.analysis.compare,
docs/model.md, "Welfare").

Oracles: markups, Lerner indices and capacity withheld recomputed from the profile by their
definitions; the consumption-equivalent factor checked by evaluating the market's utility at the
scaled competitive bundle; the equivalent variation checked against the Cobb–Douglas indirect
utility in closed form; and the Cournot economy with ai buyers, where everything is known:
p_N/p_C = (P/(P−1))², so a buyer's consumption-equivalent is ((P−1)/P)².
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from emgame import Solution, Status, solve
from emgame.analysis.compare import Comparison, compare
from emgame.market.utility import utility
from emgame.report.compare import both_to_dict, comparison
from oracles import CATALOGUE, cd, consumer, economy, producer, solved

NAMES = [n for n in CATALOGUE if n != "classic-quasilinear-c1"]  # its benchmark: see solvers


def _pair(name):
    return solved(name, "nash"), solved(name, "competitive")


@pytest.mark.parametrize("name", NAMES)
def test_prices_markups_lerner_and_withheld_capacity_by_definition(name):
    """Relative prices side by side with gap and ratio; markups (p^t/p^0)/MC with
    MC = φ'(q) = (1/(cθ))(q/θ)^{(1−c)/c}; Lerner = (p/p^0 − MC)/(p/p^0); withheld K − q —
    each recomputed here from the profile."""
    nash, comp = _pair(name)
    assert nash.ok and comp.ok, (nash.reason, comp.reason)
    cmp = compare(nash, comp)
    assert isinstance(cmp, Comparison) and cmp.both_equilibria
    e = nash.economy
    th, c = e.producers.productivity[:, None], e.producers.returns[:, None]
    for s, mk, le, kw in ((nash, cmp.markups_nash, cmp.lerner_nash, cmp.capacity_withheld_nash),
                          (comp, cmp.markups_competitive, cmp.lerner_competitive,
                           cmp.capacity_withheld_competitive)):
        r = s.outcome.prices[1:] / s.outcome.prices[0]
        q = s.profile.offers
        mc = (1 / (c * th)) * (q / th) ** ((1 - c) / c)
        np.testing.assert_allclose(mk, r / mc, rtol=1e-12)
        np.testing.assert_allclose(le, (r - mc) / r, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(kw, s.profile.capacity[:, None] - q, rtol=1e-12, atol=1e-15)
    rn, rc = nash.relative_prices, comp.relative_prices
    np.testing.assert_allclose(cmp.relative_prices_nash, rn)
    np.testing.assert_allclose(cmp.price_gap, rn - rc)
    np.testing.assert_allclose(cmp.price_ratio, rn / rc)
    np.testing.assert_allclose(cmp.production_nash, e.producers.count @ nash.profile.offers)
    json.dumps(cmp.to_dict(), allow_nan=False)


@pytest.mark.parametrize("name", [n for n in NAMES if "quasilinear" not in n])  # homothetic
def test_consumption_equivalent_scales_the_competitive_bundle_to_the_nash_utility(name):
    """For homothetic families, Eu(λ·c_C) = U_N where c_C is the competitive consumption
    (electricity consumed in every state, goods for classic kinds): evaluated with the
    market's utility function at the scaled bundle."""
    nash, comp = _pair(name)
    cmp = compare(nash, comp)
    e = nash.economy
    checked = 0
    for pop, play, ce, un in ((e.consumers, comp.outcome.consumers, cmp.consumer_ce,
                               cmp.consumer_utility_nash),
                              (e.producers, comp.outcome.producers, cmp.producer_ce,
                               cmp.producer_utility_nash)):
        for i in range(len(pop)):
            if not np.isfinite(ce[i]):
                continue
            one = pop.select([i])
            scaled = utility(one, ce[i] * play.consumption[i:i + 1],
                             ce[i] * np.maximum(play.goods[i:i + 1], 0.0), e.probabilities)
            assert scaled[0] == pytest.approx(un[i], rel=1e-10, abs=1e-12)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", ["ai-cd", "classic-cd", "peak-load"])
def test_equivalent_variation_against_the_indirect_utility(name):
    """Cobb–Douglas without verification: at prices p (p^0 = 1) and income m, the indirect
    utility is V(p, m) = Σ_g a_g log(a_g m/(A p_g)) (A = Σ a_g over valued goods), so the
    income giving U_N is m' = exp((U_N − Σ_g a_g log(a_g/(A p_g)))/A) and EV = m' − m_C, with
    m_C the value of the competitive bundle (its income net of nothing: all is spent)."""
    nash, comp = _pair(name)
    cmp = compare(nash, comp)
    e = nash.economy
    p = comp.outcome.prices / comp.outcome.prices[0]
    for pop, play, ev, mC, un in ((e.consumers, comp.outcome.consumers, cmp.consumer_ev,
                                   cmp.consumer_income, cmp.consumer_utility_nash),
                                  (e.producers, comp.outcome.producers, cmp.producer_ev,
                                   cmp.producer_income, cmp.producer_utility_nash)):
        for i in range(len(pop)):
            if not np.isfinite(ev[i]):
                continue
            a = list(pop.weights[i])
            prices = list(p[1:])
            if pop.classic[i]:
                a.append(pop.goods_weight[i])
                prices.append(1.0)
            a, prices = np.array(a), np.array(prices)
            keep = a > 0
            a, prices = a[keep], prices[keep]
            A = a.sum()
            m_value = (play.electricity[i] @ p[1:]
                       + (max(play.goods[i], 0.0) if pop.classic[i] else 0.0))
            assert mC[i] == pytest.approx(m_value, rel=1e-12)
            const = float(np.sum(a * np.log(a / (A * prices))))
            m_prime = np.exp((un[i] - const) / A)
            assert ev[i] == pytest.approx(m_prime - m_value, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("P", [2, 3, 5])
def test_cournot_welfare_in_closed_form(P):
    """Cournot, ai buyers (u = log E, ω = 1), P classic producers valuing only goods, c = 1:
    p_N = (1/θ)(P/(P−1))², p_C = 1/θ, so a buyer's consumption falls by ((P−1)/P)²: its
    consumption-equivalent is exactly that, its EV (CE − 1)·ω; Nash markups θ·p_N = (P/(P−1))²,
    competitive ones 1; the producers' benchmark utility is −inf (zero profit: docs/model.md,
    "Solution concepts"), so
    their CE is undefined and the notes say why."""
    theta = 1.5
    e = economy("cournot", 1, [consumer("c", 6, 1.0, cd(1.0))],
                [producer("p", P, theta, 1.0, cd(0.0, goods=1.0), kind="classic",
                          capacity=1e3)])
    nash, comp = solve(e), solve(e, "competitive")
    assert nash.ok and comp.ok, (nash.reason, comp.reason)
    cmp = compare(nash, comp)
    share = ((P - 1) / P) ** 2
    assert cmp.consumer_ce[0] == pytest.approx(share, rel=1e-10)
    assert cmp.consumer_ev[0] == pytest.approx(share - 1.0, rel=1e-9)
    np.testing.assert_allclose(cmp.markups_nash, (P / (P - 1)) ** 2, rtol=1e-10)
    np.testing.assert_allclose(cmp.markups_competitive, 1.0, rtol=1e-10)
    np.testing.assert_allclose(cmp.lerner_nash, 1 - share, rtol=1e-9)
    assert np.isnan(cmp.producer_ce[0])
    assert any("'p'" in n for n in cmp.notes)
    d = cmp.to_dict()
    assert d["welfare"]["equivalent_variation_complete"] is False
    assert d["welfare"]["equivalent_variation"] == pytest.approx(6 * (share - 1.0), rel=1e-9)
    json.dumps(d, allow_nan=False)


def test_report_comparison_keeps_its_keys_and_uses_the_analysis():
    """report.compare.comparison (the CLI's --concept both) is this module's to_dict: its keys
    (periods, both_equilibria, relative_prices{nash, competitive, gap, ratio},
    utility{consumers, producers} rows with name/nash/competitive/difference) are kept."""
    nash, comp = _pair("classic-cd")
    d = comparison(nash, comp)
    assert d == compare(nash, comp).to_dict()
    assert {"periods", "both_equilibria", "relative_prices", "utility"} <= set(d)
    assert set(d["relative_prices"]) == {"nash", "competitive", "gap", "ratio"}
    for row in d["utility"]["consumers"] + d["utility"]["producers"]:
        assert {"name", "nash", "competitive", "difference"} <= set(row)
        assert row["difference"] == pytest.approx(row["nash"] - row["competitive"])
    doc = both_to_dict(nash, comp)
    assert "foc_residuals" in doc["nash"]
    json.dumps(doc, allow_nan=False)


def test_a_failed_side_gives_missing_numbers_not_a_crash():
    """A failed solve without a candidate: its side is NaN (None in JSON), nothing crashes."""
    nash = solved("ai-cd")
    failed = Solution(nash.economy, "competitive", Status.NO_EQUILIBRIUM, "no luck")
    cmp = compare(nash, failed)
    assert not cmp.both_equilibria
    assert np.all(np.isnan(cmp.relative_prices_competitive))
    assert np.all(np.isnan(cmp.consumer_ce))
    d = cmp.to_dict()
    assert d["relative_prices"]["gap"] == [None] * nash.economy.periods
    json.dumps(d, allow_nan=False)
