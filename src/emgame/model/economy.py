"""The economy: typed, validated, immutable data (docs/model.md, "The game", "The crypto layer",
"Economy files").

Indices: periods ``t = 1..T`` of electricity and the goods post ``t = 0``; arrays that cover every
post put goods first (``[post 0, post 1..T]``), arrays over electricity only have length ``T``.
States ``s = 1..S`` carry their own verification costs.

Agent types are stored column-wise (:class:`Population`): one array per parameter with the types on
the leading axis, so that the market and the solvers work on whole arrays and an economy of a
million types costs a million rows, not a million Python objects. :class:`ConsumerType` and
:class:`ProducerType` are the row view, for building economies by hand and for reports.

Validation of files and dictionaries lives in :mod:`emgame.model.schema`; the classes here check
only what the solvers rely on (shapes and the invariants that would make a wrong answer silent).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

Family = Literal["cobb_douglas", "crra", "ces", "quasilinear"]
Kind = Literal["ai", "classic"]
Settlement = Literal["simultaneous", "prepaid"]
Horizon = Literal["short-run", "long-run"]

FAMILIES: tuple[str, ...] = ("cobb_douglas", "crra", "ces", "quasilinear")
"""Utility families; a type's ``family`` code is its index here."""


class EconomyError(ValueError):
    """An economy that breaks the model's rules; the message names the offending key."""


# --------------------------------------------------------------------------------------------
# Row view: one agent type.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Utility:
    """A utility function (docs/model.md, "Agents").

    ``weights`` are ``a_1..a_T``; ``goods_weight`` is ``a_0`` (``classic`` kinds only).
    ``gamma`` is the CRRA curvature, ``r`` the CES exponent.
    """

    family: Family
    weights: tuple[float, ...]
    goods_weight: float = 0.0
    gamma: float | None = None
    r: float | None = None


@dataclass(frozen=True)
class ConsumerType:
    """``count`` identical consumers, each endowed with ``endowment`` units of goods (``ω_h``)."""

    name: str
    count: int
    endowment: float
    utility: Utility
    kind: Kind = "ai"
    wallet: float | Literal["stationary"] | None = None


@dataclass(frozen=True)
class ProducerType:
    """``count`` identical producers with technology ``q = θ φ^c`` and capacity ``K``.

    ``capacity`` is ``K̄`` in the short run, one number or ``T`` numbers ``K̄^t`` (capacity by
    period, docs/model.md, "Availability"); ``None`` in the long run, where ``K`` is chosen at a
    cost of ``capacity_cost`` (``ρ``) goods per unit and ``availability`` (``T`` numbers in
    ``[0, 1]``, default all 1) limits the offers to ``q^t ≤ s^t K``.
    """

    name: str
    count: int
    productivity: float
    returns: float
    utility: Utility
    kind: Kind = "ai"
    capacity: float | tuple[float, ...] | None = None
    capacity_cost: float | None = None
    wallet: float | Literal["stationary"] | None = None
    availability: tuple[float, ...] | None = None


@dataclass(frozen=True)
class StorageType:
    """``count`` identical storage operators, each owning a battery (docs/model.md, "Storage").

    ``energy_capacity`` is ``S > 0`` (units of electricity), ``power_capacity`` ``G > 0`` (per
    period, for charging and discharging alike), ``charge_efficiency`` ``η_c`` and
    ``discharge_efficiency`` ``η_d`` in ``(0, 1]``. The utility is a producer's: an operator
    consumes out of its net revenue like a producer of its kind.
    """

    name: str
    count: int
    energy_capacity: float
    power_capacity: float
    utility: Utility
    kind: Kind = "ai"
    charge_efficiency: float = 1.0
    discharge_efficiency: float = 1.0
    wallet: float | Literal["stationary"] | None = None


