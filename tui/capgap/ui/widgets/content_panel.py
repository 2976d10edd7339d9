"""A bordered panel of rendered text that repaints only when the text changes."""

from __future__ import annotations

from textual.content import Content

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
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            Content("waiting for data…"),
            markup=False,
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
        )
        self.border_title = title
        self._shown: Content | None = None

    def show(self, content: Content) -> None:
        """Display ``content`` unless it is what is already on screen."""
        # Only the first fill changes the height (from the one-line placeholder).
        first = self._shown is None
        self._shown = content
        show(self, content, layout=first)
