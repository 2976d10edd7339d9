"""The gap's two middle legs in the sample: RSP from the S&P 500 members, ^SP600 beside ^RUT.

RSP is derived, not drawn: each session's return is the plain mean of the S&P 500 members'
returns in the sample (an index rebalanced to equal weights every day), chained into a level
that closes the last daily session at the calibration's price; its minute bars on the session
day are the same mean over the members' one-minute bars. ^SP600 (a profitable subset of small
caps) follows ^RUT's returns plus a small positive-drift idiosyncratic part drawn from a random
stream of its own, so no other series changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from capgap.core.schemas import BARS, DAILY
from capgap.sample.model import FloatArray, floats, rounded

#: Sessions in a year: the excess return is given a year and added a session at a time.
SESSIONS_A_YEAR = 252
#: Minutes of the regular session.
SESSION_MINUTES = 390


@dataclass(frozen=True, slots=True)
class GapPartsSpec:
    """How the sample's RSP and ^SP600 are made (calibration.toml's [gap_parts])."""

    equal_weight: str
    #: RSP's close on the last daily session (its level; the returns are the members').
    equal_weight_close: float
    #: RSP's volume as a share of ``volume_parent``'s, session by session and minute by minute.
    volume_parent: str
    volume_share: float
    small_quality: str
    parent: str
    #: ^SP600's close on the last daily session.
    small_quality_close: float
    #: ^SP600's return over ^RUT's a year (the quality premium) and its daily and minute noise.
    excess_a_year: float
    daily_noise: float
    minute_noise: float


def _ratio_means(frame: pl.DataFrame, key: str, base: pl.Expr) -> pl.DataFrame:
    """Return, per ``key``, the members' mean open, high, low and close over ``base``."""
    return (
        frame.group_by(key)
        .agg(
            open=(pl.col("open") / base).mean(),
            high=(pl.col("high") / base).mean(),
            low=(pl.col("low") / base).mean(),
            close=(pl.col("close") / base).mean(),
        )
        .sort(key)
    )


def _volume(frame: pl.DataFrame, symbol: str, key: str, share: float) -> pl.DataFrame:
    return frame.filter(pl.col("symbol") == symbol).select(
        key, volume=(pl.col("volume") * share).round(0)
    )


def equal_weight_daily(
    spec: GapPartsSpec, members_daily: pl.DataFrame, members: list[str], daily: pl.DataFrame
) -> pl.DataFrame:
    """Return RSP's daily bars (DAILY): the members' mean return each session, chained.

    A session's open, high and low are the members' mean open, high and low over their own
    previous close (the first session: over its close); the mean of the highs bounds the
    equal-weighted high from above, and is at least the mean open and close, so every bar is
    consistent. The level closes the last session at ``spec.equal_weight_close``.
    """
    held = (
        members_daily.filter(pl.col("symbol").is_in(members))
        .sort("symbol", "date")
        .with_columns(prev=pl.col("close").shift(1).over("symbol"))
    )
    base = pl.coalesce(pl.col("prev"), pl.col("close"))
    means = _ratio_means(held, "date", base)
    growth = floats(means.get_column("close").to_numpy())
    cumulative = np.cumprod(growth)
    level = spec.equal_weight_close * cumulative / cumulative[-1]
    previous = np.concatenate([level[:1], level[:-1]])
    bars = pl.DataFrame(
        {
            "symbol": spec.equal_weight,
            "date": means.get_column("date"),
            "open": rounded(previous * means.get_column("open").to_numpy(), 2),
            "high": rounded(previous * means.get_column("high").to_numpy(), 2),
            "low": rounded(previous * means.get_column("low").to_numpy(), 2),
            "close": rounded(level, 2),
        }
    ).join(_volume(daily, spec.volume_parent, "date", spec.volume_share), on="date", how="left")
    return bars.select(DAILY.names()).cast(dict(DAILY.items()))


def equal_weight_minutes(
    spec: GapPartsSpec,
    intraday: pl.DataFrame,
    members: list[str],
    prev_close: dict[str, float],
    equal_weight_prev: float,
) -> pl.DataFrame:
    """Return RSP's minute bars (BARS): the members' mean move since their previous close.

    ``intraday`` holds the members' one-minute bars of the session day; each minute's open,
    high, low and close are the members' means over their previous closes, times RSP's own
    previous close (``equal_weight_prev``, the last daily close).
    """
    held = intraday.filter(pl.col("symbol").is_in(members)).join(
        pl.DataFrame(
            {"symbol": members, "prev": [prev_close[symbol] for symbol in members]},
            schema={"symbol": pl.String, "prev": pl.Float64},
        ),
        on="symbol",
    )
    means = _ratio_means(held, "time", pl.col("prev"))
    bars = means.select(
        pl.lit(spec.equal_weight).alias("symbol"),
        "time",
        *(
            (pl.col(name) * equal_weight_prev).round(2).alias(name)
            for name in ("open", "high", "low", "close")
        ),
    ).join(_volume(intraday, spec.volume_parent, "time", spec.volume_share), on="time", how="left")
    return bars.select(BARS.names()).cast(dict(BARS.items()))


