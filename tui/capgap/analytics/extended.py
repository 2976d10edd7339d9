"""Outside the regular session: SPY's and IWM's pre-/post-market gap and the index futures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import polars as pl

from capgap.analytics.quotes import QuoteRow, positions
from capgap.analytics.spread import index_quote
from capgap.core.market_types import NEW_YORK, MarketSession
from capgap.core.snapshot import ExtendedGap, ExtendedSession, IndexFutures
from capgap.market.calendar import PRE_MARKET_OPEN, trading_day
from capgap.market.universe import Benchmarks


def extended_window(
    market: MarketSession, now: datetime
) -> tuple[ExtendedSession, datetime] | None:
    """Return the extended session at ``now`` and when it began (UTC), None outside one.

    The session is the calendar's (pre 04:00 to the open, post from the close to 20:00 on a
    trading day); a price timed before the window's start belongs to an earlier session.
    """
    if market.state not in ("pre", "post"):
        return None
    day = now.astimezone(NEW_YORK).date()
    session = trading_day(day)
    if session is None:
        return None
    if market.state == "pre":
        start = datetime.combine(day, PRE_MARKET_OPEN, tzinfo=NEW_YORK).astimezone(UTC)
        return "pre", start
    return "post", session.close


def extended_change(
    close: float | None, price: float | None, moment: datetime | None, since: datetime
) -> float | None:
    """Return ``price``'s % change against the regular ``close`` (None when it is not today's).

    None when either is missing, or when the price was made before ``since``: a stale pre- or
    post-market price belongs to an earlier session.
    """
    if close is None or price is None or moment is None or close <= 0:
        return None
    if moment < since:
        return None
    return (price / close - 1.0) * 100.0


def _extended_price(
    quotes: pl.DataFrame, symbol: str, session: ExtendedSession
) -> tuple[float | None, datetime | None]:
    """Return a symbol's stored pre- or post-market price and its time (None when absent)."""
    where = positions(quotes, (symbol,))
    if symbol not in where:
        return None, None
    price, moment = quotes[where[symbol], [f"{session}_price", f"{session}_time"]].row(0)
    return (
        float(price) if price is not None else None,
        moment.astimezone(UTC) if isinstance(moment, datetime) else None,
    )


def extended_gap(
    quotes: pl.DataFrame,
    benchmarks: Benchmarks,
    rows: Mapping[str, QuoteRow],
    market: MarketSession,
    now: datetime,
) -> ExtendedGap | None:
    """Return the large-vs-small gap of the ETFs' extended prices, in pre/post hours only.

    Each leg's change is against its last regular price (Yahoo's regularMarketPrice: the
    previous close before the open, today's close after it); ``gap_pp`` is small minus large.
    """
    window = extended_window(market, now)
    if window is None:
        return None
    session, since = window
    changes: list[float | None] = []
    times: list[datetime] = []
    for symbol in (benchmarks.large_etf, benchmarks.small_etf):
        row = rows.get(symbol)
        price, moment = _extended_price(quotes, symbol, session)
        change = extended_change(row.last if row else None, price, moment, since)
        changes.append(change)
        if change is not None and moment is not None:
            times.append(moment)
    large, small = changes
    gap = small - large if large is not None and small is not None else None
    return ExtendedGap(
        session=session,
        large_symbol=benchmarks.large_etf,
        small_symbol=benchmarks.small_etf,
        large=large,
        small=small,
        gap_pp=gap,
        # The gap is as fresh as its older leg.
        as_of=min(times) if times else None,
    )


def index_futures(
    benchmarks: Benchmarks, rows: Mapping[str, QuoteRow], names: Mapping[str, str]
) -> IndexFutures:
    """Return the S&P 500 and Russell 2000 futures' last price and change since settlement."""
    large, small = benchmarks.large_future, benchmarks.small_future
    return IndexFutures(
        large=index_quote(large, names.get(large, large), rows.get(large)),
        small=index_quote(small, names.get(small, small), rows.get(small)),
    )
