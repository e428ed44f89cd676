"""Comparative statics by implicit differentiation (emgame.sensitivity, docs/sensitivity.md).

Facts checked:
- every derivative the implicit function theorem gives equals a central finite difference of
  two *certified re-solves* of the perturbed economy (an independent route: the solver, not the
  linearised system), on every bundled example the solvers take, where the regime does not
  change;
- where a capacity constraint switches at the point, the two one-sided derivatives are reported,
  each equal to a one-sided difference of certified re-solves on its side, and the constraint
  is named;
- a closed form: in the competitive benchmark, the money-metric welfare change of one more unit
  of endowment for consumer type h is exactly n_h goods (envelope theorem + market clearing:
  the price changes are transfers between price takers that cancel);
- bad paths are refused naming the path; uncertified solutions are never differentiated.

Step of the re-solve differences: h = 1e-5 |θ|. The certified solves are exact to about
1e-13 relative (the scaled first-order residuals at the bundled solutions are 1e-15 to 3e-13),
so rounding contributes ~1e-8; central differences have truncation error O(h²) times the
output's third derivative, which is not always small relative to the first: on
verification_costs, d production[6]/d producers[0].returns (a small derivative of a quantity
whose curvature in the exponent c is large) differs from the implicit derivative by 2.7e-5 at
h = 1e-4 and by 7.4e-7 at h = 1e-5, converging as h² (benchmarks/sensitivity_cost.py). Both
errors are then well inside the 1e-5 tolerance, and a wrong derivative (a missing term of an
equation) is off by O(1).
Derivatives that are exactly zero (an output the parameter does not move) are compared with an
absolute floor of 1e-8 |y|/|θ| (an elasticity of 1e-8).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

import emgame
from emgame.analysis import paths as P
from emgame.analysis.sensitivity import SensitivityError
from emgame.model import economy_from_dict, economy_to_dict, load_economy

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples"
RTOL = 1e-5
H = 1e-5


@functools.cache
def _solved(example: str, concept: str = "nash") -> emgame.Solution:
    s = emgame.solve(load_economy(EX / f"{example}.toml"), concept)
    assert s.ok, s.reason
    return s


@functools.cache
def _sens(example: str, concept: str, path: str) -> emgame.Sensitivity:
    return emgame.sensitivity(_solved(example, concept), path)


def _outputs(s: emgame.Solution) -> np.ndarray:
    """The outputs of a solution, computed here from its outcome (not by the module)."""
    e, o = s.economy, s.outcome
    pi = e.probabilities
    roles = ((e.consumers, o.consumers), (e.producers, o.producers))
    cons = sum(np.einsum("i,s,ist->t", pop.count, pi, pl.consumption) for pop, pl in roles)
    ver = sum(np.einsum("i,s,ist->t", pop.count, pi, pl.verification) for pop, pl in roles)
    Q = o.offers_total[1:]
    return np.concatenate([o.relative_prices, Q, cons, [ver.sum() / Q.sum(), np.nan],
                           o.consumers.utility, o.producers.utility])


def _resolve(s: emgame.Solution, path: str, delta: float) -> emgame.Solution:
    base = economy_to_dict(s.economy)
    targets = P.resolve(base, path)
    changes = [(str(t), "set", P.value_at(base, t) + delta) for t in targets]
    e = economy_from_dict(P.apply(base, changes), "perturbed")
    out = emgame.solve(e, s.concept, start=s)
    assert out.ok, out.reason
    return out


def _money(s: emgame.Solution) -> np.ndarray:
    """λ_i p^0 per type from the *solver's* multipliers (not the module's)."""
    m = s.multipliers
    return np.concatenate([m.consumer_budget, m.producer_budget]) * s.prices[0]


def _check(derivative: np.ndarray, fd: np.ndarray, levels: np.ndarray, theta: float,
           names: tuple[str, ...]) -> None:
    floor = 1e-8 * np.abs(levels) / max(abs(theta), 1e-300)
    bad = [(n, d, f) for n, d, f, fl in zip(names, derivative, fd, floor, strict=True)
           if np.isfinite(f) and not abs(d - f) <= RTOL * abs(f) + fl]
    assert not bad, bad[:5]


def _welfare_fd(s: emgame.Solution, ys: list[np.ndarray], step: float) -> float:
    e = s.economy
    counts = np.concatenate([e.consumers.count, e.producers.count])
    nU = len(counts)
    dU = (ys[0][-nU:] - ys[1][-nU:]) / step
    return float(np.sum(counts * dU / _money(s)))


CASES = [
    ("increasing_returns", "nash", "producers.*.productivity"),
    ("increasing_returns", "nash", "consumers[0].utility.weights[1]"),
    ("classic_peak_load", "nash", "consumers[0].endowment"),
    ("classic_peak_load", "competitive", "producers[1].productivity"),
    ("long_run_capacity", "nash", "producers[0].capacity_cost"),
    ("long_run_capacity", "competitive", "producers.*.returns"),
    ("prepaid", "nash", "market.discount"),
    ("prepaid", "competitive", "consumers[1].utility.weights[0]"),
    ("many_consumers", "nash", "consumers[0].endowment"),
    ("ai_solar_day", "nash", "producers.*.productivity"),
    ("two_states", "competitive", "states[1].verification.share"),
    ("verification_costs", "nash", "verification.fixed"),
    ("solar_night", "nash", "producers.*.productivity"),
    ("solar_night", "competitive", "consumers[0].endowment"),
]


def test_cases_cover_every_bundled_example_the_solvers_take():
    """When the solvers start to take another bundled example, it must join CASES."""
    from emgame.solve import _phase_pending

    economies = {f.stem: load_economy(f) for f in EX.glob("*.toml")}
    names = {n for n, e in economies.items()
             if _phase_pending(e) is None and (e.storage is None or len(e.storage) == 0)}
    assert names == {c[0] for c in CASES}


def test_storage_economies_are_refused_not_differentiated():
    """Storage operators are outside the differentiated system (docs/sensitivity.md): the
    calibrated day is reported unsupported, never given a number."""
    s = _solved("calibrated_day", "competitive")
    r = emgame.sensitivity(s, ["verification.fixed"])
    assert r.status == "unsupported"


@pytest.mark.parametrize(("example", "concept", "path"), CASES)
def test_derivative_equals_difference_of_certified_resolves(example, concept, path):
    s = _solved(example, concept)
    r = _sens(example, concept, path)
    assert r.status == "ok", r.reason
    p = r.parameters[0]
    base = economy_to_dict(s.economy)
    values = [P.value_at(base, t) for t in P.resolve(base, path)]
    h = H * max(abs(v) for v in values)
    # market.discount sits at its upper bound 1 in no example, but keep the step inside (0, 1].
    ys = [_outputs(_resolve(s, path, d)) for d in (h, -h)]
    fd = (ys[0] - ys[1]) / (2 * h)
    _check(p.derivative, fd, r.levels, float(np.mean(values)), r.outputs)
    # Welfare: Σ n_i dU_i / (λ_i p⁰) with the solver's own multipliers.
    w = r.outputs.index("welfare")
    wfd = _welfare_fd(s, ys, 2 * h)
    assert abs(p.derivative[w] - wfd) <= RTOL * abs(wfd) + 1e-10 * abs(r.diagnostics["income"])
    # Elasticity is (θ/y) dy/dθ (for a wildcard with equal values, the same θ).
    if len(set(values)) == 1 and values[0] != 0:
        k = r.outputs.index("production[1]")
        assert p.elasticity[k] == pytest.approx(p.derivative[k] * values[0] / r.levels[k],
                                                rel=1e-9)


def test_competitive_welfare_of_endowment_is_the_count():
    """Closed form: dW/dω_h = n_h p⁰ at a competitive equilibrium."""
    s = emgame.solve(load_economy(EX / "classic_peak_load.toml"), "competitive")
    r = emgame.sensitivity(s, ["consumers[0].endowment", "consumers[1].endowment"])
    w = r.outputs.index("welfare")
    for k, p in enumerate(r.parameters):
        assert p.derivative[w] == pytest.approx(s.economy.consumers.count[k], rel=1e-7)


def _kink_economy() -> tuple[emgame.Solution, float]:
    """classic_peak_load with the peak-bound producer's capacity set to the offer it makes when
    capacity does not bind: the constraint is exactly at its switching point."""
    base = economy_to_dict(load_economy(EX / "classic_peak_load.toml"))
    loose = dict(base)
    loose["producers"] = [dict(p) for p in base["producers"]]
    loose["producers"][0]["capacity"] = 1e3
    free = emgame.solve(economy_from_dict(loose, "loose"))
    assert free.ok
    q_star = float(free.profile.offers[0].max())
    base["producers"][0]["capacity"] = q_star
    s = emgame.solve(economy_from_dict(base, "kink"), start=free)
    assert s.ok
    return s, q_star


def test_capacity_switch_gives_two_one_sided_derivatives():
    s, K = _kink_economy()
    path = "producers[0].capacity"
    r = emgame.sensitivity(s, path)
    p = r.parameters[0]
    assert p.status == "switch" and r.status == "switch"
    assert p.derivative is None
    assert any("capacity" in sw and s.economy.producers.names[0] in sw for sw in p.switches)
    # Right: capacity no longer binds and short-run capacity is sunk: nothing moves.
    # (welfare has no level: its scale is the economy's income)
    scale = np.abs(np.nan_to_num(r.levels, nan=r.diagnostics["income"])) / K
    assert np.all(np.abs(p.right) <= 1e-7 * (1 + scale))
    # Left: the constraint binds; one-sided second-order difference of certified re-solves.
    h = 1e-4 * K   # one-sided three-point formula: its rounding is 4x the central one's
    y0 = _outputs(s)
    y1, y2 = (_outputs(_resolve(s, path, -k * h)) for k in (1, 2))
    fd = (3 * y0 - 4 * y1 + y2) / (2 * h)
    _check(p.left, fd, r.levels, K, r.outputs)
    # Binding, the peak's production rises with the bound producer's capacity, by less than
    # its n_j units (the other producers, not bound, offer less in reply).
    n0 = s.economy.producers.count[0]
    peak = int(np.argmax(s.profile.offers[0]))
    assert 0 < p.left[r.outputs.index(f"production[{peak + 1}]")] < n0


def test_bad_paths_are_refused_naming_the_path():
    s = _solved("increasing_returns")
    with pytest.raises(SensitivityError, match="producers.nope.productivity"):
        emgame.sensitivity(s, "producers.nope.productivity")
    with pytest.raises(SensitivityError, match="consumers.*count.*whole number"):
        emgame.sensitivity(s, "consumers[0].count")
    with pytest.raises(SensitivityError, match="verification.fixd"):
        emgame.sensitivity(s, "verification.fixd")
    with pytest.raises(SensitivityError, match="at least one"):
        emgame.sensitivity(s, "")


def test_uncertified_solutions_are_not_differentiated():
    from dataclasses import replace

    s = _solved("increasing_returns")
    bad = replace(s, status=emgame.Status.NO_EQUILIBRIUM, reason="test")
    r = emgame.sensitivity(bad, "consumers[0].endowment")
    assert r.status == "not-certified"
    assert all(p.derivative is None for p in r.parameters)


def test_outputs_frame_and_latex():
    s = _solved("increasing_returns")
    r = emgame.sensitivity(s, "producers.*.productivity,consumers[0].endowment")
    frame = r.to_frame()
    assert len(frame) == 2 * len(r.outputs)
    assert set(frame.columns) >= {"parameter", "output", "value", "derivative", "elasticity"}
    d = r.to_dict()
    assert d["parameters"][1]["path"] == "consumers[0].endowment"
    tex = r.to_latex()
    assert r"\begin{tabular}" in tex and r"consumers[0].endowment" in tex


def test_an_ill_conditioned_jacobian_is_reported_never_a_number():
    """The condition number of the scaled Jacobian of increasing_returns is about 26 (measured;
    reported in the diagnostics); with cond_max below it the same system must be reported as a
    possible bifurcation with no derivative at all."""
    s = _solved("increasing_returns")
    r = emgame.sensitivity(s, "consumers[0].endowment")
    cond = r.diagnostics["condition_number"]
    assert 1 < cond < 1e4
    r = emgame.sensitivity(s, "consumers[0].endowment", cond_max=cond / 2)
    p = r.parameters[0]
    assert r.status == "singular" and p.status == "singular"
    assert p.derivative is None and p.left is None and p.right is None
    assert "bifurcation" in p.reason
    assert r.to_dict()["parameters"][0]["derivative"] is None
    assert "--" in r.to_latex()


def test_parameter_at_the_edge_of_its_domain_gives_the_right_derivative():
    """verification.fixed = 0 cannot decrease: the derivative is one-sided (θ increasing), said
    so, and equals a one-sided difference of certified re-solves."""
    s = _solved("classic_peak_load")
    r = _sens("classic_peak_load", "nash", "verification.fixed")
    p = r.parameters[0]
    assert p.status == "ok" and "right derivative" in p.reason
    h = 1e-4
    y0, y1, y2 = _outputs(s), *(_outputs(_resolve(s, "verification.fixed", k * h))
                                for k in (1, 2))
    fd = (-3 * y0 + 4 * y1 - y2) / (2 * h)
    _check(p.derivative, fd, r.levels, 1.0, r.outputs)


def _participation_kink() -> emgame.Solution:
    """classic_peak_load with quasilinear households (goods linear, weight a0): with a small a0
    they do not bid on goods, and while they do not, a0 changes nothing else. They start to
    bid where the first bytecoin's marginal value equals its cost, (11) at b^0 = 0:
    a0 Ω B_-^0/(B^0)^2 = λ (1 − ω/Ω), i.e. at a0* = λ (1 − ω/Ω) (B^0)^2/(Ω B_-^0), computed
    here from the solver's multiplier and the market's totals."""
    from emgame.market import others_totals

    data = economy_to_dict(load_economy(EX / "classic_peak_load.toml"))
    data["consumers"][0]["utility"] = {"family": "quasilinear", "weights": [0.1, 0.4],
                                       "goods_weight": 0.001}
    s = emgame.solve(economy_from_dict(data, "quasilinear households"))
    assert s.ok and s.profile.consumer_bids[0, 0] == 0
    e = s.economy
    Bm = others_totals(e, s.profile)[0][0, 0]
    omega, Omega = e.consumers.endowment[0], e.goods_supply
    a_star = s.multipliers.consumer_budget[0] * (1 - omega / Omega) * Bm / Omega
    data["consumers"][0]["utility"]["goods_weight"] = float(a_star)
    at = emgame.solve(economy_from_dict(data, "at the margin"), start=s)
    assert at.ok and at.profile.consumer_bids[0, 0] == 0
    return at


def test_participation_switch_gives_two_one_sided_derivatives():
    s = _participation_kink()
    path = "consumers[0].utility.goods_weight"
    r = emgame.sensitivity(s, path)
    p = r.parameters[0]
    assert p.status == "switch", p.reason
    assert p.switches == ("consumer 'households' bid on goods",)
    a = s.economy.consumers.goods_weight[0]
    h = 1e-4 * a
    # Left (a0 falling): the households stay out of the goods post and nothing moves.
    scale = np.abs(np.nan_to_num(r.levels, nan=r.diagnostics["income"])) / a
    assert np.all(np.abs(p.left) <= 1e-6 * (1 + scale))
    # Right (a0 rising): they bid on goods; one-sided difference of certified re-solves.
    y0 = _outputs(s)
    y1, y2 = (_outputs(_resolve(s, path, k * h)) for k in (1, 2))
    fd = (-3 * y0 + 4 * y1 - y2) / (2 * h)
    _check(p.right, fd, r.levels, a, r.outputs)
    assert p.right[r.outputs.index("production[2]")] < 0   # spending moves to goods


def test_verification_burn_per_unit_of_fixed_cost_counts_the_payments():
    """Closed form (docs/model.md, "Verification energy"): electricity balances as
    Q^t = E^t + V^t with V^t = v · (payments verified in t) + κ Σ_i n_i x_i^t and
    Σ_i n_i x_i^t = Q^t, so with the participation pattern fixed
    d(Q^t − E^t)/dv − κ dQ^t/dv is the number of payments verified in period t:
    Σ_i n_i 1[b_i^t > 0], plus the goods payments in period t0."""
    s = _solved("verification_costs")
    r = _sens("verification_costs", "nash", "verification.fixed")
    e, prof = s.economy, s.profile
    paid = (e.consumers.count @ (prof.consumer_bids > 0)
            + e.producers.count @ (prof.producer_bids > 0)).astype(float)
    burn = paid[1:].copy()
    burn[e.market.goods_settlement_period - 1] += paid[0]
    T = e.periods
    d = r.parameters[0].derivative
    q = np.array([d[r.outputs.index(f"production[{t + 1}]")] for t in range(T)])
    c = np.array([d[r.outputs.index(f"consumption[{t + 1}]")] for t in range(T)])
    kappa = float(e.shares[0])
    assert e.S == 1 and kappa > 0
    np.testing.assert_allclose(q - c - kappa * q, burn, rtol=1e-7)
