"""Test-only oracles: economy builders and an independent best-response check.

Nothing here uses the solvers or the certificate. :func:`deviation_gain` maximises one agent's
payoff over its own strategy with a generic optimiser (scipy's SLSQP, multi-start), against the
others' totals from :func:`emgame.market.others_totals`, scoring every point with
:func:`emgame.market.play` (the market rules). A gain it reports is attained at a point whose
feasibility (budget, goods ``x^0 >= 0``, consumption ``E >= 0``, capacity) was checked by the
market rules themselves, so a gain is a genuine profitable deviation: at a Nash equilibrium it
must be (numerically) zero, and it is a lower bound for the certificate's regret.

Under prepaid settlement the payoff is the model's objective ``u + βλ̄R`` within the wallet held
fixed (docs/model.md, The crypto layer): pass ``revenue_weight = βλ̄``; a stationary wallet is the
revenue at the profile, whatever the deviation earns.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from emgame import ConsumerType, Economy, Market, ProducerType, State, Utility
from emgame.market import Profile, others_totals, play
from emgame.market.utility import utility

# --------------------------------------------------------------------------------------------
# Builders.
# --------------------------------------------------------------------------------------------


def cd(*weights: float, goods: float = 0.0) -> Utility:
    return Utility("cobb_douglas", tuple(weights), goods_weight=goods)


def consumer(name: str, count: int, endowment: float, utility: Utility,
             kind: str = "ai") -> ConsumerType:
    return ConsumerType(name, count, endowment, utility, kind=kind)  # type: ignore[arg-type]


def producer(name: str, count: int, theta: float, c: float, utility: Utility, *,
             capacity: float | None = 100.0, rho: float | None = None,
             kind: str = "ai") -> ProducerType:
    return ProducerType(name, count, theta, c, utility, kind=kind,  # type: ignore[arg-type]
                        capacity=capacity, capacity_cost=rho)


def economy(name: str, periods: int, consumers, producers, *, long_run: bool = False,
            verification=None, states=(), market: Market | None = None) -> Economy:
    m = market or Market(horizon="long-run" if long_run else "short-run")
    return Economy.build(name=name, periods=periods, consumers=consumers, producers=producers,
                         market=m, verification=verification, states=states)


def replicate(e: Economy, n: int) -> Economy:
    """Every type's count multiplied by ``n``."""
    cons = [e.consumer(i) for i in range(len(e.consumers))]
    prods = [e.producer(j) for j in range(len(e.producers))]
    from dataclasses import replace

    return Economy.build(name=f"{e.name} x{n}", periods=e.periods,
                         consumers=[replace(c, count=c.count * n) for c in cons],
                         producers=[replace(p, count=p.count * n) for p in prods],
                         market=e.market, states=e.states)


# --------------------------------------------------------------------------------------------
# Independent best response.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gain:
    """Best payoff found by deviating alone; ``gain = best - current`` (>= 0)."""

    current: float
    best: float
    strategy: dict

    @property
    def gain(self) -> float:
        return max(self.best - self.current, 0.0)


_MARGIN = 1e-10


