"""Economy files: the TOML schema and its rules (docs/model.md, "Economy files").

An economy file is read in two passes, so that every problem is reported against the key that
causes it:

1. the pydantic models below check the *shape* of the file: known keys only, strict types (a
   string or a boolean is never a number; an integer is a number), and the bounds that need no
   context (``endowment > 0``, ``share`` in ``[0, 1)``, ...);
2. :func:`_rules` checks what depends on other keys: lengths that depend on ``periods``,
   settlement- and horizon-dependent keys, family-dependent parameters, unique names, the
   probabilities of the states.

Python-built economies are checked by the same rules: :func:`validate_economy` writes the economy
out with :func:`economy_to_dict` and reads it back with :func:`economy_from_dict`. There is one set
of rules, not two.

Every failure is an :class:`EconomyFileError` whose message has one line per problem,
``<file>: <key path>: <problem>``, e.g.
``econ.toml: consumers[1].utility.weights: expected 2 weights (one per period), got 3``.

Consumer types may also come from a table (``consumers_table = "consumers.parquet"``, a path
relative to the economy file; Parquet or CSV), its rows appended after the inline
``[[consumers]]``: see :mod:`emgame.model.tables`. Its rows are checked by the same rules,
vectorised, and problems name the table, the row and the column,
``consumers.parquet: row 12, column "endowment": must be > 0 (got -1.0)``.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from emgame.model.economy import (
    EconomyError,
)
from emgame.model.tables import (
    FORMATS,
    table_format,
)

PROBABILITY_TOLERANCE = 1e-9
"""How far the states' probabilities may sum from one."""

MAX_REPORTED = 12
"""At most this many problems are listed in one message; the rest are counted."""

Loc = tuple[str | int, ...]


class EconomyFileError(EconomyError):
    """An economy file (or dictionary) that breaks the rules of docs/model.md, "Economy files".

    The message has one line per problem, ``<source>: <key path>: <problem>``.

    Attributes
    ----------
    source : str
        The file (as given), or ``"<dict>"`` / ``"<economy>"`` for in-memory data.
    problems : tuple of (str, str)
        ``(key path, problem)`` pairs; the key path is empty for problems of the whole file.
    """

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple((str(k), str(p)) for k, p in problems)
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [f"{self.source}: {k}: {p}" if k else f"{self.source}: {p}"
                 for k, p in self.problems[:MAX_REPORTED]]
        extra = len(self.problems) - MAX_REPORTED
        if extra > 0:
            lines.append(f"{self.source}: ... and {extra} more problem{'s' * (extra > 1)}")
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (errors cross process boundaries under dask).
        return (type(self), (self.source, self.problems))


# --------------------------------------------------------------------------------------------
# Pass 1: the shape of the file (pydantic).
# --------------------------------------------------------------------------------------------


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=1)]


def _fixed_tag(v: object) -> str | None:
    if _is_number(v):
        return "number"
    return "list" if isinstance(v, list) else None


def _capacity_tag(v: object) -> str | None:
    if _is_number(v):
        return "number"
    return "list" if isinstance(v, list) else None


def _wallet_tag(v: object) -> str | None:
    if _is_number(v):
        return "number"
    return "keyword" if isinstance(v, str) else None


Fixed = Annotated[
    Annotated[NonNegative, Tag("number")] | Annotated[list[NonNegative], Tag("list")],
    Discriminator(_fixed_tag, custom_error_type="fixed_type",
                  custom_error_message="expected a number >= 0 or a list of T+1 numbers >= 0"),
]
"""Fixed verification cost: one number for every post, or ``[post 0, post 1..T]``."""

Capacity = Annotated[
    Annotated[Positive, Tag("number")] | Annotated[list[NonNegative], Tag("list")],
    Discriminator(_capacity_tag, custom_error_type="capacity_type",
                  custom_error_message="expected a number > 0 or a list of T numbers >= 0"),
]
"""Short-run capacity: ``K̄``, or ``K̄^t`` by period (docs/model.md, "Availability")."""

Share = Annotated[float, Field(ge=0, le=1)]
Efficiency = Annotated[float, Field(gt=0, le=1)]

