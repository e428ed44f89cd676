"""Run a sweep: the points still to solve go to Dask workers (or a plain loop); results come back
as they are done and go to a sink (the results store), which alone writes.

By default the points run on a local ``dask.distributed`` cluster with one single-threaded worker
process per core (numba's parallel kernels in each worker get that worker's share of the cores,
not all of them); ``scheduler="tcp://HOST:PORT"`` sends them to an existing cluster instead
(whose workers must be able to import :mod:`emgame`); ``serial=True`` solves them in this process,
one after the other, without Dask (for debugging and to measure Dask's overhead).

Dask is imported here, inside :func:`run_sweep`, and nowhere else: importing :mod:`emgame`
starts and configures nothing.

A task that fails as a whole (its worker died more often than Dask allows, or it raised outside
the solver) is split into one task per point, so that one bad point cannot take its neighbours
down; a single point that still fails is stored with status ``error`` and the reason.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from emgame.analysis.sweep import Sweep, Task, tasks
from emgame.analysis.worker import (
    ERROR,
    PointResult,
    available_cores,
    failed_result,
    solve_task,
)

logger = logging.getLogger(__name__)


class Sink(Protocol):
    """Where results go (the results store is one).

    ``pending`` registers the sweep and says, per point id, which concepts are still to be
    solved; ``write`` stores a batch of results atomically (all or nothing), ignoring results
    already stored.
    """

    def pending(self, sweep: Sweep) -> Mapping[str, Sequence[str]]: ...

    def write(self, results: Sequence[PointResult]) -> int: ...


class SweepRunError(RuntimeError):
    """The sweep could not run (no scheduler at the address, workers without emgame...)."""


@dataclass(frozen=True)
class Progress:
    """Where a running sweep stands; rows are (point, concept) pairs.

    ``total`` rows in the sweep, ``stored`` of them in the sink (from earlier runs too),
    ``todo`` to solve in this run, ``solved`` and ``failed`` so far in this run, ``elapsed``
    seconds since solving started.
    """

    total: int
    stored: int
    todo: int
    solved: int
    failed: int
    elapsed: float
    workers: int


@dataclass(frozen=True)
class RunReport:
    """What a run did: rows already stored before it, solved (of which failed) in it, timings.

    ``startup`` is the time to start (or connect to) the cluster, ``seconds`` the time from
    then until the last result was stored; ``executor`` names where the points ran.
    """

    total: int
    already: int
    solved: int
    failed: int
    errors: int
    seconds: float
    startup: float
    workers: int
    tasks: int
    executor: str


def default_workers() -> int:
    """Cores this process may use (one single-threaded worker process per core)."""
    return available_cores()


def workers_per_host(info: Mapping[str, Any]) -> int:
    """The most worker processes on one machine, from the scheduler's worker list."""
    hosts: dict[str, int] = {}
    for address, w in (info.get("workers") or {}).items():
        host = w.get("host") or address.rsplit(":", 1)[0]
        hosts[host] = hosts.get(host, 0) + 1
    return max(hosts.values(), default=1)


def probe() -> dict[str, Any]:
    """Run on a worker to check it can import emgame (and see which)."""
    import emgame
    from emgame.analysis.worker import worker_name

    return {"worker": worker_name(), "emgame": getattr(emgame, "__file__", "")}


