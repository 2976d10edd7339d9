"""Calibration checks a seed must pass, computed on the rounded closes as they are written."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from capgap.core.market_types import NEW_YORK
from capgap.market.calendar import POST_MARKET_CLOSE, PRE_MARKET_OPEN, TradingDay
from capgap.market.universe import Universe
from capgap.sample.align import IndexMembers
from capgap.sample.calibration import Calibration
from capgap.sample.extended import ExtendedSession, basis, futures_window
from capgap.sample.fundamentals import LegFundamentals, leg_fundamentals
from capgap.sample.intraday import MEMBER_MINUTES
from capgap.sample.model import FloatArray, floats
from capgap.sample.plan import Plan

Closes = dict[str, FloatArray]
MINUTE = timedelta(minutes=1)


def daily_returns(closes: FloatArray, *, simple: bool) -> FloatArray:
    """Return daily simple or log returns of a close series."""
    if simple:
        return closes[1:] / closes[:-1] - 1.0
    return np.diff(np.log(closes))


def pair_stats(large: FloatArray, small: FloatArray) -> dict[str, float]:
    """Return volatilities, their ratio, correlation and beta of ``small`` on ``large``."""
    cov = np.cov(small, large, ddof=1)
    return {
        "large_vol": float(np.sqrt(cov[1, 1])),
        "small_vol": float(np.sqrt(cov[0, 0])),
        "vol_ratio": float(np.sqrt(cov[0, 0] / cov[1, 1])),
        "correlation": float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])),
        "beta": float(cov[0, 1] / cov[1, 1]),
    }


def excess_kurtosis(values: FloatArray) -> float:
    """Return the sample excess kurtosis (0 for a normal distribution)."""
    centred = values - values.mean()
    return float(np.mean(centred**4) / np.mean(centred**2) ** 2 - 3.0)


def _outside(value: float, bounds: tuple[float, float]) -> bool:
    return not bounds[0] <= value <= bounds[1]


def index_stats(cal: Calibration, closes: Closes) -> dict[str, dict[str, float]]:
    """Return the pair statistics for every (window, return kind) the targets name."""
    large, small = closes[cal.large.symbol], closes[cal.small.symbol]
    last = cal.targets.stats_window
    stats: dict[str, dict[str, float]] = {}
    for kind in ("log", "simple"):
        rl = daily_returns(large, simple=kind == "simple")
        rs = daily_returns(small, simple=kind == "simple")
        stats[f"all/{kind}"] = pair_stats(rl, rs)
        stats[f"last{last}/{kind}"] = pair_stats(rl[-last:], rs[-last:])
    return stats


def index_failures(cal: Calibration, closes: Closes) -> list[str]:
    """List the index targets the closes miss (empty when all hold)."""
    targets = cal.targets
    failures: list[str] = []
    for label, stats in index_stats(cal, closes).items():
        keys = ["vol_ratio", "correlation", "beta"] + (["large_vol"] if "all" in label else [])
        for key in keys:
            if _outside(stats[key], getattr(targets, key)):
                failures.append(f"{label} {key} {stats[key]:.4f}")
    for spec in (cal.large, cal.small):
        kurt = excess_kurtosis(daily_returns(closes[spec.symbol], simple=False))
        if kurt < targets.excess_kurtosis_min:
            failures.append(f"{spec.symbol} excess kurtosis {kurt:.2f}")
        if spec.record_at_end and closes[spec.symbol][-1] <= closes[spec.symbol][:-1].max():
            failures.append(f"{spec.symbol} last close is not a record")
    return failures


def window_return(closes: FloatArray, window: int) -> float:
    """Return the simple return over the last ``window`` daily returns."""
    return float(closes[-1] / closes[-1 - window] - 1.0)


def rotation_gaps(cal: Calibration, universe: Universe, closes: Closes) -> dict[str, float]:
    """Return small-ETF minus large-ETF window return per sector that has both ETFs."""
    return {
        sector.name: window_return(closes[sector.small_etf], cal.window)
        - window_return(closes[sector.large_etf], cal.window)
        for sector in universe.sectors
        if sector.small_etf and sector.large_etf
    }


def constituent_betas(plan: Plan, closes: Closes) -> dict[str, float]:
    """Return each constituent's OLS beta on its leg's driver (^RUT for a virtual leg)."""
    betas: dict[str, float] = {}
    for symbol, driver in plan.driver_of.items():
        source = plan.small_index if driver not in closes else driver
        x = daily_returns(closes[source], simple=False)
        y = daily_returns(closes[symbol], simple=False)
        cov = np.cov(y, x, ddof=1)
        betas[symbol] = float(cov[0, 1] / cov[1, 1])
    return betas


def daily_failures(cal: Calibration, universe: Universe, plan: Plan, closes: Closes) -> list[str]:
    """List the sector, constituent, ^VIX and ^TNX targets the closes miss."""
    targets = cal.targets
    failures: list[str] = []
    gaps = rotation_gaps(cal, universe, closes)
    failures += [
        f"{name} small lead {gaps[name]:.4f}"
        for name in targets.rotation_leaders
        if gaps[name] < targets.rotation_margin
    ]
    failures += [
        f"{name} small lag {gaps[name]:.4f}"
        for name in targets.rotation_laggards
        if gaps[name] > -targets.rotation_margin
    ]
    betas = constituent_betas(plan, closes)
    outside = [symbol for symbol, beta in betas.items() if _outside(beta, targets.constituent_beta)]
    if len(outside) > (1.0 - targets.constituent_beta_share) * len(betas):
        failures.append(f"{len(outside)} of {len(betas)} member betas outside the range")
    median = float(np.median(list(betas.values())))
    if _outside(median, targets.constituent_beta_median):
        failures.append(f"median constituent beta {median:.2f}")
    vix, tnx = closes["^VIX"], closes["^TNX"]
    if _outside(float(np.median(vix)), targets.vix_median):
        failures.append(f"^VIX median {np.median(vix):.2f}")
    spx = daily_returns(closes[cal.large.symbol], simple=False)
    vix_corr = float(np.corrcoef(daily_returns(vix, simple=False), spx)[0, 1])
    if vix_corr > targets.vix_correlation_max:
        failures.append(f"^VIX correlation {vix_corr:.2f}")
    if _outside(float(tnx.mean()), targets.tnx_mean):
        failures.append(f"^TNX mean {tnx.mean():.2f}")
    return failures


def member_prices(constituents: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """Join the members' shares, sector and bucket to ``prices`` (symbol, price) and their EPS."""
    return constituents.select("symbol", "sector", "bucket", "shares").join(
        prices, on="symbol", how="inner"
    )


