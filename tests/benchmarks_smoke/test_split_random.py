"""``benchmarks/split_random.py`` (split equilibria on random economies built to need them,
each re-checked by the independent checker), on two draws: the script runs, its second draw
has no type-symmetric Nash equilibrium, and the split it reports passes the independent
checker (every group's global best response)."""

from __future__ import annotations

import json

from benchmarks import split_random


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


def test_a_type_held_on_one_set_of_posts_is_a_symmetric_equilibrium(tmp_path) -> None:
    """Draw 34 of seed 11 has a type-symmetric equilibrium, every ``dc`` agent on the same
    posts. ``emgame.solve`` once missed it (its participation rounds overstated a consumer's
    income, docs/model.md, The crypto layer) while the split search's first state, every
    ``dc`` held on the posts it paid on, passed the certificate; both find it now, and the
    independent checker accepts it."""
    import numpy as np
    from benchmarks.campaign.check import check_nash

    import emgame
    from emgame.equilibria import solve_all

    rng = np.random.default_rng(11)
    for k in range(35):
        text = split_random.draw(rng, k)
    f = tmp_path / "draw-34.toml"
    f.write_text(text)
    e = emgame.load_economy(f)
    direct = emgame.solve(e, "nash")
    assert direct.ok, direct.reason
    assert check_nash(e, direct.profile).ok
    r = solve_all(e, "nash", starts=4, split=True, max_seconds=60)
    assert r.symmetric, r.reason
    for found in r.symmetric:
        assert found.solution.economy is e and found.solution.certificate.passed
        assert check_nash(e, found.solution.profile).ok
