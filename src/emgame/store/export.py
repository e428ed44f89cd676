"""Reading a results store for people: its summary, and exports to CSV, Parquet and LaTeX.

CSV (docs/store.md, "Exports"): one row per point and concept (or per agent type) in the
sweep's solving order; list columns become one column per period, ``relative_prices`` →
``relative_prices_1 .. relative_prices_T`` (a type's ``bids`` → ``bid_goods, bid_1 .. bid_T``);
every column name is made usable in R and Stata by :func:`safe_name` (lower case, letters,
digits and ``_``, starting with a letter, at most 32 characters: ``verification.fixed`` →
``verification_fixed``, ``consumers.*.count`` → ``consumers_all_count``). Parquet keeps the
store's names and list columns (Parquet has lists). LaTeX: a booktabs table of the points.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from emgame.store.db import Store

MAX_NAME = 32
"""Longest column name Stata accepts."""

FAILED_POINTS = 20
"""Failed points listed with their parameter values in a summary."""


def safe_name(name: str, taken: set[str] | None = None) -> str:
    """A column name usable in R and Stata (see the module notes), distinct from ``taken``
    (which it joins)."""
    s = name.replace("*", "all").lower()
    s = re.sub(r"[^a-z0-9_]+", "_", s)
    s = re.sub(r"_+", "_", s).strip("_") or "column"
    if not s[0].isalpha():
        s = "x_" + s
    s = s[:MAX_NAME].rstrip("_")
    if taken is not None:
        base, k = s, 2
        while s in taken:
            suffix = f"_{k}"
            s = base[:MAX_NAME - len(suffix)] + suffix
            k += 1
        taken.add(s)
    return s


def _columns(store: Store, table: str) -> set[str]:
    """The columns ``table`` has (a store made before a column was added lacks it)."""
    return {r[0] for r in store.con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
        [table]).fetchall()}


def _literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _sweep_ids(store: Store, sweep: str | None) -> list[str]:
    if sweep is not None:
        return [store.sweep(sweep)["sweep_id"]]
    return [s["sweep_id"] for s in store.sweeps()]


def _ordered(store: Store, table: str, sweep: str | None, drop: str) -> str:
    """The rows of ``table`` (of one sweep, or of every sweep) in the sweeps' solving order."""
    ids = _sweep_ids(store, sweep)
    if not ids:
        return f"SELECT t.*{drop} FROM {table} t ORDER BY t.point_id, t.concept"
    within = ", ".join(_literal(i) for i in ids)
    order = "" if len(ids) == 1 else "s.created, "
    extra = ", t.role, t.type_index" if table == "types" else ""
    return (f"SELECT sp.sweep_id, sp.idx, t.*{drop} FROM {table} t JOIN sweep_points sp "
            f"ON t.point_id = sp.point_id JOIN sweeps s ON s.sweep_id = sp.sweep_id "
            f"WHERE sp.sweep_id IN ({within}) ORDER BY {order}sp.idx, t.concept{extra}")


def _flat_select(store: Store, select: str) -> tuple[str, dict[str, str]]:
    """``select`` with list columns spread over one column per period and every name made
    safe for R and Stata; the SQL and the mapping ``original name → CSV name``."""
    from emgame.store.db import quote

    cur = store.con.execute(f"DESCRIBE ({select})")
    described = [(r[0], r[1]) for r in cur.fetchall()]
    parts: list[str] = []
    names: dict[str, str] = {}
    taken: set[str] = set()
    for col, typ in described:
        q = quote(col)
        if typ.endswith("[]"):
            n = store.con.execute(
                f"SELECT coalesce(max(len({q})), 0) FROM ({select})").fetchone()[0]
            if col == "period_labels":
                name = safe_name(col, taken)
                parts.append(f"array_to_string({q}, ';') AS {quote(name)}")
                names[col] = name
                continue
            stem = "bid" if col == "bids" else col
            for k in range(1, int(n) + 1):
                label = ("goods" if col == "bids" and k == 1
                         else str(k - 1 if col == "bids" else k))
                name = safe_name(f"{stem}_{label}", taken)
                parts.append(f"{q}[{k}] AS {quote(name)}")
                names[f"{col}[{k}]"] = name
        else:
            name = safe_name(col, taken)
            parts.append(f"{q} AS {quote(name)}")
            names[col] = name
    return f"SELECT {', '.join(parts)} FROM ({select})", names


