"""The rotation map of size by sector: each sector's small-cap leg against its large-cap leg.

An approximation of relative rotation graphs (their own formulas are unpublished), as
../shared/notes/market-facts.md "Rotation map" gives it. For a sector, the relative line is
the ratio of its two legs' daily levels, ``rel = small / large`` on the sessions both have.
Its weekly points are the last session of each week (weeks start on Monday, as ISO weeks do;
the current week's latest session counts), and for each week w::

    rs_ratio_w    = 100 * rel_w / mean(rel_{w-9} .. rel_w)     (a 10-week average, w included)
    rs_momentum_w = 100 * rs_ratio_w / rs_ratio_{w-1}

so the first point needs 11 weeks. No look-ahead: each point uses closes up to its own week
only (nothing after ``today`` is read at all). Quadrants: ratio >= 100 and momentum >= 100
leading, ratio >= 100 and momentum < 100 weakening, both < 100 lagging, ratio < 100 and
momentum >= 100 improving; rotation usually runs clockwise (improving, leading, weakening,
lagging).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from capgap.core.snapshot import COVERAGE_MIN_PCT, RotationPoint, RotationTailPoint
from capgap.market.universe import Universe

#: Weeks in the RS-ratio's average, and the weeks one point needs (one more for momentum).
MEAN_WEEKS = 10
MIN_WEEKS = MEAN_WEEKS + 1
#: Weekly points in a sector's tail, its head (the latest week) included.
TAIL_WEEKS = 8


def _usable(levels: pl.DataFrame, today: date) -> pl.DataFrame:
    """Return the levels up to ``today`` that a point may rest on: positive, finite, covered."""
    level = pl.col("level")
    return levels.filter(
        pl.col("date") <= today,
        level.is_not_null() & level.is_finite() & (level > 0),
        # A level over too few of its leg's members would pass for the leg's (see LegStats).
        pl.col("coverage_pct").is_null() | (pl.col("coverage_pct") >= COVERAGE_MIN_PCT),
    )


def weekly_relative(levels: pl.DataFrame, today: date) -> pl.DataFrame:
    """Return each sector's weekly relative line: sector_idx, week, date, rel, in order.

    ``date`` is the last session of the week on which both legs have a level; ``rel`` the
    small leg's level over the large leg's on that session.
    """
    usable = _usable(levels, today)
    small = usable.filter(pl.col("bucket") == "small").select(
        "sector_idx", "date", pl.col("level").alias("small")
    )
    large = usable.filter(pl.col("bucket") == "large").select(
        "sector_idx", "date", pl.col("level").alias("large")
    )
    daily = small.join(large, on=["sector_idx", "date"], how="inner")
    return (
        daily.with_columns(
            week=pl.col("date").dt.truncate("1w"),
            rel=pl.col("small") / pl.col("large"),
        )
        .sort("sector_idx", "date")
        .group_by("sector_idx", "week", maintain_order=True)
        .agg(pl.col("date").last(), pl.col("rel").last())
        .sort("sector_idx", "week")
    )


def rotation_frame(levels: pl.DataFrame, today: date) -> pl.DataFrame:
    """Return every sector's weekly points with rs_ratio and rs_momentum (null before week 11)."""
    weekly = weekly_relative(levels, today)
    mean = pl.col("rel").rolling_mean(MEAN_WEEKS, min_samples=MEAN_WEEKS).over("sector_idx")
    ratio = pl.col("rs_ratio")
    return weekly.with_columns(rs_ratio=100.0 * pl.col("rel") / mean).with_columns(
        rs_momentum=100.0 * ratio / ratio.shift(1).over("sector_idx")
    )


def _sides(levels: pl.DataFrame, today: date) -> dict[int, set[str]]:
    """Return the buckets ("large", "small") of each sector that has a usable level."""
    sides = _usable(levels, today).group_by("sector_idx").agg(pl.col("bucket").unique())
    return {int(index): set(buckets) for index, buckets in sides.iter_rows()}


def _reason(buckets: set[str] | None) -> str:
    """Return why a sector has no point, from the sides that have levels."""
    if not buckets:
        return "no history"
    if "small" not in buckets:
        return "no small-cap history"
    if "large" not in buckets:
        return "no large-cap history"
    return f"under {MIN_WEEKS} weeks of history"


def rotation_points(
    levels: pl.DataFrame, sectors: Sequence[str], today: date
) -> tuple[RotationPoint, ...]:
    """Return each sector's point on the rotation map, in the order of ``sectors``.

    ``levels`` has the legs' daily levels (sector_idx: the position in ``sectors``, bucket,
    date, level, coverage_pct: see capgap.analytics.sector_history). A sector with no level on
    one side, or fewer than 11 weeks both sides share, has no point and a reason instead.
    """
    frame = rotation_frame(levels, today)
    tails = (
        frame.filter(pl.col("rs_momentum").is_not_null())
        .group_by("sector_idx", maintain_order=True)
        .tail(TAIL_WEEKS)
    )
    tail_of: dict[int, list[RotationTailPoint]] = {}
    for index, day, rs_ratio, rs_momentum in tails.select(
        "sector_idx", "date", "rs_ratio", "rs_momentum"
    ).iter_rows():
        tail_of.setdefault(index, []).append(RotationTailPoint(day, rs_ratio, rs_momentum))
    sides = _sides(levels, today)
    points: list[RotationPoint] = []
    for index, name in enumerate(sectors):
        tail = tail_of.get(index)
        if not tail:
            points.append(RotationPoint(name, None, None, None, reason=_reason(sides.get(index))))
            continue
        points.append(RotationPoint.headed(name, tuple(tail)))
    return tuple(points)


def rotation_snapshot(
    levels: pl.DataFrame, universe: Universe, today: date
) -> tuple[RotationPoint, ...]:
    """Return the rotation map of the universe's sectors from their legs' daily levels."""
    return rotation_points(levels, [sector.name for sector in universe.sectors], today)
