"""Parameter paths: name any numeric field of an economy, and change it in the economy's dictionary.

A sweep varies fields of an economy by their *path* in the economy file's dictionary (the one
:func:`emgame.model.economy_to_dict` writes and :func:`emgame.model.economy_from_dict` reads).
A path is dotted keys, with three ways to pick agent types and states:

==================================  ===============================================================
``verification.fixed``              the fixed verification cost of every post (one number)
``verification.fixed[0]``           the fixed cost of post 0 (goods); the scalar becomes a list
``verification.share``              ``κ``
``states[1].verification.fixed``    a state's costs (economies with ``[[states]]``); also
                                    ``states.*.verification.share`` and ``states[0].probability``
``market.discount``                 ``β`` (prepaid only); ``market.goods_settlement_period``
``producers.solar-farms.count``     one type, by name
``consumers[0].endowment``          one type, by position
``consumers.*.count``               every type of the role (replication)
``producers.*.utility.weights[3]``  an element of a list
==================================  ===============================================================

Type fields: ``count``, ``wallet``, ``utility.weights[t]``, ``utility.goods_weight``,
``utility.gamma``, ``utility.r``; consumers also ``endowment``; producers also ``productivity``,
``returns``, ``capacity``, ``capacity_cost``.

A value is either *set* or *multiplies* the base value (``operation = "multiply"``, e.g. to
replicate an economy n times). Counts and ``goods_settlement_period`` are integers: a value that
is not a whole number is refused. Whether the changed economy is a valid one is for the economy's
own rules (:func:`~emgame.model.economy_from_dict`) to say.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Operation = Literal["set", "multiply"]
Key = str | int

# What may be changed, by where it sits. Leaves: "float", "int", "list" (a list of floats that
# may be indexed), "fixed" (a number or a list of T+1 numbers, which may be indexed).
_UTILITY = {"weights": "list", "goods_weight": "float", "gamma": "float", "r": "float"}
_TYPE_COMMON: dict[str, Any] = {"count": "int", "wallet": "float", "utility": _UTILITY}
CONSUMER_FIELDS: dict[str, Any] = {**_TYPE_COMMON, "endowment": "float"}
PRODUCER_FIELDS: dict[str, Any] = {**_TYPE_COMMON, "productivity": "float", "returns": "float",
                                   "capacity": "float", "capacity_cost": "float"}
VERIFICATION_FIELDS: dict[str, Any] = {"fixed": "fixed", "share": "float"}
STATE_FIELDS: dict[str, Any] = {"probability": "float", "verification": VERIFICATION_FIELDS}
MARKET_FIELDS: dict[str, Any] = {"discount": "float", "goods_settlement_period": "int"}
TOP_FIELDS: dict[str, Any] = {
    "market": MARKET_FIELDS,
    "verification": VERIFICATION_FIELDS,
    "states": ("states", STATE_FIELDS),
    "consumers": ("types", CONSUMER_FIELDS),
    "producers": ("types", PRODUCER_FIELDS),
}

_SEGMENT = re.compile(r"^(?P<key>[^\[\]]*)(?P<index>(\[\s*-?\d+\s*\])*)$")


class PathError(ValueError):
    """A parameter path that names nothing changeable in the economy; the message says why."""


@dataclass(frozen=True)
class Target:
    """One concrete location in an economy dictionary, e.g. ``("consumers", 2, "count")``.

    ``leaf`` is the kind of value found there (``"float"``, ``"int"``, ``"fixed-element"`` or
    ``"list-element"``).
    """

    keys: tuple[Key, ...]
    leaf: str

    @property
    def integer(self) -> bool:
        return self.leaf == "int"

    def __str__(self) -> str:
        return format_keys(self.keys)


def format_keys(keys: Sequence[Key]) -> str:
    """``("consumers", 2, "count")`` → ``consumers[2].count``."""
    out = ""
    for k in keys:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out


def _tokens(path: str) -> list[Key]:
    """Split a path into keys, indices (int) and wildcards (``"*"``)."""
    if not isinstance(path, str) or not path.strip():
        raise PathError("a path must be a non-empty string such as 'verification.fixed'")
    out: list[Key] = []
    for seg in path.strip().split("."):
        m = _SEGMENT.match(seg.strip())
        if m is None or (not m.group("key") and not m.group("index")):
            raise PathError(f"cannot read path {path!r}: bad segment {seg!r}")
        if m.group("key"):
            out.append(m.group("key").strip())
        out += [int(i) for i in re.findall(r"-?\d+", m.group("index"))]
    return out


def _suggest(word: object, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _choices(options: Sequence[str]) -> str:
    return ", ".join(repr(o) for o in options)


def resolve(data: Mapping[str, Any], path: str) -> tuple[Target, ...]:
    """Every location in the economy dictionary ``data`` that ``path`` names.

    Parameters
    ----------
    data : mapping
        An economy as a dictionary (:func:`~emgame.model.economy_to_dict`).
    path : str
        See the module notes.

    Returns
    -------
    tuple of Target
        One per location (several for a wildcard); never empty.

    Raises
    ------
    PathError
        For an unknown key, type name or index, a path that stops at a table, or a field that
        is not a number.
    """
    tokens = _tokens(path)
    head = tokens[0]
    if not isinstance(head, str) or head not in TOP_FIELDS:
        raise PathError(f"{path!r}: unknown key {head!r}{_suggest(head, list(TOP_FIELDS))}; a "
                        f"path starts with one of {_choices(list(TOP_FIELDS))}")
    spec = TOP_FIELDS[head]
    rest = tokens[1:]
    if head == "verification" and "verification" not in data and "states" in data:
        raise PathError(f"{path!r}: this economy has [[states]], not [verification]; use "
                        f"'states[0].verification...' or 'states.*.verification...'")
    if head == "states" and "states" not in data:
        raise PathError(f"{path!r}: this economy has no [[states]] (it has one [verification] "
                        f"table); use 'verification...'")
    if isinstance(spec, tuple):
        kind, fields = spec
        items = data.get(head) or []
        if not rest:
            raise PathError(f"{path!r}: pick {'a type' if kind == 'types' else 'a state'}: "
                            f"'{head}.NAME...', '{head}[0]...' or '{head}.*...'")
        sel, rest = rest[0], rest[1:]
        if sel == "*":
            picked = list(range(len(items)))
        elif isinstance(sel, int):
            if not -len(items) <= sel < len(items):
                raise PathError(f"{path!r}: index {sel} is out of range: there "
                                f"{'is' if len(items) == 1 else 'are'} {len(items)} {head}")
            picked = [sel % len(items)]
        elif kind == "types":
            names = [str(t.get("name")) for t in items]
            if sel not in names:
                raise PathError(f"{path!r}: no {head[:-1]} type named {sel!r}{_suggest(sel, names)}"
                                f"; the {head} are {_choices(names)}")
            picked = [names.index(sel)]
        else:
            raise PathError(f"{path!r}: pick a state by index ('states[0]') or all ('states.*')")
        return tuple(t for i in picked
                     for t in _walk((head, i), items[i], fields, rest, path))
    return _walk((head,), data.get(head, {}), spec, rest, path)


def _walk(prefix: tuple[Key, ...], node: Any, fields: Mapping[str, Any], rest: list[Key],
          path: str) -> tuple[Target, ...]:
    where = format_keys(prefix)
    if not rest:
        raise PathError(f"{path!r}: {where} is a table; name one of its fields: "
                        f"{_choices(list(fields))}")
    key, rest = rest[0], rest[1:]
    if not isinstance(key, str) or key not in fields:
        raise PathError(f"{path!r}: unknown field {key!r} in {where}{_suggest(key, list(fields))}"
                        f"; the fields that can be varied are {_choices(list(fields))}")
    spec = fields[key]
    keys = prefix + (key,)
    value = node.get(key) if isinstance(node, Mapping) else None
    if isinstance(spec, Mapping):
        return _walk(keys, value if isinstance(value, Mapping) else {}, spec, rest, path)
    if spec in ("float", "int"):
        if rest:
            raise PathError(f"{path!r}: {format_keys(keys)} is a number; nothing below it")
        return (Target(keys, spec),)
    # Lists: "list" (weights) must be indexed; "fixed" may be a number or a list.
    if not rest:
        if spec == "fixed":
            return (Target(keys, "float"),)
        raise PathError(f"{path!r}: {format_keys(keys)} is a list; name an element, "
                        f"e.g. '{path}[0]'")
    index, rest = rest[0], rest[1:]
    if not isinstance(index, int) or rest:
        raise PathError(f"{path!r}: {format_keys(keys)} takes an index, e.g. "
                        f"'{format_keys(keys)}[0]'")
    length = len(value) if isinstance(value, list) else None
    if length is not None and not -length <= index < length:
        raise PathError(f"{path!r}: index {index} is out of range for {format_keys(keys)} "
                        f"({length} entries)")
    if index < 0 and length is None:
        raise PathError(f"{path!r}: a negative index needs a list at {format_keys(keys)}")
    if length is not None:
        index %= length
    return (Target(keys + (index,), "fixed-element" if spec == "fixed" else "list-element"),)


def _get(data: Any, keys: Sequence[Key]) -> Any:
    node = data
    for k in keys:
        if isinstance(k, int):
            if not isinstance(node, list) or not -len(node) <= k < len(node):
                return None
            node = node[k]
        else:
            if not isinstance(node, Mapping):
                return None
            node = node.get(k)
    return node


def value_at(data: Mapping[str, Any], target: Target) -> Any:
    """The value at ``target`` (``None`` when the key is absent); a scalar ``fixed`` is read as
    every post's value."""
    if target.leaf == "fixed-element":
        fixed = _get(data, target.keys[:-1])
        if isinstance(fixed, int | float) and not isinstance(fixed, bool):
            return fixed
    return _get(data, target.keys)


