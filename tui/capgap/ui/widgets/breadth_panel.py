"""The breadth panel: large against small over their members (quoted, up, above averages, highs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Unpack

from textual.content import Content

from capgap.core.snapshot import IndexLegs, LegStats
from capgap.ui.format import fmt_plain, missing
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.content_panel import ContentPanel

#: Width of the row labels (the index names: "Russell 2000").
LABEL_WIDTH = 12


def _count(value: int | None) -> str:
    return missing() if value is None else str(value)


def _share(value: float | None) -> str:
    return fmt_plain(value, 0, "%")


def _members(leg: LegStats) -> str:
    return f"{leg.quoted}/{leg.members}"


#: header, width, the cell of one leg. Each figure is the analytics' (None below coverage,
#: shown as the dash, never 0): the panel only formats.
COLUMNS: tuple[tuple[str, int, Callable[[LegStats], str]], ...] = (
    ("quoted", 10, _members),
    ("up", 6, lambda leg: _share(leg.up_pct)),
    (">50d", 6, lambda leg: _share(leg.above_50d_pct)),
    (">200d", 7, lambda leg: _share(leg.above_200d_pct)),
    ("52w hi", 7, lambda leg: _count(leg.new_highs)),
    ("52w lo", 7, lambda leg: _count(leg.new_lows)),
    ("unprof", 7, lambda leg: _share(leg.unprofitable_pct)),
)
#: The panel's line width with every column: every line is exactly this wide.
LINE_WIDTH = LABEL_WIDTH + sum(width for _header, width, _cell in COLUMNS)


def fitting_columns(width: int) -> tuple[tuple[str, int, Callable[[LegStats], str]], ...]:
    """Return the columns that fit ``width`` cells, from the left (at least the members)."""
    shown = 1
    used = LABEL_WIDTH + COLUMNS[0][1]
    for _title, column_width, _cell in COLUMNS[1:]:
        if used + column_width > width:
            break
        used += column_width
        shown += 1
    return COLUMNS[:shown]


def breadth_content(
    legs: IndexLegs | None, large_name: str, small_name: str, width: int = LINE_WIDTH
) -> Content:
    """Render a header and one line per index: members quoted, breadth and unprofitable share.

    The columns on the right give way when ``width`` is short of LINE_WIDTH.

    "up" is the share of members up today, ">50d"/">200d" above their 50- and 200-day
    averages, "52w hi"/"52w lo" the members at a new 52-week high or low today, "unprof"
    the share with negative trailing earnings (by count, as the valuation line).
    """
    if legs is None:
        return Content("waiting for the members…")
    columns = fitting_columns(width)
    header = Content.assemble(
        " " * LABEL_WIDTH, *((title.rjust(size), "bold") for title, size, _cell in columns)
    )

    def line(name: str, leg: LegStats) -> Content:
        cells = "".join(cell(leg).rjust(size) for _title, size, cell in columns)
        return Content.assemble((name[:LABEL_WIDTH].ljust(LABEL_WIDTH), "bold"), cells)

    return Content("\n").join([header, line(large_name, legs.large), line(small_name, legs.small)])


class BreadthPanel(ContentPanel):
    """Three lines above the ratio chart: both indices' breadth over all their members."""

    # The columns is fitted to the width on resize; until then a line made for
    # a wider panel must not wrap, or the panel would keep the taller height after the refit.
    DEFAULT_CSS = """
    BreadthPanel { text-wrap: nowrap; text-overflow: clip; }
    """

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(title="Breadth: large vs small, all members", **options)
        self._shown_for: tuple[IndexLegs | None, str, str] | None = None

    def apply(self, legs: IndexLegs | None, large_name: str, small_name: str) -> None:
        """Show both indices' member statistics (as many columns as the width holds)."""
        self._shown_for = (legs, large_name, small_name)
        self._render_legs()

    def on_resize(self) -> None:
        """Re-fit the columns to the new width."""
        self._render_legs()

    def _render_legs(self) -> None:
        if self._shown_for is None:
            return
        # Before the first layout the width is unknown: every column, re-fitted on resize.
        width = self.content_size.width or LINE_WIDTH
        self.show(breadth_content(*self._shown_for, width))
