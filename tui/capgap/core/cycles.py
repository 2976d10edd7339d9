"""The cutting cycles' event study as plain values (capgap.analytics.cycles computes it).

Polars-free, like the snapshot types: the screen and the CLI's output read these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from capgap.core.format import NA, fmt_signed

#: The horizons of the study, in sessions after the decision day's close (day 0).
HORIZONS: tuple[int, ...] = (21, 63, 126, 252)
#: The paths run from this many sessions before day 0 ...
BEFORE = 60
#: ... to this many after.
AFTER = 252

PathKind = Literal["past", "median", "current", "resumed"]


class HistoryUnavailable(Exception):
    """The indices' history cannot be had (no network and no cache, no sample file)."""


@dataclass(frozen=True, slots=True)
class CycleRow:
    """One first cut: the Russell 2000's return minus the S&P 500's, in pp, per horizon.

    ``after`` follows HORIZONS; None where the history has too few sessions after day 0
    (or none before it). ``base`` is the close measured from: the session before day 0.
    """

    first_cut: date
    base: date | None
    after: tuple[float | None, ...]
    current: bool
    note: str


@dataclass(frozen=True, slots=True)
class SinceCut:
    """The current cycle since one of its cuts: sessions after day 0 and the gap so far."""

    cut: date
    sessions_since: int | None
    gap_pp: float | None


@dataclass(frozen=True, slots=True)
class CyclePath:
    """One line of the chart: the gap (pp) by session offset from day 0, 0 at the base (-1)."""

    label: str
    kind: PathKind
    offsets: tuple[int, ...]
    gaps: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class CyclesReport:
    """The whole study: a row per first cut, the past cycles' median, the current cycle."""

    cycles: tuple[CycleRow, ...]
    #: Per horizon, the median over the past cycles (the current one left out) with data.
    median: tuple[float | None, ...]
    current: SinceCut | None
    resumed: SinceCut | None
    #: Each past cycle's path, the median path, then the current cycle's (and its resumption's).
    paths: tuple[CyclePath, ...]
    #: The last close of the history (the figures' date), None without history.
    as_of: date | None
    demo: bool
    #: Why the history is not current (Yahoo failed: an older one kept on disk), or None.
    stale: str | None = None


def since_text(label: str, since: SinceCut, *, missing: str = NA) -> str:
    """Return '<label> 2024-09-18: 300 sessions, +1.23 pp' (``missing`` while day 0 is ahead)."""
    if since.sessions_since is None:
        return f"{label} {since.cut.isoformat()}: {missing}"
    sessions = since.sessions_since
    return (
        f"{label} {since.cut.isoformat()}: {sessions} session{'s' * (sessions != 1)}, "
        f"{fmt_signed(since.gap_pp, suffix=' pp', missing=missing)}"
    )


def _figure(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _by_horizon(values: tuple[float | None, ...]) -> dict[str, float | None]:
    return {str(horizon): _figure(value) for horizon, value in zip(HORIZONS, values, strict=True)}


def _since(since: SinceCut) -> dict[str, object]:
    return {"sessions_since": since.sessions_since, "gap_pp": _figure(since.gap_pp)}


def report_to_dict(report: CyclesReport, source: str) -> dict[str, object]:
    """Return the study as JSON-able data (pp rounded to 2 decimals, None where blank).

    ``cycles[].{first_cut,after.{21,63,126,252}}``, ``median.{...}`` and
    ``current.{first_cut,sessions_since,gap_pp,resumed}``; ``source`` names the cuts' source.
    """
    current: dict[str, object] | None = None
    if report.current is not None:
        current = {"first_cut": report.current.cut.isoformat(), **_since(report.current)}
        resumed = report.resumed
        current["resumed"] = (
            None if resumed is None else {"date": resumed.cut.isoformat(), **_since(resumed)}
        )
    return {
        "demo": report.demo,
        "as_of": None if report.as_of is None else report.as_of.isoformat(),
        "stale": report.stale,
        "horizons": list(HORIZONS),
        "cycles": [
            {
                "first_cut": row.first_cut.isoformat(),
                "base": None if row.base is None else row.base.isoformat(),
                "current": row.current,
                "note": row.note,
                "after": _by_horizon(row.after),
            }
            for row in report.cycles
        ],
        "median": _by_horizon(report.median),
        "current": current,
        "source": source,
    }
