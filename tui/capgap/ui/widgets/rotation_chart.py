"""The rotation map: each sector's tail on RS-ratio / RS-momentum axes, centred on 100/100.

The tails are braille lines, oldest week first; the head (this week) is a knob followed by the
sector's code, so the direction reads without colour: the line runs towards the labelled end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Unpack

from textual.app import RenderResult
from textual.geometry import Size
from textual.reactive import Reactive

from capgap.core.quadrants import Quadrant
from capgap.core.snapshot import RotationPoint
from capgap.ui.format import sector_code
from capgap.ui.glyphs import ASCII, glyphs
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.themed_plot import NO_COLOUR, PlotColour, ThemedPlot

#: The quadrants' names in the chart's corners: (name, right half, upper half).
CORNERS: tuple[tuple[Quadrant, bool, bool], ...] = (
    ("improving", False, True),
    ("leading", True, True),
    ("lagging", False, False),
    ("weakening", True, False),
)
#: The least half-width of an axis around 100: a quiet week still fills the chart sensibly.
MIN_SPAN = 0.5
#: Room beyond the farthest point, as a share of its distance from 100.
MARGIN = 1.15

Tail = tuple[str, tuple[float, ...], tuple[float, ...]]


def plotted(points: Sequence[RotationPoint]) -> tuple[Tail, ...]:
    """Return (code, ratios, momenta) of each sector with a point, its head last."""
    return tuple(
        (
            sector_code(point.sector),
            tuple(tail.rs_ratio for tail in point.tail),
            tuple(tail.rs_momentum for tail in point.tail),
        )
        for point in points
        if point.tail
    )


#: Columns and rows of the widget that are not the plot's area: the y axis's tick labels on
#: the left, the x axis's ticks below. An estimate: labels are placed to within a cell or two.
AXIS_COLUMNS = 8
AXIS_ROWS = 3


@dataclass(frozen=True, slots=True)
class Label:
    """A text on the chart: where it is anchored (data units) and which side of it it reads."""

    text: str
    x: float
    y: float
    alignment: Literal["left", "right"]  # "left": starts at (x, y); "right": ends there


def _cell(value: float, low: float, high: float, cells: int) -> int:
    """Return the cell (0 .. cells-1) of ``value`` on an axis from ``low`` to ``high``."""
    return round((value - low) / (high - low) * (cells - 1)) if high > low else 0


def place_labels(
    heads: Sequence[tuple[str, float, float]],
    spans: tuple[float, float],
    grid: tuple[int, int],
    knob: str,
) -> tuple[Label, ...]:
    """Return the labels of the sectors' heads, ``(code, x, y)``, placed so they do not overlap.

    Each head keeps its knob on its point; its code goes right of it, else left, else on the
    row above or below (the knob then stands alone), on a ``grid`` of (columns, rows) cells
    spanning 100 -/+ ``spans``. Where every place is taken, the code goes right of it anyway.
    """
    (span_x, span_y), (columns, rows) = spans, grid
    row_height = 2 * span_y / max(rows - 1, 1)

    def cell(x: float, y: float) -> tuple[int, int]:
        column = _cell(x, 100.0 - span_x, 100.0 + span_x, columns)
        return column, _cell(100.0 + span_y - y, 0.0, 2 * span_y, rows)

    def row_y(row: int) -> float:
        # The middle of a row: a label anchored there stays on it whatever the rounding.
        return 100.0 + span_y - row * row_height

    taken = {cell(x, y) for _code, x, y in heads}  # every knob first: no label covers one
    labels: list[Label] = []
    for code, x, y in heads:
        column, row = cell(x, y)
        width = len(code)
        # (cells the code covers, the labels that draw it), in order of preference.
        options: list[tuple[list[tuple[int, int]], list[Label]]] = [
            (
                [(column + 1 + i, row) for i in range(width)],
                [Label(f"{knob}{code}", x, y, "left")],
            ),
            (
                [(column - width + i, row) for i in range(width)],
                [Label(f"{code}{knob}", x, y, "right")],
            ),
        ]
        for step in (1, -1):  # the row above, then the row below
            options.append(
                (
                    [(column + i, row - step) for i in range(width)],
                    [Label(knob, x, y, "left"), Label(code, x, row_y(row - step), "left")],
                )
            )
        chosen = next(
            (
                option
                for option in options
                if all(
                    0 <= c < columns and 0 <= r < rows and (c, r) not in taken for c, r in option[0]
                )
            ),
            options[0],
        )
        taken.update(chosen[0])
        labels.extend(chosen[1])
    return tuple(labels)


def half_span(values: Sequence[float]) -> float:
    """Return an axis's half-width around 100 that holds every value, with a margin."""
    farthest = max((abs(value - 100.0) for value in values), default=0.0)
    return max(MIN_SPAN, farthest * MARGIN)


