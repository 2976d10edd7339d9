"""Yahoo's v7 batch quotes over a local server: cookie + crumb, batches, refusals, conformance."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
from capgap.core.clock import ManualClock
from capgap.core.schemas import QUOTE_DETAILS, QUOTES, conform_quotes
from capgap.feeds.base import FeedError
from capgap.feeds.http import RateLimited, RawReply, make_client
from capgap.feeds.providers.yahoo_quote import (
    CRUMB_PATH,
    MAX_BATCH,
    QUOTE_PATH,
    YahooQuotes,
    YahooSession,
    parse_crumb,
    parse_quotes,
)
from capgap.feeds.unknown import OMISSIONS_BEFORE_UNKNOWN, UNKNOWN_FOR
from capgap.feeds.values import MAX_PRICE
from hypothesis import given, settings
from hypothesis import strategies as st
from json_strategies import JSON_VALUES
from server import LocalServer, Reply, local_server, provider_test_client

__all__ = ["local_server"]

#: When the parsed replies are read: after every time the tests and fixtures carry.
PARSED_AT = datetime(2030, 1, 2, tzinfo=UTC)

SHARED = Path(__file__).parents[3] / "shared" / "fixtures" / "providers"
CLIENT = provider_test_client("Yahoo")
COOKIE_PATH = "/cookie"
CRUMB = "haT3oykhHqZ"

# 2025-02-14 21:00:01 UTC: the close of a Friday session in New York.
T0 = 1739566801

INVALID_CRUMB = {
    "finance": {"result": None, "error": {"code": "Unauthorized", "description": "Invalid Crumb"}}
}


def item(
    symbol: str,
    price: Any = 100.0,
    *,
    time: Any = T0,
    prev_close: Any = 99.0,
    volume: Any = 1000,
    quote_type: str | None = "EQUITY",
    **extra: Any,
) -> dict[str, Any]:
    """One quoteResponse.result entry with the keys the parser reads (and a few it ignores)."""
    entry: dict[str, Any] = {
        "language": "en-US",
        "region": "US",
        "currency": "USD",
        "exchangeTimezoneName": "America/New_York",
        "marketState": "REGULAR",
        "symbol": symbol,
        "regularMarketPrice": price,
        "regularMarketTime": time,
        "regularMarketPreviousClose": prev_close,
        "regularMarketVolume": volume,
    }
    if quote_type is not None:
        entry["quoteType"] = quote_type
    entry.update(extra)
    return entry


def answer(*items: object) -> dict[str, Any]:
    return {"quoteResponse": {"result": list(items), "error": None}}


def session_cookie(value: str, crumb: str = CRUMB) -> tuple[Reply, Reply]:
    """The cookie endpoint's 404 that still sets the cookie, and the crumb that goes with it."""
    cookie = Reply.text("Not Found", 404, headers={"Set-Cookie": f"A3=d={value}; Path=/"})
    return cookie, Reply.text(crumb)


def open_session(server: LocalServer, value: str = "one", crumb: str = CRUMB) -> None:
    cookie, crumb_reply = session_cookie(value, crumb)
    server.add(COOKIE_PATH, cookie)
    server.add(CRUMB_PATH, crumb_reply)


def asked(server: LocalServer) -> list[dict[str, list[str]]]:
    """The query of every quote request, decoded."""
    return [parse_qs(seen.query) for seen in server.seen if seen.path == QUOTE_PATH]


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@pytest.fixture
async def yahoo(local_server: LocalServer) -> AsyncIterator[YahooQuotes]:
    async with make_client(CLIENT, trust_env=False) as client:
        yield YahooQuotes(
            client, local_server.base_url, cookie_url=local_server.base_url + COOKIE_PATH
        )


# --- session: cookie, crumb, reuse ----------------------------------------------------------


async def test_cookie_then_crumb_then_quote_with_both(yahoo, local_server):
    open_session(local_server, "abc123")
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    await yahoo.quotes(["SPY"])
    assert [seen.path for seen in local_server.seen] == [COOKIE_PATH, CRUMB_PATH, QUOTE_PATH]
    crumb_request, quote_request = local_server.seen[1], local_server.seen[2]
    # The cookie from the 404 is in the jar and goes out on the next requests.
    assert "A3=d=abc123" in crumb_request.headers["cookie"]
    assert "A3=d=abc123" in quote_request.headers["cookie"]
    assert parse_qs(quote_request.query) == {"symbols": ["SPY"], "crumb": [CRUMB]}
    for seen in local_server.seen:
        assert seen.headers["user-agent"].startswith("Mozilla/5.0")


async def test_the_crumb_is_reused_across_calls(yahoo, local_server):
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    for _ in range(3):
        await yahoo.quotes(["SPY"])
    assert local_server.count(COOKIE_PATH) == 1
    assert local_server.count(CRUMB_PATH) == 1
    assert local_server.count(QUOTE_PATH) == 3


