"""Yahoo's v8 chart over a local server: quotes, bars, unknown symbols, faults, conformance."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import BARS, QUOTE_DETAILS, QUOTES, conform_quotes
from capgap.feeds.base import FeedError
from capgap.feeds.http import RateLimited, make_client
from capgap.feeds.providers.yahoo import (
    DEFAULT_BASE_URL,
    SymbolError,
    UnknownSymbol,
    YahooChart,
    chart_path,
    parse_bars,
    parse_chart,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from json_strategies import JSON_VALUES
from server import LocalServer, Reply, local_server, provider_test_client

__all__ = ["local_server"]

#: When the parsed replies are read: after every time the tests and fixtures carry.
PARSED_AT = datetime(2030, 1, 2, tzinfo=UTC)

SHARED = Path(__file__).parents[3] / "shared" / "fixtures" / "providers"
CLIENT = provider_test_client("Yahoo")

# 2025-12-05 14:30 UTC is 08:30 in Chicago, where ZQ trades (CBOT).
T0 = 1764945000


def meta(symbol: str = "ZQ=F", **overrides: Any) -> dict[str, Any]:
    """A chart meta object with the keys Yahoo sends for a CBOT future."""
    base: dict[str, Any] = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "CBT",
        "fullExchangeName": "CBOT",
        "instrumentType": "FUTURE",
        "firstTradeDate": 1009173600,
        "regularMarketTime": T0 + 150,
        "hasPrePostMarketData": False,
        "gmtoffset": -21600,
        "timezone": "CST",
        "exchangeTimezoneName": "America/Chicago",
        "regularMarketPrice": 96.1375,
        "regularMarketDayHigh": 96.14,
        "regularMarketDayLow": 96.13,
        "regularMarketVolume": 41234,
        "shortName": "30-Day Fed Fund Futures,Dec-20",
        "chartPreviousClose": 96.125,
        "previousClose": 96.13,
        "priceHint": 4,
        "currentTradingPeriod": {
            "pre": {"timezone": "CST", "start": 1764885600, "end": 1764885600, "gmtoffset": -21600},
            "regular": {
                "timezone": "CST",
                "start": 1764885600,
                "end": 1764968340,
                "gmtoffset": -21600,
            },
            "post": {
                "timezone": "CST",
                "start": 1764968340,
                "end": 1764968340,
                "gmtoffset": -21600,
            },
        },
        "dataGranularity": "1m",
        "range": "1d",
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    base.update(overrides)
    return base


def chart(
    symbol: str = "ZQ=F",
    *,
    timestamps: list[Any] | None = None,
    quote: dict[str, list[Any]] | None = None,
    **meta_overrides: Any,
) -> dict[str, Any]:
    """A chart body: meta plus the given bars (none when ``timestamps`` is None)."""
    result: dict[str, Any] = {"meta": meta(symbol, **meta_overrides)}
    if timestamps is None:
        result["indicators"] = {"quote": [{}]}
    else:
        result["timestamp"] = timestamps
        assert quote is not None, "bars need their quote columns"
        result["indicators"] = {"quote": [quote], "adjclose": [{"adjclose": quote["close"]}]}
    return {"chart": {"result": [result], "error": None}}


THREE_BARS: dict[str, Any] = {
    "timestamps": [T0, T0 + 60, T0 + 120],
    "quote": {
        "open": [96.13, 96.135, 96.135],
        "high": [96.135, 96.14, 96.14],
        "low": [96.13, 96.13, 96.135],
        "close": [96.135, 96.135, 96.1375],
        "volume": [1200, 800, 650],
    },
}

NOT_FOUND: dict[str, Any] = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@pytest.fixture
async def yahoo(local_server: LocalServer) -> AsyncIterator[YahooChart]:
    async with make_client(CLIENT, trust_env=False) as client:
        yield YahooChart(client, local_server.base_url)


def test_defaults():
    assert DEFAULT_BASE_URL == "https://query1.finance.yahoo.com"


@pytest.mark.parametrize(
    ("symbol", "path"),
    [
        ("^GSPC", "/v8/finance/chart/%5EGSPC"),
        ("ZQ=F", "/v8/finance/chart/ZQ%3DF"),
        ("ZQZ25.CBT", "/v8/finance/chart/ZQZ25.CBT"),
        ("BRK-B", "/v8/finance/chart/BRK-B"),
        ("A/B", "/v8/finance/chart/A%2FB"),
    ],
)
def test_chart_path_quotes_reserved_characters(symbol, path):
    assert chart_path(symbol) == path


async def test_quote_numbers_are_the_numbers_served(yahoo, local_server):
    local_server.add("/v8/finance/chart/ZQ%3DF", Reply.json(chart(**THREE_BARS)))
    frame = await yahoo.quote("ZQ=F")
    # A chart carries no quote details: they are null.
    expected = conform_quotes(
        pl.DataFrame(
            {
                "symbol": ["ZQ=F"],
                "time": [utc(T0 + 150)],
                "last": [96.1375],
                # previousClose (yesterday) wins over chartPreviousClose (before the range).
                "prev_close": [96.13],
                "volume": [41234.0],
            }
        )
    )
    assert frame.schema == QUOTES
    assert frame.equals(expected)


async def test_the_request_is_one_get_with_range_and_interval(yahoo, local_server):
    local_server.add("/v8/finance/chart/%5EGSPC", Reply.json(chart("^GSPC", **THREE_BARS)))
    await yahoo.quote("^GSPC")
    assert local_server.total == 1
    seen = local_server.seen[0]
    assert seen.path == "/v8/finance/chart/%5EGSPC"
    assert dict(pair.split("=") for pair in seen.query.split("&")) == {
        "range": "1d",
        "interval": "1m",
    }
    assert seen.headers["user-agent"].startswith("Mozilla/5.0")


async def test_daily_history_reaches_a_week_before_the_same_day_a_year_ago(local_server):
    # Monday 2025-07-07: a year back is Sunday 2024-07-07, so 1Y's base is Friday July 5, which
    # a reply starting on the anniversary (range=1y) would not hold. Ask for more than a year.
    now = datetime(2025, 7, 7, 15, 0, tzinfo=UTC)
    # Bars (and the quote) of the days before ``now``: a reply is never dated ahead of it.
    back = int(
        (datetime(2025, 12, 5, tzinfo=UTC) - datetime(2025, 7, 3, tzinfo=UTC)).total_seconds()
    )
    earlier = {**THREE_BARS, "timestamps": [t - back for t in THREE_BARS["timestamps"]]}
    body = chart("^RUT", **earlier, dataGranularity="1d", regularMarketTime=T0 - back)
    local_server.add("/v8/finance/chart/%5ERUT", Reply.json(body))
    async with make_client(CLIENT, trust_env=False) as client:
        daily = await YahooChart(client, local_server.base_url, clock=ManualClock(now)).daily(
            "^RUT"
        )
    assert daily.height == 3
    params = dict(pair.split("=") for pair in local_server.seen[0].query.split("&"))
    assert params["interval"] == "1d" and "range" not in params
    a_week_before = datetime(2024, 6, 30, tzinfo=NEW_YORK)
    assert int(params["period1"]) <= a_week_before.timestamp()
    # Not the two years range=2y would send: about thirteen months.
    assert int(params["period1"]) >= datetime(2024, 5, 1, tzinfo=NEW_YORK).timestamp()
    assert int(params["period2"]) >= now.timestamp()


async def test_previous_close_falls_back_to_chart_previous_close(yahoo, local_server):
    body = chart(**THREE_BARS)
    del body["chart"]["result"][0]["meta"]["previousClose"]
    local_server.add("/v8/finance/chart/ZQ%3DF", Reply.json(body))
    frame = await yahoo.quote("ZQ=F")
    assert frame.get_column("prev_close").to_list() == [96.125]


async def test_a_null_previous_close_falls_back_too(yahoo, local_server):
    local_server.add("/v8/finance/chart/ZQ%3DF", Reply.json(chart(previousClose=None)))
    assert (await yahoo.quote("ZQ=F")).get_column("prev_close").to_list() == [96.125]


async def test_volume_without_meta_volume_adds_up_a_one_day_range(yahoo, local_server):
    body = chart(**THREE_BARS)
    del body["chart"]["result"][0]["meta"]["regularMarketVolume"]
    local_server.add("/v8/finance/chart/ZQ%3DF", Reply.json(body))
    assert (await yahoo.quote("ZQ=F")).get_column("volume").to_list() == [1200.0 + 800.0 + 650.0]


def test_volume_is_unknown_for_a_multi_day_range_without_meta_volume():
    body = chart(range="5d", **THREE_BARS)
    del body["chart"]["result"][0]["meta"]["regularMarketVolume"]
    assert parse_chart(body, "ZQ=F", now=PARSED_AT).quote.get_column("volume").to_list() == [None]


async def test_bars_equal_the_served_arrays(yahoo, local_server):
    local_server.add("/v8/finance/chart/ZQ%3DF", Reply.json(chart(**THREE_BARS)))
    bars = await yahoo.bars("ZQ=F")
    quote = THREE_BARS["quote"]
    expected = pl.DataFrame(
        {
            "symbol": ["ZQ=F"] * 3,
            "time": [utc(t) for t in THREE_BARS["timestamps"]],
            "open": quote["open"],
            "high": quote["high"],
            "low": quote["low"],
            "close": quote["close"],
            "volume": [float(v) for v in quote["volume"]],
        },
        schema=BARS,
    )
    assert bars.schema == BARS
    assert bars.equals(expected)


async def test_bad_bars_are_dropped_and_the_rest_sorted_and_unique(yahoo, local_server):
    nan = math.nan
    timestamps = [T0 + 240, T0, T0 + 60, T0 + 120, T0 + 180, T0 + 300, T0 + 360, T0 + 240, T0 + 420]
    quote: dict[str, list[Any]] = {
        # index:   0      1      2      3      4     5      6      7      8
        "open": [96.14, 96.13, None, 96.135, nan, 96.14, -1.0, 96.145, 96.14],
        "high": [96.14, 96.135, None, 96.14, 96.14, 96.14, 96.14, 96.15, 96.14],
        "low": [96.14, 96.13, None, 96.13, 96.14, 0.0, 96.14, 96.14, 96.14],
        "close": [96.14, 96.135, None, 96.14, 96.14, 96.14, 96.14, 96.15, 96.14],
        "volume": [10, 20, None, 30, 40, 50, 60, 70, None],
    }
    local_server.add(
        "/v8/finance/chart/ZQ%3DF", Reply.json(chart(timestamps=timestamps, quote=quote))
    )
    bars = await yahoo.bars("ZQ=F")
    # Kept by hand: 1 (T0), 3 (T0+120) and 7 (T0+240, the later of two bars at that time).
    # Dropped: 2 all null, 4 NaN open, 5 zero low, 6 negative open, 8 null volume, 0 duplicate.
    assert bars.get_column("time").to_list() == [utc(T0), utc(T0 + 120), utc(T0 + 240)]
    assert bars.get_column("close").to_list() == [96.135, 96.14, 96.15]
    assert bars.get_column("volume").to_list() == [20.0, 30.0, 70.0]


async def test_a_chart_without_timestamps_has_no_bars_but_a_quote(yahoo, local_server):
    local_server.add("/v8/finance/chart/ZQ%3DF", Reply.json(chart(timestamps=None)))
    data = await yahoo.chart("ZQ=F")
    assert data.bars.schema == BARS
    assert data.bars.height == 0
    assert data.quote.get_column("last").to_list() == [96.1375]


def test_mismatched_bar_arrays_are_a_symbol_error():
    quote = dict(THREE_BARS["quote"], close=[96.1])
    with pytest.raises(SymbolError, match=r"malformed bars for ZQ=F \(bad close array\)"):
        parse_chart(chart(timestamps=THREE_BARS["timestamps"], quote=quote), "ZQ=F", now=PARSED_AT)


def test_bars_with_a_timestamp_but_no_quote_arrays_are_a_symbol_error():
    with pytest.raises(SymbolError, match="malformed bars for ZQ=F"):
        parse_bars({"timestamp": [T0], "indicators": {"quote": [{}]}}, "ZQ=F", now=PARSED_AT)


async def test_unknown_symbol_is_remembered(yahoo, local_server):
    local_server.add("/v8/finance/chart/ZZZUSD%3DX", Reply.json(NOT_FOUND, 404))
    with pytest.raises(UnknownSymbol) as caught:
        await yahoo.quote("ZZZUSD=X")
    assert isinstance(caught.value, FeedError)
    assert caught.value.symbol == "ZZZUSD=X"
    assert str(caught.value) == (
        "Yahoo does not know ZZZUSD=X: No data found, symbol may be delisted"
    )
    assert yahoo.unknown_symbols == frozenset({"ZZZUSD=X"})
    assert local_server.count("/v8/finance/chart/ZZZUSD%3DX") == 1


async def test_a_plain_404_is_not_an_unknown_symbol(yahoo, local_server):
    local_server.add("/v8/finance/chart/SPY", Reply.text("Not Found", 404))
    with pytest.raises(FeedError) as caught:
        await yahoo.quote("SPY")
    assert type(caught.value) is FeedError
    assert str(caught.value) == "Yahoo chart: HTTP 404"
    assert yahoo.unknown_symbols == frozenset()


async def test_a_404_json_without_chart_error_is_not_an_unknown_symbol(yahoo, local_server):
    local_server.add("/v8/finance/chart/SPY", Reply.json({"message": "no route"}, 404))
    with pytest.raises(FeedError, match=r"^Yahoo chart: HTTP 404$"):
        await yahoo.quote("SPY")


def test_another_chart_error_is_a_symbol_error():
    body = {"chart": {"result": None, "error": {"code": "Bad Request", "description": "Invalid"}}}
    with pytest.raises(SymbolError) as caught:
        parse_chart(body, "SPY", now=PARSED_AT)
    assert not isinstance(caught.value, UnknownSymbol)
    assert str(caught.value) == "Yahoo chart error for SPY: Invalid"


@pytest.mark.parametrize("price", [0, -96.1, math.nan, math.inf, "96.1", True])
async def test_an_invalid_price_is_rejected_naming_the_symbol(yahoo, local_server, price):
    local_server.add("/v8/finance/chart/ZQ%3DF", Reply.json(chart(regularMarketPrice=price)))
    with pytest.raises(SymbolError) as caught:
        await yahoo.quote("ZQ=F")
    assert str(caught.value).startswith("Yahoo sent an invalid last price for ZQ=F: ")


@pytest.mark.parametrize("previous", [0, -1, math.nan])
def test_an_invalid_previous_close_is_rejected(previous):
    body = chart(previousClose=previous, chartPreviousClose=previous)
    with pytest.raises(SymbolError, match="invalid previous close for ZQ=F"):
        parse_chart(body, "ZQ=F", now=PARSED_AT)


def test_no_previous_close_at_all_is_rejected():
    body = chart(previousClose=None, chartPreviousClose=None)
    with pytest.raises(SymbolError, match=r"^Yahoo sent no previous close for ZQ=F$"):
        parse_chart(body, "ZQ=F", now=PARSED_AT)


@pytest.mark.parametrize("moment", [None, "1764945150", -5, 10**20])
def test_an_invalid_quote_time_is_rejected(moment):
    with pytest.raises(SymbolError, match=r"^Yahoo sent no valid quote time for ZQ=F$"):
        parse_chart(chart(regularMarketTime=moment), "ZQ=F", now=PARSED_AT)


def test_a_chart_without_a_price_has_an_empty_quote():
    data = parse_chart(chart(regularMarketPrice=None), "CAPIO.ST", now=PARSED_AT)
    assert data.quote.schema == QUOTES
    assert data.quote.height == 0


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"chart": None},
        {"chart": {"result": [], "error": None}},
        {"chart": {"result": [None], "error": None}},
        {"chart": {"result": [{"timestamp": []}], "error": None}},
    ],
    ids=["list", "null-chart", "empty-result", "null-result", "no-meta"],
)
def test_odd_shapes_are_symbol_errors(body):
    with pytest.raises(SymbolError):
        parse_chart(body, "SPY", now=PARSED_AT)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            Reply.html(),
            "Yahoo chart: sent HTML where JSON was expected "
            "(a captive portal or a challenge page?)",
        ),
        (
            Reply.text('{"chart":', content_type="application/json"),
            "Yahoo chart: sent malformed JSON",
        ),
        (Reply.json({}, 503), "Yahoo chart: HTTP 503"),
        (
            Reply.json({}, 429, {"Retry-After": "40"}),
            "Yahoo chart: rate limit (HTTP 429), retry in 40 s",
        ),
        (Reply.slow(5.0, {}), "Yahoo chart: timed out after 2 s"),
    ],
    ids=["html", "malformed", "503", "429", "slow"],
)
async def test_faults_reach_the_caller_as_feed_errors(yahoo, local_server, reply, message):
    local_server.add("/v8/finance/chart/SPY", reply)
    with pytest.raises(FeedError) as caught:
        await yahoo.quote("SPY")
    assert str(caught.value) == message
    assert local_server.count("/v8/finance/chart/SPY") == 1


async def test_reset_and_truncation_are_feed_errors(yahoo, local_server):
    local_server.add("/v8/finance/chart/SPY", Reply.reset())
    local_server.add("/v8/finance/chart/IWM", Reply.truncated(b'{"chart":{"result":[{', 900))
    with pytest.raises(FeedError, match=r"^Yahoo chart: connection failed: "):
        await yahoo.quote("SPY")
    with pytest.raises(FeedError, match=r"^Yahoo chart: response was cut short: "):
        await yahoo.quote("IWM")


async def test_quotes_splits_what_worked_from_what_did_not(yahoo, local_server):
    local_server.add("/v8/finance/chart/ZQ%3DF", Reply.json(chart(**THREE_BARS)))
    local_server.add(
        "/v8/finance/chart/ZQF26.CBT",
        Reply.json(chart("ZQF26.CBT", regularMarketPrice=96.31, previousClose=96.3)),
    )
    local_server.add("/v8/finance/chart/ZQG26.CBT", Reply.json(NOT_FOUND, 404))
    local_server.add(
        "/v8/finance/chart/ZQH26.CBT", Reply.json(chart("ZQH26.CBT", regularMarketPrice=-3))
    )
    local_server.add(
        "/v8/finance/chart/CAPIO.ST", Reply.json(chart("CAPIO.ST", regularMarketPrice=None))
    )
    symbols = ["ZQ=F", "ZQF26.CBT", "ZQG26.CBT", "ZQH26.CBT", "CAPIO.ST", "ZQ=F"]
    frame, errors = await yahoo.quotes(symbols)
    assert frame.schema == QUOTES
    assert frame.get_column("symbol").to_list() == ["ZQ=F", "ZQF26.CBT"]
    assert frame.get_column("last").to_list() == [96.1375, 96.31]
    assert frame.get_column("prev_close").to_list() == [96.13, 96.3]
    assert errors == {
        "ZQG26.CBT": "Yahoo does not know ZQG26.CBT: No data found, symbol may be delisted",
        "ZQH26.CBT": "Yahoo sent an invalid last price for ZQH26.CBT: -3",
        "CAPIO.ST": "Yahoo has no price for CAPIO.ST",
    }
    assert yahoo.unknown_symbols == frozenset({"ZQG26.CBT"})
    # One request per distinct symbol, the duplicate ZQ=F asked once.
    assert local_server.total == 5
    assert local_server.count("/v8/finance/chart/ZQ%3DF") == 1


async def test_quotes_of_nothing_asks_nothing(yahoo, local_server):
    frame, errors = await yahoo.quotes([])
    assert frame.schema == QUOTES
    assert frame.height == 0
    assert errors == {}
    assert local_server.total == 0


async def test_quotes_raises_a_provider_rate_limit_without_a_retry_storm(yahoo, local_server):
    symbols = [f"ZQ{code}26.CBT" for code in "FGHJKMNQUVXZ"]
    for symbol in symbols:
        local_server.add(f"/v8/finance/chart/{symbol}", Reply.json({}, 429, {"Retry-After": "40"}))
    with pytest.raises(RateLimited) as caught:
        await yahoo.quotes(symbols, concurrency=1)
    assert caught.value.retry_after_s == 40.0
    assert local_server.total == 1


async def test_quotes_stops_at_most_at_the_requests_in_flight(yahoo, local_server):
    symbols = [f"S{index}" for index in range(20)]
    for symbol in symbols:
        local_server.add(f"/v8/finance/chart/{symbol}", Reply.reset())
    with pytest.raises(FeedError, match=r"^Yahoo chart: connection failed: "):
        await yahoo.quotes(symbols, concurrency=4)
    assert 1 <= local_server.total <= 4


async def test_quotes_keeps_to_its_concurrency(yahoo, local_server):
    symbols = [f"S{index}" for index in range(8)]
    for symbol in symbols:
        local_server.add(
            f"/v8/finance/chart/{symbol}", Reply.slow(0.05, chart(symbol, **THREE_BARS))
        )
    frame, errors = await yahoo.quotes(symbols, concurrency=2)
    assert errors == {}
    assert frame.get_column("symbol").to_list() == symbols
    assert local_server.max_in_flight <= 2


async def test_an_html_page_for_every_symbol_fails_the_whole_call(yahoo, local_server):
    for symbol in ("SPY", "IWM"):
        local_server.add(f"/v8/finance/chart/{symbol}", Reply.html())
    with pytest.raises(FeedError, match="HTML where JSON was expected"):
        await yahoo.quotes(["SPY", "IWM"], concurrency=1)
    assert local_server.total == 1


# --- conformance: the real responses in ../shared/fixtures/providers -------------------------


def _shared_chart_files() -> list[Path]:
    return sorted(SHARED.glob("yahoo_chart_*.json")) if SHARED.is_dir() else []


def _body(path: Path) -> Any:
    """The Yahoo body inside a fixture, whatever recorder wrapped it."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(raw, list):  # yfinance's recorder: [{request, response: {json}}]
        return raw[0]["response"]["json"]
    if isinstance(raw, dict) and "response" in raw:  # gadicc's recorder
        response = raw["response"]
        return response["bodyJson"] if "bodyJson" in response else json.loads(response["body"])
    return raw


