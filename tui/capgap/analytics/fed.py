"""The Fed panel's numbers: ZQ prices from the store (or the config) through FedWatch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import polars as pl

from capgap.analytics.fed_history import HISTORY_ANCHOR, OddsHistory, closes_by_day, odds_history
from capgap.analytics.store import MarketStore
from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import FedSnapshot, FuturesPrice, MeetingOdds, RangeOdds
from capgap.market.fedwatch import FedWatchError, FedWatchResult, fedwatch, path_moves
from capgap.market.fomc import FomcMeeting, next_decision, recent_decision
from capgap.market.zq import FuturesNaming, YearMonth, months_between, next_month, previous_month

#: How many upcoming decisions the panel prices (about a year of meetings).
MEETINGS_AHEAD = 8


@dataclass(frozen=True, slots=True)
class FedInputs:
    """What the Fed panel needs besides the store: rates, labels and manual prices."""

    target_range: tuple[float, float] | None
    target_source: str | None
    effr: float | None
    futures_label: str | None  # where quoted ZQ prices come from, e.g. "sample ZQ", "Yahoo ZQ"
    manual_prices: Mapping[YearMonth, float]
    #: Why the ZQ contracts' daily closes could not be had (shown instead of the history).
    history_error: str | None = None


def upcoming_meetings(now: datetime, schedule: tuple[FomcMeeting, ...]) -> list[FomcMeeting]:
    """Return the next decisions whose statement is still ahead, at most MEETINGS_AHEAD."""
    return [meeting for meeting in schedule if meeting.statement_at >= now][:MEETINGS_AHEAD]


def futures_symbols(
    now: datetime, schedule: tuple[FomcMeeting, ...], naming: FuturesNaming
) -> list[str]:
    """Return the ZQ symbols worth polling: last month to the month after the last meeting."""
    meetings = upcoming_meetings(now, schedule)
    today = now.astimezone(NEW_YORK).date()
    first = previous_month((today.year, today.month))
    last = next_month((meetings[-1].date.year, meetings[-1].date.month)) if meetings else first
    return [naming.symbol(month) for month in months_between(first, last)] + [naming.front_symbol]


def _quoted_prices(
    store: MarketStore, now: datetime, naming: FuturesNaming, symbols: list[str]
) -> tuple[dict[YearMonth, FuturesPrice], bool]:
    """Return quoted contracts by month; True when the front month comes from ZQ=F alone."""
    rows = store.quotes.filter(pl.col("symbol").is_in(symbols)).select("symbol", "last", "time")
    found: dict[YearMonth, FuturesPrice] = {}
    front: tuple[float, datetime | None] | None = None
    for symbol, price, at in rows.iter_rows():
        month = naming.month_of(symbol)
        if symbol == naming.front_symbol:
            front = (float(price), at)
        elif month is not None:
            found[month] = _price(symbol, month, float(price), at, now)
    today = now.astimezone(NEW_YORK).date()
    current = (today.year, today.month)
    if front is not None and current not in found:
        # Yahoo may lack single months: the continuous contract stands for the current month.
        found[current] = _price(naming.front_symbol, current, front[0], front[1], now)
        return found, True
    return found, False


def _price(
    symbol: str, month: YearMonth, price: float, at: datetime | None, now: datetime
) -> FuturesPrice:
    return FuturesPrice(
        symbol=symbol,
        month=f"{month[0]:04d}-{month[1]:02d}",
        price=price,
        implied_rate=100.0 - price,
        as_of=at,
        age_s=(now - at).total_seconds() if at is not None else None,
    )


def _price_greedily(
    prices: dict[YearMonth, float],
    meetings: list[FomcMeeting],
    inputs: FedInputs,
    known: tuple[date, ...],
) -> tuple[FedWatchResult | None, str | None]:
    """Price as many upcoming meetings as the prices allow; say why when none can be."""
    return _price_meetings(
        tuple(sorted(prices.items())),
        tuple(meetings),
        inputs.effr,
        inputs.target_range,
        known,
    )


def price_upcoming(
    prices: tuple[tuple[YearMonth, float], ...],
    meetings: tuple[FomcMeeting, ...],
    effr: float | None,
    target_range: tuple[float, float] | None,
    known: tuple[date, ...],
) -> tuple[FedWatchResult | None, str | None]:
    """Price as many of ``meetings`` (nearest first) as ``prices`` allow; else say why not."""
    error: str | None = None
    for count in range(len(meetings), 0, -1):
        try:
            result = fedwatch(
                dict(prices),
                [meeting.date for meeting in meetings[:count]],
                start_rate=effr,
                current_range=target_range,
                schedule=list(known),
            )
        except FedWatchError as exc:
            # Keep the reason the nearest meeting failed: that is the one the user misses.
            error = str(exc)
            continue
        return result, None
    return None, error or "no upcoming FOMC decision in the schedule"


# Cached on its inputs: the futures move far less often than the app rebuilds its snapshot
# (once a second), and the results are immutable. The history prices past closes through the
# uncached function, so its sixty-odd days never push today's odds out of this cache.
_price_meetings = lru_cache(maxsize=8)(price_upcoming)


def _odds_history(
    store: MarketStore,
    now: datetime,
    meetings: list[FomcMeeting],
    naming: FuturesNaming,
    inputs: FedInputs,
    schedule: tuple[FomcMeeting, ...],
    known: tuple[date, ...],
) -> OddsHistory:
    """Return the upcoming meetings' past odds, memoised on the store's daily history.

    Past closes change once a day: this runs when the daily history (or the day, the
    meetings, the rates) changed, never on every tick.
    """
    today = now.astimezone(NEW_YORK).date()
    ahead = tuple(meetings)
    days = tuple(meeting.date for meeting in ahead)

    def price(closes: Mapping[YearMonth, float]) -> FedWatchResult | None:
        # The engine that prices today's quotes (uncached: sixty days would flush its cache).
        return price_upcoming(
            tuple(sorted(closes.items())), ahead, inputs.effr, inputs.target_range, known
        )[0]

    def compute() -> OddsHistory:
        # The single months only: the continuous ZQ=F rolls between months over the history.
        # They follow from the day and the meetings, both in the key.
        months = {
            symbol: month
            for symbol in futures_symbols(now, schedule, naming)
            if (month := naming.month_of(symbol)) is not None
        }
        closes = closes_by_day(store.daily, months, today)
        return odds_history(closes, days, today, price)

    # Checked on every tick: the meetings' dates hash faster than the meetings themselves.
    key = (store.daily_version, today, days, inputs.effr, inputs.target_range, known)
    return store.memo("fed_history", key, compute)


def fed_snapshot(
    store: MarketStore,
    *,
    now: datetime,
    schedule: tuple[FomcMeeting, ...],
    naming: FuturesNaming,
    inputs: FedInputs,
) -> FedSnapshot:
    """Build the Fed panel: countdown, rates, and the odds the futures imply."""
    meetings = upcoming_meetings(now, schedule)
    quoted, front_only = _quoted_prices(store, now, naming, futures_symbols(now, schedule, naming))
    used = dict(quoted)
    for month, price in inputs.manual_prices.items():
        used[month] = _price("manual", month, price, None, now)
    prices = {month: entry.price for month, entry in used.items()}
    known = tuple(meeting.date for meeting in schedule)
    result, error = (
        _price_greedily(prices, meetings, inputs, known)
        if prices
        else (None, "no Fed funds futures prices")
    )
    source: str | None
    if inputs.manual_prices:
        source = "config (manual prices)" + (f" + {inputs.futures_label}" if quoted else "")
    elif front_only:
        source = f"{inputs.futures_label or 'ZQ'} ZQ=F, front month only"
    else:
        source = inputs.futures_label if quoted else None
    sep_by_date = {meeting.date: meeting.sep for meeting in schedule}
    history = _odds_history(store, now, meetings, naming, inputs, schedule, known)
    priced = result.meetings if result is not None else ()
    moves = path_moves(priced[0].start_rate, [m.end_rate for m in priced]) if priced else ()
    odds = tuple(
        MeetingOdds(
            meeting=meeting.date,
            sep=sep_by_date.get(meeting.date, False),
            cut_pct=meeting.cut_pct,
            hold_pct=meeting.hold_pct,
            hike_pct=meeting.hike_pct,
            implied_rate=meeting.end_rate,
            expected_change_bp=meeting.expected_change_bp,
            outcomes=tuple(
                RangeOdds((band.lower, band.upper), band.probability_pct) for band in meeting.ranges
            ),
            start_rate=meeting.start_rate,
            anchor=meeting.anchor,
            move_bp=move_bp,
            total_bp=total_bp,
            history=history.past.get(meeting.date, ()),
        )
        for meeting, (move_bp, total_bp) in zip(priced, moves, strict=True)
    )
    return FedSnapshot(
        next_decision=next_decision(now, schedule),
        target_range=inputs.target_range,
        target_source=inputs.target_source,
        effr=inputs.effr,
        futures_source=source,
        probabilities=odds,
        futures=tuple(used[month] for month in sorted(used)),
        fedwatch_error=error,
        last_decision=recent_decision(now, schedule),
        cut_odds_history=history.chart,
        history_note=inputs.history_error or history.note,
        history_anchor=HISTORY_ANCHOR if inputs.effr is not None else None,
    )
