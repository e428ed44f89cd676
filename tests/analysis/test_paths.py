"""Parameter paths: resolving them on an economy dictionary and changing the economy."""

from __future__ import annotations

import pytest

from emgame.analysis import paths
from emgame.analysis.paths import PathError, apply, resolve
from emgame.model import economy_from_dict, economy_to_dict, load_economy
from emgame.model.schema import (
    ConsumerTable,
    MarketTable,
    ProducerTable,
    StateTable,
    UtilityTable,
    VerificationTable,
)


@pytest.fixture(scope="module")
def solar() -> dict:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return economy_to_dict(load_economy(root / "examples" / "ai_solar_day.toml"))


def keys(targets) -> list[str]:
    return [str(t) for t in targets]


def test_fields_that_may_be_varied_exist_in_the_file_schema():
    tables = [(paths.CONSUMER_FIELDS, ConsumerTable), (paths.PRODUCER_FIELDS, ProducerTable),
              (paths.MARKET_FIELDS, MarketTable), (paths.VERIFICATION_FIELDS, VerificationTable),
              (paths.STATE_FIELDS, StateTable), (paths._UTILITY, UtilityTable)]
    for fields, model in tables:
        assert set(fields) <= set(model.model_fields), model.__name__


@pytest.mark.parametrize("path, expected", [
    ("verification.fixed", ["verification.fixed"]),
    ("verification.fixed[0]", ["verification.fixed[0]"]),
    ("verification.share", ["verification.share"]),
    ("market.discount", ["market.discount"]),
    ("producers.rooftop-solar.count", ["producers[2].count"]),
    ("producers[0].capacity", ["producers[0].capacity"]),
    ("consumers.*.count", ["consumers[0].count", "consumers[1].count", "consumers[2].count"]),
    ("consumers.edge-dc.utility.weights[23]", ["consumers[2].utility.weights[23]"]),
    ("producers[-1].returns", ["producers[2].returns"]),
])
def test_resolve(solar, path, expected):
    assert keys(resolve(solar, path)) == expected


@pytest.mark.parametrize("path, message", [
    ("verificaton.fixed", "did you mean 'verification'"),
    ("producers.solar.count", "no producer type named 'solar'"),
    ("producers.rooftop-solar.cout", "did you mean 'count'"),
    ("consumers[5].count", "index 5 is out of range"),
    ("consumers", "pick a type"),
    ("consumers.*.utility", "is a table"),
    ("consumers.*.utility.weights", "is a list; name an element"),
    ("consumers.*.utility.weights[24]", "out of range"),
    ("verification.fixed[1].x", "takes an index"),
    ("states[0].probability", "has no [[states]]"),
    ("periods", "unknown key 'periods'"),
    ("", "non-empty"),
])
def test_resolve_errors(solar, path, message):
    with pytest.raises(PathError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(")):
        resolve(solar, path)


def test_states_paths():
    data = {"periods": 1, "states": [
        {"probability": 0.5, "verification": {"fixed": 0.1, "share": 0.0}},
        {"probability": 0.5, "verification": {"fixed": 0.2, "share": 0.0}}]}
    assert keys(resolve(data, "states[1].verification.fixed")) == ["states[1].verification.fixed"]
    assert keys(resolve(data, "states.*.verification.share")) == [
        "states[0].verification.share", "states[1].verification.share"]
    with pytest.raises(PathError, match="has \\[\\[states\\]\\]"):
        resolve(data, "verification.fixed")


def test_apply_set_multiply_and_validity(solar):
    out = apply(solar, [("consumers.*.count", "multiply", 3.0),
                        ("verification.fixed", "set", 0.01),
                        ("producers.community-solar.capacity", "set", 4.5)])
    assert [c["count"] for c in out["consumers"]] == [30, 120, 600]
    assert all(isinstance(c["count"], int) for c in out["consumers"])
    assert out["verification"]["fixed"] == 0.01
    assert out["producers"][1]["capacity"] == 4.5
    assert [c["count"] for c in solar["consumers"]] == [10, 40, 200]  # base untouched
    economy = economy_from_dict(out)
    assert economy.consumers.count.tolist() == [30, 120, 600]


def test_apply_one_post_of_a_scalar_fixed_cost_makes_a_list(solar):
    out = apply(solar, [("verification.fixed[13]", "set", 0.5)])
    fixed = out["verification"]["fixed"]
    assert len(fixed) == solar["periods"] + 1
    assert fixed[13] == 0.5 and fixed[0] == 0.0
    economy_from_dict(out)


def test_apply_refuses_non_whole_counts_and_missing_bases(solar):
    with pytest.raises(PathError, match="whole number"):
        apply(solar, [("consumers.*.count", "set", 2.5)])
    with pytest.raises(PathError, match="whole number"):
        apply(solar, [("consumers[0].count", "multiply", 1.05)])
    with pytest.raises(PathError, match="nothing to multiply"):
        apply(solar, [("producers[0].capacity_cost", "multiply", 2.0)])
