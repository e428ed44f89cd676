"""Learning consumers: the posts they pay on, and the others fixed at Nash (docs/learning.md).

Facts checked: a consumer's candidate participation sets are those its utility allows; where
the fixed verification cost makes skipping a post part of the certified Nash best response, Hedge
(full information) and EXP3 (bandit feedback) learn exactly that participation pattern, and
where it is cheap they learn to pay on both posts (the oracle: emgame's certified Nash
equilibrium, an independent solver; every pure equilibrium of the grid game has the same
pattern, checked by enumeration); with the others fixed at their Nash profile
(``others = "nash"``) the round at the learner's Nash choice is the Nash profile itself, the
non-learners' bids stay their Nash bids, and the learned pattern is again Nash's; every round
with learning consumers is ledger-balanced (hypothesis).
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from learning_economies import COURNOT, MINER, random_market, slow_tables

import emgame
from emgame.learning import LearningError, audit, market_game, parse_learning, run_session
from emgame.learning.market import _Round, consumer_patterns, split_learners


def _miner(fixed: float, **learning) -> dict:
    d = copy.deepcopy(MINER)
    d["verification"]["fixed"] = fixed
    d["learning"].update(learning)
    return d


def _nash_posts(d: dict) -> set[str]:
    """The posts the miner pays on in emgame's certified Nash equilibrium."""
    eco = emgame.economy_from_dict({k: v for k, v in d.items() if k != "learning"})
    sol = emgame.solve(eco, "nash")
    assert sol.ok
    bids = sol.profile.consumer_bids[eco.consumers.names.index("miner")]
    return {("goods", "night", "day")[t] for t in range(3) if bids[t] > 0}


def _miner_posts(game, j: int) -> set[str]:
    """The posts the miner pays on in the tabulated round ``j`` (from its stored profile)."""
    row = game.economy.consumers.names.index("miner")
    bids = game.profiles["consumer_bids"][j][row]
    return {("goods", "night", "day")[t] for t in range(3) if bids[t] > 0}


def test_candidate_patterns_are_the_sets_the_utility_allows():
    labels = ("night", "day")
    assert consumer_patterns(MINER, "miner", labels, None, "<t>") == [(1, 2), (1,), (2,)]
    # Cobb–Douglas: utility -inf without a valued post, so it pays on all of them.
    assert consumer_patterns(MINER | {"consumers": [
        {"name": "cd", "utility": {"family": "cobb_douglas", "weights": [0.3, 0.7]}}]},
        "cd", labels, None, "<t>") == [(1, 2)]
    assert consumer_patterns(MINER, "miner", labels, (("day",), ("night", "day")),
                             "<t>") == [(2,), (1, 2)]
    with pytest.raises(LearningError, match=r"learning.patterns\[0\].*'dusk'"):
        consumer_patterns(MINER, "miner", labels, (("dusk",),), "<t>")
    # A classic quasilinear buyer keeps the goods post (its goods weight must stay positive).
    q = {"consumers": [{"name": "q", "kind": "classic", "utility": {
        "family": "quasilinear", "weights": [0.5, 0.5], "goods_weight": 1.0}}]}
    assert consumer_patterns(q, "q", labels, None, "<t>") == [(0, 1, 2)]


@pytest.mark.parametrize("fixed", [0.06, 0.002])
@pytest.mark.parametrize("algorithm", ["hedge", "exp3"])
def test_learned_participation_is_the_certified_nash_pattern(fixed, algorithm):
    d = _miner(fixed, algorithm=algorithm)
    want = _nash_posts(d)
    assert want == ({"day"} if fixed == 0.06 else {"night", "day"})   # the case is not trivial
    game = market_game(parse_learning(d, "<miner>"))
    assert game.roles == ("consumer",) and game.m == 3
    # Every pure equilibrium of the grid game has the Nash participation.
    eqs = game.pure_equilibria()
    assert eqs and all(_miner_posts(game, j) == want for j in eqs)
    r = run_session(game, game_config(d), 0)
    share = sum(w for j, w in zip(r.learned, r.weights, strict=True)
                if _miner_posts(game, int(j)) == want)
    assert share > 0.9
    assert r.certificate["final"]["passed"]
    assert r.external_regret[0] < 0.05


def game_config(d: dict):
    return parse_learning(d, "<miner>").config


