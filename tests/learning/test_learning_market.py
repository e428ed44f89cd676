"""The market environment: learners' capacity caps, rounds solved by emgame, benchmarks.

Facts checked: a cap at the top of the grid does not bind, so that round is emgame's certified
Nash equilibrium of the economy (prices compared with an independent solve); an asymmetric
round filled in by permuting exchangeable learners equals a direct solve with those caps; the
collusive benchmark is at least as good for the learners as every common cap on the grid and
better than Nash; Hedge's time-averaged prices match the Nash prices where every equilibrium
of the grid game has the Nash outcome (oracle: emgame's certified Nash equilibrium); the
certificate on learned play passes at the Nash round; bad learning files are refused with the
file and the key.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from learning_economies import COURNOT

import emgame
from emgame.learning import (
    LearningConfig,
    LearningError,
    LearningFileError,
    market_game,
    parse_learning,
    run_session,
)
from emgame.learning.market import split_learners


def _split(spec):
    d, names, _ = split_learners(spec.economy, spec.config.learners, "<t>")
    return d, names


def test_top_of_grid_is_the_certified_nash_round(cournot_spec, cournot_game):
    g = cournot_game
    d, _ = _split(cournot_spec)
    nash = emgame.solve(emgame.economy_from_dict(d), "nash")
    assert nash.ok
    top = g.encode((g.m - 1,) * g.n)
    assert np.allclose(g.prices[top], nash.relative_prices, rtol=1e-8)
    assert np.allclose(g.expected[top], nash.outcome.producers.utility, rtol=1e-8)
    # The cap does not bind: every learner offers less than it.
    assert np.all(nash.profile.offers.max(axis=1) < g.actions[:, -1])


def test_permuted_round_equals_a_direct_solve(cournot_spec, cournot_game):
    g = cournot_game
    d, names = _split(cournot_spec)
    a = (0, 2)
    e = copy.deepcopy(d)
    for p in e["producers"]:
        p["capacity"] = float(g.actions[names.index(p["name"]), a[names.index(p["name"])]])
    sol = emgame.solve(emgame.economy_from_dict(e), "nash")
    assert sol.ok
    j = g.encode(a)
    assert np.allclose(g.expected[j], sol.outcome.producers.utility, rtol=1e-7)
    assert np.allclose(g.prices[j], sol.relative_prices, rtol=1e-7)
    # And the mirror image is the same round with the learners swapped.
    assert np.allclose(g.expected[g.encode(a[::-1])], g.expected[j][::-1], rtol=1e-12)


def test_collusive_benchmark_beats_every_common_cap_and_nash(cournot_game):
    g = cournot_game
    coll = g.benchmarks["collusive"]
    nash = g.benchmarks["nash"]
    assert coll.status == "ok" and g.diagnostics["withholding_pays"]
    assert coll.payoffs.sum() > nash.payoffs.sum()
    common = [g.expected[g.encode((k,) * g.n)].sum() for k in range(g.m)]
    assert coll.payoffs.sum() >= max(common) - 1e-9
    # Withholding raises the price.
    assert coll.price_index > nash.price_index


def test_hedge_time_average_matches_the_nash_prices(cournot_game):
    g = cournot_game
    nash_prices = g.benchmarks["nash"].prices
    eq = g.pure_equilibria()
    assert eq and all(np.allclose(g.prices[j], nash_prices, rtol=1e-7) for j in eq)
    r = run_session(g, LearningConfig(algorithm="hedge", rounds=100_000), 0, certify=False)
    assert abs(r.price_index - nash_prices.mean()) < 0.01 * nash_prices.mean()


def test_certificate_on_learned_play_passes_at_the_nash_round(cournot_game):
    from emgame.learning.certify import learned_certificate

    g = cournot_game
    top = g.encode((g.m - 1,) * g.n)
    c = learned_certificate(g, top, np.array([top]), np.ones(1))
    assert c["final"]["passed"]
    # A withholding round is not an equilibrium of the market game: a learner gains by
    # offering more than its cap.
    low = g.encode((0,) * g.n)
    c = learned_certificate(g, low, np.array([low]), np.ones(1))
    assert not c["final"]["passed"] and max(c["final"]["learner_regret"]) > 1e-6


def test_every_table_entry_is_a_ledger_balanced_certified_round(cournot_game):
    assert cournot_game.diagnostics["max_regret_in_table"] < 1e-8
    assert np.all(np.isfinite(cournot_game.payoffs))


@pytest.mark.parametrize("change, key", [
    (lambda d: d["learning"].update(learners=["nobody"]), "learning.learners"),
    (lambda d: d["learning"].update(learners=["firms", "buyers"], actions=5), "learning.actions"),
    (lambda d: d["learning"].update(others="fixed"), "learning.others"),
    (lambda d: d["learning"].update(learners=["buyers"], patterns=[["dusk"]]),
     "learning.patterns"),
    (lambda d: d["learning"].update(alpah=0.1), "learning.alpah"),
    (lambda d: d["learning"].update(actions=1), "learning.actions"),
])
def test_bad_learning_tables_are_refused_naming_the_key(change, key):
    d = copy.deepcopy(COURNOT)
    change(d)
    with pytest.raises((LearningFileError, LearningError), match=key):
        spec = parse_learning(d, "econ.toml")
        market_game(spec)


def test_long_run_economies_are_refused():
    d = copy.deepcopy(COURNOT)
    d["market"] = {"horizon": "long-run"}
    for p in d["producers"]:
        p.pop("capacity")
        p["capacity_cost"] = 0.1
    with pytest.raises(LearningError, match="short-run"):
        market_game(parse_learning(d, "econ.toml"))


def test_price_taking_rounds_top_out_at_the_competitive_benchmark():
    d = copy.deepcopy(COURNOT)
    d["learning"].update(others="price-taking", actions=3)
    d["producers"][0]["returns"] = 0.8          # decreasing returns: price takers earn a rent
    spec = parse_learning(d, "<t>")
    g = market_game(spec)
    dd, _ = _split(spec)
    comp = emgame.solve(emgame.economy_from_dict(dd), "competitive")
    assert comp.ok
    top = g.encode((g.m - 1,) * g.n)
    assert np.allclose(g.prices[top], comp.relative_prices, rtol=1e-7)


def test_rounds_with_minus_infinite_utility_are_refused():
    # Constant-returns price takers earn nothing: a learner valuing only goods gets -inf.
    d = copy.deepcopy(COURNOT)
    d["learning"].update(others="price-taking", actions=2)
    with pytest.raises(LearningError, match="-inf"):
        market_game(parse_learning(d, "econ.toml"))


def test_prepaid_stationary_rounds_and_their_certificate():
    # Prepaid settlement, stationary wallets (the bundled example): the rounds are the
    # stationary equilibria of the capped economy; the certificate on learned play needs each
    # round's wallet multipliers, which the table keeps.
    import tomllib
    from pathlib import Path

    from emgame.learning.certify import learned_certificate

    path = Path(emgame.__file__).parent / "examples" / "prepaid.toml"
    d = tomllib.loads(path.read_text())
    d["producers"][0]["count"] = 2
    d["learning"] = {"learners": ["solar-farm"], "actions": 3}
    g = market_game(parse_learning(d, str(path)))
    top = g.encode((g.m - 1,) * g.n)
    nash = g.benchmarks["nash"]
    assert np.allclose(g.prices[top], nash.prices, rtol=1e-7)
    c = learned_certificate(g, top, np.array([top]), np.ones(1))
    assert c["final"]["passed"]
    # Exogenous wallets are refused: a repeated game would overwrite them with revenue.
    for t in d["consumers"] + d["producers"]:
        t["wallet"] = 10.0
    with pytest.raises(LearningError, match="exogenous wallets"):
        market_game(parse_learning(d, str(path)))
