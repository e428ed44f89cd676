"""The economy: typed, validated data (docs/model.md, "The game", "The crypto layer" and
"Economy files")."""

from emgame.model.economy import (
    FAMILIES,
    ConsumerType,
    Economy,
    EconomyError,
    Market,
    Population,
    ProducerType,
    State,
    StorageType,
    Units,
    Utility,
    as_economy,
)
from emgame.model.files import (
    economy_from_dict,
    economy_to_dict,
    load_economy,
    validate_economy,
)
from emgame.model.schema import EconomyFileError

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
    "StorageType",
    "Units",
    "Utility",
    "as_economy",
    "economy_from_dict",
    "economy_to_dict",
    "load_economy",
    "validate_economy",
]
