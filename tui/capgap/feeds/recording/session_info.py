"""What a recorded session folder says about itself (session.toml); cheap to import."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from capgap.core.market_types import NEW_YORK
from capgap.feeds.base import FeedError, ReferenceData

#: The start of a recording's partition folder's name: date=YYYY-MM-DD.
PARTITION_PREFIX = "date="


def partition_day(folder: Path) -> date | None:
    """Return the New York date of a ``date=YYYY-MM-DD`` partition folder (None: not one)."""
    if not folder.name.startswith(PARTITION_PREFIX):
        return None
    try:
        return date.fromisoformat(folder.name.removeprefix(PARTITION_PREFIX))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class PollerInfo:
    """What the recorder that writes a folder says about itself (session.toml's [poller]).

    ``last_flush`` is the recorder's clock at its latest flush (rewritten every flush, even
    when no quote changed): a follower judges the recording's age by it. ``write_interval_s``
    is how long until the next flush at most: the flush interval, or the time to the next
    poll when polls are further apart (5 minutes overnight).
    """

    source: str | None = None
    flush_interval_s: float | None = None
    last_flush: datetime | None = None
    write_interval_s: float | None = None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a recorded session folder says about itself (its session.toml)."""

    session_date: date
    synthetic: bool
    reference: ReferenceData
    poller: PollerInfo = PollerInfo()


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
        poller=_poller(raw.get("poller")),
    )


def _poller(raw: object) -> PollerInfo:
    """Read session.toml's [poller] table (absent in older recordings and the sample)."""
    if not isinstance(raw, dict):
        return PollerInfo()
    source = raw.get("source")
    flushed = raw.get("last_flush")
    return PollerInfo(
        source=str(source) if isinstance(source, str) else None,
        flush_interval_s=_optional_float(raw.get("flush_interval_s")),
        last_flush=flushed if isinstance(flushed, datetime) and flushed.tzinfo else None,
        write_interval_s=_optional_float(raw.get("write_interval_s")),
    )


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def session_local_time(session_date: date, hour: int, minute: int) -> datetime:
    """Return a New York wall time on the session date as a tz-aware datetime."""
    return datetime(
        session_date.year, session_date.month, session_date.day, hour, minute, tzinfo=NEW_YORK
    )
