"""Damped best responses in strategies: a way into Newton's basin where the totals fail.

Newton on the aggregate system (:mod:`emgame.solvers.nash`) needs every type's *replacement*
response to the post totals, and an increasing-returns producer that is a large share of a
post (say the only buyer and seller of its own electricity) has none over much of the space
of totals. A best response to the *others'* strategies always exists. So where Newton fails
from every start, every type's best response to a type-symmetric profile ``s_k`` (one agent
deviating alone against the others' totals: the certificate's Lagrangian maximiser,
:func:`emgame.agents.verdict.deviations`, exact in concave cases) moves the profile part of
the way, ``s_{k+1} = s_k + α_i (BR_i(s_k) - s_k)`` with ``α_i = min(1/2, 2/(n_i + 1))`` for a
type of ``n_i`` agents (they all move at once), until prices settle; Newton then starts from
the totals reached (docs/model.md, Solution concepts).

Simultaneous settlement only: under prepaid settlement a best response depends on the wallet
multiplier, which a profile away from equilibrium does not define.

The same best responses drive :mod:`emgame.learning.dynamics`.
"""

from __future__ import annotations

import numpy as np

from emgame._numerics import clock
from emgame.agents.verdict import deviations
from emgame.market.game import Profile, evaluate
from emgame.model.economy import Economy


def normalise(economy: Economy, profile: Profile) -> Profile:
    """``profile`` rescaled to ``p^0 = 1`` (``B^0 = Ω``); bids are homogeneous of degree one."""
    B0 = economy.consumers.count @ profile.consumer_bids[:, 0] + \
        economy.producers.count @ profile.producer_bids[:, 0]
    if B0 <= 0:
        return profile
    return profile.scaled(economy.goods_supply / B0)


def fit_budgets(economy: Economy, profile: Profile, passes: int = 100,
                rtol: float = 1e-10) -> Profile:
    """Make a profile feasible at its own prices (simultaneous settlement): scale down the bids
    of every type that spends more than its budget, and the offers of every producer whose
    goods bid no longer buys its inputs (``x^0 < 0``), renormalising to ``p^0 = 1``, until
    neither happens (to ``rtol``, below the certificate's 1e-9).

    Bytecoins are conserved (every bid is some seller's revenue), so overspenders are matched by
    underspenders; a convex mix of best responses made against different totals can leave some
    agents over budget or short of inputs, which no strategy profile may (docs/model.md, Prices
    and allocations to Budgets). The passes converge geometrically, slowly where an agent's
    own goods bid is much of ``B^0``, so that the renormalisation undoes much of each scaling
    (classic_peak_load with bids scaled by up to 5 at random: overspending 2e-8 of revenue
    after 100 passes, 1e-11 after 300); it stops after ``passes`` whatever is left.
    """
    pr = economy.producers
    p = profile
    for _ in range(passes):
        out = evaluate(economy, p)
        cb, pb = p.consumer_bids.copy(), p.producer_bids.copy()
        offers = p.offers.copy()
        changed = False
        for play, bids in ((out.consumers, cb), (out.producers, pb)):
            over = play.slack < -rtol * np.maximum(play.revenue, 1e-300)
            if np.any(over):
                f = np.where(over, play.revenue / np.maximum(play.spending, 1e-300), 1.0)
                # Slightly under the budget: the next pass's prices move with the scaling.
                bids *= (np.minimum(f, 1.0) * np.where(over, 1 - 2 * rtol, 1.0))[:, None]
                changed = True
        play = out.producers
        inputs = play.inputs.sum(axis=1)
        short = play.goods < -rtol * np.maximum(play.goods_received, 1e-300)
        if np.any(short):
            # φ(f q) = f^{1/c} φ(q): the offers whose inputs the goods received still buy.
            ratio = np.where(short, np.maximum(play.goods_received, 0.0)
                             / np.maximum(inputs, 1e-300), 1.0)
            f = np.where(short, ratio ** pr.returns * (1 - 2 * rtol), 1.0)
            offers *= f[:, None]
            changed = True
        if not changed:
            return p
        p = normalise(economy, Profile(cb, pb, offers, p.capacity))
    return p


def best_response(economy: Economy, profile: Profile, *, settle: bool = True
                  ) -> tuple[Profile, float, np.ndarray]:
    """Every type's best response to ``profile`` as a profile; ``(profile, max regret,
    [regret per type, objective per type])``; without ``settle`` the regret is the dual's
    bound as it is (:func:`emgame.agents.verdict.deviations`), quicker and looser.

    Best responses come as quantities (electricity and goods received, offers); a bid is the
    payment that buys them against the others' bids, ``b^t = x^t B_-^t / (Q^t - x^t)`` with
    ``Q^t`` the post's supply after the deviation."""
    c, pr = economy.consumers, economy.producers
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        cons, prod = deviations(economy, profile, settle=settle)
    T = economy.periods
    B = c.count @ profile.consumer_bids + pr.count @ profile.producer_bids
    Q = np.concatenate([[economy.goods_supply], pr.count @ profile.offers])

    def bids(x: np.ndarray, paid: np.ndarray, own_bids: np.ndarray, supply: np.ndarray
             ) -> np.ndarray:
        Bm = np.maximum(B[None, :] - own_bids, 0.0)
        room = supply - x
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(paid & (x > 0) & (room > 0), x * Bm / np.where(room > 0, room, 1.0),
                         0.0)
        return np.nan_to_num(b, nan=0.0, posinf=0.0)

    dc = cons.deviation
    supply_c = np.broadcast_to(Q, (len(c), T + 1)).copy()
    new_cb = bids(dc.received, dc.paid, profile.consumer_bids, supply_c)
    dp = prod.deviation
    offers = np.clip(dp.offers[:, 1:], 0.0, None)
    if not economy.market.long_run:
        offers = np.minimum(offers, pr.capacity[:, None])
    supply_p = np.empty((len(pr), T + 1))
    supply_p[:, 0] = economy.goods_supply
    supply_p[:, 1:] = Q[None, 1:] - profile.offers + offers
    new_pb = bids(dp.received, dp.paid, profile.producer_bids, supply_p)
    cap = profile.capacity if not economy.market.long_run else dp.capacity
    new = Profile(new_cb, new_pb, offers, cap)
    regret = np.concatenate([cons.regret, prod.regret])
    U = np.concatenate([cons.objective, prod.objective])
    return new, float(np.max(regret)) if regret.size else 0.0, np.stack([regret, U])


