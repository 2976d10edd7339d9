"""Finnhub over a local server: quotes, ETF proxies, unknown symbols, faults, a secret key."""

from __future__ import annotations

import json
import math
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import polars as pl
import pytest
from capgap.core.clock import ManualClock
from capgap.core.schemas import QUOTE_DETAILS, QUOTES
from capgap.feeds.base import FeedError, RateLimited
from capgap.feeds.http import ClientSettings, make_client
from capgap.feeds.providers.finnhub import (
    DEFAULT_BASE_URL,
    INDEX_PROXIES,
    MISSING_KEY,
    NO_PROXY,
    QUOTE_PATH,
    Finnhub,
    SymbolError,
    UnknownSymbol,
    finnhub_symbol,
    parse_quote,
)
from capgap.feeds.unknown import UNKNOWN_FOR
from hypothesis import given, settings
from hypothesis import strategies as st
from json_strategies import JSON_VALUES
from server import LocalServer, Reply, local_server, provider_test_client

__all__ = ["local_server"]

#: When the parsed replies are read: after every time the tests and fixtures carry.
PARSED_AT = datetime(2030, 1, 2, tzinfo=UTC)

SHARED = Path(__file__).parents[3] / "shared" / "fixtures" / "providers"
CLIENT = provider_test_client("Finnhub")
KEY = "d4k3y0finnhubs3cr3tt0k3n"
PATH = QUOTE_PATH

# 2025-12-05 21:00:00 UTC, the close of a Friday session in New York.
T_CLOSE = 1764968400


def quote(c: Any, pc: Any, t: Any = T_CLOSE, **extra: Any) -> dict[str, Any]:
    """A /api/v1/quote body with every key Finnhub sends."""
    body = {"c": c, "d": None, "dp": None, "h": c, "l": c, "o": c, "pc": pc, "t": t}
    if isinstance(c, int | float) and isinstance(pc, int | float) and pc:
        body["d"] = round(c - pc, 4)
        body["dp"] = round((c - pc) / pc * 100, 4)
    body.update(extra)
    return body


SPY = quote(683.29, 684.39)
IWM = quote(251.26, 250.77)
AAPL = quote(278.78, 280.70, T_CLOSE - 60)
BRK_B = quote(504.77, 503.1)
# What Finnhub sends for a symbol it does not know.
UNKNOWN = {"c": 0, "d": None, "dp": None, "h": 0, "l": 0, "o": 0, "pc": 0, "t": 0}


@pytest.fixture
async def finnhub(local_server: LocalServer) -> AsyncIterator[Finnhub]:
    async with make_client(CLIENT, trust_env=False) as client:
        yield Finnhub(client, local_server.base_url + "/", api_key=KEY)


def asked(server: LocalServer) -> list[str]:
    """The symbols the server was asked for, in order; every request carried the key."""
    symbols = []
    for seen in server.seen:
        query = parse_qs(seen.query)
        assert query["token"] == [KEY]
        assert set(query) == {"symbol", "token"}
        symbols.extend(query["symbol"])
    return symbols


def assert_secret(error: BaseException) -> None:
    """The key is in no message, no repr, no chained exception and no formatted traceback."""
    # httpx exceptions carry the request, whose URL holds the key: none may be chained.
    assert error.__cause__ is None
    assert error.__context__ is None
    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert KEY not in "".join(traceback.format_exception(error))


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def test_defaults():
    assert DEFAULT_BASE_URL == "https://finnhub.io"
    assert PATH == "/api/v1/quote"
    assert dict(INDEX_PROXIES) == {"^GSPC": "SPY", "^RUT": "IWM", "^SP600": "IJR"}
    assert set(NO_PROXY) == {"^VIX", "^TNX"}


@pytest.mark.parametrize(
    ("symbol", "asked_as"),
    [("^GSPC", "SPY"), ("^RUT", "IWM"), ("BRK-B", "BRK.B"), ("BF-B", "BF.B"), ("AAPL", "AAPL")],
)
def test_finnhub_symbols(symbol, asked_as):
    assert finnhub_symbol(symbol) == asked_as


