"""A bordered panel of rendered text that repaints only when the text changes."""

from __future__ import annotations

from typing import Unpack

from textual.content import Content

from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.quiet import Plain, show


class ContentPanel(Plain):
    """Base of the text panels: ``show`` skips identical content, so a quiet tick costs nothing."""

    DEFAULT_CLASSES = "box"

    DEFAULT_CSS = """
    ContentPanel { height: auto; }
    """

    def __init__(
        self,
        *,
        title: str,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(
            Content("waiting for data…"),
            markup=False,
            **options,
        )
        self.border_title = title
        self._shown: Content | None = None

    def show(self, content: Content) -> None:
        """Display ``content`` unless it is what is already on screen."""
        # Only a new number of lines changes the height: the first fill (from the one-line
        # placeholder), or a line that comes or goes (the pre/post and futures lines at the
        # session's edges). Same-height updates repaint without a layout.
        before = self._shown
        self._shown = content
        relayout = before is None or before.plain.count("\n") != content.plain.count("\n")
        show(self, content, layout=relayout)
