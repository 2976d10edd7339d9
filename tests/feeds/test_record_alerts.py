"""`capgap record` evaluates the alert rules: over a replayed session it says each alert on a
line and runs the command hook with it (no bell or OSC when its stderr is not a terminal)."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from builders import sparse_snapshot
from capgap.cli.record import RecorderAlerts
from capgap.core.clock import ManualClock
from capgap.core.records import replace
from capgap.core.snapshot import MeetingOdds, Snapshot
from capgap.engine.sources import demo_engine
from capgap.engine.startup import demo_window
from capgap.settings.alert_rules import Direction, FedOddsMove, SpreadCross
from capgap.settings.model import NotifySettings, Settings
from server import LocalServer, local_server
from test_live_engine import config_for
from test_record_cli import start_recording, stop

__all__ = ["local_server"]


async def replayed_day() -> list[Snapshot]:
    """The sample session replayed every 15 minutes from the open to the close."""
    open_at, close_at = demo_window()
    clock = ManualClock(open_at)
    engine = demo_engine(clock)
    snapshots = []
    try:
        while clock.now() <= close_at:
            snapshots.append(await engine.refresh())
            clock.advance(timedelta(minutes=15).total_seconds())
    finally:
        await engine.aclose()
    return snapshots


class FakeTty(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty", [False, True], ids=["log", "terminal"])
async def test_the_recorder_alerts_on_a_replayed_session_crossing_a_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tty: bool
):
    snapshots = await replayed_day()
    gaps = [snapshot.spread.relative_pp.d1 for snapshot in snapshots]
    assert all(gap is not None for gap in gaps)
    values = [gap for gap in gaps if gap is not None]
    # A level halfway to the day's farthest gap from the first: the day crosses it.
    far = max(values, key=lambda value: abs(value - values[0]))
    level = (values[0] + far) / 2
    direction: Direction = "above" if far > values[0] else "below"
    # By hand: the first tick on the other side of the level is where the alert fires.
    first = next(
        index for index, value in enumerate(values) if (value > level) == (direction == "above")
    )
    assert first > 0
    hook_log = tmp_path / "alerts.jsonl"
    settings = Settings(
        alerts=(SpreadCross(level, "gap_1d", direction),),
        notify=NotifySettings(methods=("bell", "osc9"), command=f"cat >> {hook_log}", timeout_s=30),
    )
    stream = FakeTty() if tty else io.StringIO()
    alerts = RecorderAlerts(settings, stream=stream, environ={})
    for snapshot in snapshots:
        alerts.observe(snapshot)
    await alerts.finish()
    # Each alert's hook runs as a task of its own: they may end in any order.
    lines = hook_log.read_text().splitlines()
    received = sorted((json.loads(line) for line in lines), key=lambda alert: alert["time"])
    assert received, "the hook ran"
    assert received[0]["rule"] == {
        "kind": "spread",
        "level": level,
        "metric": "gap_1d",
        "direction": direction,
    }
    assert received[0]["value"] == pytest.approx(values[first])
    assert datetime.fromisoformat(received[0]["time"]) == snapshots[first].as_of
    assert received[0]["source"] == "demo"
    said = [line for line in capsys.readouterr().err.splitlines() if "alert:" in line]
    assert len(said) == len(received)
    assert said[0] == f"capgap: alert: {received[0]['title']}: {received[0]['message']}"
    # Bell and OSC only on a terminal; a log gets the line alone.
    written = stream.getvalue()
    if tty:
        assert written.startswith("\x07\x1b]9;") and written.count("\x07\x1b]9;") == len(said)
    else:
        assert written == ""


def test_capgap_record_runs_the_hook_when_its_source_goes_down(
    local_server: LocalServer, tmp_path: Path
):
    # Nothing is scripted: every request is a 404 and the feed is down from the first poll.
    got = tmp_path / "alert.json"
    config = Path(config_for(local_server, tmp_path))
    config.write_text(
        config.read_text()
        + "[poll]\nopen_s = 1\nextended_s = 1\nclosed_s = 1\n"
        + '[[alerts]]\nkind = "feed_down"\nminutes = 0.001\n'
        + '[notify]\nmethods = ["bell", "osc9"]\n'
        # Written whole, then renamed: the test never reads half an object.
        + f'command = "cat > {got}.part; mv {got}.part {got}"\n'
    )
    out = tmp_path / "rec"
    child = start_recording(config, out)
    try:
        deadline = time.monotonic() + 60
        while not got.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        err = stop(child)
    alert = json.loads(got.read_text())
    assert alert["rule"] == {"kind": "feed_down", "minutes": 0.001}
    assert alert["severity"] == "error" and alert["title"] == "yahoo down"
    assert alert["value"] > 0.001
    assert f"capgap: alert: yahoo down: {alert['message']}" in err.splitlines()
    # Its stderr is a pipe, not a terminal: no bell, no OSC in the log.
    assert "\x07" not in err and "\x1b" not in err


async def test_the_recorder_alerts_once_when_the_next_meetings_cut_odds_jump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    start = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)
    base = sparse_snapshot(start)

    def at(minutes: int, cut: float) -> Snapshot:
        odds = MeetingOdds(date(2025, 12, 10), True, cut, 100 - cut, 0.0, 3.7, -cut / 4, (),
                           3.89, "previous_month", 0.0, 0.0)  # fmt: skip
        fed = replace(base.fed, probabilities=(odds,))
        return replace(base, as_of=start + timedelta(minutes=minutes), fed=fed)

    hook_log = tmp_path / "alerts.jsonl"
    settings = Settings(
        alerts=(FedOddsMove(pp=8.0, minutes=30.0),),
        notify=NotifySettings(methods=(), command=f"cat >> {hook_log}", timeout_s=30),
    )
    alerts = RecorderAlerts(settings, stream=io.StringIO(), environ={})
    # 70 -> 75 -> 79 (9 pp in 20 minutes: fires) -> 85 (still the same move: nothing more).
    for minutes, cut in ((0, 70.0), (10, 75.0), (20, 79.0), (25, 85.0)):
        alerts.observe(at(minutes, cut))
    await alerts.finish()
    received = [json.loads(line) for line in hook_log.read_text().splitlines()]
    assert len(received) == 1
    assert received[0]["rule"] == {"kind": "fed_odds", "pp": 8.0, "minutes": 30.0}
    assert received[0]["value"] == pytest.approx(9.0)
    assert datetime.fromisoformat(received[0]["time"]) == start + timedelta(minutes=20)
    said = [line for line in capsys.readouterr().err.splitlines() if "alert:" in line]
    assert said == [
        "capgap: alert: Fed cut odds: Wed 10 Dec FOMC cut odds up +9.00 pp within 30 min: "
        "now 79.0 %"
    ]
