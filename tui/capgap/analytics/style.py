"""Value against growth for large caps (IWD - IWF) and small caps (IWN - IWO)."""

from __future__ import annotations

from collections.abc import Mapping

from capgap.analytics.quotes import QuoteRow, change_of
from capgap.core.snapshot import StyleLeg, StyleSnapshot
from capgap.market.universe import Benchmarks


def style_leg(value_symbol: str, growth_symbol: str, rows: Mapping[str, QuoteRow]) -> StyleLeg:
    """Return value minus growth (percentage points of today's change) for one cap size."""
    value = change_of(rows, value_symbol)
    growth = change_of(rows, growth_symbol)
    return StyleLeg(
        value_symbol=value_symbol,
        growth_symbol=growth_symbol,
        value_change_pct=value,
        growth_change_pct=growth,
        value_minus_growth_pp=value - growth if value is not None and growth is not None else None,
    )


def style_snapshot(benchmarks: Benchmarks, rows: Mapping[str, QuoteRow]) -> StyleSnapshot:
    """Return the style panel: large (value - growth) and small (value - growth)."""
    return StyleSnapshot(
        large=style_leg(benchmarks.large_value, benchmarks.large_growth, rows),
        small=style_leg(benchmarks.small_value, benchmarks.small_growth, rows),
    )