def export(store: Store, path: str | Path, *, table: str = "points", sweep: str | None = None,
           fmt: str | None = None, full: bool = False) -> tuple[int, dict[str, str]]:
    """Write a table to CSV or Parquet; the rows written and the column names used (CSV:
    original → safe name; Parquet: the names unchanged)."""
    from emgame.store.db import JSON_COLUMNS, StoreError

    target = Path(path)
    kind = (fmt or target.suffix.lstrip(".")).lower()
    if kind not in ("csv", "parquet"):
        raise StoreError(f"{target}: cannot tell the format; use a .csv or .parquet name "
                         f"(or give the format)")
    if table not in ("points", "types"):
        raise StoreError(f"unknown table {table!r}; use 'points' or 'types'")
    heavy = [c for c in JSON_COLUMNS if c in _columns(store, "points")]
    drop = "" if full or table != "points" or not heavy else f" EXCLUDE ({', '.join(heavy)})"
    select = _ordered(store, table, sweep, drop)
    names: dict[str, str] = {}
    if kind == "csv":
        select, names = _flat_select(store, select)
    n = store.con.execute(f"SELECT count(*) FROM ({select})").fetchone()[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    options = "FORMAT csv, HEADER true" if kind == "csv" else "FORMAT parquet"
    store.con.execute(f"COPY ({select}) TO {_literal(str(target))} ({options})")
    return int(n), names


# --------------------------------------------------------------------------------------------
# LaTeX.
# --------------------------------------------------------------------------------------------

LATEX_COLUMNS = (("status", "status"), ("mean_relative_price", r"mean $p^t/p^0$"),
                 ("verification_share", "share burnt"), ("participation", "participation"),
                 ("mean_markup", "mean markup"), ("max_regret", "max regret"))


def _tex_escape(s: str) -> str:
    table = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
             "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
             "^": r"\textasciicircum{}"}
    return "".join(table.get(c, c) for c in s)


def export_latex(store: Store, path: str | Path, *, sweep: str | None = None) -> int:
    """A booktabs table (LaTeX, ``\\toprule``/``\\midrule``/``\\bottomrule``) of one sweep's
    points: the parameters (headed by their labels), the concept and the main results, in the
    sweep's order. Needs pandas (the ``tables`` extra); returns the rows written."""
    from emgame._extras import require
    from emgame.report.layout import fmt, fmt_small
    from emgame.store.db import quote

    pd = require("pandas", "tables", "--latex")
    require("jinja2", "tables", "--latex")
    s = store.sweep(sweep)
    params = s["parameters"]
    cols = ", ".join(f"p.{quote(p['path'])}" for p in params)
    rows = store.query(
        f"SELECT sp.idx, {cols}, p.concept, "
        + ", ".join(f"p.{c}" for c, _ in LATEX_COLUMNS)
        + " FROM points p JOIN sweep_points sp ON p.point_id = sp.point_id "
          "WHERE sp.sweep_id = ? ORDER BY sp.idx, p.concept", [s["sweep_id"]])
    headers = ([p.get("label") or _tex_escape(p["path"]) for p in params] + ["concept"]
               + [h for _, h in LATEX_COLUMNS])
    data = []
    for r in rows:
        cells = [fmt(r[p["path"]], 6) for p in params] + [_tex_escape(r["concept"])]
        for c, _ in LATEX_COLUMNS:
            v = r[c]
            cells.append(_tex_escape(str(v)) if c == "status" else
                         fmt_small(v) if c == "max_regret" else fmt(v))
        data.append([c.replace("—", "--") for c in cells])
    frame = pd.DataFrame(data, columns=headers)
    caption = _tex_escape(f"{s['name']}: {len(rows)} rows (emgame sweep {s['sweep_id'][:12]})")
    latex = frame.style.hide(axis="index").to_latex(
        hrules=True, caption=caption, column_format="r" * len(params) + "l" * 2
        + "r" * (len(LATEX_COLUMNS) - 1), position="htbp")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("% requires \\usepackage{booktabs}\n" + latex, encoding="utf-8")
    return len(rows)


