"""Result types shared by every solver: one frozen :class:`Solution` whatever the method.

A solution carries its status, the strategy profile, the market outcome computed from that
profile by :mod:`emgame.market` (never by a solver's own equations), the multipliers, the
certificate, counters and timings. :meth:`Solution.to_dict` gives the JSON contract
(docs/model.md, The JSON contract; further keys never change the meaning of the contract's).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emgame import _columns
from emgame.market.game import Outcome, Profile
from emgame.model.economy import Economy


class Status(enum.Enum):
    """Outcome of a solve; each member carries its message and the CLI's exit code."""

    EQUILIBRIUM = "equilibrium"
    NO_EQUILIBRIUM = "no-equilibrium-found"
    INFEASIBLE = "infeasible"
    INCONCLUSIVE = "inconclusive"

    @property
    def message(self) -> str:
        return {
            "equilibrium": "An equilibrium was found and its certificate passed.",
            "no-equilibrium-found": "No equilibrium was found; see the reason. Nothing reported "
                                    "here is an equilibrium.",
            "infeasible": "The economy admits no feasible active profile; see the reason.",
            "inconclusive": "The solver found a candidate, but the certificate could not "
                            "decide whether it is an equilibrium (no agent was shown to gain, "
                            "and no bound proved that none can); see the reason. It is not "
                            "reported as an equilibrium.",
        }[self.value]

    @property
    def exit_code(self) -> int:
        return 0 if self is Status.EQUILIBRIUM else 1


class SolveError(RuntimeError):
    """Raised by ``solve(..., raise_on_failure=True)``; carries the failed :class:`Solution`."""

    def __init__(self, solution: Solution) -> None:
        super().__init__(f"{solution.status.value}: {solution.reason}")
        self.solution = solution


