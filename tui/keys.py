"""The binding ids a keymap may rebind, with their default keys and what each does."""

from __future__ import annotations

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
    "window_1m": ("1", "chart window: one month"),
    "window_3m": ("3", "chart window: three months"),
    "window_6m": ("6", "chart window: six months"),
    "window_ytd": ("y", "chart window: year to date"),
    "window_1y": ("Y", "chart window: one year"),
}


def default_keys(binding_id: str) -> str:
    """Return the default keys of a known binding id (KeyError when unknown)."""
    return KNOWN_BINDINGS[binding_id][0]
