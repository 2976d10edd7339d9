"""Updates that repaint only on change: same text, same title and same order cost nothing."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from capgap.ui.internals.quiet_table import QuietTable
from capgap.ui.widgets.keyed_table import ValueText, ordering_key, sort_if_moved
from capgap.ui.widgets.quiet import set_title, show
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey


class Harness(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(Content("a"), id="line")
        yield QuietTable(id="table")


def count_refreshes(widget, monkeypatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    original = widget.refresh

    def counting(*regions, **kwargs):
        calls.append(regions)
        return original(*regions, **kwargs)

    monkeypatch.setattr(widget, "refresh", counting)
    return calls


async def test_same_text_and_title_do_not_repaint(monkeypatch):
    async with Harness().run_test() as pilot:
        line = pilot.app.query_one("#line", Static)
        calls = count_refreshes(line, monkeypatch)
        assert not show(line, Content("a"))
        set_title(line, None)
        assert calls == []
        assert show(line, Content("b"))
        set_title(line, "Sectors")
        set_title(line, "Sectors")
        assert len(calls) == 2
        assert line.border_title == "Sectors"


async def two_rows(pilot) -> QuietTable:
    """The harness's table with two rows, a and b, painted once."""
    table = pilot.app.query_one(QuietTable)
    table.add_column("Name", key="name")
    table.add_column("Chg", key="chg")
    table.add_row("AAA", "+1.0", key="a")
    table.add_row("BBB", "-2.0", key="b")
    await pilot.pause()
    return table


async def test_a_quiet_cell_update_repaints_that_cell_only(monkeypatch):
    async with Harness().run_test() as pilot:
        table = await two_rows(pilot)
        calls = count_refreshes(table, monkeypatch)
        table.set_cell_quietly("b", "chg", "+3.0")
        assert table.get_cell("b", "chg") == "+3.0"
        # One refresh, of one region: the cell, one row high, as wide as its column.
        assert len(calls) == 1 and len(calls[0]) == 1
        region = calls[0][0]
        width = table.columns[ColumnKey("chg")].get_render_width(table)
        assert region.height == 1 and region.width == width


async def test_a_row_of_changes_repaints_the_row_once(monkeypatch):
    async with Harness().run_test() as pilot:
        table = await two_rows(pilot)
        calls = count_refreshes(table, monkeypatch)
        table.set_row_quietly("b", {"name": "BB", "chg": "+3.0"})
        table.set_row_quietly("a", {})
        assert [table.get_cell("b", column) for column in ("name", "chg")] == ["BB", "+3.0"]
        # One refresh: row b's line (DataTable renders a row's line whole in any case).
        assert len(calls) == 1 and len(calls[0]) == 1
        region = calls[0][0]
        assert region.height == 1 and region.y == table._get_row_region(1).y


async def test_sort_if_moved_sorts_like_datatable_and_only_when_needed():
    async with Harness().run_test() as pilot:
        table = pilot.app.query_one(DataTable)
        table.add_column("Value", key="v")
        for key, value in [("a", 2.0), ("b", None), ("c", 5.0), ("d", 2.0)]:
            table.add_row(ValueText(f"{value}", value), key=key)
        by_value = ordering_key(descending=True)
        assert sort_if_moved(table, "v", by_value, reverse=True)
        order = [row.key.value for row in table.ordered_rows]
        # The reference: DataTable's own sort of the same rows.
        table.sort("v", key=by_value, reverse=True)
        assert [row.key.value for row in table.ordered_rows] == order
        assert order[0] == "c" and order[-1] == "b"  # largest first, the missing value last
        assert not sort_if_moved(table, "v", by_value, reverse=True)


class TwinTables(App[None]):
    """The quiet table and, beside it, the reference: a DataTable updated with update_cell."""

    CSS = "DataTable { height: 9; width: 44; }"

    def __init__(self, cursor_type: str = "row", cell_padding: int = 1) -> None:
        super().__init__()
        self.options: dict[str, Any] = {"zebra_stripes": True, "cursor_type": cursor_type}
        self.cell_padding = cell_padding

    def compose(self) -> ComposeResult:
        yield QuietTable(id="quiet", **self.options)
        yield DataTable(id="reference", **self.options)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.cell_padding = self.cell_padding


