"""The live feed: Yahoo batch quotes and charts, and the New York Fed's EFFR and target range."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import polars as pl

from tui.analytics.schemas import BARS, DAILY, empty
from tui.analytics.universe import Benchmarks
from tui.clock import Clock
from tui.config import FeedsSettings
from tui.feeds import nyfed as nyfed_module
from tui.feeds import yahoo as yahoo_module
from tui.feeds.base import FeedError, ReferenceData
from tui.feeds.http import make_client
from tui.feeds.nyfed import NewYorkFed
from tui.feeds.poller import TokenBucket
from tui.feeds.yahoo import SymbolError, YahooChart
from tui.feeds.yahoo_quote import YahooQuotes

#: Yahoo's budget: a burst of 30 requests, then one a second (60 a minute) on average.
YAHOO_BURST = 30
YAHOO_REQUESTS_PER_S = 1.0
#: The New York Fed publishes once a day: a trickle is plenty.
NYFED_REQUESTS_PER_S = 0.2
#: Charts in flight at once: Yahoo throttles bursts, and charts are one symbol per request.
CHART_CONCURRENCY = 2


class YahooLiveFeed:
    """Live market data through the Feed interface, from Yahoo (no key) and the New York Fed.

    Per poll: ceil(N/50) batch quote requests, plus one chart per index for today's bars.
    Daily history and the reference figures come on the engine's slower cadence.
    """

    name = "yahoo"
    demo = False

    def __init__(self, feeds: FeedsSettings, clock: Clock, benchmarks: Benchmarks) -> None:
        # One request budget per host: Yahoo rate-limits after a few dozen requests a minute.
        self._yahoo_client = make_client(
            yahoo_module.CLIENT_SETTINGS,
            budget=TokenBucket(YAHOO_BURST, YAHOO_REQUESTS_PER_S, clock),
        )
        self._nyfed_client = make_client(
            nyfed_module.CLIENT_SETTINGS, budget=TokenBucket(5, NYFED_REQUESTS_PER_S, clock)
        )
        yahoo = feeds.yahoo
        self._quotes = YahooQuotes(
            self._yahoo_client, yahoo.base_url, cookie_url=yahoo.cookie_url, clock=clock
        )
        self._chart = YahooChart(self._yahoo_client, yahoo.base_url, clock=clock)
        self._nyfed = NewYorkFed(self._nyfed_client, feeds.nyfed.base_url, clock=clock)
        self._benchmarks = benchmarks
        self._forward_pe: dict[str, float] = {}
        #: Per-symbol problems of the last poll (unknown symbols, bad prices), for the UI.
        self.problems: dict[str, str] = {}
        #: Problems of the reference sources (the NY Fed), shown but not failing the poll.
        self.reference_problem: str | None = None

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return the latest quotes (QUOTES); symbols Yahoo does not know are left out."""
        batch = await self._quotes.fetch(symbols)
        self._forward_pe.update(batch.forward_pe)
        self.problems = dict(batch.problems)
        return batch.quotes

    async def _charts(self, symbols: Sequence[str], daily: bool) -> list[pl.DataFrame]:
        gate = asyncio.Semaphore(CHART_CONCURRENCY)

        async def one(symbol: str) -> pl.DataFrame | None:
            async with gate:
                try:
                    if daily:
                        return await self._chart.daily(symbol)
                    return await self._chart.bars(symbol)
                except SymbolError as exc:
                    # One bad symbol must not cost the others their charts.
                    self.problems[symbol] = str(exc)
                    return None

        frames = await asyncio.gather(*(one(symbol) for symbol in symbols))
        return [frame for frame in frames if frame is not None]

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return today's one-minute bars of ``symbols`` (one chart request each)."""
        frames = await self._charts(symbols, daily=False)
        return pl.concat(frames) if frames else empty(BARS)

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return a year of daily bars of ``symbols`` (one chart request each)."""
        frames = await self._charts(symbols, daily=True)
        return pl.concat(frames) if frames else empty(DAILY)

    async def reference(self) -> ReferenceData:
        """Return the EFFR and target range (NY Fed) and forward P/E from Yahoo where sent.

        A failing NY Fed does not fail the poll: the panel shows no range and says why.
        """
        large_pe = self._forward_pe.get(self._benchmarks.large_etf)
        small_pe = self._forward_pe.get(self._benchmarks.small_etf)
        try:
            observation = await self._nyfed.effr()
        except FeedError as exc:
            self.reference_problem = str(exc)
            return ReferenceData(large_forward_pe=large_pe, small_forward_pe=small_pe)
        self.reference_problem = None
        return ReferenceData(
            target_range=(observation.target_from, observation.target_to),
            effr=observation.effr,
            large_forward_pe=large_pe,
            small_forward_pe=small_pe,
            label="New York Fed",
        )

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        await self._yahoo_client.aclose()
        await self._nyfed_client.aclose()
