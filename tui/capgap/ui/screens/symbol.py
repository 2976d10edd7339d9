"""The symbol screen: intraday and daily charts, changes over 1D..1Y, beta, 52-week range."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from capgap.core.snapshot import Snapshot, SymbolDetail
from capgap.market.windows import WINDOW_LABELS, window_points
from capgap.ui.format import fmt_plain, fmt_price, signed_content
from capgap.ui.glyphs import glyphs
from capgap.ui.internals.key_bar import KeyBar
from capgap.ui.screens.live import DetailScreen
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.line_chart import LineChart, hour_ticks, month_ticks
from capgap.ui.widgets.quiet import Plain, set_title, show
from capgap.ui.windows import WINDOW_BINDINGS

_CELL = 8
#: Width of the 52-week range bar between its two prices.
RANGE_BAR = 24


def _right(content: Content, width: int) -> Content:
    """Return ``content`` right-aligned in ``width`` cells."""
    return content.pad_left(max(0, width - content.cell_length))


def range_bar(low: float | None, high: float | None, last: float | None, width: int) -> str:
    """Return '├──────●───┤'-style text placing ``last`` between the 52-week low and high."""
    marks = glyphs()
    if low is None or high is None or last is None or high <= low or width < 3:
        return marks.rule * width
    share = min(max((last - low) / (high - low), 0.0), 1.0)
    position = round(share * (width - 1))
    return marks.rule * position + marks.knob + marks.rule * (width - 1 - position)


def head_content(detail: SymbolDetail | None, symbol: str, shown: str) -> Content:
    """Return the name line and the price line."""
    if detail is None:
        return Content(f"{shown}: waiting for data…")
    where = [
        part for part in (detail.sector, f"{detail.bucket} cap" if detail.bucket else "") if part
    ]
    dot = f" {glyphs().dot} "
    title = Content.assemble((shown, "bold"), f"  {detail.name}", dot.join(["", *where]))
    price = Content.assemble(
        ("Last ", "bold"),
        fmt_price(detail.last),
        "  ",
        signed_content(detail.change_pct, suffix="%", fit=True),
        f"   prev close {fmt_price(detail.prev_close)}",
    )
    return Content("\n").join([title, price])


def stats_content(detail: SymbolDetail | None, index_name: str) -> Content:
    """Return the changes over each window, beta and correlation, and the 52-week range."""
    if detail is None:
        return Content("")
    windows = detail.changes.items()
    header = Content.assemble(
        ("%".ljust(4), "bold"),
        *((WINDOW_LABELS.get(label, label).rjust(_CELL), "bold") for label, _ in windows),
    )
    values = Content.assemble(
        "    ",
        *(_right(signed_content(value, fit=True), _CELL) for _, value in windows),
    )
    risk = Content.assemble(
        (f"vs {index_name}  ", "bold"),
        f"{glyphs().beta}60 {fmt_plain(detail.beta_60d, 2)}   "
        f"{glyphs().rho}60 {fmt_plain(detail.corr_60d, 2)}",
    )
    bar = range_bar(detail.low_52w, detail.high_52w, detail.last, RANGE_BAR)
    yearly = Content.assemble(
        ("52w  ", "bold"), f"{fmt_price(detail.low_52w)} {bar} {fmt_price(detail.high_52w)}"
    )
    return Content("\n").join([header, values, risk, yearly])


class SymbolScreen(DetailScreen[SymbolDetail]):
    """One symbol in depth; the daily chart follows the time window (1/3/6/y/Y, [ and ])."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
        *WINDOW_BINDINGS,
    ]

    def __init__(self, symbol: str) -> None:
        super().__init__(classes="drill")
        self.symbol = symbol
        self.crumb = symbol

    def compose(self) -> ComposeResult:
        """Breadcrumb, the price, the two charts, the statistics and the keys."""
        self.crumb = self.capgap.aliases.get(self.symbol, self.symbol)
        yield Breadcrumb(demo=self.capgap.engine.demo, id="breadcrumb")
        yield Plain(head_content(None, self.symbol, self.crumb), id="symbol-head", markup=False)
        with Horizontal(id="symbol-charts"):
            yield LineChart(id="intraday-chart", title="Today, 1-minute closes")
            yield LineChart(id="daily-chart", title="Daily closes")
        yield Plain(Content(""), id="symbol-stats", markup=False)
        yield KeyBar()

    def focus_target(self) -> tuple[str | None, str | None]:
        """Keep the sector below (if any) and ask for this symbol's details."""
        below = self.capgap.sector_below(self)
        return (below, self.symbol)

    def detail_in(self, snapshot: Snapshot) -> SymbolDetail | None:
        """Return the snapshot's symbol details when they are this symbol's."""
        detail = snapshot.symbol_detail
        return detail if detail is not None and detail.symbol == self.symbol else None

    def show_detail(self, detail: SymbolDetail, snapshot: Snapshot) -> None:
        """Show the price, the statistics and both charts."""
        index_name = self.capgap.index_name(detail.index)
        show(self.query_one("#symbol-head", Static), head_content(detail, self.symbol, self.crumb))
        show(self.query_one("#symbol-stats", Static), stats_content(detail, index_name))
        intraday = self.query_one("#intraday-chart", LineChart)
        intraday.plot(
            [point.close for point in detail.intraday],
            hour_ticks([point.time for point in detail.intraday]),
        )
        self._plot_daily(snapshot.today)

    def _plot_daily(self, today: date) -> None:
        if self.detail is None:
            return
        window = self.capgap.window
        # From the window's base: the chart starts at the close its change is measured from.
        shown = window_points(self.detail.daily, window, today)
        days = [point.day for point in shown]
        chart = self.query_one("#daily-chart", LineChart)
        set_title(chart, f"Daily closes, {WINDOW_LABELS.get(window, window)}")
        chart.plot([point.close for point in shown], month_ticks(days, 2 if len(days) > 130 else 1))

    def window_changed(self, window: str) -> None:
        """Redraw the daily chart over the new window."""
        if self.capgap.latest is not None:
            self._plot_daily(self.capgap.latest.today)