def _expected_bars(result: dict[str, Any]) -> dict[int, tuple[float, ...]]:
    """The bars a correct parser keeps, computed in plain Python: last one wins per time."""
    kept: dict[int, tuple[float, ...]] = {}
    quote = result["indicators"]["quote"][0]
    for index, stamp in enumerate(result.get("timestamp", [])):
        row = tuple(quote[name][index] for name in ("open", "high", "low", "close", "volume"))
        if all(value is not None for value in row) and min(row[:4]) > 0 and row[4] >= 0:
            kept[stamp] = tuple(float(value) for value in row)
    return kept


requires_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures is absent")


@requires_shared
def test_the_shared_fixtures_are_there():
    assert len(_shared_chart_files()) >= 10


@requires_shared
@pytest.mark.parametrize("path", _shared_chart_files(), ids=lambda path: path.name)
def test_every_shared_chart_parses_sanely(path):
    body = _body(path)
    chart_obj = body["chart"]
    if chart_obj["error"] is not None:
        with pytest.raises(UnknownSymbol):
            parse_chart(body, "ZZZUSD=X", now=PARSED_AT)
        return
    result = chart_obj["result"][0]
    meta_obj = result["meta"]
    data = parse_chart(body, meta_obj["symbol"], now=PARSED_AT)

    assert data.bars.schema == BARS
    expected = _expected_bars(result)
    assert data.bars.height == len(expected)
    times = data.bars.get_column("time").to_list()
    assert times == sorted(set(times))
    assert times == [utc(stamp) for stamp in sorted(expected)]
    rows = data.bars.select("open", "high", "low", "close", "volume").rows()
    assert rows == [expected[stamp] for stamp in sorted(expected)]

    assert data.quote.schema == QUOTES
    if meta_obj.get("regularMarketPrice") is None:
        assert data.quote.height == 0
        return
    row = data.quote.row(0, named=True)
    assert row["symbol"] == meta_obj["symbol"]
    assert row["last"] == meta_obj["regularMarketPrice"]
    assert row["time"] == utc(meta_obj["regularMarketTime"])
    assert row["prev_close"] == meta_obj.get("previousClose", meta_obj["chartPreviousClose"])
    assert row["last"] > 0
    assert row["prev_close"] > 0


