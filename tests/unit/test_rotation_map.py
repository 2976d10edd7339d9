"""The rotation map of size by sector (issue 18, item 2) against hand values and a second method.

The formula is ../shared/notes/market-facts.md "Rotation map": weekly points are the last
session of each week, rel = small / large, rs_ratio = 100 * rel_w / mean(rel_{w-9}..rel_w),
rs_momentum = 100 * rs_ratio_w / rs_ratio_{w-1}; no look-ahead.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from builders import sparse_snapshot
from capgap.analytics.rotation import (
    TAIL_WEEKS,
    rotation_frame,
    rotation_points,
    weekly_relative,
)
from capgap.analytics.serialize import snapshot_to_dict
from capgap.core.quadrants import quadrant
from capgap.core.records import replace
from capgap.core.snapshot import RotationPoint, RotationTailPoint

LevelRow = tuple[int, str, date, float, float]
#: A Friday: the first week of every weekly series below.
FIRST_FRIDAY = date(2025, 1, 3)


def levels_frame(rows: Iterable[LevelRow]) -> pl.DataFrame:
    """Return legs' daily levels in current_leg_levels' schema (sector_idx, bucket, ...)."""
    return pl.DataFrame(
        list(rows),
        schema={
            "sector_idx": pl.UInt32,
            "bucket": pl.String,
            "date": pl.Date,
            "level": pl.Float64,
            "coverage_pct": pl.Float64,
        },
        orient="row",
    )


def weekly_levels(
    rels: Sequence[float], sector: int = 0, start: date = FIRST_FRIDAY
) -> list[LevelRow]:
    """Return one session a week (Fridays): the large leg at 100, the small leg at 100 x rel."""
    rows: list[LevelRow] = []
    for week, rel in enumerate(rels):
        day = start + timedelta(weeks=week)
        rows.append((sector, "large", day, 100.0, 100.0))
        rows.append((sector, "small", day, 100.0 * rel, 100.0))
    return rows


def reference(rels: Sequence[float]) -> list[tuple[float, float] | None]:
    """The formula a second way, in plain Python: (rs_ratio, rs_momentum) per week or None."""
    ratios: list[float | None] = []
    for week, rel in enumerate(rels):
        window = rels[week - 9 : week + 1] if week >= 9 else []
        ratios.append(100.0 * rel / statistics.fmean(window) if window else None)
    points: list[tuple[float, float] | None] = [None]
    for week in range(1, len(rels)):
        now, before = ratios[week], ratios[week - 1]
        points.append(None if now is None or before is None else (now, 100.0 * now / before))
    return points


# Ten flat weeks, then 1.10, 0.99, 1.00. By hand:
#  week 10: mean(w1..w10) = (9 + 1.10) / 10 = 1.01, ratio = 110 / 1.01 = 108.910891,
#           momentum = 100 * 108.910891 / 100 = 108.910891: leading;
#  week 11: mean(w2..w11) = (8 + 1.10 + 0.99) / 10 = 1.009, ratio = 99 / 1.009 = 98.116947,
#           momentum = 100 * (0.99 / 1.009) / (1.10 / 1.01) = 99.99 / 1.1099 = 90.089197: lagging;
#  week 12: mean(w3..w12) = (7 + 1.10 + 0.99 + 1.00) / 10 = 1.009, ratio = 100 / 1.009 =
#           99.108028, momentum = 100 * 1.00 / 0.99 = 101.010101: improving.
HAND_RELS = [1.0] * 10 + [1.10, 0.99, 1.00]
HAND_POINTS = [
    (108.910891, 108.910891, "leading"),
    (98.116947, 90.089197, "lagging"),
    (99.108028, 101.010101, "improving"),
]


def test_the_formula_against_a_series_worked_out_by_hand():
    today = FIRST_FRIDAY + timedelta(weeks=len(HAND_RELS) - 1)
    (point,) = rotation_points(levels_frame(weekly_levels(HAND_RELS)), ["Energy"], today)
    assert point.sector == "Energy" and point.reason is None
    # Eleven weeks make the first point: weeks 10, 11 and 12 have one each.
    assert [tail.day for tail in point.tail] == [
        FIRST_FRIDAY + timedelta(weeks=week) for week in (10, 11, 12)
    ]
    for tail, (ratio, momentum, _) in zip(point.tail, HAND_POINTS, strict=True):
        assert tail.rs_ratio == pytest.approx(ratio, abs=1e-6)
        assert tail.rs_momentum == pytest.approx(momentum, abs=1e-6)
        assert quadrant(tail.rs_ratio, tail.rs_momentum) == _
    # The head is the latest week's point, the tail's last.
    assert (point.rs_ratio, point.rs_momentum) == (
        point.tail[-1].rs_ratio,
        point.tail[-1].rs_momentum,
    )
    assert point.quadrant == "improving"


def test_quadrants_at_exactly_100_count_as_100_or_above():
    assert quadrant(100.0, 100.0) == "leading"
    assert quadrant(100.0, 99.99) == "weakening"
    assert quadrant(99.99, 99.99) == "lagging"
    assert quadrant(99.99, 100.0) == "improving"
    # Float noise at the border does not move a point: a flat line reads leading.
    assert quadrant(99.99999999999999, 100.00000000000001) == "leading"


@pytest.mark.parametrize(
    ("rels", "expected", "ratio", "momentum"),
    [
        # A flat line: ratio 100 and momentum 100, leading.
        ([1.0] * 11, "leading", 100.0, 100.0),
        # Week 11's rel is the mean of the nine before it, (8 + 1.9) / 9 = 1.1: its ratio is
        # 100 * 1.1 / ((8 + 1.9 + 1.1) / 10) = 100 exactly, and week 10's was 174.3: weakening.
        ([1.0] * 10 + [1.9, 1.1], "weakening", 100.0, 100.0 * 100.0 / (100.0 * 1.9 / 1.09)),
        # Week 10's rel y = x (8 + x) / 9 with x = 0.5 (week 9's) keeps the ratio where it
        # was, 100 x / ((9 + x) / 10) = 52.63: momentum exactly 100 below 100, improving.
        ([1.0] * 9 + [0.5, 0.5 * 8.5 / 9], "improving", 50.0 / 0.95, 100.0),
    ],
    ids=["flat", "ratio-100", "momentum-100"],
)
def test_points_on_the_borders_of_the_quadrants(rels, expected, ratio, momentum):
    today = FIRST_FRIDAY + timedelta(weeks=len(rels) - 1)
    (point,) = rotation_points(levels_frame(weekly_levels(rels)), ["Energy"], today)
    assert point.rs_ratio == pytest.approx(ratio, abs=1e-9)
    assert point.rs_momentum == pytest.approx(momentum, abs=1e-9)
    assert point.quadrant == expected


def wavy(weeks: int, phase: float) -> list[float]:
    """A relative line that rises and falls over weeks (a clockwise rotation)."""
    return [1.0 + 0.05 * math.sin(week / 4.0 + phase) + 0.002 * week for week in range(weeks)]


def test_the_tail_is_the_last_8_weeks_matching_a_second_method_for_each_sector():
    rels = {0: wavy(30, 0.0), 1: wavy(30, 1.5), 2: wavy(14, 3.0)}
    rows = [row for index, line in rels.items() for row in weekly_levels(line, index)]
    today = FIRST_FRIDAY + timedelta(weeks=29)
    points = rotation_points(levels_frame(rows), ["A", "B", "C"], today)
    assert [point.sector for point in points] == ["A", "B", "C"]
    for point, line in zip(points, rels.values(), strict=True):
        expected = [
            (FIRST_FRIDAY + timedelta(weeks=week), value)
            for week, value in enumerate(reference(line))
            if value is not None
        ][-TAIL_WEEKS:]
        # 30 weeks give a full tail; 14 weeks only 14 - 10 = 4 points.
        assert len(point.tail) == min(TAIL_WEEKS, len(line) - 10)
        for tail, (day, (ratio, momentum)) in zip(point.tail, expected, strict=True):
            assert tail.day == day
            assert tail.rs_ratio == pytest.approx(ratio, rel=1e-12)
            assert tail.rs_momentum == pytest.approx(momentum, rel=1e-12)


def test_no_look_ahead_future_weeks_change_no_past_point():
    line = wavy(40, 0.7)
    rows = levels_frame(weekly_levels(line))
    full = rotation_frame(rows, FIRST_FRIDAY + timedelta(weeks=39))
    for week in range(10, 40):
        day = FIRST_FRIDAY + timedelta(weeks=week)
        # As of that week, with the later weeks in the frame (they must be left unread) ...
        (seen,) = rotation_points(rows, ["A"], day)
        # ... and with the frame cut at that week: the same point, the full run's too.
        (cut,) = rotation_points(rows.filter(pl.col("date") <= day), ["A"], day)
        assert seen == cut
        row = full.filter(pl.col("date") == day).row(0, named=True)
        assert seen.rs_ratio == row["rs_ratio"] and seen.rs_momentum == row["rs_momentum"]


def daily_rows(days: Iterable[date], *, skip_small: Iterable[date] = ()) -> list[LevelRow]:
    """Return sector 0's levels on ``days``: the small leg at 100 + the day of the year."""
    skipped = set(skip_small)
    rows: list[LevelRow] = []
    for day in days:
        rows.append((0, "large", day, 100.0, 100.0))
        if day not in skipped:
            rows.append((0, "small", day, 100.0 + day.timetuple().tm_yday, 100.0))
    return rows


