"""Slow data kept on disk between runs, each entry with its own expiry (history, rates).

One reader and one writer for every entry: a JSON file ``{version, expires, data}`` per name
in capgap's cache directory, written atomically. An entry past its expiry, unreadable,
damaged or of another version is a miss (the caller fetches again), never an error.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl

from capgap.core.atomic import write_bytes_atomic
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import DAILY
from capgap.market.calendar import is_trading_day, market_session

_VERSION = 1
#: The New York Fed publishes the EFFR for the previous business day around 08:00-09:00.
RATES_PUBLISHED = time(9, 0)
#: Rates are not trusted longer than this however far the next business morning is.
RATES_MAX_AGE = timedelta(hours=4)
#: The longest the search for the next business day looks ahead (holidays, weekends).
_MAX_DAYS_AHEAD = 10


def cache_folder() -> Path:
    """Return the folder of the slow data (platformdirs' user cache, ``slow/``)."""
    from platformdirs import user_cache_path

    return user_cache_path("capgap", appauthor=False) / "slow"


class DiskCache:
    """Named JSON entries in one folder, each read back only until its expiry."""

    def __init__(self, folder: Path) -> None:
        """Keep the entries in ``folder`` (made on the first write)."""
        self.folder = folder

    def path(self, name: str) -> Path:
        """Return the file of entry ``name`` (any text: symbols such as ^GSPC are quoted)."""
        return self.folder / f"{quote(name, safe='')}.json"

    def read(self, name: str, now: datetime) -> Any | None:
        """Return the data stored under ``name`` if it has not expired at ``now``, else None."""
        kept = self._entry(name)
        if kept is None or now >= kept[0]:
            return None
        return kept[1]

    def read_expired(self, name: str) -> Any | None:
        """Return the data stored under ``name`` even past its expiry (None: none readable).

        For a source that is down: yesterday's history said as such beats no figure at all.
        """
        kept = self._entry(name)
        return None if kept is None else kept[1]

    def _entry(self, name: str) -> tuple[datetime, Any] | None:
        """Return an entry's expiry and data; None when it is missing or damaged."""
        try:
            raw = json.loads(self.path(name).read_bytes())
            if not isinstance(raw, dict) or raw.get("version") != _VERSION:
                return None
            expires = datetime.fromisoformat(raw["expires"])
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            return None  # missing or damaged: fetched again and rewritten
        if expires.tzinfo is None:
            return None
        return expires, raw.get("data")

    def write(self, name: str, data: Any, expires: datetime) -> str | None:
        """Store ``data`` (JSON-able) under ``name`` until ``expires``; None, or why not.

        A cache that cannot be written only costs the next run its requests.
        """
        payload = {"version": _VERSION, "expires": expires.isoformat(), "data": data}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(self.path(name), json.dumps(payload, allow_nan=False).encode())
        except (OSError, ValueError) as exc:
            return f"cannot cache {name} in {self.folder}: {exc}"
        return None


def history_expiry(now: datetime) -> datetime:
    """Return when daily history fetched at ``now`` goes stale: the next session close after it.

    Before today's close that is today's close (the day's bar is then final); after it, the
    next session's close.
    """
    close = market_session(now).next_close
    # No session within the calendar's reach (never in practice): a day, like the ZQ strip.
    return close if close is not None else now + timedelta(days=1)


def rates_expiry(now: datetime) -> datetime:
    """Return when the EFFR and target range read at ``now`` are asked again.

    The next New York business morning (a weekday without an NYSE holiday, at 09:00, when the
    New York Fed has published), but no more than RATES_MAX_AGE ahead: a decision day's new
    range shows within hours.
    """
    local = now.astimezone(NEW_YORK)
    day = local.date()
    morning = datetime.combine(day, RATES_PUBLISHED, NEW_YORK)
    if local >= morning or not is_trading_day(day):
        morning = _next_business_morning(day)
    return min(morning, now + RATES_MAX_AGE)


def _next_business_morning(day: date) -> datetime:
    for offset in range(1, _MAX_DAYS_AHEAD):
        later = day + timedelta(days=offset)
        if is_trading_day(later):
            return datetime.combine(later, RATES_PUBLISHED, NEW_YORK)
    return datetime.combine(day + timedelta(days=1), RATES_PUBLISHED, NEW_YORK)


def daily_to_json(frame: pl.DataFrame) -> dict[str, list[Any]]:
    """Return daily bars (DAILY) as JSON columns, each date as its day number since 1970."""
    days = frame.get_column("date").cast(pl.Int32())
    columns = {name: frame.get_column(name).to_list() for name in DAILY.names()}
    return columns | {"date": days.to_list()}


def daily_from_json(data: Any) -> pl.DataFrame | None:
    """Return daily bars (DAILY) from daily_to_json's columns, or None when they are damaged.

    A cached history is what the provider sent, parsed: one with no bar, or with a missing,
    non-finite or non-positive price, is damage, not data.
    """
    try:
        columns = {name: data[name] for name in DAILY.names()}
        frame = pl.DataFrame(
            columns, schema=DAILY | {"date": pl.Int32()}, strict=True
        ).with_columns(pl.col("date").cast(pl.Date()))
    except (TypeError, ValueError, KeyError, OverflowError, pl.exceptions.PolarsError):
        return None
    prices = [pl.col(name) for name in ("open", "high", "low", "close")]
    valid = pl.all_horizontal(
        *(price.is_not_null() & price.is_finite() & (price > 0) for price in prices)
    )
    if frame.height == 0 or not frame.select(valid.all()).item():
        return None
    return frame
