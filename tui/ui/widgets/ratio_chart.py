"""The RUT/SPX ratio chart over a year of daily closes, redrawn only when its data change."""

from __future__ import annotations

from datetime import date

from textual_plotext import PlotextPlot

from tui.analytics.snapshot import RatioPoint
from tui.ui.glyphs import glyphs

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


HistoryKey = tuple[int, date | None, float, float, int]


def history_key(history: tuple[RatioPoint, ...], rows: int) -> HistoryKey:
    """Return a cheap key that changes when the chart, ``rows`` tall, would look different.

    Today's point moves every tick; it is quantised to the plot's vertical resolution (two
    "hd" marker steps per row), so sub-pixel moves do not repaint the chart.
    """
    if not history:
        return (0, None, 0.0, 0.0, 0)
    values = [point.ratio for point in history]
    low, high = min(values), max(values)
    span = high - low
    level = round((values[-1] - low) / span * max(rows, 1) * 2) if span > 0 else 0
    return (len(history), history[-1].day, low, high, level)


def month_ticks(days: list[date]) -> tuple[list[float], list[str]]:
    """Return x positions and labels of the first point of each month (every other month)."""
    positions: list[float] = []
    labels: list[str] = []
    previous: tuple[int, int] | None = None
    for index, day in enumerate(days):
        month = (day.year, day.month)
        if month != previous:
            if previous is not None and day.month % 2 == 1:
                positions.append(index)
                labels.append(_MONTHS[day.month - 1])
            previous = month
    return positions, labels


class RatioChart(PlotextPlot):
    """A plotext line of snapshot.spread.ratio_history."""

    DEFAULT_CLASSES = "box"

    def __init__(self) -> None:
        super().__init__(id="ratio-chart")
        self.border_title = "RUT/SPX ratio, 1y"
        self._key: HistoryKey = history_key((), 0)
        self._history: tuple[RatioPoint, ...] = ()
        self.redraws = 0

    def apply(self, history: tuple[RatioPoint, ...]) -> bool:
        """Replot when the history changed visibly; return whether it did."""
        self._history = history
        key = history_key(history, self.size.height)
        if key == self._key:
            return False
        self._key = key
        plt = self.plt
        plt.clear_data()
        if history:
            days = [point.day for point in history]
            plt.plot(
                [float(i) for i in range(len(history))],
                [point.ratio for point in history],
                marker=glyphs().marker,
            )
            positions, labels = month_ticks(days)
            plt.xticks(positions, labels)
            plt.xlim(0, len(history) - 1)
        self.redraws += 1
        self.refresh()
        return True

    def on_resize(self) -> None:
        """Re-key the chart: its height sets the resolution today's point is quantised to."""
        self.apply(self._history)
