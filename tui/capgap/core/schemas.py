"""Every polars frame schema capgap passes around, declared once."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")

#: What a quote carries beside its price (Yahoo sends it in the same batch; any may be null):
#: market cap, forward and trailing-twelve-month EPS, the 50- and 200-day averages, the 52-week
#: range (which includes today), today's range, and the pre- and post-market price and time.
QUOTE_DETAILS: pl.Schema = pl.Schema(
    {
        "market_cap": pl.Float64(),
        "eps_forward": pl.Float64(),
        "eps_trailing": pl.Float64(),
        "avg_50d": pl.Float64(),
        "avg_200d": pl.Float64(),
        "high_52w": pl.Float64(),
        "low_52w": pl.Float64(),
        "day_high": pl.Float64(),
        "day_low": pl.Float64(),
        "pre_price": pl.Float64(),
        "pre_time": UTC_TIME,
        "post_price": pl.Float64(),
        "post_time": UTC_TIME,
    }
)

#: Latest quote per symbol. ``time`` is when the price was observed (UTC); the details follow.
QUOTES: pl.Schema = pl.Schema(
    {
        "symbol": pl.String(),
        "time": UTC_TIME,
        "last": pl.Float64(),
        "prev_close": pl.Float64(),
        "volume": pl.Float64(),
        **QUOTE_DETAILS,
    }
)

#: Intraday bars. ``time`` is the UTC start of the bar.
BARS: pl.Schema = pl.Schema(
    {
        "symbol": pl.String(),
        "time": UTC_TIME,
        "open": pl.Float64(),
        "high": pl.Float64(),
        "low": pl.Float64(),
        "close": pl.Float64(),
        "volume": pl.Float64(),
    }
)

#: Daily bars. ``date`` is the exchange (America/New_York) session date.
DAILY: pl.Schema = pl.Schema(
    {
        "symbol": pl.String(),
        "date": pl.Date(),
        "open": pl.Float64(),
        "high": pl.Float64(),
        "low": pl.Float64(),
        "close": pl.Float64(),
        "volume": pl.Float64(),
    }
)

#: Each sector leg's daily level (capgap.analytics.sector_history.leg_levels): ``sector_idx``
#: is the sector's position in the universe's sectors, ``bucket`` "large" or "small",
#: ``level`` chain-linked from 100.0 at the first date, ``coverage_pct`` the share of the
#: leg's reference weight whose member had both that day's close and the one before.
LEG_LEVELS: pl.Schema = pl.Schema(
    {
        "sector_idx": pl.UInt32(),
        "bucket": pl.String(),
        "date": pl.Date(),
        "level": pl.Float64(),
        "coverage_pct": pl.Float64(),
    }
)

#: Members of the two indices (and of custom sectors): one row per stock and leg.
#: ``fund`` is the fund whose holdings list it (IVV, IWM; null for a custom sector's stock,
#: which counts in its sector only), ``shares`` what that fund holds and ``ref_price`` its
#: price in the holdings file (what the leg's weight is judged by while it is unquoted). A
#: custom sector's stock has neither: its market cap weighs it.
CONSTITUENTS: pl.Schema = pl.Schema(
    {
        "symbol": pl.String(),
        "name": pl.String(),
        "sector": pl.String(),
        "bucket": pl.String(),  # "large" or "small"
        "fund": pl.String(),
        "shares": pl.Float64(),
        "ref_price": pl.Float64(),
    }
)

#: A fund's equity holdings, as its provider publishes them: one row per stock held.
#: ``symbol`` is Yahoo's spelling of ``ticker``; ``shares`` is the quantity the fund holds.
HOLDINGS: pl.Schema = pl.Schema(
    {
        "symbol": pl.String(),
        "ticker": pl.String(),
        "name": pl.String(),
        "sector": pl.String(),
        "shares": pl.Float64(),
        "price": pl.Float64(),
        "weight_pct": pl.Float64(),
    }
)


def frame_of(columns: Sequence[pl.Series]) -> pl.DataFrame:
    """Return a frame of ``columns`` (at least one, of equal lengths, distinct names)."""
    # Natively, side by side: building a DataFrame from a list of Series checks and unpacks
    # it in Python first, four times as long, and the analytics tick builds several.
    return columns[0].to_frame().hstack(list(columns[1:]))


def empty(schema: pl.Schema) -> pl.DataFrame:
    """Return an empty frame of the given schema."""
    return pl.DataFrame(schema=schema)


def conform(
    frame: pl.DataFrame, schema: pl.Schema, optional: pl.Schema | None = None
) -> pl.DataFrame:
    """Select and cast ``frame`` to ``schema``; a missing column raises unless ``optional``.

    Columns of ``optional`` (a part of ``schema``) that ``frame`` lacks come back null: a
    recording made before a column existed still loads.
    """
    spare: pl.Schema = optional if optional is not None else pl.Schema()
    return frame.select(
        [
            pl.col(name).cast(dtype)
            if name in frame.columns or name not in spare
            else pl.lit(None, dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )


_QUOTE_NAMES = QUOTES.names()
_QUOTE_DTYPES = QUOTES.dtypes()


def conform_quotes(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` in the QUOTES schema; details it lacks are null."""
    # Names and types compared as lists: building the frame's Schema to compare costs four
    # times as much, on every poll.
    if frame.columns == _QUOTE_NAMES and frame.dtypes == _QUOTE_DTYPES:
        return frame
    return conform(frame, QUOTES, QUOTE_DETAILS)
