"""The rotation map: each sector's tail on RS-ratio / RS-momentum axes, centred on 100/100.

The tails are braille lines, oldest week first; the head (this week) is a knob followed by the
sector's code, so the direction reads without colour: the line runs towards the labelled end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Unpack

from textual.app import RenderResult
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
        if others != self._others:
            self._others = others
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
        for code, xs, ys in self._tails:
            plt.text(
                f"{glyphs().knob}{code}",
                xs[-1],
                ys[-1],
                color=label,
                background=NO_COLOUR,
                alignment="left",
            )
        plt.xlim(100.0 - span_x, 100.0 + span_x)
        plt.ylim(100.0 - span_y, 100.0 + span_y)
