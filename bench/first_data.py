"""Time from launch to first paint and to first data for `capgap --demo` in a real pty.

The floor is a minimal Textual app that paints one line, launched the same way in the same run:
its time is what any Textual app costs to start on this machine.

Run: python bench/first_data.py [--runs 7] [--capgap PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pty_process import PtyProcess

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
    process = PtyProcess(argv, cols=120, rows=40)
    try:
        return [process.wait_for(marker, timeout) for marker in markers]
    finally:
        process.stop()


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
