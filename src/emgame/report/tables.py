"""Readable terminal tables for a solution and for Nash beside competitive (docs/model.md,
"Outputs" and "Welfare"), with rich.

Every function reads :class:`~emgame.results.Solution` objects and returns rich renderables;
nothing is printed and nothing is solved here. Per-period quantities are rows (periods, goods
post first where it has a value) and agent types are groups of columns; per-type totals are rows
of a summary table. Tables are fitted to the terminal's width by :func:`~emgame.report.layout.fit`
(whole columns move to further tables; a number is never cut), and rounding noise within the
solve's tolerance of zero is shown as ``0``. Every table ends with a note defining its columns.

Per-type quantities are for **one** agent of the type (as in the JSON). Quantities that depend on
the state of nature (verification, consumption) are shown as expectations over states
``Σ_s π_s (·)`` when there is more than one state; the JSON has them state by state.

A solution whose status is not ``equilibrium`` is marked ``NOT an equilibrium: <reason>`` at the
top, and its tables, when it carries a candidate profile, are titled as a candidate.
"""

from __future__ import annotations

import textwrap
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import RenderableType
from rich.rule import Rule
from rich.text import Text

from emgame.analysis.compare import compare
from emgame.model.economy import Population
from emgame.report.economy_tables import economy_tables
from emgame.report.layout import (
    DEFAULT_WIDTH,
    Column,
    check_text,
    fit,
    fmt,
    fmt_count,
    fmt_small,
    new_table,
    numbers,
    pct,
    regret_text,
    render,
    scale_of,
    snap,
    text,
)
from emgame.report.welfare_tables import price_comparison_table, welfare_tables
from emgame.results import Solution, Status

__all__ = ["DEFAULT_WIDTH", "MAX_PERIOD_TYPES", "MAX_TYPES", "NUMBER_WIDTH", "certificate_table",
           "comparison_tables", "consumer_tables", "economy_tables", "fmt", "fmt_count",
           "fmt_small", "market_table", "price_comparison_table", "producer_tables", "render",
           "solution_tables", "status_banner", "storage_tables", "welfare_tables"]

NUMBER_WIDTH = 10
"""Characters of the widest number :func:`fmt` writes (``-1.235e-05``)."""

MAX_TYPES = 30
"""Rows of a per-type summary table before the rest is left to the JSON or Parquet output."""

MAX_PERIOD_TYPES = 12
"""Types shown in the per-period tables before the rest is left to the JSON or Parquet."""

NAME_WIDTH = 10
"""A type's name in a per-period table's header wraps at this width (two lines at most)."""

CONCEPT_TITLES = {"nash": "Nash equilibrium", "competitive": "Competitive equilibrium"}
CONCEPT_NAMES = {"nash": "Nash", "competitive": "Competitive"}


# --------------------------------------------------------------------------------------------
# Scales: what "zero within the solve's tolerance" means for each quantity.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scales:
    """The size of each kind of quantity in a solution, and the solve's relative tolerance:
    a value within ``rtol`` times its kind's size of zero is rounding noise, shown as 0."""

    rtol: float
    goods: float
    electricity: float
    bytecoins: float
    price: float

    def goods_(self, v: Any) -> np.ndarray:
        return snap(v, self.goods, self.rtol)

    def electricity_(self, v: Any) -> np.ndarray:
        return snap(v, self.electricity, self.rtol)

    def bytecoins_(self, v: Any) -> np.ndarray:
        return snap(v, self.bytecoins, self.rtol)

    def price_(self, v: Any) -> np.ndarray:
        return snap(v, self.price, self.rtol)

    def index_(self, v: Any) -> np.ndarray:
        """Dimensionless numbers of order one (Lerner indices, markups)."""
        return snap(v, 1.0, self.rtol)


_SCALES: weakref.WeakKeyDictionary[Solution, _Scales] = weakref.WeakKeyDictionary()


def _scales(solution: Solution) -> _Scales:
    """The solution's scales, computed once for all its tables (each is a pass over every
    type's arrays; weakly keyed, so a solution is never kept alive for them)."""
    scales = _SCALES.get(solution)
    if scales is None:
        scales = _SCALES[solution] = _compute_scales(solution)
    return scales


