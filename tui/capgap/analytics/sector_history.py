"""The sector legs' daily history: chain-linked levels per (sector, leg), and their windows.

A leg's day is the index's own aggregate (market-facts "Index aggregates"): its members'
``sum(q * (c_t - c_t-1)) / sum(q * c_t-1)`` over those with both closes, so a member that
joins late or misses a day makes no jump. The weights ``q`` are today's (the current members
and the shares their funds hold now, or a custom sector stock's market cap over its price):
the history is the current members' past, not the index as it was then. The members' closes
are reduced to the levels once a day and dropped (see MarketStore.leg_levels); each tick
then costs a few multiplications per sector (see :func:`sector_windows`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from capgap.analytics.legs import current_values
from capgap.analytics.store import MarketStore
from capgap.core.schemas import LEG_LEVELS, empty
from capgap.core.snapshot import COVERAGE_MIN_PCT, SECTOR_WINDOW_IDS, Bucket, SectorWindow
from capgap.market.calendar import previous_session
from capgap.market.universe import Universe
from capgap.market.windows import HISTORY_MARGIN, base_position, window_start

#: The windows measured from the legs' history (the one-day window is the live change).
HISTORY_WINDOWS = SECTOR_WINDOW_IDS[1:]

#: A leg's key: its sector's position in the universe and its bucket.
LegKey = tuple[int, Bucket]
#: Per window id, the leg's level at the last close over its level at the window's base
#: (None: no base, or too little of the leg's weight had closes over the window).
Factors = Mapping[str, float | None]


def closes_start(today: date) -> date:
    """Return the first date of the members' closes every window of ``today`` needs.

    The earliest window start (3M, or YTD late in the year) less a margin, so that the last
    session on or before it is there (about 13 months at most).
    """
    return min(window_start(window, today) for window in HISTORY_WINDOWS) - HISTORY_MARGIN


def history_members(values: pl.DataFrame) -> pl.DataFrame:
    """Return the sector legs' members with their weights, from the members' values.

    ``values`` are capgap.analytics.legs.member_values (``q`` and ``ref_value`` as the
    legs weigh them now). Columns: symbol, sector_idx, bucket, q, ref_value; members of no
    sector of the universe are left out (they are in no sector leg).
    """
    return values.filter(pl.col("sector_idx").is_not_null()).select(
        "symbol", "sector_idx", "bucket", "q", "ref_value"
    )


#: Members read and summed at a time: a chunk's closes, not the year of every member's, are
#: in memory at once (the replay's file is sorted by symbol, so a chunk reads few row groups).
CHUNK_MEMBERS = 250


def _chunk_sums(closes: pl.LazyFrame, legs: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Return a chunk of members' sums per (leg, date, previous close's date), and its dates.

    Each close is paired with the symbol's own previous one: whether that is the previous
    date of all the closes is known only once every chunk is in (see leg_levels).
    """
    close, symbol, day = pl.col("close"), pl.col("symbol"), pl.col("date")
    rows = (
        closes.select("symbol", "date", "close")
        .filter(close.is_finite() & (close > 0) & day.is_not_null())
        .collect()
    )
    same = symbol == symbol.shift()
    # A file of closes is written in order; sorting it again would cost more memory than it
    # holds (as in the replay's _sorted_bars).
    disordered = (symbol < symbol.shift()) | (same & (day < day.shift()))
    if rows.select(disordered.any()).item():
        rows = rows.sort("symbol", "date", maintain_order=True)
    # A (symbol, date) given twice counts once, the row given last (no unique(): its hash
    # tables cost more memory than the rows themselves).
    repeated = (symbol == symbol.shift(-1)) & (day == day.shift(-1))
    q, prev = pl.col("q"), pl.col("prev")
    sums = (
        rows.filter(~repeated.fill_null(False))
        .with_columns(
            prev=pl.when(same).then(close.shift()),
            prev_date=pl.when(same).then(day.shift()),
        )
        .filter(prev.is_not_null())
        .join(legs.select("symbol", "sector_idx", "bucket", "q", "ref_value"), on="symbol")
        .filter(q.is_not_null())
        .group_by(pl.col("sector_idx").cast(pl.UInt32), "bucket", "date", "prev_date")
        .agg(
            moved=(q * (close - prev)).sum(),
            held=(q * prev).sum(),
            covered=pl.col("ref_value").fill_null(0.0).sum(),
        )
    )
    return sums, rows.get_column("date").unique()


