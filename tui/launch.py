"""Start-up without the heavy imports: the demo's clock, and an engine built off the event loop.

Nothing here imports polars: the first paint must not wait for the analytics stack to load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tui.clock import Clock, ReplayClock
from tui.feeds.session_info import read_session_info, session_local_time
from tui.resources import sample_data_dir

if TYPE_CHECKING:
    from tui.analytics.snapshot import Snapshot
    from tui.engine import Engine


class MonitorEngine(Protocol):
    """What the app needs of an engine: the clock, labels, and the refresh loop."""

    clock: Clock
    demo: bool
    source_label: str

    @property
    def latest(self) -> Snapshot | None:
        """The last snapshot built, if any."""
        ...

    async def refresh(self) -> Snapshot:
        """Poll once and build a snapshot."""
        ...

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        """Refresh, publish and sleep until cancelled or the clock has finished."""
        ...

    async def aclose(self) -> None:
        """Release the feed."""
        ...


DEMO_OPEN = (9, 30)
DEMO_CLOSE = (16, 0)


def demo_window(folder: Path | None = None) -> tuple[datetime, datetime]:
    """Return the open and close of the bundled sample session (tz-aware, New York)."""
    day = read_session_info(folder or sample_data_dir()).session_date
    return session_local_time(day, *DEMO_OPEN), session_local_time(day, *DEMO_CLOSE)


def demo_clock(at: datetime | None = None, speed: float = 30.0) -> ReplayClock:
    """Return a replay clock from ``at`` (default the open) that stops at the close.

    When ``at`` is after the close the clock starts and stays there.
    """
    open_at, close_at = demo_window()
    start = at or open_at
    return ReplayClock(start, speed=speed, end=max(close_at, start))


LIVE_LABELS = {"yahoo": "yahoo", "finnhub": "finnhub (indices via SPY/IWM proxies)"}


def live_label(source: str) -> str:
    """Return the status line's name of a live source (Finnhub's indices are proxies)."""
    return LIVE_LABELS.get(source, source)


def replay_label(clock: Clock) -> str:
    """Return the source label the status line shows for a demo on ``clock``."""
    return f"DEMO replay {clock.speed:g}x" if isinstance(clock, ReplayClock) else "DEMO"


class DeferredEngine:
    """Stands in for an Engine until the real one is built, in a thread, by its first use.

    The app paints its frame at once; the analytics stack (polars, the sample session) loads
    while the first frame is already on screen.
    """

    def __init__(
        self, factory: Callable[[], Engine], *, clock: Clock, demo: bool, source_label: str
    ) -> None:
        self._factory = factory
        self._engine: Engine | None = None
        self.clock = clock
        self.demo = demo
        self.source_label = source_label

    @property
    def latest(self) -> Snapshot | None:
        """The last snapshot built, if any."""
        return self._engine.latest if self._engine is not None else None

    async def engine(self) -> Engine:
        """Return the real engine, building it off the event loop the first time."""
        if self._engine is None:
            self._engine = await asyncio.to_thread(self._factory)
        return self._engine

    async def refresh(self) -> Snapshot:
        """Poll once and build a snapshot."""
        return await (await self.engine()).refresh()

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        """Run the real engine's loop."""
        await (await self.engine()).run(publish)

    async def aclose(self) -> None:
        """Close the real engine if it was built."""
        if self._engine is not None:
            await self._engine.aclose()