class RotationChart(ThemedPlot):
    """Every sector's tail over the last weeks; redrawn only when the map changes."""

    auto_links = Reactive(False)  # no links: skip Textual's per-render link styling

    DEFAULT_CLASSES = "box"

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "themed-plot--axes",
        "themed-plot--line",
        "rotation-chart--label",
    }

    DEFAULT_CSS = """
    RotationChart > .rotation-chart--label { color: $foreground; }
    """

    def __init__(self, **options: Unpack[WidgetOptions]) -> None:
        super().__init__(**options)
        self.border_title = "Rotation map: small against large, weekly, last 8 weeks"
        self._tails: tuple[Tail, ...] = ()
        # The cross's and the labels' colours last plotted (the base class tracks the line's).
        self._others: tuple[PlotColour, PlotColour] | None = None
        self._plotted_size: Size | None = None

    def apply(self, points: Sequence[RotationPoint]) -> bool:
        """Replot when the map changed (it changes once a day); return whether it did."""
        tails = plotted(points)
        if self.drawn and tails == self._tails:
            return False
        self._tails = tails
        self.drawn = True
        self._plotted_in = None
        self.refresh()
        return True

    def render(self) -> RenderResult:
        """Render the map; replot when the theme changed any of its colours."""
        others = (
            self._component_colour("themed-plot--axes"),
            self._component_colour("rotation-chart--label"),
        )
        if others != self._others or self.size != self._plotted_size:
            # New colours, or a new size: the labels are placed on the widget's cells.
            self._others = others
            self._plotted_size = self.size
            self._plotted_in = None
        return super().render()

    def has_data(self) -> bool:
        """Return whether any sector has a point."""
        return bool(self._tails)

    def _replot(self, colour: PlotColour) -> None:
        plt = self.plt
        plt.clear_data()
        self._plotted_in = colour
        if not self._tails:
            return
        muted, label = self._others or (NO_COLOUR, NO_COLOUR)
        span_x = half_span([x for _code, xs, _ys in self._tails for x in xs])
        span_y = half_span([y for _code, _xs, ys in self._tails for y in ys])
        # The cross at 100/100 first: the tails are drawn over it.
        plt.hline(100.0, color=muted)
        plt.vline(100.0, color=muted)
        # Braille lines; an ASCII terminal has no braille, it gets its plain marker.
        marker = glyphs().marker if glyphs() is ASCII else "braille"
        for _code, xs, ys in self._tails:
            plt.plot(list(xs), list(ys), marker=marker, color=colour)
        for name, right, upper in CORNERS:
            plt.text(
                name.capitalize(),
                100.0 + (span_x if right else -span_x),
                100.0 + (span_y if upper else -span_y),
                color=muted,
                background=NO_COLOUR,
                alignment="right" if right else "left",
            )
        width, height = self.size
        heads = [(code, xs[-1], ys[-1]) for code, xs, ys in self._tails]
        grid = (max(width - AXIS_COLUMNS, 10), max(height - AXIS_ROWS, 5))
        for placed in place_labels(heads, (span_x, span_y), grid, glyphs().knob):
            plt.text(
                placed.text,
                placed.x,
                placed.y,
                color=label,
                background=NO_COLOUR,
                alignment=placed.alignment,
            )
        plt.xlim(100.0 - span_x, 100.0 + span_x)
        plt.ylim(100.0 - span_y, 100.0 + span_y)