async def test_quote_numbers_are_the_numbers_served(finnhub, local_server):
    local_server.add(PATH, Reply.json(AAPL))
    frame = await finnhub.quote("AAPL")
    assert frame.schema == QUOTES
    assert frame.to_dicts() == [
        {
            "symbol": "AAPL",
            "time": datetime(2025, 12, 5, 20, 59, tzinfo=UTC),
            "last": 278.78,
            "prev_close": 280.70,
            "volume": None,
        }
        | dict.fromkeys(QUOTE_DETAILS)
    ]
    assert asked(local_server) == ["AAPL"]
    assert local_server.seen[0].headers["user-agent"].startswith("Mozilla/5.0")


async def test_quotes_with_proxies_unknowns_and_unsupported(finnhub, local_server):
    bad = quote(-3.0, 12.0)
    # One at a time, the server answers in the order the Finnhub symbols are first needed.
    local_server.add(
        PATH,
        Reply.json(SPY),  # ^GSPC and SPY share it
        Reply.json(IWM),  # ^RUT
        Reply.json(AAPL),
        Reply.json(UNKNOWN),  # ZZZZ
        Reply.json(BRK_B),  # BRK-B asked as BRK.B
        Reply.json(bad),  # BAD
    )
    symbols = ["^GSPC", "SPY", "^RUT", "^VIX", "AAPL", "ZZZZ", "^TNX", "BRK-B", "BAD", "^DJI"]
    frame, problems, proxies = await finnhub.quotes([*symbols, "AAPL"], concurrency=1)
    assert frame.schema == QUOTES
    assert frame.get_column("symbol").to_list() == ["^GSPC", "SPY", "^RUT", "AAPL", "BRK-B"]
    assert frame.get_column("last").to_list() == [683.29, 683.29, 251.26, 278.78, 504.77]
    assert frame.get_column("prev_close").to_list() == [684.39, 684.39, 250.77, 280.70, 503.1]
    assert frame.get_column("time").to_list()[0] == at(T_CLOSE)
    assert proxies == {"^GSPC": "SPY", "^RUT": "IWM"}
    assert problems == {
        "^VIX": "Finnhub has no quote for ^VIX (the VIX index) and no ETF proxy",
        "ZZZZ": "Finnhub does not know ZZZZ",
        "^TNX": "Finnhub has no quote for ^TNX (the 10-year Treasury yield) and no ETF proxy",
        "BAD": "Finnhub sent an invalid last price for BAD: -3.0",
        "^DJI": "Finnhub has no index quotes on the free tier and no proxy for ^DJI",
    }
    # One request per Finnhub symbol: SPY once for two rows, nothing for the unsupported.
    assert asked(local_server) == ["SPY", "IWM", "AAPL", "ZZZZ", "BRK.B", "BAD"]
    assert finnhub.unknown_symbols == frozenset({"ZZZZ"})


async def test_an_unknown_symbol_is_asked_once(finnhub, local_server):
    local_server.add(PATH, Reply.json(UNKNOWN), Reply.json(AAPL))
    _, first, _ = await finnhub.quotes(["ZZZZ"])
    frame, second, _ = await finnhub.quotes(["ZZZZ", "AAPL"])
    assert first == second == {"ZZZZ": "Finnhub does not know ZZZZ"}
    assert frame.get_column("symbol").to_list() == ["AAPL"]
    assert asked(local_server) == ["ZZZZ", "AAPL"]


async def test_an_unknown_symbol_is_asked_again_later_and_a_benchmark_never_retired(
    local_server,
):
    clock = ManualClock(datetime(2025, 12, 5, 15, 0, tzinfo=UTC))
    local_server.add(PATH, Reply.json(UNKNOWN))
    async with make_client(ClientSettings(provider="Finnhub"), trust_env=False) as client:
        finnhub = Finnhub(
            client, local_server.base_url, api_key=KEY, clock=clock, protected=["SPY"]
        )
        await finnhub.quotes(["ZZZZ", "^GSPC"], concurrency=1)
        # The zeros retire ZZZZ, not the benchmark's ETF: SPY is asked on every poll.
        assert finnhub.unknown_symbols == frozenset({"ZZZZ"})
        await finnhub.quotes(["ZZZZ", "^GSPC"], concurrency=1)
        clock.advance(UNKNOWN_FOR.total_seconds())
        assert finnhub.unknown_symbols == frozenset()
        await finnhub.quotes(["ZZZZ", "^GSPC"], concurrency=1)
    assert asked(local_server) == ["ZZZZ", "SPY", "SPY", "ZZZZ", "SPY"]


