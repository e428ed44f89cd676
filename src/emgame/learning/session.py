"""One learning session: the algorithm over the tabulated stage game, then what it learned.

A session is a pure function of the stage game, the configuration and its index: its random
numbers come from ``SeedSequence(config.seed, spawn_key=(index,))``.

What a session reports (docs/learning.md): whether and when it converged; the learned play
(Q-learning: the cycle the greedy strategies settle into from the final state, as in Calvano et
al. 2020; Hedge/EXP3: the time-averaged joint play); each learner's average payoff on it and
Calvano's profit gain ``Δ``; prices; electricity burnt; the share of rounds at each
participation pattern; external regret (no-regret algorithms) and the regret of every learner
on the grid; the impulse response to a one-round deviation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emgame.learning import _kernels as K
from emgame.learning.config import LearningConfig
from emgame.learning.table import StageGame, profit_gain


def session_seed(base: int, index: int) -> tuple[int, list[int]]:
    """The 32-bit seed of session ``index`` and its SeedSequence entropy (for the record)."""
    ss = np.random.SeedSequence(base, spawn_key=(index,))
    return int(ss.generate_state(1, np.uint32)[0]), [int(base), int(index)]


@dataclass(frozen=True, eq=False)
class SessionResult:
    """What one session learned; ``to_dict()`` is one row of the sessions table."""

    index: int
    seed: int
    algorithm: str
    status: str                    # converged | round-limit | horizon
    rounds: int
    seconds: float
    learned: np.ndarray            # (L,) joint actions of the learned play (cycle / support)
    weights: np.ndarray            # (L,) their weights (sum 1)
    payoff: np.ndarray             # (n,) average expected payoff on the learned play
    delta: np.ndarray              # (n,) profit gain
    actions: np.ndarray            # (n,) average action value per learner
    prices: np.ndarray             # (P,) average prices
    price_index: float
    burnt: float                   # expected electricity burnt per round
    patterns: dict[str, float]     # participation pattern -> share of learned rounds
    grid_regret: np.ndarray        # (n,) gain from the best grid reply at the final joint action
    external_regret: np.ndarray    # (n,) no-regret algorithms: average external regret
    impulse: dict[str, Any] | None
    path: np.ndarray               # thinned joint actions
    certificate: dict[str, Any] = field(default_factory=dict)
    patterns_all: dict[str, float] = field(default_factory=dict)   # share of all rounds played
    burnt_all: float = float("nan")  # electricity burnt per round, all rounds played

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    def to_dict(self) -> dict[str, Any]:
        def arr(x: np.ndarray) -> list:
            return [None if not math.isfinite(float(v)) else float(v) for v in np.ravel(x)]

        return {
            "index": self.index, "seed": self.seed, "algorithm": self.algorithm,
            "status": self.status, "converged": self.converged, "rounds": self.rounds,
            "seconds": self.seconds, "learned": [int(j) for j in self.learned],
            "weights": arr(self.weights), "payoff": arr(self.payoff), "delta": arr(self.delta),
            "mean_delta": _nanmean(self.delta), "actions": arr(self.actions),
            "prices": arr(self.prices), "price_index": self.price_index,
            "burnt": self.burnt, "patterns": self.patterns,
            "patterns_all": self.patterns_all, "burnt_all": self.burnt_all,
            "grid_regret": arr(self.grid_regret), "external_regret": arr(self.external_regret),
            "impulse": self.impulse, "certificate": self.certificate,
        }


def _nanmean(x: np.ndarray) -> float | None:
    x = np.asarray(x, dtype=float)
    return float(np.mean(x)) if np.all(np.isfinite(x)) and x.size else None


def initial_q(game: StageGame, memory: int, delta: float) -> np.ndarray:
    """Calvano's initial Q: each action's payoff against uniformly random rivals, discounted
    forever, ``Q_0(x, a_i) = Σ_{a_-i} π_i(a_i, a_-i) / ((1-δ) m^{n-1})``, in every state."""
    e = game.expected                                    # (J, n)
    acts = game.joint_actions
    n, m = game.n, game.m
    q0 = np.zeros((n, m))
    for i in range(n):
        np.add.at(q0[i], acts[:, i], e[:, i])
    q0 /= (1.0 - delta) * m ** (n - 1)
    X = game.J ** memory
    return np.ascontiguousarray(np.broadcast_to(q0[:, None, :], (n, X, m)))


def greedy_cycle(game: StageGame, Q: np.ndarray, state: int, memory: int) -> tuple[list[int],
                                                                                   list[int]]:
    """Play the greedy strategies from ``state`` until a state repeats: ``(joint actions of the
    cycle, states on it)``."""
    seen: dict[int, int] = {}
    joints: list[int] = []
    states: list[int] = []
    x = state
    while x not in seen:
        seen[x] = len(joints)
        j, nxt = K.greedy_step(Q, x, game.J, game.m)
        joints.append(int(j))
        states.append(x)
        x = int(nxt)
    start = seen[x]
    return joints[start:], states[start:]


def impulse_response(game: StageGame, Q: np.ndarray, state: int, rounds: int,
                     deviator: int = 0) -> dict[str, Any]:
    """Calvano's impulse response: in ``state`` (on the learned cycle) learner ``deviator``
    plays its static best reply on the grid to the others' greedy actions for one round; then
    everyone follows the greedy strategies. Returns the action values and price index before
    (``pre``) and for ``rounds + 1`` rounds from the deviation on."""
    J, m = game.J, game.m
    j0, _ = K.greedy_step(Q, state, J, m)
    pre_actions = np.array(game.decode(int(j0)))
    shocked = list(pre_actions)
    shocked[deviator] = game.best_reply(deviator, int(j0))
    j = game.encode(shocked)
    X = Q.shape[1]
    x = (state * J + j) % X
    joints = [j]
    for _ in range(rounds):
        j, x = K.greedy_step(Q, x, J, m)
        joints.append(int(j))
        x = int(x)
    acts = np.array([game.decode(k) for k in joints])
    vals = np.stack([game.actions[i, acts[:, i]] for i in range(game.n)], axis=1)
    e = game.expected
    pre_vals = np.array([game.actions[i, pre_actions[i]] for i in range(game.n)])
    sign = -1.0 if game.action_label == "price" else 1.0
    return {
        "deviator": deviator,
        "pre_actions": pre_vals.tolist(),
        "pre_price_index": float(game.price_index[int(j0)]),
        "actions": vals.tolist(),
        "price_index": game.price_index[joints].tolist(),
        "payoffs": e[joints].tolist(),
        "static_best_reply": float(game.actions[deviator, shocked[deviator]]),
        "deviation_is_change": bool(shocked[deviator] != pre_actions[deviator]),
        # Punished: in the round after, some rival moves towards competition (a lower price;
        # a higher capacity cap), against the deviator.
        "punished": bool(game.n > 1 and np.any(
            [sign * (vals[1, k] - pre_vals[k]) > 0 for k in range(game.n) if k != deviator])),
        "returns": bool(joints[-1] == int(j0) or game.price_index[joints[-1]]
                        == game.price_index[int(j0)]),
    }


def _summarise(game: StageGame, learned: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
    e = game.expected
    payoff = weights @ e[learned]
    acts = game.joint_actions[learned]
    actions = np.array([weights @ game.actions[i, acts[:, i]] for i in range(game.n)])
    prices = weights @ game.prices[learned]
    burnt = float(weights @ (game.probabilities @ game.burnt[:, learned]))
    patterns: dict[str, float] = {}
    for j, w in zip(learned, weights, strict=True):
        name = game.patterns[int(game.pattern[j])]
        patterns[name] = patterns.get(name, 0.0) + float(w)
    nash = game.benchmarks.get("nash")
    coll = game.benchmarks.get("collusive")
    delta = profit_gain(payoff, None if nash is None else nash.payoffs,
                        None if coll is None else coll.payoffs)
    return dict(payoff=payoff, actions=actions, prices=prices, price_index=float(prices.mean()),
                burnt=burnt, patterns=patterns, delta=delta)


def run_session(game: StageGame, config: LearningConfig, index: int, *,
                certify: bool = True) -> SessionResult:
    """Run session ``index`` of ``config`` on ``game``."""
    from emgame.learning.certify import learned_certificate

    seed, _ = session_seed(config.seed, index)
    started = time.perf_counter()
    cum = np.cumsum(game.probabilities)
    cum[-1] = 1.0
    n = game.n
    impulse = None
    ext = np.full(n, np.nan)
    if config.algorithm == "q-learning":
        Q = initial_q(game, config.memory, config.delta)
        path = np.full(max(1, config.max_rounds // config.thin + 1), -1, dtype=np.int64)
        counts = np.zeros(game.J, dtype=np.int64)
        status, rounds, state, _ = K.q_learning(
            np.ascontiguousarray(game.payoffs), cum, game.m, config.memory, config.alpha,
            config.beta, config.delta, config.max_rounds, config.stable_rounds, seed, Q,
            config.thin, path, counts)
        cycle, states = greedy_cycle(game, Q, int(state), config.memory)
        learned = np.array(cycle, dtype=np.int64)
        weights = np.full(len(cycle), 1.0 / len(cycle))
        status_name = "converged" if status == K.CONVERGED else "round-limit"
        impulse = impulse_response(game, Q, states[0], config.impulse_rounds)
        final = int(cycle[0])
        path = path[: min(path.size, rounds // config.thin + 1)]
    else:
        bandit = config.algorithm == "exp3"
        T = config.rounds
        m = game.m
        lo = game.payoffs.min(axis=(0, 1))
        hi = game.payoffs.max(axis=(0, 1))
        hi = np.where(hi > lo, hi, lo + 1.0)
        eta = config.eta or math.sqrt(8.0 * math.log(m) / T)
        gamma = config.gamma or min(1.0, math.sqrt(m * math.log(m) / ((math.e - 1.0) * T)))
        counts = np.zeros(game.J, dtype=np.int64)
        cum_payoff = np.zeros((n, m))
        realised = np.zeros(n)
        path = np.full(T // config.thin + 1, -1, dtype=np.int64)
        K.no_regret(np.ascontiguousarray(game.payoffs), cum, m, T, eta, gamma, bandit, lo, hi,
                    seed, counts, cum_payoff, realised, config.thin, path)
        rounds = T
        status_name = "horizon"
        learned = np.flatnonzero(counts)
        weights = counts[learned] / counts.sum()
        ext = (cum_payoff.max(axis=1) - realised) / T
        final = int(learned[np.argmax(weights)])
    s = _summarise(game, learned, weights)
    played = np.flatnonzero(counts)
    every = _summarise(game, played, counts[played] / counts.sum())
    cert: dict[str, Any] = {}
    if certify:
        cert = learned_certificate(game, final, learned, weights)
    return SessionResult(
        index=index, seed=seed, algorithm=config.algorithm, status=status_name,
        rounds=int(rounds), seconds=time.perf_counter() - started, learned=learned,
        weights=weights, payoff=s["payoff"], delta=s["delta"], actions=s["actions"],
        prices=s["prices"], price_index=s["price_index"], burnt=s["burnt"],
        patterns=s["patterns"], grid_regret=game.grid_regret(final), external_regret=ext,
        impulse=impulse, path=path, certificate=cert, patterns_all=every["patterns"],
        burnt_all=every["burnt"])
