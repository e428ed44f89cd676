"""``solve_all`` (every certified equilibrium from many starts) and split equilibria.

The economy: T = 2, four ``ai`` consumers with CRRA utility (γ = 1/2, weights 1/2, 1/2, so an
hour without electricity costs a finite amount), each endowed with one unit of goods; two
``classic`` producers who value goods only, ``q = φ^c`` (θ = 1), slack capacity; a fixed
verification cost ``v`` on each electricity post, none on the goods post.

Closed forms (docs/model.md, sections 3-4). Consumers spend their income ``p^0 ω = 1`` (B^0 = Ω
= 4) on electricity; each producer sells ``q`` per traded post and bids its revenue ``R`` on
goods. Producer's goods ``R Ω/(R + B^0_-) − Σ_t q^{1/c}``; at the symmetric point ``R = B^0_- = 2``
so ``d/dR = Ω B^0_-/(R + B^0_-)^2 = 1/2``, and ``dR/dq = B^t Q_-/Q^2 = B^t/(4q)`` per post:

- active (every consumer pays 1/2 on each post, ``B^t = 2``): ``1/(4q) = q^{1/c-1}/c`` so
  ``q = (c/4)^c``, ``p^t = B^t/Q^t = 1/q``;
- one post inactive (every consumer pays 1 on post 1, nobody bids or offers on post 2):
  ``B^1 = 4``, ``1/(2q) = q^{1/c-1}/c`` so ``q = (c/2)^c``, ``p^1 = 2/q``; by the symmetry of
  the periods, the mirror image (post 2 only) too;
- split (two consumers pay 1 on post 1 only, two on post 2 only): ``B^t = 2`` as in the active
  one, ``q = (c/4)^c``, ``p^t = 1/q``.

Every equilibrium reported is also re-checked by the campaign's independent checker
(benchmarks/campaign/check.py: a global best response per type that shares no code with the
solvers or the certificate).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pytest
from benchmarks.campaign.check import check_nash
from typer.testing import CliRunner

import emgame
from emgame.equilibria import solve_all, split_economy

C = 0.8

TOML = """
name = "symmetric periods, fixed verification cost {v}"
periods = 2
[market]
settlement = "simultaneous"
horizon = "short-run"
[verification]
fixed = [0.0, {v}, {v}]
share = 0.0
[[consumers]]
name = "dc"
count = 4
kind = "ai"
endowment = 1.0
utility = {{ family = "crra", gamma = 0.5, weights = [0.5, 0.5] }}
[[producers]]
name = "solar"
count = 2
kind = "classic"
productivity = 1.0
returns = {c}
capacity = 1000.0
utility = {{ family = "cobb_douglas", weights = [0.0, 0.0], goods_weight = 1.0 }}
"""


def economy(tmp_path: Path, v: float) -> emgame.Economy:
    f = tmp_path / f"sym-{v}.toml"
    f.write_text(TOML.format(v=v, c=C))
    return emgame.load_economy(f)


def crra(E: np.ndarray) -> float:
    return float(np.sum(0.5 * 2.0 * np.sqrt(np.maximum(E, 0.0))))


def independently_checked(found) -> None:
    for f in found:
        chk = check_nash(f.solution.economy, f.solution.profile)
        assert chk.ok and chk.max_relative_gain <= 1e-7, chk.to_dict()


def test_inactive_post_and_active_equilibria_with_their_counts(tmp_path: Path) -> None:
    """Fixed verification cost v = 0.08: the active equilibrium and the two inactive-post ones
    (a symmetric pair) are all found, certified, at their closed-form prices."""
    result = solve_all(economy(tmp_path, 0.08), "nash", starts=8, seed=1)
    assert result.ok and result.starts == 8
    assert sum(f.count for f in result.equilibria) <= result.starts
    q_act, q_one = (C / 4) ** C, (C / 2) ** C
    active = [f for f in result.equilibria if f.active]
    assert len(active) == 1 and active[0].symmetric
    np.testing.assert_allclose(active[0].solution.relative_prices, [1 / q_act] * 2, rtol=1e-8)
    np.testing.assert_allclose(active[0].solution.profile.offers, q_act, rtol=1e-8)
    rel = sorted(tuple(np.nan_to_num(f.solution.relative_prices)) for f in result.equilibria
                 if not f.active)
    np.testing.assert_allclose(rel, [(0.0, 2 / q_one), (2 / q_one, 0.0)], rtol=1e-8)
    for f in result.equilibria:
        assert f.solution.certificate.passed and f.count >= 1
    independently_checked(result.equilibria)
    d = result.to_dict()
    assert d["found"] == 3 and d["active_found"] == 1
    assert sum(e["starts_reached"] for e in d["equilibria"]) == sum(f.count for f in result)
    json.dumps(d, allow_nan=False)


def test_split_equilibrium_where_no_active_symmetric_one_exists(tmp_path: Path) -> None:
    """v = 0.12: at the symmetric active profile a consumer gains by paying on one post only
    (closed form below), so no active type-symmetric equilibrium; the split 2 + 2 (two on each
    post) is one, at the active prices ``1/q``, ``q = (c/4)^c``."""
    v = 0.12
    q = (C / 4) ** C
    Q = 2 * q
    stay = crra(np.array([0.5 * Q / 2 - v, 0.5 * Q / 2 - v]))
    switch = crra(np.array([1.0 * Q / 2.5 - v, 0.0]))   # B^1 = 1.5 others + 1 own
    assert switch > stay
    result = solve_all(economy(tmp_path, v), "nash", starts=6, seed=0, split=True)
    assert all(not f.active for f in result.symmetric)
    splits = [f for f in result.split if f.active]
    assert len(splits) >= 1
    f = splits[0]
    (s,) = f.split
    assert s.type == "dc" and sorted(g.count for g in s.groups) == [2.0, 2.0]
    assert sorted(g.posts for g in s.groups) == [(1,), (2,)]
    np.testing.assert_allclose(f.solution.relative_prices, [1 / q, 1 / q], rtol=1e-8)
    assert f.solution.economy.consumers.names == ("dc/A", "dc/B")
    independently_checked(result.equilibria)
    d = result.to_dict()["equilibria"]
    assert any(e["split"] and e["split"][0]["type"] == "dc" for e in d)


def test_split_economy_keeps_the_agents_and_their_parameters(tmp_path: Path) -> None:
    """Splitting a type conserves its agents and copies its parameters."""
    e = economy(tmp_path, 0.1)
    s = split_economy(e, "consumers", 0, (1.0, 3.0))
    assert s.consumers.count.tolist() == [1.0, 3.0]
    assert s.goods_supply == pytest.approx(e.goods_supply)
    np.testing.assert_array_equal(s.consumers.weights, np.repeat(e.consumers.weights, 2, 0))


def test_cli_all_json_and_tables(tmp_path: Path) -> None:
    """``emgame solve FILE --all``: JSON with every equilibrium and its count; a table."""
    from emgame.cli import app

    f = tmp_path / "sym.toml"
    f.write_text(TOML.format(v=0.08, c=C))
    runner = CliRunner()
    r = runner.invoke(app, ["solve", str(f), "--all", "--starts", "4", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["status"] == "equilibrium" and d["starts"] == 4 and d["found"] >= 1
    assert all(e["certificate"]["passed"] for e in d["equilibria"])
    r = runner.invoke(app, ["solve", str(f), "--all", "--starts", "4", "--quiet"])
    assert r.exit_code == 0
    r = runner.invoke(app, ["solve", str(f), "--all", "--starts", "3"],
                      env={"COLUMNS": "60"})
    assert r.exit_code == 0 and "Equilibria found" in r.output


def test_competitive_split_in_fractions(tmp_path: Path) -> None:
    """Competitive benchmark, v = 0.3. Price-taking producers: ``p = q^{1/c-1}/c``; each
    post's demand ``2/p`` (two bytecoins per post whichever way the consumers pay) equals the
    supply ``2q``, so ``q = 1/p`` and ``p^{1/c} = 1/c``: ``p = c^{-c}``. Paying on both posts at
    these prices gives ``2√(1/(2p) − v)``, on one ``√(1/p − v)``, which is more: no active
    type-symmetric benchmark; half the consumers on each post is one (``n_A = 2``,
    prices ``c^{-c}``)."""
    v = 0.3
    p = C ** (-C)
    assert np.sqrt(1 / p - v) > 2 * np.sqrt(1 / (2 * p) - v)
    result = solve_all(economy(tmp_path, v), "competitive", starts=3, seed=0)
    assert not any(f.active for f in result.symmetric)
    (f,) = [f for f in result.split if f.active][:1]
    (s,) = f.split
    np.testing.assert_allclose(sorted(g.count for g in s.groups), [2.0, 2.0], rtol=1e-6)
    assert sorted(g.posts for g in s.groups) == [(1,), (2,)]
    np.testing.assert_allclose(f.solution.relative_prices, [p, p], rtol=1e-8)
    assert f.solution.certificate.passed


FOUR_HOURS = """
name = "four alike hours, fixed verification cost {v}"
periods = 4
[market]
settlement = "simultaneous"
horizon = "short-run"
[verification]
fixed = [0.0, {v}, {v}, {v}, {v}]
share = 0.0
[[consumers]]
name = "anchor"
count = 2
kind = "ai"
endowment = 1.0
utility = {{ family = "cobb_douglas", weights = [1, 1, 1, 1] }}
[[consumers]]
name = "dc"
count = 12
kind = "ai"
endowment = 0.5
utility = {{ family = "crra", gamma = 0.5, weights = [1, 1, 1, 1] }}
[[producers]]
name = "solar"
count = 2
kind = "classic"
productivity = 1.0
returns = {c}
capacity = 1000.0
utility = {{ family = "cobb_douglas", weights = [0.0, 0.0, 0.0, 0.0], goods_weight = 1.0 }}
"""


def test_a_type_spread_over_more_than_two_sets_of_alike_posts(tmp_path: Path) -> None:
    """Four hours weighed alike, twelve CRRA buyers ``dc`` beside two Cobb–Douglas ones (who
    pay on every hour) and a fixed verification cost v = 0.03. Every ``dc`` on the same two
    hours is a type-symmetric equilibrium (the independent checker's global best response
    gains nothing); beside it, the split search (two groups, then
    better-response moves of agents between sets of hours, as many groups as it takes) finds
    ``dc`` spread over more sets, certified and re-checked independently.

    Closed form where every hour has as many ``dc`` payers: the anchors spend 1/4 of their
    income on each hour and a ``dc`` its 0.5 evenly over its hours (their prices are equal),
    so every hour's total bids are the same, ``B^t = Ω/4 = 2`` (``Ω = B^0 = 8``), and the
    producers' condition is that of the module docstring's active equilibrium:
    ``q = (c/4)^c``, ``p^t/p^0 = 1/q`` in every hour."""
    f = tmp_path / "four.toml"
    f.write_text(FOUR_HOURS.format(v=0.03, c=C))
    e = emgame.load_economy(f)
    sym = emgame.solve(e, "nash")
    assert sym.ok, sym.reason
    assert np.sum(sym.profile.consumer_bids[1, 1:] > 0) == 2
    assert check_nash(e, sym.profile).ok
    result = solve_all(e, "nash", starts=2, seed=0, max_seconds=240, split=True)
    splits = [f for f in result.split if f.active]
    assert splits, result.reason
    found = splits[0]
    (s,) = found.split
    assert s.type == "dc" and len({g.posts for g in s.groups}) >= 2
    assert sum(g.count for g in s.groups) == 12 and all(g.count >= 1 for g in s.groups)
    assert all(float(g.count).is_integer() for g in s.groups)  # Nash: whole agents
    assert found.solution.certificate.passed
    independently_checked([found])
    payers = np.zeros(4)
    for g in s.groups:
        payers[[t - 1 for t in g.posts if t > 0]] += g.count
    if np.all(payers == payers[0]):
        np.testing.assert_allclose(found.solution.relative_prices, [(4 / C) ** C] * 4,
                                   rtol=1e-8)


INCREASING = """
name = "increasing returns beside decreasing (a random draw of the robustness campaign)"
periods = 2
[market]
settlement = "simultaneous"
horizon = "short-run"
goods_settlement_period = 2
[[consumers]]
name = "c0"
count = 2
kind = "ai"
endowment = 2.607
utility = { family = "crra", weights = [1.0, 0.0], gamma = 0.5 }
[[consumers]]
name = "c1"
count = 6
kind = "ai"
endowment = 0.7407
utility = { family = "crra", weights = [0.7987, 0.2013], gamma = 3.0 }
[[producers]]
name = "p0"
count = 3
kind = "ai"
productivity = 1.7083
returns = 0.6
capacity = 1000.0
utility = { family = "cobb_douglas", weights = [0.5215, 0.4785] }
[[producers]]
name = "p1"
count = 4
kind = "ai"
productivity = 1.3887
returns = 1.3
capacity = 0.681
utility = { family = "cobb_douglas", weights = [0.8013, 0.1987] }
"""


def test_increasing_returns_producers_split_by_where_they_produce(tmp_path: Path) -> None:
    """With ``c > 1`` producing on a post or not is a discrete choice (docs/model.md,
    Solution concepts): at the candidate where all four ``p1`` produce on both posts one of
    them gains by leaving post 2, and with all four off post 2 one gains by coming back (the
    campaign found no type-symmetric equilibrium here, nor did its independent solver). The
    output-split search holds two groups idle on different posts: three ``p1`` producing at
    capacity on both posts and one on post 1 only is certified (its certificate closes the
    increasing-returns gap by boxes of offers), and the independent checker (a global best
    response per type, sharing no code with the solvers or the certificate) finds no gain
    for any group."""
    from emgame.equilibria import _output_splits
    from emgame.solve import Options

    f = tmp_path / "increasing.toml"
    f.write_text(INCREASING)
    e = emgame.load_economy(f)
    found: list = []
    note = _output_splits(e, [1], Options(), time.monotonic() + 120.0, found, {})
    assert "a split found" in note, note
    (sol, _, (split,)), = found
    assert sol.certificate.passed and sol.economy.producers.names[1:] == ("p1/A", "p1/B")
    groups = {g.count: g for g in split.groups}
    assert set(groups) == {3.0, 1.0}
    assert groups[3.0].produces == (1, 2) and groups[1.0].produces == (1,)
    K = e.producers.capacity[1]
    np.testing.assert_allclose(sol.profile.offers[1], [K, K], rtol=1e-9)
    np.testing.assert_allclose(sol.profile.offers[2], [K, 0.0], rtol=1e-9, atol=1e-12)
    chk = check_nash(sol.economy, sol.profile)
    assert chk.ok and chk.max_relative_gain <= 1e-7, chk.to_dict()
    d = split.to_dict()
    assert sorted(tuple(g["produces"]) for g in d["groups"]) == [(1,), (1, 2)]


def test_empty_wallet_steady_states_are_named() -> None:
    """Under stationary prepaid wallets a producer type that does nothing has revenue 0, hence
    wallet 0, and can make no payment: the certificate passes it (docs/model.md, "The
    certificate", empty wallets), a steady state rather than a choice to stay out, so
    ``solve_all`` names such types (``empty_wallets``, JSON and tables). A type that produces
    is not named, nor one idle under simultaneous settlement."""

    from types import SimpleNamespace

    from emgame.equilibria import Found
    from emgame.market import Profile

    e = emgame.load_economy(Path(emgame.__file__).parent / "examples" / "prepaid.toml")
    assert e.market.prepaid and e.stationary_wallets
    s = emgame.solve(e, "nash")
    assert s.ok, s.reason
    p = s.profile
    assert Found(s, ("default",)).empty_wallets == ()
    pb, off = p.producer_bids.copy(), p.offers.copy()
    pb[0], off[0] = 0.0, 0.0
    idle = Profile(p.consumer_bids, pb, off, p.capacity)
    name = e.producers.names[0]
    assert Found(SimpleNamespace(economy=e, profile=idle), ()).empty_wallets == (name,)
    simult = e.replace(market=dataclasses.replace(e.market, settlement="simultaneous"))
    assert Found(SimpleNamespace(economy=simult, profile=idle), ()).empty_wallets == ()


def test_which_economies_may_have_split_equilibria(tmp_path: Path) -> None:
    """A type's agents may act in groups where paying on a post is a discrete choice (a fixed
    verification cost) or, for Nash, where an increasing-returns producer type has two agents
    or more (producing on a post or not); otherwise every equilibrium is type-symmetric."""
    from emgame.equilibria import splits_possible

    def econ(v: float, c: float) -> emgame.Economy:
        f = tmp_path / f"e-{v}-{c}.toml"
        f.write_text(TOML.format(v=v, c=c))
        return emgame.load_economy(f)

    assert splits_possible(econ(0.12, 0.8), "nash")
    assert splits_possible(econ(0.12, 0.8), "competitive")
    assert not splits_possible(econ(0.0, 0.8), "nash")
    assert splits_possible(econ(0.0, 1.3), "nash")
    assert not splits_possible(econ(0.0, 1.3), "competitive")


def test_failed_solve_points_to_the_split_search(tmp_path: Path, monkeypatch) -> None:
    """`emgame solve` looks for type-symmetric equilibria only: where it finds none and a split
    one may exist, it says that `--all` searches those; where none can exist it does not."""
    from emgame.cli import app
    from emgame.results import Solution, Status

    def failed(economy, concept="nash", **_):  # noqa: ANN001, ANN202
        return Solution(economy, concept, Status.NO_EQUILIBRIUM, reason="stub: not converged")

    monkeypatch.setattr(emgame, "solve", failed)
    for v, hinted in ((0.12, True), (0.0, False)):
        f = tmp_path / f"sym-{v}.toml"
        f.write_text(TOML.format(v=v, c=C))
        res = CliRunner().invoke(app, ["solve", str(f)])
        assert res.exit_code == 1, res.output
        assert "stub: not converged" in res.stderr
        assert ("--all` also searches split equilibria" in res.stderr) is hinted, res.stderr
