"""The UI speaks Textual's idiom: messages up, a watched reactive, ids from the composer."""

from __future__ import annotations

import ast
import gc
import weakref
from pathlib import Path
from typing import Any

import capgap.ui
import pytest
from app_support import SESSION_11AM, wait_for
from capgap.core.chart_windows import CHART_WINDOWS
from capgap.core.clock import ManualClock
from capgap.engine.sources import demo_engine
from capgap.market.windows import WINDOW_LABELS, WINDOWS
from capgap.settings.keys import KNOWN_BINDINGS, SCREEN_IDS
from capgap.ui.app import CapgapApp
from capgap.ui.messages import OpenSector, OpenSymbol
from capgap.ui.screens.help import HelpScreen
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.screens.spread import SpreadScreen, window_content
from capgap.ui.screens.symbol import SymbolScreen
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.constituents_table import ConstituentsTable
from capgap.ui.widgets.fed_panel import FedPanel
from capgap.ui.widgets.keyed_table import SortedTable
from capgap.ui.widgets.line_chart import LineChart
from capgap.ui.widgets.odds_bars import OddsBars
from capgap.ui.widgets.ratio_chart import RatioChart
from capgap.ui.widgets.sectors_table import SectorsTable
from capgap.ui.widgets.spread_panel import SpreadPanel
from capgap.ui.widgets.status_line import StatusLine
from capgap.ui.widgets.style_panel import StylePanel
from capgap.ui.widgets.too_small import TooSmall
from capgap.ui.windows import WINDOW_BINDINGS
from textual.message import Message
from textual.widget import Widget

UI = Path(capgap.ui.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Return every module a file imports, at any depth (lazy and TYPE_CHECKING ones too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_no_screen_widget_or_command_imports_the_app() -> None:
    files = [*(UI / "screens").glob("*.py"), *(UI / "widgets").glob("*.py"), UI / "commands.py"]
    assert len(files) > 20
    importers = sorted(path.name for path in files if "capgap.ui.app" in imported_modules(path))
    assert importers == []


async def test_enter_posts_open_sector_and_open_symbol_that_the_app_handles() -> None:
    seen: list[Message] = []
    app = CapgapApp(demo_engine(ManualClock(SESSION_11AM)), animation_level="none")
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        table = app.dashboard.query_one(SectorsTable)
        sector = table.row_keys()[table.cursor_row]
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, SectorScreen), pilot)
        # The hook sees a message at each node it reaches (the screen, then the app): once each.
        opened = {id(m): m for m in seen if isinstance(m, OpenSector)}.values()
        assert [(m.name, m.kind) for m in opened] == [(sector, "sector")]
        screen = app.screen
        assert isinstance(screen, SectorScreen) and screen.target == sector
        constituents = screen.query_one(ConstituentsTable)
        await wait_for(lambda: constituents.row_count > 0, pilot)
        symbol = constituents.cursor_key()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, SymbolScreen), pilot)
        symbols = {id(m): m for m in seen if isinstance(m, OpenSymbol)}.values()
        assert [m.symbol for m in symbols] == [symbol]


async def test_a_closed_screen_is_not_kept_alive_by_its_window_watch() -> None:
    # A screen watches the app's window; Textual drops a closed watcher only at the next change
    # of the window, so a screen closed while the window stood still lived on with its widgets.
    app = CapgapApp(demo_engine(ManualClock(SESSION_11AM)), animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        app.action_open_spread()
        await wait_for(lambda: isinstance(app.screen, SpreadScreen), pilot)
        closed = weakref.ref(app.screen)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard, pilot)
        await pilot.pause()
        gc.collect()
        assert closed() is None


