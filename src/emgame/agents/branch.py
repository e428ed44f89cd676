"""Closing the dual's gap: branch and bound over which posts an agent pays on, and the best
responses that make a CES bound exact (docs/model.md, The crypto layer, participation).

With a fixed verification cost, paying on a post is a discrete choice and the dual (which
chooses payments post by post at given multipliers) may lie above the best the agent can do.
Every assignment of some posts (paid or not) is a branch whose own dual bounds the strategies
in it; the type's bound is the largest over branches, so splitting the branches whose bound is
above the target until each is below it, or fully assigned, proves the bound. For a set of
posts fixed, the problem is concave (with non-increasing returns under simultaneous settlement)
and the dual exact.

CES utility outside its separable form is bounded through its supergradient
(:mod:`emgame.agents.problem`), exact at a best response. Each branch's best response is found
by a fixed point on the state weights ``π_s u_s^{1-r}``: with them held fixed, the separable
form ``Σ_s w_s Σ_t a_t E_st^r / r`` has the same first-order conditions as ``Σ_s π_s u_s``, so
its maximiser, repeated until the weights settle, is the branch's best response. Only the
*bound* must be right; the best response only makes it tight.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from emgame._numerics import clock
from emgame.agents._records import Bounds, Types
from emgame.agents._search import consumer_pattern, producer_pattern
from emgame.agents.problem import Agent, _rows, linear_weights
from emgame.market.utility import utility

MAX_NODES = 64
"""Branches one type may open before its bound stands as it is (then inconclusive if above
its target)."""
MAX_PRIMAL = 40
"""Updates of the CES state weights per branch."""
SETTLED = 1e-8
"""The CES state weights have settled when an update moves none by more than this (relative):
the linear form at a point ``δ`` from the best response bounds it within ``O(δ²)``, and the
searches' own precision leaves updates of about 1e-9 that do not shrink."""


@dataclass
class Refined:
    """The outcome of refining one type's bound: the bound (objective units), deviations to
    score (maximisers and best responses: ``(x, q, paid, K)`` rows), and why the bound may be
    loose where it stays above the target."""

    bound: float
    candidates: list = field(default_factory=list)
    cut: bool = False
    open_search: bool = False


def _row(b: Bounds, k: int = 0) -> tuple:
    q = b.q[k].copy() if b.q.shape[0] else np.zeros(b.x.shape[1])
    return (b.x[k].copy(), q, b.paid[k].copy(), float(b.K[k]))


def consumption(ag: Agent, i: int, x: np.ndarray, q: np.ndarray, paid: np.ndarray
                ) -> tuple[np.ndarray, float]:
    """What a maximiser consumes: ``E (S, T)`` and goods."""
    e = ag.economy
    kappa, v, t0 = e.shares, e.fixed_costs, e.market.goods_settlement_period
    E = (1.0 - kappa)[:, None] * x[None, 1:] - v[:, 1:] * paid[None, 1:]
    E[:, t0 - 1] -= v[:, 0] * paid[0]
    goods = float(q[0]) if ag.producers else (float(x[0]) if paid[0] else 0.0)
    return np.maximum(E, 0.0), goods


def _ces_types(ag: Agent, i: int, W: np.ndarray) -> Types:
    """Type ``i``'s CES utility in its separable form with state weights ``W``."""
    ty = _rows(ag.types, np.array([i]))
    return ty._replace(lin=np.zeros(1, np.bool_), w=np.ascontiguousarray(W[None, :]))


def ces_response(ag: Agent, i: int, force: np.ndarray, deadline: float = np.inf,
                 se=None, start: tuple | None = None,  # noqa: ANN001
                 updates: int = MAX_PRIMAL) -> tuple[Types, tuple | None, tuple | None]:
    """A best response of CES type ``i`` on the posts ``force`` allows (state-weight fixed
    point), and the linear form at it: ``(types for the bound, the response's row, its
    multipliers (λ, ν))`` (the multipliers are those of the linear form's dual too: the two
    forms have the same gradient at the response). The fixed point stops when the weights
    settle (:data:`SETTLED`), stop moving closer, or at ``deadline``: the linear form at any
    point is still a bound. ``se`` (the searches' settings, with ``force`` and a box of offers
    set) restricts it further; it starts from the consumption ``start = (E, goods)``, by
    default the profile's, and stops after ``updates`` updates of the weights."""
    e = ag.economy
    pop = ag.pop.select([i])
    states = ag.pop.select([i] * e.S)   # one row per state: every u_s in one call
    pi = e.probabilities
    r = float(ag.pop.r[i])
    E, goods = start if start is not None else (ag.play.consumption[i], ag.play.goods[i])
    goods = float(max(goods, 0.0))
    if se is None:
        se = ag.search(np.full(len(ag), -np.inf), deadline=deadline)
        se.force[i] = force
    row = mult = None
    W_old = None
    moved = np.inf
    for _ in range(updates + 1):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            Us = utility(states, E[:, None, :], np.full(e.S, goods), np.ones(1))
            W = pi * Us ** (1.0 - r)
        W = np.where(np.isfinite(W) & (W > 0), W, pi)
        if W_old is not None:
            step = float(np.max(np.abs(W - W_old) / W_old))
            if step <= SETTLED or step >= moved or clock() > deadline:
                break
            moved = step
        W_old = W
        b = ag.bounds(se, np.array([i]), _ces_types(ag, i, W))
        row = _row(b)
        mult = (float(b.lam[0]), float(b.nu[0]))
        se = _start_at(se, i, mult)   # the next update starts where this one ended
        E, goods = consumption(ag, i, row[0], row[1], row[2])
    lw, lw0 = linear_weights(e, pop, E[None], np.array([goods]))
    ty = _rows(ag.types, np.array([i]))
    return _paid_only(ty._replace(lw=np.where(np.isfinite(lw), lw, np.inf),
                                  lw0=np.ascontiguousarray(lw0)), force), row, mult


