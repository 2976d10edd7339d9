"""The sectors table: large vs small per GICS sector, updated cell by cell, sortable on values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

from textual.widgets.data_table import ColumnKey

from capgap.core.snapshot import SECTOR_WINDOW_IDS, HistoryStatus, Mover, SectorLeg, SectorRow
from capgap.market.windows import WINDOW_LABELS
from capgap.ui.format import (
    by_direction,
    fmt_plain,
    history_missing,
    missing,
    short_sector,
    signed_figure,
)
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.keyed_table import Cell, SortedTable, ValueText
from capgap.ui.widgets.quiet import set_subtitle


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the table: key, label and width (None: set by the number of movers)."""

    key: str
    label: str
    width: int | None


#: The header of the small side's reference funds: S&P SmallCap 600 sector funds, another
#: index family than the Russell 2000 the small leg is made of.
SMALL_FUND_LABEL = "S600 fund"

# Every width is fixed: the table never re-measures its columns, so a tick never shifts
# them, and DataTable's cell cache (keyed without the width) never serves a stale header.
# The order is the order in which columns give way as the terminal narrows (they scroll off
# to the right): at 60 columns the legs, the spread, the weights, breadth and the tag stay
# (the spread's seven columns hold "S-L YTD", the header of its longest window's label);
# the reference funds come before the movers, which show one to three a side as room allows.
COLUMNS = (
    Column("sector", "Sector", 12),
    Column("large", "Lg 1D", 6),
    Column("small", "Sm 1D", 6),
    Column("spread", "S-L 1D", 7),
    Column("weight", "Wt L/S", 6),
    Column("breadth", "Brd%", 4),
    Column("tag", "Tag", 3),
    Column("large_etf", "Lg fund", 11),
    Column("small_etf", SMALL_FUND_LABEL, 11),
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


def fitted_widths(movers: int, room: int, cell_padding: int = 1) -> dict[str, int]:
    """Return each column's width, the last column that fits whole widened to the edge.

    The table has no horizontal scrollbar in the short and medium layouts, and a column cut
    by the edge read as a figure cut mid-number ("PSCU ▼-"). Widened, the last whole column
    ends at the edge; the columns after it start off screen, where `h` `l` scroll to them.
    """
    widths = {column.key: column.width or movers_width(movers) for column in COLUMNS}
    edge = 0
    last: str | None = None
    for key, width in widths.items():
        if edge + width + 2 * cell_padding > room:
            break
        edge += width + 2 * cell_padding
        last = key
    else:
        return widths
    if last is not None:
        widths[last] += room - edge
    return widths


#: The sort cycle of `s`: column key, label, whether it starts descending.
SORTS: tuple[tuple[str, str, bool], ...] = (
    ("spread", "S-L", True),
    ("large", "Large %", True),
    ("small", "Small %", True),
    ("breadth", "Breadth", True),
    ("weight", "Weight", True),
    ("sector", "Sector", False),
)


#: The columns that show today whatever the window (the funds' changes and the movers) and
#: their headers over a longer window, within their widths: a 5D spread beside a fund's 1D
#: change must not read as one window. Breadth's four columns have no room: the note says it.
_TODAY = WINDOW_LABELS[SECTOR_WINDOW_IDS[0]]
TODAY_ONLY_HEADERS = {
    "large_etf": f"Lg fd {_TODAY}",
    "small_etf": f"S600 fd {_TODAY}",
    "leaders": f"Leaders {_TODAY}",
    "laggards": f"Laggards {_TODAY}",
}
_LABELS = {column.key: column.label for column in COLUMNS}


def window_headers(window: str) -> dict[str, str]:
    """Return the headers that follow the window shown ("Lg 5D", "Leaders 1D" over 5D).

    The legs' and the spread's name the window; the today-only columns say "1D" over a longer
    window and read plain over 1D.
    """
    label = WINDOW_LABELS[window]
    today_only = (
        {key: _LABELS[key] for key in TODAY_ONLY_HEADERS}
        if window == SECTOR_WINDOW_IDS[0]
        else TODAY_ONLY_HEADERS
    )
    return {"large": f"Lg {label}", "small": f"Sm {label}", "spread": f"S-L {label}", **today_only}


def sort_value(row: SectorRow, column: str, window: str = "1d") -> float | str | None:
    """Return the value a column sorts on (the number behind the formatted cell)."""
    shown = row.window(window)
    values: dict[str, float | str | None] = {
        "spread": shown.spread_pp,
        "large": shown.large_pct,
        "small": shown.small_pct,
        "breadth": row.breadth_pct,
        "weight": row.large.weight_pct,
        "sector": row.sector,
    }
    return values[column]


class SectorsTable(SortedTable):
    """Rows keyed by sector name, columns by key; later ticks only update changed cells.

    A SortedTable whose leaders and laggards columns show one to three movers, as the width
    allows. Each leg is the index's own members in the sector, weighted as the index; its
    weight in the index and its sector fund's change (for reference) stand beside it.
    """

    # The movers' columns start at one mover; on_resize widens them when more fit.
    COLUMNS = tuple(
        (column.key, column.label, column.width or movers_width(1), False) for column in COLUMNS
    )
    SORTS = SORTS

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(title=f"Sectors {WINDOW_LABELS[SECTOR_WINDOW_IDS[0]]}", **options)
        self._rows: tuple[SectorRow, ...] = ()
        # The window the legs and the spread are shown over (`w` cycles SECTOR_WINDOW_IDS).
        self._window = SECTOR_WINDOW_IDS[0]
        self._history: HistoryStatus | None = None
        # The cells of each row as last built: a row equal to the one shown is not rebuilt.
        self._built: dict[str, dict[str, Cell]] = {}
        self._movers_shown = 1
        self._remeasure = False

    def _wanted_movers(self) -> int:
        # As many movers (up to three) as fit without scrolling; one when none fit (120
        # columns fit one a side beside the reference funds, 140 two, 162 three).
        fitting = [n for n in (3, 2) if table_width(n, self.cell_padding) <= self.size.width]
        return fitting[0] if fitting else 1

    def on_resize(self) -> None:
        """Show one to three movers depending on the width; end the columns at the edge."""
        if self._wanted_movers() != self._movers_shown:
            self._set_movers(self._wanted_movers())
            if self._rows:
                self.apply(self._rows)
        self._fit_columns()

    def _fit_columns(self) -> None:
        # The room inside the borders and beside a vertical scrollbar, if there is one.
        room = self.scrollable_content_region.width
        if room > 0:
            self.set_column_widths(fitted_widths(self._movers_shown, room, self.cell_padding))

    def restyled(self) -> None:
        """Re-render the rows in the new theme's colours."""
        if self._rows:
            self.apply(self._rows, redraw=True)

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
            # No arrow: the mover's colour and sign say its direction in less room.
            figure = signed_figure(mover.change_pct, 1, fit=True, marked=False)
            cell.append(figure.text, by_direction(figure.shown, *self._styles, None))
        return cell

    def _fund(self, leg: SectorLeg) -> ValueText:
        # The fund's symbol and its own change: a reference beside the members' leg.
        if leg.etf_symbol is None:
            return ValueText(missing(), None)
        cell = ValueText(f"{leg.etf_symbol} ", leg.etf_symbol)
        figure = signed_figure(leg.etf_change_pct, 2, fit=True)
        cell.append(figure.text, by_direction(figure.shown, *self._styles, None))
        return cell

    @property
    def window(self) -> str:
        """The id of the window the legs and the spread are shown over ("1d", "5d", ...)."""
        return self._window

    def cycle_window(self) -> None:
        """Show the legs over the next window of SECTOR_WINDOW_IDS; the sort follows it."""
        position = SECTOR_WINDOW_IDS.index(self._window)
        self._window = SECTOR_WINDOW_IDS[(position + 1) % len(SECTOR_WINDOW_IDS)]
        self.set_column_labels(window_headers(self._window))
        self._title = f"Sectors {WINDOW_LABELS[self._window]}"
        self._update_title()
        if self._rows:
            # The cells carry the window's values, so the sort (on values) follows them.
            self.apply(self._rows, self._history, redraw=True)

    def _cells(self, row: SectorRow) -> dict[str, Cell]:
        breadth = missing() if row.breadth_pct is None else f"{row.breadth_pct:.0f}%"
        weights = f"{fmt_plain(row.large.weight_pct, 0)}/{fmt_plain(row.small.weight_pct, 0)}"
        shown = row.window(self._window)
        return {
            "sector": ValueText(short_sector(row.sector), row.sector),
            "large": self.signed(shown.large_pct),
            "small": self.signed(shown.small_pct),
            "spread": self.signed(shown.spread_pp),
            "weight": ValueText(weights, row.large.weight_pct, right=True),
            "breadth": ValueText(breadth, row.breadth_pct, right=True),
            "tag": ValueText("CYC" if row.tag == "cyclical" else "DEF", row.tag),
            "large_etf": self._fund(row.large),
            "small_etf": self._fund(row.small),
            "leaders": self._movers(row.leaders),
            "laggards": self._movers(row.laggards),
        }

    def apply(
        self,
        rows: tuple[SectorRow, ...],
        history: HistoryStatus | None = None,
        *,
        redraw: bool = False,
    ) -> None:
        """Show new sector rows: add new sectors, update changed cells, keep the sort.

        ``history`` says how far the members' daily history behind the longer windows has
        come (None: the source has none). ``redraw`` rebuilds every row's cells (new styles
        or window); otherwise a row equal to the one shown before keeps the cells built for it.
        """
        shown = {row.sector: row for row in self._rows}
        self._rows = rows
        self._history = history
        if self._wanted_movers() != self._movers_shown:
            self._set_movers(self._wanted_movers())
        remeasure, self._remeasure = self._remeasure, False
        redraw = redraw or remeasure
        built = self._built
        self._built = {
            row.sector: (
                built[row.sector]
                if not redraw and shown.get(row.sector) == row and row.sector in built
                else self._cells(row)
            )
            for row in rows
        }
        self.show(list(self._built.items()), remeasure=remeasure)
        self._fit_columns()
        set_subtitle(self, self._note())

    def _note(self) -> str:
        """Return what the legs are, or why the window shown has no figures."""
        blank = self._window_blank()
        if blank is not None:
            return f"{WINDOW_LABELS[self._window]}: {blank}"
        # A custom sector made of funds only has no members: its legs are its funds' changes.
        from_funds = any(row.large.from_etf or row.small.from_etf for row in self._rows)
        note = "legs: members weighted as the index"
        note = f"{note}, else the fund" if from_funds else note
        if self._window != SECTOR_WINDOW_IDS[0]:
            # Breadth, the funds and the movers are today's whatever the window.
            note = f"{note}; breadth, funds, movers: {_TODAY}"
        return note

    def _window_blank(self) -> str | None:
        """Return why no row has a figure over the window shown (None: some row has one)."""
        if self._window == SECTOR_WINDOW_IDS[0] or not self._rows:
            return None
        if any(row.window(self._window).spread_pp is not None for row in self._rows):
            return None
        return history_missing(self._history, "too little history for this window")
