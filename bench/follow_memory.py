"""RSS of a viewer (`capgap --follow DIR`, 120x40) on a busy day's recording, against a minimal app.

The recording is written in a temp dir by the Recorder, as `capgap record` would write a whole
day of the shipped universe at the default [poll] cadences: every 30 s from 04:00 to 09:30 and
from 16:00 to 20:00 ET, every 10 s while open; each poll quotes the 34 core symbols and the next
303 of the 2,423 members (a sweep of 8 polls), priced from the sample session's bars. The
day's last polls are written while the viewer runs, one every 10 s as while open, so it also
reads new files as behind a live poller. RSS is sampled every 0.2 s from the viewer's launch
until the status line shows the recording, then each second for SECONDS (with the CPU time);
the reference, sampled for FLOOR_SECONDS in the same run, is the minimal
Textual app of bench/terminal_cost.py.

Run: python bench/follow_memory.py [--seconds 30] [--poll-every 10] [--capgap PATH] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from capgap.core.clock import ManualClock
from capgap.core.resources import sample_data_dir
from capgap.core.schemas import DAILY, conform, conform_quotes
from capgap.feeds.base import ReferenceData
from capgap.feeds.recording.recorder import Recorder
from capgap.market.universe import load_universe
from pty_process import ANSI, PtyProcess
from session_memory import measure_floor

BUDGET_PEAK_MB = 150.0
#: Members quoted beside the core on each poll (README, "Polling the whole universe").
MEMBERS_PER_POLL = 303
#: Seconds between polls while open and in the extended hours (the default [poll]).
OPEN_EVERY_S = 10
EXTENDED_EVERY_S = 30
#: What the viewer shows once it has read the recording (the status line's age of it).
READY = b"recording"


def poll_times(day: datetime) -> list[datetime]:
    """Return a day's poll instants (UTC): 04:00-09:30 and 16:00-20:00 ET at 30 s, else 10 s."""
    # The sample's day is in EST (UTC-5): 04:00 ET is 09:00 UTC.
    pre, open_, close, end = (day + timedelta(hours=h) for h in (9, 14.5, 21, 25))
    times: list[datetime] = []
    for start, stop, step in (
        (pre, open_, EXTENDED_EVERY_S),
        (open_, close, OPEN_EVERY_S),
        (close, end, EXTENDED_EVERY_S),
    ):
        count = int((stop - start).total_seconds()) // step
        times += [start + timedelta(seconds=i * step) for i in range(count)]
    return times


def _prices(bars: pl.DataFrame) -> pl.DataFrame:
    """Per symbol and bar: its start, open, close, length and the day's volume before it."""
    return (
        bars.sort("symbol", "time")
        .with_columns(
            (pl.col("time").shift(-1).over("symbol") - pl.col("time"))
            .fill_null(timedelta(minutes=1))
            .alias("length"),
            (pl.col("volume").cum_sum().over("symbol") - pl.col("volume")).alias("before"),
        )
        .select("symbol", "time", "open", "close", "length", "before", "volume")
    )


def quotes_at(
    prices: pl.DataFrame, symbols: list[str], at: datetime, prev: pl.DataFrame, poll: int
) -> pl.DataFrame:
    """Return the quotes of ``symbols`` polled at ``at``: each bar's price moved to the instant.

    Before the open a symbol stands at its first open and after the close at its last close,
    with a pre- or post-market price that moves from poll to poll.
    """
    wanted = prices.filter(pl.col("symbol").is_in(symbols))
    inside = wanted.filter(pl.col("time") <= at).group_by("symbol").last()
    first = wanted.group_by("symbol").first()
    rows = pl.concat([inside, first.join(inside, on="symbol", how="anti")])
    share = (pl.lit(at) - pl.col("time")).dt.total_seconds() / pl.col("length").dt.total_seconds()
    share = share.clip(0.0, 1.0)
    opened = pl.lit(at) >= pl.col("time")
    last = pl.when(opened).then(pl.col("open") + (pl.col("close") - pl.col("open")) * share)
    drift = 1.0 + 0.002 * math.sin(poll / 7.0)
    hour = at.hour
    extended = pl.col("last") * drift
    return conform_quotes(
        rows.join(prev, on="symbol", how="left")
        .select(
            "symbol",
            pl.lit(at).alias("time"),
            last.otherwise(pl.col("open")).alias("last"),
            "prev_close",
            (pl.col("before") + pl.col("volume") * share).alias("volume"),
            pl.col("close").alias("day_high"),
            pl.col("open").alias("day_low"),
        )
        .with_columns(
            pl.when(hour < 15).then(extended).alias("pre_price"),
            pl.when(hour < 15).then(pl.lit(at)).alias("pre_time"),
            pl.when(hour >= 21).then(extended).alias("post_price"),
            pl.when(hour >= 21).then(pl.lit(at)).alias("post_time"),
        )
    )


