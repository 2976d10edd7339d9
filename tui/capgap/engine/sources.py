"""The engine's sources: the demo, a live provider, a recording; each an Engine wired for it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from capgap.analytics.sectors import etf_symbols
from capgap.core.clock import Clock, ReplayClock, SystemClock
from capgap.core.market_types import NEW_YORK
from capgap.core.resources import sample_data_dir
from capgap.core.snapshot import FeedStatus
from capgap.engine.loop import Engine, chart_symbols
from capgap.engine.startup import demo_clock, live_label, replay_label
from capgap.feeds.base import Feed, describe_exception
from capgap.market.calendar import market_session, poll_interval
from capgap.market.fomc import FomcMeeting
from capgap.market.universe import Universe, load_universe, universe_in_effect, vars_in_order
from capgap.market.zq import YearMonth
from capgap.settings.model import Settings

if TYPE_CHECKING:
    # Each loaded by the source that needs it: the live tmux line reads neither.
    from capgap.feeds.recording.recorder import Recorder
    from capgap.feeds.recording.replay import ReplayFeed


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
    feed: ReplayFeed | None = None,
) -> Engine:
    """Return an engine replaying the bundled sample session.

    Without a clock, a ReplayClock starts at ``at`` (default the open) and stops at the close,
    or at ``at`` itself when that is later. ``universe`` defaults to the bundled one (symbols
    the sample does not hold simply have no quotes). ``feed`` is the sample's replay on
    ``clock`` when the caller opened it already (see demo_feed).
    """
    from capgap.feeds.recording.replay import ReplayFeed

    clock = clock or demo_clock(at, speed)
    feed = feed or ReplayFeed(folder or sample_data_dir(), clock, name="demo")
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


class UniverseUpkeep:
    """The live source's daily holdings update, in the background of the polls.

    On the first poll of each New York date it fetches the funds not yet tried that day (see
    capgap.feeds.holdings: a restart the same day fetches nothing), and after a good download
    hands the engine the universe rebuilt the way it was built at start. Its state shows among
    the feeds as "iShares": ok, or degraded with the one line of what was refused and what
    stays in use. Nothing it does raises into the engine.
    """

    def __init__(self, settings: Settings, folder: Path) -> None:
        """Fetch from ``settings``' [feeds.ishares] into ``folder`` (the cache directory)."""
        self._settings = settings
        self._folder = folder
        self._day: date | None = None
        self._task: asyncio.Task[None] | None = None
        self._status: FeedStatus | None = None

    def tick(self, engine: Engine, now: datetime) -> None:
        """Start the day's update when the New York date has changed since the last one."""
        today = now.astimezone(NEW_YORK).date()
        if today == self._day or (self._task is not None and not self._task.done()):
            return
        self._day = today
        # A task of its own: the quotes and the first paint never wait for the download.
        self._task = asyncio.create_task(self._update(engine, today))

    async def wait(self) -> None:
        """Wait for the update in progress, if any, to end."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def status(self, now: datetime) -> FeedStatus | None:
        """Return the update's state among the feeds (None until the first update has run)."""
        return self._status

    async def aclose(self) -> None:
        """Cancel the update in progress (the cache holds only whole, good files)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _update(self, engine: Engine, today: date) -> None:
        from capgap.feeds.holdings import ISHARES, due_funds, update_funds

        try:
            due = await asyncio.to_thread(due_funds, self._folder, today)
            base_url = self._settings.feeds.ishares.base_url
            outcomes = await update_funds(due, base_url, self._folder, engine.clock) if due else []
            self._status = await asyncio.to_thread(self._read_status)
            if any(outcome.ok for outcome in outcomes):
                universe = await asyncio.to_thread(
                    universe_in_effect, self._settings.universe, self._folder
                )
                engine.replace_universe(universe)
        except Exception as exc:
            # A fault here must not end the monitor: the universe in use stays, and says so.
            error = f"{ISHARES} update failed: {describe_exception(exc)}"
            self._status = FeedStatus(ISHARES, "degraded", None, None, error)

    def _read_status(self) -> FeedStatus:
        """Return the state the funds' last attempts add up to (read back from their file)."""
        from capgap.feeds.holdings import ISHARES, read_attempts

        attempts = read_attempts(self._folder).values()
        failed = [attempt.line for attempt in attempts if not attempt.ok]
        successes = [attempt.last_ok for attempt in attempts if attempt.last_ok is not None]
        last = max(successes) if successes else None
        return FeedStatus(
            name=ISHARES,
            state="degraded" if failed or not attempts else "ok",
            last_success=last,
            age_s=None,
            error="; ".join(failed) or None,
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
    holdings_dir: Path | None = None,
    keep_between_runs: bool = False,
    headline_only: bool = False,
    keep_days: int | None = None,
    lasting: bool = False,
) -> Engine:
    """Return an engine on a live source (Yahoo by default, or Finnhub), polling by session.

    ``universe`` defaults to the one in effect with ``holdings_dir`` as the holdings cache
    (the CLI passes it, extended from the config). With ``holdings_dir`` the engine also
    updates the members from the funds' holdings once a day (see UniverseUpkeep).
    ``keep_between_runs`` keeps Yahoo's session and the slow data (daily history, rates) in
    the cache directory for the next run; ``headline_only`` polls only what the headline
    needs (see Engine). ``keep_days`` prunes the recording's older days (see Recorder).

    ``lasting`` is a process that polls all day (the monitor, `capgap record`): it starts on
    Yahoo's stored session and the slow data on disk (a start within minutes of the last asks
    no cookie, crumb, history or rates) and writes them as it renews them, so the next
    process, a tmux line among them, starts warm too; its members are updated from the funds'
    holdings, kept in the holdings cache.
    """
    from capgap.feeds.disk_cache import DiskCache, cache_folder
    from capgap.feeds.live import FinnhubLiveFeed, YahooLiveFeed
    from capgap.feeds.session_store import SessionStore, session_path

    if lasting:
        from capgap.market.holdings import cache_dir

        holdings_dir, keep_between_runs = holdings_dir or cache_dir(), True
    clock = clock or SystemClock()
    universe = universe or universe_in_effect(settings.universe, holdings_dir)
    poll = settings.poll
    feed: Feed
    floor = 0.0
    if source == "finnhub":
        polled = vars_in_order(universe.benchmarks) + etf_symbols(universe)
        feed = FinnhubLiveFeed(settings.feeds, clock, universe.benchmarks, polled)
        floor = SLOW_SOURCE_MIN_S
        futures_label = None
    else:
        feed = YahooLiveFeed(
            settings.feeds,
            clock,
            universe.benchmarks,
            cache=DiskCache(cache_folder()) if keep_between_runs else None,
            session_store=SessionStore(session_path()) if keep_between_runs else None,
            members_history=not headline_only,
        )
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
        recorder=_recorder(record_to, clock, source, keep_days),
        upkeep=UniverseUpkeep(settings, holdings_dir) if holdings_dir is not None else None,
        headline_only=headline_only,
    )


