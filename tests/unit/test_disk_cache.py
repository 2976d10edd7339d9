"""The disk cache of slow data: entries read back until their expiry, damage ignored."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import DAILY
from capgap.feeds.disk_cache import (
    DiskCache,
    dailies_from_json,
    daily_from_json,
    daily_to_json,
    history_expiry,
    rates_expiry,
)
from polars.testing import assert_frame_equal

NOW = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def test_an_entry_is_read_until_its_expiry(tmp_path: Path):
    cache = DiskCache(tmp_path / "slow")
    expires = NOW + timedelta(hours=2)
    assert cache.write("rates", {"effr": 3.89}, expires) is None
    assert cache.read("rates", NOW) == {"effr": 3.89}
    assert cache.read("rates", expires - timedelta(seconds=1)) == {"effr": 3.89}
    assert cache.read("rates", expires) is None
    assert cache.read("other", NOW) is None


def test_names_with_symbols_get_their_own_files(tmp_path: Path):
    cache = DiskCache(tmp_path)
    cache.write("daily-^GSPC", 1, NOW + timedelta(hours=1))
    cache.write("daily-^RUT", 2, NOW + timedelta(hours=1))
    cache.write("daily-../x", 3, NOW + timedelta(hours=1))
    assert [cache.read(name, NOW) for name in ("daily-^GSPC", "daily-^RUT", "daily-../x")] == [
        1,
        2,
        3,
    ]
    # Everything stays inside the folder, whatever the name holds.
    assert {path.parent for path in tmp_path.iterdir()} == {tmp_path}


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{",
        b"null",
        b'{"version": 1, "data": 5}',
        b'{"version": 1, "expires": "soon", "data": 5}',
        b'{"version": 1, "expires": "2030-01-01T00:00:00", "data": 5}',
        b'{"version": 2, "expires": "2030-01-01T00:00:00+00:00", "data": 5}',
        b"\xff\xfe",
        b"[" * 5000,
    ],
)
def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path: Path, damage: bytes):
    cache = DiskCache(tmp_path)
    cache.path("rates").write_bytes(damage)
    assert cache.read("rates", NOW) is None
    assert cache.write("rates", [1, 2], NOW + timedelta(minutes=1)) is None
    assert cache.read("rates", NOW) == [1, 2]


def test_an_unwritable_cache_says_why_and_raises_nothing(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    problem = DiskCache(blocker / "slow").write("rates", 1, NOW + timedelta(hours=1))
    assert problem is not None and "rates" in problem


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Fri 5 Dec 2025: before the close, today's close; after it, Monday's.
        (ny(2025, 12, 5, 11), ny(2025, 12, 5, 16)),
        (ny(2025, 12, 5, 16), ny(2025, 12, 8, 16)),
        (ny(2025, 12, 6, 12), ny(2025, 12, 8, 16)),
        # Thanksgiving (Thu 27 Nov) is closed; Friday closes at 13:00.
        (ny(2025, 11, 26, 17), ny(2025, 11, 28, 13)),
        # Christmas Eve closes at 13:00.
        (ny(2025, 12, 24, 9), ny(2025, 12, 24, 13)),
    ],
)
def test_history_is_kept_until_the_next_session_close(now: datetime, expected: datetime):
    assert history_expiry(now) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Before Monday's 09:00 publication: until then.
        (ny(2025, 12, 8, 7), ny(2025, 12, 8, 9)),
        # After it: Tuesday's morning is further than four hours, so four hours.
        (ny(2025, 12, 8, 10), ny(2025, 12, 8, 14)),
        # Friday 23:00: the four hours end before Monday's morning.
        (ny(2025, 12, 5, 23), ny(2025, 12, 6, 3)),
        # Sunday 07:00: Monday's morning is further than four hours.
        (ny(2025, 12, 7, 7), ny(2025, 12, 7, 11)),
        # Christmas Day is no business morning: at 06:00 on the 26th, 09:00 that day.
        (ny(2025, 12, 26, 6), ny(2025, 12, 26, 9)),
        # 06:00 on Christmas Day: the next morning is the 26th, further than four hours.
        (ny(2025, 12, 25, 6), ny(2025, 12, 25, 10)),
        # 23:00 on the 25th: the 26th at 09:00 is further than four hours.
        (ny(2025, 12, 25, 23), ny(2025, 12, 26, 3)),
        # 06:00 on Monday: three hours to the morning.
        (ny(2025, 12, 8, 6), ny(2025, 12, 8, 9)),
    ],
)
def test_rates_are_kept_until_the_next_business_morning_or_four_hours(
    now: datetime, expected: datetime
):
    assert rates_expiry(now) == expected


def daily_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "symbol": ["^GSPC", "^GSPC"],
            "date": [date(2025, 12, 4), date(2025, 12, 5)],
            "open": [6800.0, 6850.5],
            "high": [6820.0, 6870.25],
            "low": [6790.0, 6840.0],
            "close": [6810.0, 6857.12],
            "volume": [0.0, 1.5e9],
        },
        schema=DAILY,
    )


def test_daily_bars_survive_the_round_trip(tmp_path: Path):
    cache = DiskCache(tmp_path)
    cache.write("daily-^GSPC", daily_to_json(daily_frame()), NOW + timedelta(hours=1))
    back = daily_from_json(cache.read("daily-^GSPC", NOW))
    assert back is not None
    assert_frame_equal(back, daily_frame())


@pytest.mark.parametrize(
    "damage",
    [
        None,
        5,
        {"symbol": ["^GSPC"]},
        daily_to_json(daily_frame()) | {"date": ["yesterday", "today"]},
        daily_to_json(daily_frame()) | {"close": [6810.0, -1.0]},
        daily_to_json(daily_frame()) | {"close": [6810.0, None]},
        daily_to_json(daily_frame()) | {"close": [6810.0]},
        daily_to_json(daily_frame().clear()),
    ],
)
def test_damaged_daily_bars_are_a_miss(damage: object):
    assert daily_from_json(damage) is None


def _other_index() -> pl.DataFrame:
    return daily_frame().with_columns(pl.lit("^RUT").alias("symbol"), pl.col("close") / 3)


@pytest.mark.parametrize(
    "damage",
    [
        None,
        {"symbol": ["^GSPC"]},
        daily_to_json(daily_frame()) | {"close": [6810.0, -1.0]},
        daily_to_json(daily_frame()) | {"close": [6810.0]},
        daily_to_json(daily_frame().clear()),
        # A value of the wrong type: the frame of all of them cannot be built at once.
        daily_to_json(daily_frame()) | {"date": ["yesterday", "today"]},
    ],
)
def test_many_histories_read_at_once_keep_the_whole_ones_in_order(damage: object):
    entries = [daily_to_json(daily_frame()), damage, daily_to_json(_other_index())]
    frame, whole = dailies_from_json(entries)
    assert whole == [True, False, True]
    assert_frame_equal(frame, pl.concat([daily_frame(), _other_index()]))


def test_histories_all_damaged_read_at_once_are_no_bars():
    frame, whole = dailies_from_json([None, {"close": [1.0]}])
    assert whole == [False, False]
    assert frame.height == 0 and frame.schema == DAILY
