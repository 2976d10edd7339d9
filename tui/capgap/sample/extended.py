"""Outside the sample day's regular session: index futures and SPY's/IWM's pre/post trades."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import polars as pl

from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import BARS, DAILY
from capgap.market.calendar import POST_MARKET_CLOSE, PRE_MARKET_OPEN, TradingDay
from capgap.market.universe import Benchmarks
from capgap.sample.calibration import Calibration, ExtendedLegSpec
from capgap.sample.model import FloatArray, correlated_t, floats, ohlc, rounded

#: The CME's trading day of the equity index futures: 18:00 the evening before to 17:00.
FUTURES_OPEN = time(18, 0)
FUTURES_CLOSE = time(17, 0)
#: Quarterly expiry months of the equity index futures (H, M, U, Z).
_EXPIRY_MONTHS = (3, 6, 9, 12)
_ETF_DECIMALS = 2
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ExtendedLeg:
    """The symbols of one leg outside the regular session: its index, future and ETF."""

    index: str
    future: str
    etf: str
    spec: ExtendedLegSpec


@dataclass(frozen=True, slots=True)
class ExtendedSession:
    """The futures' daily bars, and the minute bars outside the regular session.

    ``bars`` holds the futures' minute bars over their trading day (FUTURES_OPEN the evening
    before to FUTURES_CLOSE) and the ETFs' pre- and post-market trades (BARS, sorted by symbol
    and time); ``basis`` each future's basis on the session day, as a fraction.
    """

    legs: tuple[ExtendedLeg, ...]
    daily: pl.DataFrame
    bars: pl.DataFrame
    basis: dict[str, float]


def extended_legs(cal: Calibration, benchmarks: Benchmarks) -> tuple[ExtendedLeg, ...]:
    """Return the large and the small leg's index, future and ETF with their calibration."""
    return (
        ExtendedLeg(
            cal.large.symbol, benchmarks.large_future, benchmarks.large_etf, cal.extended.large
        ),
        ExtendedLeg(
            cal.small.symbol, benchmarks.small_future, benchmarks.small_etf, cal.extended.small
        ),
    )


def third_friday(year: int, month: int) -> date:
    """Return the third Friday of a month (the expiry of the quarterly index futures)."""
    first = date(year, month, 1)
    offset = (calendar.FRIDAY - first.weekday()) % 7
    return first + timedelta(days=offset + 14)


def front_expiry(day: date, roll_days: int) -> date:
    """Return the front month's expiry on ``day`` (the next quarter's within ``roll_days``)."""
    for year in (day.year, day.year + 1):
        for month in _EXPIRY_MONTHS:
            expiry = third_friday(year, month)
            if (expiry - day).days >= roll_days:
                return expiry
    raise AssertionError("a quarterly expiry is always within a year")  # pragma: no cover


def basis(carry: float, day: date, roll_days: int) -> float:
    """Return the front future's fair basis over its index on ``day``, as a fraction."""
    return carry * (front_expiry(day, roll_days) - day).days / 365.0


def on_tick(values: FloatArray, tick: float) -> FloatArray:
    """Round prices to whole ticks (monotone, so a bar's high and low stay outside its body)."""
    return rounded(np.round(values / tick) * tick, 6)


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=NEW_YORK).astimezone(UTC)


def futures_window(session: TradingDay) -> tuple[datetime, datetime]:
    """Return the futures' trading day of ``session`` (UTC): 18:00 the day before to 17:00."""
    return _at(session.day - timedelta(days=1), FUTURES_OPEN), _at(session.day, FUTURES_CLOSE)


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start) / _MINUTE)


def _bars(
    symbol: str,
    times: list[datetime],
    prices: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    volume: FloatArray,
) -> pl.DataFrame:
    open_, high, low, close = prices
    return pl.DataFrame(
        {
            "symbol": [symbol] * len(times),
            "time": times,
            "open": open_,
            "high": np.maximum(high, np.maximum(open_, close)),
            "low": np.minimum(low, np.minimum(open_, close)),
            "close": close,
            "volume": volume,
        },
        schema=BARS,
    )


def _last_close(daily: pl.DataFrame, symbol: str) -> float:
    return float(daily.filter(pl.col("symbol") == symbol).sort("date").get_column("close")[-1])


def _futures_daily(
    leg: ExtendedLeg, daily: pl.DataFrame, roll_days: int, rng: np.random.Generator
) -> pl.DataFrame:
    """Return the future's daily bars: its index's x (1 + basis), settled at the index's close."""
    index = daily.filter(pl.col("symbol") == leg.index).sort("date")
    dates: list[date] = index.get_column("date").to_list()
    factor = floats([1.0 + basis(leg.spec.carry, day, roll_days) for day in dates])
    prices = {
        column: on_tick(index.get_column(column).to_numpy() * factor, leg.spec.tick)
        for column in ("open", "high", "low", "close")
    }
    volume = rounded(leg.spec.volume * np.exp(0.3 * rng.standard_normal(len(dates))), 0)
    return pl.DataFrame(
        {"symbol": [leg.future] * len(dates), "date": dates, **prices, "volume": volume},
        schema=DAILY,
    )