def _as_number(value: float, target: Target, path: str) -> int | float:
    if target.integer:
        if not math.isfinite(value) or abs(value - round(value)) > 1e-9 * max(1.0, abs(value)):
            raise PathError(f"{path!r}: {target} is a whole number; {value!r} is not")
        return int(round(value))
    return float(value)


def apply(data: Mapping[str, Any], changes: Sequence[tuple[str, Operation, float]],
          periods: int | None = None, targets: Mapping[str, Sequence[Target]] | None = None
          ) -> dict[str, Any]:
    """A deep copy of the economy dictionary ``data`` with ``changes`` made.

    Parameters
    ----------
    data : mapping
        The base economy as a dictionary; not modified.
    changes : sequence of (path, operation, value)
        ``operation`` is ``"set"`` or ``"multiply"`` (the base value times ``value``).
    periods : int, optional
        ``T``; needed to turn a scalar ``verification.fixed`` into a list of ``T + 1`` when one
        post's cost is set (read from ``data["periods"]`` when omitted).
    targets : mapping, optional
        Resolved targets per path (from :func:`resolve` on the same base), to skip resolving.

    Raises
    ------
    PathError
        For a path that names nothing (see :func:`resolve`), a value that does not fit (a
        non-whole count), or a multiplication of a field the base economy does not set.
    """
    out = copy.deepcopy(dict(data))
    T = int(periods if periods is not None else data.get("periods", 0))
    for path, operation, value in changes:
        found = targets[path] if targets is not None and path in targets else resolve(data, path)
        for target in found:
            base = value_at(data, target)
            if operation == "multiply":
                if not isinstance(base, int | float) or isinstance(base, bool):
                    raise PathError(f"{path!r}: {target} is not set in the base economy, so "
                                    f"there is nothing to multiply; use operation = \"set\"")
                new = _as_number(base * value, target, path)
            elif operation == "set":
                new = _as_number(value, target, path)
            else:
                raise PathError(f"{path!r}: operation must be 'set' or 'multiply', not "
                                f"{operation!r}")
            _put(out, target, new, T)
    return out


def _put(data: dict[str, Any], target: Target, value: int | float, T: int) -> None:
    keys = target.keys
    node: Any = data
    for k in keys[:-2] if target.leaf.endswith("element") else keys[:-1]:
        if isinstance(k, int):
            node = node[k]
        else:
            node = node.setdefault(k, {})
    if target.leaf == "fixed-element":
        key, index = keys[-2], keys[-1]
        fixed = node.get(key, 0.0)
        if not isinstance(fixed, list):
            fixed = [float(fixed)] * (T + 1)
            node[key] = fixed
        if not -len(fixed) <= int(index) < len(fixed):
            raise PathError(f"{target}: index out of range ({len(fixed)} entries)")
        fixed[int(index)] = value
    elif target.leaf == "list-element":
        node[keys[-2]][int(keys[-1])] = value
    else:
        node[keys[-1]] = value
