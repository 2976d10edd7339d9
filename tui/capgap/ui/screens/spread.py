"""The spread screen: the RUT/SPX ratio over a window switched by keys, with its statistics."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

from capgap.core.chart_windows import CHART_WINDOWS
from capgap.core.snapshot import Snapshot, WindowStats, futures_outside_session
from capgap.market.windows import WINDOW_LABELS, window_stats
from capgap.ui.format import fmt_plain, signed_content
from capgap.ui.glyphs import glyphs
from capgap.ui.internals.key_bar import KeyBar
from capgap.ui.screens.live import LiveScreen
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.quiet import Plain, show
from capgap.ui.widgets.ratio_chart import RatioChart
from capgap.ui.widgets.spread_panel import SpreadPanel
from capgap.ui.windows import WINDOW_BINDINGS

#: The keys of the windows, as the hint under the chart lists them ("1 3 6 y Y").
WINDOW_KEYS = " ".join(window.key for window in CHART_WINDOWS)


def window_content(stats: WindowStats | None, window: str) -> Content:
    """Return the window's line: the base and last ratio, its change, low and high."""
    label = WINDOW_LABELS.get(window, window)
    keys = Content.styled(f"   keys {WINDOW_KEYS} [ ]", "$foreground-muted")
    if stats is None:
        return Content.assemble((f"{label}: ", "bold"), "no history", keys)
    dot = f"  {glyphs().dot}  "
    return Content.assemble(
        (f"{label}  ", "bold"),
        f"{fmt_plain(stats.first, 4)} -> {fmt_plain(stats.last, 4)}  ",
        signed_content(stats.change_pct, 2, "%"),
        f"{dot}low {fmt_plain(stats.low, 4)}  high {fmt_plain(stats.high, 4)}",
        keys,
    )


class SpreadScreen(LiveScreen):
    """The large-vs-small panel in full, the ratio chart over the chosen window."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
        *WINDOW_BINDINGS,
    ]
    crumb = "Spread"

    def __init__(self) -> None:
        super().__init__(classes="drill")

    def compose(self) -> ComposeResult:
        """Breadcrumb, the spread panel, the window's statistics, the chart and the keys."""
        yield Breadcrumb(demo=self.capgap.engine.demo, id="breadcrumb")
        panel = SpreadPanel(id="spread-full")
        panel.can_focus = False  # Enter on it would open this very screen
        yield panel
        yield Plain(Content(""), id="window-stats", markup=False)
        yield RatioChart(id="spread-chart")
        yield KeyBar()

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Show the spread and the ratio over the window."""
        self.show_time(snapshot)
        self.query_one("#spread-full", SpreadPanel).apply(
            snapshot.spread, futures_outside_session(snapshot)
        )
        self._show_window(snapshot)

    def _show_window(self, snapshot: Snapshot) -> None:
        window, today = self.capgap.window, snapshot.today
        history = snapshot.spread.ratio_history
        stats = window_content(window_stats(history, window, today), window)
        show(self.query_one("#window-stats", Static), stats)
        self.query_one("#spread-chart", RatioChart).apply(history, window, today)

    def window_changed(self, window: str) -> None:
        """Redraw the chart and the statistics over the new window."""
        if self.capgap.latest is not None:
            self._show_window(self.capgap.latest)
