"""The learning algorithms on games with known answers.

Facts checked: myopic Q-learners in a prisoner's dilemma defect (the dominant action); the
convergence rule stops at the round limit when greedy actions keep changing; Hedge's and
EXP3's external regret stay within their theoretical bounds (Freund–Schapire; Auer et al.
2002); Hedge in matching pennies plays each action about half the time (the unique, mixed,
equilibrium); the time-averaged joint play of Hedge is an ε-coarse correlated equilibrium with
ε its external regret, computed independently from the joint counts and the payoff table.
"""

from __future__ import annotations

import math

import numpy as np

from emgame.learning import Benchmark, LearningConfig, StageGame, run_session


def bimatrix(u1: np.ndarray, u2: np.ndarray, name: str = "game") -> StageGame:
    """A two-learner game, ``u1[a1, a2]`` and ``u2[a1, a2]``; joint index ``a1 + m a2``."""
    m = u1.shape[0]
    J = m * m
    pay = np.empty((1, J, 2))
    for a1 in range(m):
        for a2 in range(m):
            pay[0, a1 + m * a2] = (u1[a1, a2], u2[a1, a2])
    return StageGame(name=name, environment="test", learners=("row", "column"),
                     actions=np.tile(np.arange(m, dtype=float), (2, 1)), action_label="action",
                     payoffs=pay, probabilities=np.ones(1), prices=np.zeros((J, 1)),
                     price_labels=("-",), price_label="-", burnt=np.zeros((1, J)),
                     pattern=np.zeros(J, dtype=np.int64), patterns=("-",),
                     benchmarks={"nash": Benchmark("nash", None, None)})


PD = bimatrix(np.array([[3.0, 0.0], [5.0, 1.0]]), np.array([[3.0, 5.0], [0.0, 1.0]]), "PD")
PENNIES = bimatrix(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.0, 1.0], [1.0, 0.0]]))


def test_myopic_q_learners_defect_in_the_prisoners_dilemma():
    cfg = LearningConfig(delta=0.0, beta=1e-4, stable_rounds=10_000, max_rounds=1_000_000)
    for k in range(3):
        r = run_session(PD, cfg, k, certify=False)
        assert r.converged and list(r.learned) == [PD.encode((1, 1))]


def test_round_limit_is_reported_when_greedy_actions_keep_changing():
    cfg = LearningConfig(beta=0.0, stable_rounds=10_000, max_rounds=5_000)  # ε stays 1
    r = run_session(PD, cfg, 0, certify=False)
    assert r.status == "round-limit" and r.rounds == 5_000


def _cce_gap(game: StageGame, learned: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """max_a' E_σ[u_i(a', a_-i) - u_i(a)] per learner, from the joint distribution alone."""
    e = game.expected
    out = []
    for i in range(game.n):
        best = -np.inf
        for k in range(game.m):
            alt = [game.encode(tuple(k if q == i else a for q, a in enumerate(game.decode(j))))
                   for j in learned]
            best = max(best, float(weights @ (e[alt, i] - e[learned, i])))
        out.append(best)
    return np.array(out)


def test_hedge_regret_bound_and_matching_pennies():
    T = 50_000
    cfg = LearningConfig(algorithm="hedge", rounds=T)
    r = run_session(PENNIES, cfg, 0, certify=False)
    # Hedge with η = sqrt(8 ln m / T): regret <= sqrt(T ln m / 2) in [0, 1] payoffs; the
    # realised play adds sampling noise of order sqrt(T), hence the factor 3.
    bound = 3 * math.sqrt(math.log(2) / (2 * T))
    assert np.all(r.external_regret <= bound)
    acts = PENNIES.joint_actions[r.learned]
    row_heads = float(r.weights @ (acts[:, 0] == 0))
    col_heads = float(r.weights @ (acts[:, 1] == 0))
    assert abs(row_heads - 0.5) < 0.05 and abs(col_heads - 0.5) < 0.05


def test_hedge_time_average_is_a_coarse_correlated_equilibrium():
    rng = np.random.default_rng(0)
    game = bimatrix(rng.uniform(size=(4, 4)), rng.uniform(size=(4, 4)))
    T = 40_000
    r = run_session(game, LearningConfig(algorithm="hedge", rounds=T), 1, certify=False)
    gap = _cce_gap(game, r.learned, r.weights)
    # Deterministic payoffs: the CCE gap of the empirical play is the external regret.
    assert np.allclose(gap, r.external_regret, atol=1e-12)
    assert np.all(gap <= 3 * math.sqrt(math.log(4) / (2 * T)))


def test_exp3_regret_within_its_bound():
    rng = np.random.default_rng(1)
    game = bimatrix(rng.uniform(size=(3, 3)), rng.uniform(size=(3, 3)))
    T, m = 60_000, 3
    r = run_session(game, LearningConfig(algorithm="exp3", rounds=T), 0, certify=False)
    # Auer et al. (2002), Cor. 3.2: regret <= 2 sqrt(e-1) sqrt(T m ln m) against an oblivious
    # adversary; against a learning rival we allow a factor 2.
    bound = 2 * 2 * math.sqrt(math.e - 1) * math.sqrt(m * math.log(m) / T)
    assert np.all(r.external_regret <= bound)
