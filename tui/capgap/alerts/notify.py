"""Alerts beyond the pane: the bell, terminal notifications (OSC 9/777), notify-send, a hook."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC
from typing import Any

from capgap.alerts.watch import Alert
from capgap.core.snapshot import Snapshot
from capgap.core.text import printable
from capgap.settings.alert_rules import rule_kind
from capgap.settings.model import NotifyMethod, NotifySettings

BEL = "\x07"
ESC = "\x1b"
#: The channels written to the terminal itself (the rest run as processes).
TERMINAL_METHODS: frozenset[NotifyMethod] = frozenset({"bell", "osc9", "osc777"})
#: How long notify-send may take: it only hands the text to the desktop's daemon.
NOTIFY_SEND_TIMEOUT_S = 5.0
#: Alerts waiting for the processes (notify-send, the hook) besides the one whose processes
#: run: those beyond are counted, and said in one line once the queue has emptied.
QUEUE_BOUND = 8
#: The most of a failing hook's standard error quoted in its report.
STDERR_QUOTED = 200


def clean(text: str) -> str:
    """Return ``text`` with no control character left (escaped as repr() writes them).

    Alert texts carry market data and feed errors: an ESC or a BEL in them must not end the
    sequence they travel in, nor reach the terminal as a command.
    """
    return printable(text)


def osc_sequence(method: NotifyMethod, title: str, body: str, *, tmux: bool) -> str:
    """Return the terminal notification of ``method`` ("osc9" or "osc777"), "" for others.

    OSC 9 carries one text ("title: body"); OSC 777 a title and a body. Under tmux the
    sequence is wrapped in a DCS passthrough with its ESCs doubled.
    """
    title, body = clean(title), clean(body)
    if method == "osc9":
        sequence = f"{ESC}]9;{title}: {body}{BEL}"
    elif method == "osc777":
        # A ";" would end the title early: the terminal would show the rest as the body.
        sequence = f"{ESC}]777;notify;{title.replace(';', ',')};{body}{BEL}"
    else:
        return ""
    return tmux_passthrough(sequence) if tmux else sequence


def tmux_passthrough(sequence: str) -> str:
    """Return ``sequence`` wrapped for tmux to pass to the outer terminal (allow-passthrough)."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ESC}\\"


def alert_json(alert: Alert, snapshot: Snapshot) -> dict[str, Any]:
    """Return the alert as the command hook reads it: one JSON object of stable names."""
    rule = {"kind": rule_kind(alert.rule), **asdict(alert.rule)}
    return {
        "rule": rule,
        "title": alert.title,
        "message": alert.message,
        # NaN is not JSON (a strict reader refuses the whole object): no figure is null.
        "value": alert.value if alert.value is not None and math.isfinite(alert.value) else None,
        "severity": alert.severity,
        "time": snapshot.as_of.astimezone(UTC).isoformat(),
        "source": "demo" if snapshot.demo else snapshot.source,
    }


async def run_hook(command: str, payload: Mapping[str, Any], timeout_s: float) -> str | None:
    """Run ``command`` with ``sh -c``, ``payload`` as JSON on stdin; return why it failed.

    None when it exited 0. Its output is discarded (it must not reach the screen); a hook
    still running at ``timeout_s`` is killed with everything it started.
    """
    data = (json.dumps(payload, allow_nan=False) + "\n").encode()
    return await _run(["sh", "-c", command], data, timeout_s)


async def _run(argv: list[str], data: bytes, timeout_s: float) -> str | None:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            # Its own process group: the time limit kills what `sh -c` started, too.
            start_new_session=True,
        )
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror or exc}"
    try:
        _, err = await asyncio.wait_for(process.communicate(data), timeout_s)
    except TimeoutError:
        _kill_group(process.pid)
        await process.wait()
        return f"killed after the time limit of {timeout_s:g} s"
    except asyncio.CancelledError:
        _kill_group(process.pid)  # the app is quitting: no hook outlives it
        raise
    if process.returncode == 0:
        return None
    # The last line of its standard error says why, as a shell's "not found" does.
    lines = err.decode(errors="replace").strip().splitlines()
    said = clean(lines[-1][:STDERR_QUOTED]) if lines else ""
    what = "not found" if process.returncode == 127 else f"exited {process.returncode}"
    return f"{what}: {said}" if said else what


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(pid, signal.SIGKILL)


