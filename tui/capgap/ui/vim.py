"""Vim-style movement keys (j/k/h/l, g/G) for tables, each with a binding id users can remap."""

from __future__ import annotations

from textual.binding import Binding, BindingType

#: Added to every table beside its arrow keys; ids match tui/keys.py.
VIM_TABLE_BINDINGS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False, id="down"),
    Binding("k", "cursor_up", "Up", show=False, id="up"),
    Binding("h", "cursor_left", "Left", show=False, id="left"),
    Binding("l", "cursor_right", "Right", show=False, id="right"),
    Binding("g", "scroll_top", "Top", show=False, id="top"),
    Binding("G", "scroll_bottom", "Bottom", show=False, id="bottom"),
]