@dataclass(frozen=True, eq=False)
class Certificate:
    """Regret of one agent of every type, found independently of the solver (docs/model.md,
    Solution concepts).

    ``*_regret`` is an upper bound on what one agent gains by deviating alone (others fixed);
    ``*_gain`` the gain of a deviation actually exhibited (scored by the market rules; NaN where
    none was), a lower bound on the best gain. A type **passes** when its regret is at most
    ``max(atol, rtol·|U|)``; it **fails** when an exhibited deviation gains more than that
    (or its profile breaks its budget); otherwise it is **inconclusive**: the bound could not
    be brought below the pass mark (``*_inconclusive``, with the reason in ``reasons``).
    ``passed`` needs every type to pass and, for a competitive benchmark, every market to
    clear within ``rtol`` (``clearing``: the largest relative excess demand per post, goods
    first; empty for a Nash profile, whose markets clear by the rules of the game).

    Relative regret is regret over ``max(|U|, atol/rtol)``: the scale below which the absolute
    tolerance governs, so that a type passes exactly when its relative regret is at most
    ``rtol``; it is undefined (NaN, JSON ``null``) where ``U`` is infinite.
    """

    consumer_regret: np.ndarray
    producer_regret: np.ndarray
    consumer_utility: np.ndarray
    producer_utility: np.ndarray
    atol: float = 1e-8
    rtol: float = 1e-8
    method: str = ""
    notes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    consumer_inconclusive: np.ndarray | None = None
    producer_inconclusive: np.ndarray | None = None
    consumer_gain: np.ndarray | None = None
    producer_gain: np.ndarray | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    clearing: np.ndarray | None = None
    storage_regret: np.ndarray = field(default_factory=lambda: np.zeros(0))
    storage_utility: np.ndarray = field(default_factory=lambda: np.zeros(0))
    storage_inconclusive: np.ndarray | None = None
    storage_gain: np.ndarray | None = None

    def tolerance(self, U: np.ndarray) -> np.ndarray:
        """The pass mark ``max(atol, rtol·|U|)`` (``atol`` where ``U`` is infinite)."""
        with np.errstate(invalid="ignore"):
            return np.maximum(self.atol, self.rtol * np.abs(np.where(np.isfinite(U), U, 0.0)))

    def _passes(self, regret: np.ndarray, U: np.ndarray, inconclusive: np.ndarray | None
                ) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(regret) & (regret <= self.tolerance(U))
        return ok if inconclusive is None else ok & ~inconclusive

    @property
    def consumer_passed(self) -> np.ndarray:
        return self._passes(self.consumer_regret, self.consumer_utility,
                            self.consumer_inconclusive)

    @property
    def producer_passed(self) -> np.ndarray:
        return self._passes(self.producer_regret, self.producer_utility,
                            self.producer_inconclusive)

    @property
    def storage_passed(self) -> np.ndarray:
        return self._passes(self.storage_regret, self.storage_utility,
                            self.storage_inconclusive)

    @property
    def cleared(self) -> bool:
        """Every market clears within ``rtol`` (always true for a Nash profile)."""
        c = self.clearing
        return c is None or c.size == 0 or bool(np.all(np.nan_to_num(c, nan=np.inf)
                                                       <= self.rtol))

    @property
    def inconclusive(self) -> bool:
        """Some type could not be decided (and none is shown to fail)."""
        flags = [f for f in (self.consumer_inconclusive, self.producer_inconclusive,
                             self.storage_inconclusive) if f is not None]
        return bool(any(np.any(f) for f in flags))

    @property
    def passed(self) -> bool:
        return bool(self.consumer_passed.all() and self.producer_passed.all()
                    and self.storage_passed.all() and self.cleared)

    def relative(self, regret: np.ndarray, U: np.ndarray) -> np.ndarray:
        """``regret / max(|U|, atol/rtol)``; NaN where ``U`` is infinite (no scale)."""
        floor = self.atol / self.rtol if self.rtol > 0 else 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = regret / np.maximum(np.abs(U), floor)
        return np.where(np.isfinite(U), rel, np.where(regret <= 0, 0.0, np.nan))

    @property
    def consumer_relative_regret(self) -> np.ndarray:
        return self.relative(self.consumer_regret, self.consumer_utility)

    @property
    def producer_relative_regret(self) -> np.ndarray:
        return self.relative(self.producer_regret, self.producer_utility)

    @property
    def storage_relative_regret(self) -> np.ndarray:
        return self.relative(self.storage_regret, self.storage_utility)

    @property
    def max_regret(self) -> float:
        r = np.concatenate([self.consumer_regret, self.producer_regret, self.storage_regret])
        return float(np.max(r)) if r.size else 0.0

    @property
    def max_relative_regret(self) -> float:
        """The largest relative regret; NaN (JSON ``null``) if some type's is undefined."""
        r = np.concatenate([self.consumer_relative_regret, self.producer_relative_regret,
                            self.storage_relative_regret])
        if not r.size:
            return 0.0
        return float("nan") if np.any(np.isnan(r)) else float(np.max(r))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "max_regret": json_number(self.max_regret),
            "max_relative_regret": json_number(self.max_relative_regret),
            "passed": self.passed,
            "inconclusive": self.inconclusive and not self.passed,
            "atol": self.atol,
            "rtol": self.rtol,
            "method": self.method,
            "notes": list(self.notes),
        }
        if self.reasons:
            d["inconclusive_reasons"] = dict(self.reasons)
        if self.clearing is not None and self.clearing.size:
            d["market_clearing"] = json_number(np.max(self.clearing))
        return d


@dataclass(frozen=True, eq=False)
class Multipliers:
    """Shadow values at the solution: budget (or wallet) ``λ`` per type, the producers' value of
    goods ``ν`` and of capacity ``μ^t`` (all in utility per unit)."""

    consumer_budget: np.ndarray
    producer_budget: np.ndarray
    producer_goods: np.ndarray
    producer_capacity: np.ndarray


