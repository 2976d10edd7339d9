"""Wires one feed, the market store, the clock and analytics into a Snapshot per tick (no UI)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import polars as pl

from capgap.analytics.build import build_snapshot
from capgap.analytics.fed import FedInputs, fed_snapshot, futures_symbols
from capgap.analytics.sector_history import (
    closes_start,
    heaviest_first,
    history_members_of,
    leg_levels,
)
from capgap.analytics.store import MarketStore
from capgap.core.clock import Clock, hold_still, run_on
from capgap.core.market_types import NEW_YORK
from capgap.core.records import replace
from capgap.core.snapshot import (
    RECORDER_FEED,
    FeedStatus,
    HistoryStatus,
    Snapshot,
    UniverseInfo,
    UniverseSnapshot,
)
from capgap.feeds.base import (
    Feed,
    FeedError,
    GrowingMemberHistory,
    MemberHistory,
    RateLimited,
    ReferenceData,
    describe_exception,
    keep_known,
)
from capgap.feeds.health import STALE_AFTER_CADENCES, FeedHealth
from capgap.feeds.poller import Backoff, next_delay
from capgap.feeds.rotation import HEADROOM, HostBudget, MemberRotation
from capgap.feeds.values import far_from_history, last_closes
from capgap.market.calendar import market_session
from capgap.market.fomc import FomcMeeting, default_schedule
from capgap.market.universe import Universe, load_universe, vars_in_order
from capgap.market.zq import YearMonth, default_naming

if TYPE_CHECKING:
    # Only a recording engine makes one (see engine.sources): a one-shot line loads none.
    from capgap.feeds.recording.recorder import Recorder

#: How often today's minute bars of the indices are fetched.
INTRADAY_EVERY = timedelta(minutes=1)
#: How often the slow reference figures (target range, EFFR, valuation) are refreshed.
REFERENCE_EVERY = timedelta(minutes=15)
#: After the rates feed failed, how soon it is tried again (the quotes go on meanwhile):
#: a minute, then twice as long after each further failure, up to the usual refresh.
RATES_RETRY = timedelta(minutes=1)
RATES_BACKOFF = Backoff(
    base_s=RATES_RETRY.total_seconds(),
    factor=2.0,
    max_s=REFERENCE_EVERY.total_seconds(),
    jitter=0.0,  # a once-a-day source asked every few minutes at most: no herd to spread
)
#: A members' history that grows while the app runs (live) is reduced again when another
#: REDUCE_STEP of the members came in, or all of them, and at most once every REDUCE_EVERY
#: (its last step excepted): a few reductions an hour, none per poll.
REDUCE_STEP = 0.1
REDUCE_EVERY = timedelta(minutes=15)


def reduce_again(loaded: int, reduced: int, members: int, since_s: float | None) -> bool:
    """Return whether a growing members' history is reduced to the legs' levels again.

    ``loaded`` members are in now, ``reduced`` were at the last reduction, ``since_s``
    seconds ago (None: never). Again when all are in, or when another REDUCE_STEP of the
    members came in and REDUCE_EVERY has passed: a few reductions an hour at most.
    """
    grown = loaded - reduced
    if grown <= 0:
        return False
    if loaded >= members:
        return True
    rested = since_s is None or since_s >= REDUCE_EVERY.total_seconds()
    return rested and grown >= REDUCE_STEP * members


class Upkeep(Protocol):
    """Work beside the polls (the daily holdings update): started by a poll, never awaited by it."""

    def tick(self, engine: Engine, now: datetime) -> None:
        """Start the background work when it is due; return at once."""

    def status(self, now: datetime) -> FeedStatus | None:
        """Return the work's state among the feeds (None before it has any)."""

    async def aclose(self) -> None:
        """Stop the work in progress."""


def chart_symbols(universe: Universe) -> list[str]:
    """Return the symbols whose minute bars are charted all day: both indices."""
    benchmarks = universe.benchmarks
    return [benchmarks.large_index, benchmarks.small_index]