def fundamentals_by_leg(frame: pl.DataFrame) -> dict[str, LegFundamentals]:
    """Measure each bucket of ``frame`` (symbol, sector, bucket, shares, price, EPS columns)."""
    return {
        bucket: leg_fundamentals(bucket, frame.filter(pl.col("bucket") == bucket))
        for bucket in ("large", "small")
    }


def sector_forward_pe(frame: pl.DataFrame) -> dict[tuple[str, str], float | None]:
    """Return the bottom-up forward P/E of each (bucket, sector) of ``frame``."""
    result: dict[tuple[str, str], float | None] = {}
    for (bucket, sector), group in frame.group_by("bucket", "sector"):
        result[(str(bucket), str(sector))] = leg_fundamentals("large", group).forward_pe
    return result


def fundamentals_failures(cal: Calibration, frame: pl.DataFrame) -> list[str]:
    """List the fundamentals targets the members miss (``frame`` as for fundamentals_by_leg)."""
    targets = cal.targets
    legs = fundamentals_by_leg(frame)
    large, small = legs["large"], legs["small"]
    failures: list[str] = []
    if large.forward_pe is None or _outside(large.forward_pe, targets.large_forward_pe):
        failures.append(f"S&P 500 forward P/E {large.forward_pe}")
    if large.forward_pe is not None and small.forward_pe is not None:
        discount = 100.0 * (1.0 - small.forward_pe / large.forward_pe)
        if _outside(discount, targets.small_discount_pct):
            failures.append(f"small-cap discount {discount:.1f} %")
    else:
        failures.append("small-cap discount undefined")
    if _outside(large.unprofitable_pct, targets.large_unprofitable_pct):
        failures.append(f"S&P 500 unprofitable {large.unprofitable_pct:.1f} %")
    if _outside(small.unprofitable_pct, targets.small_unprofitable_pct):
        failures.append(f"Russell 2000 unprofitable {small.unprofitable_pct:.1f} %")
    low = targets.negative_forward_pct_min
    if not low <= large.negative_forward_pct < small.negative_forward_pct:
        failures.append(
            f"negative forward EPS {large.negative_forward_pct:.1f} % large, "
            f"{small.negative_forward_pct:.1f} % small"
        )
    sectors = sector_forward_pe(frame)
    for bucket in ("large", "small"):
        for dear in targets.dear_sectors:
            for cheap in targets.cheap_sectors:
                dear_pe, cheap_pe = sectors.get((bucket, dear)), sectors.get((bucket, cheap))
                if dear_pe is None or cheap_pe is None or cheap_pe >= dear_pe:
                    failures.append(f"{bucket} {cheap} P/E {cheap_pe} not below {dear} {dear_pe}")
    return failures


