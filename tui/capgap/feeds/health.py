"""Each feed's honest state: ok, degraded or down, the age of its last success, its last error."""

from __future__ import annotations

from datetime import datetime, timedelta

from capgap.core.records import replace
from capgap.core.snapshot import FeedState, FeedStatus

# Consecutive failures after which a feed counts as down rather than degraded.
DOWN_AFTER_FAILURES = 3
#: Figures older than this many cadences are stale (one late poll is not yet a problem).
STALE_AFTER_CADENCES = 2


class FeedHealth:
    """Tracks the outcome of a feed's polls and reports a FeedStatus."""

    def __init__(self, name: str, cadence_s: float) -> None:
        self.name = name
        self.cadence_s = cadence_s
        self.last_success: datetime | None = None
        self.last_error: str | None = None
        self.failures = 0
        self.next_retry: datetime | None = None
        # What a working feed lacks (a replay's skipped files): degraded, with this as error.
        self.notice: str | None = None

    def succeeded(self, now: datetime, notice: str | None = None) -> None:
        """Record a successful poll; a ``notice`` says what the feed lacks all the same."""
        self.last_success = now
        self.last_error = notice
        self.notice = notice
        self.failures = 0
        self.next_retry = None

    def failed(self, now: datetime, error: str, retry_in_s: float | None = None) -> None:
        """Record a failed poll and when it will be retried."""
        self.failures += 1
        self.last_error = error
        self.next_retry = now + timedelta(seconds=retry_in_s) if retry_in_s is not None else None

    def state(self) -> FeedState:
        """Return ok, degraded (failing, recently fine) or down."""
        if self.failures == 0 and self.last_success is not None:
            return "ok" if self.notice is None else "degraded"
        if self.failures >= DOWN_AFTER_FAILURES or self.last_success is None:
            return "down"
        return "degraded"

    def status(self, now: datetime, problems: tuple[tuple[str, str], ...] = ()) -> FeedStatus:
        """Return the status at ``now``; figures older than twice the cadence are stale.

        ``problems`` are the last poll's per-symbol problems, listed with the status.
        """
        age = (now - self.last_success).total_seconds() if self.last_success else None
        status = FeedStatus(
            name=self.name,
            state=self.state(),
            last_success=self.last_success,
            age_s=age,
            error=self.last_error,
            next_retry=self.next_retry,
            stale_after_s=STALE_AFTER_CADENCES * self.cadence_s,
            problems=problems,
        )
        # One definition of stale: the one a screen applies again as its clock ticks.
        return replace(status, stale=status.stale_at(now))
