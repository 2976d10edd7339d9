"""The sector screen: all of a sector's (or watchlist's) members, sortable and filterable."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import DataTable, Input, Static

from capgap.core.snapshot import SectorDetail, SectorLeg, SectorRow, Snapshot
from capgap.ui.format import fmt_pe, fmt_plain, missing, short_sector, signed_content
from capgap.ui.glyphs import glyphs
from capgap.ui.internals.key_bar import KeyBar
from capgap.ui.messages import OpenSymbol
from capgap.ui.screens.live import DetailScreen
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.constituents_table import ConstituentsTable
from capgap.ui.widgets.quiet import Plain, show


def _leg(label: str, leg: SectorLeg, fund_label: str) -> tuple[Content, Content]:
    """Return 'Large ▲+0.62 wt 34% of 50 P/E 23.1x' and its fund ', fund XLK ▲+0.67' apart."""
    weight = fmt_plain(leg.weight_pct, 0, "%")
    fund = (
        Content.assemble(f", {fund_label} {leg.etf_symbol} ", signed_content(leg.etf_change_pct))
        if leg.etf_symbol is not None and not leg.from_etf
        else Content("")
    )
    head = Content.assemble(
        (f"{label} ", "bold"),
        signed_content(leg.change_pct),
        f" wt {weight} of {leg.members}",
        f" P/E {fmt_pe(leg.forward_pe)}",
    )
    return head, fund


def _legs(
    large: tuple[Content, Content], small: tuple[Content, Content], width: int | None
) -> Content:
    """Return both legs on one line where ``width`` allows, else a line each, else the funds apart.

    A word wrap broke a leg mid-phrase ("S600" / "fund PSCI" up to 119 columns, a fund's
    change apart from its symbol at 60): the lines break between phrases only.
    """
    dot = f"  {glyphs().dot}  "
    whole = [Content.assemble(*leg) for leg in (large, small)]
    if width is None or whole[0].cell_length + len(dot) + whole[1].cell_length <= width:
        return Content.assemble(whole[0], dot, whole[1])
    if max(leg.cell_length for leg in whole) <= width:
        return Content("\n").join(whole)
    # The fund on a line of its own, under its leg, without the comma that led into it; a
    # leg without a fund (a custom sector of funds) has no such line.
    lines = [head for head, _fund in (large, small)]
    for index, (_head, fund) in reversed(list(enumerate((large, small)))):
        if fund.cell_length:
            lines.insert(index + 1, fund[2:].pad_left(2))
    return Content("\n").join(lines)


def summary_content(detail: SectorDetail | None, name: str, width: int | None = None) -> Content:
    """Return the lines above the table: the sector, spread and breadth; then both legs.

    The legs go on a line of their own: beside the rest they would wrap mid-phrase at 120
    columns. Where ``width`` (the room for a line) is too narrow for both legs on that
    line they break between phrases (see _legs).
    """
    if detail is None:
        return Content(f"{name}: waiting for data…")
    row: SectorRow | None = detail.row
    count = len(detail.constituents)
    if row is None:
        return Content(f"Watchlist {detail.name} {glyphs().dot} {count} symbols")
    breadth = missing() if row.breadth_pct is None else f"{row.breadth_pct:.0f}%"
    dot = f"  {glyphs().dot}  "
    return Content.assemble(
        (row.sector, "bold"),
        f" ({'cyclical' if row.tag == 'cyclical' else 'defensive'}){dot}",
        ("S-L ", "bold"),
        signed_content(row.spread_pp, 2, " pp"),
        f"{dot}breadth {breadth}\n",
        _legs(_leg("Large", row.large, "fund"), _leg("Small", row.small, "S600 fund"), width),
    )


class SectorScreen(DetailScreen[SectorDetail]):
    """Large and small constituents of one sector; Enter opens a symbol."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
        Binding("s", "cycle_sort", "Sort", id="sort"),
        Binding("S", "reverse_sort", "Reverse", id="reverse"),
        Binding("slash", "filter", "Filter", id="filter"),
    ]
    AUTO_FOCUS = "ConstituentsTable"

    def __init__(self, name: str, *, kind: str = "sector") -> None:
        super().__init__(classes="drill")
        self.target = name
        self.kind = kind
        self.crumb = short_sector(name)

    def compose(self) -> ComposeResult:
        """Breadcrumb, summary, the table, the filter box (hidden until `/`) and the keys."""
        yield Breadcrumb(demo=self.capgap.engine.demo, id="breadcrumb")
        yield Plain(summary_content(None, self.target), id="sector-summary", markup=False)
        yield ConstituentsTable(id="constituents")
        filter_box = Input(placeholder="filter: symbol or name (Enter keeps, Esc clears)")
        filter_box.id = "filter"
        filter_box.display = False
        yield filter_box
        yield KeyBar()

    def on_mount(self) -> None:
        """Show aliases the user configured."""
        self.query_one(ConstituentsTable).set_aliases(self.capgap.aliases)

    def focus_target(self) -> tuple[str | None, str | None]:
        """Ask for this sector's (or watchlist's) details while the screen is open."""
        return (self.target, None)

    def detail_in(self, snapshot: Snapshot) -> SectorDetail | None:
        """Return the snapshot's sector details when they are this sector's."""
        detail = snapshot.sector_detail
        return detail if detail is not None and detail.name == self.target else None

    def show_detail(self, detail: SectorDetail, snapshot: Snapshot) -> None:
        """Show the sector's summary and constituents."""
        summary = self.query_one("#sector-summary", Static)
        show(summary, summary_content(detail, self.target, summary.content_region.width))
        self.query_one(ConstituentsTable).apply(detail.constituents)

    def on_resize(self) -> None:
        """Lay the legs out again for the new width (one line for both, or one each)."""
        if self.detail is not None:
            summary = self.query_one("#sector-summary", Static)
            show(summary, summary_content(self.detail, self.target, summary.content_region.width))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a constituent opens its symbol screen."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(OpenSymbol(str(event.row_key.value)))

    def action_cycle_sort(self) -> None:
        """Sort on the next column."""
        self.query_one(ConstituentsTable).cycle_sort()

    def action_reverse_sort(self) -> None:
        """Reverse the sort."""
        self.query_one(ConstituentsTable).reverse_sort()

    def action_filter(self) -> None:
        """Show the filter box and type into it."""
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as you type."""
        self.query_one(ConstituentsTable).set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter and returns to the table."""
        event.stop()
        box = self.query_one("#filter", Input)
        box.display = bool(box.value)
        self.query_one(ConstituentsTable).focus()

    def action_back(self) -> None:
        """Esc clears an open filter first, then goes back one level."""
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.query_one(ConstituentsTable).focus()
            return
        super().action_back()
