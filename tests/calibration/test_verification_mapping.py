"""The mapping of published energy figures to verification.fixed and verification.share
(docs/calibration.md): the arithmetic, and what the share means in the model (docs/model.md
section 5: a payment burns κ of the electricity it buys)."""

from __future__ import annotations

import pytest

from emgame.calibration import build_day, mapping
from emgame.calibration import verification as v


def test_published_figures():
    """The anchors as published: Bitcoin 138 TWh, 0.54 % of world electricity (CCAF 2025);
    data centres 415 TWh, 1.5 % (IEA 2025)."""
    assert v.BITCOIN_TWH_2024 == 138.0 and v.BITCOIN_SHARE_OF_WORLD_CCAF == 0.0054
    assert v.DATA_CENTRES_TWH_2024 == 415.0 and v.DATA_CENTRES_SHARE_OF_WORLD_IEA == 0.015


def test_world_mapping_arithmetic():
    """κ = 138 / (415 / 0.015): the world's consumption implied by the IEA figures is
    27 667 TWh, and Bitcoin's share of it 0.4988 %."""
    assert v.world_electricity_twh() == pytest.approx(27666.667, rel=1e-6)
    assert v.share_world() == pytest.approx(138 * 0.015 / 415, rel=1e-12)
    m = mapping("world")
    assert m.share == 0.004988 and m.fixed == 0.0
    assert "138 TWh / (415 TWh / 0.015)" in m.arithmetic


def test_the_two_sources_agree_on_world_electricity():
    """CCAF's own ratio (0.54 %) implies a world total of 25 600 TWh, IEA's 27 700 TWh: the two
    world totals differ by under 10 %, so the two readings of 'Bitcoin's share' (0.50 %,
    0.54 %) bracket the mapped κ."""
    ccaf_world = v.BITCOIN_TWH_2024 / v.BITCOIN_SHARE_OF_WORLD_CCAF
    assert abs(ccaf_world / v.world_electricity_twh() - 1) < 0.10
    assert v.share_world() <= v.BITCOIN_SHARE_OF_WORLD_CCAF


def test_data_centres_mapping_arithmetic():
    """A buyer burns V = κ x and consumes E = (1 - κ) x of what it receives: V / E = 138 / 415
    gives κ = 138 / 553."""
    k = v.share_data_centres()
    assert k / (1 - k) == pytest.approx(138 / 415, rel=1e-12)
    m = mapping("data-centres")
    assert m.share == 0.2495 and m.fixed == 0.0


def test_fixed_per_payment():
    """The per-payment reading (not used by the bundled day): 138 TWh over 1.8e8 payments is
    0.767 MWh each."""
    assert v.fixed_per_payment(138, 1.8e8) == pytest.approx(0.7667, rel=1e-3)
    with pytest.raises(ValueError):
        v.fixed_per_payment(138, 0)


def test_the_bundled_day_uses_the_world_mapping():
    d = build_day()
    assert d["verification"] == {"fixed": 0.0, "share": mapping("world").share}
    assert build_day(verification="none")["verification"] == {"fixed": 0.0, "share": 0.0}
