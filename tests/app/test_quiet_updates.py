"""Updates that repaint only on change: same text, same title and same order cost nothing."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import DataTable, Static

from tui.ui.widgets.keyed_table import ValueText, ordering_key, set_cell_quietly, sort_if_moved
from tui.ui.widgets.quiet import set_title, show


class Harness(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(Content("a"), id="line")
        yield DataTable(id="table")


def count_refreshes(widget, monkeypatch) -> list[object]:
    calls: list[object] = []
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


async def test_a_quiet_cell_update_repaints_that_cell_only(monkeypatch):
    async with Harness().run_test() as pilot:
        table = pilot.app.query_one(DataTable)
        table.add_column("Name", key="name")
        table.add_column("Chg", key="chg")
        table.add_row("AAA", "+1.0", key="a")
        table.add_row("BBB", "-2.0", key="b")
        await pilot.pause()
        calls = count_refreshes(table, monkeypatch)
        set_cell_quietly(table, "b", "chg", "+3.0")
        assert table.get_cell("b", "chg") == "+3.0"
        # One refresh, of one region: the cell, one row high, as wide as its column.
        assert len(calls) == 1 and len(calls[0]) == 1
        region = calls[0][0]
        assert region.height == 1 and region.width == table.columns["chg"].get_render_width(table)


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
