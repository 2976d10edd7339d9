"""Index legs weighted as the index is: hand-computed figures, coverage, and the identities."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import polars as pl
import pytest
from builders import quotes_frame, store_with_quotes
from capgap.analytics.build import build_snapshot
from capgap.analytics.drilldown import sector_detail
from capgap.analytics.legs import current_groups, index_sums
from capgap.analytics.sectors import current_index_legs, sector_rows
from capgap.analytics.serialize import snapshot_to_dict
from capgap.analytics.store import MarketStore
from capgap.core.market_types import MarketSession
from capgap.core.schemas import CONSTITUENTS
from capgap.core.snapshot import FedSnapshot
from capgap.market.universe import SectorDef, Universe, load_universe

T0 = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)


def _universe(rows: Sequence[tuple[str, str, str, float | None, float | None]]) -> Universe:
    """A universe of (symbol, sector, bucket, shares, ref_price) members in sectors S1, S2."""
    base = load_universe()
    frame = pl.DataFrame(
        [
            (
                symbol,
                symbol.title(),
                sector,
                bucket,
                None if shares is None else ("IVV" if bucket == "large" else "IWM"),
                shares,
                ref,
            )
            for symbol, sector, bucket, shares, ref in rows
        ],
        schema=CONSTITUENTS,
        orient="row",
    )
    sectors = (
        SectorDef("S1", "cyclical", "XS1", "PS1"),
        SectorDef("S2", "defensive", "XS2", None),
    )
    return Universe(base.benchmarks, sectors, {}, frame)


def _detailed(rows: Sequence[tuple[str, float, float, Mapping[str, float | None]]]) -> pl.DataFrame:
    """Quotes of (symbol, last, prev_close, details) rows at T0."""
    frame = quotes_frame((symbol, T0, last, prev) for symbol, last, prev, _ in rows)
    for name in {key for *_, details in rows for key in details}:
        frame = frame.with_columns(
            pl.Series(name, [details.get(name) for *_, details in rows], pl.Float64)
        )
    return frame


# A, B in S1 and C in S2 (large); D, E in S1 (small). Hand-computed below.
MEMBERS = [
    ("A", "S1", "large", 10.0, 100.0),
    ("B", "S1", "large", 20.0, 50.0),
    ("C", "S2", "large", 5.0, 200.0),
    ("D", "S1", "small", 100.0, 10.0),
    ("E", "S1", "small", 50.0, 20.0),
]
QUOTES = [
    ("A", 110.0, 100.0, {"eps_forward": 5.0, "eps_trailing": 4.0, "avg_50d": 105.0}),
    ("B", 45.0, 50.0, {"eps_forward": -1.0, "eps_trailing": -2.0, "avg_50d": 47.0}),
    ("C", 210.0, 200.0, {"eps_forward": 10.0, "eps_trailing": 9.0, "avg_50d": 220.0}),
    ("D", 11.0, 10.0, {"eps_forward": 1.0, "eps_trailing": -0.5, "avg_50d": 10.0}),
    ("E", 19.0, 20.0, {"eps_forward": 2.0, "eps_trailing": 1.0, "avg_50d": 21.0}),
]


def _store() -> MarketStore:
    return store_with_quotes(_detailed(QUOTES))


def test_index_leg_figures_match_a_hand_computation() -> None:
    universe = _universe(MEMBERS)
    legs = current_index_legs(_store(), universe)
    large, small = legs.large, legs.small
    # Large: prev values A 1000, B 1000, C 1000; now 1100, 900, 1050 -> +50 on 3000.
    assert large.change_pct == pytest.approx(50 / 3000 * 100)
    # Headline P/E: A and C (eps > 0): (1100 + 1050) / (50 + 50) = 21.5.
    assert large.forward_pe == pytest.approx(21.5)
    # With B's negative earnings: (1100 + 900 + 1050) / (50 - 20 + 50) = 38.125.
    assert large.forward_pe_incl_negative == pytest.approx(38.125)
    assert large.unprofitable_pct == pytest.approx(100 / 3)  # B of three
    assert large.up_pct == pytest.approx(200 / 3)  # A and C rose
    assert large.above_50d_pct == pytest.approx(100 / 3)  # only A above its 50-day
    assert (large.members, large.quoted, large.weight_pct) == (3, 3, pytest.approx(100.0))
    # Small: prev D 1000, E 1000; now 1100, 950 -> +50 on 2000 = 2.5 %.
    assert small.change_pct == pytest.approx(2.5)
    assert small.forward_pe == pytest.approx((1100 + 950) / (100 + 100))
    assert small.unprofitable_pct == pytest.approx(50.0)
    assert small.above_50d_pct == pytest.approx(50.0)  # D at its average is not above it


def test_sectors_weighted_changes_add_up_to_the_index_and_funds_stay_a_reference() -> None:
    universe = _universe(MEMBERS)
    store = _store()
    store.apply_quotes(quotes_frame([("XS1", T0, 101.0, 100.0), ("PS1", T0, 98.0, 100.0)]))
    rows = sector_rows(store, universe, {})
    s1, s2 = rows
    # S1 large: A and B, prev 2000, now 2000 -> 0 %; weight 2000 / 3000.
    assert s1.large.change_pct == pytest.approx(0.0)
    assert s1.large.weight_pct == pytest.approx(200 / 3)
    assert s2.large.change_pct == pytest.approx(5.0)
    assert s2.large.weight_pct == pytest.approx(100 / 3)
    total = sum((row.large.weight_pct or 0) * (row.large.change_pct or 0) for row in rows) / 100
    assert total == pytest.approx(current_index_legs(store, universe).large.change_pct)
    assert s1.small.members == 2 and s2.small.members == 0
    # No members: no figure (S2 small has no fund either).
    assert s2.small.change_pct is None
    assert s1.spread_pp == pytest.approx(2.5 - 0.0)


def test_contributions_add_up_to_the_legs_change() -> None:
    universe = _universe(MEMBERS)
    store = _store()
    detail = sector_detail(store, universe, "S1")
    assert detail is not None and detail.row is not None
    by_bucket: dict[str, float] = {"large": 0.0, "small": 0.0}
    for member in detail.constituents:
        assert member.bucket is not None and member.contribution_pp is not None
        by_bucket[member.bucket] += member.contribution_pp
    assert by_bucket["large"] == pytest.approx(detail.row.large.change_pct or 0.0, abs=1e-12)
    assert by_bucket["small"] == pytest.approx(detail.row.small.change_pct or 0.0)
    a = next(member for member in detail.constituents if member.symbol == "A")
    assert a.weight_pct == pytest.approx(50.0)  # 1000 of the S1 large leg's 2000
    assert a.contribution_pp == pytest.approx(5.0)  # 10 * (110 - 100) / 2000
    assert a.forward_pe == pytest.approx(22.0)
    assert (a.above_50d, a.above_200d) == (True, None)
    b = next(member for member in detail.constituents if member.symbol == "B")
    assert b.forward_pe is None  # negative earnings have no P/E


def test_below_the_coverage_bar_figures_are_blank_never_zero() -> None:
    # A huge unquoted member: the quoted ones cover far less than 80 % of the weight.
    universe = _universe([*MEMBERS, ("Z", "S1", "large", 1000.0, 100.0)])
    legs = current_index_legs(_store(), universe)
    large = legs.large
    assert large.members == 4 and large.quoted == 3
    assert large.coverage_pct == pytest.approx(3000 / 103000 * 100)
    assert large.change_pct is None and large.forward_pe is None and large.up_pct is None
    assert legs.small.change_pct == pytest.approx(2.5)


def test_a_stock_without_a_fund_position_weighs_its_market_cap() -> None:
    universe = _universe([("A", "S1", "large", None, None), ("B", "S1", "large", None, None)])
    quotes = [
        ("A", 110.0, 100.0, {"market_cap": 1100.0}),  # implied shares 10
        ("B", 45.0, 50.0, {"market_cap": 900.0}),  # implied shares 20
    ]
    store = store_with_quotes(_detailed(quotes))
    row = sector_rows(store, universe, {})[0]
    assert row.large.change_pct == pytest.approx(0.0)  # 1000 -> 1100 and 1000 -> 900
    assert row.large.weight_pct is None  # not a fund's position: no weight in an index


def test_before_anything_moved_up_share_is_blank() -> None:
    universe = _universe(MEMBERS)
    flat = [(symbol, prev, prev, details) for symbol, _, prev, details in QUOTES]
    legs = current_index_legs(store_with_quotes(_detailed(flat)), universe)
    assert legs.large.change_pct == pytest.approx(0.0)
    assert legs.large.up_pct is None


def test_the_whole_universe_reproduces_the_index_and_adds_up() -> None:
    # Every member of both shipped holdings, random prices: the leg change equals a plain
    # Python sum over the members, and the sectors' weighted changes add up to it.
    universe = load_universe()
    members = universe.constituents
    rng = random.Random(7)
    prices = {
        symbol: (ref * (1 + rng.uniform(-0.05, 0.05)), ref)
        for symbol, ref in members.select("symbol", "ref_price").iter_rows()
        if ref
    }
    store = store_with_quotes(
        quotes_frame((symbol, T0, last, prev) for symbol, (last, prev) in prices.items())
    )
    legs = current_index_legs(store, universe)
    rows = sector_rows(store, universe, {})
    for bucket, leg in (("large", legs.large), ("small", legs.small)):
        held = members.filter(pl.col("bucket") == bucket)
        prev = now = 0.0
        for symbol, shares in held.select("symbol", "shares").iter_rows():
            if symbol in prices:
                now += shares * prices[symbol][0]
                prev += shares * prices[symbol][1]
        assert leg.change_pct == pytest.approx((now / prev - 1) * 100, rel=1e-9)
        by_sector = sum(
            (getattr(row, bucket).weight_pct or 0) * (getattr(row, bucket).change_pct or 0)
            for row in rows
        )
        assert by_sector / 100 == pytest.approx(leg.change_pct, rel=1e-9)
        assert sum(getattr(row, bucket).weight_pct or 0 for row in rows) == pytest.approx(100.0)
    sums = index_sums(current_groups(store, universe))
    assert sums["large"]["members"] == members.filter(pl.col("bucket") == "large").height


def test_snapshot_json_names_the_new_figures() -> None:
    universe = _universe(MEMBERS)
    snapshot = build_snapshot(
        _store(),
        universe,
        now=T0,
        source="test",
        demo=False,
        market=MarketSession("open", T0, None, None),
        fed=FedSnapshot(None, None, None),
        valuation_source="test",
    )
    data = snapshot_to_dict(snapshot)
    valuation = data["spread"]["valuation"]
    assert set(valuation) == {
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
    }
    assert valuation["large_forward_pe"] == pytest.approx(21.5)
    assert valuation["small_discount_pct"] == pytest.approx((1 - 10.25 / 21.5) * 100, abs=1e-4)
    assert set(data["breadth"]["large"]) == {
        "members",
        "up_pct",
        "above_50d_pct",
        "above_200d_pct",
        "new_highs",
        "new_lows",
    }
    assert set(data["sectors"][0]["large"]) == {
        "change_pct",
        "weight_pct",
        "members",
        "forward_pe",
        "breadth_pct",
        "etf_symbol",
        "etf_change_pct",
    }
    assert data["sectors"][0]["small"]["etf_symbol"] == "PS1"
    assert set(data["universe"]) == {"large", "small"}
