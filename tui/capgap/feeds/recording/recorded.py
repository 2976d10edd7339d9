"""Replays a recording written by the Recorder through the Feed interface, without future leaks."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from capgap.core.clock import Clock
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import BARS, DAILY, QUOTES, conform, conform_quotes, empty
from capgap.feeds.base import FeedError, ReferenceData
from capgap.feeds.recording.recorder import DAILY_FILE, META_FILES, partition_name
from capgap.feeds.recording.session_info import SessionInfo, partition_day, read_session_info

BAR_LENGTH = timedelta(minutes=1)
_MINUTE = "__minute"


def _is_quote_file(entry: os.DirEntry[str]) -> bool:
    # Temp files of an unfinished write start with "." and end in .tmp: never picked up.
    name = entry.name
    return (
        name.endswith(".parquet")
        and name not in META_FILES
        and not name.startswith(".")
        and entry.is_file()
    )


def _quote_files(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(entry.path) for entry in entries if _is_quote_file(entry))
    except OSError:
        return []


def _new_quote_files(folder: Path, seen: set[str]) -> list[Path]:
    """Return the quote files of ``folder`` whose names are not in ``seen``, in name order.

    Names are compared before any path is made: a followed day holds thousands of files by
    the close, listed every second, and sorting them all as paths took 15 ms a listing.
    """
    try:
        with os.scandir(folder) as entries:
            names = [
                entry.name for entry in entries if entry.name not in seen and _is_quote_file(entry)
            ]
    except OSError:
        return []
    return [folder / name for name in sorted(names)]


def _has_quotes(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(_is_quote_file(entry) for entry in entries)
    except OSError:
        return False


def recorded_days(folder: Path) -> dict[date, Path]:
    """Return the partitions of a recording that hold quotes, by New York date.

    ``folder`` is the recording's root, or one ``date=YYYY-MM-DD`` partition itself.
    """
    own = partition_day(folder)
    if own is not None:
        candidates = [(own, folder)]
    else:
        try:
            children = sorted(folder.iterdir())
        except OSError as exc:
            raise FeedError(f"cannot read the recording in {folder}: {exc}") from exc
        candidates = [
            (day, child)
            for child in children
            if child.is_dir() and (day := partition_day(child)) is not None
        ]
    return {day: path for day, path in candidates if _has_quotes(path)}


def skipped_files(count: int) -> str:
    """Say how many unreadable files a replay skipped: 'skipped 2 unreadable files'."""
    return f"skipped {count} unreadable file{'' if count == 1 else 's'}"


def read_quote_files(
    paths: Sequence[Path], warnings: list[str], columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """Read recorded quote files into one QUOTES frame; unreadable ones become warnings.

    ``columns``: only these of QUOTES (the others are not read at all).
    """
    if columns is None:
        schema, read = QUOTES, conform_quotes
    else:
        schema = pl.Schema({name: QUOTES[name] for name in columns})

        def read(frame: pl.DataFrame) -> pl.DataFrame:
            return conform(frame, schema)

    if not paths:
        return empty(schema)
    wanted = None if columns is None else list(columns)
    try:
        # One parallel read is much faster than thousands of small ones.
        return read(pl.read_parquet(list(paths), columns=wanted))
    except (OSError, pl.exceptions.PolarsError):
        pass
    frames = []
    for path in paths:
        try:
            frames.append(read(pl.read_parquet(path, columns=wanted)))
        except FileNotFoundError:
            # Pruned (record --keep-days) since the folder was listed: gone, not unreadable.
            continue
        except (OSError, pl.exceptions.PolarsError) as exc:
            warnings.append(f"skipped {path}: not a readable quotes file ({exc})")
    return pl.concat(frames) if frames else empty(schema)


#: Days named in full in a notice or an error; more are counted.
_DAYS_NAMED = 10


def _day_list(days: Sequence[date]) -> str:
    named = ", ".join(day.isoformat() for day in days[:_DAYS_NAMED])
    more = len(days) - _DAYS_NAMED
    return named + (f" and {more} more" if more > 0 else "")


def replay_day(folder: Path, today: date, wanted: date | None = None) -> tuple[date, list[str]]:
    """Choose the day of a recording to replay, and say what was passed over.

    ``wanted`` when it was recorded, else the latest day on or before ``today`` (New York).
    Days after ``today`` come from a wrong clock or a time from the future: they are never
    chosen, and a notice names them. Raises FeedError listing the recorded days when there is
    nothing to replay.
    """
    days = sorted(recorded_days(folder))
    if not days:
        raise FeedError(f"no recorded quotes in {folder}")
    past = [day for day in days if day <= today]
    later = [day for day in days if day > today]
    notices = []
    if later:
        noun = "day" if len(later) == 1 else "days"
        notices.append(
            f"ignoring {len(later)} recorded {noun} after today ({today}): {_day_list(later)}"
        )
    if not past:
        raise FeedError(
            f"nothing recorded on or before {today} in {folder} "
            f"(only days after today: {_day_list(later)})"
        )
    if wanted is None:
        return past[-1], notices
    if wanted not in past:
        raise FeedError(
            f"nothing recorded on {wanted} in {folder} (recorded days: {_day_list(past)})"
        )
    return wanted, notices


def recording_window(
    folder: Path, day: date | None = None, warnings: list[str] | None = None
) -> tuple[datetime, datetime]:
    """Return the first and last recorded instants (UTC) of one day of a recording.

    The day defaults to the latest one recorded; a replay clock can start at the first. Files
    that cannot be read are skipped, one line each in ``warnings``.
    """
    days = recorded_days(folder)
    if not days:
        raise FeedError(f"no recorded quotes in {folder}")
    chosen = day if day is not None else max(days)
    if chosen not in days:
        raise FeedError(f"no recorded quotes for {chosen} in {folder}")
    times = (
        read_quote_files(_quote_files(days[chosen]), [] if warnings is None else warnings)
        .get_column("time")
        .drop_nulls()
    )
    first, last = times.min(), times.max()
    if not isinstance(first, datetime) or not isinstance(last, datetime):
        raise FeedError(f"no readable quotes for {chosen} in {folder}")
    return first, last


def append_in_time_order(known: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Return ``known`` (in time order) and then the timed ``rows``, all in time order.

    Rows at the same instant keep their order, the known first: a symbol's later row wins.
    """
    # No dedup and no sort of the whole day when the new rows follow the known ones (as a
    # recorder writes them): both copied the day's rows and more, and the allocator kept
    # the peak (45 MB at a day's switch). A duplicate row changes neither a symbol's
    # latest quote nor a minute's bar, so none is looked for.
    rows = rows.filter(pl.col("time").is_not_null())
    if not rows.get_column("time").is_sorted():
        rows = rows.sort("time", maintain_order=True)
    times = known.get_column("time")
    # Both are in time order: the new rows follow the known ones unless the first is earlier.
    if times.len() and rows.height and rows.get_column("time")[0] < times[-1]:
        return pl.concat([known, rows]).sort("time", maintain_order=True)
    return pl.concat([known, rows])


