"""Requests and seconds of `capgap snapshot --format tmux`, cold and run again within a minute.

The local Yahoo + NY Fed of bench/poll_budget.py (Provider: realistic bodies, the cookie and
crumb checked) answers; `capgap snapshot --format tmux` runs as a new process each time, as
tmux's ``#(...)`` runs it, with its cache and state folders in a temporary place. Each round
empties the cache folder, runs it cold (no stored session, no cached history or rates), then
runs it again at once: the figures of the second run are those of a tmux status line that
refreshes every minute.

Each round then runs it again once more beside what a monitor keeps in the same cache folder:
a year of every member's closes (``member-closes.parquet``, synthetic, the shipped members),
which the line shows nothing of.

The reference, measured in the same run: the cold run (what every run cost before the session
and the slow data were kept on disk), the interpreter's own start (``python -c pass``), and the
start with the two libraries every
live run imports (``import polars, httpx``; httpx imports rich too where click is installed).

Run: python bench/tmux_line.py [--rounds 5]
Budget: the run again makes at most 2 requests and answers within 0.5 s (median).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl
from capgap.core.clock import ManualClock, SystemClock
from capgap.core.market_types import NEW_YORK
from capgap.feeds.member_history import CLOSES_FILE, CLOSES_SCHEMA
from capgap.market.calendar import is_trading_day, previous_session
from capgap.market.universe import load_universe
from poll_budget import Provider

BUDGET_REQUESTS = 2
BUDGET_SECONDS = 0.5
#: What any run of the engine imports before it can ask anything: the second reference.
LIBRARIES = "import polars, httpx"


def serving_clock() -> ManualClock:
    """Return the server's clock: now on a trading day, else the last session's 15:30.

    The replies are built for a session (bars up to the clock); capgap itself reads the wall
    clock, to which a quote of the last session is simply older.
    """
    now = SystemClock().now()
    today = now.astimezone(NEW_YORK).date()
    if is_trading_day(today):
        return ManualClock(now)
    last = previous_session(today)
    return ManualClock(last.close - timedelta(minutes=30))


def write_members_closes(path: Path, symbols: list[str], sessions: int = 252) -> int:
    """Write a year of daily closes of ``symbols`` where a monitor keeps them; return the rows."""
    days = pl.date_range(pl.date(2025, 1, 1), pl.date(2026, 12, 31), eager=True)
    days = days.filter(days.dt.weekday() <= 5).head(sessions)
    closes = (
        pl.DataFrame({"symbol": symbols})
        .join(pl.DataFrame({"date": days}), how="cross")
        .with_columns(close=pl.int_range(pl.len()).mod(997).cast(pl.Float64()) / 10 + 20)
        .select(list(CLOSES_SCHEMA))
        .cast(CLOSES_SCHEMA)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    closes.write_parquet(path)
    return closes.height


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run ``argv``; return its wall seconds and its standard output."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    """Measure the rounds and print the figures; exit 1 when the budget is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="capgap-tmux-bench-"))
    cold_s: list[float] = []
    warm_s: list[float] = []
    floor_s: list[float] = []
    libraries_s: list[float] = []
    beside_s: list[float] = []
    cold_requests: list[int] = []
    warm_requests: list[int] = []
    beside_requests: list[int] = []
    lines: set[str] = set()
    try:
        universe = load_universe()
        with Provider(serving_clock(), universe) as provider:
            config = folder / "config.toml"
            config.write_text(
                f'[feeds.yahoo]\nbase_url = "{provider.base_url}"\n'
                f'cookie_url = "{provider.base_url}/cookie"\n'
                f'[feeds.nyfed]\nbase_url = "{provider.base_url}"\n'
            )
            env = dict(os.environ)
            for name in ("CONFIG", "DATA", "STATE", "CACHE"):
                env[f"XDG_{name}_HOME"] = str(folder / name.lower())
            command = [sys.executable, "-m", "capgap", "snapshot", "--config", str(config)]
            command += ["--format", "tmux"]
            # Once before the rounds: bytecode compiled and the NYSE calendar cached, as an
            # installed capgap has them after its first start.
            run_once(command, env)
            closes = folder / "cache" / "capgap" / "slow" / CLOSES_FILE
            closes_rows = 0
            for _ in range(args.rounds):
                shutil.rmtree(folder / "cache" / "capgap" / "session", ignore_errors=True)
                shutil.rmtree(folder / "cache" / "capgap" / "slow", ignore_errors=True)
                provider.take()
                seconds, line = run_once(command, env)
                cold_s.append(seconds)
                cold_requests.append(len(provider.take()))
                seconds, line_again = run_once(command, env)
                warm_s.append(seconds)
                warm_requests.append(len(provider.take()))
                # Once more beside a monitor's members' closes (the next cold run drops them).
                closes_rows = write_members_closes(closes, universe.member_symbols())
                seconds, line_beside = run_once(command, env)
                beside_s.append(seconds)
                beside_requests.append(len(provider.take()))
                lines.update((line, line_again, line_beside))
                floor_s.append(run_once([sys.executable, "-c", "pass"], env)[0])
                libraries_s.append(run_once([sys.executable, "-c", LIBRARIES], env)[0])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    cold, warm, floor = (statistics.median(x) for x in (cold_s, warm_s, floor_s))
    print(f"rounds: {args.rounds}; the lines printed: {sorted(lines)}")
    print(f"{'run':<26}{'requests':>10}{'median s':>10}{'min s':>8}{'max s':>8}")
    rows = (
        ("cold (nothing on disk)", cold_requests, cold_s),
        ("again within a minute", warm_requests, warm_s),
        ("again, monitor's closes", beside_requests, beside_s),
        ("python -c pass (floor)", [0], floor_s),
        ("import polars, httpx", [0], libraries_s),
    )
    for label, requests, samples in rows:
        print(
            f"{label:<26}{max(requests):>10}{statistics.median(samples):>10.3f}"
            f"{min(samples):>8.3f}{max(samples):>8.3f}"
        )
    print(f"again / cold: {warm / cold:.2f}; again - floor: {warm - floor:.3f} s")
    print(
        f"the monitor's closes: {closes_rows:,} rows; again beside them / again: "
        f"{statistics.median(beside_s) / warm:.2f}"
    )
    ok = max(warm_requests) <= BUDGET_REQUESTS and warm <= BUDGET_SECONDS
    verdict = "PASS" if ok else "MISS"
    print(f"budget: <= {BUDGET_REQUESTS} requests and <= {BUDGET_SECONDS} s run again: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
