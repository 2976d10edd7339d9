"""Start-up without the heavy imports: the demo's clock, and an engine built off the event loop.

Nothing here imports polars: the first paint must not wait for the analytics stack to load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from capgap.core.clock import Clock, ReplayClock, hold_still, run_on
from capgap.core.resources import sample_data_dir
from capgap.feeds.base import FeedError

if TYPE_CHECKING:
    from capgap.core.snapshot import Snapshot

    # Loaded by the demo and the follower that read it: a live engine (the tmux line) does not.
    from capgap.feeds.recording.session_info import SessionInfo
    from capgap.market.universe import Universe


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

    async def rebuild(self) -> Snapshot:
        """Build a snapshot from what is stored, without polling."""
        ...

    async def aclose(self) -> None:
        """Release the feed."""
        ...

    @property
    def paused(self) -> bool:
        """True while polling is paused."""
        ...

    @property
    def universe(self) -> Universe | None:
        """The monitored universe (None until a deferred engine is built)."""
        ...

    def focus(self, sector: str | None = None, symbol: str | None = None) -> None:
        """Add the details of a sector (or watchlist) and a symbol to every snapshot."""
        ...

    def wake(self) -> None:
        """Poll now instead of at the end of the current sleep."""
        ...

    def refresh_now(self) -> float | None:
        """Poll now (`r`), or return the seconds until the next try when none is allowed."""
        ...

    def pause(self) -> None:
        """Stop polling (a replay stands still) until resume()."""
        ...

    def resume(self) -> None:
        """Poll again, at once."""
        ...


#: Set to show a crash's traceback (never its local variables) instead of its one line.
DEBUG_ENV = "CAPGAP_DEBUG"

DEMO_OPEN = (9, 30)
DEMO_CLOSE = (16, 0)


def demo_window(folder: Path | None = None) -> tuple[datetime, datetime]:
    """Return the open and close of the bundled sample session (tz-aware, New York)."""
    from capgap.feeds.recording.session_info import read_session_info, session_local_time

    day = read_session_info(folder or sample_data_dir()).session_date
    return session_local_time(day, *DEMO_OPEN), session_local_time(day, *DEMO_CLOSE)


def demo_clock(
    at: datetime | None = None, speed: float = 30.0, *, wall: Clock | None = None
) -> ReplayClock:
    """Return a replay clock from ``at`` (default the open) that stops at the close.

    When ``at`` is after the close the clock starts and stays there. ``wall`` paces it
    (default the OS's monotonic clock; a ManualClock holds it at ``at``).
    """
    open_at, close_at = demo_window()
    start = at or open_at
    return ReplayClock(start, speed=speed, end=max(close_at, start), monotonic=wall)


LIVE_LABELS = {"yahoo": "yahoo", "finnhub": "finnhub (indices via SPY/IWM proxies)"}


def live_label(source: str) -> str:
    """Return the status line's name of a live source (Finnhub's indices are proxies)."""
    return LIVE_LABELS.get(source, source)


def followed_session(folder: Path) -> SessionInfo | None:
    """Return what the newest partition of a recording says of itself (None: nothing yet).

    Read without polars, before the first paint: the follower's label and DEMO badge.
    """
    from capgap.feeds.recording.session_info import PARTITION_PREFIX, read_session_info

    try:
        partitions = sorted(
            child for child in folder.iterdir() if child.name.startswith(PARTITION_PREFIX)
        )
    except OSError:
        return None
    for partition in reversed(partitions):
        try:
            return read_session_info(partition)
        except (FeedError, ValueError, TypeError, IndexError):
            continue
    return None


def follow_label(folder: Path) -> str:
    """Return the status line's name of a followed recording: 'follow: yahoo via /srv/capgap'.

    The source is the one the newest partition's session.toml names; before the poller has
    written one the label names only the folder.
    """
    info = followed_session(folder)
    source = info.poller.source if info is not None else None
    return f"follow: {source} via {folder}" if source else f"follow: {folder}"


def replay_label(clock: Clock, *, demo: bool) -> str:
    """Return the source label of a replay on ``clock``: the demo's, or a recording's.

    The status line (built before the engine) and the engine's snapshot both take it from
    here, so they name the source alike ("DEMO replay 30x", "replay 30x").
    """
    if not isinstance(clock, ReplayClock):
        return "DEMO" if demo else "replay"
    return f"{'DEMO replay' if demo else 'replay'} {clock.speed:g}x"


#: The engine a DeferredEngine builds (the real one in capgap, a stand-in in tests).
BuiltEngine = TypeVar("BuiltEngine", bound=MonitorEngine)


class FirstFigures(Protocol):
    """Figures computed elsewhere while the engine is not yet built (see cli/preview)."""

    async def first(self) -> Snapshot | None:
        """Return the figures once they are there; None when there will be none."""
        ...

    def cancel(self) -> None:
        """Stop computing them: they are no longer wanted."""
        ...


#: Seconds the engine's build waits for the first figures from elsewhere: they come 0.5-0.7 s
#: after the start on a 2-core machine. A slower second process (bytecode not yet compiled, a
#: loaded machine) still counts until the engine is built beside it.
FIRST_FIGURES_WAIT_S = 1.0


class DeferredEngine(Generic[BuiltEngine]):
    """Stands in for an Engine until the real one is built, in a thread, by its first use.

    The app paints its frame at once; the analytics stack (polars, the sample session) loads
    while the first frame is already on screen. Focus and pause asked for before the engine
    exists are applied to it once it is built. With ``first_figures`` (the demo's, computed in
    a second process: see cli/preview) the loop shows those first and only then builds the
    engine: until they are drawn the screen has the GIL to itself.
    """

    def __init__(
        self,
        factory: Callable[[], BuiltEngine],
        *,
        clock: Clock,
        demo: bool,
        source_label: str,
        first_figures: FirstFigures | None = None,
    ) -> None:
        self._factory = factory
        self._first_figures = first_figures
        self._engine: BuiltEngine | None = None
        self.clock = clock
        self.demo = demo
        self.source_label = source_label
        self._focus: tuple[str | None, str | None] = (None, None)
        self._paused = False

    @property
    def latest(self) -> Snapshot | None:
        """The last snapshot built, if any."""
        return self._engine.latest if self._engine is not None else None

    @property
    def paused(self) -> bool:
        """True while polling is paused."""
        return self._engine.paused if self._engine is not None else self._paused

    @property
    def universe(self) -> Universe | None:
        """The real engine's universe, None until it is built."""
        return self._engine.universe if self._engine is not None else None

    @property
    def built(self) -> BuiltEngine | None:
        """The real engine, None if it was never built (capgap ended before its first poll)."""
        return self._engine

    async def engine(self) -> BuiltEngine:
        """Return the real engine, building it off the event loop the first time."""
        if self._engine is None:
            engine = await asyncio.to_thread(self._factory)
            if self._engine is None:  # another caller may have built one meanwhile
                if self._focus != (None, None):
                    engine.focus(*self._focus)
                if self._paused:
                    engine.pause()
                self._engine = engine
        return self._engine

    def focus(self, sector: str | None = None, symbol: str | None = None) -> None:
        """Set the drilldown focus (remembered until the engine exists)."""
        self._focus = (sector, symbol)
        if self._engine is not None:
            self._engine.focus(sector, symbol)

    def wake(self) -> None:
        """Poll now (nothing to do before the engine exists: its first poll is immediate)."""
        if self._engine is not None:
            self._engine.wake()

    def refresh_now(self) -> float | None:
        """Poll now (the first poll is immediate anyway before the engine exists)."""
        return self._engine.refresh_now() if self._engine is not None else None

    def pause(self) -> None:
        """Pause polling (remembered until the engine exists); a replay stands still at once."""
        self._paused = True
        if self._engine is not None:
            self._engine.pause()
        else:
            # From the key on, not from when the engine is built: the demo's first figures
            # are on screen before it is, and a paused screen must not move on from them.
            hold_still(self.clock)

    def resume(self) -> None:
        """Resume polling (and a replay's time)."""
        self._paused = False
        if self._engine is not None:
            self._engine.resume()
        else:
            run_on(self.clock)

    async def refresh(self) -> Snapshot:
        """Poll once and build a snapshot."""
        return await (await self.engine()).refresh()

    async def rebuild(self) -> Snapshot:
        """Build a snapshot from the real engine's store, without polling."""
        return await (await self.engine()).rebuild()

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        """Publish the first figures from elsewhere, if any, then run the real engine's loop.

        The engine is built once they are shown, or after FIRST_FIGURES_WAIT_S without them;
        they are still shown if they come while it is built, and given up once it is.
        """
        showing = self._show_first_figures(publish)
        try:
            if showing is not None:
                await asyncio.wait({showing}, timeout=FIRST_FIGURES_WAIT_S)
            engine = await self.engine()
        finally:
            if showing is not None:
                showing.cancel()
        await engine.run(publish)

    def _show_first_figures(self, publish: Callable[[Snapshot], None]) -> asyncio.Task[None] | None:
        figures = self._first_figures
        if figures is None:
            return None

        async def show() -> None:
            try:
                snapshot = await figures.first()
            finally:
                figures.cancel()
                self._first_figures = None
            # Never over the engine's own figures (it is built beside them after the wait).
            if snapshot is not None and (self._engine is None or self._engine.latest is None):
                publish(snapshot)

        return asyncio.create_task(show())

    async def aclose(self) -> None:
        """Stop the first figures if still coming; close the real engine if it was built."""
        if self._first_figures is not None:
            self._first_figures.cancel()
        if self._engine is not None:
            await self._engine.aclose()