def leg_levels(
    members_daily: pl.DataFrame | pl.LazyFrame,
    members: pl.DataFrame,
    *,
    chunk: int = CHUNK_MEMBERS,
) -> pl.DataFrame:
    """Return each sector leg's daily level (LEG_LEVELS schema), sorted by leg and date.

    ``members_daily`` holds the members' daily closes (symbol, date, close; other columns are
    not read); ``members`` the legs' members: symbol, sector_idx, bucket, q (the weight, null:
    left out) and ref_value (the weight coverage is judged by, see history_members). Every
    leg gets a row for every date of the closes; the level is 100.0 at the first date and moves
    by the day's return of the members with both that day's close and the previous date's;
    ``coverage_pct`` is their share of the leg's reference weight (0 on the first date, when
    no member has a previous close; a day no member covers keeps the level). The closes are
    read ``chunk`` members at a time.
    """
    legs = members.filter(pl.col("sector_idx").is_not_null())
    symbols = legs.get_column("symbol").unique().sort()
    lazy = members_daily.lazy()
    symbol = pl.col("symbol")
    parts = []
    for start in range(0, symbols.len(), chunk):
        part = symbols.slice(start, chunk)
        # A range of symbols, not a list: a parquet reader skips the row groups outside it by
        # their statistics (it reads every group for a list), and the join drops the others.
        first, last = pl.lit(part.first()), pl.lit(part.last())
        parts.append(
            _chunk_sums(
                lazy.filter(symbol.is_between(first, last)),
                legs.filter(symbol.is_between(first, last)),
            )
        )
    keys = legs.select(pl.col("sector_idx").cast(pl.UInt32), "bucket").unique(maintain_order=True)
    days = pl.concat([dates for _, dates in parts]).unique().sort() if parts else None
    if days is None or days.is_empty() or keys.is_empty():
        return empty(LEG_LEVELS)
    # A member's previous close counts only when it is the previous date's: after a missing
    # day the member sits out one day rather than jump over two.
    calendar = days.to_frame().with_columns(prev_date=pl.col("date").shift())
    leg = ["sector_idx", "bucket"]
    sums = (
        pl.concat([part_sums for part_sums, _ in parts])
        .join(calendar, on=["date", "prev_date"], how="semi")
        .group_by(*leg, "date")
        .agg(pl.col("moved", "held", "covered").sum())
    )
    totals = legs.group_by(pl.col("sector_idx").cast(pl.UInt32), "bucket").agg(
        total=pl.col("ref_value").fill_null(0.0).sum()
    )
    held = pl.col("held").fill_null(0.0)
    factor = pl.when(held > 0).then(1.0 + pl.col("moved") / held).otherwise(1.0)
    return (
        keys.join(days.to_frame(), how="cross")
        .join(sums, on=[*leg, "date"], how="left")
        .join(totals, on=leg, how="left")
        .sort(*leg, "date")
        .with_columns(
            level=100.0 * factor.cum_prod().over(leg),
            coverage_pct=pl.when(pl.col("total") > 0).then(
                pl.col("covered").fill_null(0.0) / pl.col("total") * 100.0
            ),
        )
        .select(LEG_LEVELS.names())
    )


def current_leg_levels(store: MarketStore, universe: Universe) -> pl.DataFrame:
    """Return the store's sector leg levels for ``universe``'s sectors (LEG_LEVELS schema).

    The levels are reduced from the members' closes once a day (the engine calls leg_levels
    off the UI thread and hands them to MarketStore.apply_leg_levels); this keeps the legs of
    the universe's sectors, memoised on the store's daily version.
    """
    sectors = len(universe.sectors)
    held: tuple[Universe, pl.DataFrame] = store.memo(
        "sector_history.levels",
        (id(universe), store.daily_version),
        lambda: (universe, store.leg_levels.filter(pl.col("sector_idx") < sectors)),
    )
    return held[1]


