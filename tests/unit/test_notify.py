"""Alerts beyond the pane: the OSC bytes (plain and for tmux), notify-send and the command hook
(succeeds, fails, hangs, is not found), each failure reported once and never raised."""

from __future__ import annotations

import asyncio
import io
import json
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builders import sparse_snapshot
from capgap.alerts.notify import (
    QUEUE_BOUND,
    Notifier,
    alert_json,
    osc_sequence,
    run_hook,
    tmux_passthrough,
)
from capgap.alerts.watch import Alert, AlertMonitor
from capgap.cli.record import RecorderAlerts
from capgap.core.records import replace
from capgap.core.snapshot import Snapshot
from capgap.settings.alert_rules import SpreadCross
from capgap.settings.model import NotifySettings, Settings
from capgap.ui.internals.screen_diff import ScreenDiff

T0 = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)  # Fri 5 Dec 2025, 10:00 in New York
RULE = SpreadCross(-0.5, "gap_1d", "below")


def crossing() -> tuple[Alert, Snapshot]:
    """A real alert: the gap goes from -0.40 pp to -0.62 pp through a level of -0.50 pp."""
    monitor = AlertMonitor([RULE])
    assert monitor.check(sparse_snapshot(T0, gap=-0.40)) == []
    snapshot = sparse_snapshot(T0, gap=-0.62)
    (alert,) = monitor.check(snapshot)
    return alert, snapshot


def test_osc9_and_osc777_bytes():
    assert osc_sequence("osc9", "Gap", "below -0.50 pp", tmux=False) == (
        "\x1b]9;Gap: below -0.50 pp\x07"
    )
    # OSC 777: a ";" in the title would start the body early.
    assert osc_sequence("osc777", "a;b", "c;d", tmux=False) == "\x1b]777;notify;a,b;c;d\x07"
    assert osc_sequence("bell", "a", "b", tmux=False) == ""


def test_tmux_passthrough_doubles_each_esc_and_wraps_in_dcs():
    assert osc_sequence("osc9", "T", "B", tmux=True) == "\x1bPtmux;\x1b\x1b]9;T: B\x07\x1b\\"
    assert osc_sequence("osc777", "T", "B", tmux=True) == (
        "\x1bPtmux;\x1b\x1b]777;notify;T;B\x07\x1b\\"
    )
    assert tmux_passthrough("\x1b]9;x\x07") == "\x1bPtmux;\x1b\x1b]9;x\x07\x1b\\"


@pytest.mark.parametrize("method", ["osc9", "osc777"])
@pytest.mark.parametrize("tmux", [False, True])
def test_no_control_character_in_an_alert_reaches_the_terminal(method, tmux):
    # A feed error or a sector name with an escape in it: a title change, an ST, a C1 ST, a BEL.
    hostile = "bad\x1b]0;pwned\x07 \x1b\\ \x9c\nnext"
    sequence = osc_sequence(method, hostile, hostile, tmux=tmux)
    inner = sequence.removeprefix("\x1bPtmux;").removesuffix("\x1b\\") if tmux else sequence
    inner = inner.replace("\x1b\x1b", "\x1b") if tmux else inner
    assert inner.startswith(f"\x1b]{method[3:]};") and inner.endswith("\x07")
    body = inner[2:-1]
    assert all(char.isprintable() for char in body), repr(body)
    assert "\\x1b]0;pwned\\x07" in body  # shown escaped, not acted on


def test_the_notifier_writes_its_osc_methods_wrapped_under_tmux():
    alert, _ = crossing()
    settings = NotifySettings(methods=("bell", "osc9", "osc777"))
    plain = Notifier(settings, print, environ={})
    wrapped = Notifier(settings, print, environ={"TMUX": "/tmp/tmux-1000/default,1,0"})
    nine = osc_sequence("osc9", alert.title, alert.message, tmux=False)
    seven = osc_sequence("osc777", alert.title, alert.message, tmux=False)
    assert plain.terminal_text(alert) == nine + seven
    assert wrapped.terminal_text(alert) == tmux_passthrough(nine) + tmux_passthrough(seven)
    assert plain.rings
    # A recorder without a terminal uses none of the terminal's channels.
    headless = Notifier(settings, print, environ={}, terminal=False)
    assert headless.terminal_text(alert) == "" and not headless.rings


