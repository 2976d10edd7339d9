"""Follows a recording as `capgap record` writes it: a viewer that sends no request at all."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from capgap.core.clock import Clock
from capgap.core.format import fmt_age
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import BARS, DAILY, LEG_LEVELS, QUOTES, conform, empty
from capgap.core.snapshot import RECORDING_FEED, FeedStatus
from capgap.feeds.base import FeedError, ReferenceData
from capgap.feeds.recording.recorded import (
    RecordedFeed,
    RecordedPartition,
    append_in_time_order,
    last_per_symbol,
    minute_bars,
    read_quote_files,
)
from capgap.feeds.recording.recorder import (
    DAILY_FILE,
    LATEST_FILE,
    LEG_LEVELS_FILE,
    SESSION_FILE,
    partition_name,
)
from capgap.feeds.recording.session_info import PollerInfo, partition_day, read_session_info

#: The recording is stale when the poller has not flushed for this many of its write
#: intervals (see stale_after_s).
STALE_FLUSHES = 3
#: The bound used when the recording does not say how often it is written.
DEFAULT_STALE_S = 60.0

#: Quote files read at once while a viewer catches up with a day: the day's thousands read
#: in one go held every column of every row at once (over 500 MB RSS on a busy day).
READ_BATCH = 128
#: What a viewer keeps of the rows of the symbols it charts: what their minute bars need.
TICK_COLUMNS = ("symbol", "time", "last", "volume")
#: Symbols asked for minute bars (drilled into) whose rows a viewer keeps beside its charts',
#: the most recently asked; one asked again after it was let go is read again from the day.
KEPT_SYMBOLS = 8

_Stamp = tuple[int, int, int] | None


def _ticks(rows: pl.DataFrame, symbols: set[str]) -> pl.DataFrame:
    """Return the rows of ``symbols``, only the columns their minute bars need."""
    return rows.filter(pl.col("symbol").is_in(list(symbols))).select(TICK_COLUMNS)


def _with_ticks(known: pl.DataFrame, ticks: pl.DataFrame) -> pl.DataFrame:
    """Return ``known`` and then ``ticks`` in time order, in one chunk of their own.

    A row filtered out of a file's frame kept that frame's buffers alive, one chunk per file
    read: 57 MB over a busy day for two symbols' 7,000 rows, until copied into one chunk.
    """
    return append_in_time_order(known, ticks).rechunk()


def _read_ticks(paths: Sequence[Path], symbols: set[str]) -> pl.DataFrame:
    """Read the rows of ``symbols`` from quote files already read once, in time order.

    A file that cannot be read was counted when first read: it is not counted again.
    """
    ticks = empty(QUOTES).select(TICK_COLUMNS)
    for start in range(0, len(paths), READ_BATCH):
        rows = read_quote_files(paths[start : start + READ_BATCH], [], TICK_COLUMNS)
        ticks = _with_ticks(ticks, _ticks(rows, symbols))
    return ticks


@dataclass
class _Followed:
    """What a viewer keeps of the day it follows: not its rows, which grow all day.

    The last quote of every symbol, and the rows of the symbols charted (TICK_COLUMNS), both
    in time order as RecordedFeed keeps them: the figures are the same as if it kept all.
    """

    part: RecordedPartition
    latest: pl.DataFrame = field(default_factory=lambda: empty(QUOTES))
    ticks: pl.DataFrame = field(default_factory=lambda: empty(QUOTES).select(TICK_COLUMNS))
    first: datetime | None = None
    last: datetime | None = None


def _stamp(path: Path) -> _Stamp:
    """Return what changes when a file is atomically replaced (inode, size, mtime); None: gone."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _read(path: Path, schema: pl.Schema) -> pl.DataFrame | None:
    """Read a recorded frame (None: replaced or pruned while read; the next poll tries again)."""
    try:
        return conform(pl.read_parquet(path), schema)
    except (OSError, pl.exceptions.PolarsError):
        return None


def stale_after_s(poller: PollerInfo) -> float:
    """Return how long the poller may be silent before its recording counts as stale.

    STALE_FLUSHES times the interval it writes at (its flush interval, or its poll interval
    when that is longer: overnight a poller polls, and so writes, every 5 minutes).
    """
    interval = poller.write_interval_s or poller.flush_interval_s
    return STALE_FLUSHES * interval if interval else DEFAULT_STALE_S


