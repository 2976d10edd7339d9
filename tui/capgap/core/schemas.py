"""Every polars frame schema capgap passes around, declared once."""

from __future__ import annotations

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")

#: Latest quote per symbol. ``time`` is when the price was observed (UTC).
QUOTES: pl.Schema = pl.Schema(
    {
        "symbol": pl.String(),
        "time": UTC_TIME,
        "last": pl.Float64(),
        "prev_close": pl.Float64(),
        "volume": pl.Float64(),
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

#: Constituents of the sector universe: one row per stock.
CONSTITUENTS: pl.Schema = pl.Schema(
    {
        "symbol": pl.String(),
        "name": pl.String(),
        "sector": pl.String(),
        "bucket": pl.String(),  # "large" or "small"
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


def empty(schema: pl.Schema) -> pl.DataFrame:
    """Return an empty frame of the given schema."""
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Select and cast ``frame`` to ``schema`` (raises on missing columns)."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
