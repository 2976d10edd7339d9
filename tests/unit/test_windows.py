"""Window starts and bases against hand values, dateutil and an independent session count.

Also holds the panel's figures equal to the spread screen's over the same window, on a day
whose anniversaries fall on a weekend.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from builders import quotes_table
from capgap.analytics.quotes import quote_rows
from capgap.analytics.spread import spread_snapshot
from capgap.analytics.store import MarketStore
from capgap.core.schemas import DAILY
from capgap.core.snapshot import DailyPoint, RatioPoint, Valuation
from capgap.market.calendar import is_trading_day, sessions_between
from capgap.market.universe import Benchmarks
from capgap.market.windows import (
    WINDOWS,
    base_position,
    history_start,
    months_before,
    window_points,
    window_start,
    window_stats,
)
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

TODAY = date(2025, 12, 5)  # a Friday

# ------------------------------------------------------------------------ calendar arithmetic


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2025, 3, 31), 1, date(2025, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2025, 12, 5), 12, date(2024, 12, 5)),
        (date(2025, 1, 15), 3, date(2024, 10, 15)),
        (date(2025, 5, 31), 3, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
    ],
)
def test_months_before_clamps_the_day(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 36))
def test_months_before_agrees_with_dateutil_relativedelta(day: date, months: int) -> None:
    reference = day - relativedelta(months=months)
    assert months_before(day, months) == reference


# ------------------------------------------------------------------------------ window starts


@pytest.mark.parametrize(
    "window, expected",
    [
        ("5d", date(2025, 11, 28)),  # Dec 4, 3, 2, 1, then Nov 28
        ("1m", date(2025, 11, 5)),
        ("3m", date(2025, 9, 5)),
        ("6m", date(2025, 6, 5)),
        ("1y", date(2024, 12, 5)),
        ("ytd", date(2024, 12, 31)),  # the last close of the previous year is YTD's base
    ],
)
def test_window_start_by_hand(window: str, expected: date) -> None:
    assert window_start(window, TODAY) == expected


def test_window_start_clamps_skips_holidays_and_rejects_unknown_windows() -> None:
    assert window_start("1m", date(2025, 3, 31)) == date(2025, 2, 28)
    assert window_start("6m", date(2025, 8, 31)) == date(2025, 2, 28)
    # Monday Dec 1: Nov 28, 26, 25, 24, 21 (Thanksgiving, Nov 27, is closed).
    assert window_start("5d", date(2025, 12, 1)) == date(2025, 11, 21)
    assert window_start("ytd", date(2026, 1, 2)) == date(2025, 12, 31)
    with pytest.raises(ValueError, match="5y"):
        window_start("5y", TODAY)


@given(st.dates(min_value=date(2000, 1, 10), max_value=date(2035, 12, 31)))
def test_five_days_back_is_the_fifth_session_before_today(today: date) -> None:
    earlier = [s.day for s in sessions_between(today - timedelta(days=30), today)]
    assert window_start("5d", today) == [day for day in earlier if day < today][-5]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)), st.sampled_from(WINDOWS))
def test_every_window_starts_before_today(today: date, window: str) -> None:
    assert window_start(window, today) < today


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2035, 12, 31)))
def test_a_history_from_history_start_holds_the_1y_base(today: date) -> None:
    # The base is the last session on or before the start: walk back to it independently.
    base = window_start("1y", today)
    while not is_trading_day(base):
        base -= timedelta(days=1)
    assert history_start(today) <= base
    assert (base - history_start(today)).days <= 31, "a little over a year, not two"


# ---------------------------------------------------------------------------- bases, points

DAYS = [date(2025, 10, 31), date(2025, 11, 3), date(2025, 11, 5), date(2025, 11, 6)]


def test_base_is_the_last_day_on_or_before_the_start() -> None:
    today = date(2025, 12, 3)  # 1m starts Mon Nov 3: a session in the list
    assert base_position(DAYS, "1m", today) == 1
    today = date(2025, 12, 1)  # 1m starts Sat Nov 1: Friday Oct 31
    assert base_position(DAYS, "1m", today) == 0
    today = date(2025, 12, 4)  # 1m starts Tue Nov 4, missing from the list: Nov 3
    assert base_position(DAYS, "1m", today) == 1
    assert base_position(DAYS, "1m", date(2025, 11, 30)) is None  # starts Oct 30: not reached
    assert base_position([], "1m", today) is None


def test_window_points_begin_at_the_base_and_keep_todays_point() -> None:
    points = [DailyPoint(day, float(i)) for i, day in enumerate(DAYS)]
    today = date(2025, 12, 4)
    with_today = (*points, DailyPoint(today, 9.0))
    assert window_points(with_today, "1m", today) == (*points[1:], with_today[-1])
    # No base: every point is inside the window.
    assert window_points(points, "1m", date(2025, 11, 30)) == tuple(points)
    assert window_points([], "1y", today) == ()


def test_window_stats_measure_from_the_base() -> None:
    points = [
        RatioPoint(date(2025, 10, 31), 0.30),
        RatioPoint(date(2025, 11, 3), 0.40),
        RatioPoint(date(2025, 11, 5), 0.36),  # 1M's base on Dec 5: Nov 5
        RatioPoint(date(2025, 11, 6), 0.33),
        RatioPoint(date(2025, 11, 7), 0.42),
        RatioPoint(TODAY, 0.378),
    ]
    stats = window_stats(points, "1m", TODAY)
    assert stats is not None
    assert stats.first_day == date(2025, 11, 5)
    assert (stats.first, stats.last, stats.low, stats.high) == (0.36, 0.378, 0.33, 0.42)
    assert stats.change_pct == pytest.approx(5.0)  # 0.378 / 0.36 = 1.05
    # Mon Dec 1: 1M starts Sat Nov 1, so its base is Friday Oct 31, not Monday Nov 3.
    monday = window_stats(
        [*points[:-1], RatioPoint(date(2025, 12, 1), 0.378)], "1m", date(2025, 12, 1)
    )
    assert monday is not None and monday.first_day == date(2025, 10, 31)
    assert monday.change_pct == pytest.approx((0.378 / 0.30 - 1) * 100)
    # The points begin after 1Y's start: no base, no figures (the panel has none either).
    assert window_stats(points, "1y", TODAY) is None
    assert window_stats([], "ytd", TODAY) is None


# ------------------------------------------------------ the panel and the screen agree

BENCH = Benchmarks(
    "^GSPC", "^RUT", "SPY", "IWM", "IWD", "IWF", "IWN", "IWO", "^VIX", "^TNX", "ES=F", "RTY=F"
)


def test_panel_and_spread_screen_measure_every_window_from_the_same_base() -> None:
    # Monday 2025-12-08: a month back is Saturday Nov 8 and a year back Sunday 2024-12-08;
    # both bases are the Friday before. YTD's is the last close of 2024.
    today = date(2025, 12, 8)
    days = [s.day for s in sessions_between(date(2024, 10, 1), date(2025, 12, 5))]
    large = {day: 5000.0 + 3.0 * i for i, day in enumerate(days)}
    small = {day: 2000.0 + (i % 17) * 4.0 - i * 0.5 for i, day in enumerate(days)}
    store = MarketStore()
    store.apply_daily(
        pl.DataFrame(
            [
                (s, d, c, c, c, c, 0.0)
                for s, series in (("^GSPC", large), ("^RUT", small))
                for d, c in series.items()
            ],
            schema=DAILY,
            orient="row",
        )
    )
    moment = datetime(2025, 12, 8, 20, 0, tzinfo=UTC)
    last = {"^GSPC": 6400.0, "^RUT": 1900.0}
    store.apply_quotes(quotes_table([(s, moment, price, price, 0.0) for s, price in last.items()]))
    rows = quote_rows(store.quotes, ["^GSPC", "^RUT"])
    spread = spread_snapshot(store, BENCH, rows, {}, Valuation(None, None, None, None), today)
    bases = {
        "1m": date(2025, 11, 7),
        "3m": date(2025, 9, 8),  # Monday Sep 8 itself
        "ytd": date(2024, 12, 31),
        "1y": date(2024, 12, 6),
    }
    panel = dict(spread.relative_pp.items())
    for window, base in bases.items():
        small_change = last["^RUT"] / small[base] - 1
        large_change = last["^GSPC"] / large[base] - 1
        assert panel[window] == pytest.approx((small_change - large_change) * 100), window
        stats = window_stats(spread.ratio_history, window, today)
        assert stats is not None and stats.first_day == base, window
        expected = ((1 + small_change) / (1 + large_change) - 1) * 100
        assert stats.change_pct == pytest.approx(expected), window


def test_the_spread_panels_windows_are_its_fields_and_known_windows() -> None:
    from capgap.analytics.spread import PANEL_WINDOWS
    from capgap.core.snapshot import RelativePerformance
    from capgap.market.windows import WINDOWS

    fields = RelativePerformance(None, None, None, None, None, None).items()
    assert tuple(label for label, _ in fields if label != "1d") == PANEL_WINDOWS
    assert set(PANEL_WINDOWS) <= set(WINDOWS)