async def test_a_crumb_with_url_reserved_characters_arrives_intact(yahoo, local_server):
    open_session(local_server, crumb="xW/2z.N+s=")
    local_server.add(QUOTE_PATH, Reply.json(answer(item("^RUT", quote_type="INDEX"))))
    await yahoo.quotes(["^RUT"])
    assert asked(local_server) == [{"symbols": ["^RUT"], "crumb": ["xW/2z.N+s="]}]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.html(), "Yahoo sent a web page instead of a crumb (a consent or challenge page?)"),
        (Reply.text(""), "Yahoo sent an empty crumb"),
        (Reply.text("haT3 oykh"), "Yahoo sent an unusable crumb (9 characters)"),
        (Reply.text("haT3oykhHqZ\n"), "Yahoo sent an unusable crumb (12 characters)"),
        (Reply.text("ab<c"), "Yahoo sent an unusable crumb (4 characters)"),
        (Reply.text("x" * 65), "Yahoo sent an unusable crumb (65 characters)"),
        (Reply.text("Unauthorized", 401), "Yahoo refused a crumb (HTTP 401): no session cookie?"),
        (Reply.text("oops", 500), "Yahoo crumb: HTTP 500"),
    ],
)
async def test_a_bad_crumb_reply_is_a_clear_error(yahoo, local_server, reply, message):
    local_server.add(COOKIE_PATH, Reply.text("Not Found", 404))
    local_server.add(CRUMB_PATH, reply)
    with pytest.raises(FeedError) as caught:
        await yahoo.quotes(["SPY"])
    assert str(caught.value) == message
    assert local_server.count(QUOTE_PATH) == 0


async def test_a_failed_session_is_opened_again_next_call(yahoo, local_server):
    local_server.add(COOKIE_PATH, Reply.text("Not Found", 404))
    local_server.add(CRUMB_PATH, Reply.text(""), Reply.text(CRUMB))
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    with pytest.raises(FeedError, match="empty crumb"):
        await yahoo.quotes(["SPY"])
    frame, problems = await yahoo.quotes(["SPY"])
    assert frame.get_column("symbol").to_list() == ["SPY"]
    assert problems == {}
    assert local_server.count(CRUMB_PATH) == 2


async def test_concurrent_refreshes_renew_the_session_once(local_server):
    open_session(local_server, "one", "crumbOne")
    open_session(local_server, "two", "crumbTwo")
    async with make_client(CLIENT, trust_env=False) as client:
        session = YahooSession(
            client, local_server.base_url, cookie_url=local_server.base_url + COOKIE_PATH
        )
        assert await session.crumb() == "crumbOne"
        renewed = await asyncio.gather(session.refresh("crumbOne"), session.refresh("crumbOne"))
    assert renewed == ["crumbTwo", "crumbTwo"]
    assert local_server.count(CRUMB_PATH) == 2
    assert local_server.count(COOKIE_PATH) == 2


# --- batching -------------------------------------------------------------------------------


async def test_120_symbols_are_three_requests_in_order(yahoo, local_server):
    open_session(local_server)
    symbols = [f"S{index:03d}" for index in range(120)]
    chunks = [symbols[0:50], symbols[50:100], symbols[100:120]]
    for chunk in chunks:
        local_server.add(
            QUOTE_PATH,
            Reply.json(answer(*(item(symbol, 10.0 + index) for index, symbol in enumerate(chunk)))),
        )
    frame, problems = await yahoo.quotes(symbols)
    assert local_server.count(QUOTE_PATH) == 3 == math.ceil(120 / MAX_BATCH)
    assert [query["symbols"][0].split(",") for query in asked(local_server)] == chunks
    assert all(query["crumb"] == [CRUMB] for query in asked(local_server))
    assert problems == {}
    assert frame.get_column("symbol").to_list() == symbols
    assert frame.get_column("last").to_list() == [10.0 + i % 50 for i in range(120)]


async def test_batch_size_is_configurable_and_bounded(local_server):
    open_session(local_server)
    symbols = ["A", "B", "C", "D", "E"]
    for chunk in (["A", "B"], ["C", "D"], ["E"]):
        local_server.add(QUOTE_PATH, Reply.json(answer(*(item(symbol) for symbol in chunk))))
    async with make_client(CLIENT, trust_env=False) as client:
        yahoo = YahooQuotes(
            client,
            local_server.base_url,
            cookie_url=local_server.base_url + COOKIE_PATH,
            batch_size=2,
        )
        frame, _ = await yahoo.quotes(symbols)
        for bad in (0, MAX_BATCH + 1):
            with pytest.raises(ValueError, match="batch_size"):
                YahooQuotes(client, local_server.base_url, batch_size=bad)
    assert [query["symbols"] for query in asked(local_server)] == [["A,B"], ["C,D"], ["E"]]
    assert frame.get_column("symbol").to_list() == symbols


async def test_quotes_of_nothing_asks_nothing(yahoo, local_server):
    frame, problems = await yahoo.quotes([])
    assert frame.schema == QUOTES
    assert frame.height == 0
    assert problems == {}
    assert local_server.total == 0


# --- numbers --------------------------------------------------------------------------------


