"""The gap in three parts on the spread screen (issue 18, item 3): a row per window, the legend,
at 80x24 and 60x20 (fewer windows, never wrapped), the window keys, every shipped theme."""

from __future__ import annotations

from typing import Any

import pytest
from app_support import SESSION_11AM, ScriptedEngine, make_snapshot, screen_lines, wait_for
from capgap.core.clock import ManualClock
from capgap.core.records import replace
from capgap.core.snapshot import Decomposition, GapParts, Snapshot
from capgap.ui.app import CapgapApp
from capgap.ui.screens.spread import SpreadScreen
from capgap.ui.widgets.gap_parts import GapPartsTable, windows_for_height
from capgap.ui.widgets.ratio_chart import RatioChart
from rich.color import ColorSystem
from rich.style import Style
from test_chart_colours import SHIPPED, unreadable

# Hand-made parts: each row's figures are distinct, so a row shown is a row found.
PARTS = {
    "1d": GapParts(0.12, -0.34, -0.09, -0.31),
    "5d": GapParts(0.25, 0.5, 0.17, 0.92),
    "1m": GapParts(1.11, 1.5, 0.76, 3.37),
    "3m": GapParts(2.22, 2.1, 1.19, 5.51),
    "ytd": GapParts(-6.5, 4.25, -1.18, -3.43),
    # The S&P 600 without a 1Y base: size and profitability blank, concentration and total kept.
    "1y": GapParts(-7.75, None, None, -2.21),
}
# The figures as the table writes them (arrow, sign, two decimals), by hand.
ROWS = {
    "1D": ("▲+0.12", "▼-0.34", "▼-0.09", "▼-0.31"),
    "5D": ("▲+0.25", "▲+0.50", "▲+0.17", "▲+0.92"),
    "1M": ("▲+1.11", "▲+1.50", "▲+0.76", "▲+3.37"),
    "3M": ("▲+2.22", "▲+2.10", "▲+1.19", "▲+5.51"),
    "YTD": ("▼-6.50", "▲+4.25", "▼-1.18", "▼-3.43"),
    "1Y": ("▼-7.75", "—", "—", "▼-2.21"),
}


def parts_snapshot() -> Snapshot:
    decomposition = Decomposition(
        windows=tuple(PARTS.items()), equal_weight="RSP", small_quality="^SP600"
    )
    return replace(make_snapshot(), decomposition=decomposition)


def spread_app() -> CapgapApp:
    engine = ScriptedEngine(ManualClock(SESSION_11AM), parts_snapshot())
    return CapgapApp(engine, theme="capgap-dark", animation_level="none")  # type: ignore[arg-type]


async def open_spread(app: CapgapApp, pilot: Any) -> None:
    await wait_for(lambda: app.dashboard.latest is not None, pilot)
    app.action_open_spread()

    def drawn() -> bool:
        if not isinstance(app.screen, SpreadScreen):
            return False
        charts = app.screen.query(RatioChart)
        return bool(charts) and charts.first().drawn and charts.first().size.height > 0

    await wait_for(drawn, pilot)
    await pilot.pause()


def table_rows(app: CapgapApp) -> dict[str, tuple[str, ...]]:
    """The table's rows on screen: window label -> the four figures, read from the screen."""
    table = app.screen.query_one(GapPartsTable)
    lines = screen_lines(app)[table.region.y : table.region.bottom]
    rows = {}
    for line in lines[1:]:
        label, *cells = line.split()
        if label in ROWS:
            rows[label] = tuple(cells)
    return rows


def table_text(app: CapgapApp) -> list[str]:
    table = app.screen.query_one(GapPartsTable)
    return screen_lines(app)[table.region.y : table.region.bottom]


async def test_the_spread_screen_shows_the_parts_at_80x24():
    app = spread_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_spread(app, pilot)
        text = table_text(app)
        assert text[0].split() == ["pp", "concentration", "size", "profitability", "total"]
        # 24 rows leave three windows: the chart's (1Y at start), the day, then YTD.
        assert table_rows(app) == {label: ROWS[label] for label in ("1D", "YTD", "1Y")}
        legend = text[-1]
        for pair in ("RSP-SPX", "SP600-RSP", "RUT-SP600"):
            assert pair in legend
        # Header, three rows and the legend: nothing wrapped onto a line of its own.
        assert len(text) == 5
        # The panel above leaves out its own row of windows: the totals are the table's.
        assert not any(line.strip().startswith("│ S-L") for line in screen_lines(app))
        # The chart keeps rows to draw in.
        assert app.screen.query_one("#spread-chart", RatioChart).size.height >= 6


async def test_a_window_key_brings_its_row():
    app = spread_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_spread(app, pilot)
        await pilot.press("3")
        await wait_for(lambda: "3M" in table_rows(app), pilot)
        assert table_rows(app) == {label: ROWS[label] for label in ("1D", "3M", "YTD")}


async def test_60x20_keeps_one_window_and_a_legend_that_fits():
    app = spread_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await open_spread(app, pilot)
        text = table_text(app)
        assert text[0].split() == ["pp", "conc.", "size", "profit.", "total"]
        assert table_rows(app) == {"1Y": ROWS["1Y"]}
        assert len(text) == 3
        assert text[-1].strip() == "conc. RSP-SPX · size SP600-RSP · profit. RUT-SP600"
        assert app.screen.query_one("#spread-chart", RatioChart).size.height >= 6


async def test_a_tall_screen_shows_every_window():
    app = spread_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_spread(app, pilot)
        assert table_rows(app) == ROWS
        assert "total RUT-SPX" in table_text(app)[-1]


def table_cells(app: CapgapApp) -> list[tuple[str, Style]]:
    table = app.screen.query_one(GapPartsTable)
    region = table.region
    strips = app.screen._compositor.render_strips()
    cells = []
    for y in range(region.y, region.bottom):
        x = 0
        for segment in strips[y]:
            for char in segment.text:
                if region.x <= x < region.right and char.strip():
                    cells.append((char, segment.style or Style()))
                x += 1
    return cells


async def test_the_table_is_readable_in_every_shipped_theme():
    app = spread_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_spread(app, pilot)
        problems = []
        for theme in SHIPPED:
            app.theme = theme
            await pilot.pause()
            await pilot.pause()
            cells = table_cells(app)
            assert sum(char in "▲▼" for char, _ in cells) == 10, theme
            for system in (ColorSystem.TRUECOLOR, ColorSystem.EIGHT_BIT, ColorSystem.STANDARD):
                problems += [f"{theme} {system.name}: {bad}" for bad in unreadable(cells, system)]
        assert problems == []


@pytest.mark.parametrize(
    ("height", "chosen", "expected"),
    [
        (40, "1y", ("1d", "5d", "1m", "3m", "ytd", "1y")),
        (24, "1y", ("1d", "ytd", "1y")),
        (24, "6m", ("1d", "1m", "ytd")),  # 6M has no row: the day and the most telling two
        (24, None, ("1d", "1m", "ytd")),
        (20, "3m", ("3m",)),
        (20, "6m", ("1d",)),
    ],
)
def test_windows_for_height(height: int, chosen: str | None, expected: tuple[str, ...]) -> None:
    assert windows_for_height(height, chosen) == expected
