"""States of nature (docs/model.md sections 1, 2 and 5): bids and offers are chosen before the state
is known; only verification, and so consumption, depends on it. Agents maximise expected
utility ``Σ_s π_s u(E_s)``, and the shadow value ``λ_s^t = ∂u/∂E_s^t`` (not multiplied by
``π_s``) is reported per state.

Expected values come from the utility formulas of docs/model.md, Agents transcribed by hand
(:func:`crypto._lib.state_utility`) and from finite differences of them, from the
verification formula of section 5, and from economies that must be equivalent.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emgame import Status, solve

from ._lib import edited, example, solved, state_utility

NAME = "two_states"


def _sol(concept):
    s = solved(NAME, concept)
    assert s.status is Status.EQUILIBRIUM, s.reason
    return s


def _rows(s):
    d = s.to_dict()
    e = s.economy
    return [(e.consumers, k, r) for k, r in enumerate(d["consumers"])] + \
           [(e.producers, k, r) for k, r in enumerate(d["producers"])]


@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_expected_utility_is_the_probability_weighted_utility_of_each_state(concept):
    """For every type, the reported utility equals ``Σ_s π_s u(E_s)`` computed by hand from
    the reported per-state consumption (JSON ``consumption[state][period]``), and each
    state's consumption is the electricity received minus that state's verification
    (``E_s = x - V_s``), with the state's own costs: calm ``V = 0.001`` per paid post,
    congested ``V = 0.01 + 0.05 x`` (the example file)."""
    s = _sol(concept)
    e = s.economy
    pi = e.probabilities
    np.testing.assert_allclose(pi, [0.7, 0.3])
    for pop, k, row in _rows(s):
        E = np.array(row["consumption"])
        V = np.array(row["verification"])
        x = np.array(row["electricity"])
        assert E.shape == V.shape == (2, e.periods)
        np.testing.assert_allclose(E, x[None, :] - V, rtol=1e-12, atol=1e-14)
        bids = np.array(row["bids"]["electricity"])
        paid = bids > 0
        t0 = e.market.goods_settlement_period - 1
        goods_paid = row["bids"]["goods"] > 0
        calm = 0.001 * paid
        calm[t0] += 0.001 * goods_paid
        congested = 0.01 * paid + 0.05 * x
        congested[t0] += 0.01 * goods_paid
        np.testing.assert_allclose(V[0], calm, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(V[1], congested, rtol=1e-12, atol=1e-15)
        expected = float(pi @ state_utility(pop, k, E))
        assert row["utility"] == pytest.approx(expected, rel=1e-12, abs=1e-14), row["name"]


@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_shadow_values_are_the_derivative_of_utility_in_each_state(concept):
    """``λ_s^t = ∂u/∂E_s^t`` of the state's utility ``u(E_s)``, not multiplied by ``π_s``
    (docs/model.md, The crypto layer): compared with a central finite difference of the
    hand-written utility at
    the reported consumption, for every type, state and period (step 1e-6 relative). And
    where a type pays, consumption is lower in the congested state, so by concavity its
    shadow value is higher there (the example's header)."""
    s = _sol(concept)
    for pop, k, row in _rows(s):
        E = np.array(row["consumption"])
        # JSON has no infinity: ∂u/∂E = a E^{-γ} is +inf at E = 0 (an hour not bought).
        lam = np.array([[np.inf if v is None else v for v in r] for r in row["shadow_values"]])
        assert lam.shape == E.shape
        zero = E == 0
        assert np.all(lam[zero] == np.inf)
        fd = np.full_like(E, np.inf)
        for st_ in range(E.shape[0]):
            for t in range(E.shape[1]):
                if zero[st_, t]:
                    continue
                h = 1e-6 * E[st_, t]
                up, dn = E[st_].copy(), E[st_].copy()
                up[t] += h
                dn[t] -= h
                u = state_utility(pop, k, np.array([up, dn]))
                fd[st_, t] = (u[0] - u[1]) / (2 * h)
        np.testing.assert_allclose(lam, fd, rtol=1e-6, err_msg=row["name"])
        paid = np.array(row["bids"]["electricity"]) > 0
        assert np.all(E[1, paid] < E[0, paid])
        assert np.all(lam[1, paid] > lam[0, paid])


def _with_states(states):
    def edit(d):
        d.pop("verification", None)
        d["states"] = states
    return edit


CALM = {"fixed": 0.001, "share": 0.0}
CONGESTED = {"fixed": 0.01, "share": 0.05}


@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_splitting_a_state_in_two_identical_states_changes_nothing(concept):
    """Expected utility only sees ``Σ_s π_s u(E_s)``, and consumption in identical states is
    identical, so the two_states example with its congested state (π = 0.3) split into two
    identical states (0.1 and 0.2) is the same economy: same prices, bids, offers and
    utilities (to 1e-10), same consumption in each copy as in the original state."""
    base = _sol(concept)
    split = edited(example(NAME), _with_states([
        {"probability": 0.7, "verification": CALM},
        {"probability": 0.1, "verification": CONGESTED},
        {"probability": 0.2, "verification": CONGESTED}]))
    s = solve(split, concept)
    assert s.status is Status.EQUILIBRIUM, s.reason
    kw = dict(rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(s.prices, base.prices, **kw)
    np.testing.assert_array_equal(s.profile.consumer_bids > 0, base.profile.consumer_bids > 0)
    np.testing.assert_allclose(s.profile.consumer_bids, base.profile.consumer_bids, **kw)
    np.testing.assert_allclose(s.profile.producer_bids, base.profile.producer_bids, **kw)
    np.testing.assert_allclose(s.profile.offers, base.profile.offers, **kw)
    for role in ("consumers", "producers"):
        a, b = getattr(s.outcome, role), getattr(base.outcome, role)
        np.testing.assert_allclose(a.utility, b.utility, **kw)
        for k, orig in ((0, 0), (1, 1), (2, 1)):
            np.testing.assert_allclose(a.consumption[:, k], b.consumption[:, orig], **kw)


@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_buyers_plan_for_the_expected_cost(concept):
    """Bids are chosen before the state is known, so a buyer weighs the expected cost of a
    payment: the two-state chain costs more in expectation than the calm state alone and
    less than the congested state alone, so the smallest buyers (edge) pay on at least as
    many hours as under the congested chain and at most as many as under the calm one, and
    strictly fewer than under the calm one (the example's header)."""
    count = {}
    for label, states in (("calm", [{"probability": 1.0, "verification": CALM}]),
                          ("congested", [{"probability": 1.0, "verification": CONGESTED}])):
        s = solve(edited(example(NAME), _with_states(states)), concept)
        assert s.status is Status.EQUILIBRIUM, (label, s.reason)
        count[label] = int((s.profile.consumer_bids[2, 1:] > 0).sum())
    both = int((_sol(concept).profile.consumer_bids[2, 1:] > 0).sum())
    assert count["congested"] <= both < count["calm"], (count, both)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(st.floats(0.05, 1.0), min_size=2, max_size=4),
       st.lists(st.floats(0.0, 0.3), min_size=4, max_size=4),
       st.sampled_from([-3.0, -1.0, -0.5, 0.3, 0.8]),
       st.lists(st.floats(0.01, 5.0), min_size=2, max_size=2),
       st.lists(st.floats(0.05, 1.0), min_size=2, max_size=2))
def test_ces_over_share_only_states_is_one_states_utility_scaled(p, shares, r, x, a):
    """Without fixed costs consumption is ``E_s = (1 - κ_s) x``, and an ``ai`` CES utility
    ``u(E) = (Σ_t a_t E_t^r)^{1/r}`` is homogeneous of degree one, so ``Σ_s π_s u(E_s)`` is
    ``u(x) Σ_s π_s (1 - κ_s)`` (docs/model.md, The certificate). The certificate's separable
    form ``Σ_s w_s Σ_t a_t E_st^r / r`` with its state weights must give, through the CES
    transform ``(rV)^{1/r}``, exactly that expected utility, computed here by hand."""
    from emgame.agents.problem import _state_weights
    from emgame.market.utility import ces_from_separable

    S = len(p)
    pi = np.array(p) / sum(p)
    kappa = np.array(shares[:S])
    x, a = np.array(x), np.array(a)

    def edit(d):
        d.pop("verification", None)
        d["states"] = [{"probability": float(pi[s]),
                        "verification": {"fixed": 0.0, "share": float(kappa[s])}}
                       for s in range(S)]
        d["producers"][0]["utility"] = {"family": "ces", "weights": a.tolist(), "r": r}

    e = edited(example("increasing_returns"), edit)
    w = _state_weights(e, e.producers, np.array([True]))[0]
    E = (1.0 - e.shares)[:, None] * x[None, :]
    by_hand = float(pi @ ((a[None, :] * E ** r).sum(axis=1) ** (1.0 / r)))
    V = float((w[:, None] * a[None, :] * E ** r / r).sum())
    assert float(ces_from_separable(np.array([V]), np.array([r]))[0]) == pytest.approx(
        by_hand, rel=1e-12)
