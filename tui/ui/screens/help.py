"""The `?` screen: every key binding, with its id (for [keymap] in the config) and its keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.keys import KNOWN_BINDINGS
from tui.ui import sizes
from tui.ui.widgets.too_small import TooSmall

#: (where, the classes whose bindings apply there), in the order the help lists them.
Scope = tuple[str, tuple[type[DOMNode], ...]]


def binding_rows(
    scopes: Iterable[Scope], keymap: Mapping[str, str], app: App[None]
) -> list[tuple[str, str, str, str]]:
    """Return (where, keys, action, id) for every binding with an id, remapped keys applied."""
    rows: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for where, classes in scopes:
        for cls in classes:
            for item in cls.BINDINGS:
                if not isinstance(item, Binding) or item.id is None:
                    continue
                if (where, item.id) in seen:
                    continue
                seen.add((where, item.id))
                keys = keymap.get(item.id, item.key)
                shown = ", ".join(
                    app.get_key_display(Binding(key.strip(), "")) for key in keys.split(",")
                )
                known = KNOWN_BINDINGS.get(item.id)
                does = known[1] if known else (item.description or item.action)
                rows.append((where, shown, does, item.id))
    return rows


class HelpScreen(ModalScreen[None]):
    """A table of the keys; Esc, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help_close"),
    ]
    # The live screens' classes, so the help gives way to the too-small notice as they do.
    HORIZONTAL_BREAKPOINTS = sizes.HORIZONTAL_BREAKPOINTS
    VERTICAL_BREAKPOINTS = sizes.VERTICAL_BREAKPOINTS
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90%; max-width: 96; height: 90%;
        background: $surface; border: round $primary; padding: 0 1;
    }
    App.-ascii HelpScreen > Vertical { border: ascii $primary; }
    HelpScreen #help-keys { height: 1fr; }
    HelpScreen #help-note { height: auto; color: $text-muted; }
    """

    def __init__(self, scopes: Iterable[Scope], keymap: Mapping[str, str]) -> None:
        super().__init__(id="help")
        self._scopes = tuple(scopes)
        self._keymap = dict(keymap)
        #: (where, keys, action, id) as listed.
        self.rows: list[tuple[str, str, str, str]] = []

    def compose(self) -> ComposeResult:
        """Lay out the bindings table and a note on remapping."""
        with Vertical() as box:
            box.border_title = "Keys"
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static(
                'Remap any key in the config: [keymap] <id> = "keys" '
                "(see `capgap config --default`). Ctrl+P opens the command palette.",
                id="help-note",
                markup=False,
            )
        yield TooSmall()

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one(DataTable)
        for label in ("Where", "Keys", "Does", "Id"):
            table.add_column(label, key=label.lower())
        self.rows = binding_rows(self._scopes, self._keymap, self.app)
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help."""
        self.dismiss(result)
