"""The legs' static runs of rows: group sums and movers against a hash group-by of every row."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from capgap.analytics.legs import (
    MOVERS,
    SUM_COLUMNS,
    current_day_sums,
    current_sums,
    current_values,
    leg_sums,
    universe_members,
)
from capgap.analytics.quotes import quote_rows
from capgap.analytics.sectors import etf_symbols, sector_rows
from capgap.analytics.store import MarketStore
from capgap.core.schemas import CONSTITUENTS, conform_quotes
from capgap.market.universe import Universe, load_universe

T0 = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)


def _mixed_universe() -> Universe:
    """The shipped universe plus a symbol listed twice in one sector and an unknown sector."""
    base = load_universe()
    extra = pl.DataFrame(
        [
            # Listed large by IVV already: its second listing in the same sector, small.
            ("AAPL", "Apple again", "Information Technology", "small", None, None, None),
            ("ZZZA", "Z A", "Not a sector", "large", "IVV", 1000.0, 50.0),
            ("ZZZB", "Z B", "Information Technology", "large", None, None, None),
        ],
        schema=CONSTITUENTS,
        orient="row",
    )
    # Shuffled: the universe's order is not the runs' order; the small AAPL listing comes
    # first, where the runs put the large legs first.
    shuffled = base.constituents.sample(fraction=1.0, shuffle=True, seed=7)
    frame = pl.concat([extra, shuffled])
    return Universe(base.benchmarks, base.sectors, {}, frame)


def _store(universe: Universe, seed: int) -> MarketStore:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    # In the universe's order: an unordered unique() would hand each run's random draws to
    # other symbols, and the test would pass or fail by chance.
    for symbol in universe.constituents.get_column("symbol").unique(maintain_order=True).to_list():
        if rng.random() < 0.05 and symbol != "AAPL":
            continue  # never quoted
        prev = rng.uniform(5, 500)
        # Changes on a coarse grid: ties in change are frequent, so the symbol must break them.
        # AAPL (listed twice) leads its sector, above the grid: its first listing must be the
        # one shown.
        last = prev * (1 + (4 if symbol == "AAPL" else rng.randint(-3, 3)) / 100)
        rows.append(
            {
                "symbol": symbol,
                "time": T0,
                "last": last,
                "prev_close": prev,
                "volume": 1.0,
                "market_cap": rng.choice([None, prev * 1e7]),
                "eps_forward": rng.choice([None, -1.0, prev / 20]),
                "eps_trailing": rng.choice([None, -0.5, prev / 25]),
                "avg_50d": rng.choice([None, prev]),
                "avg_200d": rng.choice([None, prev * 0.9]),
                "high_52w": prev * 1.01,
                "low_52w": prev * 0.99,
                "day_high": max(last, prev),
                "day_low": min(last, prev),
            }
        )
    store = MarketStore()
    store.apply_quotes(conform_quotes(pl.DataFrame(rows)))
    return store


def _hash_sums(values: pl.DataFrame) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The sums by a plain group-by of every row on the three keys (the second method)."""
    quoted = values.filter(pl.col("quoted"))
    by_keys = values.group_by("bucket", "sector_idx", pl.col("fund").is_not_null()).agg(
        pl.len().alias("members"), pl.col("ref_value").sum().alias("ref_total")
    )
    priced = quoted.group_by("bucket", "sector_idx", pl.col("fund").is_not_null()).agg(
        pl.len().alias("quoted"),
        (pl.col("q") * pl.col("prev_close")).sum().alias("prev_value"),
        (pl.col("q") * pl.col("last")).sum().alias("last_value"),
        (pl.col("last") > pl.col("prev_close")).sum().alias("up"),
    )
    result: dict[tuple[Any, ...], dict[str, Any]] = {}
    for frame in (by_keys, priced):
        for row in frame.iter_rows(named=True):
            key = (row.pop("bucket"), row.pop("sector_idx"), row.pop("fund"))
            result.setdefault(key, {}).update(row)
    return result


