"""`capgap fedwatch`: the FedWatch calculator on the command line (parse, price, render)."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from capgap.cli.output import EXIT_OK, DataError, UsageError, output_format, say
from capgap.cli.snapshot import demo_snapshot
from capgap.cli.sources import is_demo, refuse_at_live
from capgap.core.text import fmt_day
from capgap.market.fedwatch import (
    FedWatchError,
    FedWatchResult,
    MeetingProbabilities,
    fedwatch,
    month_label,
)
from capgap.market.fomc import FomcMeeting

if TYPE_CHECKING:
    from capgap.core.snapshot import FedSnapshot

_FUTURE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*=\s*(\S+)\s*$")


class FedwatchInputError(ValueError):
    """--futures, --meetings or --range cannot be read; the message is one line."""


def parse_futures(text: str) -> dict[tuple[int, int], float]:
    """Parse 'YYYY-MM=price,YYYY-MM=price' into {(year, month): price}."""
    prices: dict[tuple[int, int], float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = _FUTURE.match(item)
        if match is None:
            raise FedwatchInputError(f"--futures: {item!r} is not YYYY-MM=price")
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise FedwatchInputError(f"--futures: {item!r}: {month} is not a month")
        try:
            price = float(match.group(3))
        except ValueError:
            raise FedwatchInputError(f"--futures: {item!r}: the price is not a number") from None
        if not math.isfinite(price) or not 0 < price <= 100:
            raise FedwatchInputError(f"--futures: {item!r}: a ZQ price lies in (0, 100]")
        if (year, month) in prices:
            raise FedwatchInputError(f"--futures: {year}-{month:02d} is given twice")
        prices[(year, month)] = price
    if not prices:
        raise FedwatchInputError("--futures: no prices given")
    return prices


def parse_month(text: str) -> tuple[int, int]:
    """Parse 'YYYY-MM' into (year, month)."""
    year, month = (int(part) for part in text.split("-"))
    return year, month


def parse_meetings(text: str) -> list[date]:
    """Parse 'YYYY-MM-DD,YYYY-MM-DD' into dates."""
    days = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            days.append(date.fromisoformat(item))
        except ValueError:
            raise FedwatchInputError(f"--meetings: {item!r} is not a date (YYYY-MM-DD)") from None
    if not days:
        raise FedwatchInputError("--meetings: no dates given")
    return days


def parse_range(text: str) -> tuple[float, float]:
    """Parse '3.75-4.00' into (3.75, 4.0)."""
    try:
        low, high = (float(part) for part in text.split("-"))
    except ValueError:
        raise FedwatchInputError(f"--range: {text!r} is not LOW-HIGH, e.g. 3.75-4.00") from None
    if not low < high:
        raise FedwatchInputError(f"--range: {text!r}: the low end must be below the high end")
    return low, high


def scheduled_meetings(
    prices: dict[tuple[int, int], float], schedule: Sequence[FomcMeeting]
) -> list[date]:
    """Return the scheduled decisions that fall in the quoted months."""
    days = [
        meeting.date for meeting in schedule if (meeting.date.year, meeting.date.month) in prices
    ]
    if not days:
        months = ", ".join(month_label(month) for month in sorted(prices))
        first, last = schedule[0].date.year, schedule[-1].date.year
        raise FedwatchInputError(
            f"no scheduled FOMC decision in {months} (the schedule covers {first}-{last}); "
            "give --meetings"
        )
    return days


def upcoming_in_quoted_months(
    prices: dict[tuple[int, int], float], schedule: Sequence[FomcMeeting], now: datetime
) -> list[date]:
    """Return the decisions still ahead of ``now`` whose months are quoted."""
    days = [
        m.date for m in schedule if m.statement_at >= now and (m.date.year, m.date.month) in prices
    ]
    if not days:
        raise FedwatchInputError("no upcoming FOMC decision falls in the quoted months")
    return days


def price_meetings(
    prices: dict[tuple[int, int], float],
    meetings: Sequence[date],
    schedule: Sequence[FomcMeeting],
    *,
    start_rate: float | None = None,
    current_range: tuple[float, float] | None = None,
) -> FedWatchResult:
    """Run FedWatch with every known decision day guarding the anchors."""
    known = {meeting.date for meeting in schedule}
    return fedwatch(
        prices,
        meetings,
        start_rate=start_rate,
        current_range=current_range,
        schedule=sorted(known | set(meetings)),
    )


def _pairs(pairs: Sequence[tuple[int, float]]) -> list[dict[str, float]]:
    return [{"change_bp": bp, "probability_pct": round(pct, 4)} for bp, pct in pairs]


def _meeting(meeting: MeetingProbabilities, with_range: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "date": meeting.date.isoformat(),
        "start_rate": round(meeting.start_rate, 6),
        "end_rate": round(meeting.end_rate, 6),
        "expected_change_bp": round(meeting.expected_change_bp, 4),
        "anchor": meeting.anchor,
        "outcomes": _pairs(meeting.outcomes),
        "cumulative": _pairs(meeting.cumulative),
    }
    if with_range:
        data["cut_pct"] = round(meeting.cut_pct, 4)
        data["hold_pct"] = round(meeting.hold_pct, 4)
        data["hike_pct"] = round(meeting.hike_pct, 4)
        data["target_ranges"] = [
            {"target_range": [r.lower, r.upper], "probability_pct": round(r.probability_pct, 4)}
            for r in meeting.ranges
        ]
    return data


def render_json(result: FedWatchResult, source: str | None = None) -> str:
    """Return the result as JSON: {"meetings": [...], "futures_source": ...} in date order."""
    with_range = result.current_range is not None
    body = {
        "meetings": [_meeting(meeting, with_range) for meeting in result.meetings],
        "futures_source": source,
    }
    return json.dumps(body, indent=2, allow_nan=False) + "\n"


def render_table(result: FedWatchResult, source: str | None = None) -> str:
    """Return the result as a plain table: one block per meeting, then the source."""
    lines: list[str] = []
    for meeting in result.meetings:
        lines.append(
            f"{fmt_day(meeting.date)}  implied {meeting.start_rate:.4f} -> "
            f"{meeting.end_rate:.4f} %  expected {meeting.expected_change_bp:+.1f} bp"
        )
        own = "  ".join(f"{bp:+d} bp {pct:.1f}%" for bp, pct in meeting.outcomes)
        total = "  ".join(f"{bp:+d} bp {pct:.1f}%" for bp, pct in meeting.cumulative)
        lines.append(f"  this meeting  {own}")
        lines.append(f"  total so far  {total}")
        if result.current_range is not None:
            lines.append(
                f"  cut {meeting.cut_pct:.1f}%  hold {meeting.hold_pct:.1f}%  "
                f"hike {meeting.hike_pct:.1f}%"
            )
    if source:
        lines.append(f"futures: {source}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Price the meetings from --futures, else from the source's prices; print them."""
    try:
        current_range = parse_range(args.range) if args.range else None
        effr = args.effr
        source: str | None = "command line"
        upcoming_from = None
        if args.futures:
            prices = parse_futures(args.futures)
        else:
            if is_demo(args):
                snapshot = demo_snapshot(args)
                fed, upcoming_from = snapshot.fed, snapshot.as_of
            else:
                from capgap.core.clock import SystemClock

                refuse_at_live(args)
                fed, upcoming_from = _live_fed(args), SystemClock().now()
            if not fed.futures:
                raise DataError(fed.fedwatch_error or "no Fed funds futures prices")
            prices = {parse_month(p.month): p.price for p in fed.futures if p.symbol}
            effr = effr if effr is not None else fed.effr
            current_range = current_range or fed.target_range
            source = fed.futures_source
        if args.meetings:
            meetings = parse_meetings(args.meetings)
        elif upcoming_from is not None:
            meetings = upcoming_in_quoted_months(prices, args.schedule, upcoming_from)
        else:
            meetings = scheduled_meetings(prices, args.schedule)
        result = price_meetings(
            prices, meetings, args.schedule, start_rate=effr, current_range=current_range
        )
    except (FedwatchInputError, FedWatchError) as exc:
        raise UsageError(str(exc)) from None
    fmt = output_format(args)
    render = render_json if fmt == "json" else render_table
    sys.stdout.write(render(result, source))
    return EXIT_OK


def _live_fed(args: argparse.Namespace) -> FedSnapshot:
    """Read ZQ futures from Yahoo and the EFFR from the New York Fed, now."""
    import asyncio

    from capgap.analytics.fed import FedInputs, fed_snapshot, futures_symbols
    from capgap.analytics.store import MarketStore
    from capgap.core.clock import SystemClock
    from capgap.feeds.disk_cache import DiskCache, cache_folder
    from capgap.feeds.live_fed import fetch_live_fed
    from capgap.market.zq import default_naming

    clock = SystemClock()
    now = clock.now()
    naming = default_naming()
    symbols = futures_symbols(now, args.schedule, naming)
    cache = DiskCache(cache_folder())
    data = asyncio.run(fetch_live_fed(args.settings.feeds, symbols, clock, cache))
    for problem in data.problems:
        say(f"warning: {problem}")
    store = MarketStore()
    store.apply_quotes(data.quotes)
    return fed_snapshot(
        store,
        now=now,
        schedule=args.schedule,
        naming=naming,
        inputs=FedInputs(
            target_range=data.target_range,
            target_source=data.rates_source if data.target_range else None,
            effr=data.effr,
            futures_label="Yahoo ZQ",
            manual_prices=args.settings.fedwatch.prices,
        ),
    )
