"""``emgame sweep``, ``results``, ``plot`` and ``report`` from the command line, and the promise of
the store: interrupt a sweep at any moment (kill -9 of the client or of a worker) and run the same
command again; every point ends up stored exactly once.

The kill tests run real processes: ``emgame sweep`` as a subprocess (with its own local Dask
cluster), and a Dask scheduler with two workers started as separate processes for ``--scheduler``.
Every process a test starts is stopped by the test, by its id.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import psutil
import pytest
from typer.testing import CliRunner

from emgame.cli import app
from sweep_helpers import grid_sweep, write_sweep

runner = CliRunner()
BIN = Path(sys.executable).parent
EMGAME = [sys.executable, "-m", "emgame.cli"]
STORED = re.compile(r"(\d+)/(\d+) stored")


def rows(store: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT point_id, concept FROM points").fetchall()
    finally:
        con.close()


def long_sweep(folder: Path, concept: str = "nash", num: int = 20) -> Path:
    """10 × ``num`` points of the small economy, two per task: long enough to be
    interrupted."""
    body = f"""concept = "{concept}"
chunk_size = 2

[[parameters]]
path = "producers.farms.count"
values = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]

[[parameters]]
path = "consumers.dc.endowment"
grid = {{ start = 0.5, stop = 0.9, num = {num} }}
"""
    return write_sweep(folder, body)


class Sweep:
    """``emgame sweep`` in a subprocess, its progress lines read as they come."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.proc = subprocess.Popen([*EMGAME, "sweep", *args], cwd=cwd, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self.out = ""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def stored(self) -> int:
        counts = [int(m.group(1)) for line in self.lines if (m := STORED.search(line))]
        return max(counts, default=0)

    def wait_stored(self, n: int, timeout: float = 90) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.stored() >= n:
                return self.stored()
            if self.proc.poll() is not None:
                pytest.fail("the sweep ended before it could be interrupted:\n"
                            + "".join(self.lines[-20:]))
            time.sleep(0.05)
        pytest.fail(f"no {n} points stored within {timeout} s:\n" + "".join(self.lines[-20:]))

    def finish(self, timeout: float = 120) -> int:
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("the sweep did not finish:\n" + "".join(self.lines[-20:]))
        self.reader.join(5)
        self.out = out
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def stop(proc: subprocess.Popen) -> None:
    """Stop a process this test started, and its children (by id)."""
    if proc.poll() is not None:
        return
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


# --------------------------------------------------------------------------------------------
# The commands, in this process (serial: no cluster).
# --------------------------------------------------------------------------------------------


