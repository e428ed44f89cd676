"""emgame: Nash and competitive equilibria of Spear's (2003) electricity market game, played by
AI agents who pay in bytecoins whose verification burns electricity.

The model is in docs/model.md; ``emgame.solve(economy)`` returns a :class:`Solution` whose
status is ``equilibrium`` only when an independent certificate passed.
"""

from importlib.metadata import PackageNotFoundError as _NotInstalled
from importlib.metadata import version as _version

from emgame._extras import MissingExtraError
from emgame.analysis.sensitivity import Sensitivity, sensitivity
from emgame.equilibria import Equilibria, solve_all
from emgame.market import Outcome, Profile, evaluate
from emgame.model import (
    ConsumerType,
    Economy,
    EconomyError,
    EconomyFileError,
    Market,
    ProducerType,
    State,
    StorageType,
    Units,
    Utility,
    as_economy,
    economy_from_dict,
    economy_to_dict,
    load_economy,
    validate_economy,
)
from emgame.results import Certificate, Solution, SolveError, Status
from emgame.solve import Options, solve, solve_both

try:
    __version__ = _version("emgame")
except _NotInstalled:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Certificate",
    "ConsumerType",
    "Economy",
    "EconomyError",
    "EconomyFileError",
    "Equilibria",
    "Market",
    "MissingExtraError",
    "Options",
    "Outcome",
    "ProducerType",
    "Sensitivity",
    "Profile",
    "Solution",
    "SolveError",
    "State",
    "StorageType",
    "Status",
    "Units",
    "Utility",
    "__version__",
    "as_economy",
    "economy_from_dict",
    "economy_to_dict",
    "evaluate",
    "load_economy",
    "sensitivity",
    "solve",
    "solve_all",
    "solve_both",
    "validate_economy",
]
