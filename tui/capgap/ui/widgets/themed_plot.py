"""A plotext chart coloured by the app's theme, in every theme: ANSI and mono included.

textual-plotext's "auto" theme paints the canvas in the theme's surface and the axes in its
foreground, parsed to RGB: an ANSI theme's "transparent" surface and "ansi_default" foreground
both parse to black, so its charts came out black on black, on a forced black background. Here
nothing is parsed by hand: the colours are two component styles resolved by Textual's CSS
(ANSI colours stay ANSI, translucent ones are blended), and the canvas has no colour of its
own, so the chart sits on the same background as the panels around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Unpack

from rich.align import Align
from rich.color import Color as RichColor
from rich.color import ColorType
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from capgap.ui.glyphs import glyphs
from capgap.ui.widget_options import WidgetOptions

#: A colour as plotext takes it: "default" (the terminal's own), 0-255, or (r, g, b).
PlotColour = str | int | tuple[int, int, int]
Ticks = tuple[list[float], list[str]]

#: plotext's name for "no colour": the cell keeps the widget's own (the theme's) colour.
NO_COLOUR = "default"
#: What a chart says once its data has come and held no points.
NO_DATA = "no data"


def empty_chart() -> RenderResult:
    """Return what a chart with nothing to plot shows: 'no data', centred (never bare axes)."""
    return Align.center(Text(NO_DATA, style="italic"), vertical="middle")


def plot_colour(color: RichColor | None) -> PlotColour:
    """Return a Rich colour as plotext writes it: ANSI colours as their index, others as RGB.

    plotext writes an index n as ESC[38;5;n, which the terminal (and Rich) reads for n < 16
    as its own palette colour n, so an ANSI theme's colours stay the terminal's.
    """
    if color is None or color.type == ColorType.DEFAULT:
        return NO_COLOUR
    if color.type in (ColorType.STANDARD, ColorType.EIGHT_BIT) and color.number is not None:
        return color.number
    red, green, blue = color.get_truecolor()
    return (red, green, blue)


class ThemedPlot(PlotextPlot):
    """One line chart; its axes and labels, and its line, take their colours from the theme.

    Subclasses draw with ``draw_line``; the line is redrawn in the new colour when the theme
    changes (plotext fixes a line's colour when it is plotted).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"themed-plot--axes", "themed-plot--line"}

    DEFAULT_CSS = """
    ThemedPlot > .themed-plot--axes { color: $foreground-muted; }
    ThemedPlot > .themed-plot--line { color: $primary; }
    """

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self._line: tuple[list[float], list[float], Ticks, tuple[float, float]] | None = None
        #: False until the first draw: a chart waiting for its first data is blank, not empty.
        self.drawn = False
        # The colour the line was plotted in (None: not plotted since it last changed).
        self._plotted_in: PlotColour | None = None

    def _component_colour(self, name: str) -> PlotColour:
        return plot_colour(self.get_component_rich_style(name).color)

    def draw_line(
        self,
        x: Sequence[float],
        y: Sequence[float],
        ticks: Ticks,
        xlim: tuple[float, float],
    ) -> None:
        """Show one line (none when ``x`` is empty) with ``ticks`` under it, at the next paint."""
        self._line = (list(x), list(y), ticks, xlim) if x else None
        self.drawn = True
        self._plotted_in = None
        self.refresh()

    def has_data(self) -> bool:
        """Return whether there is something to plot (a subclass with its own data says)."""
        return self._line is not None

    def _replot(self, colour: PlotColour) -> None:
        plt = self.plt
        plt.clear_data()
        self._plotted_in = colour
        if self._line is None:
            return
        x, y, ticks, xlim = self._line
        plt.plot(x, y, marker=glyphs().marker, color=colour)
        plt.xticks(*ticks)
        plt.xlim(*xlim)

    def render(self) -> RenderResult:
        """Render the chart at the widget's size in the theme's colours ('no data' if empty)."""
        if self.drawn and not self.has_data():
            return empty_chart()
        line = self._component_colour("themed-plot--line")
        if line != self._plotted_in:
            # New data, or the theme changed since the line was plotted.
            self._replot(line)
        plt = self.plt
        width, height = self.size
        plt.plotsize(width, height)
        # As textual-plotext does: plotsize alone does not always resize the figure.
        plt._set_size(width, height)
        plt.canvas_color(NO_COLOUR)
        plt.axes_color(NO_COLOUR)
        plt.ticks_color(self._component_colour("themed-plot--axes"))
        return Text.from_ansi(plt.build())

    def on_unmount(self) -> None:
        """Leave the theme signal: its callback would keep this widget alive for good."""
        self.app.theme_changed_signal.unsubscribe(self)
