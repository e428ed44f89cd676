"""The market environment: learning producers choose how much capacity to offer, learning
consumers on which posts to pay, or (``learning.share_post``) which share of their income to bid
on one post, the rest of their income going where their best response puts it (the learner is
split into a share agent and the rest: :func:`_share_split`, docs/learning.md).

Each agent of a learning type is one learner (the type is split into types of count one,
``name#1..name#n``). A learning producer's action is its **capacity cap** ``K_i``: in the round
it may offer at most ``K_i`` electricity in every period (its real capacity ``K̄`` stays the
upper limit). A learning consumer's action is its **participation pattern**, the set of posts it
may pay on; its bids are its best response given that choice (the round is solved with its
utility weights outside the pattern set to zero; its payoff is its true utility). Given the
learners' actions, the round is played by everybody's best choices (docs/model.md, Prices and
allocations to The crypto layer):
with ``others = "equilibrium"`` the round's outcome is the certified Nash equilibrium of the
economy so restricted (consumers, the other producers, and the learners themselves in their
bids and offers below the cap all best-respond to one another); with ``others =
"price-taking"`` it is the competitive benchmark of that economy; with ``others = "nash"``
every non-learner keeps its certified Nash profile and only the learners best-respond (to the
certificate's tolerance). A cap at or above what a learner would offer anyway does not bind:
the top of the grid is the plain Nash (or competitive) round.

Every entry of the table is solved by :func:`emgame.solve`, certified, and its ledger audited
(:mod:`emgame.learning.ledger`); learners of one type are exchangeable, so only one joint
action per multiset of their caps is solved and the rest are permutations.

Benchmarks: **Nash** and **competitive** are emgame's for the economy (learners split, no
caps). **Collusive**: the learners of each learning type share one cap, chosen to maximise the
sum of all learners' expected utilities, everyone else (and the learners in their other
choices) playing the round as above (docs/learning.md gives the definition and its reasons).

Grid (Calvano's, in caps): from the collusive cap ``K_M`` to the cap at which the uncapped round
is reached, ``K_hi = max_t q_N^t`` (the learner's Nash peak offer; the competitive one for
price-taking rounds), widened by ``ξ (K_hi - K_M)`` on both
sides and clipped to ``(0, K̄]``. When withholding does not pay (``K_M ≥ K_N``: the collusive
benchmark is the Nash one), the lower end is ``(1 - depth) K_N`` instead and Δ is undefined.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from emgame.learning import _emgame as E
from emgame.learning.config import LearningConfig, LearningSpec
from emgame.learning.ledger import audit
from emgame.learning.table import Benchmark, StageGame

logger = logging.getLogger(__name__)


class LearningError(RuntimeError):
    """The learning environment cannot be built (the message says why)."""


def split_learners(economy: dict[str, Any], learners: tuple[str, ...],
                   source: str) -> tuple[dict[str, Any], list[str], list[int]]:
    """The economy dict with every agent of a learning type as its own type of count one.

    Returns ``(dict, learner names, group of each learner)``; a group is a learning type.
    Learners are listed producers first, then consumers, each in the economy's order.
    """
    d = copy.deepcopy(economy)
    producers = d.get("producers", [])
    consumers = d.get("consumers", [])
    pnames = [p.get("name") for p in producers]
    cnames = [c.get("name") for c in consumers]
    for name in learners:
        if name not in pnames and name not in cnames:
            raise LearningError(f"{source}: learning.learners: no producer or consumer type "
                                f"named {name!r}; producers: {pnames}, consumers: {cnames}")
    if len(set(learners)) != len(learners):
        raise LearningError(f"{source}: learning.learners: a type is named twice")
    lnames: list[str] = []
    groups: list[int] = []
    for role in ("producers", "consumers"):
        out: list[dict[str, Any]] = []
        for p in d.get(role, []):
            if p.get("name") not in learners:
                out.append(p)
                continue
            g = learners.index(p["name"])
            n = int(p.get("count", 1))
            if role == "producers" and p.get("capacity") is None:
                raise LearningError(f"{source}: learning.learners: {p['name']!r} has no "
                                    "capacity (long run): learners choose a short-run capacity "
                                    "cap")
            for k in range(n):
                q = copy.deepcopy(p)
                q["name"] = f"{p['name']}#{k + 1}" if n > 1 else p["name"]
                q["count"] = 1
                out.append(q)
                lnames.append(q["name"])
                groups.append(g)
        if role in d:
            d[role] = out
    return d, lnames, groups


# -- consumers' actions: the posts they may pay on ---------------------------------------------

def _essential(family: str, gamma: float | None, goods: bool) -> bool:
    """Whether a post this family values cannot be left: utility -inf without it."""
    if family == "cobb_douglas":
        return True
    if family == "crra":
        return gamma is not None and gamma >= 1.0
    if family == "quasilinear":
        return not goods                  # Σ a_t log E^t + a_0 x^0
    return False                          # CES: (Σ a_t E^r)^(1/r) stays finite at E^t = 0


def consumer_patterns(economy: dict[str, Any], type_name: str, labels: tuple[str, ...],
                      given: tuple[tuple[str, ...], ...] | None,
                      source: str) -> list[tuple[int, ...]]:
    """The candidate participation sets of a learning consumer type, as post indices (0 =
    goods, ``t`` = period ``t``): ``given`` (labels), or by default every non-empty set of the
    posts it values that leaves its utility finite (largest sets first)."""
    t = next(c for c in economy["consumers"] if c.get("name") == type_name)
    u = t.get("utility", {})
    family = u.get("family", "cobb_douglas")
    gamma = u.get("gamma")
    weights = list(u.get("weights", []))
    classic = t.get("kind", "ai") == "classic"
    T = len(labels)
    valued = [k + 1 for k in range(T) if k < len(weights) and weights[k] > 0]
    if classic and (u.get("goods_weight") or 0) > 0:
        valued = [0, *valued]
    must = {k for k in valued if _essential(family, gamma, k == 0)}
    if family == "quasilinear":
        must.add(0)                       # its goods weight must stay positive
    post_names = ("goods", *labels)
    if given is None:
        free = [k for k in valued if k not in must]
        if len(free) > 6:
            raise LearningError(f"{source}: learning.patterns: consumer type {type_name!r} "
                                f"values {len(free)} posts it could leave: "
                                f"{2 ** len(free)} participation sets; list the candidates")
        out = []
        for mask in range(2 ** len(free)):
            chosen = sorted(must | {free[b] for b in range(len(free)) if mask >> b & 1})
            if chosen:
                out.append(tuple(chosen))
        out.sort(key=lambda p: (-len(p), p))
        return out
    out = []
    for k, pat in enumerate(given):
        idx = []
        for lab in pat:
            if lab not in post_names:
                raise LearningError(f"{source}: learning.patterns[{k}]: no post named {lab!r}; "
                                    f"posts: {list(post_names)}")
            idx.append(post_names.index(lab))
        missing = [post_names[j] for j in sorted(must) if j not in idx]
        if missing:
            raise LearningError(f"{source}: learning.patterns[{k}]: consumer type "
                                f"{type_name!r} must pay on {missing} ({family} utility is "
                                "-inf without them, or its goods weight must stay positive)")
        if not set(idx) & set(valued):
            raise LearningError(f"{source}: learning.patterns[{k}]: consumer type "
                                f"{type_name!r} values none of the posts {list(pat)}")
        p = tuple(sorted(set(idx)))
        if p in out:
            raise LearningError(f"{source}: learning.patterns[{k}]: the same set of posts "
                                "is given twice")
        out.append(p)
    return out


def _restrict(t: dict[str, Any], pattern: tuple[int, ...]) -> None:
    """Zero a consumer type's weights on the posts outside ``pattern`` (in place): its best
    response then never pays there, and for the families whose utility is finite without a post
    it is its best response among strategies that leave those posts (docs/learning.md)."""
    u = t.setdefault("utility", {})
    u["weights"] = [w if (k + 1) in pattern else 0.0 for k, w in enumerate(u.get("weights", []))]
    if "goods_weight" in u and 0 not in pattern:
        u["goods_weight"] = 0.0


def share_agent_name(name: str, label: str) -> str:
    """The name of the agent that carries a share-learning consumer's bid on its share post."""
    return f"{name}@{label}"


