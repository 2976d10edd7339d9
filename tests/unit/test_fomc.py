"""The FOMC schedule and countdown against the table in the market-facts notes."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from capgap.market.fomc import default_schedule, format_countdown, next_decision

NY = ZoneInfo("America/New_York")

DECISIONS = [
    "2025-01-29",
    "2025-03-19*",
    "2025-05-07",
    "2025-06-18*",
    "2025-07-30",
    "2025-09-17*",
    "2025-10-29",
    "2025-12-10*",
    "2026-01-28",
    "2026-03-18*",
    "2026-04-29",
    "2026-06-17*",
    "2026-07-29",
    "2026-09-16*",
    "2026-10-28",
    "2026-12-09*",
    "2027-01-27",
    "2027-03-17*",
    "2027-04-28",
    "2027-06-09*",
    "2027-07-28",
    "2027-09-15*",
    "2027-10-27",
    "2027-12-08*",
]


def test_schedule_matches_the_notes():
    expected = [(date.fromisoformat(d.rstrip("*")), d.endswith("*")) for d in DECISIONS]
    assert [(m.date, m.sep) for m in default_schedule()] == expected


def test_statement_is_1400_new_york_in_winter_and_summer():
    by_date = {m.date: m for m in default_schedule()}
    assert by_date[date(2025, 12, 10)].statement_at == datetime(2025, 12, 10, 19, tzinfo=UTC)
    assert by_date[date(2025, 7, 30)].statement_at == datetime(2025, 7, 30, 18, tzinfo=UTC)


def test_countdown_from_the_sample_open():
    decision = next_decision(datetime(2025, 12, 5, 9, 30, tzinfo=NY))
    assert decision is not None
    assert decision.date == date(2025, 12, 10)
    assert decision.sep
    # Fri 09:30 to Wed 14:00 = 5 days 4.5 hours.
    assert decision.seconds_until == 5 * 86_400 + 4 * 3_600 + 30 * 60
    assert format_countdown(decision.seconds_until) == "05:04:30:00"


def test_after_the_statement_the_next_meeting_counts():
    decision = next_decision(datetime(2025, 12, 10, 14, 0, 1, tzinfo=NY))
    assert decision is not None and decision.date == date(2026, 1, 28)


def test_past_the_schedule_there_is_no_decision():
    assert next_decision(datetime(2028, 6, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00:00:00"),
        (59, "00:00:00:59"),
        (86_399, "00:23:59:59"),
        (-5, "00:00:00:00"),
        (12 * 86_400 + 3_661, "12:01:01:01"),
    ],
)
def test_format_countdown(seconds, text):
    assert format_countdown(seconds) == text
