"""The sample's long daily history of the two indices (DEMO): closes from 1987 to the sample year.

The cutting cycles' study (capgap.analytics.cycles) needs decades of ^GSPC and ^RUT closes;
the sample year starts in December 2024. This draws a synthetic history, one close per NYSE
session from LONG_HISTORY_START to the sample's first daily session, that ends exactly at
that session's close, so that it splices onto the sample year without a jump. Nothing in it
is real: daily log returns are a common Student-t factor (the Russell 2000 with a beta above
one to it and a noise of its own), with drifts that put the median 1987 level near the real
one. It comes from a random stream of its own: the other files do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from capgap.core.schemas import DAILY
from capgap.feeds.index_history import LONG_HISTORY_SYMBOLS
from capgap.market.calendar import sessions_between

#: The first ^RUT date on Yahoo; the synthetic history starts there.
LONG_HISTORY_START = date(1987, 9, 10)
#: Degrees of freedom of the shocks: fat tails, as daily index returns have.
_TAIL_DF = 4.0


@dataclass(frozen=True, slots=True)
class IndexModel:
    """One index's daily log returns: beta to the common factor plus a noise of its own."""

    symbol: str
    #: The level the drift aims at on LONG_HISTORY_START (the real one, roughly).
    start_level: float
    beta: float
    own_vol: float


#: The common factor's daily volatility (about 18 % a year).
FACTOR_VOL = 0.0113
MODELS = (
    IndexModel("^GSPC", start_level=320.0, beta=1.0, own_vol=0.0),
    IndexModel("^RUT", start_level=170.0, beta=1.1, own_vol=0.0075),
)


def _shocks(rng: np.random.Generator, count: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Return ``count`` Student-t draws scaled to unit variance."""
    scale = float(np.sqrt((_TAIL_DF - 2.0) / _TAIL_DF))
    draws: np.ndarray[Any, np.dtype[np.float64]] = rng.standard_t(_TAIL_DF, count) * scale
    return draws


def long_history(daily: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Return the long history (DAILY, closes only) ending at ``daily``'s first close of each.

    ``daily`` is the sample's daily frame; the last row of each symbol here is its first
    session, with the very same close. Open, high and low are null (closes only), volume 0
    (as the sample's indices). Closes are rounded to 2 decimals.
    """
    assert tuple(model.symbol for model in MODELS) == LONG_HISTORY_SYMBOLS
    first = daily.get_column("date").min()
    assert isinstance(first, date)
    days = [day.day for day in sessions_between(LONG_HISTORY_START, first)]
    steps = len(days) - 1
    factor = _shocks(rng, steps) * FACTOR_VOL
    frames = []
    for model in MODELS:
        own = _shocks(rng, steps) * model.own_vol
        end = daily.filter((pl.col("symbol") == model.symbol) & (pl.col("date") == first))
        end_close = float(end.get_column("close").item())
        drift = np.log(end_close / model.start_level) / steps
        returns = drift + model.beta * factor + own
        # Backwards from the anchor: the level of day t is the anchor less the returns after t.
        after = np.concatenate([np.cumsum(returns[::-1])[::-1], [0.0]])
        closes = np.round(end_close * np.exp(-after), 2)
        closes[-1] = end_close  # exactly the sample year's first close, whatever the rounding
        frames.append(
            pl.DataFrame(
                {
                    "symbol": model.symbol,
                    "date": days,
                    "open": None,
                    "high": None,
                    "low": None,
                    "close": closes,
                    "volume": 0.0,
                },
                schema=DAILY,
            )
        )
    return pl.concat(frames).sort("symbol", "date")
