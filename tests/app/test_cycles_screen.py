"""The cutting cycles' screen (issue 18, item 5): a key and the palette open it; it reads the
history once, works at 80x24 and 60x20 and in every shipped theme, and says why when it has none."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from app_support import SESSION_11AM, ScriptedEngine, make_snapshot, screen_lines, wait_for
from capgap.core.clock import ManualClock
from capgap.core.cycles import CyclesReport, HistoryUnavailable
from capgap.engine.cycles import load_cycles
from capgap.market.cycles import FIRST_CUTS
from capgap.ui.app import CapgapApp
from capgap.ui.glyphs import glyphs
from capgap.ui.screens.cycles import NO_LOADER, CyclesScreen, CyclesTable
from capgap.ui.widgets.cycles_chart import CyclesChart
from test_chart_colours import check_theme, each_theme
from textual.command import CommandList, CommandPalette


class CountingLoader:
    """The demo's loader (the sample's synthetic history), counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self._load = partial(load_cycles, demo=True, clock=ManualClock(SESSION_11AM))

    async def __call__(self) -> CyclesReport:
        self.calls += 1
        return await self._load()


def cycles_app(loader: Any = None) -> CapgapApp:
    engine = ScriptedEngine(ManualClock(SESSION_11AM), make_snapshot())
    return CapgapApp(
        engine,  # type: ignore[arg-type]
        theme="capgap-dark",
        animation_level="none",
        cycles=CountingLoader() if loader is None else loader,
    )


def chart_drawn(app: CapgapApp) -> bool:
    """Whether the cycles screen is up with its study shown and its chart laid out."""
    if not isinstance(app.screen, CyclesScreen) or app.screen.report is None:
        return False
    chart = app.screen.query_one(CyclesChart)
    return chart.drawn and chart.size.height > 0


async def open_cycles(app: CapgapApp, pilot: Any) -> None:
    await wait_for(lambda: app.dashboard.latest is not None, pilot)
    await pilot.press("u")
    await wait_for(lambda: chart_drawn(app), pilot)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_u_opens_the_cycles_with_the_current_cycle_the_chart_and_the_table(size):
    app = cycles_app()
    async with app.run_test(size=size) as pilot:
        await open_cycles(app, pilot)
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert "Cycles" in lines[0] and "DEMO" in lines[0]  # the breadcrumb and its badge
        assert "now: since 2024-09-18: 304 sessions, -5.10 pp" in text
        # The chart's end labels: the median and the current cycle, read without colour.
        assert f"{glyphs().knob}median" in text
        assert f"{glyphs().knob}now" in text
        table = app.screen.query_one(CyclesTable)
        # The median first, then the first cuts newest first: both fit at 80x24.
        assert table.row_keys() == ["median", *(cut.day.isoformat() for cut in FIRST_CUTS[::-1])]


async def test_the_table_shows_the_studys_figures_and_blanks() -> None:
    loader = CountingLoader()
    report = await loader()
    app = cycles_app(loader)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_cycles(app, pilot)
        table = app.screen.query_one(CyclesTable)
        first = report.cycles[0]
        cells = [table.get_cell(first.first_cut.isoformat(), key) for key in ("21", "252")]
        assert [str(cell) for cell in cells] == [
            f"{first.after[0]:+.2f}",
            f"{first.after[3]:+.2f}",
        ]
        median = [str(table.get_cell("median", key)) for key in ("21", "63", "126", "252")]
        assert median == [f"{value:+.2f}" for value in report.median if value is not None]


async def test_the_history_is_read_once_not_per_snapshot() -> None:
    loader = CountingLoader()
    app = cycles_app(loader)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_cycles(app, pilot)
        for _ in range(3):
            app.engine.push(make_snapshot())  # type: ignore[attr-defined]
            await pilot.pause()
        assert loader.calls == 1


async def test_the_palette_lists_the_cycles_and_opens_them() -> None:
    app = cycles_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Cutting cycles" in titles
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot)
        await pilot.press(*"Cutting cycles")
        await wait_for(lambda: app.screen.query_one(CommandList).option_count > 0, pilot)
        await pilot.press("enter")
        await wait_for(lambda: chart_drawn(app), pilot)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard, pilot)


async def test_without_history_the_screen_says_why_and_the_chart_is_empty() -> None:
    async def offline() -> CyclesReport:
        raise HistoryUnavailable("^GSPC's daily history: Yahoo chart: connection failed")

    loaders: list[tuple[Any, str]] = [(offline, "connection failed"), (None, NO_LOADER)]
    for loader, reason in loaders:
        engine = ScriptedEngine(ManualClock(SESSION_11AM), make_snapshot())
        app = CapgapApp(engine, animation_level="none", cycles=loader)  # type: ignore[arg-type]
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(lambda: app.dashboard.latest is not None, pilot)  # noqa: B023
            await pilot.press("u")
            await wait_for(lambda: reason[:40] in "\n".join(screen_lines(app)), pilot)  # noqa: B023
            text = "\n".join(screen_lines(app))
            assert "no index history" in text
            assert "no data" in text


async def test_the_chart_is_readable_in_every_shipped_theme() -> None:
    app = cycles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_cycles(app, pilot)
        problems = check_theme(app, "capgap-dark", "cycles") + await each_theme(
            app, pilot, "cycles"
        )
    assert not problems, "\n".join(problems)
