"""Time windows (5D..1Y): where each starts and which daily close it is measured from.

One definition for every figure and chart: a window's base is the last close on or before
its start, among the closes before today. The panel's changes, the spread and symbol
screens, the charts, the 52-week range and the snapshot all take their base from here.
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Protocol, TypeVar

from capgap.core.chart_windows import CHART_WINDOW_IDS, CHART_WINDOWS
from capgap.core.snapshot import RatioPoint, WindowStats
from capgap.market.calendar import previous_session

#: Every window, shortest first ("ytd" sits by its usual length): 5D, then the charts' windows.
WINDOWS = ("5d", *CHART_WINDOW_IDS)
#: Display labels by window id, and of the one-day change that goes with them.
WINDOW_LABELS = {"1d": "1D", "5d": "5D"} | {window.id: window.label for window in CHART_WINDOWS}
_MONTHS = {"1m": 1, "3m": 3, "6m": 6, "1y": 12}
#: Sessions back of the 5D window.
FIVE_DAY_SESSIONS = 5
#: Days a daily history reaches before the 1Y window's start, so the window always has a base:
#: the last session on or before an anniversary is at most four days earlier (a weekend next
#: to a holiday); three weeks also cover a provider whose reply starts a little late.
HISTORY_MARGIN = timedelta(days=21)


def months_before(day: date, months: int) -> date:
    """Return the same calendar day ``months`` earlier, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def window_start(window: str, today: date) -> date:
    """Return the day a window starts on, always before ``today``.

    5d: the 5th NYSE session before today; 1m, 3m, 6m, 1y: the same day 1, 3, 6 or 12 months
    earlier (clamped to the month's end); ytd: December 31 of the previous year.
    """
    if window == "ytd":
        return date(today.year - 1, 12, 31)
    if window == "5d":
        day = today
        for _ in range(FIVE_DAY_SESSIONS):
            day = previous_session(day).day
        return day
    months = _MONTHS.get(window)
    if months is None:
        raise ValueError(f"unknown window {window!r} (known: {', '.join(WINDOWS)})")
    return months_before(today, months)


def history_start(today: date) -> date:
    """Return the first day a daily history should hold for every window to have its base."""
    return window_start("1y", today) - HISTORY_MARGIN


def base_position(days: Sequence[date], window: str, today: date) -> int | None:
    """Return where the window's base is in ``days`` (sorted, all before ``today``).

    The base is the last day on or before the window's start; None when ``days`` begin after
    the start (the history does not reach back that far).
    """
    position = bisect_right(days, window_start(window, today)) - 1
    return position if position >= 0 else None


def first_position(days: Sequence[date], window: str, today: date) -> int:
    """Return where a window's points begin in ``days``: its base, else (no base) the start."""
    base = base_position(days, window, today)
    return base if base is not None else 0


class Dated(Protocol):
    """A point of a daily series (a close, a ratio) with its session date."""

    @property
    def day(self) -> date:
        """The session date of the point."""
        ...


P = TypeVar("P", bound=Dated)


def window_points(points: Sequence[P], window: str, today: date) -> tuple[P, ...]:
    """Return the points a window's chart shows: its base, then every later point.

    ``points`` are sorted by day and may end with today's. Without a base (the series begins
    after the window's start) every point is inside the window and all are returned.
    """
    days = [point.day for point in points if point.day < today]
    return tuple(points[first_position(days, window, today) :])


def window_stats(points: Sequence[RatioPoint], window: str, today: date) -> WindowStats | None:
    """Return the ratio over a window: its base, the last point, % change, low and high.

    The window's points are its base (the last point on or before its start) and every point
    after it (see window_points); None when the points do not reach back
    to a base, as the panel then has no figure for the window either.
    """
    ordered = sorted(points, key=lambda point: point.day)
    inside = window_points(ordered, window, today)
    if not inside or inside[0].day > window_start(window, today):
        return None
    ratios = [point.ratio for point in inside]
    first, last = inside[0].ratio, inside[-1].ratio
    return WindowStats(
        first_day=inside[0].day,
        first=first,
        last=last,
        change_pct=(last / first - 1.0) * 100.0,
        low=min(ratios),
        high=max(ratios),
    )
