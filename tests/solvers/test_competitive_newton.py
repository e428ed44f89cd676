"""The competitive benchmark's Newton method (docs/model.md, Solution concepts): its Jacobian is
the derivative of its excess demand, and under exogenous wallets it reaches a goods price far
from 1 (the nominal level is set by the wallets, docs/model.md, The crypto layer)."""

from __future__ import annotations

import warnings

import numpy as np

from emgame import Status, solve
from emgame.certificate import clearing
from emgame.solvers.competitive import _Benchmark
from oracles import from_toml

# Campaign draw 1-0035 (benchmarks/campaign): one period, exogenous wallets, β < 1. The
# quasilinear consumers are price takers with linear goods: goods take what their wallet
# leaves after electricity, so their goods row is not diagonal in the prices. Hand count: goods
# clear only where the quasilinear consumers buy goods, p^0 ≈ 0.1 (c0 buys goods below
# p^0 = 1.1028 · 0.1147/0.8853 ≈ 0.143, c2 below ≈ 0.102), far from the start p^0 = 1, where
# every bytecoin goes to electricity and goods demand (inputs at full capacity) does not move.
QUASILINEAR_WALLETS = """
name = "exogenous wallets, quasilinear price takers"
periods = 1
[market]
settlement = "prepaid"
horizon = "short-run"
goods_settlement_period = 1
discount = 0.927
[verification]
fixed = 0.0
share = 0.0
[[consumers]]
name = "c0"
count = 3
kind = "classic"
endowment = 1.1384
wallet = 1.1028
utility = { family = "quasilinear", weights = [0.8853], goods_weight = 0.1147 }
[[consumers]]
name = "c1"
count = 8
kind = "ai"
endowment = 0.9498
wallet = 1.5207
utility = { family = "ces", weights = [1.0], r = -0.5 }
[[consumers]]
name = "c2"
count = 8
kind = "classic"
endowment = 0.5083
wallet = 0.4669
utility = { family = "quasilinear", weights = [0.8213], goods_weight = 0.1787 }
[[producers]]
name = "p0"
count = 4
kind = "ai"
productivity = 0.9108
returns = 1.0
capacity = 1.0904
wallet = 1.8198
utility = { family = "ces", weights = [1.0], r = -0.5 }
"""


def test_the_jacobian_is_the_derivative_of_excess_demand():
    """Newton's Jacobian against central differences of the excess demand itself, at points
    where the linear-goods consumers buy goods (their goods row: ``x0 = (W - p x)/p^0``)."""
    bench = _Benchmark(from_toml(QUASILINEAR_WALLETS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # far-off trial prices on the way
        y0 = bench.level_goods(bench.initial())
    for shift in (np.zeros(2), np.array([0.8, 0.05]), np.array([2.0, -0.1])):
        y = y0 + shift
        F, J = bench(y, True)
        assert np.all(np.isfinite(J))
        fd = np.zeros_like(J)
        for k in range(y.size):
            h = 1e-6 * max(1.0, abs(y[k]))
            up, down = y.copy(), y.copy()
            up[k] += h
            down[k] -= h
            fd[:, k] = (bench(up, False)[0] - bench(down, False)[0]) / (2 * h)
        np.testing.assert_allclose(J, fd, rtol=1e-5, atol=1e-6 * np.abs(fd).max())


def test_exogenous_wallets_reach_a_goods_price_far_from_one():
    """The benchmark is found and certified; every market clears (electricity and goods, the
    conservation the certificate checks with its own outcome), the goods price is where the
    hand count puts it, and the campaign's independent checker (a global best response per
    type, no code shared with emgame) accepts it."""
    from benchmarks.campaign.check import check_competitive

    e = from_toml(QUASILINEAR_WALLETS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        s = solve(e, "competitive")
    assert s.status is Status.EQUILIBRIUM, s.reason
    assert s.certificate.passed
    assert np.all(clearing(e, s.profile, s.outcome) <= 1e-8)
    assert 0.05 < s.prices[0] < 0.143
    # Both quasilinear types buy goods there, as the hand count requires.
    assert np.all(s.profile.consumer_bids[[0, 2], 0] > 0)
    assert check_competitive(e, s.profile, s.prices).ok


# Campaign draw 0-0038: one period, the long run, a fixed verification cost of 0.02 on every
# payment (goods included, verified with period-1 electricity). `p1` (c = 0.8) must pay for
# its inputs, so it must buy at least 0.04 of electricity (0.02 for the goods payment, 0.02
# for the purchase itself); `p0` (c = 1) earns nothing.
FIXED_COST_LONG_RUN = """
name = "long run, every payment verified at a fixed cost"
periods = 1
[market]
settlement = "simultaneous"
horizon = "long-run"
goods_settlement_period = 1
[verification]
fixed = 0.02
share = 0.0
[[consumers]]
name = "c0"
count = 7
kind = "classic"
endowment = 1.8727
utility = { family = "ces", weights = [0.024], goods_weight = 0.976, r = 0.25 }
[[producers]]
name = "p0"
count = 1
kind = "ai"
productivity = 0.862
returns = 1.0
capacity_cost = 0.2743
utility = { family = "ces", weights = [1.0], r = 0.5 }
[[producers]]
name = "p1"
count = 4
kind = "ai"
productivity = 0.8725
returns = 0.8
capacity_cost = 0.1314
utility = { family = "crra", weights = [1.0], gamma = 0.5 }
"""


def test_a_failed_benchmark_says_what_the_types_could_not_do_where_it_ended():
    """Where Newton fails, the reason says which types could not act at its last iterate, and
    the diagnosis is true there: by hand, `p1`'s best long-run profit at that price (a price
    taker choosing K, q = K: max_K p K - (K/θ)^{1/c} - ρK, in goods) buys less electricity than
    the 0.04 its own payments burn."""
    import re

    from scipy.optimize import minimize_scalar

    e = from_toml(FIXED_COST_LONG_RUN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        s = solve(e, "competitive")
    if s.status is Status.EQUILIBRIUM:     # a better solver may find one: it must be certified
        assert s.certificate.passed
        return
    assert "['p1'] earn too little to buy the electricity" in s.reason, s.reason
    price = float(re.search(r"relative prices \[([-0-9.e]+)\]", s.reason).group(1))
    theta, c, rho = 0.8725, 0.8, 0.1314
    best = minimize_scalar(lambda K: -(price * K - (K / theta) ** (1 / c) - rho * K),
                           bounds=(0.0, 100.0), method="bounded", options={"xatol": 1e-12})
    assert -best.fun < 0.04 * price
