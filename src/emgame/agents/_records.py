"""The certificate's records: one agent's problem as typed tuples the compiled kernels take.

Every array is over types first (one agent of each type). Utility is in the dual's form
(:mod:`emgame.agents._post`): a sum of terms ``a h_γ(y)`` with state weights ``w (S,)``
(:mod:`emgame.market.utility`), or, in *linear* mode, the linear function
``Σ_s Σ_t lw_st E_st + lw0 x0`` that bounds a CES utility from above (its supergradient).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Types(NamedTuple):
    """One role's types: utility (``a (n, T)``, ``a0``, curvatures ``ge``/``gg``, state weights
    ``w (n, S)``, linear mode ``lin`` with weights ``lw (n, S, T)``, ``lw0``), endowment
    ``omega``, technology (``theta``, ``c``, capacity ``K`` (NaN: chosen, long run), cost
    ``rho``, the largest useful capacity ``Khi``, ``classic``) and availability ``s (n, T+1)``
    (goods post first: the offer on post ``t`` is at most ``s^t K``). Where no type is in linear
    mode ``lw`` has one (unused) row only."""

    a: np.ndarray
    a0: np.ndarray
    ge: np.ndarray
    gg: np.ndarray
    w: np.ndarray
    lin: np.ndarray
    lw: np.ndarray
    lw0: np.ndarray
    omega: np.ndarray
    theta: np.ndarray
    c: np.ndarray
    K: np.ndarray
    rho: np.ndarray
    Khi: np.ndarray
    classic: np.ndarray
    s: np.ndarray


class Rules(NamedTuple):
    """Economy-wide rules: verification ``kappa (S,)``, ``v (S, T+1)``, goods settlement period
    ``t0``, goods supply ``Omega``, price taking ``pt``."""

    kappa: np.ndarray
    v: np.ndarray
    t0: int
    Omega: float
    pt: bool


class Facing(NamedTuple):
    """What each type's agent faces: others' bids ``Bm (n, T+1)`` and supplies ``Qm (n, T+1)``
    (for a consumer ``Qm[:, 0]`` is the goods offered by others), or prices ``p (T+1,)``; its
    budget: ``simult`` (revenue is income, valued at ``λ``) or else the wallet ``income (n,)``
    with revenue valued at ``thR (n,)`` (``βλ̄``)."""

    Bm: np.ndarray
    Qm: np.ndarray
    p: np.ndarray
    simult: bool
    income: np.ndarray
    thR: np.ndarray


class Search(NamedTuple):
    """Per type: participation forced per post (``force (n, T+1)``: -1 free, 0 no payment,
    1 payment), the value below which a search may stop (``target``), the gap each non-concave
    one-dimensional search must close (``gap``), where to start (``lam0``, ``nu0``), when
    the multiplier searches must stop (``deadline``, on :func:`emgame._numerics.clock`; ``inf``:
    never) and, for an increasing-returns producer, a box of offers per post (``qlo``,
    ``qhi`` ``(n, T+1)``, no columns for consumers; ``qhi`` NaN: none) inside which the goods
    input ``φ`` is replaced by its secant (a relaxation,
    :func:`emgame.agents.branch.refine_offers`)."""

    force: np.ndarray
    target: np.ndarray
    gap: np.ndarray
    lam0: np.ndarray
    nu0: np.ndarray
    deadline: np.ndarray
    qlo: np.ndarray
    qhi: np.ndarray


class Bounds(NamedTuple):
    """Per type, the outputs: the least dual value found ``D`` (a valid upper bound), its
    multipliers ``lam``, ``nu`` and the capacity ``K`` of its maximiser; the maximiser itself
    (``x``, ``q``, ``paid``, ``(n, T+1)``; ``x[:, 0]`` goods bought); ``exact`` is False where a
    one-dimensional search ran out of evaluations before closing its gap (the bound stands,
    but may be loose)."""

    D: np.ndarray
    lam: np.ndarray
    nu: np.ndarray
    K: np.ndarray
    x: np.ndarray
    q: np.ndarray
    paid: np.ndarray
    exact: np.ndarray


class Post(NamedTuple):
    """One post as the agent sees it: the utility term (weight ``a``, curvature ``g``, state
    weights ``w``; linear mode ``lin`` with weights ``lw (S,)``), verification (``kappa``, fixed
    burn ``F (S,)``), others' bids ``B``, the supply ``Qo`` including the agent's own offer
    ``o``, the value ``thR`` of its own revenue and ``lam`` of its money; a price taker
    (``pt``) pays ``p`` per unit."""

    a: float
    g: float
    w: np.ndarray
    lin: bool
    lw: np.ndarray
    kappa: np.ndarray
    F: np.ndarray
    B: float
    Qo: float
    o: float
    thR: float
    lam: float
    pt: bool
    p: float


class Offer(NamedTuple):
    """A producer's choice on one of its posts at ``(λ, ν)``: the post when paying there
    (``pay``) and when not (``stay``: only the goods payment's burn), others' supply ``Qm``,
    the technology ``theta``, ``c``, ``ν``, and ``mu``, a price on the offer (the multiplier
    of its capacity constraint, long run); ``paying`` selects the option."""

    pay: Post
    stay: Post
    Qm: float
    nu: float
    theta: float
    c: float
    mu: float
    paying: bool


def empty_bounds(n: int, T: int, producers: bool) -> Bounds:
    """Outputs for ``n`` types (offers only for producers)."""
    return Bounds(np.full(n, np.inf), np.zeros(n), np.zeros(n), np.zeros(n),
                  np.zeros((n, T + 1)), np.zeros((n if producers else 0, T + 1)),
                  np.zeros((n, T + 1), np.bool_), np.ones(n, np.bool_))
