"""The learning section of an HTML report: self-contained (inline style, figures as base64 PNG,
no script, no external resource), one part per run and one per study."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from emgame.learning import figures
from emgame.learning.store import LearningStore
from emgame.learning.summary import summarise

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1150px; color: #222; line-height: 1.45; padding: 0 1em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.25em 0.7em; text-align: right; }
th { background: #f4f6f8; font-weight: 600; }
td.text, th.text { text-align: left; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.85em; }
.note { background: #fff8e1; border-left: 4px solid #f0b429; padding: 0.5em 0.8em; }
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _n(x: Any, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if not math.isfinite(f):
        return "—" if math.isnan(f) else ("∞" if f > 0 else "−∞")
    return f"{f:.{digits}g}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th class=\"{'text' if i == 0 else ''}\">{_e(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(
        f"<td class=\"text\">{_e(v)}</td>" if (i == 0 or isinstance(v, str)) else
        f"<td>{_n(v)}</td>" for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(fig: Any, alt: str, caption: str) -> str:
    data = base64.b64encode(figures.to_png(fig)).decode("ascii")
    return (f"<figure><img alt=\"{_e(alt)}\" src=\"data:image/png;base64,{data}\">"
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _stat_row(name: str, s: Mapping[str, Any]) -> list[Any]:
    return [name, s.get("mean"), s.get("sd"), s.get("min"), s.get("max"), s.get("n")]


def run_section(store: LearningStore, run: Mapping[str, Any]) -> str:
    """One run: benchmarks, the summary across sessions, patterns and figures."""
    sessions = store.sessions(run["run_id"], with_paths=True)
    s = summarise(run, sessions)
    g = run["game"]
    out = [f"<h3>{_e(run['name'])}</h3>",
           f"<p>{_e(run['environment'])} environment, algorithm {_e(run['algorithm'])}, "
           f"learners: {_e(', '.join(g['learners']))}; action: {_e(g['action_label'])}; "
           f"{s['sessions']} sessions, {_n(100 * (s['converged_share'] or 0), 3)}% converged "
           f"(run {_e(run['run_id'])}).</p>"]
    rows = []
    for k, b in g["benchmarks"].items():
        rows.append([k, b["price_index"], ", ".join(_n(x) for x in (b["payoffs"] or [])) or "—",
                     b["status"] + (f": {b['reason']}" if b["reason"] else "")])
    rows.append(["learned (mean over sessions)", s["price_index"]["mean"], "—", ""])
    out.append(_table(["outcome", f"mean {g['price_label']}", "learners' payoffs", "status"],
                      rows))
    out.append(_table(["across sessions", "mean", "sd", "min", "max", "n"], [
        _stat_row("profit gain Δ (mean over learners)", s["delta"]),
        _stat_row("learners' payoff vs Nash, (π̄ − π_N)/|π_N|", s["payoff_vs_nash"]),
        _stat_row("rounds to convergence", s["rounds"]),
        _stat_row("seconds per session", s["seconds"]),
        _stat_row("electricity burnt per round (learned play)", s["burnt"]),
        _stat_row("electricity burnt per round (all rounds played)", s["burnt_all"]),
        _stat_row("grid regret (largest learner)", s["grid_regret"]),
        _stat_row("external regret (largest learner)", s["external_regret"]),
        _stat_row("certificate: regret at final play", s["regret_final"]),
        _stat_row("certificate: regret at time-averaged play", s["regret_average"]),
    ]))
    if s["patterns"]:
        keys = list(dict.fromkeys(list(s["patterns"]) + list(s["patterns_all"])))[:12]
        out.append(_table(["participation pattern", "share of learned rounds",
                           "share of all rounds played"],
                          [[k, s["patterns"].get(k, 0.0), s["patterns_all"].get(k, 0.0)]
                           for k in keys]))
    price_of_joint = np.asarray(store.game(run["run_id"]).price_index)
    thin = int(run["config"].get("thin", 1000))
    out.append(_img(figures.price_paths(run, sessions, price_of_joint, thin=thin),
                    "price paths", "Price index along the first sessions' paths, beside the "
                    "Nash, competitive and collusive prices."))
    out.append(_img(figures.delta_histogram(sessions), "profit gain",
                    "Calvano's profit gain Δ across sessions (0: Nash, 1: collusive)."))
    if s["impulse"]:
        out.append(_img(figures.impulse(s, run), "impulse response",
                        "One learner plays its static best reply for one round (τ = 0); "
                        "then all follow their learned strategies."))
    return "\n".join(out)


def study_points(store: LearningStore, runs: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """Study runs grouped by parameter: value, learned price, benchmarks and Δ."""
    groups: dict[str, list] = {}
    for run in runs:
        p = run.get("point")
        if not p:
            continue
        s = summarise(run, store.sessions(run["run_id"]))
        bench = {k: (v["price_index"] if (k != "collusive" or v["status"] == "ok") else None)
                 for k, v in run["game"]["benchmarks"].items()}
        groups.setdefault(p["path"], []).append({
            "value": p["value"], "label": p["label"], "price": s["price_index"]["mean"],
            "bench": bench, "delta": s["delta"]["mean"], "delta_sd": s["delta"]["sd"],
            "payoff_vs_nash": s["payoff_vs_nash"]["mean"],
            "payoff_vs_nash_sd": s["payoff_vs_nash"]["sd"],
            "converged": s["converged_share"], "sessions": s["sessions"]})
    for v in groups.values():
        v.sort(key=lambda p: p["value"])
    return groups


def learning_section(store: LearningStore) -> str:
    """Every run and study in the store."""
    runs = store.runs()
    if not runs:
        return "<h2>Learning</h2><p>No learning runs in this store.</p>"
    out = ["<h2>Learning agents</h2>",
           "<p class=\"note\">Learners choose from a finite grid; each round is one play of the "
           "stage game (docs/learning.md). Δ = (π̄ − π_N)/(π_M − π_N): 0 at Nash, 1 at the "
           "collusive benchmark; undefined where collusion does not pay.</p>"]
    for path, pts in study_points(store, runs).items():
        out.append(f"<h3>Study: {_e(pts[0]['label'])}</h3>")
        out.append(_table([pts[0]["label"], "learned price", "Nash", "competitive", "collusive",
                           "Δ mean", "Δ sd", "converged", "sessions"],
                          [[_n(p["value"]), p["price"], p["bench"].get("nash"),
                            p["bench"].get("competitive"), p["bench"].get("collusive"),
                            p["delta"], p["delta_sd"], p["converged"], p["sessions"]]
                           for p in pts]))
        out.append(_img(figures.study(pts, pts[0]["label"]), f"study {path}",
                        "Learned prices beside Nash, competitive and collusive (top); "
                        "profit gain Δ, mean ± sd over sessions (bottom)."))
    for run in runs:
        out.append(run_section(store, run))
    return "\n".join(out)


def learning_page(store: LearningStore, title: str = "emgame: learning agents") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{_e(title)}</h1>\n{learning_section(store)}\n</body>\n</html>\n")
