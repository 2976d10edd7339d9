"""One-minute bars of the sample session day: bridges from the open to the day's close."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from capgap.core.schemas import BARS
from capgap.sample.calibration import Calibration
from capgap.sample.model import (
    GAP_SHARE,
    MINUTES,
    FloatArray,
    bridge,
    correlated_t,
    intraday_variance_profile,
    intraday_volume_profile,
    ohlc,
    student_t,
)
from capgap.sample.plan import Plan

#: Largest opening gap of any series, as a log move (a "small gap" by design).
MAX_GAP = 0.025
#: Minute tracking noise of a tracker ETF, as a share of its daily tracking noise.
TRACKING_SHARE = 0.2
#: The members' bars in the files: five minutes each (see member_bars).
MEMBER_MINUTES = 5
MEMBER_BAR = f"{MEMBER_MINUTES}m"
#: The session day is an ordinary day: a series' own move is capped at this many sigmas
#: (the minute steps keep their fat tails).
MAX_DAY_SIGMAS = 2.0


@dataclass(frozen=True, slots=True)
class DayPath:
    """A node's day relative to its previous close: the opening gap and the minute path.

    ``path[0]`` is 0 (the open) and ``path[j]`` the log move from the open to the close of
    minute j, so the close of minute j is ``prev_close * exp(gap + path[j])``.
    """

    gap: float
    path: FloatArray


def _own_day(
    vol: float, cal: Calibration, profile: FloatArray, rng: np.random.Generator
) -> DayPath:
    draw = float(student_t(rng, cal.t_df, 1)[0])
    total = vol * float(np.clip(draw, -MAX_DAY_SIGMAS, MAX_DAY_SIGMAS))
    gap = GAP_SHARE * total + 0.1 * vol * float(rng.standard_normal())
    steps = vol * np.sqrt(profile) * student_t(rng, cal.t_df, MINUTES)
    return DayPath(gap=gap, path=bridge(steps, profile, total - gap))


def simulate_day(
    plan: Plan,
    cal: Calibration,
    prev_close: dict[str, float],
    rng: np.random.Generator,
) -> dict[str, DayPath]:
    """Simulate the session day of every node in the plan's order.

    The indices follow correlated minute shocks bridged to their exact session closes; every
    other node loads on its parents' day paths and adds its own bridged noise, so sector ETFs
    and stocks move with their index minute by minute.
    """
    profile = intraday_variance_profile()
    days: dict[str, DayPath] = {}
    shocks = correlated_t(rng, cal.t_df, MINUTES, cal.correlation)
    for column, spec in enumerate((cal.large, cal.small)):
        total = float(np.log(spec.session_close / prev_close[spec.symbol]))
        gap = GAP_SHARE * total + 0.1 * spec.daily_vol * float(rng.standard_normal())
        steps = spec.daily_vol * np.sqrt(profile) * shocks[:, column]
        days[spec.symbol] = DayPath(gap=gap, path=bridge(steps, profile, total - gap))
    for node in plan.nodes:
        if node.kind == "index":
            continue
        if node.kind == "tracker":
            parent = next(iter(node.parents))
            level = (
                np.log(prev_close[parent])
                + days[parent].gap
                + days[parent].path
                - np.log(node.ratio)
                + TRACKING_SHARE * node.own_vol * rng.standard_normal(MINUTES + 1)
            )
            start = float(level[0] - np.log(prev_close[node.name]))
            days[node.name] = DayPath(gap=start, path=level - level[0])
            continue
        vol = node.own_vol
        if node.kind == "level" and not node.log_level:
            vol = node.own_vol / node.mean
        own = _own_day(vol, cal, profile, rng)
        gap, path = own.gap, own.path
        for parent, loading in node.parents.items():
            gap += loading * days[parent].gap
            path = path + loading * days[parent].path
        days[node.name] = DayPath(gap=float(np.clip(gap, -MAX_GAP, MAX_GAP)), path=path)
    return days


def intraday_frame(
    plan: Plan,
    cal: Calibration,
    session_open: datetime,
    prev_close: dict[str, float],
    daily_vol: dict[str, float],
    days: dict[str, DayPath],
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Build the BARS frame of the session day (bar starts at ``session_open`` + j minutes)."""
    times = [session_open + timedelta(minutes=j) for j in range(MINUTES)]
    share = intraday_volume_profile()
    minute_vol = np.sqrt(intraday_variance_profile())
    exact = {spec.symbol: spec.session_close for spec in (cal.large, cal.small)}
    parts: list[pl.DataFrame] = []
    for node in plan.nodes:
        if not node.output:
            continue
        day = days[node.name]
        level = np.log(prev_close[node.name]) + day.gap + day.path
        vol = daily_vol[node.name]
        open_, high, low, close = ohlc(rng, level[:-1], level[1:], vol * minute_vol, node.decimals)
        if node.name in exact:
            if abs(close[-1] - exact[node.name]) > 0.005:
                raise AssertionError(f"{node.name} session close drifted to {close[-1]}")
            close[-1] = exact[node.name]
        move = abs(day.gap + day.path[-1]) / max(vol, 1e-12) - 0.8
        total = node.volume * np.exp(0.3 * rng.standard_normal() + 0.35 * np.clip(move, -1, 4))
        noise = np.exp(0.35 * rng.standard_normal(MINUTES))
        parts.append(
            pl.DataFrame(
                {
                    "symbol": [node.name] * MINUTES,
                    "time": times,
                    "open": open_,
                    "high": np.maximum(high, close),
                    "low": np.minimum(low, close),
                    "close": close,
                    "volume": np.round(total * share * noise),
                },
                schema=BARS,
            )
        )
    return pl.concat(parts).sort("symbol", "time")


def member_bars(minutes: pl.DataFrame) -> pl.DataFrame:
    """Aggregate one-minute BARS into the members' MEMBER_BAR bars (same schema, same day).

    Each bar is exactly its minutes: first open, highest high, lowest low, last close, summed
    volume. Coarser bars keep the whole universe within the demo's memory and size budgets.
    """
    return (
        minutes.sort("symbol", "time")
        .group_by("symbol", pl.col("time").dt.truncate(MEMBER_BAR), maintain_order=True)
        .agg(
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
        )
        .select(BARS.names())
        .cast(dict(BARS))  # type: ignore[arg-type]
        .sort("symbol", "time")
    )
