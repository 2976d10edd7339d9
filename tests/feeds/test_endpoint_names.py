"""A Yahoo failure names the endpoint that failed: cookie, crumb, quote or chart."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from capgap.feeds.base import FeedError, RateLimited
from capgap.feeds.http import ClientSettings, make_client
from capgap.feeds.providers.yahoo import YahooChart, chart_path
from capgap.feeds.providers.yahoo_quote import CRUMB_PATH, QUOTE_PATH, YahooQuotes
from server import LocalServer, Reply, local_server

__all__ = ["local_server"]

FAST = ClientSettings(provider="Yahoo", read_timeout_s=2.0, connect_timeout_s=5.0)
COOKIE_PATH = "/cookie"
CRUMB = "haT3oykhHqZ"


@pytest.fixture
async def quotes(local_server: LocalServer) -> AsyncIterator[YahooQuotes]:
    async with make_client(FAST, trust_env=False) as client:
        yield YahooQuotes(
            client, local_server.base_url, cookie_url=local_server.base_url + COOKIE_PATH
        )


@pytest.fixture
async def chart(local_server: LocalServer) -> AsyncIterator[YahooChart]:
    async with make_client(FAST, trust_env=False) as client:
        yield YahooChart(client, local_server.base_url)


async def failure(quotes: YahooQuotes) -> str:
    with pytest.raises(FeedError) as caught:
        await quotes.quotes(["SPY"])
    return str(caught.value)


async def test_a_cookie_failure_names_the_cookie(quotes, local_server):
    local_server.add(COOKIE_PATH, Reply.reset())
    assert (await failure(quotes)).startswith("Yahoo cookie: connection failed: ")
    assert local_server.count(CRUMB_PATH) == 0


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.text("oops", 500), "Yahoo crumb: HTTP 500"),
        (Reply.text("busy", 429), "Yahoo crumb: rate limit (HTTP 429)"),
    ],
)
async def test_a_crumb_failure_names_the_crumb(quotes, local_server, reply, message):
    local_server.add(COOKIE_PATH, Reply.text("Not Found", 404))
    local_server.add(CRUMB_PATH, reply)
    assert await failure(quotes) == message
    assert local_server.count(QUOTE_PATH) == 0


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.text("busy", 503), "Yahoo quote: HTTP 503"),
        (
            Reply.json({}, 429, {"Retry-After": "40"}),
            "Yahoo quote: rate limit (HTTP 429), retry in 40 s",
        ),
        (
            Reply.html(),
            "Yahoo quote: sent HTML where JSON was expected "
            "(a captive portal or a challenge page?)",
        ),
    ],
)
async def test_a_quote_failure_names_the_quote(quotes, local_server, reply, message):
    local_server.add(COOKIE_PATH, Reply.text("Not Found", 404))
    local_server.add(CRUMB_PATH, Reply.text(CRUMB))
    local_server.add(QUOTE_PATH, reply)
    assert await failure(quotes) == message


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.json({}, 500), "Yahoo chart: HTTP 500"),
        (Reply.text("Not here", 404), "Yahoo chart: HTTP 404"),
        (
            Reply.text('{"chart":', content_type="application/json"),
            "Yahoo chart: sent malformed JSON",
        ),
    ],
)
async def test_a_chart_failure_names_the_chart(chart, local_server, reply, message):
    local_server.add(chart_path("^GSPC"), reply)
    with pytest.raises(FeedError) as caught:
        await chart.bars("^GSPC")
    assert str(caught.value) == message


async def test_a_rate_limited_chart_keeps_its_wait(chart, local_server):
    local_server.add(chart_path("^RUT"), Reply.json({}, 429, {"Retry-After": "30"}))
    with pytest.raises(RateLimited) as caught:
        await chart.daily("^RUT")
    assert str(caught.value) == "Yahoo chart: rate limit (HTTP 429), retry in 30 s"
    assert caught.value.retry_after_s == 30.0