def _compute_scales(solution: Solution) -> _Scales:
    econ, out, prof = solution.economy, solution.outcome, solution.profile
    assert out is not None and prof is not None
    cert = solution.certificate
    rtol = max(cert.rtol if cert is not None else 1e-8, 1e-12)
    endow = econ.consumers.endowment
    return _Scales(
        rtol=rtol,
        goods=scale_of(endow, out.consumers.goods_received, out.producers.goods_received,
                       floor=1e-300),
        electricity=scale_of(prof.offers, out.consumers.electricity, out.producers.electricity,
                             floor=1e-300),
        bytecoins=scale_of(prof.consumer_bids, prof.producer_bids, floor=1e-300),
        price=scale_of(out.relative_prices, floor=1e-300),
    )


def _expected(prob: np.ndarray, per_state: np.ndarray) -> np.ndarray:
    """``Σ_s π_s X[..., s, t]`` over the state axis (the second to last)."""
    return np.tensordot(per_state, prob, axes=([per_state.ndim - 2], [0]))


def _tolerance(solution: Solution, utility: float) -> float:
    cert = solution.certificate
    if cert is None:
        return 0.0
    u = abs(utility) if np.isfinite(utility) else 0.0
    return max(cert.atol, cert.rtol * u)


def _more(n: int, shown: int, what: str) -> str | None:
    return (f"… and {n - shown} more {what} (all of them: --json, or --out result.parquet)"
            if n > shown else None)


def _join(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p)


def _candidate(solution: Solution) -> str:
    return "" if solution.ok else " — candidate, NOT an equilibrium"


def unit_header(header: str, unit: str | None) -> str:
    """A column header with its unit, ``"p/p⁰ (USD/MWh)"`` (docs/model.md, "Units"); the
    header alone when the economy names no unit."""
    return f"{header} ({unit})" if unit else header


def _units(solution: Solution) -> tuple[str | None, str | None, str | None]:
    """``(electricity, goods, relative price)`` units the economy names (``None`` if not)."""
    u = solution.economy.units
    if u is None:
        return None, None, None
    return u.electricity, u.goods, u.price()


def _units_note(solution: Solution) -> str | None:
    el, goods, price = _units(solution)
    if not (el or goods):
        return None
    named = ", ".join(x for x in (f"electricity in {el}" if el else None,
                                  f"goods in {goods}" if goods else None,
                                  f"relative prices in {price}" if price else None) if x)
    return f"units: {named}; bids in bytecoins"


def _wrap_name(name: str, width: int = NAME_WIDTH) -> str:
    """A type name in at most two lines of ``width`` characters (ellipsis beyond)."""
    lines = textwrap.wrap(name, width, break_long_words=True) or [""]
    if len(lines) > 2:
        lines = [lines[0], lines[1][: width - 1] + "…"]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Status and certificate.
# --------------------------------------------------------------------------------------------


def status_banner(solution: Solution) -> Text:
    """One line: the concept and whether it is an equilibrium, or ``NOT an equilibrium: why``."""
    if solution.status is Status.EQUILIBRIUM:
        title = CONCEPT_TITLES.get(solution.concept, solution.concept)
        line = Text(f"{title} found", style="bold green")
        if solution.certificate is not None:
            line.append(f" (certificate passed, max regret "
                        f"{fmt_small(max(solution.certificate.max_regret, 0.0))})",
                        style="green")
        return line
    reason = solution.reason or solution.status.message
    name = CONCEPT_NAMES.get(solution.concept, solution.concept)
    return Text(f"{name}: NOT an equilibrium: {reason} [{solution.status.value}]",
                style="bold red")


