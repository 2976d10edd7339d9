"""`capgap snapshot`: the current snapshot once (JSON, a table or a tmux status line)."""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING

from capgap.cli import config
from capgap.cli.output import EXIT_FAILURE, EXIT_OK, output_format
from capgap.cli.sources import demo_start, is_demo, live_source, refuse_at_live

if TYPE_CHECKING:
    from capgap.core.snapshot import Snapshot


def run(args: argparse.Namespace) -> int:
    """Print the snapshot in --format; exit 1 when the source is down."""
    fmt = output_format(args)
    if fmt != "tmux":
        return _print(args, fmt)
    # A status line run every minute: what it allocates (polars' and the engine's modules,
    # one small snapshot) lives until the process ends, so the collector's passes over it
    # are pure cost (about a tenth of the run's CPU time). On again after: tests call main().
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _print(args, fmt)
    finally:
        if collecting:
            gc.enable()


def _print(args: argparse.Namespace, fmt: str) -> int:
    """Compute the snapshot from the source asked for and print it in ``fmt``."""
    from capgap.cli import report

    if getattr(args, "follow", None) is not None:
        snapshot = follow_snapshot(args, fmt)
    elif is_demo(args):
        snapshot = demo_snapshot(args, sectors=fmt != "tmux")
    else:
        snapshot = _live_snapshot(args, fmt)
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


def demo_snapshot(args: argparse.Namespace, *, sectors: bool = False) -> Snapshot:
    """Compute the sample session's snapshot at --at (default: the close).

    ``sectors``: with the sectors' windows, for which the members' history is read first
    (the tmux line and the FedWatch table show no sector and do not wait for it).
    """
    import asyncio

    from capgap.core.clock import ManualClock
    from capgap.engine.sources import demo_engine
    from capgap.engine.startup import demo_window

    start = demo_start(getattr(args, "at", None))
    if start is None:
        # Without --at the snapshot is the sample session at its close: the whole day played.
        start = demo_window()[1]
    engine = demo_engine(
        ManualClock(start),
        schedule=args.schedule,
        manual_prices=args.settings.fedwatch.prices,
        universe=config.universe(args.settings, cached=False),
    )
    return asyncio.run(engine.refresh_with_history() if sectors else engine.refresh())


def follow_snapshot(args: argparse.Namespace, fmt: str) -> Snapshot:
    """Answer from the recording at --follow at once: its newest figures, no request made.

    The tmux line reads the headline only (no member); the other formats wait for the
    sectors' windows when the recording carries their history.
    """
    import asyncio

    from capgap.engine.sources import follow_engine

    headline = fmt == "tmux"
    engine = follow_engine(
        args.follow,
        schedule=args.schedule,
        universe=config.universe(args.settings, members=not headline),
        manual_prices=args.settings.fedwatch.prices,
        headline_only=headline,
    )
    return asyncio.run(engine.refresh() if headline else engine.refresh_with_history())


def _live_snapshot(args: argparse.Namespace, fmt: str) -> Snapshot:
    """Poll the live source once and return its snapshot.

    Yahoo's session and the slow data (history, rates) are kept on disk for the next run;
    the tmux line polls only what it shows, so a run within a minute of the last one costs
    one request (the quotes).
    """
    refuse_at_live(args)
    from capgap.feeds.http import prepare_tls_context

    # The CA bundle loads in a thread while polars and the engine are imported (see there).
    prepare_tls_context()

    import asyncio

    from capgap.engine.sources import live_engine

    # The tmux line shows the indices, the gap and the countdown: no member is polled or read.
    universe = config.universe(args.settings, members=fmt != "tmux")

    async def once() -> Snapshot:
        engine = live_engine(
            args.settings,
            args.schedule,
            source=live_source(args),
            universe=universe,
            keep_between_runs=True,
            headline_only=fmt == "tmux",
        )
        try:
            return await engine.refresh()
        finally:
            await engine.aclose()

    return asyncio.run(once())
