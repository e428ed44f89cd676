"""Comparative statics by implicit differentiation (docs/sensitivity.md).

At a certified solution, the equilibrium is the root ``z`` of a system ``F(z; θ) = 0`` whose
form is fixed by the solution's *regime* (docs/model.md, "Solution concepts"):

- which bids are positive (participation) and which are zero,
- which producer offers are interior, at their cap ``s^t K`` or at zero,
- whether a producer's goods ``x^0 >= 0`` binds (always for ``ai`` producers),
- in the long run, the chosen capacities ``K``.

With the regime fixed, ``F`` stacks, for one agent of every type (arrays over types, no loop
over agents), the first-order conditions of the game in the paper's form (10)–(17) (the same
conditions :mod:`emgame.analysis.foc` checks), or their price-taking form for the competitive
benchmark, whose market clearing is ``p^t = B^t / Q^t`` with bids read as expenditures:

=====================  ======================================================================
unknowns ``z``         positive bids, interior offers, ``K`` (long run), ``λ`` per type,
                       ``ν`` per producer type
(10)/(12)              ``u_t ∂x^t/∂b^t = λ coef^t`` for every positive electricity bid
(11)/(13)              consumers ``u_0 ∂x^0/∂b^0 = λ (1 − β ω/Ω)``; producers ``ν ∂x^0/∂b^0 = λ``
(14)/(15)              ``u_t b^t/B^t − ν φ'(q^t) + β λ B^t Q_-^t/(Q^t)^2 = 0`` for interior offers
budget                 spending = revenue (or the exogenous wallet)
goods                  ``x^0 = 0`` where it binds, else ``ν = ∂Eu/∂x^0``
(K)                    ``Σ_t s^t g^t = ρ ν`` over offers at the cap (long run)
normalisation          ``B^0 = Ω`` (``p^0 = 1``) unless wallets are exogenous
=====================  ======================================================================

Allocations, consumption, verification and utilities come from the market's reference
definitions (:func:`emgame.market.evaluate`, :mod:`emgame.market.utility`). Walras' law makes
one budget redundant where the normalisation fixes the nominal level, so the system is solved by
least squares (it is consistent); a smallest singular value of the scaled Jacobian below
``cond_max⁻¹`` of the largest is reported as a possible bifurcation, never as a number.

Jacobians are central finite differences of the residuals (``F_z`` column by column with
relative steps ``1e-6``, ``F_θ`` with a relative step ``1e-6`` of the parameter): the residuals
are smooth closed forms, so the truncation error is ``O(h²) ≈ 1e-12`` and rounding ``≈ 1e-10``.
Outputs ``y(z; θ)`` are differentiated along the tangent ``(dz/dθ, 1)`` the same way.

Where a margin of the regime is at (or within ``switch_tol`` of) zero — a bid or an interior
offer near zero or near its cap, a zero bid or offer whose first-order condition is nearly
binding, a capped offer whose shadow value ``μ`` is near zero, a producer whose goods are near
zero — the regime may change at the point and the derivative may not exist: every regime that
flips some of those margins is differentiated, and a regime is kept for a direction when its
bounds and multipliers move the right way; the two one-sided derivatives are reported with the
constraints that switch. Participation on a post with a fixed verification cost ``v > 0`` is a
discrete choice (the payoff jumps at ``b = 0``): a tie between two participation patterns is not
a local margin and is not detected here (the certificate shows the pattern optimal at the point).
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from emgame.analysis import paths as _paths
from emgame.market.game import Profile, evaluate, totals
from emgame.market.utility import goods_marginal_utility, marginal_utility
from emgame.model import EconomyError, economy_from_dict, economy_to_dict
from emgame.model.economy import Economy

if TYPE_CHECKING:
    from emgame.results import Solution

log = logging.getLogger(__name__)

__all__ = ["ParameterSensitivity", "Sensitivity", "SensitivityError", "check_paths",
           "sensitivity"]

STEP_Z = 1e-6
"""Relative step of the central differences of the residuals in the unknowns."""
STEP_THETA = 1e-6
"""Relative step of the central differences in the parameter (absolute where it is 0)."""
COND_MAX = 1e9
"""Condition numbers of the scaled Jacobian above this are reported as possible bifurcations."""
SWITCH_TOL = 1e-6
"""A margin of the regime within this (relative) of zero may switch at the point."""
POLISHED = 1e-11
"""A scaled residual below this is not polished (the Jacobian's own accuracy is ~1e-10)."""
MAX_MARGINS = 4
"""At most this many near-zero margins are combined (2^m regimes are differentiated)."""

STATUSES = ("ok", "switch", "singular", "not-certified", "unsupported", "inconclusive")


class SensitivityError(ValueError):
    """A path that cannot be differentiated (unknown, integer-valued); the message names it."""


# --------------------------------------------------------------------------------------------
# Results.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ParameterSensitivity:
    """Derivatives of every output with respect to one parameter path.

    ``derivative`` holds ``dy/dθ`` per output (in the order of :attr:`Sensitivity.outputs`);
    where the regime switches at the point it is ``None`` and ``left``/``right`` hold the
    one-sided derivatives (``switches`` names the constraints). ``elasticity`` is
    ``(θ/y) dy/dθ`` (for a wildcard path, the response to scaling every matched value by the same
    factor); NaN where ``θ`` or ``y`` is 0.
    """

    path: str
    targets: tuple[str, ...]
    value: float
    status: str
    reason: str = ""
    derivative: np.ndarray | None = None
    elasticity: np.ndarray | None = None
    left: np.ndarray | None = None
    right: np.ndarray | None = None
    left_elasticity: np.ndarray | None = None
    right_elasticity: np.ndarray | None = None
    switches: tuple[str, ...] = ()
    diagnostics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Sensitivity:
    """Comparative statics of one certified solution (see the module notes).

    ``outputs`` names the differentiated quantities (``relative_price[t]``, ``production[t]``,
    ``consumption[t]``, ``verification_share``, ``welfare``, ``utility[name]``) and ``levels``
    their values at the solution (``welfare``'s level is NaN: only its change is defined, in
    goods, ``Σ_i n_i dU_i/(λ_i p^0)``). ``status`` is ``ok`` when every path has a derivative,
    else the first problem among ``switch``, ``singular``, ``inconclusive``, ``unsupported``,
    ``not-certified``.
    """

    concept: str
    economy: str
    status: str
    reason: str
    outputs: tuple[str, ...]
    labels: tuple[str, ...]
    levels: np.ndarray
    parameters: tuple[ParameterSensitivity, ...]
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (numbers that do not exist are ``None``)."""
        def arr(a: np.ndarray | None) -> dict[str, float | None] | None:
            if a is None:
                return None
            return {k: _num(v) for k, v in zip(self.outputs, a, strict=True)}

        return {
            "concept": self.concept,
            "status": self.status,
            "reason": self.reason,
            "outputs": list(self.outputs),
            "levels": arr(self.levels),
            "parameters": [{
                "path": p.path, "targets": list(p.targets), "value": _num(p.value),
                "status": p.status, "reason": p.reason,
                "derivative": arr(p.derivative), "elasticity": arr(p.elasticity),
                "left": arr(p.left), "right": arr(p.right),
                "left_elasticity": arr(p.left_elasticity),
                "right_elasticity": arr(p.right_elasticity),
                "switches": list(p.switches),
                "diagnostics": {k: (_num(v) if isinstance(v, float) else v)
                                for k, v in p.diagnostics.items()},
            } for p in self.parameters],
            "diagnostics": {k: (_num(v) if isinstance(v, float) else v)
                            for k, v in self.diagnostics.items()},
        }

    def records(self) -> list[dict[str, Any]]:
        """One record per (parameter, output): the rows of :meth:`to_frame`."""
        rows = []
        for p in self.parameters:
            for k, name in enumerate(self.outputs):
                def at(a: np.ndarray | None, k: int = k) -> float:
                    return float(a[k]) if a is not None else math.nan
                rows.append({
                    "parameter": p.path, "output": name, "label": self.labels[k],
                    "value": float(self.levels[k]), "derivative": at(p.derivative),
                    "elasticity": at(p.elasticity), "left": at(p.left), "right": at(p.right),
                    "left_elasticity": at(p.left_elasticity),
                    "right_elasticity": at(p.right_elasticity), "status": p.status})
        return rows

    def to_frame(self):  # noqa: ANN201  (a pandas.DataFrame; pandas is the `tables` extra)
        """One row per (parameter, output): ``parameter``, ``output``, ``label``, ``value``,
        ``derivative``, ``elasticity``, ``left``/``right`` (one-sided derivatives where the
        regime switches), ``left_elasticity``/``right_elasticity`` and ``status``."""
        from emgame._extras import require

        pd = require("pandas", "tables", "Sensitivity.to_frame()")
        frame = pd.DataFrame.from_records(self.records())
        frame.attrs["emgame"] = {"concept": self.concept, "status": self.status}
        return frame

    def to_latex(self, *, elasticities: bool = True) -> str:
        """A LaTeX ``tabular`` (booktabs) of the outputs by parameter: elasticities (or
        derivatives), one column per parameter; a switching parameter shows
        ``left / right``; a singular one ``--``."""
        from emgame._extras import require

        pd = require("pandas", "tables", "Sensitivity.to_latex()")
        require("jinja2", "tables", "Sensitivity.to_latex()")
        cols: dict[str, list[str]] = {"output": [_latex_escape(lab) for lab in self.labels],
                                      "value": [_fmt(v) for v in self.levels]}
        for p in self.parameters:
            cols[_latex_escape(p.path)] = [_cell(p, k, elasticities)
                                           for k in range(len(self.outputs))]
        frame = pd.DataFrame(cols)
        caption = ("Elasticities" if elasticities else "Derivatives") + \
            f" at the {self.concept} solution of {_latex_escape(self.economy)}"
        body = frame.style.hide(axis="index").to_latex(
            hrules=True, column_format="l" + "r" * (len(cols) - 1), caption=caption)
        return body


def _num(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _fmt(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:.4g}"


def _latex_escape(s: str) -> str:
    return (s.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&")
            .replace("%", r"\%").replace("#", r"\#").replace("$", r"\$"))


def _cell(p: ParameterSensitivity, k: int, elast: bool) -> str:
    if p.status == "ok":
        a = p.elasticity if elast else p.derivative
        return _fmt(float(a[k])) if a is not None else ""
    if p.status == "switch":
        lo = p.left_elasticity if elast else p.left
        hi = p.right_elasticity if elast else p.right
        return " / ".join(_fmt(float(a[k])) if a is not None else "?" for a in (lo, hi))
    return "--"


# --------------------------------------------------------------------------------------------
# The regime and the system F(z; θ).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Regime:
    cbid: np.ndarray          # (nc, T+1) bool: consumer bid free (positive)
    pbid: np.ndarray          # (np, T+1) bool
    qfree: np.ndarray         # (np, T) bool: interior offer
    qcap: np.ndarray          # (np, T) bool: offer at s^t K
    corner: np.ndarray        # (np,) bool: x^0 = 0 imposed, ν free

    def flipped(self, margin: _Margin) -> _Regime:
        arrays = {f: getattr(self, f).copy() for f in ("cbid", "pbid", "qfree", "qcap",
                                                         "corner")}
        kind, idx = margin.kind, margin.index
        if kind == "cbid":
            arrays["cbid"][idx] = not arrays["cbid"][idx]
        elif kind == "pbid":
            arrays["pbid"][idx] = not arrays["pbid"][idx]
        elif kind in ("q-low", "q-high"):
            if arrays["qfree"][idx]:
                arrays["qfree"][idx] = False
                arrays["qcap"][idx] = kind == "q-high"
            else:
                arrays["qfree"][idx] = True
                arrays["qcap"][idx] = False
        elif kind == "x0":
            arrays["corner"][idx] = not arrays["corner"][idx]
        return _Regime(**arrays)


@dataclass(frozen=True)
class _Margin:
    """A constraint of the regime at or near its switching point."""

    kind: str          # "cbid", "pbid", "q-low", "q-high", "x0"
    index: tuple[int, ...] | int
    label: str


class _System:
    """``F(z; θ)`` for one regime at one solution, with fixed equation and unknown scales."""

    def __init__(self, economy: Economy, concept: str, regime: _Regime, z_full: dict[str,
                 np.ndarray], normalised: bool) -> None:
        self.economy = economy
        self.concept = concept
        self.regime = regime
        self.normalised = normalised
        self.T = economy.periods
        self.long_run = economy.market.long_run
        nc, npr = len(economy.consumers), len(economy.producers)
        self.nc, self.np = nc, npr
        # Unknown blocks, in order: consumer bids, producer bids, offers, K, λc, λp, νp.
        self.blocks = [("cb", regime.cbid), ("pb", regime.pbid), ("q", regime.qfree)]
        sizes = [int(m.sum()) for _, m in self.blocks]
        sizes += [npr if self.long_run else 0, nc, npr, npr]
        self.sizes = sizes
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.n = int(self.offsets[-1])
        self.full = z_full   # full arrays at the base point (fixed values come from here)
        self.eq_scale: np.ndarray | None = None

    # -- packing ---------------------------------------------------------------------------
    def pack(self, full: dict[str, np.ndarray]) -> np.ndarray:
        parts = [full["cb"][self.regime.cbid], full["pb"][self.regime.pbid],
                 full["q"][self.regime.qfree]]
        parts += [full["K"] if self.long_run else np.zeros(0), full["lc"], full["lp"],
                  full["nu"]]
        return np.concatenate(parts)

    def unpack(self, z: np.ndarray, economy: Economy) -> dict[str, np.ndarray]:
        o = self.offsets
        cb = np.zeros_like(self.full["cb"])
        cb[self.regime.cbid] = z[o[0]:o[1]]
        pb = np.zeros_like(self.full["pb"])
        pb[self.regime.pbid] = z[o[1]:o[2]]
        K = z[o[3]:o[4]] if self.long_run else economy.producers.capacity.astype(float)
        cap = economy.producers.period_capacity(K)
        q = np.where(self.regime.qcap, cap, 0.0)
        q[self.regime.qfree] = z[o[2]:o[3]]
        return {"cb": cb, "pb": pb, "q": q, "K": np.asarray(K, float),
                "lc": z[o[4]:o[5]], "lp": z[o[5]:o[6]], "nu": z[o[6]:o[7]]}

    # -- the pieces every equation needs ---------------------------------------------------
    def state(self, z: np.ndarray, economy: Economy) -> dict[str, Any]:
        f = self.unpack(z, economy)
        profile = Profile(f["cb"], f["pb"], f["q"], f["K"])
        if self.concept == "competitive":
            B, Q = totals(economy, profile)
            with np.errstate(divide="ignore", invalid="ignore"):
                prices = B / Q
            outcome = evaluate(economy, profile, prices)
        else:
            outcome = evaluate(economy, profile)
        return {"f": f, "profile": profile, "outcome": outcome}

    def _marginals(self, economy: Economy, pop, play) -> tuple[np.ndarray, np.ndarray]:
        pi = economy.probabilities
        kappa = economy.shares
        E = play.consumption
        x0 = np.maximum(play.goods, 0.0)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            ut = np.einsum("s,nst->nt", pi * (1.0 - kappa), marginal_utility(pop, E, x0))
            u0 = goods_marginal_utility(pop, E, x0, pi)
        return ut, u0

    def terms(self, st: dict[str, Any], economy: Economy) -> dict[str, Any]:
        """Every side of every condition (unscaled), at the state ``st``."""
        f, outcome = st["f"], st["outcome"]
        m = economy.market
        beta = float(m.discount) if m.prepaid else 1.0
        Omega = economy.goods_supply
        T = self.T
        out: dict[str, Any] = {}
        pt = self.concept == "competitive"
        p = outcome.prices
        # Consumers.
        if self.nc:
            pop = economy.consumers
            play = outcome.consumers
            ut, u0 = self._marginals(economy, pop, play)
            U = np.concatenate([u0[:, None], ut], axis=1)
            if pt:
                with np.errstate(divide="ignore", invalid="ignore"):
                    dx = np.broadcast_to(1.0 / p, (self.nc, T + 1))
                coef = np.ones((self.nc, T + 1))
            else:
                Bm, Qm = outcome.others[0], outcome.others[1]
                B = Bm + f["cb"]
                Q = Qm.copy()
                Q[:, 0] = Omega
                with np.errstate(divide="ignore", invalid="ignore"):
                    dx = Q * Bm / B ** 2
                coef = np.ones((self.nc, T + 1))
                coef[:, 0] = 1.0 - beta * pop.endowment / Omega
            with np.errstate(invalid="ignore"):
                A = np.where(U > 0, U * dx, 0.0)
            out["c_A"], out["c_rhs"] = A, f["lc"][:, None] * coef
            out["c_budget"] = -play.slack
            out["c_budget_scale"] = np.maximum(play.spending, play.revenue)
        # Producers.
        if self.np:
            pop = economy.producers
            play = outcome.producers
            ut, u0 = self._marginals(economy, pop, play)
            q, bids = f["q"], f["pb"]
            theta = pop.productivity[:, None]
            c = pop.returns[:, None]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                dphi = np.where(q > 0, (1.0 / (c * theta)) * (np.maximum(q, 0) / theta)
                                ** (1.0 / c - 1.0), np.where(c < 1, 0.0, np.where(
                                    c == 1, 1.0 / theta, np.inf)))
            if pt:
                with np.errstate(divide="ignore", invalid="ignore"):
                    dx = np.broadcast_to(1.0 / p, (self.np, T + 1))
                H = np.zeros((self.np, T))
                G = np.broadcast_to(p[1:], (self.np, T))
                coef = np.ones((self.np, T))
            else:
                Bm, Qm = outcome.others[2], outcome.others[3]
                B = Bm + bids
                Q = Qm.copy()
                Q[:, 1:] += q
                Q[:, 0] = Omega
                with np.errstate(divide="ignore", invalid="ignore"):
                    dx = Q * Bm / B ** 2
                    H = np.where(ut > 0, ut * bids[:, 1:] / B[:, 1:], 0.0)
                    G = B[:, 1:] * Qm[:, 1:] / Q[:, 1:] ** 2
                    coef = 1.0 - beta * q / Q[:, 1:]
            lam, nu = f["lp"], f["nu"]
            with np.errstate(invalid="ignore"):
                A = np.where(ut > 0, ut * dx[:, 1:], 0.0)
            out["p_A"], out["p_rhs"] = A, lam[:, None] * coef
            out["p_D0"] = nu * dx[:, 0]
            out["p_g_terms"] = (H, nu[:, None] * dphi, beta * lam[:, None] * G)
            out["p_g"] = H - nu[:, None] * dphi + beta * lam[:, None] * G
            out["p_budget"] = -play.slack
            out["p_budget_scale"] = np.maximum(play.spending, play.revenue)
            out["p_x0"] = play.goods
            out["p_x0_scale"] = np.maximum(play.goods_received, 1e-300)
            out["p_u0"] = u0
            rho = (np.nan_to_num(pop.capacity_cost) if self.long_run else np.zeros(self.np))
            out["p_rho_nu"] = rho * nu
            out["p_avail"] = pop.availability * np.ones((self.np, T))
        B_all, _ = totals(economy, st["profile"])
        out["B0"] = B_all[0]
        return out

    # -- the residuals -----------------------------------------------------------------------
    def raw(self, z: np.ndarray, economy: Economy) -> tuple[np.ndarray, np.ndarray]:
        """``(residuals, scales)``: unscaled residuals and the size of their largest term."""
        st = self.state(z, economy)
        t = self.terms(st, economy)
        r = self.regime
        res, scale = [], []
        if self.nc:
            A, rhs = t["c_A"], t["c_rhs"]
            res.append((A - rhs)[r.cbid])
            scale.append(np.maximum(np.abs(A), np.abs(rhs))[r.cbid])
            res.append(t["c_budget"])
            scale.append(t["c_budget_scale"])
        if self.np:
            A, rhs = t["p_A"], t["p_rhs"]
            lam = st["f"]["lp"]
            el = r.pbid[:, 1:]
            res.append((A - rhs)[el])
            scale.append(np.maximum(np.abs(A), np.abs(rhs))[el])
            g0 = r.pbid[:, 0]
            res.append((t["p_D0"] - lam)[g0])
            scale.append(np.maximum(np.abs(t["p_D0"]), np.abs(lam))[g0])
            H, NP, BG = t["p_g_terms"]
            gscale = np.maximum(np.maximum(np.abs(H), np.abs(NP)), np.abs(BG))
            res.append(t["p_g"][r.qfree])
            scale.append(gscale[r.qfree])
            res.append(t["p_budget"])
            scale.append(t["p_budget_scale"])
            nu = st["f"]["nu"]
            res.append(np.where(r.corner, t["p_x0"], nu - t["p_u0"]))
            scale.append(np.where(r.corner, t["p_x0_scale"],
                                  np.maximum(np.abs(nu), np.abs(t["p_u0"]))))
            if self.long_run:
                k_res = (t["p_avail"] * np.where(r.qcap, t["p_g"], 0.0)).sum(axis=1) \
                    - t["p_rho_nu"]
                k_scale = np.maximum((t["p_avail"] * np.where(r.qcap, gscale, 0.0)).sum(axis=1),
                                     np.abs(t["p_rho_nu"]))
                res.append(k_res)
                scale.append(k_scale)
        if self.normalised:
            Omega = economy.goods_supply
            res.append(np.array([t["B0"] / Omega - 1.0]))
            scale.append(np.ones(1))
        return np.concatenate(res), np.concatenate(scale)

    def F(self, z: np.ndarray, economy: Economy) -> np.ndarray:
        res, scale = self.raw(z, economy)
        if self.eq_scale is None:
            self.eq_scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
        return res / self.eq_scale

    def scales(self, z: np.ndarray) -> np.ndarray:
        """A magnitude per unknown: its own, but at least 1e-3 of the largest in its block (a
        bid or an offer at its bound, 0, still moves on the scale of its kind)."""
        out = np.abs(z).astype(float)
        for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True):
            if b > a:
                out[a:b] = np.maximum(out[a:b], 1e-3 * out[a:b].max())
        return np.maximum(out, 1e-300)

    def jacobian(self, z: np.ndarray, economy: Economy) -> np.ndarray:
        """``∂F/∂z`` by central differences, relative steps :data:`STEP_Z`."""
        h = STEP_Z * self.scales(z)
        cols = []
        for k in range(len(z)):
            zp, zm = z.copy(), z.copy()
            zp[k] += h[k]
            zm[k] -= h[k]
            cols.append((self.F(zp, economy) - self.F(zm, economy)) / (2 * h[k]))
        return np.column_stack(cols) if cols else np.zeros((len(self.F(z, economy)), 0))

    def margins(self, z: np.ndarray, economy: Economy) -> dict[tuple[str, Any], float]:
        """Signed, scaled distances of every switchable constraint of the regime from its
        switching point (positive on the regime's side)."""
        st = self.state(z, economy)
        t = self.terms(st, economy)
        f = st["f"]
        r = self.regime
        fixed_post = (economy.fixed_costs > 0).any(axis=0)
        out: dict[tuple[str, Any], float] = {}
        if self.nc:
            budget = np.maximum(t["c_budget_scale"], 1e-300)
            gap = (t["c_rhs"] - t["c_A"]) / np.maximum(np.maximum(np.abs(t["c_rhs"]),
                                                                  np.abs(t["c_A"])), 1e-300)
            for i, k in zip(*np.nonzero(~fixed_post[None, :] & np.ones_like(r.cbid)),
                            strict=True):
                out[("cbid", (int(i), int(k)))] = (f["cb"][i, k] / budget[i] if r.cbid[i, k]
                                                   else gap[i, k])
        if self.np:
            budget = np.maximum(t["p_budget_scale"], 1e-300)
            gap = (t["p_rhs"] - t["p_A"]) / np.maximum(np.maximum(np.abs(t["p_rhs"]),
                                                                  np.abs(t["p_A"])), 1e-300)
            lam, D0 = f["lp"], t["p_D0"]
            gap0 = (lam - D0) / np.maximum(np.maximum(np.abs(lam), np.abs(D0)), 1e-300)
            for j, k in zip(*np.nonzero(~fixed_post[None, :] & np.ones_like(r.pbid)),
                            strict=True):
                if r.pbid[j, k]:
                    out[("pbid", (int(j), int(k)))] = f["pb"][j, k] / budget[j]
                else:
                    out[("pbid", (int(j), int(k)))] = gap0[j] if k == 0 else gap[j, k - 1]
            H, NP, BG = t["p_g_terms"]
            gscale = np.maximum(np.maximum(np.maximum(np.abs(H), np.abs(NP)), np.abs(BG)),
                                1e-300)
            g = t["p_g"] / gscale
            cap = economy.producers.period_capacity(f["K"])
            for j, k in zip(*np.nonzero(cap > 0), strict=True):
                key = (int(j), int(k))
                if r.qfree[j, k]:
                    out[("q-low", key)] = f["q"][j, k] / cap[j, k]
                    out[("q-high", key)] = (cap[j, k] - f["q"][j, k]) / cap[j, k]
                elif r.qcap[j, k]:
                    out[("q-high", key)] = g[j, k]          # μ >= 0
                else:
                    out[("q-low", key)] = -g[j, k]
            classic = economy.producers.classic
            nu = f["nu"]
            for j in np.flatnonzero(classic):
                if r.corner[j]:
                    out[("x0", int(j))] = (nu[j] - t["p_u0"][j]) / max(abs(nu[j]), 1e-300)
                else:
                    out[("x0", int(j))] = t["p_x0"][j] / t["p_x0_scale"][j]
        return out


# --------------------------------------------------------------------------------------------
# Outputs y(z; θ).
# --------------------------------------------------------------------------------------------


def _output_names(economy: Economy) -> tuple[tuple[str, ...], tuple[str, ...]]:
    labels = economy.labels
    names, nice = [], []
    for what, title in (("relative_price", "p/p0"), ("production", "Q"),
                        ("consumption", "E")):
        for t, lab in enumerate(labels):
            names.append(f"{what}[{t + 1}]")
            nice.append(f"{title} {lab}")
    names += ["verification_share", "welfare"]
    nice += ["verification share", "welfare (goods)"]
    for pop in (economy.consumers, economy.producers):
        for name in pop.names:
            names.append(f"utility[{name}]")
            nice.append(f"U {name}")
    return tuple(names), tuple(nice)


def _outputs(system: _System, z: np.ndarray, economy: Economy) -> tuple[np.ndarray, np.ndarray]:
    """``(y, money)``: the outputs at ``(z, θ)`` and each type's utility per unit of goods
    ``λ_i p^0`` (for the welfare conversion)."""
    st = system.state(z, economy)
    o = st["outcome"]
    pi = economy.probabilities
    prices = o.prices
    rel = prices[1:] / prices[0]
    Q = o.offers_total[1:]
    cons, ver = np.zeros(system.T), np.zeros(system.T)
    utils, per_money = [], []
    for pop, play, lam in ((economy.consumers, o.consumers, st["f"]["lc"]),
                           (economy.producers, o.producers, st["f"]["lp"])):
        if not len(pop):
            continue
        cons += np.einsum("i,s,ist->t", pop.count, pi, play.consumption)
        ver += np.einsum("i,s,ist->t", pop.count, pi, play.verification)
        utils.append(play.utility)
        per_money.append(lam * prices[0])
    share = ver.sum() / Q.sum()
    y = np.concatenate([rel, Q, cons, [share, np.nan], *utils])
    return y, np.concatenate(per_money)


# --------------------------------------------------------------------------------------------
# The driver.
# --------------------------------------------------------------------------------------------


def _base_point(solution: Solution) -> tuple[_Regime, dict[str, np.ndarray]]:
    """The regime at the solution and the full arrays of its unknowns (multipliers recovered
    by least squares from the conditions, as :mod:`emgame.analysis.foc` does)."""
    from emgame.analysis.foc import foc_of

    e = solution.economy
    prof = solution.profile
    foc = foc_of(solution)
    lc = np.array([t.lam for t in foc.consumers], dtype=float)
    lp = np.array([t.lam for t in foc.producers], dtype=float)
    nu = np.array([t.nu if t.nu is not None else math.nan for t in foc.producers], dtype=float)
    K = np.asarray(prof.capacity, dtype=float)
    cap = e.producers.period_capacity(K)
    q = np.asarray(prof.offers, dtype=float)
    at_cap = (q >= cap * (1 - 1e-9)) & (cap > 0)
    zero = (q <= 1e-12 * np.maximum(cap, 1e-300)) & ~at_cap
    qfree = ~at_cap & ~zero
    play = solution.outcome.producers
    corner = ~e.producers.classic | (play.goods <= 1e-12 * np.maximum(play.goods_received,
                                                                      1e-300))
    regime = _Regime(cbid=np.asarray(prof.consumer_bids) > 0,
                     pbid=np.asarray(prof.producer_bids) > 0, qfree=qfree, qcap=at_cap,
                     corner=np.asarray(corner, bool))
    full = {"cb": np.asarray(prof.consumer_bids, float).copy(),
            "pb": np.asarray(prof.producer_bids, float).copy(), "q": q.copy(), "K": K.copy(),
            "lc": lc, "lp": lp, "nu": nu}
    return regime, full


def _newton(system: _System, z: np.ndarray, economy: Economy, iters: int = 20
            ) -> tuple[np.ndarray, float]:
    """Polish ``z`` towards ``F(z) = 0``: chord iterations (one Jacobian, least squares) with
    step halving, from a certified solution, whose residual is normally already below
    :data:`POLISHED` (then nothing is done)."""
    best = float(np.linalg.norm(system.F(z, economy), np.inf))
    if best < POLISHED:
        return z, best
    J = system.jacobian(z, economy)
    for _ in range(iters):
        if best < 1e-14:
            break
        step = np.linalg.lstsq(J, -system.F(z, economy), rcond=None)[0]
        lam = 1.0
        while lam > 1e-4:
            trial = z + lam * step
            with np.errstate(all="ignore"):
                r = float(np.linalg.norm(system.F(trial, economy), np.inf))
            if np.isfinite(r) and r < best:
                z, best = trial, r
                break
            lam /= 2
        else:
            break
    return z, best


def _economies(base: dict[str, Any], targets: tuple[_paths.Target, ...], values: np.ndarray,
               direction: np.ndarray, h: float, source: str, T: int
               ) -> dict[int, Economy | None]:
    """Economies at ``θ + s h direction`` for ``s`` in -2..2 (``None`` where invalid)."""
    out: dict[int, Economy | None] = {}
    for s in (-2, -1, 1, 2):
        changes = [(str(t), "set", float(v + s * h * d))
                   for t, v, d in zip(targets, values, direction, strict=True)]
        try:
            data = _paths.apply(base, changes, T)
            out[s] = economy_from_dict(data, source)
        except (EconomyError, _paths.PathError) as exc:
            log.debug("sensitivity: step %s refused: %s", s, exc)
            out[s] = None
    return out


def _d(fun, econs: dict[int, Economy | None], e0: Economy, h: float) -> tuple[np.ndarray, str]:
    """``d fun(θ)/dθ`` by central differences, or second-order one-sided ones where the
    parameter sits on the edge of its domain."""
    if econs.get(1) is not None and econs.get(-1) is not None:
        return (fun(econs[1], 1) - fun(econs[-1], -1)) / (2 * h), "central"
    if econs.get(1) is not None and econs.get(2) is not None:
        return (-3 * fun(e0, 0) + 4 * fun(econs[1], 1) - fun(econs[2], 2)) / (2 * h), "forward"
    if econs.get(-1) is not None and econs.get(-2) is not None:
        return (3 * fun(e0, 0) - 4 * fun(econs[-1], -1) + fun(econs[-2], -2)) / (2 * h), \
            "backward"
    raise SensitivityError("the parameter cannot be moved either way within the economy's "
                           "rules")


def _resolve(base: dict[str, Any], paths: list[str] | tuple[str, ...]
             ) -> list[tuple[str, tuple[_paths.Target, ...]]]:
    resolved: list[tuple[str, tuple[_paths.Target, ...]]] = []
    for p in paths:
        try:
            targets = _paths.resolve(base, p)
        except _paths.PathError as exc:
            raise SensitivityError(f"--sensitivity {exc}") from None
        ints = [str(t) for t in targets if t.integer]
        if ints:
            raise SensitivityError(f"--sensitivity {p!r}: {ints[0]} is a whole number "
                                   "(a count or a period index); there is no derivative with "
                                   "respect to it")
        values = [_paths.value_at(base, t) for t in targets]
        missing = [str(t) for t, v in zip(targets, values, strict=True)
                   if not isinstance(v, int | float) or isinstance(v, bool)]
        if missing:
            raise SensitivityError(f"--sensitivity {p!r}: {missing[0]} is not set in this "
                                   "economy, so there is nothing to differentiate at")
        resolved.append((p, targets))
    return resolved


def check_paths(economy: Economy, paths: str | list[str] | tuple[str, ...]) -> None:
    """Raise :class:`SensitivityError` (naming the path) unless every path names a numeric,
    non-integer field set in ``economy``."""
    if isinstance(paths, str):
        paths = [p.strip() for p in paths.split(",") if p.strip()]
    if not paths:
        raise SensitivityError("--sensitivity: give at least one parameter path, e.g. "
                               "'verification.fixed'")
    _resolve(economy_to_dict(economy), list(paths))


def sensitivity(solution: Solution, paths: str | list[str] | tuple[str, ...], *,
                switch_tol: float = SWITCH_TOL, cond_max: float = COND_MAX) -> Sensitivity:
    """Derivatives and elasticities of a certified solution's prices, production, consumption,
    welfare and verification share with respect to parameter paths, by the implicit function
    theorem (docs/sensitivity.md).

    Parameters
    ----------
    solution : Solution
        A certified solution (``solution.ok``); anything else gives status ``not-certified``.
    paths : str or sequence of str
        Parameter paths as in sweeps (:mod:`emgame.analysis.paths`), e.g.
        ``"verification.fixed"``, ``"producers.*.productivity"``, ``"consumers[0].endowment"``;
        a comma-separated string is split.
    switch_tol : float
        Margins of the regime within this (relative) of zero may switch at the point.
    cond_max : float
        A scaled Jacobian with a larger condition number is reported as singular.

    Returns
    -------
    Sensitivity

    Raises
    ------
    SensitivityError
        For a path that names nothing, or a whole-number field (counts, the settlement period).

    Examples
    --------
    >>> from emgame import Economy, ConsumerType, ProducerType, Utility, solve, sensitivity
    >>> e = Economy.build(name="two producers", periods=1,
    ...     consumers=[ConsumerType("c", 4, 1.0, Utility("cobb_douglas", (1.0,)))],
    ...     producers=[ProducerType("p", 2, 1.0, 0.8, Utility("cobb_douglas", (1.0,)),
    ...                             capacity=10.0)])
    >>> s = solve(e)
    >>> s.certificate.passed
    True
    >>> r = sensitivity(s, "producers.*.productivity")
    >>> r.status
    'ok'
    """
    if isinstance(paths, str):
        paths = [p.strip() for p in paths.split(",") if p.strip()]
    if not paths:
        raise SensitivityError("--sensitivity: give at least one parameter path, e.g. "
                               "'verification.fixed'")
    economy = solution.economy
    base = economy_to_dict(economy)
    resolved = _resolve(base, paths)
    names, labels = _output_names(economy)

    def refuse(status: str, reason: str) -> Sensitivity:
        params = tuple(ParameterSensitivity(p, tuple(str(t) for t in tg),
                                            float(np.mean([_paths.value_at(base, t)
                                                           for t in tg])), status, reason)
                       for p, tg in resolved)
        return Sensitivity(solution.concept, economy.name, status, reason, names, labels,
                           np.full(len(names), np.nan), params)

    if not solution.ok or solution.profile is None:
        return refuse("not-certified", "only certified solutions are differentiated: "
                      f"this one is {solution.status.value}")
    if economy.has_storage:
        return refuse("unsupported", "economies with storage operators are not differentiated "
                      "yet")
    normalised = not (economy.market.prepaid and np.isfinite(
        np.concatenate([economy.consumers.wallet, economy.producers.wallet])).any())
    with np.errstate(all="ignore"):
        return _run(solution, resolved, base, names, labels, normalised, switch_tol, cond_max,
                    refuse)


def _run(solution, resolved, base, names, labels, normalised, switch_tol, cond_max, refuse
         ) -> Sensitivity:  # noqa: ANN001
    economy = solution.economy
    regime0, full = _base_point(solution)
    if solution.economy.market.long_run and np.any(full["K"] <= 0):
        return refuse("unsupported", "a long-run producer type with zero capacity is not "
                      "differentiated (its capacity choice is at a corner)")
    # ν of a producer whose goods do not bind is its marginal utility of goods.
    system0 = _System(economy, solution.concept, regime0, full, normalised)
    z0 = system0.pack(full)
    # A multiplier the conditions could not pin down starts at 1 (the system is linear in them).
    z0 = np.where(np.isfinite(z0), z0, 1.0)
    r_before = float(np.linalg.norm(system0.F(z0, economy), np.inf))
    z, r_after = _newton(system0, z0, economy)
    diagnostics: dict[str, Any] = {"unknowns": system0.n, "residual_at_solution": r_before,
                                   "residual_polished": r_after,
                                   "moved_by_polish": float(np.max(np.abs(z - z0) / np.maximum(
                                       np.abs(z0), 1e-300))) if len(z) else 0.0}
    if not r_after < 1e-8:
        return refuse("inconclusive", f"the equilibrium system of the solution's regime has a "
                      f"residual of {r_after:.2e} at the solution (scaled): the regime is "
                      "misread or the conditions do not hold")
    full_star = system0.unpack(z, economy)
    levels, _ = _outputs(system0, z, economy)
    # Margins at or near their switching points.
    m0 = system0.margins(z, economy)
    near = [(k, v) for k, v in m0.items() if abs(v) < switch_tol]
    diagnostics["near_margins"] = [_margin_label(economy, k) for k, _ in near]
    if len(near) > MAX_MARGINS:
        return refuse("inconclusive", f"{len(near)} constraints are at their switching points "
                      f"({', '.join(diagnostics['near_margins'][:6])} …): too many regimes")
    margins = [_Margin(k[0], k[1], _margin_label(economy, k)) for k, _ in near]
    regimes = []
    for flips in itertools.product((False, True), repeat=len(margins)):
        reg = regime0
        for f, mg in zip(flips, margins, strict=True):
            if f:
                reg = reg.flipped(mg)
        sysr = _System(economy, solution.concept, reg, full_star, normalised)
        zr = sysr.pack(full_star)
        sysr.F(zr, economy)         # fixes the equation scales at the point
        J = sysr.jacobian(zr, economy)
        # The column-scaled Jacobian (unknowns in relative units), factored once for every
        # parameter: its singular values give the condition number.
        D = sysr.scales(zr)
        U, S, Vt = np.linalg.svd(J * D[None, :], full_matrices=False)
        cond = float(S[0] / S[-1]) if S.size and S[-1] > 0 else (1.0 if not S.size
                                                                  else math.inf)
        regimes.append({"flips": flips, "sys": sysr, "z": zr, "J": J, "cond": cond,
                        "svd": (U, S, Vt, D)})
    o = system0.state(z, economy)["outcome"]
    diagnostics["income"] = float(np.nansum(o.bids_total) / o.prices[0])
    diagnostics["condition_number"] = regimes[0]["cond"]
    params = []
    for path, targets in resolved:
        params.append(_one(economy, base, path, targets, regimes, margins, names, levels,
                           cond_max, diagnostics))
    status = "ok"
    for s in ("not-certified", "unsupported", "singular", "inconclusive", "switch"):
        if any(p.status == s for p in params):
            status = s
            break
    reason = "; ".join(f"{p.path}: {p.reason}" for p in params if p.reason)
    return Sensitivity(solution.concept, economy.name, status, reason, names, labels, levels,
                       tuple(params), diagnostics)


def _margin_label(economy: Economy, key: tuple[str, Any]) -> str:
    kind, idx = key
    post = (lambda k: "goods" if k == 0 else f"period {economy.labels[k - 1]!r}")
    if kind == "cbid":
        return f"consumer {economy.consumers.names[idx[0]]!r} bid on {post(idx[1])}"
    if kind == "pbid":
        return f"producer {economy.producers.names[idx[0]]!r} bid on {post(idx[1])}"
    if kind == "q-low":
        return (f"producer {economy.producers.names[idx[0]]!r} offer at zero in period "
                f"{economy.labels[idx[1]]!r}")
    if kind == "q-high":
        return (f"producer {economy.producers.names[idx[0]]!r} capacity in period "
                f"{economy.labels[idx[1]]!r}")
    return f"producer {economy.producers.names[idx]!r} goods x0 >= 0"


def _one(economy: Economy, base: dict[str, Any], path: str, targets, regimes, margins, names,
         levels, cond_max, diag0) -> ParameterSensitivity:  # noqa: ANN001
    values = np.array([float(_paths.value_at(base, t)) for t in targets])
    theta = float(np.mean(values))
    tnames = tuple(str(t) for t in targets)
    scale = float(np.max(np.abs(values))) if np.any(values != 0) else 1.0
    h = STEP_THETA * scale
    source = economy.source or "<economy>"
    directions = {"add": np.ones(len(values))}
    if np.any(values != 0):
        directions["mul"] = values / scale
    diag: dict[str, Any] = {}
    per_dir: dict[str, dict[str, Any]] = {}
    for dname, direction in directions.items():
        econs = _economies(base, targets, values, direction, h, source, economy.periods)
        try:
            res = [_regime_derivative(economy, econs, h, reg, margins, cond_max)
                   for reg in regimes]
        except SensitivityError as exc:
            return ParameterSensitivity(path, tnames, theta, "inconclusive", str(exc))
        per_dir[dname] = {"results": res}
    # Choose, for each side, the regime whose constraints move the right way.
    main = per_dir["add"]["results"]
    if any(r["singular"] for r in main[:1]):
        r = main[0]
        return ParameterSensitivity(
            path, tnames, theta, "singular",
            f"the Jacobian of the equilibrium system is singular or ill-conditioned "
            f"(condition number {r['cond']:.2e}): possibly several equilibria nearby "
            "(a bifurcation), no derivative is reported",
            diagnostics={"condition_number": r["cond"]})
    diag["condition_number"] = main[0]["cond"]
    diag["linear_residual"] = main[0]["lin_res"]
    diag["step"] = h
    diag["difference"] = main[0]["scheme"]

    def pick(results: list[dict[str, Any]], side: int) -> dict[str, Any] | None:
        ok = [r for r in results if not r["singular"] and r["valid"][side]]
        if not ok:
            return None
        # The solution's own regime first.
        return ok[0]

    def elasticity(dy: np.ndarray | None, dname: str, side: int) -> np.ndarray | None:
        if "mul" not in per_dir:
            return None
        r = pick(per_dir["mul"]["results"], side)
        if r is None:
            return None
        dy_dir = r["dy"] if dy is not None else _side(r, side)
        with np.errstate(divide="ignore", invalid="ignore"):
            e = dy_dir * scale / levels
            # Welfare: the money-metric change as a share of the economy's income.
            e[names.index("welfare")] = dy_dir[names.index("welfare")] * scale / diag0.get(
                "income", np.nan)
        return np.where(np.isfinite(e), e, np.nan)

    edge = ""
    if main[0]["scheme"] != "central":
        edge = (f"{'right' if main[0]['scheme'] == 'forward' else 'left'} derivative: "
                f"{path} = {theta:g} is at the edge of its domain")
    if not margins or (main[0]["valid"][0] and main[0]["valid"][1]):
        r = main[0]
        return ParameterSensitivity(path, tnames, theta, "ok", edge, r["dy"],
                                    elasticity(r["dy"], "add", 1), diagnostics=diag)
    right, left = pick(main, 1), pick(main, 0)
    if right is None or left is None:
        return ParameterSensitivity(path, tnames, theta, "inconclusive",
                                    "a constraint is at its switching point and no regime "
                                    "is consistent on "
                                    f"{'the right' if right is None else 'the left'}",
                                    diagnostics=diag)
    switched = tuple(mg.label for mg, a, b in zip(margins, left["flips"], right["flips"],
                                                   strict=True) if a != b)
    if not switched:
        return ParameterSensitivity(path, tnames, theta, "ok", edge, right["dy"],
                                    elasticity(right["dy"], "add", 1), diagnostics=diag)
    return ParameterSensitivity(
        path, tnames, theta, "switch",
        "the derivative does not exist: " + ", ".join(switched) + " switches at the point",
        None, None, _side(left, 0), _side(right, 1), elasticity(None, "add", 0),
        elasticity(None, "add", 1), switched, diag)


def _side(result: dict[str, Any], side: int) -> np.ndarray:
    """The derivative of a regime taken on one side (0: θ decreasing, 1: increasing)."""
    sided = result.get("dy_side")
    if sided is not None and sided[side] is not None:
        return sided[side]
    return result["dy"]


def _regime_derivative(economy, econs, h, reg: dict[str, Any], margins, cond_max
                       ) -> dict[str, Any]:  # noqa: ANN001
    sysr, zr, J, cond = reg["sys"], reg["z"], reg["J"], reg["cond"]
    Ft, scheme = _d(lambda e, s: sysr.F(zr, e), econs, economy, h)
    out: dict[str, Any] = {"flips": reg["flips"], "cond": cond, "scheme": scheme,
                           "singular": not (cond < cond_max), "valid": (False, False)}
    if out["singular"]:
        out["dy"] = None
        out["lin_res"] = math.nan
        return out
    U, S, Vt, D = reg["svd"]
    dz = D * (Vt.T @ ((U.T @ -Ft) / S))     # least squares: the system is consistent
    out["lin_res"] = float(np.linalg.norm(J @ dz + Ft, np.inf))
    # Outputs along the tangent.
    def y_at(e: Economy, s: int) -> np.ndarray:
        return _outputs(sysr, zr + s * h * dz, e)[0]
    _, money = _outputs(sysr, zr, economy)
    counts = np.concatenate([economy.consumers.count, economy.producers.count])
    nU = len(counts)

    def welfare(dy: np.ndarray) -> np.ndarray:
        # Σ n_i dU_i / (λ_i p^0), in goods.
        dy[len(dy) - nU - 1] = float(np.sum(counts * dy[-nU:] / money))
        return dy

    dy, _ = _d(y_at, econs, economy, h)
    out["dy"] = welfare(dy)
    if margins:
        # At a switching point a variable sits on its bound and the tangent leaves it on one
        # side only: each one-sided derivative is taken on its own side.
        out["dy_side"] = tuple(
            welfare(_d(y_at, {k: v for k, v in econs.items() if k * side > 0}, economy, h)[0])
            if any(k * side > 0 and v is not None for k, v in econs.items()) else None
            for side in (-1, 1))
    # Which directions keep this regime: every flipped-or-not margin must stay on its side.
    valid = [True, True]
    if margins:
        def m_at(e: Economy, s: int) -> np.ndarray:
            mm = sysr.margins(zr + s * h * dz, e)
            return np.array([mm.get((mg.kind, mg.index), math.nan) for mg in margins])
        dm, _ = _d(m_at, econs, economy, h)
        for k in range(len(margins)):
            for side, sign in ((0, -1.0), (1, 1.0)):
                # Every near margin counts as on its bound: it must move into the regime's side
                # (a derivative within rounding of zero keeps the regime both ways).
                if sign * dm[k] < -1e-9 * max(1.0, abs(dm[k])):
                    valid[side] = False
        out["dm"] = dm
    out["valid"] = tuple(valid)
    return out
