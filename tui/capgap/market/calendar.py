"""The NYSE calendar: sessions, holidays, early closes, and the session state at any instant."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO

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


#: Years computed together on a miss: a session search across New Year needs the neighbours.
_YEARS_AROUND = 1


@dataclass(frozen=True, slots=True)
class _Year:
    """One year of the NYSE calendar: its full-day closures and its 13:00 early closes."""

    closures: dict[date, str]
    half_days: dict[date, str]


def calendar_cache_path() -> Path:
    """Return the file of the cached NYSE calendar (platformdirs' user cache, ``calendar/``)."""
    from platformdirs import user_cache_path

    return user_cache_path("capgap", appauthor=False) / "calendar" / "nyse.json"


def _package_version() -> str | None:
    # Read from the installed metadata: importing holidays is the cost the cache avoids.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("holidays")
    except PackageNotFoundError:
        return None  # installed without metadata: no version to tag the cache with


def _computed(year: int) -> _Year:
    """Return ``year`` as the holidays package computes it (importing it costs ~0.1 s)."""
    import holidays

    closures = dict(holidays.financial_holidays("NYSE", years=year).items())
    named = holidays.financial_holidays("NYSE", years=year, categories=("half_day",))
    # The package names them "Christmas Eve (markets close at 1:00pm)": keep the occasion.
    return _Year(closures, {day: name.split(" (")[0] for day, name in named.items()})


def _days_json(days: dict[date, str]) -> dict[str, str]:
    return {day.isoformat(): name for day, name in days.items()}


def _days_of(stored: object) -> dict[date, str]:
    if not isinstance(stored, dict):
        raise ValueError("not a table of days")
    return {date.fromisoformat(day): str(name) for day, name in stored.items()}


def _read_cache(path: Path, version: str) -> dict[int, _Year]:
    """Return the years stored by this version of the package (none if the file is not good)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored["holidays"] != version:
            return {}  # other rules (a day of mourning added since): computed again
        return {
            int(year): _Year(_days_of(days["closures"]), _days_of(days["half_days"]))
            for year, days in stored["years"].items()
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        # Missing, damaged or from an unknown layout: the package computes it again.
        return {}


def _write_cache(path: Path, version: str, years: dict[int, _Year]) -> None:
    from capgap.core.atomic import write_atomic  # only on a miss: tempfile is no start-up cost

    body = {
        "holidays": version,
        "years": {
            str(year): {
                "closures": _days_json(days.closures),
                "half_days": _days_json(days.half_days),
            }
            for year, days in sorted(years.items())
        },
    }
    data = json.dumps(body, indent=1).encode()

    def write(handle: IO[bytes]) -> None:
        handle.write(data)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, write)
    except OSError:
        # A read-only or full cache folder costs the next start the package's import, no more.
        pass


@lru_cache(maxsize=64)
def _year(year: int) -> _Year:
    """Return the NYSE calendar of ``year``: from the cache, or computed once and stored there.

    Importing the holidays package costs about 0.1 s at each start (it loads every country's
    calendar); its answers are kept per year in capgap's cache folder, tagged with its version,
    so a newer package (a closure added) computes them again.
    """
    version = _package_version()
    if version is None:
        return _computed(year)
    path = calendar_cache_path()
    stored = _read_cache(path, version)
    if year not in stored:
        wanted = range(max(MINYEAR, year - _YEARS_AROUND), min(MAXYEAR, year + _YEARS_AROUND) + 1)
        stored |= {other: _computed(other) for other in wanted if other not in stored}
        _write_cache(path, version, stored)
    return stored[year]


def forget_years() -> None:
    """Forget the years looked up in this process (the cache file stays); for tests."""
    _year.cache_clear()


def holiday_name(day: date) -> str | None:
    """Return the name of the full-day NYSE closure on ``day``, or None."""
    return _year(day.year).closures.get(day)


def early_close_name(day: date) -> str | None:
    """Return the occasion of a 13:00 early close on ``day`` ("Christmas Eve"), or None."""
    return _year(day.year).half_days.get(day)


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
    early = day in _year(day.year).half_days
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
