"""The Calvano environment and Q-learning on it (Calvano et al. 2020, AER 110(10)).

Facts checked: the static Bertrand–Nash and joint-profit prices solve their first-order
conditions and match the paper (p_N ≈ 1.473, p_M ≈ 1.925); the price grid is the paper's;
myopic learners (δ = 0) gain much less than patient ones; the baseline (α = 0.15,
β = 4e-6) learns supra-competitive prices — a few sessions here with a wide band, the full
≥ 100-session validation in benchmarks/learning_calvano.py; sessions are reproducible from
their seed.
"""

from __future__ import annotations

import numpy as np

from emgame.learning import Calvano, LearningConfig, calvano_game, run_session


def test_nash_and_monopoly_prices_solve_their_first_order_conditions():
    env = Calvano()
    pn, pm = env.nash_price(), env.monopoly_price()
    h = 1e-6
    # Own-price derivative of firm 1's profit at the symmetric Nash price: zero.
    d_own = (env.profits([pn + h, pn])[0] - env.profits([pn - h, pn])[0]) / (2 * h)
    # Derivative of joint profit along a common price at the monopoly price: zero.
    joint = lambda p: env.profits([p, p]).sum()
    d_joint = (joint(pm + h) - joint(pm - h)) / (2 * h)
    assert abs(d_own) < 1e-8 and abs(d_joint) < 1e-8
    # The paper's values (section II.B): p_N = 1.473, p_M = 1.925.
    assert abs(pn - 1.473) < 5e-4 and abs(pm - 1.925) < 5e-4


def test_grid_is_calvanos():
    env = Calvano()
    g = env.grid()
    pn, pm = env.nash_price(), env.monopoly_price()
    assert g.size == 15
    assert np.isclose(g[0], pn - 0.1 * (pm - pn)) and np.isclose(g[-1], pm + 0.1 * (pm - pn))


def test_myopic_learners_gain_much_less_than_patient_ones():
    # Calvano et al. (section IV.B, the effect of δ): the profit gain falls as the discount
    # factor falls; myopic learners (δ = 0) keep Δ well below the baseline's 0.85.
    game = calvano_game()
    cfg = LearningConfig(environment="calvano", delta=0.0, beta=1e-5)
    rs = [run_session(game, cfg, k, certify=False) for k in range(4)]
    assert all(r.converged for r in rs)
    assert np.mean([np.mean(r.delta) for r in rs]) < 0.5


def test_baseline_learns_supracompetitive_prices_in_a_few_sessions():
    # The paper: average Δ ≈ 0.85, nearly all sessions converge. Six sessions have a standard
    # error of about 0.05 on the mean, so the band is wide; benchmarks/ runs the full test.
    game = calvano_game()
    cfg = LearningConfig(environment="calvano")
    rs = [run_session(game, cfg, k) for k in range(6)]
    assert sum(r.converged for r in rs) >= 5
    mean_delta = np.mean([np.mean(r.delta) for r in rs])
    assert 0.6 <= mean_delta <= 1.0
    # Learned prices lie above the Bertrand–Nash price, below the top of the grid.
    pn = game.benchmarks["nash"].price_index
    assert all(r.price_index > pn for r in rs if r.converged)


def test_sessions_are_reproducible_from_their_seed():
    game = calvano_game()
    cfg = LearningConfig(environment="calvano", beta=1e-4, stable_rounds=5_000)
    a, b, c = run_session(game, cfg, 3), run_session(game, cfg, 3), run_session(game, cfg, 4)
    assert a.rounds == b.rounds and np.array_equal(a.learned, b.learned)
    assert np.array_equal(a.path, b.path)
    assert a.seed != c.seed and not np.array_equal(a.path, c.path)


def test_impulse_response_starts_with_the_static_best_reply():
    game = calvano_game()
    cfg = LearningConfig(environment="calvano")
    r = run_session(game, cfg, 1)
    imp = r.impulse
    assert imp is not None and len(imp["price_index"]) == 26
    # In the deviation round the deviator plays its static best reply on the grid.
    assert imp["actions"][0][0] == imp["static_best_reply"]
