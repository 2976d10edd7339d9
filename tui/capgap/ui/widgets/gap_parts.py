"""The gap in three parts: a compact table (a row per window) and a legend naming its symbols."""

from __future__ import annotations

from typing import Unpack

from textual.content import Content

from capgap.core.format import index_label
from capgap.core.snapshot import DECOMPOSITION_WINDOW_IDS, Decomposition, GapParts
from capgap.market.windows import WINDOW_LABELS
from capgap.ui.glyphs import glyphs
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.fit_line import fit_variant
from capgap.ui.widgets.quiet import Plain, show
from capgap.ui.widgets.spread_panel import padded_cell

#: The columns: (long header, short header), in the order of the identity, the total last.
COLUMNS = (
    ("concentration", "conc."),
    ("size", "size"),
    ("profitability", "profit."),
    ("total", "total"),
)
_LABEL = 4
#: Narrowest and widest cell: a figure like "▼-12.34" needs 7 cells and a space.
_MIN_CELL = 8
_MAX_CELL = 15
#: The windows kept as the screen gets shorter after the chart's own, most telling first.
WINDOW_PRIORITY = ("1d", "ytd", "1m", "1y", "3m", "5d")


def windows_for_height(height: int, chosen: str | None = None) -> tuple[str, ...]:
    """Return the windows the table shows on a screen ``height`` rows tall.

    The ratio chart under the table needs its rows: from 32 rows all six windows, from 24
    (80x24) three, below that one. Fewer windows, never wrapped lines. The charts' ``chosen``
    window comes first (the window keys then reach every row), then the day, then the most
    telling others; they are shown shortest first.
    """
    count = 6 if height >= 32 else 3 if height >= 24 else 1
    own = (chosen,) if chosen in DECOMPOSITION_WINDOW_IDS else ()
    kept = list(dict.fromkeys((*own, *WINDOW_PRIORITY)))[:count]
    return tuple(window for window in DECOMPOSITION_WINDOW_IDS if window in kept)


def _cells(parts: GapParts) -> tuple[float | None, ...]:
    return (parts.concentration_pp, parts.size_pp, parts.quality_pp, parts.total_pp)


def legend_variants(large: str, small: str, equal_weight: str, small_quality: str) -> list[Content]:
    """Return the legend, longest first: which two symbols each part compares."""
    spx, rut = index_label(large), index_label(small)
    rsp, sp600 = index_label(equal_weight), index_label(small_quality)
    pairs = (f"{rsp}-{spx}", f"{sp600}-{rsp}", f"{rut}-{sp600}", f"{rut}-{spx}")
    dot = f" {glyphs().dot} "
    long = [f"{name} {pair}" for (name, _), pair in zip(COLUMNS, pairs, strict=True)]
    short = [f"{name} {pair}" for (_, name), pair in zip(COLUMNS, pairs, strict=True)]
    # The total (the headline's two indices) is the first to go, then the parts' long names.
    texts = (long, long[:3], short, short[:3], list(pairs[:3]))
    return [Content.styled(dot.join(text), "$foreground-muted") for text in texts]


def gap_parts_content(
    decomposition: Decomposition | None,
    large: str,
    small: str,
    windows: tuple[str, ...],
    width: int,
) -> Content:
    """Render the header, a row per window of ``windows`` and the legend, fitted to ``width``.

    A part without a figure (a base missing for one of its symbols) shows the missing mark.
    """
    cell = max(_MIN_CELL, min(_MAX_CELL, (width - _LABEL) // len(COLUMNS)))
    header = Content.assemble(
        ("pp".ljust(_LABEL), "bold"),
        *(((long if len(long) < cell else short).rjust(cell), "bold") for long, short in COLUMNS),
    )
    rows = [header]
    for window in windows:
        parts = decomposition.parts(window) if decomposition is not None else None
        values = _cells(parts) if parts is not None else (None,) * len(COLUMNS)
        rows.append(
            Content.assemble(
                (WINDOW_LABELS.get(window, window).ljust(_LABEL), "bold"),
                # The panel's cells: arrow and sign carry the direction without colour.
                *(padded_cell(value, cell) for value in values),
            )
        )
    if decomposition is not None:
        legend = legend_variants(
            large, small, decomposition.equal_weight, decomposition.small_quality
        )
        rows.append(fit_variant(legend, width))
    return Content("\n").join(rows)


class GapPartsTable(Plain):
    """The gap's three parts per window; the screen says how many windows fit its height."""

    DEFAULT_CSS = """
    GapPartsTable { height: auto; padding: 0 1; text-wrap: nowrap; }
    """

    def __init__(self, **options: Unpack[WidgetOptions]) -> None:
        super().__init__(Content(""), markup=False, **options)
        self._shown: tuple[Decomposition | None, str, str] | None = None
        self._windows: tuple[str, ...] = windows_for_height(24)

    def apply(self, decomposition: Decomposition | None, large: str, small: str) -> None:
        """Show the parts of ``decomposition`` (the spread's ``large`` and ``small`` symbols)."""
        self._shown = (decomposition, large, small)
        self._render_parts()

    def fit_height(self, height: int, chosen: str | None = None) -> None:
        """Show as many windows as a screen ``height`` rows tall leaves room for.

        ``chosen`` (the charts' window) is kept first when the rows are few.
        """
        windows = windows_for_height(height, chosen)
        if windows != self._windows:
            self._windows = windows
            self._render_parts()

    def on_resize(self) -> None:
        """Re-fit the columns and the legend to the new width."""
        self._render_parts()

    def _render_parts(self) -> None:
        if self._shown is None:
            return
        decomposition, large, small = self._shown
        # Before the first layout the width is unknown: the 60-column screen's fits.
        width = self.content_size.width or 58
        show(self, gap_parts_content(decomposition, large, small, self._windows, width))
