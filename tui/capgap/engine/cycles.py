"""The cutting cycles for a command or a screen: the indices' history, read once, then the study.

Not part of the tick: the history is read when the cycles are asked for (`capgap cycles`, the
cycles screen), never on the start-up path or per poll. Live, Yahoo's whole daily history is
kept on disk until the next close; the demo reads the sample's synthetic long history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from capgap.core.clock import Clock
from capgap.core.cycles import CyclesReport
from capgap.core.market_types import NEW_YORK
from capgap.core.records import replace
from capgap.settings.model import FeedsSettings

if TYPE_CHECKING:
    import polars as pl


async def load_cycles(
    *,
    demo: bool,
    clock: Clock,
    feeds: FeedsSettings | None = None,
    sample: Path | None = None,
    cache_dir: Path | None = None,
    recording: Path | None = None,
) -> CyclesReport:
    """Return the cutting cycles' study as of ``clock``'s day, from the demo's or Yahoo's history.

    ``feeds`` gives Yahoo's address and transport (default: the defaults); ``sample`` is the
    sample's folder (default: the bundled one); ``cache_dir`` the disk cache's folder of the
    live history (default: capgap's); ``recording`` a followed recording's folder, whose
    poller wrote the history (no provider is asked then). Raises HistoryUnavailable
    (capgap.core.cycles) with a one-line reason when there is no history to be had.
    """
    # Imported here: polars and httpx stay off the monitor's start-up path.
    from capgap.core.resources import sample_data_dir
    from capgap.feeds.index_history import recorded_index_history, sample_index_history

    now = clock.now()
    stale: str | None = None
    if recording is not None:
        daily = await asyncio.to_thread(recorded_index_history, recording)
    elif demo:
        daily = await asyncio.to_thread(sample_index_history, sample or sample_data_dir())
    else:
        daily, stale = await _live_history(feeds or FeedsSettings(), clock, now, cache_dir)
    # The figures as of the clock's day: a replay of a past day does not see its future.
    today = now.astimezone(NEW_YORK).date()
    # Decades of closes: measured in a thread, the screen's event loop stays free.
    report = await asyncio.to_thread(_study, daily, today, demo)
    return replace(report, stale=stale)


def _study(daily: pl.DataFrame, today: date, demo: bool) -> CyclesReport:
    """Return the study over the indices' closes up to ``today``."""
    import polars as pl

    from capgap.analytics.cycles import cycle_study, index_closes

    closes = index_closes(daily.filter(pl.col("date") <= today))
    return cycle_study(closes, demo=demo)


async def _live_history(
    feeds: FeedsSettings, clock: Clock, now: datetime, cache_dir: Path | None
) -> tuple[pl.DataFrame, str | None]:
    """Return both indices' whole daily history (see fetch_index_history) and why it is old."""
    from capgap.feeds.disk_cache import DiskCache, cache_folder
    from capgap.feeds.http import make_client
    from capgap.feeds.index_history import fetch_index_history
    from capgap.feeds.providers import yahoo as yahoo_module
    from capgap.feeds.providers.yahoo import YahooChart

    cache = DiskCache(cache_dir or cache_folder())
    async with make_client(yahoo_module.CLIENT_SETTINGS, kind=feeds.yahoo.transport) as client:
        chart = YahooChart(client, feeds.yahoo.base_url, clock=clock)
        return await fetch_index_history(chart, cache, now)


#: How often a poller looks whether the indices' history is due again (it is kept on disk
#: until the next close, so most looks cost no request).
RECORD_HISTORY_EVERY_S = 3600.0
#: The first look waits this long: the poller's first polls spend the request burst.
RECORD_HISTORY_AFTER_S = 60.0


async def record_index_history_daily(
    out: Path,
    feeds: FeedsSettings,
    clock: Clock,
    say: Callable[[str], None],
    cache_dir: Path | None = None,
    first_after_s: float = RECORD_HISTORY_AFTER_S,
) -> None:
    """Keep the indices' whole history in a recording for its followers, until cancelled.

    Two Yahoo requests a day (the history is on disk until the next close), the first a
    minute after the start; a failure is said once and tried again the next hour, the
    recording goes on.
    """
    await asyncio.sleep(first_after_s)
    from capgap.core.cycles import HistoryUnavailable
    from capgap.feeds.index_history import record_index_history

    failed: str | None = None
    while True:
        try:
            daily, _stale = await _live_history(feeds, clock, clock.now(), cache_dir)
            await asyncio.to_thread(record_index_history, out, daily)
            failed = None
        except (HistoryUnavailable, OSError) as exc:
            if str(exc) != failed:
                say(f"cycles: the index history for the followers: {exc}")
            failed = str(exc)
        await asyncio.sleep(RECORD_HISTORY_EVERY_S)
