"""Verification energy calibrated to published figures (docs/calibration.md; the model:
docs/model.md, verification energy).

In emgame every bytecoin payment burns electricity: a fixed ``v`` per payment
(``verification.fixed``) plus a share ``κ`` of the electricity the payment buys
(``verification.share``). Real proof-of-work energy is not like that: miners burn electricity
whatever the number of transactions, and the marginal energy cost of one more transaction is
near zero. Charging the burn to payments is a **modelling choice**: it asks what the electricity
market looks like if the payment system's energy is paid for by, and in proportion to, the
payments that use it.

Two published figures anchor the share:

* Bitcoin used about 138 TWh of electricity in 2024, about 0.54 % of the world's consumption
  (Cambridge Centre for Alternative Finance, *Cambridge Digital Mining Industry Report*, 2025);
* data centres used about 415 TWh in 2024, about 1.5 % of the world's consumption (IEA,
  *Energy and AI*, 2025).

The mappings (:func:`mapping`):

``"world"`` (the bundled default)
    ``κ`` = Bitcoin's share of the world's electricity. The world's consumption implied by the
    IEA figures is ``415 / 0.015 = 27 667 TWh``, so ``κ = 138 / 27 667 = 0.004988 ≈ 0.5 %``
    (the CCAF's own ratio, with its own world total, is 0.0054). Reading: the bytecoin burns,
    per MWh it pays for, what Bitcoin burns per MWh the world uses. With ``v = 0`` the
    electricity burnt is then exactly ``κ`` of the electricity traded (every MWh reaches its
    buyer through a post; what a battery buys and sells again is traded twice), so the
    calibrated day burns 0.5 % of what it trades, as the world burns 0.5 % on Bitcoin.
``"data-centres"`` (a stress case)
    The bytecoin is the data centres' own money and its network is Bitcoin-sized: it burns 138
    TWh for the data centres' 415 TWh. A buyer consumes ``E = (1 - κ) x`` of the ``x`` it
    receives and burns ``V = κ x``, so ``V / E = κ / (1 - κ) = 138 / 415`` gives
    ``κ = 138 / (138 + 415) = 0.2495``.

``verification.fixed`` stays 0 in both: the only published per-payment number, Bitcoin's
*average* energy per on-chain transaction (138 TWh over roughly 1.8e8 transactions in 2024,
≈ 0.76 MWh each; :func:`fixed_per_payment`), charges the same 138 TWh a second time, and it is
an average, not the marginal cost of a payment (which is near zero). A user who wants the
per-payment reading sets ``fixed`` to it and ``share`` to 0.
"""

from __future__ import annotations

from dataclasses import dataclass

BITCOIN_TWH_2024 = 138.0
"""Bitcoin's electricity use in 2024, TWh (CCAF, Cambridge Digital Mining Industry Report,
2025)."""

BITCOIN_SHARE_OF_WORLD_CCAF = 0.0054
"""Bitcoin's share of the world's electricity consumption as the CCAF report states it."""

DATA_CENTRES_TWH_2024 = 415.0
"""Data centres' electricity use in 2024, TWh (IEA, Energy and AI, 2025)."""

DATA_CENTRES_SHARE_OF_WORLD_IEA = 0.015
"""Data centres' share of the world's electricity consumption in 2024 (IEA, Energy and AI)."""

def world_electricity_twh() -> float:
    """The world's electricity consumption in 2024 implied by the IEA figures, TWh
    (``415 / 0.015``)."""
    return DATA_CENTRES_TWH_2024 / DATA_CENTRES_SHARE_OF_WORLD_IEA


def share_world() -> float:
    """``κ`` = Bitcoin's share of the world's electricity, ``138 / (415 / 0.015)``."""
    return BITCOIN_TWH_2024 / world_electricity_twh()


def share_data_centres() -> float:
    """``κ`` with ``κ / (1 - κ) = 138 / 415``: a Bitcoin-sized network paid for by the data
    centres alone, ``138 / (138 + 415)``."""
    return BITCOIN_TWH_2024 / (BITCOIN_TWH_2024 + DATA_CENTRES_TWH_2024)


def fixed_per_payment(annual_twh: float, annual_payments: float) -> float:
    """Average energy per payment, MWh: ``annual_twh * 1e6 / annual_payments``.

    The per-payment reading of a network's energy (not used by the bundled day; see the module
    docstring): e.g. ``fixed_per_payment(138, 1.8e8) ≈ 0.77`` MWh.
    """
    if annual_twh < 0 or not annual_payments > 0:
        raise ValueError("annual_twh must be >= 0 and annual_payments > 0")
    return annual_twh * 1e6 / annual_payments


@dataclass(frozen=True)
class VerificationMapping:
    """Verification costs for an economy file, with the arithmetic that produced them."""

    name: str
    fixed: float
    share: float
    arithmetic: str

    def table(self) -> dict[str, float]:
        """The ``[verification]`` table."""
        return {"fixed": self.fixed, "share": self.share}


MAPPINGS = ("world", "data-centres", "none")


def mapping(name: str = "world", *, digits: int = 4) -> VerificationMapping:
    """The named mapping of published figures to ``verification.fixed`` and ``.share``
    (``share`` rounded to ``digits`` significant digits)."""
    if name == "world":
        world = world_electricity_twh()
        k = share_world()
        text = (f"share = Bitcoin / world electricity = {BITCOIN_TWH_2024:g} TWh /"
                f" ({DATA_CENTRES_TWH_2024:g} TWh / {DATA_CENTRES_SHARE_OF_WORLD_IEA:g})"
                f" = {BITCOIN_TWH_2024:g} / {world:,.0f} = {k:.5f}")
    elif name == "data-centres":
        k = share_data_centres()
        text = (f"share / (1 - share) = Bitcoin / data centres = {BITCOIN_TWH_2024:g} /"
                f" {DATA_CENTRES_TWH_2024:g}, so share = {BITCOIN_TWH_2024:g} /"
                f" ({BITCOIN_TWH_2024:g} + {DATA_CENTRES_TWH_2024:g}) = {k:.5f}")
    elif name == "none":
        k = 0.0
        text = "no verification cost"
    else:
        raise ValueError(f"unknown verification mapping {name!r}; one of {', '.join(MAPPINGS)}")
    return VerificationMapping(name, 0.0, float(f"{k:.{digits}g}"), text)
