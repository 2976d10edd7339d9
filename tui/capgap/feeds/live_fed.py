"""Live inputs of the Fed panel: ZQ futures from Yahoo, the EFFR and range as the monitor's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import polars as pl

from capgap.core.clock import Clock
from capgap.core.schemas import QUOTES, empty
from capgap.feeds.base import FeedError
from capgap.feeds.disk_cache import DiskCache
from capgap.feeds.http import make_client
from capgap.feeds.live import RatesSource
from capgap.feeds.providers import yahoo as yahoo_module
from capgap.feeds.providers.yahoo import YahooChart
from capgap.feeds.values import clock_now
from capgap.settings.model import FeedsSettings

#: The disk cache's entry of the ZQ months Yahoo does not know, and how long it is believed:
#: Yahoo lists a new month rarely, and a day without it costs one month's price at most.
MISSING_ENTRY = "zq-missing"
MISSING_FOR = timedelta(days=1)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class LiveFedData:
    """What the live sources gave: ZQ quotes, the rates and their source, one line per problem."""

    quotes: pl.DataFrame
    target_range: tuple[float, float] | None
    effr: float | None
    rates_source: str | None
    problems: tuple[str, ...]


async def fetch_live_fed(
    feeds: FeedsSettings, symbols: Sequence[str], clock: Clock, cache: DiskCache | None = None
) -> LiveFedData:
    """Probe the ZQ contracts on Yahoo and read the rates, concurrently; never raises FeedError.

    A contract Yahoo does not know is a problem line, not a failure: the single-month symbols
    are reported missing at times, and the front contract ZQ=F then stands in. The rates come
    as the monitor's do (the New York Fed, then FRED), their source named. With a ``cache``
    the contracts Yahoo answered "Not Found" are kept on disk for a day and not asked again
    meanwhile (one chart request each saved; they stay listed as missing), and the rates as
    the monitor keeps them.
    """
    now = clock_now(clock)
    known_missing, since = _known_missing(cache, now, symbols)
    asked = [symbol for symbol in symbols if symbol not in known_missing]
    rates = RatesSource(feeds, clock, cache)
    try:
        async with make_client(
            yahoo_module.CLIENT_SETTINGS, kind=feeds.yahoo.transport
        ) as yahoo_client:
            yahoo = YahooChart(yahoo_client, feeds.yahoo.base_url, clock=clock)
            # The rates never raise FeedError: their failure is ``rates.problem``.
            futures, (target_range, effr, source) = await asyncio.gather(
                _settled(yahoo.quotes(asked)), rates.rates()
            )
    finally:
        await rates.aclose()
    problems: list[str] = []
    quotes = empty(QUOTES)
    if isinstance(futures, FeedError):
        problems.append(str(futures))
    else:
        quotes, failed = futures
        missing = sorted(set(failed) | known_missing)
        if cache is not None and (since is None or yahoo.unknown_symbols):
            # The day counts from the first learning: rewriting the list on every run must
            # not keep a month missing for ever once Yahoo lists it.
            start = since or now
            unknown = sorted(yahoo.unknown_symbols | known_missing)
            cache.write(MISSING_ENTRY, _missing_entry(start, unknown), start + MISSING_FOR)
        if missing:
            problems.append(f"Yahoo has no price for {', '.join(missing)}")
    if rates.problem is not None:
        problems.append(rates.problem)
    return LiveFedData(
        quotes=quotes,
        target_range=target_range,
        effr=effr,
        rates_source=source,
        problems=tuple(problems),
    )


async def _settled(work: Awaitable[_T]) -> _T | FeedError:
    """Return ``work``'s result, or the FeedError it raised (anything else propagates)."""
    try:
        return await work
    except FeedError as exc:
        return exc


def _missing_entry(now: datetime, unknown: Sequence[str]) -> dict[str, object]:
    # Kept with the time it was learnt: a later write (a new day) starts the day afresh.
    return {"since": now.isoformat(), "symbols": list(unknown)}


def _known_missing(
    cache: DiskCache | None, now: datetime, symbols: Sequence[str]
) -> tuple[set[str], datetime | None]:
    """Return the contracts among ``symbols`` the cache says Yahoo does not know, and since when.

    Since None when the cache holds no fresh, whole entry.
    """
    if cache is None:
        return set(), None
    data = cache.read(MISSING_ENTRY, now)
    if not isinstance(data, dict):
        return set(), None
    listed = data.get("symbols")
    try:
        since = datetime.fromisoformat(str(data.get("since")))
    except ValueError:
        return set(), None
    if not isinstance(listed, list) or since.tzinfo is None or since > now:
        return set(), None
    return {symbol for symbol in symbols if symbol in listed}, since
