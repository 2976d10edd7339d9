"""Time from launch to first paint and to first data for `capgap --demo` in a real pty.

The floor is a minimal Textual app that paints one line, launched the same way in the same run:
its time is what any Textual app costs to start on this machine.

Every program is launched once before the measured rounds, and all of them find their modules'
bytecode compiled (in a cache folder of the bench's own, PYTHONPYCACHEPREFIX), as an installed
capgap has it after pip's install or its first start: with PYTHONDONTWRITEBYTECODE set in the
caller's environment an editable capgap would otherwise compile its sources at every launch
(about 0.1 s of the first data), a cost no installation pays. The warm-up launch also fills
capgap's cache folder (the NYSE calendar): the figures are those of a second start.

Run: python bench/first_data.py [--runs 7] [--capgap PATH ...]

Give --capgap more than once to compare installations (e.g. the previous release) in one run:
the runs interleave, each round launching the floor and then every capgap once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
#: Seconds a launch may take to show what is waited for.
TIMEOUT_S = 20.0
#: Seconds the warm-up launch runs: long enough to load, compile and cache everything.
WARM_UP_S = 5.0


#: The dashboard's S&P 500 row with a price: the first figures, whatever their instant.
FIRST_DATA = re.compile(rb"S&P 500 +([0-9][0-9,]*\.[0-9]{2})")


def launch(argv: list[str]) -> tuple[float, float, bytes]:
    """Start argv in a 120x40 pty; return the first paint, the first data and its S&P price."""
    process = PtyProcess(argv, cols=120, rows=40)
    try:
        paint = process.wait_for(b"DEMO", TIMEOUT_S)
        data = process.wait_for(FIRST_DATA, TIMEOUT_S)
        match = FIRST_DATA.search(process.matched)
        return paint, data, match.group(1) if match else b""
    except SystemExit as missing:
        raise SystemExit(f"{' '.join(argv)}: {missing}") from None
    finally:
        process.stop()


def floor_paint(script: Path) -> float:
    """Start the minimal Textual app; return the seconds to its first paint."""
    process = PtyProcess([sys.executable, str(script)], cols=120, rows=40)
    try:
        return process.wait_for(b"FLOOR-READY", TIMEOUT_S)
    finally:
        process.stop()


def open_price(capgap: str) -> bytes:
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
    parser.add_argument(
        "--capgap",
        action="append",
        help="a capgap executable; repeat to compare installations (default: capgap on PATH)",
    )
    args = parser.parse_args()
    capgaps: list[str] = args.capgap or [shutil.which("capgap") or "capgap"]
    floors: list[float] = []
    paints: dict[str, list[float]] = {capgap: [] for capgap in capgaps}
    datas: dict[str, list[float]] = {capgap: [] for capgap in capgaps}
    at_open = dict.fromkeys(capgaps, 0)
    with tempfile.TemporaryDirectory() as tmp:
        floor_script = Path(tmp) / "floor.py"
        floor_script.write_text(FLOOR_APP)
        # Children inherit these: bytecode is written once, into the bench's own folder.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        prices = {capgap: open_price(capgap) for capgap in capgaps}
        floor_paint(floor_script)
        for capgap in capgaps:
            # Not timed, and its figures may come after the open's minute (bytecode compiled
            # by the demo's second process too): it runs a while, then ends.
            warm_up = PtyProcess([capgap, "--demo"], cols=120, rows=40)
            try:
                warm_up.wait_for(b"DEMO", TIMEOUT_S)
                warm_up.pump(WARM_UP_S)
            finally:
                warm_up.stop()
        for _ in range(args.runs):
            floors.append(floor_paint(floor_script))
            for capgap in capgaps:
                paint, data, price = launch([capgap, "--demo"])
                paints[capgap].append(paint)
                datas[capgap].append(data)
                at_open[capgap] += price == prices[capgap]
    floor = statistics.median(floors)
    print(f"runs: {args.runs}, terminal 120x40")
    print(f"floor (minimal Textual app, first paint): median {floor:.3f} s")
    for capgap in capgaps:
        paint = statistics.median(paints[capgap])
        data = statistics.median(datas[capgap])
        print(
            f"{capgap} (first data: the S&P 500's price on screen; the open's, "
            f"{prices[capgap].decode()}, in {at_open[capgap]} of {args.runs} runs)"
        )
        paint_verdict = "PASS" if paint <= BUDGET_FIRST_PAINT_S else "MISS"
        data_verdict = "PASS" if data <= BUDGET_FIRST_DATA_S else "MISS"
        print(
            f"  --demo first paint: median {paint:.3f} s  ({paint / floor:.2f}x floor)  "
            f"budget {BUDGET_FIRST_PAINT_S} s: {paint_verdict}"
        )
        print(
            f"  --demo first data:  median {data:.3f} s  ({data / floor:.2f}x floor)  "
            f"budget {BUDGET_FIRST_DATA_S} s: {data_verdict}"
        )
        print(f"  all first-data samples: {', '.join(f'{d:.3f}' for d in sorted(datas[capgap]))}")


if __name__ == "__main__":
    main()
