"""Drilldown figures: a sector's or watchlist's constituents, one symbol's detail, window stats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast

import polars as pl

from capgap.analytics.legs import current_values, held_value
from capgap.analytics.quotes import QuoteRow, quote_rows
from capgap.analytics.sectors import etf_symbols, sector_rows
from capgap.analytics.spread import (
    YEAR,
    base_closes,
    beta_corr,
    performance,
    window_changes,
)
from capgap.analytics.store import MarketStore
from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import (
    Bucket,
    ConstituentRow,
    DailyPoint,
    PricePoint,
    SectorDetail,
    SectorLeg,
    SectorRow,
    SymbolDetail,
)
from capgap.market.universe import Universe
from capgap.market.windows import first_position


def _membership(universe: Universe, symbol: str) -> tuple[str | None, Bucket | None]:
    """Return the sector and bucket of a constituent (its first listing), else (None, None)."""
    match = universe.constituents.filter(pl.col("symbol") == symbol)
    if match.height == 0:
        return None, None
    return str(match.item(0, "sector")), cast(Bucket, match.item(0, "bucket"))


def _change(row: QuoteRow | None) -> float | None:
    return row.change_pct if row is not None else None


def _minus(value: float | None, other: float | None) -> float | None:
    return None if value is None or other is None else value - other


def _leg_of(row: SectorRow | None, bucket: Bucket | None) -> SectorLeg | None:
    if row is None or bucket is None:
        return None
    return row.large if bucket == "large" else row.small


def _sector_constituents(
    store: MarketStore, universe: Universe, name: str, row: SectorRow | None
) -> tuple[ConstituentRow, ...]:
    """Return every member of the sector, large first, each by change (unquoted last).

    A member's weight is its share of its leg's value at the previous close (the leg's
    members in its index, weighted as the index: see capgap.analytics.legs) and its
    contribution its weighted change, so a leg's contributions add up to its change.
    """
    position = next(i for i, sector in enumerate(universe.sectors) if sector.name == name)
    values = current_values(store, universe)
    quoted = pl.col("quoted")
    prev_value = held_value(pl.col("prev_close"))
    eps = pl.col("eps_forward")
    last = pl.col("last")
    leg_prev = prev_value.sum().over("bucket")
    members = (
        values.filter(pl.col("sector_idx") == position)
        .unique(subset=["bucket", "symbol"], keep="first", maintain_order=True)
        .with_columns(
            weight_pct=prev_value / leg_prev * 100.0,
            contribution_pp=held_value(last - pl.col("prev_close")) / leg_prev * 100.0,
            forward_pe=pl.when(eps > 0).then(last / eps),
            above_50d=last > pl.col("avg_50d"),
            above_200d=last > pl.col("avg_200d"),
            change_pct=pl.when(quoted).then(pl.col("change_pct")),
        )
        .sort(
            [pl.col("bucket") != "large", pl.col("change_pct"), pl.col("symbol")],
            descending=[False, True, False],
            nulls_last=True,
        )
    )
    columns = (
        "symbol",
        "name",
        "bucket",
        "last",
        "change_pct",
        "weight_pct",
        "contribution_pp",
        "forward_pe",
        "above_50d",
        "above_200d",
    )
    result = []
    for values_of in members.select(columns).iter_rows(named=True):
        bucket = cast(Bucket, values_of["bucket"])
        leg = _leg_of(row, bucket)
        change = values_of["change_pct"]
        result.append(
            ConstituentRow(
                symbol=str(values_of["symbol"]),
                name=str(values_of["name"]),
                bucket=bucket,
                last=values_of["last"] if change is not None else None,
                change_pct=change,
                weight_pct=values_of["weight_pct"],
                contribution_pp=values_of["contribution_pp"],
                vs_etf_pp=_minus(change, leg.change_pct if leg is not None else None),
                forward_pe=values_of["forward_pe"],
                above_50d=values_of["above_50d"],
                above_200d=values_of["above_200d"],
            )
        )
    return tuple(result)


def _watchlist_constituents(
    universe: Universe,
    symbols: Sequence[str],
    rows: Sequence[SectorRow],
    quotes: Mapping[str, QuoteRow],
) -> tuple[ConstituentRow, ...]:
    by_sector = {row.sector: row for row in rows}
    result = []
    for symbol in symbols:
        sector, bucket = _membership(universe, symbol)
        quote = quotes.get(symbol)
        change = _change(quote)
        # A watchlist has no weights; a known constituent is still compared with its sector's
        # leg for its bucket.
        leg = _leg_of(by_sector.get(sector) if sector is not None else None, bucket)
        result.append(
            ConstituentRow(
                symbol=symbol,
                name=universe.name_of(symbol),
                bucket=bucket,
                last=quote.last if quote is not None else None,
                change_pct=change,
                weight_pct=None,
                contribution_pp=None,
                vs_etf_pp=_minus(change, leg.change_pct if leg is not None else None),
            )
        )
    return tuple(result)


def _current_rows(store: MarketStore, universe: Universe) -> tuple[SectorRow, ...]:
    return sector_rows(store, universe, quote_rows(store.quotes, etf_symbols(universe)))


def sector_detail(
    store: MarketStore,
    universe: Universe,
    name: str,
    rows: Sequence[SectorRow] | None = None,
) -> SectorDetail | None:
    """Return the drilldown of the sector or watchlist ``name`` (None when there is no such).

    ``rows`` are the tick's sector rows (computed here when not given). A sector lists all
    its members large first, then small, each by change descending (unquoted last), weighted
    as their index weighs them; a watchlist keeps its configured order.
    """
    if any(sector.name == name for sector in universe.sectors):
        row = next((row for row in rows or () if row.sector == name), None)
        if row is None:
            row = next(row for row in _current_rows(store, universe) if row.sector == name)
        return SectorDetail(
            name=name,
            kind="sector",
            row=row,
            constituents=_sector_constituents(store, universe, name, row),
        )
    symbols = universe.watchlists.get(name)
    if symbols is None:
        return None
    rows = rows if rows is not None else _current_rows(store, universe)
    return SectorDetail(
        name=name,
        kind="watchlist",
        row=None,
        constituents=_watchlist_constituents(
            universe, symbols, rows, quote_rows(store.quotes, symbols)
        ),
    )


@dataclass(frozen=True, slots=True)
class SymbolBasis:
    """What a symbol's detail takes from daily history alone (cached per daily version)."""

    bases: dict[str, float | None]
    beta_60d: float | None
    corr_60d: float | None
    low: float | None
    high: float | None
    closes: tuple[DailyPoint, ...]


