"""The trading-day soak: capgap's app and engine through a session, a weekend and the next open.

Run in a subprocess by test_trading_day.py (so pytest's own allocations stay out of the RSS
figures), or by hand to print the figures:

    python tests/soak/soak_driver.py OUT_DIR [--trace]

It builds a two-day recording with the Recorder (the bundled session of Friday 2025-12-05 and a
Monday 2025-12-08 generated from it), replays it with RecordedFeed behind a feed that injects
faults at scheduled instants, and runs the real CapgapApp headless on a ManualClock from Friday
08:00 to Monday 10:00 New York. The engine's own loop runs inside the app; its sleep moves the
clock by the planned delay instead of waiting. Every poll, feed request and RSS sample is
written to OUT_DIR/soak.jsonl; the last line of stdout is a JSON summary. The checks live in
test_trading_day.py, against references of their own.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Set before textual and polars load, and only in the soak's own process (the tests import
    # this module for its schedule: their environment, and their children's, stays as it is).
    # Repaints are paced in wall time: at the default 60 per second the compressed weekend
    # would spend most of its wall time repainting. Four a second still repaints hundreds of
    # times.
    os.environ.setdefault("TEXTUAL_FPS", "4")
    # Polars' allocator and threads as capgap sets them (freed pages go back within 0.1 s):
    # the RSS read is the app's, not garbage its allocator would keep for 10 s under
    # jemalloc's defaults.
    from capgap.cli.polars_env import tune_polars

    tune_polars(os.environ)

import asyncio
import gc
import json
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import polars as pl
from capgap.core.clock import ManualClock
from capgap.core.resources import sample_data_dir
from capgap.core.schemas import DAILY, conform, conform_quotes
from capgap.core.snapshot import Snapshot
from capgap.engine.loop import Engine
from capgap.feeds.base import FeedError, RateLimited, ReferenceData
from capgap.feeds.recording.recorded import RecordedFeed
from capgap.feeds.recording.recorder import Recorder
from capgap.market.calendar import market_session, poll_interval
from capgap.settings.model import Settings

NY = ZoneInfo("America/New_York")
FRIDAY = date(2025, 12, 5)  # the bundled sample session
MONDAY = date(2025, 12, 8)  # generated from it: the next session after the weekend
SHIFT = MONDAY - FRIDAY


def ny(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Return a New York wall time as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=NY).astimezone(UTC)


SATURDAY = FRIDAY + timedelta(days=1)
START = ny(FRIDAY, 8, 0)
END = ny(MONDAY, 10, 0)
#: Until then the app repaints after every snapshot, as a live app at the session's cadence
#: does. The sectors table's render caches (Textual's DataTable LRU caches: 10,000 cells,
#: 1,000 rows and lines) take about 1,000 repaints, some three hours of the session, to fill
#: their bounds; growth is measured from here, once they are full.
WARM_UP_END = ny(FRIDAY, 12, 30)

#: Instants where the market state changes (Saturday 04:00: where it must not). The loop
#: polls one second before each and exactly at it.
BOUNDARIES: tuple[datetime, ...] = (
    ny(FRIDAY, 9, 30),
    ny(FRIDAY, 16, 0),
    ny(FRIDAY, 20, 0),
    ny(SATURDAY, 4, 0),
    ny(MONDAY, 4, 0),
    ny(MONDAY, 9, 30),
)
PROBE_BEFORE = timedelta(seconds=1)
PROBES: tuple[datetime, ...] = tuple(
    sorted({moment for b in BOUNDARIES for moment in (b - PROBE_BEFORE, b)})
)


@dataclass(frozen=True)
class Fault:
    """A window [start, end) during which every feed request fails (or returns garbage)."""

    start: datetime
    end: datetime
    kind: str  # "http503", "timeout", "ratelimit" or "garbage"
    retry_after_s: float | None = None


FAULTS: tuple[Fault, ...] = (
    Fault(ny(FRIDAY, 10, 45), ny(FRIDAY, 10, 50), "http503"),
    Fault(ny(FRIDAY, 11, 30), ny(FRIDAY, 11, 40), "timeout"),
    Fault(ny(FRIDAY, 13, 30), ny(FRIDAY, 13, 36), "ratelimit", 120.0),
    Fault(ny(FRIDAY, 14, 30), ny(FRIDAY, 14, 45), "garbage"),
    Fault(ny(FRIDAY, 17, 30), ny(FRIDAY, 17, 45), "http503"),
    Fault(ny(SATURDAY, 2, 0), ny(SATURDAY, 3, 30), "timeout"),
    # Across midnight into Monday: the first request of the new day is its daily history.
    Fault(ny(MONDAY, 0, 0), ny(MONDAY, 0, 20), "http503"),
    Fault(ny(MONDAY, 7, 0), ny(MONDAY, 7, 10), "ratelimit", 90.0),
    Fault(ny(MONDAY, 9, 45), ny(MONDAY, 9, 52), "http503"),
)

#: What a user does meanwhile: (instant, action): every screen once, in the warm-up. Visits
#: after it would mostly measure Textual 8.2.8 pinning dead widgets' StylesCache (up to 1024,
#: textual#6665), not the monitor; leftovers() checks that no visited capgap widget survives.
NAV_CYCLE: tuple[tuple[timedelta, str], ...] = (
    (timedelta(minutes=0), "fed"),
    (timedelta(minutes=5), "dashboard"),
    (timedelta(minutes=10), "sector:Energy"),
    (timedelta(minutes=15), "symbol:XOM"),
    (timedelta(minutes=20), "spread"),
    (timedelta(minutes=25), "dashboard"),
)
NAV_STARTS = (ny(FRIDAY, 9, 50),)
NAVIGATION: tuple[tuple[datetime, str], ...] = tuple(
    (start + offset, action) for start in NAV_STARTS for offset, action in NAV_CYCLE
)

#: RSS is sampled at the first poll at or after each of these instants.
RSS_EVERY = timedelta(hours=1)
#: Wall seconds waited before each of the two compared RSS figures (the allocator's decay).
MEASURE_WAIT_S = 1.0
REFERENCE = ReferenceData(target_range=(3.75, 4.0), effr=3.89)
#: The recording is flushed every 15 simulated minutes (26 files a day). RecordedFeed lists its
#: day's folder on every request, so the file count sets much of the replay's cost: a live
#: recording flushed every 5 s holds thousands of files a day (see the soak's report).
FLUSH_EVERY = timedelta(minutes=15)


def in_fault(moment: datetime) -> Fault | None:
    """Return the fault window covering ``moment``, if any."""
    for fault in FAULTS:
        if fault.start <= moment < fault.end:
            return fault
    return None


# ---------------------------------------------------------------------------------------------
# The recording


def _quote_rows(bars: pl.DataFrame, prev_close: pl.DataFrame) -> pl.DataFrame:
    """Turn minute bars into the quotes a live poll would record: the open, then each close.

    A bar's close is observed when the bar ends; volume is the day's running total.
    """
    opening = bars.group_by("symbol").agg(
        pl.col("time").min(), pl.col("open").sort_by("time").first().alias("last")
    )
    opening = opening.with_columns(volume=pl.lit(0.0))
    closes = bars.sort("symbol", "time").select(
        "symbol",
        (pl.col("time") + timedelta(minutes=1)).alias("time"),
        pl.col("close").alias("last"),
        pl.col("volume").cum_sum().over("symbol"),
    )
    rows = pl.concat([opening.select("symbol", "time", "last", "volume"), closes])
    return conform_quotes(rows.join(prev_close, on="symbol").sort("time", "symbol"))


def monday_bars(bars: pl.DataFrame, daily: pl.DataFrame) -> pl.DataFrame:
    """Return Monday's bars: Friday's, three days later, scaled by Friday's close / its prev.

    Each symbol then moves on Monday exactly as it moved on Friday, in percent of its previous
    close: an independent reference for the figures shown after the next open.
    """
    prev = daily.sort("date").group_by("symbol").agg(pl.col("close").last().alias("prev"))
    last = bars.sort("time").group_by("symbol").agg(pl.col("close").last().alias("last"))
    ratio = last.join(prev, on="symbol").select(
        "symbol", (pl.col("last") / pl.col("prev")).alias("ratio")
    )
    prices = [(pl.col(name) * pl.col("ratio")).alias(name) for name in ("open", "high", "low")]
    return bars.join(ratio, on="symbol").select(
        "symbol",
        pl.col("time") + SHIFT,
        *prices,
        (pl.col("close") * pl.col("ratio")).alias("close"),
        "volume",
    )


def _record_day(folder: Path, quotes: pl.DataFrame, daily: pl.DataFrame) -> None:
    first, last = quotes.get_column("time").min(), quotes.get_column("time").max()
    assert isinstance(first, datetime) and isinstance(last, datetime)
    clock = ManualClock(first)
    recorder = Recorder(folder, clock, flush_interval_s=FLUSH_EVERY.total_seconds(), synthetic=True)
    recorder.add_daily(daily)
    recorder.set_reference(REFERENCE, "sample")
    moment = first
    while moment <= last:
        upto = moment + FLUSH_EVERY
        recorder.add_quotes(quotes.filter(pl.col("time").is_between(moment, upto, closed="left")))
        clock.set(min(upto, last))
        error = recorder.flush()
        if error is not None:
            raise RuntimeError(error)
        moment = upto


def build_recording(folder: Path) -> None:
    """Write the two-day recording (Friday and Monday partitions) with the Recorder."""
    source = sample_data_dir()
    bars = pl.read_parquet(source / "intraday.parquet")
    daily = conform(pl.read_parquet(source / "daily.parquet"), DAILY)
    friday_prev = (
        daily.sort("date").group_by("symbol").agg(pl.col("close").last().alias("prev_close"))
    )
    friday_close = (
        bars.sort("time").group_by("symbol").agg(pl.col("close").last().alias("prev_close"))
    )
    friday_daily = (
        bars.sort("time")
        .group_by("symbol")
        .agg(
            pl.lit(FRIDAY).alias("date"),
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
        )
    )
    _record_day(folder, _quote_rows(bars, friday_prev), daily)
    monday_daily = pl.concat([daily, conform(friday_daily, DAILY)])
    _record_day(folder, _quote_rows(monday_bars(bars, daily), friday_close), monday_daily)


# ---------------------------------------------------------------------------------------------
# The faulty feed


def corrupt_quotes(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the frame with every row broken in one of the ways a provider breaks it."""
    kind = pl.int_range(pl.len()) % 5
    last = (
        pl.when(kind == 0)
        .then(float("nan"))
        .when(kind == 1)
        .then(-pl.col("last"))
        .when(kind == 2)
        .then(float("inf"))
        .otherwise(pl.col("last") * 1.5)
    )
    prev = pl.when(kind == 3).then(0.0).otherwise(pl.col("prev_close"))
    # Row kind 4 has a plausible price but no time: it cannot be ordered, so it is no quote.
    stamp = pl.when(kind == 4).then(None).otherwise(pl.col("time") - timedelta(days=30))
    return frame.with_columns(last.alias("last"), prev.alias("prev_close"), stamp.alias("time"))