class FollowFeed(RecordedFeed):
    """Serves the newest of a recording that a poller (`capgap record`) is still writing.

    Each poll reads only the quote files it has not read yet (known by name); daily.parquet
    and session.toml are read again only when the poller has replaced them. A folder with
    nothing recorded yet is waited for (empty answers, "waiting for the recording"), a file
    or partition pruned meanwhile is passed over, and a partition for a new day is moved to.
    Every row recorded is served: the follower's clock may lag the poller's, on another host.
    Of the day it holds only what the screens show (see _Followed), so a viewer's memory
    does not grow with the day's files.
    """

    def __init__(
        self,
        folder: Path,
        clock: Clock,
        *,
        name: str = "follow",
        latest_only: bool = False,
        charts: Sequence[str] = (),
    ) -> None:
        """Follow ``folder``; ``latest_only``: read only the recorder's latest quotes.

        For a one-shot answer with no chart (the tmux line): LATEST_FILE holds the last
        quote per symbol, where the day's quote files are thousands by the close.
        ``charts``: the symbols whose minute bars are asked all day (kept from the first
        read); any other symbol's are read from the day's files when first asked.
        """
        super().__init__(folder, clock, name=name)
        self._latest_only = latest_only
        self._charts = frozenset(charts)
        # Other symbols asked for minute bars, least recently asked first (KEPT_SYMBOLS).
        self._asked: dict[str, None] = {}
        self._day: _Followed | None = None
        #: Bumped when the daily history or the reference figures changed on disk: the
        #: engine then asks for them again rather than once a day.
        self.history_version = 0
        self._meta: tuple[object, _Stamp, _Stamp, _Stamp] | None = None
        #: The sector legs' levels the poller recorded (LEG_LEVELS; empty: none recorded).
        self.leg_levels = empty(LEG_LEVELS)
        self.poller = PollerInfo()
        # Today's session.toml as last read, while an earlier day is followed.
        self._beat: _Stamp = None
        self._waiting = True

    def history_changes(self) -> int:
        """Look at the recording now; return how often its history or rates changed so far.

        The engine asks before a poll: a change makes it ask for the daily history and the
        reference figures again (the follower may have started before the poller wrote them).
        """
        self._follow()
        return self.history_version

    def _check_recording(self) -> None:
        """Nothing to refuse: a follower started before the first flush waits for it."""

    def _follow(self) -> RecordedPartition | None:
        """Return the partition followed now (None while nothing is recorded)."""
        try:
            part = self._partition(self._clock.now())
        except FeedError:
            self._waiting = True
            return None
        self._waiting = False
        self._read_meta(part)
        self._read_heartbeat(part)
        return part

    def _read_heartbeat(self, part: RecordedPartition) -> None:
        """Judge the poller by today's session.toml when the day followed is an earlier one.

        A day's partition only gets quotes once one changes (a weekend gets none), yet the
        poller rewrites today's session.toml at every flush: it is alive, not stale.
        """
        today = self._clock.now().astimezone(NEW_YORK).date()
        if part.day == today or partition_day(self._folder) is not None:
            return
        folder = self._folder / partition_name(today)
        stamp = _stamp(folder / SESSION_FILE)
        if stamp is None or stamp == self._beat:
            return
        self._beat = stamp
        try:
            poller = read_session_info(folder).poller
        except FeedError:
            return  # mid-replace: the next poll reads it
        known = self.poller.last_flush
        if poller.last_flush is not None and (known is None or poller.last_flush > known):
            self.poller = poller

    def _followed(self, part: RecordedPartition) -> _Followed:
        """Return what is kept of ``part`` (afresh for a new partition: a new day's)."""
        day = self._day
        if day is None or day.part is not part:
            day = self._day = _Followed(part)
        return day

    @property
    def rows_held(self) -> int:
        """Quote rows held for the day followed: one per symbol, and the charted symbols' rows."""
        day = self._day
        return 0 if day is None else day.latest.height + day.ticks.height

    def _charted(self) -> set[str]:
        return set(self._charts) | set(self._asked)

    def _load_new_files(self, part: RecordedPartition) -> None:
        """Fold the quote files not read yet into the day's latest quotes and charted rows.

        Every recorded row counts, whatever this host's clock says (see the class docstring).
        """
        if self._latest_only and (part.folder / LATEST_FILE).exists():
            return  # the quotes come from the one file (see quotes)
        day = self._followed(part)
        new = self._take_new_files(part)
        charted = self._charted()
        for start in range(0, len(new), READ_BATCH):
            rows = self._read_files(new[start : start + READ_BATCH])
            rows = rows.filter(pl.col("time").is_not_null())
            if rows.height == 0:
                continue
            # A symbol's last row in time order, the later read winning a tie (as RecordedFeed).
            day.latest = last_per_symbol(
                pl.concat([day.latest, rows]).sort("time", maintain_order=True)
            )
            day.ticks = _with_ticks(day.ticks, _ticks(rows, charted))
            first, last = rows.get_column("time").min(), rows.get_column("time").max()
            assert isinstance(first, datetime) and isinstance(last, datetime)
            day.first = first if day.first is None else min(day.first, first)
            day.last = last if day.last is None else max(day.last, last)

    async def _chart(self, part: RecordedPartition, symbols: Sequence[str]) -> _Followed:
        """Keep the rows of ``symbols`` from now on; read the day's so far of those new to it.

        Beside the charts' own symbols the KEPT_SYMBOLS asked most recently are kept; the rows
        of one asked longer ago are let go.
        """
        day = self._followed(part)
        new = {symbol for symbol in symbols if symbol not in self._charted()}
        for symbol in symbols:
            if symbol not in self._charts:
                self._asked.pop(symbol, None)
                self._asked[symbol] = None
        while len(self._asked) > KEPT_SYMBOLS:
            del self._asked[next(iter(self._asked))]
        kept = day.ticks.filter(pl.col("symbol").is_in(list(self._charted())))
        if kept.height < day.ticks.height:
            day.ticks = kept.rechunk()  # the symbols let go leave no buffer behind
        if new:
            # Thousands of files by the close: read in a thread, the screen keeps drawing.
            # The files read so far are listed now: those a poll reads meanwhile keep these
            # symbols' rows already (they are charted from now on), so none is read twice.
            paths = sorted(part.folder / name for name in part.seen)
            ticks = await asyncio.to_thread(_read_ticks, paths, new)
            if self._day is day:
                day.ticks = _with_ticks(ticks, day.ticks)
        return day

    def _read_meta(self, part: RecordedPartition) -> None:
        """Read session.toml, daily.parquet and the legs' levels again when they were replaced."""
        folder = part.folder
        stamps = (
            _stamp(folder / SESSION_FILE),
            _stamp(folder / DAILY_FILE),
            _stamp(folder / LEG_LEVELS_FILE),
        )
        known = self._meta
        if known is not None and known == (part.day, *stamps):
            return
        new_day = known is None or known[0] != part.day
        if new_day:
            # The first partition (a follower may have asked while waiting) or a new day's.
            self.history_version += 1
        session, daily, levels = stamps
        if session is not None and (known is None or new_day or known[1] != session):
            try:
                info = read_session_info(folder)
            except FeedError:
                info = part.info  # mid-replace on a network filesystem: next poll reads it
            if info.reference != part.info.reference:
                self.history_version += 1
            part.info, self.poller = info, info.poller
        if daily is not None and (known is None or new_day or known[2] != daily):
            frame = _read(folder / DAILY_FILE, DAILY)
            if frame is not None:
                frame = frame.filter(pl.col("date") < part.day).sort("symbol", "date")
                if not frame.equals(part.daily):
                    part.daily = frame
                    self.history_version += 1
        if levels is not None and (known is None or new_day or known[3] != levels):
            frame = _read(folder / LEG_LEVELS_FILE, LEG_LEVELS)
            if frame is not None and not frame.equals(self.leg_levels):
                self.leg_levels = frame
                self.history_version += 1
        self._meta = (part.day, *stamps)

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return each symbol's newest recorded quote (none while waiting)."""
        part = self._follow()
        if part is None:
            return empty(QUOTES)
        # Without the latest file (an older recorder) even a one-shot reads the day's files.
        latest = _read(part.folder / LATEST_FILE, QUOTES) if self._latest_only else None
        if latest is None:
            latest = self._followed(part).latest
        return latest.filter(pl.col("symbol").is_in(list(symbols))).sort("symbol")

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return one-minute bars of the recorded prices (none while waiting)."""
        part = self._follow()
        if part is None:
            return empty(BARS)
        day = await self._chart(part, symbols)
        return minute_bars(day.ticks, symbols, self._clock.now())

    def window(self) -> tuple[datetime, datetime]:
        """Return the first and last instants recorded on the followed day so far."""
        part = self._follow()
        day = self._followed(part) if part is not None else None
        if day is None or day.first is None or day.last is None:
            raise FeedError(f"no readable quotes in {self._folder}")
        return day.first, day.last

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return the recorded daily bars before the followed day (none while waiting)."""
        if self._follow() is None:
            return empty(DAILY)
        return await super().daily(symbols)

    async def reference(self) -> ReferenceData:
        """Return the reference figures of the followed day (none while waiting)."""
        if self._follow() is None:
            return ReferenceData()
        return await super().reference()

    def recording_status(self, now: datetime) -> FeedStatus:
        """Return the recording's state: its age since the poller's last flush, or stale.

        Stale once the poller has been silent for STALE_FLUSHES of its write intervals (see
        stale_after_s); the status line's data age then says STALE.
        """
        if self._waiting:
            return FeedStatus(
                name=RECORDING_FEED,
                state="degraded",
                last_success=None,
                age_s=None,
                error=f"waiting for the recording in {self._folder}",
            )
        poller = self.poller
        bound = stale_after_s(poller)
        last = poller.last_flush
        age = (now - last).total_seconds() if last is not None else None
        stale = age is None or age > bound
        error = None
        if age is None:
            error = "the recording does not say when its poller last wrote (an older recorder)"
        elif stale:
            error = f"the poller has written nothing for {fmt_age(age)} (over {fmt_age(bound)})"
        return FeedStatus(
            name=RECORDING_FEED,
            state="degraded" if stale else "ok",
            last_success=last,
            age_s=age,
            error=error,
            stale=stale,
            stale_after_s=bound if last is not None else None,
        )
