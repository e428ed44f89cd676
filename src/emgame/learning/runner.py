"""Run the sessions of a learning file: the stage game is tabulated once (or read back from the
store), sessions go to Dask workers (one single-threaded worker process per core, numba held to
one thread) or run in this process, and results are stored in batches as they arrive. Running
the same command again resumes: only the sessions not stored yet run.

Dask is imported here, inside :func:`run_sessions`, and nowhere else.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emgame.learning.config import LearningSpec
from emgame.learning.store import LearningStore
from emgame.learning.table import StageGame

logger = logging.getLogger(__name__)


class LearningRunError(RuntimeError):
    """The sessions could not run (no scheduler at the address...)."""


@dataclass(frozen=True)
class LearningProgress:
    total: int
    stored: int
    todo: int
    done: int
    elapsed: float
    phase: str = "sessions"     # "table" while the stage game is tabulated


@dataclass(frozen=True)
class LearningRunReport:
    run_id: str
    total: int
    already: int
    done: int
    seconds: float
    table_seconds: float
    startup: float
    executor: str


def build_game(spec: LearningSpec, progress: Callable[[int, int], None] | None = None
               ) -> StageGame:
    """The tabulated stage game of ``spec``'s environment."""
    if spec.config.environment == "calvano":
        from emgame.learning.calvano import Calvano, calvano_game

        p = spec.config.calvano
        return calvano_game(Calvano(n=p["n"], c=p["c"], a=p["a"], a0=p["a0"], mu=p["mu"],
                                    m=spec.config.actions, xi=spec.config.widen))
    from emgame.learning.market import market_game

    return market_game(spec, progress=progress)


def game_for(spec: LearningSpec, store: LearningStore | None,
             progress: Callable[[int, int], None] | None = None) -> StageGame:
    """The stored stage game of ``spec``, or a new one (stored when a store is given)."""
    if store is not None:
        game = store.game(spec.run_id)
        if game is not None:
            return game
    game = build_game(spec, progress)
    if store is not None:
        store.register(spec, game)
    return game


def session_task(game: StageGame, config: Any, indices: list[int]) -> list[dict[str, Any]]:
    """Run sessions ``indices`` (on a worker): numba is held to one thread."""
    import numba

    from emgame.learning.session import run_session

    numba.set_num_threads(1)
    out = []
    worker = f"{socket.gethostname()}:{os.getpid()}"
    for k in indices:
        r = run_session(game, config, k)
        d = r.to_dict()
        d["path"] = [int(x) for x in r.path if x >= 0]
        d["worker"] = worker
        out.append(d)
    return out


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def run_sessions(spec: LearningSpec, store: LearningStore, sessions: int, *,
                 scheduler: str | None = None, workers: int | None = None,
                 serial: bool = False, chunk: int | None = None,
                 on_progress: Callable[[LearningProgress], None] | None = None
                 ) -> LearningRunReport:
    """Run sessions ``0..sessions-1`` of ``spec`` that ``store`` does not hold yet."""
    t0 = time.perf_counter()

    def table_progress(k: int, n: int) -> None:
        if on_progress is not None:
            on_progress(LearningProgress(n, 0, n, k, time.perf_counter() - t0, "table"))

    game = game_for(spec, store, table_progress)
    table_seconds = time.perf_counter() - t0
    have = store.stored(spec.run_id)
    todo = [k for k in range(sessions) if k not in have]
    already = sessions - len(todo)
    started = time.perf_counter()
    done = 0

    def emit() -> None:
        if on_progress is not None:
            on_progress(LearningProgress(sessions, already + done, len(todo), done,
                                         time.perf_counter() - started))

    if not todo:
        return LearningRunReport(spec.run_id, sessions, already, 0, 0.0, table_seconds, 0.0,
                                 "none (nothing to run)")
    emit()
    if serial:
        for k in todo:
            store.write(spec.run_id, session_task(game, spec.config, [k]))
            done += 1
            emit()
        return LearningRunReport(spec.run_id, sessions, already, done,
                                 time.perf_counter() - started, table_seconds, 0.0,
                                 "one process (serial, no Dask)")
    import distributed
    from distributed import Client, LocalCluster, as_completed

    cluster = client = None
    s0 = time.perf_counter()
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="15s")
                client.wait_for_workers(1, timeout=60)
            except (OSError, TimeoutError) as exc:
                raise LearningRunError(f"cannot use the Dask scheduler at {scheduler}: "
                                       f"{exc}") from None
            executor = f"Dask scheduler {scheduler}"
        else:
            n = workers or _workers()
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.CRITICAL,
                                   env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
            client = Client(cluster)
            executor = f"local Dask cluster ({n} worker processes)"
        n_workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        startup = time.perf_counter() - s0
        size = chunk or max(1, min(25, len(todo) // (4 * n_workers) or 1))
        chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
        [game_f] = client.scatter([game], broadcast=True)
        futures = [client.submit(session_task, game_f, spec.config, c, pure=False)
                   for c in chunks]
        started = time.perf_counter()
        for fut in as_completed(futures):
            if fut.status != "finished":
                exc = fut.exception()
                killed = isinstance(exc, distributed.scheduler.KilledWorker)
                raise LearningRunError(
                    ("a worker died running sessions" if killed else
                     f"a session raised {type(exc).__name__}: {exc}")
                    + "; sessions stored so far stay stored: run again to resume")
            results = fut.result()
            fut.release()
            store.write(spec.run_id, results)
            done += len(results)
            emit()
        return LearningRunReport(spec.run_id, sessions, already, done,
                                 time.perf_counter() - started, table_seconds, startup, executor)
    finally:
        if client is not None:
            client.close(timeout=5)
        if cluster is not None:
            cluster.close(timeout=5)
