"""Build a calibrated day: an economy description (a plain dict in the economy-file format,
docs/model.md: economy files, hourly capacity, storage) from hourly profiles.

Units: electricity in MWh (a period is one hour, so MWh per period = MW), goods and bytecoins in
USD (the goods price is 1, so electricity prices are USD/MWh). The mapping from profiles and
published figures to parameters is in docs/calibration.md; in short:

* **data centres** (``ai`` consumers): Cobb–Douglas weights ``a^t = L^t / Σ L`` (the hourly load
  shape). A Cobb–Douglas buyer spends the share ``a^t`` of its budget in hour ``t``, so at a flat
  price ``p̄`` it buys exactly ``a^t ω / p̄ = L^t`` when its endowment is
  ``ω = p̄ Σ_t L^t``: the endowment is the daily energy valued at the *budget price* ``p̄``.
  (``ces`` with ``r < 0`` keeps purchases closer to the shape when prices move: weights
  ``a^t ∝ (L^t)^(1-r)`` give ``x^t ∝ L^t`` at flat prices.)
* **solar farms** (producers): capacity by hour ``K^t = s^t K`` (availability times installed AC
  capacity, zero at night); a small marginal cost ``m`` at full output.
* **dispatchable plants** (producers): decreasing returns ``q = θ φ^c``; ``θ`` and ``c`` hit a
  stated marginal cost ``m`` at a stated output ``q̄``: ``θ = (c m)^(-c) q̄^(1-c)``
  (:func:`productivity_for`), so that ``φ'(q̄) = m``; the marginal cost then rises with output
  with elasticity ``1/c - 1``.
* **batteries** (``[[storage]]``): energy ``S``, power ``G`` per hour, efficiencies.
* **owners** of plants and batteries are ``classic`` with quasilinear utility in goods only
  (``goods_weight = 1``, every electricity weight 0): they maximise profit in USD and consume
  no electricity (an ``ai`` owner would spend its profit on electricity: for a solar farm, with
  almost no costs, nearly all its revenue).
* **verification**: :mod:`emgame.calibration.verification`.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from emgame.calibration import generate
from emgame.calibration.profiles import (
    ProfileError,
    Profiles,
    bundled,
    default_labels,
    read_profiles,
)
from emgame.calibration.verification import VerificationMapping, mapping

UNITS = {"electricity": "MWh", "goods": "USD"}


@dataclass(frozen=True)
class DataCentres:
    """A type of data centre: ``count`` of them, each with load profile ``profile`` (a column
    of the load CSV)."""

    name: str
    profile: str
    count: int
    note: str = ""


@dataclass(frozen=True)
class SolarFarms:
    """``count`` solar farms, each ``installed`` MW AC, availability ``profile`` (a column of the
    availability CSV), marginal cost ``marginal_cost`` USD/MWh at full output, returns ``c``."""

    name: str
    profile: str
    count: int
    installed: float
    marginal_cost: float = 2.0
    returns: float = 0.9
    note: str = ""


@dataclass(frozen=True)
class Dispatchable:
    """``count`` dispatchable plants of ``capacity`` MW each, marginal cost ``marginal_cost``
    USD/MWh at the output ``at_load * capacity``, returns ``c < 1``."""

    name: str
    count: int
    capacity: float
    marginal_cost: float
    at_load: float = 0.75
    returns: float = 0.6
    note: str = ""


@dataclass(frozen=True)
class Batteries:
    """``count`` batteries of ``energy_capacity`` MWh and ``power_capacity`` MW each."""

    name: str
    count: int
    energy_capacity: float
    power_capacity: float
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    note: str = ""


DATA_CENTRES: tuple[DataCentres, ...] = (
    DataCentres("training-campus", "training", 2,
                "AI training campus, 300 MW average, almost flat"),
    DataCentres("enterprise-dc", "enterprise", 10,
                "enterprise inference and colocation, 30 MW average, business-hours peak"),
    DataCentres("edge-dc", "consumer", 60,
                "consumer-facing inference, 2 MW average, evening peak"),
)
SOLAR: tuple[SolarFarms, ...] = (
    SolarFarms("utility-solar", "utility_tracking", 4, 150.0, 2.0, 0.9,
               note="utility-scale, single-axis tracking, 150 MW AC each"),
    SolarFarms("rooftop-solar", "rooftop_fixed", 50, 4.0, 2.0, 0.9,
               note="rooftop and community arrays, fixed tilt, 4 MW AC each"),
)
DISPATCHABLE: tuple[Dispatchable, ...] = (
    Dispatchable("gas-fleet", 4, 400.0, 35.0, 0.75, 0.6,
                 note="gas-fired portfolios, 400 MW each"),
)
BATTERIES: tuple[Batteries, ...] = (
    Batteries("battery", 4, 400.0, 100.0, 0.95, 0.95,
              note="4-hour lithium-ion, 100 MW / 400 MWh each"),
)
BUDGET_PRICE = 25.0
"""USD/MWh: the price at which a data centre's budget buys its daily load (see module doc).
25 is close to the bundled day's consumption-weighted competitive price, so that at the
competitive benchmark the data centres buy about their stated daily energy
(docs/calibration.md)."""

BUNDLED_LOCATION = "phoenix"
BUNDLED_DATE = "2024-06-21"

OWNER_UTILITY_NOTE = ("owners of plants and batteries: kind classic, quasilinear in goods only"
                      " (profit maximisers in USD, no electricity consumption)")


def productivity_for(marginal_cost: float, output: float, returns: float) -> float:
    """``θ`` such that the marginal cost ``φ'(q) = (1/c) θ^(-1/c) q^(1/c - 1)`` equals
    ``marginal_cost`` at ``q = output``: ``θ = (c m)^(-c) q^(1-c)``.

    At that output the average cost ``φ(q)/q`` is ``c m``.
    """
    if not (marginal_cost > 0 and output > 0 and returns > 0):
        raise ValueError("marginal_cost, output and returns must be > 0")
    return (returns * marginal_cost) ** (-returns) * output ** (1.0 - returns)


def marginal_cost(q: float | np.ndarray, productivity: float,
                  returns: float) -> float | np.ndarray:
    """``φ'(q) = (1/c) θ^(-1/c) q^(1/c - 1)``, USD/MWh."""
    c = returns
    return (1.0 / c) * productivity ** (-1.0 / c) * np.asarray(q, dtype=float) ** (1.0 / c - 1.0)


