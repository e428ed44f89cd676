"""Learning consumers' bid shares: the share of its income a consumer bids on one post
(``learning.share_post``), the rest its best response (docs/learning.md, "Bid shares").

Facts checked: at its Nash share the learner's round is the certified Nash equilibrium of the
unconstrained economy (an independent solve); at any other share the learner's bids on the other
posts maximise its true utility given the share (an independent one-dimensional maximisation of
the market-game utility with scipy, the others' totals held); bytecoins, electricity and goods
balance in every round (the ledger, also on random economies with hypothesis); Hedge with full
information settles on the best grid share of the table; bad keys get errors naming them.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from learning_economies import random_market, slow_tables
from scipy.optimize import minimize_scalar

import emgame
from emgame.learning import LearningError, audit, market_game, parse_learning, run_session
from emgame.learning.market import _Round, share_agent_name, split_learners

LABELS = ("night", "morning", "day")

# A data-centre buyer of three hours (CRRA γ < 1) beside households; it learns which share of
# its income to bid on the day post, and splits the rest between night and morning itself.
SHARES = {
    "name": "a data centre learns its day share",
    "periods": 3,
    "period_labels": list(LABELS),
    "verification": {"fixed": 0.001, "share": 0.02},
    "learning": {"learners": ["dc"], "share_post": "day", "actions": 7, "algorithm": "hedge",
                 "rounds": 100000, "eta": 0.05, "gamma": 0.05, "seed": 1},
    "consumers": [
        {"name": "homes", "count": 12, "kind": "ai", "endowment": 1.0,
         "utility": {"family": "cobb_douglas", "weights": [0.3, 0.3, 0.4]}},
        {"name": "dc", "count": 1, "kind": "ai", "endowment": 4.0,
         "utility": {"family": "crra", "gamma": 0.5, "weights": [0.3, 0.2, 0.5]}}],
    "producers": [{"name": "farms", "count": 4, "kind": "ai", "productivity": 2.0,
                   "returns": 0.8, "capacity": 30.0,
                   "utility": {"family": "cobb_douglas", "weights": [0.3, 0.3, 0.4]}}],
}


def _round(d: dict, concept: str = "nash"):
    eco = {k: v for k, v in d.items() if k != "learning"}
    split, lnames, _ = split_learners(eco, ("dc",), "<t>")
    return split, _Round(split, lnames, ["consumer"], concept, "<t>",
                         share_post=(3, "day"))


def test_at_its_nash_share_the_round_is_the_nash_equilibrium():
    split, rnd = _round(SHARES)
    econ = emgame.economy_from_dict(split)
    nash = emgame.solve(econ, "nash")
    assert nash.ok
    dc = econ.consumers.names.index("dc")
    b = nash.profile.consumer_bids[dc]
    sN = b[3] / b.sum()
    assert 0.05 < sN < 0.95                      # an interior share: the case is not trivial
    res = rnd(((None, sN),))
    assert res.ok
    assert np.allclose(res.outcome.relative_prices, nash.outcome.relative_prices, rtol=1e-6)
    assert res.outcome.consumers.utility[dc] == pytest.approx(
        float(nash.outcome.consumers.utility[dc]), rel=1e-7)
    assert np.allclose(res.profile.consumer_bids[dc] / res.profile.consumer_bids[dc].sum(),
                       b / b.sum(), atol=1e-6)
    # Away from it the round differs: the share is a real choice.
    away = rnd(((None, 0.5 * sN),))
    assert away.ok
    assert abs(away.outcome.relative_prices[2] - nash.outcome.relative_prices[2]) > 1e-3


def _conditional_best(econ, prof, dc: int, s: float) -> tuple[float, float]:
    """The learner's best utility given its day bid, by direct maximisation over its night bid
    (its morning bid is the rest of its budget), the others' bids and offers held: the market
    game's allocation rule ``x = b Q / B`` and verification (docs/model.md), written here."""
    cb, pb, offers = prof.consumer_bids, prof.producer_bids, prof.offers
    Q = (econ.producers.count[:, None] * offers).sum(axis=0)             # (T,)
    B = (econ.consumers.count[:, None] * cb).sum(axis=0) + \
        (econ.producers.count[:, None] * pb).sum(axis=0)                 # (T+1,)
    mine = cb[dc]
    others = B[1:] - mine[1:]
    rest = mine[1] + mine[2]                     # what the night and morning posts get
    v, kappa = 0.001, 0.02
    a = np.array([0.3, 0.2, 0.5])

    def u(bn: float) -> float:
        bids = np.array([bn, rest - bn, mine[3]])
        x = bids * Q / (others + bids)
        E = x * (1 - kappa) - v * (bids > 0)
        if np.any(E <= 0):
            return -np.inf
        return float(np.sum(a * E ** 0.5 / 0.5))

    r = minimize_scalar(lambda z: -u(z), bounds=(1e-9 * rest, rest * (1 - 1e-9)),
                        method="bounded", options={"xatol": 1e-12 * rest})
    return -float(r.fun), u(mine[1])