class Notifier:
    """Sends each alert down the configured channels; a failing channel is reported once.

    The terminal channels are written by the caller at once (terminal_text). The processes
    (notify-send, the command hook) run from a queue, one alert after another: alerts that
    fire together never start their commands at the same time, and a hung one is killed at
    its time limit before the next runs. The queue holds QUEUE_BOUND alerts besides the one
    running; those beyond are counted and said in one line once it has emptied. A channel
    that fails is reported the first time (``report`` gets one line), then kept quiet until
    it works again: a broken hook does not repeat itself on every alert.
    """

    def __init__(
        self,
        settings: NotifySettings,
        report: Callable[[str], None],
        *,
        environ: Mapping[str, str] | None = None,
        terminal: bool = True,
    ) -> None:
        env = os.environ if environ is None else environ
        self.settings = settings
        self.report = report
        # Without a terminal (a recorder writing to a log), the terminal channels are off.
        self.methods = tuple(
            method for method in settings.methods if terminal or method not in TERMINAL_METHODS
        )
        self.tmux = bool(env.get("TMUX"))
        self._failing: set[str] = set()
        self._waiting: deque[tuple[Alert, Snapshot]] = deque()
        self._arrived = asyncio.Event()
        #: Alerts taken but not yet delivered (waiting, or whose processes run).
        self._pending = 0
        self._dropped = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def rings(self) -> bool:
        """True when the bell is one of the channels."""
        return "bell" in self.methods

    def terminal_text(self, alert: Alert) -> str:
        """Return the OSC notifications to write to the terminal for ``alert`` ("" if none)."""
        return "".join(
            osc_sequence(method, alert.title, alert.message, tmux=self.tmux)
            for method in self.methods
        )

    @property
    def runs_processes(self) -> bool:
        """True when an alert starts a process (notify-send or the command hook)."""
        return "notify-send" in self.methods or self.settings.command is not None

    @property
    def idle(self) -> bool:
        """True when no alert waits for its processes and none run."""
        return self._pending == 0

    def submit(self, alert: Alert, snapshot: Snapshot) -> None:
        """Queue ``alert`` for its processes (run by serve); beyond the bound it is counted."""
        if len(self._waiting) >= QUEUE_BOUND:
            self._dropped += 1
            return
        self._waiting.append((alert, snapshot))
        self._pending += 1
        self._idle.clear()
        self._arrived.set()

    async def serve(self) -> None:
        """Run the queued alerts' processes one after another, until cancelled.

        Cancelled while a process runs, it kills that process (the app is quitting).
        """
        while True:
            if not self._waiting:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            alert, snapshot = self._waiting.popleft()
            try:
                await self.deliver(alert, snapshot)
            except Exception as exc:
                # Nothing may end the queue: the alerts after this one still go out.
                self.report(f"notifying failed: {type(exc).__name__}: {clean(str(exc))}")
            finally:
                self._pending -= 1
            if not self._waiting:
                self._say_dropped()
                self._idle.set()

    async def drain(self) -> None:
        """Wait until every queued alert has been delivered (serve must be running)."""
        await self._idle.wait()
        self._say_dropped()

    def _say_dropped(self) -> None:
        if self._dropped:
            count, self._dropped = self._dropped, 0
            self.report(
                f"{count} alert{'s' * (count > 1)} not passed to {self._process_channels()}: "
                f"{QUEUE_BOUND} were waiting already"
            )

    def _process_channels(self) -> str:
        names = ["notify-send"] if "notify-send" in self.methods else []
        names += ["the notify command"] if self.settings.command is not None else []
        return " and ".join(names) or "the notify processes"

    async def deliver(self, alert: Alert, snapshot: Snapshot) -> None:
        """Run notify-send and the command hook for ``alert``; failures are reported, not raised."""
        if "notify-send" in self.methods:
            self._outcome("notify-send", await self._notify_send(alert))
        command = self.settings.command
        if command is not None:
            failure = await run_hook(command, alert_json(alert, snapshot), self.settings.timeout_s)
            self._outcome("the notify command", failure)

    async def _notify_send(self, alert: Alert) -> str | None:
        program = shutil.which("notify-send")
        if program is None:
            return "not found on PATH"
        urgency = "critical" if alert.severity == "error" else "normal"
        argv = [program, f"--urgency={urgency}", "--app-name=capgap", "--", clean(alert.title)]
        return await _run([*argv, clean(alert.message)], b"", NOTIFY_SEND_TIMEOUT_S)

    def _outcome(self, channel: str, failure: str | None) -> None:
        if failure is None:
            self._failing.discard(channel)
        elif channel not in self._failing:
            self._failing.add(channel)
            self.report(f"{channel} failed: {failure} (not reported again until it works)")
