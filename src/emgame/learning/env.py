"""A PettingZoo ``ParallelEnv`` of the repeated game (optional extra ``emgame[learning]``).

The environment plays a tabulated stage game (:class:`emgame.learning.table.StageGame`, e.g.
from :func:`emgame.learning.market_game`): each step every learner picks an action index
(``Discrete(m)``: its capacity cap, or its price in the Calvano environment), a state of
nature is drawn with its probability, and each learner's reward is its payoff in that state.
Observations are the last joint action (``MultiDiscrete([m] * n)``, one-period memory, as the
Q-learners see it). Episodes end by truncation after ``horizon`` rounds. ``infos`` carry the
round's prices, electricity burnt and participation pattern.

Users plug in their own algorithms::

    from emgame.learning import calvano_game
    from emgame.learning.env import RepeatedMarketEnv
    env = RepeatedMarketEnv(calvano_game(), horizon=1000)
    obs, infos = env.reset(seed=0)
    obs, rewards, terms, truncs, infos = env.step({a: 0 for a in env.agents})
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

try:
    from gymnasium import spaces
    from pettingzoo import ParallelEnv
except ImportError as exc:  # pragma: no cover - the optional extra is missing
    raise ImportError("emgame.learning.env needs the optional extra: pip install "
                      "'emgame[learning]' (pettingzoo and gymnasium)") from exc

from emgame.learning.table import StageGame


class RepeatedMarketEnv(ParallelEnv):
    """The repeated stage game as a PettingZoo parallel environment (see the module notes)."""

    metadata = {"name": "emgame_repeated_market_v0", "render_modes": []}

    def __init__(self, game: StageGame, horizon: int = 1000) -> None:
        self.game = game
        self.horizon = int(horizon)
        self.possible_agents = [_agent_name(n) for n in game.learners]
        self.agents: list[str] = []
        self._rng = np.random.default_rng()
        self._last = np.zeros(game.n, dtype=np.int64)
        self._t = 0
        self._expected = game.expected

    @functools.cache  # noqa: B019 - spaces are fixed per agent, as PettingZoo asks
    def observation_space(self, agent: str) -> spaces.Space:
        return spaces.MultiDiscrete([self.game.m] * self.game.n)

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Space:
        return spaces.Discrete(self.game.m)

    def _obs(self) -> dict[str, np.ndarray]:
        return {a: self._last.copy() for a in self.agents}

    def reset(self, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self._last = self._rng.integers(0, self.game.m, size=self.game.n)
        self._t = 0
        return self._obs(), {a: {} for a in self.agents}

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            return {}, {}, {}, {}, {}
        g = self.game
        a = np.array([int(actions[name]) for name in self.possible_agents], dtype=np.int64)
        if np.any((a < 0) | (a >= g.m)):
            raise ValueError(f"actions must be integers in 0..{g.m - 1}, got {actions}")
        j = g.encode(a)
        s = int(self._rng.choice(g.S, p=g.probabilities)) if g.S > 1 else 0
        self._last = a
        self._t += 1
        rewards = {name: float(g.payoffs[s, j, i]) for i, name in enumerate(self.possible_agents)}
        info = {"state": s, "prices": g.prices[j].tolist(), "burnt": float(g.burnt[s, j]),
                "pattern": g.patterns[int(g.pattern[j])],
                "actions": [float(g.actions[i, a[i]]) for i in range(g.n)]}
        done = self._t >= self.horizon
        obs = self._obs()
        terms = {name: False for name in self.agents}
        truncs = {name: done for name in self.agents}
        infos = {name: dict(info) for name in self.agents}
        if done:
            self.agents = []
        return obs, rewards, terms, truncs, infos

    def render(self) -> None:
        return None

    def close(self) -> None:
        return None

    def state(self) -> np.ndarray:
        return self._last.copy()


def _agent_name(name: str) -> str:
    return name.replace(" ", "_")


def make_env(game: StageGame, horizon: int = 1000) -> Any:
    return RepeatedMarketEnv(game, horizon)