def _paid_only(ty: Types, force: np.ndarray) -> Types:
    """The linear form ``ty`` (one type's row) with no weight on the posts ``force`` does not
    pay on: consumption is 0 there, and the weight (``inf`` where the form was taken at zero
    consumption) never applies."""
    lw = ty.lw.copy()
    lw[0][:, force[1:] == 0] = 0.0
    return ty._replace(lw=np.ascontiguousarray(lw))


def _start_at(se, i: int, mult: tuple):  # noqa: ANN001, ANN202
    """The searches' settings ``se`` with type ``i``'s start at ``mult = (λ, ν)`` (where
    finite and positive; a consumer has no ``ν``)."""
    lam0, nu0 = se.lam0.copy(), se.nu0.copy()
    if np.isfinite(mult[0]) and mult[0] > 0:
        lam0[i] = mult[0]
    if np.isfinite(mult[1]) and mult[1] > 0:
        nu0[i] = mult[1]
    return se._replace(lam0=lam0, nu0=nu0)


def _switching(ag: Agent, i: int, types: Types, se, b: Bounds) -> np.ndarray:
    """Posts whose payment flips between just below and just above the best ``λ``."""
    fa = ag.facing
    fa1 = type(fa)(fa.Bm[[i]], fa.Qm[[i]], fa.p, fa.simult, fa.income[[i]], fa.thR[[i]])
    se1 = type(se)(*(f[[i]] for f in se))
    lam, nu = float(b.lam[0]), float(b.nu[0])
    pats = []
    for k in (1.0 - 1e-7, 1.0 + 1e-7):
        if ag.producers:
            nuk = lam * k * ag.facing.p[0] if ag.rules.pt else nu
            pats.append(producer_pattern(lam * k, nuk, 0, types, ag.rules, fa1, se1))
        else:
            pats.append(consumer_pattern(lam * k, 0, types, ag.rules, fa1, se1))
    return pats[0] != pats[1]


