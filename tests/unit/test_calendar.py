"""The NYSE calendar against the tables in the market-facts notes (written out by hand here)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from capgap.market.calendar import (
    market_session,
    sessions_between,
    trading_day,
)

NY = ZoneInfo("America/New_York")

FULL_DAY_HOLIDAYS = {
    2025: [
        "01-01",
        "01-09",
        "01-20",
        "02-17",
        "04-18",
        "05-26",
        "06-19",
        "07-04",
        "09-01",
        "11-27",
        "12-25",
    ],
    2026: [
        "01-01",
        "01-19",
        "02-16",
        "04-03",
        "05-25",
        "06-19",
        "07-03",
        "09-07",
        "11-26",
        "12-25",
    ],
    2027: [
        "01-01",
        "01-18",
        "02-15",
        "03-26",
        "05-31",
        "06-18",
        "07-05",
        "09-06",
        "11-25",
        "12-24",
    ],
}
EARLY_CLOSES = {
    2025: ["07-03", "11-28", "12-24"],
    2026: ["11-27", "12-24"],
    2027: ["11-26"],
}


def _dates(table):
    return {date.fromisoformat(f"{year}-{md}") for year, days in table.items() for md in days}


def test_every_session_2025_2027_matches_the_tables():
    holidays = _dates(FULL_DAY_HOLIDAYS)
    early = _dates(EARLY_CLOSES)
    sessions = {s.day: s for s in sessions_between(date(2025, 1, 1), date(2027, 12, 31))}
    day = date(2025, 1, 1)
    while day <= date(2027, 12, 31):
        expected_open = day.weekday() < 5 and day not in holidays
        assert (day in sessions) == expected_open, day
        if expected_open:
            session = sessions[day]
            close_hour = 13 if day in early else 16
            assert session.open == datetime(day.year, day.month, day.day, 9, 30, tzinfo=NY)
            assert session.close == datetime(day.year, day.month, day.day, close_hour, tzinfo=NY)
            assert session.early_close == (day in early)
        day += timedelta(days=1)
    # 2027-12-31 is a normal session: New Year's Day 2028 falls on a Saturday.
    assert sessions[date(2027, 12, 31)].close.astimezone(NY).hour == 16


def test_open_is_1430_utc_in_winter_and_1330_utc_in_summer():
    winter, summer = trading_day(date(2025, 12, 5)), trading_day(date(2025, 7, 7))
    assert winter is not None and summer is not None
    assert winter.open == datetime(2025, 12, 5, 14, 30, tzinfo=UTC)
    assert summer.open == datetime(2025, 7, 7, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "state"),
    [
        ("2025-12-05T03:59", "closed"),
        ("2025-12-05T04:00", "pre"),
        ("2025-12-05T09:29", "pre"),
        ("2025-12-05T09:30", "open"),
        ("2025-12-05T15:59", "open"),
        ("2025-12-05T16:00", "post"),
        ("2025-12-05T19:59", "post"),
        ("2025-12-05T20:00", "closed"),
        ("2025-12-06T12:00", "closed"),
        ("2025-11-27T12:00", "holiday"),
        ("2025-11-28T13:30", "post"),
    ],
)
def test_session_state(local, state):
    now = datetime.fromisoformat(local).replace(tzinfo=NY)
    assert market_session(now).state == state


def test_next_open_and_close_over_a_weekend():
    friday_evening = datetime(2025, 12, 5, 17, 0, tzinfo=NY)
    session = market_session(friday_evening)
    assert session.next_open == datetime(2025, 12, 8, 9, 30, tzinfo=NY)
    assert session.next_close == datetime(2025, 12, 8, 16, 0, tzinfo=NY)


def test_during_the_session_next_close_is_today_and_next_open_tomorrow():
    session = market_session(datetime(2025, 12, 5, 11, 0, tzinfo=NY))
    assert session.next_close == datetime(2025, 12, 5, 16, 0, tzinfo=NY)
    assert session.next_open == datetime(2025, 12, 8, 9, 30, tzinfo=NY)


def test_holiday_names_it_and_points_to_the_early_close_after():
    session = market_session(datetime(2025, 11, 27, 10, 0, tzinfo=NY))
    assert session.state == "holiday"
    assert session.holiday == "Thanksgiving Day"
    assert session.next_open == datetime(2025, 11, 28, 9, 30, tzinfo=NY)
    assert session.next_close == datetime(2025, 11, 28, 13, 0, tzinfo=NY)


@pytest.mark.parametrize(
    ("local", "seconds"),
    [
        ("2025-12-05T10:00", 5.0),
        ("2025-12-05T08:00", 30.0),
        ("2025-12-05T17:00", 30.0),
        ("2025-12-05T22:00", 300.0),
        ("2025-12-06T12:00", 300.0),
        ("2025-12-25T12:00", 300.0),
    ],
)
def test_poll_interval_follows_the_session(local, seconds):
    from capgap.market.calendar import poll_interval

    session = market_session(datetime.fromisoformat(local).replace(tzinfo=NY))
    assert poll_interval(session, open_s=5.0, extended_s=30.0, closed_s=300.0) == seconds
