"""Textual's Linux driver with its output passed through ScreenDiff: only changed cells go out."""

from __future__ import annotations

from typing import Any

from textual.drivers.linux_driver import LinuxDriver

from capgap.ui.internals.screen_diff import ScreenDiff

#: Set to any value to write Textual's frames as they are (to compare, or to rule the filter out).
FULL_REPAINT_ENV = "CAPGAP_FULL_REPAINT"


class DiffingDriver(LinuxDriver):
    """Writes what changed on screen since the last frame, not every refreshed region whole."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.screen_diff = ScreenDiff()

    def write(self, data: str) -> None:
        """Write the part of ``data`` that changes what the terminal shows."""
        if self._terminal_gone():
            return
        super().write(self.screen_diff.feed(data))

    def close(self) -> None:
        """Stop the output thread, unless it already died with the terminal."""
        if self._terminal_gone():
            return
        super().close()

    def _sigcont_application(self, *args: Any) -> None:
        # A hang-up sends SIGHUP and SIGCONT together. Textual's handler would restart
        # application mode on the dead terminal: a second output thread dies on EIO, its
        # queue fills, and the shutdown blocks forever putting its stop marker on it.
        # Only a resume after a real suspend (Ctrl+Z, then fg) restarts.
        if self._must_signal_resume:
            super()._sigcont_application(*args)

    def _terminal_gone(self) -> bool:
        # The output thread ends on a write error (EIO once the terminal is hung up).
        writer = self._writer_thread
        return writer is not None and not writer.is_alive()
