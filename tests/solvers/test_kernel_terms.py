"""The compiled kernels' utility terms and technology against the reference definitions
(docs/model.md, Agents).

Oracle: :mod:`emgame.market.utility` (the utility families, the one-good terms ``h_γ`` and
their derivatives, the shadow values ``∂u/∂E``) and :func:`emgame.market.game.inputs`
(``φ(q) = (q/θ)^{1/c}``). The solvers keep their own copies of these in their kernels
(:mod:`emgame.solvers._terms`) and the certificate takes its own from the market layer
(:func:`emgame.market.utility.term`); hypothesis draws values over the whole domain, the edges
included (zero consumption, tiny and huge values, every curvature a family gives), and the two
must agree: a solver built on a wrong derivative would find a wrong equilibrium that an
independent certificate then has to catch, and this test catches it first.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emgame.agents import _post
from emgame.market.game import inputs
from emgame.market.utility import (
    h as ref_h,
)
from emgame.market.utility import (
    h_prime as ref_h_prime,
)
from emgame.market.utility import (
    marginal_utility,
    term,
    term_curvature,
    term_slope,
    utility,
)
from emgame.model.economy import FAMILIES, Population
from emgame.solvers import _terms

EDGES = [0.0, 1e-300, 1e-12, 1e-3, 0.5, 1.0, 2.0, 1e3, 1e12]
values = st.one_of(st.sampled_from(EDGES),
                   st.floats(min_value=0.0, max_value=1e6, allow_nan=False))
# Curvatures γ of the families' terms: Cobb–Douglas 1, quasilinear goods 0, CRRA γ, CES 1 - r.
gammas = st.one_of(st.sampled_from([0.0, 1.0, 0.5, 2.0, 1.5, 3.0, 0.25]),
                   st.floats(min_value=0.05, max_value=4.0).filter(lambda g: g != 1.0))


def _close(a: float, b: float, rel: float = 1e-12) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


@settings(max_examples=400, deadline=None)
@given(y=values, g=gammas)
def test_one_good_terms_match_the_reference(y, g):
    """``h_γ(y)``, ``h_γ'(y)`` of the solvers' kernels and of the certificate's scalars equal
    :func:`emgame.market.utility.h`/``h_prime``; ``h_γ''`` is ``-γ y^{-γ-1}``."""
    want = float(ref_h(np.array([y]), np.array([g]))[0])
    want1 = float(ref_h_prime(np.array([y]), np.array([g]))[0])
    for got, got1, got2 in ((_terms.h(y, g), _terms.h1(y, g), _terms.h2(y, g)),
                            (term(y, g), term_slope(y, g), term_curvature(y, g))):
        assert _close(got, want), (y, g, got, want)
        assert _close(got1, want1), (y, g, got1, want1)
        with np.errstate(over="ignore"):
            want2 = 0.0 if g == 0.0 else (float(-g * np.float64(y) ** (-g - 1.0)) if y > 0
                                          else -math.inf)
        assert _close(got2, want2), (y, g, got2, want2)


@settings(max_examples=200, deadline=None)
@given(y=st.floats(min_value=1e-3, max_value=1e3), g=gammas)
def test_derivatives_are_derivatives(y, g):
    """``h'`` and ``h''`` are the derivatives of ``h`` (central differences)."""
    d = 1e-6 * y
    fd1 = (_terms.h(y + d, g) - _terms.h(y - d, g)) / (2 * d)
    fd2 = (_terms.h1(y + d, g) - _terms.h1(y - d, g)) / (2 * d)
    # Near γ = 1, h = y^{1-γ}/(1-γ) is large: the difference quotient then carries the rounding
    # of h itself, a few ulps of |h| divided by the step.
    rounding = 4 * np.finfo(float).eps * abs(_terms.h(y, g)) / d
    assert abs(fd1 - _terms.h1(y, g)) <= 1e-6 * max(1.0, abs(fd1)) + rounding
    assert abs(fd2 - _terms.h2(y, g)) <= 1e-5 * max(1.0, abs(fd2))


@settings(max_examples=300, deadline=None)
@given(q=values, theta=st.floats(min_value=0.1, max_value=10.0),
       c=st.sampled_from([0.5, 0.6, 0.8, 1.0, 1.2, 1.5]))
