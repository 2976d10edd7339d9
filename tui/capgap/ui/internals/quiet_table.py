"""A DataTable whose one-cell updates repaint, and re-render, that cell only.

Textual 8's ``update_cell`` refreshes the whole table, and the terminal is sent every visible
row again. It also bumps the table's update count, which keys every render cache, so the
next repaint renders every cell of every repainted row through Rich again, changed or not.
On a sectors table where a few figures per row move each second, that was the app's largest
CPU cost. Here a changed cell repaints its own region, and its row is re-assembled from
cells rendered before: only the changed cell goes through Rich.

This relies on DataTable internals (``_data``, ``_update_count``, ``_render_cell`` and its
cache keys). textual is pinned below 9, and tests/app/test_quiet_updates.py renders a
quietly updated table against one updated with ``update_cell``, line for line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.cache import LRUCache
from textual.reactive import Reactive
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, ColumnKey, RowKey

#: Justifications whose one-line result is the text and a gap on one side.
ONE_LINE_JUSTIFY = ("left", "right", "default")

#: Cells whose renderings are kept (each holds its current value's few styles only).
CELL_CACHE_SIZE = 4000
#: Renderings kept per cell: its styles under the cursor, hover and at a few row positions.
CELL_VARIANTS = 16
#: DataTable's caches keyed by its update count. The count only grows, so an entry made
#: before a bump can never be read again; left alone they fill to their bounds (1,000 to
#: 10,000 entries each) with dead renderings, megabytes by the close on the dashboard.
COUNTED_CACHES = ("_row_render_cache", "_cell_render_cache", "_row_renderable_cache", "_line_cache")


def same_cell(old: Any, new: Any) -> bool:
    """Whether a new cell would look like the old one (Text equality ignores the base style)."""
    if isinstance(old, Text) and isinstance(new, Text):
        return bool(old == new and old.style == new.style)
    return bool(old == new)


class QuietTable(DataTable[Any]):
    """A DataTable with ``set_cell_quietly``: one changed cell costs one cell."""

    auto_links = Reactive(False)  # cells hold no links

    def __init__(self, **kwargs: Any) -> None:
        # Set before DataTable's constructor, whose reactive watchers already clear caches.
        # Each cell's version: bumped when that cell alone changes.
        self._cell_versions: dict[tuple[RowKey | None, ColumnKey | None], int] = {}
        # How many of the table's update-count bumps were ours: the rest changed the table's
        # structure (rows, order, widths), after which no cached cell is trusted.
        self._quiet_bumps = 0
        # Per cell: the (cell version, structure) its renderings are of, and the renderings
        # by everything else they depend on. A changed cell drops its old renderings at once.
        self._quiet_cells: LRUCache[
            tuple[RowKey | None, ColumnKey | None],
            tuple[tuple[int, int], dict[tuple[object, ...], list[list[Segment]]]],
        ] = LRUCache(CELL_CACHE_SIZE)
        self._meta_styles: dict[tuple[int, int], Style] = {}
        self._updates = 0
        super().__init__(**kwargs)

    @property
    def _update_count(self) -> int:
        """DataTable's update count, which keys its render caches (see COUNTED_CACHES)."""
        return self._updates

    @_update_count.setter
    def _update_count(self, value: int) -> None:
        if value != self._updates:
            # Every entry of these caches is keyed by the old count: none can be hit again.
            for name in COUNTED_CACHES:
                cache = self.__dict__.get(name)
                if cache is not None:
                    cache.clear()
        self._updates = value

    def set_cell_quietly(self, row_key: str, column_key: str, value: Any) -> None:
        """Change one cell and repaint that cell only (column widths stay as they are)."""
        row, column = self._change_quietly(row_key, {column_key: value})
        self.refresh_coordinate(self.get_cell_coordinate(row, column))

    def set_row_quietly(self, row_key: str, changes: Mapping[str, Any]) -> None:
        """Change some cells of one row and repaint that row once (not once per cell)."""
        if len(changes) == 1:
            ((column_key, value),) = changes.items()
            self.set_cell_quietly(row_key, column_key, value)
        elif changes:
            row, _column = self._change_quietly(row_key, changes)
            self.refresh_row(self.get_row_index(row))

    def _change_quietly(self, row_key: str, changes: Mapping[str, Any]) -> tuple[RowKey, ColumnKey]:
        row = RowKey(row_key)
        cells = self._data[row]
        column = ColumnKey("")
        for column_key, value in changes.items():
            column = ColumnKey(column_key)
            cells[column] = value
            self._cell_versions[row, column] = self._cell_versions.get((row, column), 0) + 1
        # The row and line caches are keyed by the update count: a bump drops them, and the
        # repainted row is put together again from the cell cache below.
        self._update_count += 1
        self._quiet_bumps += 1
        return row, column

    def remove_rows(self, row_keys: Iterable[RowKey | str]) -> None:
        """Remove many rows at once, as ``remove_row`` removes one, in one pass over the rows.

        ``remove_row`` renumbers every row after the one it removes and re-sets the cursor
        and hover (each a repaint of their cells): a filter that drops 400 of 480 members
        took the sector screen half a second that way. Here the rows left are renumbered
        once, in their order, and the table is refreshed once.
        """
        gone = {RowKey(key) if isinstance(key, str) else key for key in row_keys}
        gone &= set(self.rows)
        if not gone:
            return
        self._require_update_dimensions = True
        self.check_idle()
        kept = [row.key for row in self.ordered_rows if row.key not in gone]
        self._row_locations = TwoWayDict({key: index for index, key in enumerate(kept)})
        for row_key in gone:
            for column_key in self._data[row_key]:
                self._updated_cells.discard(CellKey(row_key, column_key))
            self._new_rows.discard(row_key)
            del self.rows[row_key]
            del self._data[row_key]
        # As remove_row ends: the cursor and hover are clamped to the rows left.
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    def set_column_widths(self, widths: Mapping[str, int]) -> bool:
        """Give columns new fixed widths (by key) and lay the table out again; True if any changed.

        DataTable measures widths again only for cells updated with ``update_width``; a width
        set on a column whose cells stay the same would not be laid out (nor re-rendered:
        the render caches are keyed without widths).
        """
        changed = False
        for key, width in widths.items():
            column = self.columns.get(ColumnKey(key))
            if column is not None and column.width != width:
                column.width = width
                changed = True
        if changed:
            self._require_update_dimensions = True
            self._update_count += 1
            self.refresh(layout=True)
        return changed

    def set_column_labels(self, labels: Mapping[str, str]) -> bool:
        """Give columns new header labels (by key, justified as before); True if any changed.

        The header's renderings are cached under the update count: it is bumped, as for a
        new width, or the old labels would be served again.
        """
        changed = False
        for key, label in labels.items():
            column = self.columns.get(ColumnKey(key))
            if column is not None and column.label.plain != label:
                column.label = Text(label, justify=column.label.justify)
                changed = True
        if changed:
            self._update_count += 1
            self.refresh()
        return changed

    def sort(self, *columns: Any, key: Any = None, reverse: bool = False) -> QuietTable:
        """Sort as DataTable does, keeping rendered cells: a cell's row index is in its key."""
        before = self._update_count
        super().sort(*columns, key=key, reverse=reverse)
        # A sort moves rows, it changes no cell: the rows that moved miss the cache by index
        # (their zebra stripe and click meta change), the others are still right.
        self._quiet_bumps += self._update_count - before
        return self

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        if row_index < 0 or column_index < 0:
            # The header and row labels never change quietly.
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cell = (row_key, column_key)
        stamp = (self._cell_versions.get(cell, 0), self._update_count - self._quiet_bumps)
        slot = self._quiet_cells.get(cell)
        if slot is None or slot[0] != stamp or len(slot[1]) >= CELL_VARIANTS:
            slot = (stamp, {})
            self._quiet_cells[cell] = slot
        renderings = slot[1]
        key = (
            # Every other input of DataTable's own cell rendering (the indexes go into the
            # style's meta, which mouse clicks read).
            row_index,
            column_index,
            base_style,
            width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self.cell_padding,
            self.fixed_rows,
            self.fixed_columns,
            self.cursor_foreground_priority,
            self.cursor_background_priority,
            self._pseudo_class_state,
        )
        lines = renderings.get(key)
        if lines is None:
            lines = self._render_one_line_cell(
                row_index, column_index, base_style, width, cursor, hover
            ) or super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            renderings[key] = lines
        return lines

    def _render_one_line_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]] | None:
        """Render a one-line Text cell to the segments DataTable's Rich pipeline would give.

        DataTable renders every cell through Console.render_lines(Styled(Padding(text))): a
        tenth of a millisecond each, most of it generic layout. For the common cell (one line
        that fits, no base style, left or right justified) the result is simple: padding, the
        text's own styled runs, and the gap, each under the row's style. Anything else returns
        None and takes DataTable's path. The twin-table test holds the two equal.
        """
        row_key = self._row_locations.get_key(row_index)
        if row_key is None or self.rows[row_key].height != 1:
            return None
        cell = self._get_row_renderables(row_index).cells[column_index]
        if not isinstance(cell, Text) or cell.style:
            return None
        plain = cell.plain
        justify = cell.justify or self.app.console_options.justify or "default"
        pad = self.cell_padding
        gap = width - 2 * pad - cell.cell_len
        if gap < 0 or "\n" in plain or "\t" in plain or justify not in ONE_LINE_JUSTIFY:
            return None
        if justify == "right" and plain != plain.rstrip():
            # Rich strips trailing spaces before right-justifying; leave that to Rich.
            return None
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            row_index < self.fixed_rows or column_index < self.fixed_columns,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + self._cell_meta(row_index, column_index)
        pre_style += component_style
        runs = list(cell.render(self.app.console))
        blank = " " * gap
        if justify == "right":
            runs.insert(0, Segment(blank))
        else:
            runs.append(Segment(blank))
        if pad:
            runs = [Segment(" " * pad), *runs, Segment(" " * pad)]
        return [
            [
                Segment(run.text, pre_style + run.style + post_style)
                for run in runs
                if run.text and not run.control
            ]
        ]

    def _cell_meta(self, row_index: int, column_index: int) -> Style:
        # One meta style per position: Style.from_meta makes a new style (a new link id) on
        # each call, and a new style misses Rich's cache of style sums on every addition.
        meta = self._meta_styles.get((row_index, column_index))
        if meta is None:
            meta = Style.from_meta({"row": row_index, "column": column_index})
            self._meta_styles[row_index, column_index] = meta
        return meta

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._quiet_cells.clear()

    def notify_style_update(self) -> None:
        """Drop rendered cells with DataTable's own: the theme or CSS changed."""
        self._quiet_cells.clear()
        super().notify_style_update()
