"""Best-response dynamics with emgame's continuous best responses (docs/learning.md).

Fact checked: on a bundled example (classic_peak_load) and on the Cournot-style economy,
damped best-response dynamics from the competitive profile, from a perturbed Nash profile and
from a uniform profile converge to a profile that passes emgame's certificate and whose
relative prices match emgame's certified Nash equilibrium (found by a different method:
Newton on first-order conditions in post totals).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from learning_economies import COURNOT

import emgame
from emgame.learning.dynamics import run_dynamics, starts

EXAMPLES = Path(emgame.__file__).parent / "examples"


def _cournot():
    d = {k: v for k, v in COURNOT.items() if k != "learning"}
    return emgame.economy_from_dict(d)


@pytest.mark.parametrize("economy", ["classic_peak_load", "cournot"])
def test_damped_best_response_dynamics_reach_the_certified_nash_equilibrium(economy):
    e = _cournot() if economy == "cournot" else emgame.load_economy(EXAMPLES / f"{economy}.toml")
    nash, comp = emgame.solve(e, "nash"), emgame.solve(e, "competitive")
    assert nash.ok
    for name, start in starts(e, nash, comp).items():
        r = run_dynamics(e, start, weight=0.5, start_name=name, nash=nash, max_iter=200)
        assert r.converged and r.certified, (name, r.iterations, r.max_regret)
        # Regret is quadratic in the distance: at the certificate's 1e-8 the prices agree to
        # about 1e-4 relative.
        assert r.price_gap_to_nash < 1e-3, name
        assert np.all(np.isfinite(r.prices))
