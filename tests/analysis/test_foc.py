"""The paper's first-order conditions (10)–(17) at solutions (emgame.analysis.foc).

Oracles: at interior equilibria every residual vanishes (they are necessary conditions of each
agent's problem, docs/model.md, "Solution concepts"); on profiles moved off the equilibrium
they do not; at a Cournot equilibrium built by hand the residuals vanish and the multipliers
equal their hand values; the marginal utilities used equal finite differences of the market's
utility; the recovered multipliers equal those the solver reports (an independent check of the
JSON's ``budget_multiplier``, ``goods_multiplier`` and ``capacity_multipliers``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from emgame import Status, Utility, solve
from emgame.analysis.foc import EQUATIONS, foc_check, foc_of, foc_residuals, marginal_utilities
from emgame.market import Profile
from emgame.market.utility import utility
from emgame.model.economy import Population
from oracles import CATALOGUE, cd, consumer, economy, perturbed, producer, solved

EXTRA = {
    "classic-crra": economy(
        "classic-crra", 2,
        [consumer("h", 5, 2.0, Utility("crra", (0.3, 0.4), goods_weight=0.5, gamma=2.0),
                  kind="classic")],
        [producer("p", 3, 1.2, 0.8, Utility("crra", (0.1, 0.1), goods_weight=0.8, gamma=0.5),
                  kind="classic", capacity=30.0)]),
    "classic-ces": economy(
        "classic-ces", 2,
        [consumer("h", 5, 2.0, Utility("ces", (0.3, 0.4), goods_weight=0.5, r=0.5),
                  kind="classic")],
        [producer("p", 3, 1.2, 0.8, Utility("ces", (0.1, 0.1), goods_weight=0.8, r=-0.5),
                  kind="classic", capacity=30.0)]),
}
_EXTRA_SOLVED: dict = {}


def _solved(name):
    if name in CATALOGUE:
        return solved(name)
    if name not in _EXTRA_SOLVED:
        _EXTRA_SOLVED[name] = solve(EXTRA[name])
    return _EXTRA_SOLVED[name]


CLASSIC = ["classic-cd", "classic-quasilinear-c1", "classic-quasilinear-producers", "peak-load",
           "classic-crra", "classic-ces"]
ALL = CLASSIC + [n for n in CATALOGUE if n not in CLASSIC]


@pytest.mark.parametrize("name", ALL)
def test_residuals_vanish_at_equilibria(name):
    """Every residual of (10)–(17) (and x^0 >= 0, the budget, and the long-run capacity
    condition) is <= 1e-8 at the Nash equilibrium: classic economies (all four families, c < 1
    and c = 1, binding capacity) and ai ones (where u_j0 is the multiplier of x_j^0 >= 0)."""
    s = _solved(name)
    assert s.status is Status.EQUILIBRIUM, s.reason
    f = foc_of(s)
    assert f.max <= 1e-8, f.by_equation()
    keys = set(f.by_equation())
    assert set(EQUATIONS) <= keys
    applicable = {k for k, v in f.by_equation().items() if v is not None}
    assert {"(10)", "(12)", "(13)", "(14)/(15)", "(16)", "(17)"} <= applicable


@pytest.mark.parametrize("name", ["classic-cd", "peak-load", "ai-cd", "ai-long-run"])
def test_residuals_are_clearly_nonzero_off_the_equilibrium(name):
    """Move one type's bids by 1e-3 (relative), or one producer's offers by 1e-3: some
    residual exceeds 1e-5 (it is of the order of the move)."""
    s = _solved(name)
    e = s.economy
    for role, pop in (("consumers", e.consumers), ("producers", e.producers)):
        for i in range(len(pop)):
            f = foc_check(e, perturbed(s.profile, role, i, 1e-3, seed=i))
            assert f.max > 1e-5, (role, i, f.by_equation())
    q = s.profile.offers.copy()
    q[0] *= 1.0 - 1e-3
    f = foc_check(e, Profile(s.profile.consumer_bids, s.profile.producer_bids, q,
                             s.profile.capacity))
    assert f.max > 1e-5, f.by_equation()


@pytest.mark.parametrize("name", ["classic-cd", "peak-load", "ai-cd", "ai-long-run", "ai-crra",
                                  "classic-crra", "ai-ces", "classic-ces"])
def test_recovered_multipliers_equal_the_solvers(name):
    """λ recovered from the conditions equals the solver's budget multiplier; for producers ν
    (the value of goods: u_j0, or the multiplier of x_j^0 >= 0 for ai) and the capacity
    multipliers μ^t equal the solver's goods and capacity multipliers. docs/model.md, "Outputs" and
    results.Multipliers: these are 'in utility per unit' (of u, the reported utility)."""
    s = _solved(name)
    f = foc_of(s)
    m = s.multipliers
    np.testing.assert_allclose([t.lam for t in f.consumers], m.consumer_budget, rtol=1e-7)
    np.testing.assert_allclose([t.lam for t in f.producers], m.producer_budget, rtol=1e-7)
    np.testing.assert_allclose([t.nu for t in f.producers], m.producer_goods, rtol=1e-7)
    scale = np.maximum(np.abs(m.producer_goods), 1e-300)[:, None]
    np.testing.assert_allclose(np.array([t.mu for t in f.producers]) / scale,
                               m.producer_capacity / scale, atol=1e-7)


def test_hand_built_cournot_equilibrium():
    """Cournot with ai buyers (7 consumers, ω = 1, u = log E) and P = 2 classic producers
    valuing only goods (u = log x^0, θ = 2, c = 1). With p^0 = 1: every buyer bids 1 on
    electricity, B^1 = 7; p^1 = (1/θ)(P/(P−1))² = 2, Q = 3.5, q = 1.75; each producer
    sells for R = 3.5 and bids it on goods (B^0 = 7 = Ω), keeping x^0 = 3.5 − 1.75/2 = 2.625.
    Hand multipliers: consumers λ = u_1 Q B_-^1/(B^1)² = (7/Q)(Q)(6/49) = 6/7; producers
    λ = u_0 Ω B_-^0/(B^0)² = (1/2.625)(7)(3.5)/49. All residuals vanish; moving q breaks (14)."""
    e = economy("hand cournot", 1, [consumer("c", 7, 1.0, cd(1.0))],
                [producer("p", 2, 2.0, 1.0, cd(0.0, goods=1.0), kind="classic",
                          capacity=100.0)])
    prof = Profile(np.array([[0.0, 1.0]]), np.array([[3.5, 0.0]]), np.array([[1.75]]),
                   np.array([100.0]))
    f = foc_check(e, prof)
    assert f.max <= 1e-13, f.by_equation()
    assert f.consumers[0].lam == pytest.approx(6 / 7, rel=1e-14)
    assert f.producers[0].lam == pytest.approx((1 / 2.625) * 7 * 3.5 / 49, rel=1e-14)
    assert f.producers[0].nu == pytest.approx(1 / 2.625, rel=1e-14)
    moved = Profile(prof.consumer_bids, prof.producer_bids, np.array([[1.76]]), prof.capacity)
    r = foc_check(e, moved).producers[0].residuals
    assert r["(14)/(15)"] > 1e-3 or r["(13)"] > 1e-3 or r["budget"] > 1e-3


@pytest.mark.parametrize("family,extra", [("cobb_douglas", {}), ("crra", {"gamma": 2.0}),
                                          ("crra", {"gamma": 0.5}), ("ces", {"r": 0.5}),
                                          ("ces", {"r": -1.0}), ("quasilinear", {})])
@pytest.mark.parametrize("classic", [False, True])
def test_marginal_utilities_are_derivatives_of_the_utility(family, extra, classic):
    """∂u/∂E^t and ∂u/∂x^0 (foc.marginal_utilities, closed forms) equal central finite
    differences of emgame.market.utility.utility (the definition, docs/model.md, "Agents"),
    one state."""
    if family == "quasilinear" and not classic:
        pytest.skip("quasilinear is classic only")
    T = 3
    rng = np.random.default_rng(1)
    w = rng.uniform(0.1, 1.0, (2, T))
    pop = Population.from_arrays(
        names=("a", "b"), count=np.ones(2), weights=w,
        family=np.full(2, ["cobb_douglas", "crra", "ces", "quasilinear"].index(family),
                       np.int8),
        classic=np.full(2, classic), goods_weight=np.full(2, 0.7 if classic else 0.0),
        gamma=np.full(2, extra.get("gamma", np.nan)), r=np.full(2, extra.get("r", np.nan)))
    E = rng.uniform(0.5, 2.0, (2, 1, T))
    x0 = rng.uniform(0.5, 2.0, 2)
    prob = np.ones(1)
    mE, m0 = marginal_utilities(pop, E, x0)
    h = 1e-6
    for t in range(T):
        up, dn = E.copy(), E.copy()
        up[:, 0, t] += h
        dn[:, 0, t] -= h
        fd = (utility(pop, up, x0, prob) - utility(pop, dn, x0, prob)) / (2 * h)
        np.testing.assert_allclose(mE[:, 0, t], fd, rtol=1e-7)
    fd0 = (utility(pop, E, x0 + h, prob) - utility(pop, E, x0 - h, prob)) / (2 * h)
    np.testing.assert_allclose(m0[:, 0], fd0, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name", ["classic-cd", "peak-load", "ai-cd", "ai-long-run"])
def test_price_taking_residuals_vanish_at_the_competitive_benchmark(name):
    """The same conditions in price-taking form (∂x/∂b = 1/p, no own-price terms) hold at the
    competitive benchmark: an independent check of the competitive solver."""
    c = solved(name, "competitive")
    assert c.status is Status.EQUILIBRIUM, c.reason
    f = foc_of(c)
    assert f.concept == "competitive"
    assert f.max <= 1e-8, f.by_equation()


def test_json_and_cli_carry_the_residuals(tmp_path):
    """foc_residuals(solution) is strict JSON with the paper's equation keys for every type,
    and `emgame solve --json` includes it under "foc_residuals" for Nash solutions."""
    from emgame.cli import app

    s = _solved("classic-cd")
    d = foc_residuals(s)
    json.dumps(d, allow_nan=False)
    for row in d["consumers"] + d["producers"]:
        assert set(EQUATIONS) <= set(row)
    path = tmp_path / "e.toml"
    path.write_text(
        'name = "foc cli"\nperiods = 1\n'
        '[[consumers]]\nname = "c"\ncount = 4\nkind = "classic"\nendowment = 1.0\n'
        'utility = { family = "cobb_douglas", weights = [0.5], goods_weight = 0.5 }\n'
        '[[producers]]\nname = "p"\ncount = 3\nkind = "classic"\nproductivity = 1.0\n'
        'returns = 0.8\ncapacity = 10.0\n'
        'utility = { family = "cobb_douglas", weights = [0.3], goods_weight = 0.7 }\n',
        encoding="utf-8")
    res = CliRunner().invoke(app, ["solve", str(path), "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["foc_residuals"]["max"] <= 1e-8
    res = CliRunner().invoke(app, ["solve", str(path), "--json", "--quiet", "-c", "competitive"])
    assert "foc_residuals" not in json.loads(res.stdout)
