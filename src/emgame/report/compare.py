"""Nash beside competitive: the comparison that ``emgame solve --concept both`` reports.

The game and its competitive benchmark are compared in relative prices ``p^t / p^0`` (bids are
in bytecoins, a unit of account, so only relative prices mean the same thing in both;
docs/model.md, "Solution concepts") and in each type's utility, Nash minus competitive (per agent
of the type), with the welfare measures of docs/model.md, "Welfare".

Nothing here solves anything: it reads two :class:`~emgame.results.Solution` objects for the same
economy. Numbers that do not exist (a failed solve without a candidate, a post that does not
trade, utility ``-inf``) are ``None`` in the dictionaries, as in :meth:`Solution.to_dict`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emgame.analysis.compare import compare
from emgame.analysis.foc import foc_residuals
from emgame.results import Solution, Status


def relative_prices(solution: Solution) -> np.ndarray | None:
    """``p^t / p^0`` for ``t = 1..T``, or ``None`` when the solve left no candidate outcome."""
    if solution.outcome is None:
        return None
    return np.asarray(solution.relative_prices, dtype=float)


def utilities(solution: Solution) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Utility of one agent of each ``(consumer, producer)`` type, ``None`` without an outcome."""
    if solution.outcome is None:
        return None, None
    return (np.asarray(solution.outcome.consumers.utility, dtype=float),
            np.asarray(solution.outcome.producers.utility, dtype=float))


def comparison(nash: Solution, competitive: Solution) -> dict[str, Any]:
    """Relative prices side by side with their gap and ratio, and utility Nash minus competitive.

    The numbers are :func:`emgame.analysis.compare.compare`'s (this is its JSON form).

    Parameters
    ----------
    nash, competitive : Solution
        The two solutions of the same economy (as returned by :func:`emgame.solve_both`).

    Returns
    -------
    dict
        ``{"periods", "relative_prices": {"nash", "competitive", "gap", "ratio"},
        "utility": {"consumers": [...], "producers": [...]}}`` where ``gap`` is Nash minus
        competitive, ``ratio`` Nash over competitive, and each utility row holds ``name``,
        ``nash``, ``competitive`` and ``difference`` (Nash minus competitive) for one agent of
        the type (and its ``consumption_equivalent`` and ``equivalent_variation``).
        ``both_equilibria`` says whether both numbers come from certified equilibria. Further
        keys: ``producers`` (markups, Lerner indices, capacity withheld under both), ``welfare``
        (aggregate measures) and ``notes``.
    """
    return compare(nash, competitive).to_dict()


FOC_MAX_TYPES = 2_000
"""Above this many types the FOC residuals are left out of the JSON (they are found type by
type, about a millisecond each); :func:`emgame.analysis.foc.foc_check` computes them on demand."""


def comparison_summary(nash: Solution, competitive: Solution) -> dict[str, Any]:
    """:func:`comparison` without the per-type utility rows (small whatever the number of
    types; the Parquet output's metadata)."""
    return compare(nash, competitive).to_dict(types=False)


def solution_to_dict(solution: Solution) -> dict[str, Any]:
    """:meth:`Solution.to_dict` plus, for a Nash solution with a candidate, the residuals of
    the paper's first-order conditions (10)–(17) under ``"foc_residuals"`` (for economies of
    at most :data:`FOC_MAX_TYPES` types; above, ``{"omitted": reason}``)."""
    d = solution.to_dict()
    if solution.concept == "nash" and solution.profile is not None:
        n = len(solution.economy.consumers) + len(solution.economy.producers)
        if n <= FOC_MAX_TYPES:
            d["foc_residuals"] = foc_residuals(solution)
        else:
            d["foc_residuals"] = {"omitted": f"{n} types is more than {FOC_MAX_TYPES}; compute "
                                             "them with emgame.analysis.foc.foc_check"}
    return d


def both_to_dict(nash: Solution, competitive: Solution) -> dict[str, Any]:
    """The JSON document of ``emgame solve --concept both``.

    ``{"status", "nash": nash.to_dict(), "competitive": competitive.to_dict(), "comparison"}``;
    the top-level ``status`` is ``"equilibrium"`` only when both are, else the first failure's.
    """
    failed = [s for s in (nash, competitive) if s.status is not Status.EQUILIBRIUM]
    return {
        "status": failed[0].status.value if failed else Status.EQUILIBRIUM.value,
        "nash": solution_to_dict(nash),
        "competitive": competitive.to_dict(),
        "comparison": comparison(nash, competitive),
    }
