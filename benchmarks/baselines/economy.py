"""The benchmark economy family for the baselines, in plain numpy (no emgame imports).

The game is the electricity market game of docs/model.md, The game to Budgets (Spear 2003, in the
Peck-Shell-Spear form) restricted to what the benchmarks need:

* ``T`` electricity periods (posts ``t = 1..T``) and a goods post ``0``; simultaneous
  settlement; no verification costs; one state of nature.
* ``N`` consumers, each its own player, kind ``ai``: utility ``sum_t a_ht log x_h^t`` with
  weights ``a_h ~ Dirichlet(1, ..., 1)`` and endowments ``omega_h ~ U(0.5, 1.5)``. They offer
  all their endowment on the goods post and bid ``b_h^t >= 0`` on the electricity posts only
  (an ``ai`` consumer never bids on goods: it would pay for nothing it values).
* ``P = 3`` producers, each its own player, kind ``ai``: utility ``sum_t (1/T) log x_j^t``;
  technology ``q = theta phi^c`` so the goods input of an offer is ``phi(q) = (q/theta)^(1/c)``;
  capacity ``K`` (slack). Strategy: offers ``q_j^t in [0, K]``, electricity bids
  ``b_j^t >= 0`` and a goods bid ``b_j^0 >= 0``.

Aggregates ``B^t = sum_i b_i^t``, ``Q^t = sum_j q_j^t``, ``B^0 = sum_j b_j^0``,
``Omega = sum_h omega_h``. Prices ``p^t = B^t/Q^t``, ``p^0 = B^0/Omega``. Allocations
``x_i^t = b_i^t Q^t / B^t`` (5), (7); producer goods ``x_j^0 = b_j^0 Omega/B^0 - sum_t phi(q_j^t)``
(8), feasible when ``>= 0``. Budgets (2), (4):

* consumer ``sum_t b_h^t <= B^0 omega_h / Omega``;
* producer ``b_j^0 + sum_t b_j^t <= sum_t B^t q_j^t / Q^t``.

Bids are homogeneous of degree one: every equilibrium is reported with ``p^0 = 1``
(``B^0 = Omega``).

Player order, used by every baseline and by :mod:`check`: consumers ``0..N-1`` then
producers ``N..N+2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

T_DEFAULT = 4
N_PRODUCERS = 3


@dataclass(frozen=True)
class Economy:
    """One economy of the benchmark family (all arrays read-only)."""

    N: int
    T: int
    seed: int
    a: np.ndarray  # (N, T) consumer weights, rows sum to one
    omega: np.ndarray  # (N,) consumer endowments
    ap: np.ndarray  # (P, T) producer weights (1/T)
    theta: float = 1.0
    c: float = 0.8
    K: float = 1e6
    P: int = N_PRODUCERS
    Omega: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "Omega", float(np.sum(self.omega)))
        for arr in (self.a, self.omega, self.ap):
            arr.setflags(write=False)

    def phi(self, q: np.ndarray) -> np.ndarray:
        """Goods input needed for output ``q``: ``(q/theta)^(1/c)``."""
        return (np.maximum(q, 0.0) / self.theta) ** (1.0 / self.c)

    def dphi(self, q: np.ndarray) -> np.ndarray:
        """Marginal goods cost ``phi'(q)``."""
        return (1.0 / (self.c * self.theta)) * (np.maximum(q, 0.0) / self.theta) ** (
            1.0 / self.c - 1.0
        )


def make_economy(N: int, seed: int = 0, T: int = T_DEFAULT) -> Economy:
    """The benchmark economy with ``N`` consumers, drawn from ``SeedSequence(seed)``."""
    ss = np.random.SeedSequence(seed)
    rng_a, rng_w = (np.random.default_rng(s) for s in ss.spawn(2))
    a = rng_a.dirichlet(np.ones(T), size=N)
    omega = rng_w.uniform(0.5, 1.5, size=N)
    ap = np.full((N_PRODUCERS, T), 1.0 / T)
    return Economy(N=N, T=T, seed=seed, a=a, omega=omega, ap=ap)


