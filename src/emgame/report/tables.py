"""Readable terminal tables for an economy and its solutions (MODEL.md section 7), with rich.

Every function reads an :class:`~emgame.model.Economy` or a :class:`~emgame.results.Solution` and
returns rich renderables; nothing is printed and nothing is solved here. The layout is made for a
terminal of about 100 columns with up to ``T = 24`` periods: per-period quantities are rows
(periods, goods post first where it has a value) and agent types are groups of columns, split over
several tables when they do not fit the width; per-type totals are rows of a summary table.

Per-type quantities are for **one** agent of the type (as in the JSON). Quantities that depend on
the state of nature (verification, consumption) are shown as expectations over states
``Σ_s π_s (·)`` when there is more than one state; the JSON has them state by state.

A solution whose status is not ``equilibrium`` is marked ``NOT an equilibrium: <reason>`` at the
top, and its tables, when it carries a candidate profile, are titled as a candidate.
"""

from __future__ import annotations

import copy
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from emgame.model.economy import Economy, Population
from emgame.report.compare import comparison
from emgame.results import Solution, Status

DEFAULT_WIDTH = 100
"""Terminal width the tables are laid out for, unless told otherwise."""

NUMBER_WIDTH = 9
"""Characters of one numeric column (without its padding)."""

MAX_TYPES = 30
"""Rows of a per-type summary table before the rest is left to the JSON."""

MAX_PERIOD_TYPES = 12
"""Types shown in the per-period tables before the rest is left to the JSON."""

CONCEPT_TITLES = {"nash": "Nash equilibrium", "competitive": "Competitive equilibrium"}
CONCEPT_NAMES = {"nash": "Nash", "competitive": "Competitive"}


# --------------------------------------------------------------------------------------------
# Number formatting.
# --------------------------------------------------------------------------------------------


def fmt(x: Any, digits: int = 4) -> str:
    """A number in at most :data:`NUMBER_WIDTH` characters: ``—`` for missing or NaN, ``∞``."""
    if x is None:
        return "—"
    f = float(x)
    if math.isnan(f):
        return "—"
    if math.isinf(f):
        return "∞" if f > 0 else "−∞"
    if f == 0:
        return "0"
    return f"{f:.{digits}g}"


def fmt_small(x: Any) -> str:
    """Regrets and tolerances: two significant digits in scientific notation."""
    if x is None:
        return "—"
    f = float(x)
    if math.isnan(f):
        return "—"
    if math.isinf(f):
        return "∞" if f > 0 else "−∞"
    return "0" if f == 0 else f"{f:.1e}"


def fmt_count(x: Any) -> str:
    return f"{int(round(float(x))):,}"


def _check(ok: bool | None) -> Text:
    if ok is None:
        return Text("—")
    return Text("yes", style="green") if ok else Text("NO", style="bold red")


def _expected(prob: np.ndarray, per_state: np.ndarray) -> np.ndarray:
    """``Σ_s π_s X[..., s, t]`` over the state axis (the second to last)."""
    return np.tensordot(per_state, prob, axes=([per_state.ndim - 2], [0]))


# --------------------------------------------------------------------------------------------
# Building blocks.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    """One numeric column of a per-period table: ``values`` over periods ``1..T`` and an
    optional ``goods`` entry for the goods post's row."""

    header: str
    values: Sequence[Any]
    goods: Any = None
    show_goods: bool = False
    format: Callable[[Any], str] = fmt


class _PlainTable(Table):
    """A table whose strings are text, never rich markup: type names, period labels, reasons
    and file names come from users and may contain ``[brackets]``."""

    def add_column(self, header: RenderableType = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(_plain(header), *args, **kwargs)

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*(_plain(r) for r in renderables), **kwargs)


def _plain(x: Any) -> Any:
    return Text(x) if isinstance(x, str) else x


