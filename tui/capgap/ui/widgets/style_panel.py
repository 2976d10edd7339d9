"""The style panel: value minus growth for large caps (IWD-IWF) and small caps (IWN-IWO)."""

from __future__ import annotations

from typing import Unpack

from textual.content import Content

from capgap.core.snapshot import StyleSnapshot
from capgap.ui.format import signed_content
from capgap.ui.glyphs import glyphs
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.content_panel import ContentPanel


def style_content(style: StyleSnapshot) -> Content:
    """Render 'Lg ▲+0.31  Sm ▼-0.34 pp' from a StyleSnapshot."""
    return Content.assemble(
        ("Lg ", "bold"),
        signed_content(style.large.value_minus_growth_pp),
        "  ",
        ("Sm ", "bold"),
        signed_content(style.small.value_minus_growth_pp),
        " pp",
    )


class StylePanel(ContentPanel):
    """One line under the Fed panel."""

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(
            title=f"Value {glyphs().minus} growth",
            **options,
        )

    def apply(self, style: StyleSnapshot) -> None:
        """Show a new StyleSnapshot."""
        self.show(style_content(style))
