"""Which source a command reads (--demo, --source), and the instant it reads it at (--at)."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time

from capgap.cli.output import UsageError


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


def demo_start(at_text: str | None) -> datetime | None:
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


def is_demo(args: argparse.Namespace) -> bool:
    """Return True when the sample session was asked for (--demo or --source demo)."""
    return bool(getattr(args, "demo", False)) or getattr(args, "source", None) == "demo"


def refuse_at_live(args: argparse.Namespace) -> None:
    """Refuse --at with a live source, and Finnhub without its API key (UsageError)."""
    if getattr(args, "at", None) is not None:
        raise UsageError("--at replays the sample session: use it with --demo")
    if live_source(args) == "finnhub" and not args.settings.feeds.finnhub.api_key:
        raise UsageError(
            "--source finnhub needs an API key: [feeds.finnhub] api_key or FINNHUB_API_KEY"
        )


def live_source(args: argparse.Namespace) -> str:
    """Return the live source asked for: yahoo (the default) or finnhub."""
    source = getattr(args, "source", None)
    return source if source in ("yahoo", "finnhub") else "yahoo"
