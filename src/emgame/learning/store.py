"""Learning runs in a DuckDB file (its own tables; an emgame results store may share the file).

Tables (docs/learning.md):

``learning_runs``
    One row per run (``run_id`` hashes the configuration and the economy): name, source,
    environment, algorithm, configuration, economy and the stage game's summary (benchmarks).
``learning_games``
    The tabulated stage game of each run (a pickle), so that a resumed run does not rebuild it.
``learning_sessions``
    One row per session, keyed by ``(run_id, idx)``: seed, status, convergence round, profit
    gains, learned play, prices, regrets, the certificate on learned play, the impulse response,
    participation patterns and electricity burnt over the learned play and over all rounds
    played, and the thinned path of joint actions.

Writes are batches in one transaction with ``INSERT OR IGNORE``: a session is never stored
twice, and a run interrupted between batches resumes with the sessions not stored yet.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

SESSION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "VARCHAR NOT NULL"),
    ("idx", "INTEGER NOT NULL"),
    ("seed", "BIGINT"),
    ("algorithm", "VARCHAR"),
    ("status", "VARCHAR"),
    ("converged", "BOOLEAN"),
    ("rounds", "BIGINT"),
    ("seconds", "DOUBLE"),
    ("mean_delta", "DOUBLE"),
    ("delta", "DOUBLE[]"),
    ("payoff", "DOUBLE[]"),
    ("actions", "DOUBLE[]"),
    ("prices", "DOUBLE[]"),
    ("price_index", "DOUBLE"),
    ("burnt", "DOUBLE"),
    ("learned", "BIGINT[]"),
    ("weights", "DOUBLE[]"),
    ("grid_regret", "DOUBLE[]"),
    ("external_regret", "DOUBLE[]"),
    ("regret_final", "DOUBLE"),
    ("regret_average", "DOUBLE"),
    ("certificate", "VARCHAR"),
    ("patterns", "VARCHAR"),
    ("patterns_all", "VARCHAR"),
    ("burnt_all", "DOUBLE"),
    ("impulse", "VARCHAR"),
    ("path", "BIGINT[]"),
    ("worker", "VARCHAR"),
    ("stored_at", "TIMESTAMP"),
)


class LearningStoreError(RuntimeError):
    """The store cannot be used (locked by another process, not a DuckDB file...)."""


def _dumps(x: Any) -> str:
    def clean(v: Any) -> Any:
        if isinstance(v, float):
            return v if math.isfinite(v) else None
        if isinstance(v, dict):
            return {str(k): clean(w) for k, w in v.items()}
        if isinstance(v, list | tuple):
            return [clean(w) for w in v]
        return v
    return json.dumps(clean(x), allow_nan=False, default=str)


class LearningStore:
    """Learning tables in a DuckDB file; use as a context manager."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise LearningStoreError(f"{self.path}: no such store")
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise LearningStoreError(f"{self.path}: cannot open the store: {exc}") from None
        if not read_only:
            self._create()

    def __enter__(self) -> LearningStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def _create(self) -> None:
        cols = ",\n    ".join(f"{c} {t}" for c, t in SESSION_COLUMNS)
        self.con.execute("""CREATE TABLE IF NOT EXISTS learning_runs (
    run_id VARCHAR PRIMARY KEY, name VARCHAR, source VARCHAR, environment VARCHAR,
    algorithm VARCHAR, config VARCHAR, economy VARCHAR, game VARCHAR, point VARCHAR,
    created TIMESTAMP)""")
        self.con.execute("""CREATE TABLE IF NOT EXISTS learning_games (
    run_id VARCHAR PRIMARY KEY, game BLOB)""")
        self.con.execute(f"""CREATE TABLE IF NOT EXISTS learning_sessions (
    {cols},
    PRIMARY KEY (run_id, idx))""")
        # A store written by an earlier version gains the columns added since (NULL there).
        have = self._columns("learning_sessions")
        for c, t in SESSION_COLUMNS:
            if c not in have:
                self.con.execute(f"ALTER TABLE learning_sessions ADD COLUMN {c} "
                                 f"{t.replace(' NOT NULL', '')}")
        if "point" not in self._columns("learning_runs"):
            self.con.execute("ALTER TABLE learning_runs ADD COLUMN point VARCHAR")

    def _columns(self, table: str) -> set[str]:
        rows = self.con.execute("SELECT column_name FROM information_schema.columns WHERE "
                                "table_name = ?", [table]).fetchall()
        return {r[0] for r in rows}

    # -- runs ----------------------------------------------------------------------------------
    def has_tables(self) -> bool:
        rows = self.con.execute("SELECT table_name FROM information_schema.tables WHERE "
                                "table_name = 'learning_sessions'").fetchall()
        return bool(rows)

    def register(self, spec: Any, game: Any) -> None:
        self.con.execute(
            "INSERT OR IGNORE INTO learning_runs (run_id, name, source, environment, algorithm, "
            "config, economy, game, point, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [spec.run_id, spec.name, spec.source, spec.config.environment,
             spec.config.algorithm, _dumps(spec.config.to_dict()), _dumps(spec.economy),
             _dumps(game.summary()), _dumps(spec.point), _dt.datetime.now()])
        self.con.execute("INSERT OR IGNORE INTO learning_games VALUES (?, ?)",
                         [spec.run_id, pickle.dumps(game, protocol=pickle.HIGHEST_PROTOCOL)])

    def game(self, run_id: str) -> Any | None:
        row = self.con.execute("SELECT game FROM learning_games WHERE run_id = ?",
                               [run_id]).fetchone()
        return None if row is None else pickle.loads(row[0])  # noqa: S301 - our own file

    def runs(self) -> list[dict[str, Any]]:
        if not self.has_tables():
            return []
        cur = self.con.execute("SELECT run_id, name, source, environment, algorithm, config, "
                               "game, point, created FROM learning_runs ORDER BY created")
        cols = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            d = dict(zip(cols, row, strict=True))
            d["config"] = json.loads(d["config"])
            d["game"] = json.loads(d["game"])
            d["point"] = json.loads(d["point"]) if d["point"] else None
            out.append(d)
        return out

    # -- sessions ------------------------------------------------------------------------------
    def stored(self, run_id: str) -> set[int]:
        rows = self.con.execute("SELECT idx FROM learning_sessions WHERE run_id = ?",
                                [run_id]).fetchall()
        return {int(r[0]) for r in rows}

    def write(self, run_id: str, results: Sequence[dict[str, Any]]) -> int:
        """Store a batch of session dicts (``SessionResult.to_dict()`` plus ``path`` and
        ``worker``) in one transaction; sessions already stored are ignored."""
        if not results:
            return 0
        now = _dt.datetime.now()
        rows = []
        for r in results:
            cert = r.get("certificate") or {}
            rows.append([
                run_id, r["index"], r["seed"], r["algorithm"], r["status"], r["converged"],
                r["rounds"], r["seconds"], r["mean_delta"], r["delta"], r["payoff"],
                r["actions"], r["prices"], r["price_index"], r["burnt"], r["learned"],
                r["weights"], r["grid_regret"], r["external_regret"],
                (cert.get("final") or {}).get("max_regret"),
                (cert.get("average") or {}).get("max_regret"), _dumps(cert),
                _dumps(r["patterns"]), _dumps(r.get("patterns_all") or {}),
                r.get("burnt_all"), _dumps(r["impulse"]), r.get("path", []),
                r.get("worker", ""), now])
        marks = ", ".join("?" * len(SESSION_COLUMNS))
        self.con.execute("BEGIN TRANSACTION")
        try:
            names = ", ".join(c for c, _ in SESSION_COLUMNS)
            self.con.executemany(f"INSERT OR IGNORE INTO learning_sessions ({names}) "
                                 f"VALUES ({marks})", rows)
            self.con.execute("COMMIT")
        except duckdb.Error:
            self.con.execute("ROLLBACK")
            raise
        return len(rows)

    def sessions(self, run_id: str, *, with_paths: bool = False) -> list[dict[str, Any]]:
        have = self._columns("learning_sessions")
        cols = [c for c, _ in SESSION_COLUMNS if (with_paths or c != "path") and c in have]
        cur = self.con.execute(f"SELECT {', '.join(cols)} FROM learning_sessions WHERE "
                               "run_id = ? ORDER BY idx", [run_id])
        out = []
        for row in cur.fetchall():
            d = dict(zip(cols, row, strict=True))
            for k in ("certificate", "patterns", "patterns_all", "impulse"):
                d[k] = json.loads(d[k]) if d.get(k) else None
            out.append(d)
        return out