def _valid(column: str) -> pl.Expr:
    value = pl.col(column)
    return pl.when(value.is_finite() & (value > 0)).then(value)


def _float_or_none(value: object) -> float | None:
    return float(cast(float, value)) if value is not None else None


def symbol_basis(daily: pl.DataFrame, symbol: str, index: str, today: date) -> SymbolBasis:
    """Compute a symbol's window bases, beta/corr against ``index``, range and closes.

    Only sessions before ``today`` count, as for the spread panel. The range (the lows and
    highs) and the closes span the 1Y window: from its base on, the same year as its change.
    """
    before = daily.filter(pl.col("symbol").is_in([symbol, index]) & (pl.col("date") < today))
    own = before.filter(pl.col("symbol") == symbol).sort("date")
    closes = own.select("date", "close")
    paired = (
        closes.rename({"close": "asset"})
        .join(
            before.filter(pl.col("symbol") == index).select("date", pl.col("close").alias("index")),
            on="date",
            how="inner",
        )
        .sort("date")
    )
    beta, corr = beta_corr(paired, asset="asset", index="index")
    first = first_position(own.get_column("date").to_list(), YEAR, today)
    year = own.slice(first)
    # A missing low or high falls back to the close: the range never rests on zeros.
    low, high = year.select(
        low=pl.coalesce(_valid("low"), _valid("close")).min(),
        high=pl.coalesce(_valid("high"), _valid("close")).max(),
    ).row(0)
    return SymbolBasis(
        bases=base_closes(closes, today),
        beta_60d=beta,
        corr_60d=corr,
        low=_float_or_none(low),
        high=_float_or_none(high),
        closes=tuple(
            DailyPoint(day=day, close=float(close))
            for day, close in closes.slice(first).iter_rows()
        ),
    )


def index_for(universe: Universe, symbol: str, bucket: Bucket | None) -> str:
    """Return the index a symbol is measured against: the small index for small caps."""
    bench = universe.benchmarks
    small = {bench.small_index, bench.small_etf, bench.small_value, bench.small_growth}
    small.update(sector.small_etf for sector in universe.sectors if sector.small_etf)
    return bench.small_index if bucket == "small" or symbol in small else bench.large_index


@dataclass(frozen=True, slots=True)
class _Today:
    """A symbol's minute bars of today: the closes for the chart, the day's low and high."""

    points: tuple[PricePoint, ...]
    low: float | None
    high: float | None


def _today(store: MarketStore, symbol: str, today: date) -> _Today:
    bars = store.intraday.filter(
        (pl.col("symbol") == symbol)
        & (pl.col("time").dt.convert_time_zone(str(NEW_YORK)).dt.date() == today)
    )
    low, high = bars.select(low=_valid("low").min(), high=_valid("high").max()).row(0)
    return _Today(
        points=tuple(
            PricePoint(time=moment, close=float(close))
            for moment, close in bars.select("time", "close").iter_rows()
        ),
        low=_float_or_none(low),
        high=_float_or_none(high),
    )


def _present(*values: float | None) -> list[float]:
    return [value for value in values if value is not None]


def symbol_detail(store: MarketStore, universe: Universe, symbol: str, today: date) -> SymbolDetail:
    """Return the symbol screen's figures; without quotes or history they are None or empty.

    ``changes`` use the spread panel's windows (1d from the previous close); beta and
    correlation are against the small index for small caps and small-cap ETFs, else the large
    index. The 52-week range spans the daily lows and highs of the 1Y window (from its base
    on), today's minute bars and today's last; without daily history it is unknown (None).
    """
    sector, bucket = _membership(universe, symbol)
    index = index_for(universe, symbol, bucket)
    quote = quote_rows(store.quotes, [symbol]).get(symbol)
    last = quote.last if quote is not None else None
    basis = store.memo(
        "drilldown.symbol_basis",
        (store.daily_version, symbol, index, today),
        lambda: symbol_basis(store.daily, symbol, index, today),
    )
    bars = store.memo(
        "drilldown.today",
        (store.intraday_version, symbol, today),
        lambda: _today(store, symbol, today),
    )
    daily = basis.closes
    low = high = None
    if basis.low is not None and basis.high is not None:
        low = min(_present(basis.low, bars.low, last))
        high = max(_present(basis.high, bars.high, last))
    if last is not None:
        daily = (*daily, DailyPoint(day=today, close=last))
    return SymbolDetail(
        symbol=symbol,
        name=universe.name_of(symbol),
        sector=sector,
        bucket=bucket,
        index=index,
        last=last,
        prev_close=quote.prev_close if quote is not None else None,
        change_pct=_change(quote),
        changes=performance({"1d": _change(quote), **window_changes(last, basis.bases)}),
        beta_60d=basis.beta_60d,
        corr_60d=basis.corr_60d,
        low_52w=low,
        high_52w=high,
        intraday=bars.points,
        daily=daily,
    )
