"""The per-host request budget: requests beyond the burst wait for tokens, none are lost."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from capgap.core.clock import ManualClock
from capgap.feeds.http import ClientSettings, budget_hook
from capgap.feeds.poller import TokenBucket


async def test_requests_beyond_the_burst_wait_for_their_tokens():
    clock = ManualClock(datetime(2025, 12, 5, tzinfo=UTC))
    bucket = TokenBucket(capacity=2, rate_per_s=0.5, clock=clock)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    sent: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(clock.monotonic())
        return httpx.Response(200, json={})

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(answer),
        event_hooks={"request": [budget_hook(bucket, sleep)]},
    ) as client:
        for _ in range(5):
            await client.get("http://budget.test/")
    # Two at once (the burst), then one every 2 s (0.5 tokens a second).
    assert sent == pytest.approx([0, 0, 2, 4, 6])
    assert waits == pytest.approx([2, 2, 2])


def test_make_client_installs_the_hook_only_with_a_budget():
    from capgap.feeds.http import make_client

    clock = ManualClock(datetime(2025, 12, 5, tzinfo=UTC))
    plain = make_client(ClientSettings(provider="t"))
    budgeted = make_client(ClientSettings(provider="t"), budget=TokenBucket(1, 1, clock))
    assert plain.event_hooks["request"] == []
    assert len(budgeted.event_hooks["request"]) == 1