def _new_table(title: str, *, caption: str | None = None, show_header: bool = True) -> Table:
    # No outer edge and padding on the left only: a numeric column costs its width plus two
    # characters (padding and divider), so eight of them and the period fit in 100 columns.
    return _PlainTable(title=_plain(title), caption=_plain(caption), box=box.SIMPLE_HEAD,
                       padding=(0, 0, 0, 1), show_edge=False, title_justify="left",
                       caption_justify="left", title_style="bold", header_style="bold",
                       show_header=show_header)


def _wrap_name(name: str, width: int = NUMBER_WIDTH) -> str:
    """A type name in at most two lines of ``width`` characters (ellipsis beyond)."""
    lines = textwrap.wrap(name, width, break_long_words=True) or [""]
    if len(lines) > 2:
        lines = [lines[0], lines[1][: width - 1] + "…"]
    return "\n".join(lines)


def _period_tables(title: str, labels: Sequence[str], groups: list[tuple[str, list[_Column]]],
                   *, width: int, caption: str | None = None) -> list[Table]:
    """Per-period tables: periods as rows, each type a group of columns.

    Groups are packed into as few tables as the width allows; a type's columns stay together.
    """
    if not groups:
        return []
    show_goods = any(c.show_goods for _, cols in groups for c in cols)
    row_labels = (["goods"] if show_goods else []) + list(labels)
    label_width = min(max(len(s) for s in [*row_labels, "period"]), 14)
    per_table = max(1, (width - label_width - 2) // (NUMBER_WIDTH + 2))
    chunks: list[list[tuple[str, list[_Column]]]] = []
    used = 0
    for group in groups:
        n = len(group[1])
        if not chunks or used + n > per_table:
            chunks.append([])
            used = 0
        chunks[-1].append(group)
        used += n
    tables = []
    for k, chunk in enumerate(chunks):
        part = f" ({k + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        table = _new_table(title + part, caption=caption if k == len(chunks) - 1 else None)
        table.add_column("period", no_wrap=True, max_width=label_width, overflow="ellipsis")
        # Names wrap on two lines; pad every header to the same number of lines.
        names = [_wrap_name(name) for name, _ in chunk]
        depth = max(n.count("\n") + 1 for n in names)
        for name, (_, cols) in zip(names, chunk, strict=True):
            name = name + "\n" * (depth - 1 - name.count("\n"))
            for col in cols:
                table.add_column(f"{name}\n{col.header}", justify="right", no_wrap=True,
                                 min_width=NUMBER_WIDTH, max_width=NUMBER_WIDTH)
        columns = [c for _, cols in chunk for c in cols]
        if show_goods:
            table.add_row(Text("goods", style="italic"),
                          *[c.format(c.goods) if c.show_goods else "" for c in columns],
                          end_section=True)
        for t, label in enumerate(labels):
            table.add_row(label, *[c.format(c.values[t]) for c in columns])
        tables.append(table)
    return tables


def _name_column(pop: Population, limit: int = 24) -> dict[str, Any]:
    """Column settings for type names: as wide as the longest (up to ``limit``), then wrap."""
    longest = max((len(n) for n in pop.names[:MAX_TYPES]), default=4)
    return {"min_width": min(max(longest, 4), limit), "max_width": limit}


def _more(n: int, shown: int, what: str) -> str | None:
    return f"… and {n - shown} more {what} (see the JSON)" if n > shown else None


# --------------------------------------------------------------------------------------------
# Status and certificate.
# --------------------------------------------------------------------------------------------


def status_banner(solution: Solution) -> Text:
    """One line: the concept and whether it is an equilibrium, or ``NOT an equilibrium: why``."""
    if solution.status is Status.EQUILIBRIUM:
        title = CONCEPT_TITLES.get(solution.concept, solution.concept)
        text = Text(f"{title} found", style="bold green")
        if solution.certificate is not None:
            text.append(f" (certificate passed, max regret "
                        f"{fmt_small(solution.certificate.max_regret)})", style="green")
        return text
    reason = solution.reason or solution.status.message
    name = CONCEPT_NAMES.get(solution.concept, solution.concept)
    return Text(f"{name}: NOT an equilibrium: {reason} [{solution.status.value}]",
                style="bold red")


def certificate_table(solution: Solution) -> Table:
    """The certificate: maximal regret (absolute and relative), tolerances, passed or not."""
    table = _new_table(f"Certificate ({solution.concept})", show_header=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("")
    cert = solution.certificate
    if cert is None:
        table.add_row("certificate", Text("none (no candidate to certify)", style="red"))
        return table
    table.add_row("max regret", fmt_small(cert.max_regret))
    table.add_row("max relative regret", fmt_small(cert.max_relative_regret))
    table.add_row("tolerance", f"regret ≤ max({fmt_small(cert.atol)}, "
                               f"{fmt_small(cert.rtol)}·|U|)")
    table.add_row("passed", _check(cert.passed))
    if cert.method:
        table.add_row("method", cert.method)
    for note in cert.notes:
        table.add_row("note", note)
    return table


# --------------------------------------------------------------------------------------------
# Market: prices and totals.
# --------------------------------------------------------------------------------------------


def _totals(solution: Solution) -> dict[str, np.ndarray]:
    """Production, verification and consumption summed over all agents, expected over states."""
    econ, out, prof = solution.economy, solution.outcome, solution.profile
    assert out is not None and prof is not None
    nc, npr = econ.consumers.count, econ.producers.count
    prob = econ.probabilities
    production = npr @ prof.offers
    burnt = _expected(prob, np.tensordot(nc, out.consumers.verification, axes=1)
                      + np.tensordot(npr, out.producers.verification, axes=1))
    consumed = _expected(prob, np.tensordot(nc, out.consumers.consumption, axes=1)
                         + np.tensordot(npr, out.producers.consumption, axes=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(production > 0, burnt / production, np.nan)
    return {"production": production, "verification": burnt, "consumption": consumed,
            "share": share}


def market_table(solution: Solution) -> Table:
    """Prices (nominal and relative to goods) and totals per period, with a Σ row.

    Verification energy, its share of production and consumption are shown when verification
    costs anything (otherwise consumption is production and the note says so).
    """
    econ = solution.economy
    out = solution.outcome
    assert out is not None
    tot = _totals(solution)
    costly = econ.costly_verification
    states = f", expected over {econ.S} states" if econ.S > 1 else ""
    note = ("share = verification / production" if costly
            else "verification is free: all production is consumed")
    table = _new_table(f"Market{_candidate(solution)}",
                       caption=f"prices in bytecoins per unit; quantities summed over all "
                               f"agents{states}; {note}")
    headers = ["period", "price", "p/p⁰", "production"]
    if costly:
        headers += ["verif.", "share", "consumed"]
    for header in headers:
        table.add_column(header, justify="left" if header == "period" else "right",
                         no_wrap=True)
    blank = [""] * (len(headers) - 4)
    table.add_row(Text("goods", style="italic"), fmt(out.prices[0]), "1", fmt(econ.goods_supply),
                  *blank, end_section=True)
    rel = out.relative_prices
    for t, label in enumerate(econ.labels):
        extra = ([fmt(tot["verification"][t]), _pct(tot["share"][t]),
                  fmt(tot["consumption"][t])] if costly else [])
        table.add_row(label, fmt(out.prices[t + 1]), fmt(rel[t]), fmt(tot["production"][t]),
                      *extra)
    q, v = tot["production"].sum(), tot["verification"].sum()
    extra = ([fmt(v), _pct(v / q if q > 0 else math.nan), fmt(tot["consumption"].sum())]
             if costly else [])
    table.add_row(Text("Σ", style="bold"), "", "", fmt(q), *extra, style="bold")
    return table


def _pct(x: Any) -> str:
    f = float(x)
    return "—" if not math.isfinite(f) else f"{100 * f:.3g}%"


def _candidate(solution: Solution) -> str:
    return "" if solution.ok else " — candidate, NOT an equilibrium"


# --------------------------------------------------------------------------------------------
# Agent types.
# --------------------------------------------------------------------------------------------


def consumer_tables(solution: Solution, *, width: int = DEFAULT_WIDTH) -> list[Table]:
    """Consumers: a summary row per type, and bids, electricity and consumption per period."""
    econ, out, prof = solution.economy, solution.outcome, solution.profile
    assert out is not None and prof is not None
    pop, play = econ.consumers, out.consumers
    if len(pop) == 0:
        return []
    cert = solution.certificate
    summary = _new_table(f"Consumers{_candidate(solution)}",
                         caption=_more(len(pop), MAX_TYPES, "consumer types"))
    kinds = bool(pop.classic.any())  # the kind column only where some type is not `ai`
    for header in ("type", "count", *(("kind",) if kinds else ()), "goods bid", "goods",
                   "Σ elec.", "utility", "regret", "ok"):
        summary.add_column(header, justify="left" if header in ("type", "kind") else "right",
                           **_name_column(pop) if header == "type" else {"no_wrap": True})
    for i in range(min(len(pop), MAX_TYPES)):
        summary.add_row(
            pop.names[i], fmt_count(pop.count[i]), *((pop.kind(i),) if kinds else ()),
            fmt(prof.consumer_bids[i, 0]), fmt(play.goods[i]), fmt(play.electricity[i].sum()),
            fmt(play.utility[i]),
            "—" if cert is None else fmt_small(cert.consumer_regret[i]),
            _check(None if cert is None else bool(cert.consumer_passed[i])),
        )
    return [summary, *_purchase_tables(solution, pop, play, prof.consumer_bids, "Consumers",
                                       width=width)]


def producer_tables(solution: Solution, *, width: int = DEFAULT_WIDTH) -> list[Table]:
    """Producers: a summary row per type; offers, capacity withheld ``K − q``, markups and Lerner
    indices per period; and their own purchases per period."""
    econ, out, prof = solution.economy, solution.outcome, solution.profile
    assert out is not None and prof is not None
    pop, play = econ.producers, out.producers
    if len(pop) == 0:
        return []
    cert = solution.certificate
    summary = _new_table(f"Producers{_candidate(solution)}",
                         caption=_more(len(pop), MAX_TYPES, "producer types"))
    kinds = bool(pop.classic.any())
    for header in ("type", "count", *(("kind",) if kinds else ()), "K", "Σ offers", "inputs",
                   "goods", "utility", "regret", "ok"):
        summary.add_column(header, justify="left" if header in ("type", "kind") else "right",
                           **_name_column(pop) if header == "type" else {"no_wrap": True})
    for j in range(min(len(pop), MAX_TYPES)):
        summary.add_row(
            pop.names[j], fmt_count(pop.count[j]), *((pop.kind(j),) if kinds else ()),
            fmt(prof.capacity[j]),
            fmt(prof.offers[j].sum()), fmt(play.inputs[j].sum()), fmt(play.goods[j]),
            fmt(play.utility[j]),
            "—" if cert is None else fmt_small(cert.producer_regret[j]),
            _check(None if cert is None else bool(cert.producer_passed[j])),
        )
    markups, lerner = solution.markups(), solution.lerner()
    shown = min(len(pop), MAX_PERIOD_TYPES)
    groups = [
        (pop.names[j], [
            _Column("offer", prof.offers[j]),
            _Column("K − q", prof.capacity[j] - prof.offers[j]),
            _Column("markup", markups[j]),
            _Column("Lerner", lerner[j]),
        ])
        for j in range(shown)
    ]
    supply = _period_tables(
        f"Producers' supply per period{_candidate(solution)}", econ.labels, groups, width=width,
        caption=_join("markup = (p/p⁰) / marginal cost; Lerner = (p/p⁰ − MC) / (p/p⁰)",
                      _more(len(pop), shown, "producer types")))
    return [summary, *supply, *_purchase_tables(solution, pop, play, prof.producer_bids,
                                                "Producers", width=width)]


def _purchase_tables(solution: Solution, pop: Population, play: Any, bids: np.ndarray,
                     role: str, *, width: int) -> list[Table]:
    """Bids, electricity received and (when verification costs or states make it differ)
    consumption per period, for one agent of each type."""
    econ = solution.economy
    prob = econ.probabilities
    consumption = _expected(prob, play.consumption)
    differs = econ.costly_verification or econ.S > 1
    shown = min(len(pop), MAX_PERIOD_TYPES)
    groups = []
    for i in range(shown):
        cols = [_Column("bid", bids[i, 1:], goods=bids[i, 0], show_goods=True),
                _Column("received", play.electricity[i], goods=play.goods_received[i],
                        show_goods=True)]
        if differs:
            cols.append(_Column("consumed", consumption[i]))
        groups.append((pop.names[i], cols))
    states = f" (expected over {econ.S} states)" if econ.S > 1 else ""
    note = ("consumed = received − verification" + states if differs
            else "consumption = electricity received (verification is free)")
    return _period_tables(f"{role}' purchases per period{_candidate(solution)}", econ.labels,
                          groups, width=width,
                          caption=_join("bids in bytecoins; one agent of each type; " + note,
                                        _more(len(pop), shown, f"{role.lower()[:-1]} types")))


def _join(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p)


# --------------------------------------------------------------------------------------------
# Whole solutions.
# --------------------------------------------------------------------------------------------


def solution_tables(solution: Solution, *, width: int = DEFAULT_WIDTH) -> list[RenderableType]:
    """Everything about one solution, top to bottom: status, market, consumers, producers,
    certificate. A failed solve without a candidate shows its status and reason only."""
    parts: list[RenderableType] = [status_banner(solution)]
    if solution.outcome is None or solution.profile is None:
        return parts
    parts.append(market_table(solution))
    parts.extend(consumer_tables(solution, width=width))
    parts.extend(producer_tables(solution, width=width))
    parts.append(certificate_table(solution))
    return parts


def price_comparison_table(nash: Solution, competitive: Solution) -> Table:
    """Relative prices ``p^t/p^0``, Nash beside competitive, with their gap and ratio, and
    production under each."""
    cmp = comparison(nash, competitive)
    rp = cmp["relative_prices"]
    econ = nash.economy
    T = econ.periods
    qn = _totals(nash)["production"] if nash.outcome is not None else [None] * T
    qc = (_totals(competitive)["production"] if competitive.outcome is not None
          else [None] * T)
    failed = [CONCEPT_NAMES[s.concept] for s in (nash, competitive) if not s.ok]
    warn = (f" ({' and '.join(failed)} NOT an equilibrium)" if failed else "")
    table = _new_table(f"Relative prices p/p⁰, Nash vs competitive{warn}",
                       caption="gap = Nash − competitive; ratio = Nash / competitive")
    for header in ("period", "Nash", "compet.", "gap", "ratio", "Nash Q", "compet. Q"):
        table.add_column(header, justify="left" if header == "period" else "right",
                         no_wrap=True)
    for t, label in enumerate(econ.labels):
        table.add_row(label, fmt(rp["nash"][t]), fmt(rp["competitive"][t]), fmt(rp["gap"][t]),
                      fmt(rp["ratio"][t]), fmt(qn[t]), fmt(qc[t]))
    return table


def utility_comparison_table(nash: Solution, competitive: Solution) -> Table:
    """Utility of one agent of each type under both concepts, and Nash minus competitive."""
    cmp = comparison(nash, competitive)["utility"]
    table = _new_table("Utility per agent: Nash vs competitive",
                       caption=_more(len(cmp["consumers"]) + len(cmp["producers"]), MAX_TYPES,
                                     "types"))
    for header in ("type", "role", "Nash", "compet.", "Nash − compet."):
        table.add_column(header, justify="left" if header in ("type", "role") else "right",
                         no_wrap=header != "type", max_width=30 if header == "type" else None)
    rows = ([("consumer", r) for r in cmp["consumers"]]
            + [("producer", r) for r in cmp["producers"]])
    for role, r in rows[:MAX_TYPES]:
        table.add_row(r["name"], role, fmt(r["nash"]), fmt(r["competitive"]),
                      fmt(r["difference"]))
    return table


def comparison_tables(nash: Solution, competitive: Solution, *,
                      width: int = DEFAULT_WIDTH) -> list[RenderableType]:
    """Both concepts: the two status lines, prices and utilities side by side, then each
    solution's own tables."""
    parts: list[RenderableType] = [status_banner(nash), status_banner(competitive)]
    parts.append(price_comparison_table(nash, competitive))
    parts.append(utility_comparison_table(nash, competitive))
    for sol in (nash, competitive):
        parts.append(Rule(CONCEPT_TITLES[sol.concept], align="left"))
        parts.extend(solution_tables(sol, width=width))
    return parts


def render(parts: Sequence[RenderableType]) -> Group:
    """Stack renderables for ``console.print``: a blank line before each table, and each
    table's caption printed below it at full width (rich would wrap it to the table's)."""
    out: list[RenderableType] = []
    for part in parts:
        if out and isinstance(part, Table | Rule):
            out.append(Text(""))
        if isinstance(part, Table) and part.caption:
            note = part.caption
            part = copy.copy(part)
            part.caption = None
            note = note.copy() if isinstance(note, Text) else Text(str(note))
            note.stylize("dim")
            out.extend([part, note])
        else:
            out.append(part)
    return Group(*out)


# --------------------------------------------------------------------------------------------
# The economy itself (``emgame check``).
# --------------------------------------------------------------------------------------------


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


def economy_tables(economy: Economy) -> list[RenderableType]:
    """A summary of an economy: periods, market rules, verification costs and every type."""
    econ = economy
    head = _new_table(f"Economy: {econ.name}", show_header=False)
    head.add_column("", style="bold", no_wrap=True)
    head.add_column("")
    if econ.source:
        head.add_row("file", str(econ.source))
    labels = econ.labels
    shown = ", ".join(labels[:8]) + (f", … {labels[-1]}" if len(labels) > 8 else "")
    head.add_row("periods", f"{econ.periods} ({shown})")
    m = econ.market
    head.add_row("settlement", m.settlement + (f", discount β = {fmt(m.discount)}"
                                              if m.prepaid else ""))
    head.add_row("horizon", m.horizon)
    head.add_row("goods settled in", f"period {labels[m.goods_settlement_period - 1]}")
    head.add_row("goods supply Ω", fmt(econ.goods_supply))
    for k, s in enumerate(econ.states):
        name = "verification" if econ.S == 1 else f"state {k + 1} (π = {fmt(s.probability)})"
        fixed = _numbers(s.fixed)
        if len(set(s.fixed)) > 1:
            fixed += " (post 0, then 1..T)"
        head.add_row(name, f"fixed v = {fixed}; share κ = {fmt(s.share)}")
    head.add_row("types", f"{len(econ.consumers)} consumer, {len(econ.producers)} producer "
                          f"({fmt_count(econ.consumers.agents + econ.producers.agents)} agents)")

    parts: list[RenderableType] = [head]
    prepaid = m.prepaid
    for role, pop in (("Consumers", econ.consumers), ("Producers", econ.producers)):
        if len(pop) == 0:
            continue
        table = _new_table(role, caption=_more(len(pop), MAX_TYPES, f"{role.lower()}"))
        table.add_column("type", max_width=24)
        table.add_column("count", justify="right", no_wrap=True)
        table.add_column("kind", no_wrap=True)
        table.add_column("utility")
        table.add_column("endowment" if role == "Consumers" else "technology")
        if prepaid:
            table.add_column("wallet", no_wrap=True)
        for i in range(min(len(pop), MAX_TYPES)):
            if role == "Consumers":
                resource = f"ω={fmt(pop.endowment[i])}"
            else:
                cap = (f"K̄={fmt(pop.capacity[i])}" if not m.long_run
                       else f"K chosen, ρ={fmt(pop.capacity_cost[i])}")
                resource = f"θ={fmt(pop.productivity[i])} c={fmt(pop.returns[i])} {cap}"
            row = [pop.names[i], fmt_count(pop.count[i]), pop.kind(i), _utility_text(pop, i),
                   resource]
            if prepaid:
                row.append("stationary" if np.isnan(pop.wallet[i]) else fmt(pop.wallet[i]))
            table.add_row(*row)
        parts.append(table)
    return parts
