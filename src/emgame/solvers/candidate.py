"""What a solver hands to the certificate: a candidate profile, never yet called an equilibrium."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emgame.market.game import Profile
from emgame.results import Multipliers, Status


@dataclass(frozen=True, eq=False)
class Candidate:
    """A solver's answer before certification.

    ``converged`` says whether the solver's own equations were solved; ``status`` and
    ``reason`` say why not (``status`` is only a solver's verdict: the certificate decides
    whether a converged candidate is an equilibrium).
    """

    concept: str
    converged: bool
    status: Status = Status.NO_EQUILIBRIUM
    reason: str = ""
    profile: Profile | None = None
    multipliers: Multipliers | None = None
    iterations: int = 0
    evaluations: int = 0
    diagnostics: dict[str, Any] = field(default_factory=dict)
    totals: tuple[np.ndarray, np.ndarray] | None = None  # (p, Q) of the solver
    internal: dict[str, np.ndarray] = field(default_factory=dict)
    """The solver's own state at the candidate (multipliers in its units, state weights),
    for its next round; never used by the certificate."""
