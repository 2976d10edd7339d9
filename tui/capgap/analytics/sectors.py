"""Sector rows: each index's own members per GICS sector, weighted as the index is, with movers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, cast

import polars as pl

from capgap.analytics.legs import (
    MOVERS,
    Label,
    add_sums,
    current_groups,
    current_index_sums,
    current_labels,
    current_values,
    index_legs,
    leg_stats,
)
from capgap.analytics.quotes import QuoteRow, change_of
from capgap.analytics.sector_history import Factors, current_window_factors, sector_windows
from capgap.analytics.store import MarketStore
from capgap.core.snapshot import Bucket, IndexLegs, LegStats, Mover, SectorLeg, SectorRow
from capgap.market.universe import SectorDef, Universe


def sector_movers(
    groups: Iterable[Mapping[str, Any]],
    values: pl.DataFrame,
    labels: Sequence[Label],
) -> dict[int, dict[str, tuple[Mover, ...]]]:
    """Return each sector's best MOVERS ``leaders`` and ``laggards``, by change (ties by symbol).

    ``groups`` are the groups' sums with their mover candidates (see
    capgap.analytics.legs.leg_sums), row positions into the members' ``values``; a sector's
    candidates are its groups' (at most MOVERS a group, so its best MOVERS are among them).
    ``labels`` are the rows' (symbol, name, bucket) (see capgap.analytics.legs.member_labels).
    """
    picked: dict[int, dict[str, list[int]]] = {}
    for group in groups:
        if group["sector_idx"] is None:
            continue
        entry = picked.setdefault(int(group["sector_idx"]), {"leaders": [], "laggards": []})
        entry["leaders"] += group["leaders"]
        entry["laggards"] += group["laggards"]
    wanted = [row for entry in picked.values() for rows in entry.values() for row in rows]
    # Only the changes come from this tick's values: the labels are static.
    changes = values.get_column("change_pct").gather(wanted).to_list() if wanted else []
    change_of = dict(zip(wanted, changes, strict=True))

    def best(rows: list[int], sign: float) -> tuple[Mover, ...]:
        ranked = sorted(rows, key=lambda row: (sign * change_of[row], labels[row][0]))
        return tuple(
            Mover(*labels[row], change_pct=float(change_of[row])) for row in ranked[:MOVERS]
        )

    return {
        sector: {"leaders": best(entry["leaders"], -1.0), "laggards": best(entry["laggards"], 1.0)}
        for sector, entry in picked.items()
    }


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
    movers: Mapping[str, tuple[Mover, ...]],
    rows: Mapping[str, QuoteRow],
    factors: Mapping[Bucket, Factors],
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
        leaders=movers.get("leaders", ()),
        laggards=movers.get("laggards", ()),
        windows=sector_windows(
            factors.get("large"), factors.get("small"), large.change_pct, small.change_pct
        ),
    )


def etf_symbols(universe: Universe) -> list[str]:
    """Return every sector ETF symbol of the universe (large, then small, where present)."""
    symbols = [sector.large_etf for sector in universe.sectors if sector.large_etf]
    symbols += [sector.small_etf for sector in universe.sectors if sector.small_etf]
    return symbols


def sector_rows(
    store: MarketStore,
    universe: Universe,
    rows: Mapping[str, QuoteRow],
    today: date | None = None,
) -> tuple[SectorRow, ...]:
    """Return one SectorRow per sector of the universe, in its order.

    ``rows`` must hold the quotes of the sector ETFs (see :func:`etf_symbols`). With
    ``today`` (the session the windows count from) each row has its legs over the longer
    windows, from the legs' levels in the store (see capgap.analytics.sector_history).
    """
    sums = current_groups(store, universe)
    totals = current_index_sums(store, universe)
    index_prev: dict[Bucket, float] = {
        "large": float(totals["large"]["prev_value"]),
        "small": float(totals["small"]["prev_value"]),
    }
    groups: dict[int, dict[Bucket, list[Mapping[str, Any]]]] = {}
    for group in sums:
        if group["sector_idx"] is None:
            continue
        by_bucket = groups.setdefault(int(group["sector_idx"]), {})
        by_bucket.setdefault(cast(Bucket, group["bucket"]), []).append(group)
    movers = store.memo(
        "sectors.movers",
        (id(sums), store.quotes_version),
        lambda: (
            sums,
            sector_movers(sums, current_values(store, universe), current_labels(store, universe)),
        ),
    )[1]
    factors = current_window_factors(store, universe, today) if today is not None else {}
    return tuple(
        _row(
            sector,
            groups.get(position, {}),
            index_prev,
            movers.get(position, {}),
            rows,
            {
                bucket: factors[(position, bucket)]
                for bucket in ("large", "small")
                if (position, bucket) in factors
            },
        )
        for position, sector in enumerate(universe.sectors)
    )


def current_index_legs(store: MarketStore, universe: Universe) -> IndexLegs:
    """Return both indices aggregated over their members for the stored quotes."""
    return index_legs(current_index_sums(store, universe))
