"""The economy: typed, validated data (MODEL.md sections 1, 2, 5 and 8)."""

from emgame.model.economy import (
    FAMILIES,
    ConsumerType,
    Economy,
    EconomyError,
    Market,
    Population,
    ProducerType,
    State,
    Utility,
)

__all__ = [
    "FAMILIES",
    "ConsumerType",
    "Economy",
    "EconomyError",
    "Market",
    "Population",
    "ProducerType",
    "State",
    "Utility",
]