def rendered(table: DataTable) -> list[list[tuple[str, object, object]]]:
    """Every visible line of a table, as (text, style, meta) runs (link ids are random)."""
    strips = table.render_lines(table.size.region)
    return [
        [
            (segment.text, style.clear_meta_and_links(), style.meta)
            for segment in strip
            for style in [segment.style or Style()]
        ]
        for strip in strips
    ]


UP, DOWN = Style(color="green"), Style(color="red", bold=True)


def signed(value: float) -> ValueText:
    """A right-justified number in the up or down colour, as the sectors table makes them."""
    cell = ValueText(f"{value:+.2f}", value, right=True)
    cell.stylize(UP if value > 0 else DOWN)
    return cell


def movers(*pairs: tuple[str, float]) -> ValueText:
    """Symbols in plain text and changes styled in the middle of the cell."""
    cell = ValueText("", None)
    for symbol, change in pairs:
        cell.append(f"{symbol} ")
        cell.append(f"{change:+.1f} ", UP if change > 0 else DOWN)
    return cell


ROWS = [
    ("a", "Energy", signed(1.5), movers(("XOM", 1.2))),
    ("b", "[b]Utilities[/b]", signed(-0.25), ""),
    ("c", "日本 Tech", signed(2.0), movers(("NVDA", 3.1), ("AMD", -0.4))),
    ("d", Text("Banks", style="italic"), Text("n/a", justify="center"), "x" * 30),
]
# (row, column, new cell) steps; "cursor" and "sort" move the cursor or sort by name.
STEPS: list[tuple[str, str, Any]] = [
    ("a", "chg", signed(1.75)),
    ("c", "chg", signed(-0.5)),
    ("cursor", "", None),
    ("b", "name", "Utils"),
    ("a", "chg", signed(1.75)),
    ("sort", "", None),
    ("d", "chg", signed(9.99)),
    ("c", "note", movers(("AMD", 5.0))),
    ("cursor", "", None),
    ("c", "name", "Technology and more"),
    ("b", "chg", Text("trail  ", justify="right")),
    ("a", "note", "exactly twelve"),
    ("d", "name", ""),
    ("cursor", "", None),
    ("a", "row", {"name": "Oil", "chg": signed(-3.0), "note": movers(("CVX", -2.5))}),
]


@pytest.mark.parametrize(("cursor_type", "cell_padding"), [("row", 1), ("cell", 0), ("row", 2)])
async def test_a_quiet_table_renders_what_update_cell_renders(cursor_type, cell_padding):
    app = TwinTables(cursor_type, cell_padding)
    async with app.run_test(size=(100, 20)) as pilot:
        quiet = pilot.app.query_one("#quiet", QuietTable)
        reference = pilot.app.query_one("#reference", DataTable)
        for table in (quiet, reference):
            table.fixed_columns = 1
            table.add_column("Name", key="name", width=12)
            table.add_column("Chg", key="chg", width=8)
            table.add_column("Note", key="note", width=14)
            for key, name, change, note in ROWS:
                table.add_row(name, change, note, key=key)
        # Neither has focus: the two must differ only in how they were updated.
        pilot.app.set_focus(None)
        await pilot.pause()
        assert rendered(quiet) == rendered(reference)
        for row, column, cell in STEPS:
            if row == "cursor":
                quiet.action_cursor_down()
                reference.action_cursor_down()
            elif row == "sort":
                quiet.sort("chg", key=lambda text: text.plain)
                reference.sort("chg", key=lambda text: text.plain)
            elif column == "row":
                quiet.set_row_quietly(row, cell)
                for key, value in cell.items():
                    reference.update_cell(row, key, value)
            else:
                quiet.set_cell_quietly(row, column, cell)
                reference.update_cell(row, column, cell)
            await pilot.pause()
            assert rendered(quiet) == rendered(reference), (row, column, cell)
        assert quiet.get_cell("c", "name") == "Technology and more"


