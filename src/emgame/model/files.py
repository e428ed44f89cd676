"""Economy files and dictionaries ↔ :class:`~emgame.model.economy.Economy` (docs/model.md,
"Economy files"): reading (:func:`load_economy`, :func:`economy_from_dict`), writing
(:func:`economy_to_dict`) and checking Python-built economies by the same rules
(:func:`validate_economy`, :func:`records_dict` behind :meth:`Economy.build`).

The rules themselves and their messages are :mod:`emgame.model.schema`'s.
"""

from __future__ import annotations

import numbers
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emgame.model.economy import (
    ConsumerType,
    Economy,
    EconomyError,
    Market,
    Population,
    ProducerType,
    State,
    StorageType,
    Units,
    Utility,
    join_capacity,
)
from emgame.model.schema import (
    ConsumerTable,
    EconomyFile,
    EconomyFileError,
    ProducerTable,
    StorageTable,
    UtilityTable,
    _quote,
    parse_economy_file,
)
from emgame.model.tables import (
    INLINE_LIMIT,
    TableContext,
    TableError,
    concat,
    file_digest,
    load_consumer_table,
    remember_origin,
    table_origin,
)


def _default_name(source: str) -> str:
    return "economy" if source.startswith("<") else Path(source).stem


def _fixed_tuple(fixed: float | list[float], T: int) -> tuple[float, ...]:
    return (float(fixed),) * (T + 1) if not isinstance(fixed, list) else tuple(map(float, fixed))


def _utility(u: UtilityTable) -> Utility:
    return Utility(family=u.family, weights=tuple(float(a) for a in u.weights),
                   goods_weight=float(u.goods_weight or 0.0), gamma=u.gamma, r=u.r)


def _to_economy(f: EconomyFile, source: str, base_dir: Path) -> Economy:
    T = f.periods
    market = Market(settlement=f.market.settlement, horizon=f.market.horizon,
                    goods_settlement_period=f.market.goods_settlement_period,
                    discount=1.0 if f.market.discount is None else float(f.market.discount))
    if f.states is not None:
        states = tuple(State(float(s.probability), _fixed_tuple(s.verification.fixed, T),
                             float(s.verification.share)) for s in f.states)
    elif f.verification is not None:
        states = (State(1.0, _fixed_tuple(f.verification.fixed, T), float(f.verification.share)),)
    else:
        states = ()
    consumers = [ConsumerType(name=c.name, count=c.count, endowment=float(c.endowment),
                              utility=_utility(c.utility), kind=c.kind, wallet=c.wallet)
                 for c in f.consumers]
    producers = [ProducerType(name=p.name, count=p.count, productivity=float(p.productivity),
                              returns=float(p.returns), utility=_utility(p.utility), kind=p.kind,
                              capacity=None if p.capacity is None
                              else tuple(map(float, p.capacity)) if isinstance(p.capacity, list)
                              else float(p.capacity),
                              capacity_cost=None if p.capacity_cost is None
                              else float(p.capacity_cost), wallet=p.wallet,
                              availability=None if p.availability is None
                              else tuple(map(float, p.availability)))
                 for p in f.producers]
    storage = [StorageType(name=b.name, count=b.count,
                           energy_capacity=float(b.energy_capacity),
                           power_capacity=float(b.power_capacity), utility=_utility(b.utility),
                           kind=b.kind, charge_efficiency=float(b.charge_efficiency),
                           discharge_efficiency=float(b.discharge_efficiency), wallet=b.wallet)
               for b in f.storage]
    units = None if f.units is None else Units(electricity=f.units.electricity,
                                               goods=f.units.goods)
    economy = Economy.from_records(
        name=f.name if f.name is not None else _default_name(source), periods=T,
        consumers=consumers, producers=producers, market=market, states=states,
        period_labels=f.period_labels, storage=storage, units=units)
    if f.consumers_table is None:
        return economy.replace(source=source)
    merged = concat(economy.consumers, _consumer_table(f, source, base_dir))
    remember_origin(merged, base_dir / f.consumers_table, len(f.consumers))
    return economy.replace(consumers=merged, source=source)