def mix(a: Profile, b: Profile, w: float | np.ndarray, w_p: float | np.ndarray | None = None
        ) -> Profile:
    """``(1 - w) a + w b``, with weight ``w`` for consumer types and ``w_p`` (default ``w``)
    for producer types (scalars or one per type)."""
    wc = np.reshape(w, (-1, 1)) if np.ndim(w) else w
    wp = wc if w_p is None else (np.reshape(w_p, (-1, 1)) if np.ndim(w_p) else w_p)
    wk = np.ravel(wp) if np.ndim(wp) else wp
    return Profile((1 - wc) * a.consumer_bids + wc * b.consumer_bids,
                   (1 - wp) * a.producer_bids + wp * b.producer_bids,
                   (1 - wp) * a.offers + wp * b.offers,
                   (1 - wk) * a.capacity + wk * b.capacity)


def uniform_start(economy: Economy) -> Profile:
    """Each type's bids spread evenly over the posts it values (and, for a producer, the goods
    post, where it buys its inputs), producers offering half their capacity (in the long run,
    of the capacity their share of the goods makes) on every valued period."""
    c, pr = economy.consumers, economy.producers
    valued = np.concatenate([[True], np.asarray(economy.valued_periods, dtype=bool)])

    def spread(weights: np.ndarray, goods: np.ndarray) -> np.ndarray:
        wants = np.concatenate([goods[:, None], weights > 0], axis=1) & valued[None, :]
        return wants / np.maximum(wants.sum(axis=1, keepdims=True), 1)

    cb = c.endowment[:, None] * spread(c.weights, c.classic & (c.goods_weight > 0))
    each = float(np.mean(c.endowment)) if len(c) else economy.goods_supply / max(pr.agents, 1.0)
    pb = each * spread(pr.weights, np.ones(len(pr), dtype=bool))
    if economy.market.long_run:
        per_agent = economy.goods_supply / max(int(valued.sum()) - 1, 1) / max(pr.agents, 1.0)
        cap = pr.productivity * per_agent ** pr.returns
    else:
        cap = pr.capacity.copy()
    offers = 0.5 * cap[:, None] * valued[None, 1:]
    return Profile(cb, pb, offers, cap)


def approach(economy: Economy, deadline: float, start: Profile | None = None, *,
             settle: float = 1e-3, max_iter: int = 200,
             log: list[str] | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Damped best responses from ``start`` (default :func:`uniform_start`) until the
    relative prices move by less than ``settle`` in a step; the totals ``(p, Q)`` reached
    (``p^0 = 1``, ``Q^0 = Ω``), or ``None`` at ``deadline`` (on :func:`emgame._numerics.clock`)
    or when a valued post stops trading. What happened is appended to ``log``."""
    log = [] if log is None else log
    valued = np.concatenate([[True], np.asarray(economy.valued_periods, dtype=bool)])
    prof = fit_budgets(economy, normalise(economy, start if start is not None
                                          else uniform_start(economy)))
    alpha_c = np.minimum(0.5, 2.0 / (economy.consumers.count + 1.0))
    alpha_p = np.minimum(0.5, 2.0 / (economy.producers.count + 1.0))
    last = None
    for k in range(max_iter):
        if clock() > deadline:
            log.append(f"best-response dynamics: time budget reached after {k} steps")
            return None
        br, _, _ = best_response(economy, prof, settle=False)
        # (100 passes of the budget fit: the steps need feasibility, not its last digits.)
        prof = fit_budgets(economy, normalise(economy, mix(prof, br, alpha_c, alpha_p)))
        out = evaluate(economy, prof)
        if not np.all(out.active[valued]):
            log.append(f"best-response dynamics: a valued post stopped trading after {k + 1} "
                       "steps")
            return None
        rel = np.asarray(out.relative_prices, dtype=float)
        step = np.inf if last is None else float(np.max(np.abs(np.log(rel / last))))
        last = rel
        if step < settle:
            p = out.prices / out.prices[0]
            Q = out.offers_total.copy()
            Q[0] = economy.goods_supply
            log.append(f"best-response dynamics: prices settled to {step:.1e} after {k + 1} "
                       "steps")
            return p, Q
    log.append(f"best-response dynamics: prices still moving after {max_iter} steps")
    return None
