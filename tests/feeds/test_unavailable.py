"""503 with Retry-After is honoured like a 429; the status line names the next try."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from capgap.core.snapshot import FeedStatus
from capgap.feeds.base import FeedError, RateLimited
from capgap.feeds.http import ClientSettings, make_client
from capgap.feeds.providers.yahoo import YahooChart, chart_path
from capgap.ui.widgets.status_line import feed_variants
from server import LocalServer, Reply, local_server

__all__ = ["local_server"]


async def test_503_with_retry_after_is_a_rate_limit(local_server: LocalServer):
    local_server.add(chart_path("^GSPC"), Reply.text("busy", 503, headers={"Retry-After": "120"}))
    async with make_client(ClientSettings(provider="Yahoo")) as client:
        chart = YahooChart(client, local_server.base_url)
        with pytest.raises(RateLimited) as caught:
            await chart.quote("^GSPC")
    assert caught.value.retry_after_s == 120
    assert str(caught.value) == "Yahoo chart: unavailable (HTTP 503), retry in 120 s"


async def test_503_without_retry_after_is_a_plain_failure(local_server: LocalServer):
    local_server.add(chart_path("^GSPC"), Reply.text("busy", 503))
    async with make_client(ClientSettings(provider="Yahoo")) as client:
        chart = YahooChart(client, local_server.base_url)
        with pytest.raises(FeedError) as caught:
            await chart.quote("^GSPC")
    assert not isinstance(caught.value, RateLimited)
    assert str(caught.value) == "Yahoo chart: HTTP 503"


def test_status_line_names_the_next_try():
    at = datetime(2025, 12, 5, 15, 0, 40, tzinfo=UTC)  # 10:00:40 New York
    down = FeedStatus("yahoo", "degraded", None, None, "Yahoo HTTP 503", next_retry=at)
    assert feed_variants((down,), at)[0].content.plain == (
        "yahoo degraded, no reply yet, retry 10:00:40: Yahoo HTTP 503"
    )
    limited = FeedStatus(
        "yahoo", "degraded", None, None, "Yahoo rate limit (HTTP 429), retry in 40 s", next_retry=at
    )
    # The shortest variant that still says when: state and next try.
    assert feed_variants((limited,), at)[2].content.plain == "yahoo degraded, retry 10:00:40"