async def test_a_quiet_update_renders_only_the_changed_cell(monkeypatch):
    async with TwinTables().run_test(size=(90, 20)) as pilot:
        quiet = pilot.app.query_one("#quiet", QuietTable)
        quiet.add_column("Name", key="name", width=12)
        quiet.add_column("Chg", key="chg", width=8)
        quiet.add_column("Note", key="note", width=8)
        for key, name, change, _note in ROWS:
            quiet.add_row(name, change, "-", key=key)
        await pilot.pause()
        rendered(quiet)
        cells: list[tuple[int, int]] = []
        original = QuietTable._render_one_line_cell

        def counting(self, row_index, column_index, *args, **kwargs):
            cells.append((row_index, column_index))
            return original(self, row_index, column_index, *args, **kwargs)

        # Every cell the cache misses is rendered through here first.
        monkeypatch.setattr(QuietTable, "_render_one_line_cell", counting)
        quiet.set_cell_quietly("b", "chg", signed(-0.3))
        lines = rendered(quiet)
        # Row b is the second data row, under the header; its other two cells come from cache.
        assert cells == [(1, 1)]
        assert "-0.30" in "".join(run[0] for run in lines[2])


async def test_removing_many_rows_at_once_renders_what_remove_row_renders():
    # The sector screen's filter drops hundreds of members in one go: one pass, same table.
    async with TwinTables().run_test(size=(100, 20)) as pilot:
        quiet = pilot.app.query_one("#quiet", QuietTable)
        reference = pilot.app.query_one("#reference", DataTable)
        keys = [f"r{index:02d}" for index in range(30)]
        for table in (quiet, reference):
            table.add_column("Name", key="name", width=12)
            table.add_column("Chg", key="chg", width=8)
            for index, key in enumerate(keys):
                table.add_row(f"member {index}", signed((index % 7) - 3.0), key=key)
            table.sort("name", key=lambda text: text, reverse=True)
            table.move_cursor(row=20)
        pilot.app.set_focus(None)
        await pilot.pause()
        gone = [key for index, key in enumerate(keys) if index % 3 != 1]
        quiet.remove_rows(gone)
        for key in gone:
            reference.remove_row(key)
        await pilot.pause()
        assert [row.key for row in quiet.ordered_rows] == [
            row.key for row in reference.ordered_rows
        ]
        assert quiet.row_count == 10 and quiet.cursor_coordinate == reference.cursor_coordinate
        assert rendered(quiet) == rendered(reference)
        # The rows left still take updates, and new rows go after them.
        quiet.set_cell_quietly("r01", "chg", signed(4.0))
        reference.update_cell("r01", "chg", signed(4.0))
        for table in (quiet, reference):
            table.add_row("late", signed(1.0), key="late")
        await pilot.pause()
        assert rendered(quiet) == rendered(reference)


def live_segments() -> int:
    """How many rendered segments are alive in the process (after a collection)."""
    gc.collect()
    return sum(1 for item in gc.get_objects() if isinstance(item, Segment))


async def test_a_table_updated_all_day_keeps_no_stale_renderings():
    # The dashboard's tables change a few cells every second for hours: what they render for
    # a superseded value or layout can never be shown again and must not be kept (it was
    # megabytes by the close, the caches filling up to their bounds with dead lines).
    async with TwinTables().run_test(size=(100, 20)) as pilot:
        quiet = pilot.app.query_one("#quiet", QuietTable)
        quiet.add_column("Name", key="name", width=12)
        quiet.add_column("Chg", key="chg", width=8)
        quiet.add_column("Note", key="note", width=14)
        for key, name, change, note in ROWS:
            quiet.add_row(name, change, note, key=key)
        await pilot.pause()

        def update(step: int) -> None:
            row = "abcd"[step % 4]
            quiet.set_row_quietly(row, {"chg": signed(step / 100), "note": movers(("X", step))})
            rendered(quiet)

        for step in range(40):
            update(step)
        warm = live_segments()
        for step in range(40, 400):
            update(step)
        # What is kept is what the table shows now: the same, however long it has run.
        assert live_segments() - warm < 40
        lines = rendered(quiet)
        assert "+3.99" in "".join(run[0] for run in lines[4])
