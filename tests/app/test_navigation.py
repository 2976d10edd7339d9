"""Pilot tests of the drilldown on the sample session: dashboard -> sector -> symbol and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from app_support import (
    SESSION_11AM,
    SNAPSHOT_THEME,
    ScriptedEngine,
    applied,
    counted,
    make_sector_detail,
    wait_for,
)
from capgap.core.clock import ManualClock
from capgap.core.records import replace
from capgap.engine.sources import demo_engine
from capgap.market.universe import load_universe
from capgap.settings.model import Settings
from capgap.ui.app import CapgapApp
from capgap.ui.glyphs import use_ascii
from capgap.ui.messages import OpenSector, OpenSymbol
from capgap.ui.screens.dashboard import DashboardScreen
from capgap.ui.screens.fed_detail import FedDetailScreen
from capgap.ui.screens.help import HelpScreen
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.screens.spread import SpreadScreen
from capgap.ui.screens.symbol import SymbolScreen
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.constituents_table import ConstituentsTable, average_flags
from capgap.ui.widgets.ratio_chart import RatioChart
from capgap.ui.widgets.sectors_table import SectorsTable
from textual.widgets import Static


def demo_app(settings: Settings | None = None, at: datetime = SESSION_11AM) -> CapgapApp:
    engine = demo_engine(ManualClock(at))
    return CapgapApp(engine, animation_level="none", settings=settings)


async def data_shown(app: CapgapApp, pilot: Any) -> None:
    await wait_for(lambda: app.dashboard.latest is not None, pilot)


async def sector_shown(app: CapgapApp, pilot: Any) -> SectorScreen:
    await wait_for(lambda: isinstance(app.screen, SectorScreen), pilot)
    screen = app.screen
    assert isinstance(screen, SectorScreen)
    await wait_for(lambda: screen.detail is not None, pilot)
    return screen


def trail(app: CapgapApp) -> str:
    crumb = app.screen.query_one(Breadcrumb)
    return str(crumb.query_one("#crumb-trail", Static).content)


@pytest.mark.asyncio
async def test_enter_drills_from_sector_to_symbol_and_esc_comes_back_with_the_cursor() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await data_shown(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        await pilot.press("j", "j")  # vim keys move the sectors cursor
        assert table.cursor_row == 2
        sector = table.row_keys()[2]
        await pilot.press("enter")
        screen = await sector_shown(app, pilot)
        assert screen.target == sector
        detail = screen.detail
        assert detail is not None and detail.name == sector
        assert trail(app).endswith(screen.crumb)
        assert trail(app).startswith("Dashboard")
        constituents = screen.query_one(ConstituentsTable)
        # Every stock of the sector in the universe is a row.
        universe = load_universe()
        members = set(
            universe.constituents.filter(universe.constituents["sector"] == sector)["symbol"]
        )
        assert set(constituents.row_keys()) == members
        await pilot.press("down")
        chosen = constituents.cursor_key()
        assert chosen is not None
        await pilot.press("enter")
        symbol_screen = app.screen
        assert isinstance(symbol_screen, SymbolScreen)
        assert symbol_screen.symbol == chosen
        await wait_for(lambda: symbol_screen.detail is not None, pilot)
        assert symbol_screen.detail is not None
        # The symbol's last equals the constituent row's last in the same engine.
        row = next(r for r in detail.constituents if r.symbol == chosen)
        assert symbol_screen.detail.last == pytest.approx(row.last, rel=1e-3)
        assert symbol_screen.detail.daily, "a year of daily closes for the chart"
        assert trail(app).split(" › ")[-1] == chosen
        await pilot.press("escape")
        assert app.screen is screen
        assert constituents.cursor_key() == chosen, "the cursor is where it was"
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        assert table.cursor_row == 2
        await pilot.press("escape")  # Esc on the dashboard goes nowhere
        assert isinstance(app.screen, DashboardScreen)


@pytest.mark.asyncio
async def test_the_symbol_charts_do_not_jump_when_the_details_land() -> None:
    app = demo_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await data_shown(app, pilot)
        app.post_message(OpenSymbol("CAT"))
        await wait_for(
            lambda: isinstance(app.screen, SymbolScreen) and app.screen.query("#intraday-chart"),
            pilot,
        )
        screen = app.screen
        assert isinstance(screen, SymbolScreen)
        head = screen.query_one("#symbol-head")
        chart = screen.query_one("#intraday-chart")
        await wait_for(lambda: head.size.height > 0 and chart.size.height > 0, pilot)
        first_top = chart.region.y
        assert head.size.height == 2, "the name and price rows are there from the first frame"
        await wait_for(lambda: screen.detail is not None, pilot)
        await pilot.pause()
        assert head.size.height == 2
        assert chart.region.y == first_top
        lines = [strip.text for strip in head.render_lines(head.region.reset_offset)]
        assert lines[0].strip().startswith("CAT  CATERPILLAR INC")
        assert screen.detail is not None and screen.detail.last is not None
        assert lines[1].strip().startswith(f"Last {screen.detail.last:.2f}")


@pytest.mark.asyncio
async def test_sector_screen_sorts_and_filters() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await data_shown(app, pilot)
        app.post_message(OpenSector("Industrials"))
        screen = await sector_shown(app, pilot)
        table = screen.query_one(ConstituentsTable)
        await wait_for(lambda: table.row_count > 0, pilot)
        assert screen.detail is not None
        rows = {r.symbol: r for r in screen.detail.constituents}
        by_change = sorted(
            (r for r in rows.values() if r.change_pct is not None),
            key=lambda r: r.change_pct or 0.0,
            reverse=True,
        )
        assert table.row_keys()[: len(by_change)] == [r.symbol for r in by_change]
        await pilot.press("S")  # reverse: smallest change first
        assert table.row_keys()[0] == by_change[-1].symbol
        await pilot.press("slash")
        first = next(iter(rows))
        await pilot.press(*first.lower())
        assert first in table.row_keys()
        assert all(
            first.lower() in key.lower() or first.lower() in rows[key].name.lower()
            for key in table.row_keys()
        )
        await pilot.press("escape")  # clears the filter, stays on the screen
        assert app.screen is screen
        assert len(table.row_keys()) == len(rows)


@pytest.mark.asyncio
async def test_spread_screen_switches_windows_by_key() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await data_shown(app, pilot)
        app.dashboard.query_one("#spread").focus()
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, SpreadScreen)
        chart = screen.query_one("#spread-chart", RatioChart)
        await wait_for(lambda: chart.drawn, pilot)
        assert "1Y" in str(chart.border_title)
        year_points = len(chart._values)
        await pilot.press("3")
        assert app.window == "3m"
        assert "3M" in str(chart.border_title)
        # About 63 sessions in three months, against about 252 in the year.
        assert 58 <= len(chart._values) <= 67 < year_points
        await pilot.press("right_square_bracket")
        assert app.window == "6m"
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        # The dashboard's chart follows the window too.
        assert "6M" in str(app.dashboard.query_one(RatioChart).border_title)


@pytest.mark.asyncio
async def test_fed_screen_and_help_open_and_close() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await data_shown(app, pilot)
        await pilot.press("f")
        assert isinstance(app.screen, FedDetailScreen)
        assert trail(app) == "Dashboard › Fed"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {row[3] for row in app.screen.rows}
        assert {"quit", "help", "palette", "sort", "fed", "theme", "pause", "down"} <= ids
        await pilot.press("escape")
        assert isinstance(app.screen, FedDetailScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


@pytest.mark.asyncio
async def test_remapped_keys_work_and_the_help_shows_them() -> None:
    settings = Settings(keymap={"sort": "o", "fed": "F", "down": "n"})
    app = demo_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await data_shown(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        before = table.sort_column
        await pilot.press("s")  # no longer bound
        assert table.sort_column == before
        await pilot.press("o")
        assert table.sort_column != before
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("n")
        assert table.cursor_row == 1
        await pilot.press("F")
        assert isinstance(app.screen, FedDetailScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {row[3]: row[1] for row in app.screen.rows}
        assert keys["sort"] == "o"
        assert keys["fed"] == "F"


@pytest.mark.asyncio
async def test_theme_key_cycles_capgap_themes_and_remembers_the_choice(tmp_path: Any) -> None:
    from capgap.settings.state import load_state

    state = tmp_path / "state.toml"
    engine = demo_engine(ManualClock(SESSION_11AM))
    app = CapgapApp(engine, animation_level="none", state_path=state)
    async with app.run_test(size=(80, 24)) as pilot:
        await data_shown(app, pilot)
        first = app.theme
        assert first == "capgap-dark"
        await pilot.press("t")
        assert app.theme != first
        assert app.theme in app.capgap_theme_names()
        await pilot.pause()
        assert load_state(state).theme == app.theme
        seen = {first, app.theme}
        for _ in range(len(app.capgap_theme_names())):
            await pilot.press("t")
            seen.add(app.theme)
        assert seen == set(app.capgap_theme_names())


@pytest.mark.asyncio
async def test_pause_stops_updates_and_resume_restarts_them() -> None:
    app = counted(demo_app())
    async with app.run_test(size=(120, 40)) as pilot:
        await data_shown(app, pilot)
        await pilot.press("p")
        assert app.engine.paused
        assert app.dashboard.query_one("#paused-badge").display
        shown = applied(app)
        await pilot.pause(1.5)
        assert applied(app) <= shown + 1  # at most the poll already under way
        await pilot.press("p")
        assert not app.engine.paused
        assert not app.dashboard.query_one("#paused-badge").display
        await wait_for(lambda: applied(app) > shown + 1, pilot)


@pytest.mark.asyncio
async def test_a_sector_opened_after_the_replay_ended_still_gets_its_constituents() -> None:
    # The replay's loop ends at its last instant; the details then come from the store.
    close = datetime(2025, 12, 5, 16, 0, tzinfo=SESSION_11AM.tzinfo)
    engine = demo_engine(ManualClock(close, end=close))
    app = CapgapApp(engine, animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        await data_shown(app, pilot)
        await wait_for(lambda: app._engine_done, pilot)
        await pilot.press("enter")
        screen = await sector_shown(app, pilot)
        assert screen.detail is not None and screen.detail.constituents
        assert screen.detail.name == app.dashboard.query_one(SectorsTable).row_keys()[0]


@pytest.mark.asyncio
async def test_a_detail_screen_keeps_its_own_details_when_a_snapshot_carries_anothers() -> None:
    # The sector and symbol screens take a snapshot's details only when they are their own
    # target's (one DetailScreen rule): a late snapshot for the screen below changes nothing.
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await data_shown(app, pilot)
        await pilot.press("enter")
        screen = await sector_shown(app, pilot)
        own = screen.detail
        latest = app.latest
        assert own is not None and latest is not None
        other = replace(own, name=f"not {own.name}", constituents=())
        screen.apply_snapshot(replace(latest, sector_detail=other))
        assert screen.detail is own
        assert screen.query_one(ConstituentsTable).row_count == len(own.constituents)
        screen.apply_snapshot(replace(latest, sector_detail=replace(own, constituents=())))
        assert screen.detail is not None and screen.detail.constituents == ()


@pytest.mark.asyncio
async def test_sector_screen_lists_every_member_sorts_and_filters_them() -> None:
    # 483 members (the largest sector), built by hand: every row listed, the columns the
    # issue asks for filled, sorting and filtering over all of them.
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock)
    app = CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")  # type: ignore[arg-type]
    detail = make_sector_detail("Financials", 483)
    async with app.run_test(size=(120, 40)) as pilot:
        await data_shown(app, pilot)
        app.post_message(OpenSector("Financials"))
        await wait_for(lambda: isinstance(app.screen, SectorScreen), pilot)
        assert engine.latest is not None
        engine.push(replace(engine.latest, sector_detail=detail))
        screen = await sector_shown(app, pilot)
        table = screen.query_one(ConstituentsTable)
        await wait_for(lambda: table.row_count == 483, pilot)
        rows = {row.symbol: row for row in detail.constituents}
        # F000 weighs most: 1/8 over the sum of 1/(k+8), k = 0..482 (by hand, a second way).
        top = 100.0 * (1 / 8) / sum(1 / (k + 8) for k in range(483))
        assert table.get_cell("F000", "weight").plain == f"{top:.2f}"
        # F000 moved (0*37 % 101 - 50) / 20 = -2.5 %: its contribution is weight x change.
        assert table.get_cell("F000", "contrib").plain == f"▼{top * -2.5 / 100:+.3f}"
        assert table.get_cell("F000", "pe").plain == "8.0x"
        # F010 has negative forward earnings: no P/E; F016 is not quoted yet: dashes.
        assert table.get_cell("F010", "pe").plain == "—"
        assert table.get_cell("F016", "flags").plain == "——"
        # F000: 0 % 3 == 0 -> below its 50-day; 0 % 2 == 0 -> above its 200-day.
        assert table.get_cell("F000", "flags").plain == "▼▲"
        assert table.get_cell("F001", "flags").plain == "▲▼"
        by_change = sorted(
            (row for row in detail.constituents if row.change_pct is not None),
            key=lambda row: row.change_pct or 0.0,
            reverse=True,
        )
        keys = table.row_keys()
        assert [rows[key].change_pct for key in keys[: len(by_change)]] == [
            row.change_pct for row in by_change
        ]
        assert all(rows[key].change_pct is None for key in keys[len(by_change) :])
        await pilot.press("s", "s")  # Contrib, then Weight: heaviest first
        assert str(table.border_title).endswith("sort Weight ▼")
        assert table.row_keys()[:3] == ["F000", "F001", "F002"]
        await pilot.press("slash", "4", "2")
        wanted = [key for key in table.row_keys()]
        assert wanted and all("42" in key for key in wanted)
        assert sorted(wanted) == sorted(s for s in rows if "42" in s)
        await pilot.press("escape")
        assert table.row_count == 483
        # The flags follow the glyph set: ASCII shows ^ and v.
        use_ascii(True)
        try:
            assert average_flags(False, True) == "v^"
            assert average_flags(None, None) == "--"
        finally:
            use_ascii(False)