@pytest.mark.parametrize("s", [0.25, 0.6])
def test_the_rest_of_the_income_is_the_best_response_given_the_share(s):
    split, rnd = _round(SHARES)
    res = rnd(((None, s),))
    assert res.ok
    econ = res.economy
    dc = econ.consumers.names.index("dc")
    bids = res.profile.consumer_bids[dc]
    assert bids[3] / bids.sum() == pytest.approx(s, rel=1e-9)            # the share is held
    best, here = _conditional_best(econ, res.profile, dc, s)
    assert here == pytest.approx(float(res.outcome.consumers.utility[dc]), rel=1e-9)
    assert here >= best - 1e-7 * abs(best)
    audit(econ, res.profile, res.outcome, where=f"share {s}")


def test_share_learning_game_and_hedge_settles_on_the_best_grid_share():
    spec = parse_learning(SHARES, "<shares>")
    game = market_game(spec)
    assert game.roles == ("consumer",) and game.m == 7
    assert game.action_label == "bid share on day"
    grid = game.actions[0]
    assert np.all(np.diff(grid) > 0) and 0 < grid[0] and grid[-1] < 1
    diag = game.diagnostics
    sN, sC = diag["nash_share"][0], diag["competitive_share"][0]
    assert grid[0] <= min(sN, sC) + 1e-12 and max(sN, sC) <= grid[-1] + 1e-12
    # Every tabulated round holds the learner's share (from the stored profile).
    dc = game.economy.consumers.names.index("dc")
    for j in range(game.J):
        b = game.profiles["consumer_bids"][j][dc]
        assert b[3] / b.sum() == pytest.approx(grid[j], rel=1e-9)
    # With one learner the grid game's pure equilibrium is its best grid share.
    e = game.expected[:, 0]
    eqs = game.pure_equilibria()
    assert list(eqs) == [int(np.argmax(e))]
    r = run_session(game, spec.config, 0)
    w = dict(zip(map(int, r.learned), r.weights, strict=True))
    assert w.get(int(np.argmax(e)), 0.0) > 0.9
    assert r.certificate is not None


@pytest.mark.parametrize("change, key", [
    ({"share_post": "dusk"}, "learning.share_post"),
    ({"share_post": "day", "patterns": [["day"]]}, "learning.share_post"),
    ({"share_post": "day", "others": "nash"}, "learning.share_post"),
])
def test_bad_share_keys_name_the_key(change, key):
    d = copy.deepcopy(SHARES)
    d["learning"].update(change)
    with pytest.raises((LearningError, ValueError), match=key.replace(".", r"\.")):
        market_game(parse_learning(d, "<shares>"))


def test_a_consumer_that_cannot_learn_a_share_is_refused():
    d = copy.deepcopy(SHARES)
    d["consumers"][1]["utility"]["weights"] = [0.0, 0.0, 1.0]
    with pytest.raises(LearningError, match="values only 'day'"):
        market_game(parse_learning(d, "<shares>"))
    d = copy.deepcopy(SHARES)
    d["consumers"][1]["kind"] = "classic"
    d["consumers"][1]["utility"]["goods_weight"] = 0.2
    with pytest.raises(LearningError, match="classic"):
        market_game(parse_learning(d, "<shares>"))


@st.composite
def share_economies(draw):
    T = 3
    family = draw(st.sampled_from(["crra", "cobb_douglas", "ces"]))
    u = {"family": family, "weights": [draw(st.floats(0.1, 1.0)) for _ in range(T)]}
    if family == "crra":
        u["gamma"] = draw(st.floats(0.3, 2.0).filter(lambda g: abs(g - 1) > 0.05))
    if family == "ces":
        u["r"] = draw(st.sampled_from([-1.0, 0.3]))
    learner = {"name": "learner", "count": draw(st.integers(1, 2)), "kind": "ai",
               "endowment": draw(st.floats(0.5, 2.0)), "utility": u}
    return random_market(
        draw, T, learner, name="random share learners", period_labels=["p1", "p2", "p3"],
        verification={"fixed": draw(st.floats(0.0, 0.003)), "share": draw(st.floats(0.0, 0.1))},
        learning={"learners": ["learner"],
                  "share_post": draw(st.sampled_from(["p1", "p2", "p3"])), "actions": 3,
                  "algorithm": "hedge", "rounds": 100,
                  "others": draw(st.sampled_from(["equilibrium", "price-taking"]))})


@slow_tables
@given(share_economies())
def test_share_rounds_balance_the_ledger_and_hold_the_share(d):
    game = market_game(parse_learning(d, "<random>"))   # audits every round it tabulates
    split = game.economy
    t = ("p1", "p2", "p3").index(d["learning"]["share_post"]) + 1
    rows = [split.consumers.names.index(n) for n in game.learners]
    assert share_agent_name("learner", "p1") not in split.consumers.names
    for j in range(game.J):
        pr = game.profiles
        prof = emgame.Profile(pr["consumer_bids"][j], pr["producer_bids"][j], pr["offers"][j],
                              pr["capacity"][j])
        entry = audit(split, prof, emgame.market.evaluate(split, prof), where=f"round {j}")
        assert np.allclose(entry.paid, entry.received, rtol=1e-9)
        a = np.array([(j // game.m ** i) % game.m for i in range(game.n)])
        for i, r in enumerate(rows):
            b = prof.consumer_bids[r]
            assert b[t] / b.sum() == pytest.approx(game.actions[i, a[i]], rel=1e-8)
