"""build_snapshot end to end, and snapshot_to_dict's fixed JSON shape."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from builders import members_frame, quotes_table
from capgap.analytics.build import build_snapshot, watched_symbols
from capgap.analytics.quotes import quote_rows
from capgap.analytics.sectors import current_index_legs, sector_rows
from capgap.analytics.serialize import snapshot_to_dict
from capgap.analytics.spread import bottom_up_valuation, spread_snapshot
from capgap.analytics.store import MarketStore
from capgap.analytics.style import style_snapshot
from capgap.core import records
from capgap.core.schemas import DAILY
from capgap.core.snapshot import FedSnapshot, FeedStatus, Snapshot
from capgap.market.calendar import market_session, sessions_between
from capgap.market.fomc import next_decision
from capgap.market.universe import Benchmarks, SectorDef, Universe

BENCH = Benchmarks(
    "^GSPC", "^RUT", "SPY", "IWM", "IWD", "IWF", "IWN", "IWO", "^VIX", "^TNX", "ES=F", "RTY=F"
)
NOW = datetime(2025, 12, 5, 20, 0, tzinfo=UTC)  # 15:00 in New York, market open
UNIVERSE = Universe(
    benchmarks=BENCH,
    sectors=(
        SectorDef("Financials", "cyclical", "XLF", "PSCF"),
        SectorDef("Real Estate", "cyclical", "XLRE", None),
    ),
    names={"^GSPC": "S&P 500", "^RUT": "Russell 2000"},
    constituents=members_frame(
        [
            ("JPM", "JPMorgan Chase & Co.", "Financials", "large"),
            ("BAC", "Bank of America Corp.", "Financials", "large"),
            ("EGBN", "Eagle Bancorp", "Financials", "small"),
            ("PLD", "Prologis", "Real Estate", "large"),
            ("AKR", "Acadia Realty Trust", "Real Estate", "small"),
            ("LXP", "LXP Industrial Trust", "Real Estate", "small"),
        ],
    ),
)
PRICES = {
    "^GSPC": (6870.40, 6857.12),
    "^RUT": (2521.48, 2531.16),
    "IWD": (200.0, 199.0),
    "IWF": (400.0, 401.0),
    "IWN": (170.0, 171.0),
    "IWO": (300.0, 298.0),
    "XLF": (53.0, 52.5),
    "PSCF": (60.0, 60.6),
    "XLRE": (41.0, 41.2),
    "JPM": (310.0, 305.0),
    "BAC": (53.0, 53.5),
    "EGBN": (20.0, 19.0),
    "PLD": (125.0, 124.0),
    "AKR": (20.0, 20.5),
    "LXP": (9.0, 8.8),
}


def loaded_store() -> MarketStore:
    store = MarketStore()
    days = [s.day for s in sessions_between(date(2024, 12, 2), date(2025, 12, 4))]
    store.apply_daily(
        pl.DataFrame(
            [
                (symbol, day, close, close, close, close, 0.0)
                for i, day in enumerate(days)
                for symbol, close in (
                    ("^GSPC", 5800.0 + 4 * i),
                    ("^RUT", 2200.0 + 1.3 * i + (i % 7)),
                )
            ],
            schema=DAILY,
            orient="row",
        )
    )
    # The newest quote is JPM's, a minute after the rest.
    rows = [
        (symbol, NOW + timedelta(minutes=1 if symbol == "JPM" else 0), last, prev, 0.0)
        for symbol, (last, prev) in PRICES.items()
    ]
    store.apply_quotes(quotes_table(rows))
    return store


def build(store: MarketStore, now: datetime = NOW, **overrides: Any) -> Snapshot:
    context: dict[str, Any] = {
        "now": now,
        "source": "demo",
        "demo": True,
        "market": market_session(now),
        "fed": FedSnapshot(next_decision(now), (3.75, 4.0), "sample"),
        "valuation_source": "demo",
        "feeds": (
            FeedStatus("demo", "ok", NOW - timedelta(seconds=3), 3.0, None),
            FeedStatus("yahoo", "down", None, None, "HTTP 429", stale=True),
        ),
    }
    context.update(overrides)
    return build_snapshot(store, UNIVERSE, **context)


def test_build_snapshot_assembles_every_panel() -> None:
    store = loaded_store()
    snap = build(store)
    assert snap.as_of == NOW and snap.source == "demo" and snap.demo is True
    assert snap.market.state == "open"
    assert snap.data_as_of == NOW + timedelta(minutes=1)  # the newest quote
    # Each panel equals what its own module computes from the same store.
    rows = quote_rows(store.quotes, watched_symbols(UNIVERSE))
    # No member carries earnings here: no P/E, no source, nothing made up.
    valuation = bottom_up_valuation(current_index_legs(store, UNIVERSE), "demo")
    assert valuation.large_forward_pe is None and valuation.source is None
    assert snap.spread == spread_snapshot(
        store, BENCH, rows, UNIVERSE.names, valuation, date(2025, 12, 5)
    )
    assert snap.sectors == sector_rows(store, UNIVERSE, rows)
    assert snap.style == style_snapshot(BENCH, rows)
    # And a few figures by hand.
    assert snap.spread.large.change_pct == pytest.approx((6870.40 / 6857.12 - 1) * 100)
    assert snap.spread.small.change_pct == pytest.approx((2521.48 / 2531.16 - 1) * 100)
    assert snap.spread.ratio == pytest.approx(2521.48 / 6870.40)
    assert snap.spread.beta_60d is not None and snap.spread.ratio_z_1y is not None
    financials, real_estate = snap.sectors
    # One share each: a leg's change is that of the sum of its members' prices.
    large_financials = ((310.0 + 53.0) / (305.0 + 53.5) - 1) * 100
    assert financials.large.change_pct == pytest.approx(large_financials)
    assert financials.spread_pp == pytest.approx((20.0 / 19.0 - 1) * 100 - large_financials)
    assert financials.small.etf_change_pct == pytest.approx((60.0 / 60.6 - 1) * 100)
    assert real_estate.small.etf_symbol is None
    assert real_estate.small.change_pct == pytest.approx(((20.0 + 9.0) / (20.5 + 8.8) - 1) * 100)
    assert snap.indices is not None
    assert snap.indices.large.change_pct == pytest.approx(
        ((310.0 + 53.0 + 125.0) / (305.0 + 53.5 + 124.0) - 1) * 100
    )
    # BAC fell (53.5 -> 53.0): a loser is never a leader.
    assert [m.symbol for m in financials.leaders] == ["EGBN", "JPM"]
    assert [m.symbol for m in financials.laggards] == ["BAC"]
    assert snap.style.large.value_minus_growth_pp == pytest.approx(
        (200 / 199 - 1) * 100 - (400 / 401 - 1) * 100
    )
    assert snap.fed.next_decision is not None
    assert snap.fed.next_decision.date == date(2025, 12, 10)


def test_as_of_is_utc_and_a_naive_now_is_refused() -> None:
    store = loaded_store()
    local = NOW.astimezone(ZoneInfo("America/New_York"))
    snap = build(store, now=local, market=market_session(NOW))
    assert snap.as_of == NOW and snap.as_of.utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        build_snapshot(
            store,
            UNIVERSE,
            now=NOW.replace(tzinfo=None),
            source="demo",
            demo=True,
            market=market_session(NOW),
            fed=FedSnapshot(None, None, None),
        )


def test_without_index_quotes_the_session_date_comes_from_now() -> None:
    store = MarketStore()
    snap = build(store)
    assert snap.data_as_of is None
    assert snap.spread.large.last is None and snap.spread.ratio is None
    assert all(value is None for _, value in snap.spread.relative_pp.items())
    assert all(row.large.change_pct is None for row in snap.sectors)


def test_repeated_ticks_reflect_the_latest_quotes() -> None:
    store = loaded_store()
    build(store)
    later = NOW + timedelta(minutes=2)
    store.apply_quotes(quotes_table([("^RUT", later, 2600.0, 2531.16, 0.0)]))
    snap = build(store, now=later)
    assert snap.spread.small.last == 2600.0
    assert snap.spread.ratio == pytest.approx(2600.0 / 6870.40)
    assert snap.data_as_of == later


# --------------------------------------------------------------------------------- serialize

EXPECTED_KEYS: dict[str, Any] = {
    "as_of": None,
    "source": None,
    "demo": None,
    "market": {"state", "next_open", "next_close", "holiday", "early_close"},
    "spread": {
        "large": {"symbol", "name", "last", "change_pct", "as_of", "age_s", "stale"},
        "small": {"symbol", "name", "last", "change_pct", "as_of", "age_s", "stale"},
        "relative_pp": {"1d", "5d", "1m", "3m", "ytd", "1y"},
        "ratio": None,
        "ratio_z_1y": None,
        "beta_60d": None,
        "corr_60d": None,
        "valuation": {
            "large_forward_pe",
            "small_forward_pe",
            "small_discount_pct",
            "large_forward_pe_incl_negative",
            "small_forward_pe_incl_negative",
            "large_unprofitable_pct",
            "small_unprofitable_pct",
            "large_coverage_pct",
            "small_coverage_pct",
            "source",
        },
        # Null in the regular session (NOW is 15:00 in New York); see test_extended.py.
        "extended": None,
    },
    "futures": {
        "large": {"symbol", "last", "change_pct"},
        "small": {"symbol", "last", "change_pct"},
    },
    # The gap in three parts (issue 18, item 3): every window, every part.
    "decomposition": {
        window: {"concentration_pp", "size_pp", "quality_pp", "total_pp"}
        for window in ("1d", "5d", "1m", "3m", "ytd", "1y")
    },
    "breadth": {
        "large": {"members", "up_pct", "above_50d_pct", "above_200d_pct", "new_highs", "new_lows"},
        "small": {"members", "up_pct", "above_50d_pct", "above_200d_pct", "new_highs", "new_lows"},
    },
    "universe": {"large", "small"},
    "sectors": None,
    # The rotation map (issue 18, item 2): a list, empty without the legs' daily levels.
    "rotation": None,
    "style": {"large_value_minus_growth_pp", "small_value_minus_growth_pp"},
    "fed": {
        "next_decision": {"date", "statement_at", "seconds_until", "sep"},
        "target_range": None,
        "effr": None,
        "target_source": None,
        "futures_source": None,
        "probabilities": None,
        "last_decision": None,
        # FedWatch over time (issue 18, item 4): the chart's series, why not, the start rate.
        "cut_odds_history": None,
        "history_note": None,
        "history_anchor": None,
    },
    "feeds": None,
}
LEG_KEYS = {
    "change_pct",
    "weight_pct",
    "members",
    "forward_pe",
    "breadth_pct",
    "etf_symbol",
    "etf_change_pct",
}
SECTOR_KEYS: dict[str, Any] = {
    "sector": None,
    "tag": None,
    "large": LEG_KEYS,
    "small": LEG_KEYS,
    "spread_pp": None,
    "breadth_pct": None,
    "leaders": None,
    "laggards": None,
    "windows": {
        window: {"large_pct", "small_pct", "spread_pp"}
        for window in ("1d", "5d", "1m", "3m", "ytd")
    },
}
MOVER_KEYS = {"symbol", "name", "bucket", "change_pct"}
FEED_KEYS = {"name", "state", "last_success", "age_s", "error", "stale", "problems"}


def assert_keys(data: dict[str, Any], expected: dict[str, Any] | set[str]) -> None:
    assert set(data) == set(expected)
    if isinstance(expected, dict):
        for key, inner in expected.items():
            if inner is not None:
                assert isinstance(data[key], dict)
                assert_keys(data[key], inner)


def test_snapshot_to_dict_has_exactly_the_documented_keys() -> None:
    data = snapshot_to_dict(build(loaded_store()))
    assert_keys(data, EXPECTED_KEYS)
    assert len(data["sectors"]) == 2
    for sector in data["sectors"]:
        assert_keys(sector, SECTOR_KEYS)
        for mover in sector["leaders"] + sector["laggards"]:
            assert set(mover) == MOVER_KEYS
    assert [set(feed) for feed in data["feeds"]] == [FEED_KEYS, FEED_KEYS]
    assert "ratio_history" not in json.dumps(data)
    json.dumps(data, allow_nan=False)  # strictly valid JSON


def leg_levels(weeks: int) -> pl.DataFrame:
    """Both sectors' legs, one session a week: Financials' small leg gains 1 % a week."""
    first = date(2025, 12, 5) - timedelta(weeks=weeks - 1)
    rows = [
        (sector, bucket, first + timedelta(weeks=week), level, 100.0)
        for week in range(weeks)
        for sector, bucket, level in (
            (0, "large", 100.0),
            (0, "small", 100.0 * 1.01**week),
            (1, "large", 50.0),
        )
    ]
    schema = {
        "sector_idx": pl.UInt32,
        "bucket": pl.String,
        "date": pl.Date,
        "level": pl.Float64,
        "coverage_pct": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_the_rotation_map_comes_from_the_legs_levels_once_per_daily_version() -> None:
    store = loaded_store()
    assert build(store).rotation == ()  # no levels yet: no map
    levels = leg_levels(12)
    first = build(store, leg_levels=levels)
    financials, real_estate = first.rotation
    # A steady 1 % a week: rel_w = 1.01^w, so rs_ratio = 100 * 1.01^11 / mean(1.01^2..1.01^11)
    # and rs_momentum = 100 * 1.01 * mean(1.01^1..1.01^10) / mean(1.01^2..1.01^11) = 100.
    mean = sum(1.01**week for week in range(2, 12)) / 10
    assert financials.rs_ratio == pytest.approx(100 * 1.01**11 / mean)
    assert financials.rs_momentum == pytest.approx(100.0)
    assert financials.quadrant == "leading"
    assert (real_estate.sector, real_estate.reason) == ("Real Estate", "no small-cap history")
    # The next tick reuses the day's map from the same levels ...
    assert build(store, leg_levels=levels).rotation is first.rotation
    # (other levels are other figures: worked out again, here equal ones)
    again = build(store, leg_levels=leg_levels(12)).rotation
    assert again is not first.rotation and again == first.rotation
    # ... until the daily history changes (a new session's close, a refresh).
    store.apply_daily(
        pl.DataFrame(
            [("^GSPC", date(2025, 12, 5), 1.0, 1.0, 1.0, 1.0, 0.0)], schema=DAILY, orient="row"
        )
    )
    assert build(store, leg_levels=leg_levels(11)).rotation[0].tail != first.rotation[0].tail


def test_snapshot_to_dict_values() -> None:
    snap = build(loaded_store())
    data = snapshot_to_dict(snap)
    assert data["as_of"] == "2025-12-05T20:00:00+00:00"
    assert data["source"] == "demo" and data["demo"] is True
    assert data["market"]["state"] == "open"
    assert data["market"]["next_close"] == "2025-12-05T21:00:00+00:00"
    assert data["spread"]["large"] == {
        "symbol": "^GSPC",
        "name": "S&P 500",
        "last": 6870.4,
        "change_pct": round((6870.40 / 6857.12 - 1) * 100, 4),
        "as_of": "2025-12-05T20:00:00+00:00",
        # Built without arrival times (as `capgap snapshot` of a hand-made store): no age.
        "age_s": None,
        "stale": False,
    }
    assert data["spread"]["ratio"] == round(2521.48 / 6870.40, 6)
    assert data["spread"]["valuation"]["large_forward_pe"] is None
    assert data["spread"]["valuation"]["source"] is None
    assert data["sectors"][1]["small"]["etf_symbol"] is None
    assert data["sectors"][1]["small"]["members"] == 2
    assert data["sectors"][0]["small"]["etf_symbol"] == "PSCF"
    assert data["breadth"]["small"]["members"] == 3
    assert data["universe"] == {"large": None, "small": None}  # a hand-made universe
    assert data["sectors"][0]["leaders"][0] == {
        "symbol": "EGBN",
        "name": "Eagle Bancorp",
        "bucket": "small",
        "change_pct": round((20.0 / 19.0 - 1) * 100, 4),
    }
    assert data["fed"]["next_decision"] == {
        "date": "2025-12-10",
        "statement_at": "2025-12-10T19:00:00+00:00",
        "seconds_until": 5 * 86400 - 3600,
        "sep": True,
    }
    assert data["fed"]["target_range"] == [3.75, 4.0]
    assert data["feeds"][0] == {
        "name": "demo",
        "state": "ok",
        "last_success": "2025-12-05T19:59:57+00:00",
        "age_s": 3.0,
        "error": None,
        "stale": False,
        "problems": [],
    }
    assert data["feeds"][1]["stale"] is True and data["feeds"][1]["last_success"] is None


def test_non_finite_numbers_become_null_and_missing_fed_is_null() -> None:
    snap = build(loaded_store())
    spread = records.replace(snap.spread, ratio=math.nan, ratio_z_1y=math.inf, beta_60d=None)
    sector = records.replace(snap.sectors[0], spread_pp=-math.inf)
    broken = records.replace(
        snap,
        spread=spread,
        sectors=(sector,),
        fed=FedSnapshot(None, None, None),
        feeds=(),
    )
    data = snapshot_to_dict(broken)
    assert data["spread"]["ratio"] is None
    assert data["spread"]["ratio_z_1y"] is None
    assert data["spread"]["beta_60d"] is None
    assert data["sectors"][0]["spread_pp"] is None
    assert data["fed"] == {
        "next_decision": None,
        "target_range": None,
        "effr": None,
        "target_source": None,
        "futures_source": None,
        "probabilities": [],
        "last_decision": None,
        "cut_odds_history": [],
        "history_note": None,
        "history_anchor": None,
    }
    assert data["feeds"] == []
    json.dumps(data, allow_nan=False)


def test_prices_and_percentages_are_rounded() -> None:
    snap = build(loaded_store())
    large = records.replace(snap.spread.large, last=6870.123456789, change_pct=0.123456789)
    data = snapshot_to_dict(records.replace(snap, spread=records.replace(snap.spread, large=large)))
    assert data["spread"]["large"]["last"] == 6870.1235
    assert data["spread"]["large"]["change_pct"] == 0.1235