@dataclass(frozen=True)
class Units:
    """Names of the units of electricity and goods (``[units]``): labels for tables, figures
    and reports; nothing in the model depends on them (docs/model.md, "Units")."""

    electricity: str | None = None
    goods: str | None = None

    def price(self, nominal: bool = False) -> str | None:
        """The unit of a relative price (``"USD/MWh"``), or of a nominal one
        (``"bytecoins/MWh"``); ``None`` when the units are not named."""
        if self.electricity is None:
            return None
        top = "bytecoins" if nominal else self.goods
        return None if top is None else f"{top}/{self.electricity}"


# --------------------------------------------------------------------------------------------
# Column view: all types of one role.
# --------------------------------------------------------------------------------------------


def _column(values: Sequence[float] | np.ndarray, n: int, name: str) -> np.ndarray:
    a = np.ascontiguousarray(values, dtype=np.float64)
    if a.shape != (n,):
        raise EconomyError(f"{name}: expected {n} values, got shape {a.shape}")
    a.setflags(write=False)
    return a


def _constant(value: float, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only array of one value that takes no memory (zero strides): the neutral value of
    a column a role does not use, so that a million consumer types pay nothing for columns
    only producers or storage operators have."""
    return np.broadcast_to(np.float64(value), shape)


def _is_constant(a: np.ndarray) -> bool:
    return a.size > 0 and all(s == 0 for s in a.strides)


def _role_column(values: np.ndarray | Sequence[float] | None, shape: tuple[int, ...],
                 neutral: float, name: str) -> np.ndarray:
    """A column that only some roles use: its neutral value (no memory) when not given."""
    if values is None:
        return _constant(neutral, shape)
    a = np.asarray(values, dtype=np.float64)
    if _is_constant(a) and a.shape == shape:
        return a
    a = np.ascontiguousarray(a)
    if a.shape != shape:
        raise EconomyError(f"{name}: expected shape {shape}, got {a.shape}")
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Population:
    """Agent types of one role, column-wise: types on the leading axis.

    Parameters
    ----------
    names : tuple of str
        Unique type names.
    count : (n,) float
        Agents per type (whole numbers; float so that counts of 10⁸ and more stay exact).
    classic : (n,) bool
        ``True`` for ``classic`` kinds (goods valued), ``False`` for ``ai``.
    family : (n,) int8
        Index into :data:`FAMILIES`.
    weights : (n, T) float
        Electricity weights ``a_t``.
    goods_weight : (n,) float
        ``a_0``; zero for ``ai`` kinds.
    gamma, r : (n,) float
        CRRA curvature and CES exponent; NaN where the family has none.
    wallet : (n,) float
        Exogenous bytecoin wallet ``W_i``; NaN when stationary or under ``simultaneous`` settlement.
    endowment : (n,) float
        Goods endowment ``ω_h`` (consumers); zero for producers.
    productivity, returns, capacity, capacity_cost : (n,) float
        ``θ``, ``c``, ``K̄`` (NaN in the long run) and ``ρ`` (producers; NaN for consumers).
        With capacity by period, ``capacity`` is ``K̄ = max_t K̄^t`` and ``availability`` holds
        ``K̄^t / K̄`` (docs/model.md, "Availability").
    availability : (n, T) float
        ``s^t`` in ``[0, 1]``: the offer on post ``t`` is at most ``s^t K`` (producers); all
        ones by default, and for other roles a constant that takes no memory.
    energy_capacity, power_capacity, charge_efficiency, discharge_efficiency : (n,) float
        A storage operator's battery ``S``, ``G``, ``η_c``, ``η_d`` (NaN for other roles).
    """

    names: tuple[str, ...]
    count: np.ndarray
    classic: np.ndarray
    family: np.ndarray
    weights: np.ndarray
    goods_weight: np.ndarray
    gamma: np.ndarray
    r: np.ndarray
    wallet: np.ndarray
    endowment: np.ndarray
    productivity: np.ndarray
    returns: np.ndarray
    capacity: np.ndarray
    capacity_cost: np.ndarray
    availability: np.ndarray | None = None
    energy_capacity: np.ndarray | None = None
    power_capacity: np.ndarray | None = None
    charge_efficiency: np.ndarray | None = None
    discharge_efficiency: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.names)
        w = np.ascontiguousarray(self.weights, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != n:
            raise EconomyError(f"weights: expected shape ({n}, T), got {w.shape}")
        w.setflags(write=False)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "availability", _role_column(
            self.availability, w.shape, 1.0, "availability"))
        for col in _STORAGE_COLUMNS:
            object.__setattr__(self, col, _role_column(getattr(self, col), (n,), np.nan, col))
        for col in ("count", "goods_weight", "gamma", "r", "wallet", "endowment",
                    "productivity", "returns", "capacity", "capacity_cost"):
            object.__setattr__(self, col, _column(getattr(self, col), n, col))
        classic = np.ascontiguousarray(self.classic, dtype=bool)
        family = np.ascontiguousarray(self.family, dtype=np.int8)
        if classic.shape != (n,) or family.shape != (n,):
            raise EconomyError("classic and family need one entry per type")
        classic.setflags(write=False)
        family.setflags(write=False)
        object.__setattr__(self, "classic", classic)
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "names", tuple(self.names))

    def __len__(self) -> int:
        return len(self.names)

    @property
    def periods(self) -> int:
        return int(self.weights.shape[1])

    @property
    def agents(self) -> float:
        """Total number of agents of this role."""
        return float(self.count.sum())

    @property
    def varying_availability(self) -> np.ndarray:
        """``bool (n,)``: the types whose availability is not 1 in every period."""
        if _is_constant(self.availability):
            return np.full(len(self), bool(self.availability.flat[0] != 1.0)
                           if self.availability.size else False)
        return (self.availability != 1.0).any(axis=1)

    def period_capacity(self, capacity: np.ndarray | None = None) -> np.ndarray:
        """Per-period caps on the offers ``s^t K``, ``(n, T)``: of the capacities ``K`` given
        (the long run's chosen ones), else of ``K̄``."""
        K = self.capacity if capacity is None else np.asarray(capacity, dtype=np.float64)
        return K[:, None] * self.availability

    @classmethod
    def empty(cls, periods: int) -> Population:
        return cls.from_arrays(names=(), count=np.zeros(0), weights=np.zeros((0, periods)),
                               family=np.zeros(0, np.int8))

    @classmethod
    def from_arrays(cls, *, names: Sequence[str], count: np.ndarray, weights: np.ndarray,
                    family: np.ndarray | None = None, classic: np.ndarray | None = None,
                    **columns: np.ndarray) -> Population:
        """Build from arrays; missing columns take their neutral value (see the class notes)."""
        n = len(names)
        nan = np.full(n, np.nan)
        zeros = np.zeros(n)
        return cls(
            names=tuple(names), count=count, weights=weights,
            family=np.zeros(n, np.int8) if family is None else family,
            classic=np.zeros(n, bool) if classic is None else classic,
            goods_weight=columns.pop("goods_weight", zeros),
            gamma=columns.pop("gamma", nan), r=columns.pop("r", nan),
            wallet=columns.pop("wallet", nan), endowment=columns.pop("endowment", zeros),
            productivity=columns.pop("productivity", nan), returns=columns.pop("returns", nan),
            capacity=columns.pop("capacity", nan), capacity_cost=columns.pop("capacity_cost", nan),
            **columns,  # availability and the storage columns: neutral unless given
        )

    @classmethod
    def from_types(cls, types: Sequence[ConsumerType] | Sequence[ProducerType]
                   | Sequence[StorageType], periods: int) -> Population:
        """Stack row records (of one role, not mixed) into columns."""
        if not types:
            return cls.empty(periods)
        rows = list(types)

        def col(f) -> np.ndarray:  # noqa: ANN001
            return np.array([f(t) for t in rows], dtype=np.float64)

        def opt(v: float | None) -> float:
            return np.nan if v is None else float(v)

        def wallet(t: ConsumerType | ProducerType | StorageType) -> float:
            return np.nan if t.wallet is None or t.wallet == "stationary" else float(t.wallet)

        columns: dict[str, np.ndarray] = dict(
            goods_weight=col(lambda t: t.utility.goods_weight),
            gamma=col(lambda t: opt(t.utility.gamma)), r=col(lambda t: opt(t.utility.r)),
            wallet=col(wallet),
        )
        if isinstance(rows[0], ProducerType):
            K, s = zip(*(split_capacity(t.capacity, t.availability, periods) for t in rows),
                       strict=True)
            columns.update(
                productivity=col(lambda t: t.productivity), returns=col(lambda t: t.returns),
                capacity=np.array(K, dtype=np.float64),
                capacity_cost=col(lambda t: opt(t.capacity_cost)),
            )
            if any(a is not None for a in s):
                columns["availability"] = np.array(
                    [np.ones(periods) if a is None else a for a in s], dtype=np.float64)
        elif isinstance(rows[0], StorageType):
            columns.update(
                energy_capacity=col(lambda t: t.energy_capacity),
                power_capacity=col(lambda t: t.power_capacity),
                charge_efficiency=col(lambda t: t.charge_efficiency),
                discharge_efficiency=col(lambda t: t.discharge_efficiency),
            )
        else:
            columns.update(endowment=col(lambda t: t.endowment))
        return cls.from_arrays(
            names=[t.name for t in rows], count=col(lambda t: t.count),
            weights=np.array([t.utility.weights for t in rows], dtype=np.float64).reshape(
                len(rows), periods),
            family=np.array([FAMILIES.index(t.utility.family) for t in rows], dtype=np.int8),
            classic=np.array([t.kind == "classic" for t in rows], dtype=bool),
            **columns,
        )

    def utility(self, i: int) -> Utility:
        fam = FAMILIES[int(self.family[i])]
        return Utility(
            family=fam,  # type: ignore[arg-type]
            weights=tuple(float(a) for a in self.weights[i]),
            goods_weight=float(self.goods_weight[i]),
            gamma=None if np.isnan(self.gamma[i]) else float(self.gamma[i]),
            r=None if np.isnan(self.r[i]) else float(self.r[i]),
        )

    def kind(self, i: int) -> Kind:
        return "classic" if self.classic[i] else "ai"

    def select(self, index: np.ndarray | slice | Sequence[int]) -> Population:
        """The sub-population of the given rows (same columns)."""
        idx = np.arange(len(self))[index]
        extra = {}
        for c in ("availability", *_STORAGE_COLUMNS):
            a = getattr(self, c)
            # Columns a role does not use stay constants that take no memory.
            extra[c] = (_constant(float(a.flat[0]), (len(idx), *a.shape[1:]))
                        if _is_constant(a) else a[idx])
        return Population(
            names=tuple(self.names[i] for i in idx),
            **{c: getattr(self, c)[idx] for c in _COLUMNS}, **extra,
        )


_COLUMNS = ("count", "classic", "family", "weights", "goods_weight", "gamma", "r", "wallet",
            "endowment", "productivity", "returns", "capacity", "capacity_cost")
"""The columns every role has (availability and the storage columns are kept apart: they are
constants taking no memory for the roles that do not use them)."""

_STORAGE_COLUMNS = ("energy_capacity", "power_capacity", "charge_efficiency",
                    "discharge_efficiency")


def split_capacity(capacity: float | Sequence[float] | None,
                   availability: Sequence[float] | None, periods: int
                   ) -> tuple[float, np.ndarray | None]:
    """``(K̄, s)`` of a producer: capacity by period ``K̄^t`` is stored as its maximum
    ``K̄ = max_t K̄^t`` and the availability ``s^t = K̄^t / K̄`` (all zero: ``K̄ = 0`` and
    ``s = 0``, a type that never supplies); a number is ``K̄`` with ``s`` all ones (``None``);
    in the long run (``capacity`` is ``None``) ``K̄`` is NaN and ``s`` the given availability.
    """
    if capacity is None:
        return np.nan, None if availability is None else np.asarray(availability, np.float64)
    if np.ndim(capacity) == 0:
        return float(capacity), None if availability is None else np.asarray(availability,
                                                                              np.float64)
    k = np.asarray(capacity, dtype=np.float64)
    if k.shape != (periods,):
        raise EconomyError(f"capacity: expected one number or {periods} (one per period)")
    top = float(k.max(initial=0.0))
    return top, (k / top if top > 0 else np.zeros(periods))


def join_capacity(capacity: float, availability: np.ndarray) -> float | tuple[float, ...]:
    """The inverse of :func:`split_capacity` in the short run: ``K̄`` when available in every
    period, else ``K̄^t = s^t K̄`` by period."""
    a = np.asarray(availability, dtype=np.float64)
    if np.all(a == 1.0):
        return float(capacity)
    return tuple(float(v) for v in a * capacity)


# --------------------------------------------------------------------------------------------
# Market rules and states.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    """Settlement, horizon and the period in which goods payments are verified (``t0``)."""

    settlement: Settlement = "simultaneous"
    horizon: Horizon = "short-run"
    goods_settlement_period: int = 1
    discount: float = 1.0

    @property
    def prepaid(self) -> bool:
        return self.settlement == "prepaid"

    @property
    def long_run(self) -> bool:
        return self.horizon == "long-run"


@dataclass(frozen=True)
class State:
    """A state of nature and its verification costs (docs/model.md, "The crypto layer").

    ``fixed`` has ``T + 1`` entries, ``[v^0, v^1..v^T]``: the electricity burnt to verify one
    payment on each post (post 0's in period ``t0``). ``share`` is ``κ``.
    """

    probability: float = 1.0
    fixed: tuple[float, ...] = ()
    share: float = 0.0


@dataclass(frozen=True, eq=False)
class Economy:
    """An economy of the electricity market game (docs/model.md, "The game" and "The crypto
    layer").

    Build one from a file with :func:`emgame.load_economy`, or in Python with
    :meth:`Economy.build` from :class:`ConsumerType` and :class:`ProducerType` records (checked
    by the same rules as files).
    """

    name: str
    periods: int
    consumers: Population
    producers: Population
    market: Market = field(default_factory=Market)
    states: tuple[State, ...] = ()
    period_labels: tuple[str, ...] | None = None
    source: str | None = None  # the file it came from, for messages
    storage: Population | None = None
    units: Units | None = None

    def __post_init__(self) -> None:
        T = self.periods
        if T < 1:
            raise EconomyError("periods: must be at least 1")
        if self.storage is None:
            object.__setattr__(self, "storage", Population.empty(T))
        if self.units is None:
            object.__setattr__(self, "units", Units())
        for role, pop in self.roles:
            if pop.periods != T:
                raise EconomyError(f"{role}: weights must have {T} entries (one per period)")
        if not self.states:
            object.__setattr__(self, "states", (State(1.0, (0.0,) * (T + 1), 0.0),))
        for k, s in enumerate(self.states):
            if len(s.fixed) != T + 1:
                raise EconomyError(
                    f"states[{k}].fixed: expected {T + 1} entries (post 0, then 1..T)")
        names = [n for _, pop in self.roles for n in pop.names]
        if len(set(names)) != len(names):
            dup = sorted(n for n, k in Counter(names).items() if k > 1)
            raise EconomyError(f"type names must be unique across all roles: {dup}")
        if not 1 <= self.market.goods_settlement_period <= T:
            raise EconomyError(f"market.goods_settlement_period: must be in 1..{T}")

    @property
    def roles(self) -> tuple[tuple[str, Population], ...]:
        """``(("consumers", ...), ("producers", ...), ("storage", ...))``."""
        assert self.storage is not None
        return (("consumers", self.consumers), ("producers", self.producers),
                ("storage", self.storage))

    @classmethod
    def build(cls, *, name: str, periods: int, consumers: Sequence[ConsumerType] = (),
              producers: Sequence[ProducerType] = (), market: Market | None = None,
              states: Sequence[State] = (), verification: tuple[float | Sequence[float], float]
              | None = None, period_labels: Sequence[str] | None = None,
              storage: Sequence[StorageType] = (), units: Units | None = None) -> Economy:
        """Build an economy from row records, checked by the rules of economy files.

        ``verification=(fixed, share)`` is a shortcut for one state; ``fixed`` is a number or a
        list of ``T + 1`` numbers.

        Raises
        ------
        emgame.EconomyFileError
            When the records break a rule of docs/model.md, "Economy files" (negative
            endowments, ``count = 0``, a short-run producer without capacity, an unknown utility
            family, weights of the wrong length, ...), with the message a file would get; the
            key paths are those of the file the economy would be (``consumers[0].endowment``),
            the source ``<Economy.build>``.
        """
        from emgame.model.files import records_dict
        from emgame.model.schema import parse_economy_file

        if verification is not None:
            if states:
                raise EconomyError("give either verification or states, not both")
            fixed, share = verification
            fx = ((fixed,) * (periods + 1) if np.isscalar(fixed)
                  else tuple(fixed))  # type: ignore[arg-type]
            states = (State(1.0, fx, share),)  # type: ignore[arg-type]
        parse_economy_file(records_dict(
            name=name, periods=periods, consumers=consumers, producers=producers, market=market,
            states=states, period_labels=period_labels, storage=storage, units=units),
            "<Economy.build>")
        return cls.from_records(name=name, periods=periods, consumers=consumers,
                                producers=producers, market=market, states=states,
                                period_labels=period_labels, storage=storage, units=units)

    @classmethod
    def from_records(cls, *, name: str, periods: int, consumers: Sequence[ConsumerType] = (),
                     producers: Sequence[ProducerType] = (), market: Market | None = None,
                     states: Sequence[State] = (), period_labels: Sequence[str] | None = None,
                     storage: Sequence[StorageType] = (), units: Units | None = None
                     ) -> Economy:
        """Stack already-checked row records into an economy (no rule is checked here: use
        :meth:`build`)."""
        states = tuple(State(float(s.probability), tuple(float(v) for v in s.fixed),
                             float(s.share)) for s in states)
        return cls(
            name=name, periods=periods,
            consumers=Population.from_types(list(consumers), periods),
            producers=Population.from_types(list(producers), periods),
            market=market or Market(), states=states,
            period_labels=None if period_labels is None else tuple(period_labels),
            storage=Population.from_types(list(storage), periods), units=units,
        )

    # Derived quantities used throughout.
    @property
    def S(self) -> int:
        return len(self.states)

    @property
    def probabilities(self) -> np.ndarray:
        return np.array([s.probability for s in self.states])

    @property
    def fixed_costs(self) -> np.ndarray:
        """``v[s, t]``, shape ``(S, T + 1)``, goods post first."""
        return np.array([s.fixed for s in self.states], dtype=np.float64).reshape(self.S,
                                                                                   self.periods + 1)

    @property
    def shares(self) -> np.ndarray:
        """``κ[s]``, shape ``(S,)``."""
        return np.array([s.share for s in self.states], dtype=np.float64)

    @cached_property
    def goods_supply(self) -> float:
        """``Ω = Σ_h n_h ω_h``."""
        return float(np.dot(self.consumers.count, self.consumers.endowment))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.period_labels or tuple(str(t) for t in range(1, self.periods + 1))

    @property
    def valued_periods(self) -> np.ndarray:
        """``bool (T,)``: the periods some agent values and someone can supply (the only
        electricity posts that trade in an active equilibrium; docs/model.md,
        "Availability")."""
        valued = np.zeros(self.periods, dtype=bool)
        for _, pop in self.roles:
            if len(pop):
                valued |= (pop.weights > 0).any(axis=0)
        return valued & self.supplied_periods

    @property
    def has_storage(self) -> bool:
        assert self.storage is not None
        return len(self.storage) > 0

    @property
    def producible_periods(self) -> np.ndarray:
        """``bool (T,)``: the periods in which some producer can produce (``s^t K̄ > 0`` in the
        short run, ``s^t > 0`` in the long run, where ``K`` is chosen)."""
        p = self.producers
        if not len(p):
            return np.zeros(self.periods, dtype=bool)
        if self.market.long_run:
            return (p.availability > 0).any(axis=0)
        return (p.period_capacity() > 0).any(axis=0)

    @property
    def supplied_periods(self) -> np.ndarray:
        """``bool (T,)``: the periods in which electricity can be offered at all: produced, or
        discharged by a storage operator charged in some period with production
        (docs/model.md, "Availability")."""
        made = self.producible_periods
        if self.has_storage and made.any():
            return np.ones(self.periods, dtype=bool)
        return made

    @property
    def costly_verification(self) -> bool:
        return bool(np.any(self.fixed_costs > 0) or np.any(self.shares > 0))

    def consumer(self, i: int) -> ConsumerType:
        c = self.consumers
        return ConsumerType(
            name=c.names[i], count=int(c.count[i]), endowment=float(c.endowment[i]),
            utility=c.utility(i), kind=c.kind(i), wallet=self._wallet(c, i),
        )

    def producer(self, j: int) -> ProducerType:
        p = self.producers
        varying = bool(p.varying_availability[j])
        long_run = np.isnan(p.capacity[j])
        return ProducerType(
            name=p.names[j], count=int(p.count[j]), productivity=float(p.productivity[j]),
            returns=float(p.returns[j]), utility=p.utility(j), kind=p.kind(j),
            capacity=None if long_run else join_capacity(p.capacity[j], p.availability[j]),
            capacity_cost=None if np.isnan(p.capacity_cost[j]) else float(p.capacity_cost[j]),
            wallet=self._wallet(p, j),
            availability=tuple(float(v) for v in p.availability[j]) if long_run and varying
            else None,
        )

    def storage_type(self, k: int) -> StorageType:
        st = self.storage
        assert st is not None
        return StorageType(
            name=st.names[k], count=int(st.count[k]),
            energy_capacity=float(st.energy_capacity[k]),
            power_capacity=float(st.power_capacity[k]), utility=st.utility(k), kind=st.kind(k),
            charge_efficiency=float(st.charge_efficiency[k]),
            discharge_efficiency=float(st.discharge_efficiency[k]), wallet=self._wallet(st, k),
        )

    def _wallet(self, pop: Population, i: int) -> float | Literal["stationary"] | None:
        if not self.market.prepaid:
            return None
        return "stationary" if np.isnan(pop.wallet[i]) else float(pop.wallet[i])

    @property
    def stationary_wallets(self) -> bool:
        """Prepaid with wallets equal to revenue (or simultaneous: income is this round's
        revenue)."""
        return not self.market.prepaid or all(
            bool(np.all(np.isnan(pop.wallet))) for _, pop in self.roles)

    def validate(self) -> Economy:
        """Check this economy by the rules of economy files (docs/model.md, "Economy files");
        return it.

        The same rules as :func:`emgame.model.schema.load_economy` (one set, not two); raises
        :class:`emgame.model.schema.EconomyFileError` naming the key.
        """
        from emgame.model.files import validate_economy

        return validate_economy(self)

    def replace(self, **changes) -> Economy:  # noqa: ANN003
        """A copy with some fields replaced (as :func:`dataclasses.replace`)."""
        from dataclasses import replace

        return replace(self, **changes)


def as_economy(economy: Economy | str | os.PathLike[str]) -> Economy:
    """``economy`` itself, or the economy in the file it names (:func:`emgame.load_economy`).

    Raises
    ------
    TypeError
        For anything else, saying what is expected.
    """
    if isinstance(economy, Economy):
        return economy
    if isinstance(economy, str | os.PathLike):
        from emgame.model.files import load_economy

        return load_economy(economy)
    raise TypeError(f"expected an Economy (or the path of an economy file), not "
                    f"{type(economy).__name__}: build one with emgame.load_economy(path) or "
                    "Economy.build(...)")
