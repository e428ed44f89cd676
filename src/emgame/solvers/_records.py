"""The solvers' parameter records: typed tuples the compiled kernels take instead of long
argument lists, built from an economy in one place.

Names follow the model (docs/model.md, Agents to The crypto layer): per type ``a`` (electricity
weights ``a_t``),
``a0`` (goods weight, zero for ``ai`` kinds), ``ge``/``gg`` the curvatures ``γ`` of the
electricity and goods terms (utility written as a sum of terms ``a h_γ(y)``, see
:mod:`emgame.market.utility`), ``omega`` the endowment ``ω``, ``theta``/``c`` the technology,
``Kbar`` the short-run capacity ``K̄``, ``rho`` the capacity cost ``ρ``, ``wallet`` (NaN unless
exogenous), ``part`` the regime (which posts the type pays on; for producers regime bits, see
:data:`PAYS`), ``w`` the state weights ``(S,)`` (the probabilities ``π_s``, times
``U_s^{1-r}`` for CES types with several states or prepaid settlement).
"""

from __future__ import annotations

import enum
import math
from typing import NamedTuple

import numpy as np

from emgame._jit import kernel_array, njit
from emgame.market.utility import CES, QUASILINEAR, curvatures
from emgame.model.economy import Economy, Population


class Response(enum.IntEnum):
    """Status of one type's response (the kernels return these codes)."""

    OK = 0
    NOT_CONVERGED = 2
    DROPPED = 3
    """The income cannot pay the verification of every post of the regime: the least valued
    posts were dropped until it could."""
    NONE_LEFT = 4
    """As :attr:`DROPPED`, with no post left: the type buys nothing."""


PAYS = 1
"""Regime bit: the type bids on the post."""
NO_OUTPUT = 2
"""Regime bit (producers): the type's offer on the post is pinned at zero."""


class Market(NamedTuple):
    """Economy-wide parameters: verification (``pi (S,)``, ``kappa (S,)``, ``v (S, T+1)``, goods
    settlement period ``t0``), the discount ``beta`` on own revenue (1 under simultaneous
    settlement), market power ``tau`` (1 Nash, 0 price taking), and the solve's ``deadline``
    (on :func:`emgame._numerics.clock`, so compilation does not count against it; ``inf``:
    none), which the producers' fallback search honours."""

    pi: np.ndarray
    kappa: np.ndarray
    v: np.ndarray
    t0: int
    beta: float
    tau: float
    long_run: bool
    deadline: float


class Totals(NamedTuple):
    """Post totals: prices ``p (T+1,)`` and supplies ``Q (T+1,)`` (``Q^0 = Ω``)."""

    p: np.ndarray
    Q: np.ndarray


class ConsumerTypes(NamedTuple):
    n: np.ndarray
    a: np.ndarray
    a0: np.ndarray
    ge: np.ndarray
    gg: np.ndarray
    omega: np.ndarray
    wallet: np.ndarray
    part: np.ndarray
    w: np.ndarray


class Consumer(NamedTuple):
    """One consumer type (a row of :class:`ConsumerTypes`)."""

    a: np.ndarray
    a0: float
    ge: float
    gg: float
    omega: float
    wallet: float
    part: np.ndarray
    w: np.ndarray


class ProducerTypes(NamedTuple):
    n: np.ndarray
    a: np.ndarray
    a0: np.ndarray
    ge: np.ndarray
    gg: np.ndarray
    classic: np.ndarray
    theta: np.ndarray
    c: np.ndarray
    Kbar: np.ndarray
    rho: np.ndarray
    wallet: np.ndarray
    part: np.ndarray
    w: np.ndarray
    s: np.ndarray


class Producer(NamedTuple):
    """One producer type (a row of :class:`ProducerTypes`)."""

    a: np.ndarray
    a0: float
    ge: float
    gg: float
    classic: bool
    theta: float
    c: float
    Kbar: float
    rho: float
    wallet: float
    part: np.ndarray
    w: np.ndarray
    s: np.ndarray


