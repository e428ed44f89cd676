"""Figures with matplotlib: prices by period, allocations and verification energy by type, any
result against any swept parameter, and the replication figure.

Every function takes plain data (solution dictionaries as :meth:`~emgame.results.Solution.to_dict`
gives them, or arrays) and returns a :class:`matplotlib.figure.Figure` drawn on an Agg canvas:
no pyplot, no global backend, nothing shown; :func:`save` writes PNG, SVG or PDF by the file's
suffix. Axes carry labels with units (the model's units: electricity and goods in their own
units, prices relative to goods), so that a figure reads without a caption. Legends stand beside
the axes, never on the data, and name parameters by their labels; a sweep's line breaks where a
point is not an equilibrium, and a whole-number parameter (a count) is drawn as points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emgame.report.curves import reference_curve
from emgame.report.labels import (
    COLUMN_LABELS,
    PATH_LABELS,
    RELATIVE_PRICE,
    column_label,
    electricity_unit,
    parameter_label,
    plain,
    price_label,
    short_label,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["COLUMN_LABELS", "PATH_LABELS", "RELATIVE_PRICE", "Fit", "Series",
           "allocations_figure", "column_label", "fit_power_law", "lump_types",
           "parameter_label", "plain", "prices_figure", "reference_curve",
           "replication_figure", "save", "short_label", "sweep_figure", "sweep_panels",
           "to_bytes"]

CONCEPT_NAMES = {"nash": "Nash", "competitive": "competitive"}
CONCEPT_STYLE = {"nash": {"color": "#1f5fa8", "linestyle": "-", "marker": "o"},
                 "competitive": {"color": "#d9730d", "linestyle": "--", "marker": "s"}}
FORMATS = ("png", "svg", "pdf")
FORMAT_NAMES = ".png, .svg or .pdf"
MAX_TYPES_DRAWN = 12
"""Types drawn one by one in an allocations figure; the rest are one "other types" bar."""
WIDTH, HEIGHT = 7.5, 4.4

def _log_ticks(ax: Axes, values: np.ndarray) -> None:
    """On a log x axis with few distinct values, tick those values in plain numbers."""
    from matplotlib.ticker import NullFormatter

    v = np.unique(values[np.isfinite(values) & (values > 0)])
    if 0 < v.size <= 12:
        ax.set_xticks(v)
        ax.set_xticklabels([f"{x:g}" for x in v])
        ax.xaxis.set_minor_formatter(NullFormatter())


# --------------------------------------------------------------------------------------------
# Infrastructure.
# --------------------------------------------------------------------------------------------


def new_figure(width: float = WIDTH, height: float = HEIGHT, *, ncols: int = 1,
               nrows: int = 1, **kw: Any) -> tuple[Figure, Any]:
    """A figure on its own Agg canvas (no pyplot, no global backend) and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, **kw)
    return fig, axes


_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}
"""No timestamps in vector output, so that the same figure gives the same file."""


