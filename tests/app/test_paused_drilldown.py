"""Pause, then drill down: the clock and the figures stand still, the drilldown still loads."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from app_support import SESSION_11AM, wait_for
from builders import sample_daily
from capgap.core.clock import ManualClock
from capgap.engine.sources import demo_engine
from capgap.ui.app import CapgapApp
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.screens.symbol import SymbolScreen
from capgap.ui.widgets.line_chart import LineChart
from capgap.ui.widgets.sectors_table import SectorsTable


@pytest.mark.asyncio
async def test_a_drilldown_opened_while_paused_loads_its_history() -> None:
    # A minute between polls: the pause and both screens come while the engine sleeps.
    engine = demo_engine(ManualClock(SESSION_11AM), refresh_s=60.0)
    app = CapgapApp(engine, animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        before = app.latest
        assert before is not None
        await pilot.press("p")
        assert engine.paused
        sector = app.dashboard.query_one(SectorsTable).row_keys()[0]
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, SectorScreen) and screen.target == sector
        await wait_for(lambda: screen.detail is not None, pilot)
        assert screen.detail is not None and screen.detail.constituents
        await pilot.press("enter")
        symbol_screen = app.screen
        assert isinstance(symbol_screen, SymbolScreen)
        await wait_for(lambda: symbol_screen.detail is not None, pilot)
        detail = symbol_screen.detail
        assert detail is not None
        symbol = detail.symbol

        # The figures are those of the paused instant: no poll moved them.
        latest = app.latest
        assert latest is not None and latest.as_of == before.as_of
        assert latest.spread == before.spread and engine.paused
        # The history the screen needs was loaded all the same.
        daily = sample_daily()
        closes = daily.filter(pl.col("symbol") == symbol)
        assert detail.daily and detail.daily[0].day >= date(2024, 12, 5)
        assert all(value is not None for _, value in detail.changes.items()), detail.changes
        assert detail.beta_60d is not None and detail.corr_60d is not None
        assert detail.low_52w is not None and detail.high_52w is not None
        assert detail.low_52w < detail.high_52w
        year = closes.filter(pl.col("date") >= date(2024, 12, 5))["close"]
        assert detail.low_52w <= min(year.to_list()) and detail.high_52w >= max(year.to_list())
        assert detail.intraday, "today's minute bars up to the paused instant"
        assert detail.intraday[-1].time < SESSION_11AM
        await wait_for(
            lambda: bool(symbol_screen.query_one("#daily-chart", LineChart)._values), pilot
        )
        assert symbol_screen.query_one("#intraday-chart", LineChart)._values
