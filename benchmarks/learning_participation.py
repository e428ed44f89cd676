"""Learning where to pay: AI training clusters learn their participation under a fixed
verification cost (examples/studies/learning_participation.toml, docs/learning.md).

For every point of the study (the fixed verification cost v), tabulates the stage game once,
runs ``--sessions`` EXP3 sessions serially, and prints, beside the certified Nash equilibrium:
the posts the learners pay on (Nash; learned: the share of learned play at the Nash pattern),
the learners' payoff against Nash, electricity burnt per round, and the external regret. Writes
the figure docs/figures/learning_participation.png and the numbers to
out/learning_participation.json.

    .venv/bin/python benchmarks/learning_participation.py [--sessions 20]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _study_out import ROOT, pyplot, write_points

from emgame.learning import load_learning, market_game, run_session


def _posts(game, j: int) -> tuple[int, ...]:
    """Number of electricity posts each learner pays on in tabulated round ``j``."""
    names = game.economy.consumers.names
    rows = [names.index(n) for n in game.learners]
    bids = game.profiles["consumer_bids"][j]
    return tuple(int(np.sum(bids[r, 1:] > 0)) for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--file", default=str(ROOT / "examples" / "studies"
                                          / "learning_participation.toml"))
    ap.add_argument("--figure", default=str(ROOT / "docs" / "figures"
                                            / "learning_participation.png"))
    args = ap.parse_args()
    spec = load_learning(args.file)
    rows = []
    for pt in spec.points():
        t0 = time.perf_counter()
        game = market_game(pt)
        t_table = time.perf_counter() - t0
        nash_j = None
        # The Nash round: every learner allowed every post it values (action 0, the largest
        # set), which the table checks against emgame's Nash benchmark.
        j0 = game.encode((0,) * game.n)
        assert np.allclose(game.expected[j0], game.benchmarks["nash"].payoffs, rtol=1e-7)
        nash_j = j0
        nash_pattern = game.patterns[int(game.pattern[nash_j])]
        nash_burnt = float(game.probabilities @ game.burnt[:, nash_j])
        shares, gains, burnt, regret, posts = [], [], [], [], []
        t1 = time.perf_counter()
        for k in range(args.sessions):
            r = run_session(game, pt.config, k, certify=False)
            shares.append(r.patterns.get(nash_pattern, 0.0))
            nash = game.benchmarks["nash"].payoffs
            gains.append(float(np.mean((r.payoff - nash) / np.abs(nash))))
            burnt.append(r.burnt)
            regret.append(float(np.max(r.external_regret)))
            posts.append(float(sum(w * np.mean(_posts(game, int(j)))
                                   for j, w in zip(r.learned, r.weights, strict=True))))
        row = {"v": pt.point["value"], "nash_posts": float(np.mean(_posts(game, nash_j))),
               "learned_posts": float(np.mean(posts)),
               "share_at_nash_pattern": float(np.mean(shares)),
               "share_sd": float(np.std(shares)),
               "payoff_vs_nash": float(np.mean(gains)), "burnt_nash": nash_burnt,
               "burnt_learned": float(np.mean(burnt)), "max_external_regret": float(np.max(regret)),
               "table_seconds": t_table, "session_seconds": (time.perf_counter() - t1)
               / args.sessions, "rounds_tabulated": game.diagnostics["rounds_tabulated"]}
        rows.append(row)
        print(f"v = {row['v']:<6g} Nash posts {row['nash_posts']:.0f}  learned posts "
              f"{row['learned_posts']:.3f}  share at the Nash pattern "
              f"{row['share_at_nash_pattern']:.3f} (sd {row['share_sd']:.3f})  payoff vs Nash "
              f"{row['payoff_vs_nash']:+.4f}  burnt {row['burnt_learned']:.3f} (Nash "
              f"{row['burnt_nash']:.3f})  max ext. regret {row['max_external_regret']:.4f}  "
              f"table {t_table:.1f} s, {row['session_seconds']:.2f} s/session", flush=True)
    write_points("learning_participation", args.sessions, rows)
    plt = pyplot()

    v = np.array([r["v"] for r in rows])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax1.plot(v, [r["nash_posts"] for r in rows], "k--", drawstyle="steps-post",
             label="Nash (certified)")
    ax1.plot(v, [r["learned_posts"] for r in rows], "o-", label="learned (EXP3)")
    ax1.set_xlabel("fixed verification cost v")
    ax1.set_ylabel("posts a training cluster pays on")
    ax1.legend(frameon=False)
    ax2.plot(v, [r["share_at_nash_pattern"] for r in rows], "o-")
    ax2.set_ylim(0, 1.02)
    ax2.set_xlabel("fixed verification cost v")
    ax2.set_ylabel("share of learned play\nat the Nash participation")
    fig.suptitle(f"AI training clusters learn where to pay ({args.sessions} sessions per point)")
    fig.tight_layout()
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=110)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
