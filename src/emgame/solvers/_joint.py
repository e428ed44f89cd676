"""Consumers' budgets in one pass with the totals: the kernels of the joint Newton method (numba).

For many consumer types, :meth:`emgame.solvers._aggregate.Aggregate.joint_newton` does not
solve every budget exactly at each trial point: each type keeps its ``λ`` and takes one Newton
step along with the totals. One pass (:func:`consumer_joint`) evaluates, at every type's
current ``λ``, its demand, its relative budget residual, the Newton correction of ``λ`` at
fixed totals ``-r/r_λ`` and ``dλ/dY``, and sums the demand, the demand change the corrections
predict and the Schur-complemented Jacobian ``dX/dY``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import prange

from emgame._jit import njit, unliteral
from emgame.solvers._consumer import _purchases, _slopes, accumulate, blocks
from emgame.solvers._records import consumer, slopes


class JointWork(NamedTuple):
    """Per-type outputs of a pass: the Newton correction ``corr (m,)``, ``dldY (m, 2T+1)`` and
    the relative budget residual ``rres (m,)``."""

    corr: np.ndarray
    dldY: np.ndarray
    rres: np.ndarray


class Sums(NamedTuple):
    """One block's sums: demand ``X``, predicted demand change ``Xc``, Jacobian ``JX``."""

    X: np.ndarray
    Xc: np.ndarray
    JX: np.ndarray


@njit
def _block(lo, hi, tot, mk, cs, st, want_jac, out, jw):
    """Responses of types ``lo..hi-1`` at their current ``λ`` (not solved: one Newton step's
    worth)."""
    p = tot.p
    T = cs.a.shape[1]
    fx = np.zeros(T + 1)
    sl = slopes(T)
    for i in range(lo, hi):
        ct = consumer(cs, i)
        exog = ct.wallet == ct.wallet
        income = ct.wallet if exog else p[0] * ct.omega
        x = st.x[i]
        spend = _purchases(st.lam[i], tot, mk, ct, ct.part, x, fx)
        _slopes(st.lam[i], tot, mk, ct, ct.part, x, fx, unliteral(False), sl)
        r = spend - income
        r_l = 0.0
        for t in range(T + 1):
            r_l += p[t] * sl.dx_dl[t]
        c = -r / r_l if r_l < 0.0 else 0.0
        jw.corr[i] = c
        jw.rres[i] = r / income if income > 0.0 else r
        jw.dldY[i, :] = sl.dl_dY
        for t in range(T + 1):
            out.Xc[t] += cs.n[i] * sl.dx_dl[t] * c
        accumulate(cs.n[i], x, sl, want_jac, out.X, out.JX)


@njit
def _block_cobb_douglas(lo, hi, tot, mk, cs, st, want_jac, out, jw):
    """:func:`_block` for Cobb–Douglas types without verification costs, in closed form:
    ``x_t = a_t / (λ p^t + a_t τ/Q^t)`` (the purchase condition solved for ``x``)."""
    p, Q = tot.p, tot.Q
    tau = mk.tau
    T = cs.a.shape[1]
    nY = 2 * T + 1
    Omega = Q[0]
    X, Xc, JX = out.X, out.Xc, out.JX
    dldY = jw.dldY
    U = np.zeros((hi - lo if want_jac else 0, T + 1))
    for i in range(lo, hi):
        exog = cs.wallet[i] == cs.wallet[i]
        income = cs.wallet[i] if exog else p[0] * cs.omega[i]
        li = st.lam[i]
        x = st.x[i]
        spend = 0.0
        r_l = 0.0
        dldY[i, :] = 0.0
        # Goods (classic types): a0 (1 - τ x0/Ω)/x0 = λ p0 (1 - τβω/Ω).
        w0 = 1.0 - tau * mk.beta * cs.omega[i] / Omega
        dxl0 = 0.0
        dxp0 = 0.0
        a0 = cs.a0[i]
        if a0 > 0.0:
            d = li * p[0] * w0 + a0 * tau / Omega
            x0 = a0 / d
            dxl0 = -a0 * p[0] * w0 / (d * d)
            dxp0 = -a0 * li * w0 / (d * d)
        else:
            x0 = 0.0
        x[0] = x0
        spend += p[0] * x0
        r_l += p[0] * dxl0
        dr_p0 = x0 + p[0] * dxp0 - (0.0 if exog else cs.omega[i])
        for t in range(1, T + 1):
            at = cs.a[i, t - 1]
            if at > 0.0:
                d = li * p[t] + at * tau / Q[t]
                xt = at / d
                dxl = -at * p[t] / (d * d)
                dxp = -at * li / (d * d)
                dxq = at * at * tau / (Q[t] * Q[t] * d * d)
            else:
                xt = 0.0
                dxl = 0.0
                dxp = 0.0
                dxq = 0.0
            x[t] = xt
            spend += p[t] * xt
            r_l += p[t] * dxl
            dldY[i, t] = xt + p[t] * dxp          # dr/dp_t for now
            dldY[i, T + t] = p[t] * dxq           # dr/dQ_t
            if want_jac:
                JX[t, t] += cs.n[i] * dxp
                JX[t, T + t] += cs.n[i] * dxq
                U[i - lo, t] = cs.n[i] * dxl
        dldY[i, 0] = dr_p0
        if want_jac:
            JX[0, 0] += cs.n[i] * dxp0
            U[i - lo, 0] = cs.n[i] * dxl0
        r = spend - income
        c = -r / r_l if r_l < 0.0 else 0.0
        jw.corr[i] = c
        jw.rres[i] = r / income if income > 0.0 else r
        for k in range(nY):
            dldY[i, k] = -dldY[i, k] / r_l if r_l < 0.0 else 0.0
        n = cs.n[i]
        if want_jac:
            for t in range(T + 1):
                ut = U[i - lo, t]
                if ut != 0.0:
                    for k in range(nY):
                        JX[t, k] += ut * dldY[i, k]
        X[0] += n * x0
        Xc[0] += n * dxl0 * c
        for t in range(1, T + 1):
            X[t] += n * x[t]
        if c != 0.0:
            for t in range(1, T + 1):
                at = cs.a[i, t - 1]
                if at > 0.0:
                    d = li * p[t] + at * tau / Q[t]
                    Xc[t] += n * (-at * p[t] / (d * d)) * c


