"""Assemble the Snapshot of one tick from the store, the universe and the caller's context."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

import polars as pl

from capgap.analytics.decomposition import decomposition
from capgap.analytics.drilldown import sector_detail, symbol_detail
from capgap.analytics.extended import extended_gap, index_futures
from capgap.analytics.quotes import QuoteRow, positions, rows_at
from capgap.analytics.rotation import rotation_snapshot
from capgap.analytics.sector_history import current_leg_levels
from capgap.analytics.sectors import current_index_legs, etf_symbols, sector_rows
from capgap.analytics.spread import bottom_up_valuation, session_date, spread_snapshot
from capgap.analytics.store import MarketStore
from capgap.analytics.style import style_snapshot
from capgap.core.market_types import NEW_YORK, MarketSession
from capgap.core.records import replace
from capgap.core.snapshot import (
    FedSnapshot,
    FeedStatus,
    HistoryStatus,
    IndexFutures,
    IndexQuote,
    RotationPoint,
    Snapshot,
    UniverseSnapshot,
)
from capgap.market.universe import Universe, vars_in_order


def watched_symbols(universe: Universe) -> tuple[str, ...]:
    """Return the symbols read one by one each tick: benchmarks and sector ETFs."""
    return tuple(dict.fromkeys([*vars_in_order(universe.benchmarks), *etf_symbols(universe)]))


def _watched_rows(store: MarketStore, universe: Universe) -> dict[str, QuoteRow]:
    """Return the quotes of the watched symbols; their row positions are cached per layout."""
    # Keyed on identity; the cached value holds the universe so its id cannot be reused.
    held: tuple[Universe, dict[str, int]] = store.memo(
        "build.watched",
        (id(universe), store.quotes_layout_version),
        lambda: (universe, positions(store.quotes, watched_symbols(universe))),
    )
    return rows_at(store.quotes, held[1])


def daily_rotation(
    store: MarketStore, universe: Universe, today: date, levels: pl.DataFrame | None = None
) -> tuple[RotationPoint, ...]:
    """Return the rotation map from the sectors' legs' daily ``levels``, once a day.

    ``levels`` default to the store's (capgap.analytics.sector_history.current_leg_levels,
    reduced from the members' closes once a day), so the map is memoised on them, the daily
    version and the session: nothing new runs per tick. No levels, no map.
    """
    levels = current_leg_levels(store, universe) if levels is None else levels
    if levels.height == 0:
        return ()
    # Keyed on identity; the cached value holds the universe and the levels so that their
    # ids cannot be reused.
    held: tuple[Universe, pl.DataFrame, tuple[RotationPoint, ...]] = store.memo(
        "build.rotation",
        (id(universe), id(levels), store.daily_version, today),
        lambda: (universe, levels, rotation_snapshot(levels, universe, today)),
    )
    return held[2]


def data_as_of(store: MarketStore) -> datetime | None:
    """Return the time of the newest stored quote (None without quotes)."""
    newest = store.quotes.get_column("time").max()
    return newest.astimezone(UTC) if isinstance(newest, datetime) else None


def aged(
    quote: IndexQuote,
    received: Mapping[str, datetime],
    now: datetime,
    stale_after_s: float | None,
) -> IndexQuote:
    """Return ``quote`` with its own age at ``now`` and whether it is older than allowed."""
    arrived = received.get(quote.symbol)
    if arrived is None:
        # Never arrived: no figure to call stale (the panel shows a dash).
        return quote
    age = (now - arrived).total_seconds()
    stale = stale_after_s is not None and age > stale_after_s
    return replace(quote, age_s=age, stale=stale)


def build_snapshot(
    store: MarketStore,
    universe: Universe,
    *,
    now: datetime,
    source: str,
    demo: bool,
    market: MarketSession,
    fed: FedSnapshot,
    valuation_source: str | None = None,
    feeds: tuple[FeedStatus, ...] = (),
    received: Mapping[str, datetime] | None = None,
    stale_after_s: float | None = None,
    focus_sector: str | None = None,
    focus_symbol: str | None = None,
    universe_info: UniverseSnapshot | None = None,
    leg_levels: pl.DataFrame | None = None,
    sector_history: HistoryStatus | None = None,
) -> Snapshot:
    """Compute spread, sectors and style from the store and wrap them with the given context.

    The session date ("today" for the daily windows) is the New York date of the newest index
    quote, or of ``now`` when neither index is quoted. The valuation is bottom-up from the
    members (labelled ``valuation_source``). ``focus_sector`` (a sector
    or watchlist) and ``focus_symbol`` add the drilldown details a screen has asked for.
    ``received`` says when each symbol's quote last arrived: the indices then carry their
    own age, stale beyond ``stale_after_s`` (a fresh S&P beside a Russell the feed rejected).
    ``universe_info`` (where the members come from, how old their quotes are) joins as is.
    ``leg_levels`` (the sectors' legs' daily levels; default the store's) give the rotation
    map, once a day.
    ``universe_info`` (where the members come from, how old their quotes are) and
    ``sector_history`` (how far the members' daily history has come) join as is.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("build_snapshot needs a timezone-aware `now`")
    benchmarks = universe.benchmarks
    rows = _watched_rows(store, universe)
    today = session_date(
        rows,
        (benchmarks.large_index, benchmarks.small_index),
        now.astimezone(NEW_YORK).date(),
    )
    indices = current_index_legs(store, universe)
    spread = spread_snapshot(
        store,
        benchmarks,
        rows,
        universe.names,
        bottom_up_valuation(indices, valuation_source),
        today,
    )
    spread = replace(spread, extended=extended_gap(store.quotes, benchmarks, rows, market, now))
    if received is not None:
        spread = replace(
            spread,
            large=aged(spread.large, received, now, stale_after_s),
            small=aged(spread.small, received, now, stale_after_s),
        )
    futures = index_futures(benchmarks, rows, universe.names)
    if received is not None:
        futures = IndexFutures(
            large=aged(futures.large, received, now, stale_after_s),
            small=aged(futures.small, received, now, stale_after_s),
        )
    sectors = sector_rows(store, universe, rows, today)
    return Snapshot(
        as_of=now.astimezone(UTC),
        source=source,
        demo=demo,
        market=market,
        spread=spread,
        sectors=sectors,
        style=style_snapshot(benchmarks, rows),
        fed=fed,
        feeds=feeds,
        data_as_of=data_as_of(store),
        sector_detail=sector_detail(store, universe, focus_sector, sectors)
        if focus_sector is not None
        else None,
        symbol_detail=symbol_detail(store, universe, focus_symbol, today)
        if focus_symbol is not None
        else None,
        session_date=today,
        indices=indices,
        universe=universe_info,
        futures=futures,
        rotation=daily_rotation(store, universe, today, leg_levels),
        sector_history=sector_history,
        decomposition=decomposition(store, benchmarks, rows, spread.relative_pp, today),
    )
