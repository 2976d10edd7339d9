"""The two indices' whole daily history, for the cutting cycles: Yahoo once a day, or the sample.

Live, each index's history is one chart request (range=max, interval=1d) kept on disk until
the next session close (capgap.feeds.disk_cache), so it is asked at most once a day and
never per poll. The demo reads the sample's synthetic long history spliced onto its year.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import cast

import polars as pl

from capgap.core.atomic import SHARED_MODE, write_atomic
from capgap.core.cycles import HistoryUnavailable
from capgap.core.schemas import DAILY
from capgap.feeds.base import FeedError
from capgap.feeds.disk_cache import DiskCache, daily_from_json, daily_to_json, history_expiry
from capgap.feeds.providers.yahoo import YahooChart
from capgap.market.cycles import LARGE_INDEX, SMALL_INDEX

#: The sample's synthetic long history of the two indices (DEMO), beside its daily.parquet.
LONG_HISTORY_FILE = "long_history.parquet"
#: The sample's year of daily bars, the long history's continuation.
SAMPLE_DAILY_FILE = "daily.parquet"
#: The indices' whole history in a recording's folder: the poller writes it once a day, so
#: that its followers' cycles screen asks no provider.
RECORDED_INDEX_HISTORY = "index_history.parquet"
#: The two indices of the study, large first.
LONG_HISTORY_SYMBOLS = (LARGE_INDEX, SMALL_INDEX)

__all__ = ["HistoryUnavailable"]  # raised here, declared polars-free in capgap.core.cycles


def whole_history_entry(symbol: str) -> str:
    """Return the disk cache's entry of one index's whole daily history."""
    return f"whole-daily-{symbol}"


def sample_index_history(folder: Path) -> pl.DataFrame:
    """Return the sample's two indices (DAILY): the long history, then the sample year.

    The long history's last day is the year's first, with the same close: the later file's
    row is kept. Raises HistoryUnavailable when either file is missing or unreadable.
    """
    try:
        long = pl.read_parquet(folder / LONG_HISTORY_FILE)
        year = (
            pl.scan_parquet(folder / SAMPLE_DAILY_FILE)
            .filter(pl.col("symbol").is_in(LONG_HISTORY_SYMBOLS))
            .collect()
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise HistoryUnavailable(f"the sample's index history cannot be read: {exc}") from None
    return (
        pl.concat([long.cast(DAILY), year.cast(DAILY)])
        .unique(["symbol", "date"], keep="last", maintain_order=True)
        .sort("symbol", "date")
    )


async def fetch_index_history(
    chart: YahooChart, cache: DiskCache | None, now: datetime
) -> tuple[pl.DataFrame, str | None]:
    """Return both indices' whole daily history (DAILY), from the disk cache or Yahoo.

    A history on disk that has not expired is used as it is; one fetched is kept there until
    the next session close. When Yahoo fails and an expired history is on disk, that one is
    used and the second value says so (None: the history is current). Raises
    HistoryUnavailable naming the symbol and why when there is neither.
    """
    frames: list[pl.DataFrame] = []
    notes: list[str] = []
    for symbol in LONG_HISTORY_SYMBOLS:
        entry = whole_history_entry(symbol)
        kept = daily_from_json(cache.read(entry, now)) if cache is not None else None
        if kept is not None:
            frames.append(kept)
            continue
        try:
            fetched = await chart.whole_daily(symbol)
            if fetched.height == 0:
                raise FeedError("Yahoo sent no bars")
        except FeedError as exc:
            old = daily_from_json(cache.read_expired(entry)) if cache is not None else None
            if old is None or old.height == 0:
                raise HistoryUnavailable(f"{symbol}'s daily history: {exc}") from None
            through = cast(date, old.get_column("date").max()).isoformat()
            notes.append(f"{symbol}: {exc}; the history kept on disk, through {through}")
            frames.append(old)
            continue
        if cache is not None:
            # A cache that cannot be written costs the next run one request, nothing more.
            cache.write(entry, daily_to_json(fetched), history_expiry(now))
        frames.append(fetched)
    return pl.concat(frames), "; ".join(notes) or None


def recorded_index_history(folder: Path) -> pl.DataFrame:
    """Return the indices' whole history a poller wrote into its recording (DAILY).

    Raises HistoryUnavailable when the recording has none (yet) or it cannot be read.
    """
    path = folder / RECORDED_INDEX_HISTORY
    try:
        return pl.read_parquet(path).cast(DAILY)
    except FileNotFoundError:
        raise HistoryUnavailable(
            f"the recording in {folder} carries no index history yet (its poller writes it "
            "once a day)"
        ) from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise HistoryUnavailable(f"the recording's index history cannot be read: {exc}") from None


def record_index_history(folder: Path, daily: pl.DataFrame) -> bool:
    """Write the indices' whole history into a recording, atomically; False when unchanged."""
    path = folder / RECORDED_INDEX_HISTORY
    frame = daily.cast(DAILY).sort("symbol", "date")
    try:
        if pl.read_parquet(path).cast(DAILY).equals(frame):
            return False
    except (OSError, pl.exceptions.PolarsError):
        pass  # none yet, or damaged: written anew
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(path, frame.write_parquet, mode=SHARED_MODE)
    return True
