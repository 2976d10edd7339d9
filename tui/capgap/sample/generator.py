"""Generate the bundled sample session: a pure function of the calibration, universe and seed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from capgap.feeds.details import history_details
from capgap.market.calendar import TradingDay, sessions_between, trading_day
from capgap.market.universe import Universe, load_universe
from capgap.market.zq import load_naming
from capgap.sample.align import IndexMembers, align_daily, align_day, index_members
from capgap.sample.calibration import Calibration, load_calibration
from capgap.sample.checks import (
    daily_failures,
    extended_failures,
    fundamentals_failures,
    index_failures,
    member_index_failures,
    member_index_gaps,
    member_prices,
)
from capgap.sample.daily import (
    DailyPaths,
    daily_frame,
    draw_index_shocks,
    index_paths,
    record_rotations,
    rounded_closes,
    simulate_daily,
)
from capgap.sample.extended import ExtendedSession, extended_legs, simulate_extended
from capgap.sample.fundamentals import draw_fundamentals
from capgap.sample.futures import FuturesSession, simulate_futures
from capgap.sample.gap_parts import (
    equal_weight_daily,
    equal_weight_minutes,
    small_quality_daily,
    small_quality_minutes,
)
from capgap.sample.intraday import intraday_frame, member_bars, simulate_day
from capgap.sample.long_history import long_history
from capgap.sample.model import rounded
from capgap.sample.plan import Plan, build_plan

GENERATOR_VERSION = "2.0"
DEFAULT_SEED = 20251205
#: The random stream of the indices' long history (child 10 of the seed's SeedSequence).
LONG_HISTORY_STREAM = 10
#: The search gives up after this many seeds (a calibration that never passes is a bug).
MAX_SEEDS = 2000
#: The random stream of ^SP600 (child 8 of the seed's SeedSequence; see _streams).
GAP_PARTS_STREAM = 8


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
    #: The index futures and the ETFs' pre/post trades (their bars, outside the regular grid).
    extended: ExtendedSession
    #: The index members' tier: daily bars, 5-minute bars of the session day, fundamentals.
    members_daily: pl.DataFrame
    members_intraday: pl.DataFrame
    fundamentals: pl.DataFrame
    #: history_details of members_daily for the session day (what a replay's quotes use).
    members_history: pl.DataFrame
    #: Members of the holdings left without data (no usable price in the holdings).
    placeholders: tuple[str, ...]
    plan: Plan
    #: ^GSPC and ^RUT closes from 1987 to the first daily session (sample.long_history).
    long_history: pl.DataFrame


@dataclass(frozen=True, slots=True)
class _Accepted:
    seed: int
    rotation: int
    plan: Plan
    paths: DailyPaths


#: The stream of the ZQ contracts' earlier daily closes (FedWatch over time).
FUTURES_HISTORY_STREAM = 9


def _streams(seed: int) -> list[np.random.SeedSequence]:
    # Separate streams per stage: drawing more constituents never changes the index paths.
    # Child k of a SeedSequence does not depend on how many children are spawned, so the
    # futures' stream (the sixth) and the fundamentals' (the seventh) leave the others, and
    # every other symbol, unchanged; so does the eighth (the session outside regular hours).
    # The ninth draws ^SP600 (capgap.sample.gap_parts); the tenth the ZQ contracts' earlier
    # daily closes (FedWatch over time); the eleventh the indices' long history.
    return np.random.SeedSequence(seed).spawn(11)


def _search(
    cal: Calibration,
    universe: Universe,
    dates: tuple[date, ...],
    seed_start: int,
) -> Iterator[_Accepted]:
    """Yield, in order, the (seed, rotation) pairs whose daily closes meet every target."""
    for seed in range(seed_start, seed_start + MAX_SEEDS):
        plan_seq, index_seq, daily_seq, *_ = _streams(seed)
        shocks = draw_index_shocks(cal, len(dates), np.random.default_rng(index_seq))
        plan: Plan | None = None
        groups: tuple[IndexMembers, ...] = ()
        for rotation in record_rotations(cal, dates, shocks):
            indices = index_paths(cal, dates, shocks, rotation)
            closes = {
                symbol: rounded(np.exp(path), 2) for symbol, path in indices.log_close.items()
            }
            if index_failures(cal, closes):
                continue
            if plan is None:
                plan = build_plan(cal, universe, np.random.default_rng(plan_seq))
                groups = index_members(plan, universe.constituents)
            # A fresh generator per attempt: the result depends only on (seed, rotation).
            simulated = simulate_daily(plan, cal, indices, np.random.default_rng(daily_seq))
            paths = align_daily(simulated, groups)
            if not daily_failures(cal, universe, plan, rounded_closes(paths, plan)):
                yield _Accepted(seed=seed, rotation=rotation, plan=plan, paths=paths)
                # The next candidate is the next seed (its rotations are as good as any).
                break
    raise RuntimeError(f"no seed in {seed_start}..{seed_start + MAX_SEEDS - 1} meets the targets")


def generate(
    seed: int = DEFAULT_SEED,
    *,
    calibration: Calibration | None = None,
    universe: Universe | None = None,
) -> SampleSession:
    """Generate the sample session, searching seeds from ``seed`` until every target holds."""
    cal = calibration or load_calibration()
    universe = universe or load_universe()
    dates = tuple(day.day for day in sessions_between(cal.first_daily, cal.last_daily))
    session = trading_day(cal.session_date)
    if session is None or dates[-1] >= cal.session_date:
        raise ValueError(f"{cal.session_date} must be a session after the daily history")
    for accepted in _search(cal, universe, dates, seed):
        result = _complete(accepted, cal, universe, dates, session, seed)
        if result is not None:
            return result
    raise RuntimeError(f"no seed from {seed} meets the targets")  # pragma: no cover


def _gap_parts(
    cal: Calibration,
    constituents: pl.DataFrame,
    members: list[str],
    daily: pl.DataFrame,
    intraday: pl.DataFrame,
    prev_close: dict[str, float],
    seq: np.random.SeedSequence,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return RSP's and ^SP600's daily and minute bars (see capgap.sample.gap_parts).

    RSP is the S&P 500 members' mean move (no draw); ^SP600 is drawn from ``seq`` alone, after
    everything else, so every other number stays as it was.
    """
    spec = cal.gap_parts
    held = set(members)
    large = [
        symbol
        for symbol in constituents.filter(pl.col("bucket") == "large")
        .get_column("symbol")
        .unique(maintain_order=True)
        .to_list()
        if symbol in held
    ]
    equal_daily = equal_weight_daily(spec, daily, large, daily)
    equal_prev = float(equal_daily.get_column("close")[-1])
    rng = np.random.default_rng(seq)
    quality_daily = small_quality_daily(spec, daily, rng)
    quality_prev = float(quality_daily.get_column("close")[-1])
    return (
        pl.concat([equal_daily, quality_daily]),
        pl.concat(
            [
                equal_weight_minutes(spec, intraday, large, prev_close, equal_prev),
                small_quality_minutes(spec, intraday, prev_close[spec.parent], quality_prev, rng),
            ]
        ),
    )