def certificate_table(solution: Solution) -> Any:
    """The certificate: maximal regret (absolute and relative), tolerances, passed or not."""
    table = new_table(f"Certificate ({solution.concept})", show_header=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", overflow="fold")
    cert = solution.certificate
    if cert is None:
        table.add_row("certificate", Text("none (no candidate to certify)", style="red"))
        return table
    table.add_row("max regret", fmt_small(max(cert.max_regret, 0.0))
                  if cert.max_regret > -cert.atol else fmt_small(cert.max_regret))
    table.add_row("max relative regret", fmt_small(max(cert.max_relative_regret, 0.0)))
    table.add_row("tolerance", f"regret ≤ max({fmt_small(cert.atol)}, "
                               f"{fmt_small(cert.rtol)}·|U|)")
    table.add_row("passed", check_text(cert.passed))
    if cert.method:
        table.add_row("method", Text(cert.method))
    for note in cert.notes:
        table.add_row("note", Text(note))
    return table


# --------------------------------------------------------------------------------------------
# Market: prices and totals.
# --------------------------------------------------------------------------------------------


def _totals(solution: Solution) -> dict[str, np.ndarray]:
    """Production (and storage's discharge and charge), verification and consumption summed
    over all agents, expected over states."""
    from emgame._columns import energy_totals

    prob = solution.economy.probabilities
    tot = energy_totals(solution)
    production = tot["production"]
    burnt = _expected(prob, tot["verification"])
    consumed = _expected(prob, tot["consumption"])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(production > 0, burnt / production, np.nan)
    return {"production": production, "verification": burnt, "consumption": consumed,
            "share": share, "discharge": tot["discharge"], "charge": tot["charge"]}


def market_table(solution: Solution, *, width: int = DEFAULT_WIDTH) -> list[RenderableType]:
    """Prices (nominal and relative to goods) and totals per period, with a Σ row."""
    from emgame._columns import reported_prices

    econ, out = solution.economy, solution.outcome
    assert out is not None
    sc = _scales(solution)
    tot = _totals(solution)
    el, goods, price = _units(solution)
    costly = econ.costly_verification or econ.S > 1
    prices = reported_prices(solution)
    rel = sc.price_(out.relative_prices)
    q = sc.electricity_(tot["production"])
    rows = ["goods", *econ.labels, "Σ"]
    cols = [text("period", rows, key=True),
            numbers(unit_header("p", f"bytecoins/{el}" if el else None),
                    [prices[0], *prices[1:], None]),
            numbers(unit_header("p/p⁰", price), [1.0, *rel, None]),
            numbers(unit_header("Q", el), [econ.goods_supply, *q, q.sum()])]
    notes = ["p: price, bytecoins per unit"
             + (" (normalised: p⁰ = 1)" if prices[0] == 1.0 else "")
             + "; p/p⁰: relative price, goods per unit of electricity; Q: goods supply Ω "
               f"(goods row{', in ' + goods if goods else ''}) and electricity produced by all "
               "producers"]
    if len(econ.storage):
        d = sc.electricity_(tot["discharge"])
        ch = sc.electricity_(tot["charge"])
        cols += [numbers(unit_header("discharge", el), [None, *d, d.sum()]),
                 numbers(unit_header("charge", el), [None, *ch, ch.sum()])]
        notes.append("discharge: electricity offered by all storage operators; charge: "
                     "electricity they put into their batteries (bought, less what they "
                     "consume and what verification burns)")
    if costly:
        v = sc.electricity_(tot["verification"])
        c = sc.electricity_(tot["consumption"])
        share = v.sum() / q.sum() if q.sum() > 0 else float("nan")
        cols += [numbers(unit_header("burnt", el), [None, *v, v.sum()]),
                 Column("share", ["", *[pct(x) for x in tot["share"]], pct(share)]),
                 numbers(unit_header("consumed", el), [None, *c, c.sum()])]
        states = f", expected over {econ.S} states" if econ.S > 1 else ""
        notes.append(f"burnt: electricity burnt verifying payments (share: of Q); consumed: "
                     f"electricity consumed by all agents{states}")
    return fit(f"Market{_candidate(solution)}", cols, width=width,
               caption=_join(*notes, _units_note(solution)), sections=(0, len(rows) - 2))


# --------------------------------------------------------------------------------------------
# Agent types.
# --------------------------------------------------------------------------------------------


def _certified(solution: Solution, role: str) -> tuple[Any, Any, Any]:
    """``(regret, passed, inconclusive)`` arrays of a role (computed once), or Nones."""
    from emgame._columns import ROLE_NAMES

    cert = solution.certificate
    who = ROLE_NAMES[role]
    if cert is None or not hasattr(type(cert), f"{who}_passed"):
        return None, None, None
    regret = getattr(cert, f"{who}_regret")
    passed = np.asarray(getattr(cert, f"{who}_passed"), dtype=bool)
    inconclusive = getattr(cert, f"{who}_inconclusive", None)
    return regret, passed, inconclusive


def _check_cells(solution: Solution, role: str, utility: np.ndarray, shown: int
                 ) -> tuple[list[str], list[Text]]:
    regret, passed, inconclusive = _certified(solution, role)
    if regret is None:
        return ["—"] * shown, [check_text(None)] * shown
    return ([regret_text(regret[i], _tolerance(solution, utility[i])) for i in range(shown)],
            [check_text(bool(passed[i]), inconclusive=inconclusive is not None
                        and bool(inconclusive[i])) for i in range(shown)])


_CHECK_NOTE = ("regret: the most one agent of the type could gain by deviating alone "
               "(certificate, utility units); ok: regret ≤ max(atol, rtol·|U|)")


def consumer_tables(solution: Solution, *, width: int = DEFAULT_WIDTH) -> list[RenderableType]:
    """Consumers: a summary row per type, and bids, electricity and consumption per period."""
    econ, out, prof = solution.economy, solution.outcome, solution.profile
    assert out is not None and prof is not None
    pop, play = econ.consumers, out.consumers
    if len(pop) == 0:
        return []
    sc = _scales(solution)
    el, goods, _ = _units(solution)
    n = min(len(pop), MAX_TYPES)
    regret, ok = _check_cells(solution, "consumers", play.utility, n)
    cols = [text("type", pop.names[:n], key=True, wrap=True),
            numbers("count", pop.count[:n], fmt_count)]
    if pop.classic.any():
        cols.append(text("kind", [pop.kind(i) for i in range(n)]))
    cols += [numbers("goods bid", sc.bytecoins_(prof.consumer_bids[:n, 0])),
             numbers(unit_header("goods", goods), sc.goods_(play.goods[:n])),
             numbers(unit_header("Σ elec.", el),
                     sc.electricity_(play.electricity[:n].sum(axis=1))),
             numbers("utility", play.utility[:n]),
             Column("regret", regret), Column("ok", ok)]
    note = _join("one agent of each type; goods bid: bytecoins bid on the goods post; goods: "
                 "goods consumed; Σ elec.: electricity received over all periods; "
                 "utility: expected utility", _CHECK_NOTE,
                 _more(len(pop), n, "consumer types"))
    return [*fit(f"Consumers{_candidate(solution)}", cols, width=width, caption=note),
            *_purchase_tables(solution, pop, play, prof.consumer_bids, "Consumers",
                              width=width)]


def producer_tables(solution: Solution, *, width: int = DEFAULT_WIDTH) -> list[RenderableType]:
    """Producers: a summary row per type; offers, capacity withheld ``K − q``, markups (split
    into market power and scarcity) and Lerner indices per period; and their own purchases."""
    econ, out, prof = solution.economy, solution.outcome, solution.profile
    assert out is not None and prof is not None
    pop, play = econ.producers, out.producers
    if len(pop) == 0:
        return []
    sc = _scales(solution)
    el, goods, _ = _units(solution)
    n = min(len(pop), MAX_TYPES)
    regret, ok = _check_cells(solution, "producers", play.utility, n)
    profit = sc.goods_(solution.profits())
    cols = [text("type", pop.names[:n], key=True, wrap=True),
            numbers("count", pop.count[:n], fmt_count)]
    if pop.classic.any():
        cols.append(text("kind", [pop.kind(i) for i in range(n)]))
    cols += [numbers(unit_header("K", el), prof.capacity[:n]),
             numbers(unit_header("Σ offers", el),
                     sc.electricity_(prof.offers[:n].sum(axis=1))),
             numbers(unit_header("inputs", goods), sc.goods_(play.inputs[:n].sum(axis=1))),
             numbers(unit_header("profit", goods), profit[:n]),
             numbers(unit_header("goods", goods), sc.goods_(play.goods[:n])),
             numbers("utility", play.utility[:n]),
             Column("regret", regret), Column("ok", ok)]
    long_run = " − ρK" if econ.market.long_run else ""
    varying = bool(pop.varying_availability.any())
    note = _join("one agent of each type; K: capacity"
                 + (" (the largest in any period: in period t at most s^t K can be offered)"
                    if varying else "") + "; Σ offers: electricity offered over all "
                 "periods; inputs: goods turned into electricity; profit: Σ_t (p/p⁰) q − "
                 f"inputs{long_run}, in goods; goods: goods left to consume", _CHECK_NOTE,
                 _more(len(pop), n, "producer types"))
    parts: list[RenderableType] = list(fit(f"Producers{_candidate(solution)}", cols,
                                           width=width, caption=note))
    markups, lerner = solution.markups(), solution.lerner()
    _, power, scarcity = solution.markup_parts()
    shown = min(len(pop), MAX_PERIOD_TYPES)
    caps = pop.period_capacity(prof.capacity)
    groups = [(pop.names[j], [
        ("offer", sc.electricity_(prof.offers[j])),
        ("sK − q" if varying else "K − q", sc.electricity_(caps[j] - prof.offers[j])),
        ("markup", sc.index_(markups[j])),
        ("power", sc.index_(power[j])),
        ("scarcity", sc.index_(scarcity[j])),
        ("Lerner", sc.index_(lerner[j])),
    ]) for j in range(shown)]
    parts += _period_tables(
        f"Producers' supply per period{_candidate(solution)}", econ.labels, groups,
        width=width, caption=_join(
            "offer: electricity offered; "
            + ("sK − q: capacity withheld, s the availability in the period"
               if varying else "K − q: capacity withheld")
            + "; markup = (p/p⁰)/MC, MC the "
            "marginal cost φ'(q) in goods; markup = power × scarcity: scarcity = (MC + r)/MC "
            "with r the rent on capacity where it binds (1 where it does not), power = "
            "(p/p⁰)/(MC + r) the markup from market power (1 for a price taker); Lerner = "
            "(p/p⁰ − MC)/(p/p⁰)", _more(len(pop), shown, "producer types")))
    parts += _purchase_tables(solution, pop, play, prof.producer_bids, "Producers", width=width)
    return parts


def storage_tables(solution: Solution, *, width: int = DEFAULT_WIDTH) -> list[RenderableType]:
    """Storage operators (docs/model.md, "Storage"): a summary row per type; what each puts
    into its battery, offers and holds per period; and their purchases."""
    from emgame._columns import storage_profits

    econ, out, prof = solution.economy, solution.outcome, solution.profile
    assert out is not None and prof is not None
    pop, play = econ.storage, out.storage
    if len(pop) == 0 or play is None:
        return []
    sc = _scales(solution)
    el, goods, _ = _units(solution)
    n = min(len(pop), MAX_TYPES)
    regret, ok = _check_cells(solution, "storage", play.utility, n)
    profit = sc.goods_(storage_profits(solution))
    cols = [text("type", pop.names[:n], key=True, wrap=True),
            numbers("count", pop.count[:n], fmt_count)]
    if pop.classic.any():
        cols.append(text("kind", [pop.kind(i) for i in range(n)]))
    cols += [numbers(unit_header("S", el), pop.energy_capacity[:n]),
             numbers(unit_header("G", el), pop.power_capacity[:n]),
             numbers("ηc·ηd", pop.charge_efficiency[:n] * pop.discharge_efficiency[:n]),
             numbers(unit_header("Σ charge", el),
                     sc.electricity_(prof.storage_charge[:n].sum(axis=1))),
             numbers(unit_header("Σ offers", el),
                     sc.electricity_(prof.storage_offers[:n].sum(axis=1))),
             numbers(unit_header("profit", goods), profit[:n]),
             numbers(unit_header("goods", goods), sc.goods_(play.goods[:n])),
             numbers("utility", play.utility[:n]),
             Column("regret", regret), Column("ok", ok)]
    note = _join("one agent of each type; S: battery energy; G: power per period (charging and "
                 "discharging); ηc·ηd: round-trip efficiency; Σ charge: electricity put into "
                 "the battery over the day; Σ offers: electricity discharged and offered; "
                 "profit: Σ_t (p/p⁰)(offer − bought), in goods; goods: goods consumed",
                 _CHECK_NOTE, _more(len(pop), n, "storage types"))
    parts: list[RenderableType] = list(fit(f"Storage operators{_candidate(solution)}", cols,
                                           width=width, caption=note))
    shown = min(len(pop), MAX_PERIOD_TYPES)
    soc = play.state_of_charge if play.state_of_charge is not None else np.zeros_like(
        prof.storage_offers)
    groups = [(pop.names[k], [
        ("charge", sc.electricity_(prof.storage_charge[k])),
        ("offer", sc.electricity_(prof.storage_offers[k])),
        ("σ", sc.electricity_(soc[k])),
    ]) for k in range(shown)]
    parts += _period_tables(
        f"Storage per period{_candidate(solution)}", econ.labels, groups, width=width,
        caption=_join("charge: electricity put into the battery in the period (it stores ηc "
                      "of it); offer: electricity discharged and offered (it takes 1/ηd of "
                      "it from the battery); σ: state of charge at the end of the period "
                      "(the lowest path of the cyclic day)"
                      + (f"; in {el}" if el else ""),
                      _more(len(pop), shown, "storage types")))
    parts += _purchase_tables(solution, pop, play, prof.storage_bids, "Storage operators",
                              width=width)
    return parts


def _period_tables(title: str, labels: Sequence[str],
                   groups: list[tuple[str, list[tuple[str, Any]]]], *, width: int,
                   caption: str | None = None, goods: Sequence[Sequence[Any]] | None = None
                   ) -> list[RenderableType]:
    """Per-period tables: periods as rows, each type a group of columns (kept together).

    ``goods``, when given, holds each group's goods-post row (``None`` for columns without
    one); the row is shown first.
    """
    if not groups:
        return []
    show_goods = goods is not None and any(v is not None for g in goods for v in g)
    rows = (["goods"] if show_goods else []) + list(labels)
    names = [_wrap_name(name) for name, _ in groups]
    depth = max(n.count("\n") + 1 for n in names)
    cols: list[Column] = [text("period", rows, key=True)]
    index_groups: list[list[int]] = []
    for k, ((_, series), name) in enumerate(zip(groups, names, strict=True)):
        name = name + "\n" * (depth - 1 - name.count("\n"))
        members = []
        for c, (header, values) in enumerate(series):
            g = goods[k][c] if show_goods and goods is not None else None
            cells = ([fmt(g) if g is not None else ""] if show_goods else []) + [
                fmt(v) for v in values]
            members.append(len(cols))
            cols.append(Column(f"{name}\n{header}", cells))
        index_groups.append(members)
    return fit(title, cols, width=width, caption=caption, groups=index_groups,
               sections=(0,) if show_goods else ())


def _purchase_tables(solution: Solution, pop: Population, play: Any, bids: np.ndarray,
                     role: str, *, width: int) -> list[RenderableType]:
    """Bids, electricity received and (when verification costs or states make it differ)
    consumption per period, for one agent of each type."""
    econ = solution.economy
    sc = _scales(solution)
    prob = econ.probabilities
    differs = econ.costly_verification or econ.S > 1
    shown = min(len(pop), MAX_PERIOD_TYPES)
    consumption = _expected(prob, play.consumption[:shown]) if differs else None
    groups, goods = [], []
    for i in range(shown):
        series = [("bid", sc.bytecoins_(bids[i, 1:])),
                  (unit_header("received", _units(solution)[0]),
                   sc.electricity_(play.electricity[i]))]
        row = [float(sc.bytecoins_(bids[i, 0])), float(sc.goods_(play.goods_received[i]))]
        if consumption is not None:
            series.append(("consumed", sc.electricity_(consumption[i])))
            row.append(None)
        groups.append((pop.names[i], series))
        goods.append(row)
    states = f" (expected over {econ.S} states)" if econ.S > 1 else ""
    note = ("consumed = received − verification" + states if differs
            else "consumption = electricity received (verification is free)")
    return _period_tables(f"{role}' purchases per period{_candidate(solution)}", econ.labels,
                          groups, width=width, goods=goods,
                          caption=_join("bid: bytecoins bid on the post; received: electricity "
                                        "received (goods row: goods received); one agent of "
                                        "each type; " + note,
                                        _more(len(pop), shown, f"{role.lower()[:-1]} types")))


# --------------------------------------------------------------------------------------------
# Whole solutions.
# --------------------------------------------------------------------------------------------


def solution_tables(solution: Solution, *, width: int = DEFAULT_WIDTH) -> list[RenderableType]:
    """Everything about one solution, top to bottom: status, market, consumers, producers,
    certificate. A failed solve without a candidate shows its status and reason only."""
    parts: list[RenderableType] = [status_banner(solution)]
    if solution.outcome is None or solution.profile is None:
        return parts
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        parts.extend(market_table(solution, width=width))
        parts.extend(consumer_tables(solution, width=width))
        parts.extend(producer_tables(solution, width=width))
        parts.extend(storage_tables(solution, width=width))
    parts.append(certificate_table(solution))
    return parts


def comparison_tables(nash: Solution, competitive: Solution, *,
                      width: int = DEFAULT_WIDTH) -> list[RenderableType]:
    """Both concepts: the two status lines, prices, utilities and welfare side by side, then
    each solution's own tables."""
    parts: list[RenderableType] = [status_banner(nash), status_banner(competitive)]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        cmp = compare(nash, competitive)
        parts.extend(price_comparison_table(nash, competitive, width=width, cmp=cmp))
        parts.extend(welfare_tables(nash, competitive, width=width, cmp=cmp))
    for sol in (nash, competitive):
        parts.append(Rule(CONCEPT_TITLES[sol.concept], align="left"))
        parts.extend(solution_tables(sol, width=width))
    return parts

