"""The large-vs-small panel: both indices, the gap, relative performance, ratio and valuation."""

from __future__ import annotations

from typing import ClassVar, Unpack

from textual.binding import Binding, BindingType
from textual.content import Content

from capgap.core.snapshot import (
    ExtendedGap,
    IndexFutures,
    IndexQuote,
    SpreadSnapshot,
    Valuation,
)
from capgap.market.windows import WINDOW_LABELS
from capgap.ui.format import (
    direction_style,
    extended_when,
    fmt_pe,
    fmt_plain,
    fmt_price,
    fmt_signed,
    signed_figure,
)
from capgap.ui.glyphs import glyphs
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.content_panel import ContentPanel
from capgap.ui.widgets.fit_line import fit_variant
from capgap.ui.widgets.quiet import set_subtitle

_NAME_WIDTH = 13
#: Ends the name of an index whose figure is older than its feed allows ("Russell STALE").
STALE_MARK = " STALE"
_CELL = 7
_LABEL = 4
#: The panel's width inside its border and padding in the wide layouts (its narrowest).
PANEL_WIDTH = 46
#: Says the headline P/E leaves out members with negative forward earnings.
METHOD = "excl. neg"


def _pair(large: float | None, small: float | None, suffix: str, sep: str = " / ") -> str:
    """Return 'large / small' of two whole percentages: '6% / 41%' (dashes when unknown)."""
    return f"{fmt_plain(large, 0, suffix)}{sep}{fmt_plain(small, 0, suffix)}"


def valuation_variants(valuation: Valuation) -> list[Content]:
    """Return the valuation line from its longest to its shortest form.

    The headline (bottom-up forward P/E without negative earners, large / small, and how much
    cheaper small caps are) always leads; the method, the P/E with negative earners, the
    members' coverage of the figures and the unprofitable shares follow as the width allows.
    """
    discount = valuation.small_discount_pct
    head = Content.assemble(
        ("Fwd P/E ", "bold"),
        f"{fmt_pe(valuation.large_forward_pe)} / {fmt_pe(valuation.small_forward_pe)}",
        "  small ",
        # Small caps cheaper by 19.5 % read as -19.5 %: a level, not a move, so no colour.
        fmt_signed(None if discount is None else -discount, 1, "%"),
    )
    dot = f" {glyphs().dot} "
    incl = (
        f"incl. {fmt_pe(valuation.large_forward_pe_incl_negative)}"
        f" / {fmt_pe(valuation.small_forward_pe_incl_negative)}"
    )
    cov = f"cov {_pair(valuation.large_coverage_pct, valuation.small_coverage_pct, '', '/')}%"
    unprofitable = _pair(valuation.large_unprofitable_pct, valuation.small_unprofitable_pct, "%")
    tails = (
        dot.join((METHOD, incl, cov, f"unprofitable {unprofitable}")),
        dot.join((METHOD, incl, cov)),
        dot.join((METHOD, cov)),
        METHOD,
    )
    muted = "$foreground-muted"
    return [*(Content.assemble(head, "  ", (tail, muted)) for tail in tails), head]


def valuation_line(valuation: Valuation, width: int) -> Content:
    """Return the longest form of the valuation line that fits ``width`` cells."""
    return fit_variant(valuation_variants(valuation), width)


def _plain_signed(value: float | None, suffix: str) -> tuple[str, str]:
    """Return '+0.31 %' styled by its direction (the sign carries it without colour)."""
    figure = signed_figure(value, 2, suffix, marked=False)
    return figure.text, direction_style(figure.shown)


def extended_variants(gap: ExtendedGap) -> list[Content]:
    """Return the pre/post line from its longest to its shortest form; the gap stays in all.

    'pre 08:12 ET: S&P +0.31 % R2K +0.52 % gap +0.21 pp', then tighter, then the gap alone.
    """
    when = extended_when(gap)
    full = Content.assemble(
        (f"{when}: ", "bold"),
        "S&P ",
        _plain_signed(gap.large, " %"),
        " R2K ",
        _plain_signed(gap.small, " %"),
        " gap ",
        _plain_signed(gap.gap_pp, " pp"),
    )
    tight = Content.assemble(
        (f"{when} ", "bold"),
        "S&P ",
        _plain_signed(gap.large, "%"),
        " R2K ",
        _plain_signed(gap.small, "%"),
        " gap ",
        _plain_signed(gap.gap_pp, "pp"),
    )
    short = Content.assemble((f"{when} ", "bold"), "gap ", _plain_signed(gap.gap_pp, " pp"))
    return [full, tight, short]


def _future_part(quote: IndexQuote, short: bool) -> Content:
    """Return 'ES=F 6,050.25 +0.12%' (the root alone, 'ES', when ``short``)."""
    symbol = quote.symbol.removesuffix("=F") if short else quote.symbol
    if quote.stale:
        return Content.styled(
            f"{symbol} {fmt_price(quote.last)} {fmt_signed(quote.change_pct, 2, '%')} STALE",
            "$gap-stale",
        )
    return Content.assemble(
        f"{symbol} {fmt_price(quote.last)} ", _plain_signed(quote.change_pct, "%")
    )


def futures_variants(futures: IndexFutures) -> list[Content]:
    """Return the index futures' line, longest first: 'fut  ES=F 6,050.25 +0.12%  RTY=F ...'."""
    return [
        Content.assemble(
            ("fut  ", "bold"),
            _future_part(futures.large, short),
            "  ",
            _future_part(futures.small, short),
        )
        for short in (False, True)
    ] + [
        Content.assemble(_future_part(futures.large, True), " ", _future_part(futures.small, True))
    ]