@dataclass(frozen=True, eq=False)
class Solution:
    """The answer of a solver for one economy and one solution concept.

    ``status`` is :attr:`Status.EQUILIBRIUM` only when the certificate passed. ``profile`` and
    ``outcome`` hold the best candidate found even on failure (for diagnosis: not an
    equilibrium unless the status says so); without a candidate they are ``None`` and the
    price and per-type accessors raise :class:`ValueError` saying why.

    Outputs (docs/model.md, Outputs): :meth:`to_dict` (the JSON contract), :meth:`summary`
    (the same without the per-type rows), :meth:`to_frame` (pandas, one row per type); each
    reads every per-type quantity as one array, so their cost is linear in the number of types.
    """

    economy: Economy
    concept: str
    status: Status
    reason: str = ""
    profile: Profile | None = None
    outcome: Outcome | None = None
    multipliers: Multipliers | None = None
    certificate: Certificate | None = None
    iterations: int = 0
    evaluations: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is Status.EQUILIBRIUM

    def _need_candidate(self, what: str) -> tuple[Profile, Outcome]:
        if self.profile is None or self.outcome is None:
            raise ValueError(
                f"Solution.{what}: the {self.concept} solve of {self.economy.name!r} left no "
                f"candidate profile ({self.status.value}: {self.reason or self.status.message});"
                " check solution.ok (or solution.outcome is not None) first")
        return self.profile, self.outcome

    @property
    def prices(self) -> np.ndarray:
        """Nominal prices ``[p^0, p^1..p^T]`` (NaN where a post does not trade)."""
        return self._need_candidate("prices")[1].prices

    @property
    def relative_prices(self) -> np.ndarray:
        """Relative prices ``p^t/p^0``, ``t = 1..T`` (NaN where a post does not trade)."""
        return self._need_candidate("relative_prices")[1].relative_prices

    # ---------------------------------------------------------------------------------------
    def producer_marginal_costs(self) -> np.ndarray:
        """``MC_j^t = φ_j'(q_j^t)`` in goods per unit of electricity, ``(np, T)``."""
        self._need_candidate("producer_marginal_costs()")
        return _columns.marginal_costs(self)

    def markups(self) -> np.ndarray:
        """``(p^t/p^0) / MC_j^t``, ``(np, T)``; see :meth:`markup_parts` for its causes."""
        self._need_candidate("markups()")
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.relative_prices[None, :] / self.producer_marginal_costs()

    def lerner(self) -> np.ndarray:
        """Lerner index ``(p^t/p^0 - MC_j^t) / (p^t/p^0)``, ``(np, T)``."""
        self._need_candidate("lerner()")
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = self.relative_prices[None, :]
            return (rel - self.producer_marginal_costs()) / rel

    def markup_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(scarcity_rent, market_power, scarcity)``, each ``(np, T)``, with
        ``markup = market_power × scarcity`` (docs/model.md, Markups: market power and
        scarcity): the rent ``r`` is the value of capacity where it binds (goods per unit),
        ``scarcity = (MC + r)/MC`` and ``market_power = (p^t/p^0)/(MC + r)``."""
        self._need_candidate("markup_parts()")
        return _columns.markup_parts(self)

    def profits(self) -> np.ndarray:
        """Profit of one producer of each type, in goods (docs/model.md, Welfare), ``(np,)``."""
        self._need_candidate("profits()")
        return _columns.profits(self)

    # ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (docs/model.md, The JSON contract) and more."""
        return _columns.solution_dict(self)

    def summary(self) -> dict[str, Any]:
        """:meth:`to_dict` without the per-type rows (``"types"`` counts them instead): status,
        prices, totals, certificate, timings. Small whatever the number of types."""
        return _columns.solution_dict(self, types=False)

    def to_frame(self):  # noqa: ANN201  (a pandas.DataFrame; pandas is the `tables` extra)
        """One row per agent type (consumers first, then producers), for one agent of the
        type: the per-type fields of :meth:`to_dict` with one column per period (and per state
        when there are several), named as in docs/model.md, Outputs (usable in R and Stata).
        ``frame.attrs["emgame"]`` holds :meth:`summary`.

        Raises
        ------
        ValueError
            When the solve left no candidate profile.
        emgame.MissingExtraError
            When pandas is not installed (``pip install 'emgame[tables]'``).
        """
        return _columns.frame(self)


def json_number(x: Any) -> float | None:
    """A JSON number; ``None`` for NaN and infinities (JSON has neither)."""
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def json_list(a: np.ndarray) -> list:
    """An array as (nested) lists of JSON numbers (``None`` for NaN and infinities)."""
    return _columns.json_values(a)