def run_sweep(sweep: Sweep, sink: Sink, *, scheduler: str | None = None,
              workers: int | None = None, serial: bool = False, chunk_size: int | None = None,
              on_progress: Callable[[Progress], None] | None = None) -> RunReport:
    """Solve every point of ``sweep`` that ``sink`` does not hold yet, and store the results.

    Parameters
    ----------
    sweep : Sweep
    sink : Sink
        Usually a :class:`emgame.store.Store`.
    scheduler : str, optional
        Address of a running Dask scheduler; default: start a local cluster.
    workers : int, optional
        Workers of the local cluster (default: one per core). Ignored with ``scheduler``.
    serial : bool
        Solve in this process without Dask.
    chunk_size : int, optional
        Points per task (default: see :func:`emgame.analysis.sweep.tasks`).
    on_progress : callable, optional
        Called with a :class:`Progress` when solving starts and after every stored batch.

    Raises
    ------
    SweepRunError
        When the cluster cannot be reached or used. ``KeyboardInterrupt`` passes through after
        the cluster is shut down; what was stored stays stored.
    """
    run = _Run(sweep, sink, on_progress)
    if run.todo == 0:
        return run.report("none (nothing to solve)", 0, 0.0)
    if serial:
        work = tasks(sweep, run.pending, chunk_size, 1)
        logger.info("sweep %s: %d rows to solve in %d tasks, in this process", sweep.name,
                    run.todo, len(work))
        run.begin(1)
        for task in work:
            run.store(solve_task(task))
        return run.report("one process (serial, no Dask)", len(work), 0.0)
    with _quiet_on_interrupt(*DASK_LOGGERS):
        return _run_dask(run, scheduler, workers, chunk_size)


class _Run:
    """The bookkeeping of one run: counters, clock, progress, writes."""

    def __init__(self, sweep: Sweep, sink: Sink,
                 on_progress: Callable[[Progress], None] | None) -> None:
        self.sweep = sweep
        self.sink = sink
        self.on_progress = on_progress
        self.pending = sink.pending(sweep)
        self.total = len(sweep.points) * len(sweep.concepts)
        self.todo = sum(len(c) for c in self.pending.values())
        self.already = self.total - self.todo
        self.solved = self.failed = self.errors = 0
        self.workers = 1
        self.started = time.perf_counter()

    def begin(self, workers: int) -> None:
        self.workers = workers
        self.started = time.perf_counter()
        self.emit()

    def emit(self) -> None:
        if self.on_progress is not None:
            self.on_progress(Progress(self.total, self.already + self.solved, self.todo,
                                      self.solved, self.failed,
                                      time.perf_counter() - self.started, self.workers))

    def store(self, results: Sequence[PointResult]) -> None:
        self.sink.write(results)
        self.solved += len(results)
        self.failed += sum(not r.ok for r in results)
        self.errors += sum(r.status == ERROR for r in results)
        self.emit()

    def report(self, executor: str, n_tasks: int, startup: float) -> RunReport:
        return RunReport(self.total, self.already, self.solved, self.failed, self.errors,
                         time.perf_counter() - self.started, startup, self.workers, n_tasks,
                         executor)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this process for the duration (child processes started meanwhile
    inherit that); a no-op outside the main thread, where signals cannot be changed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _quiet(*names: str, keep: bool = False) -> Iterator[None]:
    """The loggers ``names`` (and those under them) silent for the duration; still silent
    after it when ``keep``."""
    logs = [logging.getLogger(name) for name in names]
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        if not keep:
            for log, level in zip(logs, levels, strict=True):
                log.setLevel(level)


DASK_LOGGERS = ("distributed", "tornado", "asyncio")
"""Where Dask and its event loop log: what they say while a sweep stops is noise."""


@contextlib.contextmanager
def _quiet_on_interrupt(*names: str) -> Iterator[None]:
    """Ctrl-C silences the loggers ``names`` before ``KeyboardInterrupt`` is raised: the
    client's event loop reacts at once, in its own thread (a cancelled wait logs an error
    with a traceback), before any ``finally`` here could quiet it. A no-op outside the main
    thread or where SIGINT is not Python's to handle."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return

    def interrupted(signum: int, frame: Any) -> None:
        for name in names:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        previous(signum, frame)

    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _ignore_interrupts() -> Any:
    """A Dask worker plugin: the worker process ignores SIGINT (its client stops it)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class IgnoreInterrupts(WorkerPlugin):
        idempotent = True

        def setup(self, worker: Any) -> None:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)

    return IgnoreInterrupts()


