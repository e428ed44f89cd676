"""Flat summaries of a solution: the numbers a sweep stores per point and per agent type.

:func:`summarise` reads a :class:`~emgame.results.Solution` and returns plain Python values
(floats, ints, lists; ``None`` for what does not exist: a failed solve, a post that does not
trade, utility ``-inf``). These are the columns of the results store (``docs/store.md``); the
definitions are here, once.

Quantities that depend on the state of nature (verification energy, consumption) are expected
values over states, ``Σ_s π_s (·)``; the stored solution JSON keeps them state by state.

Point-level quantities (all agents, every agent counted):

``relative_prices``
    ``p^t / p^0``, ``t = 1..T``; their mean, min and max over periods that trade.
``production``, ``verification``, ``consumption``
    Electricity produced, burnt by verification and consumed, per period, summed over agents;
    ``*_total`` over periods; ``verification_share = verification_total / production_total``.
``capacity_total``
    ``Σ_j n_j K_j``.
``participation``
    The share of (agent, electricity post) pairs with a positive bid, over all agents: 1 when
    everybody pays on every post, lower when verification costs keep agents out of posts.
``active_posts``
    Electricity posts that trade.
``mean_markup``, ``mean_lerner``
    Producer markups ``(p^t/p^0)/MC`` and Lerner indices averaged over producers (weighted by
    count) and periods where they are finite.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from emgame._columns import reported_prices
from emgame.results import Solution


def _num(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _list(a: np.ndarray) -> list[float | None]:
    return [_num(v) for v in np.asarray(a, dtype=float).ravel()]


def _mean(a: np.ndarray, weights: np.ndarray | None = None) -> float | None:
    a = np.asarray(a, dtype=float)
    w = np.ones_like(a) if weights is None else np.broadcast_to(weights, a.shape).astype(float)
    ok = np.isfinite(a) & (w > 0)
    if not ok.any():
        return None
    return _num(np.sum(a[ok] * w[ok]) / np.sum(w[ok]))


def _finite_stat(a: np.ndarray, fn: Any) -> float | None:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return _num(fn(a)) if a.size else None


POINT_FIELDS: tuple[str, ...] = (
    "periods", "period_labels", "price_goods", "prices", "relative_prices",
    "mean_relative_price", "min_relative_price", "max_relative_price", "production",
    "production_total", "verification",
    "verification_total", "verification_share", "consumption", "consumption_total",
    "capacity_total", "participation", "active_posts", "mean_markup", "mean_lerner",
    "max_regret", "max_relative_regret", "certified",
)
"""The point-level keys :func:`summarise` returns (all ``None`` without an outcome)."""


def summarise(solution: Solution) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The point-level summary and one row per agent type of ``solution``.

    Parameters
    ----------
    solution : Solution
        Any solution; one without an outcome (a failed solve with no candidate) gives ``None``
        for every outcome field and no type rows.

    Returns
    -------
    (dict, list of dict)
        The point summary (keys :data:`POINT_FIELDS`) and the type rows (see ``docs/store.md``).
    """
    point: dict[str, Any] = dict.fromkeys(POINT_FIELDS)
    point["periods"] = int(solution.economy.periods)
    point["period_labels"] = list(solution.economy.labels)
    cert = solution.certificate
    if cert is not None:
        point["max_regret"] = _num(cert.max_regret)
        point["max_relative_regret"] = _num(cert.max_relative_regret)
        point["certified"] = bool(cert.passed)
    out, prof = solution.outcome, solution.profile
    if out is None or prof is None:
        return point, []
    econ = solution.economy
    pi = econ.probabilities
    cons, prod = econ.consumers, econ.producers
    nc, npr = np.asarray(cons.count, float), np.asarray(prod.count, float)

    def expected(per_state: np.ndarray) -> np.ndarray:  # (n, S, T) -> (n, T)
        return np.tensordot(per_state, pi, axes=([1], [0]))

    ver_c, ver_p = expected(out.consumers.verification), expected(out.producers.verification)
    con_c, con_p = expected(out.consumers.consumption), expected(out.producers.consumption)
    production = npr @ prof.offers
    burnt = nc @ ver_c + npr @ ver_p
    consumed = nc @ con_c + npr @ con_p
    stor = econ.storage
    ns = np.asarray(stor.count, float)
    ver_s = con_s = np.zeros((0, econ.periods))
    if len(stor) and out.storage is not None:  # docs/model.md, "Storage"
        ver_s, con_s = expected(out.storage.verification), expected(out.storage.consumption)
        burnt = burnt + ns @ ver_s
        consumed = consumed + ns @ con_s
    rel = np.asarray(out.relative_prices, dtype=float)
    prices = reported_prices(solution)  # p^0 exactly 1 when normalised
    point.update(
        price_goods=_num(prices[0]),
        prices=_list(prices[1:]),
        relative_prices=_list(rel),
        mean_relative_price=_finite_stat(rel, np.mean),
        min_relative_price=_finite_stat(rel, np.min),
        max_relative_price=_finite_stat(rel, np.max),
        production=_list(production),
        production_total=_num(production.sum()),
        verification=_list(burnt),
        verification_total=_num(burnt.sum()),
        verification_share=_num(burnt.sum() / production.sum()) if production.sum() > 0
        else None,
        consumption=_list(consumed),
        consumption_total=_num(consumed.sum()),
        capacity_total=_num(npr @ np.asarray(prof.capacity, float)),
        active_posts=int(np.count_nonzero(np.asarray(out.active)[1:])),
    )
    bids_c = np.asarray(prof.consumer_bids, float)[:, 1:] > 0
    bids_p = np.asarray(prof.producer_bids, float)[:, 1:] > 0
    agents = nc.sum() + npr.sum()
    T = econ.periods
    if agents > 0 and T > 0:
        point["participation"] = _num((nc @ bids_c.sum(axis=1) + npr @ bids_p.sum(axis=1))
                                      / (agents * T))
    markups, lerner = solution.markups(), solution.lerner()
    if len(prod):
        point["mean_markup"] = _mean(markups, npr[:, None])
        point["mean_lerner"] = _mean(lerner, npr[:, None])

    rows: list[dict[str, Any]] = []
    mult = solution.multipliers
    caps = prod.period_capacity(np.asarray(prof.capacity, float))
    roles = [("consumer", cons, out.consumers, prof.consumer_bids, ver_c, con_c),
             ("producer", prod, out.producers, prof.producer_bids, ver_p, con_p)]
    if len(stor) and out.storage is not None:
        roles.append(("storage", stor, out.storage, prof.storage_bids, ver_s, con_s))
    for role, pop, play, bids, ver, con in roles:
        checked = cert is not None and hasattr(type(cert), f"{role}_passed")
        regrets = getattr(cert, f"{role}_regret") if checked else None
        passes = getattr(cert, f"{role}_passed") if checked else None  # once per role
        lam = None if mult is None else getattr(mult, f"{role}_budget", None)
        for i in range(len(pop)):
            b = np.asarray(bids[i], float)
            row: dict[str, Any] = {
                "role": role, "type_index": i, "name": pop.names[i], "kind": pop.kind(i),
                "count": int(pop.count[i]),
                "utility": _num(play.utility[i]),
                "regret": None, "certified": None,
                "goods": _num(play.goods[i]), "revenue": _num(play.revenue[i]),
                "spending": _num(play.spending[i]),
                "budget_multiplier": None,
                "bids": _list(b),
                "electricity": _list(play.electricity[i]),
                "consumption": _list(con[i]),
                "verification": _list(ver[i]),
                "electricity_total": _num(np.sum(play.electricity[i])),
                "consumption_total": _num(np.sum(con[i])),
                "verification_total": _num(np.sum(ver[i])),
                "posts_paid": int(np.count_nonzero(b[1:] > 0)),
                "participation": _num(np.count_nonzero(b[1:] > 0) / T) if T else None,
                "offers": None, "inputs": None, "capacity": None, "capacity_withheld": None,
                "markups": None, "lerner": None, "mean_markup": None, "production_total": None,
            }
            if regrets is not None and passes is not None:
                row["regret"], row["certified"] = _num(regrets[i]), bool(passes[i])
            if lam is not None:
                row["budget_multiplier"] = _num(lam[i])
            if role == "storage":
                q = np.asarray(prof.storage_offers[i], float)
                row.update(offers=_list(q), production_total=_num(q.sum()))
            if role == "producer":
                q = np.asarray(prof.offers[i], float)
                row.update(
                    offers=_list(q), inputs=_list(play.inputs[i]),
                    capacity=_num(prof.capacity[i]),
                    capacity_withheld=_list(caps[i] - q),
                    markups=_list(markups[i]), lerner=_list(lerner[i]),
                    mean_markup=_mean(markups[i]), production_total=_num(q.sum()),
                )
            rows.append(row)
    return point, rows
