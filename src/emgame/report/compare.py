"""Nash beside competitive: the comparison that ``emgame solve --concept both`` reports.

The game and its competitive benchmark are compared in relative prices ``p^t / p^0`` (bids are
in bytecoins, a unit of account, so only relative prices mean the same thing in both; MODEL.md
section 6) and in each type's utility, Nash minus competitive (per agent of the type).

Nothing here solves anything: it reads two :class:`~emgame.results.Solution` objects for the same
economy. Numbers that do not exist (a failed solve without a candidate, a post that does not
trade, utility ``-inf``) are ``None`` in the dictionaries, as in :meth:`Solution.to_dict`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from emgame.results import Solution, Status


def _num(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _list(a: np.ndarray | None, n: int) -> list[float | None]:
    if a is None:
        return [None] * n
    return [_num(v) for v in np.asarray(a, dtype=float)]


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


def _ratio(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None or b is None:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def _diff(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None or b is None:
        return None
    with np.errstate(invalid="ignore"):
        return a - b


def comparison(nash: Solution, competitive: Solution) -> dict[str, Any]:
    """Relative prices side by side with their gap and ratio, and utility Nash minus competitive.

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
        the type. ``both_equilibria`` says whether both numbers come from certified equilibria.
    """
    econ = nash.economy
    T = econ.periods
    rn, rc = relative_prices(nash), relative_prices(competitive)
    cons_n, prod_n = utilities(nash)
    cons_c, prod_c = utilities(competitive)

    def rows(names: tuple[str, ...], a: np.ndarray | None, b: np.ndarray | None) -> list[dict]:
        d = _diff(a, b)
        n = len(names)
        return [{"name": name, "nash": x, "competitive": y, "difference": z}
                for name, x, y, z in zip(names, _list(a, n), _list(b, n), _list(d, n),
                                         strict=True)]

    return {
        "periods": list(econ.labels),
        "both_equilibria": nash.status is Status.EQUILIBRIUM
        and competitive.status is Status.EQUILIBRIUM,
        "relative_prices": {
            "nash": _list(rn, T),
            "competitive": _list(rc, T),
            "gap": _list(_diff(rn, rc), T),
            "ratio": _list(_ratio(rn, rc), T),
        },
        "utility": {
            "consumers": rows(econ.consumers.names, cons_n, cons_c),
            "producers": rows(econ.producers.names, prod_n, prod_c),
        },
    }


def both_to_dict(nash: Solution, competitive: Solution) -> dict[str, Any]:
    """The JSON document of ``emgame solve --concept both``.

    ``{"status", "nash": nash.to_dict(), "competitive": competitive.to_dict(), "comparison"}``;
    the top-level ``status`` is ``"equilibrium"`` only when both are, else the first failure's.
    """
    failed = [s for s in (nash, competitive) if s.status is not Status.EQUILIBRIUM]
    return {
        "status": failed[0].status.value if failed else Status.EQUILIBRIUM.value,
        "nash": nash.to_dict(),
        "competitive": competitive.to_dict(),
        "comparison": comparison(nash, competitive),
    }
