"""The RUT/SPX ratio chart over a window of daily closes, redrawn only when its data change."""

from __future__ import annotations

from datetime import date
from typing import Unpack

from capgap.core.snapshot import RatioPoint
from capgap.market.windows import WINDOW_LABELS, window_points
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.line_chart import LineChart, month_ticks, series_key
from capgap.ui.widgets.quiet import set_title

HistoryKey = tuple[int, date | None, float, float, int]


def history_key(history: tuple[RatioPoint, ...], rows: int) -> HistoryKey:
    """Return the redraw key of a ratio history on a chart ``rows`` tall (see series_key)."""
    count, low, high, level, _labels = series_key([point.ratio for point in history], rows)
    return (count, history[-1].day if history else None, low, high, level)


class RatioChart(LineChart):
    """A line of snapshot.spread.ratio_history over the chosen window."""

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(title="RUT/SPX ratio, 1Y", **options)

    def apply(self, history: tuple[RatioPoint, ...], window: str, today: date) -> bool:
        """Replot the window from its base when it changed visibly; return whether it did.

        The first point is the window's base, the number its change is measured from.
        """
        set_title(self, f"RUT/SPX ratio, {WINDOW_LABELS.get(window, window)}")
        shown = window_points(history, window, today)
        days = [point.day for point in shown]
        every = 2 if len(days) > 130 else 1
        return self.plot([point.ratio for point in shown], month_ticks(days, every))
