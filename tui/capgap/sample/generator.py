"""Generate the bundled sample session: a pure function of the calibration, universe and seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from capgap.core.resources import package_data
from capgap.market.calendar import sessions_between, trading_day
from capgap.market.universe import Universe, load_universe
from capgap.market.zq import load_naming
from capgap.sample.calibration import Calibration, load_calibration
from capgap.sample.checks import daily_failures, index_failures
from capgap.sample.daily import (
    DailyPaths,
    daily_frame,
    draw_index_shocks,
    index_paths,
    record_rotations,
    rounded_closes,
    simulate_daily,
)
from capgap.sample.futures import FuturesSession, simulate_futures
from capgap.sample.intraday import intraday_frame, simulate_day
from capgap.sample.model import rounded
from capgap.sample.plan import Plan, build_plan

GENERATOR_VERSION = "1.0"
DEFAULT_SEED = 20251205
#: The search gives up after this many seeds (a calibration that never passes is a bug).
MAX_SEEDS = 2000


@dataclass(frozen=True, slots=True)
class SampleSession:
    """The generated session: frames plus how the seed search went."""

    seed: int
    seed_start: int
    seeds_tried: int
    rotation: int
    session_date: date
    first_daily: date
    last_daily: date
    daily: pl.DataFrame
    intraday: pl.DataFrame
    futures: FuturesSession


@dataclass(frozen=True, slots=True)
class _Accepted:
    seed: int
    rotation: int
    plan: Plan
    paths: DailyPaths


def reference_prices(path: Path | None = None) -> dict[str, float]:
    """Read the optional ``ref_price`` column of constituents.csv (symbol -> price)."""
    frame = pl.read_csv(
        path or package_data("constituents.csv"), schema_overrides={"symbol": pl.String}
    )
    if "ref_price" not in frame.columns:
        return {}
    rows = frame.select("symbol", "ref_price").drop_nulls().iter_rows()
    return {str(symbol): float(price) for symbol, price in rows}


def _streams(seed: int) -> list[np.random.SeedSequence]:
    # Separate streams per stage: drawing more constituents never changes the index paths.
    # Child k of a SeedSequence does not depend on how many children are spawned, so the
    # futures' stream (the sixth) leaves the first five, and every other symbol, unchanged.
    return np.random.SeedSequence(seed).spawn(6)


def _search(
    cal: Calibration,
    universe: Universe,
    ref_prices: dict[str, float],
    dates: tuple[date, ...],
    seed_start: int,
) -> _Accepted:
    for seed in range(seed_start, seed_start + MAX_SEEDS):
        plan_seq, index_seq, daily_seq, _, _, _ = _streams(seed)
        shocks = draw_index_shocks(cal, len(dates), np.random.default_rng(index_seq))
        plan: Plan | None = None
        for rotation in record_rotations(cal, dates, shocks):
            indices = index_paths(cal, dates, shocks, rotation)
            closes = {
                symbol: rounded(np.exp(path), 2) for symbol, path in indices.log_close.items()
            }
            if index_failures(cal, closes):
                continue
            if plan is None:
                plan = build_plan(cal, universe, ref_prices, np.random.default_rng(plan_seq))
            # A fresh generator per attempt: the result depends only on (seed, rotation).
            paths = simulate_daily(plan, cal, indices, np.random.default_rng(daily_seq))
            if not daily_failures(cal, universe, plan, rounded_closes(paths, plan)):
                return _Accepted(seed=seed, rotation=rotation, plan=plan, paths=paths)
    raise RuntimeError(f"no seed in {seed_start}..{seed_start + MAX_SEEDS - 1} meets the targets")


def generate(
    seed: int = DEFAULT_SEED,
    *,
    calibration: Calibration | None = None,
    universe: Universe | None = None,
    ref_prices: dict[str, float] | None = None,
) -> SampleSession:
    """Generate the sample session, searching seeds from ``seed`` until every target holds."""
    cal = calibration or load_calibration()
    universe = universe or load_universe()
    ref_prices = reference_prices() if ref_prices is None else ref_prices
    dates = tuple(day.day for day in sessions_between(cal.first_daily, cal.last_daily))
    session = trading_day(cal.session_date)
    if session is None or dates[-1] >= cal.session_date:
        raise ValueError(f"{cal.session_date} must be a session after the daily history")
    accepted = _search(cal, universe, ref_prices, dates, seed)
    _, _, _, ohlc_seq, intraday_seq, futures_seq = _streams(accepted.seed)
    daily = daily_frame(accepted.plan, cal, accepted.paths, np.random.default_rng(ohlc_seq))
    last = daily.filter(pl.col("date") == dates[-1])
    prev_close = dict(zip(last["symbol"].to_list(), last["close"].to_list(), strict=True))
    daily_vol = {
        name: float(np.std(returns[1:])) for name, returns in accepted.paths.returns.items()
    }
    intraday_rng = np.random.default_rng(intraday_seq)
    days = simulate_day(accepted.plan, cal, prev_close, intraday_rng)
    intraday = intraday_frame(
        accepted.plan, cal, session.open, prev_close, daily_vol, days, intraday_rng
    )
    futures = simulate_futures(
        cal, load_naming(), dates, session.open, np.random.default_rng(futures_seq)
    )
    return SampleSession(
        seed=accepted.seed,
        seed_start=seed,
        seeds_tried=accepted.seed - seed + 1,
        rotation=accepted.rotation,
        session_date=cal.session_date,
        first_daily=dates[0],
        last_daily=dates[-1],
        daily=pl.concat([daily, futures.daily]).sort("symbol", "date"),
        intraday=pl.concat([intraday, futures.intraday]).sort("symbol", "time"),
        futures=futures,
    )
