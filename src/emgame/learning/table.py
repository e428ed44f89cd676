"""The stage game as a payoff table over the learners' joint actions (docs/learning.md).

Each learner ``i = 0..n-1`` picks one of ``m`` actions; the joint action is the integer
``j = Σ_i a_i m^i`` (learner 0 fastest), ``J = m^n`` of them. Everything a round needs is
tabulated once, with the real rules of the environment:

* ``payoffs[s, j, i]``: learner ``i``'s payoff (utility; profit in the Calvano environment)
  in state ``s`` (drawn each round with probability ``probabilities[s]``);
* ``prices[j, :]``: the prices of the round (market: ``p^t/p^0`` per period; Calvano: the
  firms' prices), and ``price_index[j]`` their mean;
* ``burnt[s, j]``: electricity burnt by payment verification;
* ``pattern[j]``: index into ``patterns``, the participation pattern (which posts each type
  pays on) of the round.

``benchmarks`` hold the Nash, competitive and collusive outcomes (payoffs per learner and
prices) that the profit gain ``Δ = (π̄ - π_N)/(π_M - π_N)`` and the figures refer to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Benchmark:
    """One reference outcome: per-learner expected payoffs and the prices (``None``: absent)."""

    name: str
    payoffs: np.ndarray | None
    prices: np.ndarray | None
    status: str = "ok"
    reason: str = ""

    @cached_property
    def price_index(self) -> float:
        return float(np.mean(self.prices)) if self.prices is not None else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "reason": self.reason,
                "payoffs": None if self.payoffs is None else self.payoffs.tolist(),
                "prices": None if self.prices is None else self.prices.tolist(),
                "price_index": self.price_index}


@dataclass(frozen=True, eq=False)
class StageGame:
    """A finite stage game among learners, tabulated (see the module notes)."""

    name: str
    environment: str
    learners: tuple[str, ...]
    actions: np.ndarray            # (n, m) action values (caps, prices)
    action_label: str
    payoffs: np.ndarray            # (S, J, n)
    probabilities: np.ndarray      # (S,)
    prices: np.ndarray             # (J, P)
    price_labels: tuple[str, ...]
    price_label: str
    burnt: np.ndarray              # (S, J)
    pattern: np.ndarray            # (J,) int
    patterns: tuple[str, ...]
    benchmarks: dict[str, Benchmark]
    profiles: dict[str, np.ndarray] | None = None   # market: per joint action, arrays (J, ...)
    economy: Any = None            # market: the economy learned play is certified in
    diagnostics: dict[str, Any] = field(default_factory=dict)
    roles: tuple[str, ...] | None = None          # "producer" | "consumer" per learner
    action_names: tuple[tuple[str, ...], ...] | None = None   # (n, m) labels of the actions

    def __post_init__(self) -> None:
        S, J, n = self.payoffs.shape
        if self.actions.shape[0] != n or self.actions.shape[1] ** n != J:
            raise ValueError(f"payoff table of shape {self.payoffs.shape} does not match "
                             f"{n} learners with {self.actions.shape[1]} actions each")
        if not np.all(np.isfinite(self.payoffs)):
            bad = np.argwhere(~np.isfinite(self.payoffs))[0]
            raise ValueError(f"payoff table: learner {self.learners[bad[2]]} has a non-finite "
                             f"payoff at joint action {self.decode(int(bad[1]))}, state "
                             f"{bad[0] + 1}")

    # -- indexing ------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return int(self.payoffs.shape[2])

    @property
    def m(self) -> int:
        return int(self.actions.shape[1])

    @property
    def J(self) -> int:
        return int(self.payoffs.shape[1])

    @property
    def S(self) -> int:
        return int(self.payoffs.shape[0])

    def encode(self, actions: tuple[int, ...] | np.ndarray) -> int:
        j = 0
        for i in reversed(range(self.n)):
            j = j * self.m + int(actions[i])
        return j

    def decode(self, j: int) -> tuple[int, ...]:
        out = []
        for _ in range(self.n):
            out.append(j % self.m)
            j //= self.m
        return tuple(out)

    @cached_property
    def joint_actions(self) -> np.ndarray:
        """``(J, n)``: the actions of each learner in each joint action."""
        j = np.arange(self.J)
        return np.stack([(j // self.m ** i) % self.m for i in range(self.n)], axis=1)

    @cached_property
    def expected(self) -> np.ndarray:
        """Expected payoffs ``Σ_s π_s payoffs[s]``, ``(J, n)``."""
        return np.einsum("s,sjn->jn", self.probabilities, self.payoffs)

    @cached_property
    def price_index(self) -> np.ndarray:
        return self.prices.mean(axis=1)

    # -- best responses and equilibria on the grid ---------------------------------------------
    def best_reply(self, i: int, j: int) -> int:
        """Learner ``i``'s static best reply on the grid to the others' actions in ``j``
        (expected payoff; lowest index on ties)."""
        a = np.array(self.decode(j))
        cand = np.empty(self.m)
        for k in range(self.m):
            a[i] = k
            cand[k] = self.expected[self.encode(a), i]
        return int(np.argmax(cand))

    def grid_regret(self, j: int) -> np.ndarray:
        """Each learner's gain from its best reply on the grid at joint action ``j``."""
        e = self.expected
        return np.array([e[self.encode(_with(self.decode(j), i, self.best_reply(i, j))), i]
                         - e[j, i] for i in range(self.n)])

    def pure_equilibria(self, tol: float = 0.0) -> list[int]:
        """Joint actions where no learner gains more than ``tol`` by another grid action."""
        e = self.expected
        acts = self.joint_actions
        ok = np.ones(self.J, dtype=bool)
        weights = self.m ** np.arange(self.n)
        for i in range(self.n):
            base = (acts * weights).sum(axis=1) - acts[:, i] * weights[i]
            alts = base[:, None] + np.arange(self.m)[None, :] * weights[i]
            best = e[alts, i].max(axis=1)
            ok &= best <= e[:, i] + tol
        return [int(j) for j in np.flatnonzero(ok)]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "environment": self.environment,
                "learners": list(self.learners), "actions": self.actions.tolist(),
                "roles": list(self.roles) if self.roles is not None else None,
                "action_names": ([list(a) for a in self.action_names]
                                 if self.action_names is not None else None),
                "action_label": self.action_label, "states": self.S,
                "probabilities": self.probabilities.tolist(),
                "price_labels": list(self.price_labels), "price_label": self.price_label,
                "benchmarks": {k: b.to_dict() for k, b in self.benchmarks.items()},
                "diagnostics": self.diagnostics}


def _with(t: tuple[int, ...], i: int, v: int) -> tuple[int, ...]:
    lst = list(t)
    lst[i] = v
    return tuple(lst)


def profit_gain(payoff: np.ndarray, nash: np.ndarray | None, collusive: np.ndarray | None,
                tol: float = 1e-9) -> np.ndarray:
    """Calvano's ``Δ = (π̄ - π_N)/(π_M - π_N)`` per learner; NaN where the collusive
    benchmark does not raise the learner's payoff above Nash by more than ``tol``·scale
    (Δ is then undefined: there is no collusive gain to measure against)."""
    if nash is None or collusive is None:
        return np.full(np.shape(payoff), np.nan)
    gap = collusive - nash
    scale = np.maximum(np.abs(nash), np.abs(collusive))
    ok = gap > tol * np.maximum(scale, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, (payoff - nash) / np.where(ok, gap, 1.0), np.nan)
