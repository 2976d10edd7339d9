"""`capgap calendar`: the market session, the next FOMC decision and the coming market events."""

from __future__ import annotations

import argparse
import sys

from capgap.cli.output import EXIT_OK, output_format
from capgap.cli.sources import parse_at


def run(args: argparse.Namespace) -> int:
    """Print the calendar at --at (default now) for --days ahead, in --format."""
    from capgap.cli.report import calendar_report
    from capgap.core.clock import SystemClock
    from capgap.core.market_types import NEW_YORK

    now = SystemClock().now()
    at = getattr(args, "at", None)
    if at is not None:
        now = parse_at(at, now.astimezone(NEW_YORK).date())
    fmt = output_format(args)
    sys.stdout.write(calendar_report(now, days=args.days, fmt=fmt, schedule=args.schedule))
    return EXIT_OK
