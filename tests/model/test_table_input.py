"""Consumer types from a table (``consumers_table = "x.parquet"`` / ``.csv``): round trips, the
same equilibrium as the same economy written inline, and bad rows named by row and column.

(Named ``test_table_input.py``, not ``test_tables.py``: ``tests/report/test_tables.py`` exists
and pytest's default import mode refuses two test modules with one basename.)
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from emgame import solve
from emgame.model import (
    ConsumerType,
    Economy,
    EconomyFileError,
    Population,
    ProducerType,
    Utility,
    economy_from_dict,
    economy_to_dict,
    load_economy,
)
from emgame.model import tables as tables_mod
from emgame.model.economy import _COLUMNS
from emgame.model.tables import (
    MAX_ROWS_REPORTED,
    dump_toml,
    population_table,
    table_origin,
    write_table,
)

# --------------------------------------------------------------------------------------------
# Helpers.
# --------------------------------------------------------------------------------------------

PRODUCERS = """
[[producers]]
name = "solar"
count = 3
productivity = 2.0
returns = 0.8
capacity = 50.0
utility = { family = "cobb_douglas", weights = [0.5, 0.5] }
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def toml_with_table(tmp_path: Path, table: str, *, inline: str = "", head: str = "periods = 2",
                    producers: str = PRODUCERS, market: str = "") -> Path:
    text = f'{head}\nconsumers_table = "{table}"\n'
    if market:
        text += f"\n[market]\n{market}\n"
    return write(tmp_path / "econ.toml", text + inline + producers)


def csv_file(tmp_path: Path, text: str, name: str = "c.csv") -> Path:
    return write(tmp_path / name, text)


def parquet_file(tmp_path: Path, columns: dict, name: str = "c.parquet") -> Path:
    pq.write_table(pa.table(columns), tmp_path / name)
    return tmp_path / name


def same_population(a: Population, b: Population) -> None:
    assert a.names == b.names
    for c in _COLUMNS:
        assert np.array_equal(getattr(a, c), getattr(b, c), equal_nan=True), c


def random_consumers(rng: np.random.Generator, n: int, T: int, *, mixed: bool) -> Population:
    """``n`` consumer types; with ``mixed``, every family and both kinds appear."""
    a = rng.dirichlet(np.ones(T), size=n)
    family = np.zeros(n, np.int8)
    classic = np.zeros(n, bool)
    gw = np.zeros(n)
    gamma = np.full(n, np.nan)
    r = np.full(n, np.nan)
    if mixed:
        family = (np.arange(n) % 4).astype(np.int8)     # cd, crra, ces, quasilinear
        classic = (family == 3) | (np.arange(n) % 5 == 0)
        gw = np.where(classic, rng.uniform(0.2, 1.0, n), 0.0)
        gamma = np.where(family == 1, rng.uniform(0.3, 3.0, n), np.nan)
        gamma[gamma == 1.0] = 2.0
        r = np.where(family == 2, rng.uniform(-2.0, 0.8, n), np.nan)
        r[r == 0.0] = 0.5
    return Population.from_arrays(
        names=[f"agent-{i}" for i in range(n)], count=rng.integers(1, 50, n).astype(float),
        weights=a, endowment=rng.uniform(0.5, 1.5, n), family=family, classic=classic,
        goods_weight=gw, gamma=gamma, r=r)


def small_economy(seed: int, n: int = 6, T: int = 3) -> Economy:
    """A small all-CD economy with an active Nash equilibrium (slack capacity)."""
    rng = np.random.default_rng(seed)
    cons = random_consumers(rng, n, T, mixed=False)
    prod = Population.from_arrays(
        names=[f"solar-{j}" for j in range(3)], count=np.array([2.0, 3.0, 1.0]),
        weights=rng.dirichlet(np.ones(T), size=3), productivity=rng.uniform(0.8, 1.5, 3),
        returns=rng.uniform(0.6, 0.95, 3), capacity=np.full(3, 1e4))
    return Economy(name=f"random-{seed}", periods=T, consumers=cons, producers=prod)


