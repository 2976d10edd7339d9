"""A program in a pseudo-terminal of a given size: its output, CPU time and memory (benches)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
from collections.abc import Mapping

#: Escape sequences stripped to find text on screen (CSI, charset, keypad, DCS).
ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1bP.*?\x1b\\", re.S
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class PtyProcess:
    """Runs argv in a cols x rows pty; reads everything it writes, as a terminal would."""

    def __init__(
        self, argv: list[str], cols: int = 120, rows: int = 40, env: Mapping[str, str] = {}
    ) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the program
            os.environ.update({"TERM": "xterm-256color", "COLORTERM": "truecolor", **env})
            os.execvp(argv[0], argv)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.started = time.perf_counter()
        self.output = bytearray()
        self.closed = False
        #: What the last pattern waited for matched on screen.
        self.matched = b""

    def pump(self, seconds: float) -> int:
        """Read the program's output for ``seconds``; return the bytes read meanwhile."""
        before = len(self.output)
        end = time.perf_counter() + seconds
        while not self.closed and (left := end - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    self.closed = True
                self.output += chunk
        return len(self.output) - before

    def wait_for(self, marker: bytes | re.Pattern[bytes], timeout: float = 30.0) -> float:
        """Read until ``marker`` (text or a pattern) is on screen; return seconds since start."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and not self.closed:
            # Looked for every 10 ms, in what arrived since (with a margin for a marker split
            # across reads): the time found is the time it appeared, to 10 ms.
            arrived = self.pump(0.01)
            if not arrived:
                continue
            text = ANSI.sub(b"", bytes(self.output[-(arrived + 4096) :]))
            found = marker.search(text) if isinstance(marker, re.Pattern) else marker in text
            if found:
                if isinstance(found, re.Match):
                    self.matched = found.group(0)
                return time.perf_counter() - self.started
        shown = marker.pattern if isinstance(marker, re.Pattern) else marker
        raise SystemExit(f"{shown.decode()!r} never appeared on screen")

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process (all its threads) so far."""
        with open(f"/proc/{self.pid}/stat") as stat:
            # Fields after the command name, which may hold spaces: utime and stime are 14, 15.
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_kb(self) -> int:
        """Resident set size now, in KiB."""
        with open(f"/proc/{self.pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_KB

    def stop(self) -> None:
        """SIGTERM the program, drain its output so it can exit, and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        end = time.perf_counter() + 5
        while time.perf_counter() < end:
            self.pump(0.05)
            if os.waitpid(self.pid, os.WNOHANG) != (0, 0):
                break
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)