async def test_numbers_in_the_frame_are_the_numbers_served(yahoo, local_server):
    open_session(local_server)
    local_server.add(
        QUOTE_PATH,
        Reply.json(
            answer(
                item(
                    "SPY",
                    604.85,
                    time=T0,
                    prev_close=609.7,
                    volume=41234567,
                    quote_type="ETF",
                ),
                item(
                    "^RUT", 2280.12, time=T0 + 121, prev_close=2275.5, volume=0, quote_type="INDEX"
                ),
                item(
                    "IWM",
                    225.01,
                    time=T0 + 3,
                    prev_close=224.2,
                    volume=0,
                    quote_type="ETF",
                ),
            )
        ),
    )
    batch = await yahoo.fetch(["SPY", "^RUT", "IWM"])
    # No detail was sent: every detail column is null.
    expected = conform_quotes(
        pl.DataFrame(
            {
                "symbol": ["SPY", "^RUT", "IWM"],
                "time": [utc(T0), utc(T0 + 121), utc(T0 + 3)],
                "last": [604.85, 2280.12, 225.01],
                "prev_close": [609.7, 2275.5, 224.2],
                # An index's 0 means "unknown"; an ETF's 0 is a real (pre-open) zero.
                "volume": [41234567.0, None, 0.0],
            }
        )
    )
    assert batch.quotes.schema == QUOTES
    assert batch.quotes.equals(expected)
    assert batch.problems == {}


@pytest.mark.parametrize(
    ("entry", "volume"),
    [
        (item("^GSPC", volume=0, quote_type=None), None),
        (item("EURUSD=X", volume=0, quote_type="CURRENCY"), None),
        (item("^GSPC", volume=2_500_000_000, quote_type="INDEX"), 2.5e9),
        (item("AAPL", volume=None), None),
        (item("AAPL", volume=-5), None),
        (item("AAPL", volume="12"), None),
    ],
)
def test_volume_rules(entry, volume):
    batch = parse_quotes(answer(entry), [entry["symbol"]], now=PARSED_AT)
    assert batch.quotes.get_column("volume").to_list() == [volume]


async def test_bad_prices_are_problems_naming_the_symbol(yahoo, local_server):
    open_session(local_server)
    local_server.add(
        QUOTE_PATH,
        Reply.json(
            answer(
                item("ZERO", 0),
                item("NEG", -3),
                item("NAN", math.nan),
                item("INF", math.inf),
                item("NULL", None),
                item("TEXT", "12.5"),
                item("BOOL", True),
                item("NOTIME", time=None),
                item("OLDTIME", time=0),
                item("NOCLOSE", prev_close=None),
                item("BADCLOSE", prev_close=-1.5),
                item("GOOD", 12.5),
            )
        ),
    )
    symbols = [
        "ZERO",
        "NEG",
        "NAN",
        "INF",
        "NULL",
        "TEXT",
        "BOOL",
        "NOTIME",
        "OLDTIME",
        "NOCLOSE",
        "BADCLOSE",
        "GOOD",
    ]
    frame, problems = await yahoo.quotes(symbols)
    assert frame.get_column("symbol").to_list() == ["GOOD"]
    assert frame.get_column("last").to_list() == [12.5]
    assert problems == {
        "ZERO": "Yahoo sent an invalid last price for ZERO: 0",
        "NEG": "Yahoo sent an invalid last price for NEG: -3",
        "NAN": "Yahoo sent an invalid last price for NAN: nan",
        "INF": "Yahoo sent an invalid last price for INF: inf",
        "NULL": "Yahoo has no price for NULL",
        "TEXT": "Yahoo sent an invalid last price for TEXT: '12.5'",
        "BOOL": "Yahoo sent an invalid last price for BOOL: True",
        "NOTIME": "Yahoo sent no valid quote time for NOTIME",
        "OLDTIME": "Yahoo sent no valid quote time for OLDTIME",
        "NOCLOSE": "Yahoo sent no previous close for NOCLOSE",
        "BADCLOSE": "Yahoo sent an invalid previous close for BADCLOSE: -1.5",
    }
    # Bad numbers are not unknown symbols: they are asked again next time.
    assert yahoo.unknown_symbols == frozenset()


#: Every detail Yahoo sends for a stock in and after extended hours (AAPL, 14 Feb 2025).
DETAILS: dict[str, Any] = {
    "marketCap": 3674405863424,
    "epsForward": 8.31,
    "epsTrailingTwelveMonths": 6.31,
    "fiftyDayAverage": 240.5066,
    "twoHundredDayAverage": 222.96205,
    "fiftyTwoWeekHigh": 260.1,
    "fiftyTwoWeekLow": 164.08,
    "regularMarketDayHigh": 245.41,
    "regularMarketDayLow": 241,
    "preMarketPrice": 242.9,
    "preMarketTime": T0 - 27_000,
    "postMarketPrice": 244.64,
    "postMarketTime": T0 + 14_397,
}
#: The same details as QUOTES columns, written out by hand.
PARSED_DETAILS = {
    "market_cap": 3674405863424.0,
    "eps_forward": 8.31,
    "eps_trailing": 6.31,
    "avg_50d": 240.5066,
    "avg_200d": 222.96205,
    "high_52w": 260.1,
    "low_52w": 164.08,
    "day_high": 245.41,
    "day_low": 241.0,
    "pre_price": 242.9,
    "pre_time": datetime(2025, 2, 14, 13, 30, 1, tzinfo=UTC),
    "post_price": 244.64,
    "post_time": datetime(2025, 2, 15, 0, 59, 58, tzinfo=UTC),
}
#: Yahoo's field behind each detail column.
FIELD_OF = dict(zip(PARSED_DETAILS, DETAILS, strict=True))