def test_sweep_results_plot_report(tmp_path):
    sweep = grid_sweep(tmp_path, 2, 2)
    store = tmp_path / "out" / "r.duckdb"
    res = runner.invoke(app, ["sweep", str(sweep), "--store", str(store), "--serial"])
    assert res.exit_code == 0, res.output
    assert "all 8 rows (4 points × nash, competitive) stored" in res.output
    assert "0 already there, 8 solved now (0 not equilibria" in res.output
    assert "8/8 stored" in res.stderr
    again = runner.invoke(app, ["sweep", str(sweep), "--store", str(store), "--serial"])
    assert again.exit_code == 0 and "were already in" in again.output
    dry = runner.invoke(app, ["sweep", str(sweep), "--store", str(store), "--dry-run"])
    assert dry.exit_code == 0 and "8 stored, 0 to solve" in dry.output

    res = runner.invoke(app, ["results", str(store), "--csv", str(tmp_path / "p.csv"),
                              "--parquet", str(tmp_path / "p.parquet")])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())  # rich wraps to the terminal's width
    assert "4 points × nash, competitive = 8 rows; 8 stored, complete" in flat
    assert "wrote 8 rows to" in res.output
    assert (tmp_path / "p.csv").read_text().count("\n") == 9
    res = runner.invoke(app, ["results", str(store), "--json", "--table", "types",
                              "--csv", str(tmp_path / "t.csv")])
    summary = json.loads(res.stdout)
    assert summary["sweeps"][0]["by_status"]["nash"] == {"equilibrium": 4}

    figs = tmp_path / "figs"
    for args in (["--kind", "sweep", "--y", "participation", "--x", "consumers.dc.endowment",
                  "--hue", "producers.farms.count"],
                 ["--y", "relative_prices[2]"],
                 ["--y", "mean_relative_price", "--y", "verification_share"],
                 ["--kind", "sweep", "--y", "capacity", "--type", "farms"],
                 ["--kind", "replication", "--x", "producers.farms.count"],
                 ["--kind", "prices"], ["--kind", "allocations"]):
        name = "-".join(a.strip("-").replace("[", "").replace("]", "").replace(".", "")
                        for a in args)
        res = runner.invoke(app, ["plot", str(store), *args, "-o", str(figs / f"{name}.png"),
                                  "-o", str(figs / f"{name}.svg")])
        assert res.exit_code == 0, (args, res.output)
        assert (figs / f"{name}.png").stat().st_size > 5000
        assert (figs / f"{name}.svg").read_text().lstrip().startswith("<?xml")
    res = runner.invoke(app, ["report", str(store), "-o", str(tmp_path / "report.html")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in page and "small" in page


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    sweep = grid_sweep(folder, 1, 2, concept="nash")
    store = folder / "s.duckdb"
    assert runner.invoke(app, ["sweep", str(sweep), "-s", str(store), "--serial",
                               "-q"]).exit_code == 0
    return sweep, store


@pytest.mark.parametrize("args, message", [
    (["sweep", "absent.toml", "--store", "r.duckdb"], "absent.toml: no such file"),
    (["sweep", "SWEEP", "--store", "r.duckdb", "--serial", "--scheduler", "tcp://x:1"],
     "exclude each other"),
    (["results", "absent.duckdb"], "no such store"),
    (["plot", "SWEEP", "-o", "x.png"], "is a sweep file"),
    (["plot", "STORE", "-o", "x.jpg"], ".png, .svg or .pdf"),
    (["plot", "STORE", "-o", "x.png", "--x", "consumers.dc.endowment", "--hue",
      "consumers.dc.endowment"], "the same parameter"),
    (["plot", "STORE", "-o", "x.png", "--kind", "prices", "--at",
      "consumers.dc.endowment=0.77"], "nearest stored values"),
    (["plot", "STORE", "-o", "x.png", "--y", "relative_prices"], "is not a number"),
    (["plot", "STORE", "-o", "x.png", "--y", "no_such_column"], "cannot read y"),
    (["plot", "STORE", "-o", "x.png", "--x", "market.discount"], "does not vary"),
    (["plot", "STORE", "-o", "x.png", "--reference", "__import__('os')"], "--reference"),
    (["report", "STORE", "-o", "r.html", "--point", "zzzz"], "no stored points match"),
])
def test_bad_input_exits_2(tmp_path, small_store, args, message):
    sweep, store = small_store
    args = [str(sweep) if a == "SWEEP" else str(store) if a == "STORE" else a for a in args]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        res = runner.invoke(app, args)
    finally:
        os.chdir(cwd)
    assert res.exit_code == 2, res.output
    assert message in res.stderr


def test_bad_sweep_file_names_file_and_key(tmp_path):
    path = write_sweep(tmp_path, "[[parameters]]\npath = 'producers.farms.cont'\nvalues = [1]\n")
    res = runner.invoke(app, ["sweep", str(path), "--store", str(tmp_path / "r.duckdb")])
    assert res.exit_code == 2
    assert (f"{path}: parameters[0].path: 'producers.farms.cont': unknown field 'cont'"
            in res.stderr)
    assert "did you mean 'count'" in res.stderr


# --------------------------------------------------------------------------------------------
# Real processes: Dask clusters, kill -9.
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_kill_the_client_then_resume(tmp_path):
    """kill -9 of ``emgame sweep`` mid-run; its workers go; the rerun solves only the rest."""
    sweep = long_sweep(tmp_path)
    store = tmp_path / "r.duckdb"
    run = Sweep(str(sweep), "--store", str(store), "--workers", "2", cwd=tmp_path)
    try:
        run.wait_stored(20)
        children = psutil.Process(run.proc.pid).children(recursive=True)
        os.kill(run.proc.pid, signal.SIGKILL)
        run.proc.wait(10)
    finally:
        run.kill()
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, f"worker processes outlived their client: {alive}"
    first = rows(store)
    assert len(first) >= 20 and len(first) == len(set(first))
    assert len(first) < 200, "the sweep finished before the kill: make it longer"

    rerun = Sweep(str(sweep), "--store", str(store), "--workers", "2", cwd=tmp_path)
    assert rerun.finish() == 0, "".join(rerun.lines[-20:])
    assert f"{len(first)} already there, {200 - len(first)} solved now" in rerun.out
    final = rows(store)
    assert len(final) == 200 and len(set(final)) == 200
    assert set(first) <= set(final)


@pytest.mark.slow
def test_external_scheduler_survives_a_killed_worker(tmp_path):
    """``--scheduler`` sends the points to a cluster started apart (a scheduler and two worker
    processes); kill -9 of one worker mid-sweep loses no point and stores none twice."""
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--scheduler-file", str(scheduler_file), "--port", "0",
         "--no-dashboard", "--host", "127.0.0.1"], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[subprocess.Popen] = []
    try:
        for _ in range(60 * 10):
            if scheduler_file.exists() and scheduler_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for k in range(2):
            workers.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--name", f"w{k}",
                 "--no-dashboard", "--host", "127.0.0.1"], cwd=tmp_path, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        sweep = long_sweep(tmp_path)
        store = tmp_path / "r.duckdb"
        run = Sweep(str(sweep), "--store", str(store), "--scheduler", address, cwd=tmp_path)
        try:
            run.wait_stored(20)
            # the nanny's child is the worker that solves; kill it mid-task
            victims = psutil.Process(workers[0].pid).children(recursive=True)
            assert victims, "the first dask worker has no worker process"
            for v in victims:
                v.kill()
            code = run.finish()
        finally:
            run.kill()
        assert code == 0, "".join(run.lines[-20:])
        assert "on Dask scheduler tcp://127.0.0.1" in run.out
        final = rows(store)
        assert len(final) == 200 and len(set(final)) == 200
        con = duckdb.connect(str(store), read_only=True)
        statuses = con.execute("SELECT status, count(*) FROM points GROUP BY 1").fetchall()
        con.close()
        assert statuses == [("equilibrium", 200)]
    finally:
        for w in workers:
            stop(w)
        stop(scheduler)


