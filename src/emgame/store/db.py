"""The results store: an embedded DuckDB file that loses nothing (schema in ``docs/store.md``).

Tables
------
``sweeps``
    One row per sweep (its id hashes the sweep file's content): name, file, concepts, the
    expanded parameters (with their random seeds), the base economy.
``sweep_points``
    Which points belong to which sweep, and their place in its solving order (``idx``).
``points``
    One row per point and concept, keyed by ``(point_id, concept)``: parameters (as JSON and as
    one ``DOUBLE`` column per parameter path, e.g. ``"verification.fixed"``), status and reason,
    prices, totals, certificate, timings, the economy and the whole solution JSON; with the
    every-equilibrium search (``all = true``), how many equilibria it found and how many starts
    reached each (``NULL`` without it).
``types``
    One row per point, concept and agent type (equilibria only): per-agent outcomes.

Writes are idempotent and atomic: a batch of results is one transaction (a process killed
mid-write leaves no half-written point: DuckDB's write-ahead log replays committed transactions
and drops the rest), and rows are inserted with ``INSERT OR IGNORE`` on the primary keys, so a
point is never stored twice. Only one process writes (the sweep's client); DuckDB's file lock
refuses a second writer.

Non-equilibrium rows keep their status, reason, certificate, timings and solution JSON (the
candidate, for diagnosis); their outcome columns are ``NULL``: a failed solve is not an answer.

Reading while a sweep runs: a sweep opens its store with ``hold=False``, which connects for each
batch of results and disconnects in between, so that readers (``emgame results``, ``plot``,
``report``) get in between two batches. DuckDB lets one process write or several read at a
time: a connection that finds the file locked waits and tries again (readers up to
:data:`READ_WAIT` seconds, the sweep's writer up to :data:`WRITE_WAIT`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from emgame.analysis.summary import POINT_FIELDS
from emgame.analysis.sweep import Sweep
from emgame.analysis.worker import PointResult
from emgame.store.schema import (  # noqa: F401  (re-exported: the store's public names)
    JSON_COLUMNS,
    OUTCOME_COLUMNS,
    POINT_COLUMNS,
    SCHEMA_VERSION,
    SEARCH_COLUMNS,
    TYPE_COLUMNS,
    _arrow,
    _ddl,
    _literal,
    _param,
    quote,
)

logger = logging.getLogger(__name__)

READ_WAIT = 60.0
"""Seconds a reader waits for a sweep to finish writing its current batch."""

WRITE_WAIT = 900.0
"""Seconds a sweep's writer waits for readers (a report drawing figures) to finish."""

class StoreError(RuntimeError):
    """The store cannot be used: not a store, locked by another process, a newer schema..."""


def _dumps(x: Any) -> str:
    """Strict JSON (no NaN or Infinity: ``null``); solutions come already finite, so the
    cleaning walk runs only when the fast path finds a non-finite number."""
    try:
        return json.dumps(x, allow_nan=False, ensure_ascii=False, default=str)
    except ValueError:
        return json.dumps(_finite(x), allow_nan=False, ensure_ascii=False, default=str)


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, Mapping):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C (SIGINT) during the block is held back and raised when the block is done, so
    that a batch is written whole (or rolled back) before the sweep stops. A no-op outside
    the main thread."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(*caught[0])
    elif caught:
        raise KeyboardInterrupt


