"""Helpers for the crypto-layer tests: the bundled examples, economy edits through the file
dictionary, hand transcriptions of docs/model.md, The crypto layer, and an exact re-spending of one
agent's
budget (:func:`best_spending`).

Nothing here calls a solver's equations or the certificate: :func:`best_spending` maximises one
agent's own payoff over its bids by nested bisection on its own first-order conditions (the
problem is concave once the posts it pays on are fixed), and the payoff it reports is scored by
the market rules (:func:`emgame.market.play`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np

from emgame import Economy, economy_from_dict, economy_to_dict, load_economy, solve
from emgame.market import Profile, others_totals, play
from emgame.model.economy import FAMILIES, Population

EXAMPLES = files("emgame") / "examples"


def example(name: str) -> Economy:
    """A bundled example, ``src/emgame/examples/<name>.toml``."""
    return load_economy(EXAMPLES / f"{name}.toml")


def edited(e: Economy, edit: Callable[[dict[str, Any]], None]) -> Economy:
    """``e`` written as its file dictionary, changed in place by ``edit``, and read back (so the
    file rules check the edited economy)."""
    d = copy.deepcopy(economy_to_dict(e))
    edit(d)
    return economy_from_dict(d)


_SOLVED: dict[tuple[str, str], Any] = {}


def solved(name: str, concept: str = "nash"):
    """The bundled example ``name`` solved (cached per process)."""
    key = (name, concept)
    if key not in _SOLVED:
        _SOLVED[key] = solve(example(name), concept)
    return _SOLVED[key]


def tol(U: float) -> float:
    """The certificate's pass mark ``max(atol, rtol |U|)`` with its defaults (docs/model.md,
    Solution concepts)."""
    return max(1e-8, 1e-8 * abs(U))


# --------------------------------------------------------------------------------------------
# Hand transcriptions of the rules (docs/model.md sections 3 and 5).
# --------------------------------------------------------------------------------------------


def received(bids: np.ndarray, B: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """(5)/(7): ``x_i^t = b_i^t Q^t / B^t`` on posts that trade, else 0; rows are agents."""
    out = np.zeros_like(bids, dtype=float)
    trade = (B > 0) & (Q > 0)
    out[:, trade] = bids[:, trade] * Q[trade] / B[trade]
    return out


def hand_verification(e: Economy, bids: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``V_is^t = v_s^t 1[b_i^t > 0] + κ_s x_i^t + 1[t = t0] v_s^0 1[b_i^0 > 0]``, ``(n, S, T)``.

    ``bids (n, T+1)`` goods first; ``x (n, T+1)`` electricity received (goods column unused).
    Written with loops, straight from the formula of docs/model.md, The crypto layer.
    """
    n, T = bids.shape[0], e.periods
    t0 = e.market.goods_settlement_period
    V = np.zeros((n, e.S, T))
    for i in range(n):
        for s, state in enumerate(e.states):
            for t in range(1, T + 1):
                V[i, s, t - 1] = (state.fixed[t] * (bids[i, t] > 0)
                                  + state.share * x[i, t]
                                  + (t == t0) * state.fixed[0] * (bids[i, 0] > 0))
    return V


def state_utility(pop: Population, i: int, E: np.ndarray) -> np.ndarray:
    """``u(E_s)`` of an ``ai`` type for every state, ``E (S, T)`` (docs/model.md, Agents).

    Cobb–Douglas ``Σ a_t log E^t``; CRRA ``Σ a_t (E^t)^{1-γ}/(1-γ)`` (unvalued periods skipped).
    """
    fam = FAMILIES[int(pop.family[i])]
    a = pop.weights[i]
    E = np.asarray(E, dtype=float)
    on = a > 0
    if fam == "cobb_douglas":
        return (a[on] * np.log(E[:, on])).sum(axis=1)
    if fam == "crra":
        g = float(pop.gamma[i])
        return (a[on] * E[:, on] ** (1 - g) / (1 - g)).sum(axis=1)
    raise NotImplementedError(fam)


