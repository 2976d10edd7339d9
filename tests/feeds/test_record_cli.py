"""`capgap record` polls the local server, is stopped by SIGTERM, and its recording replays;
a recording that wrote nothing says why, and the monitor says what it recorded on exit."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from capgap.core.clock import ManualClock, SystemClock
from capgap.core.market_types import NEW_YORK
from capgap.engine.sources import recording_engine
from capgap.feeds.providers.yahoo import chart_path
from capgap.feeds.recording.recorded import recording_window
from capgap.market.universe import load_universe, vars_in_order
from server import LocalServer, Reply, local_server
from test_live_engine import QUOTE_PATH, config_for, serve_history, serve_index_quotes
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_yahoo_quote import COOKIE_PATH

__all__ = ["local_server"]


def serve_a_poll(server: LocalServer) -> int:
    """Answer a whole poll: both indices quoted 30 s ago, daily history, the EFFR; the stamp."""
    now = SystemClock().now().astimezone(UTC)
    stamp = int(now.timestamp()) - 30
    serve_index_quotes(server, stamp)
    serve_history(server, now)
    server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    return stamp


# SIGQUIT's default action would dump core and lose the buffered rows: it stops as SIGTERM does.
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGQUIT], ids=["SIGTERM", "SIGQUIT"])
def test_record_then_replay(local_server: LocalServer, tmp_path: Path, signum: signal.Signals):
    stamp = serve_a_poll(local_server)
    config = Path(config_for(local_server, tmp_path))
    config.write_text(config.read_text() + "[poll]\nopen_s = 1\nextended_s = 1\nclosed_s = 1\n")
    out = tmp_path / "rec"
    child = subprocess.Popen(
        [sys.executable, "-m", "capgap", "record", "--config", str(config), "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        # The EFFR is read last in a poll: quotes asked for after it belong to the next poll,
        # so the first one has ended and its EFFR is recorded. (A stop sent while the EFFR is
        # still in flight would, rightly, record no EFFR.)
        while local_server.count(EFFR_PATH) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        quotes_by_then = local_server.count(QUOTE_PATH)
        while local_server.count(QUOTE_PATH) == quotes_by_then and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signum)
        _, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:  # a failed wait must not leave a recorder polling
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    day = datetime.fromtimestamp(stamp, NEW_YORK).date()
    # An unchanged quote is stored once: two rows, the two indices, in one file of one day.
    assert f"capgap: wrote 2 rows in 1 file for 1 day ({day}) to {out}\n" in err
    first, last = recording_window(out)
    assert first == last  # both quotes carry the one stamp served
    engine = recording_engine(out, ManualClock(last))
    snapshot = asyncio.run(engine.refresh())
    assert snapshot.spread.large.last == 6870.40
    assert snapshot.spread.small.last == 2521.48
    assert snapshot.fed.target_range == (3.75, 4.0)
    assert not snapshot.demo and snapshot.source == "replay"


def start_recording(config: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "capgap", "record", "--config", str(config), "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(child: subprocess.Popen[str]) -> str:
    """SIGTERM the recorder and return the rest of its stderr (it is killed if it hangs)."""
    try:
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return err


def test_record_with_the_source_down_the_whole_time_exits_1_and_says_why(
    local_server: LocalServer, tmp_path: Path
):
    # Nothing is scripted: the server answers 404 to every request.
    config = Path(config_for(local_server, tmp_path))
    out = tmp_path / "rec"
    child = start_recording(config, out)
    assert child.stderr is not None
    seen = [child.stderr.readline()]  # "recording to ...": the signal handlers are in place
    # The recorder reports each failed poll on a line of its own: the first poll has ended.
    seen.append(child.stderr.readline())
    err = "".join(seen) + stop(child)
    assert seen[0].startswith(f"capgap: recording to {out}"), err
    assert seen[1].startswith("capgap: yahoo "), err
    assert child.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"capgap: recorded nothing in {out}: the source never answered (yahoo: ")
    assert not list(out.rglob("quotes-*.parquet"))


def test_record_stopped_before_its_first_poll_ended_exits_1_and_says_why(
    local_server: LocalServer, tmp_path: Path
):
    # Every request of the first poll hangs: the stop comes while it is in flight.
    for path in (
        COOKIE_PATH,
        EFFR_PATH,
        *map(chart_path, vars_in_order(load_universe().benchmarks)),
    ):
        local_server.add(path, Reply.slow(60))
    config = Path(config_for(local_server, tmp_path))
    out = tmp_path / "rec"
    child = start_recording(config, out)
    try:
        deadline = time.monotonic() + 20
        while local_server.total < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        err = stop(child)
    assert child.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last == f"capgap: recorded nothing in {out}: stopped before the first poll had ended"


class _OnePollApp:
    """Stands in for the monitor's app: runs one poll of the engine, then quits like `q`."""

    return_code = 0  # what Textual's app gives after a clean exit

    def __init__(self, engine: Any, **_kwargs: Any) -> None:
        self.engine = engine

    def run(self, **_kwargs: Any) -> None:
        async def once() -> None:
            try:
                await self.engine.refresh()
            finally:
                await self.engine.aclose()

        asyncio.run(once())


