"""The small-minus-large gap in three parts: concentration, size and profitability.

``RUT - SPX = (RSP - SPX) + (SP600 - RSP) + (RUT - SP600)``, each a window's change in percent,
measured from the same bases as the spread panel (capgap.analytics.spread.base_closes, which
takes them from capgap.market.windows): the parts add up to the spread's headline figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from capgap.analytics.quotes import QuoteRow
from capgap.analytics.spread import base_closes, window_changes
from capgap.analytics.store import MarketStore
from capgap.core.snapshot import (
    DECOMPOSITION_WINDOW_IDS,
    Decomposition,
    GapParts,
    RelativePerformance,
)
from capgap.market.universe import Benchmarks

#: The four legs in the order of the identity: large, equal-weight large, screened small, small.
Legs = tuple[str, str, str, str]
#: The four legs' changes over one window in percent, in the order of Legs (None: unknown).
Changes = tuple[float | None, float | None, float | None, float | None]


def legs(benchmarks: Benchmarks) -> Legs:
    """Return the symbols of the identity's four legs (SPX, RSP, SP600, RUT by default)."""
    return (
        benchmarks.large_index,
        benchmarks.equal_weight,
        benchmarks.small_quality,
        benchmarks.small_index,
    )


def window_bases(
    daily: pl.DataFrame, symbols: Legs, today: date
) -> dict[str, dict[str, float | None]]:
    """Return each symbol's base close for every panel window (the spread's own bases)."""
    before = daily.filter(pl.col("symbol").is_in(symbols))
    return {
        symbol: base_closes(
            before.filter(pl.col("symbol") == symbol).select("date", "close"), today
        )
        for symbol in symbols
    }


def _diff(minuend: float | None, subtrahend: float | None) -> float | None:
    return None if minuend is None or subtrahend is None else minuend - subtrahend


def gap_parts(changes: Changes, total: float | None) -> GapParts:
    """Return the three parts from the four legs' changes (in %); ``total`` is the headline.

    ``changes`` are in the order of ``legs``. A part is None when either of its legs has no
    change; the total is the spread panel's own figure and does not depend on the middle legs.
    """
    large, equal, quality, small = changes
    return GapParts(
        concentration_pp=_diff(equal, large),
        size_pp=_diff(quality, equal),
        quality_pp=_diff(small, quality),
        total_pp=total,
    )


def decomposition(
    store: MarketStore,
    benchmarks: Benchmarks,
    rows: Mapping[str, QuoteRow],
    relative: RelativePerformance,
    today: date,
) -> Decomposition:
    """Return the gap in three parts over 1D..1Y from the quotes and the daily bases.

    The bases are read once per daily version (memoised on the store); per tick only the
    four quotes already looked up for the spread are used. ``relative`` is the spread panel's
    small-minus-large figure per window: each window's total.
    """
    symbols = legs(benchmarks)
    bases = store.memo(
        "decomposition.bases",
        (store.daily_version, symbols, today),
        lambda: window_bases(store.daily, symbols, today),
    )
    per_symbol: dict[str, dict[str, float | None]] = {}
    for symbol in symbols:
        row = rows.get(symbol)
        last = row.last if row is not None else None
        changes = window_changes(last, bases[symbol])
        changes["1d"] = row.change_pct if row is not None else None
        per_symbol[symbol] = changes
    totals = dict(relative.items())
    large, equal, quality, small = (per_symbol[symbol] for symbol in symbols)
    windows = tuple(
        (
            window,
            gap_parts(
                (large[window], equal[window], quality[window], small[window]), totals[window]
            ),
        )
        for window in DECOMPOSITION_WINDOW_IDS
    )
    return Decomposition(
        windows=windows,
        equal_weight=benchmarks.equal_weight,
        small_quality=benchmarks.small_quality,
    )
