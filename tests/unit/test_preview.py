"""The demo's first figures from a second process: the same snapshot, or none, never a stale one."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, time
from pathlib import Path

import msgspec
import pytest
from capgap.cli import preview
from capgap.cli.main import main
from capgap.cli.preview import PreviewRequest, SnapshotPreview, preview_snapshot, start_preview
from capgap.cli.report import format_tmux
from capgap.core.market_types import NEW_YORK
from capgap.engine.startup import demo_window


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config and state folders inside tmp_path: the user's own are never read."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("CAPGAP_CONFIG", raising=False)
    return tmp_path


def at(clock_time: str) -> datetime:
    """The sample session's day at ``clock_time`` in New York."""
    day = demo_window()[0].date()
    return datetime.combine(day, time.fromisoformat(clock_time), tzinfo=NEW_YORK)


def child(code: str) -> SnapshotPreview:
    """A stand-in second process running ``code``, its stdout piped like the real one's."""
    return SnapshotPreview(subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE))


def test_the_second_process_sends_the_figures_of_the_instant_asked_for(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(preview, "cores_available", lambda: 2)
    # The user's settings reach the second process: what-if ZQ prices move the odds.
    settings = home / "capgap.toml"
    settings.write_text('[fedwatch]\nprices = {"2026-01" = 96.37}\n')
    settings.chmod(0o600)
    request = PreviewRequest(at("11:00"), speed=30.0, refresh_s=1.0, config=str(settings))
    started = start_preview(request)
    assert started is not None
    sent = asyncio.run(started.first())
    assert sent is not None
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
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # capgap started from a folder holding a msgspec.py: the second process still imports the
    # real one (the monitor itself, a console script, never looks in its working directory).
    (home / "msgspec.py").write_text("raise SystemExit(7)\n")
    monkeypatch.chdir(home)
    monkeypatch.setattr(preview, "cores_available", lambda: 2)
    started = start_preview(PreviewRequest(at("10:00"), 30.0, 1.0, None))
    assert started is not None
    sent = asyncio.run(started.first())
    assert sent is not None and sent.as_of == at("10:00")


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
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
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
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[PreviewRequest] = []
    monkeypatch.setattr(preview, "start_preview", started.append)
    monkeypatch.setattr("capgap.cli.monitor.has_terminal", lambda: False)
    assert main(["--demo"]) == 2
    assert not started