@pytest.mark.parametrize("seed", [1, 2])
def test_group_sums_over_runs_equal_a_hash_group_by_of_every_row(seed: int) -> None:
    universe = _mixed_universe()
    store = _store(universe, seed)
    sums = current_sums(store, universe)
    assert set(sums.columns) == {
        "group",
        "bucket",
        "sector_idx",
        "in_index",
        *SUM_COLUMNS,
    }
    reference = _hash_sums(current_values(store, universe))
    got = {(row["bucket"], row["sector_idx"], row["in_index"]): row for row in sums.to_dicts()}
    assert set(got) == set(reference)
    for key, expected in reference.items():
        for name, value in expected.items():
            assert got[key][name] == pytest.approx(value, rel=1e-12), (key, name)
    # Every member counted once: the runs cover the universe.
    assert sums.get_column("members").sum() == universe.constituents.height


def _unique_movers(
    values: pl.DataFrame, universe: Universe
) -> dict[int, tuple[list[str], list[str]]]:
    """Leaders and laggards the plain way: unique listings in the universe's order, top-k.

    Only members that moved the right way: a leader rose, a laggard fell.
    """
    change, symbol = pl.col("change_pct"), pl.col("symbol")
    listed = universe.constituents.select("symbol", "bucket").with_row_index("listing")
    picked = (
        values.join(listed, on=["symbol", "bucket"])
        .sort("listing")
        .filter(pl.col("sector_idx").is_not_null())
        .unique(subset=["sector_idx", "symbol"], keep="first", maintain_order=True)
        .group_by("sector_idx")
        .agg(
            leaders=pl.struct("symbol", "name")
            .filter(change > 0)
            .top_k_by(
                [change.filter(change > 0), symbol.filter(change > 0)],
                k=MOVERS,
                reverse=[False, True],
            ),
            laggards=pl.struct("symbol", "name")
            .filter(change < 0)
            .bottom_k_by([change.filter(change < 0), symbol.filter(change < 0)], k=MOVERS),
        )
    )
    return {
        int(row["sector_idx"]): (
            sorted(f"{m['symbol']}/{m['name']}" for m in row["leaders"]),
            sorted(f"{m['symbol']}/{m['name']}" for m in row["laggards"]),
        )
        for row in picked.iter_rows(named=True)
    }


def test_movers_over_first_listings_equal_the_unique_then_top_k_reference() -> None:
    universe = _mixed_universe()
    store = _store(universe, 3)
    values = current_values(store, universe)
    rows = sector_rows(store, universe, quote_rows(store.quotes, etf_symbols(universe)))
    got = {
        sector: (
            sorted(f"{m.symbol}/{m.name}" for m in row.leaders),
            sorted(f"{m.symbol}/{m.name}" for m in row.laggards),
        )
        for sector, row in enumerate(rows)
        if row.leaders or row.laggards
    }
    assert got == _unique_movers(values, universe)
    assert any("AAPL/" in name for leaders, _ in got.values() for name in leaders)
    # The twice-listed symbol shows under its first listing only.
    members = universe_members(universe)
    apple = members.filter(pl.col("symbol") == "AAPL")
    assert apple.height == 2 and apple.get_column("first_listed").sum() == 1


def _moved(store: MarketStore, factor: float, **details: float | None) -> pl.DataFrame:
    """The stored quotes a minute later, every price times ``factor``, ``details`` set."""
    later = store.quotes.with_columns(
        pl.col("time") + pl.duration(minutes=1),
        pl.col("last") * factor,
        pl.col("day_high") * factor,
    )
    return later.with_columns(
        pl.lit(value, pl.Float64).alias(name) for name, value in details.items()
    )


def test_the_days_sums_are_kept_while_only_prices_move_and_follow_a_changed_detail() -> None:
    universe = load_universe()  # every member weighed by its fund's shares
    store = _store(universe, 4)
    first = current_day_sums(store, universe)

    store.apply_quotes(_moved(store, 1.01))
    # Only prices moved: the day's sums are the very same frame, and still right.
    assert current_day_sums(store, universe) is first
    assert current_sums(store, universe).equals(leg_sums(current_values(store, universe)))

    # One forward EPS changes for every member: the day's sums follow at once.
    store.apply_quotes(_moved(store, 1.0, eps_forward=2.5))
    again = current_day_sums(store, universe)
    assert again is not first
    fresh = leg_sums(current_values(store, universe))
    assert current_sums(store, universe).equals(fresh)
    quoted = current_values(store, universe).filter(pl.col("quoted"))
    assert fresh.get_column("pe_earnings").sum() == pytest.approx(
        (quoted.get_column("q") * 2.5).sum(), rel=1e-12
    )


