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

    ``capacity`` is ``K̄`` in the short run (``None`` in the long run, where ``K`` is chosen at a
    cost of ``capacity_cost`` (``ρ``) goods per unit).
    """

    name: str
    count: int
    productivity: float
    returns: float
    utility: Utility
    kind: Kind = "ai"
    capacity: float | None = None
    capacity_cost: float | None = None
    wallet: float | Literal["stationary"] | None = None


# --------------------------------------------------------------------------------------------
# Column view: all types of one role.
# --------------------------------------------------------------------------------------------


def _column(values: Sequence[float] | np.ndarray, n: int, name: str) -> np.ndarray:
    a = np.ascontiguousarray(values, dtype=np.float64)
    if a.shape != (n,):
        raise EconomyError(f"{name}: expected {n} values, got shape {a.shape}")
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

    def __post_init__(self) -> None:
        n = len(self.names)
        w = np.ascontiguousarray(self.weights, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != n:
            raise EconomyError(f"weights: expected shape ({n}, T), got {w.shape}")
        w.setflags(write=False)
        object.__setattr__(self, "weights", w)
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
            **columns,
        )

    @classmethod
    def from_types(cls, types: Sequence[ConsumerType] | Sequence[ProducerType],
                   periods: int) -> Population:
        """Stack row records (consumers or producers, not mixed) into columns."""
        if not types:
            return cls.empty(periods)
        rows = list(types)

        def col(f) -> np.ndarray:  # noqa: ANN001
            return np.array([f(t) for t in rows], dtype=np.float64)

        def opt(v: float | None) -> float:
            return np.nan if v is None else float(v)

        def wallet(t: ConsumerType | ProducerType) -> float:
            return np.nan if t.wallet is None or t.wallet == "stationary" else float(t.wallet)

        producer = isinstance(rows[0], ProducerType)
        columns = dict(
            goods_weight=col(lambda t: t.utility.goods_weight),
            gamma=col(lambda t: opt(t.utility.gamma)), r=col(lambda t: opt(t.utility.r)),
            wallet=col(wallet),
        )
        if producer:
            columns.update(
                productivity=col(lambda t: t.productivity), returns=col(lambda t: t.returns),
                capacity=col(lambda t: opt(t.capacity)),
                capacity_cost=col(lambda t: opt(t.capacity_cost)),
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
        return Population(
            names=tuple(self.names[i] for i in idx),
            **{c: getattr(self, c)[idx] for c in _COLUMNS},
        )


_COLUMNS = ("count", "classic", "family", "weights", "goods_weight", "gamma", "r", "wallet",
            "endowment", "productivity", "returns", "capacity", "capacity_cost")


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

    def __post_init__(self) -> None:
        T = self.periods
        if T < 1:
            raise EconomyError("periods: must be at least 1")
        for role, pop in (("consumers", self.consumers), ("producers", self.producers)):
            if pop.periods != T:
                raise EconomyError(f"{role}: weights must have {T} entries (one per period)")
        if not self.states:
            object.__setattr__(self, "states", (State(1.0, (0.0,) * (T + 1), 0.0),))
        for k, s in enumerate(self.states):
            if len(s.fixed) != T + 1:
                raise EconomyError(
                    f"states[{k}].fixed: expected {T + 1} entries (post 0, then 1..T)")
        names = list(self.consumers.names) + list(self.producers.names)
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise EconomyError(f"type names must be unique across consumers and producers: {dup}")
        if not 1 <= self.market.goods_settlement_period <= T:
            raise EconomyError(f"market.goods_settlement_period: must be in 1..{T}")

    @classmethod
    def build(cls, *, name: str, periods: int, consumers: Sequence[ConsumerType] = (),
              producers: Sequence[ProducerType] = (), market: Market | None = None,
              states: Sequence[State] = (), verification: tuple[float | Sequence[float], float]
              | None = None, period_labels: Sequence[str] | None = None) -> Economy:
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
            states=states, period_labels=period_labels), "<Economy.build>")
        return cls.from_records(name=name, periods=periods, consumers=consumers,
                                producers=producers, market=market, states=states,
                                period_labels=period_labels)

    @classmethod
    def from_records(cls, *, name: str, periods: int, consumers: Sequence[ConsumerType] = (),
                     producers: Sequence[ProducerType] = (), market: Market | None = None,
                     states: Sequence[State] = (), period_labels: Sequence[str] | None = None
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
        """``bool (T,)``: the periods some agent values (the only electricity posts that trade)."""
        valued = np.zeros(self.periods, dtype=bool)
        for pop in (self.consumers, self.producers):
            if len(pop):
                valued |= (pop.weights > 0).any(axis=0)
        return valued

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
        return ProducerType(
            name=p.names[j], count=int(p.count[j]), productivity=float(p.productivity[j]),
            returns=float(p.returns[j]), utility=p.utility(j), kind=p.kind(j),
            capacity=None if np.isnan(p.capacity[j]) else float(p.capacity[j]),
            capacity_cost=None if np.isnan(p.capacity_cost[j]) else float(p.capacity_cost[j]),
            wallet=self._wallet(p, j),
        )

    def _wallet(self, pop: Population, i: int) -> float | Literal["stationary"] | None:
        if not self.market.prepaid:
            return None
        return "stationary" if np.isnan(pop.wallet[i]) else float(pop.wallet[i])

    @property
    def stationary_wallets(self) -> bool:
        """Prepaid with wallets equal to revenue (or simultaneous: income is this round's
        revenue)."""
        return not self.market.prepaid or bool(
            np.all(np.isnan(self.consumers.wallet)) and np.all(np.isnan(self.producers.wallet)))

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
