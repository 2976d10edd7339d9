"""When to poll next: cadence by market session, backoff with jitter, Retry-After, a request budget.

Pure scheduling: nothing here sleeps or fetches, so every decision is testable on a manual clock.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from capgap.core.clock import Clock

#: The longest wait a server's Retry-After can impose: an all-day value (or a date in 9999)
#: would silence a monitor until tomorrow, so longer requests are cut to this.
MAX_RETRY_AFTER_S = 15 * 60.0
#: While the market is open a failing feed is tried again at least once a minute (a few
#: cadences): after an outage the figures are back within a minute of the source.
OPEN_BACKOFF_MAX_S = 60.0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: base * factor**(failures-1), capped, +/- jitter."""

    base_s: float = 2.0
    factor: float = 2.0
    max_s: float = 300.0
    jitter: float = 0.2  # a fraction: 0.2 spreads each delay over +/- 20 %
    open_max_s: float = OPEN_BACKOFF_MAX_S  # the cap while the market is open

    def delay(self, failures: int, rng: random.Random, *, max_s: float | None = None) -> float:
        """Return the wait after ``failures`` consecutive failures (0 failures: no wait).

        ``max_s`` replaces the cap (the shorter one while the market is open).
        """
        if failures <= 0:
            return 0.0
        cap = self.max_s if max_s is None else max_s
        # The exponent is bounded: after a day of failures 2.0 ** n would overflow.
        raw = min(cap, self.base_s * self.factor ** min(failures - 1, 64))
        # Jitter keeps many monitors that failed together from retrying together.
        spread = raw * self.jitter
        return max(0.0, min(cap, raw + rng.uniform(-spread, spread)))


def next_delay(
    *,
    cadence_s: float,
    failures: int,
    retry_after_s: float | None,
    backoff: Backoff,
    rng: random.Random,
    market_open: bool = False,
) -> float:
    """Return the seconds until the next poll.

    After a success: the session's cadence. After a failure: the backoff (capped at about a
    minute while the market is open), never shorter than the server's Retry-After (itself
    capped at MAX_RETRY_AFTER_S), and never shorter than the cadence (a failure does not
    speed polling up).
    """
    if failures <= 0:
        return cadence_s
    cap = backoff.open_max_s if market_open else None
    wait = max(cadence_s, backoff.delay(failures, rng, max_s=cap))
    if retry_after_s is not None and not math.isnan(retry_after_s):
        wait = max(wait, min(retry_after_s, MAX_RETRY_AFTER_S))
    return wait


class TokenBucket:
    """A per-host request budget: ``capacity`` requests at once, refilled at ``rate_per_s``."""

    def __init__(self, capacity: float, rate_per_s: float, clock: Clock) -> None:
        if capacity <= 0 or rate_per_s <= 0:
            raise ValueError("a token bucket needs a positive capacity and rate")
        self.capacity = capacity
        self.rate_per_s = rate_per_s
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock.monotonic()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate_per_s)
        self._stamp = now

    def available(self) -> float:
        """Return the tokens available now."""
        self._refill()
        return self._tokens

    def try_take(self, count: float = 1.0) -> bool:
        """Take ``count`` tokens if they are there; return whether they were."""
        self._refill()
        if self._tokens + 1e-9 >= count:
            self._tokens -= count
            return True
        return False

    def wait_s(self, count: float = 1.0) -> float:
        """Return the seconds until ``count`` tokens will be available."""
        self._refill()
        missing = count - self._tokens
        return max(0.0, missing / self.rate_per_s)