async def test_an_unknown_proxy_names_the_index(finnhub, local_server):
    local_server.add(PATH, Reply.json(UNKNOWN))
    frame, problems, proxies = await finnhub.quotes(["^RUT"])
    assert frame.height == 0
    assert proxies == {}
    assert problems == {"^RUT": "Finnhub does not know IWM (for ^RUT)"}
    _, again, _ = await finnhub.quotes(["^RUT", "IWM"])
    assert again == {
        "^RUT": "Finnhub does not know IWM (for ^RUT)",
        "IWM": "Finnhub does not know IWM",
    }
    assert local_server.total == 1


async def test_quote_of_an_unknown_symbol_raises_and_remembers(finnhub, local_server):
    local_server.add(PATH, Reply.json(UNKNOWN))
    with pytest.raises(UnknownSymbol) as caught:
        await finnhub.quote("ZZZZ")
    assert caught.value.symbol == "ZZZZ"
    assert finnhub.unknown_symbols == frozenset({"ZZZZ"})


async def test_quotes_of_nothing_asks_nothing(finnhub, local_server):
    frame, problems, proxies = await finnhub.quotes([])
    assert frame.schema == QUOTES
    assert frame.height == 0
    assert problems == {}
    assert proxies == {}
    assert local_server.total == 0


@pytest.mark.parametrize("key", [None, "", "  "])
async def test_a_missing_key_is_a_feed_error_before_any_request(local_server, key):
    async with make_client(CLIENT, trust_env=False) as client:
        finnhub = Finnhub(client, local_server.base_url, api_key=key)
        with pytest.raises(FeedError) as caught:
            await finnhub.quotes(["SPY"])
        assert str(caught.value) == MISSING_KEY
        with pytest.raises(FeedError, match="needs an API key"):
            await finnhub.quote("SPY")
    assert MISSING_KEY == "Finnhub needs an API key ([feeds.finnhub] api_key or FINNHUB_API_KEY)"
    assert local_server.total == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (quote(-1.5, 10.0), "Finnhub sent an invalid last price for XYZ: -1.5"),
        (quote(0, 10.0), "Finnhub sent an invalid last price for XYZ: 0"),
        (quote(math.nan, 10.0), "Finnhub sent an invalid last price for XYZ: nan"),
        (quote(math.inf, 10.0), "Finnhub sent an invalid last price for XYZ: inf"),
        (quote("182.4", 10.0), "Finnhub sent an invalid last price for XYZ: '182.4'"),
        (quote(True, 10.0), "Finnhub sent an invalid last price for XYZ: True"),
        (quote(None, 10.0), "Finnhub sent an invalid last price for XYZ: None"),
        (quote(10.0, 0), "Finnhub sent an invalid previous close for XYZ: 0"),
        (quote(10.0, -2), "Finnhub sent an invalid previous close for XYZ: -2"),
        (quote(10.0, math.nan), "Finnhub sent an invalid previous close for XYZ: nan"),
        (quote(10.0, 9.0, t=0), "Finnhub sent no valid quote time for XYZ: 0"),
        (quote(10.0, 9.0, t=None), "Finnhub sent no valid quote time for XYZ: None"),
        (quote(10.0, 9.0, t=-5), "Finnhub sent no valid quote time for XYZ: -5"),
        (quote(10.0, 9.0, t=10**12), "Finnhub sent no valid quote time for XYZ: 1000000000000"),
        (
            {k: v for k, v in SPY.items() if k != "c"},
            "Finnhub sent an invalid last price for XYZ: None",
        ),
        ([SPY], "Finnhub sent something other than a quote for XYZ"),
    ],
)
async def test_invalid_quotes_are_rejected_naming_the_symbol(finnhub, local_server, body, message):
    local_server.add(PATH, Reply.json(body))
    frame, problems, proxies = await finnhub.quotes(["XYZ"])
    assert frame.height == 0
    assert problems == {"XYZ": message}
    assert proxies == {}
    assert finnhub.unknown_symbols == frozenset()
    assert local_server.total == 1


