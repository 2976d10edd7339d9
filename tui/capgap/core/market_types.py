"""Value types of the market clock: the exchange session and the next FOMC decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

#: The exchange's time zone: every session, close and FOMC decision is dated in it.
NEW_YORK = ZoneInfo("America/New_York")

SessionState = Literal["pre", "open", "post", "closed", "holiday"]


@dataclass(frozen=True, slots=True)
class MarketSession:
    """The exchange session at an instant, with the next regular open and close (UTC)."""

    state: SessionState
    next_open: datetime | None
    next_close: datetime | None
    holiday: str | None = None
    early_close: bool = False


@dataclass(frozen=True, slots=True)
class FomcDecision:
    """An FOMC decision: its day, statement time (UTC), seconds left from the asking instant."""

    date: date
    statement_at: datetime
    seconds_until: int
    sep: bool
