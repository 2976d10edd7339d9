"""The cutting cycles' event study: small caps against large caps after each first cut.

Day 0 is the decision day's close (the first session on or after the decision day: a cut
announced on a day without a session counts from the next one); the base is the close of the
session before it, since decisions are announced at 14:00 ET, during the session. At N
sessions after day 0: ``gap_pp(N) = 100 * (RUT_N / RUT_base - SPX_N / SPX_base)`` (market
facts, "Easing cycles"). The median is over the past cycles with data at that offset: a cycle
too recent for a horizon is left out of its median and shows blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from capgap.core.cycles import (
    AFTER,
    BEFORE,
    HORIZONS,
    CyclePath,
    CycleRow,
    CyclesReport,
    PathKind,
    SinceCut,
)
from capgap.market.cycles import (
    CURRENT_CYCLE,
    FIRST_CUTS,
    LARGE_INDEX,
    SMALL_INDEX,
    CurrentCycle,
    FirstCut,
)

#: The columns of index_closes: the session date and both indices' closes.
CLOSES_SCHEMA = pl.Schema({"date": pl.Date(), "large": pl.Float64(), "small": pl.Float64()})


def index_closes(
    daily: pl.DataFrame, large: str = LARGE_INDEX, small: str = SMALL_INDEX
) -> pl.DataFrame:
    """Return the sessions where both indices closed (DAILY in; date, large, small out).

    Rows with a missing, non-finite or non-positive close are left out; a date listed twice
    for a symbol keeps its last row (a cached history spliced onto a newer one).
    """
    valid = daily.filter(
        pl.col("close").is_not_null() & pl.col("close").is_finite() & (pl.col("close") > 0)
    )

    def one(symbol: str, name: str) -> pl.DataFrame:
        return (
            valid.filter(pl.col("symbol") == symbol)
            .unique("date", keep="last", maintain_order=True)
            .select("date", pl.col("close").alias(name))
        )

    return (
        one(large, "large")
        .join(one(small, "small"), on="date", how="inner")
        .sort("date")
        .select(*CLOSES_SCHEMA.names())
        .cast(CLOSES_SCHEMA)
    )


def day_zero(closes: pl.DataFrame, cut: date) -> int:
    """Return the row of day 0 for a decision on ``cut``: the first session on or after it.

    Equal to the height when the history ends before the decision day.
    """
    return int(closes.get_column("date").search_sorted(cut, side="left"))


def event_path(closes: pl.DataFrame, cut: date) -> pl.DataFrame:
    """Return the gap (pp) from BEFORE sessions before day 0 to AFTER after, as far as it goes.

    Columns: offset (sessions from day 0, i64), gap (pp, 0.0 at the base, offset -1). Empty
    when the history has no base (it starts on or after day 0) or no day 0 (it ends before).
    """
    zero = day_zero(closes, cut)
    if zero < 1 or zero >= closes.height:
        return pl.DataFrame(schema={"offset": pl.Int64(), "gap": pl.Float64()})
    base = closes.row(zero - 1, named=True)
    first = max(0, zero - BEFORE)
    window = closes.slice(first, zero + AFTER + 1 - first)
    return window.with_row_index("row").select(
        (pl.col("row").cast(pl.Int64()) + (first - zero)).alias("offset"),
        (100.0 * (pl.col("small") / base["small"] - pl.col("large") / base["large"])).alias("gap"),
    )


def gaps_at(path: pl.DataFrame, offsets: Sequence[int]) -> tuple[float | None, ...]:
    """Return the path's gap at each offset (None where the path does not reach it)."""
    found = dict(
        zip(path.get_column("offset").to_list(), path.get_column("gap").to_list(), strict=True)
    )
    return tuple(found.get(offset) for offset in offsets)


def median_path(paths: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Return, per offset, the median gap of the paths that reach it (offset, gap)."""
    if not paths:
        return pl.DataFrame(schema={"offset": pl.Int64(), "gap": pl.Float64()})
    return pl.concat(paths).group_by("offset").agg(pl.col("gap").median()).sort("offset")


def since_cut(closes: pl.DataFrame, cut: date) -> SinceCut:
    """Return the sessions from day 0 to the last close, and the gap at that close."""
    path = event_path(closes, cut)
    zero = day_zero(closes, cut)
    if path.height == 0:
        return SinceCut(cut=cut, sessions_since=None, gap_pp=None)
    last = closes.height - 1
    base = closes.row(zero - 1, named=True)
    now = closes.row(last, named=True)
    gap = 100.0 * (now["small"] / base["small"] - now["large"] / base["large"])
    return SinceCut(cut=cut, sessions_since=last - zero, gap_pp=gap)


def _line(label: str, kind: PathKind, path: pl.DataFrame) -> CyclePath:
    return CyclePath(
        label=label,
        kind=kind,
        offsets=tuple(path.get_column("offset").to_list()),
        gaps=tuple(path.get_column("gap").to_list()),
    )


def cycle_study(
    closes: pl.DataFrame,
    cuts: Sequence[FirstCut] = FIRST_CUTS,
    current: CurrentCycle = CURRENT_CYCLE,
    *,
    demo: bool = False,
) -> CyclesReport:
    """Return the event study of ``cuts`` over ``closes`` (index_closes' frame).

    The current cycle (the cut on ``current.first_cut``) has its row but stays out of the
    median, which is what it is compared against.
    """
    rows: list[CycleRow] = []
    past: list[tuple[FirstCut, pl.DataFrame]] = []
    dates = closes.get_column("date")
    for cut in cuts:
        path = event_path(closes, cut.day)
        zero = day_zero(closes, cut.day)
        is_current = cut.day == current.first_cut
        rows.append(
            CycleRow(
                first_cut=cut.day,
                base=dates[zero - 1] if path.height else None,
                after=gaps_at(path, HORIZONS),
                current=is_current,
                note=cut.note,
            )
        )
        if not is_current and path.height:
            past.append((cut, path))
    middle = median_path([path for _, path in past])
    lines = [_line(cut.day.isoformat(), "past", path) for cut, path in past]
    if middle.height:
        lines.append(_line("median", "median", middle))
    now = _line(current.first_cut.isoformat(), "current", event_path(closes, current.first_cut))
    if now.offsets:
        lines.append(now)
    resumed: SinceCut | None = None
    if current.resumed is not None:
        resumed = since_cut(closes, current.resumed)
        again = _line(current.resumed.isoformat(), "resumed", event_path(closes, current.resumed))
        if again.offsets:
            lines.append(again)
    return CyclesReport(
        cycles=tuple(rows),
        # One definition: a horizon's median is the median path read at that horizon.
        median=gaps_at(middle, HORIZONS),
        current=since_cut(closes, current.first_cut),
        resumed=resumed,
        paths=tuple(lines),
        as_of=dates[-1] if closes.height else None,
        demo=demo,
    )