def _consumer_table(f: EconomyFile, source: str, base_dir: Path) -> Population:
    """The rows of ``f.consumers_table``, checked against the rest of the file."""
    assert f.consumers_table is not None
    path = base_dir / f.consumers_table
    shown = os.path.normpath(path)
    taken = {c.name: f"consumers[{i}]" for i, c in enumerate(f.consumers)}
    taken.update({p.name: f"producers[{j}]" for j, p in enumerate(f.producers)})
    taken.update({b.name: f"storage[{k}]" for k, b in enumerate(f.storage)})
    reference = None
    if f.market.settlement == "prepaid":
        typed: list[tuple[str, ConsumerTable | ProducerTable | StorageTable]] = [
            (f"consumers[{i}]", c) for i, c in enumerate(f.consumers)]
        typed += [(f"producers[{j}]", p) for j, p in enumerate(f.producers)]
        typed += [(f"storage[{k}]", b) for k, b in enumerate(f.storage)]
        for where, t in typed:
            if t.wallet is not None:
                reference = (f"{where}.wallet", t.wallet == "stationary")
                break
    ctx = TableContext(periods=f.periods, prepaid=f.market.settlement == "prepaid",
                       taken=taken, wallet_reference=reference)
    if not path.is_file():
        raise EconomyFileError(source, [("consumers_table",
                                         f"cannot read {_quote(shown)}: no such file")])
    if f.consumers_table_digest is not None:
        try:
            found = file_digest(path)
        except OSError as exc:
            raise EconomyFileError(source, [("consumers_table", f"cannot read {_quote(shown)}: "
                                             f"{exc}")]) from None
        if found != f.consumers_table_digest:
            raise EconomyFileError(source, [("consumers_table_digest", (
                f"the table {_quote(shown)} changed since this economy was written (content "
                f"hash {found}, expected {f.consumers_table_digest}): it is not the same "
                "economy"))])
    try:
        return load_consumer_table(path, ctx)
    except TableError as exc:
        raise EconomyFileError(shown, exc.problems) from None


def economy_from_dict(data: Mapping[str, Any], source: str = "<dict>", *,
                      base_dir: str | Path | None = None) -> Economy:
    """Build an :class:`Economy` from a dictionary shaped like an economy file.

    Parameters
    ----------
    data : mapping
        As ``tomllib`` would return it: tables are dicts, arrays are lists.
    source : str
        Named in error messages and kept as ``Economy.source``. When the dictionary has no
        ``name``, the economy is named after ``source``'s file stem (``"economy"`` for a source
        in angle brackets such as ``"<dict>"``).
    base_dir : path, optional
        Where a relative ``consumers_table`` is found: by default the folder of ``source`` when
        that is a file, else the current directory.

    Raises
    ------
    EconomyFileError
        If any rule of docs/model.md, "Economy files", is broken.
    """
    f = parse_economy_file(data, source)
    if base_dir is None:
        try:
            base_dir = Path(source).parent if Path(source).is_file() else Path(".")
        except (OSError, ValueError):
            base_dir = Path(".")
    try:
        return _to_economy(f, source, Path(base_dir))
    except EconomyFileError:  # a consumer table's problems, reported against the table
        raise
    except EconomyError as exc:  # the data model's own checks; the rules should catch these first
        raise EconomyFileError(source, [("", str(exc))]) from None


