"""Live inputs of the Fed panel: ZQ futures from Yahoo, the EFFR and range from the NY Fed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from capgap.core.clock import Clock
from capgap.core.schemas import QUOTES, empty
from capgap.feeds.base import FeedError
from capgap.feeds.http import make_client
from capgap.feeds.providers import nyfed as nyfed_module
from capgap.feeds.providers import yahoo as yahoo_module
from capgap.feeds.providers.nyfed import EffrObservation, NewYorkFed
from capgap.feeds.providers.yahoo import YahooChart
from capgap.settings.model import FeedsSettings


@dataclass(frozen=True, slots=True)
class LiveFedData:
    """What the live sources gave: ZQ quotes, the EFFR, and one line per problem met."""

    quotes: pl.DataFrame
    effr: EffrObservation | None
    problems: tuple[str, ...]


async def fetch_live_fed(feeds: FeedsSettings, symbols: Sequence[str], clock: Clock) -> LiveFedData:
    """Probe the ZQ contracts on Yahoo and read the EFFR, concurrently; never raises FeedError.

    A contract Yahoo does not know is a problem line, not a failure: the single-month symbols
    are reported missing at times, and the front contract ZQ=F then stands in.
    """
    async with (
        make_client(yahoo_module.CLIENT_SETTINGS, kind=feeds.yahoo.transport) as yahoo_client,
        make_client(nyfed_module.CLIENT_SETTINGS) as nyfed_client,
    ):
        yahoo = YahooChart(yahoo_client, feeds.yahoo.base_url, clock=clock)
        nyfed = NewYorkFed(nyfed_client, feeds.nyfed.base_url, clock=clock)
        futures, effr = await asyncio.gather(
            yahoo.quotes(symbols), nyfed.effr(), return_exceptions=True
        )
    problems: list[str] = []
    quotes = empty(QUOTES)
    if isinstance(futures, BaseException):
        if not isinstance(futures, FeedError):
            raise futures
        problems.append(str(futures))
    else:
        quotes, failed = futures
        missing = sorted(failed)
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