def _run_dask(run: _Run, scheduler: str | None, workers: int | None,
              chunk_size: int | None) -> RunReport:
    import distributed
    from distributed import Client, LocalCluster, as_completed

    started = time.perf_counter()
    cluster = None
    client = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="15s")
            except (OSError, TimeoutError) as exc:
                raise SweepRunError(f"cannot reach the Dask scheduler at {scheduler}: "
                                    f"{exc}") from None
            executor = f"Dask scheduler {scheduler}"
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise SweepRunError(f"the Dask scheduler at {scheduler} has no workers "
                                    "(waited 60 s)") from None
        else:
            n = workers or default_workers()
            # No dashboard; the scheduler's HTTP endpoint on a free port (":0"), so that
            # two sweeps on one machine do not fight over 8787. Workers log only what is
            # fatal: their shutdown chatter is noise, and a failed task reaches the client.
            # Ctrl-C goes to the whole process group: the local workers ignore it (they
            # inherit the ignored signal when started, and a plugin keeps it so for workers
            # restarted later); this process stops them itself, so the user sees one line,
            # not a traceback per worker.
            with _sigint_ignored():
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=logging.CRITICAL)
            client = Client(cluster)
            client.register_plugin(_ignore_interrupts(), name="emgame-ignore-sigint")
            executor = f"local Dask cluster ({n} worker processes)"
        try:
            client.submit(probe, pure=False).result(timeout=120)
        except (ImportError, OSError, TimeoutError) as exc:
            raise SweepRunError(f"the Dask workers cannot run emgame ({type(exc).__name__}: "
                                f"{exc}); install emgame where the workers run") from None
        info = client.scheduler_info(n_workers=-1)
        n_workers = max(1, len(info.get("workers", {})))
        startup = time.perf_counter() - started
        # Each worker is single-threaded, but numba's parallel kernels would start a thread per
        # core in every worker: each gets its share of its machine's cores instead.
        work = tasks(run.sweep, run.pending, chunk_size, n_workers, workers_per_host(info))
        logger.info("sweep %s: %d tasks on %s", run.sweep.name, len(work), executor)
        run.begin(n_workers)
        of: dict[str, Task] = {}
        futures = []
        for task in work:
            fut = client.submit(solve_task, task, pure=False)
            of[fut.key] = task
            futures.append(fut)
        queue = as_completed(futures)
        # Futures that finished together are stored in one batch (one transaction, one
        # connection to the store), however many tasks that is.
        for done in queue.batches():
            finished: list[PointResult] = []
            for fut in done:
                task = of.pop(fut.key)
                if fut.status == "finished":
                    finished.extend(fut.result())
                    fut.release()
                    continue
                if fut.status == "cancelled":
                    raise SweepRunError("the Dask cluster cancelled the sweep's tasks "
                                        "(scheduler gone?); run the same command again to "
                                        "resume")
                exc = fut.exception()
                fut.release()
                if len(task.items) > 1:
                    logger.warning("a task of %d points failed (%s: %s); solving its points "
                                   "one by one", len(task.items), type(exc).__name__, exc)
                    for sub in task.split():
                        new = client.submit(solve_task, sub, pure=False)
                        of[new.key] = sub
                        queue.add(new)
                    continue
                point, concepts = task.items[0]
                killed = isinstance(exc, distributed.scheduler.KilledWorker)
                reason = (f"the worker solving this point died repeatedly ({exc}); the point "
                          f"may crash the solver" if killed else
                          f"solving this point raised {type(exc).__name__}: {exc}")
                logger.error("%s", reason)
                finished.extend(failed_result(point, c, reason) for c in concepts)
            if finished:
                run.store(finished)
        return run.report(executor, len(work), startup)
    finally:
        # The sweep's results are stored; what Dask says while it stops is noise. Interrupted,
        # the scheduler (in this process) may still try to tell the closed client of tasks lost
        # with the workers, and logs that as CRITICAL with a traceback: the user pressed Ctrl-C
        # and must see one line. Its loggers stay quiet if the process is on its way out.
        with _quiet(*DASK_LOGGERS, keep=sys.exc_info()[0] is not None):
            if client is not None:
                client.close(timeout=5)
            if cluster is not None:
                cluster.close(timeout=5)