@pytest.mark.parametrize(
    ("reply", "kind", "message"),
    [
        (
            Reply.json({"error": "Invalid API key"}, 401),
            FeedError,
            "Finnhub rejected the API key (HTTP 401): Invalid API key",
        ),
        (Reply.text("Unauthorized", 401), FeedError, "Finnhub HTTP 401"),
        (
            Reply.json({"error": "You don't have access to this resource."}, 403),
            FeedError,
            "Finnhub refused access (HTTP 403): You don't have access to this resource.; "
            "check the API key and plan",
        ),
        (
            Reply.json(
                {"error": "API limit reached. Please try again later."}, 429, {"Retry-After": "40"}
            ),
            RateLimited,
            "Finnhub rate limit (HTTP 429), retry in 40 s",
        ),
        (
            Reply.json({"error": "API limit reached. Please try again later. Remaining Limit: 0"}),
            RateLimited,
            "Finnhub rate limit: API limit reached. Please try again later. Remaining Limit: 0",
        ),
        (Reply.json({"error": "Something broke"}), FeedError, "Finnhub error: Something broke"),
        (Reply.json({}, 502), FeedError, "Finnhub HTTP 502"),
        (
            Reply.html(),
            FeedError,
            "Finnhub sent HTML where JSON was expected (a captive portal or a challenge page?)",
        ),
        (
            Reply.text('{"c": 18', content_type="application/json"),
            FeedError,
            "Finnhub sent malformed JSON",
        ),
        (Reply.slow(5.0, SPY), FeedError, "Finnhub timed out after 2 s"),
    ],
    ids=[
        "401",
        "401-text",
        "403",
        "429",
        "limit-in-200",
        "error-in-200",
        "502",
        "html",
        "malformed",
        "slow",
    ],
)
async def test_a_failing_provider_fails_the_whole_call_at_once(
    finnhub, local_server, reply, kind, message
):
    local_server.add(PATH, reply)
    symbols = ["SPY", "IWM", "AAPL", "MSFT", "NVDA", "AMZN"]
    with pytest.raises(FeedError) as caught:
        await finnhub.quotes(symbols, concurrency=1)
    assert type(caught.value) is kind
    assert str(caught.value) == message
    assert_secret(caught.value)
    # No storm and no retry: the first failure ends the call.
    assert local_server.total == 1


async def test_the_rate_limit_wait_is_kept(finnhub, local_server):
    local_server.add(PATH, Reply.json({"error": "API limit reached."}, 429, {"Retry-After": "7"}))
    with pytest.raises(RateLimited) as caught:
        await finnhub.quotes(["SPY"])
    assert caught.value.retry_after_s == 7.0


async def test_reset_and_truncation_are_feed_errors_without_the_key(finnhub, local_server):
    local_server.add(PATH, Reply.reset(), Reply.truncated(b'{"c": 683.29, "d"', 300))
    with pytest.raises(FeedError, match=r"^Finnhub connection failed: ") as reset:
        await finnhub.quotes(["SPY", "IWM"], concurrency=1)
    assert_secret(reset.value)
    assert local_server.total == 1
    with pytest.raises(FeedError, match=r"^Finnhub response was cut short: ") as cut:
        await finnhub.quote("SPY")
    assert_secret(cut.value)
    assert local_server.total == 2


async def test_a_key_echoed_by_the_provider_is_masked(finnhub, local_server):
    local_server.add(PATH, Reply.json({"error": f"Invalid API key {KEY}"}, 401))
    with pytest.raises(FeedError) as caught:
        await finnhub.quote("SPY")
    assert str(caught.value) == "Finnhub rejected the API key (HTTP 401): Invalid API key ***"
    assert_secret(caught.value)


