"""A themed line chart that redraws only when what it would show has changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Unpack

from textual.reactive import Reactive

from capgap.core.market_types import NEW_YORK
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.themed_plot import ThemedPlot, Ticks

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

SeriesKey = tuple[int, float, float, int, tuple[str, ...]]


def series_key(values: Sequence[float], rows: int, labels: Sequence[str] = ()) -> SeriesKey:
    """Return a cheap key that changes when a chart ``rows`` tall would look different.

    The last point moves every tick; it is quantised to the plot's vertical resolution (two
    "hd" marker steps per row), so sub-pixel moves do not repaint the chart.
    """
    if not values:
        return (0, 0.0, 0.0, 0, tuple(labels))
    low, high = min(values), max(values)
    span = high - low
    level = round((values[-1] - low) / span * max(rows, 1) * 2) if span > 0 else 0
    return (len(values), low, high, level, tuple(labels))


def month_ticks(days: Sequence[date], every: int = 2) -> Ticks:
    """Return x positions and labels of the first point of a month (every ``every`` months)."""
    positions: list[float] = []
    labels: list[str] = []
    previous: tuple[int, int] | None = None
    for index, day in enumerate(days):
        month = (day.year, day.month)
        if month != previous:
            if previous is not None and (day.month - 1) % every == 0:
                positions.append(index)
                labels.append(_MONTHS[day.month - 1])
            previous = month
    return positions, labels


def hour_ticks(times: Sequence[datetime]) -> Ticks:
    """Return x positions and labels of the first bar of each even New York hour."""
    positions: list[float] = []
    labels: list[str] = []
    previous: int | None = None
    for index, moment in enumerate(times):
        hour = moment.astimezone(NEW_YORK).hour
        if hour != previous:
            if previous is not None and hour % 2 == 0:
                positions.append(index)
                labels.append(f"{hour}:00")
            previous = hour
    return positions, labels


class LineChart(ThemedPlot):
    """One line over equally spaced points; `plot` skips redraws that would change nothing."""

    auto_links = Reactive(False)  # no links: skip Textual's per-render link styling

    DEFAULT_CLASSES = "box"

    def __init__(
        self,
        *,
        title: str,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self.border_title = title
        self._values: tuple[float, ...] = ()
        self._ticks: Ticks = ([], [])
        self._key: SeriesKey = series_key((), 0)

    def plot(self, values: Sequence[float], ticks: Ticks) -> bool:
        """Replot when the line changed visibly; return whether it did."""
        self._values = tuple(values)
        self._ticks = ticks
        key = series_key(values, self.size.height, ticks[1])
        if key == self._key and self.drawn:
            return False
        self._key = key
        positions = [float(i) for i in range(len(values))]
        self.draw_line(positions, values, ticks, (0, max(len(values) - 1, 1)))
        return True

    def on_resize(self) -> None:
        """Re-key the chart: its height sets the resolution the last point is quantised to."""
        self._key = series_key((), 0)
        self.plot(self._values, self._ticks)
