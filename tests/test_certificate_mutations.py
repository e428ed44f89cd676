"""Mutation test of the certificate (docs/model.md, Solution concepts): plant each kind of wrong
profile in a
certified equilibrium and show the certificate rejects it.

For every utility family (Cobb–Douglas, CRRA, CES; quasilinear, which is ``classic`` only),
both concepts (Nash, competitive) and both settlements (simultaneous; prepaid with stationary
wallets and ``β < 1``), the economy is solved, its certificate must pass, and then one type's
strategy is changed in one way an equilibrium must not allow:

* ``bid moved 1 %``: a consumer moves 1 % of its bid on period 1 to period 2 (spending
  unchanged);
* ``offer withheld``: a producer offers 1 % less on period 1, where its price is above its
  marginal cost;
* ``post not entered``: a consumer stops paying on period 2 (its bid moved to period 1), where
  a positive fixed verification cost makes paying a participation choice;
* ``capacity one step off`` (long run): a producer's capacity 1 % above, or below (offers
  clipped), the one it chose.

Every planted profile is feasible for the type that moved (its budget is restored by scaling
its electricity bids, as :func:`oracles.perturbed` does, and a producer short of goods for its
inputs and capacity offering less), so the verdict is about a gain, not an overspent budget.
The oracle is the model: an equilibrium maximises every agent's objective, so a strict change
of a maximiser is not one, and the certificate must not pass it — it must fail it (a type
whose regret bound is above the pass mark with a deviation exhibited, or a market that does
not clear), not merely be unable to decide. Every family, concept and settlement, the
quasilinear producer with market power and the long-run CES one under prepaid settlement
included, is decided.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from emgame import Status, Utility, solve
from emgame.certificate import certify
from emgame.market import Profile, evaluate
from emgame.model.economy import Market, State
from oracles import consumer, economy, producer

FAMILIES = ["cobb_douglas", "crra", "ces", "quasilinear"]
STEP = 0.01


def _utility(family: str, weights: tuple[float, float], goods: float) -> Utility:
    if family == "crra":
        return Utility("crra", weights, goods_weight=goods, gamma=0.5)
    if family == "ces":
        return Utility("ces", weights, goods_weight=goods, r=0.5)
    return Utility(family, weights, goods_weight=goods)


def _economy(family: str, settlement: str, long_run: bool):
    """Two periods, consumers and producers of one family, a small fixed verification cost."""
    classic = family == "quasilinear"
    kind = "classic" if classic else "ai"
    g = 1.0 if classic else 0.0
    wallet = "stationary" if settlement == "prepaid" else None
    cons = [replace(consumer("homes", 4, 2.0, _utility(family, (0.4, 0.6), g), kind=kind),
                    wallet=wallet)]
    prods = [replace(producer("solar", 3, 2.0, 0.8, _utility(family, (0.5, 0.5), 2.0 * g),
                              kind=kind, capacity=None if long_run else 10.0,
                              rho=0.1 if long_run else None), wallet=wallet)]
    market = Market(settlement=settlement, horizon="long-run" if long_run else "short-run",
                    discount=0.9 if settlement == "prepaid" else 1.0)
    return economy(f"{family} {settlement}", 2, cons, prods, market=market,
                   states=[State(1.0, (0.0, 0.002, 0.002), 0.0)])


_SOLVED: dict[tuple, object] = {}


def _solved(family: str, concept: str, settlement: str, long_run: bool):
    key = (family, concept, settlement, long_run)
    if key not in _SOLVED:
        _SOLVED[key] = solve(_economy(family, settlement, long_run), concept)
    return _SOLVED[key]


def _outcome(s, profile: Profile):
    return evaluate(s.economy, profile, s.outcome.prices if s.concept == "competitive" else None)


def _feasible(s, profile: Profile, role: str, i: int) -> Profile:
    """Scale type ``i``'s electricity bids down until its budget holds (and, for a producer,
    its goods left after inputs are not negative)."""
    for _ in range(200):
        play = getattr(_outcome(s, profile), role)
        scale = max(abs(play.spending[i]), abs(play.revenue[i]), 1e-300)
        short = play.goods[i] < -1e-12 * max(play.goods_received[i], 1e-300)
        if play.slack[i] >= -1e-12 * scale and not short:
            return profile
        cb, pb = profile.consumer_bids.copy(), profile.producer_bids.copy()
        offers = profile.offers.copy()
        if short:   # inputs and capacity cost more goods than it gets: offer less
            offers[i] *= 1.0 - STEP
        else:
            (pb if role == "producers" else cb)[i, 1:] *= 1.0 - 3.0 * STEP
        profile = Profile(cb, pb, offers, profile.capacity)
    raise AssertionError(f"could not make the planted profile feasible for {role}[{i}]")


def _plant(s, kind: str) -> Profile:
    p = s.profile
    cb, pb = p.consumer_bids.copy(), p.producer_bids.copy()
    offers, K = p.offers.copy(), p.capacity.copy()
    role = "consumers"
    if kind == "bid moved 1 %":
        d = STEP * cb[0, 1]
        cb[0, 1] += d
        cb[0, 2] -= d
    elif kind == "post not entered":
        cb[0, 1] += cb[0, 2]
        cb[0, 2] = 0.0
    elif kind == "offer withheld":
        role = "producers"
        offers[0, 0] *= 1.0 - STEP
    elif kind == "capacity one step up":
        role = "producers"
        K[0] *= 1.0 + STEP
    elif kind == "capacity one step down":
        role = "producers"
        K[0] *= 1.0 - STEP
        offers[0] = np.minimum(offers[0], K[0])
    else:  # pragma: no cover
        raise ValueError(kind)
    return _feasible(s, Profile(cb, pb, offers, K), role, 0)


def _rejected(s, profile: Profile, kind: str = "") -> tuple[bool, str]:
    """``(rejected, why)``: not passed, and for a reason that decides (a type fails with its
    bound above the pass mark, or a market does not clear) rather than 'inconclusive'. In the
    competitive benchmark, a consumer that buys 1 % more of period 1 at the benchmark's prices
    leaves that market uncleared: the certificate must see that too."""
    cert = certify(s.economy, profile, outcome=_outcome(s, profile),
                   price_taking=s.concept == "competitive")
    fails = [
        (role, i) for role, passed, inc in (
            ("consumers", cert.consumer_passed, cert.consumer_inconclusive),
            ("producers", cert.producer_passed, cert.producer_inconclusive))
        for i in np.flatnonzero(~passed & ~(inc if inc is not None else False))]
    why = (f"passed={cert.passed} cleared={cert.cleared} failing={fails} "
           f"reasons={cert.reasons} regret c={cert.consumer_regret} p={cert.producer_regret}")
    ok = (not cert.passed) and (bool(fails) or not cert.cleared)
    if s.concept == "competitive" and kind == "bid moved 1 %":
        ok = ok and not cert.cleared and float(cert.clearing[1]) > cert.rtol
    return ok, why


@pytest.mark.parametrize("settlement", ["simultaneous", "prepaid"])
@pytest.mark.parametrize("concept", ["nash", "competitive"])
@pytest.mark.parametrize("family", FAMILIES)
def test_planted_deviations_are_rejected(family, concept, settlement):
    """Short run: a bid moved 1 %, an offer above cost withheld, a post not entered."""
    s = _solved(family, concept, settlement, False)
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.certificate.passed
    if concept == "competitive":
        assert s.certificate.cleared and np.all(s.certificate.clearing <= s.certificate.rtol)
    for kind in ("bid moved 1 %", "offer withheld", "post not entered"):
        ok, why = _rejected(s, _plant(s, kind), kind)
        assert ok, (kind, why)


@pytest.mark.parametrize("settlement", ["simultaneous", "prepaid"])
@pytest.mark.parametrize("concept", ["nash", "competitive"])
@pytest.mark.parametrize("family", FAMILIES)
def test_a_long_run_capacity_one_step_off_is_rejected(family, concept, settlement):
    """Long run: the capacity 1 % above or below the chosen one (offers clipped below)."""
    s = _solved(family, concept, settlement, True)
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.certificate.passed
    for kind in ("capacity one step up", "capacity one step down"):
        ok, why = _rejected(s, _plant(s, kind), kind)
        assert ok, (kind, why)


@pytest.mark.parametrize("settlement", ["simultaneous", "prepaid"])
@pytest.mark.parametrize("concept", ["nash", "competitive"])
@pytest.mark.parametrize("family", FAMILIES)
def test_an_infeasible_plan_is_never_passed(family, concept, settlement):
    """A plan the market rules call infeasible has utility -inf (docs/model.md, Prices and
    allocations: a producer's goods must not fall below zero). Here a producer's capacity is
    raised until its capacity cost exceeds the goods it keeps (its goods fall below zero) and
    nothing else changes: the certificate must fail it and say it is infeasible. (Where the
    type's bound came out -inf as well, it once passed such a plan: the prepaid long-run case
    of tests/crypto/test_prepaid.py.)"""
    s = _solved(family, concept, settlement, True)
    assert s.status is Status.EQUILIBRIUM, s.reason
    p = s.profile
    K = p.capacity.copy()
    play = _outcome(s, p).producers
    # Enough capacity to cost more than the goods the producer keeps, and then some.
    rho = s.economy.producers.capacity_cost[0]
    K[0] += 2.0 * (play.goods[0] + 0.05 * play.goods_received[0]) / rho
    planted = Profile(p.consumer_bids, p.producer_bids, p.offers, K)
    assert _outcome(s, planted).producers.goods[0] < 0.0
    cert = certify(s.economy, planted, outcome=_outcome(s, planted),
                   price_taking=concept == "competitive")
    assert not cert.passed and not cert.producer_passed[0]
    assert not cert.producer_inconclusive[0]
    assert any("infeasible" in n for n in cert.notes), cert.notes