def last_per_symbol(rows: pl.DataFrame) -> pl.DataFrame:
    """Return the last of each symbol's quote rows (QUOTES, in time order), symbols as met."""
    return rows.group_by("symbol", maintain_order=True).last().select(QUOTES.names())


def minute_bars(rows: pl.DataFrame, symbols: Sequence[str], now: datetime) -> pl.DataFrame:
    """Return one-minute bars (BARS) of ``symbols``' recorded prices, for minutes done by ``now``.

    ``rows`` are quote rows in time order (at least symbol, time, last and volume). The bar
    volume is the rise of the recorded (cumulative) day volume since the previous bar; the
    first bar counts from its own first observation.
    """
    bars = (
        rows.filter(pl.col("symbol").is_in(list(symbols)))
        .with_columns(pl.col("time").dt.truncate("1m").alias(_MINUTE))
        .filter(pl.col(_MINUTE) + BAR_LENGTH <= now)
        .group_by("symbol", _MINUTE, maintain_order=True)
        .agg(
            pl.col("last").first().alias("open"),
            pl.col("last").max().alias("high"),
            pl.col("last").min().alias("low"),
            pl.col("last").last().alias("close"),
            pl.col("volume").first().alias("first_volume"),
            pl.col("volume").last().alias("last_volume"),
        )
        .sort("symbol", _MINUTE)
    )
    previous = pl.col("last_volume").shift(1).over("symbol")
    volume = pl.coalesce(previous, pl.col("first_volume"))
    return conform(
        bars.with_columns(
            pl.col(_MINUTE).alias("time"),
            (pl.col("last_volume") - volume).clip(lower_bound=0.0).fill_null(0.0).alias("volume"),
        ),
        BARS,
    )


@dataclass
class RecordedPartition:
    """One loaded day of a recording, grown as new quote files appear."""

    day: date
    folder: Path
    info: SessionInfo
    daily: pl.DataFrame
    rows: pl.DataFrame = field(default_factory=lambda: empty(QUOTES))
    seen: set[str] = field(default_factory=set)
    version: int = 0
    # (version, rows known at the cut, last row per symbol then): quotes move forward cheaply.
    latest: tuple[int, int, pl.DataFrame] | None = None


