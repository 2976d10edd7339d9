"""The `capgap` command: its arguments, and the dispatch to one module per command."""

from __future__ import annotations

import argparse
import gc
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

from capgap.cli import config, monitor
from capgap.cli.flags import check_flags
from capgap.cli.monitor import COLOR_SYSTEM_ENV, DEFAULT_REFRESH_S, DEFAULT_SPEED
from capgap.cli.output import EXIT_FAILURE, EXIT_USAGE, DataError, UsageError, say
from capgap.cli.polars_env import tune_polars
from capgap.core import collector
from capgap.core.text import printable as one_line
from capgap.settings.config import ConfigError

#: The range of a replay's pace (--speed), clock seconds per wall second.
MAX_SPEED = 3600.0
#: The range of a replay's step (--refresh), wall seconds between its polls.
REFRESH_RANGE_S = (0.1, 60.0)
#: The longest look ahead of `capgap calendar --days` (ten years).
MAX_DAYS = 3650


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


def _add_follow_flag(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    parser.add_argument(
        "--follow",
        metavar="DIR",
        type=Path,
        default=argparse.SUPPRESS if suppress else None,
        help="follow the recording `capgap record --out DIR` is writing, as it grows: the "
        "same figures with no request to any provider (one poller, many viewers)",
    )


def _add_format_flag(parser: argparse.ArgumentParser) -> None:
    # `calendar` and `fedwatch` write JSON or a table; `snapshot` adds the tmux line to these.
    parser.add_argument(
        "--format",
        choices=("json", "table"),
        default=None,
        help="output format (default: json when stdout is not a terminal, else table)",
    )


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
    _add_follow_flag(parser, suppress=False)
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
    _add_follow_flag(snap, suppress=True)
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
    _add_format_flag(cal)
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
    _add_format_flag(fed)
    cyc = commands.add_parser(
        "cycles",
        help="the Russell 2000 against the S&P 500 after each easing cycle's first cut",
        description="An event study of the Fed's easing cycles: for each first cut, the Russell "
        "2000's return minus the S&P 500's, in pp, from the close before the cut to 21, 63, 126 "
        "and 252 sessions after; the median of the past cycles; the current cycle since its "
        "first cut and since it resumed. Live, the indices' whole daily history comes from "
        "Yahoo, once a day (kept in the cache directory); --demo uses the sample's synthetic one.",
    )
    _add_source_flags(cyc, suppress=True)
    _add_format_flag(cyc)
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
    rec.add_argument(
        "--keep-days",
        type=_keep_days,
        metavar="N",
        help="remove the recording's partitions older than the last N days (today counts as "
        "one; whole date=... folders, after a flush, never today's); default: keep all",
    )
    chk = commands.add_parser(
        "check", help="probe each configured provider once and print what works"
    )
    _add_config_flag(chk, suppress=True)
    chk.add_argument(
        "--contract",
        action="store_true",
        help="check that the fields capgap reads are still in Yahoo's replies "
        "(quote, chart, futures); exit 1 naming any that moved or vanished",
    )
    _add_universe_parser(commands)
    _add_serve_parser(commands)
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


def _add_universe_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    uni = commands.add_parser(
        "universe",
        help="show the index members in effect, or update them from the funds' holdings",
        description="The members of the S&P 500 and the Russell 2000 come from the holdings "
        "files iShares publishes for IVV and IWM: a dated universe ships with capgap, and "
        "the live monitor downloads newer files at most once a day into the cache directory.",
    )
    _add_config_flag(uni, suppress=True)
    actions = uni.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Parser
    )
    upd = actions.add_parser(
        "update",
        help="download the holdings now (both funds), validate them and keep the good ones",
    )
    _add_config_flag(upd, suppress=True)
    upd.add_argument(
        "--fund",
        choices=("IVV", "IWM"),
        type=str.upper,
        help="download only this fund's holdings (IVV: S&P 500, IWM: Russell 2000)",
    )
    upd.add_argument(
        "--file",
        metavar="FUND=PATH",
        action="append",
        help="import a holdings CSV downloaded by hand instead of downloading (same "
        "validation); repeat for both funds",
    )
    upd.add_argument(
        "--into",
        metavar="DIR",
        type=Path,
        help="write the universe files into DIR instead of the cache directory",
    )
    shw = actions.add_parser(
        "show", help="print the universe in effect: its sources, as-of dates and members"
    )
    _add_config_flag(shw, suppress=True)
    _add_format_flag(shw)


