"""A one-line widget that shows the longest of its variants that fits its width."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from textual.content import Content

from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.quiet import Plain


def fit_variant(variants: Sequence[Content], width: int) -> Content:
    """Return the first variant that fits ``width`` cells, else the last one cut to fit."""
    if width <= 0:
        return variants[0]
    for variant in variants:
        if variant.cell_length <= width:
            return variant
    return variants[-1].truncate(width, ellipsis=True)


class FitLine(Plain):
    """One line showing the longest of its variants that fits its width, re-fitted on resize."""

    DEFAULT_CSS = """
    FitLine { height: 1; }
    """

    def __init__(
        self,
        *variants: Content,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(variants[0], markup=False, **options)
        self._variants: tuple[Content, ...] = variants
        self._shown: Content = variants[0]

    def show(self, variants: Sequence[Content]) -> None:
        """Set new variants and show the one that fits."""
        self._variants = tuple(variants)
        self._fit()

    def on_resize(self) -> None:
        """Re-fit the line: at another width another variant may fit."""
        self._fit()

    def _fit(self) -> None:
        chosen = fit_variant(self._variants, self.content_size.width)
        if not chosen.is_same(self._shown):
            self._shown = chosen
            self.update(chosen, layout=False)
