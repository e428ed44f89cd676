"""Economy files (docs/model.md, "Economy files"): every rule refuses a bad file with a message
naming the file and the key; the bundled examples load; files and dictionaries round-trip."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import tomli_w

import emgame.model as model
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

EXAMPLES = Path(model.__file__).resolve().parent.parent / "examples"

# --------------------------------------------------------------------------------------------
# A small valid economy, written as TOML, whose pieces each case overrides.
# --------------------------------------------------------------------------------------------

CD = '{ family = "cobb_douglas", weights = [0.5, 0.5] }'
CONSUMER = {"name": '"homes"', "count": "10", "endowment": "1.0", "utility": CD}
PRODUCER = {"name": '"solar"', "count": "3", "productivity": "2.0", "returns": "0.8",
            "capacity": "5.0", "utility": CD}


def table(header: str, base: dict[str, str], **changes: str | None) -> str:
    """A ``[[header]]`` entry: ``base`` with keys changed (``None`` drops a key)."""
    rows = {**base, **changes}
    return f"[[{header}]]\n" + "".join(f"{k} = {v}\n" for k, v in rows.items() if v is not None)


def consumer(**changes: str | None) -> str:
    return table("consumers", CONSUMER, **changes)


def producer(**changes: str | None) -> str:
    return table("producers", PRODUCER, **changes)


def econ(*, head: str = "periods = 2", market: str = "", extra: str = "",
         consumers: str | None = None, producers: str | None = None) -> str:
    """A whole file; ``market`` is the body of ``[market]``, ``extra`` goes before the types."""
    parts = [head]
    if market:
        parts.append("[market]\n" + market)
    if extra:
        parts.append(extra)
    parts.append(consumer() if consumers is None else consumers)
    parts.append(producer() if producers is None else producers)
    return "\n".join(parts) + "\n"


PREPAID = 'settlement = "prepaid"\n'
LONG_RUN = 'horizon = "long-run"\n'
CLASSIC_CD = '{ family = "cobb_douglas", weights = [0.5, 0.5], goods_weight = 1.0 }'

# (id, file text, key path expected in the message, gist expected in the message)
BAD = [
    # unknown keys, anywhere
    ("unknown-top-key", econ(head='periods = 2\ncolour = "red"'), "colour", "unknown key"),
    ("unknown-type-key-typo", econ(consumers=consumer(endowmnet="1.0")),
     "consumers[0].endowmnet", "did you mean 'endowment'"),
    ("unknown-utility-key", econ(producers=producer(
        utility='{ family = "cobb_douglas", weights = [1, 1], beta = 2 }')),
     "producers[0].utility.beta", "unknown key"),
    ("unknown-market-key", econ(market="clearing = 1\n"), "market.clearing", "unknown key"),
    ("unknown-state-key", econ(extra="[[states]]\nprobability = 1.0\nweight = 1\n"),
     "states[0].weight", "unknown key"),
    # wrong types, missing keys
    ("string-for-number", econ(consumers=consumer(endowment='"1.0"')),
     "consumers[0].endowment", 'expected a number, got string "1.0"'),
    ("bool-for-number", econ(producers=producer(productivity="true")),
     "producers[0].productivity", "expected a number, got boolean true"),
    ("string-in-weights", econ(consumers=consumer(
        utility='{ family = "cobb_douglas", weights = [0.5, "x"] }')),
     "consumers[0].utility.weights[1]", "expected a number"),
    ("utility-not-table", econ(consumers=consumer(utility='"cobb_douglas"')),
     "consumers[0].utility", "expected a table"),
    ("missing-endowment", econ(consumers=consumer(endowment=None)),
     "consumers[0].endowment", "missing"),
    ("infinite-number", econ(consumers=consumer(endowment="inf")),
     "consumers[0].endowment", "finite"),
    # periods and labels
    ("periods-zero", econ(head="periods = 0"), "periods", "must be >= 1"),
    ("periods-float", econ(head="periods = 2.0"), "periods", "expected an integer"),
    ("labels-wrong-length", econ(head='periods = 2\nperiod_labels = ["day"]'),
     "period_labels", "expected 2 labels"),
    ("labels-repeated", econ(head='periods = 2\nperiod_labels = ["day", "day"]'),
     "period_labels", "distinct"),
    ("labels-not-strings", econ(head="periods = 2\nperiod_labels = [1, 2]"),
     "period_labels[0]", "expected a string"),
    # market
    ("settlement-unknown", econ(market='settlement = "postpaid"\n'),
     "market.settlement", 'expected "simultaneous" or "prepaid"'),
    ("horizon-unknown", econ(market='horizon = "medium-run"\n'),
     "market.horizon", 'expected "short-run" or "long-run"'),
    ("goods-period-too-late", econ(market="goods_settlement_period = 3\n"),
     "market.goods_settlement_period", "must be a period in 1..2"),
    ("goods-period-zero", econ(market="goods_settlement_period = 0\n"),
     "market.goods_settlement_period", "must be >= 1"),
    ("discount-above-one", econ(market=PREPAID + "discount = 1.5\n",
                                consumers=consumer(wallet='"stationary"'),
                                producers=producer(wallet='"stationary"')),
     "market.discount", "must be <= 1"),
    ("discount-zero", econ(market=PREPAID + "discount = 0\n",
                           consumers=consumer(wallet='"stationary"'),
                           producers=producer(wallet='"stationary"')),
     "market.discount", "must be > 0"),
    ("discount-simultaneous", econ(market="discount = 0.9\n"),
     "market.discount", 'only allowed with settlement = "prepaid"'),
    # verification and states
    ("fixed-negative", econ(extra="[verification]\nfixed = -0.1\n"),
     "verification.fixed", "must be >= 0"),
    ("fixed-wrong-length", econ(extra="[verification]\nfixed = [0.0, 0.1]\n"),
     "verification.fixed", "list of 3 numbers"),
    ("fixed-entry-negative", econ(extra="[verification]\nfixed = [0.0, -0.1, 0.0]\n"),
     "verification.fixed[1]", "must be >= 0"),
    ("fixed-string", econ(extra='[verification]\nfixed = "low"\n'),
     "verification.fixed", "expected a number >= 0 or a list"),
    ("share-one", econ(extra="[verification]\nshare = 1.0\n"),
     "verification.share", "must be < 1"),
    ("share-negative", econ(extra="[verification]\nshare = -0.1\n"),
     "verification.share", "must be >= 0"),
    ("verification-and-states",
     econ(extra="[verification]\nfixed = 0.1\n[[states]]\nprobability = 1.0\n"),
     "states", "not both"),
    ("probabilities-sum",
     econ(extra="[[states]]\nprobability = 0.5\n[[states]]\nprobability = 0.4\n"),
     "states", "must sum to 1, got 0.9"),
    ("probability-zero",
     econ(extra="[[states]]\nprobability = 0.0\n[[states]]\nprobability = 1.0\n"),
     "states[0].probability", "must be > 0"),
    ("state-fixed-wrong-length", econ(extra="[[states]]\nprobability = 1.0\n"
                                            "verification = { fixed = [0.1], share = 0.0 }\n"),
     "states[0].verification.fixed", "list of 3 numbers"),
    # types: presence, names, counts, kinds, endowments
    ("no-consumers", econ(consumers=""), "consumers", "at least one consumer type"),
    ("no-producers", econ(producers=""), "producers", "at least one producer type"),
    ("name-empty", econ(consumers=consumer(name='""')), "consumers[0].name", "must not be empty"),
    ("name-duplicate-across-roles", econ(producers=producer(name='"homes"')),
     "producers[0].name", 'duplicate name "homes" (also consumers[0])'),
    ("name-duplicate-consumers", econ(consumers=consumer() + consumer()),
     "consumers[1].name", "duplicate name"),
    ("count-zero", econ(consumers=consumer(count="0")), "consumers[0].count", "must be >= 1"),
    ("count-float", econ(producers=producer(count="2.5")),
     "producers[0].count", "expected an integer, got number 2.5"),
    ("kind-unknown", econ(consumers=consumer(kind='"human"')),
     "consumers[0].kind", 'expected "ai" or "classic"'),
    ("endowment-negative", econ(consumers=consumer(endowment="-1.0")),
     "consumers[0].endowment", "must be > 0, got -1"),
    ("endowment-zero", econ(consumers=consumer(endowment="0")),
     "consumers[0].endowment", "must be > 0"),
    # utility
    ("family-unknown", econ(consumers=consumer(
        utility='{ family = "leontief", weights = [1, 1] }')),
     "consumers[0].utility.family", 'expected "cobb_douglas", "crra", "ces" or "quasilinear"'),
    ("weights-wrong-length", econ(consumers=consumer() + consumer(
        name='"offices"', utility='{ family = "cobb_douglas", weights = [0.2, 0.3, 0.5] }')),
     "consumers[1].utility.weights", "expected 2 weights (one per period), got 3"),
    ("weights-negative", econ(consumers=consumer(
        utility='{ family = "cobb_douglas", weights = [-0.5, 1.0] }')),
     "consumers[0].utility.weights[0]", "must be >= 0"),
    ("weights-all-zero", econ(consumers=consumer(
        utility='{ family = "cobb_douglas", weights = [0, 0] }')),
     "consumers[0].utility.weights", "at least one weight must be positive"),
    ("weights-all-zero-classic-no-goods", econ(consumers=consumer(
        kind='"classic"', utility='{ family = "cobb_douglas", weights = [0, 0] }')),
     "consumers[0].utility.weights", "(or goods_weight)"),
    ("goods-weight-on-ai", econ(consumers=consumer(utility=CLASSIC_CD)),
     "consumers[0].utility.goods_weight", 'only allowed for kind = "classic"'),
    ("goods-weight-negative", econ(consumers=consumer(kind='"classic"', utility=(
        '{ family = "cobb_douglas", weights = [0.5, 0.5], goods_weight = -1 }'))),
     "consumers[0].utility.goods_weight", "must be >= 0"),
    ("quasilinear-on-ai", econ(producers=producer(
        utility='{ family = "quasilinear", weights = [0.5, 0.5] }')),
     "producers[0].utility.family", 'quasilinear is for kind = "classic" only'),
    ("quasilinear-no-goods-weight", econ(producers=producer(
        kind='"classic"', utility='{ family = "quasilinear", weights = [0.5, 0.5] }')),
     "producers[0].utility.goods_weight", "quasilinear needs goods_weight > 0"),
    ("crra-missing-gamma", econ(consumers=consumer(
        utility='{ family = "crra", weights = [0.5, 0.5] }')),
     "consumers[0].utility.gamma", 'family = "crra" needs gamma'),
    ("crra-gamma-one", econ(consumers=consumer(
        utility='{ family = "crra", weights = [0.5, 0.5], gamma = 1 }')),
     "consumers[0].utility.gamma", "must not be 1"),
    ("crra-gamma-negative", econ(consumers=consumer(
        utility='{ family = "crra", weights = [0.5, 0.5], gamma = -2 }')),
     "consumers[0].utility.gamma", "must be > 0"),
    ("gamma-on-cobb-douglas", econ(consumers=consumer(
        utility='{ family = "cobb_douglas", weights = [0.5, 0.5], gamma = 2 }')),
     "consumers[0].utility.gamma", 'only allowed with family = "crra"'),
    ("ces-missing-r", econ(consumers=consumer(
        utility='{ family = "ces", weights = [0.5, 0.5] }')),
     "consumers[0].utility.r", 'family = "ces" needs r'),
    ("ces-r-zero", econ(consumers=consumer(
        utility='{ family = "ces", weights = [0.5, 0.5], r = 0 }')),
     "consumers[0].utility.r", "must not be 0"),
    ("ces-r-one", econ(consumers=consumer(
        utility='{ family = "ces", weights = [0.5, 0.5], r = 1.0 }')),
     "consumers[0].utility.r", "must be < 1"),
    ("r-on-crra", econ(consumers=consumer(
        utility='{ family = "crra", weights = [0.5, 0.5], gamma = 2, r = 0.5 }')),
     "consumers[0].utility.r", 'only allowed with family = "ces"'),
    # technology and horizon
    ("productivity-zero", econ(producers=producer(productivity="0")),
     "producers[0].productivity", "must be > 0"),
    ("returns-negative", econ(producers=producer(returns="-0.5")),
     "producers[0].returns", "must be > 0"),
    ("short-run-missing-capacity", econ(producers=producer(capacity=None)),
     "producers[0].capacity", 'horizon = "short-run" needs capacity'),
    ("short-run-capacity-zero", econ(producers=producer(capacity="0.0")),
     "producers[0].capacity", "must be > 0"),
    ("long-run-capacity-given", econ(market=LONG_RUN, producers=producer(capacity_cost="0.1")),
     "producers[0].capacity", 'not allowed with horizon = "long-run"'),
    ("long-run-missing-capacity-cost", econ(market=LONG_RUN, producers=producer(capacity=None)),
     "producers[0].capacity_cost", 'horizon = "long-run" needs capacity_cost'),
    ("capacity-cost-negative", econ(producers=producer(capacity_cost="-0.1")),
     "producers[0].capacity_cost", "must be >= 0"),
    # wallets
    ("prepaid-missing-wallet", econ(market=PREPAID, consumers=consumer(wallet="1.0")),
     "producers[0].wallet", 'settlement = "prepaid" needs a wallet on every type'),
    ("prepaid-mixed-wallets", econ(market=PREPAID, consumers=consumer(wallet='"stationary"'),
                                   producers=producer(wallet="2.0")),
     "producers[0].wallet", "no mixing"),
    ("wallet-negative", econ(market=PREPAID, consumers=consumer(wallet="-1.0"),
                             producers=producer(wallet="1.0")),
     "consumers[0].wallet", "must be >= 0"),
    ("wallet-bad-keyword", econ(market=PREPAID, consumers=consumer(wallet='"steady"'),
                                producers=producer(wallet='"stationary"')),
     "consumers[0].wallet", 'expected a number >= 0 or "stationary", got string "steady"'),
    ("wallet-simultaneous", econ(consumers=consumer(wallet="1.0")),
     "consumers[0].wallet", 'only allowed with settlement = "prepaid"'),
    # the file itself
    ("toml-syntax", "periods = \n", "", "invalid TOML"),
    ("economy-name-empty", econ(head='name = ""\nperiods = 2'), "name", "must not be empty"),
]


@pytest.mark.parametrize(("text", "key", "gist"), [case[1:] for case in BAD],
                         ids=[case[0] for case in BAD])
def test_bad_file_is_refused(tmp_path: Path, text: str, key: str, gist: str) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EconomyFileError) as info:
        load_economy(path)
    msg = str(info.value)
    assert isinstance(info.value, EconomyError)
    assert info.type is EconomyFileError
    assert "econ.toml" in msg
    line = next((ln for ln in msg.splitlines() if f": {key}: " in ln or not key), None)
    assert line is not None, f"no line names key {key!r}:\n{msg}"
    assert line.startswith(f"{path}: ")
    assert gist in line, f"{gist!r} not in {line!r}"
    for leak in ("Traceback", "pydantic", "errors.pydantic.dev", "Input should"):
        assert leak not in msg


def test_enough_distinct_bad_files() -> None:
    assert len(BAD) >= 25
    assert len({case[0] for case in BAD}) == len(BAD)
    assert len({case[1] for case in BAD}) == len(BAD)


def test_message_names_the_type(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ(consumers=consumer() + consumer(
        name='"offices"', utility='{ family = "cobb_douglas", weights = [0.2, 0.3, 0.5] }')))
    with pytest.raises(EconomyFileError) as info:
        load_economy(path)
    assert str(info.value) == (f"{path}: consumers[1].utility.weights: expected 2 weights "
                               '(one per period), got 3 (consumer "offices")')
    assert info.value.problems == (("consumers[1].utility.weights",
                                    'expected 2 weights (one per period), got 3 '
                                    '(consumer "offices")'),)


def test_several_problems_are_listed_one_per_line(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ(consumers=consumer(endowment="-1", count="0")))
    with pytest.raises(EconomyFileError) as info:
        load_economy(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert all(ln.startswith(f"{path}: consumers[0].") for ln in lines)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(EconomyFileError, match="nowhere.toml: cannot read file"):
        load_economy(path)


def test_error_pickles() -> None:
    err = EconomyFileError("econ.toml", [("periods", "must be >= 1")])
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) == "econ.toml: periods: must be >= 1"
    assert back.problems == err.problems


def test_dict_errors_name_the_source() -> None:
    data = {"periods": 2, "consumers": [], "producers": []}
    with pytest.raises(EconomyFileError, match=r"^<dict>: consumers: at least one"):
        economy_from_dict(data)
    with pytest.raises(EconomyFileError, match="^<dict>: expected a table"):
        economy_from_dict([1, 2])  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Good files.
# --------------------------------------------------------------------------------------------

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.toml"))


def test_examples_exist() -> None:
    names = {p.name for p in EXAMPLE_FILES}
    assert {"ai_solar_day.toml", "classic_peak_load.toml", "long_run_capacity.toml",
            "many_consumers.toml"} <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_loads(path: Path) -> None:
    economy = load_economy(path)
    assert economy.source == str(path)
    assert path.read_text(encoding="utf-8").startswith("#")
    # Every period is valued by some consumer (the demo economies stay solvable).
    assert np.all(economy.consumers.weights.max(axis=0) > 0)
    validate_economy(economy)


def test_ai_solar_day_is_the_seed_economy() -> None:
    e = load_economy(EXAMPLES / "ai_solar_day.toml")
    assert e.periods == 24 and len(e.labels) == 24
    assert not e.consumers.classic.any() and not e.producers.classic.any()
    assert len(e.producers) == 3 and np.all(e.producers.returns < 1)
    assert not e.costly_verification and e.market.settlement == "simultaneous"
    np.testing.assert_allclose(e.consumers.weights.sum(axis=1), 1.0, atol=1e-12)
    # Capacity leaves room to use all goods (docs/model.md, "Prices and allocations", goods in
    # an all-ai economy).
    p = e.producers
    phi_k = (p.capacity / p.productivity) ** (1 / p.returns)
    assert float(p.count @ phi_k) * e.periods > e.goods_supply


def test_long_run_example() -> None:
    e = load_economy(EXAMPLES / "long_run_capacity.toml")
    assert e.market.long_run
    assert np.all(np.isnan(e.producers.capacity)) and np.all(e.producers.capacity_cost >= 0)


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "my_market.toml"
    path.write_text(econ())
    e = load_economy(path)
    assert e.name == "my_market"
    assert economy_from_dict({**economy_to_dict(e)} | {"name": "x"}).name == "x"
    data = economy_to_dict(e)
    del data["name"]
    assert economy_from_dict(data).name == "economy"


def _same(a: Economy, b: Economy) -> None:
    assert (a.name, a.periods, a.market, a.period_labels) == (b.name, b.periods, b.market,
                                                             b.period_labels)
    for role in ("consumers", "producers"):
        pa, pb = getattr(a, role), getattr(b, role)
        assert pa.names == pb.names
        for col in ("count", "classic", "family", "weights", "goods_weight", "gamma", "r",
                    "wallet", "endowment", "productivity", "returns", "capacity",
                    "capacity_cost"):
            np.testing.assert_array_equal(getattr(pa, col), getattr(pb, col), err_msg=col)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    np.testing.assert_array_equal(a.fixed_costs, b.fixed_costs)
    np.testing.assert_array_equal(a.shares, b.shares)


ROUND_TRIP_IDS = ["prepaid-exogenous-wallets", "prepaid-stationary-quasilinear",
                  "states-crra-ces", "long-run-labels-huge-count"]
ROUND_TRIP = [
    *EXAMPLE_FILES,
    econ(market=PREPAID + "discount = 0.95\n", consumers=consumer(wallet="1.5"),
         producers=producer(wallet="0.0", capacity_cost="0.3")),
    econ(market=PREPAID, consumers=consumer(wallet='"stationary"', kind='"classic"', utility=(
        '{ family = "quasilinear", weights = [0.5, 0.0], goods_weight = 2.0 }')),
         producers=producer(wallet='"stationary"')),
    econ(extra="[[states]]\nprobability = 0.25\nverification = { fixed = [0.1, 0.2, 0.3] }\n"
               "[[states]]\nprobability = 0.75\nverification = { share = 0.1 }\n",
         consumers=consumer(utility='{ family = "crra", weights = [1, 2], gamma = 2.5 }'),
         producers=producer(utility='{ family = "ces", weights = [1, 1], r = -0.5 }')),
    econ(head='periods = 2\nperiod_labels = ["night", "day"]', market=LONG_RUN,
         consumers=consumer(count="100000000"), producers=producer(capacity=None,
                                                                   capacity_cost="0")),
]


@pytest.mark.parametrize("source", ROUND_TRIP,
                         ids=[p.stem for p in EXAMPLE_FILES] + ROUND_TRIP_IDS)
def test_round_trip(tmp_path: Path, source: Path | str) -> None:
    if isinstance(source, str):
        path = tmp_path / "econ.toml"
        path.write_text(source)
        source = path
    e = load_economy(source)
    data = economy_to_dict(e)
    back = economy_from_dict(data)
    _same(e, back)
    assert economy_to_dict(back) == data


def test_states_give_probabilities_and_costs(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ(extra=(
        "[[states]]\nprobability = 0.3\nverification = { fixed = 0.02, share = 0.05 }\n"
        "[[states]]\nprobability = 0.7\nverification = { fixed = [0.0, 0.01, 0.03] }\n")))
    e = load_economy(path)
    assert e.S == 2
    np.testing.assert_array_equal(e.probabilities, [0.3, 0.7])
    np.testing.assert_array_equal(e.fixed_costs, [[0.02, 0.02, 0.02], [0.0, 0.01, 0.03]])
    np.testing.assert_array_equal(e.shares, [0.05, 0.0])


def test_probabilities_within_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ(extra="[[states]]\nprobability = 0.1\n[[states]]\nprobability = 0.2\n"
                               "[[states]]\nprobability = 0.7\n"))  # sums to 0.9999999999999999
    assert load_economy(path).S == 3


def test_scalar_fixed_broadcasts(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ(extra="[verification]\nfixed = 0.01\nshare = 0.02\n"))
    e = load_economy(path)
    assert e.S == 1 and e.probabilities.tolist() == [1.0]
    np.testing.assert_array_equal(e.fixed_costs, [[0.01, 0.01, 0.01]])
    assert e.shares.tolist() == [0.02]


def test_no_verification_means_free(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ())
    e = load_economy(path)
    assert e.S == 1 and not e.costly_verification
    np.testing.assert_array_equal(e.fixed_costs, np.zeros((1, 3)))


def test_integers_are_numbers_and_large_counts_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ(consumers=consumer(
        count="100000000", endowment="2", utility='{ family = "cobb_douglas", weights = [1, 0] }')))
    e = load_economy(path)
    assert e.consumers.count.tolist() == [1e8]
    assert e.consumers.endowment.tolist() == [2.0]


def test_capacity_cost_allowed_in_short_run(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ(producers=producer(capacity_cost="0.1")))
    e = load_economy(path)
    assert e.producers.capacity.tolist() == [5.0]
    assert e.producers.capacity_cost.tolist() == [0.1]


def test_classic_with_only_goods_weight_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    savers = consumer(name='"savers"', kind='"classic"',
                      utility='{ family = "cobb_douglas", weights = [0, 0], goods_weight = 1 }')
    path.write_text(econ(consumers=consumer() + savers))
    e = load_economy(path)
    assert e.consumers.classic.tolist() == [False, True]
    assert e.consumers.goods_weight.tolist() == [0.0, 1.0]


def test_prepaid_wallets(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ(market=PREPAID, consumers=consumer(wallet="3"),
                         producers=producer(wallet="0.5")))
    e = load_economy(path)
    assert e.market.discount == 1.0 and not e.stationary_wallets
    assert e.consumer(0).wallet == 3.0 and e.producer(0).wallet == 0.5


# --------------------------------------------------------------------------------------------
# Python-built economies: the same rules.
# --------------------------------------------------------------------------------------------


def _python_economy(**changes: object) -> Economy:
    u = Utility("cobb_douglas", (0.5, 0.5))
    kw: dict[str, object] = dict(
        name="py", periods=2,
        consumers=[ConsumerType("homes", 10, 1.0, u)],
        producers=[ProducerType("solar", 3, 2.0, 0.8, u, capacity=5.0)],
    )
    kw.update(changes)
    return Economy.build(**kw)  # type: ignore[arg-type]


def test_python_economy_validates() -> None:
    e = _python_economy()
    assert validate_economy(e) is e
    assert e.validate() is e


BREAKING = [
    (dict(consumers=[ConsumerType("homes", 10, 1.0, Utility("cobb_douglas", (0.5, 0.5), 1.0))]),
     "consumers[0].utility.goods_weight", "classic"),
    (dict(consumers=[ConsumerType("homes", 10, -1.0, Utility("cobb_douglas", (0.5, 0.5)))]),
     "consumers[0].endowment", "must be > 0"),
    (dict(consumers=[ConsumerType("homes", 0, 1.0, Utility("cobb_douglas", (0.5, 0.5)))]),
     "consumers[0].count", "must be >= 1"),
    (dict(consumers=[ConsumerType("homes", 10, 1.0, Utility("cobb-douglas", (0.5, 0.5)))]),
     "consumers[0].utility.family", 'expected "cobb_douglas"'),
    (dict(consumers=[ConsumerType("homes", 10, 1.0, Utility("cobb_douglas", (0.2, 0.3, 0.5)))]),
     "consumers[0].utility.weights", "expected 2 weights"),
    (dict(producers=[ProducerType("solar", 3, 2.0, 0.8, Utility("cobb_douglas", (0.5, 0.5)))]),
     "producers[0].capacity", 'horizon = "short-run" needs capacity'),
    (dict(consumers=[ConsumerType("homes", 10, 1.0, Utility("cobb_douglas", (0.5, 0.5)),
                                  wallet=1.0)]),
     "consumers[0].wallet", "prepaid"),
    (dict(producers=[]), "producers", "at least one producer type"),
    (dict(producers=[ProducerType("solar", 3, 2.0, 0.8, Utility("crra", (1.0, 1.0), gamma=1.0),
                                  capacity=5.0)]),
     "producers[0].utility.gamma", "must not be 1"),
    (dict(market=Market(discount=0.9)), "market.discount", "prepaid"),
    (dict(states=[State(0.5, (0.0,) * 3, 0.0)]), "states", "probabilities must sum to 1"),
]
BREAKING_IDS = ["goods-weight-on-ai", "negative-endowment", "count-zero", "family-misspelled",
                "weights-length", "short-run-no-capacity", "wallet-simultaneous",
                "no-producers", "crra-gamma-one", "discount-simultaneous", "probabilities"]


@pytest.mark.parametrize(("changes", "key", "gist"), BREAKING, ids=BREAKING_IDS)
def test_python_economy_breaking_a_rule(changes: dict, key: str, gist: str) -> None:
    """Economy.build applies the rules of economy files (docs/model.md, "Economy files") with
    the same messages, the key path being the one the economy's file would have; before,
    it accepted negative endowments, count = 0 and producers without capacity, and a misspelled
    family or the wrong number of weights raised bare ValueErrors from inside numpy."""
    with pytest.raises(EconomyFileError) as info:
        _python_economy(**changes)
    msg = str(info.value)
    assert msg.startswith(f"<Economy.build>: {key}: "), msg
    assert gist in msg


@pytest.mark.parametrize(("changes", "key", "gist"), BREAKING[:2], ids=BREAKING_IDS[:2])
def test_python_and_file_messages_agree(changes: dict, key: str, gist: str,
                                        tmp_path: Path) -> None:
    """The message for a Python record is the file's message for the same key."""
    from emgame.model.files import records_dict

    kw: dict = dict(name="py", periods=2, market=None, states=(), period_labels=None,
                    consumers=[ConsumerType("homes", 10, 1.0,
                                            Utility("cobb_douglas", (0.5, 0.5)))],
                    producers=[ProducerType("solar", 3, 2.0, 0.8,
                                            Utility("cobb_douglas", (0.5, 0.5)), capacity=5.0)])
    kw.update(changes)
    path = tmp_path / "py.toml"
    path.write_text(tomli_w.dumps(records_dict(**kw)), encoding="utf-8")
    with pytest.raises(EconomyFileError) as from_file:
        load_economy(path)
    with pytest.raises(EconomyFileError) as from_python:
        _python_economy(**changes)
    assert str(from_file.value).split(": ", 1)[1] == str(from_python.value).split(": ", 1)[1]


def test_python_economy_accepts_numpy_numbers() -> None:
    """Counts and parameters given as numpy scalars are numbers, as in a file."""
    u = Utility("cobb_douglas", (np.float64(0.5), 0.5))
    e = _python_economy(consumers=[ConsumerType("homes", np.int64(10), np.float64(1.0), u)])
    assert e.consumers.count[0] == 10


def test_solve_accepts_a_path_and_says_what_it_wants() -> None:
    """emgame.solve takes an Economy or the path of an economy file; anything else is a
    TypeError that says what is expected (it was an AttributeError)."""
    import emgame

    with pytest.raises(TypeError, match="expected an Economy"):
        emgame.solve(42)  # type: ignore[arg-type]
    with pytest.raises(EconomyFileError, match="no-such-economy.toml: cannot read file"):
        emgame.solve("no-such-economy.toml")
    solution = emgame.solve(EXAMPLES / "ai_solar_day.toml", "competitive")
    assert solution.ok and solution.economy.name
