"""Time from launch to first paint and to first data for `capgap --demo` in a real pty.

The floor is a minimal Textual app that paints one line, launched the same way in the same run:
its time is what any Textual app costs to start on this machine.

Run: python bench/first_data.py [--runs 7] [--capgap PATH]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1bP.*?\x1b\\", re.S)
FLOOR_APP = """
from textual.app import App
from textual.widgets import Static

class Floor(App):
    def compose(self):
        yield Static("FLOOR-READY")

Floor().run()
"""
BUDGET_FIRST_PAINT_S = 0.6
BUDGET_FIRST_DATA_S = 1.0


def launch(argv: list[str], markers: list[bytes], timeout: float = 20.0) -> list[float]:
    """Start argv in a 120x40 pty; return seconds until each marker first appears on screen."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.environ.update({"TERM": "xterm-256color", "COLORTERM": "truecolor"})
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    start = time.perf_counter()
    seen: list[float | None] = [None] * len(markers)
    screen = b""
    try:
        while None in seen and time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            screen += chunk
            text = ANSI.sub(b"", screen)
            now = time.perf_counter() - start
            for index, marker in enumerate(markers):
                if seen[index] is None and marker in text:
                    seen[index] = now
    finally:
        os.kill(pid, signal.SIGTERM)
        # Drain so the child is not blocked writing while it exits.
        end = time.perf_counter() + 5
        while time.perf_counter() < end:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    if not os.read(fd, 65536):
                        break
                except OSError:
                    break
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                break
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    missing = [m.decode() for m, s in zip(markers, seen, strict=True) if s is None]
    if missing:
        raise SystemExit(f"markers never appeared on screen: {missing}")
    return [s for s in seen if s is not None]


def expected_open_price(capgap: str) -> bytes:
    """Return the S&P 500 price at the open as the dashboard formats it (e.g. b"6,857.12")."""
    out = subprocess.run(
        [capgap, "snapshot", "--demo", "--at", "09:30", "--format", "json"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return f"{json.loads(out)['spread']['large']['last']:,.2f}".encode()


def main() -> None:
    """Measure and print medians, the floor and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--capgap", default=shutil.which("capgap") or "capgap")
    args = parser.parse_args()
    price = expected_open_price(args.capgap)
    with tempfile.TemporaryDirectory() as tmp:
        floor_script = Path(tmp) / "floor.py"
        floor_script.write_text(FLOOR_APP)
        floors, paints, datas = [], [], []
        for _ in range(args.runs):
            floors.append(launch([sys.executable, str(floor_script)], [b"FLOOR-READY"])[0])
            paint, data = launch([args.capgap, "--demo"], [b"DEMO", price])
            paints.append(paint)
            datas.append(data)
    floor = statistics.median(floors)
    paint = statistics.median(paints)
    data = statistics.median(datas)
    print(f"runs: {args.runs}, terminal 120x40, first-data marker: S&P 500 at {price.decode()}")
    print(f"floor (minimal Textual app, first paint): median {floor:.3f} s")
    print(
        f"capgap --demo first paint: median {paint:.3f} s  ({paint / floor:.2f}x floor)  "
        f"budget {BUDGET_FIRST_PAINT_S} s: {'PASS' if paint <= BUDGET_FIRST_PAINT_S else 'MISS'}"
    )
    print(
        f"capgap --demo first data:  median {data:.3f} s  ({data / floor:.2f}x floor)  "
        f"budget {BUDGET_FIRST_DATA_S} s: {'PASS' if data <= BUDGET_FIRST_DATA_S else 'MISS'}"
    )
    print(f"all first-data samples: {', '.join(f'{d:.3f}' for d in sorted(datas))}")


if __name__ == "__main__":
    main()
