"""The demo's first figures, computed in a second process while the monitor's screen loads.

Until its first figures are drawn the monitor is CPU-bound in one process: Textual's import,
styles and first frames, then polars' import, the sample's files and the first tick, all
taking turns on one GIL (1.05-1.2 s to the demo's first figures on a 2-core machine,
2026-12-07, against 0.55 s for the same figures computed alone). A second Python process on
the other core builds the demo's engine with the same settings and computes its snapshot at
the replay's first instant while the first process paints its frame. The snapshot comes back
over a pipe (msgpack: the Snapshot's records are msgspec Structs) and is shown until the
engine's own first figures replace it. It is the same engine's snapshot, not a stand-in: one
function builds the engine for both processes. With one core the second process would only
compete with the first: none is started.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

import capgap
from capgap.cli import config
from capgap.core.snapshot import Snapshot
from capgap.settings.config import find_config, load_settings

if TYPE_CHECKING:
    from capgap.core.clock import Clock
    from capgap.engine.loop import Engine
    from capgap.market.fomc import FomcMeeting
    from capgap.settings.model import Settings

#: The module the second process runs (``python -m``).
PREVIEW_MODULE = "capgap.cli.preview"
#: Where Linux mounts the control groups that may cap a process's CPU time.
CGROUP_ROOT = Path("/sys/fs/cgroup")


class PreviewRequest(msgspec.Struct, frozen=True):
    """What the second process needs to build the demo's engine as the monitor does."""

    #: The replayed instant whose figures it computes (the monitor's clock at its start).
    at: datetime
    speed: float
    refresh_s: float
    #: The settings file the monitor read (--config), None for the default search.
    config: str | None


def demo_engine_for(
    settings: Settings, schedule: tuple[FomcMeeting, ...], clock: Clock, refresh_s: float
) -> Engine:
    """Return the demo's engine on ``clock`` with the user's settings (monitor and preview)."""
    # The members' files are read in a thread of their own while the analytics modules
    # import (see demo_feed): this import loads polars.
    from capgap.feeds.recording.replay import demo_feed

    feed = demo_feed(clock)
    from capgap.engine.sources import demo_engine

    return demo_engine(
        clock,
        refresh_s=refresh_s,
        schedule=schedule,
        manual_prices=settings.fedwatch.prices,
        universe=config.universe(settings, cached=False),
        feed=feed,
    )


class SnapshotPreview:
    """The monitor's end of the second process: its snapshot, once, or None if it failed."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self._reading = False

    async def first(self) -> Snapshot | None:
        """Return the second process's snapshot; None when it failed, died or sent garbage."""
        output = await asyncio.to_thread(self._read)
        if output is None:
            return None
        try:
            return msgspec.msgpack.decode(output, type=Snapshot)
        except msgspec.DecodeError:
            return None

    def _read(self) -> bytes | None:
        self._reading = True
        # Everything it writes, then its exit: the snapshot counts only from a clean exit.
        try:
            output, _ = self._process.communicate()
        except ValueError:  # cancelled before the read began: its pipe is closed
            return None
        return output if self._process.returncode == 0 and output else None

    def cancel(self) -> None:
        """Stop the second process if it still runs (the monitor has no more use for it)."""
        if self._process.poll() is None:
            self._process.kill()
            # Reaped here even when nobody reads it (the monitor refused to start).
            self._process.wait()
        if not self._reading and self._process.stdout is not None:
            self._process.stdout.close()


def cpu_quota(root: Path) -> float | None:
    """Return the CPUs' worth of time this process's control group (under ``root``) may use.

    A container (docker --cpus=1) or a systemd slice with a quota sees every core of the
    machine but may use only part of them: cgroup v2's cpu.max (the process's own group,
    else the root), then v1's cfs quota. None: no limit, or none to read.
    """
    groups = [root]
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::/") and line != "0::/":
                groups.insert(0, root / line[4:])
    for group in groups:
        with contextlib.suppress(OSError, ValueError):
            quota, period = (group / "cpu.max").read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
    with contextlib.suppress(OSError, ValueError):
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota_us <= 0 else quota_us / period_us
    return None


def cores_available() -> int:
    """Return how many CPUs' worth of time this process may use (affinity, then quota)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = cpu_quota(CGROUP_ROOT)
    return cores if quota is None else max(1, min(cores, int(quota)))


def start_preview(request: PreviewRequest) -> SnapshotPreview | None:
    """Start the second process for ``request``; None with one core or when it cannot start."""
    if cores_available() < 2 or not sys.executable:
        return None
    # The second process imports the monitor's own capgap, wherever it came from (a source
    # tree, an install beside another version).
    path = [str(Path(capgap.__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")]
    try:
        process = subprocess.Popen(
            # -P: the monitor's working directory is not put on the path (a folder holding a
            # capgap/ or a msgspec.py would otherwise be imported in place of the real ones).
            [sys.executable, "-P", "-m", PREVIEW_MODULE, msgspec.json.encode(request).decode()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            # The monitor reports what is wrong with the settings or the sample itself.
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))},
        )
    except OSError:
        return None
    return SnapshotPreview(process)


def preview_snapshot(request: PreviewRequest) -> Snapshot:
    """Compute the demo's snapshot at ``request.at`` as the monitor's engine would."""
    from capgap.core.clock import ManualClock
    from capgap.engine.startup import demo_clock

    settings = load_settings(find_config(request.config))
    # Paced by a wall clock that stands still: the figures are those of the instant asked for.
    clock = demo_clock(request.at, request.speed, wall=ManualClock(request.at))
    engine = demo_engine_for(settings, config.schedule(settings), clock, request.refresh_s)
    # As the engine's loop polls: a replay that starts at its end waits for the history.
    return asyncio.run(engine.loop_refresh(finished=clock.finished))


def main(argv: Sequence[str]) -> int:
    """Compute the snapshot ``argv`` asks for and write it to stdout as msgpack; 2: bad request."""
    try:
        request = msgspec.json.decode(argv[0], type=PreviewRequest)
    except (IndexError, msgspec.DecodeError):
        return 2
    sys.stdout.buffer.write(msgspec.msgpack.encode(preview_snapshot(request)))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    # The second process only: a process this short-lived frees nothing worth a collector's
    # pass, and polars reads its settings once, when it loads.
    gc.disable()
    from capgap.cli.polars_env import tune_polars

    tune_polars(os.environ)
    code = main(sys.argv[1:])
    # The interpreter's teardown would walk all that polars and the engine made, and the
    # monitor reads until this process's end: it ends here.
    os._exit(code)
