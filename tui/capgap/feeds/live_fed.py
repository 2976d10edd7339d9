"""Live inputs of the Fed panel: ZQ futures from Yahoo, the EFFR and range from the NY Fed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from capgap.core.clock import Clock
from capgap.core.schemas import QUOTES, empty
from capgap.feeds.base import FeedError
from capgap.feeds.disk_cache import DiskCache
from capgap.feeds.http import make_client
from capgap.feeds.providers import nyfed as nyfed_module
from capgap.feeds.providers import yahoo as yahoo_module
from capgap.feeds.providers.nyfed import EffrObservation, NewYorkFed
from capgap.feeds.providers.yahoo import YahooChart
from capgap.feeds.values import clock_now
from capgap.settings.model import FeedsSettings

#: The disk cache's entry of the ZQ months Yahoo does not know, and how long it is believed:
#: Yahoo lists a new month rarely, and a day without it costs one month's price at most.
MISSING_ENTRY = "zq-missing"
MISSING_FOR = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LiveFedData:
    """What the live sources gave: ZQ quotes, the EFFR, and one line per problem met."""

    quotes: pl.DataFrame
    effr: EffrObservation | None
    problems: tuple[str, ...]


async def fetch_live_fed(
    feeds: FeedsSettings, symbols: Sequence[str], clock: Clock, cache: DiskCache | None = None
) -> LiveFedData:
    """Probe the ZQ contracts on Yahoo and read the EFFR, concurrently; never raises FeedError.

    A contract Yahoo does not know is a problem line, not a failure: the single-month symbols
    are reported missing at times, and the front contract ZQ=F then stands in. With a
    ``cache`` the contracts Yahoo answered "Not Found" are kept on disk for a day and not
    asked again meanwhile (one chart request each saved); they stay listed as missing.
    """
    now = clock_now(clock)
    known_missing, since = _known_missing(cache, now, symbols)
    asked = [symbol for symbol in symbols if symbol not in known_missing]
    async with (
        make_client(yahoo_module.CLIENT_SETTINGS, kind=feeds.yahoo.transport) as yahoo_client,
        make_client(nyfed_module.CLIENT_SETTINGS) as nyfed_client,
    ):
        yahoo = YahooChart(yahoo_client, feeds.yahoo.base_url, clock=clock)
        nyfed = NewYorkFed(nyfed_client, feeds.nyfed.base_url, clock=clock)
        futures, effr = await asyncio.gather(
            yahoo.quotes(asked), nyfed.effr(), return_exceptions=True
        )
    problems: list[str] = []
    quotes = empty(QUOTES)
    if isinstance(futures, BaseException):
        if not isinstance(futures, FeedError):
            raise futures
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
    observation: EffrObservation | None = None
    if isinstance(effr, BaseException):
        if not isinstance(effr, FeedError):
            raise effr
        problems.append(str(effr))
    else:
        observation = effr
    return LiveFedData(quotes=quotes, effr=observation, problems=tuple(problems))


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
