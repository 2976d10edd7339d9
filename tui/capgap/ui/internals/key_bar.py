"""The key bar: Textual's Footer showing only the keys that fit whole, the last ones giving way.

Textual's Footer lays its keys out in a row and clips the row at the palette key, so a narrow
terminal showed a key cut mid-word ("t The" at 60 columns, "p P" at 80 on a drilldown). Here
the keys that do not fit whole are hidden, from the right: the screen's own keys come first
in the bar and stay, the app-wide ones after them give way.

This relies on Footer's children (``FooterKey`` from a private module, the palette key's
``-command-palette`` class) and on what its compose() reads (``_bindings_ready``, the screen's
active bindings); textual is pinned below 9, tests/app/test_cut_text.py reads the bar on every
screen with a key bar at the sizes that cut it, and tests/app/test_key_bar_rebuilds.py holds
when the keys are built again.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Footer

#: The class Footer gives the palette key, docked right: it always stays.
PALETTE_CLASS = "-command-palette"


def outer_width(widget: Widget, room: Size) -> int:
    """Return the columns ``widget`` takes in a row: its content, padding, border and margin."""
    styles = widget.styles
    content = widget.get_content_width(room, room)
    return content + styles.gutter.width + styles.margin.width


#: What the bar shows of the bindings: each shown binding with whether it is enabled and its
#: tooltip, then the palette's (see Footer.compose, which builds the keys from just these).
ShownKeys = tuple[tuple[object, ...], ...]


class KeyBar(Footer):
    """A Footer whose keys are shown whole or not at all (hidden from the right)."""

    _built: ShownKeys | None = None

    async def recompose(self) -> None:
        """Build the keys again when what they show changed, and fit them to the width.

        Footer builds its keys anew whenever the screen's bindings are updated (a mount, a
        focus moving), even to the same keys: three times before the dashboard's first
        figures, 20-56 ms each of the start-up's CPU. Keys showing the same bindings are kept.
        """
        if not self.is_attached:
            return  # its screen closed before the update came round (Widget.recompose's rule)
        shown = self._shown_keys()
        if shown is not None and shown == self._built:
            self._fit()  # the keys stay, but the room for them may not have
            return
        await super().recompose()
        self._built = shown
        self._forget_removed_keys()
        self._fit()

    def _shown_keys(self) -> ShownKeys | None:
        """Return what Footer.compose would build the keys from (None: nothing yet)."""
        if not self._bindings_ready:
            return None
        active = self.screen.active_bindings
        shown = [
            (binding, enabled, tooltip)
            for _node, binding, enabled, tooltip in active.values()
            if binding.show
        ]
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        command = (self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE)
        return (*shown, (command, palette[1:] if palette is not None else None))

    def _forget_removed_keys(self) -> None:
        """Drop the watchers of keys no longer in the bar (Textual keeps them, and the keys).

        Footer binds each key's ``compact`` to its own (``data_bind``): Textual keeps the
        watcher, and with it the key and its render caches, until ``compact`` changes, which
        it never does here. Every screen change built the keys again: about 1.5 MB a
        drilldown was never freed (186 MB after 40 in a viewer).
        """
        watchers = getattr(self, "__watchers", None)
        if not isinstance(watchers, dict):
            return
        for entries in watchers.values():
            entries[:] = [(node, callback) for node, callback in entries if node.is_attached]

    def on_resize(self) -> None:
        """Fit the keys to the new width."""
        self._fit()

    def _fit(self) -> None:
        width = self.size.width
        if not width:
            return
        room = Size(width, 1)
        palette = [child for child in self.children if child.has_class(PALETTE_CLASS)]
        left = width - sum(outer_width(child, room) for child in palette)
        used = 0
        fits = True
        for child in self.children:
            if child.has_class(PALETTE_CLASS):
                continue
            used += outer_width(child, room)
            # Once one key does not fit, none after it shows: the bar never skips a key.
            fits = fits and used <= left
            child.display = fits
