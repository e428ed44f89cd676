"""The Calvano et al. (2020) environment: repeated Bertrand competition with logit demand.

``n`` firms sell differentiated goods; firm ``i`` charging ``p_i`` sells

    q_i = exp((a_i - p_i)/μ) / (Σ_k exp((a_k - p_k)/μ) + exp(a_0/μ))

and earns ``π_i = (p_i - c_i) q_i``. The baseline (Calvano, Calzolari, Denicolò and
Pastorello 2020, *AER* 110(10), section II): ``n = 2``, ``c = 1``, ``a = 2``, ``a_0 = 0``,
``μ = 1/4``; prices on ``m = 15`` points from ``p_N - ξ(p_M - p_N)`` to ``p_M + ξ(p_M - p_N)``
with ``ξ = 0.1``, where ``p_N`` is the static Bertrand–Nash price and ``p_M`` the price that
maximises joint profit. This environment validates the learning code against the paper's
profit gain (their Fig. 1: average Δ about 0.85 at α = 0.15, β = 4×10⁻⁶).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from emgame.learning.table import Benchmark, StageGame


@dataclass(frozen=True)
class Calvano:
    """Parameters of the logit Bertrand environment (the paper's baseline by default)."""

    n: int = 2
    c: float = 1.0
    a: float = 2.0
    a0: float = 0.0
    mu: float = 0.25
    m: int = 15
    xi: float = 0.1

    def demand(self, prices: np.ndarray) -> np.ndarray:
        """Quantities ``q_i`` for prices ``(..., n)``."""
        z = (self.a - np.asarray(prices, dtype=np.float64)) / self.mu
        top = max(float(np.max(z)), self.a0 / self.mu)
        e = np.exp(z - top)
        return e / (e.sum(axis=-1, keepdims=True) + np.exp(self.a0 / self.mu - top))

    def profits(self, prices: np.ndarray) -> np.ndarray:
        return (np.asarray(prices) - self.c) * self.demand(prices)

    def nash_price(self) -> float:
        """The symmetric Bertrand–Nash price: ``p = c + μ/(1 - q_i(p))`` (logit FOC)."""
        f = lambda p: p - self.c - self.mu / (1.0 - self.demand(np.full(self.n, p))[0])
        return float(brentq(f, self.c, self.c + 20 * self.mu + 10, xtol=1e-14))

    def monopoly_price(self) -> float:
        """The common price that maximises joint profit."""
        r = minimize_scalar(lambda p: -self.profits(np.full(self.n, p)).sum(),
                            bounds=(self.c, self.c + 20 * self.mu + 10), method="bounded",
                            options={"xatol": 1e-12})
        return float(r.x)

    def best_response(self, i: int, prices: np.ndarray) -> tuple[float, float]:
        """Firm ``i``'s continuous best response to the others' prices: ``(price, profit)``."""
        p = np.array(prices, dtype=np.float64)

        def neg(x: float) -> float:
            p[i] = x
            return -float(self.profits(p)[i])

        r = minimize_scalar(neg, bounds=(self.c, self.c + 20 * self.mu + 10), method="bounded",
                            options={"xatol": 1e-12})
        return float(r.x), -float(r.fun)

    def grid(self) -> np.ndarray:
        pn, pm = self.nash_price(), self.monopoly_price()
        return np.linspace(pn - self.xi * (pm - pn), pm + self.xi * (pm - pn), self.m)


def calvano_game(env: Calvano | None = None) -> StageGame:
    """The tabulated stage game of the logit Bertrand environment."""
    env = env or Calvano()
    n, m = env.n, env.m
    grid = env.grid()
    J = m ** n
    j = np.arange(J)
    acts = np.stack([(j // m ** i) % m for i in range(n)], axis=1)
    prices = grid[acts]                                  # (J, n)
    payoffs = env.profits(prices)[None, :, :]            # (1, J, n)
    pn, pm = env.nash_price(), env.monopoly_price()
    bench = {
        "nash": Benchmark("nash", env.profits(np.full(n, pn)), np.full(n, pn)),
        "competitive": Benchmark("competitive", np.zeros(n), np.full(n, env.c)),
        "collusive": Benchmark("collusive", env.profits(np.full(n, pm)), np.full(n, pm)),
    }
    return StageGame(
        name=f"Calvano logit Bertrand (n={n}, m={m}, ξ={env.xi})", environment="calvano",
        learners=tuple(f"firm {i + 1}" for i in range(n)),
        actions=np.tile(grid, (n, 1)), action_label="price", payoffs=payoffs,
        probabilities=np.ones(1), prices=prices,
        price_labels=tuple(f"firm {i + 1}" for i in range(n)), price_label="price",
        burnt=np.zeros((1, J)), pattern=np.zeros(J, dtype=np.int64), patterns=("all trade",),
        benchmarks=bench, diagnostics={"parameters": env.__dict__.copy()})
