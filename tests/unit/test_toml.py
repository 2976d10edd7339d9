"""The one TOML writer (capgap.core.toml): what it writes, tomllib reads back as it was."""

from __future__ import annotations

import math
import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from capgap.core.toml import toml_key, toml_string, toml_value
from capgap.feeds.base import ReferenceData
from capgap.feeds.recording.recorder import session_toml
from capgap.settings.state import UiState, load_state, save_state
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]


def read_back(value: object) -> Any:
    return tomllib.loads(f"v = {toml_value(value)}")["v"]


@pytest.mark.parametrize(
    "text",
    ["plain", 'quo"te', "back\\slash", '\\"', "tab\there", "new\nline", "\r\x00\x1b[31m",
     "\x7f", "ünïcødé", "日本", "emoji \U0001f4c8", "\u2028\u2029", "'single'", '"""', "# no"],
)  # fmt: skip
def test_awkward_strings_round_trip(text: str) -> None:
    assert read_back(text) == text
    assert tomllib.loads(f"{toml_key(text)} = 1") == {text: 1}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_round_trips_as_a_value_and_a_key(text: str) -> None:
    assert read_back(text) == text
    if text:
        assert tomllib.loads(f"{toml_key(text)} = 1") == {text: 1}


def test_a_lone_surrogate_is_written_as_the_replacement_character() -> None:
    # An undecodable byte of a file name arrives as a lone surrogate, which UTF-8 cannot hold.
    assert toml_string("caf\udce9") == '"caf\\uFFFD"'
    assert read_back("caf\udce9") == "caf\ufffd"


def test_bare_keys_stay_bare() -> None:
    # A trailing newline is no part of a bare key ("$" in a regular expression lets one pass).
    assert [toml_key(key) for key in ("theme", "A-b_9", "a b", "a.b", "", "x\n")] == [
        "theme",
        "A-b_9",
        '"a b"',
        '"a.b"',
        '""',
        '"x\\u000A"',
    ]


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_round_trip_to_the_bit(value: float) -> None:
    back = read_back(value)
    assert isinstance(back, float)
    assert math.isnan(back) if math.isnan(value) else back == value
    assert math.copysign(1, back) == math.copysign(1, value) or math.isnan(value)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (3.75, "3.75"),
        (4.0, "4.0"),
        (1e300, "1e+300"),
        (-0.0, "-0.0"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (float("nan"), "nan"),
        (10**30, "1000000000000000000000000000000"),
        (True, "true"),
        (date(2025, 12, 5), "2025-12-05"),
        (time(9, 30), "09:30:00"),
        (datetime(2025, 12, 5, 16, 0, tzinfo=UTC), "2025-12-05T16:00:00+00:00"),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_literals(value: object, written: str) -> None:
    assert toml_value(value) == written


def test_dates_and_times_round_trip() -> None:
    moments: list[object] = [
        date(1, 1, 1),
        date(2025, 12, 5),
        datetime(2025, 12, 5, 9, 30, 0, 123456),
        datetime(2025, 12, 5, 9, 30, tzinfo=timezone(timedelta(hours=-5))),
        time(23, 59, 59, 999999),
    ]
    for moment in moments:
        assert read_back(moment) == moment


_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.dates(),
)
_nested = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_nested)
def test_nested_arrays_and_tables_round_trip(value: object) -> None:
    assert read_back(value) == value


def test_no_form_for_other_objects() -> None:
    with pytest.raises(TypeError, match="no TOML form for object"):
        toml_value(object())


def test_a_theme_with_a_lone_surrogate_is_saved_not_raised(tmp_path: Path) -> None:
    # A theme file named with a byte that is not UTF-8 gives a name with a lone surrogate:
    # choosing it once raised UnicodeEncodeError out of save_state, which promises never to.
    path = tmp_path / "state.toml"
    assert save_state(path, UiState("caf\udce9")) is None
    assert load_state(path) == UiState("caf\ufffd")


def test_the_recorder_writes_session_toml_byte_for_byte() -> None:
    reference = ReferenceData((3.75, 4.0), float("nan"), 'yahoo "live"\n')
    assert session_toml(date(2025, 12, 5), reference, synthetic=True) == (
        "# capgap recording, written by capgap.feeds.recording.recorder.\n"
        "session_date = 2025-12-05\n"
        "synthetic = true\n"
        'generator = "capgap.feeds.recording.recorder"\n'
        'daily_file = "daily.parquet"\n'
        'timezone = "America/New_York"\n'
        "\n"
        "[reference]\n"
        "target_range = [3.75, 4.0]\n"
        "effr = nan\n"
        'label = "yahoo \\"live\\"\\u000A"\n'
    )


def test_the_sample_session_toml_is_written_as_committed() -> None:
    # The committed sample_data/session.toml is the golden output of the sample's writer.
    from capgap.sample.output import session_toml as sample_session_toml

    committed = (ROOT / "sample_data" / "session.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(committed)
    futures = raw["futures"]
    session = SimpleNamespace(
        session_date=raw["session_date"],
        seed=raw["seed"],
        seed_start=raw["seed_search_start"],
        rotation=raw["rotation"],
        first_daily=raw["daily_first"],
        last_daily=raw["daily_last"],
        futures=SimpleNamespace(
            front_symbol=futures["front"],
            grid=futures["grid"],
            contracts=[SimpleNamespace(symbol=symbol) for symbol in futures["contracts"]],
        ),
    )
    calibration = SimpleNamespace(reference=raw["reference"])
    assert sample_session_toml(session, calibration) == committed  # type: ignore[arg-type]
