"""The `capgap` command: the monitor, and `capgap snapshot` for scripts and status lines."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import MutableMapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from capgap.cli.allocator import tune_allocator
from capgap.core.text import printable as one_line
from capgap.settings.config import (
    ConfigError,
    Settings,
    config_error,
    config_location,
    find_config,
    load_settings,
)
from capgap.ui.terminal import terminal_limits

if TYPE_CHECKING:
    import asyncio

    from capgap.core.clock import Clock
    from capgap.core.snapshot import FedSnapshot, Snapshot
    from capgap.engine.loop import Engine
    from capgap.market.fomc import FomcMeeting
    from capgap.market.universe import Universe
    from capgap.ui.themes import LoadedThemes

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
#: A replay's pace (--speed): clock seconds per wall second, and the range accepted.
DEFAULT_SPEED = 30.0
MAX_SPEED = 3600.0
#: A replay's step (--refresh): wall seconds between its polls, and the range accepted.
DEFAULT_REFRESH_S = 1.0
REFRESH_RANGE_S = (0.1, 60.0)
#: The longest look ahead of `capgap calendar --days` (ten years).
MAX_DAYS = 3650
#: --colors / [ui] colors -> the TEXTUAL_COLOR_SYSTEM value (Rich's colour system names).
COLOR_SYSTEM_ENV = {"16": "standard", "256": "256", "truecolor": "truecolor"}


class UsageError(Exception):
    """A flag or its value is wrong; the message is printed as one line and capgap exits 2."""


class DataError(Exception):
    """The data needed is not to be had; printed as one line, and capgap exits 1."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit 2, never a traceback."""

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem, then exit with the usage code."""
        self.exit(
            EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n"
        )


def _speed(text: str) -> float:
    """Parse --speed: above 0 and at most MAX_SPEED clock seconds per wall second."""
    value = _float(text)
    if not 0 < value <= MAX_SPEED:
        raise argparse.ArgumentTypeError(
            f"must be above 0 and at most {MAX_SPEED:g} (clock seconds per second), got {text!r}"
        )
    return value


def _refresh(text: str) -> float:
    """Parse --refresh: REFRESH_RANGE_S wall seconds between a replay's steps."""
    value = _float(text)
    low, high = REFRESH_RANGE_S
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be {low:g} to {high:g} seconds, got {text!r}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value != value:  # NaN compares unequal to itself and would pass any range check
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    return value


def _add_source_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # The snapshot subcommand repeats the flags; SUPPRESS keeps its defaults from overwriting
    # values given before the subcommand name.
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="play the bundled sample session (synthetic data, labelled DEMO)",
    )
    parser.add_argument(
        "--source",
        choices=("yahoo", "finnhub", "demo"),
        default=default,
        help="where the data comes from: yahoo (live, no key, the default), finnhub (live, "
        "needs an API key) or demo (the sample session)",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        default=default,
        help="with --demo only: the sample session's time to replay from, HH:MM (New York) "
        "or an ISO 8601 date-time",
    )
    _add_config_flag(parser, suppress=suppress)


def _add_config_flag(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS if suppress else None,
        help="settings file (default: $CAPGAP_CONFIG, else the platform's capgap/config.toml)",
    )