def _connected(method: F) -> F:
    """Run ``method`` connected to the store (a no-op when the connection is held)."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        with self.session():
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Store:
    """A results store (a DuckDB file); use as a context manager.

    Parameters
    ----------
    path : str or Path
        The file; created (with its folder) unless ``read_only``.
    read_only : bool
        Open for reading only (several readers may share the file, not with a writer).
    hold : bool
        Keep the file open until :meth:`close` (default). With ``hold=False`` every operation
        connects and disconnects, so that other processes can read between two writes (how a
        sweep writes). A connection that finds the file locked by another process waits
        (readers :data:`READ_WAIT` seconds, writers :data:`WRITE_WAIT`) and tries again.

    Raises
    ------
    StoreError
        The file does not exist (read-only), is not a DuckDB file, or is still locked by
        another process after the wait.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False, hold: bool = True,
                 wait: float | None = None) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.hold = hold
        self.wait = (READ_WAIT if read_only else WRITE_WAIT) if wait is None else wait
        self.con: Any = None
        self._depth = 0
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no such store")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connect()
        try:
            if read_only:
                self._check_schema()
            else:
                self._create()
        except BaseException:
            self._disconnect()
            raise
        if not hold:
            self._disconnect()

    # ---------------------------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.hold = False
        self._disconnect()

    def _connect(self) -> None:
        start = time.monotonic()
        delay = 0.02
        while True:
            try:
                self.con = duckdb.connect(str(self.path), read_only=self.read_only)
                return
            except duckdb.IOException as exc:
                msg = str(exc)
                if "lock" not in msg.lower():
                    raise StoreError(f"{self.path}: cannot open as a DuckDB store: "
                                     f"{msg.splitlines()[0]}") from None
                if time.monotonic() - start >= self.wait:
                    raise StoreError(f"{self.path}: in use by another process (a sweep still "
                                     f"running?) after waiting {self.wait:g} s: "
                                     f"{msg.splitlines()[0]}") from None
            except duckdb.Error as exc:
                raise StoreError(f"{self.path}: cannot open as a DuckDB store: "
                                 f"{str(exc).splitlines()[0]}") from None
            time.sleep(delay)
            delay = min(0.5, delay * 1.5)

    def _disconnect(self) -> None:
        # Forget the connection first: an interrupt (Ctrl-C) during the close must not leave
        # a closed connection behind that looks open.
        con, self.con = self.con, None
        if con is None:
            return
        try:
            if not self.read_only:
                try:
                    con.execute("CHECKPOINT")
                except duckdb.Error as exc:  # a checkpoint is an optimisation only
                    logger.debug("checkpoint failed: %s", exc)
        finally:
            con.close()

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Connected for the duration (re-entrant; a no-op while the connection is held)."""
        if self.con is not None:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._connect()
        try:
            yield
        finally:
            if not self.hold:
                self._disconnect()

    def _create(self) -> None:
        self._check_schema(creating=True)
        with self._transaction():
            for stmt in _ddl():
                self.con.execute(stmt)
            # A store made before the search columns existed gets them (NULL: not searched).
            types = dict(POINT_COLUMNS)
            for col in SEARCH_COLUMNS:
                self.con.execute(f"ALTER TABLE points ADD COLUMN IF NOT EXISTS {quote(col)} "
                                 f"{types[col]}")
            self.con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                             [SCHEMA_VERSION])

    def _check_schema(self, creating: bool = False) -> None:
        tables = {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        if "meta" not in tables:
            if creating and not tables:
                return
            raise StoreError(f"{self.path}: not an emgame results store (no meta table)")
        row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = row[0] if row else None
        if version != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: store schema version {version!r}; this emgame "
                             f"reads version {SCHEMA_VERSION!r}")

    class _Tx:
        def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
            self.con = con

        def __enter__(self) -> None:
            self.con.execute("BEGIN TRANSACTION")

        def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
            if kind is None:
                self.con.execute("COMMIT")
            else:
                self.con.execute("ROLLBACK")

    def _transaction(self) -> Store._Tx:
        return Store._Tx(self.con)

    # ---------------------------------------------------------------------------------------
    # Writing (the sweep's client only).
    # ---------------------------------------------------------------------------------------
    @_connected
    def register(self, sweep: Sweep) -> None:
        """Record the sweep, its points and one column per parameter (idempotent)."""
        version = _version()
        with self._transaction():
            for path in sweep.paths:
                self.con.execute(f"ALTER TABLE points ADD COLUMN IF NOT EXISTS {quote(path)} "
                                 "DOUBLE")
            d = sweep.to_dict()
            self.con.execute(
                "INSERT OR IGNORE INTO sweeps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sweep.sweep_id, sweep.name, sweep.source, list(sweep.concepts),
                 len(sweep.points), _dumps(d["parameters"]), _dumps(d), _dumps(sweep.base),
                 version, _dt.datetime.now()])
            self.con.execute(
                "INSERT OR IGNORE INTO sweep_points SELECT ?, unnest(?::VARCHAR[]), "
                "unnest(?::INTEGER[])",
                [sweep.sweep_id, [p.point_id for p in sweep.points],
                 [p.index for p in sweep.points]])

    @_connected
    def stored(self, sweep: Sweep | str) -> set[tuple[str, str]]:
        """``(point_id, concept)`` of the sweep's rows already stored."""
        sid = sweep.sweep_id if isinstance(sweep, Sweep) else sweep
        rows = self.con.execute(
            "SELECT p.point_id, p.concept FROM points p JOIN sweep_points s "
            "ON p.point_id = s.point_id WHERE s.sweep_id = ?", [sid]).fetchall()
        return {(a, b) for a, b in rows}

    @_connected
    def pending(self, sweep: Sweep) -> dict[str, tuple[str, ...]]:
        """Register ``sweep``; per point id, the concepts not stored yet (resume)."""
        self.register(sweep)
        done = self.stored(sweep)
        out = {}
        for pt in sweep.points:
            left = tuple(c for c in sweep.concepts if (pt.point_id, c) not in done)
            if left:
                out[pt.point_id] = left
        return out

    @_connected
    def forget_failed(self, sweep: Sweep) -> int:
        """Delete the sweep's stored failures (status not ``equilibrium``) so that they are
        solved again; returns how many rows went."""
        self.register(sweep)
        with self._transaction():
            keys = self.con.execute(
                "SELECT p.point_id, p.concept FROM points p JOIN sweep_points s "
                "ON p.point_id = s.point_id WHERE s.sweep_id = ? AND NOT p.ok",
                [sweep.sweep_id]).fetchall()
            for pid, concept in keys:
                self.con.execute("DELETE FROM types WHERE point_id = ? AND concept = ?",
                                 [pid, concept])
                self.con.execute("DELETE FROM points WHERE point_id = ? AND concept = ?",
                                 [pid, concept])
        return len(keys)

    @_connected
    def write(self, results: Sequence[PointResult]) -> int:
        """Store a batch of results in one transaction; returns the rows newly inserted.

        Results already stored (same point and concept) are ignored, never stored twice. The
        batch goes in as two Arrow tables (points, types), one ``INSERT`` each.
        """
        if not results:
            return 0
        with _interrupts_deferred(), self._transaction():
            keys = [r.key for r in results]
            present = {(a, b) for a, b in self.con.execute(
                "SELECT point_id, concept FROM points WHERE (point_id, concept) IN "
                "(SELECT (unnest(?::VARCHAR[]), unnest(?::VARCHAR[])))",
                [[k[0] for k in keys], [k[1] for k in keys]]).fetchall()}
            new: list[PointResult] = []
            for r in results:
                if r.key not in present:
                    present.add(r.key)  # a key twice in one batch: the first one
                    new.append(r)
            if not new:
                return 0
            params = list(dict.fromkeys(p for r in new for p, _ in r.params))
            rows = [self._point_row(r) + [_param(dict(r.params).get(p)) for p in params]
                    for r in new]
            self._insert("points", [c for c, _ in POINT_COLUMNS] + params,
                         [t for _, t in POINT_COLUMNS] + ["DOUBLE"] * len(params), rows)
            trows = [[r.point_id, r.concept] + [_finite(t.get(c)) for c, _ in TYPE_COLUMNS[2:]]
                     for r in new if r.ok for t in r.types]
            if trows:
                self._insert("types", [c for c, _ in TYPE_COLUMNS],
                             [t for _, t in TYPE_COLUMNS], trows)
        return len(new)

    def _insert(self, table: str, names: list[str], types: list[str], rows: list) -> None:
        """``INSERT OR IGNORE`` rows into ``table`` through one Arrow batch (inside the
        caller's transaction)."""
        cols = ", ".join(quote(c) for c in names)
        view = f"__emgame_{table}"
        self.con.register(view, _arrow(names, types, rows))
        try:
            self.con.execute(f"INSERT OR IGNORE INTO {table} ({cols}) SELECT {cols} FROM {view}")
        finally:
            with contextlib.suppress(duckdb.Error):  # the transaction's error comes first
                self.con.unregister(view)

    @staticmethod
    def _point_row(r: PointResult) -> list[Any]:
        summary = dict(r.summary)
        if not r.ok:
            for k in OUTCOME_COLUMNS:
                summary[k] = None
        values: dict[str, Any] = {
            "point_id": r.point_id, "concept": r.concept, "status": r.status,
            "reason": r.reason or None, "ok": r.ok,
            "params": _dumps({p: v for p, v in r.params}),
            **{k: _finite(summary.get(k)) for k in POINT_FIELDS},
            "iterations": r.iterations, "evaluations": r.evaluations,
            "seconds": _finite(r.seconds), "seconds_worker": _finite(r.seconds_worker),
            "warm_start_from": r.warm_start_from, "worker": r.worker or None,
            "solved_at": _dt.datetime.fromtimestamp(r.finished) if r.finished else None,
            "economy": _dumps(r.economy),
            "solution": None if r.solution is None else _dumps(r.solution),
        }
        search = r.search or {}
        for col in SEARCH_COLUMNS:
            v = search.get(col)
            values[col] = _dumps(v) if col == "equilibria" and v is not None else v
        return [values[c] for c, _ in POINT_COLUMNS]

    # ---------------------------------------------------------------------------------------
    # Reading.
    # ---------------------------------------------------------------------------------------
    @_connected
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a query as dictionaries (column name → value)."""
        cur = self.con.execute(sql, list(params or []))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @_connected
    def sweeps(self) -> list[dict[str, Any]]:
        """Every sweep in the store, oldest first, with its parameters decoded."""
        rows = self.query("SELECT * FROM sweeps ORDER BY created, name")
        for r in rows:
            for k in ("parameters", "spec", "base_economy"):
                r[k] = json.loads(r[k]) if isinstance(r[k], str) else r[k]
        return rows

    @_connected
    def sweep(self, ref: str | None = None) -> dict[str, Any]:
        """One sweep, by id (or a prefix of it) or name; the only one when ``ref`` is None.

        Raises
        ------
        StoreError
            No such sweep, or the reference is ambiguous.
        """
        all_ = self.sweeps()
        if not all_:
            raise StoreError(f"{self.path}: holds no sweep")
        if ref is None:
            if len(all_) > 1:
                names = ", ".join(f"{s['name']} ({s['sweep_id'][:8]})" for s in all_)
                raise StoreError(f"{self.path}: holds {len(all_)} sweeps; pick one with --sweep "
                                 f"(name or id): {names}")
            return all_[0]
        hits = [s for s in all_ if s["sweep_id"].startswith(ref) or s["name"] == ref]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise StoreError(f"{self.path}: no sweep named or with id {ref!r}")
        raise StoreError(f"{self.path}: {ref!r} matches {len(hits)} sweeps; give more of the id")

    @_connected
    def param_columns(self) -> list[str]:
        """The parameter columns of ``points`` (every path any sweep has varied)."""
        fixed = {c for c, _ in POINT_COLUMNS}
        cols = self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'points' "
            "ORDER BY ordinal_position").fetchall()
        return [c for (c,) in cols if c not in fixed]

    @_connected
    def summary(self) -> dict[str, Any]:
        """Counts, statuses, parameter ranges, timings and failures (reasons, and the
        parameter values of failed points), per sweep (:func:`emgame.store.export.summary`)."""
        from emgame.store.export import summary

        return summary(self)

    @_connected
    def export(self, path: str | Path, *, table: str = "points", sweep: str | None = None,
               fmt: str | None = None, full: bool = False,
               with_names: bool = False) -> Any:
        """Write a table to CSV or Parquet; returns the rows written (and, ``with_names``, the
        column names used: CSV names are made safe for R and Stata).

        Parameters
        ----------
        path : str or Path
            The file; its suffix (``.csv``, ``.parquet``) picks the format unless ``fmt``.
        table : {"points", "types"}
        sweep : str, optional
            Only this sweep's rows (name or id); default every sweep's. Rows come in the
            sweep's solving order, with ``sweep_id`` and ``idx`` columns.
        fmt : {"csv", "parquet"}, optional
        full : bool
            Keep the heavy JSON columns (solution, economy, params).

        Notes
        -----
        See :mod:`emgame.store.export` for the CSV layout (one column per period).
        """
        from emgame.store.export import export

        n, names = export(self, path, table=table, sweep=sweep, fmt=fmt, full=full)
        return (n, names) if with_names else n

    @_connected
    def export_latex(self, path: str | Path, *, sweep: str | None = None) -> int:
        """A booktabs LaTeX table of one sweep's points (:func:`emgame.store.export.
        export_latex`); returns the rows written."""
        from emgame.store.export import export_latex

        return export_latex(self, path, sweep=sweep)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("emgame")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def open_store(path: str | Path, *, read_only: bool = False, hold: bool = True,
               wait: float | None = None) -> Store:
    """Open (or create) a results store; see :class:`Store`."""
    return Store(path, read_only=read_only, hold=hold, wait=wait)
