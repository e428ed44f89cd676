"""Classify the campaign's cases and print the tables (see :mod:`.run`).

A *case* is one economy and one concept. Classes:

``agree``            both certified an equilibrium, the same one (relative prices within 1e-6,
                     consumption and goods of every type within 1e-5)
``differ``           both certified one, different ones (several equilibria, or an
                     indeterminate split of constant-returns output; the note says which)
``emgame only``      emgame certified one (and the independent checker accepts it) that the
                     independent solver did not find
``emgame miss``      the independent solver found and checked one; emgame did not (its status
                     and reason are kept, with whether the candidate it declined passes the
                     independent checker)
``neither``          neither found one (both reasons kept)
``FALSE CERTIFICATE`` emgame certified a profile the independent checker rejects (a serious
                     bug: the record has the violations, the economy is in ``failing/``)
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from .generator import features, random_economy

CLASSES = ("agree", "differ", "emgame only", "emgame miss", "neither", "FALSE CERTIFICATE")
PRICE_TOL = 1e-6
ALLOC_TOL = 1e-5


def _arr(a) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.ravel(a)], float)


def _maxrel(a, b, floor: float = 1e-9) -> float:
    """Largest ``|a - b| / max(|b|, floor)``; inf where one is finite and the other not."""
    a, b = _arr(a), _arr(b)
    if a.shape != b.shape or np.any(np.isfinite(a) != np.isfinite(b)):
        return np.inf
    both = np.isfinite(a) & np.isfinite(b)
    if not np.any(both):
        return 0.0
    return float(np.max(np.abs(a[both] - b[both]) / np.maximum(np.abs(b[both]), floor)))


def compare(x: dict, y: dict) -> tuple[float, float, float]:
    """``(prices, consumption and goods, producers' offers)``: largest relative differences;
    quantities below a thousandth of the economy's largest are compared in absolute terms,
    against that thousandth (a goods residue of 2e-9 where the other solver has 0 is a
    difference of 1e-6 of it, within ``ALLOC_TOL``; against a millionth it read as 1e-3 and
    two equal equilibria as "differ": campaign-2-0023, -0028)."""
    dp = _maxrel(x["relative_prices"], y["relative_prices"])
    rows = [(u, v, role) for role in ("consumers", "producers")
            for u, v in zip(x[role], y[role], strict=True)]

    def vec(d):
        return np.concatenate([_arr(d["consumption"]), _arr([d["goods"]])])

    scale = max([float(np.nanmax(np.abs(vec(v)), initial=0.0)) for _, v, _ in rows] + [1e-300])
    qscale = max([float(np.nanmax(np.abs(_arr(v["offers"])), initial=0.0))
                  for _, v, r in rows if r == "producers"] + [1e-300])
    da = max([_maxrel(vec(u), vec(v), 1e-3 * scale) for u, v, _ in rows] + [0.0])
    do = max([_maxrel(u["offers"], v["offers"], 1e-3 * qscale) for u, v, r in rows
              if r == "producers"] + [0.0])
    return dp, da, do


def _own_reason(em: dict) -> str:
    """emgame's reason for the economy itself: what its shut-down search tried first names the
    reasons of smaller economies (e.g. a sole seller left without some type), not this one's."""
    reason = em.get("reason", "") or ""
    head = "nor with every type active: "
    return reason.split(head, 1)[1] if head in reason else reason


def _kept_out(ind: dict) -> bool:
    """Whether the independent equilibrium has some producer type play nothing at all."""
    prof = ind.get("profile") or {}
    bids, offers = prof.get("producer_bids") or [], prof.get("offers") or []
    return any(not any(b) and not any(q) for b, q in zip(bids, offers, strict=False))


def miss_cause(em: dict, feat: dict, ind: dict | None = None) -> str:
    """Why emgame did not certify an equilibrium the independent solver found (the groups of
    issue 10's to-do list, sharpened by the independent check of emgame's candidate)."""
    reason = _own_reason(em)
    st = em.get("status")
    if st in ("killed", "crashed"):
        return f"emgame {st}"
    if ind and _kept_out(ind) and "empty-wallet steady state, not shown to stay out by " \
            "choice" in (em.get("reason") or ""):
        # Stationary prepaid wallets: a type that plays nothing has wallet 0 and cannot
        # deviate, so the independent checker accepts it; emgame reports such a profile only
        # where the type would also stay out with money to spend (docs/model.md, Solution
        # concepts: an empty-wallet steady state is reported only by `solve_all`).
        return ("independent's keeps a type out by its empty wallet: solve declines such "
                "steady states, solve --all lists them")
    cand_ok = bool(em.get("check") and em["check"].get("ok"))
    notes = " ".join((em.get("certificate") or {}).get("notes") or [])
    ces_pos = any(float(r) > 0 for r in feat.get("ces_r") or [])
    if "failed its certificate" in reason:
        first_order = "first order" in reason or "supergradient" in notes
        if cand_ok:
            return ("declined a true equilibrium: CES bound only first order" if first_order
                    else "declined a true equilibrium: certificate")
        if ces_pos and "-inf" in reason:
            return "certificate failed at a CES r > 0 type with utility -inf (0 at zero?)"
        gains = [g for g in (em.get("check") or {}).get("gains", []) if not g.get("pass")]
        if any((g.get("objective") or 0) <= -1e300 for g in gains):
            return "certificate failed; candidate leaves a type at -inf that can do better"
        if gains and all("current_pattern" in g for g in gains) and any(
                sorted(g["pattern"]) != sorted(g["current_pattern"]) for g in gains):
            return "certificate failed; candidate has a wrong participation pattern"
        return "certificate failed; its candidate is not an equilibrium either"
    if "Newton's method did not converge" in reason:
        steep = "c=1" in feat["returns"] or "c>1" in feat["returns"]
        where = ("c >= 1 beside other producers" if steep and feat["returns"] not in
                 ("c=1", "c>1") else "c >= 1" if steep else "c < 1")
        return f"Nash: Newton did not converge ({where})" + (
            ", time limit" if "time limit" in reason else "")
    if "earn no profit" in reason:
        return "competitive: 'no profit, cannot pay the fixed verification'"
    if "increasing returns" in reason:
        return "competitive: increasing returns rule"
    if "time limit" in reason:
        return "time limit"
    return "other: " + re.sub(r"[\d.e+-]{3,}", "#", reason)[:70]


def neither_cause(em: dict) -> str:
    reason = _own_reason(em)
    if em.get("status") in ("killed", "crashed"):
        return f"emgame {em['status']}"
    for key, label in (("only seller", "sole seller (MODEL §6)"),
                       ("cannot use all the goods", "goods cannot all be used (MODEL §3)"),
                       ("cannot use all of them", "goods cannot all be used (MODEL §3)"),
                       ("increasing returns", "increasing returns"),
                       ("earn no profit", "no profit, cannot pay the fixed verification"),
                       ("Newton's method did not converge", "Newton did not converge"),
                       ("failed its certificate", "candidate failed its certificate"),
                       ("time limit", "time limit")):
        if key in reason:
            return label
    return "other: " + re.sub(r"[\d.e+-]{3,}", "#", reason)[:70]


def _verdict(cert: dict | None) -> str | None:
    """emgame's certificate of the independent answer: pass, inconclusive (it could not decide:
    docs/model.md, The certificate), or fail (noted where its CES bound is only first order)."""
    if not cert or cert.get("passed") is None:
        return None
    if cert["passed"]:
        return "pass"
    if cert.get("inconclusive"):
        return "inconclusive"
    notes = " ".join(cert.get("notes") or [])
    return "fail, CES 1st-order bound" if "supergradient" in notes else "fail"


def classify(em: dict, ind: dict, feat: dict | None = None) -> dict[str, Any]:
    em_ok = em.get("status") == "equilibrium"
    ind_ok = ind.get("status") == "equilibrium"
    rec: dict[str, Any] = {"emgame_status": em.get("status"), "independent_status":
                           ind.get("status"), "emgame_reason": em.get("reason", ""),
                           "independent_reason": ind.get("reason", ""),
                           "emgame_seconds": em.get("seconds"),
                           "emgame_certifies_independent": _verdict(
                               ind.get("emgame_certificate")),
                           "independent_seconds": ind.get("seconds"),
                           "check_ok": None if not em.get("check") else em["check"]["ok"],
                           "check_max_relative_gain": None if not em.get("check")
                           else em["check"].get("max_relative_gain"),
                           "check_violations": [] if not em.get("check")
                           else em["check"]["violations"],
                           "note": "", "cause": ""}
    if em_ok and em.get("check") and not em["check"]["ok"]:
        rec["class"] = "FALSE CERTIFICATE"
    elif em_ok and ind_ok:
        dp, da, do = compare(em["allocation"], ind["allocation"])
        rec.update(price_diff=dp, allocation_diff=da, offers_diff=do)
        if dp <= PRICE_TOL and da <= ALLOC_TOL:
            rec["class"] = "agree"
            if do > ALLOC_TOL:
                rec["note"] = "producers split output differently (constant returns)"
        else:
            rec["class"] = "differ"
            rec["note"] = f"relative prices differ by {dp:.3g}, allocations by {da:.3g}"
    elif em_ok:
        rec["class"] = "emgame only"
        rec["cause"] = "independent: " + (ind.get("reason", "") or "")[:80]
    elif ind_ok:
        rec["class"] = "emgame miss"
        rec["cause"] = miss_cause(em, feat or {}, ind)
        if em.get("allocation") and ind.get("allocation"):
            # How far emgame's declined candidate is from the equilibrium found.
            dp, da, _ = compare(em["allocation"], ind["allocation"])
            rec.update(price_diff=dp, allocation_diff=da)
            rec["note"] = f"candidate prices off by {dp:.2g}"
    else:
        rec["class"] = "neither"
        rec["cause"] = neither_cause(em)
    return rec


# --------------------------------------------------------------------------------------------


def load(out: Path) -> list[dict[str, Any]]:
    """One record per (economy, concept) whose two tasks are done."""
    tasks: dict[tuple[str, str], dict[str, dict]] = defaultdict(dict)
    for f in sorted((out / "tasks").glob("*.json")):
        r = json.loads(f.read_text())
        tasks[(r["economy"], r["concept"])][r["solver"]] = r
    cases = []
    for (name, concept), d in sorted(tasks.items()):
        if set(d) != {"emgame", "independent"}:
            continue
        em, ind = d["emgame"], d["independent"]
        e = random_economy(em["seed"], em["k"])
        feat = features(e)
        rec = {"economy": name, "seed": em["seed"], "k": em["k"], "concept": concept,
               **feat, **classify(em, ind, feat)}
        rr = (em.get("certificate") or {}).get("max_relative_regret")
        rec["huge_relative_regret"] = bool(rr is not None and rr > 1e100)
        rec["ces_r"] = ",".join(str(r) for r in rec["ces_r"])
        cases.append(rec)
    return cases


def _table(title: str, rows: list[list[Any]], header: list[str]) -> str:
    cells = [header] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    for r in cells[1:]:
        lines.append("  ".join((c.rjust(w) if i else c.ljust(w))
                               for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(lines)


def _by(cases, key, split: bool = False) -> list[list[Any]]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for c in cases:
        values = str(c[key]).split("+") if split else [str(c[key])]
        for v in values:
            counts[v][c["class"]] += 1
    return [[v] + [counts[v][k] or "" for k in CLASSES] + [sum(counts[v].values())]
            for v in sorted(counts)]


def report(out: Path, *, echo: bool = True) -> dict[str, Any]:
    """Classify, write the outputs and print the tables; returns the summary."""
    out = Path(out)
    cases = load(out)
    # Outputs.
    with open(out / "cases.jsonl", "w") as fh:
        for c in cases:
            fh.write(json.dumps(c) + "\n")
    cols = ["economy", "seed", "k", "concept", "class", "cause", "note",
            "emgame_certifies_independent", "emgame_status",
            "independent_status", "emgame_seconds", "independent_seconds", "price_diff",
            "allocation_diff", "offers_diff", "check_ok", "check_max_relative_gain", "T",
            "states", "families", "ces_r", "returns", "settlement", "horizon",
            "verification", "kinds", "types", "sole_seller", "emgame_reason",
            "independent_reason"]
    with open(out / "cases.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for c in cases:
            w.writerow(c)
    try:
        import duckdb

        db = out / "campaign.duckdb"
        if db.exists():
            db.unlink()
        con = duckdb.connect(str(db))
        con.execute("CREATE TABLE cases AS SELECT * FROM read_csv_auto(?, header = true)",
                    [str(out / "cases.csv")])
        con.close()
    except ImportError:
        pass
    failing = out / "failing"
    if failing.exists():
        shutil.rmtree(failing)
    failing.mkdir()
    for c in cases:
        if c["class"] in ("emgame miss", "FALSE CERTIFICATE", "differ", "emgame only") or \
                (c["emgame_seconds"] or 0) > 30:
            src = out / "economies" / f"{c['economy']}.toml"
            if src.exists():
                shutil.copy(src, failing / src.name)
    # Summary.
    by_concept = {k: Counter(c["class"] for c in cases if c["concept"] == k)
                  for k in ("nash", "competitive")}
    misses = Counter(f"{c['concept']}: {c['cause']}" for c in cases
                     if c["class"] == "emgame miss")
    neither = Counter(f"{c['concept']}: {c['cause']}" for c in cases if c["class"] == "neither")
    slow = sorted(cases, key=lambda c: -(c["emgame_seconds"] or 0))[:10]
    false = [c for c in cases if c["class"] == "FALSE CERTIFICATE"]
    economies = sorted({c["economy"] for c in cases})
    summary = {
        "economies": len(economies), "cases": len(cases),
        "by_concept": {k: dict(v) for k, v in by_concept.items()},
        "emgame_misses_by_cause": dict(misses.most_common()),
        "neither_by_cause": dict(neither.most_common()),
        "false_certificates": [{"economy": c["economy"], "concept": c["concept"],
                                "violations": c["check_violations"]} for c in false],
        "emgame_over_30s": sum(1 for c in cases if (c["emgame_seconds"] or 0) > 30),
        "huge_relative_regret": [f"{c['economy']} {c['concept']}" for c in cases
                                 if c.get("huge_relative_regret")],
        "slowest_emgame": [{"economy": c["economy"], "concept": c["concept"],
                            "seconds": c["emgame_seconds"], "status": c["emgame_status"]}
                           for c in slow],
        "independent_seconds_median": float(np.median([c["independent_seconds"] or 0
                                                       for c in cases])) if cases else None,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    if echo:
        print(render(cases, summary))
    return summary


def render(cases, summary) -> str:
    parts = []
    rows = [[k] + [summary["by_concept"][k].get(c, "") for c in CLASSES]
            + [sum(summary["by_concept"][k].values())] for k in ("nash", "competitive")]
    tot = Counter(c["class"] for c in cases)
    rows.append(["all"] + [tot.get(c, "") for c in CLASSES] + [len(cases)])
    header = ["concept", *CLASSES, "cases"]
    parts.append(_table(f"Cases by class ({summary['economies']} economies)", rows, header))
    for key, split, title in (("families", True, "utility family (a case counts under each "
                                                  "family it has)"),
                              ("returns", False, "returns"), ("settlement", False, "settlement"),
                              ("verification", False, "verification"),
                              ("states", False, "states"), ("T", False, "periods"),
                              ("horizon", False, "horizon"), ("kinds", False, "kinds")):
        parts.append(_table(f"By {title}", _by(cases, key, split),
                            [key, *CLASSES, "cases"]))
    if summary["emgame_misses_by_cause"]:
        parts.append(_table("emgame misses by cause",
                            [[k, v] for k, v in summary["emgame_misses_by_cause"].items()],
                            ["cause", "cases"]))
    miss = [c for c in cases if c["class"] == "emgame miss"]
    if miss:
        parts.append(_table(
            "emgame misses, one by one (the to-do list; 'cert' = emgame's own certificate of "
            "the independent equilibrium)",
            [[c["economy"], c["concept"], c["cause"][:60], c["note"][:40],
              c.get("emgame_certifies_independent") or "-",
              f"{c['emgame_seconds'] or 0:.1f}"] for c in miss],
            ["economy", "concept", "cause", "note", "cert", "emgame s"]))
    if summary["neither_by_cause"]:
        parts.append(_table("Neither found one: emgame's reason",
                            [[k, v] for k, v in summary["neither_by_cause"].items()],
                            ["reason", "cases"]))
    diff = [c for c in cases if c["class"] == "differ"]
    if diff:
        parts.append(_table("Both certified, different equilibria",
                            [[c["economy"], c["concept"], c["note"]] for c in diff],
                            ["economy", "concept", "note"]))
    eo = [c for c in cases if c["class"] == "emgame only"]
    if eo:
        parts.append(_table("emgame only (independently checked)",
                            [[c["economy"], c["concept"], c["cause"][:70]] for c in eo],
                            ["economy", "concept", "independent solver"]))
    parts.append(_table("Slowest emgame solves (wall clock)",
                        [[s["economy"], s["concept"], f"{s['seconds']:.1f}", s["status"]]
                         for s in summary["slowest_emgame"] if s["seconds"] is not None],
                        ["economy", "concept", "seconds", "status"]))
    parts.append(f"emgame solves over 30 s: {summary['emgame_over_30s']}; independent solver "
                 f"median {summary['independent_seconds_median']:.1f} s per case")
    if summary["huge_relative_regret"]:
        parts.append("max_relative_regret printed above 1e100 (regret over a utility of 0): "
                     + ", ".join(summary["huge_relative_regret"]))
    if summary["false_certificates"]:
        lines = ["FALSE CERTIFICATES (emgame certified, the independent checker rejects):"]
        for f in summary["false_certificates"]:
            lines.append(f"  {f['economy']} {f['concept']}: " + "; ".join(f["violations"][:3]))
        parts.append("\n".join(lines))
    else:
        parts.append("False certificates: none (every profile emgame certified passed the "
                     "independent checker).")
    return "\n\n".join(parts)
