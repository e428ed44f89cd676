"""Economies without an active equilibrium (docs/model.md sections 3 and 6): each must be reported
as
``no-equilibrium-found`` with a reason naming the type (and post) responsible — never a crash,
never a last iterate passed off as an equilibrium.

The reasons are the model's: by (4) a lone seller that values its own post's good gets back
every bytecoin it bids there (Q_-j = 0), so it bids without bound; by (2) likewise a lone
consumer that values goods; an all-ai economy whose capacity cannot absorb the goods supply has
worthless goods (p^0 → 0); a lone producer valuing only goods facing unit-elastic (Cobb–Douglas)
demand earns the same revenue at any output, so it shrinks output to nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from emgame import Status, solve
from oracles import cd, consumer, economy, producer


def _lone_producer_values_electricity():
    return economy("lone producer", 2, [consumer("buyers", 5, 1.0, cd(0.5, 0.5))],
                   [producer("monopolist", 1, 2.0, 0.8, cd(0.3, 0.7), capacity=10.0)])


def _lone_classic_consumer():
    return economy("lone consumer", 1,
                   [consumer("hermit", 1, 2.0, cd(0.5, goods=0.5), kind="classic")],
                   [producer("plants", 3, 1.0, 0.8, cd(1.0), capacity=10.0)])


def _binding_capacity_all_ai():
    # Σ_j n_j Σ_t φ(K) = 2 · 2 · (1/1)^(1/0.8) = 4 < Ω = 10 · 1 = 10.
    return economy("capacity binds", 2, [consumer("c", 10, 1.0, cd(0.5, 0.5))],
                   [producer("p", 2, 1.0, 0.8, cd(0.5, 0.5), capacity=1.0)])


def _lone_producer_values_goods_only():
    return economy("lone goods-only producer", 1,
                   [consumer("buyers", 5, 1.0, cd(1.0))],
                   [producer("monopolist", 1, 1.5, 1.0, cd(0.0, goods=1.0), kind="classic",
                             capacity=100.0)])


_SOLVED: dict = {}


def _nash(case: str):
    """The Nash solve of a case, once per process (the goods-only monopolist takes seconds)."""
    if case not in _SOLVED:
        _SOLVED[case] = solve(CASES[case][0](), "nash")
    return _SOLVED[case]


CASES = {
    "lone producer values electricity": (_lone_producer_values_electricity, "monopolist"),
    "lone classic consumer values goods": (_lone_classic_consumer, "hermit"),
    "all-ai, capacity binds before goods are used": (_binding_capacity_all_ai, None),
    "lone producer values only goods, Cobb-Douglas buyers": (_lone_producer_values_goods_only,
                                                             "monopolist"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_equilibrium_is_reported_as_such(case):
    """status no-equilibrium-found, a reason, no equilibrium claimed (see module notes)."""
    s = _nash(case)
    assert s.status is Status.NO_EQUILIBRIUM, (s.status, s.reason)
    assert not s.ok
    assert s.reason
    d = s.to_dict()
    assert d["status"] == "no-equilibrium-found" and d["reason"]


@pytest.mark.parametrize("case", ["lone producer values electricity",
                                  "lone classic consumer values goods"])
def test_sole_seller_reason_names_the_type_and_post(case):
    """The sole-seller reasons name the type and the post (docs/model.md, Solution concepts)."""
    _, name = CASES[case]
    s = _nash(case)
    assert f"'{name}'" in s.reason
    assert ("post" in s.reason)


def test_worthless_goods_reason_names_the_cause():
    """All-ai with Σ_j n_j Σ_t φ_j(K̄_j) < Ω: the reason says goods are worthless and gives the
    two numbers (4 and 10 here), so the user sees which constraint binds."""
    s = solve(_binding_capacity_all_ai(), "nash")
    assert "worthless" in s.reason
    assert "4" in s.reason and "10" in s.reason
    c = solve(_binding_capacity_all_ai(), "competitive")  # the same for the benchmark (§3)
    assert c.status is Status.NO_EQUILIBRIUM and "worthless" in c.reason


def test_lone_goods_only_producer_reason_names_the_type():
    """docs/model.md, Solution concepts: '… shrinks its output to nothing — and the solver must say
    so'. The reason
    should name the producer type."""
    s = _nash("lone producer values only goods, Cobb-Douglas buyers")
    assert "monopolist" in s.reason


def test_lone_goods_only_producer_has_no_candidate_passed_off():
    """Whatever the solver keeps for diagnosis is not called an equilibrium: if a candidate
    profile is kept, its certificate must not pass or the status says so."""
    s = _nash("lone producer values only goods, Cobb-Douglas buyers")
    assert s.status is not Status.EQUILIBRIUM
    if s.certificate is not None:
        assert not (s.certificate.passed and s.status is Status.EQUILIBRIUM)


@pytest.mark.parametrize("case", ["lone producer values electricity",
                                  "lone classic consumer values goods"])
def test_competitive_benchmark_is_unaffected_by_sole_sellers(case):
    """The sole-seller problem is strategic: price takers do not face it, so the competitive
    benchmark of the same economies exists and is certified (docs/model.md, Solution concepts)."""
    build, _ = CASES[case]
    c = solve(build(), "competitive")
    assert c.status is Status.EQUILIBRIUM, c.reason
    assert c.certificate.passed
    assert np.all(np.isfinite(c.relative_prices))


def test_a_classic_type_restores_the_equilibrium():
    """docs/model.md, Prices and allocations: giving some type a classic kind (goods valued)
    restores an equilibrium in
    the binding-capacity economy. Here the producers: the goods they cannot use as inputs are
    now worth keeping, so goods keep a positive price; capacity binds (q = K̄, μ > 0)."""
    e = economy("capacity binds, classic producers", 2,
                [consumer("c", 10, 1.0, cd(0.5, 0.5))],
                [producer("p", 2, 1.0, 0.8, cd(0.25, 0.25, goods=0.5), kind="classic",
                          capacity=1.0)])
    s = solve(e, "nash")
    assert s.status is Status.EQUILIBRIUM, s.reason
    np.testing.assert_allclose(s.profile.offers, 1.0, rtol=1e-12)
    assert np.all(s.multipliers.producer_capacity > 0)


def _binding_capacity_classic_consumers(dc: float):
    # Inputs at capacity: 2 · 2 · 1 = 4; the classic households can buy back at most their own
    # endowment, 2 · 0.5; the ai data centres hold 10 · dc of the goods, which only the
    # producers can use.
    return economy("capacity binds, classic households", 2,
                   [consumer("data-centres", 10, dc, cd(0.5, 0.5)),
                    consumer("households", 2, 0.5, cd(0.2, 0.2, goods=0.6), kind="classic")],
                   [producer("p", 2, 1.0, 0.8, cd(0.5, 0.5), capacity=1.0)])


@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_classic_consumers_cannot_absorb_more_goods_than_they_own(concept):
    """docs/model.md, Prices and allocations, the limit of 'a classic kind restores equilibrium': a
    classic consumer's
    income is p^0 ω_h, so by (2) it buys back at most ω_h of goods. With ai producers at
    capacity, goods demand is at most 4 + 2·0.5 = 5 < Ω = 11: excess supply of goods at any
    p^0 > 0, no active equilibrium, and the reason gives the numbers and names the type."""
    s = solve(_binding_capacity_classic_consumers(1.0), concept)
    assert s.status is Status.NO_EQUILIBRIUM and not s.ok
    assert "households" in s.reason and "11" in s.reason and "4" in s.reason


def test_classic_consumers_restore_the_equilibrium_when_producers_can_use_the_rest():
    """The control: when the data centres hold 10 · 0.3 = 3 ≤ 4 of the goods (what producers
    can use at capacity), 4 + 1 ≥ Ω = 4, the bound no longer rules an equilibrium out and the
    solver finds (and certifies) one, in both concepts."""
    e = _binding_capacity_classic_consumers(0.3)
    for concept in ("nash", "competitive"):
        s = solve(e, concept)
        assert s.status is Status.EQUILIBRIUM, s.reason
        assert s.certificate.passed


def test_price_taking_cobb_douglas_consumers_absorb_a_fixed_share_of_goods():
    """The benchmark's sharper bound: a price-taking Cobb–Douglas classic consumer spends the
    share a_0/(a_0 + Σa) = 0.4 of its income p^0 ω on goods whatever the prices, so it buys
    back 0.4 ω. Producers use at most 2 · 2 · 1 = 4 as inputs at capacity: 4 + 0.4 · 10 = 8 <
    Ω = 10, so no competitive equilibrium; the reason gives the numbers and names the type."""
    e = economy("capacity binds, Cobb-Douglas households", 2,
                [consumer("households", 5, 2.0, cd(0.3, 0.3, goods=0.4), kind="classic")],
                [producer("p", 2, 1.0, 0.8, cd(0.5, 0.5), capacity=1.0)])
    c = solve(e, "competitive")
    assert c.status is Status.NO_EQUILIBRIUM and not c.ok
    assert "households" in c.reason and "fixed share" in c.reason
    assert "4" in c.reason and "10" in c.reason


def test_increasing_returns_without_benchmark_names_the_type():
    """docs/model.md, Solution concepts: with c > 1 the price at full capacity can fall below
    average cost, and then
    there is no competitive equilibrium; the reason should name the producer type. Here
    6 buyers spend 3 per period; 3 producers (θ = 1, c = 1.2, K̄ = 10) at full capacity sell
    30 units at 0.1 goods each, below their average cost φ(10)/10 = 10^{1/1.2}/10 ≈ 0.68."""
    e = economy("increasing returns", 2, [consumer("c", 6, 1.0, cd(0.5, 0.5))],
                [producer("p", 3, 1.0, 1.2, cd(0.5, 0.5), capacity=10.0)])
    c = solve(e, "competitive")
    assert c.status is Status.NO_EQUILIBRIUM
    assert "'p'" in c.reason


def test_a_shut_down_that_would_leave_a_sole_seller_is_named():
    """Shutting a type down is tried only where the rest can have an equilibrium: without the
    entrants, the single monopolist would be the only seller of electricity it values, which
    by (4) gets back its own bids (no equilibrium, section 6). The search says so in what it
    tried, rather than passing over that set in silence."""
    import time

    from emgame._numerics import clock
    from emgame.solve import Options, _shut_down

    e = economy("monopolist and entrants", 2, [consumer("buyers", 5, 1.0, cd(0.5, 0.5))],
                [producer("monopolist", 1, 2.0, 0.8, cd(0.3, 0.7), capacity=10.0),
                 producer("entrants", 2, 1.0, 1.0, cd(0.5, 0.5), capacity=10.0)])
    tried: list[str] = []
    found = _shut_down(e, Options(), [(1,)], {}, time.perf_counter(), clock() + 10.0, tried,
                       None, [])
    assert found is None
    assert len(tried) == 1
    assert tried[0].startswith("without ['entrants']: no equilibrium without them")
    assert "'monopolist'" in tried[0] and "only seller" in tried[0]