def test_a_member_weighed_by_market_cap_moves_the_days_sums_with_its_price() -> None:
    # Without a fund's shares a member's q is market cap over price: a new price is a new q,
    # so its earnings' weight changes and the day's sums must be summed again.
    universe = _mixed_universe()
    store = _store(universe, 5)
    first = current_day_sums(store, universe)
    store.apply_quotes(_moved(store, 1.02))
    assert current_day_sums(store, universe) is not first
    assert current_sums(store, universe).equals(leg_sums(current_values(store, universe)))


def test_the_days_sums_follow_a_day_range_that_becomes_known() -> None:
    # The coverage of the new highs is a day's sum: it must follow whether the day's high is
    # known, though the high itself is the tick's value.
    universe = load_universe()
    full = _store(universe, 6)
    store = MarketStore()
    store.apply_quotes(full.quotes.with_columns(pl.lit(None, pl.Float64).alias("day_high")))
    first = current_day_sums(store, universe)
    assert first.sums.get_column("ref_highs").sum() == 0
    assert first.sums.get_column("ref_lows").sum() > 0

    store.apply_quotes(_moved(full, 1.0))
    again = current_day_sums(store, universe)
    assert again is not first
    sums = current_sums(store, universe)
    assert sums.get_column("ref_highs").sum() == pytest.approx(
        sums.get_column("ref_lows").sum(), rel=1e-12
    )
    assert sums.equals(leg_sums(current_values(store, universe)))


def _movers_by_sector(store: MarketStore, universe: Universe) -> dict[int, tuple[list[str], ...]]:
    rows = sector_rows(store, universe, quote_rows(store.quotes, etf_symbols(universe)))
    return {
        sector: (
            sorted(f"{m.symbol}/{m.name}" for m in row.leaders),
            sorted(f"{m.symbol}/{m.name}" for m in row.laggards),
        )
        for sector, row in enumerate(rows)
        if row.leaders or row.laggards
    }


@pytest.mark.parametrize("factor", [5000.0, 1 / 5000.0])
def test_movers_stay_right_with_an_absurd_move(factor: float) -> None:
    # A move of +499,900 % (or -99.98 %) is data gone wrong, yet the movers must still be
    # the reference's: the sorted line of sectors cannot hold such a move in its place.
    universe = _mixed_universe()
    store = _store(universe, 8)
    symbol = store.quotes.get_column("symbol")[3]
    store.apply_quotes(
        store.quotes.filter(pl.col("symbol") == symbol).with_columns(
            pl.col("time") + pl.duration(minutes=1), pl.col("last") * factor
        )
    )
    got = _movers_by_sector(store, universe)
    assert got == _unique_movers(current_values(store, universe), universe)
    assert any(
        symbol in name for leaders, laggards in got.values() for name in (*leaders, *laggards)
    )


def test_a_sector_with_fewer_risers_than_movers_shows_those_it_has() -> None:
    universe = _mixed_universe()
    store = _store(universe, 9)
    values = current_values(store, universe)
    # Every member of the first sector falls but two.
    first_sector = (
        values.filter((pl.col("sector_idx") == 0) & pl.col("quoted")).get_column("symbol").unique()
    )
    risers = set(first_sector.sort().head(2).to_list())
    fallen = store.quotes.with_columns(
        pl.col("time") + pl.duration(minutes=1),
        pl.when(pl.col("symbol").is_in(first_sector.to_list()))
        .then(
            pl.when(pl.col("symbol").is_in(list(risers)))
            .then(pl.col("prev_close") * 1.02)
            .otherwise(pl.col("prev_close") * 0.97)
        )
        .otherwise(pl.col("last"))
        .alias("last"),
    )
    store.apply_quotes(fallen)
    got = _movers_by_sector(store, universe)
    assert got == _unique_movers(current_values(store, universe), universe)
    assert {name.split("/")[0] for name in got[0][0]} == risers
