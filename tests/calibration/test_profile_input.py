"""User profile CSVs: bad input gets a clear error naming the file, the column and the line
(never a traceback or a wrong economy); good input round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from emgame import EconomyError
from emgame.calibration import (
    DataCentres,
    ProfileError,
    Profiles,
    build_day,
    bundled,
    format_profiles,
    parse_profiles,
    read_profiles,
)

HEAD = "# kind: load\nperiod,label,a,b\n"


def _rows(values_a, values_b=None):
    values_b = values_b or [1.0] * len(values_a)
    return "".join(f"{t + 1},{t:02d}h,{x},{y}\n"
                   for t, (x, y) in enumerate(zip(values_a, values_b, strict=True)))


def _write(tmp_path, text, name="loads.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _error(path, kind=None) -> str:
    with pytest.raises(ProfileError) as info:
        read_profiles(path, kind=kind)
    assert isinstance(info.value, EconomyError)  # the CLI's one error family
    return str(info.value)


def test_a_good_file_reads(tmp_path):
    p = _write(tmp_path, HEAD + _rows([1.0] * 24, [2.0] * 24))
    prof = read_profiles(p)
    assert prof.kind == "load" and prof.periods == 24
    assert prof.labels[0] == "00h"
    assert prof["b"].sum() == pytest.approx(48.0)


def test_negative_load_names_file_column_and_line(tmp_path):
    vals = [1.0] * 24
    vals[5] = -3.0
    p = _write(tmp_path, HEAD + _rows(vals))
    msg = _error(p)
    # The header is on line 2, so period 6 is on line 8.
    assert f"{p}: column \"a\", line 8: must be >= 0 (got -3)" in msg


def test_availability_above_one_is_refused(tmp_path):
    vals = [0.5] * 24
    vals[12] = 1.2
    text = "# kind: availability\nperiod,label,pv\n" + "".join(
        f"{t + 1},{t:02d}h,{x}\n" for t, x in enumerate(vals))
    p = _write(tmp_path, text, "solar.csv")
    msg = _error(p)
    assert "solar.csv: column \"pv\", line 15: must be in [0, 1] (got 1.2)" in msg


def test_every_problem_is_reported_once(tmp_path):
    vals = ["1.0"] * 24
    vals[0], vals[3] = "abc", "nan"
    p = _write(tmp_path, HEAD + _rows(vals))
    lines = _error(p).splitlines()
    assert len(lines) == 2
    assert "column \"a\", line 3: expected a number, got 'abc'" in lines[0]
    assert "column \"a\", line 6: must be a finite number" in lines[1]


@pytest.mark.parametrize(("text", "expected"), [
    ("# kind: load\nhour,a\n0,1\n", "needs a 'period' column"),
    ("# kind: load\nperiod,a,a\n1,1,1\n", "repeated columns: 'a'"),
    ("# kind: load\nperiod,a\n1,1\n3,1\n", "expected 2, got '3'"),
    ("# kind: load\nperiod,a\n1,1,5\n", "line 3: expected 2 fields, got 3"),
    ("# kind: load\nperiod,a\n", "no data rows"),
    ("# kind: load\nperiod,label\n1,x\n", "no profile columns"),
    ("period,a\n1,1\n", "no '# kind: availability' or '# kind: load' line"),
    ("# kind: wind\nperiod,a\n1,1\n", "kind: must be one of availability, load"),
    ("# kind: load\nperiod,a\n1,0\n2,0\n", "column \"a\": the daily total must be positive"),
    ("# kind: load\nperiod,label,a\n1,x,1\n2,x,1\n", "labels must be distinct"),
])
def test_malformed_files(tmp_path, text, expected):
    p = _write(tmp_path, text)
    msg = _error(p)
    assert msg.startswith(f"{p}: ")
    assert expected in msg
    assert "Traceback" not in msg


def test_missing_file_names_the_file(tmp_path):
    msg = _error(tmp_path / "nope.csv", kind="load")
    assert str(tmp_path / "nope.csv") in msg and "cannot read" in msg


def test_kind_given_overrides_the_header(tmp_path):
    """A load file read as availability is checked as availability (values in [0, 1])."""
    p = _write(tmp_path, HEAD + _rows([5.0] * 24))
    assert "must be in [0, 1] (got 5)" in _error(p, kind="availability")


def test_format_and_parse_round_trip():
    """Writing then reading gives the values back to the file's rounding and keeps the
    metadata."""
    rng = np.random.default_rng(13)
    cols = {"x": rng.uniform(0, 1, 24), "y": rng.uniform(0, 1, 24)}
    p = Profiles("availability", [f"{h:02d}h" for h in range(24)], cols, {"site": "here"})
    back = parse_profiles(format_profiles(p))
    assert back.kind == "availability" and back.metadata["site"] == "here"
    for k in cols:
        np.testing.assert_allclose(back[k], cols[k], atol=0.5e-6)


def test_bundled_files_round_trip_exactly():
    """The bundled CSVs are in the writer's format: formatting what was read gives the file's
    table back unchanged."""
    for kind in ("availability", "load"):
        p = bundled(kind)
        assert parse_profiles(format_profiles(p)).columns.keys() == p.columns.keys()
        for k, v in p.columns.items():
            np.testing.assert_array_equal(parse_profiles(format_profiles(p))[k], v)


def test_builder_names_an_unknown_profile_column(tmp_path):
    """A data-centre type that names a column the load file lacks: the error names the file
    and the column and lists the columns there are."""
    p = _write(tmp_path, HEAD + _rows([1.0] * 24))
    with pytest.raises(ProfileError) as info:
        build_day(load_profiles=p, data_centres=(DataCentres("dc", "missing", 3),))
    msg = str(info.value)
    assert f"{p}: column 'missing': no such profile; the file has 'a', 'b'" in msg


def test_builder_refuses_profiles_over_different_periods(tmp_path):
    text = "# kind: load\nperiod,a\n" + "".join(f"{t},1\n" for t in range(1, 13))
    p = _write(tmp_path, text)
    with pytest.raises(ProfileError, match="the periods differ"):
        build_day(load_profiles=p, data_centres=(DataCentres("dc", "a", 3),))


def test_builder_refuses_a_load_file_given_as_availability(tmp_path):
    """A file of MWh given where shares of capacity are expected is checked as availability."""
    p = _write(tmp_path, HEAD + _rows([250.0] * 24))
    with pytest.raises(ProfileError, match=r"must be in \[0, 1\]"):
        build_day(availability=p)


def test_builder_names_daily_energy_for_an_unknown_column():
    with pytest.raises(ProfileError, match="column 'nope': daily_energy names a profile"):
        build_day(daily_energy={"nope": 10.0})