class Engine:
    """Polls a feed into a MarketStore and builds one immutable Snapshot per refresh."""

    def __init__(
        self,
        feed: Feed,
        clock: Clock,
        universe: Universe | None = None,
        *,
        refresh_s: float = 1.0,
        source_label: str | None = None,
        schedule: tuple[FomcMeeting, ...] | None = None,
        futures_label: str | None = None,
        manual_prices: Mapping[YearMonth, float] | None = None,
        cadence: Callable[[datetime], float] | None = None,
        backoff: Backoff | None = None,
        seed: int | None = None,
        recorder: Recorder | None = None,
        upkeep: Upkeep | None = None,
        headline_only: bool = False,
    ) -> None:
        # headline_only: poll just what the headline (both indices, the gap) needs, for a
        # one-line status: the benchmarks' quotes and history and the rates; no members, no
        # ZQ futures, no minute bars.
        self.headline_only = headline_only
        self.feed = feed
        self.upkeep = upkeep
        self.clock = clock
        self.universe = universe or load_universe()
        self.refresh_s = refresh_s
        self.demo = feed.demo
        self.source_label = source_label or feed.name
        self.schedule = schedule if schedule is not None else default_schedule()
        self.naming = default_naming()
        self.futures_label = futures_label
        self.manual_prices = dict(manual_prices or {})
        self.store = MarketStore()
        #: When each symbol's last accepted quote arrived (clock time): a figure's own age.
        self.received: dict[str, datetime] = {}
        self.latest: Snapshot | None = None
        # Staleness is judged in clock seconds: a replay at 30x moves 30 s per wall second.
        self.health = FeedHealth(feed.name, cadence_s=refresh_s * clock.speed)
        # A source with a request budget (live Yahoo) quotes the members in a rolling
        # refresh; a replay has none and serves every symbol on every poll, cheaply.
        budget = getattr(feed, "quote_budget", None)
        self._budget = budget if isinstance(budget, HostBudget) else None
        self._rotation: MemberRotation | None = None
        self._next_universe: Universe | None = None
        self._history_day: date | None = None
        # The followed recording's version of its daily history and rates (see _poll).
        self._feed_history_version: object = None
        # Symbols whose daily history is loaded for _history_day: benchmarks, focused symbols.
        self._history_loaded: set[str] = set()
        # Why the ZQ contracts' daily closes (the odds' history) are missing today, or None.
        self._contracts_error: str | None = None
        # The ZQ months whose daily closes are still to load today: after the first figures,
        # a few a poll within the budget's headroom (see _load_contract_history).
        self._contracts_left: list[str] = []
        self._futures: list[str] = []
        # The sector legs' levels, reduced from the members' closes once a day in a thread
        # (see _sector_history): the day they were asked for, the reduction under way and
        # how far it has come (None: the source has no members' history).
        self._levels_day: date | None = None
        self._levels_task: asyncio.Task[pl.DataFrame] | None = None
        self._levels_status: HistoryStatus | None = None
        # The state shown before the day's reduction began, for the universe it counts.
        self._history_pending: tuple[Universe, HistoryStatus] | None = None
        # The legs' members and their symbols (heaviest first) the day's reduction read, and
        # for a growing history how many members were in at the last reduction and when.
        self._levels_members: pl.DataFrame | None = None
        self._levels_symbols: list[str] = []
        self._levels_reduced = 0
        self._levels_at: float | None = None
        self._use_universe(self.universe)
        self._reference = ReferenceData()
        self._reference_at: datetime | None = None
        # The source's own rates feed (the New York Fed, live) is a feed of its own: its state
        # shows beside the quotes'. None until it is first asked, or when the source has none.
        self._rates_feed: str | None = getattr(feed, "rates_feed", None)
        self.rates_health: FeedHealth | None = None
        self._intraday_at: datetime | None = None
        # Live feeds poll by market session; a replay refreshes at a fixed wall cadence.
        self._cadence = cadence or (lambda _now: refresh_s)
        self._backoff = backoff or Backoff()
        self._rng = random.Random(seed)
        self._retry_after_s: float | None = None
        self.next_delay_s = refresh_s
        self.recorder = recorder
        #: The recorder's last write error, shown with the feed's state (None when fine).
        self.recording_error: str | None = None
        # What a drilldown screen is showing: its details join every snapshot while set.
        self._focus_sector: str | None = None
        self._focus_symbol: str | None = None
        # A newly focused symbol whose minute bars are fetched on the next poll, not a minute on.
        self._intraday_due: str | None = None
        self._paused = False
        # wake() before run() made its event (or with a custom sleep) leaves this flag.
        self._woken = False
        self._wake_event: asyncio.Event | None = None
        self._closed = False
        # Set by focus(): a paused loop then builds the new details from the store.
        self._refocused = False
        # After a failed poll: the monotonic second the next planned try is due. Until then
        # navigation builds from the store and `r` gets one manual try (see refresh_now).
        self._due_at: float | None = None
        self._manual_try = False
        self._manual_used = False

    def _use_universe(self, universe: Universe) -> None:
        """Quote ``universe`` from now on: its core every poll, its members in turns."""
        self.universe = universe
        benchmarks = universe.benchmarks
        self._chart_symbols = chart_symbols(universe)
        # Daily history feeds the spread statistics: the benchmarks are all that need it.
        self._history_symbols = vars_in_order(benchmarks)
        if self.headline_only:
            self._symbols = vars_in_order(benchmarks)
        elif self._budget is None:
            self._symbols = universe.symbols()
        else:
            self._symbols = universe.core_symbols()
            # Both indices' minute bars and a focused symbol's, once a minute.
            charts = (len(self._chart_symbols) + 1) / (INTRADAY_EVERY.total_seconds() / 60)
            self._rotation = MemberRotation(
                universe.member_symbols(), self._budget, other_per_minute=charts
            )
        self._quoted = self._symbols + self._futures
        # New members, new legs: their history is read again on the next poll.
        self._levels_day = None
        # Each leg's members, for their quotes' age (see _universe_info).
        constituents = universe.constituents
        self._leg_members = {
            source.bucket: constituents.filter(
                (pl.col("bucket") == source.bucket) & (pl.col("fund") == source.fund)
            )
            .get_column("symbol")
            .unique(maintain_order=True)
            .to_list()
            for source in universe.sources
        }

    def replace_universe(self, universe: Universe) -> None:
        """Quote ``universe`` from the next poll on (a new day's holdings, say).

        The rolling refresh starts again over its members; the figures already in the store
        stay (a member that left is no longer asked for).
        """
        self._next_universe = universe

    @property
    def paused(self) -> bool:
        """True while the loop is paused (no polls; a replay clock stands still)."""
        return self._paused

    def focus(self, sector: str | None = None, symbol: str | None = None) -> None:
        """Add the details of ``sector`` (or watchlist) and ``symbol`` to every snapshot.

        Replaces the previous focus (``focus()`` clears it) and polls at once (see wake),
        unless a failed poll's Retry-After or backoff is in force: then the details are built
        from the store and wait for the next planned try. A focused symbol's daily history is
        fetched once a day and its minute bars join the once-a-minute intraday fetch, the
        first of them on the next poll.
        """
        if symbol != self._focus_symbol and symbol not in self._chart_symbols:
            # The indices' bars come anyway; another symbol's are due on the next poll.
            self._intraday_due = symbol
        self._focus_sector = sector
        self._focus_symbol = symbol
        self._refocused = True
        self.wake()

    def wake(self) -> None:
        """End the loop's current sleep so it polls now (call from the event loop's thread).

        With a custom ``sleep`` passed to run() the sleep cannot be cut short: the next poll
        comes when it ends, as it would anyway. A paused loop stays paused.
        """
        self._woken = True
        if self._wake_event is not None:
            self._wake_event.set()

    def waiting_s(self) -> float | None:
        """Return the wall seconds until the next planned try while a failure window is on.

        None when the last poll succeeded or its window is over (a poll may go out now).
        """
        if self._due_at is None or self.health.failures == 0:
            return None
        left = self._due_at - self.clock.monotonic()
        return left if left > 0 else None

    def refresh_now(self) -> float | None:
        """Poll now for `r`; returns None, or the seconds to wait when no try is allowed.

        While a Retry-After or backoff window is in force one manual try is allowed per
        window (the source may be back early); after it, the next try is the planned one.
        """
        if self.waiting_s() is not None:
            if self._manual_used:
                return self.waiting_s()
            self._manual_used = True
            self._manual_try = True
        self.wake()
        return None

    def pause(self) -> None:
        """Stop polling until resume(); a replay clock stands still meanwhile."""
        self._paused = True
        hold_still(self.clock)

    def resume(self) -> None:
        """Poll again at once (or when a failure window ends); a replay goes on where it was."""
        run_on(self.clock)
        self._paused = False
        self.wake()

    async def _poll(self, now: datetime) -> None:
        today = now.astimezone(NEW_YORK).date()
        changes = getattr(self.feed, "history_changes", None)
        version = changes() if callable(changes) else None
        if version is not None and version != self._feed_history_version:
            # A followed recording replaced its daily history or rates: ask for them again
            # now, not the next day (a follower may start before the poller wrote them).
            self._feed_history_version = version
            self._history_day = None
            self._reference_at = None
            self._take_recorded_levels()
        if self._history_day != today:
            # Daily history changes once a day: fetch it when the day changes, not every tick.
            # The ZQ contracts worth quoting move with the calendar, not with every tick.
            if not self.headline_only:
                self._futures = futures_symbols(now, self.schedule, self.naming)
            self._apply_daily(await self.feed.daily(self._history_symbols))
            # The ZQ months' closes (the odds' past) wait for the later polls: a dozen more
            # charts in the first poll would hold back the first figures, over the burst.
            self._contracts_left = [s for s in self._futures if self.naming.month_of(s) is not None]
            self._contracts_error = None
            self._history_day = today
            self._history_loaded = set(self._history_symbols)
            self._quoted = self._symbols + self._futures
        symbol = self._focus_symbol
        quoted = self._quoted
        if symbol is not None and symbol not in quoted:
            quoted = [*quoted, symbol]
        rotation = self._rotation
        if rotation is not None:
            # The core every poll; beside it the next members, as many as the budget allows.
            quoted = [*quoted, *rotation.take(self._cadence(now), len(quoted))]
        self._apply_quotes(await self.feed.quotes(quoted))
        if rotation is not None:
            rotation.done()
        self._sector_history(today)
        await self._load_history(symbol)
        charts = self._chart_symbols
        if symbol is not None and symbol not in charts:
            charts = [*charts, symbol]
        due = self._intraday_at is None or now - self._intraday_at >= INTRADAY_EVERY
        # The headline shows no chart: it asks no minute bars.
        if due and not self.headline_only:
            # Minute bars change once a minute: asking every poll would only spend budget.
            self.store.apply_intraday(await self.feed.intraday(charts))
            self._intraday_at = now
            self._intraday_due = None
        else:
            await self._load_due_intraday(symbol)
        if self._reference_at is None or now - self._reference_at >= REFERENCE_EVERY:
            # Rates and valuation move slowly; after the quotes, so a provider's forward P/E
            # from this poll can go with them.
            self._reference = self._with_rates(now, await self.feed.reference())
            if self._reference.rates_error is None:
                self._reference_at = now
            else:
                # A failed rates feed is asked again soon, not in a quarter of an hour.
                self._reference_at = now - REFERENCE_EVERY + self._rates_retry()
            if self.recorder is not None:
                self.recorder.set_reference(self._reference, self._reference.label)
        if self._contracts_left and self.latest is not None:
            await self._load_contract_history(self._contracts_per_poll(now))

    def _contracts_per_poll(self, now: datetime) -> int:
        """Return how many ZQ months' histories a poll may ask: the budget's headroom share.

        One a poll at the 10 s open cadence (HEADROOM is 6 of Yahoo's 60 a minute), all of
        them overnight; a source without a request budget (a replay) takes them all at once.
        """
        budget = self._budget
        if budget is None:
            return len(self._contracts_left)
        share = HEADROOM * budget.requests_per_minute * self._cadence(now) / 60.0
        return max(1, math.floor(share))

    async def _load_contract_history(self, count: int | None = None) -> None:
        """Fetch the next ``count`` (default: all) ZQ months' daily closes still due today.

        The odds of past days. The continuous ZQ=F rolls between months, so its history says
        nothing. The odds' history is not the quotes: its failure is shown on the Fed screen,
        the poll goes on, and the other months wait for the next day.
        """
        left = self._contracts_left
        asked, self._contracts_left = left[:count], left[len(left) if count is None else count :]
        if not asked:
            return
        try:
            self._apply_daily(await self.feed.daily(asked))
        except FeedError as exc:
            self._contracts_left = []
            self._contracts_error = f"the ZQ contracts' daily closes failed: {exc}"

    def _sector_history(self, today: date) -> None:
        """Take the sector legs' levels once reduced; start the day's reduction when due.

        After the quotes: a custom sector's stock is weighed by its quoted market cap. The
        members' closes are read and reduced in a thread, never awaited by a poll: the
        windows appear on the poll after it ends (see finish_sector_history). Not beside
        the first poll's build: the first figures come sooner, and the two do not add up
        to one peak of memory.
        """
        self._take_reduced_levels()
        if self.latest is not None:
            self._start_levels(today)
            self._grow_levels(today)

    def _start_levels(self, today: date) -> None:
        """Start reducing the members' closes to the legs' levels, once a day (and universe)."""
        feed = self.feed
        if (
            self.headline_only
            or not isinstance(feed, MemberHistory)
            or self._levels_day == today
            or self._levels_task is not None
        ):
            return
        self._levels_day = today
        members = history_members_of(self.store, self.universe)
        self._levels_members = members
        # Heaviest first: a history fetched in this order covers the legs' weight early.
        self._levels_symbols = heaviest_first(members)
        self._levels_status = HistoryStatus(loaded=0, members=len(self._levels_symbols))
        self._reduce_levels(feed, today)

    def _reduce_levels(self, feed: MemberHistory, today: date) -> None:
        """Start reducing the members' closes the feed holds now to the legs' levels."""
        symbols, members = self._levels_symbols, self._levels_members
        if members is None:
            return
        status = self._levels_status or HistoryStatus(loaded=0, members=len(symbols))
        try:
            closes = feed.member_closes(symbols, closes_start(today))
        except Exception as exc:
            # The windows' history failing is not the quotes' poll failing: it says so where
            # the windows would be, and the next day tries again.
            self._levels_status = self._history_failed(exc)
            return
        if isinstance(feed, GrowingMemberHistory):
            self._levels_reduced = feed.members_loaded(symbols)
            self._levels_at = self.clock.monotonic()
            self._levels_status = replace(status, loaded=self._levels_reduced)
        task = asyncio.ensure_future(asyncio.to_thread(leg_levels, closes, members))
        task.add_done_callback(self._levels_reduced_done)
        self._levels_task = task

    def _levels_reduced_done(self, _task: asyncio.Future[pl.DataFrame]) -> None:
        """Wake a loop that makes no poll now (paused, or waiting out a failure window).

        Polling, the next poll takes the levels as it goes; a loop that makes none would
        hold the windows and the map back until it polls again (see _idle).
        """
        if self._paused or self.waiting_s() is not None:
            self.wake()

    def _take_reduced_levels(self) -> bool:
        """Take a finished reduction's levels, if one has finished; True when one was taken."""
        task = self._levels_task
        if task is None or not task.done():
            return False
        self._levels_task = None
        self._take_levels(task)
        return True

    def _take_recorded_levels(self) -> None:
        """Put the sector legs' levels a followed recording carries in the store (if any)."""
        levels = getattr(self.feed, "leg_levels", None)
        if not isinstance(levels, pl.DataFrame) or levels.height == 0:
            return
        self.store.apply_leg_levels(levels)
        through = levels.get_column("date").max()
        # The poller reduced them from every member's closes: whole, as far as they reach.
        self._levels_status = HistoryStatus(
            loaded=0, members=0, through=through if isinstance(through, date) else None
        )

    def _grow_levels(self, today: date) -> None:
        """Show a growing history's progress; reduce it again when enough more came in."""
        feed = self.feed
        status = self._levels_status
        if (
            not isinstance(feed, GrowingMemberHistory)
            or status is None
            or self._levels_day != today
            or self._levels_task is not None
        ):
            return
        symbols = self._levels_symbols
        loaded = feed.members_loaded(symbols)
        if loaded != status.loaded:
            self._levels_status = replace(status, loaded=loaded)
        since_s = None if self._levels_at is None else self.clock.monotonic() - self._levels_at
        if reduce_again(loaded, self._levels_reduced, len(symbols), since_s):
            self._reduce_levels(feed, today)

    def _history_failed(self, exc: BaseException) -> HistoryStatus:
        """Return the members' history state after ``exc`` (shown instead of the windows)."""
        status = self._levels_status or HistoryStatus(loaded=0, members=0)
        return replace(status, error=f"members' history failed: {describe_exception(exc)}")

    def _take_levels(self, task: asyncio.Task[pl.DataFrame]) -> bool:
        """Put a finished reduction's levels in the store; True when it gave any."""
        status = self._levels_status or HistoryStatus(loaded=0, members=0)
        if task.cancelled():
            return False
        error = task.exception()
        if error is not None:
            # Shown where the windows would be; the next day (or universe) tries again.
            self._levels_status = self._history_failed(error)
            return False
        levels = task.result()
        self.store.apply_leg_levels(levels)
        if self.recorder is not None:
            # Once a day: followers of the recording get the windows without the closes.
            self.recorder.add_leg_levels(levels)
        through = levels.get_column("date").max() if levels.height else None
        feed = self.feed
        # A growing history's count is what has come in so far; any other is read whole.
        loaded = (
            feed.members_loaded(self._levels_symbols)
            if isinstance(feed, GrowingMemberHistory)
            else status.members
        )
        self._levels_status = replace(
            status,
            loaded=loaded,
            through=through if isinstance(through, date) else None,
            error=None,
        )
        return levels.height > 0

    async def finish_sector_history(self) -> bool:
        """Wait for the sector legs' levels under way and store them (one-shot outputs).

        True when levels arrived: a snapshot built now has the sectors' windows.
        """
        if self._levels_task is None:
            self._start_levels(self.clock.now().astimezone(NEW_YORK).date())
        task = self._levels_task
        if task is None:
            return False
        with contextlib.suppress(Exception):
            await task
        self._levels_task = None
        return self._take_levels(task)

    def _with_rates(self, now: datetime, reference: ReferenceData) -> ReferenceData:
        """Track the rates feed's health; when it failed, keep the last rates it gave."""
        if self._rates_feed is None:
            return reference
        if self.rates_health is None:
            cadence = REFERENCE_EVERY.total_seconds()
            self.rates_health = FeedHealth(self._rates_feed, cadence_s=cadence)
        error = reference.rates_error
        if error is None:
            self.rates_health.succeeded(now)
        else:
            # The error says which stand-in (if any) gave the figures: "...; FRED stands in".
            self.rates_health.failed(now, error)
            self.rates_health.next_retry = now + self._rates_retry()
        # Nothing lost: the last published figures stay, labelled with their source, and
        # the rates feed's age and state say how old they are.
        return keep_known(reference, self._reference)

    def _rates_retry(self) -> timedelta:
        """Return the wait before the failed rates feed is asked again (it backs off)."""
        failures = self.rates_health.failures if self.rates_health is not None else 1
        return timedelta(seconds=RATES_BACKOFF.delay(max(1, failures), self._rng))

    async def _load_history(self, symbol: str | None) -> None:
        """Fetch a focused symbol's daily history unless it is loaded for the day already."""
        if symbol is not None and symbol not in self._history_loaded:
            # A focused symbol's history is asked for once a day, not on every poll.
            self._apply_daily(await self.feed.daily([symbol]))
            self._history_loaded.add(symbol)

    async def _load_focus(self, now: datetime) -> None:
        """Fetch what the focused symbol's details need and the store lacks, quotes aside.

        Its history, its minute bars (up to the clock's instant: a paused replay serves none
        after it) and, for a symbol the polls do not quote, its quote. A failure is the
        feed's state and leaves the details with what there is.
        """
        symbol = self._focus_symbol
        if symbol is None or self.waiting_s() is not None:
            # Within a Retry-After or backoff window nothing is asked of the source: the
            # next planned poll fetches what the focus lacks.
            return
        try:
            if symbol not in self._quoted and symbol not in self.store.quotes["symbol"]:
                self._apply_quotes(await self.feed.quotes([symbol]))
            await self._load_history(symbol)
            await self._load_due_intraday(symbol)
        except Exception as exc:
            self.health.failed(now, self._poll_error(exc))

    async def _load_due_intraday(self, symbol: str | None) -> None:
        """Fetch a newly focused symbol's minute bars: it should not wait a minute for them."""
        if symbol is not None and self._intraday_due == symbol:
            self.store.apply_intraday(await self.feed.intraday([symbol]))
            self._intraday_due = None

    def _apply_quotes(self, quotes: pl.DataFrame) -> None:
        # A previous close far from the symbol's history is a wrong number: it reaches neither
        # the store nor the recording, and is listed with the feed's per-symbol problems.
        # The history's last closes change once a day: computed again only then.
        closes = self.store.memo(
            "engine.last_closes", self.store.daily_version, lambda: last_closes(self.store.daily)
        )
        far = far_from_history(quotes, closes)
        if far:
            quotes = quotes.filter(~pl.col("symbol").is_in(list(far)))
            problems = getattr(self.feed, "problems", None)
            if isinstance(problems, dict):
                problems.update(
                    {symbol: f"{self.feed.name}: {text}" for symbol, text in far.items()}
                )
        self.store.apply_quotes(quotes)
        # A quote the feed rejected is absent here: that symbol's figure keeps ageing.
        arrived = self.clock.now()
        self.received.update(dict.fromkeys(quotes.get_column("symbol").to_list(), arrived))
        if self.recorder is not None:
            self.recorder.add_quotes(quotes)

    def _apply_daily(self, daily: pl.DataFrame) -> None:
        self.store.apply_daily(daily)
        if self.recorder is not None:
            self.recorder.add_daily(daily)

    async def refresh(self) -> Snapshot:
        """Poll once and build a Snapshot; feed failures are recorded, never raised."""
        now = self.clock.now()
        if self.upkeep is not None:
            self.upkeep.tick(self, now)
        if self._next_universe is not None:
            self._use_universe(self._next_universe)
            self._next_universe = None
        # The focus this poll fetches for is the focus its snapshot details.
        focus = (self._focus_sector, self._focus_symbol)
        # Staleness follows the cadence in force: 5 s while open is not 5 min at night.
        self.health.cadence_s = self._cadence(now) * self.clock.speed
        if not self._manual_try:
            # A planned poll: the manual try of the window it ends is spent or not needed.
            self._manual_used = False
        self._manual_try = False
        try:
            await self._poll(now)
        except Exception as exc:
            # Whatever a poll raises is this feed failing, shown and retried with backoff:
            # the loop never dies of it (a FeedError is expected, anything else a fault).
            self._retry_after_s = exc.retry_after_s if isinstance(exc, RateLimited) else None
            self.next_delay_s = self._plan(now, failures=self.health.failures + 1)
            self.health.failed(
                now, self._poll_error(exc), retry_in_s=self.next_delay_s * self.clock.speed
            )
        else:
            self._retry_after_s = None
            # A replay that skipped unreadable files plays on, degraded, and says so.
            self.health.succeeded(now, notice=getattr(self.feed, "notice", None))
            self.next_delay_s = self._plan(now, failures=0)
            self._manual_used = False
        self._due_at = self.clock.monotonic() + self.next_delay_s
        if self.recorder is not None:
            try:
                # File writes block: off the event loop, like the analytics.
                # Followers judge the recording stale by how often it is written: once a poll
                # when polls are further apart than flushes (5 minutes apart overnight).
                self.recorder.poll_interval_s = self.next_delay_s * self.clock.speed
                self.recording_error = await asyncio.to_thread(self.recorder.maybe_flush)
            except Exception as exc:
                # An unexpected fault of the recorder is its state, not the end of the loop.
                self.recording_error = f"recording failed: {describe_exception(exc)}"
        try:
            snapshot = await asyncio.to_thread(self._build, now, self._reference, focus)
        except Exception as exc:
            if self.latest is None:
                raise  # nothing to show yet: the screen says the engine stopped, and why
            # A fault in the analytics must not end an all-day monitor: the last figures
            # stay, the feed's state says what broke, and the next poll builds again.
            self.health.failed(now, f"analytics failed: {describe_exception(exc)}")
            snapshot = replace(self.latest, feeds=self._statuses(now))
        self.latest = snapshot
        return snapshot

    async def refresh_with_history(self) -> Snapshot:
        """Poll once and build a Snapshot with the sectors' windows (one-shot outputs).

        The members' history a monitor reads beside its polls is waited for here.
        """
        snapshot = await self.refresh()
        contracts = bool(self._contracts_left)
        if contracts:
            # The odds' past, which a monitor reads over its next polls.
            await self._load_contract_history()
        await self.finish_sector_history()
        if contracts or self._history_status() is not snapshot.sector_history:
            # The windows or the odds' past arrived, or why they did not.
            snapshot = await self.rebuild()
        return snapshot

    def _poll_error(self, exc: Exception) -> str:
        """Return the status line's words for a failed poll (an unexpected one named by type)."""
        if isinstance(exc, FeedError):
            return str(exc)
        return f"{self.feed.name} failed: {describe_exception(exc)}"

    async def rebuild(self) -> Snapshot:
        """Build a Snapshot without a poll: the clock and the quotes stay (paused or finished).

        A drilldown opened while paused, or after a replay has ended, needs its details now.
        The quotes are in the store already; what the focused symbol needs besides them (its
        history, its minute bars) is loaded first (see _load_focus).
        """
        now = self.clock.now()
        focus = (self._focus_sector, self._focus_symbol)
        await self._load_focus(now)
        snapshot = await asyncio.to_thread(self._build, now, self._reference, focus)
        self.latest = snapshot
        return snapshot

    def _problems(self) -> tuple[tuple[str, str], ...]:
        """Return the source's per-symbol problems of its last answer, by symbol."""
        if self.health.failures:
            # The feed's own error says what went wrong; last poll's symbols are beside it.
            return ()
        problems = getattr(self.feed, "problems", None)
        if not isinstance(problems, Mapping):
            return ()
        return tuple((str(symbol), str(text)) for symbol, text in problems.items())

    def _statuses(self, now: datetime) -> tuple[FeedStatus, ...]:
        """Return the feed's status, the rates feed's once asked, the recorder's when recording."""
        feed = self.health.status(now, self._problems())
        rates: tuple[FeedStatus, ...] = ()
        if self.rates_health is not None:
            rates = (self.rates_health.status(now),)
        upkeep = self.upkeep.status(now) if self.upkeep is not None else None
        if upkeep is not None:
            rates = (*rates, upkeep)
        recording = getattr(self.feed, "recording_status", None)
        if callable(recording):
            # A followed recording's age and staleness (capgap --follow), beside the feed's.
            rates = (*rates, recording(now))
        if self.recorder is None:
            return (feed, *rates)
        recorder = FeedStatus(
            name=RECORDER_FEED,
            state="degraded" if self.recording_error else "ok",
            last_success=None,
            age_s=None,
            error=self.recording_error,
        )
        return (feed, *rates, recorder)

    def _plan(self, now: datetime, *, failures: int) -> float:
        """Return the wall seconds until the next poll (cadence, backoff, Retry-After)."""
        return next_delay(
            cadence_s=self._cadence(now),
            failures=failures,
            retry_after_s=self._retry_after_s,
            backoff=self._backoff,
            rng=self._rng,
            # While open a minute's silence is a lot: the backoff stops at about a minute.
            market_open=market_session(now).state == "open",
        )

    def _build(
        self,
        now: datetime,
        ref: ReferenceData,
        focus: tuple[str | None, str | None] = (None, None),
    ) -> Snapshot:
        """Compute the snapshot (runs in a worker thread: polars releases the GIL)."""
        fed = fed_snapshot(
            self.store,
            now=now,
            schedule=self.schedule,
            naming=self.naming,
            inputs=FedInputs(
                target_range=ref.target_range,
                target_source=ref.label if ref.target_range else None,
                effr=ref.effr,
                futures_label=self.futures_label,
                manual_prices=self.manual_prices,
                history_error=self._contracts_error,
            ),
        )
        return build_snapshot(
            self.store,
            self.universe,
            now=now,
            source=self.feed.name,
            demo=self.demo,
            market=market_session(now),
            fed=fed,
            valuation_source=self.feed.name,
            feeds=self._statuses(now),
            received=self.received,
            stale_after_s=STALE_AFTER_CADENCES * self.health.cadence_s,
            focus_sector=focus[0],
            focus_symbol=focus[1],
            universe_info=self._universe_info(now),
            sector_history=self._history_status(),
        )

    def _history_status(self) -> HistoryStatus | None:
        """Return the members' history state; nothing read yet from a source that has one.

        Before the first figures (a feed down from the start) no reduction has begun: that
        is none loaded yet, not a source without history.
        """
        if self._levels_status is not None or self.headline_only:
            return self._levels_status
        if not isinstance(self.feed, MemberHistory):
            return None
        pending = self._history_pending
        if pending is None or pending[0] is not self.universe:
            # Once per universe (and kept, so a rebuild sees the very same state).
            status = HistoryStatus(loaded=0, members=len(self.universe.member_symbols()))
            pending = self._history_pending = (self.universe, status)
        return pending[1]

    def _universe_info(self, now: datetime) -> UniverseSnapshot | None:
        """Return where each leg's members come from, how many are quoted, the oldest's age.

        A dictionary look-up per member (about 0.3 ms for 2,400 members): cheap beside the
        analytics, and nothing to keep in step as quotes arrive.
        """
        if not self.universe.sources:
            return None
        received = self.received
        legs: dict[str, UniverseInfo] = {}
        for source in self.universe.sources:
            members = self._leg_members.get(source.bucket, [])
            times = [when for when in map(received.get, members) if when is not None]
            oldest = (now - min(times)).total_seconds() if times else None
            legs[source.bucket] = UniverseInfo(
                index=source.index,
                source=f"iShares {source.fund}",
                as_of=source.as_of,
                origin=source.origin,
                members=len(members),
                quoted=len(times),
                oldest_quote_s=oldest,
            )
        return UniverseSnapshot(
            large=legs.get("large"), small=legs.get("small"), rolling=self._budget is not None
        )

    async def _wait_for_wake(self, timeout_s: float | None) -> None:
        """Wait until wake() (or ``timeout_s`` wall seconds), then clear the wake-up."""
        event = self._wake_event
        if event is not None and not self._woken:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout_s)
        self._woken = False
        if event is not None:
            event.clear()

    async def run(
        self,
        publish: Callable[[Snapshot], None],
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        """Refresh, publish and sleep, until cancelled or the clock has finished.

        The sleep runs from the end of a poll, so a slow request never overlaps the next one.
        It ends early on wake() (focus, a manual refresh). While paused no poll is made once
        there are figures to hold (the first one is); a focus meanwhile gets its details
        from rebuild(). The same holds while a failed poll's Retry-After or backoff is in
        force, until it ends or refresh_now() asks for the window's one manual try. A custom
        ``sleep`` (tests) is awaited in full; a wake() meanwhile needs nothing more, as the
        poll that follows is the one it asked for.
        """
        self._wake_event = asyncio.Event()
        if self._woken:
            self._wake_event.set()
        while True:
            if self._paused and self.latest is not None:
                await self._idle(publish, None)
                continue
            # Read once: the wait below must not be "for ever" if the window ends meanwhile.
            left = None if self._manual_try else self.waiting_s()
            if left is not None and self.latest is not None:
                # A failed poll's Retry-After or backoff is in force: a wake-up (navigation,
                # resume) polls only once it is over, or for the one manual try.
                await self._idle(publish, left)
                continue
            finished = self.clock.finished
            self._refocused = False  # this poll's snapshot carries the focus
            publish(await self.loop_refresh(finished=finished))
            if finished:
                return
            if sleep is not None:
                await sleep(self.next_delay_s)
                self._woken = False
                # A custom sleep is the wait in full (tests): its window is over.
                self._due_at = None
            else:
                await self._wait_for_wake(self.next_delay_s)

    async def loop_refresh(self, *, finished: bool) -> Snapshot:
        """Poll once as run() does; ``finished``: the clock has finished (read once by the caller).

        The last poll of a replay waits for the members' history (the sectors' windows, the
        rotation map): no later poll would take it.
        """
        return await (self.refresh_with_history() if finished else self.refresh())

    async def _idle(self, publish: Callable[[Snapshot], None], timeout_s: float | None) -> None:
        """Between polls that may not go out yet: build a new focus or history, or wait.

        The focus (and a finished history reduction) is looked at before waiting: its
        wake-up may have ended the last sleep.
        """
        if self._paused and self.latest is not None:
            # Paused after the first figures: the day's history is still read (its end
            # wakes this loop), as the next poll would have started it.
            self._start_levels(self.clock.now().astimezone(NEW_YORK).date())
        if self._refocused:
            self._refocused = False
            publish(await self.rebuild())
        elif self._take_reduced_levels():
            # The members' history was reduced meanwhile: the windows and the map now.
            publish(await self.rebuild())
        else:
            await self._wait_for_wake(timeout_s)

    async def aclose(self) -> None:
        """Flush any recording and close the feed (once: later calls do nothing)."""
        if self._closed:
            return
        self._closed = True
        if self.upkeep is not None:
            await self.upkeep.aclose()
        if self._levels_task is not None:
            # The thread finishes its reduction on its own; nothing waits for it.
            self._levels_task.cancel()
            self._levels_task = None
        if self.recorder is not None:
            self.recording_error = await asyncio.to_thread(self.recorder.close)
        with contextlib.suppress(FeedError):
            await self.feed.aclose()
