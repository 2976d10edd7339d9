"""`capgap record`: poll the live source without the screen and record it to Parquet."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from capgap.cli import config
from capgap.cli.output import EXIT_FAILURE, EXIT_OK, UsageError, say
from capgap.cli.sources import live_source, refuse_at_live
from capgap.core.text import printable as one_line

if TYPE_CHECKING:
    import asyncio

    from capgap.core.snapshot import Snapshot
    from capgap.engine.loop import Engine
    from capgap.settings.model import Settings


def run(args: argparse.Namespace) -> int:
    """Poll live and record until interrupted; the recording is flushed on the way out."""
    import asyncio
    import signal

    from capgap.engine.cycles import record_index_history_daily
    from capgap.engine.sources import live_engine

    refuse_at_live(args)  # a Finnhub key is needed before anything is polled
    check_recording_folder("--out", args.out)
    universe = config.universe(args.settings)

    async def record() -> int:
        engine = live_engine(
            args.settings,
            args.schedule,
            record_to=args.out,
            source=live_source(args),
            universe=universe,
            keep_days=getattr(args, "keep_days", None),
            lasting=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # SIGQUIT too: its default action would dump core and lose the buffered rows.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            loop.add_signal_handler(signum, stop.set)
        say(f"recording to {args.out}; Ctrl+C stops")
        alerts = RecorderAlerts(args.settings)
        said: set[str] = set()

        def report(snapshot: Snapshot) -> None:
            for line in feed_lines(snapshot, said):
                say(line)
            alerts.observe(snapshot)

        runner = asyncio.create_task(engine.run(report))
        stopped = asyncio.create_task(stop.wait())
        # The followers' cycles screen reads the indices' history from the recording.
        history = asyncio.create_task(
            record_index_history_daily(args.out, args.settings.feeds, engine.clock, say)
        )
        # A loop that dies must not leave a recorder that records nothing: it ends too.
        await asyncio.wait((runner, stopped), return_when=asyncio.FIRST_COMPLETED)
        died = _failure(runner)
        for task in (runner, stopped, history):
            task.cancel()
        await asyncio.gather(runner, stopped, history, return_exceptions=True)
        await alerts.finish()
        if died is not None:
            say(f"error: polling stopped: {died}")
        await engine.aclose()
        wrote, lines = recording_report(engine, args.out)
        for line in lines:
            say(line)
        # A recording that holds nothing, or not all it should, is a failure for scripts.
        ok = wrote and not engine.recording_error and died is None
        return EXIT_OK if ok else EXIT_FAILURE

    return asyncio.run(record())


class RecorderAlerts:
    """The alert rules for a recorder without a screen: a line on stderr per alert, and on.

    Each alert also goes to notify-send and the command hook; to the bell and OSC only when
    stderr is a terminal (a log must not fill with escape sequences).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        stream: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        from capgap.alerts.notify import Notifier
        from capgap.alerts.watch import AlertMonitor

        self.stream = sys.stderr if stream is None else stream
        self.monitor = AlertMonitor(settings.alerts)
        self.notifier = Notifier(
            settings.notify, say, environ=environ, terminal=self.stream.isatty()
        )
        #: The notifier's queue, started with the first alert that runs a process.
        self._server: asyncio.Task[None] | None = None

    def observe(self, snapshot: Snapshot) -> None:
        """Raise the alerts ``snapshot`` completes; the processes run as tasks of the loop."""
        import asyncio

        for alert in self.monitor.check(snapshot):
            say(f"alert: {alert.title}: {alert.message}")
            bell = "\a" if self.notifier.rings else ""
            text = bell + self.notifier.terminal_text(alert)
            if text:
                self.stream.write(text)
                self.stream.flush()
            if self.notifier.runs_processes:
                if self._server is None:
                    # Held here: the loop keeps only weak references to its tasks.
                    self._server = asyncio.get_running_loop().create_task(self.notifier.serve())
                self.notifier.submit(alert, snapshot)

    async def finish(self) -> None:
        """Wait for the queued hooks to run (each ends by its time limit), then stop the queue."""
        import asyncio

        if self._server is not None:
            await self.notifier.drain()
            self._server.cancel()
            await asyncio.gather(self._server, return_exceptions=True)


def feed_lines(snapshot: Snapshot, said: set[str]) -> list[str]:
    """Return the recorder's lines about ``snapshot``'s feeds: each error, and new notes.

    A problem of the session (it could not be stored) is said once: ``said`` holds those
    said already, and is updated.
    """
    from capgap.core.snapshot import SESSION_PROBLEM

    lines: list[str] = []
    for feed in snapshot.feeds:
        if feed.error:
            lines.append(f"{feed.name} {feed.state}: {feed.error}")
        for key, problem in feed.problems:
            line = f"{feed.name}: {problem}"
            if key == SESSION_PROBLEM and line not in said:
                said.add(line)
                lines.append(line)
    return lines


def check_recording_folder(flag: str, folder: Path) -> None:
    """Refuse a recording folder no file can be written in, before anything is polled."""
    from capgap.core.atomic import check_writable_folder

    try:
        check_writable_folder(folder)
    except OSError as exc:
        if folder.exists() and not folder.is_dir():
            reason = "a file, not a folder"
        else:
            reason = exc.strerror or str(exc)
        raise UsageError(f"{flag}: cannot record in {folder}: {reason}") from None


def _failure(task: asyncio.Task[None]) -> str | None:
    """Return why a finished task failed, on one printable line (None: not failed or done)."""
    if not task.done() or task.cancelled():
        return None
    error = task.exception()
    return None if error is None else one_line(f"{type(error).__name__}: {error}")


def recording_report(engine: Engine | None, out: Path) -> tuple[bool, list[str]]:
    """Say what a recording wrote, or why it wrote nothing; True when it wrote quotes.

    ``engine`` is None when the monitor ended before its engine was built.
    """
    recorder = engine.recorder if engine is not None else None
    if engine is not None and recorder is not None and recorder.rows_written:
        lines = [recorder.summary()]
        if engine.recording_error:
            lines.append(f"recording error: {engine.recording_error}")
        return True, lines
    return False, [f"recorded nothing in {out}: {_why_nothing_recorded(engine)}"]


def _why_nothing_recorded(engine: Engine | None) -> str:
    if engine is None or engine.latest is None:
        return "stopped before the first poll had ended"
    if engine.recording_error:
        return engine.recording_error
    feed = engine.latest.feeds[0]
    if feed.last_success is None:
        return f"the source never answered ({feed.name}: {feed.error or 'no reply'})"
    return f"{feed.name} answered with no quotes to record"
