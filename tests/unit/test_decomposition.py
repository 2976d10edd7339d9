"""The gap in three parts: hand-computed parts, the identity against the spread's own headline."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import capgap
import pytest
from builders import daily_frame, quotes_frame, sparse_snapshot
from capgap.analytics.decomposition import decomposition, legs
from capgap.analytics.quotes import quote_rows
from capgap.analytics.serialize import snapshot_to_dict
from capgap.analytics.spread import spread_snapshot
from capgap.analytics.store import MarketStore
from capgap.core.records import replace
from capgap.core.snapshot import DECOMPOSITION_WINDOW_IDS, GapParts, Valuation
from capgap.market.universe import core_universe
from test_spread import BENCH  # the benchmarks the spread's tests build on

TODAY = date(2025, 12, 5)
QUOTE_TIME = datetime(2025, 12, 5, 20, 0, tzinfo=UTC)
NO_VALUATION = Valuation(None, None, None, None)
# Base dates of each window for Friday 2025-12-05 (see capgap.market.windows): 5D = 5th
# session back (Nov 28), 1M = Nov 5, 3M = Sep 5, YTD = Dec 31, 1Y = Dec 5, 2024 (a Thursday).
BASE_DAYS = {
    "1y": date(2024, 12, 5),
    "ytd": date(2024, 12, 31),
    "3m": date(2025, 9, 5),
    "1m": date(2025, 11, 5),
    "5d": date(2025, 11, 28),
}
# Closes on each base day per symbol, and the last close (Dec 4, the previous close) and now.
BASES = {
    "^GSPC": {"1y": 100.0, "ytd": 110.0, "3m": 120.0, "1m": 125.0, "5d": 128.0},
    "RSP": {"1y": 50.0, "ytd": 52.0, "3m": 54.0, "1m": 53.0, "5d": 55.0},
    "^SP600": {"1y": 1000.0, "ytd": 1100.0, "3m": 1150.0, "1m": 1200.0, "5d": 1250.0},
    "^RUT": {"1y": 2000.0, "ytd": 2100.0, "3m": 2400.0, "1m": 2300.0, "5d": 2500.0},
}
PREV = {"^GSPC": 129.0, "RSP": 55.0, "^SP600": 1240.0, "^RUT": 2480.0}
LAST = {"^GSPC": 130.0, "RSP": 55.55, "^SP600": 1264.8, "^RUT": 2504.8}


def store_with(
    symbols: tuple[str, ...] = tuple(BASES), omit: tuple[str, str] | None = None
) -> MarketStore:
    """A store with each symbol's base closes, its previous close and its quote.

    ``omit`` (symbol, window) leaves that symbol's base close of that window out.
    """
    rows = [
        (symbol, BASE_DAYS[window], close)
        for symbol in symbols
        for window, close in BASES[symbol].items()
        if (symbol, window) != omit
    ]
    rows += [(symbol, date(2025, 12, 4), PREV[symbol]) for symbol in symbols]
    store = MarketStore()
    store.apply_daily(daily_frame(rows))
    store.apply_quotes(
        quotes_frame((symbol, QUOTE_TIME, LAST[symbol], PREV[symbol]) for symbol in symbols)
    )
    return store


def build(store: MarketStore) -> tuple[dict[str, GapParts], dict[str, float | None]]:
    """The decomposition and the spread panel's relative figures, from the same store."""
    rows = quote_rows(store.quotes, list(legs(BENCH)))
    spread = spread_snapshot(store, BENCH, rows, {}, NO_VALUATION, TODAY)
    result = decomposition(store, BENCH, rows, spread.relative_pp, TODAY)
    return dict(result.windows), dict(spread.relative_pp.items())


def pct(last: float, base: float) -> float:
    return (last / base - 1.0) * 100.0


def test_default_benchmarks_name_the_two_middle_legs() -> None:
    assert legs(BENCH) == ("^GSPC", "RSP", "^SP600", "^RUT")
    shipped = core_universe()
    assert legs(shipped.benchmarks) == ("^GSPC", "RSP", "^SP600", "^RUT")
    assert {"RSP", "^SP600"} <= set(shipped.core_symbols())


