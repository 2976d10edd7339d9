"""The rotation screen: each sector's small caps against its large caps, week by week.

A map on RS-ratio / RS-momentum axes (capgap.analytics.rotation has the formula) and a table
of the same points: the quadrant, the figures, where the tail started, or why a sector has
no point.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.content import Content

from capgap.core.quadrants import quadrant
from capgap.core.snapshot import HistoryStatus, RotationPoint, Snapshot
from capgap.ui.format import fmt_plain, history_missing, missing, sector_code, short_sector
from capgap.ui.glyphs import glyphs
from capgap.ui.internals.key_bar import KeyBar
from capgap.ui.screens.live import LiveScreen
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.keyed_table import Cell, KeyedTable
from capgap.ui.widgets.quiet import Plain, show
from capgap.ui.widgets.rotation_chart import RotationChart

_MUTED = "$foreground-muted"
#: Why there is no map while the history is there but short (a new session, a new universe).
NEEDS = "it needs 11 weeks of the sectors' daily history"


def legend_content(
    points: Sequence[RotationPoint], history: HistoryStatus | None = None
) -> Content:
    """Return the line above the map: how to read it, or why there is nothing on it.

    While the members' daily history is coming in (live, over hours) it says how far.
    """
    if not any(point.tail for point in points):
        return Content.styled(f"no rotation map yet: {history_missing(history, NEEDS)}", _MUTED)
    dot = f" {glyphs().dot} "
    return Content.styled(
        f"x RS-ratio{dot}y RS-momentum{dot}{glyphs().knob} this week{dot}"
        "the line: its last 8 weeks",
        _MUTED,
    )


def rotation_cells(point: RotationPoint) -> dict[str, Cell]:
    """Return the text of each column of a sector's row."""
    # The sector's name comes from the config: plain Text, never markup.
    name = Text(f"{sector_code(point.sector)} {short_sector(point.sector)}", no_wrap=True)
    if point.rs_ratio is None or point.rs_momentum is None or not point.tail:
        return {
            "sector": name,
            "quadrant": missing(),
            "ratio": missing(),
            "momentum": missing(),
            "note": Text(point.reason or "", no_wrap=True),
        }
    first = point.tail[0]
    # The tail's first week, so the direction reads in the table too: "lagging 7 weeks ago".
    ago = len(point.tail) - 1
    began = quadrant(first.rs_ratio, first.rs_momentum)
    return {
        "sector": name,
        "quadrant": point.quadrant or missing(),
        "ratio": fmt_plain(point.rs_ratio, 2),
        "momentum": fmt_plain(point.rs_momentum, 2),
        "note": f"{began} {ago} week{'s' * (ago != 1)} ago" if ago else "its first week",
    }


class RotationTable(KeyedTable):
    """One row per sector, in the universe's order: the map's points in figures."""

    TITLE = "By sector: small against large"
    COLUMNS = (
        ("sector", "Sector", 17, False),
        ("quadrant", "Quadrant", 9, False),
        ("ratio", "Ratio", 6, True),
        ("momentum", "Mom", 6, True),
        ("note", "Tail / why no point", 28, False),
    )

    def apply(self, points: Sequence[RotationPoint]) -> None:
        """Show a row per sector, keyed by its name."""
        self.sync([(point.sector, rotation_cells(point)) for point in points])


class RotationScreen(LiveScreen):
    """The rotation map of size by sector (the `m` key, or the palette)."""

    crumb = "Rotation"

    def __init__(self) -> None:
        super().__init__(id="rotation", classes="drill")
        #: The map on screen (None before the first snapshot).
        self._shown: tuple[tuple[RotationPoint, ...], HistoryStatus | None] | None = None

    def compose(self) -> ComposeResult:
        """Breadcrumb, how to read the map, the map, the table, the keys."""
        yield Breadcrumb(demo=self.capgap.engine.demo, id="breadcrumb")
        yield Plain(Content(""), id="rotation-legend", markup=False)
        yield RotationChart(id="rotation-chart")
        yield RotationTable(id="rotation-table", title=RotationTable.TITLE)
        yield KeyBar()

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Show the map; it changes once a day, so most snapshots change nothing here."""
        self.show_time(snapshot)
        rotation = snapshot.rotation
        # An empty map's line counts the history coming in: it is redrawn as that moves.
        progress = None if any(p.tail for p in rotation) else snapshot.sector_history
        if self._shown is not None and (rotation, progress) == self._shown:
            # The day's map again (the same memoised tuple): nothing to compare cell by cell.
            return
        self._shown = (rotation, progress)
        show(self.query_one("#rotation-legend", Plain), legend_content(rotation, progress))
        self.query_one(RotationChart).apply(rotation)
        self.query_one(RotationTable).apply(rotation)