@dataclass(frozen=True, slots=True)
class MemberIndexGaps:
    """How far an index's members, weighted as its fund holds them, are from the index (pp).

    The members' change is sum(q * (p - prev)) / sum(q * prev) (q = shares the fund holds).
    ``daily_max``: the largest difference of the daily changes; ``year``: the difference over
    the whole file; ``marks_max``: the largest at the open and at every 5-minute mark of the
    session day. ``between_*``: the minutes between the marks as the replay serves them (a
    member's last 5-minute bar until the next while the index moves every minute).
    """

    index: str
    daily_max: float
    year: float
    marks_max: float
    between_max: float
    between_median: float


def held_values(
    frame: pl.DataFrame, shares: pl.DataFrame, key: str, price: str = "close"
) -> FloatArray:
    """Return sum(q * price) over the members in ``shares`` (symbol, shares), per ``key``."""
    return floats(
        frame.join(shares, on="symbol", how="inner")
        .group_by(key)
        .agg((pl.col("shares") * pl.col(price)).sum().alias("value"))
        .sort(key)
        .get_column("value")
        .to_numpy()
    )


def _series(frame: pl.DataFrame, symbol: str, key: str, price: str = "close") -> FloatArray:
    return floats(frame.filter(pl.col("symbol") == symbol).sort(key).get_column(price).to_numpy())