@pytest.fixture
def monitor_without_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("capgap.ui.app.CapgapApp", _OnePollApp)
    # pytest holds stdin and stdout: the app that stands in draws nothing anyway.
    monkeypatch.setattr("capgap.cli.monitor.has_terminal", lambda: True)


def test_the_monitor_says_what_it_recorded_on_exit(
    local_server: LocalServer, tmp_path: Path, capsys: Any, monitor_without_screen: None
):
    from capgap.cli.main import main

    stamp = serve_a_poll(local_server)
    out = tmp_path / "rec"
    assert main(["--record", str(out), "--config", config_for(local_server, tmp_path)]) == 0
    day = datetime.fromtimestamp(stamp, NEW_YORK).date()
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        f"capgap: wrote 2 rows in 1 file for 1 day ({day}) to {out}"
    )
    assert len(list(out.rglob("quotes-*.parquet"))) == 1


def test_the_monitor_says_why_it_recorded_nothing(
    local_server: LocalServer, tmp_path: Path, capsys: Any, monitor_without_screen: None
):
    from capgap.cli.main import main

    out = tmp_path / "rec"
    assert main(["--record", str(out), "--config", config_for(local_server, tmp_path)]) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"capgap: recorded nothing in {out}: the source never answered (yahoo: ")


# `capgap record` whose engine loop dies after one real poll: a fault the loop did not survive.
DYING_ENGINE = r"""
import sys

from capgap.engine import loop as engine_module
from capgap.cli.main import main


async def run_then_die(self, publish, sleep=None):
    publish(await self.refresh())
    raise RuntimeError("the loop broke\nat line two")


engine_module.Engine.run = run_then_die
sys.exit(main(sys.argv[1:]))
"""


def test_record_ends_at_once_with_the_cause_when_its_engine_dies(
    local_server: LocalServer, tmp_path: Path
):
    stamp = serve_a_poll(local_server)
    config = Path(config_for(local_server, tmp_path))
    out = tmp_path / "rec"
    child = subprocess.Popen(
        [sys.executable, "-c", DYING_ENGINE, "record", "--config", str(config), "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # No signal is sent: the recorder must end by itself once its engine has died.
        _, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        err = stop(child)
        pytest.fail(f"capgap record kept running after its engine died:\n{err}")
    assert child.returncode == 1, err
    lines = err.splitlines()
    cause = [line for line in lines if "RuntimeError" in line]
    assert cause == [
        "capgap: error: polling stopped: RuntimeError: the loop broke\\nat line two"
    ], err
    # What the one poll gave is flushed and said, after the cause.
    day = datetime.fromtimestamp(stamp, NEW_YORK).date()
    assert lines[-1] == f"capgap: wrote 2 rows in 1 file for 1 day ({day}) to {out}", err
    assert "Traceback" not in err


def _a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


def _under_a_file(tmp_path: Path) -> Path:
    return _a_file(tmp_path) / "sub"


def _read_only_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root ignores the mode bits: the file cases cover it
        pytest.skip("running with permissions that ignore mode bits")
    return folder


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        # A path under a file, and a file in the folder's place, fail for root as well.
        (_under_a_file, "Not a directory"),
        (_a_file, "a file, not a folder"),
        (_read_only_folder, "Permission denied"),
    ],
    ids=["under-a-file", "a-file", "read-only"],
)
def test_record_into_a_folder_it_cannot_write_exits_2_before_any_request(
    local_server: LocalServer, tmp_path: Path, make: Any, reason: str
):
    out = make(tmp_path)
    config = Path(config_for(local_server, tmp_path))
    child = start_recording(config, out)
    try:
        _, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        err = stop(child)
        pytest.fail(f"capgap record polled a folder it cannot write:\n{err}")
    finally:
        if out.parent.is_dir():
            out.parent.chmod(0o700)
    assert child.returncode == 2, err
    assert err.splitlines() == [f"capgap: error: --out: cannot record in {out}: {reason}"], err
    assert local_server.total == 0


def test_the_monitor_refuses_a_record_folder_it_cannot_write(
    local_server: LocalServer, tmp_path: Path, capsys: Any, monitor_without_screen: None
):
    from capgap.cli.main import main

    out = _under_a_file(tmp_path)
    assert main(["--record", str(out), "--config", config_for(local_server, tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"capgap: error: --record: cannot record in {out}: Not a directory\n"
    assert local_server.total == 0
