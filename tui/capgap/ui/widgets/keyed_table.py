"""Tables whose rows are keyed: each snapshot adds, updates and removes rows by key."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Unpack

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from capgap.ui.format import by_direction, signed_figure
from capgap.ui.glyphs import glyphs
from capgap.ui.internals.quiet_table import QuietTable, same_cell
from capgap.ui.vim import VIM_TABLE_BINDINGS
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.quiet import set_title

Cell = str | Text


class ValueText(Text):
    """A table cell that carries the number (or name) it shows, so sorting uses values."""

    __slots__ = ("value",)

    def __init__(self, text: str, value: float | str | None, *, right: bool = False) -> None:
        super().__init__(text, justify="right" if right else "left", no_wrap=True, end="")
        self.value = value


def ordering_key(descending: bool) -> Callable[[Any], tuple[bool, float | str]]:
    """Return a sort key over ValueText cells that puts missing values last in both directions."""

    def key(cell: Any) -> tuple[bool, float | str]:
        value = cell.value if isinstance(cell, ValueText) else None
        if value is None:
            # Ascending sorts False first; the reversed (descending) sort puts True first.
            return (not descending, 0.0)
        return (descending, value)

    return key


def sort_if_moved(
    table: DataTable[Any], column: str, key: Callable[[Any], Any], *, reverse: bool
) -> bool:
    """Sort on ``column`` unless the rows are already in that order; return whether they moved.

    ``DataTable.sort`` repaints the whole table even when the order stays, as it does on
    most ticks. The order is found the way ``sort`` finds it (a stable sort of the rows in
    insertion order), so the two agree on ties.
    """
    column_key = ColumnKey(column)
    order = sorted(
        table.rows, key=lambda row: key(table.get_cell(row, column_key)), reverse=reverse
    )
    if order == [row.key for row in table.ordered_rows]:
        return False
    table.sort(column_key, key=key, reverse=reverse)
    return True


def theme_styles(variables: dict[str, str]) -> tuple[Style, Style]:
    """Return the up and down styles of a theme (DataTable's rich Text cannot see variables)."""
    up = Color.parse(variables.get("gap-up", variables.get("success", "green")))
    down = Color.parse(variables.get("gap-down", variables.get("error", "red")))
    return Style(color=up.rich_color), Style(color=down.rich_color)


def signed_cell(value: float | None, styles: tuple[Style, Style], decimals: int = 2) -> ValueText:
    """Return '▲+0.19' in the up or down style, carrying the value for sorting."""
    figure = signed_figure(value, decimals, fit=True)
    cell = ValueText(figure.text, value, right=True)
    style = by_direction(figure.shown, *styles, None)
    if style is not None:
        cell.stylize(style)
    return cell


class KeyedTable(QuietTable):
    """A table whose rows are keyed: a new snapshot adds, updates and removes rows by key."""

    DEFAULT_CLASSES = "box"

    BINDINGS = VIM_TABLE_BINDINGS

    #: key, label, width, right-aligned (the numbers)
    COLUMNS: ClassVar[tuple[tuple[str, str, int, bool], ...]] = ()

    def __init__(
        self,
        *,
        title: str,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(
            cursor_type="row",
            zebra_stripes=True,
            **options,
        )
        self.border_title = title
        self._pending: Sequence[tuple[str, Mapping[str, Cell]]] | None = None

    def on_mount(self) -> None:
        """Create the columns with stable keys, then show rows that came first."""
        for key, label, width, right in self.COLUMNS:
            header = Text(label, justify="right" if right else "left")
            self.add_column(header, key=key, width=width)
        if self._pending is not None:
            self.sync(self._pending)

    def row_keys(self) -> list[str]:
        """Return the row keys in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    def cursor_key(self) -> str | None:
        """Return the key of the row under the cursor (None when the table is empty)."""
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value)

    def _text(self, cell: Cell, right: bool) -> Text:
        if isinstance(cell, Text):
            return cell
        # Plain Text: market strings never pass through markup.
        return Text(cell, justify="right" if right else "left")

    def update_rows(
        self, rows: Sequence[tuple[str, Mapping[str, Cell]]], *, remeasure: bool = False
    ) -> bool:
        """Add, update and remove rows by key, touching only changed cells; True if rows moved.

        ``remeasure``: the column widths changed since the last update, so the table must
        measure them again and repaint whole (each changed cell goes through ``update_cell``).
        """
        if not self.columns:
            self._pending = rows
            return False
        keep = {key for key, _cells in rows}
        removed = [row_key for row_key in self.rows if row_key.value not in keep]
        # In one pass: a filter can drop hundreds of rows at once.
        self.remove_rows(removed)
        added = False
        for key, cells in rows:
            texts = {
                column: self._text(cells[column], right)
                for column, _label, _width, right in self.COLUMNS
            }
            if key not in self.rows:
                self.add_row(*texts.values(), key=key)
                added = True
                continue
            changed = {
                column: text
                for column, text in texts.items()
                if not same_cell(self.get_cell(key, column), text)
            }
            if remeasure:
                for column, text in changed.items():
                    self.update_cell(key, column, text, update_width=True)
            else:
                self.set_row_quietly(key, changed)
        return added or bool(removed)

    def sync(self, rows: Sequence[tuple[str, Mapping[str, Cell]]]) -> None:
        """Show ``rows`` (key, cells by column) in exactly that order."""
        self.update_rows(rows)
        if not self.columns:
            return
        wanted = [key for key, _cells in rows]
        if self.row_keys() != wanted:
            position = {key: index for index, key in enumerate(wanted)}
            order = {self.get_cell(key, self.COLUMNS[0][0]).plain: position[key] for key in wanted}
            self.sort(self.COLUMNS[0][0], key=lambda cell: order[cell.plain])


class SortedTable(KeyedTable):
    """A keyed table sorted on the values behind its cells; `s` cycles columns, `S` reverses."""

    #: column key, label, starts descending
    SORTS: ClassVar[tuple[tuple[str, str, bool], ...]] = ()

    def __init__(
        self,
        *,
        title: str,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(title=title, **options)
        self._title = title
        self._sort_index = 0
        self._descending = self.SORTS[0][2] if self.SORTS else False
        self._styles: tuple[Style, Style] = (Style(), Style())
        self._update_title()

    def on_mount(self) -> None:
        """Follow theme changes (the up/down colours live in cells).

        Textual runs KeyedTable.on_mount (the columns) itself: handlers run for each class.
        """
        self._styles = theme_styles(self.app.theme_variables)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def _restyle(self) -> None:
        self._styles = theme_styles(self.app.theme_variables)
        self.restyled()

    def on_unmount(self) -> None:
        """Leave the theme signal: its callback would keep this widget alive for good."""
        self.app.theme_changed_signal.unsubscribe(self)

    def restyled(self) -> None:
        """Re-render the rows in the new theme's colours (subclasses keep their rows)."""

    @property
    def sort_column(self) -> str:
        """Key of the column the rows are sorted on."""
        return self.SORTS[self._sort_index][0]

    @property
    def descending(self) -> bool:
        """True when the largest values come first."""
        return self._descending

    def signed(self, value: float | None, decimals: int = 2) -> ValueText:
        """Return '▲+0.19' coloured by direction, carrying the value for sorting."""
        return signed_cell(value, self._styles, decimals)

    def show(
        self, rows: Sequence[tuple[str, Mapping[str, Cell]]], *, remeasure: bool = False
    ) -> None:
        """Update the rows by key and keep them in the current sort (see update_rows)."""
        first = not self.row_count
        self.update_rows(rows, remeasure=remeasure)
        self.resort()
        if first and self.row_count:
            # The first fill starts at the top, not wherever the first row added was sorted to.
            self.move_cursor(row=0, animate=False)

    def resort(self) -> None:
        """Sort on the current column; the cursor follows its row, not its screen position."""
        if not self.row_count or not self.SORTS:
            return
        cursor = self.cursor_key()
        moved = sort_if_moved(
            self, self.sort_column, ordering_key(self._descending), reverse=self._descending
        )
        if moved and cursor is not None:
            self.move_cursor(row=self.get_row_index(cursor), animate=False, scroll=False)

    def cycle_sort(self) -> None:
        """Sort on the next column of the cycle (with that column's natural direction)."""
        self._sort_index = (self._sort_index + 1) % len(self.SORTS)
        self._descending = self.SORTS[self._sort_index][2]
        self._update_title()
        self.resort()

    def reverse_sort(self) -> None:
        """Reverse the direction of the current sort."""
        self._descending = not self._descending
        self._update_title()
        self.resort()

    def _update_title(self) -> None:
        if not self.SORTS:
            return
        label = self.SORTS[self._sort_index][1]
        marks = glyphs()
        arrow_mark = marks.down if self._descending else marks.up
        set_title(self, f"{self._title} {marks.dot} sort {label} {arrow_mark}")
