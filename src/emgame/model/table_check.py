"""Checking a consumer table row by row, vectorised over whole columns (docs/model.md,
"Economy files"), and building its :class:`~emgame.model.economy.Population`.

The rules are those of an inline ``[[consumers]]`` entry (:mod:`emgame.model.schema`); problems
are collected column by column (:class:`~emgame.model.tables._Problems`) and reported by row
and column, at most :data:`~emgame.model.tables.MAX_ROWS_REPORTED` of them.
"""

from __future__ import annotations

import difflib
import json
import re

import numpy as np

from emgame.model.economy import FAMILIES, Population
from emgame.model.tables import (
    _CES,
    _CRRA,
    _KINDS,
    _QUASILINEAR,
    _SCALAR_COLUMNS,
    _WEIGHT_COLUMN,
    TableContext,
    TableError,
    _got,
    _Problems,
)


def _is_text(t) -> bool:  # noqa: ANN001
    import pyarrow as pa

    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _decoded(col):  # noqa: ANN001, ANN202
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(col.type):
        return pc.cast(col, col.type.value_type)
    return col


def _nulls(col) -> np.ndarray:  # noqa: ANN001
    return np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _numbers(col, name: str, probs: _Problems) -> tuple[np.ndarray, np.ndarray] | None:
    """A numeric column as ``(float64 values, null mask)``; ``None`` (with problems) if the
    column's type is not numeric. Text columns are parsed cell by cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = _decoded(col)
    t = col.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        if not pa.types.is_float64(t):
            col = pc.cast(col, pa.float64())
        if col.null_count == 0:
            # Zero-copy when the column is one chunk.
            return np.asarray(col.to_numpy(), dtype=np.float64), np.zeros(len(col), dtype=bool)
        null = _nulls(col)
        vals = np.array(col.to_numpy(zero_copy_only=False), dtype=np.float64)  # nulls: NaN
        vals[null] = np.nan
        return vals, null
    if _is_text(t):
        # A CSV column with a non-number in it: parse cell by cell to name the bad rows.
        cells = col.to_pylist()
        n = len(cells)
        vals = np.full(n, np.nan)
        null = np.zeros(n, dtype=bool)
        bad = np.zeros(n, dtype=bool)
        for i, s in enumerate(cells):
            if s is None or not s.strip():
                null[i] = True
                continue
            try:
                vals[i] = float(s)
            except ValueError:
                bad[i] = True
        probs.rows(bad, name, lambda i: f"expected a number {_got(cells[i])}")
        null |= bad  # reported once, not again as missing
        return vals, null
    probs.column(name, f"expected numbers, got a column of type {t}")
    return None


def _weight_block(columns: list, labels: list[str],
                  probs: _Problems) -> tuple[np.ndarray, np.ndarray | None]:
    """``T`` numeric columns → one ``(n, T)`` C-ordered block (and its null mask, ``None`` if
    there are no nulls). Plain float64 columns are copied chunk by chunk straight into the block:
    one pass over the memory, which is what costs at 10⁶ rows."""
    import pyarrow as pa

    n, T = len(columns[0]), len(columns)
    W = np.empty((n, T))
    nulls: np.ndarray | None = None
    for t, col in enumerate(columns):
        col = _decoded(col)
        if pa.types.is_float64(col.type) and col.null_count == 0:
            off = 0
            for chunk in col.chunks:
                k = len(chunk)
                W[off:off + k, t] = chunk.to_numpy()
                off += k
            continue
        got = _numbers(col, labels[t], probs)
        if got is None:
            continue
        W[:, t], null = got
        if null.any():
            if nulls is None:
                nulls = np.zeros((n, T), dtype=bool)
            nulls[:, t] = null
    return W, nulls


def _texts(col, name: str, probs: _Problems):  # noqa: ANN001, ANN202  (a pyarrow column)
    col = _decoded(col)
    if not _is_text(col.type):
        probs.column(name, f"expected text, got a column of type {col.type}")
        return None
    return col


def _codes(col, name: str, choices: tuple[str, ...], default: int, probs: _Problems,
           n: int) -> np.ndarray:
    """A text column of keywords as codes into ``choices`` (nulls: ``default``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.full(n, default, dtype=np.int8)
    if col is None:
        return out
    col = _texts(col, name, probs)
    if col is None:
        return out
    null = _nulls(col)
    code = np.asarray(pc.fill_null(pc.index_in(col, value_set=pa.array(choices)), -1)
                      .to_numpy(zero_copy_only=False), dtype=np.int64)
    unknown = (code < 0) & ~null
    if unknown.any():
        cells = col
        quoted = [json.dumps(c) for c in choices]
        expected = ", ".join(quoted[:-1]) + " or " + quoted[-1]
        probs.rows(unknown, name,
                   lambda i: f"expected {expected} {_got(cells[i].as_py())}")
    ok = (code >= 0) & ~null
    out[ok] = code[ok]
    return out


def _fmt_bound(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _bounded(vals: np.ndarray, given: np.ndarray, name: str, probs: _Problems, *,
             gt: float | None = None, ge: float | None = None, lt: float | None = None,
             ne: tuple[float, str] | None = None) -> np.ndarray:
    """Check finiteness and bounds on the given cells; return the mask of good given cells."""
    bad_all = np.zeros(vals.shape, dtype=bool)
    inf = given & ~np.isfinite(vals)
    probs.rows(inf, name, lambda i: f"must be a finite number {_got(vals[i])}")
    bad_all |= inf
    fin = given & ~inf
    for bound, op, test in ((gt, ">", lambda v, b: v > b), (ge, ">=", lambda v, b: v >= b),
                            (lt, "<", lambda v, b: v < b)):
        if bound is None:
            continue
        with np.errstate(invalid="ignore"):
            bad = fin & ~test(vals, bound)
        probs.rows(bad, name, lambda i, op=op, bound=bound:
                   f"must be {op} {_fmt_bound(bound)} {_got(vals[i])}")
        bad_all |= bad
    if ne is not None:
        bad = fin & ~bad_all & (vals == ne[0])
        probs.rows(bad, name, lambda i: ne[1])
        bad_all |= bad
    return given & ~bad_all


# --------------------------------------------------------------------------------------------
# The table → a Population.
# --------------------------------------------------------------------------------------------


def consumers_from_table(table, ctx: TableContext) -> Population:  # noqa: ANN001, C901
    """Check a table of consumer types and build their :class:`Population`.

    Raises
    ------
    TableError
        Naming row and column of each problem (at most :data:`MAX_ROWS_REPORTED`; the rest
        counted).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    T = ctx.periods
    n = table.num_rows
    probs = _Problems(n)
    names_in = list(table.column_names)
    dup = sorted({c for c in names_in if names_in.count(c) > 1})
    for c in dup:
        probs.column(c, "appears more than once")
    cols = {c: table.column(c) for c in names_in if c not in dup}

    # Which columns hold the weights?
    wcols: dict[str, dict[int, str]] = {"w": {}, "weight_": {}}
    for c in cols:
        m = _WEIGHT_COLUMN.match(c)
        if m:
            wcols[m.group(1)][int(m.group(2))] = c
    styles = [s for s in ("w", "weight_") if wcols[s]] + (["weights"] if "weights" in cols
                                                         else [])
    known = set(_SCALAR_COLUMNS) | {"weights"}
    for c in cols:
        if c in known or _WEIGHT_COLUMN.match(c):
            continue
        close = difflib.get_close_matches(c, sorted(known) + ["w1", "weight_1"], n=1)
        probs.column(c, "unknown column" + (f" (did you mean {json.dumps(close[0])}?)"
                                            if close else ""))
    if n == 0:
        raise TableError(probs.report() + [("", "the table has no rows")])

    before = len(probs.columns)                    # column problems not about the weights
    weights = np.empty((0, T))
    wnull: np.ndarray | None = None              # (n, T) nulls, None when there are none
    reported = np.zeros(n, dtype=bool)           # rows whose weights are already reported
    wlabel = [f"w{t}" for t in range(1, T + 1)]  # column named for each period's weight
    whole = "weights"                             # the column named for whole-row problems
    if not styles:
        probs.column("w1", f"required column is missing (the weights: w1..w{T}, one column per"
                           " period, or one list column \"weights\")")
    elif len(styles) > 1:
        probs.column(styles[0] if styles[0] == "weights" else f"{styles[0]}1",
                     "give the weights one way only: w1..wT, weight_1..weight_T or a list column"
                     " \"weights\", not " + " and ".join(
                         f"{s}1.." if s != "weights" else "weights" for s in styles))
    elif styles[0] == "weights":
        col = _decoded(cols["weights"])
        if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)
                or pa.types.is_fixed_size_list(col.type)):
            probs.column("weights", f"expected a list column (one list of {T} numbers per row),"
                                    f" got a column of type {col.type}; in CSV give w1..w{T}")
        elif not (pa.types.is_integer(col.type.value_type)
                  or pa.types.is_floating(col.type.value_type)):
            probs.column("weights", f"expected lists of numbers, got {col.type}")
        else:
            lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
            rownull = _nulls(col)
            lengths = np.where(rownull, -1, np.nan_to_num(lengths.astype(np.float64), nan=-1))
            probs.rows(rownull, "weights", lambda i: "required value is missing")
            wrong = ~rownull & (lengths != T)
            probs.rows(wrong, "weights", lambda i: f"expected {T} weights (one per period), got"
                                                   f" {int(lengths[i])}")
            reported = rownull | wrong
            good = np.flatnonzero(~reported)
            sub = col.take(pa.array(good)) if good.size < n else col
            flat = pc.list_flatten(sub)
            fnull = _nulls(flat).reshape(good.size, T) if flat.null_count else None
            fv = np.asarray(pc.cast(flat, pa.float64()).to_numpy(zero_copy_only=False),
                            dtype=np.float64).reshape(good.size, T)
            if good.size == n:
                weights = fv if fnull is None else np.where(fnull, np.nan, fv)
                wnull = fnull
            else:
                weights = np.full((n, T), np.nan)
                weights[good] = fv
                if fnull is not None:
                    weights[good] = np.where(fnull, np.nan, fv)
                    wnull = np.zeros((n, T), dtype=bool)
                    wnull[good] = fnull
            wlabel = ["weights"] * T
    else:
        style = styles[0]
        have = wcols[style]
        wlabel = [f"{style}{t}" for t in range(1, T + 1)]
        whole = f"{style}1..{style}{T}"
        for t in range(1, T + 1):
            if t not in have:
                probs.column(f"{style}{t}", f"required column is missing (periods = {T}: the"
                                            f" weights are {style}1..{style}{T})")
        extra = [c for t, c in sorted(have.items()) if not 1 <= t <= T]
        for c in extra:
            probs.column(c, f"unknown column (periods = {T}: the weights are "
                            f"{style}1..{style}{T})")
        if len(probs.columns) == before:
            weights, wnull = _weight_block([cols[have[t]] for t in range(1, T + 1)],
                                           wlabel, probs)
    if len(probs.columns) > before or weights.shape[0] != n:
        raise TableError(probs.report())  # without the weights, the rows cannot be checked

    # Scalar columns.
    def num(name: str) -> tuple[np.ndarray, np.ndarray] | None:
        if name not in cols:
            return None
        return _numbers(cols[name], name, probs)

    count = np.ones(n)
    got = num("count")
    if got is not None:
        v, null = got
        given = ~null
        ok = _bounded(v, given, "count", probs, ge=1)
        frac = ok & (v != np.floor(v))
        probs.rows(frac, "count", lambda i: f"must be a whole number {_got(v[i])}")
        count[given] = v[given]

    classic = _codes(cols.get("kind"), "kind", _KINDS, 0, probs, n).astype(bool)
    family = _codes(cols.get("family"), "family", FAMILIES, 0, probs, n)

    endowment = np.full(n, np.nan)
    if "endowment" not in cols:
        probs.column("endowment", "required column is missing")
    else:
        got = num("endowment")
        if got is not None:
            endowment, null = got
            probs.rows(null, "endowment", lambda i: "required value is missing")
            _bounded(endowment, ~null, "endowment", probs, gt=0)

    # Weights: present, finite, >= 0, at least one positive (or a classic goods weight).
    # Checked on the whole (n, T) block (min and max: two passes, no temporaries); only when
    # something is wrong are the cells and columns looked at one by one.
    lo, hi = (float(weights.min()), float(weights.max())) if weights.size else (0.0, 0.0)
    clean = lo >= 0 and hi < np.inf                       # False as well for any NaN
    if clean:
        suspect = np.zeros((n, 1), dtype=bool)
    else:
        with np.errstate(invalid="ignore"):
            suspect = ~(weights >= 0) | np.isinf(weights)   # NaN (missing or NaN), < 0, inf
    if not clean:
        for t in np.flatnonzero(suspect.any(axis=0)):
            col_t, w_t = wlabel[t], weights[:, t]
            null_t = np.zeros(n, dtype=bool) if wnull is None else wnull[:, t]
            probs.rows(null_t & ~reported, col_t, lambda i: "required value is missing")
            _bounded(w_t, ~null_t & ~reported, col_t, probs, ge=0)

    goods_weight = np.zeros(n)
    gw_given = np.zeros(n, dtype=bool)
    got = num("goods_weight")
    if got is not None:
        gw, null = got
        gw_given = ~null
        _bounded(gw, gw_given, "goods_weight", probs, ge=0)
        probs.rows(gw_given & ~classic, "goods_weight",
                   lambda i: 'only allowed for kind = "classic" (ai agents value electricity'
                             " only)")
        goods_weight = np.where(gw_given & np.isfinite(gw), gw, 0.0)
    with np.errstate(invalid="ignore"):
        any_pos = (weights.max(axis=1) > 0 if clean else np.any(weights > 0, axis=1)) | (
            classic & (goods_weight > 0))
    complete = ~suspect.any(axis=1)
    probs.rows(complete & ~any_pos, whole if T > 1 else wlabel[0],
               lambda i: "at least one weight must be positive"
                         + (" (or goods_weight)" if classic[i] else ""))

    quasi = family == _QUASILINEAR
    probs.rows(quasi & ~classic, "family", lambda i: 'quasilinear is for kind = "classic" only')
    probs.rows(quasi & classic & ~(goods_weight > 0), "goods_weight",
               lambda i: "quasilinear needs goods_weight > 0")

    params = {}
    for pname, fam, label, rule in (
            ("gamma", _CRRA, "crra", dict(gt=0, ne=(1.0, 'must not be 1 (gamma = 1 is family ='
                                                       ' "cobb_douglas")'))),
            ("r", _CES, "ces", dict(lt=1, ne=(0.0, 'must not be 0 (the limit r -> 0 is family ='
                                                  ' "cobb_douglas")')))):
        values = np.full(n, np.nan)
        need = family == fam
        got = num(pname)
        given = np.zeros(n, dtype=bool)
        if got is not None:
            v, null = got
            given = ~null
            _bounded(v, given & need, pname, probs, **rule)
            probs.rows(given & ~need, pname,
                       lambda i, label=label: f'only allowed with family = "{label}"')
            values = np.where(given & need, v, np.nan)
        hint = "(> 0, != 1)" if pname == "gamma" else "(< 1, != 0)"
        probs.rows(need & ~given, pname,
                   lambda i, label=label, pname=pname, hint=hint:
                   f'missing: family = "{label}" needs {pname} {hint}')
        params[pname] = values

    wallet = np.full(n, np.nan)
    if "wallet" in cols or ctx.prepaid:
        wallet = _wallets(cols.get("wallet"), n, ctx, probs)

    names = _names(cols.get("name"), n, ctx, probs)

    if probs:
        raise TableError(probs.report())
    return Population.from_arrays(
        names=names, count=count, weights=weights, family=family, classic=classic,
        goods_weight=np.where(classic, goods_weight, 0.0), gamma=params["gamma"], r=params["r"],
        wallet=wallet, endowment=endowment)


def _wallets(col, n: int, ctx: TableContext, probs: _Problems) -> np.ndarray:  # noqa: ANN001
    import pyarrow as pa

    wallet = np.full(n, np.nan)
    stationary = np.zeros(n, dtype=bool)
    given = np.zeros(n, dtype=bool)
    if col is not None:
        col = _decoded(col)
        if _is_text(col.type):
            cells = col.to_pylist()
            bad = np.zeros(n, dtype=bool)
            for i, s in enumerate(cells):
                if s is None or not s.strip():
                    continue
                given[i] = True
                if s.strip() == "stationary":
                    stationary[i] = True
                    continue
                try:
                    wallet[i] = float(s)
                except ValueError:
                    bad[i] = True
            probs.rows(bad, "wallet", lambda i: f'expected a number >= 0 or "stationary" '
                                                f"{_got(cells[i])}")
            given &= ~bad
        elif pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            wallet, null = _numbers(col, "wallet", probs)  # type: ignore[misc]
            given = ~null
        else:
            probs.column("wallet", f'expected numbers or "stationary", got a column of type '
                                   f"{col.type}")
            return wallet
    if not ctx.prepaid:
        probs.rows(given, "wallet", lambda i: 'only allowed with settlement = "prepaid"')
        return np.full(n, np.nan)
    probs.rows(~given, "wallet", lambda i: 'missing: settlement = "prepaid" needs a wallet on'
                                           ' every type (a number >= 0 or "stationary")')
    numeric = given & ~stationary
    _bounded(wallet, numeric, "wallet", probs, ge=0)
    ref = ctx.wallet_reference
    if ref is None:
        first = np.flatnonzero(given)
        if first.size:
            ref = (f"row {first[0] + 1}", bool(stationary[first[0]]))
    if ref is not None:
        where, ref_stationary = ref
        other = given & (stationary != ref_stationary)
        what = '"stationary"' if ref_stationary else "a number"
        probs.rows(other, "wallet", lambda i: 'wallets must be all "stationary" or all numbers'
                                              f" (no mixing); {where} is {what}")
    return np.where(stationary, np.nan, wallet)


def _names(col, n: int, ctx: TableContext, probs: _Problems) -> list[str]:  # noqa: ANN001
    import pyarrow.compute as pc

    taken = ctx.taken or {}
    if col is not None:
        col = _texts(col, "name", probs)
    if col is None:
        names = [f"row{k}" for k in range(1, n + 1)]
        default = np.ones(n, dtype=bool)
        # Distinct by construction; only a clash with the file's own names is possible.
        suspect = any(re.fullmatch(r"row[1-9]\d*", nm) and int(nm[3:]) <= n for nm in taken)
    else:
        null = _nulls(col)
        names = col.to_pylist()
        if null.any():
            for i in np.flatnonzero(null):
                names[i] = f"row{i + 1}"
        blank = ~null & np.asarray(
            pc.equal(pc.utf8_trim_whitespace(col), "").fill_null(False).to_numpy(
                zero_copy_only=False), dtype=bool)
        probs.rows(blank, "name", lambda i: "must not be empty")
        default = null
        unique = set(names)
        suspect = len(unique) != n or not unique.isdisjoint(taken)
    if suspect:
        seen: dict[str, str] = dict(taken)
        dup = np.zeros(n, dtype=bool)
        also: dict[int, str] = {}
        for i, nm in enumerate(names):
            if nm in seen:
                dup[i] = True
                also[i] = seen[nm]
            else:
                seen[nm] = f"row {i + 1}"
        probs.rows(dup, "name", lambda i: f"duplicate name {json.dumps(names[i])} (also "
                                          f"{also[i]}); names are unique across consumers and"
                                          " producers" + (" (a default name row<k>)"
                                                          if default[i] else ""))
    return names


