"""JSON-ready forms of the market clock's values, shared by `snapshot` and `calendar`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from capgap.core.market_types import FomcDecision, MarketSession
from capgap.market.upcoming import MarketEvent


def iso_utc(moment: datetime | None) -> str | None:
    """Return an ISO 8601 UTC timestamp with its offset, or None."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def session_to_dict(session: MarketSession) -> dict[str, Any]:
    """Return the session as {state, holiday, early_close, next_open, next_close}."""
    return {
        "state": session.state,
        "next_open": iso_utc(session.next_open),
        "next_close": iso_utc(session.next_close),
        "holiday": session.holiday,
        "early_close": session.early_close,
    }


def decision_to_dict(decision: FomcDecision | None) -> dict[str, Any] | None:
    """Return the decision as {date, statement_at, seconds_until, sep}, or None."""
    if decision is None:
        return None
    return {
        "date": decision.date.isoformat(),
        "statement_at": iso_utc(decision.statement_at),
        "seconds_until": decision.seconds_until,
        "sep": decision.sep,
    }


def event_to_dict(event: MarketEvent) -> dict[str, Any]:
    """Return a coming event as {date, kind, name, at, sep?}."""
    data: dict[str, Any] = {
        "date": event.day.isoformat(),
        "kind": event.kind,
        "name": event.name,
        "at": iso_utc(event.at),
    }
    if event.kind == "fomc":
        data["sep"] = event.sep
    return data
