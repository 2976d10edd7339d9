"""A text panel's height follows its number of lines, and only a new count costs a layout."""

from __future__ import annotations

from datetime import datetime

from app_support import SNAPSHOT_THEME, wait_for
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.engine.sources import demo_engine
from capgap.ui.app import CapgapApp
from capgap.ui.widgets.content_panel import ContentPanel
from capgap.ui.widgets.spread_panel import SpreadPanel
from textual.app import App, ComposeResult
from textual.content import Content


class _PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ContentPanel(title="panel", id="panel")


async def test_a_line_that_comes_and_goes_changes_the_panels_height() -> None:
    # The spread panel gains its futures line at 16:00 after it was first filled: the panel
    # kept the height of its first fill and cut its last line (the P/E) off.
    app = _PanelApp()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(ContentPanel)
        panel.show(Content("one\ntwo"))
        await pilot.pause()
        assert panel.size.height == 2
        panel.show(Content("one\ntwo\nthree"))
        await pilot.pause()
        assert panel.size.height == 3
        panel.show(Content("one"))
        await pilot.pause()
        assert panel.size.height == 1


async def test_the_spread_panel_keeps_its_valuation_line_through_a_resize_after_the_close() -> None:
    # At 16:00 the futures' line joins the spread panel. At 80x24 (a panel of fixed height)
    # the ratio's statistics make way so the P/E line stays; back at 120x40 (the panel's own
    # height) every line is there again. Before: the P/E line was cut in both.
    clock = ManualClock(datetime(2025, 12, 5, 16, 0, 30, tzinfo=NEW_YORK))
    app = CapgapApp(demo_engine(clock), theme=SNAPSHOT_THEME, animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.dashboard.query_one(SpreadPanel)

        def shown() -> list[str]:
            lines = [
                strip.text.strip()
                for strip in (panel.render_line(y) for y in range(panel.size.height))
            ]
            return [line for line in lines if line]

        await wait_for(lambda: any(line.startswith("fut ") for line in shown()), pilot)
        assert [line.split()[0] for line in shown()] == [
            "S&P", "Russell", "fut", "pp", "S-L", "RUT/SPX", "Fwd",
        ]  # fmt: skip
        await pilot.resize_terminal(80, 24)
        await wait_for(lambda: not any(line.startswith("RUT/SPX") for line in shown()), pilot)
        assert [line.split()[0] for line in shown()] == [
            "S&P",
            "Russell",
            "fut",
            "pp",
            "S-L",
            "Fwd",
        ]
        await pilot.resize_terminal(120, 40)
        await wait_for(lambda: any(line.startswith("RUT/SPX") for line in shown()), pilot)
        assert shown()[-1].startswith("Fwd P/E")