def test_alert_json_names():
    alert, snapshot = crossing()
    assert alert_json(alert, snapshot) == {
        "rule": {"kind": "spread", "level": -0.5, "metric": "gap_1d", "direction": "below"},
        "title": alert.title,
        "message": alert.message,
        "value": pytest.approx(-0.62),
        "severity": "warning",
        "time": "2025-12-05T15:00:00+00:00",
        "source": snapshot.source,
    }


async def test_the_hook_gets_the_alert_as_one_json_object_on_stdin(tmp_path: Path):
    alert, snapshot = crossing()
    got = tmp_path / "got.json"
    reports: list[str] = []
    notifier = Notifier(
        NotifySettings(methods=(), command=f"cat > {got}; echo noise", timeout_s=30),
        reports.append,
    )
    await notifier.deliver(alert, snapshot)
    assert reports == []
    text = got.read_text()
    assert text.count("\n") == 1  # one object, one line
    received = json.loads(text)
    assert received["rule"] == {
        "kind": "spread",
        "level": -0.5,
        "metric": "gap_1d",
        "direction": "below",
    }
    assert received["message"] == "RUT-SPX gap crossed below -0.50 pp: now -0.62 pp"
    assert received["value"] == pytest.approx(-0.62)
    assert received["severity"] == "warning"
    assert datetime.fromisoformat(received["time"]) == T0


async def test_a_failing_hook_is_reported_once_until_it_works_again(tmp_path: Path):
    alert, snapshot = crossing()
    flag = tmp_path / "fail"
    flag.touch()
    # Fails with exit 3 while the flag file exists, succeeds once it is gone.
    command = f"cat >/dev/null; if [ -e {flag} ]; then echo 'quota exceeded' >&2; exit 3; fi"
    reports: list[str] = []
    notifier = Notifier(NotifySettings(methods=(), command=command, timeout_s=30), reports.append)
    await notifier.deliver(alert, snapshot)
    await notifier.deliver(alert, snapshot)
    assert reports == [
        "the notify command failed: exited 3: quota exceeded (not reported again until it works)"
    ]
    flag.unlink()
    await notifier.deliver(alert, snapshot)
    flag.touch()
    await notifier.deliver(alert, snapshot)
    assert len(reports) == 2 and reports[1] == reports[0]


async def test_a_hook_that_is_not_found_is_reported():
    failure = await run_hook("capgap-no-such-command-4f2a", {"a": 1}, 30)
    assert failure is not None
    assert failure.startswith("not found: ") and "capgap-no-such-command-4f2a" in failure