def test_the_detail_columns_are_the_schemas():
    assert list(PARSED_DETAILS) == list(QUOTE_DETAILS)


async def test_every_detail_is_parsed_as_served(yahoo, local_server):
    open_session(local_server)
    local_server.add(
        QUOTE_PATH,
        Reply.json(answer(item("AAPL", 244.6, prev_close=241.53, **DETAILS), item("IWM"))),
    )
    batch = await yahoo.fetch(["AAPL", "IWM"])
    assert batch.problems == {}
    aapl, iwm = batch.quotes.iter_rows(named=True)
    assert {name: aapl[name] for name in QUOTE_DETAILS} == PARSED_DETAILS
    assert (aapl["last"], aapl["prev_close"]) == (244.6, 241.53)
    # A symbol sent without details has them all null, and still its price.
    assert {name: iwm[name] for name in QUOTE_DETAILS} == dict.fromkeys(QUOTE_DETAILS)
    assert iwm["last"] == 100.0


#: Absurd values of each kind of detail (a time an hour ahead of the clock is one too).
_NOT_NUMBERS = [math.nan, math.inf, -math.inf, "12.5", True, None, [1], {"raw": 1}]
_BAD = [
    *((column, value) for column in PARSED_DETAILS for value in _NOT_NUMBERS),
    *(
        (column, value)
        for column in PARSED_DETAILS
        if column not in ("eps_forward", "eps_trailing", "pre_time", "post_time")
        for value in (0, -1.5, 1e300)
    ),
    # Earnings may be negative or zero, but none is larger than the dearest share's price.
    *((column, value) for column in ("eps_forward", "eps_trailing") for value in (1e300, -1e300)),
    ("eps_forward", MAX_PRICE),
    ("eps_trailing", -MAX_PRICE),
    ("pre_time", 0),
    ("pre_time", -5),
    ("post_time", 99_999_999_999),
    ("post_time", int(PARSED_AT.timestamp()) + 3600),
]


@pytest.mark.parametrize(("column", "value"), _BAD)
def test_a_bad_detail_is_null_and_nulls_only_itself(column, value):
    served = dict(DETAILS) | {FIELD_OF[column]: value}
    batch = parse_quotes(
        answer(item("AAPL", 244.6, prev_close=241.53, **served)), ["AAPL"], now=PARSED_AT
    )
    # The price still counts: a bad detail is no problem of the symbol's.
    assert batch.problems == {}
    row = batch.quotes.row(0, named=True)
    assert row["last"] == 244.6
    assert {name: row[name] for name in QUOTE_DETAILS} == PARSED_DETAILS | {column: None}


def test_a_missing_detail_is_null_and_nulls_only_itself():
    for column, field_name in FIELD_OF.items():
        served = {key: value for key, value in DETAILS.items() if key != field_name}
        batch = parse_quotes(answer(item("AAPL", **served)), ["AAPL"], now=PARSED_AT)
        row = batch.quotes.row(0, named=True)
        assert {name: row[name] for name in QUOTE_DETAILS} == PARSED_DETAILS | {column: None}


def test_earnings_may_be_negative_or_zero():
    batch = parse_quotes(
        answer(item("RIVN", epsForward=-2.71, epsTrailingTwelveMonths=0)), ["RIVN"], now=PARSED_AT
    )
    row = batch.quotes.row(0, named=True)
    assert (row["eps_forward"], row["eps_trailing"]) == (-2.71, 0.0)


def test_a_time_within_the_clocks_tolerance_is_kept():
    # Exchanges and hosts disagree by seconds: a minute ahead is a time, an hour is not.
    now = utc(T0)
    batch = parse_quotes(answer(item("AAPL", postMarketTime=T0 + 60)), ["AAPL"], now=now)
    assert batch.quotes.item(0, "post_time") == utc(T0 + 60)


async def test_after_a_fault_the_next_real_details_reach_the_store(yahoo, local_server):
    from capgap.analytics.store import MarketStore

    open_session(local_server)
    local_server.add(
        QUOTE_PATH,
        # Details of the wrong shape, then a broken body, then real numbers.
        Reply.json(answer(item("AAPL", marketCap="3.6T", epsForward=[8.31]))),
        Reply.text("{not json", content_type="application/json"),
        Reply.json(answer(item("AAPL", marketCap=3.6e12, epsForward=8.31))),
    )
    store = MarketStore()
    store.apply_quotes((await yahoo.fetch(["AAPL"])).quotes)
    assert store.quotes.select("market_cap", "eps_forward").row(0) == (None, None)
    with pytest.raises(FeedError):
        await yahoo.fetch(["AAPL"])
    store.apply_quotes((await yahoo.fetch(["AAPL"])).quotes)
    assert store.quotes.select("market_cap", "eps_forward").row(0) == (3.6e12, 8.31)


# --- unknown symbols, duplicates, case ------------------------------------------------------


