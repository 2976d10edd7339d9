"""Drilldown figures against hand-computed values, numpy and an independent window walk."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from builders import change_quotes, members_frame, quotes_frame, store_with_quotes
from capgap.analytics.drilldown import index_for, sector_detail, symbol_detail
from capgap.analytics.quotes import quote_rows
from capgap.analytics.sectors import etf_symbols, sector_rows
from capgap.analytics.store import MarketStore
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import BARS, DAILY
from capgap.core.snapshot import ConstituentRow, SectorRow
from capgap.engine.sources import demo_engine
from capgap.market.calendar import sessions_between
from capgap.market.universe import Benchmarks, SectorDef, Universe
from dateutil.relativedelta import relativedelta

BENCH = Benchmarks(
    "^GSPC", "^RUT", "SPY", "IWM", "IWD", "IWF", "IWN", "IWO", "^VIX", "^TNX", "ES=F", "RTY=F"
)
TODAY = date(2025, 12, 5)
#: The 1Y window's start on TODAY: the same day a year earlier (a Thursday, a session).
YEAR_BASE = date(2024, 12, 5)
NOW = datetime(2025, 12, 5, 20, 0, tzinfo=UTC)  # 15:00 in New York
SECTORS = (
    SectorDef("Industrials", "cyclical", "XLI", "PSCI"),
    SectorDef("Utilities", "defensive", "XLU", None),
)
MEMBERS = [
    ("AAA", "Aaa Corp", "Industrials", "large"),
    ("BBB", "Bbb Corp", "Industrials", "large"),
    ("CCC", "Ccc Corp", "Industrials", "large"),
    ("DDD", "Ddd Corp", "Industrials", "small"),
    ("EEE", "Eee Corp", "Industrials", "small"),
    ("FFF", "Fff Corp", "Industrials", "small"),  # never quoted
    ("UUU", "Uuu Power", "Utilities", "large"),
    ("VVV", "Vvv Water", "Utilities", "small"),
    ("WWW", "Www Gas", "Utilities", "small"),
]
# Percent changes: every quote has prev_close 100 and last 100 + change.
CHANGES = {
    "AAA": 2.0,
    "BBB": -1.0,
    "CCC": 0.5,
    "DDD": 3.0,
    "EEE": 1.0,
    "UUU": 1.0,
    "VVV": -2.0,
    "WWW": 4.0,
    "XLI": 1.0,
    "PSCI": 1.5,
    "XLU": 0.4,
    "ZZZ": -0.5,
}


def make_universe(**extra: object) -> Universe:
    return Universe(
        benchmarks=BENCH,
        sectors=SECTORS,
        names={"XLI": "Industrial Select Sector SPDR", "^GSPC": "S&P 500"},
        constituents=members_frame(MEMBERS),
        **extra,  # type: ignore[arg-type]
    )


def quotes(prices: dict[str, tuple[float, float]]) -> pl.DataFrame:
    return quotes_frame((symbol, NOW, last, prev) for symbol, (last, prev) in prices.items())


def quoted_store() -> MarketStore:
    return store_with_quotes(change_quotes(CHANGES, NOW))


def rows_of(store: MarketStore, universe: Universe) -> tuple[SectorRow, ...]:
    return sector_rows(store, universe, quote_rows(store.quotes, etf_symbols(universe)))


def by_symbol(rows: tuple[ConstituentRow, ...]) -> dict[str, ConstituentRow]:
    return {row.symbol: row for row in rows}


# ---------------------------------------------------------------------------- sector detail


def test_sector_detail_weights_contributions_and_vs_etf_by_hand() -> None:
    store, universe = quoted_store(), make_universe()
    detail = sector_detail(store, universe, "Industrials", rows_of(store, universe))
    assert detail is not None and detail.kind == "sector" and detail.name == "Industrials"
    assert detail.row is not None and detail.row.sector == "Industrials"
    # Large first, then small, each by change descending; the unquoted FFF last.
    assert [row.symbol for row in detail.constituents] == [
        "AAA", "CCC", "BBB", "DDD", "EEE", "FFF",
    ]  # fmt: skip
    rows = by_symbol(detail.constituents)
    third = 100.0 / 3
    # One share each at a previous close of 100: equal weights within a leg's quoted members.
    # The large leg moved (2 - 1 + 0.5) / 3 = 0.5; the small leg's quoted DDD and EEE cover
    # two thirds of its weight (FFF has no quote), below the bar: no leg figure to compare with.
    # symbol: (weight, contribution = change * weight / 100, change minus the leg's)
    expected = {
        "AAA": (third, 2.0 / 3, 2.0 - 0.5),
        "BBB": (third, -1.0 / 3, -1.0 - 0.5),
        "CCC": (third, 0.5 / 3, 0.5 - 0.5),
        "DDD": (50.0, 1.5, None),
        "EEE": (50.0, 0.5, None),
    }
    for symbol, (weight, contribution, vs_etf) in expected.items():
        row = rows[symbol]
        assert row.change_pct == pytest.approx(CHANGES[symbol])
        assert row.last == pytest.approx(100.0 + CHANGES[symbol])
        assert row.weight_pct == pytest.approx(weight)
        assert row.contribution_pp == pytest.approx(contribution)
        assert row.vs_etf_pp == (None if vs_etf is None else pytest.approx(vs_etf))
    assert rows["AAA"].name == "Aaa Corp" and rows["AAA"].bucket == "large"
    assert rows["DDD"].bucket == "small"
    # Missing quote: None, never zeros.
    fff = rows["FFF"]
    assert fff.bucket == "small" and fff.name == "Fff Corp"
    assert (fff.last, fff.change_pct, fff.weight_pct, fff.contribution_pp, fff.vs_etf_pp) == (
        None, None, None, None, None,
    )  # fmt: skip


def test_members_are_measured_against_their_legs_weighted_move() -> None:
    store, universe = quoted_store(), make_universe()
    detail = sector_detail(store, universe, "Utilities", rows_of(store, universe))
    assert detail is not None and detail.row is not None
    assert detail.row.small.etf_symbol is None
    mean = (-2.0 + 4.0) / 2
    assert detail.row.small.change_pct == pytest.approx(mean)
    rows = by_symbol(detail.constituents)
    assert rows["VVV"].vs_etf_pp == pytest.approx(-2.0 - mean)
    assert rows["WWW"].vs_etf_pp == pytest.approx(4.0 - mean)
    assert rows["UUU"].vs_etf_pp == pytest.approx(0.0)  # the leg is UUU alone, not XLU
    assert rows["UUU"].weight_pct == pytest.approx(100.0)
    # The small contributions add up to the leg's move.
    small = [row.contribution_pp for row in detail.constituents if row.bucket == "small"]
    assert sum(value for value in small if value is not None) == pytest.approx(mean)
    assert [row.symbol for row in detail.constituents] == ["UUU", "WWW", "VVV"]


def test_sector_detail_computes_the_rows_when_not_given() -> None:
    store, universe = quoted_store(), make_universe()
    given = sector_detail(store, universe, "Industrials", rows_of(store, universe))
    computed = sector_detail(store, universe, "Industrials")
    assert given == computed


def test_watchlist_keeps_the_configured_order_without_weights() -> None:
    store = quoted_store()
    universe = make_universe(watchlists={"Mine": ("EEE", "ZZZ", "AAA", "XLI", "QQQ")})
    detail = sector_detail(store, universe, "Mine", rows_of(store, universe))
    assert detail is not None and detail.kind == "watchlist" and detail.row is None
    assert [row.symbol for row in detail.constituents] == ["EEE", "ZZZ", "AAA", "XLI", "QQQ"]
    rows = by_symbol(detail.constituents)
    assert all(row.weight_pct is None and row.contribution_pp is None for row in rows.values())
    assert rows["EEE"].bucket == "small" and rows["AAA"].bucket == "large"
    assert rows["ZZZ"].bucket is None and rows["XLI"].bucket is None
    # Known members are compared with their sector's leg for their bucket (Industrials'
    # small leg is below its coverage bar: nothing to compare EEE with).
    assert rows["EEE"].vs_etf_pp is None
    assert rows["AAA"].vs_etf_pp == pytest.approx(2.0 - 0.5)
    assert rows["ZZZ"].vs_etf_pp is None and rows["ZZZ"].change_pct == pytest.approx(-0.5)
    assert rows["XLI"].name == "Industrial Select Sector SPDR"
    assert rows["QQQ"].last is None and rows["QQQ"].change_pct is None  # never quoted


def test_unknown_name_gives_none() -> None:
    store, universe = quoted_store(), make_universe(watchlists={"Mine": ("AAA",)})
    assert sector_detail(store, universe, "Nope", rows_of(store, universe)) is None
    assert sector_detail(store, universe, "industrials", rows_of(store, universe)) is None


# ---------------------------------------------------------------------------- symbol detail

DAYS = [session.day for session in sessions_between(date(2024, 9, 3), date(2025, 12, 4))]


def history(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.012, len(DAYS))))


def history_store(series: dict[str, np.ndarray]) -> MarketStore:
    store = MarketStore()
    rows = [
        (symbol, day, close, close * 1.01, close * 0.98, close, 0.0)
        for symbol, closes in series.items()
        for day, close in zip(DAYS, closes.tolist(), strict=True)
    ]
    store.apply_daily(pl.DataFrame(rows, schema=DAILY, orient="row"))
    return store


def last_on_or_before(days: list[date], closes: list[float], target: date) -> float:
    # An independent walk: the newest session not after the target.
    eligible = [close for day, close in zip(days, closes, strict=True) if day <= target]
    return eligible[-1]


def test_symbol_detail_changes_beta_corr_and_range_against_numpy() -> None:
    gspc = history(1)
    aaa = gspc * np.exp(np.random.default_rng(2).normal(0.0, 0.01, len(DAYS)))
    store = history_store({"^GSPC": gspc, "AAA": aaa, "^RUT": history(3)})
    last, prev = float(aaa[-1]) * 1.02, float(aaa[-1])
    store.apply_quotes(quotes({"AAA": (last, prev)}))
    detail = symbol_detail(store, make_universe(), "AAA", TODAY)

    assert (detail.symbol, detail.name, detail.sector, detail.bucket, detail.index) == (
        "AAA", "Aaa Corp", "Industrials", "large", "^GSPC",
    )  # fmt: skip
    assert detail.last == last and detail.prev_close == prev
    assert detail.change_pct == pytest.approx(2.0)

    closes = aaa.tolist()
    bases = {
        "5d": closes[-5],
        "1m": last_on_or_before(DAYS, closes, TODAY - relativedelta(months=1)),
        "3m": last_on_or_before(DAYS, closes, TODAY - relativedelta(months=3)),
        "ytd": last_on_or_before(DAYS, closes, date(2024, 12, 31)),
        "1y": last_on_or_before(DAYS, closes, TODAY - relativedelta(years=1)),
    }
    changes = dict(detail.changes.items())
    assert changes["1d"] == pytest.approx(2.0)
    for window, base in bases.items():
        assert changes[window] == pytest.approx((last / base - 1.0) * 100.0), window

    asset_returns = np.diff(aaa[-61:]) / aaa[-61:-1]
    index_returns = np.diff(gspc[-61:]) / gspc[-61:-1]
    slope = np.polyfit(index_returns, asset_returns, 1)[0]
    assert detail.beta_60d == pytest.approx(slope, rel=1e-9)
    assert detail.corr_60d == pytest.approx(np.corrcoef(index_returns, asset_returns)[0, 1])

    # The year of the range and of the chart is the 1Y window's: from its base on.
    year = aaa[DAYS.index(YEAR_BASE) :]
    assert detail.low_52w == pytest.approx(float(np.min(year * 0.98)))
    # Today's last (2 % above the latest close) is above every earlier high or it is not.
    assert detail.high_52w == pytest.approx(max(float(np.max(year * 1.01)), last))

    assert len(detail.daily) == len(year) + 1
    assert detail.daily[-1].day == TODAY and detail.daily[-1].close == last
    assert [point.close for point in detail.daily[:-1]] == pytest.approx(year.tolist())
    assert detail.daily[0].day == YEAR_BASE


def test_fifty_two_week_range_takes_in_a_new_low_today() -> None:
    aaa = np.linspace(100.0, 150.0, len(DAYS))
    store = history_store({"AAA": aaa, "^GSPC": history(1)})
    store.apply_quotes(quotes({"AAA": (50.0, 150.0)}))
    detail = symbol_detail(store, make_universe(), "AAA", TODAY)
    assert detail.low_52w == 50.0
    assert detail.high_52w == pytest.approx(150.0 * 1.01)


def bars_today(symbol: str, lows_highs: list[tuple[float, float]]) -> pl.DataFrame:
    start = datetime(2025, 12, 5, 14, 30, tzinfo=UTC)
    return pl.DataFrame(
        [
            (symbol, start + timedelta(minutes=i), low, high, low, (low + high) / 2, 0.0)
            for i, (low, high) in enumerate(lows_highs)
        ],
        schema=BARS,
        orient="row",
    )


def test_fifty_two_week_range_spans_the_1y_window_and_todays_bars() -> None:
    closes = np.linspace(100.0, 150.0, len(DAYS))
    # A deep low the session before the 1Y base (outside the year), a peak on the base.
    closes[DAYS.index(date(2024, 12, 4))] = 10.0
    closes[DAYS.index(YEAR_BASE)] = 400.0
    store = history_store({"AAA": closes, "^GSPC": history(1)})
    store.apply_quotes(quotes({"AAA": (149.0, 150.0)}))
    year = [c for day, c in zip(DAYS, closes.tolist(), strict=True) if day >= YEAR_BASE]
    detail = symbol_detail(store, make_universe(), "AAA", TODAY)
    # history_store's lows are 0.98 x the close and its highs 1.01 x.
    assert detail.low_52w == pytest.approx(min(year) * 0.98)
    assert detail.high_52w == pytest.approx(400.0 * 1.01)
    # Today's minute bars reach beyond both ends: the range takes them in.
    store.apply_intraday(bars_today("AAA", [(120.0, 130.0), (90.0, 500.0), (140.0, 149.0)]))
    detail = symbol_detail(store, make_universe(), "AAA", TODAY)
    assert (detail.low_52w, detail.high_52w) == (90.0, 500.0)
    # The daily chart holds the same year: from the 1Y base on, then today's last.
    assert detail.daily[0].day == YEAR_BASE and detail.daily[-1].close == 149.0


def test_without_daily_history_the_range_is_unknown_not_one_price() -> None:
    store = MarketStore()
    store.apply_quotes(quotes({"AAA": (101.0, 100.0)}))
    store.apply_intraday(bars_today("AAA", [(99.0, 102.0)]))
    detail = symbol_detail(store, make_universe(), "AAA", TODAY)
    assert detail.last == 101.0
    assert detail.low_52w is None and detail.high_52w is None


def test_sample_indexs_range_takes_in_todays_high_at_the_close() -> None:
    import asyncio

    from capgap.core.resources import sample_data_dir

    close = datetime(2025, 12, 5, 16, 0, tzinfo=NEW_YORK)
    engine = demo_engine(ManualClock(close))
    engine.focus(symbol="^RUT")
    detail = asyncio.run(engine.refresh()).symbol_detail
    assert detail is not None and detail.symbol == "^RUT"
    folder = sample_data_dir()
    daily = pl.read_parquet(folder / "daily.parquet").filter(
        (pl.col("symbol") == "^RUT") & (pl.col("date") >= YEAR_BASE)
    )
    bars = pl.read_parquet(folder / "intraday.parquet").filter(pl.col("symbol") == "^RUT")
    high = max(float(daily["high"].max()), float(bars["high"].max()))  # type: ignore[arg-type]
    low = min(float(daily["low"].min()), float(bars["low"].min()))  # type: ignore[arg-type]
    assert float(bars["high"].max()) > float(daily["high"].max())  # type: ignore[arg-type]
    assert (detail.low_52w, detail.high_52w) == (pytest.approx(low), pytest.approx(high))


def test_small_caps_and_small_etfs_are_measured_against_the_small_index() -> None:
    rut, ddd = history(5), history(6)
    store = history_store({"^RUT": rut, "DDD": ddd, "^GSPC": history(7)})
    detail = symbol_detail(store, make_universe(), "DDD", TODAY)
    assert detail.index == "^RUT" and detail.bucket == "small"
    returns_d = np.diff(ddd[-61:]) / ddd[-61:-1]
    returns_r = np.diff(rut[-61:]) / rut[-61:-1]
    assert detail.beta_60d == pytest.approx(np.polyfit(returns_r, returns_d, 1)[0], rel=1e-9)
    # No quote: no last, so no windowed changes, but history still gives beta and range.
    assert detail.last is None and detail.changes.m1 is None
    assert detail.daily[-1].day == DAYS[-1]


@pytest.mark.parametrize(
    "symbol, index",
    [
        ("IWM", "^RUT"),
        ("IWN", "^RUT"),
        ("IWO", "^RUT"),
        ("PSCI", "^RUT"),
        ("^RUT", "^RUT"),
        ("SPY", "^GSPC"),
        ("XLI", "^GSPC"),
        ("XLU", "^GSPC"),
        ("IWD", "^GSPC"),
        ("AAA", "^GSPC"),
        ("EEE", "^RUT"),
        ("NOTHERE", "^GSPC"),
    ],
)
def test_index_choice(symbol: str, index: str) -> None:
    universe = make_universe()
    detail = symbol_detail(MarketStore(), universe, symbol, TODAY)
    assert detail.index == index == index_for(universe, symbol, detail.bucket)


def test_etfs_have_no_sector_or_bucket() -> None:
    detail = symbol_detail(quoted_store(), make_universe(), "XLI", TODAY)
    assert detail.sector is None and detail.bucket is None
    assert detail.name == "Industrial Select Sector SPDR"
    assert detail.change_pct == pytest.approx(1.0)


def test_symbol_without_history_has_none_figures_and_empty_series() -> None:
    detail = symbol_detail(MarketStore(), make_universe(), "AAA", TODAY)
    assert detail.last is None and detail.prev_close is None and detail.change_pct is None
    assert all(value is None for _, value in detail.changes.items())
    assert detail.beta_60d is None and detail.corr_60d is None
    assert detail.low_52w is None and detail.high_52w is None
    assert detail.intraday == () and detail.daily == ()


def test_intraday_is_the_symbols_bars_of_today() -> None:
    store = quoted_store()
    start = datetime(2025, 12, 5, 14, 30, tzinfo=UTC)
    bars = [
        (symbol, start + timedelta(minutes=i), 1.0, 1.0, 1.0, close + i, 0.0)
        for i in range(5)
        for symbol, close in (("AAA", 101.0), ("^GSPC", 6800.0))
    ]
    store.apply_intraday(pl.DataFrame(bars, schema=BARS, orient="row"))
    detail = symbol_detail(store, make_universe(), "AAA", TODAY)
    assert [(p.time, p.close) for p in detail.intraday] == [
        (start + timedelta(minutes=i), 101.0 + i) for i in range(5)
    ]
    assert symbol_detail(store, make_universe(), "AAA", TODAY + timedelta(days=3)).intraday == ()


# ---------------------------------------------------------------------------- sample session


def test_sample_session_details_through_demo_engine() -> None:
    import asyncio

    at = datetime(2025, 12, 5, 11, 0, tzinfo=NEW_YORK)
    engine = demo_engine(ManualClock(at))
    engine.focus(sector="Industrials", symbol="CAT")
    snapshot = asyncio.run(engine.refresh())
    sector = snapshot.sector_detail
    assert sector is not None and sector.kind == "sector"
    assert sector.row == next(row for row in snapshot.sectors if row.sector == "Industrials")
    members = engine.universe.constituents.filter(pl.col("sector") == "Industrials")
    assert {row.symbol for row in sector.constituents} == set(members["symbol"].to_list())
    store_quotes = engine.store.quotes
    for row in sector.constituents:
        quote = store_quotes.filter(pl.col("symbol") == row.symbol).row(0, named=True)
        expected = (quote["last"] / quote["prev_close"] - 1.0) * 100.0
        assert row.last == quote["last"] and row.change_pct == pytest.approx(expected)
        leg = sector.row.large if row.bucket == "large" else sector.row.small
        assert leg.change_pct is not None
        assert row.vs_etf_pp == pytest.approx(expected - leg.change_pct)

    cat = snapshot.symbol_detail
    assert cat is not None and cat.symbol == "CAT" and cat.sector == "Industrials"
    quote = store_quotes.filter(pl.col("symbol") == "CAT").row(0, named=True)
    assert cat.last == quote["last"] and cat.prev_close == quote["prev_close"]
    assert cat.beta_60d is not None and cat.corr_60d is not None
    assert cat.low_52w is not None and cat.high_52w is not None
    assert cat.last is not None and cat.low_52w <= cat.last <= cat.high_52w
    # The sample's closes from the 1Y base (2024-12-05, a session) on, plus today's last.
    year = sessions_between(YEAR_BASE, TODAY - timedelta(days=1))
    assert len(cat.daily) == len(year) + 1 and cat.daily[-1].close == cat.last
    assert cat.daily[0].day == YEAR_BASE
    bars = engine.store.intraday.filter(pl.col("symbol") == "CAT")
    assert len(cat.intraday) == bars.height > 0
    assert cat.intraday[-1].close == bars["close"][-1]
