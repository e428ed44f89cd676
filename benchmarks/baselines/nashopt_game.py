"""Baseline (a): the game written for NashOpt 1.3.9 (``nashopt.GNEP``) as its agents'
objectives and constraints.

NashOpt's model (``GNEP(sizes, f, g, ng, lb, ub, ...)``): agent ``i`` minimises ``f_i(x)`` over
its block ``x_i`` subject to *shared* constraints ``g(x) <= 0`` (every agent is subject to every
row of ``g``, each with its own multiplier unless ``variational=True``) and its own box
``lb_i <= x_i <= ub_i``. ``solve(x0)`` writes all agents' KKT conditions (complementarity by the
Fischer-Burmeister function), differentiates them with JAX, and hands the residual to
``scipy.optimize.root`` (``hybr`` when square) or ``least_squares`` (``trf``).

This game, per agent (layout: consumers ``x_h = b_h^{1..T}``, then producers
``x_j = (q_j^{1..T}, b_j^0, b_j^{1..T})``):

* ``f_i(x) = -sum_t a_it log(b_i^t Q^t / B^t)``;
* ``g(x)``: every consumer's budget, every producer's budget and goods feasibility
  ``sum_t phi(q_j^t) - b_j^0 Omega / B^0 <= 0``, stacked (``N + 6`` rows), each divided by the size
  of the budget concerned so that the rows are O(1);
* ``lb = 0`` on everything, ``ub = K`` on offers.

NashOpt has no *individual* (agent-specific) nonlinear constraints: a budget written in ``g``
becomes a constraint of every agent. Agent ``k`` then also "respects" agent ``i``'s budget, and
since ``i``'s budget depends on ``k``'s bids (through ``B^0``, ``B^t``, ``Q^t``), a positive
multiplier of ``k`` on ``i``'s budget is a valid KKT point: the shared-constraint GNE set is
larger than the Nash set, and the solver may land anywhere in it. ``formulation`` chooses:

* ``"individual"`` (default): ``g`` as above, ``variational=True`` (one multiplier per row), and
  the attribute ``gnep.dg`` (NashOpt's ``jit(jacobian(g))``, used only in the stationarity
  conditions) replaced after construction by the same Jacobian with every row zeroed outside its
  owner's block. The KKT system is then exactly the stacked KKT system of the Nash game (each
  complementarity row repeated once per agent: over-determined but consistent, hence ``trf``),
  and the Jacobian ``solve()`` takes of it is exact. This touches an internal attribute.
* ``"stopgrad"``: the public-API way to the same KKT *points*: each row of ``g`` sees the other
  agents' variables through ``jax.lax.stop_gradient``. But ``solve()`` differentiates the whole
  KKT residual, so the complementarity rows lose their cross derivatives too (``d rev_j / d b_h``
  ``= q_j/Q ~ 1/3``): an inexact Jacobian, and ``trf`` crawls (N = 20: ``||KKT|| = 3.5e-6`` after
  500 evaluations, against 84 evaluations to 3e-15 with ``"individual"``).
* ``"shared"``: the budgets as plain shared constraints (what the API suggests), default
  non-variational solver (``hybr``). Kept to show the pitfall: ``hybr`` stalls, ``trf`` converges
  to a KKT point of the shared-constraint game that is not a Nash equilibrium.

Normalisation: bids are homogeneous, so the KKT points form rays. ``p^0 = 1`` cannot be imposed
through NashOpt: a shared equality ``sum_j b_j^0 = Omega`` (``normalise=True``) enters every
producer's problem and gives spurious equilibria (N = 5: prices 21% off, its multiplier -0.21).
So the system is left unnormalised and the answer rescaled afterwards.

Cost: every agent carries a copy of every row of ``g``, so the residual has ``(N+3)(N+6)``
complementarity rows against ``~10N`` unknowns, and ``solve()`` differentiates it with
``jax.jacobian`` (reverse mode, one pass per *row*) through a graph unrolled over the agents.
Measured on the 2-core machine: N = 5 compiles in ~4-8 s, N = 20 in ~15-18 s (plus ~17 s of
``trf``); N = 50 is still in ``solve()``'s compile-and-first-Jacobian step at 60 s, its process
past 8 GB (18 GB at ~80 s when left alone); N = 200 gets no further within 60 s.

Timing: ``GNEP.solve`` builds ``jax.jit(kkt_residual)`` and its Jacobian afresh on every call, so
every solve recompiles. NashOpt times the first (compiling) evaluation itself
(``sol.stats.jax_jit_time``); ``compile_seconds`` reports that, ``seconds`` is the whole call
(construction, compilation and solve).
"""

from __future__ import annotations

import time

import numpy as np

from .economy import Economy, Profile, result_dict, starting_profile


class _Timeout(Exception):
    pass


def _import_nashopt():
    import jax

    jax.config.update("jax_enable_x64", True)
    import nashopt  # noqa: F401  (imports qpsolvers, undeclared in its metadata)
    from nashopt.nonlinear import gnep_base

    return jax, gnep_base