def test_failures_are_stored_shown_and_retried(tmp_path):
    # two farms cannot use 20 units of goods even at full capacity: no equilibrium (reason)
    sweep = write_sweep(tmp_path, """concept = "nash"
[[parameters]]
path = "producers.farms.count"
values = [2]

[[parameters]]
path = "consumers.dc.endowment"
values = [0.5, 2.0]
""")
    store = tmp_path / "r.duckdb"
    res = runner.invoke(app, ["sweep", str(sweep), "--store", str(store), "--serial"])
    assert res.exit_code == 0, res.output
    assert "2 solved now (1 not equilibria" in res.output
    assert "emgame results" in res.output
    res = runner.invoke(app, ["results", str(store)])
    flat = " ".join(res.output.split())
    assert "no-equilibrium-found" in flat and "cannot use all of them" in flat
    again = runner.invoke(app, ["sweep", str(sweep), "--store", str(store), "--serial"])
    assert "were already in" in again.output
    retry = runner.invoke(app, ["sweep", str(sweep), "--store", str(store), "--serial",
                                "--retry-failed"])
    assert retry.exit_code == 0
    assert "1 stored row that is not an equilibrium will be solved again" in retry.stderr
    assert "1 already there, 1 solved now (1 not equilibria" in retry.output
    assert len(rows(store)) == 2


# --------------------------------------------------------------------------------------------
# Issue 11: stores read while written, Ctrl-C, bundled studies, dry runs.
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_results_read_the_store_while_the_sweep_runs(tmp_path):
    """`emgame results` reads a store while `emgame sweep` is writing to it (the sweep
    connects per batch); before, DuckDB's lock refused the reader until the sweep ended."""
    sweep = long_sweep(tmp_path, num=8)
    store = tmp_path / "r.duckdb"
    run = Sweep(str(sweep), "--store", str(store), "--workers", "2", cwd=tmp_path)
    try:
        run.wait_stored(10)
        res = runner.invoke(app, ["results", str(store), "--json"])
        assert res.exit_code == 0, res.output
        summary = json.loads(res.stdout)
        assert 10 <= summary["sweeps"][0]["rows_stored"] <= 80
        assert run.finish() == 0, "".join(run.lines[-20:])
    finally:
        run.kill()
    assert len(set(rows(store))) == 80


