"""Numbers from provider bodies: JSON values checked before they become prices or times."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from tui.clock import Clock, SystemClock
from tui.feeds.base import SymbolError

# Epoch seconds outside (1970, 3000) are not a quote time, and would overflow datetimes.
MAX_EPOCH_S = 32_503_680_000
#: How far a provider's time may run ahead of the clock: hosts' clocks differ by seconds and
#: exchanges stamp a bar with its minute's end. Anything later is a wrong time, and would
#: outrank every true quote after it and move the session to its day.
MAX_AHEAD = timedelta(minutes=5)


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
    """Return a finite, positive price, or raise SymbolError naming the symbol and the field."""
    price = number(value)
    if price is None or not math.isfinite(price) or price <= 0:
        raise SymbolError(symbol, f"{provider} sent an invalid {what} for {symbol}: {value!r}")
    return price