async def test_a_symbol_left_out_three_times_in_a_row_is_unknown_and_not_asked_again(
    yahoo, local_server
):
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    for _ in range(OMISSIONS_BEFORE_UNKNOWN - 1):
        frame, problems = await yahoo.quotes(["SPY", "ZZZZ", "ZZZZ"])
        assert frame.get_column("symbol").to_list() == ["SPY"]
        # Left out, but not yet counted unknown: asked again next time.
        assert problems == {"ZZZZ": "Yahoo sent no quote for ZZZZ"}
        assert yahoo.unknown_symbols == frozenset()
    frame, problems = await yahoo.quotes(["SPY", "ZZZZ"])
    assert problems == {"ZZZZ": "Yahoo does not know ZZZZ"}
    assert yahoo.unknown_symbols == frozenset({"ZZZZ"})
    # Asked for again (in another case, too): reported, but not sent to Yahoo.
    frame, problems = await yahoo.quotes(["SPY", "zzzz"])
    assert problems == {"zzzz": "Yahoo does not know zzzz"}
    assert [query["symbols"] for query in asked(local_server)] == [
        ["SPY,ZZZZ"] for _ in range(OMISSIONS_BEFORE_UNKNOWN)
    ] + [["SPY"]]


async def test_a_symbol_quoted_between_omissions_starts_counting_again(yahoo, local_server):
    open_session(local_server)
    left_out, quoted = Reply.json(answer(item("SPY"))), Reply.json(answer(item("SPY"), item("X")))
    local_server.add(QUOTE_PATH, left_out, left_out, quoted, left_out, left_out, quoted)
    for _ in range(6):
        await yahoo.quotes(["SPY", "X"])
    assert yahoo.unknown_symbols == frozenset()
    assert all(query["symbols"] == ["SPY,X"] for query in asked(local_server))


async def test_benchmarks_and_indices_are_never_retired(local_server):
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(answer(item("AAPL"))))
    async with make_client(CLIENT, trust_env=False) as client:
        yahoo = YahooQuotes(
            client,
            local_server.base_url,
            cookie_url=local_server.base_url + COOKIE_PATH,
            protected=["SPY"],
        )
        for _ in range(OMISSIONS_BEFORE_UNKNOWN + 2):
            _, problems = await yahoo.quotes(["AAPL", "SPY", "^RUT"])
            assert problems == {
                "SPY": "Yahoo sent no quote for SPY",
                "^RUT": "Yahoo sent no quote for ^RUT",
            }
    assert all(query["symbols"] == ["AAPL,SPY,^RUT"] for query in asked(local_server))


async def test_an_unknown_symbol_is_asked_again_after_a_while_and_on_a_new_day(local_server):
    # 2025-02-14 16:30 New York (21:30 UTC): the same date for the next half hour.
    clock = ManualClock(datetime(2025, 2, 14, 21, 30, tzinfo=UTC))
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    async with make_client(CLIENT, trust_env=False) as client:
        yahoo = YahooQuotes(
            client, local_server.base_url, cookie_url=local_server.base_url + COOKIE_PATH,
            clock=clock,
        )  # fmt: skip
        for _ in range(OMISSIONS_BEFORE_UNKNOWN):
            await yahoo.quotes(["SPY", "GONE"])
        assert yahoo.unknown_symbols == frozenset({"GONE"})
        clock.advance(UNKNOWN_FOR.total_seconds() - 1)
        await yahoo.quotes(["SPY", "GONE"])
        clock.advance(1)
        _, problems = await yahoo.quotes(["SPY", "GONE"])
        # Lapsed: asked again, and one more omission does not retire it at once.
        assert problems == {"GONE": "Yahoo sent no quote for GONE"}
        assert yahoo.unknown_symbols == frozenset()
        for _ in range(OMISSIONS_BEFORE_UNKNOWN - 1):
            await yahoo.quotes(["SPY", "GONE"])
        assert yahoo.unknown_symbols == frozenset({"GONE"})
        # 2025-02-15 00:00 New York: a new date asks again whatever the time since.
        clock.set(datetime(2025, 2, 15, 5, 0, tzinfo=UTC))
        assert yahoo.unknown_symbols == frozenset()
    queries = [query["symbols"][0] for query in asked(local_server)]
    assert queries == ["SPY,GONE"] * 3 + ["SPY"] + ["SPY,GONE"] * 3


@pytest.mark.parametrize("symbols", [["SPY"], ["^GSPC", "AAPL"], ["AAPL", "MSFT"]])
async def test_an_empty_reply_for_symbols_quoted_before_is_a_feed_error(local_server, symbols):
    open_session(local_server)
    local_server.add(
        QUOTE_PATH,
        Reply.json(answer(*(item(symbol) for symbol in symbols))),
        Reply.json({"quoteResponse": {"result": []}}),
    )
    async with make_client(CLIENT, trust_env=False) as client:
        yahoo = YahooQuotes(
            client, local_server.base_url, cookie_url=local_server.base_url + COOKIE_PATH,
            protected=["SPY"],
        )  # fmt: skip
        await yahoo.quotes(symbols)
        for _ in range(OMISSIONS_BEFORE_UNKNOWN + 1):
            with pytest.raises(FeedError, match=r"^Yahoo sent an empty quote reply for \d"):
                await yahoo.quotes(symbols)
        # Failures are not omissions: nothing is retired.
        assert yahoo.unknown_symbols == frozenset()


