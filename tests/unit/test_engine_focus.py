"""The engine's drilldown focus, wake-up and pause, on a counting feed and manual clocks."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from builders import members_frame, quotes_table
from capgap.core.clock import Clock, ManualClock, ReplayClock
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import BARS, DAILY
from capgap.core.snapshot import Snapshot
from capgap.engine.loop import INTRADAY_EVERY, Engine
from capgap.engine.startup import DeferredEngine
from capgap.feeds.base import ReferenceData
from capgap.market.calendar import sessions_between
from capgap.market.universe import Benchmarks, SectorDef, Universe, vars_in_order

BENCH = Benchmarks(
    "^GSPC", "^RUT", "SPY", "IWM", "IWD", "IWF", "IWN", "IWO", "^VIX", "^TNX", "ES=F", "RTY=F"
)
UNIVERSE = Universe(
    benchmarks=BENCH,
    sectors=(SectorDef("Industrials", "cyclical", "XLI", "PSCI"),),
    names={},
    constituents=members_frame(
        [
            ("AAA", "Aaa Corp", "Industrials", "large"),
            ("BBB", "Bbb Corp", "Industrials", "large"),
            ("DDD", "Ddd Corp", "Industrials", "small"),
        ],
    ),
    watchlists={"Mine": ("DDD", "AAA")},
)
START = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)  # 10:00 in New York, a Friday
PRICES = {
    "^GSPC": 6850.0,
    "^RUT": 2500.0,
    "XLI": 150.0,
    "PSCI": 120.0,
    "AAA": 101.0,
    "BBB": 52.0,
    "DDD": 21.0,
    "ZZZ": 9.0,
}


class CountingFeed:
    """A feed serving fixed prices, recording every request with its symbols."""

    name = "counting"
    demo = False

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def asked(self, kind: str) -> list[tuple[str, ...]]:
        return [symbols for name, symbols in self.calls if name == kind]

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        self.calls.append(("quotes", tuple(symbols)))
        now = self.clock.now()
        rows = [(s, now, PRICES[s], PRICES[s] / 1.01, 0.0) for s in symbols if s in PRICES]
        return quotes_table(rows)

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        self.calls.append(("intraday", tuple(symbols)))
        minute = self.clock.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
        rows = [(s, minute, 1.0, 1.0, 1.0, PRICES[s], 0.0) for s in symbols if s in PRICES]
        return pl.DataFrame(rows, schema=BARS, orient="row")

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        self.calls.append(("daily", tuple(symbols)))
        today = self.clock.now().astimezone(NEW_YORK).date()
        days = [s.day for s in sessions_between(today - timedelta(days=140), today)]
        days = [day for day in days if day < today]
        rows = [
            (s, day, 1.0, 1.0, 1.0, PRICES[s] * (1 + 0.001 * i), 0.0)
            for s in symbols
            if s in PRICES
            for i, day in enumerate(days)
        ]
        return pl.DataFrame(rows, schema=DAILY, orient="row")

    async def reference(self) -> ReferenceData:
        return ReferenceData()

    async def aclose(self) -> None:
        return None


def make_engine(clock: Clock, cadence_s: float = 10.0) -> tuple[Engine, CountingFeed]:
    feed = CountingFeed(clock)
    engine = Engine(feed, clock, UNIVERSE, cadence=lambda _now: cadence_s)
    return engine, feed


# ----------------------------------------------------------------------------------- focus


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel an engine's run loop and wait until it has ended."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_focus_adds_details_and_clearing_it_removes_them() -> None:
    clock = ManualClock(START)
    engine, _ = make_engine(clock)
    plain = await engine.refresh()
    assert plain.sector_detail is None and plain.symbol_detail is None

    engine.focus(sector="Industrials", symbol="AAA")
    clock.advance(10)
    focused = await engine.refresh()
    assert focused.sector_detail is not None and focused.sector_detail.name == "Industrials"
    assert [row.symbol for row in focused.sector_detail.constituents] == ["AAA", "BBB", "DDD"]
    detail = focused.symbol_detail
    assert detail is not None and detail.symbol == "AAA" and detail.last == PRICES["AAA"]
    # The focused symbol's history and bars arrived on that same poll.
    assert detail.daily and detail.daily[-1].close == PRICES["AAA"]
    assert [point.close for point in detail.intraday] == [PRICES["AAA"]]

    engine.focus(sector="Mine")
    clock.advance(10)
    watchlist = await engine.refresh()
    assert watchlist.sector_detail is not None and watchlist.sector_detail.kind == "watchlist"
    assert watchlist.symbol_detail is None

    engine.focus()
    clock.advance(10)
    cleared = await engine.refresh()
    assert cleared.sector_detail is None and cleared.symbol_detail is None


async def test_a_focused_symbols_history_is_fetched_once_a_day() -> None:
    clock = ManualClock(START)
    engine, feed = make_engine(clock)
    await engine.refresh()
    # The benchmarks on the first poll; the ZQ single months (the Fed odds' history) wait
    # for the next one, after the first figures; once a day each.
    contracts = tuple(s for s in engine._futures if engine.naming.month_of(s) is not None)
    assert contracts and feed.asked("daily") == [tuple(vars_in_order(BENCH))]
    engine.focus(symbol="AAA")
    for _ in range(4):
        clock.advance(10)
        await engine.refresh()
    assert feed.asked("daily") == [tuple(vars_in_order(BENCH)), ("AAA",), contracts]
    # Back to a symbol already loaded today, and to a benchmark: no new request.
    engine.focus(symbol="BBB")
    clock.advance(10)
    await engine.refresh()
    engine.focus(symbol="AAA")
    clock.advance(10)
    await engine.refresh()
    engine.focus(symbol="^GSPC")
    clock.advance(10)
    await engine.refresh()
    assert feed.asked("daily")[3:] == [("BBB",)]
    # A new day loads the benchmarks and the contracts again, then the focused symbol once.
    engine.focus(symbol="AAA")
    clock.set(datetime(2025, 12, 8, 15, 0, tzinfo=UTC))
    await engine.refresh()
    clock.advance(10)
    await engine.refresh()
    assert feed.asked("daily")[4:] == [tuple(vars_in_order(BENCH)), ("AAA",), contracts]


async def test_a_new_focus_gets_its_minute_bars_on_the_next_poll() -> None:
    clock = ManualClock(START)
    engine, feed = make_engine(clock)
    charts = (BENCH.large_index, BENCH.small_index)
    await engine.refresh()
    assert feed.asked("intraday") == [charts]
    clock.advance(10)
    engine.focus(symbol="DDD")
    await engine.refresh()
    # At once, and only the new symbol: the indices' bars are not due yet.
    assert feed.asked("intraday") == [charts, ("DDD",)]
    clock.advance(10)
    await engine.refresh()
    assert len(feed.asked("intraday")) == 2
    clock.advance(INTRADAY_EVERY.total_seconds())
    await engine.refresh()
    # Then it joins the once-a-minute fetch.
    assert feed.asked("intraday")[-1] == (*charts, "DDD")
    # An index's bars come with the charts anyway: focusing one asks for nothing more.
    engine.focus(symbol="^RUT")
    clock.advance(10)
    snapshot = await engine.refresh()
    assert len(feed.asked("intraday")) == 3
    assert snapshot.symbol_detail is not None and snapshot.symbol_detail.intraday


async def test_a_focused_symbol_outside_the_universe_is_quoted_too() -> None:
    clock = ManualClock(START)
    engine, feed = make_engine(clock)
    engine.focus(symbol="ZZZ")
    snapshot = await engine.refresh()
    assert "ZZZ" in feed.asked("quotes")[-1]
    assert snapshot.symbol_detail is not None and snapshot.symbol_detail.last == PRICES["ZZZ"]
    engine.focus()
    clock.advance(10)
    await engine.refresh()
    assert "ZZZ" not in feed.asked("quotes")[-1]


# ------------------------------------------------------------------------------------ wake


async def test_wake_ends_a_long_sleep() -> None:
    clock = ManualClock(START)
    engine, feed = make_engine(clock, cadence_s=3600.0)  # an hour between polls
    events: list[str] = []
    published: list[Snapshot] = []
    arrived = asyncio.Event()

    def publish(snapshot: Snapshot) -> None:
        events.append("publish")
        published.append(snapshot)
        arrived.set()

    task = asyncio.create_task(engine.run(publish))
    try:
        await asyncio.wait_for(arrived.wait(), 30)
        arrived.clear()
        events.append("focus")
        engine.focus(sector="Industrials")
        # Far less than the hour's sleep: only the wake-up can bring this snapshot.
        await asyncio.wait_for(arrived.wait(), 30)
        arrived.clear()
        events.append("wake")
        engine.wake()
        await asyncio.wait_for(arrived.wait(), 30)
    finally:
        await stop(task)
    assert events == ["publish", "focus", "publish", "wake", "publish"]
    assert published[0].sector_detail is None
    assert published[1].sector_detail is not None and published[2].sector_detail is not None
    assert len(feed.asked("quotes")) == 3


async def test_a_wake_during_a_poll_makes_the_next_poll_immediate() -> None:
    clock = ManualClock(START)
    engine, _ = make_engine(clock, cadence_s=3600.0)
    published: list[Snapshot] = []
    second = asyncio.Event()

    def publish(snapshot: Snapshot) -> None:
        published.append(snapshot)
        if len(published) == 1:
            engine.wake()  # arrives before the loop goes to sleep
        else:
            second.set()

    task = asyncio.create_task(engine.run(publish))
    try:
        await asyncio.wait_for(second.wait(), 30)
    finally:
        await stop(task)
    assert len(published) == 2


# ----------------------------------------------------------------------------------- pause


def test_replay_clock_pause_freezes_time_and_resumes_from_the_same_instant() -> None:
    wall = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
    replay = ReplayClock(START, speed=30, monotonic=wall)
    wall.advance(2)
    assert replay.now() == START + timedelta(seconds=60)
    replay.pause()
    replay.pause()  # twice is once
    assert replay.paused
    wall.advance(100)
    assert replay.now() == START + timedelta(seconds=60)
    assert replay.monotonic() == wall.monotonic()  # pacing stays in wall time
    replay.resume()
    assert not replay.paused
    assert replay.now() == START + timedelta(seconds=60)
    wall.advance(1)
    assert replay.now() == START + timedelta(seconds=90)
    replay.resume()  # not paused: nothing to do
    assert replay.now() == START + timedelta(seconds=90)


def test_a_paused_replay_is_not_finished_before_its_end() -> None:
    wall = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
    end = START + timedelta(minutes=1)
    replay = ReplayClock(START, speed=30, end=end, monotonic=wall)
    replay.pause()
    wall.advance(3600)
    assert not replay.finished and replay.now() == START
    replay.resume()
    wall.advance(2)
    assert replay.finished and replay.now() == end


class PausingRun:
    """An engine on a 30x replay clock whose sleeps move wall time, paused after N snapshots."""

    def __init__(self, pause_after: int) -> None:
        self.wall = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
        self.replay = ReplayClock(START, speed=30, monotonic=self.wall)
        self.engine, self.feed = make_engine(self.replay, cadence_s=1.0)
        self.published: list[Snapshot] = []
        self.arrived = asyncio.Event()
        self._pause_after = pause_after

    def publish(self, snapshot: Snapshot) -> None:
        self.published.append(snapshot)
        if len(self.published) == self._pause_after:
            self.engine.pause()
        self.arrived.set()

    async def sleep(self, seconds: float) -> None:
        self.wall.advance(seconds)  # one wall second is 30 replayed seconds
        await asyncio.sleep(0)

    def start(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.engine.run(self.publish, sleep=self.sleep))


async def test_pause_stops_polls_and_freezes_a_replay_resume_goes_on() -> None:
    run = PausingRun(pause_after=2)
    wall, replay, engine, feed = run.wall, run.replay, run.engine, run.feed
    published, arrived = run.published, run.arrived
    task = run.start()
    try:
        while len(published) < 2:
            await asyncio.wait_for(arrived.wait(), 30)
            arrived.clear()
        assert engine.paused and replay.paused
        frozen = replay.now()
        assert frozen == START + timedelta(seconds=30)
        engine.wake()  # a wake-up does not end a pause
        wall.advance(100)
        for _ in range(20):
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        assert len(published) == 2 and len(feed.asked("quotes")) == 2
        assert replay.now() == frozen
        assert published[-1] is engine.latest  # the snapshot is unchanged

        engine.resume()
        assert not engine.paused
        while len(published) < 4:
            await asyncio.wait_for(arrived.wait(), 30)
            arrived.clear()
    finally:
        await stop(task)
    # The replay went on from the instant it was paused at, at its speed.
    assert published[2].as_of == frozen
    assert published[3].as_of == frozen + timedelta(seconds=30)


async def test_a_focus_while_paused_builds_its_details_from_the_store() -> None:
    run = PausingRun(pause_after=1)
    engine, feed, published, arrived = run.engine, run.feed, run.published, run.arrived
    task = run.start()
    try:
        await asyncio.wait_for(arrived.wait(), 30)
        arrived.clear()
        polls = len(feed.asked("quotes"))
        sector = UNIVERSE.sectors[0].name
        engine.focus(sector=sector)
        await asyncio.wait_for(arrived.wait(), 30)
    finally:
        await stop(task)
    assert len(published) == 2
    rebuilt = published[-1]
    assert rebuilt.sector_detail is not None and rebuilt.sector_detail.name == sector
    # Nothing was polled, and the paused replay did not move.
    assert len(feed.asked("quotes")) == polls
    assert rebuilt.as_of == published[0].as_of and engine.paused


class SleepingRun:
    """An engine whose run loop sleeps for real between polls, ten minutes apart."""

    def __init__(self) -> None:
        self.clock = ManualClock(START)
        self.engine, self.feed = make_engine(self.clock, cadence_s=600.0)
        self.published: list[Snapshot] = []
        self.arrived = asyncio.Event()

    def publish(self, snapshot: Snapshot) -> None:
        self.published.append(snapshot)
        self.arrived.set()

    async def next(self) -> Snapshot:
        await asyncio.wait_for(self.arrived.wait(), 30)
        self.arrived.clear()
        return self.published[-1]

    def start(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.engine.run(self.publish))


async def test_a_focus_while_paused_in_the_sleep_loads_what_the_screen_needs() -> None:
    # The pause and the focus come while the loop sleeps: the focus's wake-up ends that
    # sleep, and the paused loop must still see the focus rather than wait for the resume.
    run = SleepingRun()
    engine, feed = run.engine, run.feed
    task = run.start()
    try:
        first = await run.next()
        engine.pause()
        engine.focus(sector="Industrials", symbol="DDD")
        rebuilt = await run.next()
    finally:
        await stop(task)
    assert engine.paused and rebuilt.as_of == first.as_of
    assert rebuilt.sector_detail is not None and rebuilt.sector_detail.name == "Industrials"
    detail = rebuilt.symbol_detail
    assert detail is not None and detail.symbol == "DDD"
    # No quote was polled, but the symbol's history and minute bars were loaded.
    assert len(feed.asked("quotes")) == 1
    assert feed.asked("daily")[-1] == ("DDD",) and feed.asked("intraday")[-1] == ("DDD",)
    assert detail.daily and detail.intraday
    assert detail.changes.d5 is not None and detail.beta_60d is not None


async def test_a_pause_before_the_first_poll_still_shows_the_first_figures() -> None:
    # Nothing is on screen yet to hold still: the first poll is made, then the pause holds.
    run = SleepingRun()
    run.engine.pause()
    task = run.start()
    try:
        first = await run.next()
        for _ in range(20):
            await asyncio.sleep(0)
    finally:
        await stop(task)
    assert first.spread.large.last == PRICES["^GSPC"]
    assert len(run.published) == 1 and len(run.feed.asked("quotes")) == 1


async def test_pause_without_a_replay_clock_only_stops_polling() -> None:
    clock = ManualClock(START)
    engine, _ = make_engine(clock)
    engine.pause()
    assert engine.paused and clock.now() == START
    engine.resume()
    assert not engine.paused


# --------------------------------------------------------------------------- deferred engine


async def test_deferred_engine_applies_focus_and_pause_once_built() -> None:
    clock = ManualClock(START)
    built: list[Engine] = []

    def factory() -> Engine:
        engine, _ = make_engine(clock)
        built.append(engine)
        return engine

    deferred = DeferredEngine(factory, clock=clock, demo=False, source_label="counting")
    deferred.focus(sector="Industrials", symbol="DDD")
    deferred.pause()
    deferred.wake()  # nothing to wake yet
    assert deferred.paused and not built and deferred.universe is None
    engine = await deferred.engine()
    assert engine.paused and deferred.universe is UNIVERSE
    snapshot = await deferred.refresh()
    assert snapshot.sector_detail is not None and snapshot.sector_detail.name == "Industrials"
    assert snapshot.symbol_detail is not None and snapshot.symbol_detail.symbol == "DDD"
    deferred.resume()
    assert not deferred.paused and not engine.paused
    deferred.focus()
    clock.advance(10)
    assert (await deferred.refresh()).symbol_detail is None


class HeldFigures:
    """First figures from elsewhere that arrive when the test lets them (see cli/preview)."""

    def __init__(self, snapshot: Snapshot | None) -> None:
        self.snapshot = snapshot
        self.arrive = asyncio.Event()
        self.cancelled = False

    async def first(self) -> Snapshot | None:
        await self.arrive.wait()
        return self.snapshot

    def cancel(self) -> None:
        self.cancelled = True


class DeferredRun:
    """A DeferredEngine with first figures, its loop publishing into a list."""

    def __init__(self, figures: HeldFigures) -> None:
        self.clock = ManualClock(START)
        self.built: list[Engine] = []
        self.figures = figures
        self.deferred = DeferredEngine(
            self.factory,
            clock=self.clock,
            demo=False,
            source_label="counting",
            first_figures=figures,
        )
        self.published: list[Snapshot] = []

    def factory(self) -> Engine:
        engine, _ = make_engine(self.clock)
        self.built.append(engine)
        return engine

    def start(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.deferred.run(self.published.append))

    async def until_published(self, count: int) -> None:
        for _ in range(3000):
            if len(self.published) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(self.published)} snapshots published, {count} expected")


async def elsewhere() -> Snapshot:
    """Figures made by another engine at an earlier instant: told apart by their time."""
    engine, _ = make_engine(ManualClock(START - timedelta(minutes=5)))
    return await engine.refresh()


async def held_run() -> tuple[HeldFigures, DeferredRun]:
    """First figures from elsewhere, held back, and a DeferredEngine waiting for them."""
    figures = HeldFigures(await elsewhere())
    return figures, DeferredRun(figures)


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """The build waits as long as it takes for the first figures (a loaded CI machine)."""
    monkeypatch.setattr("capgap.engine.startup.FIRST_FIGURES_WAIT_S", 30.0)


@pytest.mark.usefixtures("patient")
async def test_first_figures_are_shown_before_the_engine_is_built() -> None:
    figures, run = await held_run()
    task = run.start()
    try:
        for _ in range(20):
            await asyncio.sleep(0.01)
        # Nothing is built while they are on their way: the screen has the GIL to itself.
        assert not run.built and not run.published
        figures.arrive.set()
        await run.until_published(2)
    finally:
        await stop(task)
    assert run.published[0] is figures.snapshot and figures.cancelled
    assert len(run.built) == 1
    # Then the engine's own figures, at its own (later) instant.
    assert run.published[1].as_of == START > run.published[0].as_of


async def test_no_first_figures_leaves_the_engines_own_first() -> None:
    figures = HeldFigures(None)  # the second process failed
    figures.arrive.set()
    run = DeferredRun(figures)
    task = run.start()
    try:
        await run.until_published(1)
    finally:
        await stop(task)
    assert run.published[0].as_of == START and figures.cancelled


async def test_first_figures_too_slow_are_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("capgap.engine.startup.FIRST_FIGURES_WAIT_S", 0.05)
    figures, run = await held_run()  # never let through
    task = run.start()
    try:
        await run.until_published(1)
        # Given up once the engine is built: its own first figures are out.
        assert figures.cancelled
        figures.arrive.set()  # too late: nobody waits for them any more
        for _ in range(10):
            await asyncio.sleep(0.01)
    finally:
        await stop(task)
    assert len(run.built) == 1
    assert all(snapshot.as_of == START for snapshot in run.published)


async def test_late_first_figures_still_count_while_the_engine_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A slow second process (its bytecode not yet compiled): the build starts without its
    # figures, and they are shown if they come before the engine's own.
    monkeypatch.setattr("capgap.engine.startup.FIRST_FIGURES_WAIT_S", 0.05)
    figures, run = await held_run()
    building, built = threading.Event(), threading.Event()
    factory = run.factory

    def slow_factory() -> Engine:
        building.set()
        built.wait(30)
        return factory()

    run.deferred._factory = slow_factory
    task = run.start()
    try:
        await asyncio.to_thread(building.wait, 30)
        figures.arrive.set()
        await run.until_published(1)
        built.set()
        await run.until_published(2)
    finally:
        built.set()
        await stop(task)
    assert run.published[0] is figures.snapshot and run.published[1].as_of == START


@pytest.mark.usefixtures("patient")
async def test_first_figures_behind_the_engines_own_are_not_shown() -> None:
    # The engine was built and polled before the first figures came: its newer figures stay.
    figures, run = await held_run()
    task = run.start()
    try:
        own = await run.deferred.refresh()
        figures.arrive.set()
        await run.until_published(1)
    finally:
        await stop(task)
    assert figures.cancelled and len(run.built) == 1
    assert figures.snapshot not in run.published and own.as_of == START


async def test_closing_stops_the_first_figures_on_their_way() -> None:
    figures, run = await held_run()
    await run.deferred.aclose()
    assert figures.cancelled and not run.built


async def test_a_pause_before_the_engine_exists_holds_the_replay_at_once() -> None:
    # The demo's first figures are on screen before its engine is built: a pause then must
    # hold the replay from the key on, not from when the engine is built.
    wall = ManualClock(START)
    replay = ReplayClock(START, speed=30.0, monotonic=wall)
    deferred = DeferredEngine(
        lambda: make_engine(replay)[0], clock=replay, demo=True, source_label="counting"
    )
    wall.advance(1)
    deferred.pause()
    held = replay.now()
    wall.advance(10)
    engine = await deferred.engine()
    assert engine.paused and replay.now() == held == START + timedelta(seconds=30)
    deferred.resume()
    wall.advance(1)
    assert replay.now() == held + timedelta(seconds=30)


async def test_a_resume_before_the_engine_exists_lets_the_replay_go_on() -> None:
    wall = ManualClock(START)
    replay = ReplayClock(START, speed=30.0, monotonic=wall)
    deferred = DeferredEngine(
        lambda: make_engine(replay)[0], clock=replay, demo=True, source_label="counting"
    )
    deferred.pause()
    wall.advance(5)
    deferred.resume()
    wall.advance(2)
    assert not deferred.paused and replay.now() == START + timedelta(seconds=60)
    assert not (await deferred.engine()).paused
