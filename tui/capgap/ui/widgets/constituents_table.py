"""A sector's (or watchlist's) members: price, change, weight, contribution, P/E, 50/200 flags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack

from rich.text import Text

from capgap.core.snapshot import ConstituentRow
from capgap.ui.format import fmt_pe, fmt_plain, fmt_price
from capgap.ui.glyphs import glyphs
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.keyed_table import Cell, SortedTable, ValueText


def matches(row: ConstituentRow, needle: str) -> bool:
    """Return True when the filter text is in the symbol or the name (case-insensitive)."""
    wanted = needle.strip().casefold()
    return not wanted or wanted in row.symbol.casefold() or wanted in row.name.casefold()


def average_flag(above: bool | None) -> str:
    """Return the mark of a price against one moving average: ▲ above, ▼ below, a dash unknown.

    The arrows come from the glyph set in use, so ``--ascii`` shows '^' and 'v'.
    """
    marks = glyphs()
    if above is None:
        return marks.missing
    return marks.up if above else marks.down


def average_flags(above_50d: bool | None, above_200d: bool | None) -> str:
    """Return the 50-day and the 200-day marks side by side: '▲▼' (above 50d, below 200d)."""
    return average_flag(above_50d) + average_flag(above_200d)


def _flags_value(row: ConstituentRow) -> float | None:
    # Sorts the strongest first: above both (2), one (1), neither (0); unknown last.
    if row.above_50d is None and row.above_200d is None:
        return None
    return float(bool(row.above_50d)) + float(bool(row.above_200d))


class ConstituentsTable(SortedTable):
    """One row per stock keyed by symbol; `/` filters, `s`/`S` sort on the values.

    A sector lists every member of both indices in it (the Russell 2000's Financials alone
    has some 400): a row equal to the one shown before keeps the cells built for it, so a
    tick builds only the rows whose figures moved.
    """

    COLUMNS = (
        ("symbol", "Symbol", 6, False),
        ("name", "Name", 14, False),
        ("cap", "Cap", 3, False),
        ("last", "Last", 9, True),
        ("change", "Chg %", 7, True),
        ("weight", "Wt %", 5, True),
        ("contrib", "Contr", 7, True),
        ("pe", "Fwd P/E", 7, True),
        ("flags", "50/200", 6, False),
        ("vs", "vs leg", 7, True),
    )
    SORTS = (
        ("change", "Chg %", True),
        ("contrib", "Contrib", True),
        ("weight", "Weight", True),
        ("pe", "Fwd P/E", False),
        ("vs", "vs leg", True),
        ("symbol", "Symbol", False),
    )

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(title="Constituents", **options)
        self._rows: tuple[ConstituentRow, ...] = ()
        self._filter = ""
        self._aliases: Mapping[str, str] = {}
        # The cells of each row as last built, with the row they were built from.
        self._built: dict[str, tuple[ConstituentRow, dict[str, Cell]]] = {}

    @property
    def filter_text(self) -> str:
        """The filter in force ("" shows every row)."""
        return self._filter

    def set_aliases(self, aliases: Mapping[str, str]) -> None:
        """Show the user's aliases instead of provider symbols."""
        self._aliases = aliases
        self._built.clear()

    def _cells(self, row: ConstituentRow) -> dict[str, Cell]:
        shown = self._aliases.get(row.symbol, row.symbol)
        return {
            "symbol": ValueText(shown, shown),
            "name": ValueText(row.name, row.name),
            "cap": Text({"large": "L", "small": "S"}.get(row.bucket or "", "")),
            "last": ValueText(fmt_price(row.last), row.last, right=True),
            "change": self.signed(row.change_pct),
            "weight": ValueText(fmt_plain(row.weight_pct, 2), row.weight_pct, right=True),
            # Three places: a member of a few hundredths of a percent moves its leg that little.
            "contrib": self.signed(row.contribution_pp, 3),
            "pe": ValueText(fmt_pe(row.forward_pe), row.forward_pe, right=True),
            "flags": ValueText(average_flags(row.above_50d, row.above_200d), _flags_value(row)),
            "vs": self.signed(row.vs_etf_pp),
        }

    def _row_cells(self, row: ConstituentRow) -> dict[str, Cell]:
        built = self._built.get(row.symbol)
        if built is not None and built[0] == row:
            return built[1]
        cells = self._cells(row)
        self._built[row.symbol] = (row, cells)
        return cells

    def apply(self, rows: tuple[ConstituentRow, ...]) -> None:
        """Show the constituents that pass the filter."""
        if rows is not self._rows:
            symbols = {row.symbol for row in rows}
            # Members that left the sector drop their cells (a watchlist can change).
            for gone in [symbol for symbol in self._built if symbol not in symbols]:
                del self._built[gone]
        self._rows = rows
        self.show(
            [(row.symbol, self._row_cells(row)) for row in rows if matches(row, self._filter)]
        )

    def set_filter(self, text: str) -> None:
        """Show only rows whose symbol or name contains ``text``."""
        self._filter = text
        self.apply(self._rows)

    def restyled(self) -> None:
        """Re-render the rows in the new theme's colours."""
        self._built.clear()
        self.apply(self._rows)
