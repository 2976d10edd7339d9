"""Records polled quotes, daily history and reference figures to Parquet, atomically."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from capgap.core.atomic import (
    SHARED_MODE,
    fsync_dir,
    process_token,
    write_atomic,
    write_bytes_atomic,
    write_new,
)
from capgap.core.clock import Clock
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import DAILY, LEG_LEVELS, QUOTES, conform, conform_quotes
from capgap.core.toml import toml_value
from capgap.feeds.base import FeedError, ReferenceData, keep_known
from capgap.feeds.recording.session_info import (
    PARTITION_PREFIX,
    PollerInfo,
    partition_day,
    read_session_info,
)

QUOTES_PREFIX = "quotes-"
DAILY_FILE = "daily.parquet"
#: The sector legs' daily levels (LEG_LEVELS), written once a day when the engine has new
#: ones: a follower shows the sectors' windows and the rotation map without the members'
#: closes. Their sector_idx counts the universe's sectors: followers use the poller's config.
LEG_LEVELS_FILE = "leg_levels.parquet"
#: The last recorded quote per symbol (QUOTES), replaced after each flush that wrote quotes:
#: a one-shot follower (the tmux line) reads this one file, not the whole day's.
LATEST_FILE = "latest.parquet"
#: A partition's Parquet files that hold no quote rows of their own (never read as quotes).
META_FILES = frozenset({DAILY_FILE, LEG_LEVELS_FILE, LATEST_FILE})
SESSION_FILE = "session.toml"
_DAY = "__day"


def partition_name(day: date) -> str:
    """Return the folder name of a New York date's partition (``date=YYYY-MM-DD``)."""
    return f"{PARTITION_PREFIX}{day.isoformat()}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def session_toml(
    day: date,
    reference: ReferenceData | None,
    *,
    synthetic: bool = False,
    poller: PollerInfo | None = None,
) -> str:
    """Return the session.toml text of a recorded partition (same keys as the sample's).

    ``poller`` adds the [poller] table a follower reads: the source polled, the flush
    interval, the instant of the latest flush and how often the recording is written.
    """
    lines = [
        "# capgap recording, written by capgap.feeds.recording.recorder.",
        f"session_date = {day.isoformat()}",
        f"synthetic = {'true' if synthetic else 'false'}",
        'generator = "capgap.feeds.recording.recorder"',
        f'daily_file = "{DAILY_FILE}"',
        'timezone = "America/New_York"',
        "",
        "[reference]",
    ]
    if reference is not None:
        if reference.target_range is not None:
            low, high = reference.target_range
            lines.append(f"target_range = [{toml_value(float(low))}, {toml_value(float(high))}]")
        if reference.effr is not None:
            lines.append(f"effr = {toml_value(float(reference.effr))}")
        if reference.label is not None:
            lines.append(f"label = {toml_value(reference.label)}")
    if poller is not None:
        lines += ["", "[poller]"]
        if poller.source is not None:
            lines.append(f"source = {toml_value(poller.source)}")
        if poller.flush_interval_s is not None:
            lines.append(f"flush_interval_s = {toml_value(float(poller.flush_interval_s))}")
        if poller.last_flush is not None:
            lines.append(f"last_flush = {toml_value(poller.last_flush)}")
        if poller.write_interval_s is not None:
            lines.append(f"write_interval_s = {toml_value(float(poller.write_interval_s))}")
    return "\n".join(lines) + "\n"


def prune_partitions(out_dir: Path, today: date, keep_days: int) -> list[date]:
    """Remove the partitions older than the last ``keep_days`` days (today is day one).

    Whole folders go; today's never does (``keep_days`` >= 1). Returns the days removed; a
    folder that cannot be removed stays (it is tried again the next day).
    """
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1, got {keep_days}")
    oldest_kept = today - timedelta(days=keep_days - 1)
    removed: list[date] = []
    try:
        children = sorted(out_dir.iterdir())
    except OSError:
        return removed
    for child in children:
        day = partition_day(child)
        if day is None or day >= oldest_kept or not child.is_dir():
            continue
        # A follower reading the folder meanwhile sees files vanish: it tolerates that.
        shutil.rmtree(child, ignore_errors=True)
        if not child.exists():
            removed.append(day)
    return removed


