"""During a Retry-After or backoff window navigation never polls, and `r` tries once at most."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import Snapshot
from capgap.engine.loop import Engine
from capgap.engine.sources import live_engine
from capgap.engine.startup import DeferredEngine
from capgap.feeds.base import RateLimited
from capgap.feeds.providers.yahoo import chart_path
from capgap.market.universe import load_universe, vars_in_order
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_engine_polling import ScriptedFeed
from test_live_engine import config_for

__all__ = ["local_server"]

#: Friday 5 Dec 2025 10:00 New York: open, a 10 s cadence, so the window is the Retry-After.
OPEN = datetime(2025, 12, 5, 10, 0, tzinfo=NEW_YORK)
RETRY_AFTER_S = 60
#: Sector and symbol screens opened and closed, as Enter and Esc do.
NAVIGATION: list[tuple[str | None, str | None]] = [
    ("Energy", None),
    ("Energy", "XOM"),
    ("Energy", None),
    (None, None),
    ("Financials", None),
    ("Financials", "JPM"),
    (None, "^RUT"),
    (None, None),
    ("Utilities", "NEE"),
    (None, None),
]


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the running tasks go on until ``condition()`` holds (a bounded number of turns)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never reached: {what}")


def rate_limited_engine(server: LocalServer, tmp_path: Path, clock: ManualClock) -> Engine:
    # Every chart (the first request of a poll is a daily chart) answers "retry in 60 s".
    for symbol in vars_in_order(load_universe().benchmarks):
        server.add(chart_path(symbol), Reply.json({}, 429, {"Retry-After": str(RETRY_AFTER_S)}))
    for symbol in ("XOM", "JPM", "NEE"):
        server.add(chart_path(symbol), Reply.json({}, 429, {"Retry-After": str(RETRY_AFTER_S)}))
    settings = load_settings(Path(config_for(server, tmp_path)), environ={})
    return live_engine(settings, clock=clock)


@asynccontextmanager
async def running(engine: Engine) -> AsyncIterator[list[Snapshot]]:
    """Run the engine's loop; yield the snapshots it publishes; stop and close it after."""
    published: list[Snapshot] = []
    task = asyncio.create_task(engine.run(published.append))
    try:
        yield published
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.aclose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(OPEN)


async def test_navigation_during_a_retry_after_window_sends_no_request(
    local_server: LocalServer, tmp_path: Path, clock: ManualClock
):
    engine = rate_limited_engine(local_server, tmp_path, clock)
    async with running(engine) as published:
        await until(lambda: len(published) == 1, "the first poll")
        first = published[0].feeds[0]
        assert first.error == f"Yahoo chart: rate limit (HTTP 429), retry in {RETRY_AFTER_S} s"
        assert local_server.total == 1
        for step, (sector, symbol) in enumerate(NAVIGATION, start=2):
            engine.focus(sector=sector, symbol=symbol)
            await until(lambda step=step: len(published) >= step, f"navigation {step}")  # type: ignore[misc]
            # The drilldown comes from the store, for the sector asked for.
            detail = published[-1].sector_detail
            assert (detail.name if detail else None) == sector
        # Ten screens opened and closed inside the window: not one request.
        assert local_server.total == 1
        # The window still says when the next try is, and the feed is still waiting.
        assert published[-1].feeds[0].next_retry == first.next_retry
        assert published[-1].feeds[0].error == first.error


async def test_one_manual_try_per_window_then_the_wait_is_told(
    local_server: LocalServer, tmp_path: Path, clock: ManualClock
):
    engine = rate_limited_engine(local_server, tmp_path, clock)
    async with running(engine) as published:
        await until(lambda: len(published) == 1, "the first poll")
        clock.advance(15)
        # The first `r` of the window is a real try (the source may be back early).
        assert engine.refresh_now() is None
        await until(lambda: len(published) == 2, "the manual try")
        assert local_server.total == 2
        # Every further `r` in the window says when the next try is, and sends nothing.
        # The manual try failed too: its Retry-After starts the wait again.
        clock.advance(5)
        waits = [engine.refresh_now() for _ in range(5)]
        assert waits == [float(RETRY_AFTER_S - 5)] * 5
        engine.focus(sector="Energy")
        await until(lambda: len(published) == 3, "a focus after the presses")
        assert local_server.total == 2
        # Once the window is over navigation polls at once again, and `r` has its try back.
        clock.advance(RETRY_AFTER_S - 5)
        engine.focus(sector=None)
        await until(lambda: local_server.total == 3, "the planned poll")
        await until(lambda: len(published) == 4, "its snapshot")
        assert engine.refresh_now() is None
        await until(lambda: local_server.total == 4, "a manual try in the new window")


async def test_the_app_s_deferred_engine_passes_the_manual_try_through(clock: ManualClock):
    feed = ScriptedFeed([RateLimited("Yahoo quote: rate limit (HTTP 429), retry in 60 s", 60.0)])
    deferred = DeferredEngine(
        lambda: Engine(feed, clock, refresh_s=10.0), clock=clock, demo=False, source_label="x"
    )
    # Before the engine exists its first poll is immediate anyway.
    assert deferred.refresh_now() is None
    await deferred.refresh()
    assert deferred.refresh_now() is None  # the window's manual try
    assert deferred.refresh_now() == 60.0
    assert feed.calls == 1
