"""emgame: Nash and competitive equilibria of Spear's (2003) electricity market game, played by
AI agents who pay in bytecoins whose verification burns electricity."""

from emgame.market import Outcome, Profile, evaluate
from emgame.model import (
    ConsumerType,
    Economy,
    EconomyError,
    EconomyFileError,
    Market,
    ProducerType,
    State,
    Utility,
    economy_from_dict,
    economy_to_dict,
    load_economy,
    validate_economy,
)
from emgame.results import Certificate, Solution, SolveError, Status
from emgame.solve import Options, solve, solve_both

__all__ = [
    "Certificate",
    "ConsumerType",
    "Economy",
    "EconomyError",
    "EconomyFileError",
    "Market",
    "Options",
    "Outcome",
    "ProducerType",
    "Profile",
    "Solution",
    "SolveError",
    "State",
    "Status",
    "Utility",
    "economy_from_dict",
    "economy_to_dict",
    "evaluate",
    "load_economy",
    "solve",
    "solve_both",
    "validate_economy",
]
