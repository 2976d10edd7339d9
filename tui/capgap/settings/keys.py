"""The binding ids a keymap may rebind: their default keys, what each does, and where it is live.

Where each id is live lets the config refuse a keymap that gives one key to two ids in one
scope (an app test holds these scopes equal to the app's own binding chains).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import NamedTuple

from capgap.core.chart_windows import CHART_WINDOWS

#: binding id -> (default keys, description). Keys use Textual's names, comma-separated.
KNOWN_BINDINGS: dict[str, tuple[str, str]] = {
    "quit": ("q", "quit capgap"),
    "help": ("question_mark", "show the keys"),
    "palette": ("ctrl+p", "command palette: jump to a sector, symbol or screen"),
    "back": ("escape", "back to the previous screen"),
    "open": ("enter", "open the row under the cursor (drill down)"),
    "sort": ("s", "cycle the sort column"),
    "reverse": ("S", "reverse the sort"),
    "fed": ("f", "the Fed screen"),
    "rotation": ("m", "the rotation map: sectors' small against large caps"),
    "cycles": ("u", "cutting cycles: small caps after the first cuts"),
    "sector_window": ("w", "the sectors' window: 1D, 5D, 1M, 3M, YTD"),
    "fed_history": ("o", "Fed screen: the odds over time, or today's"),
    "feeds": ("e", "the feeds: state, errors, symbols not quoted"),
    "theme": ("t", "next theme (the choice is remembered)"),
    "pause": ("p", "pause or resume polling (and a replay)"),
    "refresh": ("r", "poll now"),
    "compact": ("c", "compact layout on or off"),
    "redraw": ("ctrl+l", "repaint the whole screen"),
    "suspend": ("ctrl+z", "suspend to the shell (fg resumes)"),
    "filter": ("slash", "filter the rows"),
    "window_next": ("right_square_bracket", "next chart window"),
    "window_prev": ("left_square_bracket", "previous chart window"),
    "down": ("j", "cursor down"),
    "up": ("k", "cursor up"),
    "left": ("h", "cursor left"),
    "right": ("l", "cursor right"),
    "top": ("g", "first row"),
    "bottom": ("G", "last row"),
    # One id per chart window, from the one table of them.
    **{
        window.binding_id: (window.key, f"chart window: {window.words}") for window in CHART_WINDOWS
    },
}


def default_keys(binding_id: str) -> str:
    """Return the default keys of a known binding id (KeyError when unknown)."""
    return KNOWN_BINDINGS[binding_id][0]


#: The app's own ids: live on every screen.
APP_WIDE: tuple[str, ...] = (
    "quit", "help", "feeds", "palette", "theme", "pause", "refresh", "compact", "redraw",
    "suspend",
)  # fmt: skip
#: The ids of focusable widgets: live on their screen while the widget has the focus.
WIDGET_IDS: Mapping[str, tuple[str, ...]] = {
    "table": ("down", "up", "left", "right", "top", "bottom"),
    "panel": ("open",),
}
_WINDOW_IDS = (*(window.binding_id for window in CHART_WINDOWS), "window_next", "window_prev")
#: Each screen: its own ids, and the kinds of focusable widgets on it (keys of WIDGET_IDS).
SCREEN_IDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dashboard": (
        ("back", "sort", "reverse", "fed", "rotation", "sector_window", "cycles"),
        ("table", "panel"),
    ),
    "sector": (("back", "sort", "reverse", "filter"), ("table",)),
    "symbol": (("back", *_WINDOW_IDS), ()),
    # The spread screen's own panel takes no focus: its Enter would open the screen again.
    "spread": (("back", *_WINDOW_IDS), ()),
    "Fed": (("back", "fed_history"), ("table",)),
    "feeds": (("back",), ()),
    "rotation": (("back",), ("table",)),
    "cycles": (("back",), ("table",)),
}


def screen_scopes() -> dict[str, set[frozenset[str]]]:
    """Return, per screen, each set of ids one key press can reach there.

    A key press goes to the focused widget, then the screen, then the app: one set with no
    widget focused, and one per kind of focusable widget. Two widgets of a screen never have
    the focus at once, and only the top screen gets keys, so their ids never meet.
    """
    scopes: dict[str, set[frozenset[str]]] = {}
    for screen, (own, widgets) in SCREEN_IDS.items():
        base = frozenset(APP_WIDE) | frozenset(own)
        scopes[screen] = {base} | {base | frozenset(WIDGET_IDS[kind]) for kind in widgets}
    return scopes


# Textual names keys that are not letters or digits by their Unicode names ("?" is
# question_mark); these are its own replacements (textual.keys.KEY_NAME_REPLACEMENTS).
_KEY_NAME_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def key_name(key: str) -> str:
    """Return Textual's name of a key as a keymap may write it ("?" -> "question_mark").

    The same rule as Textual's keymap (a test holds them equal), without importing Textual
    before the colour system is chosen.
    """
    key = key.strip()
    if len(key) != 1 or key.isalnum():
        return key
    if key == "\t":
        return "tab"
    try:
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return key
    return _KEY_NAME_REPLACEMENTS.get(name, name)


class KeyConflict(NamedTuple):
    """One key given to two binding ids that one key press can reach."""

    key: str
    first: str
    second: str
    where: str


def _where(first: str, second: str, screen: str) -> str:
    if first in APP_WIDE and second in APP_WIDE:
        return "app-wide"
    return "on the dashboard" if screen == "dashboard" else f"on the {screen} screen"


def keymap_conflict(keymap: Mapping[str, str]) -> KeyConflict | None:
    """Return the first key that ``keymap`` (over the defaults) gives two ids in one scope.

    ``second`` is an id the keymap sets (the later one when it sets both), so the error can
    name the line that made the conflict.
    """
    keys = {
        binding: {key_name(key) for key in keymap.get(binding, default).split(",")}
        for binding, (default, _) in KNOWN_BINDINGS.items()
    }
    order = {binding: index for index, binding in enumerate(keymap)}

    def later(binding: str) -> tuple[bool, int]:
        # Ids the keymap sets sort after the defaults, in the file's order.
        return (binding in order, order.get(binding, -1))

    for screen, scopes in screen_scopes().items():
        for scope in sorted(scopes, key=len):
            owner: dict[str, str] = {}
            for binding in sorted(scope, key=lambda b: list(KNOWN_BINDINGS).index(b)):
                for key in sorted(keys[binding]):
                    other = owner.setdefault(key, binding)
                    if other != binding:
                        first, second = sorted((other, binding), key=later)
                        return KeyConflict(key, first, second, _where(first, second, screen))
    return None