def layout(econ: Economy) -> tuple[list[int], int]:
    T = econ.T
    return [T] * econ.N + [2 * T + 1] * econ.P, econ.N * T


def profile_to_x(econ: Economy, prof: Profile) -> np.ndarray:
    return np.concatenate(
        [prof.cb.ravel(), np.hstack([prof.q, prof.pb0[:, None], prof.pb]).ravel()]
    )


def x_to_profile(econ: Economy, x: np.ndarray) -> Profile:
    N, T, P = econ.N, econ.T, econ.P
    cb = x[: N * T].reshape(N, T)
    pr = x[N * T :].reshape(P, 2 * T + 1)
    return Profile(cb.copy(), pr[:, :T].copy(), pr[:, T + 1 :].copy(), pr[:, T].copy())


def build_gnep(econ: Economy, formulation: str = "individual", normalise: bool = False):
    """The ``nashopt.GNEP`` of this economy. ``normalise`` adds ``sum_j b_j^0 = Omega``
    (``p^0 = 1``) as a shared linear equality ``Aeq x = beq``."""
    jax, gnep_base = _import_nashopt()
    jnp = jax.numpy
    N, T, P = econ.N, econ.T, econ.P
    sizes, nc = layout(econ)
    a = jnp.asarray(econ.a)
    ap = jnp.asarray(econ.ap)
    om = jnp.asarray(econ.omega)
    Om, theta, c = econ.Omega, econ.theta, econ.c

    def split(x):
        cb = x[:nc].reshape(N, T)
        pr = x[nc:].reshape(P, 2 * T + 1)
        return cb, pr[:, :T], pr[:, T], pr[:, T + 1 :]

    def agg(x):
        cb, q, pb0, pb = split(x)
        return cb.sum(0) + pb.sum(0), q.sum(0), pb0.sum()

    def make_consumer(h):
        def f(x):
            cb, _, _, _ = split(x)
            B, Q, _ = agg(x)
            return -jnp.sum(a[h] * jnp.log(cb[h] * Q / B))

        return f

    def make_producer(j):
        def f(x):
            _, _, _, pb = split(x)
            B, Q, _ = agg(x)
            return -jnp.sum(ap[j] * jnp.log(pb[j] * Q / B))

        return f

    f = [make_consumer(h) for h in range(N)] + [make_producer(j) for j in range(P)]

    def rows(cb, q, pb0, pb, B, Q, B0):
        """Budget and goods rows from own variables and aggregates (own included)."""
        cons = (cb.sum(1) - B0 * om / Om) / om  # consumer budgets, in units of p^0
        rev = (B * q / Q).sum(1)
        prod = (pb0 + pb.sum(1) - rev) / (Om / P)  # producer budgets
        phi = ((q / theta) ** (1.0 / c)).sum(1)
        goods = (phi - pb0 * Om / B0) / (Om / P)  # x_j^0 >= 0
        return jnp.concatenate([cons, prod, goods])

    def rows_own(cb, q, pb0, pb, Bs, Qs, B0s, pbs, qs, pb0s):
        """The rows with each agent's own variables live and the others' taken from the
        (frozen) ``*s`` arrays."""
        cons = (cb.sum(1) - B0s * om / Om) / om  # B^0 is the producers'
        Bj = Bs - pbs + pb  # (P,T): producer j's own bids live
        Qj = Qs - qs + q
        B0j = B0s - pb0s + pb0
        prod = (pb0 + pb.sum(1) - (Bj * q / Qj).sum(1)) / (Om / P)
        phi = ((q / theta) ** (1.0 / c)).sum(1)
        goods = (phi - pb0 * Om / B0j) / (Om / P)
        return jnp.concatenate([cons, prod, goods])

    def g_full(x):
        cb, q, pb0, pb = split(x)
        B, Q, B0 = agg(x)
        return rows(cb, q, pb0, pb, B, Q, B0)

    if formulation in ("shared", "individual"):
        g = g_full
        variational = formulation == "individual"
    elif formulation == "stopgrad":
        sg = jax.lax.stop_gradient

        def g(x):
            # own variables live, the others' frozen: row i has a zero Jacobian outside block i
            cb, q, pb0, pb = split(x)
            cbs, qs, pb0s, pbs = split(sg(x))
            Bs, Qs, B0s = agg(sg(x))
            return rows_own(cb, q, pb0, pb, Bs, Qs, B0s, pbs, qs, pb0s)

        variational = True
    else:
        raise ValueError(f"unknown formulation {formulation!r}")

    nvar = sum(sizes)
    lb = np.zeros(nvar)
    ub = np.full(nvar, np.inf)
    for j in range(P):
        o = nc + j * (2 * T + 1)
        ub[o : o + T] = econ.K
    kw = {}
    if normalise:
        Aeq = np.zeros((1, nvar))
        for j in range(P):
            Aeq[0, nc + j * (2 * T + 1) + T] = 1.0
        kw = {"Aeq": Aeq, "beq": np.array([Om])}
    gnep = gnep_base.GNEP(sizes, f=f, g=g, ng=N + 2 * P, lb=lb, ub=ub, variational=variational,
                          **kw)
    if formulation == "individual":
        # Row i of g belongs to its owner only: zero its Jacobian outside the owner's block in
        # the stationarity conditions, by replacing the attribute GNEP.__init__ set to
        # jit(jacobian(g)). The value g(x) (complementarity rows) keeps its true derivative, so
        # the Jacobian that solve() builds of the whole KKT residual is exact.
        mask = np.zeros((N + 2 * P, nvar))
        for h in range(N):
            mask[h, h * T : (h + 1) * T] = 1.0
        for j in range(P):
            o = nc + j * (2 * T + 1)
            mask[N + j, o : o + 2 * T + 1] = 1.0
            mask[N + P + j, o : o + 2 * T + 1] = 1.0
        maskj = jnp.asarray(mask)
        jac_g = jax.jacobian(gnep.g)
        gnep.dg = jax.jit(lambda x: jac_g(x) * maskj)
    return gnep


