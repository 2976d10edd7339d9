"""The dashboard: status line, spread, ratio chart, Fed and style panels, sectors table."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer

from tui.analytics.snapshot import Snapshot
from tui.clock import Clock
from tui.ui.messages import SnapshotReady
from tui.ui.screens.fed_detail import FedDetailScreen
from tui.ui.widgets.fed_panel import FedPanel
from tui.ui.widgets.ratio_chart import RatioChart
from tui.ui.widgets.sectors_table import SectorsTable
from tui.ui.widgets.spread_panel import SpreadPanel
from tui.ui.widgets.status_line import StatusLine
from tui.ui.widgets.style_panel import StylePanel


class DashboardScreen(Screen[None]):
    """Applies each snapshot in one batch; the layout follows the terminal size by CSS classes."""

    # -narrow / -short switch the compact layout in app.tcss; the chart needs a tall screen.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012 (typed in Screen)
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012

    # The Fed panel is focusable too (Enter opens its detail), but the keys belong to the table.
    AUTO_FOCUS = "SectorsTable"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", "Sort", id="sort"),
        Binding("S", "reverse_sort", "Reverse", id="reverse"),
        Binding("f", "fed_detail", "Fed", id="fed_detail"),
    ]

    def __init__(self, clock: Clock, *, demo: bool, source_label: str) -> None:
        super().__init__(id="dashboard")
        self._clock = clock
        self._demo = demo
        self._source_label = source_label
        self.latest: Snapshot | None = None
        self.applied = 0

    def compose(self) -> ComposeResult:
        """Status on top, the panels, the sectors table, the key bindings at the bottom."""
        yield StatusLine(self._clock, demo=self._demo, source_label=self._source_label)
        with Horizontal(id="top"):
            with Vertical(id="left"):
                yield SpreadPanel()
                with Vertical(id="side"):
                    yield FedPanel(self._clock)
                    yield StylePanel()
            yield RatioChart()
        yield SectorsTable()
        yield Footer()

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        """Apply a snapshot to every widget in one repaint."""
        snapshot = message.snapshot
        with self.app.batch_update():
            self.query_one(StatusLine).apply(snapshot)
            self.query_one(SpreadPanel).apply(snapshot.spread)
            self.query_one(RatioChart).apply(snapshot.spread.ratio_history)
            self.query_one(FedPanel).apply(snapshot.fed)
            self.query_one(StylePanel).apply(snapshot.style)
            self.query_one(SectorsTable).apply(snapshot.sectors)
            # An open Fed detail screen follows the same snapshots (no second engine worker).
            for screen in self.app.screen_stack:
                if isinstance(screen, FedDetailScreen):
                    screen.apply(snapshot.fed)
        self.latest = snapshot
        self.applied += 1

    def replay_ended(self, at: datetime) -> None:
        """Keep the last figures and say the replay is over."""
        self.query_one(StatusLine).replay_ended(at)

    def engine_failed(self, error: str) -> None:
        """Keep the last figures and say the engine stopped."""
        self.query_one(StatusLine).engine_failed(error)

    def action_cycle_sort(self) -> None:
        """Sort the sectors on the next column."""
        self.query_one(SectorsTable).cycle_sort()

    def action_reverse_sort(self) -> None:
        """Reverse the sectors' sort."""
        self.query_one(SectorsTable).reverse_sort()

    def action_fed_detail(self) -> None:
        """Open the Fed detail screen on the latest Fed figures (Esc comes back here)."""
        self.app.push_screen(FedDetailScreen(self.latest.fed if self.latest else None))
