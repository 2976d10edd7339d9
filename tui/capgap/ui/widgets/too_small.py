"""The one line every screen shows instead of itself when the terminal is too small."""

from __future__ import annotations

from typing import Unpack

from textual.content import Content

from capgap.ui.sizes import MIN_HEIGHT, MIN_WIDTH
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.fit_line import FitLine


def too_small_variants(width: int, height: int) -> tuple[Content, ...]:
    """Return the notice for a minimum of ``width`` x ``height``, longest first."""
    need = f"{width}x{height}"
    return (
        Content(f"Terminal too small: capgap needs at least {need}"),
        Content(f"too small: capgap needs {need}"),
        Content(f"capgap needs {need}"),
        Content(need),
    )


class TooSmall(FitLine):
    """Hidden unless the screen has a -tiny-w or -tiny-h class (app.tcss hides the rest)."""

    DEFAULT_CSS = """
    TooSmall { display: none; width: 100%; text-align: center; text-style: bold; }
    """

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(
            *too_small_variants(MIN_WIDTH, MIN_HEIGHT),
            **options,
        )