def test_parts_by_hand() -> None:
    parts, _ = build(store_with())
    # 1Y: SPX 100 -> 130 = +30 %, RSP 50 -> 55.55 = +11.1 %, SP600 1000 -> 1264.8 = +26.48 %,
    # RUT 2000 -> 2504.8 = +25.24 %.
    year = parts["1y"]
    assert year.concentration_pp == pytest.approx(11.1 - 30.0)
    assert year.size_pp == pytest.approx(26.48 - 11.1)
    assert year.quality_pp == pytest.approx(25.24 - 26.48)
    assert year.total_pp == pytest.approx(25.24 - 30.0)
    # 1D from the quotes: SPX 129 -> 130, RSP 55 -> 55.55 = +1 %, SP600 +2 %, RUT +1 %.
    day = parts["1d"]
    assert day.concentration_pp == pytest.approx(1.0 - 100.0 / 129.0)
    assert day.size_pp == pytest.approx(1.0)
    assert day.quality_pp == pytest.approx(-1.0)
    # 3M: RUT 2400 -> 2504.8, SP600 1150 -> 1264.8, RSP 54 -> 55.55, SPX 120 -> 130.
    quarter = parts["3m"]
    assert quarter.concentration_pp == pytest.approx(pct(55.55, 54.0) - pct(130.0, 120.0))
    assert quarter.size_pp == pytest.approx(pct(1264.8, 1150.0) - pct(55.55, 54.0))
    assert quarter.quality_pp == pytest.approx(pct(2504.8, 2400.0) - pct(1264.8, 1150.0))


def test_parts_add_up_to_the_spread_panels_headline() -> None:
    parts, relative = build(store_with())
    assert tuple(parts) == DECOMPOSITION_WINDOW_IDS
    for window in DECOMPOSITION_WINDOW_IDS:
        split = parts[window]
        assert split.concentration_pp is not None
        assert split.size_pp is not None
        assert split.quality_pp is not None
        headline = relative[window]
        assert headline is not None
        assert split.total_pp == headline
        total = split.concentration_pp + split.size_pp + split.quality_pp
        assert total == pytest.approx(headline, abs=1e-9)


def test_missing_equal_weight_leaves_its_parts_blank_and_the_total() -> None:
    parts, relative = build(store_with(("^GSPC", "^SP600", "^RUT")))
    for window in DECOMPOSITION_WINDOW_IDS:
        split = parts[window]
        assert split.concentration_pp is None
        assert split.size_pp is None
        # Profitability needs only the two small indices.
        assert split.quality_pp is not None
        assert split.total_pp == relative[window] is not None


def test_a_missing_base_blanks_that_window_only() -> None:
    # The S&P 600's history starts after the 1Y base: no 1Y size or profitability, not zero.
    parts, relative = build(store_with(omit=("^SP600", "1y")))
    assert parts["1y"].size_pp is None
    assert parts["1y"].quality_pp is None
    assert parts["1y"].concentration_pp is not None
    assert parts["1y"].total_pp == relative["1y"] is not None
    assert parts["ytd"].size_pp is not None


def test_json_names_every_window_and_part() -> None:
    store = store_with()
    rows = quote_rows(store.quotes, list(legs(BENCH)))
    spread = spread_snapshot(store, BENCH, rows, {}, NO_VALUATION, TODAY)
    result = decomposition(store, BENCH, rows, spread.relative_pp, TODAY)
    data = snapshot_to_dict(replace(sparse_snapshot(QUOTE_TIME), decomposition=result))[
        "decomposition"
    ]
    assert list(data) == ["1d", "5d", "1m", "3m", "ytd", "1y"]
    year = dict(result.windows)["1y"]
    assert data["1y"] == {
        "concentration_pp": round(11.1 - 30.0, 4),
        "size_pp": round(26.48 - 11.1, 4),
        "quality_pp": round(25.24 - 26.48, 4),
        "total_pp": round(25.24 - 30.0, 4),
    }
    assert year.total_pp is not None
    # A snapshot made without the parts still names every window, each part null.
    blank = snapshot_to_dict(sparse_snapshot(QUOTE_TIME))["decomposition"]
    assert blank["3m"] == dict.fromkeys(("concentration_pp", "size_pp", "quality_pp", "total_pp"))


def test_a_sectors_file_without_the_two_middle_legs_still_loads(tmp_path) -> None:
    # A sectors file written before RSP and ^SP600 joined: its benchmarks lack both keys.
    shipped = (Path(capgap.__file__).parent / "data" / "sectors.toml").read_text()
    old = "\n".join(
        line
        for line in shipped.splitlines()
        if not line.startswith(("equal_weight", "small_quality"))
    )
    assert old != shipped
    path = tmp_path / "sectors.toml"
    path.write_text(old)
    universe = core_universe(path)
    assert legs(universe.benchmarks) == ("^GSPC", "RSP", "^SP600", "^RUT")
