"""The sectors table: large vs small per GICS sector, updated cell by cell, sortable on values."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from textual.coordinate import Coordinate
from textual.widgets.data_table import ColumnKey

from capgap.core.snapshot import Mover, SectorRow
from capgap.ui.format import fit_decimals, fmt_signed, missing, short_sector, shown_value
from capgap.ui.glyphs import glyphs
from capgap.ui.vim import VIM_TABLE_BINDINGS
from capgap.ui.widgets.keyed_table import (
    ValueText,
    ordering_key,
    signed_cell,
    sort_if_moved,
    theme_styles,
)
from capgap.ui.widgets.quiet import set_subtitle, set_title
from capgap.ui.widgets.quiet_table import QuietTable, same_cell

#: Shown instead of a small-cap ETF when the small leg is the constituents' mean.
CONSTITUENTS_MARK = "constit.*"


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the table: key, label and width (None: set by the number of movers)."""

    key: str
    label: str
    width: int | None


# Every width is fixed: the table never re-measures its columns, so a tick never shifts
# them, and DataTable's cell cache (keyed without the width) never serves a stale header.
COLUMNS = (
    # The changes and the spread come first: a 60-column terminal shows them without scrolling.
    Column("sector", "Sector", 12),
    Column("large", "Lg %", 6),
    Column("small", "Sm %", 6),
    Column("spread", "S-L pp", 6),
    Column("large_etf", "Lg", 4),
    Column("small_etf", "Sm", len(CONSTITUENTS_MARK)),
    Column("tag", "Tag", 3),
    Column("breadth", "Brd%", 4),
    Column("leaders", "Leaders", None),
    Column("laggards", "Laggards", None),
)
#: Room for one mover, "BRK-B +12.3", and the gap between two.
MOVER_WIDTH = 11
MOVER_GAP = 2


def movers_width(count: int) -> int:
    """Return the width of a leaders or laggards column showing ``count`` movers."""
    return count * MOVER_WIDTH + (count - 1) * MOVER_GAP


def table_width(movers: int, cell_padding: int = 1) -> int:
    """Return the width of every column, padding included, with ``movers`` movers each side."""
    fixed = sum(column.width or movers_width(movers) for column in COLUMNS)
    return fixed + 2 * cell_padding * len(COLUMNS)


#: The sort cycle of `s`: column key, label, whether it starts descending.
SORTS: tuple[tuple[str, str, bool], ...] = (
    ("spread", "S-L", True),
    ("large", "Large %", True),
    ("small", "Small %", True),
    ("breadth", "Breadth", True),
    ("sector", "Sector", False),
)


def sort_value(row: SectorRow, column: str) -> float | str | None:
    """Return the value a column sorts on (the number behind the formatted cell)."""
    values: dict[str, float | str | None] = {
        "spread": row.spread_pp,
        "large": row.large.change_pct,
        "small": row.small.change_pct,
        "breadth": row.breadth_pct,
        "sector": row.sector,
    }
    return values[column]


