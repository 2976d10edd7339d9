"""Slow data kept on disk between runs, each entry with its own expiry (history, rates).

One reader and one writer for every entry: a JSON file ``{version, expires, data}`` per name
in capgap's cache directory, written atomically. An entry past its expiry, unreadable,
damaged or of another version is a miss (the caller fetches again), never an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl

from capgap.core.atomic import write_bytes_atomic
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import DAILY, empty
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


#: The column that says which entry a bar came from while many are read at once.
_ENTRY = "_entry"


def daily_from_json(data: Any) -> pl.DataFrame | None:
    """Return daily bars (DAILY) from daily_to_json's columns, or None when they are damaged.

    A cached history is what the provider sent, parsed: one with no bar, or with a missing,
    non-finite or non-positive price, is damage, not data.
    """
    frame, whole = dailies_from_json([data])
    return frame if whole[0] else None


def dailies_from_json(entries: Sequence[Any]) -> tuple[pl.DataFrame, list[bool]]:
    """Return the daily bars of many daily_to_json entries as one frame, and which were whole.

    Each entry is checked as daily_from_json says; the whole ones' bars come in one frame, in
    the entries' order, built at once (a dozen histories in one pass, not one each).
    """
    names = DAILY.names()
    columns: dict[str, list[Any]] = {name: [] for name in names}
    owners: list[int] = []
    for index, data in enumerate(entries):
        try:
            lists = [data[name] for name in names]
        except (TypeError, KeyError, IndexError):
            continue
        rows = len(lists[0]) if isinstance(lists[0], list) else 0
        if rows == 0 or any(
            not isinstance(values, list) or len(values) != rows for values in lists
        ):
            continue  # no bar, or columns of different lengths
        for name, values in zip(names, lists, strict=True):
            columns[name].extend(values)
        owners.extend(repeat(index, rows))
    try:
        frame = pl.DataFrame(
            columns | {_ENTRY: owners},
            schema=DAILY | {"date": pl.Int32(), _ENTRY: pl.UInt32()},
            strict=True,
        )
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        if len(entries) == 1:
            return empty(DAILY), [False]
        # A value of the wrong type in one of them: each on its own says which.
        singles = [dailies_from_json([data]) for data in entries]
        return _concat_daily([one for one, whole in singles if whole[0]]), [
            whole[0] for _one, whole in singles
        ]
    prices = [pl.col(name) for name in ("open", "high", "low", "close")]
    valid = pl.all_horizontal(
        *(price.is_not_null() & price.is_finite() & (price > 0) for price in prices)
    )
    frame = frame.filter(valid.all().over(_ENTRY))
    kept = set(frame.get_column(_ENTRY).unique().to_list())
    bars = frame.drop(_ENTRY).with_columns(pl.col("date").cast(pl.Date()))
    return bars, [index in kept for index in range(len(entries))]


def _concat_daily(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(frames) if frames else empty(DAILY)
