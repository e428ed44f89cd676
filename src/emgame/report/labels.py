"""Axis labels and legend names for figures: what each stored column and each parameter path
means, with units (matplotlib mathtext), and the same without mathtext for text and HTML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RELATIVE_PRICE = r"relative price $p^t/p^0$ (goods per unit of electricity)"

COLUMN_LABELS: dict[str, str] = {
    "mean_relative_price": r"mean relative price $p^t/p^0$ (goods per unit of electricity)",
    "min_relative_price": r"lowest relative price $p^t/p^0$ (goods per unit of electricity)",
    "max_relative_price": r"highest relative price $p^t/p^0$ (goods per unit of electricity)",
    "price_goods": r"price of goods $p^0$ (bytecoins per unit)",
    "production_total": "electricity produced (units, all periods)",
    "verification_total": "electricity burnt by verification (units, all periods)",
    "verification_share": "share of electricity burnt by verification",
    "consumption_total": "electricity consumed (units, all periods)",
    "capacity_total": r"total capacity $\sum_j n_j K_j$ (electricity per period)",
    "participation": "participation (share of agent–post pairs with a bid)",
    "active_posts": "electricity posts that trade",
    "mean_markup": r"mean markup $(p^t/p^0)/MC$",
    "mean_lerner": "mean Lerner index",
    "max_regret": "largest regret (utility)",
    "max_relative_regret": "largest relative regret",
    "seconds": "solve time (s)",
    "seconds_worker": "time per point on the worker (s)",
    "iterations": "solver iterations",
    # per-type columns (--type)
    "utility": "utility of one agent",
    "capacity": "capacity per producer K (electricity per period)",
    "electricity_total": "electricity received per agent (units, all periods)",
    "goods": "goods consumed per agent (units)",
    "posts_paid": "electricity posts paid on per agent",
}

PATH_LABELS: dict[str, str] = {
    "count": "agents per type",
    "endowment": r"endowment $\omega$ (goods per agent)",
    "productivity": r"productivity $\theta$",
    "returns": "returns to scale $c$",
    "capacity": r"capacity $\bar K$ (electricity per period)",
    "capacity_cost": r"capacity cost $\rho$ (goods per unit of capacity)",
    "wallet": "wallet $W$ (bytecoins)",
    "fixed": "fixed verification cost $v$ (electricity per payment)",
    "share": r"verification share $\kappa$ (of electricity received)",
    "probability": "probability of the state",
    "discount": r"discount $\beta$",
    "goods_settlement_period": "goods settlement period $t_0$",
    "weights": "utility weight $a_t$",
    "goods_weight": "goods weight $a_0$",
    "gamma": r"CRRA curvature $\gamma$",
    "r": "CES exponent $r$",
}


def short_label(path: str, label: str | None = None) -> str:
    """A parameter's name for a legend: its own label, else what the path's field is (without
    units) and, where the path names a type, which (``agents per type (farms)``)."""
    if label:
        return label
    parts = path.split(".")
    leaf = parts[-1].split("[")[0]
    base = PATH_LABELS.get(leaf)
    if base is None:
        return path
    base = base.split(" (")[0]
    who = parts[1] if len(parts) == 3 and parts[0] in ("consumers", "producers") else None
    if who == "*":
        who = f"all {parts[0]}"
    return f"{base} ({who})" if who else base


def parameter_label(path: str, operation: str = "set", label: str | None = None) -> str:
    """An axis label for a swept parameter: its own ``label``, else one made from the path."""
    if label:
        return label
    leaf = path.split(".")[-1].split("[")[0]
    if operation == "multiply":
        what = "replication factor $n$" if leaf == "count" else f"factor on {path}"
        return f"{what} (× base {leaf})"
    base = PATH_LABELS.get(leaf)
    return f"{base}: {path}" if base else path


def column_label(column: str) -> str:
    return COLUMN_LABELS.get(column, column)


_TEX = {r"\sum": "Σ", r"\rho": "ρ", r"\theta": "θ", r"\omega": "ω", r"\kappa": "κ",
        r"\beta": "β", r"\gamma": "γ", r"\bar K": "K̄", r"\max": "max"}


def plain(label: str) -> str:
    """A label without matplotlib's mathtext (for HTML and terminal text)."""
    out = label
    for tex, char in _TEX.items():
        out = out.replace(tex, char)
    return out.replace("$", "").replace("{", "").replace("}", "")


# --------------------------------------------------------------------------------------------
# Units (docs/model.md, "Units"): labels only.
# --------------------------------------------------------------------------------------------


def units_of(solution: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """``(electricity, goods)``: the units a solution dictionary names (its ``"units"``), or
    ``None`` for each it does not name."""
    u = (solution or {}).get("units") or {}
    return u.get("electricity") or None, u.get("goods") or None


def price_label(solution: Mapping[str, Any] | None, *, math: bool = True) -> str:
    """The axis label of a relative price: in the economy's units (``USD/MWh``) when it names
    them, else in goods per unit of electricity."""
    el, goods = units_of(solution)
    what = r"relative price $p^t/p^0$" if math else "relative price p/p⁰"
    if el and goods:
        return f"{what} ({goods}/{el})"
    return f"{what} (goods per unit of electricity)"


def electricity_unit(solution: Mapping[str, Any] | None, default: str = "units") -> str:
    """The unit of electricity a solution dictionary names, else ``default``."""
    return units_of(solution)[0] or default
