"""The bytecoin ledger of a round (docs/learning.md).

Facts checked, on random economies and random profiles (hypothesis): bytecoins paid on every
trading post equal what its sellers receive; electricity offered equals electricity held after
trading, and held equals consumed plus burnt by verification in every state; goods offered equal
goods consumed plus inputs. On equilibria the budgets hold too. A tampered outcome, an
overspending agent or a wallet not carried from the previous round stop the audit with an error
naming the round and the post (or the agent).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import emgame
from emgame import ConsumerType, Economy, Market, ProducerType, State, Utility
from emgame.learning import LedgerError, audit
from emgame.learning.ledger import check_wallet_carry
from emgame.market import evaluate


@st.composite
def economies_and_profiles(draw):
    T = draw(st.integers(1, 3))
    S = draw(st.integers(1, 2))
    nc = draw(st.integers(1, 3))
    npr = draw(st.integers(1, 2))
    pos = st.floats(0.1, 5.0)
    # Some weight positive: a type that values nothing is refused by the economy rules.
    w = lambda: tuple(draw(st.lists(st.floats(0.0, 1.0), min_size=T, max_size=T).map(
        lambda a: a if sum(a) > 0 else [1.0] + a[1:])))
    consumers = [ConsumerType(f"c{i}", draw(st.integers(1, 20)), draw(pos),
                              Utility("cobb_douglas", w())) for i in range(nc)]
    long_run = draw(st.booleans())
    producers = [ProducerType(f"p{j}", draw(st.integers(1, 5)), draw(pos),
                              draw(st.floats(0.5, 1.5)),
                              Utility("cobb_douglas", w()),
                              capacity=None if long_run else draw(pos),
                              capacity_cost=draw(st.floats(0.0, 0.5)) if long_run else None)
                 for j in range(npr)]
    probs = [1.0] if S == 1 else [0.3, 0.7]
    states = [State(p, tuple(draw(st.lists(st.floats(0.0, 0.01), min_size=T + 1,
                                           max_size=T + 1))), draw(st.floats(0.0, 0.3)))
              for p in probs]
    e = Economy.build(name="random", periods=T, consumers=consumers, producers=producers,
                      market=Market(horizon="long-run" if long_run else "short-run"),
                      states=states)
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    zero = rng.uniform(size=(nc, T + 1)) < 0.2          # some posts unpaid
    cb = np.where(zero, 0.0, rng.uniform(0, 1, (nc, T + 1)))
    pb = rng.uniform(0, 1, (npr, T + 1)) * (rng.uniform(size=(npr, T + 1)) > 0.2)
    cap = (rng.uniform(0.5, 3.0, npr) if long_run else e.producers.capacity.copy())
    offers = rng.uniform(0, 1, (npr, T)) * cap[:, None] * (rng.uniform(size=(npr, T)) > 0.1)
    return e, emgame.Profile(cb, pb, offers, cap)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(economies_and_profiles())
def test_conservation_laws_hold_for_any_profile(ep):
    e, prof = ep
    out = evaluate(e, prof)
    entry = audit(e, prof, out, where="round 1", budgets=False)
    # Independent totals: what consumers and producers bid, on posts that trade.
    B = e.consumers.count @ prof.consumer_bids + e.producers.count @ prof.producer_bids
    assert np.allclose(entry.paid, np.where(out.active, B, 0.0))
    assert np.allclose(entry.produced, e.producers.count @ prof.offers)


def _two_period():
    return Economy.build(
        name="two periods", periods=2,
        consumers=[ConsumerType("c", 4, 1.0, Utility("cobb_douglas", (0.5, 0.5)))],
        producers=[ProducerType("p", 2, 1.0, 0.8, Utility("cobb_douglas", (0.5, 0.5)),
                                capacity=10.0)],
        verification=(0.002, 0.01))


def test_an_equilibrium_balances_budgets_included():
    e = _two_period()
    s = emgame.solve(e)
    assert s.ok
    audit(e, s.profile, s.outcome, where="round 1")


def test_tampered_electricity_names_the_round_and_the_post():
    e = _two_period()
    s = emgame.solve(e)
    bad = s.outcome.consumers.consumption.copy()
    bad[:, 0, 1] *= 1.01
    play = dataclasses.replace(s.outcome.consumers, consumption=bad)
    out = dataclasses.replace(s.outcome, consumers=play)
    with pytest.raises(LedgerError, match=r"round 7, post 2 .*state 1.*consumed"):
        audit(e, s.profile, out, where="round 7")


def test_overspending_is_refused():
    e = _two_period()
    s = emgame.solve(e)
    prof = emgame.Profile(s.profile.consumer_bids * np.array([[1.0, 3.0, 1.0]]),
                          s.profile.producer_bids, s.profile.offers, s.profile.capacity)
    with pytest.raises(LedgerError, match="consumer 'c'.*budget"):
        audit(e, prof, evaluate(e, prof), where="round 3")


def test_a_wallet_not_carried_is_refused():
    check_wallet_carry(np.array([1.0, 2.0]), np.array([1.0, 2.0]), where="round 5",
                       names=("a", "b"))
    with pytest.raises(LedgerError, match="round 5, 'b'"):
        check_wallet_carry(np.array([1.0, 2.0]), np.array([1.0, 2.1]), where="round 5",
                           names=("a", "b"))
