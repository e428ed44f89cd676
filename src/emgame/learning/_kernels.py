"""Compiled inner loops of the learning algorithms (numba, one core each).

All kernels read a tabulated stage game (:class:`emgame.learning.table.StageGame`):
``payoffs[s, j, i]`` for state ``s``, joint action ``j = Σ_i a_i m^i`` and learner ``i``;
``cum_prob[s]`` the cumulative state probabilities. Random numbers come from numba's generator,
seeded once per call from the session's ``SeedSequence``, so a session is a pure function of
its seed.
"""

# numba compiles the legacy np.random functions into a per-thread generator seeded inside
# each kernel; that is what makes a session a pure function of its seed here.
# ruff: noqa: NPY002

from __future__ import annotations

import math

import numpy as np
from numba import njit

RUNNING, CONVERGED, ROUND_LIMIT = 0, 1, 2


@njit(cache=True)
def _draw_state(cum_prob):
    S = cum_prob.size
    if S == 1:
        return 0
    u = np.random.random()
    for s in range(S - 1):
        if u < cum_prob[s]:
            return s
    return S - 1


@njit(cache=True)
def _argmax(row):
    best = 0
    v = row[0]
    for k in range(1, row.size):
        if row[k] > v:
            v = row[k]
            best = k
    return best


@njit(cache=True)
def q_learning(payoffs, cum_prob, m, memory, alpha, beta, delta, max_rounds, stable_rounds,
               seed, Q, thin, path, counts):
    """Calvano's Q-learning with ``memory``-period recall; updates ``Q`` (n, X, m) in place.

    Each round: every learner explores with probability ``ε_t = exp(-β t)`` (uniform action)
    and otherwise plays its greedy action in the current state (the last ``memory`` joint
    actions); a state of nature is drawn; every learner updates
    ``Q(x, a) ← (1-α) Q(x, a) + α (π + δ max_a' Q(x', a'))``. Stops when no learner's greedy
    action changed in any state for ``stable_rounds`` rounds (converged) or after
    ``max_rounds``. Every ``thin``-th joint action goes to ``path``; ``counts[j]`` counts the
    rounds played at each joint action (exploration included).

    Returns ``(status, rounds, final state, stable count)``.
    """
    np.random.seed(seed)
    S, J, n = payoffs.shape
    X = Q.shape[1]
    greedy = np.empty((n, X), dtype=np.int64)
    for i in range(n):
        for x in range(X):
            greedy[i, x] = _argmax(Q[i, x])
    # The initial state: random joint actions.
    state = 0
    for _ in range(memory):
        state = (state * J + np.random.randint(J)) % X
    stable = 0
    a = np.empty(n, dtype=np.int64)
    t = 0
    status = ROUND_LIMIT
    keep = path.size
    while t < max_rounds:
        eps = math.exp(-beta * t)
        j = 0
        mult = 1
        for i in range(n):
            if np.random.random() < eps:
                a[i] = np.random.randint(m)
            else:
                a[i] = greedy[i, state]
            j += a[i] * mult
            mult *= m
        s = _draw_state(cum_prob)
        counts[j] += 1
        nxt = (state * J + j) % X
        changed = False
        for i in range(n):
            target = payoffs[s, j, i] + delta * Q[i, nxt, greedy[i, nxt]]
            q = Q[i, state, a[i]]
            Q[i, state, a[i]] = q + alpha * (target - q)
            g = _argmax(Q[i, state])
            if g != greedy[i, state]:
                greedy[i, state] = g
                changed = True
        if thin > 0 and t % thin == 0 and t // thin < keep:
            path[t // thin] = j
        stable = 0 if changed else stable + 1
        state = nxt
        t += 1
        if stable >= stable_rounds:
            status = CONVERGED
            break
    return status, t, state, stable


@njit(cache=True)
def greedy_step(Q, state, J, m):
    """The joint action the greedy strategies play in ``state``, and the next state."""
    n, X, _ = Q.shape
    j = 0
    mult = 1
    for i in range(n):
        j += _argmax(Q[i, state]) * mult
        mult *= m
    return j, (state * J + j) % X


@njit(cache=True)
def _softmax_draw(logw, out_p):
    top = logw.max()
    tot = 0.0
    for k in range(logw.size):
        out_p[k] = math.exp(logw[k] - top)
        tot += out_p[k]
    u = np.random.random() * tot
    acc = 0.0
    for k in range(logw.size):
        acc += out_p[k]
        if u < acc:
            return k
    return logw.size - 1


@njit(cache=True)
def no_regret(payoffs, cum_prob, m, rounds, eta, gamma, bandit, lo, hi, seed, counts,
              cum_payoff, realised, thin, path):
    """Hedge (full information, ``bandit=False``) or EXP3 (bandit feedback) for every learner.

    Payoffs are rescaled to ``[0, 1]`` per learner with ``(π - lo_i)/(hi_i - lo_i)``. Hedge
    plays ``p ∝ exp(η Σ_τ u(a, a_-i^τ))`` and observes the payoff of every own action against
    the others' play; EXP3 (Auer et al. 2002) mixes ``γ`` uniform exploration into
    ``p ∝ exp(γ/m Σ_τ ĝ_τ(a))`` and observes only its own payoff, with the importance-weighted
    estimate ``ĝ = u/p(a)``. ``counts[j]`` accumulates the joint play (time-averaged play),
    ``cum_payoff[i, a]`` the payoff each fixed action would have earned against the realised
    play (in the original units; for external regret) and ``realised[i]`` the payoff earned.
    """
    np.random.seed(seed)
    S, J, n = payoffs.shape
    logw = np.zeros((n, m))
    prob = np.empty(m)
    probs = np.empty((n, m))
    a = np.empty(n, dtype=np.int64)
    mults = np.empty(n, dtype=np.int64)
    mult = 1
    for i in range(n):
        mults[i] = mult
        mult *= m
    keep = path.size
    for t in range(rounds):
        j = 0
        for i in range(n):
            if bandit:
                top = logw[i].max()
                tot = 0.0
                for k in range(m):
                    prob[k] = math.exp(logw[i, k] - top)
                    tot += prob[k]
                u = np.random.random()
                acc = 0.0
                a[i] = m - 1
                for k in range(m):
                    probs[i, k] = (1.0 - gamma) * prob[k] / tot + gamma / m
                for k in range(m):
                    acc += probs[i, k]
                    if u < acc:
                        a[i] = k
                        break
            else:
                a[i] = _softmax_draw(logw[i], prob)
            j += a[i] * mults[i]
        s = _draw_state(cum_prob)
        counts[j] += 1
        if thin > 0 and t % thin == 0 and t // thin < keep:
            path[t // thin] = j
        for i in range(n):
            base = j - a[i] * mults[i]
            scale = hi[i] - lo[i]
            realised[i] += payoffs[s, j, i]
            for k in range(m):
                cum_payoff[i, k] += payoffs[s, base + k * mults[i], i]
            if bandit:
                g = (payoffs[s, j, i] - lo[i]) / scale
                logw[i, a[i]] += gamma / m * g / probs[i, a[i]]
            else:
                for k in range(m):
                    logw[i, k] += eta * (payoffs[s, base + k * mults[i], i] - lo[i]) / scale
    return rounds
