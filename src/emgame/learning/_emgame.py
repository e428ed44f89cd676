"""The one place where :mod:`emgame.learning` touches the rest of emgame.

Every call into the solvers, the market rules, the certificate and the best-response bounds
goes through this module, so that a rename elsewhere needs one edit here. Nothing here adds
economics: these are thin wrappers.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np

import emgame
from emgame.agents.verdict import deviations as _deviations
from emgame.certificate import certify as _certify
from emgame.market.game import Profile, evaluate
from emgame.market.utility import utility as _utility
from emgame.solvers.dynamics import best_response, fit_budgets, mix, normalise

Economy = emgame.Economy
EconomyFileError = emgame.EconomyFileError
EconomyError = emgame.EconomyError
Solution = emgame.Solution

__all__ = ["Economy", "EconomyError", "EconomyFileError", "Profile", "Solution",
           "best_response", "certify", "deviations", "economy_from_dict", "economy_to_dict",
           "evaluate", "fit_budgets", "load_economy", "mix", "normalise", "solve",
           "state_utility"]


def load_economy(path: Any) -> Economy:
    return emgame.load_economy(path)


def economy_to_dict(economy: Economy) -> dict[str, Any]:
    return emgame.economy_to_dict(economy)


def economy_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Economy:
    return emgame.economy_from_dict(data, source)


def solve(economy: Economy, concept: str, start: Solution | None = None) -> Solution:
    """A certified Nash equilibrium or competitive benchmark (``Solution.ok`` says which)."""
    return emgame.solve(economy, concept, start=start)  # type: ignore[arg-type]


def certify(economy: Economy, profile: Profile, *, price_taking: bool = False,
            multipliers: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Any:
    """emgame's certificate: every type's regret at ``profile`` (an upper bound).

    ``multipliers = (λ consumers, λ producers, ν producers)``: where the bound's search starts,
    and under prepaid settlement each type's own wallet multiplier ``λ̄`` in its objective.
    """
    mult = None
    if multipliers is not None:
        mult = SimpleNamespace(consumer_budget=multipliers[0], producer_budget=multipliers[1],
                               producer_goods=multipliers[2])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _certify(economy, profile, price_taking=price_taking,
                        multipliers=mult)  # type: ignore[arg-type]


def deviations(economy: Economy, profile: Profile) -> tuple[Any, Any]:
    """``(consumers, producers)`` best deviations; ``.deviation`` holds the Lagrangian
    maximiser (``received``, ``offers``, ``paid``, ``capacity``)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _deviations(economy, profile)


def state_utility(population: Any, consumption: np.ndarray, goods: np.ndarray) -> np.ndarray:
    """Utility of each type in each state separately, ``(n, S)``: ``u(E_s, x^0)``.

    emgame's utility is the expectation ``Σ_s π_s u(E_s, x^0)``; a round draws one state, so
    the learner's reward is the utility of that state alone.
    """
    n, S, _ = consumption.shape
    out = np.empty((n, S))
    one = np.ones(1)
    for s in range(S):
        out[:, s] = _utility(population, np.maximum(consumption[:, s:s + 1, :], 0.0),
                             np.maximum(goods, 0.0), one)
    return out