Wallet = Annotated[
    Annotated[NonNegative, Tag("number")] | Annotated[Literal["stationary"], Tag("keyword")],
    Discriminator(_wallet_tag, custom_error_type="wallet_type",
                  custom_error_message='expected a number >= 0 or "stationary"'),
]
"""A bytecoin wallet: an exogenous amount, or ``"stationary"`` (wallet = revenue)."""

_UNION_FIELDS = {"fixed": {"number", "list"}, "wallet": {"number", "keyword"},
                 "capacity": {"number", "list"}}


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class MarketTable(_Table):
    """``[market]``: settlement, horizon, ``t0`` and the discount ``β`` (docs/model.md,
    "Budgets" and "The crypto layer")."""

    settlement: Literal["simultaneous", "prepaid"] = "simultaneous"
    horizon: Literal["short-run", "long-run"] = "short-run"
    goods_settlement_period: Count = 1
    discount: Annotated[float, Field(gt=0, le=1)] | None = None


class VerificationTable(_Table):
    """``[verification]`` (or a state's ``verification``): fixed cost ``v`` and share ``κ``."""

    fixed: Fixed = 0.0
    share: Annotated[float, Field(ge=0, lt=1)] = 0.0


class StateTable(_Table):
    """One ``[[states]]`` entry: a probability and its verification costs."""

    probability: Positive
    verification: VerificationTable = VerificationTable()


class UtilityTable(_Table):
    """A type's ``utility``: family, electricity weights and the family's parameter."""

    family: Literal["cobb_douglas", "crra", "ces", "quasilinear"]
    weights: list[NonNegative]
    goods_weight: NonNegative | None = None
    gamma: Positive | None = None
    r: Annotated[float, Field(lt=1)] | None = None


class ConsumerTable(_Table):
    """One ``[[consumers]]`` entry (docs/model.md, "Agents")."""

    name: str
    count: Count
    kind: Literal["ai", "classic"] = "ai"
    endowment: Positive
    wallet: Wallet | None = None
    utility: UtilityTable


class ProducerTable(_Table):
    """One ``[[producers]]`` entry (docs/model.md, "Agents")."""

    name: str
    count: Count
    kind: Literal["ai", "classic"] = "ai"
    productivity: Positive
    returns: Positive
    capacity: Capacity | None = None
    capacity_cost: NonNegative | None = None
    availability: list[Share] | None = None
    wallet: Wallet | None = None
    utility: UtilityTable


class StorageTable(_Table):
    """One ``[[storage]]`` entry: a battery operator (docs/model.md, "Storage")."""

    name: str
    count: Count
    kind: Literal["ai", "classic"] = "ai"
    energy_capacity: Positive
    power_capacity: Positive
    charge_efficiency: Efficiency = 1.0
    discharge_efficiency: Efficiency = 1.0
    wallet: Wallet | None = None
    utility: UtilityTable


class UnitsTable(_Table):
    """``[units]``: names of the units of electricity and goods (labels only; docs/model.md,
    "Units")."""

    electricity: str | None = None
    goods: str | None = None


class EconomyFile(_Table):
    """A whole economy file (docs/model.md, "Economy files")."""

    name: str | None = None
    periods: Count
    period_labels: list[str] | None = None
    market: MarketTable = MarketTable()
    verification: VerificationTable | None = None
    states: Annotated[list[StateTable], Field(min_length=1)] | None = None
    consumers_table: str | None = None
    consumers_table_digest: str | None = None
    consumers: list[ConsumerTable] = Field(default_factory=list)
    producers: list[ProducerTable] = Field(default_factory=list)
    storage: list[StorageTable] = Field(default_factory=list)
    units: UnitsTable | None = None


# --------------------------------------------------------------------------------------------
# Pass 2: rules that depend on other keys.
# --------------------------------------------------------------------------------------------


def _quote(s: str) -> str:
    """A string as TOML writes it (double quotes)."""
    return json.dumps(s, ensure_ascii=False)


