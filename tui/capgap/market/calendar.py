"""The NYSE calendar: sessions, holidays, early closes, and the session state at any instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from capgap.core.market_types import NEW_YORK, MarketSession, SessionState

REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
EARLY_CLOSE = time(13, 0)
PRE_MARKET_OPEN = time(4, 0)
POST_MARKET_CLOSE = time(20, 0)
# A search for the next session never needs to look further than this (the longest closure
# of the exchange in modern times is far shorter).
_MAX_SEARCH_DAYS = 30


@dataclass(frozen=True, slots=True)
class TradingDay:
    """One NYSE session: its date and its regular open and close (UTC)."""

    day: date
    open: datetime
    close: datetime
    early_close: bool


@lru_cache(maxsize=64)
def _closures(year: int) -> dict[date, str]:
    # The holidays package is imported lazily: it is only needed once the calendar is asked.
    import holidays

    return dict(holidays.financial_holidays("NYSE", years=year).items())


@lru_cache(maxsize=64)
def _half_days(year: int) -> dict[date, str]:
    import holidays

    named = holidays.financial_holidays("NYSE", years=year, categories=("half_day",))
    # The package names them "Christmas Eve (markets close at 1:00pm)": keep the occasion.
    return {day: name.split(" (")[0] for day, name in named.items()}


def holiday_name(day: date) -> str | None:
    """Return the name of the full-day NYSE closure on ``day``, or None."""
    return _closures(day.year).get(day)


def early_close_name(day: date) -> str | None:
    """Return the occasion of a 13:00 early close on ``day`` ("Christmas Eve"), or None."""
    return _half_days(day.year).get(day)


def is_trading_day(day: date) -> bool:
    """Return True when the NYSE holds a session on ``day``."""
    return day.weekday() < 5 and holiday_name(day) is None


def _at(day: date, clock_time: time) -> datetime:
    # Building the local time through zoneinfo handles the DST changes correctly.
    return datetime.combine(day, clock_time, tzinfo=NEW_YORK).astimezone(UTC)


def trading_day(day: date) -> TradingDay | None:
    """Return the session held on ``day``, or None when the exchange is closed."""
    if not is_trading_day(day):
        return None
    early = day in _half_days(day.year)
    return TradingDay(
        day=day,
        open=_at(day, REGULAR_OPEN),
        close=_at(day, EARLY_CLOSE if early else REGULAR_CLOSE),
        early_close=early,
    )


def sessions_between(start: date, end: date) -> list[TradingDay]:
    """Return every session from ``start`` to ``end`` inclusive."""
    days: list[TradingDay] = []
    day = start
    while day <= end:
        session = trading_day(day)
        if session is not None:
            days.append(session)
        day += timedelta(days=1)
    return days


def next_session(day: date) -> TradingDay:
    """Return the first session on or after ``day``."""
    for offset in range(_MAX_SEARCH_DAYS):
        session = trading_day(day + timedelta(days=offset))
        if session is not None:
            return session
    raise LookupError(f"no NYSE session within {_MAX_SEARCH_DAYS} days of {day}")


def previous_session(day: date) -> TradingDay:
    """Return the last session strictly before ``day``."""
    for offset in range(1, _MAX_SEARCH_DAYS):
        session = trading_day(day - timedelta(days=offset))
        if session is not None:
            return session
    raise LookupError(f"no NYSE session within {_MAX_SEARCH_DAYS} days before {day}")


def market_session(now: datetime) -> MarketSession:
    """Return the session state at ``now`` with the next regular open and close."""
    local = now.astimezone(NEW_YORK)
    today = trading_day(local.date())
    name = holiday_name(local.date())
    if today is not None and now < today.close:
        next_close = today.close
        next_open = (
            today.open if now < today.open else next_session(local.date() + timedelta(days=1)).open
        )
    else:
        upcoming = next_session(local.date() + timedelta(days=1))
        next_open, next_close = upcoming.open, upcoming.close
    state: SessionState
    if today is None:
        state = "holiday" if name is not None else "closed"
    elif today.open <= now < today.close:
        state = "open"
    elif _at(local.date(), PRE_MARKET_OPEN) <= now < today.open:
        state = "pre"
    elif today.close <= now < _at(local.date(), POST_MARKET_CLOSE):
        state = "post"
    else:
        state = "closed"
    return MarketSession(
        state=state,
        next_open=next_open,
        next_close=next_close,
        holiday=name,
        early_close=today.early_close if today is not None else False,
    )


def poll_interval(
    session: MarketSession, open_s: float, extended_s: float, closed_s: float
) -> float:
    """Return the seconds between polls for a session state: fast open, slower around, slow shut."""
    if session.state == "open":
        return open_s
    if session.state in ("pre", "post"):
        return extended_s
    return closed_s
