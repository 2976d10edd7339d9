"""The feeds screen: every feed's state, age, next try and error, and each symbol it let down."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content

from capgap.core.snapshot import RECORDER_FEED, SESSION_PROBLEM, FeedStatus, Snapshot
from capgap.ui.format import fmt_age, ny_clock
from capgap.ui.internals.key_bar import KeyBar
from capgap.ui.screens.live import LiveScreen
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.quiet import Plain, show

_STATE_STYLES = {"ok": "$success", "degraded": "$gap-warn", "down": "$error"}
_MUTED = "$foreground-muted"


def feed_content(feed: FeedStatus, now: datetime) -> Content:
    """Describe one feed in full: state, last success, staleness, next try, error, problems."""
    lines = [
        Content.assemble(
            (feed.name, "bold"), " ", (feed.state, f"bold {_STATE_STYLES.get(feed.state, '')}")
        )
    ]
    if feed.last_success is not None:
        age = fmt_age((now - feed.last_success).total_seconds())
        stale = Content.styled(" STALE", "bold $gap-warn") if feed.stale_at(now) else ""
        lines.append(Content.assemble(f"  last answer {age} ago", stale))
    elif feed.name != RECORDER_FEED:
        lines.append(Content("  no answer yet"))
    if feed.next_retry is not None:
        lines.append(Content(f"  next try {ny_clock(feed.next_retry)} ET"))
    if feed.error:
        # Provider text as plain text: "[AAPL]" must stay visible, never become markup.
        lines.append(Content.assemble(("  error: ", "bold $error"), feed.error))
    # A problem of the session (not stored) concerns no symbol: it comes first, alone.
    lines.extend(
        Content.assemble("  ", (problem, "$gap-warn"))
        for key, problem in feed.problems
        if key == SESSION_PROBLEM
    )
    symbols = [problem for key, problem in feed.problems if key != SESSION_PROBLEM]
    if symbols:
        count = len(symbols)
        lines.append(Content.styled(f"  {count} symbol{'s' * (count > 1)} not quoted:", "bold"))
        lines.extend(Content.assemble("    ", (problem, _MUTED)) for problem in symbols)
    return Content("\n").join(lines)


def feeds_content(feeds: Sequence[FeedStatus], now: datetime) -> Content:
    """Describe every feed, a blank line between them."""
    if not feeds:
        return Content("no feed has reported yet")
    return Content("\n\n").join(feed_content(feed, now) for feed in feeds)


class FeedsScreen(LiveScreen):
    """Where the figures come from and what went wrong, feed by feed (the `e` key)."""

    crumb = "Feeds"

    def __init__(self) -> None:
        super().__init__(classes="drill")

    def compose(self) -> ComposeResult:
        """Breadcrumb, the feeds' panel (it scrolls when long) and the keys."""
        yield Breadcrumb(demo=self.capgap.engine.demo, id="breadcrumb")
        with VerticalScroll(id="feeds-scroll"):
            panel = Plain(Content("waiting for data…"), id="feeds", classes="box", markup=False)
            panel.border_title = "Feeds"
            yield panel
        yield KeyBar()

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Show every feed of the snapshot."""
        self.show_time(snapshot)
        # Lines come and go with the problems: the panel's height follows (a relayout).
        show(self.query_one("#feeds", Plain), feeds_content(snapshot.feeds, snapshot.as_of))
