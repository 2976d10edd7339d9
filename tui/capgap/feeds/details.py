"""Quote details a replay derives from daily history: 50/200-day averages, 52-week range."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

#: Closes in the short and the long moving average (Yahoo's fiftyDayAverage, twoHundredDay...).
SHORT_AVERAGE = 50
LONG_AVERAGE = 200
#: The 52-week range covers the sessions of the 52 weeks before the day (today's own range is
#: added by the caller, as Yahoo's fiftyTwoWeekHigh/Low include the day's trading).
RANGE_WEEKS = 52


def _detail_columns(today: date) -> list[pl.Expr]:
    """Return the aggregations of history_details over one symbol's bars in date order."""
    since = today - timedelta(weeks=RANGE_WEEKS)
    recent = pl.col("date") >= since
    return [
        # Fewer closes than the window: no average (a shorter one would be another figure).
        pl.when(pl.len() >= SHORT_AVERAGE)
        .then(pl.col("close").tail(SHORT_AVERAGE).mean())
        .alias("avg_50d"),
        pl.when(pl.len() >= LONG_AVERAGE)
        .then(pl.col("close").tail(LONG_AVERAGE).mean())
        .alias("avg_200d"),
        pl.col("high").filter(recent).max().alias("high_52w"),
        pl.col("low").filter(recent).min().alias("low_52w"),
    ]


#: What history_details returns: one row per symbol.
HISTORY_DETAILS: pl.Schema = pl.Schema(
    {
        "symbol": pl.String(),
        "prev_close": pl.Float64(),
        "date": pl.Date(),
        "avg_50d": pl.Float64(),
        "avg_200d": pl.Float64(),
        "high_52w": pl.Float64(),
        "low_52w": pl.Float64(),
    }
)


def history_details(daily: pl.DataFrame | pl.LazyFrame, today: date) -> pl.DataFrame:
    """Return what the daily bars before ``today`` give a quote, per symbol (HISTORY_DETAILS).

    prev_close and date: the last close before ``today`` and its session; avg_50d / avg_200d:
    mean of the last 50 / 200 closes (null with fewer); high_52w / low_52w: highest high and
    lowest low of the sessions in the 52 weeks before ``today``. Sorted by symbol.
    """
    return (
        daily.lazy()
        .filter(pl.col("date") < today)
        .select("symbol", "date", "high", "low", "close")
        .sort("symbol", "date")
        .group_by("symbol", maintain_order=True)
        .agg(
            pl.col("close").last().alias("prev_close"),
            pl.col("date").last(),
            *_detail_columns(today),
        )
        .sort("symbol")
        .collect()
        .cast(dict(HISTORY_DETAILS))  # type: ignore[arg-type]
    )


def with_day_range(quotes: pl.DataFrame) -> pl.DataFrame:
    """Extend high_52w/low_52w by the day's range (day_high/day_low), as Yahoo's include it."""
    return quotes.with_columns(
        pl.max_horizontal("high_52w", "day_high").alias("high_52w"),
        pl.min_horizontal("low_52w", "day_low").alias("low_52w"),
    )