def _add_terminal_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="theme to start with (default: the last one chosen with `t`, else [ui] theme)",
    )
    parser.add_argument(
        "--colors",
        choices=tuple(COLOR_SYSTEM_ENV),
        help="colour depth: 16, 256 or truecolor (default: [ui] colors, else what the "
        "terminal reports); NO_COLOR=1 turns colour off",
    )
    parser.add_argument(
        "--ascii",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ASCII borders and glyphs only (default: [ui] ascii)",
    )
    parser.add_argument(
        "--mouse",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mouse support; --no-mouse leaves the mouse to the terminal (default: [ui] mouse)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the capgap command."""
    parser = _Parser(
        prog="capgap",
        description="Terminal monitor of the large-cap / small-cap gap: S&P 500 vs Russell 2000, "
        "sectors, and the Fed.",
    )
    from capgap import __version__

    parser.add_argument("--version", action="version", version=f"capgap {__version__}")
    _add_source_flags(parser, suppress=False)
    # The replay flags default to None so that one given with a live source can be refused.
    parser.add_argument(
        "--speed",
        type=_speed,
        help="replays only (--demo, --replay): clock seconds per wall second, above 0 and at "
        f"most {MAX_SPEED:g} (default {DEFAULT_SPEED:g})",
    )
    low, high = REFRESH_RANGE_S
    parser.add_argument(
        "--refresh",
        type=_refresh,
        metavar="SECONDS",
        help=f"replays only (--demo, --replay): wall seconds between the replay's steps, each "
        f"moving the figures on by --speed x SECONDS, {low:g} to {high:g} "
        f"(default {DEFAULT_REFRESH_S:g}); live, [poll] sets the pace",
    )
    parser.add_argument(
        "--record",
        metavar="DIR",
        type=Path,
        help="while monitoring a live source, append the polled quotes to Parquet files in DIR",
    )
    parser.add_argument(
        "--replay",
        metavar="DIR",
        type=Path,
        help="play a recording made with --record or `capgap record` (at --speed), instead of "
        "a live source or --demo: its latest day up to today (New York), or --day",
    )
    parser.add_argument(
        "--day",
        metavar="YYYY-MM-DD",
        type=_day,
        help="with --replay only: the recorded day to play (a bad day lists the recorded ones)",
    )
    _add_terminal_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    snap = commands.add_parser(
        "snapshot",
        help="print the current snapshot once (JSON, a table or a tmux status line) and exit",
    )
    _add_source_flags(snap, suppress=True)
    snap.add_argument(
        "--format",
        choices=("json", "table", "tmux"),
        default=None,
        help="output format: json, table, or tmux (one short line for a status bar) "
        "(default: json when stdout is not a terminal, else table)",
    )
    cal = commands.add_parser(
        "calendar",
        help="print the market session, the next FOMC decision and the coming market events",
    )
    cal.add_argument(
        "--at",
        metavar="TIME",
        # SUPPRESS: an --at given before the command's name counts, as it does for snapshot.
        default=argparse.SUPPRESS,
        help="the instant to ask about: ISO 8601 (New York time without an offset), "
        "or HH:MM today; default now",
    )
    _add_config_flag(cal, suppress=True)
    cal.add_argument(
        "--days",
        type=_days,
        default=90,
        help="how far ahead to list holidays, early closes and FOMC decisions, "
        f"1 to {MAX_DAYS} (default 90)",
    )
    cal.add_argument(
        "--format",
        choices=("json", "table"),
        default=None,
        help="output format (default: json when stdout is not a terminal, else table)",
    )
    fed = commands.add_parser(
        "fedwatch",
        help="rate-move probabilities per FOMC meeting from 30-day Fed funds futures prices",
        description="FedWatch calculator. ZQ prices by contract month give each meeting's "
        "implied rates and the chance of each 25 bp move (CME's method; see the docs of "
        "capgap.market.fedwatch for the rule used for the current month).",
    )
    _add_source_flags(fed, suppress=True)
    fed.add_argument(
        "--futures",
        metavar="PRICES",
        help="ZQ prices by month: YYYY-MM=price,... e.g. 2015-08=99.8675,2015-09=99.805 "
        "(default: the source's prices; with --demo, the sample session's at --at)",
    )
    fed.add_argument(
        "--meetings",
        metavar="DATES",
        help="decision days YYYY-MM-DD,... (default: the scheduled ones in the quoted months)",
    )
    fed.add_argument(
        "--effr",
        type=float,
        metavar="RATE",
        help="published EFFR, the rate before the first meeting",
    )
    fed.add_argument(
        "--range",
        metavar="LOW-HIGH",
        help="today's target range, e.g. 3.75-4.00: adds cut/hold/hike",
    )
    fed.add_argument(
        "--format",
        choices=("json", "table"),
        default=None,
        help="output format (default: json when stdout is not a terminal, else table)",
    )
    rec = commands.add_parser(
        "record", help="poll the live source without the screen and record it to Parquet"
    )
    _add_config_flag(rec, suppress=True)
    rec.add_argument(
        "--source",
        choices=("yahoo", "finnhub"),
        default=argparse.SUPPRESS,
        help="the live source to record: yahoo (the default) or finnhub (needs an API key)",
    )
    rec.add_argument("--out", metavar="DIR", type=Path, required=True, help="recording folder")
    chk = commands.add_parser(
        "check", help="probe each configured provider once and print what works"
    )
    _add_config_flag(chk, suppress=True)
    cfg = commands.add_parser(
        "config",
        help="print the default config file, the settings in effect, or the config's path",
    )
    _add_config_flag(cfg, suppress=True)
    what = cfg.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--default",
        action="store_true",
        help="print a documented config file with the defaults (every section and key)",
    )
    what.add_argument(
        "--show",
        action="store_true",
        help="print the settings in effect (file and environment) as TOML, API keys masked",
    )
    what.add_argument(
        "--path", action="store_true", help="print the path the config is read from (or would be)"
    )
    return parser


def _day(text: str) -> date:
    """Parse --day: a date as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _days(text: str) -> int:
    """Parse calendar --days: a whole number of days, 1 to MAX_DAYS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_DAYS}, got {text!r}")
    return value


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
_SOURCE_COMMANDS = (None, "snapshot", "fedwatch", "record")


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
    if command not in _SOURCE_COMMANDS:
        for dest, flag in (("demo", "--demo"), ("source", "--source")):
            if _given(args, dest):
                raise UsageError(f"{flag}: {name} reads no source; it does not take {flag}")
        if command != "calendar" and _given(args, "at"):
            raise UsageError(f"--at: {name} does not take --at")
        return
    source = getattr(args, "source", None)
    if _given(args, "demo") and source not in (None, "demo"):
        raise UsageError(f"--demo is --source demo: it contradicts --source {source}")
    if command == "record":
        if _is_demo(args):
            raise UsageError(
                f"{'--demo' if _given(args, 'demo') else '--source demo'}: recording needs a "
                "live source (yahoo or finnhub)"
            )
        if _given(args, "at"):
            raise UsageError("--at: `capgap record` records now; it does not take --at")
    if command == "fedwatch":
        _check_fedwatch_flags(args)
    if command is None:
        _check_monitor_flags(args)


def _check_fedwatch_flags(args: argparse.Namespace) -> None:
    """--futures gives the prices (no source to read, no time to read them at)."""
    if getattr(args, "futures", None):
        for dest, flag in (("demo", "--demo"), ("source", "--source"), ("at", "--at")):
            if _given(args, dest):
                raise UsageError(f"--futures gives the prices: {flag} has nothing to read")
    elif _live_source(args) == "finnhub" and not _is_demo(args):
        raise UsageError(
            "fedwatch reads the ZQ futures from Yahoo (Finnhub quotes none): drop --source finnhub"
        )


def _check_monitor_flags(args: argparse.Namespace) -> None:
    """Replay flags need a replay, recording needs a live source, one source at a time."""
    replay: Path | None = args.replay
    if replay is not None and (_given(args, "demo") or _given(args, "source")):
        raise UsageError("--replay is a source of its own: drop --demo / --source")
    replaying = replay is not None or _is_demo(args)
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


def parse_at(text: str, default_day: date) -> datetime:
    """Parse --at: HH:MM[:SS] New York time on ``default_day``, or an ISO 8601 date(-time).

    A date-time without an offset is New York time.
    """
    from capgap.core.market_types import NEW_YORK

    try:
        if len(text) <= 8 and ":" in text:
            clock_time = time.fromisoformat(text)
            return datetime.combine(default_day, clock_time, tzinfo=NEW_YORK)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--at: cannot read {text!r}; use HH:MM or an ISO time like 2025-12-05T15:00-05:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=NEW_YORK)


def _demo_start(at_text: str | None) -> datetime | None:
    """Return the replay start for --at, checked against the sample day's extended hours."""
    if at_text is None:
        return None
    from capgap.core.market_types import NEW_YORK
    from capgap.engine.startup import demo_window

    open_at, _ = demo_window()
    moment = parse_at(at_text, open_at.date())
    day = open_at.date()
    earliest = datetime.combine(day, time(4, 0), tzinfo=NEW_YORK)
    latest = datetime.combine(day, time(20, 0), tzinfo=NEW_YORK)
    if not earliest <= moment <= latest:
        raise UsageError(
            f"--at: {moment.isoformat()} is outside the sample session "
            f"({day.isoformat()} 04:00-20:00 America/New_York)"
        )
    return moment


def _is_demo(args: argparse.Namespace) -> bool:
    """Return True when the sample session was asked for (--demo or --source demo)."""
    return bool(getattr(args, "demo", False)) or getattr(args, "source", None) == "demo"


def _refuse_at_live(args: argparse.Namespace) -> None:
    if getattr(args, "at", None) is not None:
        raise UsageError("--at replays the sample session: use it with --demo")
    if _live_source(args) == "finnhub" and not args.settings.feeds.finnhub.api_key:
        raise UsageError(
            "--source finnhub needs an API key: [feeds.finnhub] api_key or FINNHUB_API_KEY"
        )


def _live_source(args: argparse.Namespace) -> str:
    source = getattr(args, "source", None)
    return source if source in ("yahoo", "finnhub") else "yahoo"


def color_system_env(
    flag: str | None, configured: str | None, environ: MutableMapping[str, str]
) -> None:
    """Set TEXTUAL_COLOR_SYSTEM: --colors wins, then the environment's own, then [ui] colors.

    Textual reads it once, on import: call this before anything imports textual. NO_COLOR is
    left alone (Textual honours it whatever the colour system).
    """
    if flag is not None:
        environ["TEXTUAL_COLOR_SYSTEM"] = COLOR_SYSTEM_ENV[flag]
    elif configured is not None and "TEXTUAL_COLOR_SYSTEM" not in environ:
        environ["TEXTUAL_COLOR_SYSTEM"] = COLOR_SYSTEM_ENV[configured]


def _theme(args: argparse.Namespace, loaded: LoadedThemes, state_path: Path) -> str | None:
    """Return the theme to start with, refusing a --theme or [ui] theme that does not exist."""
    from textual.theme import BUILTIN_THEMES

    from capgap.settings.state import UiState, load_state, resolve_theme

    known = {theme.name for theme in loaded.themes} | set(BUILTIN_THEMES)

    def unknown(name: str) -> str:
        # A theme file that is there but wrong says what is wrong with it (file, line, key).
        error = loaded.error_for(name)
        if error is not None:
            return f"theme {name!r} does not load: {error}"
        return f"no theme named {name!r} (known: {', '.join(sorted(known))})"

    if args.theme is not None and args.theme not in known:
        raise UsageError(f"--theme: {unknown(args.theme)}")
    settings: Settings = args.settings
    configured = settings.ui.theme
    if configured is not None and configured not in known and settings.source is not None:
        raise config_error(settings.source, "ui", "theme", unknown(configured))
    state = load_state(state_path)
    if state.theme is not None and state.theme not in known:
        # A remembered theme whose file has since gone: fall back quietly.
        state = UiState()
    return resolve_theme(args.theme, state, settings.ui)


def _universe(settings: Settings) -> Universe | None:
    """Return the universe with the config's sectors, watchlists and aliases (None: as shipped).

    It loads polars: the monitor calls it inside the engine factory, off the first paint.
    """
    from capgap.settings.config import UniverseSettings

    if settings.universe == UniverseSettings():
        return None
    from capgap.market.universe import extend_universe, load_universe

    try:
        return extend_universe(load_universe(), settings.universe)
    except ValueError as exc:
        where = f"{settings.source}: " if settings.source else ""
        raise ConfigError(f"{where}[universe]: {exc}") from None


def _run_monitor(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    # A vt100 or a non-UTF-8 locale cannot draw box lines; dumb, no colour. Flags and the
    # config win over what capgap guesses from TERM and the locale.
    limits = terminal_limits(os.environ)
    chosen = args.colors is not None or settings.ui.colors is not None
    chosen = chosen or "TEXTUAL_COLOR_SYSTEM" in os.environ
    colors = args.colors if chosen else limits.colors
    if limits.no_color and not chosen:
        os.environ.setdefault("NO_COLOR", "1")
    # Before the first import of textual, which reads it once.
    color_system_env(colors, settings.ui.colors, os.environ)
    from capgap.engine.startup import DeferredEngine, demo_clock, live_label, replay_label
    from capgap.settings.state import default_state_path
    from capgap.ui.themes import load_themes

    state_path = default_state_path()
    loaded = load_themes()
    theme = _theme(args, loaded, state_path)
    speed = args.speed or DEFAULT_SPEED
    refresh_s = args.refresh or DEFAULT_REFRESH_S
    if args.replay is not None:
        from capgap.core.clock import SystemClock
        from capgap.core.market_types import NEW_YORK

        _refuse_at_live(args)
        today = SystemClock().now().astimezone(NEW_YORK).date()
        clock: Clock = replay_clock(args.replay, args.day, speed, today)

        def build() -> Engine:
            from capgap.engine.loop import recording_engine

            return recording_engine(
                args.replay,
                clock,
                refresh_s=refresh_s,
                schedule=args.schedule,
                universe=_universe(settings),
            )

        engine = DeferredEngine(
            build, clock=clock, demo=False, source_label=replay_label(clock, demo=False)
        )
    elif _is_demo(args):
        clock = demo_clock(_demo_start(args.at), speed)

        def build() -> Engine:
            # Runs in a worker thread once the first frame is painted: polars loads there.
            from capgap.engine.loop import demo_engine

            return demo_engine(
                clock,
                refresh_s=refresh_s,
                schedule=args.schedule,
                manual_prices=settings.fedwatch.prices,
                universe=_universe(settings),
            )

        engine = DeferredEngine(
            build, clock=clock, demo=True, source_label=replay_label(clock, demo=True)
        )
    else:
        _refuse_at_live(args)
        if args.record is not None:
            _check_recording_folder("--record", args.record)
        from capgap.core.clock import SystemClock

        clock = SystemClock()

        def build() -> Engine:
            from capgap.engine.loop import live_engine

            return live_engine(
                settings,
                args.schedule,
                clock=clock,
                record_to=args.record,
                source=_live_source(args),
                universe=_universe(settings),
            )

        engine = DeferredEngine(
            build, clock=clock, demo=False, source_label=live_label(_live_source(args))
        )
    if not has_terminal():
        # Checked after the flags and files: a wrong one is said first, whatever the terminal.
        raise UsageError(
            "the monitor needs a terminal on stdin and stdout; "
            "for a script or a file use `capgap snapshot`"
        )
    from capgap.ui.app import CapgapApp

    app = CapgapApp(
        engine,
        theme=theme,
        ascii=(settings.ui.ascii or limits.ascii) if args.ascii is None else args.ascii,
        settings=settings,
        state_path=state_path,
        themes=loaded,
    )
    app.run(mouse=settings.ui.mouse if args.mouse is None else args.mouse)
    if args.record is not None:
        # The terminal is restored by now: the lines stay in the shell's scrollback.
        for line in recording_report(engine.built, args.record)[1]:
            say(line)
    if app.return_code:
        # Textual's exit code after an unhandled exception: a crash is a failure for scripts.
        crash = getattr(app, "crash", None)
        cause = f"{type(crash).__name__}: {crash}" if crash is not None else "unknown error"
        say(f"error: the monitor crashed: {cause}")
        return EXIT_FAILURE
    return EXIT_OK


def replay_clock(folder: Path, day: date | None, speed: float, today: date) -> Clock:
    """Return the clock of a replay of ``day`` (default: the latest day up to ``today``).

    Days recorded after ``today`` are named in one note on stderr, and unreadable files of the
    day in one warning; a folder with nothing to replay, or a ``day`` not recorded, is a
    UsageError listing the recorded days.
    """
    from capgap.engine.loop import recording_clock
    from capgap.feeds.base import FeedError
    from capgap.feeds.recording.recorded import recorded_days, replay_day, skipped_files

    skipped: list[str] = []
    try:
        chosen, notices = replay_day(folder, today, day)
        clock = recording_clock(folder, speed, chosen, skipped)
    except FeedError as exc:
        # A folder that holds no recording is bad input, like a missing one.
        raise UsageError(f"{'--day' if day is not None else '--replay'}: {exc}") from None
    for notice in notices:
        say(f"note: {notice}")
    if skipped:
        # Said once here; the status line says it while the replay plays.
        where = recorded_days(folder)[chosen]
        say(f"warning: {skipped_files(len(skipped))} in {where}")
    return clock


def has_terminal() -> bool:
    """Return True when stdin, stdout and stderr are terminals: keys come in, frames go out.

    Textual reads stdin and draws on stderr; stdout is where `snapshot` would write instead.
    Under nohup, cron or a redirect the monitor would draw into a file for ever.
    """
    return all(os.isatty(fd) for fd in (0, 1, 2))


def _demo_snapshot(args: argparse.Namespace) -> Snapshot:
    """Compute the sample session's snapshot at --at (default: the close)."""
    import asyncio

    from capgap.core.clock import ManualClock
    from capgap.engine.loop import demo_engine
    from capgap.engine.startup import demo_window

    start = _demo_start(getattr(args, "at", None))
    if start is None:
        # Without --at the snapshot is the sample session at its close: the whole day played.
        start = demo_window()[1]
    engine = demo_engine(
        ManualClock(start),
        schedule=args.schedule,
        manual_prices=args.settings.fedwatch.prices,
        universe=_universe(args.settings),
    )
    return asyncio.run(engine.refresh())


def _live_snapshot(args: argparse.Namespace) -> Snapshot:
    """Poll the live source once and return its snapshot."""
    import asyncio

    from capgap.engine.loop import live_engine

    _refuse_at_live(args)
    universe = _universe(args.settings)

    async def once() -> Snapshot:
        engine = live_engine(
            args.settings, args.schedule, source=_live_source(args), universe=universe
        )
        try:
            return await engine.refresh()
        finally:
            await engine.aclose()

    return asyncio.run(once())


def _run_snapshot(args: argparse.Namespace) -> int:
    from capgap.cli import report

    snapshot = _demo_snapshot(args) if _is_demo(args) else _live_snapshot(args)
    fmt = args.format or ("table" if sys.stdout.isatty() else "json")
    if fmt == "tmux":
        sys.stdout.write(report.format_tmux(snapshot) + "\n")
    else:
        sys.stdout.write(
            report.render_json(snapshot) if fmt == "json" else report.render_table(snapshot)
        )
    # Printed either way (it says what is wrong); the exit code tells scripts it failed.
    if snapshot.feeds and snapshot.feeds[0].state == "down":
        return EXIT_FAILURE
    return EXIT_OK


def _run_calendar(args: argparse.Namespace) -> int:
    from capgap.cli.report import calendar_report
    from capgap.core.clock import SystemClock
    from capgap.core.market_types import NEW_YORK

    now = SystemClock().now()
    at = getattr(args, "at", None)
    if at is not None:
        now = parse_at(at, now.astimezone(NEW_YORK).date())
    fmt = args.format or ("table" if sys.stdout.isatty() else "json")
    sys.stdout.write(calendar_report(now, days=args.days, fmt=fmt, schedule=args.schedule))
    return EXIT_OK


def _live_fed(args: argparse.Namespace) -> FedSnapshot:
    """Read ZQ futures from Yahoo and the EFFR from the New York Fed, now."""
    import asyncio

    from capgap.analytics.fed import FedInputs, fed_snapshot, futures_symbols
    from capgap.analytics.store import MarketStore
    from capgap.core.clock import SystemClock
    from capgap.feeds.live_fed import fetch_live_fed
    from capgap.market.zq import default_naming

    clock = SystemClock()
    now = clock.now()
    naming = default_naming()
    symbols = futures_symbols(now, args.schedule, naming)
    data = asyncio.run(fetch_live_fed(args.settings.feeds, symbols, clock))
    for problem in data.problems:
        say(f"warning: {problem}")
    store = MarketStore()
    store.apply_quotes(data.quotes)
    observation = data.effr
    return fed_snapshot(
        store,
        now=now,
        schedule=args.schedule,
        naming=naming,
        inputs=FedInputs(
            target_range=(observation.target_from, observation.target_to) if observation else None,
            target_source="New York Fed" if observation else None,
            effr=observation.effr if observation else None,
            futures_label="Yahoo ZQ",
            manual_prices=args.settings.fedwatch.prices,
        ),
    )


def _run_fedwatch(args: argparse.Namespace) -> int:
    from capgap.cli import fedwatch as calc
    from capgap.market.fedwatch import FedWatchError

    try:
        current_range = calc.parse_range(args.range) if args.range else None
        effr = args.effr
        source: str | None = "command line"
        upcoming_from = None
        if args.futures:
            prices = calc.parse_futures(args.futures)
        else:
            if _is_demo(args):
                snapshot = _demo_snapshot(args)
                fed, upcoming_from = snapshot.fed, snapshot.as_of
            else:
                from capgap.core.clock import SystemClock

                _refuse_at_live(args)
                fed, upcoming_from = _live_fed(args), SystemClock().now()
            if not fed.futures:
                raise DataError(fed.fedwatch_error or "no Fed funds futures prices")
            prices = {calc.parse_month(p.month): p.price for p in fed.futures if p.symbol}
            effr = effr if effr is not None else fed.effr
            current_range = current_range or fed.target_range
            source = fed.futures_source
        if args.meetings:
            meetings = calc.parse_meetings(args.meetings)
        elif upcoming_from is not None:
            meetings = calc.upcoming_in_quoted_months(prices, args.schedule, upcoming_from)
        else:
            meetings = calc.scheduled_meetings(prices, args.schedule)
        result = calc.price_meetings(
            prices, meetings, args.schedule, start_rate=effr, current_range=current_range
        )
    except (calc.FedwatchInputError, FedWatchError) as exc:
        raise UsageError(str(exc)) from None
    fmt = args.format or ("table" if sys.stdout.isatty() else "json")
    render = calc.render_json if fmt == "json" else calc.render_table
    sys.stdout.write(render(result, source))
    return EXIT_OK


def _run_record(args: argparse.Namespace) -> int:
    """Poll live and record until interrupted; the recording is flushed on the way out."""
    import asyncio
    import signal

    from capgap.engine.loop import live_engine

    _refuse_at_live(args)  # a Finnhub key is needed before anything is polled
    _check_recording_folder("--out", args.out)
    universe = _universe(args.settings)

    async def record() -> int:
        engine = live_engine(
            args.settings,
            args.schedule,
            record_to=args.out,
            source=_live_source(args),
            universe=universe,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # SIGQUIT too: its default action would dump core and lose the buffered rows.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            loop.add_signal_handler(signum, stop.set)
        say(f"recording to {args.out}; Ctrl+C stops")

        def report(snapshot: Snapshot) -> None:
            for feed in snapshot.feeds:
                if feed.error:
                    say(f"{feed.name} {feed.state}: {feed.error}")

        runner = asyncio.create_task(engine.run(report))
        stopped = asyncio.create_task(stop.wait())
        # A loop that dies must not leave a recorder that records nothing: it ends too.
        await asyncio.wait((runner, stopped), return_when=asyncio.FIRST_COMPLETED)
        died = _failure(runner)
        for task in (runner, stopped):
            task.cancel()
        await asyncio.gather(runner, stopped, return_exceptions=True)
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


def _check_recording_folder(flag: str, folder: Path) -> None:
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


def say(message: str) -> None:
    """Write one line on stderr, ``capgap: message``, non-printable characters escaped.

    Messages quote what the user typed (keys, paths, values) and what providers sent: echoed
    raw, a newline would split the line and an escape sequence would be obeyed by the terminal.
    """
    print(f"capgap: {one_line(message)}", file=sys.stderr)


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


def _run_check(args: argparse.Namespace) -> int:
    import asyncio

    from capgap.cli.check import default_source_works, render_table, run_checks
    from capgap.core.clock import SystemClock

    results = asyncio.run(run_checks(args.settings.feeds, SystemClock()))
    sys.stdout.write(render_table(results))
    return EXIT_OK if default_source_works(results) else EXIT_FAILURE


def _schedule(settings: Settings) -> tuple[FomcMeeting, ...]:
    """Return the FOMC schedule with the user's additions."""
    from capgap.market.fomc import default_schedule, extend_schedule

    extra = [(decision.date, decision.sep) for decision in settings.fomc.extra_decisions]
    return extend_schedule(default_schedule(), extra)


def _load(args: argparse.Namespace) -> Settings:
    """Load the settings and print their warnings (one line each) to stderr."""
    settings = load_settings(find_config(getattr(args, "config", None)))
    for warning in settings.warnings:
        say(f"warning: {warning}")
    return settings


def _run_config(args: argparse.Namespace) -> int:
    """Print the default file, the settings in effect, or the path (a bad file is no bar)."""
    from capgap.settings.documented import default_config_text, render_settings

    if args.path:
        print(config_location(getattr(args, "config", None)))
    elif args.default:
        sys.stdout.write(default_config_text())
    else:
        sys.stdout.write(render_settings(_load(args)))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run capgap with ``argv`` (default: the process arguments); return the exit code."""
    # Before anything loads polars: its allocator reads its settings once, then.
    tune_allocator(os.environ)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_flags(args)
        if args.command == "config":
            return _run_config(args)
        args.settings = _load(args)
        args.schedule = _schedule(args.settings)
        if args.command == "snapshot":
            return _run_snapshot(args)
        if args.command == "calendar":
            return _run_calendar(args)
        if args.command == "fedwatch":
            return _run_fedwatch(args)
        if args.command == "check":
            return _run_check(args)
        if args.command == "record":
            return _run_record(args)
        return _run_monitor(args)
    except (UsageError, ConfigError) as exc:
        # Messages quote the user's input (keys, paths): printed with non-printables escaped.
        say(f"error: {exc}")
        return EXIT_USAGE
    except DataError as exc:
        say(f"data error: {exc}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last guard: one line, never a traceback
        from capgap.engine.startup import DEBUG_ENV

        if os.environ.get(DEBUG_ENV):
            raise
        from capgap.feeds.base import FeedError

        kind = "data" if isinstance(exc, FeedError) else type(exc).__name__
        say(f"{kind} error: {exc}")
        return EXIT_FAILURE
