"""``benchmarks/split_random.py`` (split equilibria on random economies built to need them,
each re-checked by the independent checker), on two draws: the script runs, its second draw
has no type-symmetric Nash equilibrium, and the split it reports passes the independent
checker (every group's global best response)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import split_random  # noqa: E402


def test_split_random_two_draws(capsys) -> None:
    assert split_random.main(["--seed", "7", "--count", "2", "--seconds", "60"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    draws, counts = rows[:-1], rows[-1]
    assert [d["draw"] for d in draws] == [0, 1]
    split = draws[1]
    assert split["found"] == "split", split
    assert split["equilibria"] and all(e["independent_ok"] for e in split["equilibria"])
    assert all(len({tuple(g[1]) for g in e["groups"]}) >= 2 for e in split["equilibria"])
    assert counts["independent check failed"] == 0 and counts["split"] == 1
