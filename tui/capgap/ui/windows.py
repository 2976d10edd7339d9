"""The key bindings that switch the charts' time window, derived from the one window table."""

from __future__ import annotations

from textual.binding import Binding

from capgap.core.chart_windows import CHART_WINDOW_IDS, CHART_WINDOWS

#: Windows in order, by the keys the analytics use.
WINDOWS = CHART_WINDOW_IDS

WINDOW_BINDINGS = [
    *(
        Binding(
            window.key,
            f"app.set_window({window.id!r})",
            window.label,
            show=False,
            id=window.binding_id,
        )
        for window in CHART_WINDOWS
    ),
    Binding("right_square_bracket", "app.step_window(1)", "Window", id="window_next"),
    Binding("left_square_bracket", "app.step_window(-1)", "Window", show=False, id="window_prev"),
]


def step(window: str, by: int) -> str:
    """Return the window ``by`` steps after ``window`` (wrapping around)."""
    index = WINDOWS.index(window) if window in WINDOWS else len(WINDOWS) - 1
    return WINDOWS[(index + by) % len(WINDOWS)]
