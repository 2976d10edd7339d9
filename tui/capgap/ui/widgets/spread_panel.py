"""The large-vs-small panel: both indices, the gap, relative performance, ratio and valuation."""

from __future__ import annotations

from typing import ClassVar, Unpack

from textual.binding import Binding, BindingType
from textual.content import Content

from capgap.core.snapshot import IndexQuote, SpreadSnapshot
from capgap.market.windows import WINDOW_LABELS
from capgap.ui.format import direction_style, fmt_plain, fmt_price, fmt_signed, signed_figure
from capgap.ui.glyphs import glyphs
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.content_panel import ContentPanel

_NAME_WIDTH = 13
#: Ends the name of an index whose figure is older than its feed allows ("Russell STALE").
STALE_MARK = " STALE"
_CELL = 7
_LABEL = 4


def _signed_cell(value: float | None, width: int, suffix: str = "") -> tuple[str, str]:
    # The colour spans the padding too (as it always has: the panel's bytes stay the same).
    figure = signed_figure(value, suffix=suffix, fit=True)
    return figure.text.rjust(width), direction_style(figure.shown)


def _index_line(quote: IndexQuote, tail: Content) -> Content:
    if quote.stale:
        # The word, not only the colour: it must survive NO_COLOR and 16 colours.
        name = f"{quote.name[: _NAME_WIDTH - len(STALE_MARK)]}{STALE_MARK}".ljust(_NAME_WIDTH)
        return Content.assemble(
            (name, "bold $warning"),
            (
                f"{fmt_price(quote.last).rjust(9)} {_signed_cell(quote.change_pct, 8, '%')[0]}",
                "$gap-stale",
            ),
            tail,
        )
    return Content.assemble(
        quote.name[:_NAME_WIDTH].ljust(_NAME_WIDTH),
        fmt_price(quote.last).rjust(9),
        " ",
        _signed_cell(quote.change_pct, 8, "%"),
        tail,
    )


def spread_content(spread: SpreadSnapshot) -> Content:
    """Render the panel's six lines from a SpreadSnapshot."""
    gap = spread.relative_pp.d1
    large_line = _index_line(spread.large, Content.styled("   gap S-L 1D", "bold"))
    gap_cell = _signed_cell(gap, 7)
    if spread.large.stale or spread.small.stale:
        # A gap with one leg left behind is no live gap: it fades with that leg.
        gap_cell = (gap_cell[0], "$gap-stale")
    small_line = _index_line(spread.small, Content.assemble("   ", gap_cell, (" pp", "")))
    windows = spread.relative_pp.items()
    header = Content.assemble(
        ("pp".ljust(_LABEL), "bold"),
        *((WINDOW_LABELS.get(label, label).rjust(_CELL), "bold") for label, _ in windows),
    )
    values = Content.assemble(
        ("S-L".ljust(_LABEL), "bold"), *(_signed_cell(value, _CELL) for _, value in windows)
    )
    ratio = Content.assemble(
        ("RUT/SPX ", "bold"),
        fmt_plain(spread.ratio, 4),
        "  z1y ",
        fmt_signed(spread.ratio_z_1y, 2),
        f"  {glyphs().beta}60 ",
        fmt_plain(spread.beta_60d, 2),
        f"  {glyphs().rho}60 ",
        fmt_plain(spread.corr_60d, 2),
    )
    valuation = spread.valuation
    source = f"  ({valuation.source})" if valuation.source else ""
    pe = Content.assemble(
        ("Fwd P/E ", "bold"),
        f"{fmt_plain(valuation.large_forward_pe, 1)} / {fmt_plain(valuation.small_forward_pe, 1)}",
        "  disc ",
        fmt_plain(valuation.small_discount_pct, 1, "%"),
        (source, "$foreground-muted"),
    )
    return Content("\n").join([large_line, small_line, header, values, ratio, pe])


class SpreadPanel(ContentPanel, can_focus=True):
    """Renders SpreadSnapshot; Enter on the dashboard's panel opens the spread screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "app.open_spread", "Spread", id="open"),
    ]

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(title="Large vs small caps", **options)

    def apply(self, spread: SpreadSnapshot) -> None:
        """Show a new SpreadSnapshot."""
        self.show(spread_content(spread))
