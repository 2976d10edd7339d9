"""Numbers from provider bodies: JSON values checked before they become prices or times."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from capgap.core.clock import Clock, SystemClock
from capgap.feeds.base import SymbolError

# Epoch seconds outside (1970, 3000) are not a quote time, and would overflow datetimes.
MAX_EPOCH_S = 32_503_680_000
#: How far a provider's time may run ahead of the clock: hosts' clocks differ by seconds and
#: exchanges stamp a bar with its minute's end. Anything later is a wrong time, and would
#: outrank every true quote after it and move the session to its day.
MAX_AHEAD = timedelta(minutes=5)


#: The farthest a last price may be from its previous close, as a factor either way, and a
#: previous close from the symbol's last daily close: the wildest one-day moves of listed US
#: stocks and indices stay far inside it (a split is adjusted in both figures), while a wrong
#: number (a price in cents, an overflow like 1e308) lands outside.
MAX_FACTOR = 10.0
#: No listed US instrument is priced near this (Berkshire A, the dearest share, is under a
#: million): a price beyond it is wrong even when its previous close is as wrong.
MAX_PRICE = 1e8


def clock_now(clock: Clock | None) -> datetime:
    """Return the instant of ``clock``, or of the system clock when a provider has none."""
    return (clock or SystemClock()).now()


def number(value: Any) -> float | None:
    """Return a JSON number as a float, or None (bools, strings and overflows are not numbers)."""
    # bool is an int to Python, never a price to a provider.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def epoch(value: Any) -> int | None:
    """Return whole epoch seconds between 1970 and 3000, or None."""
    seconds = number(value)
    if seconds is None or not math.isfinite(seconds) or not 0 < seconds < MAX_EPOCH_S:
        return None
    return int(seconds)


def latest_epoch(now: datetime) -> int:
    """Return the last epoch second a provider's time may carry at ``now`` (see MAX_AHEAD)."""
    return int((now + MAX_AHEAD).timestamp())


def quote_time(value: Any, now: datetime, symbol: str, provider: str) -> datetime:
    """Return a quote's epoch seconds as a UTC time, or raise SymbolError saying what is wrong.

    A time more than MAX_AHEAD ahead of ``now`` is refused like a missing one.
    """
    moment = epoch(value)
    if moment is None:
        raise SymbolError(symbol, f"{provider} sent no valid quote time for {symbol}")
    when = datetime.fromtimestamp(moment, UTC)
    if moment > latest_epoch(now):
        raise SymbolError(
            symbol,
            f"{provider} sent a quote time ahead of the clock for {symbol}: "
            f"{when:%Y-%m-%d %H:%M} UTC",
        )
    return when


def valid_price(value: Any, what: str, symbol: str, provider: str) -> float:
    """Return a finite, positive price, or raise SymbolError naming the symbol and the field.

    A price of MAX_PRICE or more is refused as implausible.
    """
    price = number(value)
    if price is None or not math.isfinite(price) or price <= 0:
        raise SymbolError(symbol, f"{provider} sent an invalid {what} for {symbol}: {value!r}")
    if price >= MAX_PRICE:
        raise SymbolError(
            symbol, f"{provider} sent an implausible {what} for {symbol}: {price:.4g}"
        )
    return price


def within_factor(value: float, reference: float) -> bool:
    """Return True when ``value`` is within MAX_FACTOR of ``reference``, either way."""
    return reference / MAX_FACTOR <= value <= reference * MAX_FACTOR


def plausible_last(last: float, prev_close: float, symbol: str, provider: str) -> float:
    """Return ``last`` when within MAX_FACTOR of ``prev_close``, else raise SymbolError."""
    if not within_factor(last, prev_close):
        raise SymbolError(
            symbol,
            f"{provider} sent an implausible last price for {symbol}: {last:.6g} against a "
            f"previous close of {prev_close:.6g}",
        )
    return last


def quote_row(
    symbol: str,
    moment: datetime,
    last: float,
    prev_close: float,
    volume: float | None,
    provider: str,
) -> dict[str, Any]:
    """Return one QUOTES row; its last price must be plausible (see plausible_last)."""
    return {
        "symbol": symbol,
        "time": moment,
        "last": plausible_last(last, prev_close, symbol, provider),
        "prev_close": prev_close,
        "volume": volume,
    }


def last_closes(daily: pl.DataFrame) -> pl.DataFrame:
    """Return each symbol's latest daily close (``symbol``, ``_history``) of a DAILY frame."""
    return daily.group_by("symbol", maintain_order=True).agg(
        pl.col("close").last().alias("_history")
    )


def far_from_history(quotes: pl.DataFrame, closes: pl.DataFrame) -> dict[str, str]:
    """Return ``{symbol: problem}`` for quotes whose previous close is far from history.

    ``quotes`` is in the QUOTES schema, ``closes`` the symbols' latest daily closes (see
    last_closes); a previous close more than MAX_FACTOR from it is a wrong number. Symbols
    without history pass.
    """
    if quotes.height == 0 or closes.height == 0:
        return {}
    prev, history = pl.col("prev_close"), pl.col("_history")
    far = quotes.join(closes, on="symbol", how="inner").filter(
        (prev < history / MAX_FACTOR) | (prev > history * MAX_FACTOR)
    )
    return {
        symbol: f"implausible previous close for {symbol}: {prev_close:.6g} against its "
        f"history's last close of {close:.6g}"
        for symbol, prev_close, close in far.select("symbol", "prev_close", "_history").iter_rows()
    }