# --------------------------------------------------------------------------------------------
# Summary.
# --------------------------------------------------------------------------------------------


def summary(store: Store) -> dict[str, Any]:
    """Counts, statuses, parameter ranges, timings and failures (reasons, and the parameter
    values of the points that failed), per sweep; where the sweep searched every equilibrium,
    ``equilibria_found``: per concept, how many rows found 0, 1, 2, ... equilibria."""
    from emgame.store.db import SCHEMA_VERSION

    present = _columns(store, "points")
    out: dict[str, Any] = {
        "path": str(store.path),
        "size_bytes": store.path.stat().st_size if store.path.exists() else 0,
        "schema_version": SCHEMA_VERSION,
        "points": store.con.execute("SELECT count(*) FROM points").fetchone()[0],
        "sweeps": [],
    }
    for s in store.sweeps():
        sid = s["sweep_id"]
        rows = store.query(
            "SELECT p.concept, p.status, count(*) AS n FROM points p JOIN sweep_points sp "
            "ON p.point_id = sp.point_id WHERE sp.sweep_id = ? "
            "GROUP BY p.concept, p.status ORDER BY p.concept, p.status", [sid])
        by_status: dict[str, dict[str, int]] = {}
        for r in rows:
            by_status.setdefault(r["concept"], {})[r["status"]] = int(r["n"])
        times = store.con.execute(
            "SELECT median(p.seconds_worker), sum(p.seconds_worker), min(p.solved_at), "
            "max(p.solved_at), count(*) FROM points p JOIN sweep_points sp ON "
            "p.point_id = sp.point_id WHERE sp.sweep_id = ?", [sid]).fetchone()
        failures = store.query(
            "SELECT p.concept, p.status, split_part(coalesce(p.reason, ''), chr(10), 1) "
            "AS reason, count(*) AS n FROM points p JOIN sweep_points sp "
            "ON p.point_id = sp.point_id WHERE sp.sweep_id = ? AND NOT p.ok "
            "GROUP BY ALL ORDER BY n DESC LIMIT 10", [sid])
        failed = store.query(
            "SELECT sp.idx, p.point_id, p.concept, p.status, p.params, "
            "split_part(coalesce(p.reason, ''), chr(10), 1) AS reason FROM points p "
            "JOIN sweep_points sp ON p.point_id = sp.point_id WHERE sp.sweep_id = ? AND NOT "
            f"p.ok ORDER BY sp.idx, p.concept LIMIT {FAILED_POINTS}", [sid])
        for r in failed:
            r["params"] = dict(json.loads(r["params"]))
        found: dict[str, dict[int, int]] = {}
        if "equilibria_found" in present:
            for r in store.query(
                    "SELECT p.concept, p.equilibria_found AS k, count(*) AS n FROM points p "
                    "JOIN sweep_points sp ON p.point_id = sp.point_id WHERE sp.sweep_id = ? "
                    "AND p.equilibria_found IS NOT NULL GROUP BY ALL ORDER BY 1, 2", [sid]):
                found.setdefault(r["concept"], {})[int(r["k"])] = int(r["n"])
        params = []
        for prm in s["parameters"]:
            vals = [float(v) for v in prm["values"]]
            params.append({"path": prm["path"], "operation": prm["operation"],
                           "source": prm["source"], "n": len(set(vals)),
                           "min": min(vals), "max": max(vals), "label": prm.get("label")})
        expected = int(s["n_points"]) * len(s["concepts"])
        n_failed = sum(n for by in by_status.values() for k, n in by.items()
                       if k != "equilibrium")
        out["sweeps"].append({
            "sweep_id": sid, "name": s["name"], "source": s["source"],
            "concepts": list(s["concepts"]), "n_points": int(s["n_points"]),
            "parameters": params, "rows_expected": expected, "rows_stored": int(times[4]),
            "missing": expected - int(times[4]), "by_status": by_status,
            "median_seconds": times[0], "total_seconds": times[1],
            "first": times[2], "last": times[3], "failures": failures,
            "failed_points": failed, "failed_total": n_failed,
            "equilibria_found": found,
            "created": s["created"],
        })
    return out

