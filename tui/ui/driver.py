"""Textual's Linux driver with its output passed through ScreenDiff: only changed cells go out."""

from __future__ import annotations

from typing import Any

from textual.drivers.linux_driver import LinuxDriver

from tui.ui.screen_diff import ScreenDiff

#: Set to any value to write Textual's frames as they are (to compare, or to rule the filter out).
FULL_REPAINT_ENV = "CAPGAP_FULL_REPAINT"


class DiffingDriver(LinuxDriver):
    """Writes what changed on screen since the last frame, not every refreshed region whole."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.screen_diff = ScreenDiff()

    def write(self, data: str) -> None:
        """Write the part of ``data`` that changes what the terminal shows."""
        super().write(self.screen_diff.feed(data))
