"""Running sweeps: in a plain loop and on a local Dask cluster, into the store; warm starts,
resume, solver errors kept as results."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import emgame.analysis.worker as worker
from emgame.analysis.runner import run_sweep
from emgame.analysis.sweep import load_sweep, tasks
from emgame.analysis.worker import ERROR, solve_task
from emgame.store import open_store
from sweep_helpers import grid_sweep


class ListSink:
    """A sink that keeps results in a list (what the runner needs from a store)."""

    def __init__(self) -> None:
        self.results = []

    def pending(self, sweep):
        done = {r.key for r in self.results}
        out = {}
        for p in sweep.points:
            left = tuple(c for c in sweep.concepts if (p.point_id, c) not in done)
            if left:
                out[p.point_id] = left
        return out

    def write(self, results):
        self.results.extend(results)
        return len(results)


def test_serial_run_warm_starts_neighbours_and_resumes(tmp_path):
    sw = load_sweep(grid_sweep(tmp_path, 2, 3, chunk=3))
    sink = ListSink()
    seen = []
    rep = run_sweep(sw, sink, serial=True, on_progress=seen.append)
    assert rep.total == 12 and rep.solved == 12 and rep.failed == 0 and rep.already == 0
    assert rep.executor.startswith("one process") and rep.tasks == 2
    assert seen[0].solved == 0 and seen[-1].solved == seen[-1].todo == 12
    by_key = {r.key: r for r in sink.results}
    assert len(by_key) == 12
    # within a task, each point starts from its predecessor's equilibrium (same concept)
    first, second = sw.points[0], sw.points[1]
    assert by_key[(first.point_id, "nash")].warm_start_from is None
    assert by_key[(second.point_id, "nash")].warm_start_from == first.point_id
    assert by_key[(second.point_id, "competitive")].warm_start_from == first.point_id
    assert by_key[(sw.points[3].point_id, "nash")].warm_start_from is None  # a new task
    again = run_sweep(sw, sink, serial=True)
    assert again.solved == 0 and again.already == 12 and len(sink.results) == 12


def test_warm_start_gives_the_cold_answer(tmp_path):
    sw = load_sweep(grid_sweep(tmp_path, 1, 3, chunk=3))
    warm = solve_task(tasks(sw, chunk_size=3)[0])
    cold = [r for t in tasks(sw, chunk_size=1) for r in solve_task(t)]
    key = {r.key: r for r in cold}
    for r in warm:
        c = key[r.key]
        assert r.ok and c.ok
        assert np.allclose(r.summary["relative_prices"], c.summary["relative_prices"],
                           rtol=1e-7)


def test_a_solver_exception_is_a_stored_result_not_a_lost_point(tmp_path, monkeypatch):
    sw = load_sweep(grid_sweep(tmp_path, 1, 3, concept="nash", chunk=3))
    bad = sw.points[1].point_id
    real = worker.solve

    def flaky(economy, concept, **kw):
        if economy.source == f"point {bad}":
            raise FloatingPointError("overflow in a kernel")
        return real(economy, concept, **kw)

    monkeypatch.setattr(worker, "solve", flaky)
    with open_store(tmp_path / "r.duckdb") as st:
        rep = run_sweep(sw, st, serial=True)
        assert rep.solved == 3 and rep.failed == 1 and rep.errors == 1
        rows = {r["point_id"]: r for r in st.query("SELECT * FROM points")}
        assert rows[bad]["status"] == ERROR
        assert "FloatingPointError: overflow in a kernel" in rows[bad]["reason"]
        assert "Traceback" in rows[bad]["reason"]
        # the point after the failure still warm-starts, from the last equilibrium
        assert rows[sw.points[2].point_id]["warm_start_from"] == sw.points[0].point_id


@pytest.mark.slow
def test_local_dask_cluster_gives_the_serial_results(tmp_path):
    sw = load_sweep(grid_sweep(tmp_path, 2, 2, chunk=1))
    serial = ListSink()
    run_sweep(sw, serial, serial=True)
    with open_store(tmp_path / "r.duckdb") as st:
        rep = run_sweep(sw, st, workers=2)
        assert rep.solved == 8 and rep.failed == 0 and rep.workers == 2
        assert rep.executor.startswith("local Dask cluster")
        rows = st.query("SELECT point_id, concept, relative_prices, worker FROM points")
        assert len(rows) == 8
        assert len({r["worker"] for r in rows}) >= 1
        expected = {r.key: r.summary["relative_prices"] for r in serial.results}
        for r in rows:
            assert np.allclose(r["relative_prices"], expected[(r["point_id"], r["concept"])],
                               rtol=1e-7)
    assert "distributed" in sys.modules  # imported by the run, not before (see test below)


def test_importing_emgame_does_not_import_dask():
    import subprocess

    code = ("import sys, emgame, emgame.analysis.sweep, emgame.analysis.runner, emgame.store, "
            "emgame.report.figures, emgame.report.html, emgame.cli\n"
            "print(sorted(m for m in ('dask', 'distributed', 'matplotlib.pyplot') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_workers_give_numba_their_share_of_the_cores(tmp_path):
    """Single-threaded Dask workers must not each start every core's numba threads: a task
    sets numba's thread count to its worker's share, cores // workers on the machine
    (issue 9: oversubscription)."""
    import numba

    from emgame.analysis.runner import workers_per_host
    from emgame.analysis.worker import available_cores, share_threads

    sw = load_sweep(grid_sweep(tmp_path, 1, 1, concept="nash"))
    task = tasks(sw, workers=2, workers_per_host=2)[0]
    assert task.workers_per_host == 2 and task.split()[0].workers_per_host == 2
    before = numba.get_num_threads()
    try:
        solve_task(task)
        assert numba.get_num_threads() == max(1, min(available_cores() // 2,
                                                     numba.config.NUMBA_NUM_THREADS))
        assert share_threads(10 ** 6) == 1
    finally:
        numba.set_num_threads(before)
    info = {"workers": {"tcp://10.0.0.1:1": {"host": "10.0.0.1"},
                        "tcp://10.0.0.1:2": {"host": "10.0.0.1"},
                        "tcp://10.0.0.2:1": {"host": "10.0.0.2"}}}
    assert workers_per_host(info) == 2


def test_local_cluster_tasks_carry_the_share(tmp_path, monkeypatch):
    """run_sweep on a local cluster of two workers hands every task workers_per_host = 2
    (the tasks are made in this process, then sent to the workers)."""
    import emgame.analysis.runner as runner_mod

    made: list = []
    real = runner_mod.tasks

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        out = real(*args, **kwargs)
        made.extend(out)
        return out

    monkeypatch.setattr(runner_mod, "tasks", spy)
    sw = load_sweep(grid_sweep(tmp_path, 1, 2, concept="nash"))
    sink = ListSink()
    run_sweep(sw, sink, workers=2, chunk_size=1)
    assert len(sink.results) == 2 and all(r.ok for r in sink.results)
    assert made and {t.workers_per_host for t in made} == {2}


@pytest.mark.slow
def test_an_interrupted_local_cluster_stops_without_dask_tracebacks(tmp_path, monkeypatch,
                                                                    capsys):
    """Ctrl-C during a sweep: while the cluster stops, the scheduler (in this process) may
    log the client's closed connection as CRITICAL with a traceback (CI, stop 27: the only
    failure of a run). The user sees the interrupt, not Dask's shutdown; a sweep that ends
    normally leaves Dask's loggers as they were."""
    import logging

    import distributed

    from emgame.cli.common import log_to_stderr

    real_close = distributed.Client.close

    def from_the_sweep() -> bool:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_name == "_run_dask":
                return True
            frame = frame.f_back
        return False

    def close(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if not from_the_sweep():   # another test's client, collected now
            return real_close(self, *args, **kwargs)
        try:
            raise distributed.comm.core.CommClosedError("Comm already closed.")
        except distributed.comm.core.CommClosedError:
            logging.getLogger("distributed.scheduler").critical(
                "Closed comm while trying to write", exc_info=True)
        return real_close(self, *args, **kwargs)

    class Interrupted(ListSink):
        def write(self, results):
            raise KeyboardInterrupt

    monkeypatch.setattr(distributed.Client, "close", close)
    root = logging.getLogger()
    before = list(root.handlers)
    level = logging.getLogger("distributed").level
    others = {n: logging.getLogger(n).level for n in ("tornado", "asyncio")}
    log_to_stderr()   # the CLI's handler, writing to the captured stderr
    try:
        sw = load_sweep(grid_sweep(tmp_path, 1, 2, concept="nash"))
        with pytest.raises(KeyboardInterrupt):
            run_sweep(sw, Interrupted(), workers=2, chunk_size=1)
        err = capsys.readouterr().err
        assert "Traceback" not in err and "CRITICAL" not in err, err
        logging.getLogger("distributed").setLevel(level)
        run_sweep(sw, ListSink(), workers=2, chunk_size=1)
        # (Not its stderr: the first run's client, closed again when collected, may log then.)
        assert logging.getLogger("distributed").level == level
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
        logging.getLogger("distributed").setLevel(level)
        for n, lv in others.items():
            logging.getLogger(n).setLevel(lv)


def test_ctrl_c_quiets_dask_before_the_interrupt_is_raised():
    """Ctrl-C during a sweep: Dask's loggers are silenced in the signal handler, before
    ``KeyboardInterrupt`` reaches the client, whose event loop (another thread) logs a
    cancelled wait at once with a traceback (a fresh clone's run of the Ctrl-C test, stop 28:
    tornado's "Exception in callback ... sync.<locals>.cancel", before any ``finally`` ran).
    The previous SIGINT handler is back afterwards."""
    import logging
    import os
    import signal
    import time

    from emgame.analysis.runner import DASK_LOGGERS, _quiet_on_interrupt

    levels = {n: logging.getLogger(n).level for n in DASK_LOGGERS}
    before = signal.getsignal(signal.SIGINT)
    try:
        for n in DASK_LOGGERS:   # (an earlier interrupted sweep in this process may have
            logging.getLogger(n).setLevel(logging.WARNING)   # left them silent)
        with pytest.raises(KeyboardInterrupt), _quiet_on_interrupt(*DASK_LOGGERS):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)   # the handler raises in this thread at once
        assert all(logging.getLogger(n).level > logging.CRITICAL for n in DASK_LOGGERS)
        assert signal.getsignal(signal.SIGINT) is before
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
