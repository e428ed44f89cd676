"""An independent competitive benchmark for calibrated days (test helper, not emgame's solver).

For the economies :func:`emgame.calibration.build_day` writes — ``ai`` consumers with
Cobb–Douglas utility and an endowment ``ω_h`` of goods nobody else values, producers and
storage owners quasilinear in goods with no electricity weights, verification by a share ``κ``
only — the competitive equilibrium (docs/model.md, Solution concepts, with section 10's hourly
capacity and
storage) is the solution of one concave program (an Eisenberg–Gale-type planner problem):

    max  Σ_h n_h ω_h Σ_t a_h^t log x_h^t  −  Σ_j n_j Σ_t φ_j(q_j^t)
    s.t. Σ_h n_h x_h^t + Σ_b n_b c_b^t = Σ_j n_j q_j^t + Σ_b n_b d_b^t      (price p^t)
         0 ≤ q_j^t ≤ K_j^t,  0 ≤ c_b^t, d_b^t ≤ G_b,
         σ_b^t = σ_b^{t-1} + η_c c_b^t − d_b^t / η_d,  σ_b^0 = σ_b^T,  0 ≤ σ_b^t ≤ S_b.

Its first-order conditions are the equilibrium's: ``n_h ω_h a_h^t / x_h^t = n_h p^t`` is the
Cobb–Douglas demand ``x = a ω / p`` (weights summing to 1 exhaust the budget ``ω`` at
``p^0 = 1``), ``p^t = φ_j'(q_j^t)`` for an unconstrained producer, and storage arbitrage.
The share ``κ`` multiplies every consumer's consumption by ``1 − κ`` and so does not move the
allocation. Prices are read from the consumers' demand, ``p^t = ω_h a_h^t / x_h^t``.

Solved with SLSQP (scipy) in units of 100 MWh. Then, hour by hour, the storage schedule held
fixed, the price is the root of ``W^t / p = Σ_j n_j min(K_j^t, S_j(p)) + Σ_b n_b (d_b^t − c_b^t)``
(``W^t = Σ_h n_h ω_h a_h^t``, ``S_j`` the producer's supply ``φ_j'^{-1}``), found by bracketed
bisection to machine precision: without storage this is the exact equilibrium; with storage it
is exact given the schedule, whose own accuracy is SLSQP's (callers check the KKT conditions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize

SCALE = 100.0  # MWh per unit of the optimisation variables


@dataclass
class Benchmark:
    prices: np.ndarray            # USD/MWh, (T,)
    consumption: dict             # name -> (T,) MWh per agent (received)
    output: dict                  # name -> (T,) MWh per agent
    charge: dict                  # name -> (T,) MWh per agent
    discharge: dict               # name -> (T,) MWh per agent
    soc: dict                     # name -> (T,) end-of-hour state of charge, MWh per agent
    success: bool
    message: str


def competitive(econ: dict, *, charge_net_of_verification: bool = False) -> Benchmark:
    """The competitive benchmark of ``econ`` (a :func:`build_day` dict).

    A battery stores ``η_c x`` of the ``x`` it buys, as docs/model.md's state-of-charge
    equation reads; with ``charge_net_of_verification`` it stores ``η_c (1 − κ) x``, the
    electricity left after the payment's verification burn (the model does not say which).
    """
    T = econ["periods"]
    cons = econ["consumers"]
    prods = econ["producers"]
    stor = econ.get("storage", [])
    J, B = len(prods), len(stor)
    n_c = np.array([c["count"] for c in cons], float)
    n_p = np.array([p["count"] for p in prods], float)
    n_s = np.array([s["count"] for s in stor], float)
    omega = np.array([c["endowment"] for c in cons], float)
    a = np.array([c["utility"]["weights"] for c in cons], float)
    a = a / a.sum(axis=1, keepdims=True)
    theta = np.array([p["productivity"] for p in prods], float)
    ret = np.array([p["returns"] for p in prods], float)
    assert np.all(ret < 1), "the oracle needs decreasing returns (c < 1)"
    K = np.array([np.broadcast_to(np.asarray(p["capacity"], float), (T,)) for p in prods])
    S = np.array([s["energy_capacity"] for s in stor], float)
    G = np.array([s["power_capacity"] for s in stor], float)
    eta_c = np.array([s["charge_efficiency"] for s in stor], float)
    if charge_net_of_verification:
        eta_c = eta_c * (1.0 - econ.get("verification", {}).get("share", 0.0))
    eta_d = np.array([s["discharge_efficiency"] for s in stor], float)

    # Hourly, the consumers' log utilities aggregate: maximising Σ_h w_h log x_h subject to
    # Σ_h n_h x_h = X gives n_h x_h = (w_h / W) X, so they contribute W log X (+ a constant),
    # with X = supply − charging from the balance. Variables: outputs q, charge c, discharge d
    # and the initial state of charge s0 of each storage type.
    w = (n_c * omega)[:, None] * a                                      # (H, T)
    W = w.sum(axis=0)                                                   # (T,)
    cost_coef = theta[:, None] ** (-1.0 / ret[:, None])                 # (J, 1)
    expo = (1.0 / ret)[:, None]
    nq, nb = J * T, B * T
    iq = slice(0, nq)
    ic = slice(nq, nq + nb)
    id_ = slice(nq + nb, nq + 2 * nb)
    i0 = slice(nq + 2 * nb, nq + 2 * nb + B)
    n = nq + 2 * nb + B

    def unpack(z):
        q = z[iq].reshape(J, T) * SCALE
        c = z[ic].reshape(B, T) * SCALE
        d = z[id_].reshape(B, T) * SCALE
        return q, c, d, z[i0] * SCALE

    def to_consumers(z):
        q, c, d, _ = unpack(z)
        return (n_p[:, None] * q).sum(axis=0) + (n_s[:, None] * (d - c)).sum(axis=0)

    def f(z):
        q, _, _, _ = unpack(z)
        X = np.maximum(to_consumers(z), 1e-12)
        return (-(W * np.log(X)).sum() + (n_p[:, None] * cost_coef * q ** expo).sum()) / 1e6

    def grad(z):
        q, _, _, _ = unpack(z)
        X = np.maximum(to_consumers(z), 1e-12)
        dX = W / X                                     # ∂(Σ W log X)/∂X, per MWh
        g = np.zeros(n)
        g[iq] = (-(n_p[:, None] * dX) + n_p[:, None] * cost_coef * expo
                 * q ** (expo - 1.0)).ravel()
        g[ic] = (n_s[:, None] * dX).ravel()
        g[id_] = (-(n_s[:, None] * dX)).ravel()
        return g * SCALE / 1e6

    # State of charge after hour t: s0 + Σ_{τ≤t} (η_c c − d/η_d), in units of SCALE.
    L = np.tril(np.ones((T, T)))
    A_soc = np.zeros((B * T, n))
    A_cyc = np.zeros((B, n))
    for b in range(B):
        rows = slice(b * T, (b + 1) * T)
        A_soc[rows, nq + b * T: nq + (b + 1) * T] = eta_c[b] * L
        A_soc[rows, nq + nb + b * T: nq + nb + (b + 1) * T] = -L / eta_d[b]
        A_soc[rows, nq + 2 * nb + b] = 1.0
        A_cyc[b, nq + b * T: nq + (b + 1) * T] = eta_c[b]
        A_cyc[b, nq + nb + b * T: nq + nb + (b + 1) * T] = -1.0 / eta_d[b]
    S_rep = np.repeat(S, T) / SCALE
    # Consumers must receive something every hour they value (log utility): X ≥ a floor.
    A_x = np.zeros((T, n))
    for j in range(J):
        A_x[np.arange(T), j * T + np.arange(T)] = n_p[j]
    for b in range(B):
        A_x[np.arange(T), nq + b * T + np.arange(T)] = -n_s[b]
        A_x[np.arange(T), nq + nb + b * T + np.arange(T)] = n_s[b]
    floor = 1e-6

    cons_list = [{"type": "ineq", "fun": lambda z: A_x @ z - floor, "jac": lambda z: A_x}]
    if B:
        cons_list += [
            {"type": "eq", "fun": lambda z: A_cyc @ z, "jac": lambda z: A_cyc},
            {"type": "ineq", "fun": lambda z: A_soc @ z, "jac": lambda z: A_soc},
            {"type": "ineq", "fun": lambda z: S_rep - A_soc @ z, "jac": lambda z: -A_soc},
        ]
    bounds = ([(0.0, k / SCALE) for k in K.ravel()]
              + [(0.0, g / SCALE) for g in np.repeat(G, T)] * 2
              + [(0.0, s / SCALE) for s in S])
    z0 = np.concatenate([0.5 * K.ravel() / SCALE, np.zeros(2 * nb), 0.5 * S / SCALE])
    res = minimize(f, z0, jac=grad, bounds=bounds, constraints=cons_list, method="SLSQP",
                   options={"maxiter": 3000, "ftol": 1e-15})
    q, c, d, s0 = unpack(res.x)
    if B == 0:
        c = d = np.zeros((0, T))
    net_storage = (n_s[:, None] * (d - c)).sum(axis=0)

    def supply(p, t):
        # φ'(q) = (1/c) θ^(-1/c) q^(1/c - 1) = p  ⇔  q = (c p θ^(1/c))^(c / (1 - c))
        s_free = (ret * p * theta ** (1.0 / ret)) ** (ret / (1.0 - ret))
        return np.minimum(K[:, t], s_free)

    prices = np.empty(T)
    for t in range(T):
        def excess(logp, t=t):
            p = np.exp(logp)
            return W[t] / p - (n_p * supply(p, t)).sum() - net_storage[t]
        prices[t] = np.exp(brentq(excess, np.log(1e-9), np.log(1e9), xtol=1e-15,
                                  rtol=4 * np.finfo(float).eps, maxiter=500))
        q[:, t] = supply(prices[t], t)
    X = W / prices
    x = (w / W) * X / n_c[:, None]
    soc = {s["name"]: s0[b] + np.cumsum(eta_c[b] * c[b] - d[b] / eta_d[b])
           for b, s in enumerate(stor)}
    return Benchmark(
        prices=prices,
        consumption={cc["name"]: x[h] for h, cc in enumerate(cons)},
        output={p["name"]: q[j] for j, p in enumerate(prods)},
        charge={s["name"]: c[b] for b, s in enumerate(stor)},
        discharge={s["name"]: d[b] for b, s in enumerate(stor)},
        soc=soc, success=bool(res.success), message=str(res.message))
