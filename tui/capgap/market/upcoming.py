"""The market's coming events: NYSE holidays, early closes and FOMC decisions, in date order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from capgap.core.market_types import NEW_YORK
from capgap.market.calendar import early_close_name, holiday_name, trading_day
from capgap.market.fomc import FomcMeeting, default_schedule

EventKind = Literal["holiday", "early_close", "fomc"]


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """One coming event; ``at`` is the early close or the FOMC statement (UTC), else None."""

    day: date
    kind: EventKind
    name: str
    at: datetime | None = None
    sep: bool = False


def upcoming_events(
    now: datetime, days: int = 90, schedule: tuple[FomcMeeting, ...] | None = None
) -> list[MarketEvent]:
    """Return the holidays, early closes and FOMC decisions from ``now`` to ``days`` ahead."""
    today = now.astimezone(NEW_YORK).date()
    last = today + timedelta(days=days)
    events: list[MarketEvent] = []
    day = today
    while day <= last:
        closure = holiday_name(day)
        if closure is not None:
            events.append(MarketEvent(day, "holiday", closure))
        occasion = early_close_name(day)
        session = trading_day(day)
        if occasion is not None and session is not None and session.close > now:
            events.append(MarketEvent(day, "early_close", occasion, at=session.close))
        day += timedelta(days=1)
    for meeting in schedule if schedule is not None else default_schedule():
        if meeting.statement_at >= now and meeting.date <= last:
            events.append(
                MarketEvent(
                    meeting.date, "fomc", "FOMC decision", at=meeting.statement_at, sep=meeting.sep
                )
            )
    return sorted(events, key=lambda event: (event.day, event.kind))