def test_weekly_points_are_each_weeks_last_session_holidays_and_the_current_week_included():
    sessions = [
        # A full week: its Friday.
        *(date(2025, 11, 17) + timedelta(days=d) for d in range(5)),
        # Thanksgiving (Thursday 27 Nov) closed: the Friday still ends the week.
        date(2025, 11, 24), date(2025, 11, 25), date(2025, 11, 26), date(2025, 11, 28),
        # New Year's Day closed; Monday 29 Dec to Friday 2 Jan is one week across the year.
        date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 2),
        # Good Friday (3 Apr 2026) closed: the week ends on Thursday.
        date(2026, 3, 30), date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 2),
        # A week whose Friday has no small-cap level: its point is Thursday, both legs' last.
        date(2026, 4, 6), date(2026, 4, 7), date(2026, 4, 8), date(2026, 4, 9), date(2026, 4, 10),
        # The current week, to Wednesday; Thursday's level is after today and never read.
        date(2026, 4, 13), date(2026, 4, 14), date(2026, 4, 15), date(2026, 4, 16),
    ]  # fmt: skip
    today = date(2026, 4, 15)
    levels = levels_frame(daily_rows(sessions, skip_small=[date(2026, 4, 10)]))
    weekly = weekly_relative(levels, today)
    expected = [
        date(2025, 11, 21),
        date(2025, 11, 28),
        date(2026, 1, 2),
        date(2026, 4, 2),
        date(2026, 4, 9),
        date(2026, 4, 15),
    ]
    assert weekly.get_column("date").to_list() == expected
    # Each point's rel is its own session's small level over its large level.
    assert weekly.get_column("rel").to_list() == pytest.approx(
        [(100.0 + day.timetuple().tm_yday) / 100.0 for day in expected]
    )