@dataclass
class Profile:
    """A strategy profile: consumer bids ``cb (N,T)``, producer offers ``q (P,T)``,
    producer electricity bids ``pb (P,T)`` and goods bids ``pb0 (P,)``."""

    cb: np.ndarray
    q: np.ndarray
    pb: np.ndarray
    pb0: np.ndarray

    def copy(self) -> Profile:
        return Profile(self.cb.copy(), self.q.copy(), self.pb.copy(), self.pb0.copy())

    # flat layout: [cb (N*T), q (P*T), pb (P*T), pb0 (P)]
    def to_vector(self) -> np.ndarray:
        return np.concatenate([self.cb.ravel(), self.q.ravel(), self.pb.ravel(), self.pb0])

    @staticmethod
    def from_vector(econ: Economy, v: np.ndarray) -> Profile:
        N, T, P = econ.N, econ.T, econ.P
        i = 0
        cb = v[i : i + N * T].reshape(N, T)
        i += N * T
        q = v[i : i + P * T].reshape(P, T)
        i += P * T
        pb = v[i : i + P * T].reshape(P, T)
        i += P * T
        pb0 = v[i : i + P]
        return Profile(cb.copy(), q.copy(), pb.copy(), pb0.copy())


def aggregates(prof: Profile) -> tuple[float, np.ndarray, np.ndarray]:
    """``B^0``, ``B^t`` (T,), ``Q^t`` (T,)."""
    B0 = float(np.sum(prof.pb0))
    B = prof.cb.sum(axis=0) + prof.pb.sum(axis=0)
    Q = prof.q.sum(axis=0)
    return B0, B, Q


def prices(econ: Economy, prof: Profile) -> tuple[float, np.ndarray]:
    """Nominal prices ``p^0`` and ``p^t`` (T,)."""
    B0, B, Q = aggregates(prof)
    return B0 / econ.Omega, B / Q


def relative_prices(econ: Economy, prof: Profile) -> np.ndarray:
    """``p^t / p^0`` (T,)."""
    p0, p = prices(econ, prof)
    return p / p0


def normalise(econ: Economy, prof: Profile) -> Profile:
    """Rescale every bid so that ``p^0 = 1`` (``B^0 = Omega``); offers are real, unchanged."""
    s = econ.Omega / float(np.sum(prof.pb0))
    return Profile(prof.cb * s, prof.q.copy(), prof.pb * s, prof.pb0 * s)


# --- one player's payoff and constraints, given the others' aggregates ----------------------
# These take the *others'* aggregates (B_-i, Q_-i, B^0_-i) so that a best response or a regret
# computation can vary one player's strategy with the rest of the profile held fixed.


def consumer_utility(a_h: np.ndarray, b: np.ndarray, Bm: np.ndarray, Q: np.ndarray) -> float:
    """``sum_t a_t log(b_t Q_t / (b_t + B_-h,t))``; ``-inf`` when some valued post gets 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = b * Q / (b + Bm)
        val = np.where(a_h > 0, a_h * np.log(np.maximum(x, 0.0)), 0.0)
    return float(np.sum(val))


def consumer_budget_slack(econ: Economy, h: int, b: np.ndarray, B0: float) -> float:
    """``B^0 omega_h / Omega - sum_t b_t`` (>= 0 when feasible)."""
    return B0 * econ.omega[h] / econ.Omega - float(np.sum(b))


def producer_utility(
    ap: np.ndarray, q: np.ndarray, b: np.ndarray, Bm: np.ndarray, Qm: np.ndarray
) -> float:
    """``sum_t a_t log(b_t (q_t + Q_-j,t) / (b_t + B_-j,t))``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = b * (q + Qm) / (b + Bm)
        val = np.where(ap > 0, ap * np.log(np.maximum(x, 0.0)), 0.0)
    return float(np.sum(val))