def test_others_fixed_at_nash_keep_their_bids_and_the_nash_choice_is_the_nash_profile():
    d = _miner(0.06, others="nash")
    spec = parse_learning(d, "<miner>")
    game = market_game(spec)
    assert game.m == 3
    nash = game.benchmarks["nash"]
    split = game.economy
    sol = emgame.solve(split, "nash")
    homes = split.consumers.names.index("homes")
    e = game.expected[:, 0]
    for j in range(game.J):
        # The homes keep their Nash bids (up to the common scale of the bytecoin).
        b = game.profiles["consumer_bids"][j][homes]
        ref = sol.profile.consumer_bids[homes]
        assert np.allclose(b / b.sum(), ref / ref.sum(), rtol=1e-9, atol=1e-12)
    names = game.action_names[0]
    # Allowed every post, the miner's best response against the Nash profile is its Nash play.
    assert e[names.index("night+day")] == pytest.approx(float(nash.payoffs[0]), rel=1e-8)
    assert e[names.index("day")] == pytest.approx(float(nash.payoffs[0]), rel=1e-8)
    assert e[names.index("night")] < e[names.index("day")]
    r = run_session(game, spec.config, 0)
    share = sum(w for j, w in zip(r.learned, r.weights, strict=True)
                if _miner_posts(game, int(j)) == {"day"})
    assert share > 0.9


def test_producers_against_others_fixed_at_nash():
    d = copy.deepcopy(COURNOT)
    split, lnames, _ = split_learners({k: v for k, v in d.items() if k != "learning"},
                                      ("firms",), "<t>")
    econ = emgame.economy_from_dict(split)
    nash = emgame.solve(econ, "nash")
    rnd = _Round(split, lnames, ["producer", "producer"], "fixed", "<t>", fixed=nash)
    K = float(econ.producers.capacity[0])
    top = rnd((K, K))
    assert top.ok
    assert np.allclose(top.outcome.producers.utility, nash.outcome.producers.utility, rtol=1e-8)
    KN = float(nash.profile.offers.max())
    low = rnd((0.7 * KN, 0.8 * KN))
    assert low.ok and low.max_regret < 1e-7     # the learners' best responses, certified
    assert np.allclose(low.profile.offers[:, 0], [0.7 * KN, 0.8 * KN], rtol=1e-9)
    b = low.profile.consumer_bids[0]
    ref = nash.profile.consumer_bids[0]
    assert np.allclose(b / b.sum(), ref / ref.sum(), rtol=1e-9)
    audit(low.economy, low.profile, low.outcome, where="capped round")


@st.composite
def consumer_economies(draw):
    T = 2               # the learner values two posts: three participation sets
    others = draw(st.sampled_from(["equilibrium", "nash"]))
    # With the others fixed at Nash, one learner (several may not settle: docs).
    learner = {"name": "learner", "count": 1 if others == "nash" else draw(st.integers(1, 2)),
               "kind": "ai", "endowment": draw(st.floats(0.5, 2.0)),
               "utility": {"family": "crra", "gamma": draw(st.floats(0.3, 0.8)),
                           "weights": [draw(st.floats(0.1, 1.0)) for _ in range(T)]}}
    return random_market(
        draw, T, learner, name="random learners",
        verification={"fixed": draw(st.floats(0.0, 0.02)), "share": draw(st.floats(0.0, 0.2))},
        learning={"learners": ["learner"], "others": others, "algorithm": "hedge",
                  "rounds": 100})


@slow_tables
@given(consumer_economies())
def test_rounds_with_learning_consumers_balance_the_ledger(d):
    game = market_game(parse_learning(d, "<random>"))   # audits every round it tabulates
    split = game.economy
    for j in range(game.J):
        pr = game.profiles
        prof = emgame.Profile(pr["consumer_bids"][j], pr["producer_bids"][j], pr["offers"][j],
                              pr["capacity"][j])
        # Re-audited from the stored profile with the market rules of the true economy.
        entry = audit(split, prof, emgame.market.evaluate(split, prof), where=f"round {j}")
        assert np.allclose(entry.paid, entry.received, rtol=1e-9)
        V = game.burnt[:, j]
        assert np.allclose(entry.burnt.sum(axis=1), V, rtol=1e-9, atol=1e-15)
    # A tampered outcome does not pass.
    prof0 = emgame.Profile(pr["consumer_bids"][0], pr["producer_bids"][0], pr["offers"][0],
                           pr["capacity"][0])
    out = emgame.market.evaluate(split, prof0)
    bad = dataclasses.replace(out, prices=out.prices * np.r_[1.0, [1.001] * split.periods])
    with pytest.raises(Exception, match="post"):
        audit(split, prof0, bad, where="tampered")
