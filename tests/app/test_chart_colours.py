"""Every chart takes its colours from the theme: readable in each shipped theme, at 16 colours too.

The cells are read from the rendered screen (the compositor's strips), inside each chart's
region: the dashboard's ratio chart, the spread screen's, the symbol screen's two and the Fed
screen's rate path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app_support import SESSION_11AM, wait_for
from capgap.core.clock import ManualClock
from capgap.core.resources import themes_dir
from capgap.engine.sources import demo_engine
from capgap.ui.app import CapgapApp
from capgap.ui.messages import OpenSector, OpenSymbol
from capgap.ui.screens.fed_detail import FedDetailScreen
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.screens.spread import SpreadScreen
from capgap.ui.screens.symbol import SymbolScreen
from capgap.ui.themes import load_themes
from rich.color import Color as RichColor
from rich.color import ColorSystem, ColorType
from rich.style import Style
from textual.widget import Widget
from textual_plotext import PlotextPlot

SHIPPED = load_themes([themes_dir()]).names
#: Each chart's region must hold at least this many drawn cells (axes, labels and the line).
MIN_DRAWN = 40

Cell = tuple[str, Style]


def chart_cells(app: CapgapApp) -> Iterator[tuple[str, list[Cell]]]:
    """Yield each visible chart's id and its non-blank cells (character and style)."""
    strips = app.screen._compositor.render_strips()
    for chart in app.screen.query(PlotextPlot):
        if not chart.display or chart.region.area == 0:
            continue
        region = chart.region
        cells: list[Cell] = []
        for y in range(region.y, region.bottom):
            x = 0
            for segment in strips[y]:
                for char in segment.text:
                    if region.x <= x < region.right and char.strip():
                        cells.append((char, segment.style or Style()))
                    x += 1
        yield str(chart.id), cells


def shown(color: RichColor | None, system: ColorSystem) -> RichColor | None:
    """Return ``color`` as a terminal of ``system`` shows it (None: the terminal's default)."""
    if color is None or color.type == ColorType.DEFAULT:
        return None
    return color.downgrade(system)


def unreadable(cells: list[Cell], system: ColorSystem) -> list[str]:
    """Return the cells drawn in their own background's colour."""
    bad = []
    for char, style in cells:
        fore, back = shown(style.color, system), shown(style.bgcolor, system)
        # The terminal's default foreground and background differ by definition.
        if fore is not None and back is not None and fore.get_truecolor() == back.get_truecolor():
            bad.append(f"{char!r} {style}")
    return bad


def not_ansi(cells: list[Cell]) -> list[str]:
    """Return the cells of a colour outside the terminal's palette, or with a forced background."""
    bad = []
    for char, style in cells:
        colors = [color for color in (style.color, style.bgcolor) if color is not None]
        if any(color.type not in (ColorType.DEFAULT, ColorType.STANDARD) for color in colors):
            bad.append(f"{char!r} {style}")
        elif style.bgcolor is not None and style.bgcolor.type != ColorType.DEFAULT:
            bad.append(f"{char!r} {style} (background)")
    return bad


def not_grey(cells: list[Cell]) -> list[str]:
    """Return the cells with a colour whose red, green and blue differ."""
    bad = []
    for char, style in cells:
        for color in (style.color, style.bgcolor):
            if color is not None and color.type != ColorType.DEFAULT:
                red, green, blue = color.get_truecolor()
                if not red == green == blue:
                    bad.append(f"{char!r} {style}")
                    break
    return bad


def check_theme(app: CapgapApp, theme: str, where: str) -> list[str]:
    """Return every problem of the charts on screen in ``theme``, one line each (empty: none)."""
    problems = []
    charts = list(chart_cells(app))
    if not charts:
        return [f"{theme} {where}: no chart on screen"]
    for chart, cells in charts:
        label = f"{theme} {where} #{chart}"
        if len(cells) < MIN_DRAWN:
            problems.append(f"{label}: only {len(cells)} cells drawn")
        checks = {
            f"fg == bg at {system.name}": unreadable(cells, system)
            for system in (ColorSystem.TRUECOLOR, ColorSystem.EIGHT_BIT, ColorSystem.STANDARD)
        }
        if theme == "capgap-ansi":
            # The terminal's own palette: ANSI colours only, and its background shows through.
            checks["not the terminal's palette"] = not_ansi(cells)
        if theme == "capgap-mono":
            checks["not a grey"] = not_grey(cells)
        for kind, bad in checks.items():
            if bad:
                problems.append(f"{label}: {kind} in {len(bad)} of {len(cells)} cells, {bad[0]}")
    return problems


def charts_drawn(app: CapgapApp) -> bool:
    """Whether the active screen has its shown charts laid out (a hidden view's wait)."""
    charts = [
        chart
        for chart in app.screen.query(PlotextPlot)
        if all(node.display for node in chart.ancestors_with_self if isinstance(node, Widget))
    ]
    return bool(charts) and all(chart.size.height > 0 for chart in charts)


async def settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.pause()


async def each_theme(app: CapgapApp, pilot: Any, where: str) -> list[str]:
    problems = []
    for theme in SHIPPED:
        app.theme = theme
        await settle(pilot)
        problems.extend(check_theme(app, theme, where))
    return problems


async def test_every_chart_is_readable_in_every_shipped_theme() -> None:
    assert {"capgap-ansi", "capgap-mono", "capgap-light"} <= set(SHIPPED)
    # Started in the ANSI theme, then switched through all of them on every screen.
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), theme="capgap-ansi", animation_level="none"
    )
    problems: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        await settle(pilot)
        problems += check_theme(app, "capgap-ansi", "dashboard at start")
        problems += await each_theme(app, pilot, "dashboard")

        app.action_open_spread()
        await wait_for(lambda: isinstance(app.screen, SpreadScreen) and charts_drawn(app), pilot)
        problems += await each_theme(app, pilot, "spread")
        await pilot.press("escape")

        app.post_message(OpenSector("Industrials"))
        await wait_for(
            lambda: isinstance(app.screen, SectorScreen) and app.screen.detail is not None, pilot
        )
        app.post_message(OpenSymbol("CAT"))
        await wait_for(
            lambda: isinstance(app.screen, SymbolScreen) and app.screen.detail is not None, pilot
        )
        problems += await each_theme(app, pilot, "symbol")
        app.action_dashboard()
        await wait_for(lambda: app.screen is app.dashboard, pilot)

        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, FedDetailScreen) and charts_drawn(app), pilot)
        problems += await each_theme(app, pilot, "fed")
        # The odds over time: the next meeting's cut odds over three months (the sample's).
        await pilot.press("o")
        await wait_for(lambda: charts_drawn(app) and "-history" in app.screen.classes, pilot)
        problems += await each_theme(app, pilot, "fed odds over time")
    assert not problems, "\n".join(problems)