def producer_budget_slack(
    q: np.ndarray, b0: float, b: np.ndarray, Bm: np.ndarray, Qm: np.ndarray
) -> float:
    """``sum_t B^t q_t / Q^t - b^0 - sum_t b_t`` (>= 0 when feasible); an empty post pays 0."""
    Q = q + Qm
    with np.errstate(divide="ignore", invalid="ignore"):
        rev = np.where(Q > 0, (b + Bm) * q / Q, 0.0)
    return float(np.sum(rev) - b0 - np.sum(b))


def producer_goods(econ: Economy, q: np.ndarray, b0: float, B0m: float) -> float:
    """``x_j^0 = b^0 Omega / B^0 - sum_t phi(q_t)`` (>= 0 when feasible)."""
    B0 = b0 + B0m
    got = b0 * econ.Omega / B0 if B0 > 0 else 0.0
    return float(got - np.sum(econ.phi(q)))


def player_count(econ: Economy) -> int:
    return econ.N + econ.P


def utilities(econ: Economy, prof: Profile) -> np.ndarray:
    """Every player's utility (consumers then producers)."""
    B0, B, Q = aggregates(prof)
    u = np.empty(player_count(econ))
    for h in range(econ.N):
        u[h] = consumer_utility(econ.a[h], prof.cb[h], B - prof.cb[h], Q)
    for j in range(econ.P):
        u[econ.N + j] = producer_utility(
            econ.ap[j], prof.q[j], prof.pb[j], B - prof.pb[j], Q - prof.q[j]
        )
    return u


def constraint_violation(econ: Economy, prof: Profile) -> float:
    """Largest violation of any budget, goods-feasibility or sign constraint (0 if feasible),
    relative to the size of the budget concerned."""
    B0, B, Q = aggregates(prof)
    viol = [0.0]
    for h in range(econ.N):
        s = consumer_budget_slack(econ, h, prof.cb[h], B0)
        viol.append(-s / (B0 * econ.omega[h] / econ.Omega))
    for j in range(econ.P):
        s = producer_budget_slack(prof.q[j], prof.pb0[j], prof.pb[j], B - prof.pb[j], Q - prof.q[j])
        rev = float(np.sum(B * prof.q[j] / Q))
        viol.append(-s / rev)
        g = producer_goods(econ, prof.q[j], prof.pb0[j], B0 - prof.pb0[j])
        viol.append(-g / max(float(np.sum(econ.phi(prof.q[j]))), 1e-300))
    viol.append(-float(np.min(prof.to_vector())))
    viol.append(float(np.max(prof.q)) - econ.K)
    return max(viol)


def starting_profile(econ: Economy) -> Profile:
    """A rough, positive, feasible-ish common starting point for every baseline.

    Consumers spend their budget (``omega_h`` at ``p^0 = 1``) in proportion to their weights;
    each producer buys a third of the goods and spreads them evenly over the periods; each
    spends a quarter of ``Omega/3`` on electricity, evenly. Nothing here is an equilibrium.
    """
    T, P = econ.T, econ.P
    cb = econ.a * econ.omega[:, None]
    phi = np.full((P, T), econ.Omega / (P * T))
    q = econ.theta * phi**econ.c
    pb = np.full((P, T), 0.25 * econ.Omega / (P * T))
    pb0 = np.full(P, econ.Omega / P)
    return Profile(cb, q, pb, pb0)


def result_dict(
    econ: Economy,
    prof: Profile | None,
    *,
    seconds: float,
    converged: bool,
    notes: str,
    **extra: object,
) -> dict:
    """The common result dict of every baseline (``max_regret`` filled by :mod:`check`)."""
    if prof is None:
        rel = np.full(econ.T, np.nan)
        cb = np.full((econ.N, econ.T), np.nan)
        q = np.full((econ.P, econ.T), np.nan)
        vec = None
    else:
        prof = normalise(econ, prof)
        rel = relative_prices(econ, prof)
        cb, q = prof.cb, prof.q
        vec = prof.to_vector()
    out = {
        "prices": rel,
        "consumer_bids": cb,
        "producer_offers": q,
        "seconds": float(seconds),
        "converged": bool(converged),
        "max_regret": float("nan"),
        "notes": notes,
        "profile": vec,
    }
    out.update(extra)
    return out
