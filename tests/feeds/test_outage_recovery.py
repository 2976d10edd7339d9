"""After an outage capgap comes back within a minute while the market is open (not 5 minutes)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl
import pytest
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.engine.loop import Engine
from capgap.feeds.base import FeedError
from capgap.feeds.poller import OPEN_BACKOFF_MAX_S, Backoff, next_delay
from capgap.market.calendar import market_session, poll_interval
from capgap.settings.model import PollSettings
from test_engine_polling import ScriptedFeed

#: Friday 5 Dec 2025 10:00 New York: the market is open.
OPEN = datetime(2025, 12, 5, 10, 0, tzinfo=NEW_YORK)
#: The same Friday at 07:00 New York: pre-market.
PRE_MARKET = datetime(2025, 12, 5, 7, 0, tzinfo=NEW_YORK)
OUTAGE = timedelta(minutes=5)
#: "A few cadences (about a minute)": the longest wait while the market is open.
A_MINUTE = 60.0


def test_the_open_cap_is_about_a_minute():
    assert OPEN_BACKOFF_MAX_S == A_MINUTE


@pytest.mark.parametrize("seed", range(20))
def test_while_open_the_backoff_never_exceeds_the_open_cap(seed):
    rng = random.Random(seed)
    for failures in range(1, 30):
        delay = next_delay(
            cadence_s=10.0,
            failures=failures,
            retry_after_s=None,
            backoff=Backoff(),
            rng=rng,
            market_open=True,
        )
        assert 10.0 <= delay <= 60.0


def test_while_closed_the_backoff_keeps_its_long_cap():
    backoff = Backoff(jitter=0)
    delays = [
        next_delay(
            cadence_s=10.0,
            failures=failures,
            retry_after_s=None,
            backoff=backoff,
            rng=random.Random(0),
        )
        for failures in (8, 9, 12)
    ]
    assert delays == [256.0, 300.0, 300.0]


def test_a_retry_after_still_wins_while_open():
    delay = next_delay(
        cadence_s=10.0,
        failures=12,
        retry_after_s=120.0,
        backoff=Backoff(jitter=0),
        rng=random.Random(0),
        market_open=True,
    )
    assert delay == 120.0


class OutageFeed(ScriptedFeed):
    """Fails every poll until the clock reaches ``back_at``, then answers."""

    def __init__(self, clock: ManualClock, back_at: datetime) -> None:
        super().__init__([None])
        self.clock = clock
        self.back_at = back_at
        self.tries: list[datetime] = []

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        self.tries.append(self.clock.now())
        if self.clock.now() < self.back_at:
            raise FeedError("Yahoo connection failed: All connection attempts failed")
        return await super().quotes(symbols)


async def recovery_after_outage(start: datetime, seed: int) -> tuple[float, list[float]]:
    """Seconds from the source's return to capgap's first good poll, and the delays slept."""
    clock = ManualClock(start)
    feed = OutageFeed(clock, start + OUTAGE)
    poll = PollSettings()

    def cadence(now: datetime) -> float:
        return poll_interval(market_session(now), poll.open_s, poll.extended_s, poll.closed_s)

    # The engine's own default backoff (2 s doubling, +/- 20 % jitter), seeded.
    engine = Engine(feed, clock, cadence=cadence, seed=seed)
    delays: list[float] = []
    recovered: list[datetime] = []

    def publish(snapshot: object) -> None:
        if engine.health.failures == 0 and clock.now() >= feed.back_at:
            recovered.append(clock.now())

    async def fake_sleep(seconds: float) -> None:
        if recovered:
            raise StopAsyncIteration
        delays.append(seconds)
        clock.advance(seconds)

    with contextlib.suppress(StopAsyncIteration):
        await engine.run(publish, sleep=fake_sleep)
    return (recovered[0] - feed.back_at).total_seconds(), delays


@pytest.mark.parametrize("seed", range(10))
async def test_after_a_five_minute_outage_while_open_the_next_try_is_within_a_minute(seed):
    recovery, delays = await recovery_after_outage(OPEN, seed)
    assert max(delays) <= A_MINUTE
    assert recovery <= A_MINUTE


async def test_outside_the_regular_session_the_backoff_still_stretches_past_a_minute():
    # Pre-market (30 s cadence) an outage backs off as before: 64 s, 128 s, ...
    _recovery, delays = await recovery_after_outage(PRE_MARKET, seed=0)
    assert max(delays) > A_MINUTE