def _num(x: float) -> str:
    """A number as a reader would write it (``1`` not ``1.0``)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _rules(f: EconomyFile) -> Iterator[tuple[Loc, str]]:
    """Yield ``(key location, problem)`` for every rule that ``f`` breaks."""
    T = f.periods
    if f.name is not None and not f.name.strip():
        yield ("name",), "must not be empty"
    if f.period_labels is not None:
        labels = f.period_labels
        if len(labels) != T:
            yield ("period_labels",), f"expected {T} labels (one per period), got {len(labels)}"
        for k, lab in enumerate(labels):
            if not lab.strip():
                yield ("period_labels", k), "must not be empty"
        dup = sorted({lab for lab in labels if labels.count(lab) > 1})
        if dup:
            yield (("period_labels",),
                   f"labels must be distinct; repeated: {', '.join(map(_quote, dup))}")

    m = f.market
    prepaid = m.settlement == "prepaid"
    if m.goods_settlement_period > T:
        yield (("market", "goods_settlement_period"),
               f"must be a period in 1..{T}, got {m.goods_settlement_period}")
    if m.discount is not None and not prepaid:
        yield ("market", "discount"), 'only allowed with settlement = "prepaid"'

    if f.verification is not None and f.states is not None:
        yield ("states",), "give either [verification] or [[states]], not both"
    tables: list[tuple[Loc, VerificationTable]] = []
    if f.verification is not None:
        tables.append((("verification",), f.verification))
    for s, st in enumerate(f.states or ()):
        tables.append((("states", s, "verification"), st.verification))
    for loc, v in tables:
        if isinstance(v.fixed, list) and len(v.fixed) != T + 1:
            yield (loc + ("fixed",),
                   f"expected a number or a list of {T + 1} numbers (post 0, then periods 1..{T}),"
                   f" got a list of {len(v.fixed)}")
    if f.states is not None:
        total = math.fsum(st.probability for st in f.states)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            yield ("states",), f"probabilities must sum to 1, got {total:.12g}"

    if f.consumers_table is not None and not f.consumers_table.strip():
        yield ("consumers_table",), "must not be empty (the path of a Parquet or CSV table)"
    elif f.consumers_table is not None and table_format(f.consumers_table) is None:
        yield (("consumers_table",),
               f"unknown table format {_quote(f.consumers_table)}: the file name must end in "
               + ", ".join(FORMATS))
    if not f.consumers and f.consumers_table is None:
        yield (("consumers",),
               "at least one consumer type ([[consumers]] or consumers_table) is required")
    if not f.producers:
        yield ("producers",), "at least one producer type ([[producers]]) is required"

    if f.units is not None:
        for key in ("electricity", "goods"):
            label = getattr(f.units, key)
            if label is not None and not label.strip():
                yield ("units", key), "must not be empty (a unit's name, e.g. \"MWh\")"

    seen: dict[str, Loc] = {}
    roles: list[tuple[str, Sequence[ConsumerTable] | Sequence[ProducerTable]
                      | Sequence[StorageTable]]] = [
        ("consumers", f.consumers), ("producers", f.producers), ("storage", f.storage)]
    for role, types in roles:
        for i, t in enumerate(types):
            if not t.name.strip():
                yield (role, i, "name"), "must not be empty"
            elif t.name in seen:
                yield ((role, i, "name"),
                       f"duplicate name {_quote(t.name)} (also {_format_loc(seen[t.name])});"
                       " names are unique across consumers, producers and storage")
            else:
                seen[t.name] = (role, i)
            yield from _utility_rules((role, i, "utility"), t.utility, t.kind, T)

    for j, p in enumerate(f.producers):
        if m.horizon == "short-run" and p.capacity is None:
            yield (("producers", j, "capacity"),
                   'missing: horizon = "short-run" needs capacity (K > 0, or T numbers >= 0,'
                   " one per period) on every producer")
        if isinstance(p.capacity, list) and len(p.capacity) != T:
            yield (("producers", j, "capacity"),
                   f"expected a number or a list of {T} numbers (one per period), got a list "
                   f"of {len(p.capacity)}")
        if p.availability is not None:
            if m.horizon == "short-run":
                yield (("producers", j, "availability"),
                       'only allowed with horizon = "long-run" (in the short run give capacity'
                       " by period: capacity = [K1, ..., KT])")
            elif len(p.availability) != T:
                yield (("producers", j, "availability"),
                       f"expected {T} numbers in [0, 1] (one per period), got "
                       f"{len(p.availability)}")
        if m.horizon == "long-run":
            if p.capacity is not None:
                yield (("producers", j, "capacity"),
                       'not allowed with horizon = "long-run" (capacity is chosen; give'
                       " capacity_cost, and availability by period if it varies)")
            if p.capacity_cost is None:
                yield (("producers", j, "capacity_cost"),
                       'missing: horizon = "long-run" needs capacity_cost (rho >= 0)')

    all_types: list[tuple[Loc, ConsumerTable | ProducerTable | StorageTable]] = [
        (("consumers", i), c) for i, c in enumerate(f.consumers)]
    all_types += [(("producers", j), p) for j, p in enumerate(f.producers)]
    all_types += [(("storage", k), b) for k, b in enumerate(f.storage)]
    first: tuple[Loc, bool] | None = None  # (where, stationary?) of the first wallet seen
    for loc, t in all_types:
        if not prepaid:
            if t.wallet is not None:
                yield loc + ("wallet",), 'only allowed with settlement = "prepaid"'
            continue
        if t.wallet is None:
            yield (loc + ("wallet",),
                   'missing: settlement = "prepaid" needs a wallet on every type'
                   ' (a number >= 0 or "stationary")')
            continue
        stationary = t.wallet == "stationary"
        if first is None:
            first = (loc, stationary)
        elif stationary != first[1]:
            what = '"stationary"' if first[1] else "a number"
            yield (loc + ("wallet",),
                   f'wallets must be all "stationary" or all numbers (no mixing);'
                   f" {_format_loc(first[0] + ('wallet',))} is {what}")


def _utility_rules(loc: Loc, u: UtilityTable, kind: str, T: int) -> Iterator[tuple[Loc, str]]:
    classic = kind == "classic"
    if len(u.weights) != T:
        yield loc + ("weights",), f"expected {T} weights (one per period), got {len(u.weights)}"
    elif not any(a > 0 for a in u.weights) and not (classic and (u.goods_weight or 0) > 0):
        yield (loc + ("weights",),
               "at least one weight must be positive" + (" (or goods_weight)" if classic else ""))
    if u.goods_weight is not None and not classic:
        yield (loc + ("goods_weight",),
               'only allowed for kind = "classic" (ai agents value electricity only)')
    if u.family == "quasilinear":
        if not classic:
            yield loc + ("family",), 'quasilinear is for kind = "classic" only'
        elif u.goods_weight is None or u.goods_weight <= 0:
            yield loc + ("goods_weight",), "quasilinear needs goods_weight > 0"
    if u.family == "crra":
        if u.gamma is None:
            yield loc + ("gamma",), 'missing: family = "crra" needs gamma (> 0, != 1)'
        elif u.gamma == 1:
            yield loc + ("gamma",), 'must not be 1 (gamma = 1 is family = "cobb_douglas")'
    elif u.gamma is not None:
        yield loc + ("gamma",), 'only allowed with family = "crra"'
    if u.family == "ces":
        if u.r is None:
            yield loc + ("r",), 'missing: family = "ces" needs r (< 1, != 0)'
        elif u.r == 0:
            yield loc + ("r",), 'must not be 0 (the limit r -> 0 is family = "cobb_douglas")'
    elif u.r is not None:
        yield loc + ("r",), 'only allowed with family = "ces"'


# --------------------------------------------------------------------------------------------
# Messages.
# --------------------------------------------------------------------------------------------


def _format_loc(loc: Loc) -> str:
    out = ""
    for k in loc:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out


def describe_value(v: object) -> str:
    """What a TOML value is, for 'expected X, got Y' messages."""
    if isinstance(v, bool):
        return f"boolean {str(v).lower()}"
    if isinstance(v, str):
        return f"string {json.dumps(v, ensure_ascii=False)}"
    if isinstance(v, int):
        return f"integer {v}"
    if isinstance(v, float):
        return f"number {v!r}"
    if isinstance(v, list | tuple):
        return f"a {type(v).__name__}"
    if isinstance(v, Mapping):
        return "a table"
    if isinstance(v, datetime | date | time):
        return "a date/time"
    return f"a {type(v).__name__}"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic model that holds the keys at ``loc`` (for 'did you mean' hints)."""
    cls: type[BaseModel] = EconomyFile
    for k in loc:
        if isinstance(k, int):
            continue
        field = cls.model_fields.get(k)
        if field is None:
            return None
        nxt = _find_model(field.annotation)
        if nxt is None:
            return None
        cls = nxt
    return cls


