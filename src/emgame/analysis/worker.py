"""What runs on a worker: solve the points of one task, each warm-starting the next.

:func:`solve_task` is the function a Dask worker (or the plain in-process loop) calls. It
returns one :class:`PointResult` per point and concept: plain, picklable data (the solution's
JSON, its summary, timings), so that only the client touches the results store.

A point whose solve raises one of :data:`SOLVER_ERRORS` (a solver bug, not an answer) is returned
with status ``"error"`` and the traceback as its reason, and the task goes on with the next
point; the error is logged. Nothing is dropped.

With ``task.search`` (``all = true`` in the sweep file) each point and concept is searched for
every equilibrium (:func:`emgame.equilibria.solve_all`) instead: see :func:`_result_all`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emgame.analysis.summary import POINT_FIELDS, summarise
from emgame.analysis.sweep import Point, SearchAll, Task
from emgame.equilibria import Equilibria, Found, solve_all
from emgame.model import economy_from_dict
from emgame.results import Solution, Status
from emgame.solve import Options, solve

logger = logging.getLogger(__name__)

ERROR = "error"
"""Status of a point whose solve raised (a bug to report); the reason holds the traceback."""

SOLVER_ERRORS: tuple[type[BaseException], ...] = (
    ArithmeticError, LookupError, RuntimeError, TypeError, ValueError, AssertionError,
    np.linalg.LinAlgError,
)
"""Exceptions that mean 'the solver failed on this point' (kept as that point's result)."""


@dataclass(frozen=True)
class PointResult:
    """One point solved for one concept, as a worker returns it (everything JSON-ready).

    ``status`` is the solution's (``equilibrium``, ``no-equilibrium-found``, ``infeasible``) or
    ``error``; ``summary`` and ``types`` are :func:`~emgame.analysis.summary.summarise`'s;
    ``seconds`` is the solver's own timing, ``seconds_worker`` the wall time of the point on the
    worker (economy built, solved, summarised); ``warm_start_from`` the id of the point whose
    solution was the start, if any. ``search`` holds what the every-equilibrium search found
    (keys :data:`SEARCH_FIELDS`), ``None`` when the sweep did not search.
    """

    point_id: str
    concept: str
    index: int
    params: tuple[tuple[str, float | int], ...]
    economy: Mapping[str, Any] = field(repr=False)
    status: str
    reason: str
    summary: Mapping[str, Any] = field(repr=False)
    types: tuple[Mapping[str, Any], ...] = field(repr=False)
    solution: Mapping[str, Any] | None = field(repr=False)
    iterations: int = 0
    evaluations: int = 0
    seconds: float | None = None
    seconds_worker: float = 0.0
    warm_start_from: str | None = None
    worker: str = ""
    finished: float = 0.0
    search: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "equilibrium"

    @property
    def key(self) -> tuple[str, str]:
        return (self.point_id, self.concept)


SEARCH_FIELDS: tuple[str, ...] = (
    "equilibria_found", "symmetric_found", "active_found", "split_found", "starts",
    "starts_reached", "equilibria",
)
"""What a point's every-equilibrium search records (the store's columns of the same names)."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def failed_result(point: Point, concept: str, reason: str, *, status: str = ERROR,
                  worker: str = "") -> PointResult:
    """A result for a point that could not be solved at all (the reason says why)."""
    return PointResult(point.point_id, concept, point.index, point.params, point.economy,
                       status, reason, dict.fromkeys(POINT_FIELDS), (), None,
                       worker=worker, finished=time.time())


def _result(point: Point, concept: str, solution: Solution, started: float,
            start_id: str | None) -> PointResult:
    summary, types = summarise(solution)
    return PointResult(
        point.point_id, concept, point.index, point.params, point.economy,
        solution.status.value, solution.reason, summary, tuple(types), solution.to_dict(),
        iterations=int(solution.iterations), evaluations=int(solution.evaluations),
        seconds=solution.seconds.get("total"), seconds_worker=time.perf_counter() - started,
        warm_start_from=start_id, worker=worker_name(), finished=time.time())


def stored_equilibrium(found: Equilibria) -> Found | None:
    """The equilibrium a sweep stores as the point's solution: the one the default solve (the
    search's first start, :func:`emgame.solve` itself) reached if it is among those found, else
    the one most starts reached (ties: the search's order, active and type-symmetric first)."""
    for f in found.equilibria:
        if "default" in f.starts:
            return f
    return max(found.equilibria, key=lambda f: f.count, default=None)


def _result_all(point: Point, concept: str, found: Equilibria, started: float) -> PointResult:
    """A point's row from its every-equilibrium search.

    With an equilibrium: the stored one's (:func:`stored_equilibrium`) summary, types and
    JSON, so that every column means what it means without the search; ``search`` lists the
    equilibria with the stored one first. Without: the search's status and reason (the default
    solve's status where it says more: ``infeasible``, ``inconclusive``), its last candidate
    for diagnosis, and the counts (0 found).
    """
    first = stored_equilibrium(found)
    order = ([first] if first is not None else []) + [f for f in found.equilibria
                                                       if f is not first]
    everything = found.to_dict()
    position = {id(f): k for k, f in enumerate(found.equilibria)}
    everything["equilibria"] = [everything["equilibria"][position[id(f)]] for f in order]
    search = {
        "equilibria_found": len(found.equilibria),
        "symmetric_found": len(found.symmetric),
        "active_found": sum(f.active for f in found.equilibria),
        "split_found": len(found.split),
        "starts": int(found.starts),
        "starts_reached": [f.count for f in order],
        "equilibria": everything,
    }
    solution = first.solution if first is not None else found.default
    status, reason = found.status.value, found.reason
    if first is None and found.default is not None and found.default.status in (
            Status.INFEASIBLE, Status.INCONCLUSIVE):
        status = found.default.status.value
        reason = f"{found.default.reason}; {found.reason}" if found.default.reason else reason
    summary: dict[str, Any] = dict.fromkeys(POINT_FIELDS)
    types: list[dict[str, Any]] = []
    if solution is not None:
        summary, types = summarise(solution)
    return PointResult(
        point.point_id, concept, point.index, point.params, point.economy, status, reason,
        summary, tuple(types), None if solution is None else solution.to_dict(),
        iterations=0 if solution is None else int(solution.iterations),
        evaluations=0 if solution is None else int(solution.evaluations),
        seconds=found.seconds, seconds_worker=time.perf_counter() - started,
        warm_start_from=None, worker=worker_name(), finished=time.time(), search=search)


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def share_threads(workers_per_host: int) -> int:
    """Give numba's parallel kernels this worker's share of the machine's cores,
    ``max(1, cores // workers_per_host)``: with one worker process per core, each running
    numba with every core's threads would oversubscribe the machine. numba's setting is per
    thread, so it is made in the thread that solves; returns the threads set."""
    import numba

    threads = max(1, min(available_cores() // max(1, workers_per_host),
                         numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    return threads


def solve_task(task: Task) -> list[PointResult]:
    """Solve every point of ``task`` in order, for each of its concepts.

    With ``task.warm_start``, a point starts from the last equilibrium of the same concept
    found earlier in the task (its neighbour in the sweep's order); ``solve`` falls back to its
    usual starts when that fails. With ``task.search``, every equilibrium is searched instead
    (cold: :func:`emgame.equilibria.solve_all` from its own starts). With
    ``task.workers_per_host``, numba runs with this worker's share of the cores
    (:func:`share_threads`).
    """
    if task.workers_per_host:
        share_threads(task.workers_per_host)
    options = Options(atol=task.atol, rtol=task.rtol)
    results: list[PointResult] = []
    previous: dict[str, tuple[str, Solution]] = {}
    for point, concepts in task.items:
        for concept in concepts:
            started = time.perf_counter()
            start = previous.get(concept) if task.warm_start and task.search is None else None
            try:
                economy = economy_from_dict(point.economy, f"point {point.point_id}")
                if task.search is not None:
                    results.append(_search(point, concept, economy, options, task.search,
                                           started))
                    continue
                solution = solve(economy, concept, options=options,  # type: ignore[arg-type]
                                 start=None if start is None else start[1])
            except SOLVER_ERRORS as exc:
                where = ", ".join(f"{p} = {v}" for p, v in point.params)
                logger.error("solving %s at %s raised %s: %s", concept, where,
                             type(exc).__name__, exc)
                reason = (f"the solver raised {type(exc).__name__}: {exc}\n"
                          + "".join(traceback.format_exception(exc)))
                results.append(failed_result(point, concept, reason, worker=worker_name()))
                continue
            results.append(_result(point, concept, solution, started,
                                   None if start is None else start[0]))
            if solution.ok:
                previous[concept] = (point.point_id, solution)
    return results


def _search(point: Point, concept: str, economy: Any, options: Options, search: SearchAll,
            started: float) -> PointResult:
    found = solve_all(economy, concept, starts=search.starts,  # type: ignore[arg-type]
                      seed=search.seed, options=options, max_seconds=search.seconds)
    return _result_all(point, concept, found, started)
