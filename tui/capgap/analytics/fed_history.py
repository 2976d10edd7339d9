"""FedWatch over time: the upcoming meetings' odds at past sessions' closes, by today's engine.

The odds of a past day come from the ZQ contracts' daily closes of that day, priced by the
very function that prices today's quotes (see capgap.analytics.fed.price_upcoming), for the
meetings upcoming today. Which past day each horizon reads (one definition, horizon_start):

- 1d: the previous NYSE session;
- 1w: the 5th NYSE session back (the spread panel's 5D base);
- 1m: the same calendar day a month back (the 1M window's start).

Each horizon reads the last session on or before that day among the closes held (the window
bases' rule). A contract without a close on that day is missing, and a meeting that needs it
has no odds then (None), never a crash. Where no neighbouring month anchors the first meeting
the rate in force then is not known: today's EFFR stands in (``HISTORY_ANCHOR``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from capgap.core.snapshot import ODDS_HORIZONS, CutOddsPoint, PastOdds
from capgap.market.calendar import previous_session
from capgap.market.fedwatch import FedWatchResult, MeetingProbabilities
from capgap.market.windows import first_position, window_start
from capgap.market.zq import YearMonth

#: The chart of the next meeting's cut odds reaches back this window (3 months).
CHART_WINDOW = "3m"
#: Fewer points than this and the chart gives way to a line saying why.
MIN_CHART_POINTS = 2
#: What the past odds take as the rate before the first meeting where no month anchors it.
HISTORY_ANCHOR = "today's EFFR"

#: Prices a day's contracts (by month) into odds of today's upcoming meetings, or None.
Pricer = Callable[[Mapping[YearMonth, float]], FedWatchResult | None]


@dataclass(frozen=True, slots=True)
class OddsHistory:
    """Each upcoming meeting's past odds, the next meeting's cut odds by day, and why not."""

    past: Mapping[date, tuple[PastOdds, ...]]
    chart: tuple[CutOddsPoint, ...]
    note: str | None


def horizon_start(horizon: str, today: date) -> date:
    """Return the day a horizon (1d, 1w, 1m) looks back to from ``today``."""
    if horizon == "1d":
        return previous_session(today).day
    if horizon == "1w":
        return window_start("5d", today)
    if horizon == "1m":
        return window_start("1m", today)
    raise ValueError(f"unknown horizon {horizon!r} (known: {', '.join(ODDS_HORIZONS)})")


def closes_by_day(
    daily: pl.DataFrame, months: Mapping[str, YearMonth], today: date
) -> dict[date, dict[YearMonth, float]]:
    """Return the contracts' daily closes before ``today``: day -> {contract month: close}."""
    rows = (
        daily.filter(pl.col("symbol").is_in(list(months)) & (pl.col("date") < today))
        .filter(pl.col("close").is_not_null() & pl.col("close").is_finite())
        .select("date", "symbol", "close")
    )
    by_day: dict[date, dict[YearMonth, float]] = {}
    for day, symbol, close in rows.iter_rows():
        by_day.setdefault(day, {})[months[symbol]] = float(close)
    return by_day


def _blank(horizon: str, day: date | None) -> PastOdds:
    return PastOdds(horizon=horizon, day=day, cut_pct=None, hold_pct=None, hike_pct=None)


def _past(horizon: str, day: date, meeting: MeetingProbabilities | None) -> PastOdds:
    if meeting is None:
        return _blank(horizon, day)
    return PastOdds(
        horizon=horizon,
        day=day,
        cut_pct=meeting.cut_pct,
        hold_pct=meeting.hold_pct,
        hike_pct=meeting.hike_pct,
    )


def odds_history(
    closes: Mapping[date, Mapping[YearMonth, float]],
    meetings: Sequence[date],
    today: date,
    price: Pricer,
) -> OddsHistory:
    """Price ``meetings`` (upcoming today, nearest first) at each past day of ``closes``.

    Only the days from the chart window's base on are priced (the 1m horizon lies inside it).
    """
    days = sorted(closes)
    priced: dict[date, dict[date, MeetingProbabilities]] = {}
    for day in days[first_position(days, CHART_WINDOW, today) :] if days else ():
        result = price(closes[day])
        priced[day] = {m.date: m for m in result.meetings} if result is not None else {}
    anchors: dict[str, date | None] = {}
    for horizon in ODDS_HORIZONS:
        position = bisect_right(days, horizon_start(horizon, today)) - 1
        anchors[horizon] = days[position] if position >= 0 else None
    past: dict[date, tuple[PastOdds, ...]] = {}
    for meeting in meetings:
        rows: list[PastOdds] = []
        for horizon, session in anchors.items():
            if session is None:
                rows.append(_blank(horizon, None))
            else:
                rows.append(_past(horizon, session, priced.get(session, {}).get(meeting)))
        past[meeting] = tuple(rows)
    chart: tuple[CutOddsPoint, ...] = ()
    note: str | None
    if not meetings:
        note = "no upcoming FOMC decision"
    elif not days:
        note = "no daily closes of the ZQ contracts yet (they come once a day)"
    else:
        chart = tuple(
            CutOddsPoint(day=session, cut_pct=odds[meetings[0]].cut_pct)
            for session, odds in priced.items()
            if meetings[0] in odds
        )
        note = None
        if len(chart) < MIN_CHART_POINTS:
            note = (
                f"the ZQ closes price the {meetings[0].isoformat()} meeting on {len(chart)} "
                f"of {len(priced)} sessions: too few to chart"
            )
    return OddsHistory(past=past, chart=chart, note=note)