def _complete(
    accepted: _Accepted,
    cal: Calibration,
    universe: Universe,
    dates: tuple[date, ...],
    session: TradingDay,
    seed_start: int,
) -> SampleSession | None:
    """Build the session of an accepted seed; None when it misses a target.

    The targets checked here: the fundamentals, and the members adding up to their index on
    the session day as written (the daily paths were aligned during the search).
    """
    streams = _streams(accepted.seed)
    ohlc_seq, intraday_seq, futures_seq, fundamentals_seq, extended_seq = streams[3:8]
    plan = accepted.plan
    daily = daily_frame(plan, cal, accepted.paths, np.random.default_rng(ohlc_seq))
    last = daily.filter(pl.col("date") == dates[-1])
    prev_close = dict(zip(last["symbol"].to_list(), last["close"].to_list(), strict=True))
    daily_vol = {
        name: float(np.std(returns[1:])) for name, returns in accepted.paths.returns.items()
    }
    intraday_rng = np.random.default_rng(intraday_seq)
    groups = index_members(plan, universe.constituents)
    days = align_day(simulate_day(plan, cal, prev_close, intraday_rng), groups, prev_close)
    intraday = intraday_frame(plan, cal, session.open, prev_close, daily_vol, days, intraday_rng)
    members = list(plan.driver_of)
    is_member = pl.col("symbol").is_in(members)
    constituents = universe.constituents
    fundamentals = draw_fundamentals(
        cal.fundamentals,
        member_prices(
            constituents,
            pl.DataFrame({"symbol": members, "price": [prev_close[symbol] for symbol in members]}),
        ),
        np.random.default_rng(fundamentals_seq),
    ).sort("symbol")
    members_intraday = member_bars(intraday.filter(is_member))
    last_prices = members_intraday.group_by("symbol").agg(
        pl.col("close").sort_by("time").last().alias("price")
    )
    measured = member_prices(constituents, last_prices).join(fundamentals, on="symbol")
    if fundamentals_failures(cal, measured):
        return None
    members_daily = daily.filter(is_member)
    gaps = member_index_gaps(groups, daily, members_daily, intraday, members_intraday)
    if member_index_failures(cal, gaps):
        return None
    futures = simulate_futures(
        cal,
        load_naming(),
        dates,
        session.open,
        np.random.default_rng(futures_seq),
        np.random.default_rng(streams[FUTURES_HISTORY_STREAM]),
    )
    # Drawn last, from a stream of its own: the regular session's numbers stay as they were.
    extended = simulate_extended(
        cal,
        extended_legs(cal, universe.benchmarks),
        session,
        daily,
        intraday,
        np.random.default_rng(extended_seq),
    )
    failures = extended_failures(cal, session, daily, intraday, extended)
    if failures:
        # Not a reason to try another seed: that would change every other number.
        raise ValueError(f"the session outside regular hours misses a check: {failures}")
    gap_daily, gap_intraday = _gap_parts(
        cal, constituents, members, daily, intraday, prev_close, streams[GAP_PARTS_STREAM]
    )
    placeholders = constituents.filter(~is_member).get_column("symbol").to_list()
    # From a stream of its own, anchored on the first daily closes: nothing else changes.
    long = long_history(daily, np.random.default_rng(streams[LONG_HISTORY_STREAM]))
    return SampleSession(
        seed=accepted.seed,
        seed_start=seed_start,
        seeds_tried=accepted.seed - seed_start + 1,
        rotation=accepted.rotation,
        session_date=cal.session_date,
        first_daily=dates[0],
        last_daily=dates[-1],
        daily=pl.concat([daily.filter(~is_member), futures.daily, extended.daily, gap_daily]).sort(
            "symbol", "date"
        ),
        intraday=pl.concat([intraday.filter(~is_member), futures.intraday, gap_intraday]).sort(
            "symbol", "time"
        ),
        futures=futures,
        extended=extended,
        members_daily=members_daily,
        members_intraday=members_intraday,
        fundamentals=fundamentals,
        members_history=history_details(members_daily, cal.session_date),
        placeholders=tuple(placeholders),
        plan=plan,
        long_history=long,
    )