def refine(ag: Agent, i: int, target: float, force: np.ndarray | None = None,
           deadline: float = np.inf,
           boxes: Callable[[np.ndarray], Refined] | None = None) -> Refined:
    """Branch and bound over the payments of type ``i`` until its bound is at or below
    ``target`` (objective units) or a branch with every payment settled stays above it (then
    the type cannot pass, and the bound includes the branches left unexplored); see the
    module notes. ``force`` (-1 free, 0 not paying, 1 paying, per post) restricts every
    branch. Past ``deadline`` (``time.monotonic()``) the branching is cut off like at
    :data:`MAX_NODES`. ``boxes(force, types)`` (increasing returns: :func:`refine_offers` with
    the payments ``force`` and, for CES outside its separable form, the branch's linear form
    ``types``) refines a branch whose payments are all settled and whose bound stays above
    the target."""
    e = ag.economy
    T = e.periods
    fixed = (e.fixed_costs > 0).any(axis=0)
    lin = bool(ag.lin[i])
    base = ag.search(np.full(len(ag), target), deadline=deadline)
    own = _rows(ag.types, np.array([i]))
    root = np.full(T + 1, -1, np.int8) if force is None else np.asarray(force, np.int8)
    stack = [(root.copy(), np.inf)]
    out = Refined(bound=-np.inf)
    nodes = 0
    while stack:
        if nodes >= MAX_NODES or clock() > deadline:
            out.cut = True
            out.bound = max(out.bound, max(p for _, p in stack))
            break
        force, _ = stack.pop()
        nodes += 1
        types = own
        start = None
        if lin and boxes is not None:
            # Increasing returns: the fixed point's searches without a box of offers take
            # about half a second each (non-concave), dozens per branch; the boxes take the
            # linear form to each box's own response instead. Here the profile's form (exact
            # at the profile).
            types = _paid_only(own, force)
        elif lin:
            types, row, start = ces_response(ag, i, force, deadline)
            if row is not None:
                out.candidates.append(row)
        se = base._replace(force=base.force.copy())
        se.force[i] = force
        if start is not None:
            # The best response's multipliers: where the linear form's dual is least.
            se = _start_at(se, i, start)
        b = ag.bounds(se, np.array([i]), types)
        out.open_search = out.open_search or not bool(b.exact[0])
        D = float(ag.take(np.array([i])).to_objective(b.D)[0])
        out.candidates.append(_row(b))
        if D <= target:
            out.bound = max(out.bound, D)
            continue
        free = force < 0
        choose = np.flatnonzero(free & fixed)
        if lin:
            unbounded = np.zeros(T + 1, bool)
            unbounded[1:] = ~np.isfinite(types.lw[0]).all(axis=0)
            choose = np.union1d(choose, np.flatnonzero(free & unbounded))
        if choose.size == 0:
            if boxes is not None:
                # Payments settled, the gap left is over the offers (increasing returns).
                sub = boxes(force, types if lin else None)
                out.candidates += sub.candidates
                out.open_search = out.open_search or sub.open_search
                if sub.bound <= target:
                    out.bound = max(out.bound, sub.bound)
                    continue
                out.cut = out.cut or sub.cut
                D = min(D, sub.bound)
            # Every payment that matters is settled and the bound is still above the target:
            # the type cannot pass; what is left unexplored still bounds the rest.
            out.bound = max([out.bound, D] + [p for _, p in stack])
            break
        flips = _switching(ag, i, types, se, b)
        pick = ([t for t in choose if flips[t]] or [t for t in choose if b.paid[0, t]]
                or list(choose))
        t = int(pick[0])
        for value in (0, 1):
            child = force.copy()
            child[t] = value
            stack.append((child, D))
    return out


MAX_BOXES = 3000
"""Boxes of offers one increasing-returns type may evaluate before its bound stands as it is."""
BOX_PRIMAL = 0
"""Updates of the CES state weights per box of offers after its first search (at the weights
of its parent's best response): each costs a search to the end (about 20 ms), and the boxes
below continue the fixed point (0: campaign-3-0007 certified in 20 s, 28 s with 1)."""
CHECK_EVERY = 16
"""Boxes between two scorings of their maximisers (:func:`refine_offers`)."""


def _secant_gap(lo: float, hi: float, theta: float, c: float) -> tuple[float, float]:
    """``φ(q) = (q/θ)^{1/c}`` less its secant on ``[lo, hi]`` at its largest, and where: the
    relaxation's error on this post, and the point to split the box at."""
    if hi <= lo:
        return 0.0, lo
    a = 1.0 / c
    f_lo, f_hi = (lo / theta) ** a, (hi / theta) ** a
    s = (f_hi - f_lo) / (hi - lo)
    # φ'(q) = s there: (a/θ)(q/θ)^{a-1} = s.
    q = theta * (s * theta / a) ** (1.0 / (a - 1.0))
    q = min(max(q, lo), hi)
    return (q / theta) ** a - (f_lo + s * (q - lo)), q