def split_to_files(economy: Economy, tmp_path: Path, *, inline: int, fmt: str) -> Path:
    """Write ``economy`` as TOML with its first ``inline`` consumers inline and the rest in a
    table; return the TOML's path."""
    c = economy.consumers
    rest = c.select(slice(inline, None))
    write_table(rest, tmp_path / f"rows.{fmt}")
    d = economy_to_dict(economy)
    d["consumers"] = d["consumers"][:inline]
    d = {"consumers_table": f"rows.{fmt}", **d}
    return write(tmp_path / "econ.toml", dump_toml(d))


# --------------------------------------------------------------------------------------------
# Round trips.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "weights"), [("parquet", "columns"), ("parquet", "list"),
                                              ("csv", "columns")])
def test_round_trip_every_family_and_kind(tmp_path: Path, fmt: str, weights: str) -> None:
    rng = np.random.default_rng(1)
    pop = random_consumers(rng, 40, 3, mixed=True)
    write_table(pop, tmp_path / f"c.{fmt}", weights=weights)
    e = load_economy(toml_with_table(tmp_path, f"c.{fmt}", head="periods = 3",
                                     producers=PRODUCERS.replace("[0.5, 0.5]",
                                                                 "[0.2, 0.3, 0.5]")))
    same_population(e.consumers, pop)
    assert table_origin(e.consumers) is not None


def test_list_column_and_weight_underscore_columns(tmp_path: Path) -> None:
    w = [[0.3, 0.7], [1.0, 0.0]]
    parquet_file(tmp_path, {"endowment": [1.0, 2.0], "weights": w}, "list.parquet")
    e1 = load_economy(toml_with_table(tmp_path, "list.parquet"))
    parquet_file(tmp_path, {"endowment": [1.0, 2.0], "weight_1": [0.3, 1.0],
                            "weight_2": [0.7, 0.0]}, "cols.parquet")
    e2 = load_economy(toml_with_table(tmp_path, "cols.parquet"))
    fixed = pa.array(w, pa.list_(pa.float64(), 2))  # fixed-size lists too
    parquet_file(tmp_path, {"endowment": [1.0, 2.0], "weights": fixed}, "fixed.parquet")
    e3 = load_economy(toml_with_table(tmp_path, "fixed.parquet"))
    for e in (e1, e2, e3):
        assert np.array_equal(e.consumers.weights, np.array(w))
        # defaults: names row<k> (rows numbered from 1), count 1, ai, cobb_douglas
        assert e.consumers.names == ("row1", "row2")
        assert list(e.consumers.count) == [1.0, 1.0]
        assert not e.consumers.classic.any() and not e.consumers.family.any()


def test_csv_empty_cells_take_defaults(tmp_path: Path) -> None:
    csv_file(tmp_path, "name,count,kind,family,endowment,w1,w2\n"
                       "a,2,ai,cobb_douglas,1.5,0.5,0.5\n"
                       ",,,,2.0,1,0\n"
                       "7,4,classic,crra,1.0,0.5,0.5\n"
                       .replace("crra", "cobb_douglas"))
    e = load_economy(toml_with_table(tmp_path, "c.csv"))
    c = e.consumers
    assert c.names == ("a", "row2", "7")  # a numeric-looking name stays a name
    assert list(c.count) == [2.0, 1.0, 4.0]
    assert list(c.classic) == [False, False, True]


def test_table_rows_follow_inline_types(tmp_path: Path) -> None:
    inline = """
[[consumers]]
name = "first"
count = 5
endowment = 1.0
utility = { family = "cobb_douglas", weights = [0.5, 0.5] }
"""
    csv_file(tmp_path, "name,endowment,w1,w2\nsecond,2.0,0.1,0.9\n")
    e = load_economy(toml_with_table(tmp_path, "c.csv", inline=inline))
    assert e.consumers.names == ("first", "second")
    assert list(e.consumers.endowment) == [1.0, 2.0]
    assert e.goods_supply == 5 * 1.0 + 2.0


def test_economy_to_dict_small_table_is_inline(tmp_path: Path) -> None:
    e = small_economy(0)
    path = split_to_files(e, tmp_path, inline=2, fmt="parquet")
    loaded = load_economy(path)
    d = economy_to_dict(loaded)
    assert "consumers_table" not in d and len(d["consumers"]) == len(e.consumers)
    same_population(economy_from_dict(d).consumers, e.consumers)


