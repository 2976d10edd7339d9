"""The large-cap vs small-cap spread: relative performance, ratio, z-score, beta and correlation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from capgap.analytics.quotes import QuoteRow
from capgap.analytics.store import MarketStore
from capgap.core.market_types import NEW_YORK
from capgap.core.records import replace
from capgap.core.snapshot import (
    IndexLegs,
    IndexQuote,
    RatioPoint,
    RelativePerformance,
    SpreadSnapshot,
    Valuation,
)
from capgap.market.universe import Benchmarks
from capgap.market.windows import base_position, first_position

#: Daily sessions behind the ratio z-score.
RATIO_SESSIONS = 252
#: Fewest daily ratios a z-score is computed from; fewer say too little about "normal".
MIN_RATIO_SESSIONS = 20
#: Daily returns behind beta and correlation (a full window is required).
BETA_RETURNS = 60
#: The panel's windows measured from daily closes (1d comes from the quote's previous close):
#: the fields of RelativePerformance, a subset of the windows of capgap.market.windows (no 6M).
PANEL_WINDOWS = ("5d", "1m", "3m", "ytd", "1y")
#: The longest window: the ratio history and a symbol's closes reach back to its base.
YEAR = "1y"


def base_closes(closes: pl.DataFrame, today: date) -> dict[str, float | None]:
    """Return the base close of each of the panel's windows for one symbol.

    ``closes`` holds one symbol's (date, close) rows; only dates before ``today`` count. The
    base is the last close on or before the window's start (see capgap.market.windows); a
    window whose start the history does not reach back to has None.
    """
    history = closes.filter(pl.col("date") < today).sort("date")
    dates: list[date] = history.get_column("date").to_list()
    values: list[float] = history.get_column("close").to_list()
    bases: dict[str, float | None] = {}
    for window in PANEL_WINDOWS:
        position = base_position(dates, window, today)
        bases[window] = values[position] if position is not None else None
    return bases


@dataclass(frozen=True, slots=True)
class DailyBasis:
    """Everything the spread needs that depends only on daily history (cached per version)."""

    large_bases: dict[str, float | None]
    small_bases: dict[str, float | None]
    ratio_mean: float | None
    ratio_std: float | None
    beta_60d: float | None
    corr_60d: float | None
    ratio_history: tuple[RatioPoint, ...]


def _finite(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def beta_corr(paired: pl.DataFrame, *, asset: str, index: str) -> tuple[float | None, float | None]:
    """Return beta and correlation of ``asset`` against ``index`` over the last 60 daily returns.

    ``paired`` holds both closes per session, sorted by date; returns are simple daily changes
    and the full window of ``BETA_RETURNS`` returns is required (else both are None).
    """
    window = paired.tail(BETA_RETURNS + 1)
    if window.height != BETA_RETURNS + 1:
        return None, None
    returns = window.select(
        index=pl.col(index).pct_change(), asset=pl.col(asset).pct_change()
    ).slice(1)
    cov, var, rho = returns.select(
        cov=pl.cov("asset", "index", ddof=1),
        var=pl.col("index").var(ddof=1),
        rho=pl.corr("asset", "index"),
    ).row(0)
    cov, var, corr = _finite(cov), _finite(var), _finite(rho)
    beta = cov / var if cov is not None and var else None
    return beta, corr


def daily_basis(daily: pl.DataFrame, large: str, small: str, today: date) -> DailyBasis:
    """Compute base closes, ratio statistics, beta/corr and ratio history from daily bars."""
    before = daily.filter(pl.col("symbol").is_in([large, small]) & (pl.col("date") < today))
    large_closes = before.filter(pl.col("symbol") == large).select("date", "close")
    small_closes = before.filter(pl.col("symbol") == small).select("date", "close")
    # Ratios and returns need both closes on the same session: join on date.
    paired = (
        large_closes.rename({"close": "large"})
        .join(small_closes.rename({"close": "small"}), on="date", how="inner")
        .sort("date")
        .with_columns(ratio=pl.col("small") / pl.col("large"))
    )
    recent = paired.tail(RATIO_SESSIONS)
    # The history reaches back to the 1Y window's base: every window's chart starts there.
    year = paired.slice(first_position(paired.get_column("date").to_list(), YEAR, today))
    mean = std = None
    if recent.height >= MIN_RATIO_SESSIONS:
        stats = recent.select(mean=pl.col("ratio").mean(), std=pl.col("ratio").std(ddof=1)).row(0)
        mean, std = _finite(stats[0]), _finite(stats[1])
    beta, corr = beta_corr(paired, asset="small", index="large")
    history = tuple(
        RatioPoint(day=day, ratio=float(ratio))
        for day, ratio in year.select("date", "ratio").iter_rows()
    )
    return DailyBasis(
        large_bases=base_closes(large_closes, today),
        small_bases=base_closes(small_closes, today),
        ratio_mean=mean,
        ratio_std=std,
        beta_60d=beta,
        corr_60d=corr,
        ratio_history=history,
    )


def perf_pct(last: float | None, base: float | None) -> float | None:
    """Return the performance from ``base`` to ``last`` in percent."""
    if last is None or base is None or base <= 0:
        return None
    return (last / base - 1.0) * 100.0


def window_changes(
    last: float | None, bases: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Return the percent change to ``last`` from each daily window's base close."""
    return {window: perf_pct(last, bases[window]) for window in PANEL_WINDOWS}


