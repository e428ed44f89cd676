"""Learning how much to bid at the peak: AI training clusters learn their evening bid share by
Q-learning (examples/studies/learning_shares.toml, docs/learning.md "Bid shares").

For every point of the study (the number of clusters), tabulates the stage game once, runs
``--sessions`` Q-learning sessions serially and prints, beside the certified Nash equilibrium,
the competitive benchmark and the collusive (buyers' cartel) benchmark: the learned evening
share (mean over sessions of the learners' shares on the learned cycle), Calvano's Δ, the share
of sessions converged, the learners' payoff against Nash, and the certificate on learned play
(largest relative regret). Writes the figure docs/figures/learning_shares.png and the numbers to
out/learning_shares.json.

    .venv/bin/python benchmarks/learning_shares.py [--sessions 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _study_out import ROOT, pyplot, write_points

from emgame.learning import load_learning, market_game, run_session


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--file", default=str(ROOT / "examples" / "studies" / "learning_shares.toml"))
    ap.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "learning_shares.png"))
    args = ap.parse_args()
    spec = load_learning(args.file)
    rows = []
    for pt in spec.points():
        t0 = time.perf_counter()
        game = market_game(pt)
        t_table = time.perf_counter() - t0
        d = game.diagnostics
        bench = game.benchmarks
        nash = bench["nash"].payoffs
        learned, deltas, gains, regret, converged = [], [], [], [], 0
        t1 = time.perf_counter()
        for k in range(args.sessions):
            r = run_session(game, pt.config, k)
            converged += r.status == "converged"
            # The learners' shares on the learned cycle, weighted by how often it plays them.
            acts = np.array([game.decode(int(j)) for j in r.learned])          # (cycle, n)
            shares = game.actions[np.arange(game.n)[None, :], acts]
            learned.append(float(np.average(shares.mean(axis=1), weights=r.weights)))
            deltas.append(float(np.nanmean(r.delta)))
            gains.append(float(np.mean((r.payoff - nash) / np.abs(nash))))
            regret.append(float(r.certificate["final"]["max_relative_regret"]))
        row = {"clusters": int(pt.point["value"]), "nash_share": d["nash_share"][0],
               "competitive_share": d["competitive_share"][0],
               "collusive_share": d["collusive_share"][0],
               "grid": [float(x) for x in game.actions[0]],
               "cartel_gain": float((bench["collusive"].payoffs[0] - nash[0]) / abs(nash[0])),
               "learned_share": float(np.mean(learned)), "learned_share_sd": float(np.std(learned)),
               "learned_shares": learned,
               "delta": float(np.mean(deltas)), "delta_sd": float(np.std(deltas)),
               "deltas": deltas,
               "converged": converged / args.sessions,
               "payoff_vs_nash": float(np.mean(gains)),
               "max_relative_regret_learned": float(np.max(regret)),
               "table_seconds": t_table, "rounds_tabulated": d["rounds_tabulated"],
               "session_seconds": (time.perf_counter() - t1) / args.sessions}
        rows.append(row)
        print(f"{row['clusters']} clusters: shares Nash {row['nash_share']:.4f}, competitive "
              f"{row['competitive_share']:.4f}, collusive {row['collusive_share']:.4f} (cartel "
              f"gain {row['cartel_gain']:.2e}); learned {row['learned_share']:.4f} (sd "
              f"{row['learned_share_sd']:.4f}); Δ {row['delta']:.3f} (sd {row['delta_sd']:.3f}); "
              f"converged {row['converged']:.0%}; payoff vs Nash {row['payoff_vs_nash']:+.2e}; "
              f"max relative regret of learned play {row['max_relative_regret_learned']:.2e}; "
              f"table {t_table:.1f} s ({row['rounds_tabulated']} rounds), "
              f"{row['session_seconds']:.2f} s/session", flush=True)
    write_points("learning_shares", args.sessions, rows)
    plt = pyplot()

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for k, row in enumerate(rows):
        x = np.full(len(row["learned_shares"]), k) + np.linspace(-0.15, 0.15,
                                                                 len(row["learned_shares"]))
        ax1.plot(x, row["learned_shares"], ".", color="C0", alpha=0.5,
                 label="learned (one dot a session)" if k == 0 else None)
        for key, style, lab in (("nash_share", "k-", "Nash (certified)"),
                                ("competitive_share", "C2--", "competitive"),
                                ("collusive_share", "C3:", "collusive (cartel)")):
            ax1.plot([k - 0.3, k + 0.3], [row[key]] * 2, style, label=lab if k == 0 else None)
    ax1.set_xticks(range(len(rows)), [str(r["clusters"]) for r in rows])
    ax1.set_xlabel("learning clusters")
    ax1.set_ylabel("evening share of income")
    ax1.legend(frameon=False, fontsize=8)
    ax2.boxplot([r["deltas"] for r in rows])
    ax2.set_xticks(range(1, len(rows) + 1), [str(r["clusters"]) for r in rows])
    ax2.axhline(0, color="k", lw=0.8)
    ax2.axhline(1, color="C3", ls=":", lw=0.8)
    ax2.set_xlabel("learning clusters")
    ax2.set_ylabel("profit gain Δ (0 Nash, 1 cartel)")
    fig.suptitle(f"AI training clusters learn their peak bid share ({args.sessions} sessions "
                 "per point, Q-learning)")
    fig.tight_layout()
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=110)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
