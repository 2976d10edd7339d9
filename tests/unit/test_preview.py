"""The demo's first figures from a second process: the same snapshot, or none, never a stale one."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import subprocess
import sys
from datetime import datetime, time
from pathlib import Path
from typing import Any

import capgap
import msgspec
import pytest
from capgap.cli import preview
from capgap.cli.config import schedule as config_schedule
from capgap.cli.main import main
from capgap.cli.preview import (
    PreviewRequest,
    SnapshotPreview,
    demo_engine_for,
    preview_snapshot,
    start_preview,
)
from capgap.cli.report import format_tmux
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import Snapshot
from capgap.engine.loop import Engine
from capgap.engine.startup import demo_clock, demo_window
from capgap.settings.config import load_settings


def at(clock_time: str) -> datetime:
    """The sample session's day at ``clock_time`` in New York."""
    day = demo_window()[0].date()
    return datetime.combine(day, time.fromisoformat(clock_time), tzinfo=NEW_YORK)


def received(started: SnapshotPreview) -> Snapshot:
    """The second process's snapshot, within a minute (a hung process fails the test)."""
    sent = asyncio.run(asyncio.wait_for(started.first(), 60))
    assert sent is not None
    return sent


def child(code: str) -> SnapshotPreview:
    """A stand-in second process running ``code``, its stdout piped like the real one's."""
    return SnapshotPreview(subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE))


def test_the_second_process_sends_the_figures_of_the_instant_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(preview, "cores_available", lambda: 2)
    # The user's settings reach the second process: what-if ZQ prices move the odds.
    settings = tmp_path / "capgap.toml"
    settings.write_text('[fedwatch]\nprices = {"2026-01" = 96.37}\n')
    settings.chmod(0o600)
    request = PreviewRequest(at("11:00"), speed=30.0, refresh_s=1.0, config=str(settings))
    started = start_preview(request)
    assert started is not None
    sent = received(started)
    # The monitor's own engine, built in this process by the same function, agrees in full.
    assert sent == preview_snapshot(request)
    assert sent.source == "demo" and sent.as_of == request.at
    unset = preview_snapshot(msgspec.structs.replace(request, config=None))
    assert sent.spread == unset.spread and sent.fed.futures != unset.fed.futures
    # And `capgap snapshot --demo --at 11:00`, a clock of its own, gives the same figures.
    argv = ["snapshot", "--demo", "--at", "11:00", "--format", "tmux", "--config", str(settings)]
    assert main(argv) == 0
    assert format_tmux(sent) + "\n" == capsys.readouterr().out


def test_the_working_directory_cannot_stand_in_for_a_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # capgap started from a folder holding a msgspec.py: the second process still imports the
    # real one (the monitor itself, a console script, never looks in its working directory).
    (tmp_path / "msgspec.py").write_text("raise SystemExit(7)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(preview, "cores_available", lambda: 2)
    started = start_preview(PreviewRequest(at("10:00"), 30.0, 1.0, None))
    assert started is not None
    assert received(started).as_of == at("10:00")


@pytest.mark.parametrize(
    "code",
    [
        "import sys; sys.exit(1)",  # it failed (a traceback went to its stderr)
        "print('not a snapshot')",  # it wrote something else
        "pass",  # it wrote nothing
        # A snapshot's worth of bytes that then failed: only a clean exit counts.
        "import sys; sys.stdout.buffer.write(b'\\x81\\xa1a\\x01'); sys.exit(3)",
    ],
)
async def test_a_second_process_that_fails_gives_no_figures(code: str) -> None:
    assert await child(code).first() is None


def test_cancel_stops_a_second_process_still_running() -> None:
    running = child("import time; time.sleep(60)")
    running.cancel()
    assert running._process.returncode == -9
    running.cancel()  # once more: nothing left to stop


def test_one_core_starts_no_second_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preview, "cores_available", lambda: 1)
    assert start_preview(PreviewRequest(at("11:00"), 30.0, 1.0, None)) is None


@pytest.mark.parametrize("argv", [[], ["{not json"], ['{"at": "yesterday"}']])
def test_the_second_process_refuses_a_request_it_cannot_read(argv: list[str]) -> None:
    assert preview.main(argv) == 2
    # What only the second process sets up (the collector off) is not done by main().
    assert gc.isenabled()