class Slopes(NamedTuple):
    """One consumer type's implicit derivatives (workspace): ``dx/dp``, ``dx/dQ``, ``dx/dλ``
    per post and ``dλ/dY`` over ``Y = (p^0..p^T, Q^1..Q^T)``; ``dx0_dY``, the whole goods
    row where goods are what the budget leaves (a price taker with linear goods), else 0."""

    dx_dp: np.ndarray
    dx_dQ: np.ndarray
    dx_dl: np.ndarray
    dl_dY: np.ndarray
    dx0_dY: np.ndarray


@njit
def consumer(cs, i):
    """Row ``i`` of :class:`ConsumerTypes`."""
    return Consumer(cs.a[i], cs.a0[i], cs.ge[i], cs.gg[i], cs.omega[i], cs.wallet[i],
                    cs.part[i], cs.w[i])


@njit
def producer(ps, j):
    """Row ``j`` of :class:`ProducerTypes`."""
    return Producer(ps.a[j], ps.a0[j], ps.ge[j], ps.gg[j], ps.classic[j], ps.theta[j], ps.c[j],
                    ps.Kbar[j], ps.rho[j], ps.wallet[j], ps.part[j], ps.w[j], ps.s[j])


@njit
def slopes(T):
    """A zeroed :class:`Slopes` workspace for ``T`` periods."""
    return Slopes(np.zeros(T + 1), np.zeros(T + 1), np.zeros(T + 1), np.zeros(2 * T + 1),
                  np.zeros(2 * T + 1))


_f = kernel_array


def market(economy: Economy, tau: float, deadline: float = math.inf) -> Market:
    m = economy.market
    return Market(pi=_f(economy.probabilities), kappa=_f(economy.shares),
                  v=_f(economy.fixed_costs), t0=int(m.goods_settlement_period),
                  beta=float(m.discount) if m.prepaid else 1.0, tau=float(tau),
                  long_run=bool(m.long_run), deadline=float(deadline))


class TypeParams:
    """One role's parameters as contiguous arrays (the part of a record that does not change
    during a solve)."""

    def __init__(self, pop: Population) -> None:
        ge, gg = curvatures(pop)
        self.n = _f(pop.count)
        self.a = _f(pop.weights)
        self.a0 = _f(np.where(pop.classic, pop.goods_weight, 0.0))
        self.ge = _f(ge)
        self.gg = _f(gg)
        self.classic = _f(pop.classic, bool)
        self.omega = _f(pop.endowment)
        self.theta = _f(np.nan_to_num(pop.productivity, nan=1.0))
        self.c = _f(np.nan_to_num(pop.returns, nan=1.0))
        self.Kbar = _f(pop.capacity)
        self.rho = _f(np.nan_to_num(pop.capacity_cost, nan=0.0))
        # Availability s^t per post, goods post first (docs/model.md, Availability): the
        # offer on post t is at most s^t K.
        self.s = _f(np.hstack([np.ones((len(pop), 1)), pop.availability]))
        self.wallet = _f(pop.wallet)
        self.ces = _f(pop.family == CES, bool)
        self.quasilinear = _f(pop.family == QUASILINEAR, bool)

    def __len__(self) -> int:
        return int(self.n.size)

    def consumers(self, part: np.ndarray, w: np.ndarray) -> ConsumerTypes:
        return ConsumerTypes(self.n, self.a, self.a0, self.ge, self.gg, self.omega, self.wallet,
                             np.ascontiguousarray(part), _f(w))

    def producers(self, part: np.ndarray, w: np.ndarray, Kbar: np.ndarray | None = None
                  ) -> ProducerTypes:
        return ProducerTypes(self.n, self.a, self.a0, self.ge, self.gg, self.classic,
                             self.theta, self.c, _f(self.Kbar if Kbar is None else Kbar),
                             self.rho, self.wallet, np.ascontiguousarray(part), _f(w),
                             self.s)