class FaultyFeed:
    """Wraps a feed; inside a scheduled window every request fails, or answers garbage."""

    def __init__(
        self, inner: RecordedFeed, clock: ManualClock, log: Callable[[dict[str, Any]], None]
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._log = log
        self.requests = 0

    @property
    def name(self) -> str:
        """The wrapped feed's name."""
        return self._inner.name

    @property
    def demo(self) -> bool:
        """The wrapped feed's demo flag."""
        return self._inner.demo

    def _enter(self, method: str) -> Fault | None:
        now = self._clock.now()
        fault = in_fault(now)
        self.requests += 1
        self._log(
            {
                "kind": "request",
                "t": now.isoformat(),
                "method": method,
                "fault": fault.kind if fault else None,
            }
        )
        if fault is None or fault.kind == "garbage":
            return fault
        if fault.kind == "ratelimit":
            raise RateLimited("HTTP 429 Too Many Requests (injected)", fault.retry_after_s)
        if fault.kind == "timeout":
            raise FeedError("request timed out after 10 s (injected)")
        raise FeedError("HTTP 503 Service Unavailable (injected)")

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Quotes, or an exception, or corrupted quotes."""
        fault = self._enter("quotes")
        frame = await self._inner.quotes(symbols)
        return corrupt_quotes(frame) if fault is not None else frame

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Bars, or an exception, or bars with broken closes."""
        fault = self._enter("intraday")
        frame = await self._inner.intraday(symbols)
        if fault is None:
            return frame
        return frame.with_columns(pl.lit(float("nan")).alias("close"))

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Daily history, or an exception."""
        self._enter("daily")
        return await self._inner.daily(symbols)

    async def reference(self) -> ReferenceData:
        """Reference figures, or an exception."""
        self._enter("reference")
        return await self._inner.reference()

    async def aclose(self) -> None:
        """Close the wrapped feed."""
        await self._inner.aclose()


# ---------------------------------------------------------------------------------------------
# Measuring


def rss_mb() -> float | None:
    """Return the resident set size in MiB (None where /proc is missing)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except OSError:
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


_LABELS: dict[tuple[int, str], Any] = {}


def _text(app: Any, selector: str) -> str:
    """Return the text of one of the dashboard's labels (kept while under another screen)."""
    from textual.widgets import Static

    # The dashboard lives as long as the app: look each label up once, not on every poll.
    key = (id(app), selector)
    if key not in _LABELS:
        _LABELS[key] = app.dashboard.query_one(selector, Static)
    return str(_LABELS[key].content)


def leftovers(app: Any) -> dict[str, int]:
    """Count capgap's widgets and screens still alive but no longer in the app, by class."""
    from textual.screen import Screen
    from textual.widget import Widget

    gc.collect()
    stack = set(map(id, app.screen_stack))
    found: dict[str, int] = {}
    for obj in gc.get_objects():
        if not isinstance(obj, Widget) or not type(obj).__module__.startswith("capgap."):
            continue
        gone = id(obj) not in stack if isinstance(obj, Screen) else not obj.is_attached
        if gone:
            name = type(obj).__name__
            found[name] = found.get(name, 0) + 1
    return found


def poll_record(snap: Snapshot, engine: Engine, app: Any, probe: bool) -> dict[str, Any]:
    """Return what the checks need of one poll: the snapshot's figures and the screen's text."""
    feed = snap.feeds[0]
    decision = snap.fed.next_decision
    record: dict[str, Any] = {
        "kind": "poll",
        "t": snap.as_of.isoformat(),
        "probe": probe,
        "state": snap.market.state,
        "next_open": snap.market.next_open.isoformat() if snap.market.next_open else None,
        "next_close": snap.market.next_close.isoformat() if snap.market.next_close else None,
        "fed_date": decision.date.isoformat() if decision else None,
        "fed_seconds": decision.seconds_until if decision else None,
        "feed_state": feed.state,
        "feed_error": feed.error,
        "stale": feed.stale,
        "next_retry": feed.next_retry.isoformat() if feed.next_retry else None,
        "large_last": snap.spread.large.last,
        "large_prev": snap.spread.large.prev_close,
        "large_chg": snap.spread.large.change_pct,
        "small_last": snap.spread.small.last,
        "small_prev": snap.spread.small.prev_close,
        "small_chg": snap.spread.small.change_pct,
        "delay": engine.next_delay_s,
        "screen": type(app.screen).__name__,
        "ui_state": _text(app, "#market-state"),
        "ui_feed": _text(app, "#feed-state"),
        "ui_countdown": _text(app, "#fed-countdown"),
        "ui_age": _text(app, "#data-age"),
    }
    if probe:
        # A full render of the screen at the boundary: the status row as a terminal shows it.
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        record["rendered_top"] = lines[0] if lines else ""
    return record


class SoakEngine(Engine):
    """The real Engine; its loop sleeps by moving the manual clock, in step with the app."""

    def __init__(self, feed: FaultyFeed, clock: ManualClock, **kwargs: Any) -> None:
        super().__init__(feed, clock, **kwargs)
        self.manual = clock
        self.app: Any = None
        self.pilot: Any = None
        self.log: Callable[[dict[str, Any]], None] = lambda _record: None
        self.polls = 0
        self.wall0 = time.perf_counter()
        self.error: str | None = None
        self.done = asyncio.Event()
        self.rss: list[tuple[datetime, float]] = []
        self.rss_warm: float | None = None
        self.rss_end: float | None = None
        #: The largest RSS seen at any poll (read every poll: a peak falls between the hours),
        #: over the whole run and from the end of the warm-up.
        self.rss_peak: float | None = None
        self.rss_peak_after_warm: float | None = None
        self.trace: Callable[[datetime], None] | None = None
        self._next_rss = START
        self._probes = list(PROBES)
        self._nav = list(NAVIGATION)
        self._probing = False
        #: Snapshots the app has taken in (the driver counts them: the app keeps no count).
        self.taken = 0

    async def run(
        self,
        publish: Callable[[Snapshot], None],
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        """Run the engine's own loop with the clock-moving sleep; remember any exception."""
        try:
            await super().run(publish, sleep=self._sleep)
            # The loop returns after its poll at the end, without sleeping: record that poll.
            await self._after_poll()
        except BaseException:
            self.error = traceback.format_exc()
            raise
        finally:
            self.done.set()

    async def _caught_up(self, snap: Snapshot) -> None:
        # Let the app take this snapshot before the clock moves: every snapshot is applied.
        for _ in range(100_000):
            if self.app.latest is snap:
                self.taken += 1
                return
            await asyncio.sleep(0)
        raise RuntimeError(f"the app never applied the snapshot of {snap.as_of.isoformat()}")

    def _navigate(self, now: datetime) -> None:
        from capgap.ui.messages import OpenSector, OpenSymbol  # textual loads with the app

        while self._nav and self._nav[0][0] <= now:
            _at, action = self._nav.pop(0)
            app = self.app
            if action == "fed":
                app.action_fed()
            elif action == "spread":
                app.action_open_spread()
            elif action == "dashboard":
                app.action_dashboard()
            elif action.startswith("sector:"):
                app.post_message(OpenSector(action.split(":", 1)[1]))
            elif action.startswith("symbol:"):
                app.post_message(OpenSymbol(action.split(":", 1)[1]))
            self.log({"kind": "nav", "t": now.isoformat(), "action": action})

    def _track_peak(self, now: datetime, current: float | None) -> None:
        if current is None:
            return
        self.rss_peak = max(current, self.rss_peak or 0.0)
        if now >= WARM_UP_END:
            self.rss_peak_after_warm = max(current, self.rss_peak_after_warm or 0.0)

    async def _sample(self, now: datetime) -> None:
        # The two figures compared (end of warm-up, end of run) follow a full collection;
        # the hourly ones, there to show the trend, do not (a collection costs 0.1 s).
        measured = (self.rss_warm is None and now >= WARM_UP_END) or self.clock.finished
        self._track_peak(now, rss_mb())
        if now < self._next_rss and not measured:
            return
        while self._next_rss <= now:
            self._next_rss += RSS_EVERY
        if measured:
            gc.collect()
            await asyncio.sleep(MEASURE_WAIT_S)
        figure = rss_mb()
        # Read after the wait for a measured sample, while the app went on: a peak too.
        self._track_peak(now, figure)
        if figure is not None:
            self.rss.append((now, figure))
            if measured and self.rss_warm is None:
                self.rss_warm = figure
            elif measured:
                self.rss_end = figure
            self.log(
                {
                    "kind": "rss",
                    "t": now.isoformat(),
                    "rss_mb": figure,
                    "measured": measured,
                    "polls": self.polls,
                    "blocks": sys.getallocatedblocks(),
                    "wall": round(time.perf_counter() - self.wall0, 3),
                }
            )
        if self.trace is not None:
            self.trace(now)

    async def _after_poll(self) -> datetime:
        snap = self.latest
        assert snap is not None
        self.polls += 1
        await self._caught_up(snap)
        now = self.clock.now()
        if self._probing:
            # At a probe the screen is laid out and painted, as the next frame would, before
            # its top row is read.
            await self.pilot.pause()
        elif now < WARM_UP_END:
            # A live app repaints after every snapshot; after the warm-up repaints are paced in
            # wall time (TEXTUAL_FPS), which keeps the compressed weekend within its budget.
            await asyncio.sleep(0)
            self.app.screen._on_timer_update()
        record = poll_record(snap, self, self.app, self._probing)
        record["wall"] = round(time.perf_counter() - self.wall0, 3)
        record["cpu"] = round(time.process_time(), 3)
        self.log(record)
        await self._sample(now)
        return now

    async def _sleep(self, delay: float) -> None:
        now = await self._after_poll()
        self._navigate(now)
        target = now + timedelta(seconds=delay)
        if target >= END:
            # The run ends at END exactly: its last poll is there, not a cadence later.
            self._probing = False
            self.manual.set(END)
            return
        while self._probes and self._probes[0] <= now:
            self._probes.pop(0)
        self._probing = bool(self._probes) and self._probes[0] <= target
        if self._probing:
            # Cut the sleep short to poll exactly at the probe instant (as wake() would).
            self.manual.set(self._probes[0])
        else:
            self.manual.advance(delay)


def make_engine(
    folder: Path, clock: ManualClock, log: Callable[[dict[str, Any]], None]
) -> SoakEngine:
    """Return the soak's engine: live cadences by session, default backoff, seeded jitter."""
    poll = Settings().poll

    def cadence(now: datetime) -> float:
        return poll_interval(market_session(now), poll.open_s, poll.extended_s, poll.closed_s)

    feed = FaultyFeed(RecordedFeed(folder, clock), clock, log)
    engine = SoakEngine(
        feed,
        clock,
        refresh_s=poll.open_s,
        cadence=cadence,
        seed=20251205,
        futures_label="recorded ZQ",
    )
    engine.log = log
    return engine


async def soak(out: Path, *, trace: bool = False) -> dict[str, Any]:
    """Run the soak; return the summary (figures and whatever went wrong)."""
    from capgap.ui.app import CapgapApp

    folder = out / "recording"
    clock = ManualClock(START, end=END)
    handle: IO[str] = (out / "soak.jsonl").open("w")

    def log(record: dict[str, Any]) -> None:
        handle.write(json.dumps(record) + "\n")

    engine = make_engine(folder, clock, log)
    snapshots: list[Any] = []
    if trace:
        import tracemalloc

        tracemalloc.start(8)

        def take(now: datetime) -> None:
            if (now >= WARM_UP_END and not snapshots) or clock.finished:
                snapshots.append(tracemalloc.take_snapshot())

        engine.trace = take
    app = CapgapApp(engine, animation_level="none")
    engine.app = app
    summary: dict[str, Any] = {}
    wall1 = engine.wall0 = time.perf_counter()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            engine.pilot = pilot
            await engine.done.wait()
            # Let the app see the loop end (the status line then says the replay ended).
            for _ in range(200):
                if "REPLAY END" in _text(app, "#market-state"):
                    break
                await asyncio.sleep(0.01)
            summary["final_state_text"] = _text(app, "#market-state")
            summary["leftovers"] = leftovers(app)
            summary["app_running"] = app.is_running
            summary["workers_left"] = len(app.workers)
            app.exit()
    except BaseException:
        summary["app_error"] = traceback.format_exc()
    finally:
        handle.close()
    wall = time.perf_counter() - wall1
    feed = engine.feed
    assert isinstance(feed, FaultyFeed)
    warm, end = engine.rss_warm, engine.rss_end
    after = [mb for at, mb in engine.rss if at >= WARM_UP_END]
    summary.update(
        {
            "engine_error": engine.error,
            "app_exception": repr(app._exception) if app._exception else None,
            "return_code": app.return_code,
            "clock_end": clock.now().isoformat(),
            "simulated_hours": (clock.now() - START).total_seconds() / 3600,
            "polls": engine.polls,
            "requests": feed.requests,
            "screens_applied": engine.taken,
            "wall_s": round(wall, 2),
            "rss_start_mb": round(engine.rss[0][1], 2) if engine.rss else None,
            "rss_warm_mb": round(warm, 2) if warm is not None else None,
            "rss_end_mb": round(end, 2) if end is not None else None,
            "rss_peak_after_warm_mb": round(max(after), 2) if after else None,
            "rss_poll_peak_after_warm_mb": round(engine.rss_peak_after_warm, 2)
            if engine.rss_peak_after_warm is not None
            else None,
            "rss_peak_mb": round(engine.rss_peak, 2) if engine.rss_peak is not None else None,
            "rss_growth_mb": round(end - warm, 2) if warm is not None and end is not None else None,
            "recorded_feed_warnings": list(feed._inner.warnings),
        }
    )
    if trace and len(snapshots) == 2:
        stats = snapshots[1].compare_to(snapshots[0], "traceback")
        summary["trace_top"] = [str(stat) for stat in stats[:15]]
        for stat in stats[:5]:
            print(stat, *stat.traceback.format(), sep="\n", file=sys.stderr)
    return summary


def main(argv: list[str]) -> int:
    """Run the soak into the folder given; print the summary as the last line of stdout.

    The recording is built by a child process first: its allocations stay out of the figures.
    """
    if not argv:
        print("usage: soak_driver.py OUT_DIR [--trace]", file=sys.stderr)
        return 2
    out = Path(argv[0])
    if "--build" in argv[1:]:
        folder = out / "recording"
        # A recording is appended to, never replaced: a second build would double every day.
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        build_recording(folder)
        return 0
    wall0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, str(out), "--build"], check=True)
    built_s = time.perf_counter() - wall0
    summary = asyncio.run(soak(out, trace="--trace" in argv[1:]))
    summary["built_s"] = round(built_s, 2)
    print(json.dumps(summary))
    failed = summary.get("engine_error") or summary.get("app_error") or summary["app_exception"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