class _Agent:
    """One agent of type ``i`` of ``role`` against the others' totals, in scaled variables."""

    def __init__(self, e: Economy, profile: Profile, role: str, i: int,
                 participation: np.ndarray | None, revenue_weight: float | None = None) -> None:
        self.e = e
        self.weight = revenue_weight
        self.producer = role == "producers"
        self.T = T = e.periods
        self.pop = (e.producers if self.producer else e.consumers).select([i])
        Bc, Qc, Bp, Qp = others_totals(e, profile)
        self.Bm = (Bp if self.producer else Bc)[i].copy()
        self.Qm = (Qp if self.producer else Qc)[i].copy()
        self.long_run = e.market.long_run
        bids = (profile.producer_bids if self.producer else profile.consumer_bids)[i].copy()
        self.b0 = bids
        self.q0 = profile.offers[i].copy() if self.producer else np.zeros(0)
        self.K0 = float(profile.capacity[i]) if self.producer else 0.0
        # The payoff now, and the scales of the variables.
        self.wallet = None
        cur = self.evaluate(bids[None], self.q0[None] if self.producer else None,
                            np.array([self.K0]))
        if e.market.prepaid:
            if revenue_weight is None:
                raise ValueError("prepaid settlement: pass revenue_weight = βλ̄")
            w = float(self.pop.wallet[0])
            self.wallet = float(cur.revenue[0]) if np.isnan(w) else w
        self.U0 = float(cur.utility[0])
        self.R0 = max(float(cur.revenue[0]), float(cur.spending[0]), 1e-300)
        self.G0 = max(float(cur.goods_received[0]), 1e-300)
        self.E0 = max(float(cur.electricity.max()), 1e-300)
        # Free bid variables: posts in the participation pattern. Default: every post, or with
        # a fixed verification cost (the payoff jumps at b = 0) the posts it pays on now.
        if participation is None:
            participation = (bids > 0 if np.any(e.fixed_costs > 0)
                             else np.ones(T + 1, bool))
        self.part = np.asarray(participation, bool).copy()
        self.valued = np.concatenate([[self.pop.classic[0] and self.pop.goods_weight[0] > 0],
                                      self.pop.weights[0] > 0])
        if self.producer:
            self.qs = max(float(self.q0.max()), 1e-9)
            self.Kbar = float(self.pop.capacity[0]) if not self.long_run else np.inf
        self.nb = int(self.part.sum())
        self.dim = self.nb + (T + (1 if self.long_run else 0) if self.producer else 0)
        self._cache: dict[bytes, tuple] = {}

    # strategy <-> variables ---------------------------------------------------------------
    def unpack(self, Z: np.ndarray):
        m = Z.shape[0]
        b = np.zeros((m, self.T + 1))
        b[:, self.part] = Z[:, :self.nb] * self.R0
        if not self.producer:
            return b, None, None
        q = Z[:, self.nb:self.nb + self.T] * self.qs
        K = (Z[:, -1] * self.qs if self.long_run else np.full(m, self.Kbar))
        return b, q, K

    def pack(self, b: np.ndarray, q: np.ndarray | None, K: float | None) -> np.ndarray:
        z = [b[self.part] / self.R0]
        if self.producer:
            z.append(q / self.qs)
            if self.long_run:
                z.append([K / self.qs])
        return np.concatenate(z)

    def bounds(self) -> list[tuple[float, float | None]]:
        lo_bid = [(1e-10 if v else 0.0, None) for v in self.valued[self.part]]
        if not self.producer:
            return lo_bid
        qb = [(0.0, None if self.long_run else self.Kbar / self.qs)] * self.T
        return lo_bid + qb + ([(0.0, None)] if self.long_run else [])

    def evaluate(self, b: np.ndarray, q: np.ndarray | None, K: np.ndarray | None):
        m = b.shape[0]
        pop = self.pop.select(np.zeros(m, dtype=int))
        w = None if self.weight is None else np.full(m, self.weight)
        return play(self.e, pop, b, np.repeat(self.Bm[None], m, 0),
                    np.repeat(self.Qm[None], m, 0), offers=q, capacity=K, revenue_weight=w)

    def slack(self, pl) -> np.ndarray:  # noqa: ANN001
        """The budget's slack; under prepaid settlement, the fixed wallet's."""
        return pl.slack if self.wallet is None else self.wallet - pl.spending

    # objective and constraints, batched with central differences --------------------------
    def _values(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b, q, K = self.unpack(Z)
        pl = self.evaluate(b, q, K)
        # The utility of what the market gives, without the market's -inf at infeasible
        # points (the constraints keep the optimiser away from those; `score` rejects them).
        pop = self.pop.select(np.zeros(b.shape[0], dtype=int))
        U = utility(pop, np.maximum(pl.consumption, 0.0), np.maximum(pl.goods, 0.0),
                    self.e.probabilities)
        if self.weight is not None:
            U = U + self.weight * pl.revenue
        scale = max(abs(self.U0), 1e-6)
        f = np.where(np.isfinite(U), -(U - self.U0) / scale, 1e6)
        # Margins of 1e-10 (relative) keep SLSQP's answers feasible despite its ~1e-14
        # constraint violations; they cost ~1e-10 of the payoff, far below what is tested.
        cons = [self.slack(pl) / self.R0 - _MARGIN]
        if self.producer:
            cons.append(pl.goods / self.G0 - _MARGIN)
            if self.long_run:
                cons.extend((K[:, None] - q).T / self.qs - _MARGIN)
        if self.e.costly_verification:
            E = pl.consumption.reshape(b.shape[0], -1)
            cons.extend((E / self.E0).T - _MARGIN)
        return f, np.vstack(cons).T

    def all(self, z: np.ndarray) -> tuple:
        key = z.tobytes()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        d = z.size
        h = 1e-7 * np.maximum(np.abs(z), 1e-4)
        lo = np.array([lb for lb, _ in self.bounds()])
        fwd = z - h < lo  # one-sided where the backward point leaves the bounds
        Z = np.vstack([z[None], z[None] + np.diag(h), z[None] - np.diag(np.where(fwd, 0, h))])
        f, c = self._values(Z)
        denom = np.where(fwd, h, 2 * h)
        gf = (f[1:d + 1] - f[d + 1:]) / denom
        gc = (c[1:d + 1] - c[d + 1:]) / denom[:, None]
        out = (float(f[0]), gf, c[0], gc.T)
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[key] = out
        return out

    def polish(self, z0: np.ndarray) -> np.ndarray:
        cons = {"type": "ineq", "fun": lambda z: self.all(z)[2], "jac": lambda z: self.all(z)[3]}
        r = minimize(lambda z: self.all(z)[0], z0, jac=lambda z: self.all(z)[1],
                     method="SLSQP", bounds=self.bounds(), constraints=[cons],
                     options={"ftol": 1e-15, "maxiter": 400})
        return r.x

    def score(self, z: np.ndarray) -> float:
        """Payoff at ``z`` if the market rules find it feasible (budget included), else -inf."""
        b, q, K = self.unpack(z[None])
        if np.any(b < 0) or (q is not None and (np.any(q < 0) or np.any(q > K[:, None]))):
            return -np.inf
        pl = self.evaluate(b, q, K)
        if self.slack(pl)[0] < 0 or not np.isfinite(pl.utility[0]):
            return -np.inf
        if self.producer and pl.goods[0] < 0:
            return -np.inf
        if np.any(pl.consumption < 0):
            return -np.inf
        return float(pl.utility[0])


def deviation_gain(e: Economy, profile: Profile, role: str, i: int, *, starts: int = 4,
                   seed: int = 0, participation: np.ndarray | None = None,
                   revenue_weight: float | None = None) -> Gain:
    """Best payoff one agent of type ``i`` of ``role`` finds by deviating alone.

    Multi-start SLSQP over its bids (on the posts of ``participation``; default all) and, for a
    producer, its offers (and capacity in the long run), from its current strategy and from
    random perturbations of it. Returns the current and best payoffs (market rules).
    """
    a = _Agent(e, profile, role, i, participation, revenue_weight)
    rng = np.random.default_rng(seed)
    z0 = a.pack(a.b0, a.q0 if a.producer else None, a.K0)
    bnds = a.bounds()
    lo = np.array([lb for lb, _ in bnds])
    hi = np.array([np.inf if ub is None else ub for _, ub in bnds])
    z0 = np.clip(z0, lo, hi)
    if a.producer and a.long_run:
        z0[-1] = max(z0[-1], z0[a.nb:a.nb + a.T].max())
    cands = [z0]
    for _ in range(starts - 1):
        z = z0 * np.exp(0.3 * rng.standard_normal(z0.size))
        z = np.where(z0 == 0, 0.05 * rng.random(z0.size) * (z0.max() or 1.0), z)
        cands.append(np.clip(z, lo, hi))
    best, best_z = a.U0, z0
    for z in cands:
        for _ in range(2):  # restart once from where SLSQP stopped
            z = a.polish(z)
            u = a.score(z)
            if u > best:
                best, best_z = u, z
    b, q, K = a.unpack(best_z[None])
    return Gain(a.U0, best, {"bids": b[0], "offers": None if q is None else q[0],
                             "capacity": None if K is None else K[0]})


def max_gain(e: Economy, profile: Profile, **kw) -> tuple[float, list[tuple[str, int, Gain]]]:
    """The largest relative gain over every type of both roles, and each type's :class:`Gain`."""
    out = []
    worst = 0.0
    for role, pop in (("consumers", e.consumers), ("producers", e.producers)):
        for i in range(len(pop)):
            g = deviation_gain(e, profile, role, i, **kw)
            out.append((role, i, g))
            worst = max(worst, g.gain / max(abs(g.current), 1e-300))
    return worst, out


def perturbed(profile: Profile, role: str, i: int, rel: float, seed: int = 0) -> Profile:
    """``profile`` with type ``i`` of ``role``'s bids moved off their values, feasibly for it.

    Consumers: electricity bids reallocated by ``±rel`` (random signs, total unchanged), then
    every bid scaled by ``1 - 3 rel``: spending falls by more than the revenue the type can
    lose (its ``n`` agents own at most all of a post), so its budget holds, with slack.
    Producers: electricity bids scaled by ``1 - 3 rel`` and goods bid kept (an ``ai`` producer
    has no goods to spare: ``x^0 = 0``); revenue falls by at most the spending saved.
    """
    rng = np.random.default_rng(seed)
    cb, pb = profile.consumer_bids.copy(), profile.producer_bids.copy()
    if role == "producers":
        pb[i, 1:] *= 1.0 - 3.0 * rel
    else:
        b = cb[i]
        el = b[1:]
        pos = np.flatnonzero(el > 0)
        if pos.size >= 2:
            signs = rng.choice([-1.0, 1.0], size=pos.size)
            d = rel * el[pos] * signs
            d -= d.sum() * el[pos] / el[pos].sum()  # zero-sum reallocation
            el[pos] += d
        b *= 1.0 - 3.0 * rel
    return Profile(cb, pb, profile.offers.copy(), profile.capacity.copy())


# --------------------------------------------------------------------------------------------
# A catalogue of economies with an active Nash equilibrium (one per feature to cover).
# --------------------------------------------------------------------------------------------


def _catalogue() -> dict[str, Economy]:
    u = Utility
    two = [consumer("data-centres", 4, 1.0, cd(0.4, 0.6)),
           consumer("edge", 2, 3.0, cd(0.7, 0.3))]
    out = {
        # ai, Cobb–Douglas, decreasing returns, slack capacity.
        "ai-cd": economy("ai-cd", 2, two,
                         [producer("solar", 3, 2.0, 0.8, cd(0.5, 0.5), capacity=10.0)]),
        # ai, CRRA on both sides.
        "ai-crra": economy("ai-crra", 2,
                           [consumer("c", 5, 1.0, u("crra", (0.5, 0.5), gamma=2.0))],
                           [producer("p", 3, 1.5, 0.9, u("crra", (0.3, 0.7), gamma=0.5),
                                     capacity=50.0)]),
        # ai, CES on both sides (r > 0 and r < 0).
        "ai-ces": economy("ai-ces", 2,
                          [consumer("c", 4, 2.0, u("ces", (0.6, 0.4), r=0.5))],
                          [producer("p", 3, 1.0, 0.7, u("ces", (0.5, 0.5), r=-1.0),
                                    capacity=50.0)]),
        # classic, quasilinear consumers, Cobb–Douglas producers, constant returns (c = 1).
        "classic-quasilinear-c1": economy(
            "classic-quasilinear-c1", 2,
            [consumer("households", 6, 2.0, u("quasilinear", (0.3, 0.5), goods_weight=1.0),
                      kind="classic")],
            [producer("plants", 3, 1.2, 1.0, cd(0.1, 0.1, goods=0.8), kind="classic",
                      capacity=50.0)]),
        # classic, quasilinear on both sides; producers consume goods (their ν = a_0).
        "classic-quasilinear-producers": economy(
            "classic-quasilinear-producers", 2,
            [consumer("households", 6, 3.0, u("quasilinear", (0.3, 0.4), goods_weight=1.0),
                      kind="classic")],
            [producer("plants", 3, 1.5, 0.8, u("quasilinear", (0.4, 0.6), goods_weight=2.0),
                      kind="classic", capacity=50.0)]),
        # A quasilinear producer whose goods purchase sits at its inputs (the goods corner):
        # its goods multiplier must stay above a_0 (found by a random economy, seed 4).
        "classic-quasilinear-corner": economy(
            "classic-quasilinear-corner", 1,
            [consumer("ai", 7, 1.9606729265265828, u("ces", (1.0,), r=-1.0)),
             consumer("h1", 2, 0.8584322816136951,
                      u("crra", (0.7184277647947331,), goods_weight=0.2815722352052669,
                        gamma=0.5),
                      kind="classic"),
             consumer("h2", 7, 0.6131969656400028,
                      u("crra", (0.6645278063696725,), goods_weight=0.3354721936303275,
                        gamma=0.5),
                      kind="classic")],
            [producer("plants", 3, 1.9664975880070703, 0.6,
                      u("quasilinear", (0.6271106128827325,), goods_weight=0.3728893871172675),
                      kind="classic", capacity=1e6)]),
        # classic Cobb–Douglas, c < 1, three periods.
        "classic-cd": economy(
            "classic-cd", 3,
            [consumer("h", 5, 2.0, cd(0.2, 0.3, 0.1, goods=0.4), kind="classic"),
             consumer("b", 2, 5.0, cd(0.3, 0.2, 0.2, goods=0.3), kind="classic")],
            [producer("p", 4, 1.3, 0.75, cd(0.1, 0.1, 0.1, goods=0.7), kind="classic",
                      capacity=40.0)]),
        # Long run: capacity chosen at cost ρ.
        "ai-long-run": economy(
            "ai-long-run", 2,
            [consumer("c", 6, 2.0, cd(0.3, 0.7))],
            [producer("parks", 3, 2.0, 0.8, cd(0.5, 0.5), capacity=None, rho=0.2),
             producer("coops", 4, 1.5, 0.8, cd(0.5, 0.5), capacity=None, rho=0.05)],
            long_run=True),
        # Peak load: baseload capacity binds at the peak.
        "peak-load": economy(
            "peak-load", 2,
            [consumer("households", 40, 5.0, cd(0.1, 0.4, goods=0.5), kind="classic"),
             consumer("businesses", 4, 40.0, cd(0.15, 0.35, goods=0.5), kind="classic")],
            [producer("baseload", 4, 1.2, 0.8, cd(0.1, 0.1, goods=0.8), kind="classic",
                      capacity=10.0),
             producer("peakers", 6, 1.0, 0.8, cd(0.1, 0.1, goods=0.8), kind="classic",
                      capacity=60.0)]),
        # Costly verification in two states (fixed and proportional).
        "ai-verification": economy(
            "ai-verification", 2, two,
            [producer("solar", 3, 2.0, 0.8, cd(0.5, 0.5), capacity=10.0)],
            states=[State(0.6, (0.002, 0.001, 0.001), 0.02),
                    State(0.4, (0.004, 0.002, 0.002), 0.05)]),
    }
    return out


CATALOGUE: dict[str, Economy] = _catalogue()
"""Economies with an active Nash equilibrium, by feature."""

_SOLVED: dict[tuple[str, str], object] = {}


def solved(name: str, concept: str = "nash"):
    """The catalogue economy ``name`` solved (cached per process)."""
    key = (name, concept)
    if key not in _SOLVED:
        from emgame import solve

        _SOLVED[key] = solve(CATALOGUE[name], concept)
    return _SOLVED[key]


def from_toml(text: str, source: str = "<test>") -> Economy:
    """An economy from the text of an economy file (the loader's own validation)."""
    from emgame.model.files import economy_from_dict

    return economy_from_dict(tomllib.loads(text), source)
