"""Result types shared by every solver: one frozen :class:`Solution` whatever the method.

A solution carries its status, the strategy profile, the market outcome computed from that
profile by :mod:`emgame.market` (never by a solver's own equations), the multipliers, the
certificate, counters and timings. :meth:`Solution.to_dict` gives the JSON contract of MODEL.md
section 9 (plus further keys, which never change the meaning of the contract's).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emgame.market.game import Outcome, Play, Profile
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
    """Regret of one agent of every type, found independently of the solver (MODEL.md §6).

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
    def cleared(self) -> bool:
        """Every market clears within ``rtol`` (always true for a Nash profile)."""
        c = self.clearing
        return c is None or c.size == 0 or bool(np.all(np.nan_to_num(c, nan=np.inf)
                                                       <= self.rtol))

    @property
    def inconclusive(self) -> bool:
        """Some type could not be decided (and none is shown to fail)."""
        flags = [f for f in (self.consumer_inconclusive, self.producer_inconclusive)
                 if f is not None]
        return bool(any(np.any(f) for f in flags))

    @property
    def passed(self) -> bool:
        return bool(self.consumer_passed.all() and self.producer_passed.all() and self.cleared)

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
    def max_regret(self) -> float:
        r = np.concatenate([self.consumer_regret, self.producer_regret])
        return float(np.max(r)) if r.size else 0.0

    @property
    def max_relative_regret(self) -> float:
        """The largest relative regret; NaN (JSON ``null``) if some type's is undefined."""
        r = np.concatenate([self.consumer_relative_regret, self.producer_relative_regret])
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
    equilibrium unless the status says so).
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

    @property
    def prices(self) -> np.ndarray:
        """Nominal prices ``[p^0, p^1..p^T]`` (NaN where a post does not trade)."""
        assert self.outcome is not None
        return self.outcome.prices

    @property
    def relative_prices(self) -> np.ndarray:
        assert self.outcome is not None
        return self.outcome.relative_prices

    # ---------------------------------------------------------------------------------------
    def producer_marginal_costs(self) -> np.ndarray:
        """``MC_j^t = φ_j'(q_j^t)`` in goods per unit of electricity, ``(np, T)``."""
        assert self.profile is not None
        pop = self.economy.producers
        q = self.profile.offers
        theta = pop.productivity[:, None]
        c = pop.returns[:, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (1.0 / (c * theta)) * (q / theta) ** (1.0 / c - 1.0)

    def markups(self) -> np.ndarray:
        """``(p^t/p^0) / MC_j^t``, ``(np, T)``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.relative_prices[None, :] / self.producer_marginal_costs()

    def lerner(self) -> np.ndarray:
        """Lerner index ``(p^t/p^0 - MC_j^t) / (p^t/p^0)``, ``(np, T)``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = self.relative_prices[None, :]
            return (rel - self.producer_marginal_costs()) / rel

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (MODEL.md section 9) and more."""
        econ = self.economy
        d: dict[str, Any] = {
            "status": self.status.value,
            "concept": self.concept,
            "economy": econ.name,
        }
        if self.reason:
            d["reason"] = self.reason
        if self.outcome is None or self.profile is None:
            d.update(prices=None, relative_prices=None, consumers=[], producers=[], totals=None,
                     certificate=None if self.certificate is None else self.certificate.to_dict())
            d["diagnostics"] = _jsonable(self.diagnostics)
            d["seconds"] = self.seconds
            return d
        out, prof = self.outcome, self.profile
        d["prices"] = {"goods": json_number(out.prices[0]),
                       "electricity": json_list(out.prices[1:])}
        d["relative_prices"] = json_list(out.relative_prices)
        d["periods"] = list(econ.labels)
        mult = self.multipliers
        cert = self.certificate
        consumers = []
        for i in range(len(econ.consumers)):
            row = _play_row(econ.consumers.names[i], econ.consumers.count[i], out.consumers, i,
                            prof.consumer_bids[i])
            row["kind"] = econ.consumers.kind(i)
            if mult is not None:
                row["budget_multiplier"] = json_number(mult.consumer_budget[i])
            if cert is not None:
                row["regret"] = json_number(cert.consumer_regret[i])
                row["certified"] = bool(cert.consumer_passed[i])
            else:
                row["regret"] = None
            consumers.append(row)
        producers = []
        markups, lerner = self.markups(), self.lerner()
        for j in range(len(econ.producers)):
            row = _play_row(econ.producers.names[j], econ.producers.count[j], out.producers, j,
                            prof.producer_bids[j])
            row["kind"] = econ.producers.kind(j)
            row["offers"] = json_list(prof.offers[j])
            row["inputs"] = json_list(out.producers.inputs[j])
            row["capacity"] = json_number(prof.capacity[j])
            row["capacity_withheld"] = json_list(prof.capacity[j] - prof.offers[j])
            row["markups"] = json_list(markups[j])
            row["lerner"] = json_list(lerner[j])
            if mult is not None:
                row["budget_multiplier"] = json_number(mult.producer_budget[j])
                row["goods_multiplier"] = json_number(mult.producer_goods[j])
                row["capacity_multipliers"] = json_list(mult.producer_capacity[j])
            if cert is not None:
                row["regret"] = json_number(cert.producer_regret[j])
                row["certified"] = bool(cert.producer_passed[j])
            else:
                row["regret"] = None
            producers.append(row)
        d["consumers"] = consumers
        d["producers"] = producers
        nc, npr = econ.consumers.count, econ.producers.count
        production = npr @ prof.offers
        burnt = (np.tensordot(nc, out.consumers.verification, axes=1)
                 + np.tensordot(npr, out.producers.verification, axes=1))
        consumed = (np.tensordot(nc, out.consumers.consumption, axes=1)
                    + np.tensordot(npr, out.producers.consumption, axes=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(production > 0, burnt / production, 0.0)
        d["totals"] = {
            "production": json_list(production),
            "verification": json_list(burnt),
            "consumption": json_list(consumed),
            "verification_share": json_list(share),
            "bids": json_list(out.bids_total),
            "offers": json_list(out.offers_total),
        }
        d["certificate"] = None if cert is None else cert.to_dict()
        d["iterations"] = self.iterations
        d["evaluations"] = self.evaluations
        d["seconds"] = {k: round(v, 6) for k, v in self.seconds.items()}
        d["diagnostics"] = _jsonable(self.diagnostics)
        return d


def _play_row(name: str, count: float, play: Play, i: int, bids: np.ndarray) -> dict[str, Any]:
    return {
        "name": name,
        "count": int(count),
        "bids": {"goods": json_number(bids[0]), "electricity": json_list(bids[1:])},
        "electricity": json_list(play.electricity[i]),
        "goods": json_number(play.goods[i]),
        "verification": json_list(play.verification[i]),
        "consumption": json_list(play.consumption[i]),
        "shadow_values": json_list(play.shadow_values[i]),
        "utility": json_number(play.utility[i]),
        "revenue": json_number(play.revenue[i]),
        "spending": json_number(play.spending[i]),
    }


def json_number(x: Any) -> float | None:
    """A JSON number; ``None`` for NaN and infinities (JSON has neither)."""
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def json_list(a: np.ndarray) -> list:
    return [json_list(v) if np.ndim(v) else json_number(v) for v in np.asarray(a, dtype=float)]


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return json_list(x) if x.dtype.kind == "f" else x.tolist()
    if isinstance(x, np.floating | float):
        return json_number(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x
