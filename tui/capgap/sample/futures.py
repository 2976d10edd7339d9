"""ZQ futures of the sample session: designed closes, daily bars before, minute bars on the day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from capgap.core.schemas import BARS, DAILY, conform
from capgap.market.fomc import default_schedule
from capgap.market.zq import FuturesNaming, YearMonth
from capgap.sample.calibration import Calibration, FuturesSpec
from capgap.sample.contracts import Contract, contracts_between
from capgap.sample.fedpath import MeetingOdds, implied_cut_probabilities, month_prices, on_grid
from capgap.sample.model import (
    GAP_SHARE,
    MINUTES,
    FloatArray,
    floats,
    intraday_volume_profile,
    student_t,
)

#: Prices are handled as whole ticks (integers) so every written price sits exactly on the grid.
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class FuturesSession:
    """The ZQ part of the sample session and how its closes encode the designed path."""

    contracts: tuple[Contract, ...]
    front_symbol: str
    front_name: str
    grid: float
    grid_note: str
    design: dict[str, float]
    implied: dict[date, float]
    daily: pl.DataFrame
    intraday: pl.DataFrame


def _sorted_meetings(spec: FuturesSpec) -> list[MeetingOdds]:
    return sorted(spec.meetings, key=lambda meeting: meeting.date)


def check_meetings(spec: FuturesSpec, contracts: list[Contract], session_date: date) -> None:
    """Require the designed meetings to be exactly the scheduled decisions the contracts span.

    A decision between the first contract month's start and the session day would need the
    realised rate after it; the sample path starts from one EFFR, so that is refused too.
    """
    first = date(*contracts[0].month, 1)
    last = date(*contracts[-1].month, contracts[-1].days)
    scheduled = [meeting.date for meeting in default_schedule() if first <= meeting.date <= last]
    early = [day for day in scheduled if day <= session_date]
    if early:
        raise ValueError(f"FOMC decisions {early} fall inside the futures' past months")
    designed = sorted(meeting.date for meeting in spec.meetings)
    if designed != scheduled:
        raise ValueError(f"futures meetings {designed} are not the FOMC decisions {scheduled}")


def choose_grid(
    spec: FuturesSpec, tick: float, months: list[YearMonth]
) -> tuple[float, dict[date, float], str]:
    """Pick the price grid: the tick if it keeps every meeting's p_cut near its design.

    Returns the grid, the probabilities implied by the rounded design prices, and a note for
    the README saying which grid was chosen and why.
    """
    prices = month_prices(months, spec.start_rate, spec.meetings, spec.step)
    days = [meeting.date for meeting in _sorted_meetings(spec)]
    design = {meeting.date: meeting.p_cut for meeting in spec.meetings}
    worst = 0.0
    for grid in (tick, spec.fallback_grid):
        rounded = {month: on_grid(price, grid) for month, price in prices.items()}
        implied = implied_cut_probabilities(rounded, days, spec.step)
        worst = max(abs(implied[day] - design[day]) for day in days)
        if worst <= spec.probability_tolerance:
            if grid == tick:
                note = (
                    f"Prices are rounded to the {tick:g} tick: that moves no meeting's\n"
                    f"implied probability by more than {worst * 100:.2f} pp."
                )
            else:
                note = (
                    f"Prices are rounded to {grid:g}, not to the {tick:g} tick: the tick\n"
                    f"would move a meeting's implied probability by more than\n"
                    f"{spec.probability_tolerance * 100:.1f} pp."
                )
            return grid, implied, note
    raise ValueError(f"no price grid keeps the designed probabilities (off by {worst:.4f})")


def probability_history(
    spec: FuturesSpec, sessions: int, t_df: float, rng: np.random.Generator
) -> FloatArray:
    """Return p_cut per meeting (columns, by date) for each day (rows).

    Row 0 is the session before the first daily bar (it sets that bar's open), rows 1..sessions
    the daily sessions, the last row the session day, where p_cut is the design. Earlier rows
    walk backward from it.
    """
    design = floats([meeting.p_cut for meeting in _sorted_meetings(spec)])
    rows = sessions + 2
    common = student_t(rng, t_df, rows)
    own = student_t(rng, t_df, (rows, design.size))
    rho = spec.prob_correlation
    shocks = np.sqrt(rho) * common[:, None] + np.sqrt(1.0 - rho) * own
    vol = np.full(rows, spec.prob_daily_vol)
    vol[-1] = spec.session_prob_vol
    low, high = spec.prob_bounds
    odds = np.empty((rows, design.size))
    odds[-1] = design
    for row in range(rows - 1, 0, -1):
        odds[row - 1] = np.clip(odds[row] - vol[row] * shocks[row], low, high)
    return floats(odds)


def earlier_probabilities(
    spec: FuturesSpec, first: FloatArray, sessions: int, t_df: float, rng: np.random.Generator
) -> FloatArray:
    """Return p_cut per meeting for ``sessions`` + 1 days ending with ``first`` (the last row).

    The same backward walk as probability_history, continued from its first row (the close
    before the first daily bar) from a stream of its own: the later sessions are untouched.
    """
    rows = sessions + 1
    common = student_t(rng, t_df, rows)
    own = student_t(rng, t_df, (rows, first.size))
    rho = spec.prob_correlation
    shocks = np.sqrt(rho) * common[:, None] + np.sqrt(1.0 - rho) * own
    low, high = spec.prob_bounds
    odds = np.empty((rows, first.size))
    odds[-1] = first
    for row in range(rows - 1, 0, -1):
        odds[row - 1] = np.clip(odds[row] - spec.prob_daily_vol * shocks[row], low, high)
    return floats(odds)


def price_ticks(
    spec: FuturesSpec, contracts: list[Contract], odds: FloatArray, grid: float
) -> IntArray:
    """Return each day's contract prices (rows: days, columns: contracts) in whole ticks."""
    meetings = _sorted_meetings(spec)
    months = [contract.month for contract in contracts]
    ticks = np.empty((odds.shape[0], len(contracts)), dtype=np.int64)
    for row, day_odds in enumerate(odds):
        path = [
            MeetingOdds(date=meeting.date, p_cut=float(p))
            for meeting, p in zip(meetings, day_odds, strict=True)
        ]
        prices = month_prices(months, spec.start_rate, path, spec.step)
        ticks[row] = [round(prices[month] / grid) for month in months]
    return ticks


def _prices(ticks: IntArray | FloatArray, grid: float) -> FloatArray:
    return floats(np.round(ticks * grid, 6))


def _daily_bars(
    spec: FuturesSpec,
    contracts: list[Contract],
    dates: tuple[date, ...],
    ticks: IntArray,
    grid: float,
    rng: np.random.Generator,
) -> pl.DataFrame:
    size = len(dates)
    parts: list[pl.DataFrame] = []
    for column, contract in enumerate(contracts):
        prev, close = ticks[:size, column], ticks[1 : size + 1, column]
        move = close - prev
        live = np.array([day <= contract.last_trading_day for day in dates])
        if np.any(move[~live]):
            raise ValueError(f"{contract.symbol} still moves after its last trading day")
        spread = 0.5 * float(np.std(move))
        open_ = prev + np.rint(GAP_SHARE * move).astype(np.int64)
        up = np.floor(np.abs(rng.standard_normal(size)) * spread) * live
        down = np.floor(np.abs(rng.standard_normal(size)) * spread) * live
        surprise = np.abs(move) / max(float(np.std(move)), 1.0)
        noise = 0.3 * rng.standard_normal(size) + 0.25 * np.minimum(surprise, 4.0)
        volume = np.maximum(1.0, np.rint(spec.volume[contract.month] * np.exp(noise))) * live
        parts.append(
            pl.DataFrame(
                {
                    "symbol": [contract.symbol] * size,
                    "date": list(dates),
                    "open": _prices(open_, grid),
                    "high": _prices(np.maximum(open_, close) + up, grid),
                    "low": _prices(np.minimum(open_, close) - down, grid),
                    "close": _prices(close, grid),
                    "volume": floats(volume),
                },
                schema=DAILY,
            )
        )
    return pl.concat(parts)


def _minute_steps(net: int, trips: int, rng: np.random.Generator) -> IntArray:
    """Place the day's one-tick moves at distinct minutes, busier where volume is."""
    moves = np.concatenate(
        (np.full(abs(net), np.sign(net)), np.ones(trips), -np.ones(trips))
    ).astype(np.int64)
    minutes = rng.choice(MINUTES, size=moves.size, replace=False, p=intraday_volume_profile())
    steps = np.zeros(MINUTES, dtype=np.int64)
    steps[minutes] = rng.permutation(moves)
    return steps


def _minute_bars(
    spec: FuturesSpec,
    contracts: list[Contract],
    session: tuple[date, datetime],
    prev: IntArray,
    close: IntArray,
    grid: float,
    rng: np.random.Generator,
) -> pl.DataFrame:
    day, session_open = session
    times = [session_open + timedelta(minutes=j) for j in range(MINUTES)]
    share = intraday_volume_profile()
    parts: list[pl.DataFrame] = []
    for column, contract in enumerate(contracts):
        live = day <= contract.last_trading_day
        net = int(close[column] - prev[column])
        if not live and net:
            raise ValueError(f"{contract.symbol} still moves after its last trading day")
        steps = _minute_steps(net, int(rng.poisson(spec.round_trips)), rng) * live
        level = prev[column] + np.concatenate(([0], np.cumsum(steps)))
        up = (rng.random(MINUTES) < spec.wick_probability) * live
        down = (rng.random(MINUTES) < spec.wick_probability) * live
        day_volume = spec.volume[contract.month] * float(np.exp(0.3 * rng.standard_normal()))
        noise = np.exp(0.35 * rng.standard_normal(MINUTES)) * (1.0 + (steps != 0))
        volume = np.maximum(1.0, np.rint(day_volume * share * noise)) * live
        parts.append(
            pl.DataFrame(
                {
                    "symbol": [contract.symbol] * MINUTES,
                    "time": times,
                    "open": _prices(level[:-1], grid),
                    "high": _prices(np.maximum(level[:-1], level[1:]) + up, grid),
                    "low": _prices(np.minimum(level[:-1], level[1:]) - down, grid),
                    "close": _prices(level[1:], grid),
                    "volume": floats(volume),
                },
                schema=BARS,
            )
        )
    return pl.concat(parts)


def front_contract(contracts: list[Contract], day: date) -> Contract:
    """Return the contract that is the front month on ``day`` (the first not yet expired)."""
    for contract in contracts:
        if day <= contract.last_trading_day:
            return contract
    raise ValueError(f"every futures contract has expired by {day}")


def _front_rows(
    daily: pl.DataFrame,
    intraday: pl.DataFrame,
    contracts: list[Contract],
    symbol: str,
    session_date: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    # A continuous front series rolls to the next month when the front one stops trading.
    dates = daily.get_column("date").unique().sort().to_list()
    fronts = pl.DataFrame(
        {"date": dates, "symbol": [front_contract(contracts, day).symbol for day in dates]},
        schema={"date": pl.Date(), "symbol": pl.String()},
    )
    front_daily = daily.join(fronts, on=["symbol", "date"], how="inner")
    today = front_contract(contracts, session_date).symbol
    front_intraday = intraday.filter(pl.col("symbol") == today)
    return (
        conform(front_daily.with_columns(pl.lit(symbol).alias("symbol")), DAILY),
        conform(front_intraday.with_columns(pl.lit(symbol).alias("symbol")), BARS),
    )


def simulate_futures(
    cal: Calibration,
    naming: FuturesNaming,
    dates: tuple[date, ...],
    session_open: datetime,
    rng: np.random.Generator,
    history_rng: np.random.Generator,
) -> FuturesSession:
    """Generate the ZQ contracts' daily bars (last sessions of ``dates``) and minute bars.

    The single months' bars before the last ``daily_sessions`` (up to ``history_sessions``
    in all) are drawn from ``history_rng`` alone, backward from the close before the first of
    them: the bars from ``rng`` are the same with or without them.
    """
    spec = cal.futures
    contracts = contracts_between(naming, spec.first_month, spec.last_month)
    check_meetings(spec, contracts, cal.session_date)
    months = [contract.month for contract in contracts]
    grid, implied, note = choose_grid(spec, naming.tick, months)
    history = dates[-spec.daily_sessions :]
    odds = probability_history(spec, len(history), cal.t_df, rng)
    ticks = price_ticks(spec, contracts, odds, grid)
    daily = _daily_bars(spec, contracts, history, ticks, grid, rng)
    intraday = _minute_bars(
        spec, contracts, (cal.session_date, session_open), ticks[-2], ticks[-1], grid, rng
    )
    front_daily, front_intraday = _front_rows(
        daily, intraday, contracts, naming.front_symbol, cal.session_date
    )
    earlier = dates[-spec.history_sessions : -spec.daily_sessions]
    if earlier:
        odds_before = earlier_probabilities(spec, odds[0], len(earlier), cal.t_df, history_rng)
        ticks_before = price_ticks(spec, contracts, odds_before, grid)
        if not np.array_equal(ticks_before[-1], ticks[0]):
            # The walk must end on the close the later bars open from: the parts join exactly.
            raise ValueError("the ZQ contracts' earlier closes do not join the later ones")
        before = _daily_bars(spec, contracts, earlier, ticks_before, grid, history_rng)
        daily = pl.concat([before, daily])
    design = month_prices(months, spec.start_rate, spec.meetings, spec.step)
    return FuturesSession(
        contracts=tuple(contracts),
        front_symbol=naming.front_symbol,
        front_name=naming.front_name,
        grid=grid,
        grid_note=note,
        design={contract.symbol: design[contract.month] for contract in contracts},
        implied=implied,
        daily=pl.concat([daily, front_daily]),
        intraday=pl.concat([intraday, front_intraday]),
    )