def _recorded_reference(folder: Path) -> ReferenceData | None:
    """Return the reference figures a partition's session.toml holds (None: none readable)."""
    if not (folder / SESSION_FILE).exists():
        return None
    try:
        return read_session_info(folder).reference
    except (FeedError, ValueError, TypeError, IndexError):
        # An unreadable file has nothing to keep: it is written afresh.
        return None


class Recorder:
    """Buffers polled quotes and writes them to a date-partitioned folder of Parquet files.

    Every file is written atomically (temp file, fsync, rename, fsync of the folder), so a
    kill loses at most the rows buffered since the last flush. Files are readable as the
    umask allows (SHARED_MODE): followers are often other users of the host. Write
    failures (full disk, permissions) are returned and kept in ``last_error``, never
    raised; the rows stay buffered for the next try, up to ``max_buffered_rows`` (the
    oldest are dropped beyond).
    """

    def __init__(
        self,
        out_dir: Path,
        clock: Clock,
        flush_interval_s: float = 5.0,
        *,
        max_buffered_rows: int = 500_000,
        synthetic: bool = False,
        source: str | None = None,
        keep_days: int | None = None,
    ) -> None:
        if keep_days is not None and keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, got {keep_days}")
        if not flush_interval_s >= 0:
            raise ValueError(f"flush interval must be >= 0 s, got {flush_interval_s}")
        if max_buffered_rows < 1:
            raise ValueError(f"max_buffered_rows must be positive, got {max_buffered_rows}")
        self.out_dir = Path(out_dir)
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        self.max_buffered_rows = max_buffered_rows
        self.synthetic = synthetic
        #: The source polled, named in session.toml's [poller] for followers.
        self.source = source
        #: Clock seconds until the engine's next poll, which flushes: with flush_interval_s,
        #: how often the recording is written at least (session.toml's write_interval_s).
        self.poll_interval_s: float | None = None
        #: Partitions older than this many days are removed after a flush (None: all kept).
        self.keep_days = keep_days
        self._pruned_on: date | None = None
        self.last_error: str | None = None
        self.rows_written = 0
        self.files_written = 0
        #: The New York dates that quote files were written for.
        self.days_written: set[date] = set()
        self.dropped_rows = 0
        self._chunks: list[pl.DataFrame] = []
        self._buffered = 0
        # The last row recorded per symbol: an unchanged quote polled again is not stored twice.
        self._seen = pl.DataFrame(schema=QUOTES)
        self._daily: pl.DataFrame | None = None
        self._reference: ReferenceData | None = None
        # The sector legs' levels to write on the next flush (None: none new since the last).
        self._levels: pl.DataFrame | None = None
        self._levels_written: pl.DataFrame | None = None
        # Partitions whose daily.parquet / session.toml already hold the current figures.
        self._meta_current: set[date] = set()
        self._seq = 0
        # Part of a file's name where the file system cannot claim names (see write_new).
        self._token = process_token()
        self._last_flush = clock.monotonic()
        self._flush_lock = threading.Lock()
        # Guards only the buffer's hand-over, so adding rows never waits for a write to finish.
        self._buffer_lock = threading.Lock()

    @property
    def buffered_rows(self) -> int:
        """Rows waiting for the next flush."""
        return self._buffered

    @property
    def flush_due(self) -> bool:
        """True once ``flush_interval_s`` monotonic seconds have passed since the last flush."""
        return self.clock.monotonic() - self._last_flush >= self.flush_interval_s

    def add_quotes(self, frame: pl.DataFrame) -> None:
        """Buffer quote rows (QUOTES schema); rows identical to the last recorded are skipped."""
        rows = (
            conform_quotes(frame).filter(pl.col("time").is_not_null()).unique(maintain_order=True)
        )
        # A detail Yahoo did not send is null in both rows: null equals null here, or an
        # unchanged quote without fundamentals would be recorded again on every poll.
        fresh = rows.join(
            self._seen,
            on=list(QUOTES.names()),
            how="anti",
            nulls_equal=True,
            maintain_order="left",
        )
        if fresh.height == 0:
            return
        self._seen = (
            pl.concat([self._seen, fresh])
            .sort("time", maintain_order=True)
            .group_by("symbol", maintain_order=True)
            .last()
        )
        with self._buffer_lock:
            self._chunks.append(fresh)
            self._buffered += fresh.height
            self._bound_buffer()

    def _bound_buffer(self) -> None:
        excess = self._buffered - self.max_buffered_rows
        if excess <= 0:
            return
        merged = pl.concat(self._chunks).slice(excess)
        self._chunks = [merged]
        self._buffered = merged.height
        self.dropped_rows += excess
        self.last_error = f"recording is behind: dropped the {excess} oldest unwritten rows" + (
            f" ({self.last_error})" if self.last_error else ""
        )

    def add_daily(self, frame: pl.DataFrame) -> None:
        """Keep the latest daily history (DAILY schema), per symbol, for the next flush."""
        rows = conform(frame, DAILY)
        if self._daily is not None:
            kept = self._daily.filter(~pl.col("symbol").is_in(rows.get_column("symbol").to_list()))
            rows = pl.concat([kept, rows])
        rows = rows.sort("symbol", "date")
        if self._daily is not None and rows.equals(self._daily):
            return
        self._daily = rows
        self._meta_current.clear()

    def add_leg_levels(self, frame: pl.DataFrame) -> None:
        """Keep the sector legs' levels (LEG_LEVELS) for the next flush, unless already written."""
        levels = conform(frame, LEG_LEVELS)
        if self._levels_written is not None and levels.equals(self._levels_written):
            return
        self._levels = levels

    def set_reference(self, reference: ReferenceData, label: str | None = None) -> None:
        """Keep the latest reference figures; ``label`` names their source in session.toml."""
        if label is not None:
            reference = ReferenceData(
                target_range=reference.target_range,
                effr=reference.effr,
                label=label,
            )
        if reference != self._reference:
            self._reference = reference
            self._meta_current.clear()

    def maybe_flush(self) -> str | None:
        """Flush when the flush interval has passed; return the error of the flush, if any."""
        if not self.flush_due:
            return None
        return self.flush()

    def flush(self) -> str | None:
        """Write buffered quotes and changed metadata now; return an error message or None."""
        # The engine flushes from worker threads: a shutdown's final flush may overlap a
        # periodic one still running, and two writers would race on the same buffers.
        with self._flush_lock:
            return self._flush()

    def _flush(self) -> str | None:
        self._last_flush = self.clock.monotonic()
        errors: list[str] = []
        now = self.clock.now().astimezone(NEW_YORK)
        pending: list[pl.DataFrame] = []
        written: set[date] = set()
        with self._buffer_lock:
            chunks, self._chunks = self._chunks, []
        if chunks:
            rows = pl.concat(chunks).with_columns(
                pl.col("time").dt.convert_time_zone("America/New_York").dt.date().alias(_DAY)
            )
            for (day,), part in rows.partition_by(_DAY, as_dict=True, maintain_order=True).items():
                assert isinstance(day, date)
                quotes = part.drop(_DAY)
                try:
                    self._write_quotes(day, quotes, now.strftime("%H%M%S"))
                except (OSError, pl.exceptions.PolarsError) as exc:
                    errors.append(f"cannot record quotes in {self.out_dir}: {exc}")
                    pending.append(quotes)
                    continue
                written.add(day)
        with self._buffer_lock:
            # Rows added while the files were written go after the ones that failed to be.
            self._chunks = pending + self._chunks
            self._buffered = sum(chunk.height for chunk in self._chunks)
        has_meta = self._daily is not None or self._reference is not None
        for day in sorted(written | {now.date()}):
            today = day == now.date()
            meta_due = has_meta and day not in self._meta_current
            if meta_due and not today and (self._folder(day) / SESSION_FILE).exists():
                # A past day keeps the figures it was recorded with; only today's follow.
                self._meta_current.add(day)
                continue
            if not meta_due and not (today and self._folder(day).is_dir()):
                # Nothing new to write; a heartbeat only where today's recording has begun.
                continue
            try:
                # Today's session.toml is rewritten at every flush: its last_flush is the
                # heartbeat a follower judges the recording's age by, quotes changed or not.
                self._write_meta(day, daily=meta_due)
            except (OSError, pl.exceptions.PolarsError) as exc:
                errors.append(f"cannot record daily history in {self.out_dir}: {exc}")
                break
            if meta_due:
                self._meta_current.add(day)
        levels = self._levels
        if levels is not None and not errors:
            try:
                write_atomic(
                    self._partition(now.date()) / LEG_LEVELS_FILE,
                    levels.write_parquet,
                    mode=SHARED_MODE,
                )
            except (OSError, pl.exceptions.PolarsError) as exc:
                errors.append(f"cannot record the sectors' levels in {self.out_dir}: {exc}")
            else:
                self._levels, self._levels_written = None, levels
        if written and not errors:
            try:
                self._write_latest(now.date())
            except (OSError, pl.exceptions.PolarsError) as exc:
                errors.append(f"cannot record the latest quotes in {self.out_dir}: {exc}")
        if self.keep_days is not None and self._pruned_on != now.date():
            # After today's flush, once a day: whole folders of days no longer kept.
            self._pruned_on = now.date()
            prune_partitions(self.out_dir, now.date(), self.keep_days)
        if errors and self.dropped_rows:
            errors.append(f"{self.dropped_rows} unwritten rows dropped so far")
        self.last_error = "; ".join(errors) if errors else None
        return self.last_error

    def close(self) -> str | None:
        """Flush what is left; return the error of that flush, if any."""
        return self.flush()

    def summary(self) -> str:
        """Say what was written: 'wrote 2 rows in 1 file for 1 day (2025-12-05) to rec'."""
        days = sorted(self.days_written)
        span = f"{days[0]} to {days[-1]}" if len(days) > 1 else ", ".join(map(str, days))
        return (
            f"wrote {_count(self.rows_written, 'row')} in {_count(self.files_written, 'file')} "
            f"for {_count(len(days), 'day')} ({span}) to {self.out_dir}"
        )

    def _folder(self, day: date) -> Path:
        return self.out_dir / partition_name(day)

    def _partition(self, day: date) -> Path:
        folder = self._folder(day)
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            # Make the new folder's own entry durable, not just the files inside it.
            fsync_dir(folder.parent)
        return folder

    def _names(self, stamp: str) -> Iterator[str]:
        """Yield the next quote file names of this recorder: HHMMSS and a sequence number."""
        while True:
            self._seq += 1
            yield f"{QUOTES_PREFIX}{stamp}-{self._seq:06d}.parquet"

    def _write_quotes(self, day: date, quotes: pl.DataFrame, stamp: str) -> None:
        folder = self._partition(day)
        # Another recorder may write into the same folder: a name is claimed, never replaced.
        write_new(folder, self._names(stamp), quotes.write_parquet, self._token, mode=SHARED_MODE)
        self.rows_written += quotes.height
        self.files_written += 1
        self.days_written.add(day)

    def _write_meta(self, day: date, *, daily: bool = True) -> None:
        folder = self._partition(day)
        if daily and self._daily is not None:
            recorded = _with_recorded_daily(self._daily, folder / DAILY_FILE)
            write_atomic(folder / DAILY_FILE, recorded.write_parquet, mode=SHARED_MODE)
        # A figure session.toml holds stays unless a real new value replaces it: a recorder
        # restarted during an outage, or a second recorder, never writes less than was there.
        reference = keep_known(self._reference or ReferenceData(), _recorded_reference(folder))
        text = session_toml(day, reference, synthetic=self.synthetic, poller=self._poller())
        write_bytes_atomic(folder / SESSION_FILE, text.encode(), mode=SHARED_MODE)

    def _write_latest(self, day: date) -> None:
        """Replace ``day``'s LATEST_FILE with the last recorded quote of every symbol."""
        latest = self._seen
        write_atomic(self._partition(day) / LATEST_FILE, latest.write_parquet, mode=SHARED_MODE)

    def _poller(self) -> PollerInfo:
        """Return what session.toml says of this recorder: source, flush interval, now."""
        flushed: datetime = self.clock.now()
        return PollerInfo(
            source=self.source,
            flush_interval_s=self.flush_interval_s,
            last_flush=flushed,
            write_interval_s=max(self.flush_interval_s, self.poll_interval_s or 0.0),
        )


def _with_recorded_daily(daily: pl.DataFrame, path: Path) -> pl.DataFrame:
    """Return ``daily`` with the symbols only ``path`` holds (another recorder's, an earlier run's).

    The file is replaced whole: without this, a second recorder into the folder, or a restart
    that has not loaded every symbol yet, would write less history than was there.
    """
    try:
        recorded = conform(pl.read_parquet(path), DAILY)
    except (OSError, pl.exceptions.PolarsError):
        # Missing (the first write) or unreadable (replay skips it): ours is all there is.
        return daily
    others = recorded.filter(~pl.col("symbol").is_in(daily.get_column("symbol").unique().to_list()))
    if others.height == 0:
        return daily
    return pl.concat([others, daily]).sort("symbol", "date")
