"""Peak RSS of `capgap --demo` over a whole replayed session (30x), against a minimal app.

The demo replays the sample session from the open to the close (6.5 market hours, 13 wall
minutes at 30x) in a 120x40 pty; RSS is sampled every second until REPLAY END is on screen,
then for a few more seconds. The reference, measured the same way in the same run, is a
minimal Textual app that updates one line per second: what any Textual app costs here.

Run: python bench/session_memory.py [--speed 30] [--at 09:30] [--capgap PATH]
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

from pty_process import ANSI, PtyProcess
from terminal_cost import FLOOR_APP

BUDGET_PEAK_MB = 150.0
#: Seconds the reference app is sampled for (its RSS settles within a few seconds).
FLOOR_SECONDS = 20.0
#: Seconds sampled after the replay's end: the figures stay on screen, memory should settle.
AFTER_END_S = 10.0


@dataclass(frozen=True)
class Memory:
    """RSS samples of one run, in MB."""

    samples: list[float]
    seconds: float

    @property
    def peak(self) -> float:
        """The largest sample."""
        return max(self.samples)

    @property
    def end(self) -> float:
        """The last sample."""
        return self.samples[-1]

    @property
    def median(self) -> float:
        """The median sample."""
        return statistics.median(self.samples)


def sample(process: PtyProcess, until: bytes | None, seconds: float, limit_s: float) -> Memory:
    """Sample RSS each second until ``until`` shows (plus ``seconds``) or for ``seconds``."""
    samples: list[float] = []
    start = time.perf_counter()
    deadline = start + limit_s
    ended_at: float | None = None if until is not None else start
    seen = 0
    while time.perf_counter() < deadline and not process.closed:
        process.pump(1.0)
        samples.append(process.rss_kb() / 1024)
        if ended_at is None and until is not None:
            # Only the new output is searched: the screen is redrawn in pieces.
            text = ANSI.sub(b"", bytes(process.output[max(0, seen - 64) :]))
            seen = len(process.output)
            if until in text:
                ended_at = time.perf_counter()
        if ended_at is not None and time.perf_counter() - ended_at >= seconds:
            break
    if ended_at is None:
        raise SystemExit(f"{until!r} never appeared within {limit_s:g} s")
    return Memory(samples, time.perf_counter() - start)


def measure_floor(folder: Path) -> Memory:
    """Return the RSS of the minimal Textual app (the reference), its script written in folder."""
    floor_script = folder / "floor.py"
    floor_script.write_text(FLOOR_APP)
    floor_process = PtyProcess([sys.executable, str(floor_script)], cols=120, rows=40)
    try:
        floor_process.wait_for(b"FLOOR-READY")
        return sample(floor_process, None, FLOOR_SECONDS, FLOOR_SECONDS + 5)
    finally:
        floor_process.stop()


def main() -> None:
    """Measure the reference app, then a whole replayed session; print peaks and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speed", type=float, default=30.0)
    parser.add_argument("--at", default="09:30")
    parser.add_argument("--capgap", default=shutil.which("capgap") or "capgap")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        floor = measure_floor(Path(tmp))
    argv = [args.capgap, "--demo", "--speed", f"{args.speed:g}", "--at", args.at]
    market_s = 16 * 3600 - sum(
        int(part) * 60**i for i, part in enumerate(reversed(args.at.split(":")), 1)
    )
    process = PtyProcess(argv, cols=120, rows=40)
    try:
        process.wait_for(b"DEMO")
        session = sample(process, b"REPLAY END", AFTER_END_S, market_s / args.speed * 2 + 120)
    finally:
        process.stop()
    print(
        f"120x40 pty; {' '.join(argv[1:])}: {session.seconds:.0f} s sampled each second, "
        f"to {AFTER_END_S:g} s after REPLAY END"
    )
    print(f"reference (minimal app): median {floor.median:.1f} MB, peak {floor.peak:.1f} MB")
    ratio = session.peak / floor.peak
    verdict = "PASS" if session.peak <= BUDGET_PEAK_MB else "MISS"
    print(
        f"capgap: start {session.samples[0]:.1f} MB, median {session.median:.1f} MB, "
        f"end {session.end:.1f} MB, peak {session.peak:.1f} MB ({ratio:.1f}x reference) "
        f"{verdict} <= {BUDGET_PEAK_MB:g} MB"
    )


if __name__ == "__main__":
    main()
