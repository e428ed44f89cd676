"""Tables for :func:`emgame.solve_all`: one line per certified equilibrium found, then each."""

from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.rule import Rule
from rich.text import Text

from emgame.equilibria import Equilibria
from emgame.report.layout import DEFAULT_WIDTH, fmt, fmt_small, new_table
from emgame.report.tables import CONCEPT_TITLES, solution_tables

__all__ = ["equilibria_tables"]

MAX_PRICES = 6
"""Relative prices shown in the summary line of an equilibrium (the rest in its own tables)."""


def _prices(rel: np.ndarray) -> str:
    shown = ["—" if not np.isfinite(v) else fmt(float(v)) for v in rel[:MAX_PRICES]]
    return " ".join(shown) + (" …" if rel.size > MAX_PRICES else "")


def equilibria_tables(result: Equilibria, *, width: int = DEFAULT_WIDTH, detail: bool = True
                      ) -> list[RenderableType]:
    """A banner, the summary (kind, active, starts reaching it, relative prices, regret, how a
    split type divides) and, with ``detail``, every equilibrium's own tables."""
    title = CONCEPT_TITLES.get(result.concept, result.concept)
    if not result.ok:
        return [Text(f"{title}: no certified equilibrium found: {result.reason}",
                     style="bold red")]
    kinds = (f"{len(result.symmetric)} type-symmetric" +
             (f", {len(result.split)} split" if result.split else ""))
    banner = Text(f"{title}: {len(result)} certified equilibri{'um' if len(result) == 1 else 'a'}"
                  f" found ({kinds}) from {result.starts} starts (seed {result.seed})",
                  style="bold green")
    parts: list[RenderableType] = [banner]
    if result.split_searched and not result.split:
        parts.append(Text(f"split search: none found ({result.split_note})"))
    elif result.split and result.symmetric:
        parts.append(Text("a type-symmetric equilibrium exists as well as the split ones"))
    table = new_table("Equilibria found", caption=(
        "kind: type-symmetric, or split (a type's agents in groups paying, or producing, on "
        "different posts; \"empty wallet\": a producer type idle under stationary prepaid "
        "wallets, which never has the bytecoins to start); "
        "active: every valued post trades; starts: how many starts reached it; p/p⁰: relative "
        "prices, — where a post does not trade"))
    table.add_column("#", no_wrap=True)
    table.add_column("kind", overflow="fold")
    table.add_column("active", no_wrap=True)
    table.add_column("starts", justify="right", no_wrap=True)
    table.add_column("p/p⁰", overflow="fold")
    table.add_column("max regret", no_wrap=True)
    table.add_column("split", overflow="fold")
    for k, f in enumerate(result.equilibria):
        sol = f.solution
        cert = sol.certificate
        split = "; ".join(
            f"{s.type}: " + ", ".join(
                f"{g.count:g} on posts {list(g.posts)}"
                + (f" producing on {list(g.produces)}" if g.produces is not None else "")
                for g in s.groups)
            for s in f.split)
        kind = "split" if f.split else "symmetric"
        if f.empty_wallets:
            kind += f" ({', '.join(f.empty_wallets)}: empty wallet)"
        table.add_row(str(k), kind, "yes" if f.active else "no",
                      str(f.count), _prices(sol.relative_prices),
                      fmt_small(max(cert.max_regret, 0.0)) if cert is not None else "",
                      split)
    parts.append(table)
    if detail:
        for k, f in enumerate(result.equilibria):
            parts.append(Rule(f"Equilibrium {k}", align="left"))
            parts.extend(solution_tables(f.solution, width=width))
    return parts