def _recorder(
    folder: Path | None, clock: Clock, source: str, keep_days: int | None
) -> Recorder | None:
    """Return the recorder writing into ``folder``, or None (loaded only when recording)."""
    if folder is None:
        return None
    from capgap.feeds.recording.recorder import Recorder

    return Recorder(folder, clock, source=source, keep_days=keep_days)


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


#: A follower's step: wall seconds between its reads of the recording (new file names only).
FOLLOW_REFRESH_S = 1.0


def follow_engine(
    folder: Path,
    *,
    clock: Clock | None = None,
    refresh_s: float = FOLLOW_REFRESH_S,
    schedule: tuple[FomcMeeting, ...] | None = None,
    universe: Universe | None = None,
    manual_prices: Mapping[YearMonth, float] | None = None,
    headline_only: bool = False,
) -> Engine:
    """Return an engine following a recording that `capgap record` writes (no HTTP client).

    The feed reads the recording's new files on each step (see FollowFeed); its status
    says the recording's age, and marks it stale when the poller stops writing. With
    ``headline_only`` (the tmux line: no chart) it reads the recorder's latest quotes only.
    """
    from capgap.engine.startup import follow_label
    from capgap.feeds.recording.follow import FollowFeed

    clock = clock or SystemClock()
    universe = universe or load_universe()
    # The indices' minute bars are kept from the first read; another symbol's on demand.
    feed = FollowFeed(folder, clock, latest_only=headline_only, charts=chart_symbols(universe))
    return Engine(
        feed,
        clock,
        universe,
        refresh_s=refresh_s,
        source_label=follow_label(folder),
        schedule=schedule,
        futures_label="recorded ZQ",
        manual_prices=manual_prices,
        headline_only=headline_only,
    )
