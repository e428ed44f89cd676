"""Competitive (Walrasian) equilibrium, the benchmark (docs/model.md, Solution concepts).

Prices ``p^0 = 1, p^1..p^T`` that every agent takes as given; consumers and producers optimise
(producers: profit-maximising supply at the effective price ``βp^t``, then consumption out of
profit); every market clears.

Producers with constant or increasing returns (``c >= 1``) have a supply *correspondence*: a
step at their marginal (``c = 1``) or average (``c > 1``) cost. Each post's unknown is therefore
a coordinate ``u^t`` that runs along the graph of the step supply (Minty's parametrisation): on
a rise, ``log p = u - offset``; along a step, ``p`` stays at the cost and the steps' output grows
with ``u``. Price and step output are then continuous functions of ``u`` and Newton's method
applies. Types sharing a constant marginal cost split their output in proportion to capacity
(equal utilisation, docs/model.md, Solution concepts). In the long run the capacity of each
constant-returns
type is an unknown with the complementarity ``K >= 0 ⊥ ρ p^0 - Σ_t (βp^t - p^0/θ)^+ >= 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emgame._jit import kernel_array
from emgame._numerics import clock
from emgame.market.game import Profile, evaluate, inputs
from emgame.model.economy import Economy
from emgame.results import Multipliers, Status
from emgame.solvers import checks
from emgame.solvers._aggregate import (
    ces_utility_scale,
    default_participation,
    state_weights,
    valued_posts,
)
from emgame.solvers._at_cost import snap_to_cost
from emgame.solvers._consumer import ConsumerState, consumer_aggregate
from emgame.solvers._newton import newton
from emgame.solvers._records import Response, Totals, TypeParams, market
from emgame.solvers.candidate import Candidate
from emgame.solvers.nash import rough_start
from emgame.solvers.regimes import consumer_regimes


@dataclass(frozen=True)
class CompetitiveOptions:
    """Newton stops when every market's excess demand is below ``atol`` relative to its size;
    the search gives up after ``max_seconds`` (on :func:`emgame._numerics.clock`, which leaves
    out compilation; used where the benchmark is only a start for the Nash search)."""

    atol: float = 1e-12
    max_iter: int = 300
    max_rounds: int = 40
    max_seconds: float = math.inf


class _Benchmark:
    """Excess demand as a function of the unknowns ``(u^t, [log p^0], [K of c = 1 types])``."""

    storage_flows = None  # (purchases (T,), discharge (T,)) of all storage operators, fixed

    def __init__(self, economy: Economy) -> None:
        self.economy = economy
        self.k = market(economy, 0.0)
        self.exogenous = not economy.stationary_wallets
        self.Omega = economy.goods_supply
        self.C = TypeParams(economy.consumers)
        self.P = TypeParams(economy.producers)
        T = economy.periods
        self.T = T
        self.posts = np.flatnonzero(valued_posts(economy)[1:]) + 1
        self.part_c = default_participation(economy, self.C, producers=False)
        self.part_p = default_participation(economy, self.P, producers=False)
        self.part_p[:, 0] = True  # producers pay for inputs on the goods post
        if np.any(economy.fixed_costs[:, 0] > 0):
            self.part_p[:, economy.market.goods_settlement_period] = True
        # Producers always pay on the goods post (inputs), so its verification is part of
        # period t0's fixed cost for them, even when they buy no goods to consume.
        self.v_p = self.k.v.copy()
        self.v_p[:, self.k.t0] += self.v_p[:, 0]
        self.v_p[:, 0] = 0.0
        P = self.P
        self.flat = P.c >= 1.0
        self.long_flat = np.flatnonzero(self.flat & self.k.long_run)
        self.lam_c = np.maximum(self.C.a.sum(axis=1) + self.C.a0, 1e-3) / np.maximum(
            self.C.omega, 1e-300)
        self.lam_p = np.maximum(P.a.sum(axis=1) + P.a0, 1e-3)
        nc, npr = len(self.C), len(P)
        self.x_c = np.zeros((nc, T + 1))
        self.x_p = np.zeros((npr, T + 1))
        self.pi_c = np.tile(self.k.pi, (nc, 1))
        self.pi_p = np.tile(self.k.pi, (npr, 1))
        self.st_c = np.zeros(nc, dtype=np.int64)
        self.st_p = np.zeros(npr, dtype=np.int64)
        # Quantity scale of the steps (Minty's coordinate mixes log-price and quantity): the
        # size of the market, not of capacity, which may be far larger than anything traded.
        _, Q0 = rough_start(economy)
        self.S_hat = max(float(np.mean(Q0[self.posts])) if self.posts.size else 1.0, 1e-12)
        self.evaluations = 0
        self.q_ref = np.ones(len(self.posts))

    @property
    def size(self) -> int:
        return len(self.posts) + (1 if self.exogenous else 0) + len(self.long_flat)

    # ---------------------------------------------------------------------------------------
    def _steps(self, p0: float, K: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
        """Step prices and heights of the ``c >= 1`` types, merged where prices tie."""
        P, beta = self.P, self.k.beta
        idx = np.flatnonzero(self.flat)
        if idx.size == 0:
            return np.zeros(0), np.zeros(0), []
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = np.where(P.c[idx] == 1.0, 1.0 / P.theta[idx],
                           inputs_avg(K[idx], P.theta[idx], P.c[idx]))
        m = p0 * avg / beta
        order = np.argsort(m, kind="stable")
        prices, heights, members = [], [], []
        for i in order:
            j = idx[i]
            if prices and abs(m[i] - prices[-1]) <= 1e-14 * prices[-1]:
                heights[-1] += P.n[j] * K[j]
                members[-1].append(j)
            else:
                prices.append(m[i])
                heights.append(P.n[j] * K[j])
                members.append([j])
        return np.array(prices), np.array(heights), members

    def prices_and_steps(self, u: np.ndarray, p0: float, K: np.ndarray):
        """Minty's map for every trading post: ``u^t -> (p^t, dp/du, step fills)``."""
        prices, heights, members = self._steps(p0, K)
        m = len(self.posts)
        p = np.zeros(m)
        dp = np.zeros(m)
        fill = np.zeros((m, len(prices)))
        dfill = np.zeros((m, len(prices)))
        logm = np.log(prices) if prices.size else prices
        H = heights / self.S_hat
        for i in range(m):
            off = 0.0
            ui = u[i]
            p[i] = np.exp(ui)
            dp[i] = p[i]
            for k in range(len(prices)):
                start = logm[k] + off
                if ui <= start:
                    break
                if H[k] > 0 and ui <= start + H[k]:
                    fill[i, k] = (ui - start) / H[k]
                    dfill[i, k] = 1.0 / H[k]
                    p[i] = prices[k]
                    dp[i] = 0.0
                    break
                fill[i, k] = 1.0
                off += H[k]
                p[i] = np.exp(ui - off)
                dp[i] = p[i]
        return p, dp, fill, dfill, members

    def initial(self, start: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        p, Q = start if start is not None else rough_start(self.economy)
        self.q_ref = np.maximum(Q[self.posts], 1e-300)
        K = self._capacities(np.ones(len(self.long_flat)))
        prices, heights, _ = self._steps(1.0, K)
        u = []
        for t in self.posts:
            if prices.size and heights[0] > 0:
                # Constant returns: start on the cheapest step, supplying about the guess.
                supply = float(np.clip(Q[t], 1e-9 * heights[0], 0.99 * heights[0]))
                u.append(np.log(prices[0]) + supply / self.S_hat)
            else:
                u.append(np.log(max(p[t], 1e-300)))
        y = list(u)
        if self.exogenous:
            y.append(0.0)
        y += [1.0] * len(self.long_flat)
        return self._level(np.array(y))

    def _level(self, y: np.ndarray, shifted: slice | None = None,
               falls: bool = False) -> np.ndarray:
        """Shift every electricity price by a common factor until goods nearly clear.

        A start where every producer runs at capacity leaves Newton's goods row flat, and from
        there it can drift to ever higher prices; the goods row is monotone in the level of
        electricity prices, so the level is found first, by bisection on its logarithm.
        ``shifted`` picks other coordinates to shift instead (the goods price ``log p^0`` under
        exogenous wallets, :meth:`level_goods`), ``falls`` where the goods row falls as they
        rise.
        """
        m = len(self.posts)
        if m == 0:
            return y
        shifted = slice(0, m) if shifted is None else shifted

        def goods(shift: float) -> float:
            z = y.copy()
            z[shifted] += shift
            return float(self(z, False)[0][m])

        g0 = goods(0.0)
        if not np.isfinite(g0) or abs(g0) < 1e-3:
            return y
        step = -0.5 if (g0 > 0) != falls else 0.5
        lo, hi = 0.0, step
        for _ in range(40):
            g = goods(hi)
            if np.isfinite(g) and (g > 0) != (g0 > 0):
                break
            lo, hi = hi, hi + step
            step *= 1.5
        else:
            return y
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            g = goods(mid)
            if (g > 0) == (g0 > 0):
                lo = mid
            else:
                hi = mid
        z = y.copy()
        z[shifted] += 0.5 * (lo + hi)
        return z

    def level_goods(self, y: np.ndarray) -> np.ndarray:
        """Under exogenous wallets, move the goods price ``p^0`` alone (the other unknowns
        held) until goods nearly clear. Where consumers spend every bytecoin on electricity
        and producers buy inputs for full capacity, goods demand does not move with ``p^0``
        and Newton's goods row is flat: from a start far above the clearing ``p^0`` it never
        comes down (the nominal level is set by the wallets, and can be far from 1)."""
        if not self.exogenous:
            return y
        m = len(self.posts)
        return self._level(y, slice(m, m + 1), falls=True)

    def _capacities(self, kvars: np.ndarray) -> np.ndarray:
        K = np.where(np.isnan(self.P.Kbar), 0.0, self.P.Kbar).copy()
        if self.long_flat.size:
            K[self.long_flat] = np.maximum(kvars, 0.0) * self._K_scale()
        return K

    def _K_scale(self) -> float:
        return max(self.Omega, 1e-12)

    # ---------------------------------------------------------------------------------------
    def unpack(self, y: np.ndarray):
        m = len(self.posts)
        u = y[:m]
        p0 = float(np.exp(y[m])) if self.exogenous else 1.0
        kvars = y[m + (1 if self.exogenous else 0):]
        return u, p0, kvars

    def supply(self, p: np.ndarray, K: np.ndarray, fills: np.ndarray, members: list):
        """Each producer type's output ``q (np, T+1)`` and capacity at full prices ``p``."""
        P, beta = self.P, self.k.beta
        T = self.T
        npr = len(P)
        q = np.zeros((npr, T + 1))
        Kout = K.copy()
        smooth = np.flatnonzero(~self.flat)
        if smooth.size:
            th, c = P.theta[smooth, None], P.c[smooth, None]
            mgoods = beta * p[None, 1:] / p[0]             # goods per unit of electricity
            q_unc = th * (mgoods * c * th) ** (c / (1.0 - c))
            if self.k.long_run:
                Ks = _long_run_capacity(beta * p[1:] / p[0], P.theta[smooth], P.c[smooth],
                                        P.rho[smooth], P.s[smooth, 1:])
                Kout[smooth] = Ks
            # the cap of post t is s^t K (docs/model.md, Availability)
            q[smooth, 1:] = np.minimum(q_unc, Kout[smooth, None] * P.s[smooth, 1:])
        for i, t in enumerate(self.posts):
            for k, group in enumerate(members):
                for j in group:
                    q[j, t] = fills[i, k] * Kout[j]
        return q, Kout

    def producer_income(self, p: np.ndarray, q: np.ndarray, K: np.ndarray) -> np.ndarray:
        """Profit (revenue-financed budgets) or wallet net of inputs (exogenous wallets).

        A profit within rounding of zero (constant returns at a price equal to cost) is zero:
        a residue of 1e-12 would buy a sliver of electricity and a finite utility that the
        benchmark does not have (docs/model.md, Solution concepts).
        """
        P = self.P
        cost = p[0] * (inputs(self.economy.producers, q[:, 1:]).sum(axis=1)
                       + (P.rho * K if self.k.long_run else 0.0))
        if self.exogenous:
            return P.wallet - cost
        revenue = q[:, 1:] @ p[1:]
        profit = revenue - cost
        return np.where(np.abs(profit) <= 1e-9 * np.maximum(revenue, cost), 0.0, profit)

    def consume(self, p: np.ndarray, types: TypeParams, part, lam, x, st, wallet, omega,
                want_jac: bool = False):
        """Price takers' demand: per-type ``x`` (in place) and the weighted total with its
        derivatives in the prices."""
        Q = np.ones(self.T + 1)
        Q[0] = self.Omega
        consumers = types is self.C
        mk = self.k if consumers else self.k._replace(v=self.v_p)
        cs = types.consumers(part, self.pi_c if consumers else self.pi_p)._replace(
            wallet=kernel_array(wallet), omega=kernel_array(omega))
        return consumer_aggregate(Totals(p, Q), mk, cs, ConsumerState(lam, x, st), want_jac)

    def prices(self, y: np.ndarray):
        """Prices over posts ``0..T`` from the unknowns, with the steps' fills and capacities."""
        u, p0, kvars = self.unpack(y)
        K = self._capacities(kvars)
        pa, _, fills, _, members = self.prices_and_steps(u, p0, K)
        p = np.zeros(self.T + 1)
        p[0] = p0
        p[self.posts] = pa
        return p, K, fills, members

    def consumer_side(self, p: np.ndarray, want_jac: bool):
        """Consumers' total demand ``X (T+1,)`` and, if asked, ``dX/dp (T+1, T+1)``."""
        C = self.C
        T = self.T
        if not len(C):
            return np.zeros(T + 1), np.zeros((T + 1, T + 1))
        X, JX = self.consume(p, C, self.part_c, self.lam_c, self.x_c, self.st_c, C.wallet,
                             C.omega, want_jac)
        return X, (JX[:, :T + 1] if want_jac else None)

    def producer_side(self, y: np.ndarray):
        """Producers' rows of the residual (their demand less supply), and the outcome."""
        p, K, fills, members = self.prices(y)
        q, Kout = self.supply(p, K, fills, members)
        income = self.producer_income(p, q, Kout)
        P = self.P
        T = self.T
        xp = np.zeros((len(P), T + 1))
        broke = income <= 0
        if len(P):
            safe_income = np.where(broke, 1.0, income)
            self.consume(p, P, self.part_p, self.lam_p, self.x_p, self.st_p, safe_income,
                         np.zeros(len(P)))
            xp = self.x_p.copy()
            xp[broke] = 0.0
        posts = self.posts
        use = P.n @ (inputs(self.economy.producers, q[:, 1:]).sum(axis=1)
                     + (P.rho * Kout if self.k.long_run else 0.0))
        D = P.n @ xp
        S = P.n @ q
        flows = self.storage_flows
        if flows is not None:
            # Storage operators' schedules held fixed (solvers.storage).
            D = D.copy()
            S = S.copy()
            D[1:] += flows[0]
            S[1:] += flows[1]
            D[0] += float(p[1:] @ (flows[1] - flows[0])) / p[0]
        rows = [(D[posts] - S[posts]) * self.row_weights(p), [(D[0] + use) / self.Omega]]
        if self.long_flat.size:
            _, p0, kvars = self.unpack(y)
            cap = []
            for idx, j in enumerate(self.long_flat):
                rent = np.sum(np.maximum(self.k.beta * p[1:] - p0 / P.theta[j], 0.0))
                cost = P.rho[j] * p0
                # K >= 0 ⊥ (cost - rent) >= 0 by the Fischer–Burmeister function, smooth
                # where both sides are positive (min() has a kink where they are equal, and
                # Newton can stall on it).
                a, b = float(kvars[idx]), (cost - rent) / max(cost, 1e-300)
                cap.append(a + b - float(np.hypot(a, b)))
            rows.append(cap)
        return np.concatenate(rows), (p, q, Kout, xp, income)

    def evaluate(self, y: np.ndarray):
        """The benchmark's outcome at ``y``: prices, outputs, capacities, demands, incomes.

        A long-run capacity within rounding of zero (a type priced out, ``K >= 0`` at its
        bound) is zero: a residue would buy inputs and leave a loss of 1e-12 that its owner
        cannot pay."""
        if self.long_flat.size:
            y = y.copy()
            m = len(self.posts) + (1 if self.exogenous else 0)
            y[m:] = np.where(y[m:] <= 1e-10, 0.0, y[m:])
        _, (p, q, K, xp, income) = self.producer_side(y)
        C = self.C
        if len(C):
            self.consume(p, C, self.part_c, self.lam_c, self.x_c, self.st_c, C.wallet, C.omega)
        xc = self.x_c.copy()
        return p, q, K, xc, xp, income

    def row_weights(self, p: np.ndarray) -> np.ndarray:
        """Each post's excess demand is weighed ``1/q_ref + p^t/(p^0 Ω)``: in quantity and in
        value at once. In quantity alone, ai producers buying back their own output make excess
        demand vanish again as prices run off to infinity (a spurious root at infinity); in
        value alone, it goes flat where unit-elastic buyers face no supply. Both vanish at the
        same point, and their sum keeps the faults of neither."""
        return 1.0 / self.q_ref + p[self.posts] / (p[0] * self.Omega)

    def _consumer_rows(self, X: np.ndarray, p: np.ndarray) -> np.ndarray:
        rows = [X[self.posts] * self.row_weights(p), [(X[0] - self.Omega) / self.Omega]]
        if self.long_flat.size:
            rows.append(np.zeros(self.long_flat.size))
        return np.concatenate(rows)

    def __call__(self, y: np.ndarray, want_jac: bool):
        """Excess demand (per post weighed by :meth:`row_weights`, and goods), and its Jacobian.

        The goods market is always included: by Walras' law it is redundant at a solution, and
        it keeps the quantities from nearly clearing at ever higher prices while goods do not.
        """
        self.evaluations += 1
        p, _, _, _ = self.prices(y)
        X, dXdp = self.consumer_side(p, want_jac)
        prod, _ = self.producer_side(y)
        F = self._consumer_rows(X, p) + prod
        if not want_jac:
            return F, None
        # Consumers (many): exact derivatives through the prices. Producers (few) and the
        # price map (no kernels): central differences.
        ny = y.size
        dp = np.zeros((self.T + 1, ny))
        Jp = np.zeros((F.size, ny))
        for k in range(ny):
            h = 1e-7 * max(1.0, abs(y[k]))
            yp = y.copy()
            yp[k] += h
            ym = y.copy()
            ym[k] -= h
            dp[:, k] = (self.prices(yp)[0] - self.prices(ym)[0]) / (2 * h)
            Jp[:, k] = (self.producer_side(yp)[0] - self.producer_side(ym)[0]) / (2 * h)
        self.producer_side(y)  # leave warm starts at y
        Jc = np.zeros_like(Jp)
        posts = self.posts
        m = posts.size
        w = self.row_weights(p)
        dXdy = dXdp @ dp
        # d(w_t X_t)/dy = w_t dX_t/dy + X_t dw_t/dy, with w_t = 1/q_ref + p_t/(p_0 Ω).
        dwdy = (dp[posts] - (p[posts] / p[0])[:, None] * dp[[0]]) / (p[0] * self.Omega)
        Jc[:m] = w[:, None] * dXdy[posts] + X[posts][:, None] * dwdy
        Jc[m] = dXdy[0] / self.Omega
        return F, Jc + Jp


def _price_response(bench: _Benchmark, y: np.ndarray) -> np.ndarray:
    """``dp^t/dN^s`` ``(T, T)``: how the electricity prices move with a net supply ``N`` added
    on the posts (the storage operators' flows, solvers.storage), by the implicit function
    theorem on the excess demand at the solution ``y``."""
    T = bench.T
    F, J = bench(y, True)
    p, _, _, _ = bench.prices(y)
    m = len(bench.posts)
    dF = np.zeros((F.size, T))
    w = bench.row_weights(p)
    for i, t in enumerate(bench.posts):
        dF[i, t - 1] = -w[i]                          # supply: excess demand falls
    dF[m, :] = p[1:] / (p[0] * bench.Omega)           # its revenue buys goods
    dy = -np.linalg.lstsq(J, dF, rcond=None)[0]
    dp = np.zeros((T + 1, y.size))
    for k in range(y.size):
        h = 1e-7 * max(1.0, abs(y[k]))
        yp, ym = y.copy(), y.copy()
        yp[k] += h
        ym[k] -= h
        dp[:, k] = (bench.prices(yp)[0] - bench.prices(ym)[0]) / (2 * h)
    bench(y, False)  # leave warm starts at y
    return (dp @ dy)[1:]


def inputs_avg(K: np.ndarray, theta: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Average input per unit of output at capacity, ``φ(K)/K``."""
    return (K / theta) ** (1.0 / c) / K


def _long_run_capacity(m: np.ndarray, theta: np.ndarray, c: np.ndarray,
                       rho: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``K`` solving ``Σ_t s^t (m_t - φ'(s^t K))^+ = ρ`` for ``c < 1`` (prices in goods per
    unit; ``s`` the availability, ``(n, T)``: a unit of capacity adds ``s^t`` to post t's
    cap)."""
    n = theta.size
    K = np.zeros(n)
    for j in range(n):
        def excess(k: float, j: int = j) -> float:
            with np.errstate(divide="ignore"):
                mc = (1.0 / (c[j] * theta[j])) * (s[j] * k / theta[j]) ** (1.0 / c[j] - 1.0)
            return float(np.sum(s[j] * np.maximum(m - mc, 0.0)) - rho[j])
        if excess(1e-300) <= 0:
            continue
        lo, hi = 1e-300, 1.0
        while excess(hi) > 0:
            lo, hi = hi, hi * 4.0
        for _ in range(200):
            mid = np.sqrt(lo * hi) if hi / max(lo, 1e-300) > 4 else 0.5 * (lo + hi)
            if excess(mid) > 0:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-15 * hi:
                break
        K[j] = 0.5 * (lo + hi)
    return K


def solve_competitive(economy: Economy, options: CompetitiveOptions | None = None,
                      start: tuple[np.ndarray, np.ndarray] | None = None,
                      storage: tuple[np.ndarray, np.ndarray] | None = None) -> Candidate:
    """Find the competitive benchmark; see the module notes. ``start`` is a ``(p, Q)`` guess."""
    opts = options or CompetitiveOptions()
    reason = checks.before_competitive(economy)
    if reason:
        return Candidate("competitive", False, Status.NO_EQUILIBRIUM, reason)
    if economy.market.long_run and np.any(economy.producers.returns > 1.0):
        return Candidate("competitive", False, Status.NO_EQUILIBRIUM,
                         "long run with increasing returns (c > 1): average cost falls without "
                         "bound as capacity grows, so price takers have no profit-maximising "
                         "plan and there is no competitive equilibrium")
    flat_varying = (economy.producers.returns >= 1.0) & economy.producers.varying_availability
    if np.any(flat_varying):
        names = [economy.producers.names[j] for j in np.flatnonzero(flat_varying)]
        return Candidate("competitive", False, Status.NO_EQUILIBRIUM,
                         f"producer type(s) {names} have constant or increasing returns and "
                         "capacity that varies by period: the competitive benchmark of such "
                         "types is not solved in this version")
    bench = _Benchmark(economy)
    bench.storage_flows = storage
    # Participation (docs/model.md, The crypto layer): price takers choose which posts to pay on.
    # Each round
    # solves with fixed choices, then gives every type that gains by switching the choice of
    # its best deviation at the round's prices, as the Nash solver does.
    seen = {bench.part_c.tobytes() + bench.part_p.tobytes()}
    history: list[str] = []
    cand = None
    deadline = clock() + opts.max_seconds
    for round_ in range(opts.max_rounds):
        r = _solve_fixed(bench, start, opts, deadline)
        if not r.converged:
            reason = (f"Newton's method on excess demand: {r.message} "
                      f"(largest relative excess demand {r.residual:.2e})"
                      + (f"; participation rounds: {history}" if history else ""))
            note, broke = _last_iterate(economy, bench, r.y)
            reason += note
            big = [economy.producers.names[j] for j in np.flatnonzero(bench.P.c > 1.0)]
            if big:
                reason = (f"no competitive equilibrium found: producer type(s) {big} have "
                          "increasing returns (c > 1), so a price taker's supply jumps from "
                          "nothing to capacity at its average cost and demand may fall in the "
                          "gap; " + reason)
            return Candidate("competitive", False, Status.NO_EQUILIBRIUM, reason,
                             iterations=r.iterations, evaluations=bench.evaluations,
                             diagnostics={"cannot_pay_verification": [
                                 economy.producers.names[j] for j in broke]})
        p, q, K, xc, xp, income = bench.evaluate(r.y)
        cand = _candidate(economy, bench, r, p, q, K, xc, xp, income)
        cand.diagnostics["participation_rounds"] = round_ + 1
        if storage is not None and cand.converged:
            cand.internal["price_response"] = _price_response(bench, r.y)
        if not cand.converged or not np.any(economy.fixed_costs > 0):
            return cand
        changed = _switch_participation(economy, bench, cand)
        if not changed:
            return cand
        key = bench.part_c.tobytes() + bench.part_p.tobytes()
        if key in seen:
            history.append("participation cycles")
            break
        seen.add(key)
        history.append(f"round {round_ + 1}: {changed}")
        start = cand.totals
    assert cand is not None
    return Candidate("competitive", False, Status.NO_EQUILIBRIUM,
                     "participation did not settle: some price taker always prefers to pay on a "
                     f"different set of posts ({'; '.join(history[-3:])})",
                     profile=cand.profile, multipliers=cand.multipliers,
                     diagnostics=cand.diagnostics, totals=cand.totals)


def _solve_fixed(bench: _Benchmark, start, opts: CompetitiveOptions,
                 deadline: float = math.inf):
    """Newton on excess demand for fixed participation (and CES state weights iterated)."""
    economy = bench.economy
    r = None
    if start is not None:
        r = newton(bench, bench.initial(start), atol=opts.atol, max_iter=opts.max_iter,
                   max_step=0.5, deadline=deadline)
    if r is None or not r.converged:
        r = newton(bench, bench.initial(), atol=opts.atol, max_iter=opts.max_iter, max_step=0.5,
                   deadline=deadline)
    if not r.converged and bench.exogenous:
        # From where goods nearly clear by their own price (then the electricity level).
        y0 = bench._level(bench.level_goods(bench.initial()))
        r2 = newton(bench, y0, atol=opts.atol, max_iter=opts.max_iter, max_step=0.5,
                    deadline=deadline)
        if r2.converged or r2.residual < r.residual:
            r = r2
    if r.converged and economy.S > 1 and (np.any(bench.C.ces) or np.any(bench.P.ces)):
        # CES with several states: iterate on each type's state weights U_s^{1-r}.
        for _ in range(100):
            bench.evaluate(r.y)
            new_c = state_weights(economy, bench.C, bench.x_c, bench.x_c[:, 0], False)
            new_p = state_weights(economy, bench.P, bench.x_p, bench.x_p[:, 0], True)
            change = max([float(np.max(np.abs(n_ - o) / o)) for n_, o in
                          ((new_c, bench.pi_c), (new_p, bench.pi_p)) if o.size] or [0.0])
            bench.pi_c, bench.pi_p = new_c, new_p
            if change <= 1e-13:
                break
            r = newton(bench, r.y, atol=opts.atol, max_iter=opts.max_iter, max_step=0.5,
                       deadline=deadline)
            if not r.converged:
                break
    return r


def _last_iterate(economy: Economy, bench: _Benchmark, y: np.ndarray) -> tuple[str, list[int]]:
    """What some types could not do at a failed Newton's last iterate: a diagnosis of where
    the search ended, not a proof that no benchmark exists; and the producer types whose
    profit there cannot pay the verification of their own payments (named in the failed
    candidate's ``diagnostics["cannot_pay_verification"]``; ``solve`` tries the benchmark
    without them)."""
    if not np.all(np.isfinite(y)):
        return "", []
    with np.errstate(all="ignore"):
        p, q, K, xc, xp, income = bench.evaluate(y)
    if not np.all(np.isfinite(p)):
        return "", []
    notes = []
    names_c, names_p = economy.consumers.names, economy.producers.names
    broke_c = np.flatnonzero(bench.st_c == Response.NONE_LEFT)
    if broke_c.size:
        notes.append(f"consumer type(s) {[names_c[i] for i in broke_c]} cannot pay the "
                     "verification of any post they value")
    operating = inputs(economy.producers, q[:, 1:]).sum(axis=1) > 0
    broke_p = np.flatnonzero((bench.st_p == Response.NONE_LEFT) & operating & (income > 0))
    if broke_p.size:
        notes.append(f"producer type(s) {[names_p[j] for j in broke_p]} earn too little to buy "
                     "the electricity the fixed verification of their own payments burns "
                     "(inputs included)")
    if bench.exogenous and np.any(income < 0):
        notes.append(f"producer type(s) {[names_p[j] for j in np.flatnonzero(income < 0)]}: "
                     "the wallet cannot pay for the inputs that maximise profit")
    if not notes:
        return "", []
    return (f"; at its last iterate (relative prices {np.round(p[1:] / p[0], 4).tolist()}), "
            + "; ".join(notes)), [int(j) for j in broke_p]


def _switch_participation(economy: Economy, bench: _Benchmark, cand: Candidate) -> str:
    """Give the price takers that would gain by paying on other posts those posts
    (:mod:`emgame.solvers.regimes`)."""
    assert cand.profile is not None and cand.totals is not None
    p = cand.totals[0]
    out = evaluate(economy, cand.profile, p)
    changed = []
    T = economy.periods
    new_c, _ = consumer_regimes(economy, economy.consumers, out, None, None, bench.pi_c,
                                bench.lam_c, bench.part_c, prices=p)
    income = cand.diagnostics["producer_income"]
    must = np.zeros((len(bench.P), T + 1), bool)
    if np.any(economy.fixed_costs[:, 0] > 0):
        must[:, economy.market.goods_settlement_period] = True
    new_p, _ = consumer_regimes(economy, economy.producers, out, None, None, bench.pi_p,
                                bench.lam_p, bench.part_p, prices=p,
                                income=np.where(income > 0, income, -1.0),
                                omega=np.zeros(len(bench.P)), must=must, v=bench.v_p)
    new_p[:, 0] = True  # producers buy their inputs
    for role, pop, part, new in (("consumer", economy.consumers, bench.part_c, new_c),
                                 ("producer", economy.producers, bench.part_p, new_p)):
        for i in range(len(pop)):
            if not np.array_equal(new[i], part[i]):
                part[i] = new[i]
                changed.append(f"{role} '{pop.names[i]}' now pays on "
                               f"{int(new[i, 1:].sum())} periods")
    return ", ".join(changed[:5])


def _candidate(economy: Economy, bench: _Benchmark, r, p, q, K, xc, xp, income) -> Candidate:
    P = bench.P
    T = economy.periods
    p = snap_to_cost(bench.P, bench.k.beta, bench.long_flat, p)
    reasons = []
    if np.any(bench.st_c == Response.NONE_LEFT):
        bad = [economy.consumers.names[i] for i in np.flatnonzero(bench.st_c == Response.NONE_LEFT)]
        reasons.append(f"consumer type(s) {bad} cannot afford verification at these prices")
    broke = income <= 0
    if bench.exogenous and np.any(income < 0):
        bad = [economy.producers.names[j] for j in np.flatnonzero(income < 0)]
        reasons.append(f"producer type(s) {bad}: the wallet cannot pay for the inputs that "
                       "maximise profit at these prices; its wallet multiplier runs away, so "
                       "there is no equilibrium with these exogenous wallets "
                       "(docs/model.md, The crypto layer)")
    # docs/model.md, Solution concepts: the rule is for a payment the producer must make, its goods
    # bid for
    # inputs, carrying a fixed verification cost (verified with electricity it cannot buy
    # without income). Where the goods post is free it consumes nothing and the benchmark
    # exists; a producer that buys no inputs (shut down, c > 1 below average cost) pays nothing.
    goods_fee = bool(np.any(economy.fixed_costs[:, 0] > 0))
    buys_inputs = inputs(economy.producers, q[:, 1:]).sum(axis=1) > 0
    stuck = broke & (P.a.sum(axis=1) > 0) & buys_inputs
    if np.any(stuck) and goods_fee:
        bad = [economy.producers.names[j] for j in np.flatnonzero(stuck)]
        reasons.append(f"producer type(s) {bad} earn no profit (constant returns) and cannot pay "
                       "the fixed verification of a payment: no competitive equilibrium")
    flat_big = (P.c > 1.0)
    for j in np.flatnonzero(flat_big):
        used = q[j, 1:][bench.posts - 1] / max(K[j], 1e-300)
        if np.any((used > 1e-9) & (used < 1 - 1e-9)):
            reasons.append(f"producer type '{economy.producers.names[j]}' has increasing returns "
                           "and the market needs only part of its capacity at a price equal to "
                           "its average cost: no type-symmetric competitive equilibrium")
    goods_bid = p[0] * (xp[:, 0] + inputs(economy.producers, q[:, 1:]).sum(axis=1)
                        + (P.rho * K if economy.market.long_run else 0.0))
    producer_bids = p[None, :] * xp
    producer_bids[:, 0] = goods_bid
    profile = Profile(p[None, :] * xc, producer_bids, q[:, 1:].copy(), K.copy())
    with np.errstate(divide="ignore"):
        lam_p = np.where(broke, np.inf, bench.lam_p)
    mu = np.zeros((len(P), T))
    full = q[:, 1:] >= K[:, None] * P.s[:, 1:] * (1 - 1e-12)
    mc = np.where(P.c[:, None] == 1.0, 1.0 / P.theta[:, None],
                  (1.0 / (P.c[:, None] * P.theta[:, None]))
                  * (q[:, 1:] / P.theta[:, None]) ** (1.0 / P.c[:, None] - 1.0))
    mu = np.where(full, np.maximum(bench.k.beta * p[None, 1:] - p[0] * mc, 0.0), 0.0)
    # Multipliers in units of utility (CES types were solved in their separable form).
    sc = ces_utility_scale(economy, bench.C, xc, xc[:, 0], False)
    sp = ces_utility_scale(economy, P, xp, xp[:, 0], True)
    lam_p = lam_p * sp
    with np.errstate(invalid="ignore"):
        # A producer with no profit has λ = inf (money it cannot have): its capacity
        # multipliers are then undefined (NaN, null in JSON).
        mult = Multipliers(consumer_budget=bench.lam_c * sc, producer_budget=lam_p,
                           producer_goods=lam_p * p[0],
                           producer_capacity=np.where(mu > 0, mu * lam_p[:, None], 0.0))
    ok = not reasons
    return Candidate("competitive", ok, Status.EQUILIBRIUM if ok else Status.NO_EQUILIBRIUM,
                     "; ".join(reasons), profile=profile, multipliers=mult,
                     iterations=r.iterations, evaluations=bench.evaluations,
                     diagnostics={"residual": r.residual, "producer_income": income},
                     totals=(p, np.concatenate([[economy.goods_supply], P.n @ q[:, 1:]])))