@requires_shared
def test_shared_aapl_minute_bars_drop_the_null_bar():
    body = _body(SHARED / "yahoo_chart_aapl_1m_2024-10-02.body.json")
    data = parse_chart(body, "AAPL", now=PARSED_AT)
    # 391 timestamps, one whole null bar (2024-10-02 15:15 UTC) dropped.
    assert len(body["chart"]["result"][0]["timestamp"]) == 391
    assert data.bars.height == 390
    assert utc(1727882100) not in data.bars.get_column("time").to_list()
    # The recorded copy in gadicc's wrapper parses to the same frames.
    wrapped = parse_chart(
        _body(SHARED / "yahoo_chart_aapl_1m_2024-10-02.gadicc-fixture.json"), "AAPL", now=PARSED_AT
    )
    assert wrapped.bars.equals(data.bars)
    assert wrapped.quote.equals(data.quote)


@requires_shared
def test_shared_weekend_chart_prefers_yesterdays_close():
    body = _body(SHARED / "yahoo_chart_aapl_1m_weekend_no_bars_2025-02-01.gadicc-fixture.json")
    data = parse_chart(body, "AAPL", now=PARSED_AT)
    assert data.bars.height == 0
    assert data.quote.get_column("prev_close").to_list() == [244.47]  # not chartPreviousClose 236