def save(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path``; the suffix (``.png``, ``.svg`` or ``.pdf``) picks the format
    (PDF and SVG are vector graphics, for papers).

    Raises
    ------
    ValueError
        For another suffix.
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"{target}: figures are written as {FORMAT_NAMES}, not "
                         f"{target.suffix!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format=fmt, dpi=dpi, metadata=_METADATA.get(fmt))
    return target


def to_bytes(fig: Figure, fmt: str = "png", *, dpi: int = 110) -> bytes:
    """The figure as PNG or SVG bytes (for embedding)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata=_METADATA.get(fmt))
    return buf.getvalue()


def _style(ax: Axes) -> None:
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _arr(values: Sequence[Any] | None) -> np.ndarray:
    if values is None:
        return np.array([], dtype=float)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _labels(sol: Mapping[str, Any], T: int) -> list[str]:
    labels = sol.get("periods")
    return list(labels) if labels and len(labels) == T else [str(t) for t in range(1, T + 1)]


def _tick_periods(ax: Axes, labels: Sequence[str]) -> None:
    T = len(labels)
    step = max(1, math.ceil(T / 12))
    ticks = list(range(0, T, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([labels[i] for i in ticks], rotation=0 if T <= 12 else 45)


def _title(sol: Mapping[str, Any], what: str) -> str:
    name = sol.get("economy") or ""
    return f"{what} — {name}" if name else what


def _status_note(solutions: Mapping[str, Mapping[str, Any]]) -> str:
    bad = [f"{CONCEPT_NAMES.get(c, c)}: {s.get('status')}" for c, s in solutions.items()
           if s.get("status") != "equilibrium"]
    return ("NOT an equilibrium — " + "; ".join(bad)) if bad else ""


# --------------------------------------------------------------------------------------------
# One economy.
# --------------------------------------------------------------------------------------------


def _subtitle(fig: Figure, ax: Axes, subtitle: str) -> None:
    """Which point of a sweep the figure shows, under the title."""
    if subtitle:
        ax.text(0.0, 1.01, subtitle, transform=ax.transAxes, fontsize=8, color="#555555",
                ha="left", va="bottom")


def prices_figure(solutions: Mapping[str, Mapping[str, Any]], *, subtitle: str = "",
                  baseline: Mapping[str, Mapping[str, Any]] | None = None,
                  label: str = "", baseline_label: str = "baseline") -> Figure:
    """Relative prices ``p^t/p^0`` by period, Nash beside competitive, in the economy's units
    when it names them (``USD/MWh``).

    Parameters
    ----------
    solutions : mapping concept -> solution dict
        ``{"nash": ..., "competitive": ...}`` (either may be missing).
    subtitle : str
        Which point of a sweep this is (drawn under the title).
    baseline : mapping concept -> solution dict, optional
        Another economy's solutions drawn beside, in the same colours with thin dotted lines
        and open markers (e.g. the same day without storage).
    label, baseline_label : str
        What tells the two apart in the legend (``"with storage"``, ``"without storage"``).
    """
    fig, ax = new_figure()
    _style(ax)
    labels: list[str] = []
    drawn = 0
    sets = [(solutions, label, False)]
    if baseline:
        sets.append((baseline, baseline_label, True))
    for sols, tag, thin in sets:
        for concept in ("nash", "competitive"):
            sol = sols.get(concept)
            if not sol or sol.get("relative_prices") is None:
                continue
            rel = _arr(sol["relative_prices"])
            labels = _labels(sol, len(rel))
            style = CONCEPT_STYLE[concept]
            ok = sol.get("status") == "equilibrium"
            name = CONCEPT_NAMES[concept] + (f", {tag}" if tag and baseline else "")
            ax.plot(np.arange(len(rel)), rel, color=style["color"],
                    linestyle=":" if thin else style["linestyle"], marker=style["marker"],
                    markersize=3.5, linewidth=1.1 if thin else 1.6,
                    markerfacecolor="none" if thin else style["color"],
                    alpha=0.75 if thin else 1.0,
                    label=name + ("" if ok else " (NOT an equilibrium)"))
            drawn += 1
    if labels:
        _tick_periods(ax, labels)
    first = next(iter(solutions.values()), {})
    ax.set_xlabel("period")
    ax.set_ylabel(price_label(first))
    ax.set_title(_title(first, "Prices by period"), fontsize=11, pad=14 if subtitle else 6)
    _subtitle(fig, ax, subtitle)
    if drawn:
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.text(0.5, 0.5, "no prices: " + _status_note(solutions), transform=ax.transAxes,
                ha="center", va="center")
    note = _status_note({**{f"{k} ({baseline_label})": v for k, v in (baseline or {}).items()},
                         **solutions})
    if note and drawn:
        fig.suptitle(note, color="#b00020", fontsize=9)
    return fig


_ROLE_KEYS = {"consumer": "consumers", "producer": "producers", "storage": "storage"}


def _type_rows(sol: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(role, r) for role, key in _ROLE_KEYS.items() for r in sol.get(key) or []]


def _expected(per_state: Sequence[Sequence[Any]] | None, probs: np.ndarray | None) -> np.ndarray:
    a = np.array([[np.nan if v is None else float(v) for v in row] for row in per_state or []],
                 dtype=float)
    if a.size == 0:
        return a
    if probs is None or len(probs) != a.shape[0]:
        probs = np.full(a.shape[0], 1.0 / a.shape[0])
    return probs @ a


def lump_types(solutions: Mapping[str, Mapping[str, Any]],
               probabilities: Sequence[float] | None = None,
               keep: int = MAX_TYPES_DRAWN) -> dict[str, dict[str, Any]]:
    """The solutions with at most ``keep`` types each: the ``keep - 1`` that consume the most
    electricity in all (in the first concept) and one ``other N types`` row holding the rest
    (its count their agents, its per-agent quantities their agent-weighted means)."""
    probs = None if probabilities is None else np.asarray(probabilities, float)
    concepts = [c for c in solutions if solutions[c].get("consumers") is not None]
    if not concepts:
        return dict(solutions)  # type: ignore[arg-type]
    main = solutions[concepts[0]]
    rows = _type_rows(main)
    if len(rows) <= keep:
        return dict(solutions)  # type: ignore[arg-type]
    totals = [float(np.nansum(_expected(r.get("consumption"), probs))) * float(r.get("count", 1))
              for _, r in rows]
    top = {rows[i][1]["name"] for i in np.argsort(totals)[::-1][:keep - 1]}
    out: dict[str, dict[str, Any]] = {}
    for c, sol in solutions.items():
        kept: dict[str, list[Mapping[str, Any]]] = {k: [] for k in _ROLE_KEYS.values()}
        rest = []
        for role, r in _type_rows(sol):
            (kept[_ROLE_KEYS[role]] if r["name"] in top else rest).append(r)
        if rest:
            n = np.array([float(r.get("count", 1)) for r in rest])
            other: dict[str, Any] = {"name": f"other {len(rest):,} types",
                                     "count": float(n.sum())}
            for key in ("consumption", "verification"):
                mats = [_expected(r.get(key), probs) for r in rest]
                if all(m.size for m in mats):
                    other[key] = [(n @ np.array(mats) / n.sum()).tolist()]
            kept["consumers"].append(other)
        out[c] = {**sol, **kept}
    return out


def allocations_figure(solutions: Mapping[str, Mapping[str, Any]],
                       probabilities: Sequence[float] | None = None, *,
                       subtitle: str = "") -> Figure:
    """Allocations and verification energy by type.

    Left: electricity consumed in each period, stacked by type (all agents of the type), for
    the first concept given (Nash when present), with the other concept's total as a line.
    Right: per agent of each type, electricity consumed and burnt by verification over the
    day, Nash beside competitive. With more than :data:`MAX_TYPES_DRAWN` types, the largest
    are drawn and the rest summed as one (:func:`lump_types`).

    Parameters
    ----------
    solutions : mapping concept -> solution dict
    probabilities : sequence of float, optional
        State probabilities (for expected consumption and verification); equal if omitted.
    subtitle : str
        Which point of a sweep this is.
    """
    lumped = lump_types(solutions, probabilities)
    if lumped is not solutions:
        solutions = lumped
        probabilities = None if any(len(r.get("consumption") or []) != 1 for s in lumped.values()
                                    for _, r in _type_rows(s)) else [1.0]
    fig, (ax1, ax2) = new_figure(12.5, 4.8, ncols=2, gridspec_kw={"width_ratios": [1.1, 1]})
    _style(ax1)
    _style(ax2)
    probs = None if probabilities is None else np.asarray(probabilities, float)
    concepts = [c for c in ("nash", "competitive") if solutions.get(c)
                and solutions[c].get("consumers")]
    if not concepts:
        ax1.text(0.5, 0.5, "no allocation: " + _status_note(solutions), transform=ax1.transAxes,
                 ha="center", va="center")
        return fig
    main = solutions[concepts[0]]
    rows = _type_rows(main)
    T = len(main.get("relative_prices") or [])
    labels = _labels(main, T)
    x = np.arange(T)
    stack = []
    names = []
    for role, r in rows:
        con = _expected(r.get("consumption"), probs)
        if con.size == 0:
            continue
        stack.append(np.nan_to_num(con) * float(r.get("count", 1)))
        names.append(f"{r['name']} ({role})")
    if stack:
        ax1.stackplot(x, np.array(stack), labels=names, alpha=0.85)
    for other in concepts[1:]:
        tot = np.zeros(T)
        for _, r in _type_rows(solutions[other]):
            con = _expected(r.get("consumption"), probs)
            if con.size:
                tot += np.nan_to_num(con) * float(r.get("count", 1))
        ax1.plot(x, tot, color="black", linestyle="--", linewidth=1.4,
                 label=f"total, {CONCEPT_NAMES[other]}")
    _tick_periods(ax1, labels)
    ax1.set_xlabel("period")
    unit = electricity_unit(main)
    ax1.set_ylabel(f"electricity consumed ({unit} per period, all agents)")
    ax1.set_title(f"Consumption by type ({CONCEPT_NAMES[concepts[0]]})", fontsize=11)
    ax1.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2),
               ncol=3)

    type_names = [r["name"] for _, r in rows]
    width = 0.8 / max(1, len(concepts))
    pos = np.arange(len(type_names))
    for k, concept in enumerate(concepts):
        by_name = {r["name"]: r for _, r in _type_rows(solutions[concept])}
        consumed, burnt = [], []
        for name in type_names:
            r = by_name.get(name, {})
            consumed.append(np.nansum(_expected(r.get("consumption"), probs)))
            burnt.append(np.nansum(_expected(r.get("verification"), probs)))
        color = CONCEPT_STYLE[concept]["color"]
        xs = pos + (k - (len(concepts) - 1) / 2) * width
        ax2.bar(xs, consumed, width * 0.95, color=color, alpha=0.85,
                label=f"consumed, {CONCEPT_NAMES[concept]}")
        ax2.bar(xs, burnt, width * 0.95, bottom=consumed, color=color, alpha=0.35,
                hatch="///", edgecolor=color,
                label=f"burnt by verification, {CONCEPT_NAMES[concept]}")
    ax2.set_xticks(pos)
    ax2.set_xticklabels(type_names, rotation=30, ha="right", fontsize=8)
    ax2.set_ylabel(f"electricity per agent ({unit}, whole day)")
    tops = [p.get_height() + p.get_y() for p in ax2.patches]
    top = max([t for t in tops if np.isfinite(t)], default=1.0)
    if _wide(ax2):
        ax2.set_yscale("symlog", linthresh=1e-3)
        ax2.set_ylim(0, top * 3)  # room above the tallest bar on a log scale
    else:
        ax2.set_ylim(0, top * 1.08 if top > 0 else 1.0)
    ax2.set_title("Per agent: consumed and burnt by verification", fontsize=11)
    # Below the axes, as the left panel's: inside it would sit on the bars.
    ax2.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.3),
               ncol=2)
    fig.suptitle(_title(main, "Allocations and verification energy")
                 + (f"\n{subtitle}" if subtitle else "")
                 + (f"\n{_status_note(solutions)}" if _status_note(solutions) else ""),
                 fontsize=11)
    return fig


def _wide(ax: Axes) -> bool:
    """Whether bar heights span several orders of magnitude (then a symlog scale reads better)."""
    heights = [p.get_height() + p.get_y() for p in ax.patches if p.get_height() > 0]
    return bool(heights) and max(heights) / max(min(heights), 1e-12) > 300


# --------------------------------------------------------------------------------------------
# Sweeps.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One line of a sweep figure: ``y`` against ``x``, with a legend label and a concept."""

    label: str
    x: np.ndarray
    y: np.ndarray
    concept: str | None = None
    style: Mapping[str, Any] = field(default_factory=dict)


def _panel(ax: Axes, series: Sequence[Series], *, ylabel: str, logx: bool, logy: bool,
           reference: Callable[[np.ndarray], np.ndarray] | None = None,
           reference_label: str = "reference", note: str = "", discrete: bool = False,
           legend: bool = True) -> None:
    """One panel: a line per series, broken where ``y`` is NaN (a point that is not an
    equilibrium: nothing is drawn through it); with ``discrete`` (a whole-number parameter such
    as a count) points only, no line between them."""
    _style(ax)
    palette = ["#1f5fa8", "#d9730d", "#2a9d55", "#b5179e", "#7f5539", "#6c757d", "#e63946"]
    xs_all = []
    for k, s in enumerate(series):
        order = np.argsort(s.x, kind="stable")
        x, y = np.asarray(s.x, float)[order], np.asarray(s.y, float)[order]
        xs_all.append(x)
        style = dict(CONCEPT_STYLE.get(s.concept or "", {}))
        if len(series) > 2 or not style:
            style["color"] = palette[k % len(palette)]
        style.update(s.style)
        style.setdefault("marker", "o")
        if discrete:
            style["linestyle"] = "none"
        ax.plot(x, y, label=s.label, markersize=4.5 if discrete else 3.5, linewidth=1.5,
                **style)
    if reference is not None and xs_all:
        allx = np.concatenate(xs_all)
        allx = allx[np.isfinite(allx)]
        if allx.size:
            lo, hi = float(allx.min()), float(allx.max())
            grid = (np.geomspace(lo, hi, 200) if logx and lo > 0 else np.linspace(lo, hi, 200))
            with np.errstate(all="ignore"):
                ref = np.asarray(reference(grid), dtype=float) * np.ones_like(grid)
            ax.plot(grid, ref, color="black", linestyle=":", linewidth=1.6,
                    label=reference_label, zorder=0)
    if logx:
        ax.set_xscale("log")
        if xs_all:
            _log_ticks(ax, np.concatenate(xs_all))
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    if legend and (series or reference is not None):
        # Beside the axes: a legend inside would sit on the data.
        box = ax.legend(frameon=False, fontsize=8, title=note or None, title_fontsize=7,
                        loc="upper left", bbox_to_anchor=(1.01, 1.0))
        if note:
            box.get_title().set_color("#b00020")
    if not series:
        ax.text(0.5, 0.5, "no equilibria to plot", transform=ax.transAxes, ha="center",
                va="center", color="#b00020")


def sweep_figure(series: Sequence[Series], *, xlabel: str, ylabel: str, title: str = "",
                 logx: bool = False, logy: bool = False,
                 reference: Callable[[np.ndarray], np.ndarray] | None = None,
                 reference_label: str = "reference", note: str = "",
                 discrete: bool = False) -> Figure:
    """Any result against a swept parameter; one line per concept (and per value of a second
    parameter), points only for a whole-number parameter (``discrete``); an optional
    reference curve (e.g. a closed form)."""
    fig, ax = new_figure(WIDTH + 1.6)
    _panel(ax, series, ylabel=ylabel, logx=logx, logy=logy, reference=reference,
           reference_label=reference_label, note=note, discrete=discrete)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def sweep_panels(panels: Sequence[tuple[Sequence[Series], str]], *, xlabel: str,
                 title: str = "", logx: bool = False, logy: bool = False,
                 note: str = "", discrete: bool = False) -> Figure:
    """Several results against the same swept parameter, one panel each (stacked, shared x).

    Parameters
    ----------
    panels : sequence of (series, ylabel)
    """
    if len(panels) == 1:
        (series, ylabel), = panels
        return sweep_figure(series, xlabel=xlabel, ylabel=ylabel, title=title, logx=logx,
                            logy=logy, note=note, discrete=discrete)
    fig, axes = new_figure(WIDTH + 1.6, 2.6 * len(panels) + 0.6, nrows=len(panels),
                           sharex=True)
    for k, (ax, (series, ylabel)) in enumerate(zip(axes, panels, strict=True)):
        # units on a second line: three long labels side by side would overlap; one legend,
        # beside the first panel (the series are the same in every panel)
        _panel(ax, series, ylabel=ylabel.replace(" (", "\n(", 1), logx=logx, logy=logy,
               note=note if k == 0 else "", discrete=discrete, legend=k == 0)
        ax.yaxis.label.set_size(9)
    axes[-1].set_xlabel(xlabel)
    if title:
        axes[0].set_title(title, fontsize=11)
    return fig


@dataclass(frozen=True)
class Fit:
    """A power law ``gap ≈ a · n^b`` fitted by least squares in logs."""

    a: float
    b: float
    points: int

    def __call__(self, n: np.ndarray) -> np.ndarray:
        return self.a * np.asarray(n, float) ** self.b


def fit_power_law(n: Sequence[float], gap: Sequence[float]) -> Fit | None:
    """Least squares of ``log gap`` on ``log n`` (positive, finite pairs only)."""
    n_, g_ = np.asarray(n, float), np.asarray(gap, float)
    ok = np.isfinite(n_) & np.isfinite(g_) & (n_ > 0) & (g_ > 0)
    if ok.sum() < 2:
        return None
    b, loga = np.polyfit(np.log(n_[ok]), np.log(g_[ok]), 1)
    return Fit(float(np.exp(loga)), float(b), int(ok.sum()))


def replication_figure(n: Sequence[float], gap: Sequence[float], *,
                       xlabel: str = "replication factor $n$ (× base counts)",
                       title: str = "Nash → competitive under replication",
                       ylabel: str = "gap to the competitive equilibrium\n"
                                     r"$\max_t\ |p_N^t - p_C^t|\ /\ p_C^t$ (relative prices)"
                       ) -> tuple[Figure, Fit | None]:
    """The gap between Nash and competitive relative prices against ``n``, log–log, with the
    fitted rate ``gap ∝ n^b``."""
    n_, g_ = np.asarray(n, float), np.asarray(gap, float)
    order = np.argsort(n_)
    n_, g_ = n_[order], g_[order]
    fit = fit_power_law(n_, g_)
    fig, ax = new_figure()
    _style(ax)
    ok = (n_ > 0) & (g_ > 0)
    ax.plot(n_[ok], g_[ok], "o-", color=CONCEPT_STYLE["nash"]["color"], markersize=4,
            linewidth=1.4, label="Nash vs competitive")
    if fit is not None:
        grid = np.geomspace(n_[ok].min(), n_[ok].max(), 100)
        ax.plot(grid, fit(grid), ":", color="black", linewidth=1.6,
                label=f"fit: {fit.a:.3g} · $n^{{{fit.b:.3f}}}$")
    if ok.any():
        ax.set_xscale("log")
        ax.set_yscale("log")
        _log_ticks(ax, n_[ok])
    else:
        ax.text(0.5, 0.5, "no pairs of equilibria to compare", transform=ax.transAxes,
                ha="center", va="center", color="#b00020")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title + (f" (rate $n^{{{fit.b:.3f}}}$)" if fit else ""), fontsize=11)
    ax.legend(frameon=False, loc="lower left")  # the gap falls to the right: the corner is free
    return fig, fit
