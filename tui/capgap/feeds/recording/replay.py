"""Replay of a recorded session (the bundled sample, or a recording) through the Feed interface."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from capgap.core.clock import Clock
from capgap.core.schemas import BARS, DAILY, conform, conform_quotes
from capgap.feeds.base import FeedError, ReferenceData
from capgap.feeds.recording.session_info import read_session_info

BAR_LENGTH = timedelta(minutes=1)


class ReplayFeed:
    """Plays a recorded session on a clock: at each instant it serves only what was known then.

    The quote of a symbol at instant t is the close of its last bar completed by t (the open
    of the first bar before one completes, the previous close before the session starts), so
    nothing from the future leaks into the screen.
    """

    def __init__(self, folder: Path, clock: Clock, *, name: str = "demo") -> None:
        self._folder = folder
        self._clock = clock
        self._name = name
        self.info = read_session_info(folder)
        try:
            self._bars = conform(pl.read_parquet(folder / "intraday.parquet"), BARS).sort(
                "symbol", "time"
            )
            daily = conform(pl.read_parquet(folder / "daily.parquet"), DAILY)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise FeedError(f"cannot read the recorded session in {folder}: {exc}") from exc
        self._daily = daily.filter(pl.col("date") < self.info.session_date).sort("symbol", "date")
        self._prev = (
            self._daily.group_by("symbol")
            .agg(pl.col("close").last().alias("prev_close"), pl.col("date").last())
            .sort("symbol")
        )
        self._first_bar = self._bars.group_by("symbol").agg(
            pl.col("time").first(), pl.col("open").first()
        )
        # Quotes only change when another bar completes: cache per completed-minute count.
        self._quotes_cache: tuple[datetime, pl.DataFrame] | None = None
        self._selections: list[tuple[pl.DataFrame, tuple[str, ...], pl.DataFrame]] = []
        self._bar_sets: list[tuple[tuple[str, ...], pl.DataFrame]] = []

    @property
    def name(self) -> str:
        """The feed's short name."""
        return self._name

    @property
    def demo(self) -> bool:
        """True when the recorded session is synthetic."""
        return self.info.synthetic

    @property
    def session_date(self) -> date:
        """The date of the replayed session."""
        return self.info.session_date

    def session_bounds(self) -> tuple[datetime, datetime]:
        """Return the start of the first bar and the end of the last bar (UTC)."""
        first = self._bars.get_column("time").min()
        last = self._bars.get_column("time").max()
        if not isinstance(first, datetime) or not isinstance(last, datetime):
            raise FeedError(f"the recorded session in {self._folder} has no bars")
        return first, last + BAR_LENGTH

    def _bars_of(self, symbols: tuple[str, ...]) -> pl.DataFrame:
        """Return the session's bars of ``symbols`` (the last few sets asked are kept)."""
        for asked, bars in self._bar_sets:
            if asked == symbols:
                return bars
        bars = self._bars.filter(pl.col("symbol").is_in(list(symbols)))
        self._bar_sets = [(symbols, bars), *self._bar_sets[:3]]
        return bars

    def _quotes_at(self, now: datetime) -> pl.DataFrame:
        minute = now.replace(second=0, microsecond=0)
        if self._quotes_cache is not None and self._quotes_cache[0] == minute:
            return self._quotes_cache[1]
        # The last bar each symbol completed by this minute, found within each symbol's
        # bars: filtering the whole session first would copy every completed bar (megabytes
        # by the afternoon) once a minute, and the allocator keeps what it once held.
        done = pl.col("time") + BAR_LENGTH <= minute
        completed = (
            self._bars.group_by("symbol")
            .agg(
                pl.col("close").filter(done).last().alias("last"),
                (pl.col("time").filter(done).last() + BAR_LENGTH).alias("time"),
                pl.col("volume").filter(done).sum(),
            )
            .filter(pl.col("time").is_not_null())
        )
        opening = self._first_bar.filter(pl.col("time") <= now).select(
            "symbol", pl.col("open").alias("open_last"), pl.col("time").alias("open_time")
        )
        prev_time = pl.col("date").cast(pl.Datetime("us")).dt.replace_time_zone(
            "America/New_York"
        ) + pl.duration(hours=16)
        quotes = (
            self._prev.join(completed, on="symbol", how="left")
            .join(opening, on="symbol", how="left")
            .select(
                "symbol",
                pl.coalesce("time", "open_time", prev_time.dt.convert_time_zone("UTC")).alias(
                    "time"
                ),
                pl.coalesce("last", "open_last", "prev_close").alias("last"),
                "prev_close",
                pl.col("volume").fill_null(0.0),
            )
        )
        result = conform_quotes(quotes)
        self._quotes_cache = (minute, result)
        return result

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return each symbol's quote as it stood at the clock's instant."""
        return self._select(self._quotes_at(self._clock.now()), symbols)

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return the bars of ``symbols`` completed by the clock's instant."""
        minute = self._clock.now().replace(second=0, microsecond=0)
        bars = self._bars_of(tuple(symbols))
        return bars.filter(pl.col("time") + BAR_LENGTH <= minute)

    def _select(self, frame: pl.DataFrame, symbols: Sequence[str]) -> pl.DataFrame:
        # The engine asks for the same symbols every poll and the frames change once a
        # minute: filter again only when either changes (the last few answers are kept).
        wanted = tuple(symbols)
        for source, asked, selected in self._selections:
            if source is frame and asked == wanted:
                return selected
        selected = frame.filter(pl.col("symbol").is_in(list(wanted)))
        self._selections = [(frame, wanted, selected), *self._selections[:3]]
        return selected

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return the daily bars before the replayed session."""
        return self._daily.filter(pl.col("symbol").is_in(list(symbols)))

    async def reference(self) -> ReferenceData:
        """Return the session's reference figures (target range, valuation)."""
        return self.info.reference

    async def aclose(self) -> None:
        """Nothing to release: the frames are in memory."""