def _leg_factors(
    days: list[date], levels: list[float], coverage: list[float | None], today: date
) -> dict[str, float | None]:
    """Return one leg's factors (see Factors) from its dates, levels and coverage before today."""
    factors: dict[str, float | None] = dict.fromkeys(HISTORY_WINDOWS)
    # The last close must be the session before today: else today's change would be chained
    # onto an older close and the days between would be lost.
    if not days or days[-1] != previous_session(today).day:
        return factors
    last = len(days) - 1
    for window in HISTORY_WINDOWS:
        base = base_position(days, window, today)
        if base is None or levels[base] <= 0:
            continue
        # Every day chained from the base to the last close must rest on enough of the leg.
        chained = coverage[base + 1 : last + 1]
        if any(value is None or value < COVERAGE_MIN_PCT for value in chained):
            continue
        factors[window] = levels[last] / levels[base]
    return factors


def window_factors(levels: pl.DataFrame, today: date) -> dict[LegKey, dict[str, float | None]]:
    """Return each leg's factors over the windows (see Factors), from its levels before today."""
    before = levels.filter(pl.col("date") < today).sort("sector_idx", "bucket", "date")
    result: dict[LegKey, dict[str, float | None]] = {}
    for (sector_idx, bucket), leg in before.group_by("sector_idx", "bucket", maintain_order=True):
        key: LegKey = (int(sector_idx), "large" if bucket == "large" else "small")
        result[key] = _leg_factors(
            leg.get_column("date").to_list(),
            leg.get_column("level").to_list(),
            leg.get_column("coverage_pct").to_list(),
            today,
        )
    return result


def current_window_factors(
    store: MarketStore, universe: Universe, today: date
) -> dict[LegKey, dict[str, float | None]]:
    """Return the legs' window factors for ``today``, computed once per day and history."""
    levels = current_leg_levels(store, universe)
    held: tuple[pl.DataFrame, dict[LegKey, dict[str, float | None]]] = store.memo(
        "sector_history.factors",
        (id(levels), today),
        lambda: (levels, window_factors(levels, today)),
    )
    return held[1]


def window_change(factor: float | None, change_pct: float | None) -> float | None:
    """Return a leg's change over a window in %: its factor to the last close, then today's.

    Today's factor is 1 before the open or without today's change.
    """
    if factor is None:
        return None
    today = 1.0 + change_pct / 100.0 if change_pct is not None else 1.0
    return (factor * today - 1.0) * 100.0


def sector_windows(
    large: Factors | None,
    small: Factors | None,
    large_change_pct: float | None,
    small_change_pct: float | None,
) -> tuple[SectorWindow, ...]:
    """Return a sector's legs over HISTORY_WINDOWS from their factors and today's changes."""
    windows = []
    for window in HISTORY_WINDOWS:
        large_pct = window_change(large.get(window) if large else None, large_change_pct)
        small_pct = window_change(small.get(window) if small else None, small_change_pct)
        spread = small_pct - large_pct if large_pct is not None and small_pct is not None else None
        windows.append(SectorWindow(window, large_pct, small_pct, spread))
    return tuple(windows)


def history_members_of(store: MarketStore, universe: Universe) -> pl.DataFrame:
    """Return the sector legs' members weighed as the stored quotes weigh them now."""
    return history_members(current_values(store, universe))


def heaviest_first(members: pl.DataFrame) -> list[str]:
    """Return the members' symbols by their weight in their index, heaviest first.

    ``members`` as history_members gives them; a member's weight is its ``ref_value`` (shares
    held x price) over its index's total, the larger of the two for a member of both. A
    history fetched in this order passes each leg's coverage bar early. Ties go by symbol.
    """
    value = pl.col("ref_value").fill_null(0.0)
    total = value.sum().over("bucket")
    weight = pl.when(total > 0).then(value / total).otherwise(0.0)
    return (
        members.select("symbol", weight.alias("weight"))
        .group_by("symbol")
        .agg(pl.col("weight").max())
        .sort(["weight", "symbol"], descending=[True, False])
        .get_column("symbol")
        .to_list()
    )