def _round(x: float, sig: int = 6) -> float:
    """``x`` to ``sig`` significant digits (a readable file; the rounding is far below any
    calibration uncertainty)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{sig}g}")


def _as_profiles(p: Profiles | str | Path | None, kind: str) -> Profiles | None:
    if p is None or isinstance(p, Profiles):
        if p is not None and p.kind != kind:
            raise ProfileError(p.source, [("kind", f"expected {kind} profiles, got {p.kind}")])
        return p
    return read_profiles(p, kind=kind)


def _default_profiles(kind: str, location: generate.Site | str,
                      date: dt.date | str) -> Profiles:
    """The bundled profiles when they are for ``location`` and ``date``, else computed with
    pvlib / demandlib (the ``calibrate`` extra)."""
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(date)
    same_place = (isinstance(location, str) and location.strip().lower() == BUNDLED_LOCATION)
    if day.isoformat() == BUNDLED_DATE and (kind == "load" or same_place):
        return bundled(kind)
    labels = default_labels(generate.HOURS)
    if kind == "availability":
        site = generate.site_of(location)
        cols = generate.solar_availability(site, day)
        meta = {"title": "Clear-sky solar availability (computed by emgame.calibration)",
                "site": site.name, "date": day.isoformat()}
    else:
        cols = generate.data_centre_loads(day)
        meta = {"title": "Data-centre load, MWh per hour (computed by emgame.calibration)",
                "date": day.isoformat()}
    return Profiles(kind, labels, cols, meta, source=f"<{kind} computed for {day}>")


@dataclass(frozen=True)
class CalibratedDay:
    """A built day: the economy description and the notes that document it (for the header)."""

    economy: dict
    title: str
    notes: tuple[str, ...]


def _build(*, location: generate.Site | str, date: dt.date | str,
           availability: Profiles | str | Path | None,
           load_profiles: Profiles | str | Path | None,
           daily_energy: Mapping[str, float] | None,
           data_centres: Sequence[DataCentres], solar: Sequence[SolarFarms],
           dispatchable: Sequence[Dispatchable], storage: Sequence[Batteries],
           budget_price: float, verification: str | VerificationMapping,
           utility: str, r: float | None, goods_settlement_period: int | None,
           name: str | None) -> CalibratedDay:
    avail = _as_profiles(availability, "availability") or _default_profiles(
        "availability", location, date)
    loads = _as_profiles(load_profiles, "load") or _default_profiles("load", location, date)
    if avail.labels != loads.labels:
        raise ProfileError(loads.source, [("column \"label\"", (
            f"the periods differ from those of {avail.source}: {list(loads.labels)} vs"
            f" {list(avail.labels)}"))])
    T = avail.periods
    if goods_settlement_period is None:
        # Goods payments are verified at noon on a 24-hour day (hour 12h, period 13).
        goods_settlement_period = 13 if T == 24 else 1
    if not budget_price > 0:
        raise ValueError(f"budget_price must be > 0 (USD/MWh), got {budget_price}")
    if utility not in ("cobb_douglas", "ces"):
        raise ValueError(f"utility must be 'cobb_douglas' or 'ces', got {utility!r}")
    if utility == "ces" and (r is None or not r < 1 or r == 0):
        raise ValueError("utility 'ces' needs r < 1, r != 0")
    if daily_energy:
        unknown = sorted(set(daily_energy) - set(loads.columns))
        if unknown:
            raise ProfileError(loads.source, [(f"column {u!r}", "daily_energy names a"
                                               " profile the file does not have") for u in unknown])
        cols = {k: (v * daily_energy[k] / v.sum() if k in daily_energy else v)
                for k, v in loads.columns.items()}
        for k, e in daily_energy.items():
            if not e > 0:
                raise ValueError(f"daily_energy[{k!r}] must be > 0 MWh, got {e}")
        loads = replace(loads, columns=cols)
    vmap = verification if isinstance(verification, VerificationMapping) else mapping(
        verification)

    owner = {"family": "quasilinear", "weights": [0.0] * T, "goods_weight": 1.0}
    notes: list[str] = []
    econ: dict = {
        "name": name,
        "periods": T,
        "period_labels": list(avail.labels),
        "units": dict(UNITS),
        "market": {"settlement": "simultaneous", "horizon": "short-run",
                   "goods_settlement_period": goods_settlement_period},
        "verification": vmap.table(),
        "consumers": [],
        "producers": [],
    }

    total_load = np.zeros(T)
    for dc in data_centres:
        load = loads[dc.profile]
        energy = float(load.sum())
        total_load += dc.count * load
        if utility == "cobb_douglas":
            w = load / energy
            u = {"family": "cobb_douglas"}
        else:
            w = load ** (1.0 - r) / np.sum(load ** (1.0 - r))
            u = {"family": "ces", "r": r}
        u["weights"] = [_round(x) for x in w]
        econ["consumers"].append({
            "name": dc.name, "count": dc.count, "kind": "ai",
            "endowment": _round(budget_price * energy), "utility": u})
        notes.append(f"{dc.name}: {dc.count} x {dc.note}; load profile '{dc.profile}',"
                     f" {energy:,.1f} MWh/day each (peak/mean {load.max() / load.mean():.2f});"
                     f" endowment = {energy:,.1f} MWh x {budget_price:g} USD/MWh ="
                     f" {budget_price * energy:,.0f} USD/day")

    for s in solar:
        a = avail[s.profile]
        theta = productivity_for(s.marginal_cost, s.installed, s.returns)
        econ["producers"].append({
            "name": s.name, "count": s.count, "kind": "classic",
            "productivity": _round(theta), "returns": s.returns,
            "capacity": [round(float(x) * s.installed, 3) for x in a],
            "utility": dict(owner)})
        notes.append(f"{s.name}: {s.count} x {s.note}; availability '{s.profile}' (daily"
                     f" capacity factor {a.mean():.1%}); capacity = availability x"
                     f" {s.installed:g} MW; marginal cost {s.marginal_cost:g} USD/MWh at"
                     f" {s.installed:g} MWh/h, c = {s.returns:g} (theta = {theta:.6g})")

    for g in dispatchable:
        q_ref = g.at_load * g.capacity
        theta = productivity_for(g.marginal_cost, q_ref, g.returns)
        econ["producers"].append({
            "name": g.name, "count": g.count, "kind": "classic",
            "productivity": _round(theta), "returns": g.returns, "capacity": g.capacity,
            "utility": dict(owner)})
        lo, hi = (marginal_cost(f * g.capacity, theta, g.returns) for f in (0.5, 1.0))
        notes.append(f"{g.name}: {g.count} x {g.note}; marginal cost {g.marginal_cost:g}"
                     f" USD/MWh at {q_ref:g} MWh/h ({g.at_load:.0%} load), c = {g.returns:g}"
                     f" (theta = {theta:.6g}): {lo:.1f} USD/MWh at 50% load, {hi:.1f} at"
                     " full load")

    if storage:
        econ["storage"] = []
    for b in storage:
        econ["storage"].append({
            "name": b.name, "count": b.count, "kind": "classic",
            "energy_capacity": b.energy_capacity, "power_capacity": b.power_capacity,
            "charge_efficiency": b.charge_efficiency,
            "discharge_efficiency": b.discharge_efficiency, "utility": dict(owner)})
        notes.append(f"{b.name}: {b.count} x {b.note}; round trip"
                     f" {b.charge_efficiency * b.discharge_efficiency:.1%}")

    notes.insert(0, f"profiles: {avail.source} ({avail.metadata.get('title', 'availability')});"
                    f" {loads.source} ({loads.metadata.get('title', 'load')})")
    night = [lab for lab, *v in zip(avail.labels, *avail.columns.values(), strict=True)
             if not any(v)]
    if night:
        notes.insert(1, f"no solar in {len(night)} hours: {', '.join(night)}")
    notes.append(f"data-centre load: {total_load.sum():,.0f} MWh/day, peak"
                 f" {total_load.max():,.0f} MW at {avail.labels[int(total_load.argmax())]}")
    notes.append(f"verification ({vmap.name}): {vmap.arithmetic}")
    title = _title(avail, loads)
    econ["name"] = name or f"A calibrated day: {title}"
    return CalibratedDay(econ, f"A calibrated day: {title}.", tuple(notes))


def build_day(*, location: generate.Site | str = BUNDLED_LOCATION,
              date: dt.date | str = BUNDLED_DATE,
              availability: Profiles | str | Path | None = None,
              load_profiles: Profiles | str | Path | None = None,
              daily_energy: Mapping[str, float] | None = None,
              data_centres: Sequence[DataCentres] = DATA_CENTRES,
              solar: Sequence[SolarFarms] = SOLAR,
              dispatchable: Sequence[Dispatchable] = DISPATCHABLE,
              storage: Sequence[Batteries] = BATTERIES,
              budget_price: float = BUDGET_PRICE,
              verification: str | VerificationMapping = "world",
              utility: str = "cobb_douglas", r: float | None = None,
              goods_settlement_period: int | None = None, name: str | None = None) -> dict:
    """A calibrated day as an economy description (a dict in the economy-file format).

    Parameters
    ----------
    location, date
        Where and when: the bundled profiles are for ``"phoenix"`` on 2024-06-21; any other
        site or day is computed with pvlib and demandlib (the ``calibrate`` extra).
    availability, load_profiles
        Profile CSV files (or :class:`Profiles`) to use instead: solar availability in
        ``[0, 1]`` and data-centre load in MWh per hour, one column per profile.
    daily_energy
        MWh per day for a load profile (by column name): the column is rescaled to it.
    data_centres, solar, dispatchable, storage
        The agent types (:class:`DataCentres`, :class:`SolarFarms`, :class:`Dispatchable`,
        :class:`Batteries`), each naming the profile column it uses.
    budget_price
        USD/MWh; a data centre's endowment is its daily energy times this price.
    verification
        ``"world"``, ``"data-centres"``, ``"none"`` or a :class:`VerificationMapping`.
    utility, r
        The data centres' utility family, ``"cobb_douglas"`` or ``"ces"`` (with ``r < 0``).

    Returns
    -------
    dict
        The economy-file keys (docs/model.md), with ``units``, hourly ``capacity`` and
        ``[[storage]]``;
        write it with :func:`emgame.calibration.write_day` or ``tomli_w``.

    Raises
    ------
    ProfileError
        A profile file that cannot be used, naming the file, column and line.
    """
    return _build(location=location, date=date, availability=availability,
                  load_profiles=load_profiles, daily_energy=daily_energy,
                  data_centres=data_centres, solar=solar, dispatchable=dispatchable,
                  storage=storage, budget_price=budget_price, verification=verification,
                  utility=utility, r=r, goods_settlement_period=goods_settlement_period,
                  name=name).economy


def _title(avail: Profiles, loads: Profiles) -> str:
    """Where and when, from the profiles' metadata (or their file names)."""
    site = avail.metadata.get("site", "").split(";")[0].strip()
    date = avail.metadata.get("date") or loads.metadata.get("date")
    when = ""
    if date:
        try:
            when = dt.date.fromisoformat(date).strftime("%A %d %B %Y").replace(" 0", " ")
        except ValueError:
            when = date
    where = site or f"profiles {avail.source}, {loads.source}"
    return ", ".join(x for x in (where, when) if x)