def solve(
    econ: Economy,
    *,
    time_limit: float = 60,
    formulation: str = "individual",
    solver: str | None = None,
    max_nfev: int = 500,
    repeat: int = 1,
    start: Profile | None = None,
) -> dict:
    """Solve with NashOpt from the common positive start; ``repeat > 1`` calls ``gnep.solve``
    again on the same object (to show that it recompiles). Stops at ``time_limit`` seconds at the
    next residual evaluation (compilation itself cannot be interrupted: the caller's process
    guard is the hard stop)."""
    t0 = time.perf_counter()
    jax, gnep_base = _import_nashopt()
    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    gnep = build_gnep(econ, formulation)
    t_build = time.perf_counter() - t1
    x0 = profile_to_x(econ, starting_profile(econ) if start is None else start)
    if solver is None:
        solver = "trf" if formulation in ("individual", "stopgrad") else None

    # NashOpt offers no time limit; wrap the scipy solvers it calls so that every residual
    # evaluation checks the clock (and remembers the last iterate).
    last = {"z": None}
    orig_ls, orig_root = gnep_base.least_squares, gnep_base.root

    def guard(fun):
        def wrapped(z, *args):
            if time.perf_counter() - t0 > time_limit:
                raise _Timeout
            last["z"] = np.asarray(z)
            return fun(z, *args)

        return wrapped

    def ls(fun, z0, *args, **kw):
        return orig_ls(guard(fun), z0, *args, **kw)

    def rt(fun, z0, *args, **kw):
        return orig_root(guard(fun), z0, *args, **kw)

    gnep_base.least_squares, gnep_base.root = ls, rt
    runs = []
    sol = None
    timed_out = False
    try:
        for _ in range(repeat):
            ts = time.perf_counter()
            try:
                sol = gnep.solve(x0, max_nfev=max_nfev, tol=1e-14, solver=solver, verbose=0)
            except RuntimeError as e:  # NashOpt re-raises whatever the scipy call raised
                if isinstance(e.__cause__, _Timeout):
                    timed_out = True
                    break
                raise
            runs.append(
                {
                    "total": time.perf_counter() - ts,
                    "compile": float(sol.stats.jax_jit_time),
                    "nfev": int(sol.stats.kkt_evals),
                    "residual": float(sol.norm_residual),
                    "solver": sol.stats.solver,
                }
            )
    finally:
        gnep_base.least_squares, gnep_base.root = orig_ls, orig_root
    seconds = time.perf_counter() - t0
    compile_s = runs[0]["compile"] if runs else float("nan")
    if sol is not None:
        x = np.asarray(sol.x)
        res = float(sol.norm_residual)
    elif last["z"] is not None:
        x = last["z"][: gnep.nvar]
        res = float("nan")
    else:
        x, res = None, float("nan")
    converged = (not timed_out) and sol is not None and res < 1e-9
    notes = [
        f"formulation={formulation}, variational={gnep.variational}, solver={solver or 'auto'}",
        f"z size={gnep.nvar + gnep.nlam_sum}",
        f"import {t_import:.1f}s, build {t_build:.2f}s",
    ]
    notes += [
        f"solve#{k + 1}: {r['solver']} total {r['total']:.2f}s (jit {r['compile']:.2f}s) "
        f"nfev {r['nfev']} ||KKT|| {r['residual']:.1e}"
        for k, r in enumerate(runs)
    ]
    if timed_out:
        notes.append(f"time limit {time_limit}s hit")
    prof = None
    if x is not None and np.all(np.isfinite(x)) and np.sum(x_to_profile(econ, x).pb0) > 0:
        prof = x_to_profile(econ, x)
    return result_dict(
        econ,
        prof,
        seconds=seconds,
        converged=converged,
        notes="; ".join(notes),
        compile_seconds=compile_s,
        solve_seconds=(runs[0]["total"] - runs[0]["compile"]) if runs else float("nan"),
        kkt_residual=res,
        runs=runs,
    )
