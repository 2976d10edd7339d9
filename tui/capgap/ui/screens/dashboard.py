"""The dashboard: status line, spread, breadth, ratio chart, Fed and style panels, sectors."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable

from capgap.core.clock import Clock
from capgap.core.snapshot import Snapshot, futures_outside_session
from capgap.ui.internals.key_bar import KeyBar
from capgap.ui.messages import OpenSector
from capgap.ui.screens.live import LiveScreen
from capgap.ui.widgets.breadth_panel import BreadthPanel
from capgap.ui.widgets.fed_panel import FedPanel
from capgap.ui.widgets.ratio_chart import RatioChart
from capgap.ui.widgets.sectors_table import SectorsTable
from capgap.ui.widgets.spread_panel import SpreadPanel
from capgap.ui.widgets.status_line import StatusLine
from capgap.ui.widgets.style_panel import StylePanel


class DashboardScreen(LiveScreen):
    """Applies each snapshot in one batch; the layout follows the terminal size by CSS classes.

    Breakpoint classes (tui/ui/sizes.py): -tiny-w / -minimal-w / -narrow / -wide by width
    (46, 80, 100) and -tiny-h / -minimal-h / -short / -medium / -tall by height (12, 24, 32,
    36); -compact forces the short layout. The sectors keep their rows and the ratio chart
    gets what is left once the FOMC countdown and the next meeting's odds have theirs. The
    breadth panel sits above the chart where the chart has room (wide from 32 rows, narrow
    from 36) and is shed with it, before the gap, the countdown and the odds.
    """

    # The panels are focusable too (Enter opens their screens), but the keys belong to the table.
    AUTO_FOCUS = "SectorsTable"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", "Sort", id="sort"),
        Binding("S", "reverse_sort", "Reverse", id="reverse"),
        Binding("f", "app.fed", "Fed", id="fed"),
        Binding("m", "app.rotation", "Rotation", id="rotation", show=False),
        Binding("u", "app.cycles", "Cycles", id="cycles", show=False),
        # Not in the key bar: before Quit it would push Quit off a 46-column bar (and Pause
        # off an 80-column one); the keys screen lists it and the table's title names the window.
        Binding("w", "cycle_sector_window", "Window", id="sector_window", show=False),
    ]
    crumb = "Dashboard"

    def __init__(self, clock: Clock, *, demo: bool, source_label: str) -> None:
        super().__init__(id="dashboard")
        self._clock = clock
        self._demo = demo
        self._source_label = source_label
        self.latest: Snapshot | None = None

    def compose(self) -> ComposeResult:
        """Status on top, the panels, the sectors table, the key bindings at the bottom."""
        yield StatusLine(self._clock, demo=self._demo, source_label=self._source_label, id="status")
        with Horizontal(id="top"):
            with Vertical(id="left"):
                yield SpreadPanel(id="spread")
                with Vertical(id="side"):
                    yield FedPanel(self._clock, id="fed")
                    yield StylePanel(id="style")
            with Vertical(id="right"):
                yield BreadthPanel(id="breadth")
                yield RatioChart(id="ratio-chart")
        yield SectorsTable(id="sectors")
        yield KeyBar()

    def on_mount(self) -> None:
        """Tick both clocks from one timer: the time and the countdown change in one repaint."""
        self.set_interval(1.0, self.tick_clocks, name="clocks")

    def on_resize(self) -> None:
        """Let the spread panel fit its lines to the layout the new size classes give it."""
        # After the refresh: the classes are set by now, their styles are applied by then.
        self.call_after_refresh(self.query_one(SpreadPanel).refit)

    def tick_clocks(self) -> None:
        """Redraw the time, the data age and the FOMC countdown."""
        self.query_one(StatusLine).tick()
        self.query_one(FedPanel).tick()

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Apply a snapshot to every widget (the app batches the repaint)."""
        self.query_one(StatusLine).apply(snapshot)
        self.query_one(SpreadPanel).apply(snapshot.spread, futures_outside_session(snapshot))
        spread = snapshot.spread
        self.query_one(BreadthPanel).apply(snapshot.indices, spread.large.name, spread.small.name)
        self._plot_ratio(snapshot)
        self.query_one(FedPanel).apply(snapshot.fed)
        self.query_one(StylePanel).apply(snapshot.style)
        self.query_one(SectorsTable).apply(snapshot.sectors, snapshot.sector_history)
        self.latest = snapshot

    def _plot_ratio(self, snapshot: Snapshot) -> None:
        self.query_one(RatioChart).apply(
            snapshot.spread.ratio_history, self.capgap.window, snapshot.today
        )

    def window_changed(self, window: str) -> None:
        """Redraw the ratio chart over the new window."""
        if self.latest is not None:
            self._plot_ratio(self.latest)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a sector opens its constituents."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(OpenSector(str(event.row_key.value)))

    def replay_ended(self, at: datetime) -> None:
        """Keep the last figures and say the replay is over."""
        self.query_one(StatusLine).replay_ended(at)

    def engine_failed(self, error: str) -> None:
        """Keep the last figures and say the engine stopped."""
        self.query_one(StatusLine).engine_failed(error)

    def set_paused(self, paused: bool) -> None:
        """Show or hide PAUSED on the status line."""
        self.query_one(StatusLine).set_paused(paused)

    def action_cycle_sort(self) -> None:
        """Sort the sectors on the next column."""
        self.query_one(SectorsTable).cycle_sort()

    def action_reverse_sort(self) -> None:
        """Reverse the sectors' sort."""
        self.query_one(SectorsTable).reverse_sort()

    def action_cycle_sector_window(self) -> None:
        """Show the sectors over the next window (1D, 5D, 1M, 3M, YTD)."""
        self.query_one(SectorsTable).cycle_window()