SUBTITLE = ("AI data centres buy electricity hour by hour from solar farms, gas plants and"
            " batteries, paying in bytecoins whose verification burns electricity.")

HEADER = """\
Units: electricity in MWh (a period is one hour, so MWh per period = MW), goods and bytecoins
in USD; the goods price is 1, so electricity prices are USD/MWh.

Built by emgame.calibration (docs/calibration.md explains the method, the sources and every
choice). The bundled day is regenerated with
    python -c "import emgame.calibration as c; c.write_day('calibrated_day.toml')"
and its profiles, in examples/calibration/, with make_profiles.py (pvlib, demandlib, offline).

- Solar farms: hourly capacity = availability x installed AC capacity; availability is the
  clear-sky hourly AC output per unit of nameplate (pvlib: Ineichen clear sky with the bundled
  Linke turbidity, PVWatts plant model); zero while the sun is down.
- Data centres (kind ai, Cobb-Douglas): weights = hourly load shares. A Cobb-Douglas buyer
  spends the share a_t of its budget in hour t, so at a flat price equal to the budget price
  it buys exactly its load; endowment = daily energy x budget price (USD per day). Loads: a
  flat base under a demandlib BDEW standard load profile, scaled to a stated daily energy.
- Gas: decreasing returns q = theta phi^c; theta and c give a stated marginal cost at a stated
  output: theta = (c m)^(-c) q^(1-c).
- Batteries ([[storage]]): charge and discharge efficiencies are per direction (round trip =
  their product); the state of charge is cyclic over the day.
- Owners of plants and batteries maximise profit: kind classic, quasilinear in goods,
  electricity weights 0.
- Verification: every bytecoin payment burns `fixed` MWh plus `share` of the
  electricity it buys. Anchors: Bitcoin used ~138 TWh in 2024, ~0.54% of world electricity
  (Cambridge Digital Mining Industry Report, CCAF, 2025); data centres used ~415 TWh, ~1.5% of
  world electricity (IEA, Energy and AI, 2025). Mapping "world" (the default): share =
  Bitcoin's share of world electricity, 138 TWh / (415 TWh / 0.015) = 0.004988, so 0.5% of the
  electricity traded is burnt, as Bitcoin burns 0.5% of the world's. Mapping "data-centres"
  (stress case): a Bitcoin-sized network paid for by data centres alone, share / (1 - share)
  = 138 / 415, share = 0.2495. fixed = 0: Bitcoin's average energy per transaction (~0.8 MWh)
  would charge the same 138 TWh twice. Charging the burn to payments is a modelling choice:
  mining burns its electricity whatever the number of transactions, and the real marginal
  energy cost of one payment is near zero.
- Hourly capacity, [[storage]] and [units] (labels only): docs/model.md.

This day:"""