def _find_model(ann: object) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _pydantic_problem(err: Mapping[str, Any], loc: Loc) -> str:
    kind, ctx, inp = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        hint = ""
        if model is not None:
            close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind == "float_type":
        return f"expected a number, got {describe_value(inp)}"
    if kind == "int_type":
        return f"expected an integer, got {describe_value(inp)}"
    if kind == "string_type":
        return f"expected a string, got {describe_value(inp)}"
    if kind == "list_type":
        return f"expected a list, got {describe_value(inp)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a table, got {describe_value(inp)}"
    bounds = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
              "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}
    if kind in bounds:
        key, op = bounds[kind]
        got = _num(inp) if _is_number(inp) else repr(inp)
        return f"must be {op} {_num(ctx[key])}, got {got}"
    if kind == "finite_number":
        return f"must be a finite number, got {inp!r}"
    if kind == "literal_error" and err["loc"][-1:] == ("keyword",):  # a wallet's string
        return f'expected a number >= 0 or "stationary", got {describe_value(inp)}'
    if kind == "literal_error":
        expected = str(ctx["expected"]).replace(chr(39), chr(34))
        return f"expected {expected}, got {describe_value(inp)}"
    if kind == "too_short":
        return f"expected at least {ctx['min_length']} entries, got {ctx['actual_length']}"
    if kind in ("fixed_type", "wallet_type", "capacity_type"):
        return f"{err['msg']}, got {describe_value(inp)}"
    return str(err["msg"])


