"""The cutting cycles' chart: each past cycle thin, their median, the current cycle bold.

x is sessions from the decision day's close (day 0), from -60 to +252; y the Russell 2000's
return minus the S&P 500's since the close before the cut, in pp. Past cycles are thin braille
lines in the muted colour, the median a braille line in the line colour, the current cycle
(and its resumption) block quadrants ("hd"), the heavier marker; each of the last three is
labelled at its end, so the lines read without colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Unpack

from textual.app import RenderResult
from textual.reactive import Reactive

from capgap.core.cycles import AFTER, BEFORE, CyclePath
from capgap.ui.glyphs import ASCII, glyphs
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.themed_plot import NO_COLOUR, PlotColour, ThemedPlot

#: The end label of each kind of line drawn with one (past cycles have none: too many).
LABELS = {"median": "median", "current": "now", "resumed": "resumed"}
#: Where the median's label sits (sessions after the cut).
MEDIAN_LABEL_AT = 126
#: The x ticks: the window's ends, the cut, and the horizons of the table.
TICKS = (-BEFORE, 0, 63, 126, 252)


class CyclesChart(ThemedPlot):
    """The cycles' paths; redrawn only when the study or the theme changes (never per tick)."""

    auto_links = Reactive(False)  # no links: skip Textual's per-render link styling

    DEFAULT_CLASSES = "box"

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "themed-plot--axes",
        "themed-plot--line",
        "cycles-chart--current",
        "cycles-chart--label",
    }

    DEFAULT_CSS = """
    CyclesChart > .cycles-chart--current { color: $accent; text-style: bold; }
    CyclesChart > .cycles-chart--label { color: $foreground; }
    """

    def __init__(self, **options: Unpack[WidgetOptions]) -> None:
        super().__init__(**options)
        self.border_title = "RUT minus SPX (pp) by session from the cut"
        self._paths: tuple[CyclePath, ...] = ()
        # The muted, current and label colours last plotted (the base class tracks the line's).
        self._others: tuple[PlotColour, PlotColour, PlotColour] | None = None

    def apply(self, paths: Sequence[CyclePath]) -> bool:
        """Replot when the paths changed; return whether they did."""
        shown = tuple(paths)
        if self.drawn and shown == self._paths:
            return False
        self._paths = shown
        self.drawn = True
        self._plotted_in = None
        self.refresh()
        return True

    def has_data(self) -> bool:
        """Return whether there is any path to draw."""
        return bool(self._paths)

    def render(self) -> RenderResult:
        """Render the chart; replot when the theme changed any of its colours."""
        others = (
            self._component_colour("themed-plot--axes"),
            self._component_colour("cycles-chart--current"),
            self._component_colour("cycles-chart--label"),
        )
        if others != self._others:
            self._others = others
            self._plotted_in = None
        return super().render()

    def _replot(self, colour: PlotColour) -> None:
        plt = self.plt
        plt.clear_data()
        self._plotted_in = colour
        if not self._paths:
            return
        muted, bold, label = self._others or (NO_COLOUR, NO_COLOUR, NO_COLOUR)
        # The axes of the study first: the cut (x = 0) and no gap (y = 0); the lines go over.
        plt.hline(0.0, color=muted)
        plt.vline(0.0, color=muted)
        ascii_only = glyphs() is ASCII
        thin = glyphs().marker if ascii_only else "braille"
        heavy = glyphs().marker
        # Past cycles under the median, the current cycle on top of everything.
        order = {"past": 0, "median": 1, "resumed": 2, "current": 3}
        for path in sorted(self._paths, key=lambda p: order[p.kind]):
            marker = heavy if path.kind in ("current", "resumed") else thin
            tint = {"past": muted, "median": colour}.get(path.kind, bold)
            plt.plot(list(path.offsets), list(path.gaps), marker=marker, color=tint)
        for path in self._paths:
            name = LABELS.get(path.kind)
            if name is not None and path.offsets:
                # The median is labelled mid-way (at +126), the others at their ends: at the
                # right edge the median's label and the current cycle's would overlap.
                at = len(path.offsets) - 1
                if path.kind == "median" and MEDIAN_LABEL_AT in path.offsets:
                    at = path.offsets.index(MEDIAN_LABEL_AT)
                plt.text(
                    f"{glyphs().knob}{name}",
                    path.offsets[at],
                    path.gaps[at],
                    color=label,
                    background=NO_COLOUR,
                    # Near the right edge the label runs leftwards, so it stays on the chart.
                    alignment="right" if path.offsets[at] > AFTER // 2 else "left",
                )
        plt.xticks(list(TICKS), [f"{tick:+d}" if tick else "cut" for tick in TICKS])
        plt.xlim(-BEFORE, AFTER)
