"""Figures of learning runs (matplotlib, Agg canvas, nothing shown): price paths beside the
Nash, competitive and collusive prices, Δ across sessions, impulse responses, and a study's
Δ and prices against its parameter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

BENCH_STYLE = {"nash": ("Nash", "#1f5fa8", "-"), "competitive": ("competitive", "#d9730d", "--"),
               "collusive": ("collusive", "#8e2b8e", ":")}


def _style(ax: Any) -> None:
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _benchmarks(ax: Any, bench: Mapping[str, Any]) -> None:
    for key, (label, color, ls) in BENCH_STYLE.items():
        b = bench.get(key)
        if b and b.get("price_index") is not None and np.isfinite(b["price_index"]) and \
                (key != "collusive" or b.get("status") == "ok"):
            ax.axhline(b["price_index"], color=color, linestyle=ls, linewidth=1.4,
                       label=f"{label} {b['price_index']:.4g}")


def price_paths(run: Mapping[str, Any], sessions: Sequence[Mapping[str, Any]],
                price_of_joint: np.ndarray, *, thin: int, show: int = 6) -> Figure:
    """The price index along the thinned paths of the first ``show`` sessions."""
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    for s in sessions[:show]:
        path = np.asarray(s.get("path") or [], dtype=np.int64)
        if path.size == 0:
            continue
        x = np.arange(path.size) * thin
        y = price_of_joint[path]
        w = max(1, path.size // 100)       # a moving average: exploration makes raw play noisy
        if w > 1:
            y = np.convolve(y, np.ones(w) / w, mode="valid")
            x = x[w - 1:]
        ax.plot(x, y, linewidth=0.9, alpha=0.85)
    _benchmarks(ax, run["game"]["benchmarks"])
    ax.set_xlabel("round")
    ax.set_ylabel(f"mean {run['game']['price_label']}")
    ax.set_title(f"price paths ({min(show, len(sessions))} sessions; every {thin}th round, "
                 "moving average over 1% of the path)", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    _style(ax)
    fig.tight_layout()
    return fig


def delta_histogram(sessions: Sequence[Mapping[str, Any]]) -> Figure:
    """Δ (mean over learners) across sessions."""
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    d = np.array([s["mean_delta"] for s in sessions if s["mean_delta"] is not None], float)
    if d.size:
        ax.hist(d, bins=min(40, max(5, d.size // 5)), color="#1f5fa8", alpha=0.8)
        ax.axvline(d.mean(), color="black", linewidth=1.2, label=f"mean Δ = {d.mean():.3f}")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "Δ undefined (no collusive gain)", ha="center", transform=ax.transAxes)
    ax.axvline(0.0, color="#1f5fa8", linestyle="-", linewidth=0.8)
    ax.axvline(1.0, color="#8e2b8e", linestyle=":", linewidth=0.8)
    ax.set_xlabel(r"profit gain $\Delta = (\bar\pi - \pi_N)/(\pi_M - \pi_N)$")
    ax.set_ylabel("sessions")
    _style(ax)
    fig.tight_layout()
    return fig


def impulse(summary: Mapping[str, Any], run: Mapping[str, Any]) -> Figure:
    """Mean impulse response: price index and actions, τ = -1 (before) .. 25."""
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot(1, 2, 1)
    imp = summary["impulse"]
    tau = np.arange(len(imp["price_index"])) - 1
    ax.plot(tau, imp["price_index"], marker="o", markersize=3, color="black", label="learned")
    _benchmarks(ax, run["game"]["benchmarks"])
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel(r"rounds after the deviation $\tau$")
    ax.set_ylabel(f"mean {run['game']['price_label']}")
    ax.legend(fontsize=7)
    _style(ax)
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.plot(tau, imp["deviator"], marker="o", markersize=3, label="deviating learner")
    ax2.plot(tau, imp["rivals"], marker="s", markersize=3, label="rivals")
    ax2.axvline(0, color="#999999", linewidth=0.8)
    ax2.set_xlabel(r"rounds after the deviation $\tau$")
    ax2.set_ylabel(run["game"]["action_label"])
    ax2.legend(fontsize=7)
    _style(ax2)
    fig.suptitle(f"impulse response (mean of {imp['sessions']} sessions; rivals punish in "
                 f"{100 * imp['punished_share']:.0f}%)", fontsize=10)
    fig.tight_layout()
    return fig


def study(points: Sequence[Mapping[str, Any]], label: str) -> Figure:
    """A study against one parameter: learned price index beside Nash, competitive and
    collusive (top), Δ mean ± sd (bottom)."""
    fig = Figure(figsize=(7.5, 6.0))
    ax = fig.add_subplot(2, 1, 1)
    x = np.array([p["value"] for p in points], float)
    for key, (name, color, ls) in BENCH_STYLE.items():
        y = np.array([np.nan if p["bench"].get(key) is None else p["bench"][key] for p in points],
                     float)
        ax.plot(x, y, color=color, linestyle=ls, marker=".", label=name)
    y = np.array([np.nan if p["price"] is None else p["price"] for p in points], float)
    ax.plot(x, y, color="black", marker="o", label="learned (mean over sessions)")
    ax.set_ylabel("mean relative price $p^t/p^0$")
    ax.legend(fontsize=8)
    _style(ax)
    ax2 = fig.add_subplot(2, 1, 2, sharex=ax)
    m = np.array([np.nan if p["delta"] is None else p["delta"] for p in points], float)
    sd = np.array([np.nan if p["delta_sd"] is None else p["delta_sd"] for p in points], float)
    if np.any(np.isfinite(m)):
        ax2.errorbar(x, m, yerr=sd, color="black", marker="o", capsize=3)
        ax2.axhline(0.0, color="#1f5fa8", linewidth=0.8)
        ax2.axhline(1.0, color="#8e2b8e", linestyle=":", linewidth=0.8)
        ax2.set_ylabel(r"profit gain $\Delta$")
    else:
        # Δ is undefined where withholding does not pay (π_M = π_N): show the learners'
        # payoff against Nash instead.
        g = np.array([np.nan if p.get("payoff_vs_nash") is None else p["payoff_vs_nash"]
                      for p in points], float)
        gs = np.array([np.nan if p.get("payoff_vs_nash_sd") is None else p["payoff_vs_nash_sd"]
                       for p in points], float)
        ax2.errorbar(x, g, yerr=gs, color="black", marker="o", capsize=3)
        ax2.axhline(0.0, color="#1f5fa8", linewidth=0.8)
        ax2.set_ylabel("learners' payoff vs Nash\n"
                       + r"$(\bar\pi - \pi_N)/|\pi_N|$ ($\Delta$ undefined)")
    lo, hi = ax2.get_ylim()
    if max(abs(lo), abs(hi)) < 1e-2:   # rounding noise around Nash: do not magnify it
        ax2.set_ylim(-1e-2, 1e-2)
    ax2.set_xticks(x)
    ax2.set_xticklabels([f"{v:g}" for v in x])
    ax2.set_xlabel(label)
    ax2.set_ylabel(r"profit gain $\Delta$")
    _style(ax2)
    fig.tight_layout()
    return fig


def to_png(fig: Figure) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()