class RecordedFeed:
    """Plays a recording on a clock, serving only rows recorded at or before its instant.

    The day replayed is the partition of the clock's New York date, or the latest before it.
    """

    def __init__(self, folder: Path, clock: Clock, *, name: str = "replay") -> None:
        self._folder = Path(folder)
        self._clock = clock
        self._name = name
        self.warnings: list[str] = []
        #: Files of the recording that could not be read and were left out.
        self.skipped = 0
        self._check_recording()
        self._part: RecordedPartition | None = None
        # The clock date the partition was chosen for: the folder is listed once per date.
        self._chosen_for: date | None = None

    def _check_recording(self) -> None:
        """Refuse a folder without recorded quotes (FeedError): a replay has nothing to play."""
        if not recorded_days(self._folder):
            raise FeedError(f"no recorded quotes in {self._folder}")

    @property
    def name(self) -> str:
        """The feed's short name."""
        return self._name

    @property
    def demo(self) -> bool:
        """False for a recording of live data (true only if it was recorded as synthetic)."""
        try:
            return self._partition(self._clock.now()).info.synthetic
        except FeedError:
            return False

    @property
    def notice(self) -> str | None:
        """What the replay lacks though it plays (unreadable files skipped), None when whole."""
        return f"{skipped_files(self.skipped)} of the recording" if self.skipped else None

    @property
    def session_date(self) -> date:
        """The New York date of the partition being replayed."""
        return self._partition(self._clock.now()).day

    def _partition(self, now: datetime) -> RecordedPartition:
        today = now.astimezone(NEW_YORK).date()
        part = self._part
        if part is None or (part.day != today and self._needs_rescan(today)):
            self._chosen_for = today
            days = recorded_days(self._folder)
            earlier = [day for day in days if day <= today]
            if not earlier:
                raise FeedError(f"nothing recorded on or before {today} in {self._folder}")
            chosen = max(earlier)
            if part is None or part.day != chosen:
                part = self._open(chosen, days[chosen])
                self._part = part
        self._load_new_files(part)
        return part

    def _needs_rescan(self, today: date) -> bool:
        if self._chosen_for != today:
            return True
        # Same date: only a partition for it that a live recorder has just created matters.
        own = partition_day(self._folder) is not None
        return not own and _has_quotes(self._folder / partition_name(today))

    def _open(self, day: date, folder: Path) -> RecordedPartition:
        try:
            info = read_session_info(folder)
        except FeedError as exc:
            self.warnings.append(f"{exc}; replaying without reference figures")
            info = SessionInfo(session_date=day, synthetic=False, reference=ReferenceData())
        daily = empty(DAILY)
        daily_path = folder / DAILY_FILE
        if daily_path.exists():
            try:
                daily = conform(pl.read_parquet(daily_path), DAILY)
            except (OSError, pl.exceptions.PolarsError) as exc:
                self.warnings.append(f"skipped {daily_path}: not a readable daily file ({exc})")
                self.skipped += 1
        daily = daily.filter(pl.col("date") < day).sort("symbol", "date")
        return RecordedPartition(day=day, folder=folder, info=info, daily=daily)

    def _load_new_files(self, part: RecordedPartition) -> None:
        # The recorder may still be writing this day: pick up files that appeared since.
        new = self._take_new_files(part)
        if not new:
            return
        rows = self._read_files(new)
        if rows.height == 0:
            return
        part.rows = append_in_time_order(part.rows, rows)
        part.version += 1

    def _take_new_files(self, part: RecordedPartition) -> list[Path]:
        """Return the quote files of ``part`` not read yet, in name order; now counted as read."""
        new = _new_quote_files(part.folder, part.seen)
        part.seen.update(path.name for path in new)
        return new

    def _read_files(self, paths: Sequence[Path]) -> pl.DataFrame:
        """Read quote files (QUOTES); unreadable ones are counted in skipped and warned of."""
        before = len(self.warnings)
        rows = read_quote_files(paths, self.warnings)
        self.skipped += len(self.warnings) - before
        return rows

    def _cut(self, part: RecordedPartition, now: datetime) -> int:
        """Return how many rows (in time order) were recorded at or before ``now``."""
        return int(part.rows.get_column("time").search_sorted(now, side="right"))

    def _latest(self, part: RecordedPartition, now: datetime) -> pl.DataFrame:
        cut = self._cut(part, now)
        cached = part.latest
        if cached is not None and cached[0] == part.version and cached[1] <= cut:
            known, start = cached[2], cached[1]
        else:
            known, start = empty(QUOTES), 0
        if cached is not None and cached[0] == part.version and cached[1] == cut:
            return known
        latest = last_per_symbol(pl.concat([known, part.rows.slice(start, cut - start)]))
        part.latest = (part.version, cut, latest)
        return latest

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return each symbol's last recorded quote at or before the clock's instant."""
        now = self._clock.now()
        latest = self._latest(self._partition(now), now)
        return latest.filter(pl.col("symbol").is_in(list(symbols))).sort("symbol")

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return one-minute bars of the recorded prices, for minutes completed by now."""
        now = self._clock.now()
        part = self._partition(now)
        return minute_bars(part.rows.slice(0, self._cut(part, now)), symbols, now)

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return the recorded daily bars before the replayed day."""
        part = self._partition(self._clock.now())
        return part.daily.filter(pl.col("symbol").is_in(list(symbols)))

    async def reference(self) -> ReferenceData:
        """Return the reference figures recorded with the replayed day."""
        return self._partition(self._clock.now()).info.reference

    def window(self) -> tuple[datetime, datetime]:
        """Return the first and last instants recorded on the replayed day."""
        part = self._partition(self._clock.now())
        times = part.rows.get_column("time")
        first, last = times.min(), times.max()
        if not isinstance(first, datetime) or not isinstance(last, datetime):
            raise FeedError(f"no readable quotes in {part.folder}")
        return first, last

    async def aclose(self) -> None:
        """Nothing to release: the frames are in memory."""
