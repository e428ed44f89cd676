"""Learning agents in the repeated market game (docs/learning.md).

Do learning algorithms, left to play the electricity market game round after round, find the
Nash equilibrium, the competitive outcome, or collude? The stage game is tabulated over the
learners' finite actions with emgame's own rules (:mod:`emgame.learning.market`; Calvano et
al.'s logit Bertrand game in :mod:`emgame.learning.calvano`), then Q-learning, Hedge and EXP3 run
over the table (:mod:`emgame.learning.session`); best-response dynamics and fictitious play use
emgame's continuous best responses (:mod:`emgame.learning.dynamics`).

Importing this package imports neither Dask nor PettingZoo.
"""

from emgame.learning.calvano import Calvano, calvano_game
from emgame.learning.config import (
    LearningConfig,
    LearningFileError,
    LearningSpec,
    load_learning,
    parse_learning,
)
from emgame.learning.ledger import LedgerError, audit
from emgame.learning.market import LearningError, market_game
from emgame.learning.session import SessionResult, run_session
from emgame.learning.table import Benchmark, StageGame, profit_gain

__all__ = [
    "Benchmark",
    "Calvano",
    "LearningConfig",
    "LearningError",
    "LearningFileError",
    "LearningSpec",
    "LedgerError",
    "SessionResult",
    "StageGame",
    "audit",
    "calvano_game",
    "load_learning",
    "market_game",
    "parse_learning",
    "profit_gain",
    "run_session",
]