def member_index_gaps(
    groups: tuple[IndexMembers, ...],
    daily: pl.DataFrame,
    members_daily: pl.DataFrame,
    intraday: pl.DataFrame,
    members_intraday: pl.DataFrame,
) -> list[MemberIndexGaps]:
    """Measure each index's members against the index on the written frames (see the class)."""
    result: list[MemberIndexGaps] = []
    for group in groups:
        shares = pl.DataFrame({"symbol": list(group.symbols), "shares": group.shares})
        held = held_values(members_daily, shares, "date")
        level = _series(daily, group.index, "date")
        daily_gap = 100.0 * (held[1:] / held[:-1] - level[1:] / level[:-1])
        year = 100.0 * (held[-1] / held[0] - level[-1] / level[0])
        # The session day, minute t = 0..390 after the open as the replay serves it: the index
        # at its last minute bar's close (its open at t = 0), the members at their last
        # 5-minute bar's close (their opens before the first completes).
        first_bars = members_intraday.filter(pl.col("time") == pl.col("time").min())
        opening = held_values(first_bars, shares, "time", price="open")
        members_at = np.concatenate((opening, held_values(members_intraday, shares, "time")))
        minutes = _series(intraday, group.index, "time")
        index_at = np.concatenate((_series(intraday, group.index, "time", "open")[:1], minutes))
        instants = np.arange(index_at.shape[0])
        gap = 100.0 * (members_at[instants // MEMBER_MINUTES] / held[-1] - index_at / level[-1])
        mark = instants % MEMBER_MINUTES == 0
        between = np.abs(gap[~mark])
        result.append(
            MemberIndexGaps(
                index=group.index,
                daily_max=float(np.abs(daily_gap).max()),
                year=float(year),
                marks_max=float(np.abs(gap[mark]).max()),
                between_max=float(between.max()),
                between_median=float(np.median(between)),
            )
        )
    return result


def member_index_failures(cal: Calibration, gaps: list[MemberIndexGaps]) -> list[str]:
    """List the indices whose members miss the index by more than the target allows."""
    limit = cal.targets.members_index_pp
    failures: list[str] = []
    for gap in gaps:
        for label, value in (
            ("daily", gap.daily_max),
            ("over the year", abs(gap.year)),
            ("at the 5-minute marks", gap.marks_max),
        ):
            if value > limit:
                failures.append(f"{gap.index} members off by {value:.4f} pp {label}")
    return failures


def _bar_failures(
    symbol: str, bars: pl.DataFrame, windows: list[tuple[datetime, datetime]]
) -> list[str]:
    """Say where ``symbol``'s minute bars leave their windows, repeat a time or break OHLC order."""
    failures: list[str] = []
    times: list[datetime] = bars.get_column("time").to_list()
    if any(later <= earlier for earlier, later in itertools.pairwise(times)):
        failures.append(f"{symbol}: bar times not strictly ascending")
    outside = [t for t in times if not any(lo <= t and t + MINUTE <= hi for lo, hi in windows)]
    if outside:
        failures.append(f"{symbol}: {len(outside)} bars outside its hours (first {outside[0]})")
    body_high = pl.max_horizontal("open", "close")
    body_low = pl.min_horizontal("open", "close")
    if bars.filter((pl.col("high") < body_high) | (pl.col("low") > body_low)).height:
        failures.append(f"{symbol}: a bar's high or low inside its open-close body")
    return failures


def extended_failures(
    cal: Calibration,
    session: TradingDay,
    daily: pl.DataFrame,
    intraday: pl.DataFrame,
    extended: ExtendedSession,
) -> list[str]:
    """Check the session outside regular hours; return one message per check missed.

    An ETF trades only from 04:00 to the open and from the close to 20:00; a future from 18:00
    the evening before to 17:00, every minute, and within ``basis_tolerance`` of its index x
    (1 + basis) at every daily close and every minute of the regular session.
    """
    spec = cal.extended
    day = session.day
    pre_open = datetime.combine(day, PRE_MARKET_OPEN, tzinfo=NEW_YORK).astimezone(UTC)
    post_close = datetime.combine(day, POST_MARKET_CLOSE, tzinfo=NEW_YORK).astimezone(UTC)
    failures: list[str] = []
    for leg in extended.legs:
        etf = extended.bars.filter(pl.col("symbol") == leg.etf)
        windows = [(pre_open, session.open), (session.close, post_close)]
        failures += _bar_failures(leg.etf, etf, windows)
        future = extended.bars.filter(pl.col("symbol") == leg.future)
        failures += _bar_failures(leg.future, future, [futures_window(session)])
        start, end = futures_window(session)
        if future.height != int((end - start) / MINUTE):
            failures.append(f"{leg.future}: {future.height} minute bars, not one a minute")
        index = intraday.filter(pl.col("symbol") == leg.index).select("time", "close")
        regular = index.join(future.select("time", "close"), on="time", suffix="_future")
        factor = 1.0 + extended.basis[leg.future]
        off = np.abs(
            regular["close_future"].to_numpy() / (regular["close"].to_numpy() * factor) - 1
        )
        if regular.height != index.height or float(np.max(off, initial=0.0)) > spec.basis_tolerance:
            failures.append(f"{leg.future}: off its index x (1 + basis) in the session")
        closes = daily.filter(pl.col("symbol") == leg.index).select("date", "close")
        settled = closes.join(
            extended.daily.filter(pl.col("symbol") == leg.future).select("date", "close"),
            on="date",
            suffix="_future",
        )
        dates: list[date] = settled.get_column("date").to_list()
        factors = floats([1.0 + basis(leg.spec.carry, day, spec.roll_days) for day in dates])
        ratios = settled["close_future"].to_numpy() / (settled["close"].to_numpy() * factors)
        worst = float(np.max(np.abs(ratios - 1.0))) if dates else 0.0
        if settled.height != closes.height or worst > spec.basis_tolerance:
            failures.append(f"{leg.future}: a settlement off its index's close x (1 + basis)")
    return failures