class SectorsTable(QuietTable):
    """Rows keyed by sector name, columns by key; later ticks only update changed cells."""

    DEFAULT_CLASSES = "box"

    BINDINGS = VIM_TABLE_BINDINGS

    def __init__(self) -> None:
        super().__init__(id="sectors", cursor_type="row", zebra_stripes=True)
        self._sort_index = 0
        self._descending = SORTS[0][2]
        self._rows: tuple[SectorRow, ...] = ()
        self._styles: tuple[Style, Style] = (Style(), Style())
        self._movers_shown = 2
        self._remeasure = False
        self._update_title(constituents=False)

    def on_mount(self) -> None:
        """Create the columns once, with stable keys."""
        for column in COLUMNS:
            width = column.width or movers_width(self._movers_shown)
            self.add_column(column.label, key=column.key, width=width)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    @property
    def sort_column(self) -> str:
        """Key of the column the rows are sorted on."""
        return SORTS[self._sort_index][0]

    @property
    def descending(self) -> bool:
        """True when the largest values come first."""
        return self._descending

    def row_order(self) -> list[str]:
        """Return the sector names in the order shown."""
        keys = (
            self.coordinate_to_cell_key(Coordinate(index, 0)).row_key
            for index in range(self.row_count)
        )
        return [str(key.value) for key in keys]

    def _restyle(self) -> None:
        self._styles = self._resolve_styles()
        if self._rows:
            self.apply(self._rows, redraw=True)

    def _resolve_styles(self) -> tuple[Style, Style]:
        # DataTable renders rich Text, which cannot see theme variables: resolve them here.
        return theme_styles(self.app.theme_variables)

    def _signed(self, value: float | None, decimals: int = 2) -> ValueText:
        return signed_cell(value, self._styles, decimals)

    def _wanted_movers(self) -> int:
        # Three movers when they fit without scrolling, else two (120 columns fit two exactly).
        return 3 if table_width(3, self.cell_padding) <= self.size.width else 2

    def on_unmount(self) -> None:
        """Leave the theme signal: its callback would keep this widget alive for good."""
        self.app.theme_changed_signal.unsubscribe(self)

    def on_resize(self) -> None:
        """Show two or three movers depending on the width."""
        if self._wanted_movers() != self._movers_shown:
            self._set_movers(self._wanted_movers())
            if self._rows:
                self.apply(self._rows)

    def _set_movers(self, count: int) -> None:
        self._movers_shown = count
        for key in ("leaders", "laggards"):
            # The columns keep their keys; only their width follows the count.
            column = self.columns.get(ColumnKey(key))
            if column is not None:
                column.width = movers_width(count)
                self._remeasure = True

    def _movers(self, movers: tuple[Mover, ...]) -> ValueText:
        if not movers:
            return ValueText(missing(), None)
        cell = ValueText("", None)
        for index, mover in enumerate(movers[: self._movers_shown]):
            if index:
                cell.append("  ")
            # Symbols are appended as plain text: "[AAPL]" must never be read as markup.
            # No style on them either: each styled run costs escape codes on every repaint.
            cell.append(mover.symbol)
            cell.append(" ")
            places = fit_decimals(mover.change_pct, 1)
            shown = shown_value(mover.change_pct, places) or 0.0
            style = self._styles[0] if shown > 0 else self._styles[1]
            cell.append(fmt_signed(mover.change_pct, places), style if shown else "")
        return cell

    def _cells(self, row: SectorRow) -> dict[str, ValueText]:
        small_etf = row.small.symbol or (CONSTITUENTS_MARK if row.small.from_constituents else "")
        breadth = missing() if row.breadth_pct is None else f"{row.breadth_pct:.0f}%"
        return {
            "sector": ValueText(short_sector(row.sector), row.sector),
            "tag": ValueText("CYC" if row.tag == "cyclical" else "DEF", row.tag),
            "large_etf": ValueText(row.large.symbol or missing(), row.large.symbol),
            "large": self._signed(row.large.change_pct),
            "small_etf": ValueText(small_etf or missing(), small_etf),
            "small": self._signed(row.small.change_pct),
            "spread": self._signed(row.spread_pp),
            "breadth": ValueText(breadth, row.breadth_pct, right=True),
            "leaders": self._movers(row.leaders),
            "laggards": self._movers(row.laggards),
        }

    def apply(self, rows: tuple[SectorRow, ...], *, redraw: bool = False) -> None:
        """Show new sector rows: add new sectors, update changed cells, keep the sort.

        ``redraw`` rebuilds every row's cells (new styles); otherwise a row equal to the one
        shown before is left as it is.
        """
        first = not self._rows
        if first:
            self._styles = self._resolve_styles()
        shown = {row.sector: row for row in self._rows}
        self._rows = rows
        if self._wanted_movers() != self._movers_shown:
            self._set_movers(self._wanted_movers())
        redraw = redraw or self._remeasure
        seen: set[str] = set()
        for row in rows:
            seen.add(row.sector)
            if not redraw and shown.get(row.sector) == row and row.sector in self.rows:
                continue
            cells = self._cells(row)
            if row.sector not in self.rows:
                self.add_row(*(cells[column.key] for column in COLUMNS), key=row.sector)
                continue
            changed = {
                column.key: cells[column.key]
                for column in COLUMNS
                if not same_cell(self.get_cell(row.sector, column.key), cells[column.key])
            }
            if self._remeasure:
                # After a width change the table must recompute its columns: a full repaint.
                for column_key, cell in changed.items():
                    self.update_cell(row.sector, column_key, cell, update_width=True)
            else:
                self.set_row_quietly(row.sector, changed)
        self._remeasure = False
        for key in [key for key in self.rows if key.value not in seen]:
            self.remove_row(key)
        self._update_title(constituents=any(row.small.from_constituents for row in rows))
        self._resort()
        if first:
            # The first fill starts at the top, not wherever the first row added was sorted to.
            self.move_cursor(row=0, animate=False)

    def _update_title(self, *, constituents: bool) -> None:
        label = SORTS[self._sort_index][1]
        marks = glyphs()
        arrow_mark = marks.down if self._descending else marks.up
        set_title(self, f"Sectors {marks.dot} sort {label} {arrow_mark}")
        set_subtitle(self, "* small leg = constituents' mean" if constituents else "")

    def _resort(self) -> None:
        if not self.row_count:
            return
        cursor_key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        if sort_if_moved(
            self, self.sort_column, ordering_key(self._descending), reverse=self._descending
        ):
            # The cursor follows its sector, not its screen position.
            self.move_cursor(row=self.get_row_index(cursor_key), animate=False, scroll=False)

    def cycle_sort(self) -> None:
        """Sort on the next column of the cycle (with that column's natural direction)."""
        self._sort_index = (self._sort_index + 1) % len(SORTS)
        self._descending = SORTS[self._sort_index][2]
        self._refresh_sort()

    def reverse_sort(self) -> None:
        """Reverse the direction of the current sort."""
        self._descending = not self._descending
        self._refresh_sort()

    def _refresh_sort(self) -> None:
        self._update_title(constituents=any(row.small.from_constituents for row in self._rows))
        self._resort()
