"""The shape of a sweep file (pydantic models) and its messages: every problem named by file and
key (``sweep.toml: parameters[0].grid.num: must be >= 1, got 0``). The expansion into points is
:mod:`emgame.analysis.sweep`."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emgame.analysis import paths
from emgame.model.schema import describe_value

MAX_POINTS = 1_000_000
"""Most points a sweep may have (and values a parameter may take)."""

MAX_STARTS = 10_000
"""Most starts the every-equilibrium search (``all = true``) may take at one point."""


class SweepFileError(ValueError):
    """A sweep file that cannot be used; one line per problem, ``<file>: <key>: <problem>``."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple((str(k), str(p)) for k, p in problems)
        super().__init__("\n".join(f"{source}: {k}: {p}" if k else f"{source}: {p}"
                                   for k, p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.problems))


# --------------------------------------------------------------------------------------------
# The file's shape.
# --------------------------------------------------------------------------------------------


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class GridSpec(_Table):
    """``grid = {start, stop, num}`` (or ``step`` instead of ``num``); ``scale = "log"``."""

    start: float
    stop: float
    num: Annotated[int, Field(ge=1, le=MAX_POINTS)] | None = None
    step: Annotated[float, Field(gt=0)] | None = None
    scale: Literal["linear", "log"] = "linear"

    @model_validator(mode="after")
    def _one_of(self) -> GridSpec:
        if (self.num is None) == (self.step is None):
            raise ValueError("give exactly one of num or step")
        if self.scale == "log":
            if self.step is not None:
                raise ValueError('scale = "log" takes num, not step')
            if self.start <= 0 or self.stop <= 0:
                raise ValueError('scale = "log" needs start > 0 and stop > 0')
        return self


class RandomSpec(_Table):
    """``random = {distribution, n, ...}``: ``uniform``/``loguniform``/``integers`` take
    ``low`` and ``high`` (``integers``: both included); ``normal`` takes ``mean`` and ``sd``."""

    distribution: Literal["uniform", "loguniform", "normal", "integers"] = "uniform"
    n: Annotated[int, Field(ge=1, le=MAX_POINTS)]
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _arguments(self) -> RandomSpec:
        if self.distribution == "normal":
            if self.mean is None or self.sd is None:
                raise ValueError('distribution = "normal" needs mean and sd')
            if self.low is not None or self.high is not None:
                raise ValueError('distribution = "normal" takes mean and sd, not low and high')
        else:
            if self.low is None or self.high is None:
                raise ValueError(f'distribution = "{self.distribution}" needs low and high')
            if self.mean is not None or self.sd is not None:
                raise ValueError(f'distribution = "{self.distribution}" takes low and high, '
                                 'not mean and sd')
            if self.high < self.low:
                raise ValueError("high must be >= low")
            if self.distribution == "loguniform" and self.low <= 0:
                raise ValueError('distribution = "loguniform" needs low > 0')
            if self.distribution == "integers" and not (float(self.low).is_integer()
                                                        and float(self.high).is_integer()):
                raise ValueError('distribution = "integers" needs whole low and high')
        return self


class ParameterSpec(_Table):
    """One ``[[parameters]]`` entry."""

    path: str
    values: Annotated[list[float], Field(min_length=1, max_length=MAX_POINTS)] | None = None
    grid: GridSpec | None = None
    random: RandomSpec | None = None
    operation: Literal["set", "multiply"] = "set"
    zip: str | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ParameterSpec:
        given = [k for k in ("values", "grid", "random") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of values, grid or random"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self


class OptionsSpec(_Table):
    """``[options]``: the certificate's tolerances (see :class:`emgame.Options`)."""

    atol: Annotated[float, Field(gt=0)] = 1e-8
    rtol: Annotated[float, Field(gt=0)] = 1e-8


class SweepSpec(_Table):
    """A whole sweep file."""

    name: str | None = None
    economy: str | dict[str, Any]
    concept: Literal["nash", "competitive", "both"] = "nash"
    combine: Literal["cross", "zip"] = "cross"
    seed: Annotated[int, Field(ge=0)] | None = None
    warm_start: bool = True
    chunk_size: Annotated[int, Field(ge=1)] | None = None
    # Every equilibrium at each point (emgame.equilibria.solve_all); None: not given, so that
    # files without these keys keep their sweep ids.
    all: bool | None = None
    starts: Annotated[int, Field(ge=1, le=MAX_STARTS)] | None = None
    all_seconds: Annotated[float, Field(gt=0)] | None = None
    options: OptionsSpec = OptionsSpec()
    parameters: Annotated[list[ParameterSpec], Field(min_length=1)]


def _format_loc(loc: Sequence[str | int]) -> str:
    return paths.format_keys([k for k in loc])


def _problem(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    loc = err["loc"]
    if kind == "extra_forbidden":
        model: Any = SweepSpec
        for k in loc[:-1]:
            if isinstance(k, int):
                continue
            ann = model.model_fields.get(k) if hasattr(model, "model_fields") else None
            sub = _submodel(ann.annotation) if ann is not None else None
            if sub is None:
                model = None
                break
            model = sub
        hint = ""
        if model is not None:
            close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required key is missing"
    inp = err.get("input")
    ctx = err.get("ctx") or {}
    expected = {"int_type": "an integer", "float_type": "a number", "string_type": "a string",
                "bool_type": "true or false", "list_type": "a list", "dict_type": "a table",
                "model_type": "a table", "int_from_float": "an integer"}
    if kind in expected:
        return f"expected {expected[kind]}, got {describe_value(inp)}"
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
              "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values())) if ctx else "?"
        return f"must be {bounds[kind]} {limit}, got {inp!r}"
    if kind == "too_short":
        what = " (a [[parameters]] table)" if loc[-1:] == ("parameters",) else ""
        return f"expected at least {ctx.get('min_length', 1)} entry{what}, got none"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', '')}, got {describe_value(inp)}".replace("'", '"')
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _submodel(annotation: Any) -> type[BaseModel] | None:
    for cand in (annotation, *getattr(annotation, "__args__", ())):
        inner = getattr(cand, "__args__", ())
        for c in (cand, *inner):
            if isinstance(c, type) and issubclass(c, BaseModel):
                return c
    return None


def _clean_loc(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    # Drop pydantic's union branch names (``economy.str``, ``seed.int``...).
    out = [k for k in loc if k not in ("str", "dict[str,any]", "int", "float",
                                       "list[float]", "function-after[_one_of(), GridSpec]")]
    return tuple(k for k in out if not (isinstance(k, str) and k.startswith("function-")))
