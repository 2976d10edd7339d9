"""Ends the app cleanly when its terminal goes away: SIGTERM, SIGHUP, SIGQUIT, a lost-TTY watchdog.

Textual installs no handler for SIGTERM or SIGHUP, so their default action would kill capgap
mid-frame: the terminal left in raw mode on the alternate screen and the recording's buffered
rows lost. Here both signals ask the app to exit, which restores the terminal and closes the
engine (flushing any recording). An SSH connection that drops without a SIGHUP reaching capgap
(a shell that ignores it, a nohup) leaves a hung-up TTY: the watchdog notices and exits too.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import termios
from collections.abc import Callable

#: Signals that end capgap the way `q` does. SIGQUIT's default action would dump core and
#: leave the terminal on the alternate screen in raw mode: it ends capgap cleanly instead.
EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
#: How often the watchdog looks at the terminal (a hangup ends capgap within twice this).
WATCH_EVERY_S = 1.0


def terminal_fd() -> int | None:
    """Return the descriptor of the terminal the app draws on, or None without one."""
    stream = sys.__stdout__
    if stream is None:
        return None
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return None
    return fd if terminal_alive(fd) else None


def terminal_alive(fd: int) -> bool:
    """Tell whether ``fd`` is a terminal that has not been hung up (a hung-up TTY gives EIO)."""
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError):
        return False
    return True


def install_exit_signals(on_signal: Callable[[int], None]) -> list[int]:
    """Route EXIT_SIGNALS to ``on_signal`` on the running loop; return those installed."""
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    for signum in EXIT_SIGNALS:
        # Not on Windows, nor off the main thread: there the default action stays.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
    return installed