@pytest.mark.parametrize("clock_time", ["11:00", "17:00"])
def test_the_figures_are_those_the_engines_loop_publishes_first(clock_time: str) -> None:
    # At 17:00 the replay starts at its end: its one poll waits for the members' history.
    request = PreviewRequest(at(clock_time), 30.0, 1.0, None)
    computed = preview_snapshot(request)
    clock = demo_clock(request.at, request.speed, wall=ManualClock(request.at))
    engine = demo_engine_for(load_settings(None), config_schedule(load_settings(None)), clock, 1.0)
    assert computed == asyncio.run(first_published(engine))
    assert computed.sector_history is not None
    assert (computed.sector_history.loaded > 0) == (clock_time == "17:00")


async def first_published(engine: Engine) -> Snapshot:
    """Run the engine's loop until it publishes, and return that snapshot."""
    published: list[Snapshot] = []
    task = asyncio.create_task(engine.run(published.append))
    try:
        while not published:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return published[0]


def test_a_quota_of_one_core_starts_no_second_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docker --cpus=1 on a machine of many cores: affinity says many, the quota one.
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    monkeypatch.setattr(preview, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(preview.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    assert preview.cpu_quota(tmp_path) == 1.0
    assert preview.cores_available() == 1
    assert start_preview(PreviewRequest(at("11:00"), 30.0, 1.0, None)) is None


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "max 100000\n"}, None),  # v2, no limit
        ({"cpu.max": "250000 100000\n"}, 2.5),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),  # v1
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
        ({}, None),  # no control groups to read
        ({"cpu.max": "garbage"}, None),
    ],
)
def test_the_cpu_quota_is_read_from_the_control_groups(
    tmp_path: Path, files: dict[str, str], expected: float | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert preview.cpu_quota(tmp_path) == expected


def test_the_second_process_imports_the_monitors_own_capgap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[dict[str, str]] = []
    real_popen = subprocess.Popen

    def popen(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(kwargs["env"])
        return real_popen([sys.executable, "-c", "pass"], stdout=subprocess.PIPE)

    monkeypatch.setattr(preview, "cores_available", lambda: 2)
    monkeypatch.setattr(preview.subprocess, "Popen", popen)
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    handle = start_preview(PreviewRequest(at("11:00"), 30.0, 1.0, None))
    assert handle is not None
    handle.cancel()
    root = str(Path(capgap.__file__).resolve().parent.parent)
    assert started[0]["PYTHONPATH"] == os.pathsep.join([root, "/elsewhere"])


def test_cancel_before_any_read_closes_the_pipe() -> None:
    running = child("import time; time.sleep(60)")
    running.cancel()
    pipe = running._process.stdout
    assert pipe is not None and pipe.closed
    # A read that starts after all the same gives nothing.
    assert asyncio.run(running.first()) is None


def test_the_request_crosses_the_process_line_unchanged() -> None:
    request = PreviewRequest(at("15:58"), 120.0, 0.5, "/tmp/capgap.toml")
    encoded = msgspec.json.encode(request).decode()
    assert msgspec.json.decode(encoded, type=PreviewRequest) == request


class StartedPreview:
    """What start_preview would have returned, recording whether it was stopped."""

    cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    async def first(self) -> None:
        return None


def test_a_monitor_that_refuses_to_start_stops_its_second_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[tuple[PreviewRequest, StartedPreview]] = []

    def start(request: PreviewRequest) -> StartedPreview:
        started.append((request, StartedPreview()))
        return started[-1][1]

    monkeypatch.setattr(preview, "start_preview", start)
    monkeypatch.setattr("capgap.cli.monitor.has_terminal", lambda: True)
    assert main(["--demo", "--at", "11:00", "--speed", "60", "--theme", "nope"]) == 2
    assert "--theme: no theme named 'nope'" in capsys.readouterr().err
    [(request, process)] = started
    assert process.cancelled
    # The replay's clock at the moment it was started: a moment after 11:00 at 60x.
    assert at("11:00") <= request.at < at("11:01")
    assert (request.speed, request.refresh_s, request.config) == (60.0, 1.0, None)


def test_a_monitor_without_a_terminal_starts_no_second_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[PreviewRequest] = []
    monkeypatch.setattr(preview, "start_preview", started.append)
    monkeypatch.setattr("capgap.cli.monitor.has_terminal", lambda: False)
    assert main(["--demo"]) == 2
    assert not started