LOOK_FOR = """\
What to look for: competitive prices of about 26 USD/MWh at night and 24 USD/MWh through the
day, the batteries charging on solar and discharging at night until the two prices differ by
the round-trip loss (26.2 / 23.7 = 1 / (0.95 x 0.95)); without the batteries about 28 at night
and 21-23 at midday. The data centres buy about their stated daily energy (their budget price,
25 USD/MWh, is about the day's average competitive price); verification burns 0.5% of the
electricity traded. (Competitive figures from the independent benchmark in
tests/calibration/, which checks them.)"""

WIDTH = 96


def day_toml(**kwargs: object) -> str:
    """The calibrated day as TOML text: a comment header (sources, mappings, the numbers of
    this day) and the economy written by ``tomli_w``. Takes :func:`build_day`'s arguments."""
    import tomli_w

    args = {**_defaults(), **kwargs}
    day = _build(**args)
    lines = [*textwrap.wrap(day.title, WIDTH), *textwrap.wrap(SUBTITLE, WIDTH), "",
             *HEADER.splitlines()]
    for n in day.notes:
        lines += textwrap.wrap(n, WIDTH, initial_indent="- ", subsequent_indent="  ",
                               break_on_hyphens=False)
    if args == _defaults():  # the bundled day: its checked figures
        lines += ["", *LOOK_FOR.splitlines()]
    head = "\n".join(("# " + x).rstrip() for x in lines)
    return head + "\n\n" + tomli_w.dumps(day.economy)


def _defaults() -> dict:
    return {"location": BUNDLED_LOCATION, "date": BUNDLED_DATE, "availability": None,
            "load_profiles": None, "daily_energy": None, "data_centres": DATA_CENTRES,
            "solar": SOLAR, "dispatchable": DISPATCHABLE, "storage": BATTERIES,
            "budget_price": BUDGET_PRICE, "verification": "world", "utility": "cobb_douglas",
            "r": None, "goods_settlement_period": None, "name": None}


def write_day(path: str | Path, **kwargs: object) -> Path:
    """Write :func:`day_toml` to ``path`` (UTF-8) and return the path."""
    p = Path(path)
    p.write_text(day_toml(**kwargs), encoding="utf-8")
    return p
