"""The time windows of the charts and the keys that switch them (ids match tui/keys.py)."""

from __future__ import annotations

from textual.binding import Binding

#: Windows in order, by the keys the analytics use.
WINDOWS = ("1m", "3m", "6m", "ytd", "1y")

WINDOW_BINDINGS = [
    Binding("1", "app.set_window('1m')", "1M", show=False, id="window_1m"),
    Binding("3", "app.set_window('3m')", "3M", show=False, id="window_3m"),
    Binding("6", "app.set_window('6m')", "6M", show=False, id="window_6m"),
    Binding("y", "app.set_window('ytd')", "YTD", show=False, id="window_ytd"),
    Binding("Y", "app.set_window('1y')", "1Y", show=False, id="window_1y"),
    Binding("right_square_bracket", "app.step_window(1)", "Window", id="window_next"),
    Binding("left_square_bracket", "app.step_window(-1)", "Window", show=False, id="window_prev"),
]


def step(window: str, by: int) -> str:
    """Return the window ``by`` steps after ``window`` (wrapping around)."""
    index = WINDOWS.index(window) if window in WINDOWS else len(WINDOWS) - 1
    return WINDOWS[(index + by) % len(WINDOWS)]