def _add_serve_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    from capgap.cli.serve import DEFAULT_HOST, DEFAULT_PORT, port_number

    srv = commands.add_parser(
        "serve",
        help="serve the monitor to web browsers: each tab views the demo or a recording",
        description="Each browser tab runs its own `capgap --demo` or `capgap --follow DIR` "
        "(textual-serve; pip install 'capgap[serve]'). It never polls: one `capgap record` "
        "feeds every tab.",
    )
    _add_config_flag(srv, suppress=True)
    srv.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="serve the bundled sample session (synthetic data, labelled DEMO)",
    )
    srv.add_argument(
        "--follow",
        metavar="DIR",
        type=Path,
        # Its own dest: the monitor's --follow given before `serve` is a flag of the monitor.
        dest="serve_follow",
        help="serve a viewer of the recording `capgap record --out DIR` writes",
    )
    srv.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"TCP port to listen on (default {DEFAULT_PORT})",
    )
    srv.add_argument(
        "--host",
        metavar="ADDR",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only); any other "
        "needs --public",
    )
    srv.add_argument(
        "--public",
        action="store_true",
        help="allow --host beyond this machine: the page has no authentication of its own",
    )


def _day(text: str) -> date:
    """Parse --day: a date as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _keep_days(text: str) -> int:
    """Parse record --keep-days: a whole number of days, at least 1 (today is never pruned)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (today is kept), got {text!r}")
    return value


def _days(text: str) -> int:
    """Parse calendar --days: a whole number of days, 1 to MAX_DAYS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_DAYS}, got {text!r}")
    return value


def console_main() -> int:
    """Run the `capgap` command (and ``python -m capgap``): main(), then the process ends.

    The objects left are frozen before the interpreter tears them down: its collections at
    exit walked every object polars and the engine made (the tmux line's exit took 60-75 ms
    of its run, 14 ms frozen, on a busy 2-core machine).
    """
    # The collector's passes over what the start makes are waste: held off until a command
    # has started (the monitor: until its first figures are on screen). See core/collector.
    collector.hold()
    try:
        code = main()
    finally:
        collector.release()  # never left off, whatever main() did (it returns to a caller)
    gc.freeze()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run capgap with ``argv`` (default: the process arguments); return the exit code."""
    # Before anything loads polars: its allocator and its pool read their settings once, then.
    tune_polars(os.environ)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is not None:
        # Any command but the monitor may run all day (record, serve): the collector runs.
        collector.release()
    try:
        check_flags(args)
        if args.command == "config":
            return config.run(args)
        args.settings = config.load(args)
        args.schedule = config.schedule(args.settings)
        # A command's module is imported when it runs: the monitor's start-up loads none of them.
        if args.command == "snapshot":
            from capgap.cli import snapshot

            return snapshot.run(args)
        if args.command == "calendar":
            from capgap.cli import calendar

            return calendar.run(args)
        if args.command == "fedwatch":
            from capgap.cli import fedwatch

            return fedwatch.run(args)
        if args.command == "cycles":
            from capgap.cli import cycles

            return cycles.run(args)
        if args.command == "check":
            from capgap.cli import check

            return check.run(args)
        if args.command == "record":
            from capgap.cli import record

            return record.run(args)
        if args.command == "universe":
            from capgap.cli import universe

            return universe.run(args)
        if args.command == "serve":
            from capgap.cli import serve

            return serve.run(args)
        return monitor.run(args)
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