@requires_shared
def test_shared_one_day_index_chart_volume_is_its_bar():
    body = _body(SHARED / "yahoo_chart_gspc_index_range1d_2024-02-29.json")
    data = parse_chart(body, "^GSPC", now=PARSED_AT)
    # A chart carries no quote details: they are null.
    assert data.quote.row(0, named=True) == dict.fromkeys(QUOTE_DETAILS) | {
        "symbol": "^GSPC",
        "time": datetime(2024, 2, 29, 18, 46, 29, tzinfo=UTC),
        "last": 5085.06,
        "prev_close": 5069.76,
        "volume": 1192320000.0,
    }


@requires_shared
def test_shared_not_found_body_is_an_unknown_symbol():
    body = _body(SHARED / "yahoo_chart_error_404_not_found.TRANSCRIBED.json")
    with pytest.raises(UnknownSymbol, match="No data found, symbol may be delisted"):
        parse_chart(body, "ZZZUSD=X", now=PARSED_AT)


# --- robustness: whatever JSON arrives, the parser answers with frames or a SymbolError -------


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_any_json_is_frames_or_a_symbol_error(payload):
    try:
        data = parse_chart(payload, "SPY", now=PARSED_AT)
    except SymbolError:
        return
    assert data.quote.schema == QUOTES
    assert data.bars.schema == BARS


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            "timestamp",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "regularMarketPrice",
            "regularMarketTime",
            "previousClose",
            "chartPreviousClose",
            "regularMarketVolume",
            "range",
            "meta",
            "indicators",
        ]
    ),
    JSON_VALUES,
)
def test_a_chart_with_any_field_replaced_is_frames_or_a_symbol_error(field, value):
    body = chart(**THREE_BARS)
    result = body["chart"]["result"][0]
    if field in ("timestamp", "meta", "indicators"):
        result[field] = value
    elif field in THREE_BARS["quote"]:
        result["indicators"]["quote"][0][field] = value
    else:
        result["meta"][field] = value
    try:
        data = parse_chart(body, "ZQ=F", now=PARSED_AT)
    except SymbolError:
        return
    bars = data.bars
    assert bars.schema == BARS
    for name in ("open", "high", "low", "close"):
        assert bars.filter(~pl.col(name).is_finite() | (pl.col(name) <= 0)).height == 0
    assert bars.get_column("time").is_sorted()
    assert bars.get_column("time").n_unique() == bars.height
    if data.quote.height:
        row = data.quote.row(0, named=True)
        assert math.isfinite(row["last"]) and row["last"] > 0
        assert math.isfinite(row["prev_close"]) and row["prev_close"] > 0
