"""The game against its competitive benchmark (docs/model.md, "Welfare").

:func:`compare` reads two :class:`~emgame.results.Solution` objects of the same economy (the Nash
equilibrium and the competitive benchmark) and reports, without solving anything:

Prices
    Relative prices ``p^t/p^0`` side by side, their gap (Nash minus competitive) and ratio. Bids
    are in bytecoins, a unit of account, so only relative prices mean the same in both.
Producers
    Markups ``(p^t/p^0)/MC_j^t`` with ``MC_j^t = φ_j'(q_j^t)``, Lerner indices
    ``(p^t/p^0 - MC)/(p^t/p^0)`` and capacity withheld ``K - q``, under both concepts; the
    markup's two causes (market power and scarcity at binding capacity,
    :meth:`Solution.markup_parts <emgame.results.Solution.markup_parts>`); profits
    ``π_j = Σ_t (p^t/p^0) q_j^t − Σ_t φ_j(q_j^t) − ρK_j`` in goods.
Welfare, per type (one agent)
    * ``utility``: Nash and competitive utility and their difference;
    * ``consumption_equivalent``: for homothetic families, the factor ``λ`` by which the type's
      whole competitive consumption bundle (electricity consumed in every state and period,
      net of verification, and goods for ``classic`` kinds) must be scaled to give its Nash
      utility, ``Eu(λ c_C) = U_N``. ``λ < 1``: the agent is worse off in the game. Closed forms:
      Cobb–Douglas ``λ = exp((U_N - U_C)/A)`` with ``A`` the sum of the weights of the goods
      it values (``Eu(λc) = Eu(c) + A log λ``); CRRA ``λ = (U_N/U_C)^{1/(1-γ)}`` (``u`` is
      homogeneous of degree ``1-γ``); CES ``λ = U_N/U_C`` (degree one). Undefined (NaN, with
      the reason in ``notes``) for ``quasilinear`` (not homothetic), where either utility
      is not finite (e.g. an ``ai`` producer that earns nothing in the benchmark consumes
      nothing, utility ``-inf``), where the type values nothing, and where the ratio that
      must be a positive power is not positive.
    * ``equivalent_variation``: the goods (``p^0 = 1``) that, given to the agent at the
      competitive prices, would change its utility from ``U_C`` to ``U_N``, i.e.
      ``e(p_C, U_N) - e(p_C, U_C)``. For homothetic utilities the expenditure function is
      linear in the scaling, so it is ``(λ - 1) m_C`` with ``m_C = (Σ_t p_C^t x_C^t +
      p_C^0 x_C^0)/p_C^0`` the value of the competitive bundle (electricity *received*, goods
      consumed); for ``quasilinear`` with goods consumed in both it is ``(U_N - U_C)/a_0``.
      Exact when verification has no fixed part (a proportional share ``κ`` only rescales
      what is received into what is consumed, so scaling one scales the other); with a fixed
      cost ``v > 0`` the budget set in consumption is not a cone and it is NaN.
Welfare, aggregate (goods at the competitive prices, ``p^0 = 1``)
    * ``consumer_surplus``: the change in consumers' welfare, ``ΔCS = Σ_h n_h EV_h``, and
      ``producer_surplus``: ``ΔPS = Σ_j n_j EV_j`` (money-metric: with AI agents who do not
      value goods, and Cobb–Douglas demand, the Marshallian triangles are not defined);
    * ``deadweight_loss``: ``DWL = −(ΔCS + ΔPS) = −Σ_i n_i EV_i``, the goods the economy as a
      whole loses to market power (reported only when every type has an EV);
    * ``profit``: ``Σ_j n_j π_j`` under both, and the change (the producers' gain in income
      at each concept's own prices);
    * ``equivalent_variation``: ``Σ_i n_i EV_i`` over the types that have one, and
      ``relative``: that over ``Σ_i n_i m_C,i``, the value of all competitive consumption;
    * ``utilitarian``: ``Σ_i n_i (U_N - U_C)``. It depends on the utilities' cardinal scale,
      so it is reported for completeness, not as the headline;
    * ``production``: electricity produced per period under both, and its ratio (Nash
      withholding, the real side of the markup).

Every per-type quantity is computed on whole arrays (linear in the number of types); notes that
concern many types name the first few and count the rest. Numbers that do not exist (a failed
solve without a candidate, a post that does not trade, a utility of ``-inf``) are NaN in the
arrays and ``None`` in :meth:`Comparison.to_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emgame.model.economy import FAMILIES, Economy, Population
from emgame.results import Solution, Status, json_list, json_number

_CD, _CRRA, _CES, _QL = (FAMILIES.index(f) for f in FAMILIES)
HOMOTHETIC: tuple[str, ...] = ("cobb_douglas", "crra", "ces")
NAMED = 5
"""A note about many types names this many and counts the rest."""


@dataclass(frozen=True, eq=False)
class Comparison:
    """Nash beside competitive for one economy (see the module notes).

    Arrays: over periods ``(T,)``; per producer type ``(np, T)``; per type ``(nc,)`` and
    ``(np,)``. NaN where a number does not exist.
    """

    economy: Economy
    both_equilibria: bool
    relative_prices_nash: np.ndarray
    relative_prices_competitive: np.ndarray
    markups_nash: np.ndarray
    markups_competitive: np.ndarray
    lerner_nash: np.ndarray
    lerner_competitive: np.ndarray
    capacity_withheld_nash: np.ndarray
    capacity_withheld_competitive: np.ndarray
    production_nash: np.ndarray
    production_competitive: np.ndarray
    consumer_utility_nash: np.ndarray
    consumer_utility_competitive: np.ndarray
    producer_utility_nash: np.ndarray
    producer_utility_competitive: np.ndarray
    consumer_ce: np.ndarray
    producer_ce: np.ndarray
    consumer_ev: np.ndarray
    producer_ev: np.ndarray
    consumer_income: np.ndarray      # m_C: value of the competitive bundle, goods
    producer_income: np.ndarray
    profit_nash: np.ndarray | None = None          # π_j, goods, (np,)
    profit_competitive: np.ndarray | None = None
    market_power_nash: np.ndarray | None = None    # (np, T)
    market_power_competitive: np.ndarray | None = None
    scarcity_nash: np.ndarray | None = None        # (np, T)
    scarcity_competitive: np.ndarray | None = None
    notes: tuple[str, ...] = ()

    # Derived --------------------------------------------------------------------------------
    @property
    def price_gap(self) -> np.ndarray:
        """Nash minus competitive relative prices, ``(T,)``."""
        with np.errstate(invalid="ignore"):
            return self.relative_prices_nash - self.relative_prices_competitive

    @property
    def price_ratio(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.relative_prices_nash / self.relative_prices_competitive

    @property
    def consumer_utility_difference(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.consumer_utility_nash - self.consumer_utility_competitive

    @property
    def producer_utility_difference(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.producer_utility_nash - self.producer_utility_competitive

    @property
    def utilitarian(self) -> float:
        """``Σ_i n_i (U_N - U_C)`` over all types (NaN if some difference does not exist)."""
        e = self.economy
        with np.errstate(invalid="ignore"):
            return float(e.consumers.count @ self.consumer_utility_difference
                         + e.producers.count @ self.producer_utility_difference)

    def _ev_parts(self) -> tuple[float, float, bool]:
        e = self.economy
        ev = np.concatenate([self.consumer_ev, self.producer_ev])
        m = np.concatenate([self.consumer_income, self.producer_income])
        n = np.concatenate([e.consumers.count, e.producers.count])
        ok = np.isfinite(ev) & np.isfinite(m)
        return float(n[ok] @ ev[ok]), float(n[ok] @ m[ok]), bool(ok.all()) and ok.size > 0

    @staticmethod
    def _total(count: np.ndarray, ev: np.ndarray) -> tuple[float, bool]:
        ok = np.isfinite(ev)
        return float(count[ok] @ ev[ok]), bool(ok.all())

    @property
    def equivalent_variation(self) -> float:
        """``Σ_i n_i EV_i`` over the types that have one (goods, ``p^0 = 1``)."""
        return self._ev_parts()[0]

    @property
    def equivalent_variation_relative(self) -> float:
        """Aggregate EV over the value of the competitive consumption of the same types."""
        ev, m, _ = self._ev_parts()
        return ev / m if m > 0 else float("nan")

    @property
    def consumer_surplus_change(self) -> float:
        """``ΔCS = Σ_h n_h EV_h`` (goods at competitive prices); NaN unless every consumer
        type has an EV."""
        total, complete = self._total(self.economy.consumers.count, self.consumer_ev)
        return total if complete else float("nan")

    @property
    def producer_surplus_change(self) -> float:
        """``ΔPS = Σ_j n_j EV_j`` (goods at competitive prices); NaN unless every producer
        type has an EV."""
        total, complete = self._total(self.economy.producers.count, self.producer_ev)
        return total if complete else float("nan")

    @property
    def deadweight_loss(self) -> float:
        """``DWL = −(ΔCS + ΔPS)``: goods lost to market power; NaN unless every type has an
        EV."""
        return -(self.consumer_surplus_change + self.producer_surplus_change)

    def profit_total(self, concept: str) -> float:
        """``Σ_j n_j π_j`` under ``concept`` (goods at that concept's prices)."""
        p = self.profit_nash if concept == "nash" else self.profit_competitive
        if p is None or not len(p):
            return float("nan") if p is None else 0.0
        return float(self.economy.producers.count @ p)

    @property
    def production_ratio(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.production_nash / self.production_competitive

    # JSON -----------------------------------------------------------------------------------
    def welfare_dict(self) -> dict[str, Any]:
        """The aggregate welfare measures (JSON-ready)."""
        ev, m, complete = self._ev_parts()
        any_ev = bool(np.isfinite(np.concatenate([self.consumer_ev, self.producer_ev])).any())
        pn, pc = self.profit_total("nash"), self.profit_total("competitive")
        return {
            "equivalent_variation": json_number(ev) if any_ev else None,
            "equivalent_variation_relative": json_number(ev / m) if any_ev and m > 0 else None,
            "equivalent_variation_complete": complete,
            "consumer_surplus": json_number(self.consumer_surplus_change),
            "producer_surplus": json_number(self.producer_surplus_change),
            "deadweight_loss": json_number(self.deadweight_loss),
            "profit": {"nash": json_number(pn), "competitive": json_number(pc),
                       "change": json_number(pn - pc)},
            "utilitarian": json_number(self.utilitarian),
            "production": {"nash": json_list(self.production_nash),
                           "competitive": json_list(self.production_competitive),
                           "ratio": json_list(self.production_ratio)},
        }

    def to_dict(self, *, types: bool = True) -> dict[str, Any]:
        """The comparison as JSON-ready data; ``types=False`` leaves out the per-type utility
        rows (for economies with very many types)."""
        e = self.economy

        def rows(pop: Population, un: np.ndarray, uc: np.ndarray, ce: np.ndarray,
                 ev: np.ndarray, m: np.ndarray) -> list[dict[str, Any]]:
            with np.errstate(invalid="ignore"):
                d = un - uc
            cols = [json_list(a) for a in (un, uc, d, ce, ev, m)]
            keys = ("nash", "competitive", "difference", "consumption_equivalent",
                    "equivalent_variation", "competitive_income")
            return [{"name": name, **dict(zip(keys, vals, strict=True))}
                    for name, *vals in zip(pop.names, *cols, strict=True)]

        def pair(a: np.ndarray | None, b: np.ndarray | None, j: int) -> dict[str, Any]:
            return {"nash": None if a is None else json_list(a[j]),
                    "competitive": None if b is None else json_list(b[j])}

        producers = []
        for j in range(len(e.producers)):
            producers.append({
                "name": e.producers.names[j],
                "markups": pair(self.markups_nash, self.markups_competitive, j),
                "market_power_markup": pair(self.market_power_nash,
                                            self.market_power_competitive, j),
                "scarcity_markup": pair(self.scarcity_nash, self.scarcity_competitive, j),
                "lerner": pair(self.lerner_nash, self.lerner_competitive, j),
                "capacity_withheld": pair(self.capacity_withheld_nash,
                                          self.capacity_withheld_competitive, j),
                "profit": {"nash": None if self.profit_nash is None
                           else json_number(self.profit_nash[j]),
                           "competitive": None if self.profit_competitive is None
                           else json_number(self.profit_competitive[j])},
            })
        d: dict[str, Any] = {
            "periods": list(e.labels),
            "both_equilibria": self.both_equilibria,
            "relative_prices": {
                "nash": json_list(self.relative_prices_nash),
                "competitive": json_list(self.relative_prices_competitive),
                "gap": json_list(self.price_gap),
                "ratio": json_list(self.price_ratio),
            },
        }
        if types:
            d["utility"] = {
                "consumers": rows(e.consumers, self.consumer_utility_nash,
                                  self.consumer_utility_competitive, self.consumer_ce,
                                  self.consumer_ev, self.consumer_income),
                "producers": rows(e.producers, self.producer_utility_nash,
                                  self.producer_utility_competitive, self.producer_ce,
                                  self.producer_ev, self.producer_income),
            }
        d["producers"] = producers
        d["welfare"] = self.welfare_dict()
        d["notes"] = list(self.notes)
        return d


# --------------------------------------------------------------------------------------------


def compare(nash: Solution, competitive: Solution) -> Comparison:
    """Compare the Nash equilibrium with the competitive benchmark of the same economy.

    Either side may be a failed solve; what it lacks is NaN (and ``both_equilibria`` is
    ``False``). Nothing is solved here.
    """
    econ = nash.economy
    T = econ.periods
    nc, npr = len(econ.consumers), len(econ.producers)
    notes: list[str] = []

    def has(s: Solution) -> bool:
        return s.outcome is not None and s.profile is not None

    def rel(s: Solution) -> np.ndarray:
        return (np.asarray(s.relative_prices, dtype=float) if has(s) else np.full(T, np.nan))

    def prod_arrays(s: Solution) -> tuple[np.ndarray, ...]:
        if not has(s):
            nan = np.full((npr, T), np.nan)
            return (nan, nan.copy(), nan.copy(), np.full(T, np.nan), np.full(npr, np.nan),
                    nan.copy(), nan.copy())
        assert s.profile is not None
        with np.errstate(invalid="ignore", divide="ignore"):
            _, power, scarcity = s.markup_parts() if npr else (None, np.zeros((0, T)),
                                                                np.zeros((0, T)))
            return (np.asarray(s.markups(), dtype=float), np.asarray(s.lerner(), dtype=float),
                    s.profile.capacity[:, None] - s.profile.offers,
                    econ.producers.count @ s.profile.offers,
                    s.profits() if npr else np.zeros(0), power, scarcity)

    def utils(s: Solution) -> tuple[np.ndarray, np.ndarray]:
        if s.outcome is None:
            return np.full(nc, np.nan), np.full(npr, np.nan)
        return (np.asarray(s.outcome.consumers.utility, dtype=float),
                np.asarray(s.outcome.producers.utility, dtype=float))

    mk_n, le_n, kw_n, q_n, pi_n, pw_n, sc_n = prod_arrays(nash)
    mk_c, le_c, kw_c, q_c, pi_c, pw_c, sc_c = prod_arrays(competitive)
    un_c, un_p = utils(nash)
    uc_c, uc_p = utils(competitive)
    ce_c, ev_c, m_c = _welfare(competitive, econ.consumers, un_c, uc_c, "consumers", notes)
    ce_p, ev_p, m_p = _welfare(competitive, econ.producers, un_p, uc_p, "producers", notes)
    return Comparison(
        economy=econ,
        both_equilibria=nash.status is Status.EQUILIBRIUM
        and competitive.status is Status.EQUILIBRIUM,
        relative_prices_nash=rel(nash), relative_prices_competitive=rel(competitive),
        markups_nash=mk_n, markups_competitive=mk_c, lerner_nash=le_n, lerner_competitive=le_c,
        capacity_withheld_nash=kw_n, capacity_withheld_competitive=kw_c,
        production_nash=q_n, production_competitive=q_c,
        consumer_utility_nash=un_c, consumer_utility_competitive=uc_c,
        producer_utility_nash=un_p, producer_utility_competitive=uc_p,
        consumer_ce=ce_c, producer_ce=ce_p, consumer_ev=ev_c, producer_ev=ev_p,
        consumer_income=m_c, producer_income=m_p, profit_nash=pi_n, profit_competitive=pi_c,
        market_power_nash=pw_n, market_power_competitive=pw_c, scarcity_nash=sc_n,
        scarcity_competitive=sc_c, notes=tuple(notes),
    )


def _named(pop: Population, mask: np.ndarray) -> str:
    """The types where ``mask`` holds, by name: the first :data:`NAMED`, then a count."""
    idx = np.flatnonzero(mask)
    names = ", ".join(f"'{pop.names[i]}'" for i in idx[:NAMED])
    more = f" and {idx.size - NAMED} more" if idx.size > NAMED else ""
    return names + more


def consumption_equivalent(pop: Population, U_nash: np.ndarray, U_comp: np.ndarray
                           ) -> tuple[np.ndarray, list[str]]:
    """The factor ``λ`` with ``Eu(λ c_C) = U_N`` for each type (NaN where it does not exist),
    and why it is missing where it is: one note per reason, naming the types. See the module
    notes for the closed forms. Vectorised over types."""
    n = len(pop)
    un = np.asarray(U_nash, dtype=float)
    uc = np.asarray(U_comp, dtype=float)
    fam = np.asarray(pop.family)
    a_sum = pop.weights.sum(axis=1) + np.where(pop.classic, pop.goods_weight, 0.0)
    out = np.full(n, np.nan)
    why: list[str] = []
    homothetic = fam != _QL
    for code in np.unique(fam[~homothetic]):
        mask = fam == code
        why.append(f"{_named(pop, mask)}: {FAMILIES[int(code)]} utility is not homothetic: no "
                   "consumption-equivalent factor (see the equivalent variation)")
    finite = np.isfinite(un) & np.isfinite(uc)
    bad = homothetic & ~finite
    if bad.any():
        why.append(f"{_named(pop, bad)}: utility not finite under one concept (e.g. nothing "
                   "consumed): no scaling of the competitive bundle gives the Nash utility")
    nothing = homothetic & finite & (a_sum <= 0)
    if nothing.any():
        why.append(f"{_named(pop, nothing)}: values nothing")
    ok = homothetic & finite & (a_sum > 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        cd = ok & (fam == _CD)
        out[cd] = np.exp((un[cd] - uc[cd]) / a_sum[cd])
        crra = ok & (fam == _CRRA)
        ratio = np.where(uc != 0, un / np.where(uc != 0, uc, 1.0), np.nan)
        good = crra & (ratio > 0)
        out[good] = ratio[good] ** (1.0 / (1.0 - pop.gamma[good]))
        if (crra & ~good).any():
            why.append(f"{_named(pop, crra & ~good)}: U_N/U_C is not positive (CRRA)")
        ces = ok & (fam == _CES)
        good = ces & (uc > 0) & (un >= 0)
        out[good] = un[good] / uc[good]
        if (ces & ~good).any():
            why.append(f"{_named(pop, ces & ~good)}: CES utility not positive")
    return out, why


def _welfare(comp: Solution, pop: Population, un: np.ndarray, uc: np.ndarray, role: str,
             notes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(pop)
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    econ = comp.economy
    ce, why = consumption_equivalent(pop, un, uc)
    notes.extend(f"{role} {w}" for w in why)
    ev = np.full(n, np.nan)
    m = np.full(n, np.nan)
    if comp.outcome is None:
        return ce, ev, m
    play = comp.outcome.consumers if role == "consumers" else comp.outcome.producers
    p = comp.outcome.prices
    with np.errstate(invalid="ignore"):
        value = (play.electricity @ np.where(comp.outcome.active[1:], p[1:], 0.0)
                 + p[0] * np.maximum(play.goods, 0.0) * np.where(pop.classic, 1.0, 0.0))
        m = value / p[0]
    fixed = bool(np.any(econ.fixed_costs > 0))
    if fixed:
        notes.append(f"{role}: verification has a fixed cost, so the budget set in consumption "
                     "is not a cone: no equivalent variation")
        return ce, ev, m
    hom = np.isfinite(ce)
    ev = np.where(hom, (ce - 1.0) * m, np.nan)
    a0 = pop.goods_weight
    with np.errstate(invalid="ignore", divide="ignore"):
        ql = ((pop.family == _QL) & (a0 > 0) & np.isfinite(un) & np.isfinite(uc) & pop.classic
              & (play.goods > 0))
        # Quasilinear: e(p, u) = p^0 u / a_0 + const while goods stay positive.
        ev = np.where(ql, (un - uc) / np.where(a0 > 0, a0, 1.0), ev)
    return ce, ev, m
