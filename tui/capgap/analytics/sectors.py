"""Sector rows: large against small per GICS sector, breadth, leaders and laggards, in one query."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import polars as pl

from capgap.analytics.quotes import QuoteRow, change_of, change_pct_series
from capgap.analytics.store import MarketStore
from capgap.core.snapshot import Bucket, Mover, SectorLeg, SectorRow
from capgap.market.universe import SectorDef, Universe

#: Leaders and laggards shown per sector.
MOVERS = 3

_CHANGE = pl.col("change_pct")
_SMALL = pl.col("small")
_MOVER = pl.struct("symbol", "name", "bucket", "change_pct")


def sector_members(universe: Universe) -> pl.DataFrame:
    """Return the constituents of the universe's sectors with each sector's position.

    Columns: symbol, name, bucket, small (bucket == "small"), sector_idx. Constituents of a
    sector the universe does not define are left out.
    """
    order = pl.DataFrame(
        {"sector": [sector.name for sector in universe.sectors]},
        schema={"sector": pl.String},
    ).with_row_index("sector_idx")
    return (
        universe.constituents.join(order, on="sector", how="inner")
        .select(
            "symbol", "name", "bucket", (pl.col("bucket") == "small").alias("small"), "sector_idx"
        )
        .sort("sector_idx", "symbol")
    )


def member_positions(members: pl.DataFrame, quotes: pl.DataFrame) -> pl.Series:
    """Return, per member, its row position in ``quotes`` (null when it has no quote)."""
    where = quotes.select("symbol").with_row_index("position")
    return members.select("symbol").join(where, on="symbol", how="left", maintain_order="left")[
        "position"
    ]


def _members(store: MarketStore, universe: Universe) -> tuple[pl.DataFrame, pl.Series]:
    """Return the universe's members and their quote positions, cached per quote layout."""
    # Keyed on identity; the cached value holds the universe so its id cannot be reused.
    held: tuple[Universe, pl.DataFrame] = store.memo(
        "sectors.members", id(universe), lambda: (universe, sector_members(universe))
    )
    members = held[1]
    where: tuple[pl.DataFrame, pl.Series] = store.memo(
        "sectors.positions",
        (id(members), store.quotes_layout_version),
        lambda: (members, member_positions(members, store.quotes)),
    )
    return members, where[1]


def sector_aggregates(members: pl.DataFrame, where: pl.Series, changes: pl.Series) -> pl.DataFrame:
    """Aggregate every sector in one query: counts, ups, per-bucket sums and movers per sector.

    ``where`` gives each member's position in ``changes`` (null: no quote). Movers come back
    unordered (at most ``MOVERS`` each); unquoted members only fill in when too few are quoted.
    """
    quoted = _CHANGE.is_not_null()
    up = _CHANGE > 0
    moved = _CHANGE != 0
    return (
        members.with_columns(changes.gather(where).alias("change_pct"))
        .group_by("sector_idx")
        .agg(
            large_count=(quoted & ~_SMALL).sum(),
            small_count=(quoted & _SMALL).sum(),
            large_up=(up & ~_SMALL).sum(),
            small_up=(up & _SMALL).sum(),
            large_moved=(moved & ~_SMALL).sum(),
            small_moved=(moved & _SMALL).sum(),
            large_sum=pl.when(~_SMALL).then(_CHANGE).sum(),
            small_sum=pl.when(_SMALL).then(_CHANGE).sum(),
            leaders=_MOVER.top_k_by([_CHANGE, pl.col("symbol")], k=MOVERS, reverse=[False, True]),
            laggards=_MOVER.bottom_k_by([_CHANGE, pl.col("symbol")], k=MOVERS),
        )
    )


def _breadth(up: int, whole: int, moved: int) -> float | None:
    """Return the share of members up, None until one has moved: 0 % would claim a falling day.

    Before the open every last price is the previous close, so nothing has changed yet.
    """
    return up / whole * 100.0 if whole and moved else None


def _ordered(entries: list[dict[str, Any]] | None, *, descending: bool) -> tuple[Mover, ...]:
    """Turn the picked movers into Movers sorted by change (ties by symbol).

    Only members that moved the right way count: a leader rose, a laggard fell, so a quiet
    sector shows fewer than MOVERS (none before the open), never unchanged names by alphabet.
    """
    picked = [
        entry
        for entry in entries or ()
        if entry["change_pct"] is not None
        and (entry["change_pct"] > 0 if descending else entry["change_pct"] < 0)
    ]
    sign = -1.0 if descending else 1.0
    picked.sort(key=lambda entry: (sign * entry["change_pct"], entry["symbol"]))
    return tuple(_mover(entry) for entry in picked)


def _mover(entry: dict[str, Any]) -> Mover:
    return Mover(
        symbol=str(entry["symbol"]),
        name=str(entry["name"]),
        bucket=cast(Bucket, entry["bucket"]),
        change_pct=float(entry["change_pct"]),
    )


def _leg(
    etf: str | None, stats: dict[str, Any], bucket: Bucket, rows: Mapping[str, QuoteRow]
) -> SectorLeg:
    """Return one leg: the ETF's change, or the equal-weighted mean of its quoted constituents."""
    count = int(stats.get(f"{bucket}_count") or 0)
    up = int(stats.get(f"{bucket}_up") or 0)
    moved = int(stats.get(f"{bucket}_moved") or 0)
    if etf is not None:
        change = change_of(rows, etf)
    else:
        change = float(stats[f"{bucket}_sum"]) / count if count else None
    return SectorLeg(
        symbol=etf,
        change_pct=change,
        from_constituents=etf is None,
        breadth_pct=_breadth(up, count, moved),
        constituents=count,
    )


def _row(sector: SectorDef, stats: dict[str, Any], rows: Mapping[str, QuoteRow]) -> SectorRow:
    large = _leg(sector.large_etf, stats, "large", rows)
    small = _leg(sector.small_etf, stats, "small", rows)
    large_change, small_change = large.change_pct, small.change_pct
    ups = int(stats.get("large_up") or 0) + int(stats.get("small_up") or 0)
    moved = int(stats.get("large_moved") or 0) + int(stats.get("small_moved") or 0)
    spread = (
        small_change - large_change
        if small_change is not None and large_change is not None
        else None
    )
    return SectorRow(
        sector=sector.name,
        tag=sector.tag,
        large=large,
        small=small,
        spread_pp=spread,
        breadth_pct=_breadth(ups, large.constituents + small.constituents, moved),
        leaders=_ordered(stats.get("leaders"), descending=True),
        laggards=_ordered(stats.get("laggards"), descending=False),
    )


def etf_symbols(universe: Universe) -> list[str]:
    """Return every sector ETF symbol of the universe (large, then small, where present)."""
    symbols = [sector.large_etf for sector in universe.sectors if sector.large_etf]
    symbols += [sector.small_etf for sector in universe.sectors if sector.small_etf]
    return symbols


def sector_rows(
    store: MarketStore, universe: Universe, rows: Mapping[str, QuoteRow]
) -> tuple[SectorRow, ...]:
    """Return one SectorRow per sector of the universe, in its order.

    ``rows`` must hold the quotes of the sector ETFs (see :func:`etf_symbols`).
    """
    members, where = _members(store, universe)
    aggregates = sector_aggregates(members, where, change_pct_series(store.quotes))
    by_index = {int(stats["sector_idx"]): stats for stats in aggregates.iter_rows(named=True)}
    return tuple(
        _row(sector, by_index.get(position, {}), rows)
        for position, sector in enumerate(universe.sectors)
    )