def padded_cell(value: float | None, width: int, suffix: str = "") -> tuple[str, str]:
    """Return a signed figure fitted and right-aligned to ``width`` cells, with its style."""
    # The colour spans the padding too (as it always has: the panel's bytes stay the same).
    figure = signed_figure(value, suffix=suffix, fit=True)
    return figure.text.rjust(width), direction_style(figure.shown)


def _index_line(quote: IndexQuote, tail: Content) -> Content:
    if quote.stale:
        # The word, not only the colour: it must survive NO_COLOR and 16 colours.
        name = f"{quote.name[: _NAME_WIDTH - len(STALE_MARK)]}{STALE_MARK}".ljust(_NAME_WIDTH)
        return Content.assemble(
            (name, "bold $gap-warn"),
            (
                f"{fmt_price(quote.last).rjust(9)} {padded_cell(quote.change_pct, 8, '%')[0]}",
                "$gap-stale",
            ),
            tail,
        )
    return Content.assemble(
        quote.name[:_NAME_WIDTH].ljust(_NAME_WIDTH),
        fmt_price(quote.last).rjust(9),
        " ",
        padded_cell(quote.change_pct, 8, "%"),
        tail,
    )


#: The lines a panel too short for all of them leaves out, first to last: the ratio's
#: statistics, the futures (the extended gap says the same move in the funds), the window
#: table. The index lines, the extended gap and the valuation stay.
DROP_ORDER = ("ratio", "futures", "header", "values")


def spread_content(
    spread: SpreadSnapshot,
    width: int = PANEL_WIDTH,
    futures: IndexFutures | None = None,
    rows: int | None = None,
    *,
    window_table: bool = True,
) -> Content:
    """Render the panel's lines from a SpreadSnapshot, the last fitted to ``width``.

    Six lines in the regular session. In pre/post hours (with a fresh extended price) the
    extended gap follows the two index lines, so a compact panel keeps the day's gap first and
    the extended gap next; ``futures`` (see futures_outside_session) come after it. With
    ``rows`` (a panel of fixed height) lines that do not fit are left out in DROP_ORDER, so
    the valuation line stays rather than being cut at the bottom. ``window_table`` False
    leaves the window table out (the spread screen's table of the gap's parts ends in the same
    totals).
    """
    gap = spread.relative_pp.d1
    large_line = _index_line(spread.large, Content.styled("   gap S-L 1D", "bold"))
    gap_cell = padded_cell(gap, 7)
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
        ("S-L".ljust(_LABEL), "bold"), *(padded_cell(value, _CELL) for _, value in windows)
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
    pe = valuation_line(spread.valuation, width)
    lines: dict[str, Content] = {"large": large_line, "small": small_line}
    if spread.extended is not None and spread.extended.shown:
        lines["extended"] = fit_variant(extended_variants(spread.extended), width)
    if futures is not None:
        lines["futures"] = fit_variant(futures_variants(futures), width)
    if window_table:
        lines |= {"header": header, "values": values}
    lines |= {"ratio": ratio, "pe": pe}
    for name in DROP_ORDER:
        if rows is None or len(lines) <= rows:
            break
        lines.pop(name, None)
    return Content("\n").join(lines.values())


def valuation_source(valuation: Valuation) -> str:
    """Return the border's note of where the P/E figures come from ("" when unknown)."""
    return f"P/E: {valuation.source}" if valuation.source else ""


class SpreadPanel(ContentPanel, can_focus=True):
    """Renders SpreadSnapshot; Enter on the dashboard's panel opens the spread screen."""

    # The valuation line is fitted to the width on resize; until then a line made for
    # a wider panel must not wrap, or the panel would keep the taller height after the refit.
    DEFAULT_CSS = """
    SpreadPanel { text-wrap: nowrap; text-overflow: clip; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "app.open_spread", "Spread", id="open"),
    ]

    def __init__(
        self,
        *,
        window_table: bool = True,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(title="Large vs small caps", **options)
        # False on the spread screen, whose table of the gap's parts gives the same totals.
        self._window_table = window_table
        self._spread: SpreadSnapshot | None = None
        self._futures: IndexFutures | None = None

    def apply(self, spread: SpreadSnapshot, futures: IndexFutures | None = None) -> None:
        """Show a new SpreadSnapshot (the valuation line as long as the width allows).

        ``futures`` are shown below the indices (pass futures_outside_session's answer).
        """
        self._spread = spread
        self._futures = futures
        self._render_spread()

    def on_resize(self) -> None:
        """Re-fit the valuation line: at another width another form of it fits."""
        self._render_spread()

    def refit(self) -> None:
        """Render again for the layout in effect (the screen's size classes just changed).

        A panel that leaves a compact layout for one where it takes its own height may keep
        its size, and so get no resize of its own: its lines must still come back. The
        layout is asked for here as well: lines re-rendered while the layout changed were
        measured against the old one (seen leaving a panel cut at its compact height).
        """
        self._render_spread()
        self.refresh(layout=True)

    def _render_spread(self) -> None:
        if self._spread is None:
            return
        # Before the first layout the width is unknown: the narrowest panel's form fits.
        width = self.content_size.width or PANEL_WIDTH
        # A panel of auto height grows to its lines; one sized by the layout (the compact
        # ones) has only so many rows, and the lines that matter less make way.
        height = self.styles.height
        fixed = height is not None and not height.is_auto
        rows = (self.content_size.height or None) if fixed else None
        self.show(
            spread_content(
                self._spread, width, self._futures, rows, window_table=self._window_table
            )
        )
        set_subtitle(self, valuation_source(self._spread.valuation))
