"""Economy files with capacity by period, availability, storage operators and units
(docs/model.md, "Availability", "Storage", "Units"): every new rule refuses a bad file with a
message naming the file and the key; good files load into the decided representation and
round-trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emgame.model import (
    Economy,
    EconomyFileError,
    StorageType,
    Units,
    Utility,
    economy_from_dict,
    economy_to_dict,
    load_economy,
)

CD = '{ family = "cobb_douglas", weights = [0.5, 0.5] }'
Q = '{ family = "quasilinear", weights = [0.0, 0.0], goods_weight = 1.0 }'


def econ(*, market: str = "", producer: str = "capacity = 5.0\n", storage: str = "",
         extra: str = "") -> str:
    return (
        "periods = 2\n"
        + (f"[market]\n{market}" if market else "")
        + extra
        + f'[[consumers]]\nname = "homes"\ncount = 10\nendowment = 1.0\nutility = {CD}\n'
        + '[[producers]]\nname = "solar"\ncount = 3\nproductivity = 2.0\nreturns = 0.8\n'
        + producer + f"utility = {CD}\n" + storage)


def battery(**keys: str) -> str:
    base = {"name": '"battery"', "count": "2", "kind": '"classic"', "energy_capacity": "4.0",
            "power_capacity": "1.0", "utility": Q}
    base.update(keys)
    return "[[storage]]\n" + "".join(f"{k} = {v}\n" for k, v in base.items() if v != "DROP")


LONG = 'horizon = "long-run"\n'
PREPAID = 'settlement = "prepaid"\n'

BAD = [
    ("capacity-list-length", econ(producer="capacity = [1.0, 2.0, 3.0]\n"),
     "producers[0].capacity", "expected a number or a list of 2 numbers"),
    ("capacity-list-negative", econ(producer="capacity = [1.0, -2.0]\n"),
     "producers[0].capacity[1]", "must be >= 0"),
    ("capacity-scalar-zero", econ(producer="capacity = 0.0\n"),
     "producers[0].capacity", "must be > 0"),
    ("capacity-string", econ(producer='capacity = "sun"\n'),
     "producers[0].capacity", "expected a number > 0 or a list of T numbers >= 0"),
    ("availability-short-run", econ(producer="capacity = 5.0\navailability = [0.0, 1.0]\n"),
     "producers[0].availability", 'only allowed with horizon = "long-run"'),
    ("availability-above-one", econ(market=LONG, producer="capacity_cost = 0.1\n"
                                                          "availability = [0.5, 1.5]\n"),
     "producers[0].availability[1]", "must be <= 1"),
    ("availability-length", econ(market=LONG, producer="capacity_cost = 0.1\n"
                                                       "availability = [0.5]\n"),
     "producers[0].availability", "expected 2 numbers in [0, 1]"),
    ("capacity-list-long-run", econ(market=LONG, producer="capacity = [1.0, 2.0]\n"
                                                         "capacity_cost = 0.1\n"),
     "producers[0].capacity", 'not allowed with horizon = "long-run"'),
    ("storage-energy-zero", econ(storage=battery(energy_capacity="0.0")),
     "storage[0].energy_capacity", "must be > 0"),
    ("storage-power-missing", econ(storage=battery(power_capacity="DROP")),
     "storage[0].power_capacity", "missing"),
    ("storage-efficiency-above-one", econ(storage=battery(charge_efficiency="1.2")),
     "storage[0].charge_efficiency", "must be <= 1"),
    ("storage-efficiency-zero", econ(storage=battery(discharge_efficiency="0.0")),
     "storage[0].discharge_efficiency", "must be > 0"),
    ("storage-unknown-key", econ(storage=battery(capacity="4.0")),
     "storage[0].capacity", "unknown key"),
    ("storage-duplicate-name", econ(storage=battery(name='"solar"')),
     "storage[0].name", "names are unique across consumers, producers and storage"),
    ("storage-weights-length", econ(storage=battery(
        utility='{ family = "quasilinear", weights = [0.0], goods_weight = 1.0 }')),
     "storage[0].utility.weights", "expected 2 weights"),
    ("storage-quasilinear-ai", econ(storage=battery(kind='"ai"')),
     "storage[0].utility.family", 'quasilinear is for kind = "classic" only'),
    ("storage-wallet-simultaneous", econ(storage=battery(wallet="1.0")),
     "storage[0].wallet", 'only allowed with settlement = "prepaid"'),
    ("units-empty", econ(extra='[units]\nelectricity = ""\n'), "units.electricity",
     "must not be empty"),
    ("units-not-string", econ(extra="[units]\ngoods = 1\n"), "units.goods",
     "expected a string"),
    ("units-unknown-key", econ(extra='[units]\nenergy = "MWh"\n'), "units.energy",
     "unknown key"),
]


@pytest.mark.parametrize(("text", "key", "gist"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_file_is_refused(tmp_path: Path, text: str, key: str, gist: str) -> None:
    """Each new rule refuses the file with one line naming the file and the key."""
    path = tmp_path / "econ.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EconomyFileError) as info:
        load_economy(path)
    msg = str(info.value)
    line = next((ln for ln in msg.splitlines() if f": {key}: " in ln), None)
    assert line is not None, f"no line names {key!r}:\n{msg}"
    assert line.startswith(f"{path}: ") and gist in line, line
    for leak in ("Traceback", "pydantic", "Input should"):
        assert leak not in msg


def test_storage_message_names_the_type(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    path.write_text(econ(storage=battery(energy_capacity="-1")))
    with pytest.raises(EconomyFileError) as info:
        load_economy(path)
    assert 'storage[0].energy_capacity: must be > 0, got -1 (storage "battery")' in str(
        info.value)


def test_prepaid_needs_a_wallet_on_storage_too(tmp_path: Path) -> None:
    path = tmp_path / "econ.toml"
    text = econ(market=PREPAID, storage=battery()).replace(
        "endowment = 1.0\n", 'endowment = 1.0\nwallet = "stationary"\n').replace(
        "capacity = 5.0\n", 'capacity = 5.0\nwallet = "stationary"\n')
    path.write_text(text)
    with pytest.raises(EconomyFileError) as info:
        load_economy(path)
    assert "storage[0].wallet: missing" in str(info.value)
    path.write_text(text.replace('power_capacity = 1.0\n',
                                 'power_capacity = 1.0\nwallet = "stationary"\n'))
    assert load_economy(path).stationary_wallets


ROUND_TRIP = {
    "capacity-by-period": econ(producer="capacity = [0.0, 4.0]\n"),
    "capacity-all-zero": econ(producer="capacity = [0.0, 0.0]\n").replace(
        "[[producers]]", '[[producers]]\nname = "gas"\ncount = 1\nproductivity = 1.0\n'
        f'returns = 0.8\ncapacity = 1.0\nutility = {CD}\n[[producers]]'),
    "long-run-availability": econ(market=LONG,
                                  producer="capacity_cost = 0.1\navailability = [0.0, 0.7]\n"),
    "storage-and-units": econ(storage=battery(charge_efficiency="0.9",
                                              discharge_efficiency="0.8"),
                              extra='[units]\nelectricity = "MWh"\ngoods = "USD"\n'),
}


@pytest.mark.parametrize("text", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_round_trip(tmp_path: Path, text: str) -> None:
    """File → economy → dictionary → economy gives the same economy and the same dictionary
    (capacity by period written back as given, availability in the long run, storage,
    units)."""
    path = tmp_path / "econ.toml"
    path.write_text(text)
    e = load_economy(path)
    d = economy_to_dict(e)
    back = economy_from_dict(d)
    assert economy_to_dict(back) == d
    for role, pop in e.roles:
        other = dict(back.roles)[role]
        assert pop.names == other.names
        np.testing.assert_array_equal(pop.period_capacity() if role == "producers"
                                      else pop.weights, other.period_capacity()
                                      if role == "producers" else other.weights)
        np.testing.assert_array_equal(np.asarray(pop.availability),
                                      np.asarray(other.availability))
    assert e.units == back.units


def test_representation_of_section_10(tmp_path: Path) -> None:
    """The decided representation (docs/model.md, "Availability"): capacity by period is
    K̄ = max K̄^t with s^t = K̄^t/K̄; in the long run K is NaN (chosen) and s is the given
    availability; storage and units as given."""
    path = tmp_path / "econ.toml"
    path.write_text(econ(producer="capacity = [1.0, 4.0]\n", storage=battery(),
                         extra='[units]\nelectricity = "MWh"\ngoods = "USD"\n'))
    e = load_economy(path)
    np.testing.assert_array_equal(e.producers.capacity, [4.0])
    np.testing.assert_array_equal(e.producers.availability, [[0.25, 1.0]])
    assert e.storage.names == ("battery",)
    np.testing.assert_array_equal(e.storage.energy_capacity, [4.0])
    np.testing.assert_array_equal(e.storage.charge_efficiency, [1.0])
    assert e.units == Units("MWh", "USD") and e.units.price() == "USD/MWh"
    assert e.units.price(nominal=True) == "bytecoins/MWh"
    path.write_text(econ(market=LONG, producer="capacity_cost = 0.1\navailability = [0.0, 0.5]\n"))
    e = load_economy(path)
    assert np.isnan(e.producers.capacity[0])
    np.testing.assert_array_equal(e.producers.availability, [[0.0, 0.5]])
    np.testing.assert_array_equal(e.producers.period_capacity(np.array([2.0])), [[0.0, 1.0]])


def test_python_records_follow_the_file_rules() -> None:
    """Economy.build checks storage records by the file's rules (same key paths)."""
    from emgame.model import ConsumerType, ProducerType

    u = Utility("cobb_douglas", (0.5, 0.5))
    with pytest.raises(EconomyFileError) as info:
        Economy.build(name="x", periods=2, consumers=[ConsumerType("c", 1, 1.0, u)],
                      producers=[ProducerType("p", 1, 1.0, 0.8, u, capacity=(1.0, 2.0))],
                      storage=[StorageType("b", 1, 1.0, 1.0, u, charge_efficiency=1.5)])
    assert "storage[0].charge_efficiency: must be <= 1" in str(info.value)
    e = Economy.build(name="x", periods=2, consumers=[ConsumerType("c", 1, 1.0, u)],
                      producers=[ProducerType("p", 1, 1.0, 0.8, u, capacity=(1.0, 2.0))],
                      storage=[StorageType("b", 1, 1.0, 1.0, u)], units=Units("MWh"))
    assert e.storage_type(0) == StorageType("b", 1, 1.0, 1.0, u)
    assert e.units.electricity == "MWh" and e.units.price() is None
