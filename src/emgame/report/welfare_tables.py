"""Nash beside competitive as terminal tables: relative prices and production, each type's
utility and equivalent variation, and the aggregate welfare measures (docs/model.md,
"Welfare"). Read from :func:`emgame.analysis.compare.compare`; nothing is solved here."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import RenderableType

from emgame.analysis.compare import Comparison, compare
from emgame.report.layout import (
    DEFAULT_WIDTH,
    Column,
    fit,
    fmt,
    numbers,
    pct,
    scale_of,
    snap,
    text,
)
from emgame.results import Solution

MAX_TYPES = 30
"""Types listed in the utility table; the rest are in the JSON (or Parquet)."""

CONCEPT_NAMES = {"nash": "Nash", "competitive": "Competitive"}


def _failed(nash: Solution, competitive: Solution) -> str:
    failed = [CONCEPT_NAMES[s.concept] for s in (nash, competitive) if not s.ok]
    return f" ({' and '.join(failed)} NOT an equilibrium)" if failed else ""


def price_comparison_table(nash: Solution, competitive: Solution, *,
                           width: int = DEFAULT_WIDTH,
                           cmp: Comparison | None = None) -> list[RenderableType]:
    """Relative prices ``p^t/p^0``, Nash beside competitive, with their gap and ratio, and
    production under each."""
    cmp = cmp or compare(nash, competitive)
    econ = nash.economy
    rtol = 1e-8
    price = scale_of(cmp.relative_prices_nash, cmp.relative_prices_competitive, floor=1e-300)
    qn, qc = cmp.production_nash, cmp.production_competitive
    q = scale_of(qn, qc, floor=1e-300)
    units = econ.units
    pu = units.price() if units is not None else None
    eu = units.electricity if units is not None else None

    def h(name: str, unit: str | None) -> str:
        return f"{name} ({unit})" if unit else name

    cols = [text("period", econ.labels, key=True),
            numbers(h("Nash", pu), snap(cmp.relative_prices_nash, price, rtol)),
            numbers(h("compet.", pu), snap(cmp.relative_prices_competitive, price, rtol)),
            numbers("gap", snap(cmp.price_gap, price, rtol)),
            numbers("ratio", cmp.price_ratio),
            numbers(h("Nash Q", eu), snap(qn, q, rtol)),
            numbers(h("compet. Q", eu), snap(qc, q, rtol))]
    note = ("Nash, compet.: relative price p/p⁰ ("
            + (pu if pu else "goods per unit of electricity") + ") in the Nash "
            "equilibrium and the competitive benchmark; gap = Nash − compet.; ratio = Nash / "
            "compet.; Nash Q, compet. Q: electricity produced by all producers, per period")
    return fit(f"Relative prices p/p⁰, Nash vs competitive{_failed(nash, competitive)}", cols,
               width=width, caption=note)


def welfare_tables(nash: Solution, competitive: Solution, *, width: int = DEFAULT_WIDTH,
                   cmp: Comparison | None = None) -> list[RenderableType]:
    """Each type's utility under both concepts and its equivalent variation, then the
    aggregates: consumer and producer surplus, deadweight loss, profits."""
    cmp = cmp or compare(nash, competitive)
    econ = nash.economy
    parts: list[RenderableType] = []
    rows: list[tuple[str, str, Any, Any, Any, Any, Any, Any]] = []
    for role, pop, un, uc, ev in (
            ("consumer", econ.consumers, cmp.consumer_utility_nash,
             cmp.consumer_utility_competitive, cmp.consumer_ev),
            ("producer", econ.producers, cmp.producer_utility_nash,
             cmp.producer_utility_competitive, cmp.producer_ev)):
        k = min(len(pop), MAX_TYPES - len(rows))
        goods = scale_of(econ.consumers.endowment, floor=1e-300)
        with np.errstate(invalid="ignore"):
            evs = snap(ev[:k], goods, 1e-8)
            diff = un[:k] - uc[:k]
        for i in range(k):
            rows.append((pop.names[i], role, un[i], uc[i], diff[i], evs[i],
                         evs[i] * pop.count[i], pop.count[i]))
    cols = [text("type", [r[0] for r in rows], key=True, wrap=True),
            text("role", [r[1] for r in rows]),
            numbers("Nash U", [r[2] for r in rows]),
            numbers("compet. U", [r[3] for r in rows]),
            numbers("ΔU", [r[4] for r in rows]),
            numbers("EV", [r[5] for r in rows]),
            numbers("n × EV", [r[6] for r in rows])]
    total = len(econ.consumers) + len(econ.producers)
    more = (f"… and {total - len(rows):,} more types (all of them: --json, or --out "
            "result.parquet)" if total > len(rows) else None)
    note = "\n".join(x for x in (
        "Nash U, compet. U: utility of one agent of the type under each concept; ΔU = Nash − "
        "compet.; EV: equivalent variation, the goods that, given at competitive prices, "
        "change its utility as the move from competitive to Nash does (negative: a loss); "
        "n × EV: for all agents of the type; — where it does not exist (see the notes)",
        more) if x)
    parts.extend(fit("Utility and equivalent variation per type, Nash vs competitive", cols,
                     width=width, caption=note))
    parts.extend(_aggregates(cmp, width))
    return parts


def _aggregates(cmp: Comparison, width: int) -> list[RenderableType]:
    w = cmp.welfare_dict()
    pn, pc = w["profit"]["nash"], w["profit"]["competitive"]
    labels = ["consumer surplus ΔCS", "producer surplus ΔPS", "deadweight loss DWL",
              "profit, Nash", "profit, competitive", "profit, change",
              "EV, share of competitive consumption"]
    values = [w["consumer_surplus"], w["producer_surplus"], w["deadweight_loss"], pn, pc,
              w["profit"]["change"]]
    cells = [fmt(v) for v in values] + [pct(w["equivalent_variation_relative"])
                                        if w["equivalent_variation_relative"] is not None
                                        else "—"]
    cols = [text("measure", labels, key=True), Column("goods", cells)]
    notes = [
        "In goods (p⁰ = 1). ΔCS = Σ_h n_h EV_h over consumer types, ΔPS = Σ_j n_j EV_j over "
        "producer types: the change in welfare from the competitive benchmark to the Nash "
        "equilibrium, measured at competitive prices; DWL = −(ΔCS + ΔPS), the goods lost to "
        "market power (— unless every type has an EV); profit: Σ_j n_j π_j at each concept's "
        "own prices, π_j = Σ_t (p/p⁰) q − inputs (− ρK in the long run)"]
    if not w["equivalent_variation_complete"]:
        notes.append("some types have no EV (see the notes below): the surpluses and the "
                     "deadweight loss are not reported")
    notes += [f"note: {n}" for n in cmp.notes[:6]]
    if len(cmp.notes) > 6:
        notes.append(f"… and {len(cmp.notes) - 6} more notes (in the JSON)")
    return fit("Welfare: Nash relative to competitive", cols, width=width,
               caption="\n".join(notes))