def simulate_extended(
    cal: Calibration,
    legs: tuple[ExtendedLeg, ...],
    session: TradingDay,
    daily: pl.DataFrame,
    intraday: pl.DataFrame,
    rng: np.random.Generator,
) -> ExtendedSession:
    """Generate the futures' daily and minute bars and the ETFs' pre/post trades.

    ``daily`` and ``intraday`` are the regular session's frames (indices and ETFs): the new
    series are built on them and change none of them.
    """
    spec = cal.extended
    futures_daily = [_futures_daily(leg, daily, spec.roll_days, rng) for leg in legs]
    start, end = futures_window(session)
    total = _minutes(start, end)
    before_open = _minutes(start, session.open)
    regular = _minutes(session.open, session.close)
    after = total - before_open - regular
    # Correlated fat-tailed minute shocks, as the indices' own (one draw per leg and minute).
    overnight = correlated_t(rng, cal.t_df, before_open, cal.correlation)
    late = correlated_t(
        rng, cal.t_df, _minutes(session.close, _at(session.day, POST_MARKET_CLOSE)), cal.correlation
    )
    times = [start + j * _MINUTE for j in range(total)]
    parts: list[pl.DataFrame] = []
    bases: dict[str, float] = {}
    for column, (leg, index_spec, history) in enumerate(
        zip(legs, (cal.large, cal.small), futures_daily, strict=True)
    ):
        bars = intraday.filter(pl.col("symbol") == leg.index).sort("time")
        factor = 1.0 + basis(leg.spec.carry, session.day, spec.roll_days)
        bases[leg.future] = factor - 1.0
        settle = float(history.get_column("close")[-1])
        open_level = float(np.log(float(bars.get_column("open")[0]) * factor))
        # Overnight: a bridge from the last settlement to the open x (1 + basis).
        night_vol = index_spec.daily_vol * np.sqrt(spec.overnight_variance / before_open)
        walk = np.cumsum(night_vol * overnight[:, column])
        clock = np.arange(1, before_open + 1) / before_open
        night = np.log(settle) + walk + clock * (open_level - np.log(settle) - walk[-1])
        # The session: the index's minute closes x (1 + basis), with a little noise.
        closes = bars.get_column("close").to_numpy()
        day = np.log(closes * factor) + spec.basis_noise * rng.standard_normal(regular)
        # After the close: a walk on from the 16:00 price to 17:00 (the ETFs go on to 20:00).
        post_vol = index_spec.daily_vol * np.sqrt(spec.post_variance / late.shape[0])
        evening = day[-1] + np.cumsum(post_vol * late[:, column])
        level = np.concatenate(([np.log(settle)], night, day, evening[:after]))
        minute_vol = np.full(total, post_vol)
        open_, high, low, close = (
            on_tick(prices, leg.spec.tick)
            for prices in ohlc(rng, level[:-1], level[1:], minute_vol, 12)
        )
        weights = np.concatenate((np.ones(before_open), np.full(regular, 4.0), np.full(after, 2.0)))
        noise = np.exp(0.35 * rng.standard_normal(total))
        volume = rounded(leg.spec.volume * weights / weights.sum() * noise, 0)
        parts.append(_bars(leg.future, times, (open_, high, low, close), volume))
        # Log moves at each minute's end, the first point the window's start: before the open
        # the ETF moves as its future has since the settlement, after the close as since 16:00.
        pre_offset = _minutes(start, _at(session.day, PRE_MARKET_OPEN))
        pre_path = level[pre_offset : before_open + 1] - level[0]
        post_path = np.concatenate(([0.0], evening - day[-1]))
        etf_closes = (
            _last_close(daily, leg.etf),
            float(
                intraday.filter(pl.col("symbol") == leg.etf).sort("time").get_column("close")[-1]
            ),
        )
        parts.append(_etf_trades(cal, leg, session, etf_closes, (pre_path, post_path), rng))
    return ExtendedSession(
        legs=legs,
        daily=pl.concat(futures_daily),
        bars=pl.concat(parts).sort("symbol", "time"),
        basis=bases,
    )


def _etf_trades(
    cal: Calibration,
    leg: ExtendedLeg,
    session: TradingDay,
    closes: tuple[float, float],
    paths: tuple[FloatArray, FloatArray],
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Return the ETF's pre- and post-market trades as minute bars (minutes without one left out).

    ``closes`` is the ETF's previous and regular close, ``paths`` the log moves from them it
    follows before the open and after the close (one point a minute, the first the start).
    """
    spec = cal.extended
    parts: list[pl.DataFrame] = []
    windows = (
        (_at(session.day, PRE_MARKET_OPEN), closes[0], paths[0], spec.pre_trade_probability),
        (session.close, closes[1], paths[1], spec.post_trade_probability),
    )
    for start, base, path, probability in windows:
        count = path.shape[0] - 1
        close = np.log(base) + path[1:] + spec.trade_noise * rng.standard_normal(count)
        open_ = np.concatenate(([np.log(base) + path[0]], close[:-1]))
        prices = ohlc(rng, open_, close, spec.trade_noise, _ETF_DECIMALS)
        traded = rng.random(count) < probability
        share = leg.spec.etf_volume / 2.0 / max(int(traded.sum()), 1)
        volume = rounded(share * np.exp(0.5 * rng.standard_normal(count)), 0)
        times = [start + j * _MINUTE for j in range(count)]
        bars = _bars(leg.etf, times, prices, volume)
        parts.append(bars.filter(pl.Series(traded)))
    return pl.concat(parts)
