"""Per-type parameter arrays in the form the compiled kernels take (types on the leading axis).

Utility is written as a sum of one-good terms ``a_g h_γ(y)`` (see :mod:`emgame.market.utility`);
``ge``/``gg`` are the curvatures of the electricity and goods terms. ``a0`` is zero for ``ai``
kinds. The verification costs are economy-wide: ``v (S, T+1)`` goods post first, ``κ (S,)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgame.market.utility import CES, QUASILINEAR, curvatures
from emgame.model.economy import Economy, Population


@dataclass(frozen=True, eq=False)
class Kernel:
    """Economy-wide arrays: probabilities, shares, fixed costs, goods settlement period."""

    pi: np.ndarray
    kappa: np.ndarray
    v: np.ndarray
    t0: int
    Omega: float
    beta: float
    simultaneous: bool
    exogenous: bool
    long_run: bool

    @classmethod
    def of(cls, economy: Economy) -> Kernel:
        m = economy.market
        return cls(
            pi=np.ascontiguousarray(economy.probabilities, dtype=np.float64),
            kappa=np.ascontiguousarray(economy.shares, dtype=np.float64),
            v=np.ascontiguousarray(economy.fixed_costs, dtype=np.float64),
            t0=int(m.goods_settlement_period),
            Omega=economy.goods_supply,
            beta=float(m.discount) if m.prepaid else 1.0,
            simultaneous=not m.prepaid,
            exogenous=not economy.stationary_wallets,
            long_run=m.long_run,
        )


@dataclass(frozen=True, eq=False)
class Types:
    """One role's parameters as contiguous arrays."""

    n: np.ndarray
    a: np.ndarray
    a0: np.ndarray
    ge: np.ndarray
    gg: np.ndarray
    classic: np.ndarray
    omega: np.ndarray
    theta: np.ndarray
    c: np.ndarray
    Kbar: np.ndarray
    rho: np.ndarray
    wallet: np.ndarray
    ces: np.ndarray
    quasilinear: np.ndarray

    @classmethod
    def of(cls, pop: Population) -> Types:
        ge, gg = curvatures(pop)
        f = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
        return cls(
            n=f(pop.count), a=f(pop.weights),
            a0=f(np.where(pop.classic, pop.goods_weight, 0.0)),
            ge=f(ge), gg=f(gg), classic=np.ascontiguousarray(pop.classic),
            omega=f(pop.endowment), theta=f(np.nan_to_num(pop.productivity, nan=1.0)),
            c=f(np.nan_to_num(pop.returns, nan=1.0)), Kbar=f(pop.capacity),
            rho=f(np.nan_to_num(pop.capacity_cost, nan=0.0)), wallet=f(pop.wallet),
            ces=np.ascontiguousarray(pop.family == CES),
            quasilinear=np.ascontiguousarray(pop.family == QUASILINEAR),
        )

    def __len__(self) -> int:
        return int(self.n.size)
