"""The economy itself as terminal tables (``emgame check``): periods, market rules,
verification costs and every type, fitted to the terminal's width without cutting a number."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from emgame.model.economy import Economy, Population
from emgame.report.layout import DEFAULT_WIDTH, fit, fmt, fmt_count, new_table, numbers, text

MAX_TYPES = 30
"""Types listed per role; the rest are counted."""


def _numbers(values: Sequence[float], *, limit: int = 6) -> str:
    vals = [float(v) for v in values]
    if len(vals) > 1 and all(v == vals[0] for v in vals):
        return f"{fmt(vals[0])} (all {len(vals)})"
    if len(vals) <= limit:
        return "[" + ", ".join(fmt(v) for v in vals) + "]"
    return f"{len(vals)} in [{fmt(min(vals))}, {fmt(max(vals))}]"


def _utility_text(pop: Population, i: int) -> str:
    u = pop.utility(i)
    parts = [u.family, f"a: {_numbers(u.weights, limit=4)}"]
    if pop.classic[i]:
        parts.append(f"a₀: {fmt(u.goods_weight)}")
    if u.gamma is not None:
        parts.append(f"γ: {fmt(u.gamma)}")
    if u.r is not None:
        parts.append(f"r: {fmt(u.r)}")
    return ", ".join(parts)


def economy_tables(economy: Economy, *, width: int = DEFAULT_WIDTH) -> list[RenderableType]:
    """A summary of an economy: periods, market rules, verification costs and every type."""
    econ = economy
    head = new_table(f"Economy: {econ.name}", show_header=False)
    head.add_column("", style="bold", no_wrap=True)
    head.add_column("")
    if econ.source:
        head.add_row("file", Text(str(econ.source)))
    labels = econ.labels
    shown = ", ".join(labels[:8]) + (f", … {labels[-1]}" if len(labels) > 8 else "")
    head.add_row("periods", Text(f"{econ.periods} ({shown})"))
    m = econ.market
    head.add_row("settlement", m.settlement + (f", discount β = {fmt(m.discount)}"
                                              if m.prepaid else ""))
    head.add_row("horizon", m.horizon)
    head.add_row("goods settled in", Text(f"period {labels[m.goods_settlement_period - 1]}"))
    head.add_row("goods supply Ω", fmt(econ.goods_supply))
    for k, s in enumerate(econ.states):
        name = "verification" if econ.S == 1 else f"state {k + 1} (π = {fmt(s.probability)})"
        fixed = _numbers(s.fixed)
        if len(set(s.fixed)) > 1:
            fixed += " (post 0, then 1..T)"
        head.add_row(name, f"fixed v = {fixed}; share κ = {fmt(s.share)}")
    storage = econ.storage
    assert storage is not None
    agents = econ.consumers.agents + econ.producers.agents + storage.agents
    head.add_row("types", f"{len(econ.consumers):,} consumer, {len(econ.producers):,} producer"
                          + (f", {len(storage):,} storage" if len(storage) else "")
                          + f" ({fmt_count(agents)} agents)")
    u = econ.units
    if u is not None and (u.electricity or u.goods):
        head.add_row("units", ", ".join(x for x in (
            f"electricity {u.electricity}" if u.electricity else None,
            f"goods {u.goods}" if u.goods else None,
            f"relative prices {u.price()}" if u.price() else None) if x))

    parts: list[RenderableType] = [head]
    for role, pop in (("Consumers", econ.consumers), ("Producers", econ.producers),
                      ("Storage", storage)):
        if len(pop) == 0:
            continue
        n = min(len(pop), MAX_TYPES)
        if role == "Consumers":
            resource = [f"ω={fmt(pop.endowment[i])}" for i in range(n)]
        elif role == "Storage":
            resource = [f"S={fmt(pop.energy_capacity[i])} G={fmt(pop.power_capacity[i])} "
                        f"ηc={fmt(pop.charge_efficiency[i])} "
                        f"ηd={fmt(pop.discharge_efficiency[i])}" for i in range(n)]
        else:
            resource = [f"θ={fmt(pop.productivity[i])} c={fmt(pop.returns[i])} "
                        + (f"K̄={fmt(pop.capacity[i])}" if not m.long_run
                           else f"K chosen, ρ={fmt(pop.capacity_cost[i])}")
                        + (f" by period: s={_numbers(pop.availability[i], limit=4)}"
                           if pop.varying_availability[i] else "") for i in range(n)]
        cols = [text("type", pop.names[:n], key=True, wrap=True),
                numbers("count", pop.count[:n], fmt_count),
                text("kind", [pop.kind(i) for i in range(n)]),
                text("utility", [_utility_text(pop, i) for i in range(n)], wrap=True),
                text({"Consumers": "endowment", "Producers": "technology",
                      "Storage": "battery"}[role], resource, wrap=True)]
        if m.prepaid:
            cols.append(text("wallet", ["stationary" if np.isnan(pop.wallet[i])
                                        else fmt(pop.wallet[i]) for i in range(n)]))
        more = (f"… and {len(pop) - n:,} more {role.lower()}" if len(pop) > n else None)
        parts.extend(fit(role, cols, width=width, caption=more))
    return parts