def test_economy_to_dict_large_table_is_a_reference(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables_mod, "INLINE_LIMIT", 3)
    import emgame.model.files as files

    monkeypatch.setattr(files, "INLINE_LIMIT", 3)
    e = small_economy(0, n=8)
    path = split_to_files(e, tmp_path, inline=2, fmt="csv")
    loaded = load_economy(path)
    d = economy_to_dict(loaded)
    assert Path(d["consumers_table"]).is_absolute()
    assert Path(d["consumers_table"]) == (tmp_path / "rows.csv").resolve()
    assert [c["name"] for c in d["consumers"]] == list(e.consumers.names[:2])
    tomllib.loads(dump_toml(d))  # still writable as a file
    again = economy_from_dict(d, "<dict>")  # the reference is absolute: no base needed
    same_population(again.consumers, e.consumers)
    again.validate()
    # A changed file is no longer a faithful reference: written inline instead.
    st = os.stat(tmp_path / "rows.csv")
    os.utime(tmp_path / "rows.csv", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    d2 = economy_to_dict(loaded)
    assert "consumers_table" not in d2 and len(d2["consumers"]) == len(e.consumers)


def test_a_table_reference_carries_its_content(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A large table is written as a reference with a hash of its content: reading the
    dictionary back after the table's rows changed is refused (it is another economy), so a
    sweep's point ids, which hash that dictionary, change with the table's content (before,
    they hashed its path only, and a resumed sweep skipped points whose data had changed)."""
    import emgame.model.files as files

    monkeypatch.setattr(files, "INLINE_LIMIT", 3)
    e = small_economy(0, n=8)
    path = split_to_files(e, tmp_path, inline=2, fmt="csv")
    d = economy_to_dict(load_economy(path))
    assert len(d["consumers_table_digest"]) == 32
    economy_from_dict(d, "<dict>")  # unchanged: fine
    table = tmp_path / "rows.csv"
    rows = pcsv.read_csv(table)
    k = rows.column_names.index("endowment")
    rows = rows.set_column(k, "endowment", pa.array(rows.column(k).to_numpy() * 1.5))
    pcsv.write_csv(rows, table)
    with pytest.raises(EconomyFileError, match="consumers_table_digest: the table .* changed"):
        economy_from_dict(d, "<dict>")
    d2 = economy_to_dict(load_economy(path))
    assert d2["consumers_table_digest"] != d["consumers_table_digest"]


def test_dict_with_relative_table_uses_base_dir(tmp_path: Path) -> None:
    write_table(small_economy(0).consumers, tmp_path / "rows.parquet")
    d = economy_to_dict(small_economy(0))
    d.pop("consumers")
    d["consumers_table"] = "rows.parquet"
    e = economy_from_dict(d, "<dict>", base_dir=tmp_path)
    same_population(e.consumers, small_economy(0).consumers)


# --------------------------------------------------------------------------------------------
# Same equilibrium as the same economy written inline.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "fmt", "inline"), [(0, "parquet", 0), (1, "csv", 2),
                                                     (2, "parquet", 3)])
def test_table_economy_solves_like_inline(tmp_path: Path, seed: int, fmt: str,
                                          inline: int) -> None:
    e = small_economy(seed)
    inline_path = write(tmp_path / "inline.toml", dump_toml(economy_to_dict(e)))
    plain = solve(load_economy(inline_path))
    tabled = solve(load_economy(split_to_files(e, tmp_path, inline=inline, fmt=fmt)))
    assert plain.ok and tabled.ok, (plain.reason, tabled.reason)
    assert np.allclose(tabled.relative_prices, plain.relative_prices, rtol=1e-9, atol=0)
    assert tabled.certificate.passed
    u1 = np.asarray(plain.to_dict()["consumers"][0]["utility"])
    u2 = np.asarray(tabled.to_dict()["consumers"][0]["utility"])
    assert np.allclose(u1, u2, rtol=1e-9)


def test_table_economy_matches_record_built_economy(tmp_path: Path) -> None:
    """Economy.build from records (the plain path) and the table path give one equilibrium."""
    T = 2
    rows = [("a", 10, 1.0, (0.3, 0.7)), ("b", 20, 0.5, (0.6, 0.4)), ("c", 5, 2.0, (0.5, 0.5))]
    built = Economy.build(
        name="records", periods=T,
        consumers=[ConsumerType(n, k, w, Utility("cobb_douglas", a)) for n, k, w, a in rows],
        producers=[ProducerType("solar", 3, 2.0, 0.8, Utility("cobb_douglas", (0.5, 0.5)),
                                capacity=50.0)])
    csv_file(tmp_path, "name,count,endowment,w1,w2\n" + "".join(
        f"{n},{k},{w!r},{a[0]!r},{a[1]!r}\n" for n, k, w, a in rows))
    tabled = load_economy(toml_with_table(tmp_path, "c.csv"))
    s1, s2 = solve(built), solve(tabled)
    assert s1.ok and s2.ok
    assert np.allclose(s1.relative_prices, s2.relative_prices, rtol=1e-9, atol=0)


# --------------------------------------------------------------------------------------------
# Bad tables: every problem names the table, the row (from 1) and the column.
# --------------------------------------------------------------------------------------------

GOOD = "name,count,endowment,w1,w2\na,1,1.0,0.5,0.5\nb,2,1.0,0.5,0.5\nc,3,1.0,0.5,0.5\n"


def bad_csv(row: int, **cells: str) -> str:
    """GOOD with row ``row`` (from 1) changed; new columns are added (empty elsewhere)."""
    lines = GOOD.strip().split("\n")
    header = lines[0].split(",")
    for k in cells:
        if k not in header:
            header.append(k)
    body = []
    for i, line in enumerate(lines[1:], start=1):
        vals = dict(zip(lines[0].split(","), line.split(","), strict=True))
        if i == row:
            vals.update(cells)
        body.append(",".join(vals.get(h, "") for h in header))
    return ",".join(header) + "\n" + "\n".join(body) + "\n"


PREPAID = 'settlement = "prepaid"'
WALLETS = ("name,count,endowment,w1,w2,wallet\na,1,1.0,0.5,0.5,{}\nb,2,1.0,0.5,0.5,{}\n"
           "c,3,1.0,0.5,0.5,{}\n")

# (id, csv text, market, expected "row R, column "C"", expected gist)
BAD_ROWS = [
    ("endowment-negative", bad_csv(2, endowment="-1.0"), "", 2, "endowment",
     "must be > 0 (got -1.0)"),
    ("endowment-empty", bad_csv(3, endowment=""), "", 3, "endowment",
     "required value is missing"),
    ("endowment-text", bad_csv(1, endowment="lots"), "", 1, "endowment",
     'expected a number (got "lots")'),
    ("count-zero", bad_csv(2, count="0"), "", 2, "count", "must be >= 1 (got 0.0)"),
    ("count-fraction", bad_csv(3, count="2.5"), "", 3, "count", "must be a whole number"),
    ("kind-unknown", bad_csv(1, kind="robot"), "", 1, "kind",
     'expected "ai" or "classic" (got "robot")'),
    ("family-unknown", bad_csv(2, family="leontief"), "", 2, "family",
     'expected "cobb_douglas", "crra", "ces" or "quasilinear"'),
    ("weight-negative", bad_csv(3, w2="-0.5"), "", 3, "w2", "must be >= 0 (got -0.5)"),
    ("weight-infinite", bad_csv(1, w1="inf"), "", 1, "w1", "must be a finite number"),
    ("weight-missing", bad_csv(2, w1=""), "", 2, "w1", "required value is missing"),
    ("weights-all-zero", bad_csv(2, w1="0", w2="0"), "", 2, "w1..w2",
     "at least one weight must be positive"),
    ("goods-weight-on-ai", bad_csv(1, goods_weight="0.5"), "", 1, "goods_weight",
     'only allowed for kind = "classic"'),
    ("crra-without-gamma", bad_csv(2, family="crra"), "", 2, "gamma",
     'missing: family = "crra" needs gamma'),
    ("crra-gamma-one", bad_csv(3, family="crra", gamma="1"), "", 3, "gamma",
     "must not be 1"),
    ("gamma-on-cobb-douglas", bad_csv(1, gamma="2"), "", 1, "gamma",
     'only allowed with family = "crra"'),
    ("ces-r-too-big", bad_csv(2, family="ces", r="1.5"), "", 2, "r", "must be < 1 (got 1.5)"),
    ("ces-r-zero", bad_csv(2, family="ces", r="0"), "", 2, "r", "must not be 0"),
    ("quasilinear-on-ai", bad_csv(3, family="quasilinear"), "", 3, "family",
     'quasilinear is for kind = "classic" only'),
    ("quasilinear-no-goods-weight", bad_csv(1, family="quasilinear", kind="classic"), "", 1,
     "goods_weight", "quasilinear needs goods_weight > 0"),
    ("duplicate-name", bad_csv(3, name="a"), "", 3, "name",
     'duplicate name "a" (also row 1)'),
    ("name-of-a-producer", bad_csv(2, name="solar"), "", 2, "name",
     'duplicate name "solar" (also producers[0])'),
    ("name-blank", bad_csv(1, name="  "), "", 1, "name", "must not be empty"),
    ("wallet-under-simultaneous", bad_csv(2, wallet="1.0"), "", 2, "wallet",
     'only allowed with settlement = "prepaid"'),
    ("wallet-missing-prepaid", WALLETS.format("stationary", "", "stationary"), PREPAID, 2,
     "wallet", 'missing: settlement = "prepaid" needs a wallet'),
    ("wallet-mixed", WALLETS.format("stationary", "stationary", "2.0"), PREPAID, 3, "wallet",
     'all "stationary" or all numbers (no mixing); producers[0].wallet is "stationary"'),
    ("wallet-negative", WALLETS.format("-3", "stationary", "stationary"), PREPAID, 1,
     "wallet", "must be >= 0 (got -3.0)"),
    ("wallet-word", WALLETS.format("plenty", "stationary", "stationary"), PREPAID, 1,
     "wallet", 'expected a number >= 0 or "stationary" (got "plenty")'),
]


@pytest.mark.parametrize(("text", "market", "row", "column", "gist"),
                         [c[1:] for c in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_bad_rows_are_named_by_row_and_column(tmp_path: Path, text: str, market: str, row: int,
                                              column: str, gist: str) -> None:
    csv_file(tmp_path, text)
    producers = PRODUCERS
    if market:
        wallet = 'wallet = "stationary"\n'
        producers = PRODUCERS.replace("capacity = 50.0\n", "capacity = 50.0\n" + wallet)
    path = toml_with_table(tmp_path, "c.csv", market=market, producers=producers)
    with pytest.raises(EconomyFileError) as info:
        load_economy(path)
    msg = str(info.value)
    prefix = f'{tmp_path / "c.csv"}: row {row}, column "{column}": '
    assert any(ln.startswith(prefix) and gist in ln for ln in msg.splitlines()), msg


def test_parquet_bad_rows_too(tmp_path: Path) -> None:
    parquet_file(tmp_path, {"endowment": [1.0, -2.0, 1.0], "weights": [[0.5, 0.5], [1.0],
                                                                       [0.2, float("nan")]]})
    with pytest.raises(EconomyFileError) as info:
        load_economy(toml_with_table(tmp_path, "c.parquet"))
    msg = str(info.value)
    assert 'c.parquet: row 2, column "endowment": must be > 0 (got -2.0)' in msg
    assert 'row 2, column "weights": expected 2 weights (one per period), got 1' in msg
    assert 'row 3, column "weights": must be a finite number (got nan)' in msg
    assert len(info.value.problems) == 3  # the short row is not reported again as NaN


def test_many_bad_rows_are_counted_not_listed(tmp_path: Path) -> None:
    n = 1000
    endowment = np.ones(n)
    endowment[100:] = -1.0   # 900 bad endowments
    w1 = np.full(n, 0.5)
    w1[500] = -1.0           # and one bad weight
    parquet_file(tmp_path, {"endowment": endowment, "w1": w1, "w2": np.full(n, 0.5)})
    with pytest.raises(EconomyFileError) as info:
        load_economy(toml_with_table(tmp_path, "c.parquet"))
    err = info.value
    assert len(err.problems) == MAX_ROWS_REPORTED + 1
    assert err.problems[0] == ('row 101, column "endowment"', "must be > 0 (got -1.0)")
    assert err.problems[-1][1] == "... and 891 more problems (900 bad rows in all)"
    assert str(err).splitlines()[-1].endswith("(900 bad rows in all)")


# Problems of the whole table (columns) or of the reference to it.
BAD_COLUMNS = [
    ("missing-endowment-column", "name,w1,w2\na,0.5,0.5\n", 'column "endowment"',
     "required column is missing"),
    ("missing-weight-column", "endowment,w1\n1.0,0.5\n", 'column "w2"',
     "required column is missing (periods = 2: the weights are w1..w2)"),
    ("extra-weight-column", "endowment,w1,w2,w3\n1.0,0.5,0.5,0.1\n", 'column "w3"',
     "unknown column (periods = 2"),
    ("no-weights", "endowment\n1.0\n", 'column "w1"', "required column is missing"),
    ("unknown-column-typo", "endowmnet,endowment,w1,w2\n1,1.0,0.5,0.5\n", 'column "endowmnet"',
     'unknown column (did you mean "endowment"?)'),
    ("two-weight-styles", "endowment,w1,w2,weight_1,weight_2\n1,1,1,1,1\n", 'column "w1"',
     "give the weights one way only"),
    ("empty-table", "endowment,w1,w2\n", "", "the table has no rows"),
]


@pytest.mark.parametrize(("text", "key", "gist"), [c[1:] for c in BAD_COLUMNS],
                         ids=[c[0] for c in BAD_COLUMNS])
def test_bad_columns(tmp_path: Path, text: str, key: str, gist: str) -> None:
    csv_file(tmp_path, text)
    with pytest.raises(EconomyFileError) as info:
        load_economy(toml_with_table(tmp_path, "c.csv"))
    msg = str(info.value)
    assert f"{tmp_path / 'c.csv'}: {key + ': ' if key else ''}{gist}" in msg, msg


def test_bool_column_is_refused(tmp_path: Path) -> None:
    parquet_file(tmp_path, {"endowment": [True, False], "w1": [1.0, 1.0], "w2": [0.0, 0.0]})
    with pytest.raises(EconomyFileError, match=r'column "endowment": expected numbers, got a '
                                               r"column of type bool"):
        load_economy(toml_with_table(tmp_path, "c.parquet"))


def test_missing_table_names_the_toml_key(tmp_path: Path) -> None:
    path = toml_with_table(tmp_path, "nowhere.parquet")
    with pytest.raises(EconomyFileError) as info:
        load_economy(path)
    assert str(info.value) == (f'{path}: consumers_table: cannot read '
                               f'"{tmp_path / "nowhere.parquet"}": no such file')


def test_unknown_table_format_names_the_toml_key(tmp_path: Path) -> None:
    path = toml_with_table(tmp_path, "consumers.xlsx")
    with pytest.raises(EconomyFileError, match=r"consumers_table: unknown table format"):
        load_economy(path)


def test_corrupt_parquet(tmp_path: Path) -> None:
    write(tmp_path / "c.parquet", "not parquet at all")
    with pytest.raises(EconomyFileError, match=r"c\.parquet: cannot read table"):
        load_economy(toml_with_table(tmp_path, "c.parquet"))


def test_toml_problems_are_reported_before_the_table_is_read(tmp_path: Path) -> None:
    csv_file(tmp_path, bad_csv(1, endowment="-1"))
    path = toml_with_table(tmp_path, "c.csv", head="periods = 0")
    with pytest.raises(EconomyFileError) as info:
        load_economy(path)
    assert info.value.source == str(path)
    assert "periods: must be >= 1" in str(info.value)


def test_no_consumers_at_all(tmp_path: Path) -> None:
    path = write(tmp_path / "econ.toml", "periods = 2\n" + PRODUCERS)
    with pytest.raises(EconomyFileError, match="consumers_table"):
        load_economy(path)


def test_population_table_writes_only_needed_columns() -> None:
    pop = random_consumers(np.random.default_rng(0), 5, 2, mixed=False)
    t = population_table(pop)
    assert t.column_names == ["name", "count", "kind", "endowment", "family", "w1", "w2"]
    assert pcsv is not None  # (CSV writing is covered by the round trips)