async def test_an_empty_reply_for_a_benchmark_fails_from_the_first_poll(local_server):
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json({"quoteResponse": {"result": []}}))
    async with make_client(CLIENT, trust_env=False) as client:
        yahoo = YahooQuotes(
            client, local_server.base_url, cookie_url=local_server.base_url + COOKIE_PATH,
            protected=["SPY"],
        )  # fmt: skip
        with pytest.raises(FeedError, match=r"^Yahoo sent an empty quote reply for 2 symbols$"):
            await yahoo.quotes(["SPY", "AAPL"])


async def test_an_empty_reply_for_symbols_never_quoted_is_yahoos_unknown(yahoo, local_server):
    # Yahoo answers a symbol it does not know with an empty result (see the SIX capture).
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(answer()))
    for _ in range(OMISSIONS_BEFORE_UNKNOWN):
        frame, problems = await yahoo.quotes(["SIX"])
    assert frame.height == 0
    assert problems == {"SIX": "Yahoo does not know SIX"}
    frame, problems = await yahoo.quotes(["SIX"])
    assert problems == {"SIX": "Yahoo does not know SIX"}
    assert local_server.count(QUOTE_PATH) == OMISSIONS_BEFORE_UNKNOWN


async def test_duplicates_in_any_case_are_asked_once_under_the_first_spelling(yahoo, local_server):
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY", 604.0), item("BRK-B", 470.0))))
    frame, problems = await yahoo.quotes(["spy", "SPY", "BRK-B", "brk-b", "spy"])
    assert asked(local_server)[0]["symbols"] == ["spy,BRK-B"]
    assert frame.get_column("symbol").to_list() == ["spy", "BRK-B"]
    assert frame.get_column("last").to_list() == [604.0, 470.0]
    assert problems == {}


async def test_malformed_symbols_are_problems_without_a_request(yahoo, local_server):
    frame, problems = await yahoo.quotes(["", " SPY", "A,B", "A B"])
    assert frame.height == 0
    assert problems == {
        "": "Yahoo: '' is not a symbol",
        " SPY": "Yahoo: ' SPY' is not a symbol",
        "A,B": "Yahoo: 'A,B' is not a symbol",
        "A B": "Yahoo: 'A B' is not a symbol",
    }
    assert local_server.total == 0


def test_results_nobody_asked_for_are_ignored():
    batch = parse_quotes(
        answer(item("SPY"), item("EXTRA"), {"no": "symbol"}, "junk"), ["SPY"], now=PARSED_AT
    )
    assert batch.quotes.get_column("symbol").to_list() == ["SPY"]
    assert batch.problems == {}


# --- refusals, rate limits and broken bodies ------------------------------------------------


async def test_invalid_crumb_renews_the_session_once_and_retries(yahoo, local_server):
    open_session(local_server, "one", "crumbOne")
    open_session(local_server, "two", "crumbTwo")
    local_server.add(
        QUOTE_PATH, Reply.json(INVALID_CRUMB, 401), Reply.json(answer(item("SPY", 604.0)))
    )
    frame, problems = await yahoo.quotes(["SPY"])
    assert frame.get_column("last").to_list() == [604.0]
    assert problems == {}
    assert local_server.count(COOKIE_PATH) == 2
    assert local_server.count(CRUMB_PATH) == 2
    assert local_server.count(QUOTE_PATH) == 2
    retry = [seen for seen in local_server.seen if seen.path == QUOTE_PATH][1]
    assert parse_qs(retry.query)["crumb"] == ["crumbTwo"]
    assert "A3=d=two" in retry.headers["cookie"]
    # The renewed crumb is kept for the next call.
    await yahoo.quotes(["SPY"])
    assert local_server.count(CRUMB_PATH) == 2
    assert asked(local_server)[-1]["crumb"] == ["crumbTwo"]


@pytest.mark.parametrize("status", [401, 403])
async def test_a_persistent_refusal_is_an_error_after_one_retry(yahoo, local_server, status):
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(INVALID_CRUMB, status))
    symbols = [f"S{index}" for index in range(120)]
    with pytest.raises(FeedError) as caught:
        await yahoo.quotes(symbols)
    assert str(caught.value) == f"Yahoo refused the session (HTTP {status})"
    assert local_server.count(QUOTE_PATH) == 2
    assert local_server.count(CRUMB_PATH) == 2
    assert local_server.count(COOKIE_PATH) == 2


async def test_a_refusal_with_an_html_body_still_renews_the_session(yahoo, local_server):
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.html(401), Reply.json(answer(item("SPY"))))
    frame, _ = await yahoo.quotes(["SPY"])
    assert frame.height == 1
    assert local_server.count(CRUMB_PATH) == 2


async def test_429_is_a_rate_limit_and_starts_no_further_batch(yahoo, local_server):
    open_session(local_server)
    symbols = [f"S{index:03d}" for index in range(120)]
    local_server.add(
        QUOTE_PATH,
        Reply.json(answer(*(item(symbol) for symbol in symbols[:50]))),
        Reply.json({}, 429, {"Retry-After": "40"}),
        Reply.json(answer(*(item(symbol) for symbol in symbols[100:]))),
    )
    with pytest.raises(RateLimited) as caught:
        await yahoo.quotes(symbols)
    assert caught.value.retry_after_s == 40.0
    assert str(caught.value) == "Yahoo quote: rate limit (HTTP 429), retry in 40 s"
    assert local_server.count(QUOTE_PATH) == 2
    # A rate limit is not a bad session: no renewal.
    assert local_server.count(CRUMB_PATH) == 1


