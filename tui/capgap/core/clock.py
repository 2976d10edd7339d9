"""The one place that reads the wall clock: system, replay and manual clocks."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Source of the current instant (tz-aware UTC) and of monotonic seconds for pacing."""

    def now(self) -> datetime:
        """Return the current instant as a tz-aware UTC datetime."""
        ...

    def monotonic(self) -> float:
        """Return monotonic wall seconds, used to pace polling and measure ages of requests."""
        ...

    @property
    def speed(self) -> float:
        """How many clock seconds pass per wall second (1 for the system clock)."""
        ...

    @property
    def finished(self) -> bool:
        """True once a bounded clock has reached its end (a replay at the close)."""
        ...


def _require_aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


class SystemClock:
    """The real wall clock."""

    speed = 1.0
    finished = False

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Return the OS monotonic clock."""
        return time.monotonic()


class ReplayClock:
    """A clock that starts at a chosen instant and runs ``speed`` times faster than the wall.

    With ``end`` set it stops there: a replayed session holds its last instant at the close.
    While paused, replayed time stands still; after :meth:`resume` it goes on from the same
    instant (pacing through :meth:`monotonic` stays in wall time throughout).
    """

    def __init__(
        self,
        start: datetime,
        speed: float = 30.0,
        end: datetime | None = None,
        *,
        monotonic: Clock | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed must be positive, got {speed}")
        self._start = _require_aware(start, "replay start")
        self._end = _require_aware(end, "replay end") if end is not None else None
        if self._end is not None and self._end < self._start:
            raise ValueError("replay end is before its start")
        self._speed = float(speed)
        # Tests drive the wall side with a ManualClock; live runs use the OS monotonic clock.
        self._wall: Clock = monotonic if monotonic is not None else SystemClock()
        self._origin = self._wall.monotonic()
        # Wall seconds spent paused are left out of the replayed time.
        self._paused_at: float | None = None
        self._paused_total = 0.0

    @property
    def speed(self) -> float:
        """Clock seconds per wall second."""
        return self._speed

    @property
    def start(self) -> datetime:
        """The instant the replay started at."""
        return self._start

    @property
    def end(self) -> datetime | None:
        """The instant the replay stops at, if bounded."""
        return self._end

    @property
    def paused(self) -> bool:
        """True while replayed time stands still."""
        return self._paused_at is not None

    def pause(self) -> None:
        """Stop replayed time at the current instant (no effect when already paused)."""
        if self._paused_at is None:
            self._paused_at = self._wall.monotonic()

    def resume(self) -> None:
        """Let replayed time run again from the instant it was paused at."""
        if self._paused_at is not None:
            self._paused_total += self._wall.monotonic() - self._paused_at
            self._paused_at = None

    def now(self) -> datetime:
        """Return the replayed instant, held at ``end`` once reached and while paused."""
        wall = self._paused_at if self._paused_at is not None else self._wall.monotonic()
        elapsed = (wall - self._origin - self._paused_total) * self._speed
        moment = self._start + timedelta(seconds=elapsed)
        if self._end is not None and moment > self._end:
            return self._end
        return moment

    def monotonic(self) -> float:
        """Return wall monotonic seconds (pacing stays in real time)."""
        return self._wall.monotonic()

    @property
    def finished(self) -> bool:
        """True once the replay has reached its end."""
        return self._end is not None and self.now() >= self._end


def hold_still(clock: Clock) -> None:
    """Stop a replay's time where it is (other clocks follow the wall and do not pause)."""
    if isinstance(clock, ReplayClock):
        clock.pause()


def run_on(clock: Clock) -> None:
    """Let a replay's time go on from where hold_still() stopped it."""
    if isinstance(clock, ReplayClock):
        clock.resume()


class ManualClock:
    """A clock that only moves when told to: for tests and deterministic snapshots."""

    def __init__(self, start: datetime, *, end: datetime | None = None) -> None:
        self._now = _require_aware(start, "manual clock start")
        self._end = _require_aware(end, "manual clock end") if end is not None else None
        self._mono = 0.0

    speed = 1.0

    def now(self) -> datetime:
        """Return the instant last set."""
        return self._now

    def monotonic(self) -> float:
        """Return the manual monotonic counter."""
        return self._mono

    @property
    def finished(self) -> bool:
        """True once the clock has been advanced to or past its end."""
        return self._end is not None and self._now >= self._end

    def advance(self, seconds: float) -> None:
        """Move both the instant and the monotonic counter forward."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def set(self, moment: datetime) -> None:
        """Jump to an instant (monotonic time moves by the same amount when forward)."""
        moment = _require_aware(moment, "manual clock time")
        delta = (moment - self._now).total_seconds()
        self._now = moment
        if delta > 0:
            self._mono += delta
