"""Screenshots of every screen on the sample session at four sizes in two themes.

The sizes are the ones users run capgap at: 60x20 (the minimal layout), 80x24 (compact),
120x40 and 200x60. The themes are the default and the colour-blind one. Accept new images with
`pytest tests/app --snapshot-update` after looking at them (snapshot_report.html).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from app_support import SESSION_11AM, wait_for
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.engine.sources import demo_engine
from capgap.ui.app import CapgapApp
from capgap.ui.messages import OpenSector, OpenSymbol
from capgap.ui.screens.fed_detail import FedDetailScreen
from capgap.ui.screens.help import HelpScreen
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.screens.spread import SpreadScreen
from capgap.ui.screens.symbol import SymbolScreen
from capgap.ui.widgets.ratio_chart import RatioChart

SIZES = [(60, 20), (80, 24), (120, 40), (200, 60)]
THEMES = ["capgap-dark", "capgap-colorblind"]
BEFORE_CLOSE = datetime(2025, 12, 5, 15, 59, tzinfo=NEW_YORK)

Opener = Callable[[CapgapApp, Any], Awaitable[None]]


def demo_app(theme: str, at: datetime = SESSION_11AM) -> CapgapApp:
    # A manual clock never moves: the clock, the age and the countdown are the same every run.
    return CapgapApp(demo_engine(ManualClock(at)), theme=theme, animation_level="none")


async def dashboard(app: CapgapApp, pilot: Any) -> None:
    await wait_for(lambda: app.dashboard.latest is not None, pilot)


async def sector(app: CapgapApp, pilot: Any) -> None:
    await dashboard(app, pilot)
    app.post_message(OpenSector("Industrials"))
    await wait_for(
        lambda: isinstance(app.screen, SectorScreen) and app.screen.detail is not None, pilot
    )


async def symbol(app: CapgapApp, pilot: Any) -> None:
    await sector(app, pilot)
    app.post_message(OpenSymbol("CAT"))
    await wait_for(
        lambda: isinstance(app.screen, SymbolScreen) and app.screen.detail is not None, pilot
    )


async def spread(app: CapgapApp, pilot: Any) -> None:
    await dashboard(app, pilot)
    app.action_open_spread()
    await wait_for(
        lambda: isinstance(app.screen, SpreadScreen) and app.screen.query("#spread-chart"), pilot
    )
    chart = app.screen.query_one("#spread-chart", RatioChart)
    # The chart plots once on the snapshot and again at its laid-out size: wait for both.
    await wait_for(lambda: chart.drawn and chart.size.height > 0, pilot)
    # One more snapshot after the screen is up, so the chart has settled at its final size.
    seen = app.latest
    await wait_for(lambda: app.latest is not seen, pilot)
    await pilot.pause(0.1)


async def fed(app: CapgapApp, pilot: Any) -> None:
    await dashboard(app, pilot)
    await pilot.press("f")
    await wait_for(lambda: isinstance(app.screen, FedDetailScreen), pilot)


async def keys(app: CapgapApp, pilot: Any) -> None:
    await dashboard(app, pilot)
    await pilot.press("question_mark")
    await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)


SCREENS: dict[str, Opener] = {
    "dashboard": dashboard,
    "sector": sector,
    "symbol": symbol,
    "spread": spread,
    "fed": fed,
    "help": keys,
}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare: Any, screen: str, size: tuple[int, int], theme: str) -> None:
    app = demo_app(theme)

    async def run_before(pilot: Any) -> None:
        await SCREENS[screen](app, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_dashboard_before_the_close_sorted_by_sector(snap_compare: Any) -> None:
    app = demo_app("capgap-dark", BEFORE_CLOSE)

    async def run_before(pilot: Any) -> None:
        await dashboard(app, pilot)

    assert snap_compare(
        app, terminal_size=(120, 40), run_before=run_before, press=["s", "s", "s", "s"]
    )


def test_dashboard_in_ascii(snap_compare: Any) -> None:
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)),
        theme="capgap-dark",
        animation_level="none",
        ascii=True,
    )

    async def run_before(pilot: Any) -> None:
        await dashboard(app, pilot)
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
    finally:
        from capgap.ui.glyphs import use_ascii

        use_ascii(False)


def test_demo_before_the_open(snap_compare: Any) -> None:
    # The sample session's own pre-market (issue 17): SPY/IWM's trades and the index futures
    # at 08:00, the compact layout.
    app = demo_app("capgap-dark", datetime(2025, 12, 5, 8, 0, tzinfo=NEW_YORK))

    async def run_before(pilot: Any) -> None:
        await dashboard(app, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_dashboard_in_the_pre_market(snap_compare: Any, size: tuple[int, int]) -> None:
    # A snapshot made by hand (see test_extended_hours): the full-width form, fixed figures.
    from app_support import ScriptedEngine
    from test_extended_hours import PRE_GAP, extended_snapshot, ny

    now = ny(8, 15)
    engine = ScriptedEngine(ManualClock(now), extended_snapshot(now, PRE_GAP))
    app = CapgapApp(engine, theme="capgap-dark", animation_level="none")  # type: ignore[arg-type]

    async def run_before(pilot: Any) -> None:
        await dashboard(app, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_rotation_map(snap_compare: Any, size: tuple[int, int]) -> None:
    # The sample has no sectors' daily history yet: a map made by hand (see test_rotation_screen).
    from test_rotation_screen import open_map, rotation_app

    app = rotation_app()

    async def run_before(pilot: Any) -> None:
        await open_map(app, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_cutting_cycles(snap_compare: Any, size: tuple[int, int]) -> None:
    # The demo's study: the sample's synthetic long history (see test_cycles_screen).
    from test_cycles_screen import cycles_app, open_cycles

    app = cycles_app()

    async def run_before(pilot: Any) -> None:
        await open_cycles(app, pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