def refine_offers(ag: Agent, i: int, target: float, deadline: float = np.inf,
                  gains: Callable[[list], bool] | None = None,
                  force: np.ndarray | None = None, types: Types | None = None) -> Refined:
    """Branch and bound over the offers of producer type ``i`` with increasing returns
    (``c > 1``), until its bound is at or below ``target`` (objective units).

    The goods input ``φ(q) = (q/θ)^{1/c}`` is concave, so the problem is not, and the dual
    (which prices goods at ``ν``) may stay far above the best the agent can do. Inside a box
    of offers, ``φ`` is at least its secant on each post (:func:`emgame.agents._dual._secant`):
    with it the problem is concave (simultaneous settlement, or a price taker) and the box's
    dual exact for it, an upper bound on the box. Boxes are split where a post's secant is
    furthest from ``φ``; the type's bound is the largest over boxes left (best first).
    ``gains(rows)`` says whether one of the boxes' maximisers gains more than the pass mark
    (asked every :data:`CHECK_EVERY` boxes): then the type fails and the search stops.
    ``force`` (-1 free, 0 not paying, 1 paying, per post) restricts every box's payments;
    ``types`` (type ``i``'s row, for CES outside its separable form: a linear form, which
    bounds the utility everywhere) replaces its own in every box's dual."""
    T = ag.economy.periods
    theta, c = float(ag.types.theta[i]), float(ag.types.c[i])
    # No post can take more than all goods make, θ Ω^c (the largest useful offer, Khi).
    s, K, Khi = ag.types.s[i, 1:], float(ag.types.K[i]), float(ag.types.Khi[i])
    cap = np.where(s > 0, np.minimum(K * s if np.isfinite(K) else np.inf, Khi), 0.0)
    base = ag.search(np.full(len(ag), target), deadline=deadline)
    if force is not None:
        base.force[i] = force
    one = ag.take(np.array([i]))
    out = Refined(bound=-np.inf)

    # A best response needs the searches to the end: those for a bound stop at the target.
    whole = base._replace(target=np.full_like(base.target, -np.inf))

    def box(lo: np.ndarray, hi: np.ndarray, mult: tuple | None, of=base):  # noqa: ANN001, ANN202
        se = of._replace(qlo=of.qlo.copy(), qhi=of.qhi.copy())
        se.qlo[i, 1:] = lo
        se.qhi[i, 1:] = hi
        return se if mult is None else _start_at(se, i, mult)

    def evaluate(lo: np.ndarray, hi: np.ndarray, parent: tuple = (np.inf, None),
                 form: Types | None = types) -> tuple[float, tuple]:
        """The box's bound (objective units) with the linear form ``form`` where given, at
        most its parent's (a larger set: the multiplier search is local and may do worse in a
        box), and its multipliers, where its children's searches start."""
        b = ag.bounds(box(lo, hi, parent[1]), np.array([i]), form)
        out.open_search = out.open_search or not bool(b.exact[0])
        D = min(float(one.to_objective(b.D)[0]), parent[0])
        if D > target:
            out.candidates.append(_row(b))
        return D, (float(b.lam[0]), float(b.nu[0]))

    def tighten(lo: np.ndarray, hi: np.ndarray, D: float, mult: tuple, form: Types,
                start: tuple | None) -> tuple[float, tuple, Types, tuple | None]:
        """CES outside its separable form: the linear form at the box's own best response
        (state-weight fixed point from its parent's, :data:`BOX_PRIMAL` updates), exact for
        the box once settled (it is concave with the secants), where the form it inherited,
        taken elsewhere, may lie far above the utility. Also the response's consumption."""
        own, row, m = ces_response(ag, i, base.force[i], deadline, se=box(lo, hi, mult, whole),
                                   start=start, updates=BOX_PRIMAL)
        if row is None:
            return D, mult, form, start
        out.candidates.append(row)
        Dt, mt = evaluate(lo, hi, (D, m), own)
        return Dt, mt, own, consumption(ag, i, row[0], row[1], row[2])

    lo0, hi0 = np.zeros(T), cap.copy()
    D0, mult0 = evaluate(lo0, hi0)
    # A box is (-bound, serial, lo, hi, multipliers, the linear form, whether the form is the
    # box's own, the best response its form is taken at).
    heap = [(-D0, 0, lo0, hi0, mult0, types, types is None, None)]
    nodes, serial = 1, 1
    while heap:
        D = -heap[0][0]
        if D <= target:
            break
        if nodes >= MAX_BOXES or clock() > deadline:
            out.cut = True
            break
        _, _, lo, hi, mult, form, own, start = heapq.heappop(heap)
        if not own:
            Dt, mt, form, start = tighten(lo, hi, D, mult, form, start)
            heapq.heappush(heap, (-Dt, serial, lo, hi, mt, form, True, start))
            serial += 1
            nodes += 1
            continue
        gaps = [_secant_gap(lo[t], hi[t], theta, c) for t in range(T)]
        t = int(np.argmax([g for g, _ in gaps]))
        at = gaps[t][1]
        if not (lo[t] < at < hi[t]) or gaps[t][0] <= 0.0:
            # Nothing left to split, the box's bound exact for it (with a linear form: once
            # its fixed point has settled) and above the target: the type cannot pass (the
            # boxes left still bound the rest; the verdict fails it only on a gain exhibited).
            out.bound = max(out.bound, D)
            break
        for a, z in ((lo[t], at), (at, hi[t])):
            clo, chi = lo.copy(), hi.copy()
            clo[t], chi[t] = a, z
            Dc, mc = evaluate(clo, chi, (D, mult), form)
            heapq.heappush(heap, (-Dc, serial, clo, chi, mc, form, form is None, start))
            serial += 1
            nodes += 1
        if gains is not None and nodes % CHECK_EVERY < 2 and gains(out.candidates[-CHECK_EVERY:]):
            break   # a deviation that gains: the type fails, whatever the bound
    if heap:
        out.bound = max(out.bound, -heap[0][0])
    out.candidates = out.candidates[-50:]
    return out