def performance(values: Mapping[str, float | None]) -> RelativePerformance:
    """Return a RelativePerformance from values keyed "1d" and the daily PANEL_WINDOWS."""
    return RelativePerformance(
        d1=values["1d"],
        d5=values["5d"],
        m1=values["1m"],
        m3=values["3m"],
        ytd=values["ytd"],
        y1=values["1y"],
    )


def _relative(small: float | None, large: float | None) -> float | None:
    return None if small is None or large is None else small - large


def index_quote(symbol: str, name: str, row: QuoteRow | None) -> IndexQuote:
    """Return the IndexQuote of ``symbol`` from its stored quote (all None without one)."""
    if row is None:
        return IndexQuote(symbol, name, None, None, None, None)
    return IndexQuote(symbol, name, row.last, row.prev_close, row.change_pct, row.time)


def make_valuation(
    large_forward_pe: float | None, small_forward_pe: float | None, source: str | None
) -> Valuation:
    """Return a Valuation with small_discount_pct = (1 - small_pe / large_pe) * 100."""
    large = large_forward_pe if large_forward_pe is not None and large_forward_pe > 0 else None
    small = small_forward_pe if small_forward_pe is not None and small_forward_pe > 0 else None
    large = large if large is not None and math.isfinite(large) else None
    small = small if small is not None and math.isfinite(small) else None
    discount = (1.0 - small / large) * 100.0 if large is not None and small is not None else None
    return Valuation(large, small, discount, source)


def bottom_up_valuation(legs: IndexLegs, source: str | None) -> Valuation:
    """Return the valuation gap from both indices' bottom-up figures (see LegStats).

    The discount is on the headline method (negative earners left out); ``source`` goes with
    the figures only when there are some.
    """
    large, small = legs.large, legs.small
    headline = make_valuation(large.forward_pe, small.forward_pe, None)
    known = headline.large_forward_pe is not None or headline.small_forward_pe is not None
    return replace(
        headline,
        source=source if known else None,
        large_forward_pe_incl_negative=large.forward_pe_incl_negative,
        small_forward_pe_incl_negative=small.forward_pe_incl_negative,
        large_unprofitable_pct=large.unprofitable_pct,
        small_unprofitable_pct=small.unprofitable_pct,
        large_coverage_pct=large.pe_coverage_pct,
        small_coverage_pct=small.pe_coverage_pct,
    )


def session_date(rows: Mapping[str, QuoteRow], symbols: tuple[str, ...], fallback: date) -> date:
    """Return the New York date of the newest quote among ``symbols`` (``fallback`` if none)."""
    times = [rows[symbol].time for symbol in symbols if symbol in rows]
    return max(times).astimezone(NEW_YORK).date() if times else fallback


def spread_snapshot(
    store: MarketStore,
    benchmarks: Benchmarks,
    rows: Mapping[str, QuoteRow],
    names: Mapping[str, str],
    valuation: Valuation,
    today: date,
) -> SpreadSnapshot:
    """Build the spread panel from the latest index quotes and the (cached) daily basis."""
    large_symbol, small_symbol = benchmarks.large_index, benchmarks.small_index
    basis = store.memo(
        "spread.daily_basis",
        (store.daily_version, large_symbol, small_symbol, today),
        lambda: daily_basis(store.daily, large_symbol, small_symbol, today),
    )
    large_row, small_row = rows.get(large_symbol), rows.get(small_symbol)
    large_last = large_row.last if large_row is not None else None
    small_last = small_row.last if small_row is not None else None
    relative = {
        "1d": _relative(
            small_row.change_pct if small_row is not None else None,
            large_row.change_pct if large_row is not None else None,
        )
    }
    small_changes = window_changes(small_last, basis.small_bases)
    large_changes = window_changes(large_last, basis.large_bases)
    for window in PANEL_WINDOWS:
        relative[window] = _relative(small_changes[window], large_changes[window])
    ratio = small_last / large_last if small_last is not None and large_last is not None else None
    z_score = None
    if ratio is not None and basis.ratio_mean is not None and basis.ratio_std:
        z_score = (ratio - basis.ratio_mean) / basis.ratio_std
    history = basis.ratio_history
    if ratio is not None:
        history = (*history, RatioPoint(day=today, ratio=ratio))
    return SpreadSnapshot(
        large=index_quote(large_symbol, names.get(large_symbol, large_symbol), large_row),
        small=index_quote(small_symbol, names.get(small_symbol, small_symbol), small_row),
        relative_pp=performance(relative),
        ratio=ratio,
        ratio_z_1y=z_score,
        beta_60d=basis.beta_60d,
        corr_60d=basis.corr_60d,
        valuation=valuation,
        ratio_history=history,
    )