async def test_429_on_the_crumb_is_a_rate_limit(yahoo, local_server):
    local_server.add(COOKIE_PATH, Reply.text("Not Found", 404))
    local_server.add(CRUMB_PATH, Reply.text("Too Many Requests", 429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimited) as caught:
        await yahoo.quotes(["SPY"])
    assert caught.value.retry_after_s == 7.0
    assert local_server.count(QUOTE_PATH) == 0


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            Reply.html(),
            "Yahoo quote: sent HTML where JSON was expected "
            "(a captive portal or a challenge page?)",
        ),
        (
            Reply.text('{"quoteResponse": {"result": [', content_type="application/json"),
            "Yahoo quote: sent malformed JSON",
        ),
        (Reply.text("", content_type="application/json"), "Yahoo quote: sent an empty response"),
        (Reply.json({"unexpected": True}), "Yahoo sent something other than a quote response"),
        (
            Reply.json({"quoteResponse": {"result": None, "error": None}}),
            "Yahoo sent something other than a quote response",
        ),
        (Reply.json([1, 2]), "Yahoo sent something other than a quote response"),
        (
            Reply.json(
                {
                    "finance": {
                        "result": None,
                        "error": {
                            "code": "Bad Request",
                            "description": "Missing required query parameter=symbols",
                        },
                    }
                }
            ),
            "Yahoo quote error: Missing required query parameter=symbols",
        ),
        (
            Reply.json({"quoteResponse": {"result": [], "error": {"code": "Internal"}}}),
            "Yahoo quote error: Internal",
        ),
        (Reply.text("busy", 503), "Yahoo quote: HTTP 503"),
    ],
)
async def test_a_broken_quote_body_fails_the_call(yahoo, local_server, reply, message):
    open_session(local_server)
    local_server.add(QUOTE_PATH, reply)
    with pytest.raises(FeedError) as caught:
        await yahoo.quotes(["SPY", "IWM"])
    assert str(caught.value) == message
    assert local_server.count(QUOTE_PATH) == 1
    assert local_server.count(CRUMB_PATH) == 1


async def test_a_truncated_body_is_cut_short(yahoo, local_server):
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.truncated(b'{"quoteResponse":{"result":[{"symbol"', 900))
    with pytest.raises(FeedError, match=r"^Yahoo quote: response was cut short: "):
        await yahoo.quotes(["SPY"])


async def test_an_unreachable_cookie_endpoint_is_a_feed_error(local_server):
    async with make_client(CLIENT, trust_env=False) as client:
        yahoo = YahooQuotes(client, local_server.base_url, cookie_url="http://127.0.0.1:9/x")
        with pytest.raises(FeedError, match=r"^Yahoo cookie: connection failed: "):
            await yahoo.quotes(["SPY"])
    assert local_server.total == 0


# --- parse_crumb ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"<!doctype html><p>consent</p>", "text/plain", "web page instead of a crumb"),
        (b"abc", "text/html; charset=utf-8", "web page instead of a crumb"),
        (b"", "text/plain", "empty crumb"),
        (b"\tabc", "text/plain", "unusable crumb"),
        (b'{"finance":{}}', "text/plain", "unusable crumb"),
        ("cr\u00fcmb".encode(), "text/plain", "unusable crumb"),
    ],
)
def test_parse_crumb_refuses_what_is_not_a_crumb(body, content_type, message):
    with pytest.raises(FeedError, match=message):
        parse_crumb(RawReply(200, content_type, body))


def test_parse_crumb_accepts_a_token():
    assert parse_crumb(RawReply(200, "text/plain;charset=utf-8", b"xW/2z.Nsa7b")) == "xW/2z.Nsa7b"


# --- conformance: the real responses in ../shared/fixtures/providers ------------------------