def load_economy(path: str | Path) -> Economy:
    """Read an economy from a TOML file (docs/model.md, "Economy files").

    Raises
    ------
    EconomyFileError
        If the file cannot be read, is not valid TOML, or breaks a rule; the message names the
        file and the key.
    """
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise EconomyFileError(source, [("", f"cannot read file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise EconomyFileError(source, [("", f"not UTF-8 text: {exc.reason}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise EconomyFileError(source, [("", f"invalid TOML: {exc}")]) from None
    return economy_from_dict(data, source, base_dir=Path(path).parent)


def _plain(x: float) -> int | float:
    """A float as the file would hold it: an integer when whole (counts), else a float."""
    x = float(x)
    return int(x) if x.is_integer() else x


def _utility_dict(pop: Population, i: int) -> dict[str, Any]:
    u = pop.utility(i)
    out: dict[str, Any] = {"family": u.family, "weights": list(u.weights)}
    if pop.classic[i] or u.goods_weight != 0:
        out["goods_weight"] = u.goods_weight
    if u.gamma is not None:
        out["gamma"] = u.gamma
    if u.r is not None:
        out["r"] = u.r
    return out


def _wallet_value(economy: Economy, pop: Population, i: int) -> float | str | None:
    w = float(pop.wallet[i])
    if not np.isnan(w):
        return w
    return "stationary" if economy.market.prepaid else None


def economy_to_dict(economy: Economy) -> dict[str, Any]:
    """The economy as a dictionary shaped like its file (the inverse of :func:`economy_from_dict`).

    Everything the economy holds is written out, also what the rules refuse (a wallet under
    simultaneous settlement, say), so that reading the dictionary back checks the economy.

    Consumer types read from a table (``consumers_table``) are written inline when there are at
    most :data:`~emgame.model.tables.INLINE_LIMIT` table rows; a larger table is written as a
    reference, ``consumers_table`` with the table's absolute path and
    ``consumers_table_digest`` with a hash of its content (and the file's inline types as
    ``consumers``), as long as the table file is unchanged since it was read; reading it back
    refuses a table whose content changed. Economies built
    in Python are always written inline, whatever their size.
    """
    T = economy.periods
    m = economy.market
    out: dict[str, Any] = {"name": economy.name, "periods": T}
    if economy.period_labels is not None:
        out["period_labels"] = list(economy.period_labels)
    units = _units_dict(economy.units)
    if units is not None:
        out["units"] = units
    market: dict[str, Any] = {"settlement": m.settlement, "horizon": m.horizon,
                              "goods_settlement_period": m.goods_settlement_period}
    if m.prepaid or m.discount != 1.0:
        market["discount"] = float(m.discount)
    out["market"] = market

    def verification(s: State) -> dict[str, Any]:
        fixed = [float(v) for v in s.fixed]
        same = len(fixed) == T + 1 and all(v == fixed[0] for v in fixed)
        return {"fixed": fixed[0] if same else fixed, "share": float(s.share)}

    if len(economy.states) == 1 and economy.states[0].probability == 1.0:
        out["verification"] = verification(economy.states[0])
    else:
        out["states"] = [{"probability": float(s.probability), "verification": verification(s)}
                         for s in economy.states]

    consumers = []
    c = economy.consumers
    origin = table_origin(c)
    inline = len(c)
    if origin is not None and len(c) - origin.inline > INLINE_LIMIT and origin.unchanged():
        inline = origin.inline
        out["consumers_table"] = origin.path
        out["consumers_table_digest"] = origin.digest()
    for i in range(inline):
        row: dict[str, Any] = {"name": c.names[i], "count": _plain(c.count[i]),
                               "kind": c.kind(i), "endowment": float(c.endowment[i])}
        wallet = _wallet_value(economy, c, i)
        if wallet is not None:
            row["wallet"] = wallet
        row["utility"] = _utility_dict(c, i)
        consumers.append(row)
    producers = []
    p = economy.producers
    for j in range(len(p)):
        row = {"name": p.names[j], "count": _plain(p.count[j]), "kind": p.kind(j),
               "productivity": float(p.productivity[j]), "returns": float(p.returns[j])}
        varying = bool(p.varying_availability[j])
        if not np.isnan(p.capacity[j]):
            cap = join_capacity(p.capacity[j], p.availability[j])
            row["capacity"] = list(cap) if isinstance(cap, tuple) else cap
        if not np.isnan(p.capacity_cost[j]):
            row["capacity_cost"] = float(p.capacity_cost[j])
        if np.isnan(p.capacity[j]) and varying:
            row["availability"] = [float(v) for v in p.availability[j]]
        wallet = _wallet_value(economy, p, j)
        if wallet is not None:
            row["wallet"] = wallet
        row["utility"] = _utility_dict(p, j)
        producers.append(row)
    out["consumers"] = consumers
    out["producers"] = producers
    storage = []
    st = economy.storage
    assert st is not None
    for k in range(len(st)):
        row = {"name": st.names[k], "count": _plain(st.count[k]), "kind": st.kind(k),
               "energy_capacity": float(st.energy_capacity[k]),
               "power_capacity": float(st.power_capacity[k]),
               "charge_efficiency": float(st.charge_efficiency[k]),
               "discharge_efficiency": float(st.discharge_efficiency[k])}
        wallet = _wallet_value(economy, st, k)
        if wallet is not None:
            row["wallet"] = wallet
        row["utility"] = _utility_dict(st, k)
        storage.append(row)
    if storage:
        out["storage"] = storage
    return out


def _units_dict(units: Units | None) -> dict[str, str] | None:
    if units is None or (units.electricity is None and units.goods is None):
        return None
    return {k: v for k, v in (("electricity", units.electricity), ("goods", units.goods))
            if v is not None}


def validate_economy(economy: Economy) -> Economy:
    """Check a (Python-built) economy by the rules of economy files; return it unchanged.

    The economy is written out with :func:`economy_to_dict` and read back, so that files and
    Python share one set of rules (:meth:`Economy.build` checks its records the same way).

    Raises
    ------
    EconomyFileError
        Naming the key as it would appear in the economy's file; the source is
        ``economy.source`` or ``"<economy>"``.
    """
    economy_from_dict(economy_to_dict(economy), economy.source or "<economy>")
    return economy


# --------------------------------------------------------------------------------------------
# Python records → the file's shape (for Economy.build).
# --------------------------------------------------------------------------------------------


def _py(x: Any) -> Any:
    """A Python value as a file would hold it: numpy scalars as Python numbers, tuples and
    arrays as lists; anything else unchanged (so that a wrong type is refused, named)."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return [_py(v) for v in x.tolist()]
    if isinstance(x, tuple | list):
        return [_py(v) for v in x]
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return int(x)
    return x


def _utility_record(u: Any) -> Any:
    if not isinstance(u, Utility):
        return _py(u) if not isinstance(u, Mapping) else {k: _py(v) for k, v in u.items()}
    out: dict[str, Any] = {"family": u.family, "weights": _py(u.weights)}
    if u.goods_weight not in (0, 0.0, None):
        out["goods_weight"] = _py(u.goods_weight)
    if u.gamma is not None:
        out["gamma"] = _py(u.gamma)
    if u.r is not None:
        out["r"] = _py(u.r)
    return out


def _type_record(t: Any, producer: bool) -> Any:
    if not isinstance(t, ConsumerType | ProducerType | StorageType):
        return t  # refused by the schema: "expected a table"
    row: dict[str, Any] = {"name": t.name, "count": _py(t.count), "kind": t.kind}
    if isinstance(t, StorageType):
        row.update(energy_capacity=_py(t.energy_capacity), power_capacity=_py(t.power_capacity),
                   charge_efficiency=_py(t.charge_efficiency),
                   discharge_efficiency=_py(t.discharge_efficiency))
    elif producer:
        assert isinstance(t, ProducerType)
        row.update(productivity=_py(t.productivity), returns=_py(t.returns))
        if t.capacity is not None:
            row["capacity"] = _py(t.capacity)
        if t.capacity_cost is not None:
            row["capacity_cost"] = _py(t.capacity_cost)
        if t.availability is not None:
            row["availability"] = _py(t.availability)
    else:
        assert isinstance(t, ConsumerType)
        row["endowment"] = _py(t.endowment)
    if t.wallet is not None:
        row["wallet"] = _py(t.wallet)
    row["utility"] = _utility_record(t.utility)
    return row


def records_dict(*, name: str, periods: int, consumers: Sequence[Any],
                 producers: Sequence[Any], market: Market | None,
                 states: Sequence[State], period_labels: Sequence[str] | None,
                 storage: Sequence[Any] = (), units: Units | None = None
                 ) -> dict[str, Any]:
    """The arguments of :meth:`Economy.build` shaped like an economy file, to be checked by the
    file's rules (:func:`~emgame.model.schema.parse_economy_file`)."""
    m = market or Market()
    d: dict[str, Any] = {"name": name, "periods": _py(periods)}
    if period_labels is not None:
        d["period_labels"] = _py(list(period_labels))
    mk: dict[str, Any] = {"settlement": m.settlement, "horizon": m.horizon,
                          "goods_settlement_period": _py(m.goods_settlement_period)}
    if m.discount != 1.0 or m.prepaid:
        mk["discount"] = _py(m.discount)
    d["market"] = mk
    if states:
        d["states"] = [{"probability": _py(s.probability),
                        "verification": {"fixed": _py(list(s.fixed)), "share": _py(s.share)}}
                       for s in states]
    d["consumers"] = [_type_record(c, False) for c in consumers]
    d["producers"] = [_type_record(p, True) for p in producers]
    if storage:
        d["storage"] = [_type_record(b, True) for b in storage]
    if units is not None:
        d["units"] = (_units_dict(units) or {}) if isinstance(units, Units) else _py(units)
    return d
