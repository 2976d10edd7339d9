"""What a recorded session folder says about itself (session.toml); cheap to import."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from capgap.core.market_types import NEW_YORK
from capgap.feeds.base import FeedError, ReferenceData


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a recorded session folder says about itself (its session.toml)."""

    session_date: date
    synthetic: bool
    reference: ReferenceData


def read_session_info(folder: Path) -> SessionInfo:
    """Read ``session.toml`` of a recorded session folder."""
    path = folder / "session.toml"
    try:
        with path.open("rb") as handle:
            raw: dict[str, Any] = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FeedError(f"cannot read {path}: {exc}") from exc
    ref = raw.get("reference", {})
    target = ref.get("target_range")
    session_date = raw.get("session_date")
    if not isinstance(session_date, date):
        raise FeedError(f"{path}: session_date must be a TOML date")
    return SessionInfo(
        session_date=session_date,
        synthetic=bool(raw.get("synthetic", False)),
        reference=ReferenceData(
            target_range=(float(target[0]), float(target[1])) if target else None,
            effr=_optional_float(ref.get("effr")),
            label=str(ref["label"]) if "label" in ref else None,
        ),
    )


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def session_local_time(session_date: date, hour: int, minute: int) -> datetime:
    """Return a New York wall time on the session date as a tz-aware datetime."""
    return datetime(
        session_date.year, session_date.month, session_date.day, hour, minute, tzinfo=NEW_YORK
    )
