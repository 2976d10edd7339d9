"""The top row of a drilldown screen: DEMO badge, where you are, the feeds and the data's time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from tui.analytics.snapshot import FeedStatus
from tui.ui.format import ny_clock
from tui.ui.glyphs import glyphs
from tui.ui.widgets.quiet import Plain, show
from tui.ui.widgets.status_line import feed_brief


def trail_content(crumbs: Sequence[str]) -> Content:
    """Return 'Dashboard › Industrials › CAT' with the last step in bold."""
    if not crumbs:
        return Content("")
    separator = Content(f" {glyphs().crumb} ")
    *before, last = crumbs
    return separator.join([*(Content(crumb) for crumb in before), Content.styled(last, "bold")])


class Breadcrumb(Horizontal):
    """The path through the screens; the snapshot time changes with each snapshot only."""

    DEFAULT_CSS = """
    Breadcrumb { height: 1; background: $panel; }
    Breadcrumb Static { width: auto; height: 1; padding: 0 1; }
    Breadcrumb #crumb-trail { width: 1fr; }
    Breadcrumb #crumb-badge { color: $warning; text-style: bold reverse; }
    Breadcrumb #crumb-paused { color: $warning; text-style: bold; }
    """

    def __init__(self, *, demo: bool) -> None:
        super().__init__(id="breadcrumb")
        self._demo = demo

    def compose(self) -> ComposeResult:
        """Lay out the badge, the trail, the paused mark and the time of the figures."""
        badge = Plain(Content(" DEMO "), id="crumb-badge")
        badge.display = self._demo
        yield badge
        yield Plain(Content(""), id="crumb-trail")
        paused = Plain(Content("PAUSED"), id="crumb-paused")
        paused.display = False
        yield paused
        yield Plain(Content(""), id="crumb-feeds")
        yield Plain(Content("waiting for data"), id="crumb-time")

    def show_trail(self, crumbs: Sequence[str]) -> None:
        """Show the path through the screens."""
        show(self.query_one("#crumb-trail", Static), trail_content(crumbs))

    def show_feeds(self, feeds: Sequence[FeedStatus], now: datetime) -> None:
        """Show the worst feed's state and next try (the dashboard's status line in brief)."""
        show(self.query_one("#crumb-feeds", Static), feed_brief(feeds, now))

    def show_time(self, as_of: datetime | None, *, paused: bool) -> None:
        """Show when the figures are from, and whether updates are paused."""
        text = f"as of {ny_clock(as_of)} ET" if as_of is not None else "waiting for data"
        show(self.query_one("#crumb-time", Static), Content(text), layout=False)
        self.query_one("#crumb-paused", Static).display = paused
