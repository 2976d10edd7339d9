"""The engine's polling loop on a manual clock: states, backoff, Retry-After, recovery."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl
from builders import quotes_table
from capgap.core.clock import ManualClock
from capgap.core.schemas import BARS, DAILY, empty
from capgap.core.snapshot import Snapshot
from capgap.engine.loop import Engine
from capgap.feeds.base import FeedError, RateLimited, ReferenceData
from capgap.feeds.poller import Backoff

START = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)


class ScriptedFeed:
    """A feed whose quotes() fails or succeeds as scripted, counting the calls."""

    name = "scripted"
    demo = False

    def __init__(self, script: list[Exception | None]) -> None:
        self.script = script
        self.calls = 0

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        outcome = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if outcome is not None:
            raise outcome
        return quotes_table([("^GSPC", START, 6850.0, 6857.12, 0.0)])

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        return empty(BARS)

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        return empty(DAILY)

    async def reference(self) -> ReferenceData:
        return ReferenceData()

    async def aclose(self) -> None:
        return None


async def test_backoff_retry_after_and_recovery():
    clock = ManualClock(START)
    feed = ScriptedFeed(
        [None, RateLimited("Yahoo rate limit (HTTP 429)", 40.0), FeedError("Yahoo HTTP 503"),
         FeedError("Yahoo HTTP 503"), None, None]
    )  # fmt: skip
    engine = Engine(
        feed,
        clock,
        cadence=lambda _now: 5.0,
        backoff=Backoff(base_s=2, factor=2, max_s=300, jitter=0),
    )
    published: list[Snapshot] = []
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        clock.advance(seconds)
        if len(delays) == 5:
            raise StopAsyncIteration  # end the otherwise endless loop

    with contextlib.suppress(StopAsyncIteration):
        await engine.run(published.append, sleep=fake_sleep)
    # ok -> 5 s cadence; 429 -> its Retry-After; 503 x2 -> backoff 4 s (cadence wins), 8 s.
    assert delays == [5.0, 40.0, 5.0, 8.0, 5.0]
    states = [snap.feeds[0].state for snap in published]
    assert states == ["ok", "degraded", "degraded", "down", "ok"]
    errors = [snap.feeds[0].error for snap in published]
    assert errors[1] == "Yahoo rate limit (HTTP 429)" and errors[4] is None
    # The status says when the next try is: the Retry-After from the 429.
    assert published[1].feeds[0].next_retry == published[1].as_of + timedelta(seconds=40)
    # One request per poll: no retry storm, and recovery on the first poll after the fault.
    assert feed.calls == 5
    # The figures served reach the snapshot.
    assert published[-1].spread.large.last == 6850.0
