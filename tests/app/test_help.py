"""The `?` screen: every binding id in full (what [keymap] takes), every row reachable by key."""

from __future__ import annotations

from typing import Any

import pytest
from app_support import SESSION_11AM, screen_lines, wait_for
from capgap.core.clock import ManualClock
from capgap.engine.sources import demo_engine
from capgap.settings.keys import KNOWN_BINDINGS
from capgap.ui.app import CapgapApp
from capgap.ui.screens.help import HelpScreen
from textual.widgets import DataTable


async def help_open(size: tuple[int, int], pilot: Any, app: CapgapApp) -> DataTable[Any]:
    await wait_for(lambda: app.dashboard.latest is not None, pilot)
    await pilot.press("question_mark")
    await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
    await pilot.pause()
    return app.screen.query_one("#help-keys", DataTable)


def table_lines(app: CapgapApp) -> list[str]:
    """Return the text of the help table's rows as on screen (its scrollbars left out)."""
    region = app.screen.query_one("#help-keys", DataTable).scrollable_content_region
    lines = screen_lines(app)[region.y : region.bottom]
    return [line[region.x : region.right] for line in lines]


def row_on_screen(app: CapgapApp, where: str, binding_id: str) -> bool:
    """Whether a row starts with ``where`` and ends with the whole id (the last column)."""
    return any(
        line.split() and line.strip().startswith(where) and line.split()[-1] == binding_id
        for line in table_lines(app)
    )


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
async def test_every_id_shows_in_full_and_j_k_g_G_move_through_every_row(
    size: tuple[int, int],
) -> None:
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), theme="capgap-dark", animation_level="none"
    )
    async with app.run_test(size=size) as pilot:
        table = await help_open(size, pilot, app)
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.rows
        assert {row[3] for row in rows} <= set(KNOWN_BINDINGS)
        assert "window_next" in {row[3] for row in rows}
        # j walks down one row at a time; the row under the cursor is on screen, id whole.
        for index, (where, _keys, _does, binding_id) in enumerate(rows):
            assert table.cursor_row == index
            await pilot.pause()
            assert row_on_screen(app, where, binding_id), (index, binding_id)
            await pilot.press("j")
        assert table.cursor_row == len(rows) - 1
        # g to the top, G to the last row: the last row is shown, not hidden under a bar.
        await pilot.press("g")
        await pilot.pause()
        assert table.cursor_row == 0
        assert row_on_screen(app, rows[0][0], rows[0][3])
        await pilot.press("G")
        await pilot.pause()
        assert table.cursor_row == len(rows) - 1
        assert row_on_screen(app, rows[-1][0], rows[-1][3])
        await pilot.press("k")
        assert table.cursor_row == len(rows) - 2
        # Esc closes it.
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_a_table_that_fits_shows_every_row_without_scrolling() -> None:
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), theme="capgap-dark", animation_level="none"
    )
    async with app.run_test(size=(120, 60)) as pilot:
        await help_open((120, 60), pilot, app)
        assert isinstance(app.screen, HelpScreen)
        for where, _keys, _does, binding_id in app.screen.rows:
            assert row_on_screen(app, where, binding_id), binding_id
