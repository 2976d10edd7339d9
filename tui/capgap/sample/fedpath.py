"""The designed Fed funds path: expected rates per meeting and the ZQ prices that encode them."""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from capgap.market.zq import YearMonth, next_month, previous_month

# A ZQ contract is priced at 100 minus the expected average EFFR of its month. The expected rate
# steps down by ``step * p_cut`` at each meeting; a meeting day counts as post-meeting.


@dataclass(frozen=True, slots=True)
class MeetingOdds:
    """A decision day and the probability of a cut of one step there (given the path so far)."""

    date: date
    p_cut: float


def expected_path(
    start_rate: float, odds: Sequence[MeetingOdds], step: float
) -> list[tuple[date, float]]:
    """Return (decision day, expected rate from that day on) for each meeting, by date."""
    rate = start_rate
    path: list[tuple[date, float]] = []
    for meeting in sorted(odds, key=lambda item: item.date):
        rate -= step * meeting.p_cut
        path.append((meeting.date, rate))
    return path


def month_average(month: YearMonth, start_rate: float, path: Sequence[tuple[date, float]]) -> float:
    """Return the month's expected average rate: the mean of the rate in effect on each day."""
    days = calendar.monthrange(*month)[1]
    total = 0.0
    for number in range(1, days + 1):
        day = date(month[0], month[1], number)
        rate = start_rate
        for decided, after in path:
            if decided <= day:
                rate = after
        total += rate
    return total / days


def month_prices(
    months: Sequence[YearMonth], start_rate: float, odds: Sequence[MeetingOdds], step: float
) -> dict[YearMonth, float]:
    """Return the unrounded price (100 - expected average rate) of each contract month."""
    path = expected_path(start_rate, odds, step)
    return {month: 100.0 - month_average(month, start_rate, path) for month in months}


def on_grid(price: float, grid: float) -> float:
    """Round a price to the nearest multiple of ``grid`` (a clean decimal float)."""
    return round(round(price / grid) * grid, 6)


def implied_cut_probabilities(
    prices: Mapping[YearMonth, float], meetings: Sequence[date], step: float
) -> dict[date, float]:
    """Return P(cut of one step) per meeting implied by contract prices (CME's method).

    A meeting month's average is ``M/N * start + (N-M)/N * end`` (M = days before the meeting
    day). A neighbouring month without a meeting pins one side: the previous one gives
    ``start``, else the next one gives ``end``; failing both, ``start`` is the end rate solved
    for the previous meeting month. Negative values mean a hike is priced.
    """
    meeting_months = {(day.year, day.month): day for day in meetings}
    if len(meeting_months) != len(meetings):
        raise ValueError("two meetings in one month are not supported")
    ends: dict[YearMonth, float] = {}
    result: dict[date, float] = {}
    for month, day in sorted(meeting_months.items()):
        n = calendar.monthrange(*month)[1]
        m = day.day - 1
        avg = 100.0 - prices[month]
        before, after = previous_month(month), next_month(month)
        if before in prices and before not in meeting_months:
            start = 100.0 - prices[before]
            end = (avg - m / n * start) * n / (n - m)
        elif after in prices and after not in meeting_months:
            end = 100.0 - prices[after]
            start = (avg - (n - m) / n * end) * n / m if m else end
        elif before in ends:
            start = ends[before]
            end = (avg - m / n * start) * n / (n - m)
        else:
            raise ValueError(f"no contract anchors the meeting of {day}")
        ends[month] = end
        result[day] = (start - end) / step
    return result
