"""The `?` screen: every key binding, with its id (for [keymap] in the config) and its keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, Unpack

from rich.cells import cell_len
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from capgap.settings.keys import KNOWN_BINDINGS
from capgap.ui import sizes
from capgap.ui.vim import VIM_TABLE_BINDINGS
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.too_small import TooSmall

#: (where, the classes whose bindings apply there), in the order the help lists them.
Scope = tuple[str, tuple[type[DOMNode], ...]]
#: (where, keys, what it does, binding id): one row of the help.
Row = tuple[str, str, str, str]

COLUMNS = ("Where", "Keys", "Does", "Id")
#: The "Does" column is never narrower than this (it is cut with an ellipsis to fit).
MIN_DOES = 12


def binding_rows(scopes: Iterable[Scope], keymap: Mapping[str, str], app: App[None]) -> list[Row]:
    """Return (where, keys, action, id) for every binding with an id, remapped keys applied."""
    rows: list[Row] = []
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


def does_width(rows: Sequence[Row], room: int, padding: int = 1) -> int:
    """Return the width of the "Does" column when the table has ``room`` cells for its rows.

    Where, Keys and Id keep their full width (the id is what [keymap] takes); Does gets the
    rest, and never less than MIN_DOES. Every column has ``padding`` cells each side.
    """
    others = sum(
        max([cell_len(COLUMNS[index]), *(cell_len(row[index]) for row in rows)]) + 2 * padding
        for index in (0, 1, 3)
    )
    return max(MIN_DOES, room - others - 2 * padding)


class HelpTable(DataTable[Text]):
    """The keys table: it moves with the table keys (j/k/g/G) and fits its width.

    No sideways scrolling: "Does" takes the room the other columns leave, cut with an ellipsis.
    """

    BINDINGS = VIM_TABLE_BINDINGS

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(
            cursor_type="row",
            zebra_stripes=True,
            **options,
        )
        self._rows: tuple[Row, ...] = ()
        self._does = 0

    def show(self, rows: Sequence[Row]) -> None:
        """Show ``rows``, fitted to the table's width."""
        self._rows = tuple(rows)
        self._does = 0
        self._fit()

    def on_resize(self) -> None:
        """Fit the "Does" column to the new width."""
        self._fit()

    def _fit(self) -> None:
        # The vertical scrollbar's room is always kept: whether it shows depends on the height.
        room = self.size.width - self.styles.scrollbar_size_vertical
        width = does_width(self._rows, room, self.cell_padding)
        if width == self._does or room <= 0:
            return
        self._does = width
        cursor = self.cursor_row
        self.clear(columns=True)
        for label in COLUMNS:
            self.add_column(label, key=label.lower(), width=width if label == "Does" else None)
        for where, keys, does, binding_id in self._rows:
            cut = Text(does, no_wrap=True, overflow="ellipsis")
            self.add_row(Text(where), Text(keys), cut, Text(binding_id))
        self.move_cursor(row=cursor)


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
        width: 100%; max-width: 100; height: 90%;
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
        self.rows: list[Row] = []

    def compose(self) -> ComposeResult:
        """Lay out the bindings table and a note on remapping."""
        with Vertical() as box:
            box.border_title = "Keys"
            yield HelpTable(id="help-keys")
            yield Static(
                'Remap any key in the config: [keymap] <id> = "keys" '
                "(see `capgap config --default`). Ctrl+P opens the command palette.",
                id="help-note",
                markup=False,
            )
        yield TooSmall(id="too-small")

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one(HelpTable)
        self.rows = binding_rows(self._scopes, self._keymap, self.app)
        table.show(self.rows)
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help."""
        self.dismiss(result)