async def test_a_failing_provider_stops_at_the_requests_in_flight(finnhub, local_server):
    local_server.add(PATH, Reply.reset())
    with pytest.raises(FeedError, match=r"^Finnhub connection failed: "):
        await finnhub.quotes([f"S{index}" for index in range(20)], concurrency=4)
    assert 1 <= local_server.total <= 4


async def test_quotes_keep_to_their_concurrency(finnhub, local_server):
    local_server.add(PATH, Reply.slow(0.05, SPY))
    symbols = [f"S{index}" for index in range(8)]
    frame, problems, _ = await finnhub.quotes(symbols, concurrency=2)
    assert problems == {}
    assert frame.get_column("symbol").to_list() == symbols
    assert sorted(asked(local_server)) == sorted(symbols)
    assert local_server.max_in_flight <= 2


def test_the_provider_repr_hides_the_key():
    finnhub = Finnhub(make_client(CLIENT, trust_env=False), "http://127.0.0.1:9", api_key=KEY)
    assert KEY not in repr(finnhub)
    assert repr(finnhub) == "Finnhub(base_url='http://127.0.0.1:9', api_key=set)"


def test_an_unknown_symbol_needs_both_zeros():
    with pytest.raises(UnknownSymbol):
        parse_quote(UNKNOWN, "ZZZZ", now=PARSED_AT)
    # A zero price with a time is a bad quote, not an unknown symbol.
    with pytest.raises(SymbolError) as caught:
        parse_quote({**UNKNOWN, "t": T_CLOSE}, "ZZZZ", now=PARSED_AT)
    assert not isinstance(caught.value, UnknownSymbol)


def test_integer_prices_are_floats():
    frame = parse_quote(quote(100, 99, T_CLOSE), "X", now=PARSED_AT)
    assert frame.row(0)[:5] == ("X", at(T_CLOSE), 100.0, 99.0, None)
    assert frame.schema == QUOTES


def _check(frame: pl.DataFrame) -> None:
    assert frame.schema == QUOTES
    assert frame.height == 1
    symbol, time, last, prev_close, volume, *details = frame.row(0)
    assert details == [None] * len(QUOTE_DETAILS)  # Finnhub sends none
    assert symbol == "X"
    assert math.isfinite(last) and last > 0
    assert math.isfinite(prev_close) and prev_close > 0
    assert time.tzinfo is not None
    assert volume is None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SPY)), JSON_VALUES)
def test_any_field_value_is_a_quote_or_a_feed_error(key, value):
    try:
        frame = parse_quote({**SPY, key: value}, "X", now=PARSED_AT)
    except FeedError:
        return
    _check(frame)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_any_json_is_a_quote_or_a_feed_error(payload):
    try:
        frame = parse_quote(payload, "X", now=PARSED_AT)
    except FeedError:
        return
    _check(frame)


# --- conformance: the quote in ../shared/fixtures/providers (key names; hand-written values) ---

requires_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures is absent")


@requires_shared
def test_shared_quote_parses():
    raw = json.loads((SHARED / "finnhub_quote.UNVERIFIED-provenance.json").read_text("utf-8"))
    assert set(raw) == set(SPY)
    frame = parse_quote(raw, "AAPL", now=PARSED_AT)
    # Finnhub sends no quote details: they are null.
    details = (None,) * len(QUOTE_DETAILS)
    assert frame.row(0) == ("AAPL", at(raw["t"]), raw["c"], raw["pc"], None, *details)
    assert frame.row(0)[1] == datetime(2026, 9, 21, 20, 0, tzinfo=UTC)


@requires_shared
async def test_shared_quote_over_http_under_an_index(finnhub, local_server):
    raw = (SHARED / "finnhub_quote.UNVERIFIED-provenance.json").read_bytes()
    local_server.add(PATH, Reply(200, raw))
    frame, problems, proxies = await finnhub.quotes(["^GSPC"])
    assert problems == {}
    assert proxies == {"^GSPC": "SPY"}
    assert frame.get_column("symbol").to_list() == ["^GSPC"]
    assert frame.get_column("last").to_list() == [182.4]
    assert asked(local_server) == ["SPY"]
