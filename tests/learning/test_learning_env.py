"""The PettingZoo environment passes PettingZoo's own parallel API test, and its rewards are
the stage game's payoffs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

from pettingzoo.test import parallel_api_test  # noqa: E402

from emgame.learning import calvano_game  # noqa: E402
from emgame.learning.env import RepeatedMarketEnv  # noqa: E402


def test_calvano_env_passes_the_parallel_api_test():
    parallel_api_test(RepeatedMarketEnv(calvano_game(), horizon=40), num_cycles=100)


def test_market_env_passes_the_parallel_api_test(cournot_game):
    parallel_api_test(RepeatedMarketEnv(cournot_game, horizon=40), num_cycles=100)


def test_rewards_are_the_payoffs_of_the_joint_action():
    g = calvano_game()
    env = RepeatedMarketEnv(g, horizon=3)
    env.reset(seed=1)
    obs, rew, term, trunc, info = env.step({"firm_1": 4, "firm_2": 9})
    j = g.encode((4, 9))
    assert rew == {"firm_1": g.payoffs[0, j, 0], "firm_2": g.payoffs[0, j, 1]}
    assert np.array_equal(obs["firm_1"], [4, 9])
    env.step({"firm_1": 0, "firm_2": 0})
    *_, trunc, _ = env.step({"firm_1": 0, "firm_2": 0})
    assert all(trunc.values()) and env.agents == []