def _clean_loc(loc: Sequence[str | int]) -> Loc:
    """Drop the union tags pydantic puts in locations (``fixed.list[2]`` → ``fixed[2]``)."""
    out: list[str | int] = []
    for k in loc:
        if out and isinstance(out[-1], str) and k in _UNION_FIELDS.get(out[-1], ()):
            continue
        out.append(k)
    return tuple(out)


def _with_name(loc: Loc, problem: str, data: object) -> tuple[str, str]:
    """``(key path, problem)``, the problem naming the type when the path is inside one."""
    key = _format_loc(loc)
    if len(loc) >= 2 and loc[0] in _ROLE_NAMES and isinstance(loc[1], int) \
            and loc[2:] != ("name",) and isinstance(data, Mapping):
        types = data.get(loc[0])
        if isinstance(types, list) and loc[1] < len(types) and isinstance(types[loc[1]], Mapping):
            name = types[loc[1]].get("name")
            if isinstance(name, str) and name.strip():
                problem += f" ({_ROLE_NAMES[str(loc[0])]} {_quote(name)})"
    return key, problem


_ROLE_NAMES = {"consumers": "consumer", "producers": "producer", "storage": "storage"}


# --------------------------------------------------------------------------------------------
# Checking a whole file.
# --------------------------------------------------------------------------------------------


def parse_economy_file(data: object, source: str = "<dict>") -> EconomyFile:
    """Check ``data`` against the schema and the rules; the parsed file, or raise.

    Raises
    ------
    EconomyFileError
        Listing every problem found (shape problems first; the cross-key rules are checked
        once the shape is right).
    """
    try:
        f = EconomyFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            problems.append(_with_name(loc, _pydantic_problem(err, loc), data))
        raise EconomyFileError(source, problems) from None
    problems = [_with_name(loc, msg, data) for loc, msg in _rules(f)]
    if problems:
        raise EconomyFileError(source, problems)
    return f


_MOVED = ("economy_from_dict", "economy_to_dict", "load_economy", "validate_economy",
          "records_dict")


def __getattr__(name: str) -> Any:
    # Reading and writing files moved to emgame.model.files; still importable from here.
    if name in _MOVED:
        from emgame.model import files

        return getattr(files, name)
    raise AttributeError(f"module 'emgame.model.schema' has no attribute {name!r}")