def _recorded(path: Path) -> tuple[Any, str | None]:
    """The Yahoo body inside a fixture and the request URL when the recorder kept it."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(raw, dict) and "response" in raw:  # gadicc's recorder
        response = raw["response"]
        body = response["bodyJson"] if "bodyJson" in response else response.get("bodyText")
        return body, raw["request"]["url"]
    return raw, None


def _shared_quote_files() -> list[Path]:
    return sorted(SHARED.glob("yahoo_quote_*.json")) if SHARED.is_dir() else []


requires_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures is absent")


@requires_shared
def test_the_shared_quote_fixtures_are_there():
    assert len(_shared_quote_files()) >= 7


@requires_shared
@pytest.mark.parametrize("path", _shared_quote_files(), ids=lambda path: path.name)
def test_every_shared_quote_parses_as_the_raw_numbers_say(path):
    body, url = _recorded(path)
    section = body.get("quoteResponse") or body.get("finance")
    if section["error"] is not None:
        with pytest.raises(FeedError, match=r"^Yahoo quote error: Invalid Crumb$"):
            parse_quotes(body, ["AAPL"], now=PARSED_AT)
        return
    results = section["result"]
    served = [entry["symbol"] for entry in results]
    symbols = parse_qs(urlsplit(url).query)["symbols"][0].split(",") if url else served
    batch = parse_quotes(body, symbols, now=PARSED_AT)

    assert batch.quotes.schema == QUOTES
    assert batch.problems == {
        symbol: f"Yahoo sent no quote for {symbol}" for symbol in batch.omitted
    }
    assert batch.omitted == frozenset(symbols) - frozenset(served)
    assert batch.empty == (not served)
    rows = {row["symbol"]: row for row in batch.quotes.iter_rows(named=True)}
    assert sorted(rows) == sorted(served)
    for entry in results:
        row = rows[entry["symbol"]]
        assert row["last"] == entry["regularMarketPrice"]
        assert row["time"] == utc(entry["regularMarketTime"])
        assert row["prev_close"] == entry["regularMarketPreviousClose"]
        raw_volume = entry["regularMarketVolume"]
        no_volume = entry["quoteType"] in ("INDEX", "CURRENCY") and raw_volume == 0
        assert row["volume"] == (None if no_volume else float(raw_volume))
        # Each detail is the number served (a time as UTC), or null where Yahoo sent none.
        for column, field_name in FIELD_OF.items():
            raw = entry.get(field_name)
            # An index's 52-week range comes as 0 (Yahoo's "none"): null, like a missing one.
            if raw is None or (raw == 0 and not column.startswith("eps_")):
                assert row[column] is None, (entry["symbol"], column)
            elif column.endswith("_time"):
                assert row[column] == utc(raw), (entry["symbol"], column)
            else:
                assert row[column] == raw, (entry["symbol"], column)


@requires_shared
def test_shared_unknown_symbol_is_an_empty_result():
    body, url = _recorded(SHARED / "yahoo_quote_six_unknown_empty_result.gadicc-fixture.json")
    assert url is not None and "symbols=SIX" in url
    batch = parse_quotes(body, ["SIX"], now=PARSED_AT)
    assert batch.quotes.height == 0
    assert batch.omitted == frozenset({"SIX"}) and batch.empty


@requires_shared
def test_shared_index_quote_volume_zero_is_null():
    body, _ = _recorded(SHARED / "yahoo_quote_vxapl_index.gadicc-fixture.json")
    batch = parse_quotes(body, ["^VXAPL"], now=PARSED_AT)
    row = batch.quotes.row(0, named=True)
    assert {name: row[name] for name in ("symbol", "time", "last", "prev_close", "volume")} == {
        "symbol": "^VXAPL",
        "time": datetime(2025, 2, 14, 21, 2, 2, tzinfo=UTC),
        "last": 23.77,
        "prev_close": 24.28,
        "volume": None,
    }


@requires_shared
def test_shared_getcrumb_is_the_crumb_the_quotes_were_asked_with():
    recorded = json.loads((SHARED / "yahoo_getcrumb.gadicc-fixture.json").read_text("utf-8"))
    response = recorded["response"]
    raw = RawReply(
        response["status"], response["headers"]["content-type"], response["bodyText"].encode()
    )
    crumb = parse_crumb(raw)
    assert crumb == "haT3oykhHqZ"
    _, url = _recorded(SHARED / "yahoo_quote_qqq_etf.gadicc-fixture.json")
    assert url is not None
    assert parse_qs(urlsplit(url).query)["crumb"] == [crumb]


@requires_shared
async def test_shared_invalid_crumb_body_served_twice_is_a_refused_session(yahoo, local_server):
    body = (SHARED / "yahoo_quote_error_401_invalid_crumb.TRANSCRIBED.json").read_bytes()
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply(401, body))
    with pytest.raises(FeedError, match=r"^Yahoo refused the session \(HTTP 401\)$"):
        await yahoo.quotes(["AAPL"])
    assert local_server.count(QUOTE_PATH) == 2


# --- robustness: whatever JSON arrives, the parser answers with a batch or a FeedError -------


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_any_json_is_a_batch_or_a_feed_error(payload):
    try:
        batch = parse_quotes(payload, ["SPY"], now=PARSED_AT)
    except FeedError:
        return
    assert batch.quotes.schema == QUOTES


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            "symbol",
            "regularMarketPrice",
            "regularMarketTime",
            "regularMarketPreviousClose",
            "regularMarketVolume",
            "quoteType",
            *DETAILS,
        ]
    ),
    JSON_VALUES,
)
def test_a_quote_with_any_field_replaced_is_a_valid_row_or_a_problem(field, value):
    entry = item("SPY", **DETAILS)
    entry[field] = value
    batch = parse_quotes(answer(entry), ["SPY"], now=PARSED_AT)
    assert batch.quotes.schema == QUOTES
    assert (batch.quotes.height == 1) != ("SPY" in batch.problems)
    if batch.quotes.height:
        row = batch.quotes.row(0, named=True)
        assert math.isfinite(row["last"]) and row["last"] > 0
        assert math.isfinite(row["prev_close"]) and row["prev_close"] > 0
        assert row["volume"] is None or (math.isfinite(row["volume"]) and row["volume"] >= 0)
        for column in QUOTE_DETAILS:
            detail = row[column]
            if detail is None or column.endswith("_time"):
                continue
            assert math.isfinite(detail)
            if not column.startswith("eps_"):
                assert detail > 0
