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
from emgame.model.schema import (
    EconomyFileError,
    economy_from_dict,
    economy_to_dict,
    load_economy,
    validate_economy,
)

__all__ = [
    "FAMILIES",
    "ConsumerType",
    "Economy",
    "EconomyError",
    "EconomyFileError",
    "Market",
    "Population",
    "ProducerType",
    "State",
    "Utility",
    "economy_from_dict",
    "economy_to_dict",
    "load_economy",
    "validate_economy",
]
