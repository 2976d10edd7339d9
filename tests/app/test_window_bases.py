"""Every window measures from one base: the panel, the spread screen, the charts, the symbol.

The references are walked by hand over the sample's daily closes (sample_data/daily.parquet):
the base of a window is the last close on or before its start (the same day 1, 3 or 12
months earlier; Dec 31 of the previous year for YTD).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
from app_support import SESSION_11AM, wait_for
from builders import quotes_table, sample_daily
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import BARS, DAILY, empty
from capgap.engine.loop import Engine
from capgap.engine.sources import demo_engine
from capgap.feeds.base import ReferenceData
from capgap.market.universe import load_universe
from capgap.ui.app import CapgapApp
from capgap.ui.messages import OpenSymbol
from capgap.ui.screens.spread import SpreadScreen
from capgap.ui.screens.symbol import SymbolScreen
from capgap.ui.widgets.line_chart import LineChart
from capgap.ui.widgets.ratio_chart import RatioChart
from textual.widgets import Static

DAILY_BARS = sample_daily()
#: The keys of the chart windows (capgap/ui/windows.py).
WINDOW_KEYS = {"1m": "1", "3m": "3", "6m": "6", "ytd": "y", "1y": "Y"}


def close_on_or_before(symbol: str, day: date) -> tuple[date, float]:
    """Return the newest sample session of ``symbol`` not after ``day``, with its close."""
    rows = DAILY_BARS.filter((pl.col("symbol") == symbol) & (pl.col("date") <= day)).sort("date")
    return rows["date"][-1], rows["close"][-1]


def change(last: float, base: float) -> float:
    return (last / base - 1.0) * 100.0


async def spread_screen(app: CapgapApp, pilot: Any) -> SpreadScreen:
    await wait_for(lambda: app.dashboard.latest is not None, pilot)
    app.action_open_spread()
    await wait_for(
        lambda: isinstance(app.screen, SpreadScreen) and app.screen.query("#window-stats"), pilot
    )
    screen = app.screen
    assert isinstance(screen, SpreadScreen)
    return screen


def stats_text(screen: SpreadScreen) -> str:
    return str(screen.query_one("#window-stats", Static).content)


async def check_window(
    app: CapgapApp,
    pilot: Any,
    screen: SpreadScreen,
    window: str,
    base_day: date,
) -> None:
    """The screen's ratio change and the panel's S-L figure both measure from ``base_day``."""
    await pilot.press(WINDOW_KEYS[window])
    snapshot = app.latest
    assert snapshot is not None
    small, large = snapshot.spread.small, snapshot.spread.large
    assert small.last is not None and large.last is not None
    small_day, small_base = close_on_or_before("^RUT", base_day)
    large_day, large_base = close_on_or_before("^GSPC", base_day)
    assert small_day == large_day == base_day, "the reference base is a session"
    small_change, large_change = change(small.last, small_base), change(large.last, large_base)
    panel = dict(snapshot.spread.relative_pp.items())[window]
    assert panel == pytest.approx(small_change - large_change, abs=1e-9), window
    # The ratio's change over the same bases: (1 + s) / (1 + l) - 1.
    ratio_change = ((1 + small_change / 100) / (1 + large_change / 100) - 1) * 100
    base_ratio = small_base / large_base
    text = stats_text(screen)
    assert f"{base_ratio:.4f} -> {small.last / large.last:.4f}" in text, (window, text)
    assert f"{ratio_change:+.2f}%" in text, (window, text)


@pytest.mark.asyncio
async def test_the_spread_screen_measures_from_the_panels_bases_in_the_demo() -> None:
    # The case: at 11:00 on the sample day the screen said -3.39 % for YTD (from the
    # first close of 2025) where the panel's base gives -2.95 % (from the last close of 2024).
    app = CapgapApp(demo_engine(ManualClock(SESSION_11AM)), animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await spread_screen(app, pilot)
        await check_window(app, pilot, screen, "ytd", date(2024, 12, 31))
        assert "-2.95%" in stats_text(screen)
        await check_window(app, pilot, screen, "1m", date(2025, 11, 5))
        await check_window(app, pilot, screen, "1y", date(2024, 12, 5))


@pytest.mark.asyncio
async def test_the_dashboard_chart_begins_at_the_windows_base() -> None:
    app = CapgapApp(demo_engine(ManualClock(SESSION_11AM)), animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        chart = app.dashboard.query_one(RatioChart)
        app.action_set_window("ytd")  # the dashboard has no window keys: the palette sets it
        _, small = close_on_or_before("^RUT", date(2024, 12, 31))
        _, large = close_on_or_before("^GSPC", date(2024, 12, 31))
        # The chart's first point is the number the YTD change is measured from.
        assert chart._values[0] == pytest.approx(small / large)
        snapshot = app.latest
        assert snapshot is not None and snapshot.spread.ratio is not None
        assert chart._values[-1] == pytest.approx(snapshot.spread.ratio)


# ----------------------------------------------------------------- a day after a holiday

#: Monday 2025-08-04: a month back is Friday July 4 (a holiday), three months back Sunday May 4.
HOLIDAY_DAY = date(2025, 8, 4)


class SampleDayFeed:
    """The sample's daily bars served as of one past session: quotes are that day's closes."""

    name = "sample-day"
    demo = True

    def __init__(self, day: date) -> None:
        self.day = day
        self.moment = datetime(day.year, day.month, day.day, 16, tzinfo=NEW_YORK).astimezone(UTC)

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        rows = (
            DAILY_BARS.filter(pl.col("symbol").is_in(list(symbols)) & (pl.col("date") <= self.day))
            .sort("symbol", "date")
            .group_by("symbol", maintain_order=True)
            .agg(pl.col("date").last(), pl.col("close").tail(2))
            .filter(pl.col("date") == self.day)
        )
        return quotes_table(
            (s, self.moment, pair[-1], pair[0], 0.0) for s, _, pair in rows.iter_rows()
        )

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        return empty(BARS)

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        wanted = DAILY_BARS.filter(pl.col("symbol").is_in(list(symbols)))
        return wanted.filter(pl.col("date") < self.day).select(list(DAILY))

    async def reference(self) -> ReferenceData:
        return ReferenceData()

    async def aclose(self) -> None:
        return None


def holiday_app() -> CapgapApp:
    feed = SampleDayFeed(HOLIDAY_DAY)
    engine = Engine(feed, ManualClock(feed.moment), load_universe(), refresh_s=60.0)
    return CapgapApp(engine, animation_level="none")


@pytest.mark.asyncio
async def test_windows_over_a_holiday_and_a_weekend_agree_with_the_panel() -> None:
    app = holiday_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await spread_screen(app, pilot)
        await check_window(app, pilot, screen, "1m", date(2025, 7, 3))  # July 4 is a holiday
        await check_window(app, pilot, screen, "3m", date(2025, 5, 2))  # May 4 is a Sunday
        await check_window(app, pilot, screen, "ytd", date(2024, 12, 31))
        # The sample begins 2024-12-02: no close on or before 2024-08-04, no 1Y anywhere.
        await pilot.press("Y")
        snapshot = app.latest
        assert snapshot is not None and snapshot.spread.relative_pp.y1 is None
        assert "no history" in stats_text(screen)


@pytest.mark.asyncio
async def test_the_symbol_chart_begins_at_the_base_of_its_change() -> None:
    app = holiday_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        app.action_set_window("1m")
        app.post_message(OpenSymbol("CAT"))
        await wait_for(
            lambda: isinstance(app.screen, SymbolScreen) and app.screen.detail is not None, pilot
        )
        screen = app.screen
        assert isinstance(screen, SymbolScreen) and screen.detail is not None
        chart = screen.query_one("#daily-chart", LineChart)
        await wait_for(lambda: bool(chart._values), pilot)
        _, base = close_on_or_before("CAT", date(2025, 7, 3))
        last = screen.detail.last
        assert last is not None
        assert chart._values[0] == pytest.approx(base)
        assert screen.detail.changes.m1 == pytest.approx(change(last, base))
