"""The outputs of a Solution (emgame.results, emgame._columns): the JSON document, the pandas
frame, the summary, and the quantities computed from the profile for them — markups split into
market power and scarcity, profits (docs/model.md, "Outputs", "Markups: market power and
scarcity", "Welfare").

Oracles: every flat column equals the JSON value it flattens; the certificate's per-type arrays
are read once per document (the JSON path was quadratic); the long-run capacity condition
(scarcity rents add up to ρ); the Cournot closed form (market power (P/(P−1))², no scarcity);
a price taker at capacity (market power 1, the whole markup scarcity); the first welfare
theorem (the deadweight loss of market power is not negative).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pytest

from emgame import Certificate, Solution, Status, solve
from emgame.analysis.compare import compare
from oracles import CATALOGUE, cd, consumer, economy, producer, solved

SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")


@dataclass(frozen=True, eq=False)
class CountingCertificate(Certificate):
    """A certificate that counts how often its per-type pass arrays are computed."""

    calls: list = None  # type: ignore[assignment]

    @property
    def consumer_passed(self) -> np.ndarray:
        self.calls.append("consumer")
        return super().consumer_passed

    @property
    def producer_passed(self) -> np.ndarray:
        self.calls.append("producer")
        return super().producer_passed


def _with_counting(sol: Solution) -> tuple[Solution, list]:
    c = sol.certificate
    calls: list = []
    cert = CountingCertificate(c.consumer_regret, c.producer_regret, c.consumer_utility,
                               c.producer_utility, c.atol, c.rtol, c.method, c.notes,
                               c.details, calls=calls)
    from dataclasses import replace

    return replace(sol, certificate=cert), calls


def _many_types(n: int = 60):
    """A small economy spread over ``n`` consumer types (slack capacity)."""
    cons = [consumer(f"c{k}", 1 + k % 3, 0.5 + 0.01 * k, cd(0.3 + 0.004 * k, 0.7 - 0.004 * k))
            for k in range(n)]
    return economy("many", 2, cons, [producer("p", 3, 2.0, 0.8, cd(0.5, 0.5),
                                              capacity=1e3)])


@pytest.fixture(scope="module")
def many():
    sol = solve(_many_types())
    assert sol.ok, sol.reason
    return sol


def test_the_certificate_is_read_once_per_document(many):
    """to_dict, to_frame and summary compute each role's pass array once, not once per type
    (issue 11: per-row cert.consumer_passed[i] made --json quadratic: 262 s at 10^5 types)."""
    sol, calls = _with_counting(many)
    d = sol.to_dict()
    assert len(d["consumers"]) == 60
    assert calls.count("consumer") <= 2 and calls.count("producer") <= 2  # rows + passed
    calls.clear()
    sol.to_frame()
    assert calls.count("consumer") <= 2


def test_frame_is_the_json_flattened(many):
    """One row per type (consumers, then producers); every flat column equals the JSON value
    it comes from; names are usable in R and Stata."""
    df = many.to_frame()
    d = many.to_dict()
    assert len(df) == len(d["consumers"]) + len(d["producers"])
    assert list(df["role"][:60]) == ["consumer"] * 60 and df["role"].iloc[-1] == "producer"
    assert all(SAFE.match(c) for c in df.columns), [c for c in df.columns if not SAFE.match(c)]
    for i, row in enumerate(d["consumers"]):
        r = df.iloc[i]
        assert r["name"] == row["name"] and r["count"] == row["count"]
        assert r["bid_goods"] == row["bids"]["goods"]
        assert [r["bid_1"], r["bid_2"]] == row["bids"]["electricity"]
        assert [r["electricity_1"], r["electricity_2"]] == row["electricity"]
        assert [[r["consumption_1"], r["consumption_2"]]] == row["consumption"]
        assert r["utility"] == row["utility"] and r["certified"] == row["certified"]
    p = df.iloc[-1]
    prow = d["producers"][0]
    assert [p["offer_1"], p["offer_2"]] == prow["offers"]
    assert [p["markup_1"], p["markup_2"]] == prow["markups"]
    assert np.isnan(df["offer_1"].iloc[0])  # a producer column on a consumer row
    assert df.attrs["emgame"]["status"] == "equilibrium"


def test_summary_is_the_document_without_rows(many):
    d = many.to_dict()
    s = many.summary()
    assert s["types"] == {"consumers": 60, "producers": 1}
    assert "consumers" not in s and "producers" not in s
    for k in ("status", "prices", "relative_prices", "totals", "certificate"):
        assert s[k] == d[k]
    json.dumps(s, allow_nan=False)


@pytest.mark.parametrize("name", list(CATALOGUE))
@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_normalised_goods_price_is_exactly_one(name, concept):
    """docs/model.md, "Normalisation": the reported p^0 is exactly 1 (it was
    1.0000000000000004 where B^0/Ω rounded), and the nominal electricity prices are then
    the relative prices, exactly."""
    sol = solved(name, concept)
    if sol.outcome is None:
        pytest.skip(sol.reason)
    d = sol.to_dict()
    assert d["normalised"] is True
    assert d["prices"]["goods"] == 1.0
    assert d["prices"]["electricity"] == d["relative_prices"]


def test_a_solve_without_candidate_says_why():
    """Reading prices or per-type outputs of a solve that left no candidate raises a
    ValueError that says so (it was a bare AssertionError)."""
    e = _many_types(3)
    sol = Solution(e, "nash", Status.NO_EQUILIBRIUM, reason="sole seller on post 1")
    for read in (lambda: sol.relative_prices, lambda: sol.prices, sol.markups, sol.to_frame):
        with pytest.raises(ValueError, match="left no candidate.*sole seller"):
            read()
    d = sol.to_dict()
    assert d["status"] == "no-equilibrium-found" and d["consumers"] == []
    assert sol.summary()["types"] == {"consumers": 3, "producers": 1}


def test_per_type_flags_a_certificate_may_gain_are_reported(many):
    """A certificate with per-type ``inconclusive`` flags (a later extension) shows them in
    every output without further code."""
    c = many.certificate

    @dataclass(frozen=True, eq=False)
    class WithFlags(Certificate):
        consumer_inconclusive: np.ndarray = None  # type: ignore[assignment]
        producer_inconclusive: np.ndarray = None  # type: ignore[assignment]

    flags = np.zeros(60, bool)
    flags[3] = True
    cert = WithFlags(c.consumer_regret, c.producer_regret, c.consumer_utility,
                     c.producer_utility, consumer_inconclusive=flags,
                     producer_inconclusive=np.zeros(1, bool))
    from dataclasses import replace

    sol = replace(many, certificate=cert)
    d = sol.to_dict()
    assert [r["inconclusive"] for r in d["consumers"]][:5] == [False, False, False, True, False]
    assert bool(sol.to_frame()["inconclusive"].iloc[3])


# --------------------------------------------------------------------------------------------
# Markups: market power and scarcity.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("concept", ["nash", "competitive"])
@pytest.mark.parametrize("name", ["ai-cd", "peak-load", "ai-long-run", "classic-cd"])
def test_markup_is_market_power_times_scarcity(name, concept):
    sol = solved(name, concept)
    rent, power, scarcity = sol.markup_parts()
    np.testing.assert_allclose(power * scarcity, sol.markups(), rtol=1e-12)
    assert np.all(rent >= 0) and np.all(scarcity >= 1 - 1e-12)
    q, K = sol.profile.offers, sol.profile.capacity[:, None]
    assert np.all(rent[q < K * (1 - 1e-6)] == 0)  # a rent only where capacity binds


def test_a_price_taker_at_capacity_has_only_scarcity():
    """Peak load, competitive: the baseload producer at capacity sells above marginal cost
    (markup > 1) only because capacity binds: market power exactly 1, scarcity the markup."""
    sol = solved("peak-load", "competitive")
    rent, power, scarcity = sol.markup_parts()
    at_cap = sol.profile.offers >= sol.profile.capacity[:, None] * (1 - 1e-9)
    assert at_cap.any()
    assert np.all(sol.markups()[at_cap] > 1.01)
    np.testing.assert_allclose(power, 1.0, rtol=1e-8)
    np.testing.assert_allclose(scarcity[at_cap], sol.markups()[at_cap], rtol=1e-8)


@pytest.mark.parametrize("concept", ["nash", "competitive"])
def test_long_run_rents_pay_for_capacity(concept):
    """Long run: the chosen capacity K satisfies Σ_t μ^t = ρ ν, so the scarcity rents per unit
    of one producer add up to its capacity cost ρ (an independent check of the rent's
    formula, from the capacity condition the solver never reads)."""
    sol = solved("ai-long-run", concept)
    assert sol.ok
    rent, _, _ = sol.markup_parts()
    rho = sol.economy.producers.capacity_cost
    np.testing.assert_allclose(rent.sum(axis=1), rho, rtol=1e-6)


@pytest.mark.parametrize("P", [2, 4])
def test_cournot_market_power_in_closed_form(P):
    """Cournot (classic producers valuing goods only, c = 1, slack capacity, ai buyers):
    the Nash markup is (P/(P−1))², all of it market power."""
    e = economy("cournot", 1, [consumer("c", 6, 1.0, cd(1.0))],
                [producer("p", P, 1.5, 1.0, cd(0.0, goods=1.0), kind="classic",
                          capacity=1e3)])
    sol = solve(e)
    assert sol.ok
    _, power, scarcity = sol.markup_parts()
    np.testing.assert_allclose(power, (P / (P - 1)) ** 2, rtol=1e-8)
    np.testing.assert_allclose(scarcity, 1.0)


def test_profits_by_definition():
    """π_j = Σ_t (p^t/p^0) q_j^t − Σ_t φ_j(q_j^t) (− ρK_j in the long run)."""
    for name in ("ai-cd", "ai-long-run"):
        sol = solved(name)
        e, prof = sol.economy, sol.profile
        phi = (prof.offers / e.producers.productivity[:, None]) ** (
            1 / e.producers.returns[:, None])
        expected = prof.offers @ sol.relative_prices - phi.sum(axis=1)
        if e.market.long_run:
            expected -= e.producers.capacity_cost * prof.capacity
        np.testing.assert_allclose(sol.profits(), expected, rtol=1e-10)


@pytest.mark.parametrize("name", [n for n in CATALOGUE
                                  if n not in ("ai-verification", "classic-quasilinear-c1")])
def test_no_negative_deadweight_loss(name):
    """First welfare theorem: the Nash allocation is feasible, the competitive one efficient,
    so Σ_i n_i EV_i ≤ 0 at competitive prices: the deadweight loss is not negative (up to the
    solve's tolerance), and ΔCS + ΔPS = −DWL."""
    nash, comp = solved(name), solved(name, "competitive")
    if not (nash.ok and comp.ok):
        pytest.skip("no pair of equilibria")
    cmp = compare(nash, comp)
    w = cmp.welfare_dict()
    if not w["equivalent_variation_complete"]:
        pytest.skip("some type has no EV")
    scale = float(np.sum(np.abs(np.concatenate([cmp.consumer_income, cmp.producer_income]))
                         * np.concatenate([nash.economy.consumers.count,
                                           nash.economy.producers.count])))
    assert w["deadweight_loss"] >= -1e-7 * scale
    assert w["consumer_surplus"] + w["producer_surplus"] == pytest.approx(
        -w["deadweight_loss"], abs=1e-12 * scale)
