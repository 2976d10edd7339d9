"""The one-row status line: DEMO/PAUSED/REC badges, market state, NY time, source, feeds, age."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from tui.analytics.snapshot import FeedStatus, Snapshot
from tui.clock import Clock
from tui.launch import RECORDER_FEED
from tui.ui.format import fmt_age, market_label, ny_clock
from tui.ui.widgets.quiet import Plain, show

_FEED_STYLES = {"ok": "", "degraded": "$warning", "down": "$error"}


def feed_content(feeds: tuple[FeedStatus, ...]) -> Content:
    """Describe the feeds' health: 'demo ok', 'yahoo degraded: HTTP 429'."""
    if not feeds:
        return Content("no feed")
    parts: list[Content] = []
    for feed in feeds:
        text = f"{feed.name} {feed.state}"
        if feed.state != "ok" and feed.error:
            text = f"{text}: {feed.error}"
            if feed.next_retry is not None and "retry in" not in feed.error:
                text = f"{text}, next try {ny_clock(feed.next_retry)}"
        parts.append(Content.styled(text, _FEED_STYLES.get(feed.state, "")))
    return Content(", ").join(parts)


def is_stale(snapshot: Snapshot) -> bool:
    """Return True when any feed reports its figures as stale."""
    return any(feed.stale for feed in snapshot.feeds)


class StatusLine(Horizontal):
    """Top row; only the clock and the data age change every second (the screen ticks them)."""

    def __init__(self, clock: Clock, *, demo: bool, source_label: str) -> None:
        super().__init__(id="status")
        self._clock = clock
        self._demo = demo
        self._source_label = source_label
        self._data_as_of: datetime | None = None
        self._stale = False
        self._ended: datetime | None = None

    def compose(self) -> ComposeResult:
        """Lay out the badge and the labels."""
        badge = Plain(Content(" DEMO "), id="demo-badge", classes="status-badge")
        badge.display = self._demo
        yield badge
        paused = Plain(Content("PAUSED"), id="paused-badge", classes="status-badge")
        paused.display = False
        yield paused
        recording = Plain(Content(" REC "), id="rec-badge", classes="status-badge")
        recording.display = False
        yield recording
        yield Plain(Content("…"), id="market-state", classes="status-item")
        yield Plain(self._clock_content(), id="ny-clock", classes="status-item")
        yield Plain(Content(self._source_label), id="source", classes="status-item")
        yield Plain(Content("waiting for data"), id="feed-state", classes="status-item")
        yield Plain(self._age_content(), id="data-age", classes="status-item")

    def _clock_content(self) -> Content:
        return Content(f"{ny_clock(self._clock.now())} ET")

    def _age_content(self) -> Content:
        if self._data_as_of is None:
            return Content("data —")
        age = (self._clock.now() - self._data_as_of).total_seconds()
        text = f"data {fmt_age(age)}"
        if self._stale:
            return Content.styled(f"{text} STALE", "bold $warning")
        return Content(text)

    def tick(self) -> None:
        """Redraw the time and the data age (no layout: their width does not change)."""
        show(self.query_one("#ny-clock", Static), self._clock_content(), layout=False)
        show(self.query_one("#data-age", Static), self._age_content(), layout=False)

    def apply(self, snapshot: Snapshot) -> None:
        """Show the market state, feed health and data age of a snapshot."""
        self._data_as_of = snapshot.data_as_of
        self._stale = is_stale(snapshot)
        if self._ended is None:
            state = Content(market_label(snapshot.market))
            show(self.query_one("#market-state", Static), state)
        show(self.query_one("#feed-state", Static), feed_content(snapshot.feeds))
        # The engine reports its recorder among the feeds while it records.
        recording = any(feed.name == RECORDER_FEED for feed in snapshot.feeds)
        self.query_one("#rec-badge", Static).display = recording
        self.tick()

    def set_paused(self, paused: bool) -> None:
        """Show PAUSED while updates are paused."""
        self.query_one("#paused-badge", Static).display = paused

    def replay_ended(self, at: datetime) -> None:
        """Say that the replay stopped (its last figures stay on screen)."""
        self._ended = at
        text = f"REPLAY END {ny_clock(at, seconds=False)}"
        self.query_one("#market-state", Static).update(Content.styled(text, "bold $warning"))

    def engine_failed(self, error: str) -> None:
        """Say that the engine stopped with an error (the last figures stay on screen)."""
        self.query_one("#feed-state", Static).update(
            Content.styled(f"engine stopped: {error}", "bold $error")
        )
