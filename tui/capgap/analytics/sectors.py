"""Sector rows: each index's own members per GICS sector, weighted as the index is, with movers."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

import polars as pl

from capgap.analytics.legs import (
    MOVERS,
    Label,
    MoverLayout,
    add_sums,
    current_groups,
    current_index_sums,
    current_labels,
    current_mover_layout,
    current_values,
    index_legs,
    leg_stats,
)
from capgap.analytics.quotes import QuoteRow, change_of
from capgap.analytics.sector_history import Factors, current_window_factors, sector_windows
from capgap.analytics.store import MarketStore
from capgap.core.snapshot import Bucket, IndexLegs, LegStats, Mover, SectorLeg, SectorRow
from capgap.market.universe import SectorDef, Universe

#: A sector's moves are placed at its position times this in one sorted line (see _edges).
_SPACING = 1e6
#: Moves of more than this (in %) would cross into the next sector's place: none can be real.
_FARTHEST = _SPACING / 4
#: Outward nudge of an edge: far more than the line's rounding (about 1e-9 at 1e7).
_SLACK = 1e-6


def _edges(key: pl.Series, layout: MoverLayout) -> tuple[pl.Series, pl.Series]:
    """Return, per row, how far its sector's MOVERS-th biggest rise and fall went.

    One sort of every candidate's move placed at its sector's spot on one line (sector
    position times _SPACING, plus the move) gives each sector's moves in order; bisecting
    it finds each sector's MOVERS-th rise and fall. The edges are nudged outward so that
    the line's rounding can only let more rows in. A sector with fewer rises (falls) than
    MOVERS has an edge of zero: every rise (fall) of it counts. Beyond _FARTHEST no move
    is real, and every rise and fall then counts.
    """
    count = layout.sector_count
    rise, fall = [math.inf] * count, [-math.inf] * count
    highest, lowest = key.max(), key.min()
    if not isinstance(highest, float) or not isinstance(lowest, float):
        return pl.Series(rise), pl.Series(fall)  # nothing moved
    if max(abs(highest), abs(lowest)) >= _FARTHEST:
        return pl.Series([0.0] * count), pl.Series([0.0] * count)
    line = layout.sector_spots + key
    ordered = line.sort(nulls_last=True)
    points = ordered.head(ordered.len() - ordered.null_count()).to_list()
    for sector in range(count):
        spot = sector * _SPACING
        first = bisect_left(points, spot - _FARTHEST)
        zero = bisect_left(points, spot)
        after = bisect_right(points, spot)
        end = bisect_right(points, spot + _FARTHEST)
        if end > after:  # some rows of this sector rose
            top = points[end - MOVERS] if end - MOVERS >= after else points[after]
            rise[sector] = max(top - spot - _SLACK, 0.0)
        if zero > first:  # some fell
            bottom = points[first + MOVERS - 1] if first + MOVERS <= zero else points[zero - 1]
            fall[sector] = min(bottom - spot + _SLACK, 0.0)
    return pl.Series(rise), pl.Series(fall)


def _candidates(
    key: pl.Series, rise: pl.Series, fall: pl.Series, layout: MoverLayout
) -> tuple[dict[int, list[tuple[float, int]]], dict[int, list[tuple[float, int]]]]:
    """Return each sector's leaders' and laggards' candidates: the rows beyond its edges."""
    sectors = layout.sector_ids
    # A rise edge is at least zero and a fall edge at most zero, and no key is zero (see
    # sector_movers): a row is one side's candidate at most, and its sign says which.
    wanted = (key >= rise[sectors]) | (key <= fall[sectors])
    risen: defaultdict[int, list[tuple[float, int]]] = defaultdict(list)
    fallen: defaultdict[int, list[tuple[float, int]]] = defaultdict(list)
    # Three filtered columns read at once: the loop then only files each row under its sector
    # (a key is null off the sectors, so every row here has one).
    for sector, change, row in zip(
        sectors.filter(wanted).to_list(),
        key.filter(wanted).to_list(),
        layout.rows.filter(wanted).to_list(),
        strict=True,
    ):
        (risen if change > 0 else fallen)[sector].append((change, row))
    return risen, fallen


def sector_movers(
    values: pl.DataFrame, layout: MoverLayout, labels: Sequence[Label]
) -> dict[int, dict[str, tuple[Mover, ...]]]:
    """Return each sector's best MOVERS ``leaders`` and ``laggards``, by change (ties by symbol).

    A symbol counts once per sector (its first listing); only a member that moved the right
    way counts, so a quiet sector has fewer (none before the open). One sort of the day's
    moves serves both ends (a sort of values costs a fraction of a sort of positions);
    ``labels`` are the rows' (symbol, name, bucket) (see capgap.analytics.legs.member_labels).
    """
    change = values.get_column("change_pct")
    # Null where a row cannot be a mover: not its symbol's first listing, unchanged, unquoted.
    key = change.zip_with(layout.first_listed & (change != 0.0), layout.nulls)
    rise, fall = _edges(key, layout)
    leaders, laggards = _candidates(key, rise, fall, layout)

    def best(candidates: list[tuple[float, int]], *, rising: bool) -> tuple[Mover, ...]:
        # By move alone first (plain tuples sort fast); the symbol then orders the few tied
        # with the last one shown.
        candidates = sorted(candidates, reverse=rising)
        if len(candidates) > MOVERS:
            edge = candidates[MOVERS - 1][0]
            candidates = [
                item for item in candidates if (item[0] >= edge) == rising or item[0] == edge
            ]
        sign = -1.0 if rising else 1.0
        ranked = sorted(candidates, key=lambda item: (sign * item[0], labels[item[1]][0]))
        return tuple(Mover(*labels[row], change_pct=float(value)) for value, row in ranked[:MOVERS])

    return {
        sector: {
            "leaders": best(leaders.get(sector, []), rising=True),
            "laggards": best(laggards.get(sector, []), rising=False),
        }
        for sector in leaders.keys() | laggards.keys()
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
    values = current_values(store, universe)
    movers = store.memo(
        "sectors.movers",
        (id(values), store.quotes_version),
        lambda: (
            values,
            sector_movers(
                values, current_mover_layout(store, universe), current_labels(store, universe)
            ),
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
