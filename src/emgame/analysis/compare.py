"""The game against its competitive benchmark (MODEL.md section 7).

:func:`compare` reads two :class:`~emgame.results.Solution` objects of the same economy (the Nash
equilibrium and the competitive benchmark) and reports, without solving anything:

Prices
    Relative prices ``p^t/p^0`` side by side, their gap (Nash minus competitive) and ratio. Bids
    are in bytecoins, a unit of account, so only relative prices mean the same in both.
Producers
    Markups ``(p^t/p^0)/MC_j^t`` with ``MC_j^t = φ_j'(q_j^t)``, Lerner indices
    ``(p^t/p^0 - MC)/(p^t/p^0)`` and capacity withheld ``K - q``, under both concepts.
Welfare, per type (one agent)
    * ``utility``: Nash and competitive utility and their difference;
    * ``consumption_equivalent``: for homothetic families, the factor ``λ`` by which the type's
      whole competitive consumption bundle (electricity consumed in every state and period,
      net of verification, and goods for ``classic`` kinds) must be scaled to give its Nash
      utility, ``Eu(λ c_C) = U_N``. ``λ < 1``: the agent is worse off in the game. Closed forms:
      Cobb–Douglas ``λ = exp((U_N - U_C)/A)`` with ``A`` the sum of the weights of the goods
      it values (``Eu(λc) = Eu(c) + A log λ``); CRRA ``λ = (U_N/U_C)^{1/(1-γ)}`` (``u`` is
      homogeneous of degree ``1-γ``); CES ``λ = U_N/U_C`` (degree one). Undefined (``None``,
      with the reason in ``notes``) for ``quasilinear`` (not homothetic), where either utility
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
      cost ``v > 0`` the budget set in consumption is not a cone and it is ``None``.
Welfare, aggregate
    * ``equivalent_variation``: ``Σ_i n_i EV_i``, a money-metric sum in goods at the
      competitive prices (the standard way to add up welfare changes across agents with
      different utility scales); ``relative``: that over ``Σ_i n_i m_C,i``, the value of all
      competitive consumption (the share of real income lost to market power). ``complete``
      says whether every type has an EV; the sums are over those that do.
    * ``utilitarian``: ``Σ_i n_i (U_N - U_C)``. It depends on the utilities' cardinal scale
      (adding a constant or rescaling one type's utility changes it), so it is reported for
      completeness, not as the headline.
    * ``production``: electricity produced per period under both, and its ratio (Nash
      withholding, the real side of the markup).

Numbers that do not exist (a failed solve without a candidate, a post that does not trade, a
utility of ``-inf``) are NaN in the arrays and ``None`` in :meth:`Comparison.to_dict`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from emgame.model.economy import FAMILIES, Economy, Population
from emgame.results import Solution, Status, json_list, json_number

_CD, _CRRA, _CES, _QL = (FAMILIES.index(f) for f in FAMILIES)
HOMOTHETIC: tuple[str, ...] = ("cobb_douglas", "crra", "ces")


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
    def production_ratio(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.production_nash / self.production_competitive

    # JSON -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        e = self.economy

        def rows(pop: Population, un: np.ndarray, uc: np.ndarray, ce: np.ndarray,
                 ev: np.ndarray, m: np.ndarray) -> list[dict[str, Any]]:
            with np.errstate(invalid="ignore"):
                d = un - uc
            return [{"name": pop.names[i], "nash": json_number(un[i]),
                     "competitive": json_number(uc[i]), "difference": json_number(d[i]),
                     "consumption_equivalent": json_number(ce[i]),
                     "equivalent_variation": json_number(ev[i]),
                     "competitive_income": json_number(m[i])}
                    for i in range(len(pop))]

        producers = []
        for j in range(len(e.producers)):
            producers.append({
                "name": e.producers.names[j],
                "markups": {"nash": json_list(self.markups_nash[j]),
                            "competitive": json_list(self.markups_competitive[j])},
                "lerner": {"nash": json_list(self.lerner_nash[j]),
                           "competitive": json_list(self.lerner_competitive[j])},
                "capacity_withheld": {
                    "nash": json_list(self.capacity_withheld_nash[j]),
                    "competitive": json_list(self.capacity_withheld_competitive[j])},
            })
        ev, m, complete = self._ev_parts()
        any_ev = bool(np.isfinite(np.concatenate([self.consumer_ev, self.producer_ev])).any())
        return {
            "periods": list(e.labels),
            "both_equilibria": self.both_equilibria,
            "relative_prices": {
                "nash": json_list(self.relative_prices_nash),
                "competitive": json_list(self.relative_prices_competitive),
                "gap": json_list(self.price_gap),
                "ratio": json_list(self.price_ratio),
            },
            "utility": {
                "consumers": rows(e.consumers, self.consumer_utility_nash,
                                  self.consumer_utility_competitive, self.consumer_ce,
                                  self.consumer_ev, self.consumer_income),
                "producers": rows(e.producers, self.producer_utility_nash,
                                  self.producer_utility_competitive, self.producer_ce,
                                  self.producer_ev, self.producer_income),
            },
            "producers": producers,
            "welfare": {
                "equivalent_variation": json_number(ev) if any_ev else None,
                "equivalent_variation_relative": json_number(ev / m) if any_ev and m > 0 else None,
                "equivalent_variation_complete": complete,
                "utilitarian": json_number(self.utilitarian),
                "production": {"nash": json_list(self.production_nash),
                               "competitive": json_list(self.production_competitive),
                               "ratio": json_list(self.production_ratio)},
            },
            "notes": list(self.notes),
        }


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

    def rel(s: Solution) -> np.ndarray:
        return (np.asarray(s.relative_prices, dtype=float) if s.outcome is not None
                else np.full(T, np.nan))

    def prod_arrays(s: Solution) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if s.outcome is None or s.profile is None:
            nan = np.full((npr, T), np.nan)
            return nan, nan.copy(), nan.copy(), np.full(T, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.asarray(s.markups(), dtype=float), np.asarray(s.lerner(), dtype=float),
                    s.profile.capacity[:, None] - s.profile.offers,
                    econ.producers.count @ s.profile.offers)

    def utils(s: Solution) -> tuple[np.ndarray, np.ndarray]:
        if s.outcome is None:
            return np.full(nc, np.nan), np.full(npr, np.nan)
        return (np.asarray(s.outcome.consumers.utility, dtype=float),
                np.asarray(s.outcome.producers.utility, dtype=float))

    mk_n, le_n, kw_n, q_n = prod_arrays(nash)
    mk_c, le_c, kw_c, q_c = prod_arrays(competitive)
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
        consumer_income=m_c, producer_income=m_p, notes=tuple(notes),
    )


def consumption_equivalent(pop: Population, U_nash: np.ndarray, U_comp: np.ndarray
                           ) -> tuple[np.ndarray, list[str]]:
    """The factor ``λ`` with ``Eu(λ c_C) = U_N`` for each type, and why it is missing where it
    is (NaN). See the module notes for the closed forms."""
    n = len(pop)
    out = np.full(n, np.nan)
    why: list[str] = []
    for i in range(n):
        fam = FAMILIES[int(pop.family[i])]
        un, uc = float(U_nash[i]), float(U_comp[i])
        a_sum = float(pop.weights[i].sum()) + (float(pop.goods_weight[i])
                                                if pop.classic[i] else 0.0)
        name = pop.names[i]
        if fam not in HOMOTHETIC:
            why.append(f"'{name}': {fam} utility is not homothetic: no consumption-equivalent "
                       "factor (see its equivalent variation)")
            continue
        if not (math.isfinite(un) and math.isfinite(uc)):
            why.append(f"'{name}': utility not finite (Nash {un:g}, competitive {uc:g}): no "
                       "scaling of the competitive bundle gives the Nash utility")
            continue
        if a_sum <= 0:
            why.append(f"'{name}': values nothing")
            continue
        if fam == "cobb_douglas":
            out[i] = math.exp((un - uc) / a_sum)
        elif fam == "crra":
            g = float(pop.gamma[i])
            ratio = un / uc if uc != 0 else float("nan")
            if ratio > 0:
                out[i] = ratio ** (1.0 / (1.0 - g))
            else:
                why.append(f"'{name}': U_N/U_C = {ratio:g} is not positive")
        else:  # ces, degree one
            if uc > 0 and un >= 0:
                out[i] = un / uc
            else:
                why.append(f"'{name}': CES utility not positive (Nash {un:g}, competitive "
                           f"{uc:g})")
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
        value = (np.where(comp.outcome.active[1:], play.electricity * p[1:], 0.0).sum(axis=1)
                 + p[0] * np.maximum(play.goods, 0.0) * np.where(pop.classic, 1.0, 0.0))
        m = value / p[0]
    fixed = bool(np.any(econ.fixed_costs > 0))
    if fixed:
        notes.append(f"{role}: verification has a fixed cost, so the budget set in consumption "
                     "is not a cone: no equivalent variation")
        return ce, ev, m
    hom = np.isfinite(ce)
    ev = np.where(hom, (ce - 1.0) * m, np.nan)
    ql = pop.family == _QL
    for i in np.flatnonzero(ql):
        a0 = float(pop.goods_weight[i])
        if (a0 > 0 and np.isfinite(un[i]) and np.isfinite(uc[i]) and pop.classic[i]
                and play.goods[i] > 0):
            # Quasilinear: e(p, u) = p^0 u / a_0 + const while goods stay positive.
            ev[i] = (un[i] - uc[i]) / a0
    return ce, ev, m


# --------------------------------------------------------------------------------------------