def _gone(pid: int) -> bool:
    """True when ``pid`` has ended (absent, or a zombie not yet reaped by its new parent)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


async def test_a_hanging_hook_is_killed_at_its_time_limit_with_what_it_started(tmp_path: Path):
    pid_file = tmp_path / "pid"
    # The shell starts a sleeper and waits for it: the limit must end both, not the shell only.
    command = f"sleep 600 & echo $! > {pid_file}; wait"
    failure = await run_hook(command, {"a": 1}, 0.5)
    assert failure == "killed after the time limit of 0.5 s"
    sleeper = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while not _gone(sleeper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(sleeper)


async def test_notify_send_gets_clean_text_or_is_reported_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    crossed, snapshot = crossing()
    # A title with an escape in it (as a feed's error could carry): it reaches no one raw.
    alert = Alert(crossed.rule, "Gap\x1b]0;x\x07", crossed.message, "error", crossed.value)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    reports: list[str] = []
    notifier = Notifier(NotifySettings(methods=("notify-send",)), reports.append)
    await notifier.deliver(alert, snapshot)
    assert reports == ["notify-send failed: not found on PATH (not reported again until it works)"]
    args = tmp_path / "args"
    fake = bin_dir / "notify-send"
    fake.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > {args}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    await notifier.deliver(alert, snapshot)
    got = args.read_text().splitlines()
    assert got == [
        "--urgency=critical",
        "--app-name=capgap",
        "--",
        "Gap\\x1b]0;x\\x07",
        "RUT-SPX gap crossed below -0.50 pp: now -0.62 pp",
    ]
    assert len(reports) == 1  # it works now: nothing more said


@pytest.mark.parametrize("tmux", [False, True])
@pytest.mark.parametrize("method", ["osc9", "osc777"])
def test_the_notification_passes_the_screen_filter_whole(method, tmux):
    # The app's driver sends everything through ScreenDiff: the sequence must come out intact.
    alert, _ = crossing()
    sequence = osc_sequence(method, alert.title, alert.message, tmux=tmux)
    assert ScreenDiff().feed(sequence) == sequence
    # Nothing on the grid changes: the filter keeps its copy of the screen and the frame after
    # the notification, unchanged, costs nothing (a forgotten screen is repainted whole).
    diff = ScreenDiff(20, 5)
    frame = "\x1b[1;1H\x1b[31mgap -0.62\x1b[0m"
    assert "gap" in diff.feed(frame)
    assert diff.feed(sequence) == sequence
    assert diff.feed(frame) == ""


def test_alert_json_is_strict_json_even_for_a_figure_that_is_not_a_number():
    alert, snapshot = crossing()
    odd = Alert(alert.rule, alert.title, alert.message, alert.severity, float("nan"))
    assert alert_json(odd, snapshot)["value"] is None
    json.dumps(alert_json(odd, snapshot), allow_nan=False)  # NaN is not JSON: it must not be in


def two_at_once() -> tuple[list[Alert], Snapshot]:
    """Two alerts from one snapshot: the gap falls from -0.40 pp through -0.50 and -0.60 pp."""
    monitor = AlertMonitor([RULE, SpreadCross(-0.6, "gap_1d", "below")])
    assert monitor.check(sparse_snapshot(T0, gap=-0.40)) == []
    snapshot = sparse_snapshot(T0, gap=-0.62)
    alerts = monitor.check(snapshot)
    assert [alert.rule.level for alert in alerts] == [-0.5, -0.6]  # type: ignore[union-attr]
    return alerts, snapshot


async def test_hooks_of_alerts_that_fire_together_run_one_after_another(tmp_path: Path):
    alerts, snapshot = two_at_once()
    log, pid_file = tmp_path / "log", tmp_path / "pid"
    # The -0.50 alert's hook hangs (its shell becomes the sleeper); the -0.60 alert's hook
    # waits until the first one has started, then says whether it is still running.
    command = (
        'alert=$(cat); case "$alert" in *\'"level": -0.5\'*) '
        f"echo $$ > {pid_file}; exec sleep 600;; esac; "
        f"while [ ! -s {pid_file} ]; do sleep 0.01; done; "
        f'if kill -0 "$(cat {pid_file})" 2>/dev/null; then echo together >> {log}; '
        f"else echo after >> {log}; fi"
    )
    settings = Settings(
        alerts=tuple(alert.rule for alert in alerts),
        notify=NotifySettings(methods=(), command=command, timeout_s=1.0),
    )
    recorder = RecorderAlerts(settings, stream=io.StringIO())
    recorder.monitor.check(sparse_snapshot(T0, gap=-0.40))
    reports: list[str] = []
    recorder.notifier.report = reports.append
    recorder.observe(snapshot)
    await recorder.finish()
    # The hung hook was killed at its limit, and only then did the next one run.
    assert log.read_text() == "after\n"
    assert reports == [
        "the notify command failed: killed after the time limit of 1 s "
        "(not reported again until it works)"
    ]


async def test_alerts_beyond_the_queue_are_counted_and_reported_once(tmp_path: Path):
    alert, snapshot = crossing()
    log, gate = tmp_path / "log", tmp_path / "gate"
    # Each hook appends its alert's message; the first waits at the gate until it opens.
    command = (
        f'message=$(cat | sed \'s/.*"message": "\\([^"]*\\)".*/\\1/\'); echo "$message" >> {log}; '
        f'if [ "$message" = n0 ]; then while [ ! -e {gate} ]; do sleep 0.01; done; fi'
    )
    reports: list[str] = []
    notifier = Notifier(NotifySettings(methods=(), command=command, timeout_s=60), reports.append)
    server = asyncio.create_task(notifier.serve())
    try:
        notifier.submit(replace(alert, message="n0"), snapshot)
        # The first hook is running: the queue holds QUEUE_BOUND more, the two beyond are counted.
        deadline = time.monotonic() + 30
        while not (log.exists() and log.read_text() == "n0\n"):
            assert time.monotonic() < deadline, "the first hook never started"
            await asyncio.sleep(0.01)
        extra = QUEUE_BOUND + 2
        for number in range(1, 1 + extra):
            notifier.submit(replace(alert, message=f"n{number}"), snapshot)
        assert reports == [] and not notifier.idle
        gate.touch()
        await notifier.drain()
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    # Run in the order they came, one after another; the two beyond the bound said once.
    assert log.read_text().split() == [f"n{number}" for number in range(QUEUE_BOUND + 1)]
    assert reports == [
        f"2 alerts not passed to the notify command: {QUEUE_BOUND} were waiting already"
    ]
    assert notifier.idle