# --------------------------------------------------------------------------------------------
# One agent's best re-spending of its budget, posts and offers given.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facing:
    """One agent of type ``i`` of ``role`` and the others' totals it faces (market rules)."""

    e: Economy
    producer: bool
    i: int
    pop: Population
    Bm: np.ndarray
    Qm: np.ndarray

    @classmethod
    def of(cls, e: Economy, profile: Profile, role: str, i: int) -> Facing:
        Bc, Qc, Bp, Qp = others_totals(e, profile)
        producer = role == "producers"
        pop = (e.producers if producer else e.consumers).select([i])
        B, Q = (Bp, Qp) if producer else (Bc, Qc)
        return cls(e, producer, i, pop, B[i].copy(), Q[i].copy())

    def capacity(self, offers: np.ndarray) -> np.ndarray:
        """``K`` per row of ``offers (m, T)``: the type's own in the short run, in the long run
        the least that allows the offers (``q^t <= s^t K``)."""
        if not self.e.market.long_run:
            return np.full(offers.shape[0], float(self.pop.capacity[0]))
        s = self.pop.availability[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(s > 0, offers / np.where(s > 0, s, 1.0), 0.0).max(axis=1)

    def play(self, bids: np.ndarray, offers: np.ndarray | None = None):
        """What the agent gets with ``bids (m, T+1)`` (and ``offers (m, T)``), by the rules."""
        m = bids.shape[0]
        pop = self.pop.select(np.zeros(m, dtype=int))
        B = np.repeat(self.Bm[None], m, 0)
        Q = np.repeat(self.Qm[None], m, 0)
        if self.producer:
            return play(self.e, pop, bids, B, Q, offers=offers, capacity=self.capacity(offers))
        return play(self.e, pop, bids, B, Q)


def best_spending(f: Facing, paid: np.ndarray, fixed: np.ndarray | None = None,
                  offers: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The best payoff of an ``ai`` agent (Cobb–Douglas or CRRA) that pays exactly on the posts
    ``paid (m, T)`` with the bids ``fixed (m, T)`` held where positive, re-spending the rest of
    its budget (simultaneous settlement) optimally over the other paid posts; a producer offers
    ``offers (m, T)`` and buys exactly the goods its inputs need (and, in the long run, the
    least capacity they need). ``m`` problems at once.

    With the set of posts fixed the problem is concave and separable: post ``t``'s payoff
    ``g_t(b) = Σ_s π_s a_t h((1-κ_s) x_t(b) - F_st)`` with ``x_t(b) = b Q^t/(B_-^t + b)``, under
    one linear budget ``Σ_t c_t b_t = M`` (consumer: ``c_t = 1``, ``M = p^0 ω``; producer, from
    (4): ``c_t = Q_-^t/Q^t``, ``M = Σ_t B_-^t q^t/Q^t - b^0``). The first-order conditions
    ``g_t'(b_t) = λ c_t`` are solved by bisection in ``b_t`` inside a bisection in ``λ``.

    Returns ``(U, bids)``: the payoff by the market rules (``-inf`` where the strategy is
    infeasible: budget exceeded, ``E < 0`` or inputs unpaid) and the bids ``(m, T+1)``.
    """
    e, pop = f.e, f.pop
    T = e.periods
    m = paid.shape[0]
    paid = np.asarray(paid, bool)
    fixed = np.zeros((m, T)) if fixed is None else np.asarray(fixed, float)
    fam = FAMILIES[int(pop.family[0])]
    if fam not in ("cobb_douglas", "crra") or pop.classic[0]:
        raise NotImplementedError("ai Cobb–Douglas or CRRA agents only")
    gamma = 1.0 if fam == "cobb_douglas" else float(pop.gamma[0])
    a = pop.weights[0]
    pi = e.probabilities
    kap = e.shares
    v = e.fixed_costs
    t0 = e.market.goods_settlement_period
    Bm = f.Bm[1:]
    if f.producer:
        assert offers is not None
        q = np.asarray(offers, float)
        Q = f.Qm[1:][None, :] + q
        theta, c = float(pop.productivity[0]), float(pop.returns[0])
        Phi = ((q / theta) ** (1.0 / c)).sum(axis=1)
        if e.market.long_run:   # the capacity's goods ρK, K the least the offers need
            Phi = Phi + float(np.nan_to_num(pop.capacity_cost[0])) * f.capacity(q)
        Omega = e.goods_supply
        with np.errstate(divide="ignore", invalid="ignore"):
            b0 = np.where(Phi < Omega, Phi * f.Bm[0] / (Omega - Phi), np.inf)
        with np.errstate(invalid="ignore"):
            cost = np.where(Q > 0, f.Qm[1:][None, :] / np.where(Q > 0, Q, 1.0), 1.0)
        M = (Bm[None, :] * q / np.where(Q > 0, Q, 1.0)).sum(axis=1) - b0
    else:
        Q = np.repeat(f.Qm[1:][None, :], m, 0)
        omega = float(pop.endowment[0])
        b0 = np.zeros(m)
        cost = np.ones((m, T))
        M = np.full(m, f.Bm[0] * omega / (f.Qm[0] + omega))
    # Electricity each state burns on post t whatever is bought there: F (m, S, T).
    F = np.repeat(v[None, :, 1:], m, 0).copy()
    F[:, :, t0 - 1] += v[None, :, 0] * (b0 > 0)[:, None]
    need = (F / (1.0 - kap)[None, :, None]).max(axis=1)          # x that leaves E = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        bmin = np.where(need > 0, need * Bm[None, :] / (Q - need), 0.0)
    free = paid & ~(fixed > 0)
    if np.any(free & (a[None, :] <= 0)):
        raise ValueError("paying on an unvalued post is never a best response")
    bad = np.any(free & ((need >= Q) | ~np.isfinite(bmin)), axis=1) | ~np.isfinite(M)
    bmin = np.where(free & np.isfinite(bmin), bmin, 0.0)
    target = M - (cost * np.where(paid, fixed, 0.0)).sum(axis=1)

    def gprime(b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            den = Bm[None, :] + b
            x = b * Q / den
            dx = Q * Bm[None, :] / den ** 2
            E = (1.0 - kap)[None, :, None] * x[:, None, :] - F
            mu = np.where(E > 0, np.where(E > 0, E, 1.0) ** (-gamma), np.inf)
            w = (pi[None, :, None] * mu * (1.0 - kap)[None, :, None]).sum(axis=1)
            return a[None, :] * w * dx

    scale = (np.abs(np.where(np.isfinite(M), M, 0.0)) + f.Bm.max() + 1e-300)[:, None]
    lo_b = np.repeat(np.log(1e-22 * scale), T, 1)   # b - b_min, in logs
    hi_b = np.repeat(np.log(1e3 * scale), T, 1)

    def bids_at(loglam: np.ndarray) -> np.ndarray:
        lam = np.exp(loglam)[:, None] * cost
        lo, hi = lo_b, hi_b
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            up = gprime(bmin + np.exp(mid)) > lam
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
        return np.where(free, bmin + np.exp(0.5 * (lo + hi)), 0.0)

    lo = np.full(m, -700.0)
    hi = np.full(m, 700.0)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        over = (cost * bids_at(mid)).sum(axis=1) > target
        lo = np.where(over, mid, lo)
        hi = np.where(over, hi, mid)
    b = bids_at(hi)                       # the side that spends no more than the budget
    bids = np.zeros((m, T + 1))
    bids[:, 0] = np.where(np.isfinite(b0), b0, 0.0)
    bids[:, 1:] = np.where(paid & (fixed > 0), fixed, b)
    pl = f.play(bids, offers)
    U = pl.utility.copy()
    scale = np.maximum(np.abs(pl.revenue), 1e-300)
    U[(pl.slack < -1e-12 * scale) | bad | np.isnan(U)] = -np.inf
    return U, bids