def _follow(
    level: FloatArray,
    parent_open: FloatArray,
    parent_high: FloatArray,
    parent_low: FloatArray,
    parent_close: FloatArray,
    previous: FloatArray,
    parent_previous: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return open, high and low that repeat the parent's gap and wicks around ``level``."""
    opens = previous * parent_open / parent_previous
    top = np.maximum(parent_open, parent_close)
    bottom = np.minimum(parent_open, parent_close)
    highs = np.maximum(opens, level) * parent_high / top
    lows = np.minimum(opens, level) * parent_low / bottom
    return opens, highs, lows


def _bars_like(
    symbol: str,
    parent: pl.DataFrame,
    level: FloatArray,
    previous: FloatArray,
    parent_previous: FloatArray,
    key: str,
) -> pl.DataFrame:
    """Return ``symbol``'s bars closing at ``level``, shaped as ``parent``'s (see _follow).

    ``key`` is the bars' time column ("date" or "time"), taken from ``parent``; prices are
    rounded to cents and the volume is 0, as an index's.
    """
    opens, highs, lows = _follow(
        level,
        floats(parent.get_column("open").to_numpy()),
        floats(parent.get_column("high").to_numpy()),
        floats(parent.get_column("low").to_numpy()),
        floats(parent.get_column("close").to_numpy()),
        previous,
        parent_previous,
    )
    return pl.DataFrame(
        {
            "symbol": symbol,
            key: parent.get_column(key),
            "open": rounded(opens, 2),
            "high": rounded(highs, 2),
            "low": rounded(lows, 2),
            "close": rounded(level, 2),
            "volume": 0.0,
        }
    )


def small_quality_daily(
    spec: GapPartsSpec, daily: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """Return ^SP600's daily bars (DAILY): ^RUT's log returns plus a drifting own part.

    The own part is normal, mean the yearly excess return spread over the sessions, standard
    deviation ``spec.daily_noise``; the level closes the last session at
    ``spec.small_quality_close``. Open, high and low repeat ^RUT's gap and wicks; an index has
    no volume.
    """
    parent = daily.filter(pl.col("symbol") == spec.parent).sort("date")
    closes = floats(parent.get_column("close").to_numpy())
    drift = np.log1p(spec.excess_a_year) / SESSIONS_A_YEAR
    own = rng.normal(drift, spec.daily_noise, closes.size - 1)
    path = np.concatenate([[0.0], np.cumsum(np.diff(np.log(closes)) + own)])
    level = spec.small_quality_close * np.exp(path - path[-1])
    previous = np.concatenate([level[:1], level[:-1]])
    parent_previous = np.concatenate([closes[:1], closes[:-1]])
    frame = _bars_like(spec.small_quality, parent, level, previous, parent_previous, "date")
    return frame.select(DAILY.names()).cast(dict(DAILY.items()))


def small_quality_minutes(
    spec: GapPartsSpec,
    intraday: pl.DataFrame,
    parent_prev: float,
    own_prev: float,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Return ^SP600's minute bars (BARS) on the session day: ^RUT's minute path plus a bridge.

    The day's own part (drawn as one session of small_quality_daily's) is reached at the last
    minute along a bridge of normal minute steps (``spec.minute_noise``); the first minute
    opens at ^RUT's gap. ``parent_prev`` and ``own_prev`` are both indices' previous closes.
    """
    parent = intraday.filter(pl.col("symbol") == spec.parent).sort("time")
    closes = floats(parent.get_column("close").to_numpy())
    drift = np.log1p(spec.excess_a_year) / SESSIONS_A_YEAR
    day = rng.normal(drift, spec.daily_noise)
    walk = np.cumsum(rng.normal(0.0, spec.minute_noise, closes.size))
    share = np.arange(1, closes.size + 1) / closes.size
    bridge = walk - share * (walk[-1] - day)
    level = own_prev * closes / parent_prev * np.exp(bridge)
    previous = np.concatenate([[own_prev], level[:-1]])
    parent_previous = np.concatenate([[parent_prev], closes[:-1]])
    frame = _bars_like(spec.small_quality, parent, level, previous, parent_previous, "time")
    return frame.select(BARS.names()).cast(dict(BARS.items()))