@njit(parallel=True)
def _blocks_cobb_douglas(bounds, tot, mk, cs, st, want_jac, sums, jw):
    for b in prange(bounds.size - 1):
        _block_cobb_douglas(bounds[b], bounds[b + 1], tot, mk, cs, st, want_jac,
                            Sums(sums.X[b], sums.Xc[b], sums.JX[b]), jw)


@njit(parallel=True)
def _blocks(bounds, tot, mk, cs, st, want_jac, sums, jw):
    for b in prange(bounds.size - 1):
        _block(bounds[b], bounds[b + 1], tot, mk, cs, st, want_jac,
               Sums(sums.X[b], sums.Xc[b], sums.JX[b]), jw)


def closed_form(cs, mk) -> bool:
    """Whether :func:`consumer_joint` may use the closed form: Cobb–Douglas types without
    verification costs, paying wherever they value."""
    return bool(np.all(cs.ge == 1.0) and np.all(cs.gg == 1.0) and not np.any(mk.v)
                and not np.any(mk.kappa) and np.array_equal(cs.part[:, 1:], cs.a > 0)
                and np.array_equal(cs.part[:, 0], cs.a0 > 0))


def consumer_joint(tot, mk, cs, st, want_jac, jw, cobb_douglas):
    """One pass of Newton's method on consumers' budgets jointly with the totals.

    At each type's current ``λ`` (not re-solved): demand ``st.x``, and in ``jw``
    (:class:`JointWork`) its budget residual, correction and ``dλ/dY``. Returns the weighted
    demand ``X``, the demand change the corrections predict ``Xc``, and (with ``want_jac``) the
    Schur-complemented Jacobian ``dX/dY``: the same matrix as
    :func:`emgame.solvers._consumer.consumer_aggregate`'s, at a third of the work per pass.
    ``cobb_douglas`` is :func:`closed_form` of the same records (fixed within a solve, so the
    caller tests it once).
    """
    T = cs.a.shape[1]
    m = cs.a.shape[0]
    bounds = blocks(m)
    nb = bounds.size - 1
    sums = Sums(np.zeros((nb, T + 1)), np.zeros((nb, T + 1)), np.zeros((nb, T + 1, 2 * T + 1)))
    if cobb_douglas:
        _blocks_cobb_douglas(bounds, tot, mk, cs, st, want_jac, sums, jw)
    elif nb == 1:
        _block(0, m, tot, mk, cs, st, want_jac, Sums(sums.X[0], sums.Xc[0], sums.JX[0]), jw)
    else:
        _blocks(bounds, tot, mk, cs, st, want_jac, sums, jw)
    return sums.X.sum(axis=0), sums.Xc.sum(axis=0), sums.JX.sum(axis=0)
