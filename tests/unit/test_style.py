"""Style legs (value minus growth) against hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from builders import quotes_frame, store_with_quotes
from capgap.analytics.quotes import quote_rows
from capgap.analytics.store import MarketStore
from capgap.analytics.style import style_snapshot
from capgap.market.universe import Benchmarks
from hypothesis import given
from hypothesis import strategies as st

BENCH = Benchmarks(
    "^GSPC", "^RUT", "SPY", "IWM", "IWD", "IWF", "IWN", "IWO", "^VIX", "^TNX", "ES=F", "RTY=F"
)
T0 = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)
STYLE = ["IWD", "IWF", "IWN", "IWO"]


def store_with(prices: dict[str, tuple[float, float]]) -> MarketStore:
    return store_with_quotes(
        quotes_frame((s, T0, last, prev) for s, (last, prev) in prices.items())
    )


def test_value_minus_growth_by_hand() -> None:
    # IWD 202/200 -> +1 %, IWF 99/100 -> -1 %: large value beats growth by 2 pp.
    # IWN 50/50 -> 0 %, IWO 105/100 -> +5 %: small value lags growth by 5 pp.
    store = store_with(
        {"IWD": (202.0, 200.0), "IWF": (99.0, 100.0), "IWN": (50.0, 50.0), "IWO": (105.0, 100.0)}
    )
    style = style_snapshot(BENCH, quote_rows(store.quotes, STYLE))
    assert (style.large.value_symbol, style.large.growth_symbol) == ("IWD", "IWF")
    assert (style.small.value_symbol, style.small.growth_symbol) == ("IWN", "IWO")
    assert style.large.value_change_pct == pytest.approx(1.0)
    assert style.large.growth_change_pct == pytest.approx(-1.0)
    assert style.large.value_minus_growth_pp == pytest.approx(2.0)
    assert style.small.value_minus_growth_pp == pytest.approx(-5.0)


def test_a_missing_leg_gives_none() -> None:
    store = store_with({"IWD": (202.0, 200.0), "IWN": (50.0, 50.0), "IWO": (105.0, 100.0)})
    style = style_snapshot(BENCH, quote_rows(store.quotes, STYLE))
    assert style.large.value_change_pct == pytest.approx(1.0)
    assert style.large.growth_change_pct is None
    assert style.large.value_minus_growth_pp is None
    assert style.small.value_minus_growth_pp == pytest.approx(-5.0)
    empty = style_snapshot(BENCH, {})
    assert empty.large.value_minus_growth_pp is None and empty.small.value_minus_growth_pp is None


_PRICE = st.floats(min_value=0.01, max_value=1e5)


@given(st.tuples(_PRICE, _PRICE, _PRICE, _PRICE, _PRICE, _PRICE, _PRICE, _PRICE))
def test_spread_is_value_change_minus_growth_change(p: tuple[float, ...]) -> None:
    prices = {symbol: (p[2 * i], p[2 * i + 1]) for i, symbol in enumerate(STYLE)}
    style = style_snapshot(BENCH, quote_rows(store_with(prices).quotes, STYLE))
    change = {s: (last / prev - 1.0) * 100.0 for s, (last, prev) in prices.items()}
    assert style.large.value_minus_growth_pp == change["IWD"] - change["IWF"]
    assert style.small.value_minus_growth_pp == change["IWN"] - change["IWO"]
