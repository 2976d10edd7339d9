"""Inputs that used to stop the polling engine: huge Retry-After values, bad ports, odd errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from capgap.core.clock import ManualClock
from capgap.core.snapshot import Snapshot
from capgap.engine.loop import Engine
from capgap.engine.sources import live_engine
from capgap.feeds.base import FeedError, RateLimited
from capgap.feeds.http import ClientSettings, fetch, get_json, make_client
from capgap.feeds.poller import MAX_RETRY_AFTER_S, Backoff
from capgap.feeds.providers.yahoo import chart_path
from capgap.market.universe import load_universe, vars_in_order
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_engine_polling import START, ScriptedFeed
from test_live_engine import config_for

__all__ = ["local_server"]

FAST = ClientSettings(provider="Yahoo", read_timeout_s=2.0, connect_timeout_s=2.0)
#: 15 minutes: the longest wait a server can impose (an all-day silence is never honoured).
FIFTEEN_MINUTES = 15 * 60.0


def test_the_retry_after_cap_is_fifteen_minutes():
    assert MAX_RETRY_AFTER_S == FIFTEEN_MINUTES


@pytest.mark.parametrize(
    "header",
    ["1e21", "86400", "9" * 400, "Fri, 31 Dec 9999 23:59:59 GMT"],
    ids=["1e21", "a-day", "400-digits", "year-9999"],
)
async def test_a_huge_retry_after_is_capped_and_says_so(local_server, header):
    local_server.add("/data", Reply.json({}, 429, {"Retry-After": header}))
    async with make_client(FAST, trust_env=False) as client:
        with pytest.raises(RateLimited) as caught:
            await get_json(client, "Yahoo", local_server.base_url + "/data")
    assert caught.value.retry_after_s == FIFTEEN_MINUTES
    assert str(caught.value) == (
        "Yahoo rate limit (HTTP 429), retry in 900 s (its Retry-After is capped at 15 min)"
    )


async def test_a_retry_after_within_the_cap_is_kept_as_sent(local_server):
    local_server.add("/data", Reply.json({}, 503, {"Retry-After": "899"}))
    async with make_client(FAST, trust_env=False) as client:
        with pytest.raises(RateLimited) as caught:
            await get_json(client, "Yahoo", local_server.base_url + "/data")
    assert caught.value.retry_after_s == 899.0
    assert str(caught.value) == "Yahoo unavailable (HTTP 503), retry in 899 s"


async def test_a_port_out_of_range_is_a_feed_error_naming_the_cause():
    # The connect call raises OverflowError inside a task group: an ExceptionGroup reached
    # the engine and ended its loop.
    async with make_client(FAST, trust_env=False) as client:
        with pytest.raises(FeedError) as caught:
            await fetch(client, "Yahoo", "http://127.0.0.1:99999/data")
    assert str(caught.value) == (
        "Yahoo request failed: OverflowError: connect(): port must be 0-65535."
    )


async def test_any_unexpected_exception_in_a_fetch_is_a_feed_error_with_its_type():
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("the transport broke")

    async with make_client(FAST, trust_env=False, transport=httpx.MockTransport(explode)) as client:
        with pytest.raises(FeedError) as caught:
            await fetch(client, "Yahoo", "http://example.test/data?key=SECRET")
    assert str(caught.value) == "Yahoo request failed: RuntimeError: the transport broke"


def test_the_engine_survives_a_retry_after_of_1e21_and_plans_the_cap(
    local_server: LocalServer, tmp_path: Path
):
    # The first request of a poll is a daily chart: its 429 says "come back in 1e21 s".
    for symbol in vars_in_order(load_universe().benchmarks):
        local_server.add(chart_path(symbol), Reply.json({}, 429, {"Retry-After": "1e21"}))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    clock = ManualClock(datetime(2025, 12, 6, 15, 0, tzinfo=UTC))  # a Saturday: closed

    async def poll_once() -> Snapshot:
        engine = live_engine(settings, clock=clock)
        try:
            return await engine.refresh()
        finally:
            await engine.aclose()

    snapshot = asyncio.run(poll_once())
    feed = snapshot.feeds[0]
    assert feed.state == "down"
    assert feed.error == (
        "Yahoo chart: rate limit (HTTP 429), retry in 900 s (its Retry-After is capped at 15 min)"
    )
    assert feed.next_retry == snapshot.as_of + timedelta(seconds=FIFTEEN_MINUTES)
    assert local_server.total == 1


class _Raising(ScriptedFeed):
    """The scripted feed, whose failures may be any exception (not only FeedError)."""

    def __init__(self, script: list[BaseException | None]) -> None:
        super().__init__([])
        self.raising = script

    async def quotes(self, symbols):  # type: ignore[no-untyped-def]
        outcome = self.raising[min(self.calls, len(self.raising) - 1)]
        if outcome is not None:
            self.calls += 1
            raise outcome
        self.script = [None]
        return await super().quotes(symbols)


async def test_the_engine_loop_survives_any_exception_and_shows_it():
    clock = ManualClock(START)
    group = ExceptionGroup("unhandled errors in a TaskGroup", [OverflowError("port 99999")])
    feed = _Raising([RuntimeError("boom"), group, None])
    engine = Engine(feed, clock, cadence=lambda _now: 5.0, backoff=Backoff(jitter=0))
    published: list[Snapshot] = []
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        clock.advance(seconds)
        if len(published) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await engine.run(published.append, sleep=fake_sleep)
    errors = [snap.feeds[0].error for snap in published]
    assert errors == [
        "scripted failed: RuntimeError: boom",
        "scripted failed: OverflowError: port 99999",
        None,
    ]
    assert [snap.feeds[0].state for snap in published] == ["down", "down", "ok"]
    # Failures back off like any feed failure; the good poll's figures reach the snapshot.
    assert delays == [5.0, 5.0, 5.0]
    assert published[-1].spread.large.last == 6850.0


async def test_a_fault_in_the_analytics_or_the_recorder_does_not_end_the_loop(tmp_path):
    # Not only a poll: a bug in building a snapshot, or a recorder raising, used to end the
    # engine's loop for good. The last figures stay, the fault is shown, the next poll heals.
    from capgap.feeds.recording.recorder import Recorder

    clock = ManualClock(START)
    engine = Engine(
        _Raising([None]),
        clock,
        cadence=lambda _now: 5.0,
        backoff=Backoff(jitter=0),
        recorder=Recorder(tmp_path, clock),
    )
    real_build = engine._build
    builds = iter([real_build, ValueError("bad frame"), real_build])

    def build(*args: object) -> Snapshot:
        step = next(builds)
        if isinstance(step, Exception):
            raise step
        return step(*args)  # type: ignore[operator]

    engine._build = build  # type: ignore[method-assign,assignment]
    published: list[Snapshot] = []

    async def fake_sleep(seconds: float) -> None:
        clock.advance(seconds)
        if len(published) == 1:

            def broken() -> str | None:
                raise RuntimeError("disk went away")

            engine.recorder.maybe_flush = broken  # type: ignore[method-assign,union-attr]
        if len(published) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await engine.run(published.append, sleep=fake_sleep)
    first, faulty, healed = published
    assert faulty.spread == first.spread  # the last figures stay on screen
    feed = faulty.feeds[0]
    assert feed.state != "ok" and feed.error == "analytics failed: ValueError: bad frame"
    recorder = next(f for f in faulty.feeds if f.name == "recorder")
    assert recorder.error == "recording failed: RuntimeError: disk went away"
    assert healed.feeds[0].state == "ok" and healed.spread.large.last == 6850.0
    assert healed.as_of > faulty.as_of
