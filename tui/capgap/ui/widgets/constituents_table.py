"""The constituents of a sector or watchlist: price, change, weight, contribution, vs its ETF."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack

from rich.text import Text

from capgap.core.snapshot import ConstituentRow
from capgap.ui.format import fmt_plain, fmt_price
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.keyed_table import Cell, SortedTable, ValueText


def matches(row: ConstituentRow, needle: str) -> bool:
    """Return True when the filter text is in the symbol or the name (case-insensitive)."""
    wanted = needle.strip().casefold()
    return not wanted or wanted in row.symbol.casefold() or wanted in row.name.casefold()


class ConstituentsTable(SortedTable):
    """One row per stock keyed by symbol; `/` filters, `s`/`S` sort on the values."""

    COLUMNS = (
        ("symbol", "Symbol", 6, False),
        ("name", "Name", 14, False),
        ("cap", "Cap", 3, False),
        ("last", "Last", 9, True),
        ("change", "Chg %", 7, True),
        ("weight", "Wt %", 5, True),
        ("contrib", "Contr", 6, True),
        ("vs", "vs ETF", 7, True),
    )
    SORTS = (
        ("change", "Chg %", True),
        ("vs", "vs ETF", True),
        ("contrib", "Contrib", True),
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

    @property
    def filter_text(self) -> str:
        """The filter in force ("" shows every row)."""
        return self._filter

    def set_aliases(self, aliases: Mapping[str, str]) -> None:
        """Show the user's aliases instead of provider symbols."""
        self._aliases = aliases

    def _cells(self, row: ConstituentRow) -> dict[str, Cell]:
        shown = self._aliases.get(row.symbol, row.symbol)
        return {
            "symbol": ValueText(shown, shown),
            "name": ValueText(row.name, row.name),
            "cap": Text({"large": "L", "small": "S"}.get(row.bucket or "", "")),
            "last": ValueText(fmt_price(row.last), row.last, right=True),
            "change": self.signed(row.change_pct),
            "weight": ValueText(fmt_plain(row.weight_pct, 1), row.weight_pct, right=True),
            "contrib": self.signed(row.contribution_pp),
            "vs": self.signed(row.vs_etf_pp),
        }

    def apply(self, rows: tuple[ConstituentRow, ...]) -> None:
        """Show the constituents that pass the filter."""
        self._rows = rows
        self.show([(row.symbol, self._cells(row)) for row in rows if matches(row, self._filter)])

    def set_filter(self, text: str) -> None:
        """Show only rows whose symbol or name contains ``text``."""
        self._filter = text
        self.apply(self._rows)

    def restyled(self) -> None:
        """Re-render the rows in the new theme's colours."""
        self.apply(self._rows)
