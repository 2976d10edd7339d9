"""The spread screen: the gap in three parts, the RUT/SPX ratio over a window switched by keys."""

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
from capgap.ui.widgets.gap_parts import GapPartsTable
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
    """The large-vs-small panel in full, the gap's parts, the ratio chart over the window."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
        *WINDOW_BINDINGS,
    ]
    crumb = "Spread"

    def __init__(self) -> None:
        super().__init__(classes="drill")

    def compose(self) -> ComposeResult:
        """Breadcrumb, spread panel, the gap's parts, the window's statistics, chart and keys."""
        yield Breadcrumb(demo=self.capgap.engine.demo, id="breadcrumb")
        # The gap per window is the parts' table's total column: not twice on one screen.
        panel = SpreadPanel(id="spread-full", window_table=False)
        panel.can_focus = False  # Enter on it would open this very screen
        yield panel
        yield GapPartsTable(id="gap-parts")
        yield Plain(Content(""), id="window-stats", markup=False)
        yield RatioChart(id="spread-chart")
        yield KeyBar()

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Show the spread and the ratio over the window."""
        self.show_time(snapshot)
        spread = snapshot.spread
        self.query_one("#spread-full", SpreadPanel).apply(spread, futures_outside_session(snapshot))
        self.query_one(GapPartsTable).apply(
            snapshot.decomposition, spread.large.symbol, spread.small.symbol
        )
        self._show_window(snapshot)

    def on_mount(self) -> None:
        """Size the parts' table to the screen before the first snapshot."""
        self._fit_parts()

    def on_resize(self) -> None:
        """Keep as many of the parts' windows as the new height leaves the chart room for."""
        self._fit_parts()

    def _fit_parts(self) -> None:
        self.query_one(GapPartsTable).fit_height(self.app.size.height, self.capgap.window)

    def _show_window(self, snapshot: Snapshot) -> None:
        window, today = self.capgap.window, snapshot.today
        history = snapshot.spread.ratio_history
        stats = window_content(window_stats(history, window, today), window)
        show(self.query_one("#window-stats", Static), stats)
        self.query_one("#spread-chart", RatioChart).apply(history, window, today)

    def window_changed(self, window: str) -> None:
        """Redraw the chart and the statistics over the new window; the parts keep it."""
        self._fit_parts()
        if self.capgap.latest is not None:
            self._show_window(self.capgap.latest)