@pytest.mark.slow
def test_ctrl_c_prints_the_resume_hint_without_tracebacks(tmp_path):
    """Ctrl-C reaches the whole process group (the command and its Dask workers): one line
    with the resume hint, exit 130, no traceback from the workers or the store (there were
    two, one per worker).

    The command starts as from a terminal, with SIGINT at its default: a shell without job
    control starts background commands (``make test &``) with SIGINT ignored, children inherit
    that, and a program started so rightly ignores Ctrl-C (the sweep then ran to the end: the
    test failed on fresh clones run in the background, never in the foreground). 2,000 points
    (about 40 s on two warm workers; interrupted after a few seconds)."""
    total = 2000
    sweep = long_sweep(tmp_path, num=total // 10)
    store = tmp_path / "r.duckdb"
    # A handler installed here (not SIG_IGN) is reset to the default in the child at exec.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen([*EMGAME, "sweep", str(sweep), "--store", str(store),
                                 "--workers", "2"], cwd=tmp_path, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    finally:
        signal.signal(signal.SIGINT, inherited)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        end = time.monotonic() + 90
        while time.monotonic() < end and not any(
                (m := STORED.search(ln)) and int(m.group(1)) >= 10 for ln in lines):
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(60)
        reader.join(10)
    finally:
        stop(proc)
    err = "".join(lines)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "run the same command again to resume" in err
    stored = len(rows(store))
    assert 10 <= stored < total and len(set(rows(store))) == stored
    again = runner.invoke(app, ["sweep", str(sweep), "--store", str(store), "--dry-run"])
    assert again.exit_code == 0 and f"{stored} stored, {total - stored} to solve" in again.output


def test_dry_run_creates_no_store(tmp_path):
    sweep = grid_sweep(tmp_path, 2, 2)
    store = tmp_path / "never" / "r.duckdb"
    res = runner.invoke(app, ["sweep", str(sweep), "--store", str(store), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "0 stored, 8 to solve" in res.output and "does not exist yet" in res.output
    assert not store.exists() and not store.parent.exists()


def test_sweep_finds_a_bundled_study_by_name(tmp_path):
    """`emgame sweep replication` runs the bundled study (examples/studies/replication.toml),
    wherever the command is run from."""
    store = tmp_path / "r.duckdb"
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        res = runner.invoke(app, ["sweep", "replication", "--store", str(store), "--dry-run"])
    finally:
        os.chdir(cwd)
    assert res.exit_code == 0, res.output
    assert "sweep replication" in res.output and "8 points" in res.output


def test_failed_points_show_their_parameters(tmp_path):
    """`emgame results` lists which points are not equilibria, with their parameter values
    (it gave the reasons only)."""
    sweep = write_sweep(tmp_path, """concept = "nash"
[[parameters]]
path = "producers.farms.count"
values = [2]

[[parameters]]
path = "consumers.dc.endowment"
values = [0.5, 2.0]
""")
    store = tmp_path / "r.duckdb"
    assert runner.invoke(app, ["sweep", str(sweep), "--store", str(store),
                               "--serial"]).exit_code == 0
    res = runner.invoke(app, ["results", str(store)], terminal_width=120)
    out = res.output
    block = out.split("Points that are not equilibria", 1)[1]
    row = next(ln for ln in block.splitlines() if "nash" in ln)
    assert row.split()[1:3] == ["2", "2"], row  # producers.farms.count, consumers.dc.endowment
    summary = json.loads(runner.invoke(app, ["results", str(store), "--json"]).stdout)
    failed = summary["sweeps"][0]["failed_points"]
    assert [f["params"] for f in failed] == [{"producers.farms.count": 2,
                                              "consumers.dc.endowment": 2.0}]
    page = tmp_path / "r.html"
    assert runner.invoke(app, ["report", str(store), "-o", str(page)]).exit_code == 0
    assert "Points that are not equilibria" in page.read_text()


def test_plot_at_a_parameter_value_and_pdf(tmp_path, small_store):
    """--at PATH=VALUE picks a point of the store by value; the command says which point it
    drew; PDF figures for papers."""
    _, store = small_store
    fig = tmp_path / "p.pdf"
    res = runner.invoke(app, ["plot", str(store), "--kind", "prices", "--at",
                              "consumers.dc.endowment=0.9", "-o", str(fig)])
    assert res.exit_code == 0, res.output
    assert fig.read_bytes()[:5] == b"%PDF-"
    assert "the point drawn" in res.output and "consumers.dc.endowment = 0.9" in res.output
    page = tmp_path / "p.html"
    res = runner.invoke(app, ["report", str(store), "--at", "consumers.dc.endowment=0.9",
                              "-o", str(page)])
    assert res.exit_code == 0, res.output
    assert "0.9" in page.read_text()
