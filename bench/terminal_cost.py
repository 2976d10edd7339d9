"""Idle CPU, bytes to the terminal and RSS of `capgap --demo` at 1 s refresh, in a 120x40 pty.

The floor, measured in the same run the same way, is a minimal Textual app that updates one
line per second: what any live Textual app costs on this machine and terminal.

Two demo paces: the default (30 market seconds per second: the numbers change on most
refreshes, harsher than a live feed polled every 10 s) and real time (--speed 1: the replay's
minute bars move once a minute). Nobody presses a key: this is the cost of leaving capgap open.

Run: python bench/terminal_cost.py [--runs 3] [--seconds 30] [--capgap PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pty_process import PtyProcess

FLOOR_APP = """
from datetime import datetime
from textual.app import App
from textual.widgets import Static

class Floor(App):
    def compose(self):
        yield Static("FLOOR-READY", id="line")

    def on_mount(self):
        self.set_interval(1.0, self.tick)

    def tick(self):
        self.query_one("#line", Static).update(f"FLOOR-READY {datetime.now():%H:%M:%S}")

Floor().run()
"""
BUDGET_CPU_PCT = 3.0
BUDGET_BYTES_PER_S = 4096
BUDGET_RSS_MB = 150.0
WARM_UP_S = 8.0


@dataclass(frozen=True)
class Cost:
    """What one run cost over the measured window."""

    cpu_pct: float
    bytes_per_s: float
    rss_mb: float


def measure(argv: list[str], marker: bytes, seconds: float) -> Cost:
    """Launch argv in a 120x40 pty, warm up, then measure CPU, output bytes and RSS."""
    process = PtyProcess(argv, cols=120, rows=40)
    try:
        process.wait_for(marker)
        # Past start-up: the engine is built, the first snapshots are painted.
        process.pump(WARM_UP_S)
        cpu_before = process.cpu_seconds()
        start = time.perf_counter()
        written = process.pump(seconds)
        elapsed = time.perf_counter() - start
        cpu = process.cpu_seconds() - cpu_before
        rss_mb = process.rss_kb() / 1024
    finally:
        process.stop()
    return Cost(100 * cpu / elapsed, written / elapsed, rss_mb)


def median_cost(costs: list[Cost]) -> Cost:
    """The median of each figure over the runs."""
    return Cost(
        statistics.median(c.cpu_pct for c in costs),
        statistics.median(c.bytes_per_s for c in costs),
        statistics.median(c.rss_mb for c in costs),
    )


def verdict(value: float, budget: float) -> str:
    """PASS or MISS against a budget."""
    return "PASS" if value <= budget else "MISS"


def main() -> None:
    """Measure the floor and both demo paces, interleaved; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--capgap", default=shutil.which("capgap") or "capgap")
    args = parser.parse_args()
    cases = {
        "floor (minimal app, 1 line/s)": None,
        "capgap --demo (30x replay)": [args.capgap, "--demo", "--refresh", "1"],
        "capgap --demo --speed 1": [args.capgap, "--demo", "--refresh", "1", "--speed", "1"],
    }
    results: dict[str, list[Cost]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        floor_script = Path(tmp) / "floor.py"
        floor_script.write_text(FLOOR_APP)
        for _ in range(args.runs):
            for name, argv in cases.items():
                if argv is None:
                    argv, marker = [sys.executable, str(floor_script)], b"FLOOR-READY"
                else:
                    marker = b"DEMO"
                results[name].append(measure(argv, marker, args.seconds))
    floor = median_cost(next(iter(results.values())))
    print(
        f"120x40 pty, TERM=xterm-256color truecolor, {args.runs} runs x {args.seconds:g} s "
        f"after {WARM_UP_S:g} s warm-up, medians"
    )
    print(f"{'':34} {'CPU % of a core':>16} {'bytes/s':>10} {'RSS MB':>8}")
    for name, costs in results.items():
        cost = median_cost(costs)
        print(f"{name:34} {cost.cpu_pct:16.2f} {cost.bytes_per_s:10.0f} {cost.rss_mb:8.1f}")
    for name, costs in results.items():
        # The spread over runs: the demo's figures move more in some minutes than in others.
        cpus = sorted(c.cpu_pct for c in costs)
        print(f"{name}: CPU % per run {', '.join(f'{cpu:.2f}' for cpu in cpus)}")
    for name, costs in list(results.items())[1:]:
        cost = median_cost(costs)
        cpu_ratio = cost.cpu_pct / max(floor.cpu_pct, 0.01)
        bytes_ratio = cost.bytes_per_s / max(floor.bytes_per_s, 1)
        print(
            f"{name}: CPU {cost.cpu_pct:.2f} % ({cpu_ratio:.1f}x floor) "
            f"{verdict(cost.cpu_pct, BUDGET_CPU_PCT)} <= {BUDGET_CPU_PCT:g} %; "
            f"{cost.bytes_per_s / 1024:.2f} KB/s ({bytes_ratio:.1f}x floor) "
            f"{verdict(cost.bytes_per_s, BUDGET_BYTES_PER_S)} <= 4 KB/s; "
            f"RSS {cost.rss_mb:.0f} MB {verdict(cost.rss_mb, BUDGET_RSS_MB)} "
            f"<= {BUDGET_RSS_MB:g} MB"
        )


if __name__ == "__main__":
    main()
