"""Live inputs of the Fed panel: ZQ futures from Yahoo, the EFFR and range as the monitor's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from capgap.core.clock import Clock
from capgap.core.schemas import QUOTES, empty
from capgap.feeds.base import FeedError
from capgap.feeds.http import make_client
from capgap.feeds.live import RatesSource
from capgap.feeds.providers import yahoo as yahoo_module
from capgap.feeds.providers.yahoo import YahooChart
from capgap.settings.model import FeedsSettings

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class LiveFedData:
    """What the live sources gave: ZQ quotes, the rates and their source, one line per problem."""

    quotes: pl.DataFrame
    target_range: tuple[float, float] | None
    effr: float | None
    rates_source: str | None
    problems: tuple[str, ...]


async def fetch_live_fed(feeds: FeedsSettings, symbols: Sequence[str], clock: Clock) -> LiveFedData:
    """Probe the ZQ contracts on Yahoo and read the rates, concurrently; never raises FeedError.

    A contract Yahoo does not know is a problem line, not a failure: the single-month symbols
    are reported missing at times, and the front contract ZQ=F then stands in. The rates come
    as the monitor's do (the New York Fed, then FRED), their source named.
    """
    rates = RatesSource(feeds, clock)
    try:
        async with make_client(yahoo_module.CLIENT_SETTINGS) as yahoo_client:
            yahoo = YahooChart(yahoo_client, feeds.yahoo.base_url, clock=clock)
            # The rates never raise FeedError: their failure is ``rates.problem``.
            futures, (target_range, effr, source) = await asyncio.gather(
                _settled(yahoo.quotes(symbols)), rates.rates()
            )
    finally:
        await rates.aclose()
    problems: list[str] = []
    quotes = empty(QUOTES)
    if isinstance(futures, FeedError):
        problems.append(str(futures))
    else:
        quotes, failed = futures
        missing = sorted(failed)
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