class BusyDay:
    """Writes the busy day's polls into ``folder`` with a Recorder, as `capgap record` does."""

    def __init__(self, folder: Path) -> None:
        """Load the sample's bars and the shipped universe; nothing written yet."""
        source = sample_data_dir()
        bars = pl.concat(
            [
                pl.read_parquet(source / "intraday.parquet"),
                pl.read_parquet(source / "members_intraday.parquet"),
            ]
        )
        daily = conform(pl.read_parquet(source / "daily.parquet"), DAILY)
        members_daily = conform(pl.read_parquet(source / "members_daily.parquet"), DAILY)
        self.prev = (
            pl.concat([daily, members_daily])
            .sort("date")
            .group_by("symbol")
            .agg(pl.col("close").last().alias("prev_close"))
        )
        self.prices = _prices(bars)
        universe = load_universe()
        self.core = universe.core_symbols()
        self.members = universe.member_symbols()
        first = bars.get_column("time").min()
        assert isinstance(first, datetime)
        self.times = poll_times(first.replace(hour=0, minute=0, second=0))
        self.clock = ManualClock(self.times[0])
        # Written as a live poller writes (its source named), but of the sample's prices:
        # marked synthetic, so that a viewer of a kept copy (--keep) shows DEMO.
        self.recorder = Recorder(
            folder, self.clock, flush_interval_s=5.0, source="yahoo", synthetic=True
        )
        self.recorder.add_daily(daily)
        self.recorder.set_reference(ReferenceData((3.75, 4.0), 3.89), "sample")
        self.polls = 0

    def poll(self) -> None:
        """Write the next poll: the core and the next slice of members, then a flush."""
        at = self.times[self.polls]
        start = (self.polls * MEMBERS_PER_POLL) % len(self.members)
        members = (self.members + self.members)[start : start + MEMBERS_PER_POLL]
        self.clock.set(at)
        self.recorder.add_quotes(
            quotes_at(self.prices, self.core + members, at, self.prev, self.polls)
        )
        error = self.recorder.flush()
        if error is not None:
            raise SystemExit(f"cannot write the recording: {error}")
        self.polls += 1


def start_up(process: PtyProcess, limit_s: float = 120.0) -> tuple[float, list[float]]:
    """Sample RSS every 0.2 s until READY is on screen; return when it showed and the samples.

    The viewer reads the whole day on start: its peak may come before the screen shows it.
    """
    samples: list[float] = []
    seen = 0
    while time.perf_counter() - process.started < limit_s and not process.closed:
        process.pump(0.2)
        samples.append(process.rss_kb() / 1024)
        # Only the new output is searched (with a margin for a word split across reads).
        text = ANSI.sub(b"", bytes(process.output[max(0, seen - 64) :]))
        seen = len(process.output)
        if READY in text:
            return time.perf_counter() - process.started, samples
    raise SystemExit(f"{READY.decode()!r} never appeared within {limit_s:g} s")


def main() -> None:
    """Write the day, measure the reference app and the viewer; print RSS, CPU and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--poll-every",
        type=float,
        default=OPEN_EVERY_S,
        help="wall seconds between the polls "
        "written while sampling (the open's cadence: the day's last polls, one a step)",
    )
    parser.add_argument("--capgap", default=shutil.which("capgap") or "capgap")
    parser.add_argument("--keep", type=Path, help="write the recording here and keep it")
    args = parser.parse_args()
    # In memory where there is a tmpfs: the Recorder fsyncs every file it writes.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        folder = args.keep or Path(tmp) / "rec"
        started = time.perf_counter()
        day = BusyDay(folder)
        tail = int(args.seconds // args.poll_every) + 1
        while day.polls < len(day.times) - tail:
            day.poll()
        built_s = time.perf_counter() - started
        floor = measure_floor(Path(tmp))
        argv = [args.capgap, "--follow", str(folder)]
        process = PtyProcess(argv, cols=120, rows=40)
        try:
            ready_s, start = start_up(process)
            steady: list[float] = []
            cpu_before, wall_before = process.cpu_seconds(), time.perf_counter()
            end = wall_before + args.seconds
            due = wall_before
            while time.perf_counter() < end and not process.closed:
                if day.polls < len(day.times) and time.perf_counter() >= due:
                    day.poll()  # the poller's next flush: the viewer reads the new file
                    due += args.poll_every
                process.pump(max(0.0, 1.0 - (time.perf_counter() - wall_before) % 1.0))
                steady.append(process.rss_kb() / 1024)
            wall = time.perf_counter() - wall_before
            cpu_pct = 100 * (process.cpu_seconds() - cpu_before) / wall
        finally:
            process.stop()
    files, rows = day.recorder.files_written, day.recorder.rows_written
    print(
        f"recording: {files} quote files, {rows} rows, {len(day.core)} core symbols and "
        f"{len(day.members)} members (written in {built_s:.0f} s; the last {tail} files "
        f"while sampling, one each {args.poll_every:g} s)"
    )
    print(f"reference (minimal app): median {floor.median:.1f} MB, peak {floor.peak:.1f} MB")
    peak = max(start + steady)
    verdict = "PASS" if peak <= BUDGET_PEAK_MB else "MISS"
    print(
        f"viewer 120x40 ({argv[1]} DIR): the recording on screen after {ready_s:.1f} s "
        f"(peak {max(start):.1f} MB meanwhile); then {len(steady)} samples over {wall:.0f} s: "
        f"median {statistics.median(steady):.1f} MB, end {steady[-1]:.1f} MB, "
        f"CPU {cpu_pct:.1f} % of a core"
    )
    print(
        f"peak {peak:.1f} MB ({peak / floor.peak:.2f}x reference) {verdict} <= "
        f"{BUDGET_PEAK_MB:g} MB"
    )


if __name__ == "__main__":
    main()
