"""Yahoo Finance's v8 chart endpoint: one symbol per request, parsed into a quote and bars."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from urllib.parse import quote as url_quote

import httpx
import polars as pl

from capgap.core.clock import Clock
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import BARS, DAILY, QUOTES, UTC_TIME, conform, empty
from capgap.feeds.base import FeedError, SymbolError, UnknownSymbol
from capgap.feeds.fanout import fan_out
from capgap.feeds.http import ClientSettings, HttpProvider, endpoint_label, get_json
from capgap.feeds.values import (
    clock_now,
    epoch,
    latest_epoch,
    number,
    quote_row,
    quote_time,
    valid_price,
)
from capgap.market.windows import history_start
from capgap.settings.model import YAHOO_BASE_URL

PROVIDER = "Yahoo"
# The default endpoint is kept with the other settings, where the config can replace it.
DEFAULT_BASE_URL = YAHOO_BASE_URL
CLIENT_SETTINGS = ClientSettings(provider=PROVIDER)
# A chart request's failures name the endpoint: "Yahoo chart: HTTP 500".
_CHART = endpoint_label(PROVIDER, "chart")

_PRICE_FIELDS = ("open", "high", "low", "close")
# The fields capgap reads from a chart (`capgap check --contract` checks they are still sent).
#: The bars' times, beside ``meta`` in a chart result.
TIMESTAMP_FIELD = "timestamp"
#: The arrays of ``indicators.quote[0]``, one value a bar.
BAR_FIELDS = (*_PRICE_FIELDS, "volume")
#: The meta fields behind a chart's quote: price and time.
META_PRICE = "regularMarketPrice"
META_TIME = "regularMarketTime"
#: The previous close, either of them (see _previous_close).
PREVIOUS_CLOSE_FIELDS = ("previousClose", "chartPreviousClose")
#: The day's volume (an index's chart has none) and the range the chart covers.
META_VOLUME = "regularMarketVolume"
META_RANGE = "range"


@dataclass(frozen=True, slots=True)
class ChartData:
    """One chart response: the quote (QUOTES, zero or one row) and its bars (BARS)."""

    quote: pl.DataFrame
    bars: pl.DataFrame


def chart_path(symbol: str) -> str:
    """Return the chart path of a symbol, every reserved character quoted (^ and = included)."""
    return f"/v8/finance/chart/{url_quote(symbol, safe='')}"


def parse_chart(payload: Any, symbol: str, *, now: datetime) -> ChartData:
    """Parse a chart body (a success, or Yahoo's JSON error) for ``symbol``, at ``now``.

    Raises UnknownSymbol for "Not Found", SymbolError for any other unusable chart. The
    quote is empty when the chart carries no price at all (a delisted fund).
    """
    result = _chart_result(payload, symbol)
    meta = result.get("meta")
    if not isinstance(meta, dict):
        raise SymbolError(symbol, f"{PROVIDER} sent a chart without meta for {symbol}")
    bars = parse_bars(result, symbol, now=now)
    return ChartData(quote=_quote_from_meta(meta, bars, symbol, now), bars=bars)


def parse_bars(result: Mapping[str, Any], symbol: str, *, now: datetime) -> pl.DataFrame:
    """Return the bars of one chart result (BARS), sorted by time, one row per time.

    Bars with a missing, non-finite or non-positive price, or a missing or negative volume,
    are dropped (Yahoo sends whole null bars), and so are bars timed more than MAX_AHEAD
    after ``now``. No ``timestamp`` key means no bars.
    """
    stamps = result.get(TIMESTAMP_FIELD)
    if stamps is None:
        return empty(BARS)
    quote = _first_quote(result)
    if not isinstance(stamps, list) or quote is None:
        raise SymbolError(symbol, f"{PROVIDER} sent malformed bars for {symbol}")
    columns: dict[str, list[float | None]] = {}
    for field in BAR_FIELDS:
        values = quote.get(field)
        if not isinstance(values, list) or len(values) != len(stamps):
            raise SymbolError(
                symbol, f"{PROVIDER} sent malformed bars for {symbol} (bad {field} array)"
            )
        columns[field] = [number(value) for value in values]
    times = [epoch(value) for value in stamps]
    frame = pl.DataFrame(
        {"epoch": times, **columns},
        schema={"epoch": pl.Int64(), **{name: pl.Float64() for name in columns}},
    )
    valid_prices = [
        pl.col(name).is_not_null() & pl.col(name).is_finite() & (pl.col(name) > 0)
        for name in _PRICE_FIELDS
    ]
    valid_volume = (
        pl.col("volume").is_not_null() & pl.col("volume").is_finite() & (pl.col("volume") >= 0)
    )
    return (
        frame.filter(
            pl.col("epoch").is_not_null(),
            pl.col("epoch") <= latest_epoch(now),
            *valid_prices,
            valid_volume,
        )
        # A live bar can be re-sent under a time already listed: the later one is fresher.
        .unique("epoch", keep="last", maintain_order=True)
        .sort("epoch")
        .select(
            pl.lit(symbol, pl.String()).alias("symbol"),
            pl.from_epoch("epoch", time_unit="s")
            .dt.replace_time_zone("UTC")
            .cast(UTC_TIME)
            .alias("time"),
            *_PRICE_FIELDS,
            "volume",
        )
    )


def daily_bars(bars: pl.DataFrame) -> pl.DataFrame:
    """Return a daily chart's bars (BARS) as daily bars (DAILY), dated in New York."""
    return conform(
        bars.with_columns(
            pl.col("time").dt.convert_time_zone(NEW_YORK.key).dt.date().alias("date")
        ),
        DAILY,
    )


class YahooChart(HttpProvider):
    """Quotes and bars from ``{base}/v8/finance/chart/{symbol}?range=1d&interval=1m``."""

    name = "yahoo"
    default_base_url = DEFAULT_BASE_URL

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        """Use ``client`` (shared, owned by the caller) against ``base_url``."""
        super().__init__(client, base_url, clock=clock)
        self._unknown: set[str] = set()

    @property
    def unknown_symbols(self) -> frozenset[str]:
        """Symbols Yahoo answered "Not Found" for, so callers can stop asking."""
        return frozenset(self._unknown)

    async def chart(
        self,
        symbol: str,
        *,
        span: str = "1d",
        interval: str = "1m",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ChartData:
        """Fetch and parse one symbol's chart (one request): today's minutes by default.

        ``since`` and ``until`` ask for that period (period1, period2) instead of ``span``.
        """
        body = await self.reply(symbol, span=span, interval=interval, since=since, until=until)
        try:
            return parse_chart(body, symbol, now=clock_now(self._clock))
        except UnknownSymbol:
            self._unknown.add(symbol)
            raise

    async def reply(
        self,
        symbol: str,
        *,
        span: str = "1d",
        interval: str = "1m",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Any:
        """Return one symbol's chart reply as Yahoo sent it, decoded (see chart), unparsed."""
        if not symbol or symbol != symbol.strip():
            raise SymbolError(symbol, f"{PROVIDER}: {symbol!r} is not a symbol")
        params = {"range": span, "interval": interval}
        if since is not None and until is not None:
            params = {
                "period1": str(math.floor(since.timestamp())),
                "period2": str(math.ceil(until.timestamp())),
                "interval": interval,
            }
        reply = await get_json(
            self._client,
            _CHART,
            self._base_url + chart_path(symbol),
            params=params,
            accept=(200, 404),
            clock=self._clock,
        )
        if reply.status == 404 and not _is_chart_error(reply.body):
            # A 404 without Yahoo's own error object is a missing endpoint, not a symbol.
            raise FeedError(f"{_CHART} HTTP 404")
        return reply.body

    async def quote(self, symbol: str) -> pl.DataFrame:
        """Return the latest quote of one symbol (QUOTES: one row, or none without a price)."""
        return (await self.chart(symbol)).quote

    async def daily(self, symbol: str) -> pl.DataFrame:
        """Return a year and three weeks of daily bars of one symbol (DAILY), dated in New York.

        range=1y may begin on the very day a year back, one session after the 1Y window's
        base when that day fell on a weekend or a holiday; range=2y would send twice the bytes
        for what the store keeps anyway (400 sessions). The period asked for begins at
        history_start: every window's base is in the reply.
        """
        now = clock_now(self._clock)
        first = history_start(now.astimezone(NEW_YORK).date())
        since = datetime.combine(first, time(), NEW_YORK)
        bars = (await self.chart(symbol, interval="1d", since=since, until=now)).bars
        return daily_bars(bars)

    async def whole_daily(self, symbol: str) -> pl.DataFrame:
        """Return a symbol's whole daily history (DAILY): one request, range=max, interval=1d.

        Decades of bars (^GSPC's start in 1927, ^RUT's in 1987): asked once a day at most by
        the cutting cycles' study (capgap.feeds.index_history keeps it on disk).
        """
        return daily_bars((await self.chart(symbol, span="max", interval="1d")).bars)

    async def bars(self, symbol: str) -> pl.DataFrame:
        """Return today's one-minute bars of one symbol (BARS)."""
        return (await self.chart(symbol)).bars

    async def quotes(
        self, symbols: Sequence[str], concurrency: int = 4
    ) -> tuple[pl.DataFrame, dict[str, str]]:
        """Quote many symbols, at most ``concurrency`` requests at a time.

        Returns the quotes that worked and ``{symbol: message}`` for the symbols that did not.
        A failure of the whole provider (rate limit, network, HTML, a 5xx) raises FeedError
        at once and starts no further request.
        """
        wanted = list(dict.fromkeys(symbols))
        if not wanted:
            return empty(QUOTES), {}

        async def one(symbol: str) -> pl.DataFrame | str:
            frame = await self.quote(symbol)
            return frame if frame.height else f"{PROVIDER} has no price for {symbol}"

        found = await fan_out(wanted, one, concurrency=concurrency, item_errors=(SymbolError,))
        outcomes = list(found.values())
        frames = [item for item in outcomes if isinstance(item, pl.DataFrame)]
        errors = {
            symbol: item
            for symbol, item in zip(wanted, outcomes, strict=True)
            if isinstance(item, str)
        }
        return (pl.concat(frames) if frames else empty(QUOTES)), errors


def _is_chart_error(payload: Any) -> bool:
    chart = payload.get("chart") if isinstance(payload, dict) else None
    return isinstance(chart, dict) and chart.get("error") is not None


def _chart_result(payload: Any, symbol: str) -> Mapping[str, Any]:
    chart = payload.get("chart") if isinstance(payload, dict) else None
    if not isinstance(chart, dict):
        raise SymbolError(symbol, f"{PROVIDER} sent something other than a chart for {symbol}")
    error = chart.get("error")
    if error is not None:
        code = error.get("code") if isinstance(error, dict) else None
        description = error.get("description") if isinstance(error, dict) else None
        detail = str(description or code or error)
        if code == "Not Found":
            raise UnknownSymbol(symbol, f"{PROVIDER} does not know {symbol}: {detail}")
        raise SymbolError(symbol, f"{PROVIDER} chart error for {symbol}: {detail}")
    results = chart.get("result")
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        raise SymbolError(symbol, f"{PROVIDER} sent an empty chart for {symbol}")
    first: Mapping[str, Any] = results[0]
    return first


def _first_quote(result: Mapping[str, Any]) -> Mapping[str, Any] | None:
    indicators = result.get("indicators")
    quotes = indicators.get("quote") if isinstance(indicators, dict) else None
    if not isinstance(quotes, list) or not quotes or not isinstance(quotes[0], dict):
        return None
    first: Mapping[str, Any] = quotes[0]
    return first


def _quote_from_meta(
    meta: Mapping[str, Any], bars: pl.DataFrame, symbol: str, now: datetime
) -> pl.DataFrame:
    raw_price = meta.get(META_PRICE)
    if raw_price is None:
        return empty(QUOTES)
    last = valid_price(raw_price, "last price", symbol, PROVIDER)
    time = quote_time(meta.get(META_TIME), now, symbol, PROVIDER)
    prev_close = _previous_close(meta, symbol)
    volume = _volume(meta, bars)
    return pl.DataFrame(
        [quote_row(symbol, time, last, prev_close, volume, PROVIDER)], schema=QUOTES
    )


def _previous_close(meta: Mapping[str, Any], symbol: str) -> float:
    # previousClose is yesterday's close; chartPreviousClose is the close before the requested
    # range, which for range=1d is the same day, so it is only the fallback.
    candidates = [meta.get(name) for name in PREVIOUS_CLOSE_FIELDS]
    present = [value for value in candidates if value is not None]
    for value in present:
        close = number(value)
        if close is not None and math.isfinite(close) and close > 0:
            return close
    if present:
        raise SymbolError(
            symbol, f"{PROVIDER} sent an invalid previous close for {symbol}: {present[0]!r}"
        )
    raise SymbolError(symbol, f"{PROVIDER} sent no previous close for {symbol}")


def _volume(meta: Mapping[str, Any], bars: pl.DataFrame) -> float | None:
    reported = number(meta.get(META_VOLUME))
    if reported is not None and math.isfinite(reported) and reported >= 0:
        return reported
    # Older replies lack regularMarketVolume; a range=1d chart holds exactly one session, so its
    # bars add up to the day's volume. Other ranges span days: no honest figure then.
    if meta.get(META_RANGE) == "1d" and bars.height:
        return float(bars.get_column("volume").sum())
    return None
