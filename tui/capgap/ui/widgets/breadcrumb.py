"""The top row of a drilldown screen: DEMO badge, where you are, the feeds and the data's time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Unpack

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from capgap.core.snapshot import FeedStatus
from capgap.ui.format import ny_clock
from capgap.ui.glyphs import glyphs
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.quiet import Plain, show
from capgap.ui.widgets.status_line import ITEM_PADDING, feed_brief, item_cells


def trail_content(crumbs: Sequence[str], *, skipped: int = 0) -> Content:
    """Return 'Dashboard › Industrials › CAT' with the last step in bold.

    ``skipped`` first steps are left out for an ellipsis: '… › Industrials › CAT'.
    """
    if not crumbs:
        return Content("")
    separator = Content(f" {glyphs().crumb} ")
    *before, last = crumbs
    shown = [Content(crumb) for crumb in before[skipped:]]
    if skipped:
        shown.insert(0, Content("…"))
    return separator.join([*shown, Content.styled(last, "bold")])


def fit_trail(crumbs: Sequence[str], width: int) -> Content:
    """Return the trail, its first steps cut to '…' until it fits ``width`` (the last stays)."""
    for skipped in range(len(crumbs)):
        trail = trail_content(crumbs, skipped=skipped)
        if trail.cell_length <= width:
            return trail
    return trail_content(crumbs, skipped=max(len(crumbs) - 1, 0))


class Breadcrumb(Horizontal):
    """The path through the screens; the snapshot time changes with each snapshot only."""

    DEFAULT_CSS = """
    Breadcrumb { height: 1; background: $panel; }
    Breadcrumb Static { width: auto; height: 1; padding: 0 1; }
    Breadcrumb #crumb-trail { width: 1fr; }
    Breadcrumb #crumb-badge { color: $gap-warn; text-style: bold reverse; }
    Breadcrumb #crumb-paused { color: $gap-warn; text-style: bold; }
    """

    def __init__(
        self,
        *,
        demo: bool,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self._demo = demo
        self._feeds_fine = True
        self._crumbs: tuple[str, ...] = ()

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
        self._crumbs = tuple(crumbs)
        show(self.query_one("#crumb-trail", Static), trail_content(crumbs))
        self._fit()

    def show_feeds(self, feeds: Sequence[FeedStatus], now: datetime) -> None:
        """Show the worst feed's state and next try (the dashboard's status line in brief)."""
        self._feeds_fine = all(feed.state == "ok" for feed in feeds)
        show(self.query_one("#crumb-feeds", Static), feed_brief(feeds, now))
        self._fit()

    def on_resize(self) -> None:
        """Decide again whether the feeds' 'ok' has room."""
        self._fit()

    def _fit(self) -> None:
        """Show a failing feed always, and 'ok' only where the whole trail keeps its room.

        A trail with no room loses its first steps to '…', never the screen you are on.
        """
        feeds = self.query_one("#crumb-feeds", Static)
        trail = self.query_one("#crumb-trail", Static)
        full = trail_content(self._crumbs)
        if not self.size.width:
            # Not laid out yet: on_resize fits it.
            feeds.display = True
            return
        others = sum(
            item_cells(child)
            for child in self.children
            if child.display and child is not trail and child is not feeds
        )
        room = self.size.width - others - ITEM_PADDING
        feeds.display = not self._feeds_fine or room - item_cells(feeds) >= full.cell_length
        if feeds.display:
            room -= item_cells(feeds)
        show(trail, fit_trail(self._crumbs, room) if self.size.width else full, layout=False)

    def show_time(self, as_of: datetime | None, *, paused: bool) -> None:
        """Show when the figures are from, and whether updates are paused."""
        text = f"as of {ny_clock(as_of)} ET" if as_of is not None else "waiting for data"
        show(self.query_one("#crumb-time", Static), Content(text), layout=False)
        paused_mark = self.query_one("#crumb-paused", Static)
        if paused_mark.display != paused:
            paused_mark.display = paused
            self._fit()
