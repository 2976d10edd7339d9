"""Sector rows: each index's own members per GICS sector, weighted as the index is, with movers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import polars as pl

from capgap.analytics.legs import (
    add_sums,
    current_index_sums,
    current_sums,
    current_values,
    index_legs,
    leg_stats,
)
from capgap.analytics.quotes import QuoteRow, change_of
from capgap.analytics.store import MarketStore
from capgap.core.snapshot import Bucket, IndexLegs, LegStats, Mover, SectorLeg, SectorRow
from capgap.market.universe import SectorDef, Universe

#: Leaders and laggards shown per sector.
MOVERS = 3

_CHANGE = pl.col("change_pct")
#: Per sector, the rows of its leaders and laggards (ties by symbol, as its static rank);
#: built once, as building them costs about as much as running them.
_PICK = (
    pl.col("sector_idx").first(),
    pl.col("row")
    .top_k_by([_CHANGE, pl.col("symbol_rank")], k=MOVERS, reverse=[False, True])
    .alias("leaders"),
    pl.col("row").bottom_k_by([_CHANGE, pl.col("symbol_rank")], k=MOVERS).alias("laggards"),
)


def sector_movers(values: pl.DataFrame) -> dict[int, dict[str, Any]]:
    """Return each sector's picked leaders and laggards (unordered, at most MOVERS each).

    ``values`` are the members' values (see capgap.analytics.legs.member_values); a symbol
    counts once per sector (its first listing); unquoted members only fill in when too few
    are quoted (they are dropped when ordered).
    """
    # Worked out once per universe (see universe_members): the first listings (no unique()
    # every tick), the sectors' runs of rows (a sorted key: slices, not a hash of every row),
    # the symbols' rank (numbers compare faster than strings) and the rows' positions.
    picked = values.filter(pl.col("first_listed")).group_by("sector_run").agg(*_PICK).rows()
    wanted = [row for *_, leaders, laggards in picked for row in (*leaders, *laggards)]
    entries = dict(
        zip(
            wanted,
            values.select("symbol", "name", "bucket", "change_pct")[
                pl.Series(wanted, dtype=pl.UInt32)
            ].to_dicts(),
            strict=True,
        )
    )
    return {
        int(sector): {
            "leaders": [entries[row] for row in leaders],
            "laggards": [entries[row] for row in laggards],
        }
        for _, sector, leaders, laggards in picked
    }


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


def _combined_breadth(
    large: LegStats, small: LegStats, totals: list[Mapping[str, Any]]
) -> float | None:
    """Return the share of the sector's quoted members up today over both legs' sums."""
    if large.up_pct is None and small.up_pct is None:
        return None
    up = sum(int(total["up"]) for total in totals)
    quoted = sum(int(total["quoted"]) for total in totals)
    return up / quoted * 100.0 if quoted else None


def _row(
    sector: SectorDef,
    groups: Mapping[Bucket, list[Mapping[str, Any]]],
    index_prev: Mapping[Bucket, float],
    movers: Mapping[str, Any],
    rows: Mapping[str, QuoteRow],
) -> SectorRow:
    legs: dict[Bucket, SectorLeg] = {}
    totals: list[Mapping[str, Any]] = []
    sides: tuple[tuple[Bucket, str | None], ...] = (
        ("large", sector.large_etf),
        ("small", sector.small_etf),
    )
    for bucket, etf in sides:
        parts = groups.get(bucket, [])
        # A sector of the index carries its weight in it; a custom sector's stocks are
        # weighed by market cap, not by the fund's shares: no weight in the index.
        in_index = any(part["in_index"] for part in parts)
        total = add_sums(parts)
        totals.append(total)
        stats = leg_stats(total, index_prev[bucket] if in_index else None)
        legs[bucket] = SectorLeg(stats, etf, change_of(rows, etf))
    large, small = legs["large"], legs["small"]
    spread = (
        small.change_pct - large.change_pct
        if small.change_pct is not None and large.change_pct is not None
        else None
    )
    return SectorRow(
        sector=sector.name,
        tag=sector.tag,
        large=large,
        small=small,
        spread_pp=spread,
        breadth_pct=_combined_breadth(large.stats, small.stats, totals),
        leaders=_ordered(movers.get("leaders"), descending=True),
        laggards=_ordered(movers.get("laggards"), descending=False),
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
    sums = current_sums(store, universe)
    totals = current_index_sums(store, universe)
    index_prev: dict[Bucket, float] = {
        "large": float(totals["large"]["prev_value"]),
        "small": float(totals["small"]["prev_value"]),
    }
    groups: dict[int, dict[Bucket, list[Mapping[str, Any]]]] = {}
    # A few dozen groups: read in Python, not filtered by a query each tick.
    for group in sums.iter_rows(named=True):
        if group["sector_idx"] is None:
            continue
        by_bucket = groups.setdefault(int(group["sector_idx"]), {})
        by_bucket.setdefault(cast(Bucket, group["bucket"]), []).append(group)
    movers = store.memo(
        "sectors.movers",
        (id(sums), store.quotes_version),
        lambda: (sums, sector_movers(current_values(store, universe))),
    )[1]
    return tuple(
        _row(sector, groups.get(position, {}), index_prev, movers.get(position, {}), rows)
        for position, sector in enumerate(universe.sectors)
    )


def current_index_legs(store: MarketStore, universe: Universe) -> IndexLegs:
    """Return both indices aggregated over their members for the stored quotes."""
    return index_legs(current_index_sums(store, universe))
