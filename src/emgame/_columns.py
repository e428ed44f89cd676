"""A solution's per-type outcomes as whole columns, and every output built from them.

:meth:`Solution.to_dict <emgame.results.Solution.to_dict>` (the JSON contract),
:meth:`~emgame.results.Solution.to_frame` (pandas), :meth:`~emgame.results.Solution.summary` and
the Parquet output (:mod:`emgame.store.parquet`) all read the arrays made here, once per call:
every per-type quantity is one numpy array over the types of a role, converted to Python values
in one vectorised step (``ndarray.tolist``), never element by element. The work is linear in the
number of types.

Flat column names (frames, Parquet, CSV) are usable in R and Stata: lower-case letters, digits
and ``_``, starting with a letter, at most 32 characters. A per-period quantity ``X`` becomes
``X_1 .. X_T`` (periods from 1); a per-state one, with ``S > 1`` states, ``X_s1_1 .. X_sS_T``
(with one state, just ``X_1 .. X_T``); the goods post's bid is ``bid_goods``. The meaning of
every column is in ``docs/model.md`` (section "Outputs").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from emgame.results import Solution

ROLES = ("consumers", "producers", "storage")
ROLE_NAMES = {"consumers": "consumer", "producers": "producer", "storage": "storage"}
"""A role's name for one type (the ``role`` column, the certificate's attributes)."""
AT_CAPACITY = 1e-9
"""An offer ``q ≥ K (1 − AT_CAPACITY)`` is at capacity (for the scarcity rent)."""


# --------------------------------------------------------------------------------------------
# JSON values.
# --------------------------------------------------------------------------------------------


def json_values(a: Any) -> Any:
    """An array as (nested) Python lists of floats, ``None`` for NaN and infinities (JSON has
    neither); vectorised: one ``tolist`` call, whatever the size."""
    arr = np.asarray(a, dtype=float)
    finite = np.isfinite(arr)
    if finite.all():
        return arr.tolist()
    obj = arr.astype(object)
    obj[~finite] = None
    return obj.tolist()


def exact_unit_goods_price(solution: Solution) -> bool:
    """Whether the solution is normalised to ``p^0 = 1`` (docs/model.md, "Normalisation"):
    then the reported goods price is exactly 1 and the nominal electricity prices are the
    relative ones (the exact point of the ray of nominal rescalings)."""
    out = solution.outcome
    if out is None or not solution.economy.stationary_wallets:
        return False
    p0 = float(out.prices[0])
    return np.isfinite(p0) and abs(p0 - 1.0) <= 1e-9


def reported_prices(solution: Solution) -> np.ndarray:
    """Nominal prices ``[p^0, p^1..p^T]`` as reported: ``p^0`` exactly 1 when normalised."""
    out = solution.outcome
    assert out is not None
    if exact_unit_goods_price(solution):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.concatenate([[1.0], out.prices[1:] / out.prices[0]])
    return np.asarray(out.prices, dtype=float)


# --------------------------------------------------------------------------------------------
# Market power and scarcity (docs/model.md, "Markups: market power and scarcity").
# --------------------------------------------------------------------------------------------


def marginal_costs(solution: Solution) -> np.ndarray:
    """``MC_j^t = φ_j'(q_j^t) = (1/(cθ)) (q/θ)^{1/c − 1}``, goods per unit, ``(np, T)``."""
    assert solution.profile is not None
    pop = solution.economy.producers
    q = solution.profile.offers
    theta = pop.productivity[:, None]
    c = pop.returns[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return (1.0 / (c * theta)) * (q / theta) ** (1.0 / c - 1.0)


def marginal_revenue(solution: Solution) -> np.ndarray:
    """What one more unit offered on post ``t`` is worth to producer ``j``, in goods, ``(np, T)``.

    Nash (the paper's (12)–(14) divided by the value of goods ``ν``): with the others' totals
    ``B_-``, ``Q_-`` and the producer's own bid ``b`` and offer ``q``,
    ``MR^t = (λ/ν) [(1 − βq/Q) B b/(Q B_-) + β B Q_-/Q²]`` and ``λ/ν = Ω B_-^0/(B^0)²``
    (its goods bid's condition (13)); for a producer that neither bids on its own post nor buys
    much of the goods, ``MR ≈ β (p^t/p^0)(1 − q/Q)``: the Cournot wedge. Competitive (a price
    taker): ``MR^t = β p^t/p^0``. ``β`` is the discount under prepaid settlement, else 1.
    NaN where it does not exist (a post that does not trade, a producer without a goods bid).
    """
    sol = solution
    assert sol.outcome is not None and sol.profile is not None
    econ, out, prof = sol.economy, sol.outcome, sol.profile
    beta = float(econ.market.discount) if econ.market.prepaid else 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rel = np.asarray(out.prices[1:] / out.prices[0], dtype=float)
        if sol.concept != "nash" or out.others is None:
            return np.broadcast_to(beta * rel, prof.offers.shape).copy()
        _, _, Bm, Qm = out.others
        b, q = prof.producer_bids, prof.offers
        B = Bm + b
        Q = Qm.copy()
        Q[:, 1:] += q
        omega = econ.goods_supply
        lam_nu = omega * Bm[:, :1] / B[:, :1] ** 2
        own = np.where(b[:, 1:] > 0, (1.0 - beta * q / Q[:, 1:]) * B[:, 1:] * b[:, 1:]
                       / (Q[:, 1:] * Bm[:, 1:]), 0.0)
        mr = lam_nu * (own + beta * B[:, 1:] * Qm[:, 1:] / Q[:, 1:] ** 2)
        ok = (b[:, :1] > 0) & np.asarray(out.active[1:])[None, :]
        return np.where(ok, mr, np.nan)


def markup_parts(solution: Solution) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rent, market_power, scarcity)``, each ``(np, T)``: the markup split into its two
    causes, ``markup = (p^t/p^0)/MC = market_power × scarcity``.

    ``rent`` ``r = max(MR − MC, 0)`` where the offer is at capacity (the shadow value of
    capacity, in goods per unit: the paper's ``μ^t/ν``), else 0; ``scarcity = (MC + r)/MC``
    (1 when capacity does not bind); ``market_power = (p^t/p^0)/(MC + r)``, the markup net of
    scarcity (1 for a price taker under simultaneous settlement).
    """
    sol = solution
    assert sol.outcome is not None and sol.profile is not None
    prof = sol.profile
    mc = marginal_costs(sol)
    mr = marginal_revenue(sol)
    K = sol.economy.producers.period_capacity(prof.capacity)   # s^t K
    at_cap = (prof.offers > 0) & (prof.offers >= K * (1.0 - AT_CAPACITY))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rent = np.where(at_cap, np.maximum(mr - mc, 0.0), 0.0)
        rent = np.where(at_cap & ~np.isfinite(mr), np.nan, rent)
        rel = (sol.outcome.prices[1:] / sol.outcome.prices[0])[None, :]
        power = rel / (mc + rent)
        scarcity = (mc + rent) / mc
    return rent, power, scarcity


def profits(solution: Solution) -> np.ndarray:
    """Profit of one producer of each type in goods at the solution's prices:
    ``π_j = Σ_t (p^t/p^0) q_j^t − Σ_t φ_j(q_j^t) − ρ K_j`` (``ρ K`` in the long run only),
    ``(np,)``; posts that do not trade earn nothing."""
    sol = solution
    assert sol.outcome is not None and sol.profile is not None
    econ, out, prof = sol.economy, sol.outcome, sol.profile
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(out.active[1:], out.prices[1:] / out.prices[0], 0.0)
    cost = out.producers.inputs.sum(axis=1)
    if econ.market.long_run:
        cost = cost + np.nan_to_num(econ.producers.capacity_cost) * prof.capacity
    return prof.offers @ rel - cost


# --------------------------------------------------------------------------------------------
# Columns.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One per-type quantity of a role: ``values`` has the types on its first axis; ``axis`` is
    ``"type"`` (one number), ``"period"`` (``T``), ``"state"`` (``S × T``) or ``"text"``."""

    name: str
    values: Any
    axis: str = "type"


def _passed(cert: Any, role: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-type ``(passed, inconclusive)`` of the certificate, each computed once."""
    if cert is None:
        return None, None
    who = ROLE_NAMES[role]
    if not hasattr(type(cert), f"{who}_passed"):  # (on the class: no property evaluated)
        return None, None
    passed = np.asarray(getattr(cert, f"{who}_passed"), dtype=bool)
    inconclusive = getattr(cert, f"{who}_inconclusive", None)
    return passed, None if inconclusive is None else np.asarray(inconclusive, dtype=bool)


def storage_profits(solution: Solution) -> np.ndarray:
    """Profit of one storage operator of each type in goods at the solution's prices:
    ``Σ_t (p^t/p^0) (q^t − x^t)``, what it sells less what it buys, ``(ns,)``; posts that do
    not trade count for nothing."""
    sol = solution
    assert sol.outcome is not None and sol.profile is not None
    out, prof = sol.outcome, sol.profile
    assert out.storage is not None
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(out.active[1:], out.prices[1:] / out.prices[0], 0.0)
    bought = np.where(out.active[None, 1:], out.storage.electricity, 0.0)
    return (prof.storage_offers - bought) @ rel


def _storage_fields(sol: Solution) -> list[Field]:
    """The battery's own columns (docs/model.md, "Storage")."""
    pop, prof, out = sol.economy.storage, sol.profile, sol.outcome
    assert prof is not None and out is not None and out.storage is not None
    return [
        Field("energy_capacity", pop.energy_capacity),
        Field("power_capacity", pop.power_capacity),
        Field("offer", prof.storage_offers, "period"),
        Field("charge", prof.storage_charge, "period"),
        Field("state_of_charge", out.storage.state_of_charge, "period"),
        Field("profit", storage_profits(sol)),
    ]


def fields(solution: Solution, role: str) -> list[Field]:
    """Every per-type quantity of ``role`` (``"consumers"``, ``"producers"`` or ``"storage"``)
    at the solution, for one agent of each type (see docs/model.md, "Outputs"). Needs an
    outcome."""
    sol = solution
    assert sol.outcome is not None and sol.profile is not None
    econ, out, prof = sol.economy, sol.outcome, sol.profile
    pop = getattr(econ, role)
    play = getattr(out, role)
    bids = {"consumers": prof.consumer_bids, "producers": prof.producer_bids,
            "storage": prof.storage_bids}[role]
    producer = role == "producers"
    storage = role == "storage"
    fl: list[Field] = [
        Field("name", pop.names, "text"),
        Field("count", pop.count),
        Field("kind", np.where(pop.classic, "classic", "ai"), "text"),
    ]
    if role == "consumers":
        fl.append(Field("endowment", pop.endowment))
    fl += [
        Field("bid_goods", bids[:, 0]),
        Field("bid", bids[:, 1:], "period"),
        Field("electricity", play.electricity, "period"),
        Field("goods_received", play.goods_received),
        Field("goods", play.goods),
        Field("verification", play.verification, "state"),
        Field("consumption", play.consumption, "state"),
        Field("shadow_value", play.shadow_values, "state"),
        Field("utility", play.utility),
        Field("revenue", play.revenue),
        Field("spending", play.spending),
    ]
    mult = sol.multipliers
    budget = None if mult is None else {
        "consumers": mult.consumer_budget, "producers": mult.producer_budget,
        "storage": getattr(mult, "storage_budget", None)}[role]
    if budget is not None:
        fl.append(Field("budget_multiplier", budget))
    if storage:
        fl += _storage_fields(sol)
    if producer:
        rent, power, scarcity = markup_parts(sol)
        mc = marginal_costs(sol)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = (out.prices[1:] / out.prices[0])[None, :]
            markup = rel / mc
            lerner = (rel - mc) / rel
        fl += [
            Field("offer", prof.offers, "period"),
            Field("input", play.inputs, "period"),
            Field("capacity", prof.capacity),
            Field("withheld", pop.period_capacity(prof.capacity) - prof.offers, "period"),
            Field("marginal_cost", mc, "period"),
            Field("markup", markup, "period"),
            Field("lerner", lerner, "period"),
            Field("market_power", power, "period"),
            Field("scarcity", scarcity, "period"),
            Field("scarcity_rent", rent, "period"),
            Field("profit", profits(sol)),
        ]
        if mult is not None:
            fl += [Field("goods_multiplier", mult.producer_goods),
                   Field("capacity_multiplier", mult.producer_capacity, "period")]
    cert = sol.certificate
    regret = None if cert is None else getattr(cert, f"{ROLE_NAMES[role]}_regret", None)
    if regret is not None:
        passed, inconclusive = _passed(cert, role)
        fl.append(Field("regret", regret))
        if passed is not None:
            fl.append(Field("certified", passed, "bool"))
        if inconclusive is not None:
            fl.append(Field("inconclusive", inconclusive, "bool"))
    else:
        fl.append(Field("regret", np.full(len(pop), np.nan)))
    return fl


def flat(field: Field, states: int) -> Iterator[tuple[str, np.ndarray]]:
    """``(column name, 1-D values)`` of one field, one column per period (and state); each
    column contiguous (one transposing copy per field), so that Arrow and pandas take it
    without copying again."""
    v = field.values
    if field.axis in ("type", "text", "bool"):
        yield field.name, v
    elif field.axis == "period":
        vt = np.ascontiguousarray(np.asarray(v).T)
        for t in range(vt.shape[0]):
            yield f"{field.name}_{t + 1}", vt[t]
    else:
        vt = np.ascontiguousarray(np.asarray(v).transpose(1, 2, 0))
        for s in range(vt.shape[0]):
            for t in range(vt.shape[1]):
                name = (f"{field.name}_{t + 1}" if states == 1
                        else f"{field.name}_s{s + 1}_{t + 1}")
                yield name, vt[s, t]


# --------------------------------------------------------------------------------------------
# The JSON document (the contract of docs/model.md, "The JSON contract").
# --------------------------------------------------------------------------------------------

# JSON keys of the per-type fields, where they differ from the field names.
_JSON_NAMES = {"offer": "offers", "input": "inputs", "withheld": "capacity_withheld",
               "markup": "markups", "shadow_value": "shadow_values",
               "market_power": "market_power_markup", "scarcity": "scarcity_markup",
               "scarcity_rent": "scarcity_rent", "capacity_multiplier": "capacity_multipliers",
               "marginal_cost": "marginal_costs"}


def _rows(fl: list[Field]) -> list[dict[str, Any]]:
    """One dictionary per type, the contract's nesting (``bids``: ``goods``, ``electricity``)."""
    names: list[str] = []
    lists: list[list[Any]] = []
    for f in fl:
        if f.name == "bid_goods":
            continue
        if f.name == "bid":
            goods = next(g for g in fl if g.name == "bid_goods")
            names.append("bids")
            lists.append([{"goods": g, "electricity": e} for g, e in
                          zip(json_values(goods.values), json_values(f.values), strict=True)])
            continue
        if f.axis == "text":
            vals = list(f.values) if isinstance(f.values, tuple) else np.asarray(
                f.values).tolist()
        elif f.axis == "bool":
            vals = np.asarray(f.values, dtype=bool).tolist()
        elif f.name == "count":
            vals = np.asarray(f.values, dtype=np.int64).tolist()
        else:
            vals = json_values(f.values)
        names.append(_JSON_NAMES.get(f.name, f.name))
        lists.append(vals)
    return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]


def solution_dict(solution: Solution, *, types: bool = True) -> dict[str, Any]:
    """:meth:`Solution.to_dict`: the JSON contract and more; ``types=False`` leaves out the
    per-type rows (:meth:`Solution.summary`)."""
    sol = solution
    econ = sol.economy
    d: dict[str, Any] = {"status": sol.status.value, "concept": sol.concept,
                         "economy": econ.name}
    if sol.reason:
        d["reason"] = sol.reason
    cert = sol.certificate
    units = units_dict(econ)
    if sol.outcome is None or sol.profile is None:
        d.update(prices=None, relative_prices=None, periods=list(econ.labels),
                 consumers=[], producers=[], storage=[], totals=None,
                 certificate=None if cert is None else cert.to_dict())
        if units is not None:
            d["units"] = units
        if not types:
            d["types"] = type_counts(econ)
            del d["consumers"], d["producers"], d["storage"]
        d["iterations"] = sol.iterations
        d["evaluations"] = sol.evaluations
        d["seconds"] = {k: round(v, 6) for k, v in sol.seconds.items()}
        d["diagnostics"] = jsonable(sol.diagnostics)
        return d
    out = sol.outcome
    prices = reported_prices(sol)
    d["prices"] = {"goods": json_values(prices[0]), "electricity": json_values(prices[1:])}
    d["relative_prices"] = json_values(out.relative_prices)
    d["normalised"] = exact_unit_goods_price(sol)
    d["periods"] = list(econ.labels)
    if units is not None:
        d["units"] = units
    if types:
        for role in ROLES:
            d[role] = _rows(fields(sol, role)) if len(getattr(econ, role)) else []
    else:
        d["types"] = type_counts(econ)
    tot = energy_totals(sol)
    npr = econ.producers.count
    d["totals"] = {
        "production": json_values(tot["production"]),
        "verification": json_values(tot["verification"]),
        "consumption": json_values(tot["consumption"]),
        "verification_share": json_values(tot["verification_share"]),
        "bids": json_values(out.bids_total),
        "offers": json_values(out.offers_total),
        "profit": json_values(npr @ profits(sol)) if len(econ.producers) else 0.0,
    }
    if len(econ.storage):
        d["totals"].update(discharge=json_values(tot["discharge"]),
                           charge=json_values(tot["charge"]),
                           storage_profit=json_values(
                               econ.storage.count @ storage_profits(sol)))
    d["certificate"] = None if cert is None else cert.to_dict()
    d["iterations"] = sol.iterations
    d["evaluations"] = sol.evaluations
    d["seconds"] = {k: round(v, 6) for k, v in sol.seconds.items()}
    d["diagnostics"] = jsonable(sol.diagnostics)
    return d


def units_dict(economy: Any) -> dict[str, str] | None:
    """The economy's ``[units]`` for the JSON (labels only; docs/model.md, "Units"), with the
    unit of a relative price; ``None`` when none is named."""
    u = economy.units
    if u is None or (u.electricity is None and u.goods is None):
        return None
    out = {k: v for k, v in (("electricity", u.electricity), ("goods", u.goods)) if v}
    if u.price() is not None:
        out["price"] = u.price()
    return out


def type_counts(economy: Any) -> dict[str, int]:
    """How many types each role has (the summary's ``types``)."""
    out = {"consumers": len(economy.consumers), "producers": len(economy.producers)}
    if len(economy.storage):
        out["storage"] = len(economy.storage)
    return out


def energy_totals(solution: Solution) -> dict[str, np.ndarray]:
    """Electricity summed over all agents of every role: ``production (T,)`` (producers),
    ``discharge (T,)`` and ``charge (T,)`` (storage operators: offered, and put into the
    battery), ``verification (S, T)``, ``consumption (S, T)`` and ``verification_share``
    (verification over production, ``(S, T)``). Energy is conserved on every post that trades:
    ``production + discharge = consumption + verification + charge``."""
    econ, out, prof = solution.economy, solution.outcome, solution.profile
    assert out is not None and prof is not None
    production = econ.producers.count @ prof.offers
    burnt = 0.0
    consumed = 0.0
    for role in ROLES:
        pop, play = getattr(econ, role), getattr(out, role)
        if play is None or not len(pop):
            continue
        burnt = burnt + np.tensordot(pop.count, play.verification, axes=1)
        consumed = consumed + np.tensordot(pop.count, play.consumption, axes=1)
    S, T = econ.S, econ.periods
    burnt = np.broadcast_to(burnt, (S, T)).copy()
    consumed = np.broadcast_to(consumed, (S, T)).copy()
    st = econ.storage
    discharge = st.count @ prof.storage_offers if len(st) else np.zeros(T)
    charge = st.count @ prof.storage_charge if len(st) else np.zeros(T)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(production > 0, burnt / production, 0.0)
    return {"production": production, "discharge": discharge, "charge": charge,
            "verification": burnt, "consumption": consumed, "verification_share": share}


def jsonable(x: Any) -> Any:
    """Diagnostics and the like as JSON-ready values (NaN and infinities as ``None``)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return json_values(x) if x.dtype.kind == "f" else x.tolist()
    if isinstance(x, np.floating | float):
        f = float(x)
        return f if np.isfinite(f) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


# --------------------------------------------------------------------------------------------
# Flat columns: pandas and Parquet.
# --------------------------------------------------------------------------------------------


def role_columns(solution: Solution, role: str) -> dict[str, np.ndarray]:
    """The flat columns of one role (``role`` first), 1-D arrays of one value per type."""
    n = len(getattr(solution.economy, role))
    cols: dict[str, np.ndarray] = {"role": np.full(n, ROLE_NAMES[role])}
    S = solution.economy.S
    for f in fields(solution, role):
        for name, values in flat(f, S):
            cols[name] = (np.asarray(values, dtype=object) if f.axis == "text"
                          and isinstance(values, tuple) else np.asarray(values))
    return cols


def frame(solution: Solution):  # noqa: ANN201  (pandas.DataFrame; pandas imported lazily)
    """:meth:`Solution.to_frame`: one row per type, consumers first, then producers and
    storage operators."""
    from emgame._extras import require

    pd = require("pandas", "tables", "Solution.to_frame()")
    sol = solution
    if sol.outcome is None or sol.profile is None:
        raise ValueError(f"no per-type outcomes: the {sol.concept} solve left no candidate "
                         f"profile ({sol.status.value}: {sol.reason})")
    parts = [pd.DataFrame(role_columns(sol, r)) for r in ROLES if len(getattr(sol.economy, r))]
    df = pd.concat(parts, ignore_index=True, sort=False) if len(parts) > 1 else parts[0]
    df.attrs["emgame"] = solution_dict(sol, types=False)
    return df