def test_a_sector_without_one_side_or_enough_weeks_has_no_point_and_says_why():
    full = weekly_levels([1.0] * 12, 0)
    large_only = [row for row in weekly_levels([1.0] * 12, 1) if row[1] == "large"]
    small_only = [row for row in weekly_levels([1.0] * 12, 2) if row[1] == "small"]
    short = weekly_levels([1.0] * 10, 3)
    # Sector 5's small leg covers too little of its members' weight to stand for the leg.
    thin = [
        (index, bucket, day, level, 50.0 if bucket == "small" else cover)
        for index, bucket, day, level, cover in weekly_levels([1.0] * 12, 5)
    ]
    rows = [*full, *large_only, *small_only, *short, *thin]
    today = FIRST_FRIDAY + timedelta(weeks=11)
    names = ["Full", "Large only", "Small only", "Short", "None", "Thin"]
    points = rotation_points(levels_frame(rows), names, today)
    reasons = {point.sector: point.reason for point in points}
    assert reasons == {
        "Full": None,
        "Large only": "no small-cap history",
        "Small only": "no large-cap history",
        "Short": "under 11 weeks of history",
        "None": "no history",
        "Thin": "no small-cap history",
    }
    for point in points[1:]:
        assert (point.rs_ratio, point.rs_momentum, point.quadrant, point.tail) == (
            None,
            None,
            None,
            (),
        )


def test_an_empty_levels_frame_gives_every_sector_a_reason():
    points = rotation_points(levels_frame([]), ["A", "B"], date(2026, 1, 2))
    assert [(point.sector, point.reason) for point in points] == [
        ("A", "no history"),
        ("B", "no history"),
    ]


def test_the_json_names_of_the_rotation_map():
    tail = (
        RotationTailPoint(date(2026, 3, 27), 101.23456789, 99.87654321),
        RotationTailPoint(date(2026, 4, 2), 102.5, 100.25),
    )
    rotation = (
        RotationPoint("Energy", 102.5, 100.25, "leading", tail),
        RotationPoint("Utilities", None, None, None, reason="no small-cap history"),
    )
    data = snapshot_to_dict(
        replace(sparse_snapshot(datetime(2026, 4, 2, 20, tzinfo=UTC)), rotation=rotation)
    )
    assert data["rotation"] == [
        {
            "sector": "Energy",
            "rs_ratio": 102.5,
            "rs_momentum": 100.25,
            "quadrant": "leading",
            "tail": [
                {"date": "2026-03-27", "rs_ratio": 101.2346, "rs_momentum": 99.8765},
                {"date": "2026-04-02", "rs_ratio": 102.5, "rs_momentum": 100.25},
            ],
            "reason": None,
        },
        {
            "sector": "Utilities",
            "rs_ratio": None,
            "rs_momentum": None,
            "quadrant": None,
            "tail": [],
            "reason": "no small-cap history",
        },
    ]
