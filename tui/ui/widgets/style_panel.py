"""The style panel: value minus growth for large caps (IWD-IWF) and small caps (IWN-IWO)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui.analytics.snapshot import StyleLeg, StyleSnapshot
from tui.ui.format import arrow, direction_style, fmt_signed, shown_value


def _leg(label: str, leg: StyleLeg) -> Content:
    value = leg.value_minus_growth_pp
    shown = shown_value(value, 2)
    # Arrow and sign together: the direction survives NO_COLOR and 16-colour terminals.
    return Content.assemble(
        (label, "bold"), (f"{arrow(shown)}{fmt_signed(value, 2)}", direction_style(shown))
    )


def style_content(style: StyleSnapshot) -> Content:
    """Render 'Lg ▲+0.31  Sm ▼-0.34 pp' from a StyleSnapshot."""
    return Content.assemble(_leg("Lg ", style.large), "  ", _leg("Sm ", style.small), " pp")


class StylePanel(Static):
    """One line; repaints only when the rendered text changes."""

    DEFAULT_CSS = """
    StylePanel { height: auto; }
    """

    def __init__(self) -> None:
        super().__init__(Content("waiting for data…"), id="style", markup=False)
        self.border_title = "Value − growth"
        self._shown: Content | None = None

    def apply(self, style: StyleSnapshot) -> None:
        """Show a new StyleSnapshot."""
        content = style_content(style)
        if self._shown is not None and content.is_same(self._shown):
            return
        self._shown = content
        self.update(content, layout=False)
