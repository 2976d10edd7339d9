"""The flags' agreement: a flag that means nothing with the command or source chosen is refused."""

from __future__ import annotations

import argparse
from pathlib import Path

from capgap.cli.output import UsageError
from capgap.cli.sources import is_demo, live_source

#: Flags only the monitor takes (argparse dest -> flag). Given before a command's name they
#: land in the same namespace, where the command would silently ignore them.
_MONITOR_FLAGS = {
    "speed": "--speed",
    "refresh": "--refresh",
    "record": "--record",
    "replay": "--replay",
    "day": "--day",
    "theme": "--theme",
    "colors": "--colors",
    "ascii": "--ascii/--no-ascii",
    "mouse": "--mouse/--no-mouse",
}
#: The commands that take a source (--demo, --source); calendar takes --at as its own instant.
_SOURCE_COMMANDS = (None, "snapshot", "fedwatch", "record", "serve", "cycles")


def _given(args: argparse.Namespace, dest: str) -> bool:
    """Return True when the flag behind ``dest`` was given.

    Every such default is None (False for --demo); --no-ascii and --no-mouse give False.
    """
    value = getattr(args, dest, None)
    return value is not None and not (dest == "demo" and value is False)


def check_flags(args: argparse.Namespace) -> None:
    """Refuse a flag that means nothing with the command or the source chosen (UsageError).

    Each flag does what its help says or is refused: none is accepted and then ignored.
    """
    command: str | None = args.command
    name = f"`capgap {command}`"
    if command is not None:
        for dest, flag in _MONITOR_FLAGS.items():
            if _given(args, dest):
                raise UsageError(f"{flag} is a flag of the monitor; {name} does not take it")
    if command not in (None, "snapshot") and _given(args, "follow"):
        raise UsageError(f"--follow: {name} does not take it (the monitor and snapshot do)")
    if command not in _SOURCE_COMMANDS:
        for dest, flag in (("demo", "--demo"), ("source", "--source")):
            if _given(args, dest):
                raise UsageError(f"{flag}: {name} reads no source; it does not take {flag}")
        if command != "calendar" and _given(args, "at"):
            raise UsageError(f"--at: {name} does not take --at")
        return
    _check_follow_flags(args)
    source = getattr(args, "source", None)
    if _given(args, "demo") and source not in (None, "demo"):
        raise UsageError(f"--demo is --source demo: it contradicts --source {source}")
    if command == "record":
        if is_demo(args):
            raise UsageError(
                f"{'--demo' if _given(args, 'demo') else '--source demo'}: recording needs a "
                "live source (yahoo or finnhub)"
            )
        if _given(args, "at"):
            raise UsageError("--at: `capgap record` records now; it does not take --at")
    if command == "fedwatch":
        _check_fedwatch_flags(args)
    if command == "cycles":
        _check_cycles_flags(args)
    if command is None:
        _check_monitor_flags(args)


def _check_fedwatch_flags(args: argparse.Namespace) -> None:
    """--futures gives the prices (no source to read, no time to read them at)."""
    if getattr(args, "futures", None):
        for dest, flag in (("demo", "--demo"), ("source", "--source"), ("at", "--at")):
            if _given(args, dest):
                raise UsageError(f"--futures gives the prices: {flag} has nothing to read")
    elif live_source(args) == "finnhub" and not is_demo(args):
        raise UsageError(
            "fedwatch reads the ZQ futures from Yahoo (Finnhub quotes none): drop --source finnhub"
        )


def _check_cycles_flags(args: argparse.Namespace) -> None:
    """Refuse --at (the cycles read daily closes) and Finnhub (the history is Yahoo's)."""
    if _given(args, "at"):
        raise UsageError("--at: `capgap cycles` reads daily closes; it does not take --at")
    if live_source(args) == "finnhub" and not is_demo(args):
        raise UsageError(
            "cycles read the indices' daily history from Yahoo (Finnhub has none): "
            "drop --source finnhub"
        )


def _check_monitor_flags(args: argparse.Namespace) -> None:
    """Replay flags need a replay, recording needs a live source, one source at a time."""
    replay: Path | None = args.replay
    if replay is not None and (_given(args, "demo") or _given(args, "source")):
        raise UsageError("--replay is a source of its own: drop --demo / --source")
    replaying = replay is not None or is_demo(args)
    if args.record is not None and replaying:
        raise UsageError(
            "--record: recording needs a live source (yahoo or finnhub), not --demo or --replay"
        )
    if not replaying:
        for dest, flag in (("speed", "--speed"), ("refresh", "--refresh")):
            if _given(args, dest):
                raise UsageError(
                    f"{flag} sets a replay's pace: use it with --demo or --replay "
                    "(live, [poll] in the config sets how often capgap polls)"
                )
    if args.day is not None and replay is None:
        raise UsageError("--day chooses the recorded day of --replay: use it with --replay DIR")
    if replay is not None and not replay.is_dir():
        what = "no such folder" if not replay.exists() else "not a folder"
        raise UsageError(f"--replay: {replay}: {what} (give a recording's folder)")


def _check_follow_flags(args: argparse.Namespace) -> None:
    """--follow is a source of its own: no other source, replay pace or recording beside it."""
    follow: Path | None = getattr(args, "follow", None)
    if follow is None:
        return
    for dest, flag in (
        ("demo", "--demo"),
        ("source", "--source"),
        ("at", "--at"),
        ("replay", "--replay"),
        ("record", "--record"),
        ("speed", "--speed"),
        ("refresh", "--refresh"),
        ("day", "--day"),
    ):
        if _given(args, dest):
            raise UsageError(f"--follow reads a recording as it is written: drop {flag}")
    if follow.exists() and not follow.is_dir():
        raise UsageError(
            f"--follow: {follow}: not a folder (give the folder of capgap record --out)"
        )