async def test_every_live_screen_on_the_stack_follows_the_window_reactive() -> None:
    app = CapgapApp(demo_engine(ManualClock(SESSION_11AM)), animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        app.action_open_spread()
        await wait_for(
            lambda: isinstance(app.screen, SpreadScreen) and app.screen.query("#spread-chart"),
            pilot,
        )
        spread = app.screen
        chart = spread.query_one("#spread-chart", RatioChart)
        await wait_for(lambda: chart.drawn, pilot)
        app.action_help()  # a modal on top: the spread screen is below, still on the stack
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        # Set by assignment, as any code may: no action routes it to the screens.
        app.window = "3m"
        await pilot.pause()
        assert "3M" in str(chart.border_title)
        dashboard_chart = app.dashboard.query_one(RatioChart)
        assert "3M" in str(dashboard_chart.border_title)


FACTORIES: list[Any] = [
    lambda **kw: Breadcrumb(demo=True, **kw),
    lambda **kw: ConstituentsTable(**kw),
    lambda **kw: FedPanel(ManualClock(SESSION_11AM), **kw),
    lambda **kw: LineChart(title="t", **kw),
    lambda **kw: OddsBars(**kw),
    lambda **kw: RatioChart(**kw),
    lambda **kw: SectorsTable(**kw),
    lambda **kw: SpreadPanel(**kw),
    lambda **kw: StatusLine(ManualClock(SESSION_11AM), demo=True, source_label="x", **kw),
    lambda **kw: StylePanel(**kw),
    lambda **kw: TooSmall(**kw),
]


@pytest.mark.parametrize("make", FACTORIES)
def test_widgets_take_name_id_and_classes_from_their_composer(make: Any) -> None:
    widget: Widget = make(name="n", id="chosen-id", classes="one two", disabled=True)
    assert (widget.name, widget.id, widget.disabled) == ("n", "chosen-id", True)
    assert {"one", "two"} <= set(widget.classes)
    assert make().id is None  # no widget picks its own id


async def test_no_production_class_keeps_a_count_only_tests_read() -> None:
    app = CapgapApp(demo_engine(ManualClock(SESSION_11AM)), animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        chart = app.dashboard.query_one(RatioChart)
        assert chart.drawn
        for owner, name in ((app, "received"), (app.dashboard, "applied"), (chart, "redraws")):
            assert not hasattr(owner, name), name


def test_sectors_table_is_the_one_sorted_table() -> None:
    assert issubclass(SectorsTable, SortedTable)
    # Nothing of the sorting is written a second time in the subclass.
    for method in ("cycle_sort", "reverse_sort", "resort", "sort_column", "descending"):
        assert method not in vars(SectorsTable), method


def test_every_list_of_chart_windows_is_the_one_table() -> None:
    ids = [window.id for window in CHART_WINDOWS]
    assert ids == ["1m", "3m", "6m", "ytd", "1y"]
    # The window maths: every chart window and the 5D figure window, labelled.
    assert ("5d", *ids) == WINDOWS
    assert all(WINDOW_LABELS[window.id] == window.label for window in CHART_WINDOWS)
    # The key bindings, and the keymap's ids with the same default keys.
    by_id = {binding.id: binding for binding in WINDOW_BINDINGS}
    keymap_ids = {key for key in KNOWN_BINDINGS if key.startswith("window_")}
    assert (
        keymap_ids
        == set(by_id)
        == {w.binding_id for w in CHART_WINDOWS}
        | {
            "window_next",
            "window_prev",
        }
    )
    for window in CHART_WINDOWS:
        assert by_id[window.binding_id].key == KNOWN_BINDINGS[window.binding_id][0] == window.key
        assert by_id[window.binding_id].action == f"app.set_window({window.id!r})"
    # The screens with charts take every window id; the spread screen's hint lists the keys.
    for screen in ("symbol", "spread"):
        assert set(by_id) <= set(SCREEN_IDS[screen][0])
    assert "keys 1 3 6 y Y [ ]" in window_content(None, "1y").plain


async def test_the_palette_offers_exactly_the_chart_windows() -> None:
    app = CapgapApp(demo_engine(ManualClock(SESSION_11AM)), animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        shown = [title.removeprefix("Window: ") for title in titles if title.startswith("Window:")]
        assert shown == [window.label for window in CHART_WINDOWS]
