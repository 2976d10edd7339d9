"""The FOMC schedule (a data file in the package) and the countdown to the next statement."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

from capgap.core.market_types import NEW_YORK, FomcDecision

_SCHEDULE = Path(__file__).resolve().parent / "data" / "fomc.toml"


@dataclass(frozen=True, slots=True)
class FomcMeeting:
    """A scheduled decision: its day, whether it brings projections, and its statement time."""

    date: date
    sep: bool
    statement_at: datetime


def _parse_clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def load_schedule(path: Path = _SCHEDULE) -> tuple[FomcMeeting, ...]:
    """Load and sort the decision days of a schedule file."""
    with path.open("rb") as handle:
        raw: dict[str, Any] = tomllib.load(handle)
    statement = _parse_clock(str(raw.get("statement_time", "14:00")))
    meetings = []
    for entry in raw["decisions"]:
        day = entry["date"]
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"{path}: decision date {day!r} is not a TOML date")
        at = datetime.combine(day, statement, tzinfo=NEW_YORK).astimezone(UTC)
        meetings.append(FomcMeeting(date=day, sep=bool(entry.get("sep", False)), statement_at=at))
    return tuple(sorted(meetings, key=lambda meeting: meeting.date))


@lru_cache(maxsize=1)
def default_schedule() -> tuple[FomcMeeting, ...]:
    """Return the schedule that ships with capgap."""
    return load_schedule()


def extend_schedule(
    schedule: tuple[FomcMeeting, ...], extra: Iterable[tuple[date, bool]]
) -> tuple[FomcMeeting, ...]:
    """Return ``schedule`` with added decisions (date, sep); an added date replaces its twin."""
    by_date = {meeting.date: meeting for meeting in schedule}
    statement = schedule[0].statement_at.astimezone(NEW_YORK).time() if schedule else time(14)
    for day, sep in extra:
        at = datetime.combine(day, statement, tzinfo=NEW_YORK).astimezone(UTC)
        by_date[day] = FomcMeeting(date=day, sep=sep, statement_at=at)
    return tuple(sorted(by_date.values(), key=lambda meeting: meeting.date))


def next_decision(
    now: datetime, schedule: tuple[FomcMeeting, ...] | None = None
) -> FomcDecision | None:
    """Return the first decision whose statement is at or after ``now`` (None past the file)."""
    for meeting in schedule if schedule is not None else default_schedule():
        if meeting.statement_at >= now:
            return FomcDecision(
                date=meeting.date,
                statement_at=meeting.statement_at,
                seconds_until=int((meeting.statement_at - now).total_seconds()),
                sep=meeting.sep,
            )
    return None


def format_countdown(seconds: int) -> str:
    """Format seconds as DD:HH:MM:SS (negative values clamp to zero)."""
    seconds = max(0, seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    return f"{days:02d}:{hours:02d}:{minutes:02d}:{secs:02d}"


def recent_decision(
    now: datetime, schedule: tuple[FomcMeeting, ...] | None = None
) -> FomcDecision | None:
    """Return the latest decision already out while it is nearer than the next one, else None.

    Its ``seconds_until`` is negative: the seconds since the statement.
    """
    meetings = schedule if schedule is not None else default_schedule()
    past = [meeting for meeting in meetings if meeting.statement_at <= now]
    if not past:
        return None
    last = past[-1]
    upcoming = next_decision(now, meetings)
    since = (now - last.statement_at).total_seconds()
    if upcoming is not None and upcoming.seconds_until <= since:
        return None
    return FomcDecision(
        date=last.date, statement_at=last.statement_at, seconds_until=-int(since), sep=last.sep
    )
