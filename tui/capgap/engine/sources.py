"""The engine's sources: the demo, a live provider, a recording; each an Engine wired for it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from capgap.analytics.sectors import etf_symbols
from capgap.core.clock import Clock, ReplayClock, SystemClock
from capgap.core.resources import sample_data_dir
from capgap.engine.loop import Engine
from capgap.engine.startup import demo_clock, live_label, replay_label
from capgap.feeds.base import Feed
from capgap.feeds.recording.recorder import Recorder
from capgap.feeds.recording.replay import ReplayFeed
from capgap.market.calendar import market_session, poll_interval
from capgap.market.fomc import FomcMeeting
from capgap.market.universe import Universe, load_universe, vars_in_order
from capgap.market.zq import YearMonth
from capgap.settings.model import Settings


def demo_engine(
    clock: Clock | None = None,
    *,
    at: datetime | None = None,
    speed: float = 30.0,
    refresh_s: float = 1.0,
    folder: Path | None = None,
    schedule: tuple[FomcMeeting, ...] | None = None,
    manual_prices: Mapping[YearMonth, float] | None = None,
    universe: Universe | None = None,
) -> Engine:
    """Return an engine replaying the bundled sample session.

    Without a clock, a ReplayClock starts at ``at`` (default the open) and stops at the close,
    or at ``at`` itself when that is later. ``universe`` defaults to the bundled one (symbols
    the sample does not hold simply have no quotes).
    """
    clock = clock or demo_clock(at, speed)
    feed = ReplayFeed(folder or sample_data_dir(), clock, name="demo")
    return Engine(
        feed,
        clock,
        universe,
        refresh_s=refresh_s,
        source_label=replay_label(clock, demo=True),
        schedule=schedule,
        futures_label="sample ZQ",
        manual_prices=manual_prices,
    )


#: A source that quotes one symbol per request polls no faster than this while open.
SLOW_SOURCE_MIN_S = 60.0


def live_engine(
    settings: Settings,
    schedule: tuple[FomcMeeting, ...] | None = None,
    *,
    clock: Clock | None = None,
    record_to: Path | None = None,
    source: str = "yahoo",
    universe: Universe | None = None,
) -> Engine:
    """Return an engine on a live source (Yahoo by default, or Finnhub), polling by session.

    ``universe`` defaults to the bundled one; the CLI passes it extended from the config.
    """
    from capgap.feeds.live import FinnhubLiveFeed, YahooLiveFeed

    clock = clock or SystemClock()
    universe = universe or load_universe()
    poll = settings.poll
    feed: Feed
    floor = 0.0
    if source == "finnhub":
        polled = vars_in_order(universe.benchmarks) + etf_symbols(universe)
        feed = FinnhubLiveFeed(settings.feeds, clock, universe.benchmarks, polled)
        floor = SLOW_SOURCE_MIN_S
        futures_label = None
    else:
        feed = YahooLiveFeed(settings.feeds, clock, universe.benchmarks)
        futures_label = "Yahoo ZQ"

    def cadence(now: datetime) -> float:
        interval = poll_interval(market_session(now), poll.open_s, poll.extended_s, poll.closed_s)
        return max(floor, interval)

    return Engine(
        feed,
        clock,
        universe,
        refresh_s=poll.open_s,
        source_label=live_label(source),
        schedule=schedule,
        futures_label=futures_label,
        manual_prices=settings.fedwatch.prices,
        cadence=cadence,
        recorder=Recorder(record_to, clock) if record_to is not None else None,
    )


def recording_clock(
    folder: Path,
    speed: float = 30.0,
    day: date | None = None,
    warnings: list[str] | None = None,
) -> ReplayClock:
    """Return a replay clock over a recording's ``day`` (default: the latest one recorded).

    The clock runs from the day's first to its last recorded instant; unreadable files are
    skipped, one line each in ``warnings``.
    """
    from capgap.feeds.recording.recorded import recording_window

    first, last = recording_window(folder, day, warnings)
    return ReplayClock(first, speed=speed, end=last)


def recording_engine(
    folder: Path,
    clock: Clock,
    *,
    refresh_s: float = 1.0,
    schedule: tuple[FomcMeeting, ...] | None = None,
    universe: Universe | None = None,
) -> Engine:
    """Return an engine replaying a recording made with --record (or `capgap record`)."""
    from capgap.feeds.recording.recorded import RecordedFeed

    return Engine(
        RecordedFeed(folder, clock),
        clock,
        universe,
        refresh_s=refresh_s,
        source_label=replay_label(clock, demo=False),
        schedule=schedule,
        futures_label="recorded ZQ",
    )