def _share_split(c: dict[str, Any], post: int, label: str, share: float) -> dict[str, Any]:
    """Split a learning consumer that bids ``share`` of its income on period ``post`` into two
    agents (``c`` changed in place, the new one returned): ``c`` with endowment ``(1 − s) ω``
    and no weight on the post, and an AI agent with endowment ``s ω`` that values only the post,
    so it bids its whole income there. For utility that is a monotone transform of a sum over
    posts (with one state for CES), ``c``'s best response is then the consumer's best response
    given that it bids ``s`` of its income on the post (docs/learning.md)."""
    omega = float(c["endowment"])
    c["endowment"] = (1.0 - share) * omega
    u = c.setdefault("utility", {})
    u["weights"] = [0.0 if k + 1 == post else w for k, w in enumerate(u.get("weights", []))]
    T = len(u["weights"])
    agent = {"name": share_agent_name(c["name"], label), "count": 1, "kind": "ai",
             "endowment": share * omega,
             "utility": {"family": "cobb_douglas",
                         "weights": [1.0 if k + 1 == post else 0.0 for k in range(T)]}}
    if "wallet" in c:
        agent["wallet"] = c["wallet"]
    return agent


def _realise(d: dict[str, Any], lnames: list[str], roles: list[str],
             acts: tuple[Any, ...], share_post: tuple[int, str] | None = None
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(economy solved, economy true)`` for the learners' actions ``acts``: a cap per
    producer learner; ``(pattern, share)`` per consumer learner (``pattern`` None: every post
    it values; ``share`` None: its best response, else the share of its income it bids on the
    post ``share_post = (period, label)``, carried by an extra agent appended to the solved
    economy's consumers)."""
    true = copy.deepcopy(d)
    for p in true.get("producers", []):
        if p["name"] in lnames:
            p["capacity"] = float(acts[lnames.index(p["name"])])
    solved = copy.deepcopy(true)
    extra = []
    for c in solved.get("consumers", []):
        if c["name"] in lnames:
            pattern, share = acts[lnames.index(c["name"])]
            if pattern is not None:
                _restrict(c, pattern)
            if share is not None:
                assert share_post is not None
                extra.append(_share_split(c, share_post[0], share_post[1], float(share)))
    if extra:
        solved["consumers"] = solved["consumers"] + extra
    return solved, true


def _merge_shares(solved: Any, true: Any, profile: Any, label: str) -> Any:
    """The true economy's profile from a profile of the solved economy: each share-learning
    consumer's bids are its own plus its share agent's (the extra agents come last)."""
    nc = len(true.consumers)
    cb = np.array(profile.consumer_bids[:nc], dtype=float)
    for i, name in enumerate(true.consumers.names):
        extra = share_agent_name(name, label)
        if extra in solved.consumers.names:
            cb[i] += profile.consumer_bids[solved.consumers.names.index(extra)]
    return E.Profile(cb, profile.producer_bids, profile.offers, profile.capacity)


@dataclass(frozen=True, eq=False)
class RoundResult:
    """One round: its certified profile and outcome (in the true economy), or why it failed."""

    ok: bool
    status: str
    reason: str
    economy: Any = None            # the true economy of the round (learners' caps)
    profile: Any = None
    outcome: Any = None
    multipliers: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    max_regret: float = float("nan")


class _Round:
    """Plays the round for given learner actions, warm-starting from the last solution.

    ``concept`` ``"nash"`` / ``"competitive"``: emgame's certified Nash equilibrium /
    competitive benchmark of the round's economy. ``"fixed"``: every non-learner keeps its
    certified Nash profile ``fixed`` and the learners best-respond among themselves.
    """

    def __init__(self, d: dict[str, Any], lnames: list[str], roles: list[str], concept: str,
                 source: str, fixed: Any = None,
                 share_post: tuple[int, str] | None = None) -> None:
        self.d = d
        self.share_post = share_post
        self.lnames = lnames
        self.roles = roles
        self.concept = concept
        self.source = source
        self.fixed = fixed
        self.last: Any = None
        self.last_share: Any = None
        self.solves = 0
        self.cache: dict[tuple[Any, ...], RoundResult] = {}

    def __call__(self, acts: tuple[Any, ...]) -> RoundResult:
        key = tuple(acts)
        if key in self.cache:
            return self.cache[key]
        solved_d, true_d = _realise(self.d, self.lnames, self.roles, acts, self.share_post)
        econ = E.economy_from_dict(solved_d, self.source)
        true = E.economy_from_dict(true_d, self.source)
        self.solves += 1
        shares = len(econ.consumers) > len(true.consumers)
        if self.concept == "fixed":
            res = _fixed_round(econ, true, self.fixed, self.lnames, self.roles, acts)
        else:
            # Warm starts come from the last round of the same shape (with share agents or
            # without: a solution with other types would not fit).
            warm = self.last_share if shares else self.last
            sol = E.solve(econ, self.concept, start=warm) if warm is not None else None
            if sol is None or not sol.ok:
                sol = E.solve(econ, self.concept)
            if not sol.ok:
                res = RoundResult(False, sol.status.value, str(sol.reason))
            else:
                nc = len(true.consumers)
                if shares:
                    self.last_share = sol
                    assert self.share_post is not None
                    prof = _merge_shares(econ, true, sol.profile, self.share_post[1])
                    outcome = E.evaluate(true, prof)
                else:
                    # The solver's outcome (price takers' allocations in a competitive round);
                    # a learning consumer gets nothing outside its pattern, where its true
                    # utility terms vanish too, so the utility reported is its true one
                    # (_learner_payoffs checks it state by state against the true economy's).
                    self.last = sol
                    prof, outcome = sol.profile, sol.outcome
                mu = sol.multipliers
                res = RoundResult(True, "ok", "", true, prof, outcome,
                                  (np.asarray(mu.consumer_budget)[:nc],
                                   np.asarray(mu.producer_budget),
                                   np.asarray(mu.producer_goods)),
                                  float(sol.certificate.max_regret))
        self.cache[key] = res
        return res


def _fixed_round(econ: Any, true: Any, nash: Any, lnames: list[str], roles: list[str],
                 acts: tuple[Any, ...], max_iter: int = 100) -> RoundResult:
    """The round with every non-learner fixed at its certified Nash profile: the learners'
    bids and offers are their best responses (emgame's deviation maximiser, as in the
    best-response dynamics) to everybody else, iterated among the learners (Jacobi, damped
    after 30 steps) until every learner passes emgame's certificate in the round's economy;
    the non-learners are not asked to (they do not optimise). No type may spend more than its
    budget at the round's prices: a non-learner whose Nash bids would is scaled back to its
    budget (``fit_budgets``, which also rescales all bids to ``p^0 = 1``)."""
    from emgame.learning.dynamics import best_response, fit_budgets

    cnames, pnames = econ.consumers.names, econ.producers.names
    crow = [cnames.index(n) for k, n in enumerate(lnames) if roles[k] == "consumer"]
    prow = [pnames.index(n) for k, n in enumerate(lnames) if roles[k] == "producer"]
    n0 = nash.profile
    cb, pb, offers = n0.consumer_bids.copy(), n0.producer_bids.copy(), n0.offers.copy()
    cap = np.asarray(n0.capacity, dtype=float).copy()
    cap[prow] = econ.producers.capacity[prow]
    offers[prow] = np.minimum(offers[prow], cap[prow, None])
    for r in crow:
        keep = np.concatenate([[0.0], econ.consumers.weights[r]]) > 0
        if econ.consumers.classic[r] and econ.consumers.goods_weight[r] > 0:
            keep[0] = True
        cb[r] = np.where(keep, cb[r], 0.0)
    p = fit_budgets(econ, E.Profile(cb, pb, offers, cap))
    need = crow + [len(cnames) + r for r in prow]
    settled = False
    for it in range(max_iter):
        br, _, (regret, U) = best_response(econ, p)
        # The certificate's rule, learner by learner: regret <= max(atol, rtol |U|).
        tol = np.maximum(1e-8, 1e-8 * np.abs(np.where(np.isfinite(U), U, 0.0)))
        if np.all(np.isfinite(regret[need]) & (regret[need] <= tol[need])):
            settled = True
            break
        w = 1.0 if it < 30 else 0.5
        cb, pb, offers = p.consumer_bids.copy(), p.producer_bids.copy(), p.offers.copy()
        cb[crow] = (1 - w) * cb[crow] + w * br.consumer_bids[crow]
        pb[prow] = (1 - w) * pb[prow] + w * br.producer_bids[prow]
        offers[prow] = (1 - w) * offers[prow] + w * br.offers[prow]
        p = fit_budgets(econ, E.Profile(cb, pb, offers, p.capacity))
    if not settled:
        return RoundResult(False, "no-equilibrium-found",
                           f"the learners' best responses did not settle in {max_iter} "
                           "iterations")
    lam = (np.asarray(nash.multipliers.consumer_budget),
           np.asarray(nash.multipliers.producer_budget),
           np.asarray(nash.multipliers.producer_goods))
    cert = E.certify(econ, p, multipliers=lam)
    ok_c = np.asarray(cert.consumer_passed)
    ok_p = np.asarray(cert.producer_passed)
    regret_l = [float(cert.producer_regret[r]) for r in prow] + \
        [float(cert.consumer_regret[r]) for r in crow]
    bad = [pnames[r] for r in prow if not ok_p[r]] + [cnames[r] for r in crow if not ok_c[r]]
    if bad:
        return RoundResult(False, "no-equilibrium-found",
                           f"learners {bad} fail the certificate at the settled best responses "
                           f"(largest regret {max(regret_l):.3g})")
    return RoundResult(True, "ok", "", true, p, E.evaluate(true, p), lam,
                       max(regret_l, default=0.0))


def _rows(economy: Any, lnames: list[str], roles: list[str]) -> list[tuple[str, int]]:
    return [(r, (economy.producers if r == "producer" else economy.consumers).names.index(n))
            for n, r in zip(lnames, roles, strict=True)]


def _learner_payoffs(economy: Any, outcome: Any, rows: list[tuple[str, int]]) -> np.ndarray:
    """Learners' utility per state, ``(S, n)``; checked against emgame's expected utility."""
    out = np.empty((economy.S, len(rows)))
    ref = np.empty(len(rows))
    for role, pop, play in (("producer", economy.producers, outcome.producers),
                            ("consumer", economy.consumers, outcome.consumers)):
        ks = [k for k, (r, _) in enumerate(rows) if r == role]
        if not ks:
            continue
        u = E.state_utility(pop, play.consumption, play.goods)              # (types, S)
        for k in ks:
            out[:, k] = u[rows[k][1]]
            ref[k] = play.utility[rows[k][1]]
    expected = out.T @ economy.probabilities
    if not np.allclose(expected, ref, rtol=1e-9, atol=1e-12, equal_nan=True):
        raise LearningError(f"per-state utilities {expected} do not average to emgame's "
                            f"expected utility {ref}")
    return out


def _pattern(economy: Any, profile: Any) -> str:
    """Which posts each type pays on, as text ("every type pays on every post" when so)."""
    labels = ("goods",) + tuple(economy.labels)
    parts = []
    for pop, bids in ((economy.consumers, profile.consumer_bids),
                      (economy.producers, profile.producer_bids)):
        for i, name in enumerate(pop.names):
            skip = [labels[t] for t in range(bids.shape[1]) if not bids[i, t] > 0]
            if skip:
                parts.append(f"{name} skips {','.join(skip)}")
    return "; ".join(parts) if parts else "every type pays on every post"


def _describe(labels: tuple[str, ...], lnames: list[str], roles: list[str],
              acts: tuple[Any, ...], share_label: str | None = None) -> str:
    post = ("goods", *labels)
    parts = []
    for name, role, a in zip(lnames, roles, acts, strict=True):
        if role == "producer":
            parts.append(f"{name} cap {float(a):.6g}")
        elif a[1] is not None:
            parts.append(f"{name} bids {float(a[1]):.6g} of its income on {share_label}")
        else:
            pat = "all it values" if a[0] is None else "+".join(post[t] for t in a[0])
            parts.append(f"{name} may pay on {pat}")
    return ", ".join(parts)


def _share_post(spec: LearningSpec, split: Any, lnames: list[str], roles: list[str],
                groups: list[int], labels: tuple[str, ...]) -> tuple[int, str]:
    """``(period, label)`` of ``learning.share_post``, after checking that every learning
    consumer type can learn a share there (errors name the key)."""
    cfg, source = spec.config, spec.source
    label = cfg.share_post
    assert label is not None and spec.economy is not None
    key = f"{source}: learning.share_post"
    if label not in labels:
        raise LearningError(f"{key}: no period named {label!r}; periods: {list(labels)} (a "
                            "share is learned on an electricity post)")
    if "consumer" not in roles:
        raise LearningError(f"{key}: no learning consumer (learning.learners names producers "
                            "only)")
    if cfg.others == "nash":
        raise LearningError(f"{key}: a learned bid share needs others that best-respond "
                            "(learning.others = \"equilibrium\" or \"price-taking\"), not "
                            "others fixed at Nash")
    t = labels.index(label) + 1
    for g in sorted({groups[k] for k in range(len(lnames)) if roles[k] == "consumer"}):
        name = cfg.learners[g]
        c = next(c for c in spec.economy["consumers"] if c.get("name") == name)
        u = c.get("utility", {})
        w = list(u.get("weights", []))
        family = u.get("family", "cobb_douglas")
        if c.get("kind", "ai") != "ai":
            raise LearningError(f"{key}: consumer type {name!r} is classic: its goods bid moves "
                                "its own income, so a share of income is not a choice it can "
                                "hold; share learners must be AI consumers")
        if not (t - 1 < len(w) and w[t - 1] > 0):
            raise LearningError(f"{key}: consumer type {name!r} does not value {label!r}")
        if not any(x > 0 for k, x in enumerate(w) if k != t - 1):
            raise LearningError(f"{key}: consumer type {name!r} values only {label!r}: it bids "
                                "its whole income there, there is no share to learn")
        if family == "ces" and split.S > 1:
            raise LearningError(f"{key}: consumer type {name!r} has CES utility and the economy "
                                "has several states: its expected utility is not a sum over "
                                "posts, so its best response given the share is not that of "
                                "the rest of its income alone")
    return t, label


def market_game(spec: LearningSpec, *, progress: Callable[[int, int], None] | None = None
                ) -> StageGame:
    """Tabulate the market environment of ``spec`` (see the module notes)."""
    cfg: LearningConfig = spec.config
    assert spec.economy is not None
    source = spec.source
    base = E.economy_from_dict(spec.economy, source)
    if base.market.prepaid and not base.stationary_wallets:
        raise LearningError(f"{source}: wallet: exogenous wallets describe one round from given "
                            "holdings; in a repeated game each round's revenue becomes the next "
                            "wallet, which the tabulated game represents only with stationary "
                            "wallets (wallet = \"stationary\")")
    if cfg.others == "nash" and base.market.prepaid:
        raise LearningError(f"{source}: learning.others = \"nash\" needs simultaneous "
                            "settlement (market.settlement): under prepaid settlement a best "
                            "response depends on the wallet multiplier, which fixed others do "
                            "not define")
    d, lnames, groups = split_learners(spec.economy, cfg.learners, source)
    split = E.economy_from_dict(d, source)
    roles = ["producer" if nm in split.producers.names else "consumer" for nm in lnames]
    if "producer" in roles and base.market.long_run:
        raise LearningError(f"{source}: market.horizon: learning producers need a short-run "
                            "economy (learners choose a cap on a given capacity)")
    n = len(lnames)
    rows = _rows(split, lnames, roles)
    labels = tuple(split.labels)

    # The post whose income share learning consumers choose (learning.share_post), if any.
    share_post: tuple[int, str] | None = None
    if cfg.share_post is not None:
        share_post = _share_post(spec, split, lnames, roles, groups, labels)

    # Each learner's options: caps (producers, filled in below), shares (share-learning
    # consumers, filled in below) or patterns (other consumers).
    options: dict[int, list[tuple[tuple[int, ...], None]]] = {}
    sgroups: list[int] = []
    for k in range(n):
        if roles[k] != "consumer" or groups[k] in options or groups[k] in sgroups:
            continue
        if share_post is not None:
            sgroups.append(groups[k])
            continue
        pats = consumer_patterns(spec.economy, cfg.learners[groups[k]], labels, cfg.patterns,
                                 source)
        options[groups[k]] = [(pt, None) for pt in pats]
    sizes = {len(o) for o in options.values()}
    if "producer" in roles or sgroups:
        sizes.add(cfg.actions)
    if len(sizes) > 1:
        raise LearningError(
            f"{source}: learning.actions: every learner needs the same number of actions; "
            f"producers have learning.actions = {cfg.actions}, consumer types "
            f"{ {cfg.learners[g]: len(o) for g, o in options.items()} } (their patterns): "
            "set learning.actions or learning.patterns to match")
    m = sizes.pop()
    if m < 2:
        raise LearningError(f"{source}: learning.patterns: a learning consumer needs at least "
                            "two participation patterns to choose from; it has one (a "
                            "Cobb-Douglas consumer, for one, must pay on every post it values)")
    if m ** n > 2_000_000:
        raise LearningError(f"{source}: {n} learners with {m} actions each make {m ** n} joint "
                            "actions: too many to tabulate (fewer actions or learners)")
    prow_l = np.array([r for (role, r) in rows if role == "producer"], dtype=int)
    pk = [k for k in range(n) if roles[k] == "producer"]
    sk = [k for k in range(n) if groups[k] in sgroups]
    srow_l = np.array([rows[k][1] for k in sk], dtype=int)
    Kbar = np.full(n, np.nan)
    Kbar[pk] = split.producers.capacity[prow_l]

    nash = E.solve(split, "nash")
    if not nash.ok:
        raise LearningError(f"{source}: the economy (learners split) has no certified Nash "
                            f"equilibrium ({nash.status.value}: {nash.reason}); the learning "
                            "environment needs it as its benchmark")
    comp = E.solve(split, "competitive")
    concept = {"equilibrium": "nash", "price-taking": "competitive", "nash": "fixed"}[cfg.others]
    rnd = _Round(d, lnames, roles, concept, source, fixed=nash, share_post=share_post)
    rnd.last = nash if concept == "nash" else (comp if comp.ok else None)
    KN = np.full(n, np.nan)
    KC = np.full(n, np.nan)
    KN[pk] = nash.profile.offers[prow_l].max(axis=1)
    KC[pk] = comp.profile.offers[prow_l].max(axis=1) if comp.ok else KN[pk]
    # A share learner's Nash and competitive shares: its bid on the post over all its bids.
    if share_post is not None:
        def shares(bids: np.ndarray) -> np.ndarray:
            b = bids[srow_l]
            return b[:, share_post[0]] / b.sum(axis=1)
        KN[sk] = shares(nash.profile.consumer_bids)
        KC[sk] = shares(comp.profile.consumer_bids) if comp.ok else KN[sk]

    def round_acts(x: np.ndarray) -> tuple[Any, ...]:
        """Producers at caps ``x``, share learners at shares ``x`` (NaN: their best response),
        other consumer learners unrestricted (their best response)."""
        return tuple(float(x[k]) if roles[k] == "producer"
                     else (None, float(x[k]) if np.isfinite(x[k]) else None) for k in range(n))

    # Collusive benchmark: one cap per learning producer type and one share per share-learning
    # consumer type, maximising the cartel's total utility.
    pgroups = sorted({groups[k] for k in pk})
    cgroups = pgroups + sgroups
    gidx = {g: np.flatnonzero(np.array(groups) == g) for g in cgroups}

    def caps_of(per_group: dict[int, float]) -> np.ndarray:
        return np.array([per_group.get(groups[k], np.nan) if roles[k] == "producer" or
                         groups[k] in sgroups else np.nan for k in range(n)])

    def total(per_group: dict[int, float]) -> float:
        res = rnd(round_acts(np.fmin(caps_of(per_group), Kbar)))
        if not res.ok:
            return -np.inf
        return float(res.outcome.producers.utility[prow_l].sum()
                     + res.outcome.consumers.utility[srow_l].sum())

    no_cap = {g: float(Kbar[gidx[g][0]]) if g in pgroups else np.nan for g in cgroups}
    best = dict(no_cap)
    best_val = total(best) if cgroups else -np.inf
    floor = {g: 0.0 if g in pgroups else np.inf for g in cgroups}
    ceiling = {g: float(Kbar[gidx[g][0]]) if g in pgroups else -np.inf for g in cgroups}
    for _sweep in range(2 if len(cgroups) > 1 else 1):
        for g in cgroups:
            def value(x: float, g: int = g) -> float:
                trial = dict(best)
                trial[g] = x
                return total(trial)

            # A coarse scan first (the objective is flat wherever a cap does not bind, which
            # would strand a golden-section search), then a bounded refinement around the best.
            if g in pgroups:
                hi_search = min(Kbar[gidx[g][0]], 1.2 * max(KN[gidx[g]].max(),
                                                            KC[gidx[g]].max()))
                scan = np.linspace(0.05 * KN[gidx[g]].max(), hi_search, 25)
                xtol = 1e-5 * KN[gidx[g]].max()
            else:
                scan = np.linspace(0.02, 0.98, 25)
                xtol = 1e-5
            vals = np.array([value(x) for x in scan])
            ok = np.isfinite(vals)
            if g in pgroups and np.any(ok) and not ok[0]:
                # Caps below this leave the round without a certified equilibrium (e.g. an
                # all-AI economy whose producers could no longer use up the goods): the grid
                # stays above the lowest common cap that has one.
                floor[g] = max(floor[g], float(scan[np.flatnonzero(ok)[0]]))
            if g in sgroups and np.any(ok):
                # Shares outside the scanned points that have a certified round are not used.
                floor[g] = min(floor[g], float(scan[np.flatnonzero(ok)[0]]))
                ceiling[g] = max(ceiling[g], float(scan[np.flatnonzero(ok)[-1]]))
            kbest = int(np.argmax(vals))
            if vals[kbest] > best_val:
                best[g], best_val = float(scan[kbest]), float(vals[kbest])
            lo_b, hi_b = scan[max(kbest - 1, 0)], scan[min(kbest + 1, scan.size - 1)]
            r = minimize_scalar(lambda x, g=g: -value(x) if np.isfinite(value(x)) else 1e300,
                                bounds=(lo_b, hi_b), method="bounded",
                                options={"xatol": xtol, "maxiter": 40})
            if -r.fun > best_val:
                best[g] = float(r.x)
                best_val = -float(r.fun)
    KM_group = best
    coll = rnd(round_acts(np.fmin(caps_of(KM_group), Kbar))) if cgroups else None
    pays = bool(cgroups) and bool(best_val > total(no_cap) + 1e-9 * max(1.0, abs(best_val)))

    # The grid: caps per learning producer type; shares or participation patterns per
    # consumer type.
    actions = np.empty((n, m))
    names: list[tuple[str, ...]] = [()] * n
    post = ("goods", *labels)
    for g in pgroups:
        KNg = float(KN[gidx[g]].max())
        # A cap above what a learner offers in the uncapped round never binds: the grid ends
        # there (Nash peak offer; competitive peak offer for price-taking rounds).
        hi = KNg if concept != "competitive" else float(KC[gidx[g]].max())
        withhold = pays and KM_group[g] < KNg * (1 - 1e-3)
        lo = float(KM_group[g]) if withhold else KNg * (1 - cfg.depth)
        span = hi - lo
        grid = np.linspace(lo - cfg.widen * span, hi + cfg.widen * span, m)
        grid = np.clip(grid, max(0.02 * hi, floor[g]), Kbar[gidx[g][0]])
        for i in gidx[g]:
            actions[i] = grid
            names[i] = tuple(f"cap {x:.4g}" for x in grid)
    for g in sgroups:
        if not floor[g] <= ceiling[g]:
            raise LearningError(f"{source}: learning.share_post: no share of its income on "
                                f"{share_post[1]!r} between 0.02 and 0.98 gives learner type "
                                f"{cfg.learners[g]!r} a round with a certified equilibrium")
        # Calvano's grid: from the competitive to the collusive share (the Nash one among
        # them), widened by ξ of the span; where all three nearly coincide, the Nash share
        # ± depth of the room on its narrower side.
        sN = float(KN[gidx[g]].mean())
        pts = [sN, float(KC[gidx[g]].mean())] + \
            ([KM_group[g]] if pays and np.isfinite(KM_group[g]) else [])
        lo, hi = min(pts), max(pts)
        if hi - lo < 1e-3:
            half = cfg.depth * min(sN, 1.0 - sN)
            lo, hi = sN - half, sN + half
        span = hi - lo
        grid = np.clip(np.linspace(lo - cfg.widen * span, hi + cfg.widen * span, m),
                       floor[g], ceiling[g])
        for i in gidx[g]:
            actions[i] = grid
            names[i] = tuple(f"{share_post[1]} share {x:.4g}" for x in grid)
    for k in range(n):
        if roles[k] == "consumer" and groups[k] in options:
            opts = options[groups[k]]
            actions[k] = 1.0
            names[k] = tuple("+".join(post[t] for t in pt) for pt, _ in opts)

    def acts_at(a: np.ndarray) -> tuple[Any, ...]:
        return tuple(float(actions[k, a[k]]) if roles[k] == "producer"
                     else (None, float(actions[k, a[k]])) if groups[k] in sgroups
                     else options[groups[k]][a[k]] for k in range(n))

    # Tabulate: one round per multiset of actions within each learning type.
    J = m ** n
    jj = np.arange(J)
    acts = np.stack([(jj // m ** i) % m for i in range(n)], axis=1)
    canon = acts.copy()
    perm = np.tile(np.arange(n), (J, 1))        # learner i of j <- learner perm[j, i] of canon
    for g in sorted(set(groups)):
        gi = np.flatnonzero(np.array(groups) == g)
        sub = acts[:, gi]
        order = np.argsort(sub, axis=1, kind="stable")
        canon[:, gi] = np.take_along_axis(sub, order, axis=1)
        inv = np.empty_like(order)
        np.put_along_axis(inv, order, np.arange(len(gi))[None, :].repeat(J, 0), axis=1)
        perm[:, gi] = np.asarray(gi)[inv]
    weights = m ** np.arange(n)
    canon_j = canon @ weights
    todo = np.unique(canon_j)
    S = split.S
    T = split.periods
    nc_, np_ = len(split.consumers), len(split.producers)
    payoffs = np.empty((S, J, n))
    prices = np.empty((J, T))
    burnt = np.empty((S, J))
    pattern_names: list[str] = []
    pattern = np.empty(J, dtype=np.int64)
    prof = {"consumer_bids": np.empty((J, nc_, T + 1)),
            "producer_bids": np.empty((J, np_, T + 1)),
            "offers": np.empty((J, np_, T)),
            "capacity": np.empty((J, np_)),
            # The round's multipliers: where the certificate's search starts, and under
            # prepaid settlement each type's wallet multiplier λ̄ in its objective.
            "lam_consumers": np.empty((J, nc_)),
            "lam_producers": np.empty((J, np_)),
            "nu_producers": np.empty((J, np_))}
    solved: dict[int, RoundResult] = {}
    failures = []
    max_regret = 0.0
    for k, cj in enumerate(todo):
        ra = acts_at(acts[cj])
        res = rnd(ra)
        where = f"round with {_describe(labels, lnames, roles, ra, cfg.share_post)}"
        if not res.ok:
            failures.append((where, res.status, res.reason))
        else:
            audit(res.economy, res.profile, res.outcome, where=where,
                  rtol=1e-9 if concept != "competitive" else 1e-6)
            max_regret = max(max_regret, res.max_regret)
        solved[int(cj)] = res
        if progress is not None:
            progress(k + 1, len(todo))
    if failures:
        where, status, reason = failures[0]
        what = {"nash": "Nash equilibrium", "competitive": "competitive benchmark",
                "fixed": "best response of the learners to the fixed others"}[concept]
        raise LearningError(f"{source}: the {where} has no certified {what}"
                            f" ({status}: {reason}); {len(failures)} of {len(todo)} rounds failed. "
                            "Narrow the grid (learning.widen, learning.depth, learning.patterns) "
                            "or change the economy")
    for j in range(J):
        res = solved[int(canon_j[j])]
        u = _learner_payoffs(res.economy, res.outcome, rows)   # (S, n), canonical order
        if not np.all(np.isfinite(u)):
            bad = lnames[int(np.flatnonzero(~np.isfinite(u).all(axis=0))[0])]
            what = _describe(labels, lnames, roles, acts_at(acts[canon_j[j]]), cfg.share_post)
            raise LearningError(
                f"{source}: learner {bad!r} gets utility -inf in the round with {what}: it "
                "consumes "
                "nothing it values there (constant-returns price takers, for one, earn "
                "nothing); no learning algorithm can rank such rounds")
        payoffs[:, j, :] = u[:, perm[j]]
        out = res.outcome
        econ = res.economy
        prices[j] = out.relative_prices
        burnt[:, j] = np.einsum("i,ist->s", econ.consumers.count, out.consumers.verification) + \
            np.einsum("i,ist->s", econ.producers.count, out.producers.verification)
        name = _pattern(econ, res.profile)
        if name not in pattern_names:
            pattern_names.append(name)
        pattern[j] = pattern_names.index(name)
        # The profile in the split economy's type order, learners permuted.
        prow = np.arange(np_)
        crow = np.arange(nc_)
        for i in range(n):
            role, r = rows[i]
            (prow if role == "producer" else crow)[r] = rows[perm[j, i]][1]
        pr = res.profile
        prof["consumer_bids"][j] = pr.consumer_bids[crow]
        prof["producer_bids"][j] = pr.producer_bids[prow]
        prof["offers"][j] = pr.offers[prow]
        prof["capacity"][j] = split.producers.capacity
        assert res.multipliers is not None
        prof["lam_consumers"][j] = res.multipliers[0][crow]
        prof["lam_producers"][j] = res.multipliers[1][prow]
        prof["nu_producers"][j] = res.multipliers[2][prow]

    def bench(name: str, econ: Any, outcome: Any, status: str = "ok",
              reason: str = "") -> Benchmark:
        if outcome is None:
            return Benchmark(name, None, None, "failed", reason)
        u = np.array([(outcome.producers if role == "producer" else outcome.consumers)
                      .utility[r] for role, r in _rows(econ, lnames, roles)])
        return Benchmark(name, u, np.asarray(outcome.relative_prices).copy(), status, reason)

    benchmarks = {"nash": bench("nash", split, nash.outcome),
                  "competitive": bench("competitive", split, comp.outcome if comp.ok else None,
                                       reason=f"{comp.status.value}: {comp.reason}")}
    if coll is None:
        benchmarks["collusive"] = Benchmark(
            "collusive", None, None, "none", "no producer learns and no consumer learns a bid "
            "share: the collusive benchmark is a cartel of learning producers (caps) and "
            "share-learning consumers (shares), and Δ is undefined")
    elif not coll.ok:
        benchmarks["collusive"] = Benchmark("collusive", None, None, "failed",
                                            f"{coll.status}: {coll.reason}")
    elif not pays:
        nb = benchmarks["nash"]
        benchmarks["collusive"] = Benchmark(
            "collusive", nb.payoffs, nb.prices, "no-gain",
            "no common cap raises the learners' total utility above Nash: withholding does "
            "not pay, so the collusive benchmark is the Nash one and Δ is undefined")
    else:
        benchmarks["collusive"] = bench("collusive", coll.economy, coll.outcome)
    kinds = set(roles)
    what = "participation" if share_post is None else f"bid share on {share_post[1]}"
    label = ("capacity cap" if kinds == {"producer"} else
             what if kinds == {"consumer"} else f"capacity cap / {what}")
    roles_arr = np.array(roles)
    share_arr = np.isin(np.array(groups), sgroups)
    return StageGame(
        name=spec.name, environment="market", learners=tuple(lnames), actions=actions,
        action_label=label, payoffs=payoffs, probabilities=split.probabilities.copy(),
        prices=prices, price_labels=labels, price_label="p^t/p^0", burnt=burnt,
        pattern=pattern, patterns=tuple(pattern_names), benchmarks=benchmarks, profiles=prof,
        economy=split, roles=tuple(roles), action_names=tuple(names),
        diagnostics={"solves": rnd.solves, "rounds_tabulated": int(len(todo)),
                     "max_regret_in_table": max_regret, "others": cfg.others,
                     "learner_roles": roles,
                     "nash_peak_offer": _nan_list(np.where(roles_arr == "producer", KN, np.nan)),
                     "competitive_peak_offer": _nan_list(np.where(roles_arr == "producer", KC,
                                                                  np.nan)),
                     "collusive_cap": _nan_list(np.where(roles_arr == "producer",
                                                         caps_of(KM_group), np.nan)),
                     "withholding_pays": pays,
                     "share_post": cfg.share_post,
                     "nash_share": _nan_list(np.where(share_arr, KN, np.nan)),
                     "competitive_share": _nan_list(np.where(share_arr, KC, np.nan)),
                     "collusive_share": _nan_list(np.where(share_arr, caps_of(KM_group),
                                                           np.nan)),
                     "capacity": _nan_list(Kbar), "grid_floor": _nan_list(caps_of(floor)),
                     "consumer_options": {cfg.learners[g]: [list(names[k]) for k in range(n)
                                                            if groups[k] == g][0]
                                          for g in [*options, *sgroups]}})


def _nan_list(x: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(x, dtype=float)]
