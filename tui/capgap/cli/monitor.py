"""The monitor: the screen on a live source, the sample session (--demo) or a recording."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, MutableMapping
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from capgap.cli import config
from capgap.cli.output import EXIT_FAILURE, EXIT_OK, UsageError, say
from capgap.cli.record import check_recording_folder, recording_report
from capgap.cli.sources import demo_start, is_demo, live_source, refuse_at_live
from capgap.settings.config import config_error
from capgap.settings.model import Settings
from capgap.ui.terminal import terminal_limits

if TYPE_CHECKING:
    from capgap.cli.preview import SnapshotPreview
    from capgap.core.clock import Clock
    from capgap.engine.loop import Engine
    from capgap.engine.startup import DeferredEngine
    from capgap.ui.themes import LoadedThemes

#: A replay's pace (--speed): clock seconds per wall second.
DEFAULT_SPEED = 30.0
#: A replay's step (--refresh): wall seconds between its polls.
DEFAULT_REFRESH_S = 1.0
#: The driver textual-serve names in TEXTUAL_DRIVER for each browser session's app.
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"
#: --colors / [ui] colors -> the TEXTUAL_COLOR_SYSTEM value (Rich's colour system names).
COLOR_SYSTEM_ENV = {"16": "standard", "256": "256", "truecolor": "truecolor"}


def replay_clock(folder: Path, day: date | None, speed: float, today: date) -> Clock:
    """Return the clock of a replay of ``day`` (default: the latest day up to ``today``).

    Days recorded after ``today`` are named in one note on stderr, and unreadable files of the
    day in one warning; a folder with nothing to replay, or a ``day`` not recorded, is a
    UsageError listing the recorded days.
    """
    from capgap.engine.sources import recording_clock
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


def has_terminal(environ: Mapping[str, str] = os.environ) -> bool:
    """Return True when stdin, stdout and stderr are terminals: keys come in, frames go out.

    Textual reads stdin and draws on stderr; stdout is where `snapshot` would write instead.
    Under nohup, cron or a redirect the monitor would draw into a file for ever. A browser
    tab of `capgap serve` is a terminal too: textual-serve runs the viewer with Textual's web
    driver, which speaks its own protocol over the pipes.
    """
    if environ.get("TEXTUAL_DRIVER") == WEB_DRIVER:
        return True
    return all(os.isatty(fd) for fd in (0, 1, 2))


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


def run(args: argparse.Namespace) -> int:
    """Run the monitor on the source chosen until the user quits; exit 1 if it crashed."""
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

    speed = args.speed or DEFAULT_SPEED
    refresh_s = args.refresh or DEFAULT_REFRESH_S
    preview: SnapshotPreview | None = None
    # Asked once: the demo's second process starts only with one; refused below without.
    terminal = has_terminal()
    if getattr(args, "follow", None) is not None:
        from capgap.core.clock import SystemClock
        from capgap.engine.startup import follow_label, followed_session

        clock: Clock = SystemClock()
        follow: Path = args.follow

        def build() -> Engine:
            # No HTTP client is made: the feed reads only the files the poller writes.
            from capgap.engine.sources import follow_engine

            return follow_engine(
                follow,
                clock=clock,
                schedule=args.schedule,
                universe=config.universe(settings),
                manual_prices=settings.fedwatch.prices,
            )

        # A recording of synthetic data (the sample's) is DEMO from the first frame on.
        followed = followed_session(follow)
        engine = DeferredEngine(
            build,
            clock=clock,
            demo=followed is not None and followed.synthetic,
            source_label=follow_label(follow),
        )
    elif args.replay is not None:
        from capgap.core.clock import SystemClock
        from capgap.core.market_types import NEW_YORK

        refuse_at_live(args)
        today = SystemClock().now().astimezone(NEW_YORK).date()
        clock = replay_clock(args.replay, args.day, speed, today)

        def build() -> Engine:
            from capgap.engine.sources import recording_engine

            return recording_engine(
                args.replay,
                clock,
                refresh_s=refresh_s,
                schedule=args.schedule,
                universe=config.universe(settings),
            )

        engine = DeferredEngine(
            build, clock=clock, demo=False, source_label=replay_label(clock, demo=False)
        )
    elif is_demo(args):
        from capgap.cli.preview import PreviewRequest, demo_engine_for, start_preview

        clock = demo_clock(demo_start(args.at), speed)
        if terminal:
            # Started before Textual loads: its figures come from the other core meanwhile.
            request = PreviewRequest(clock.now(), speed, refresh_s, args.config)
            preview = start_preview(request)

        def build() -> Engine:
            # Runs in a worker thread after the second process's figures are shown (at once
            # without them): polars loads there.
            return demo_engine_for(settings, args.schedule, clock, refresh_s)

        engine = DeferredEngine(
            build,
            clock=clock,
            demo=True,
            source_label=replay_label(clock, demo=True),
            first_figures=preview,
        )
    else:
        refuse_at_live(args)
        if args.record is not None:
            check_recording_folder("--record", args.record)
        from capgap.core.clock import SystemClock

        clock = SystemClock()

        def build() -> Engine:
            from capgap.engine.sources import live_engine

            return live_engine(
                settings,
                args.schedule,
                clock=clock,
                record_to=args.record,
                source=live_source(args),
                universe=config.universe(settings),
                lasting=True,
            )

        engine = DeferredEngine(
            build, clock=clock, demo=False, source_label=live_label(live_source(args))
        )
    try:
        return _run_app(args, engine, clock, terminal=terminal, ascii_only=limits.ascii)
    finally:
        if preview is not None:  # the monitor refused to start, or ended before it was read
            preview.cancel()


def _run_app(
    args: argparse.Namespace,
    engine: DeferredEngine[Engine],
    clock: Clock,
    *,
    terminal: bool,
    ascii_only: bool,
) -> int:
    """Check the theme and the terminal, then run the app on ``engine`` until it ends.

    ``terminal``: has_terminal()'s answer; ``ascii_only``: what the terminal can draw, when
    neither a flag nor the config says.
    """
    from capgap.settings.state import default_state_path
    from capgap.ui.themes import load_themes

    settings: Settings = args.settings
    state_path = default_state_path()
    loaded = load_themes()
    theme = _theme(args, loaded, state_path)
    if not terminal:
        # Checked after the flags and files: a wrong one is said first, whatever the terminal.
        raise UsageError(
            "the monitor needs a terminal on stdin and stdout; "
            "for a script or a file use `capgap snapshot`"
        )
    from capgap.engine.cycles import load_cycles
    from capgap.ui.app import CapgapApp

    # The cutting cycles' history is read when their screen opens, never at start.
    # A follower asks no provider: the poller writes that history into the recording.
    cycles = partial(
        load_cycles,
        demo=engine.demo,
        feeds=settings.feeds,
        clock=clock,
        recording=getattr(args, "follow", None),
    )
    app = CapgapApp(
        engine,
        theme=theme,
        ascii=(settings.ui.ascii or ascii_only) if args.ascii is None else args.ascii,
        settings=settings,
        state_path=state_path,
        themes=loaded,
        cycles=cycles,
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