def test_technology_matches_the_market_rules(q, theta, c):
    """``φ(q)`` of the solvers' and the certificate's kernels is the market's inputs
    ``(q/θ)^{1/c}``; ``φ'`` and ``φ''`` its derivatives."""
    pop = Population.from_arrays(names=("p",), count=np.ones(1), weights=np.ones((1, 1)),
                                 productivity=np.array([theta]), returns=np.array([c]),
                                 capacity=np.array([np.inf]))
    want = float(inputs(pop, np.array([[q]]))[0, 0])
    assert _close(_terms.phi(q, theta, c), want)
    assert _close(_post.phi(q, theta, c), want)
    if q > 1e-3:
        d = 1e-6 * q
        fd1 = (_terms.phi(q + d, theta, c) - _terms.phi(q - d, theta, c)) / (2 * d)
        assert abs(fd1 - _terms.phi1(q, theta, c)) <= 1e-6 * max(1.0, abs(fd1))
        assert _close(_post.phi_slope(q, theta, c), _terms.phi1(q, theta, c))
        fd2 = (_terms.phi1(q + d, theta, c) - _terms.phi1(q - d, theta, c)) / (2 * d)
        assert abs(fd2 - _terms.phi2(q, theta, c)) <= 1e-5 * max(1.0, abs(fd2))


def _population(family: str, param: float, weights: np.ndarray) -> Population:
    n = 1
    kw = {}
    if family == "crra":
        kw["gamma"] = np.array([param])
    if family == "ces":
        kw["r"] = np.array([param])
    return Population.from_arrays(
        names=("t",), count=np.ones(n), weights=weights[None, :],
        family=np.array([FAMILIES.index(family)], np.int8),
        classic=np.array([family == "quasilinear"]),
        goods_weight=np.array([0.3 if family == "quasilinear" else 0.0]), **kw)


FAMILY_PARAMS = st.one_of(
    st.tuples(st.just("cobb_douglas"), st.just(1.0)),
    st.tuples(st.just("quasilinear"), st.just(1.0)),
    st.tuples(st.just("crra"), st.sampled_from([0.5, 2.0, 0.25, 3.0])),
    st.tuples(st.just("ces"), st.sampled_from([0.5, -1.0, 0.25, -3.0, 0.9])),
)


@settings(max_examples=150, deadline=None)
@given(fp=FAMILY_PARAMS, x=st.floats(min_value=0.05, max_value=50.0),
       others=st.lists(st.floats(min_value=0.05, max_value=5.0), min_size=1, max_size=1),
       kappa=st.lists(st.sampled_from([0.0, 0.01, 0.2]), min_size=2, max_size=2),
       fixed=st.lists(st.sampled_from([0.0, 0.002, 0.01]), min_size=2, max_size=2),
       p0=st.floats(min_value=0.1, max_value=0.9))
def test_the_purchase_condition_uses_the_reference_marginal_utility(fp, x, others, kappa,
                                                                    fixed, p0):
    """The solvers' ``MU(x) = a Σ_s w_s (1-κ_s) h'((1-κ_s)x - F_s)`` — with state weights
    ``w_s = π_s`` (``π_s u_s^{1-r}`` for CES, whose separable form has the same first-order
    conditions) — is the expected marginal utility of electricity bought on the post,
    ``Σ_s π_s (1-κ_s) ∂u_s/∂E_s``, from :func:`emgame.market.utility.marginal_utility`, for
    every family (docs/model.md sections 2 and 5)."""
    family, param = fp
    weights = np.array([0.6, others[0]])
    pop = _population(family, param, weights)
    pi = np.array([p0, 1.0 - p0])
    kap = np.array(kappa)
    F = np.array(fixed)
    if np.any((1 - kap) * x - F <= 0):
        return
    E = np.empty((1, 2, 2))
    E[0, :, 0] = (1 - kap) * x - F
    E[0, :, 1] = 1.3                     # the other period's consumption
    x0 = np.array([0.7])
    mu = marginal_utility(pop, E, x0)[0]          # (S, T)
    want = float(np.sum(pi * (1 - kap) * mu[:, 0]))
    from emgame.market.utility import curvatures

    ge, _ = curvatures(pop)
    w = pi.copy()
    if family == "ces":
        r = param
        U = np.array([utility(pop, E[:, s:s + 1], x0, np.ones(1))[0] for s in range(2)])
        w = pi * U ** (1.0 - r)
    got, _ = _terms.mu_el(x, weights[0], float(ge[0]), w, kap, F)
    assert got == pytest.approx(want, rel=1e-10)
    # The certificate's utility term of the same post (its separable form) has the same slope.
    post = _post.Post(weights[0], float(ge[0]), w, False, np.zeros(2), kap, F, 0.0, 1.0, 0.0,
                      0.0, 0.0, True, 1.0)
    assert _post.utility_slope(x, post) == pytest.approx(want, rel=1e-10)
