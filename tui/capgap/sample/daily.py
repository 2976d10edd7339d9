"""Daily paths of the sample session: anchored indices, factors, ETFs, constituents, ^VIX, ^TNX."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from capgap.core.schemas import DAILY
from capgap.sample.calibration import Calibration, IndexSpec
from capgap.sample.model import (
    GAP_SHARE,
    FloatArray,
    anchored_log_path,
    correlated_t,
    floats,
    ohlc,
    rounded,
    student_t,
    volumes,
)
from capgap.sample.plan import Node, Plan

#: Level a series without a calibrated level ends at (virtual legs are never written).
_NEUTRAL_LEVEL = 100.0


@dataclass(frozen=True, slots=True)
class DailyPaths:
    """Daily log returns and log closes of every node, aligned on ``dates``.

    ``returns[name][0]`` is the move into the first session (it only shapes that day's open);
    ``returns[name][k]`` for k >= 1 equals ``log_close[name][k] - log_close[name][k - 1]``.
    Factors have returns but no closes.
    """

    dates: tuple[date, ...]
    returns: dict[str, FloatArray]
    log_close: dict[str, FloatArray]


def _anchor_points(spec: IndexSpec, dates: tuple[date, ...]) -> dict[int, float]:
    position = {day: k for k, day in enumerate(dates)}
    missing = [day for day in spec.anchors if day not in position]
    if missing:
        raise ValueError(f"anchor dates of {spec.symbol} are not sessions: {missing}")
    return {position[day]: float(np.log(close)) for day, close in spec.anchors.items()}


def draw_index_shocks(cal: Calibration, size: int, rng: np.random.Generator) -> FloatArray:
    """Draw unit-variance correlated Student-t shocks: column 0 large index, column 1 small."""
    return correlated_t(rng, cal.t_df, size, cal.correlation)


def _last_segment(spec: IndexSpec, dates: tuple[date, ...]) -> tuple[int, int]:
    points = sorted(_anchor_points(spec, dates))
    return points[-2], points[-1]


def record_rotations(cal: Calibration, dates: tuple[date, ...], shocks: FloatArray) -> list[int]:
    """Return the rotations of the shocks that make the small index's last close a record.

    The rows inside the small index's last anchor segment may be rotated cyclically (the pairs
    stay together, so the joint distribution of the draws is unchanged). After the constant
    shift that lands the segment on its end anchor, the end is a strict maximum of the segment
    when every suffix sum of the shifted returns is positive; the cycle lemma guarantees at
    least one such rotation whenever the segment rises. Points before the segment (integrated
    backward from its start) must also stay below the end.
    """
    spec = cal.small
    if not spec.record_at_end:
        return [0]
    start, end = _last_segment(spec, dates)
    anchors = _anchor_points(spec, dates)
    rise = anchors[end] - anchors[start]
    raw = spec.daily_vol * shocks[start + 1 : end + 1, 1]
    steps = raw + (rise - raw.sum()) / (end - start)
    before = anchored_log_path(spec.daily_vol * shocks[:, 1], {start: anchors[start]})[:start]
    if before.size and before.max() >= anchors[end]:
        return []
    rotations: list[int] = []
    for shift in range(end - start):
        rolled = np.roll(steps, shift)
        suffix = np.cumsum(rolled[::-1])
        if suffix.min() > 0.0:
            rotations.append(shift)
    return rotations


def index_paths(
    cal: Calibration, dates: tuple[date, ...], shocks: FloatArray, rotation: int = 0
) -> DailyPaths:
    """Turn the shocks into the two index paths, bent through their anchor closes.

    ``rotation`` rolls the shock pairs inside the small index's last anchor segment (see
    record_rotations).
    """
    shocks = shocks.copy()
    if rotation:
        start, end = _last_segment(cal.small, dates)
        shocks[start + 1 : end + 1] = np.roll(shocks[start + 1 : end + 1], rotation, axis=0)
    returns: dict[str, FloatArray] = {}
    closes: dict[str, FloatArray] = {}
    for column, spec in enumerate((cal.large, cal.small)):
        raw = spec.daily_vol * shocks[:, column]
        path = anchored_log_path(raw, _anchor_points(spec, dates))
        adjusted = raw.copy()
        adjusted[1:] = np.diff(path)
        returns[spec.symbol] = adjusted
        closes[spec.symbol] = path
    return DailyPaths(dates=dates, returns=returns, log_close=closes)


def _loaded(node: Node, returns: dict[str, FloatArray], size: int) -> FloatArray:
    total = np.zeros(size)
    for parent, loading in node.parents.items():
        total = total + loading * returns[parent]
    return total


def _own_noise(node: Node, cal: Calibration, rng: np.random.Generator, size: int) -> FloatArray:
    own = node.own_vol * student_t(rng, cal.t_df, size)
    if node.alpha is not None:
        # A constant shift over the window sets the series' excess move in the last months.
        window = own[size - cal.window :]
        own[size - cal.window :] = window + (node.alpha - window.sum()) / cal.window
    return own


def _series_path(returns: FloatArray, level: float | None) -> FloatArray:
    path = np.concatenate(([0.0], np.cumsum(returns[1:])))
    return floats(path + (np.log(level or _NEUTRAL_LEVEL) - path[-1]))


def _level_path(
    node: Node, parent: FloatArray, cal: Calibration, rng: np.random.Generator
) -> FloatArray:
    size = parent.shape[0]
    noise = node.own_vol * student_t(rng, cal.t_df, size)
    target = np.log(node.mean) if node.log_level else node.mean
    scale = 1.0 if node.log_level else node.mean
    loading = next(iter(node.parents.values()))
    x = np.empty(size)
    x[0] = target
    for k in range(1, size):
        x[k] = x[k - 1] + node.kappa * (target - x[k - 1]) + loading * scale * parent[k] + noise[k]
    end = np.log(node.level or _NEUTRAL_LEVEL) if node.log_level else (node.level or 0.0)
    # A linear tilt makes the path end at the calibrated level without touching its wiggles.
    x = x + np.linspace(0.0, 1.0, size) * (end - x[-1])
    return floats(x if node.log_level else np.log(np.maximum(x, 1.0)))


def simulate_daily(
    plan: Plan, cal: Calibration, indices: DailyPaths, rng: np.random.Generator
) -> DailyPaths:
    """Simulate every non-index node on top of the index paths, in the plan's order."""
    size = len(indices.dates)
    returns = dict(indices.returns)
    closes = dict(indices.log_close)
    for node in plan.nodes:
        if node.kind == "index":
            continue
        if node.kind in ("factor", "series"):
            r = _loaded(node, returns, size) + _own_noise(node, cal, rng, size)
            returns[node.name] = r
            if node.kind == "series":
                closes[node.name] = _series_path(r, node.level)
        elif node.kind == "tracker":
            parent = next(iter(node.parents))
            path = closes[parent] - np.log(node.ratio) + node.own_vol * rng.standard_normal(size)
            r = np.concatenate((returns[parent][:1], np.diff(path)))
            returns[node.name], closes[node.name] = r, path
        else:
            parent = next(iter(node.parents))
            path = _level_path(node, returns[parent], cal, rng)
            first = node.own_vol / (1.0 if node.log_level else node.mean)
            r = np.concatenate(([first * rng.standard_normal()], np.diff(path)))
            returns[node.name], closes[node.name] = r, path
    return DailyPaths(dates=indices.dates, returns=returns, log_close=closes)


def rounded_closes(paths: DailyPaths, plan: Plan) -> dict[str, FloatArray]:
    """Return the closes as they are written (rounded), keyed by symbol, for output nodes."""
    return {
        node.name: rounded(np.exp(paths.log_close[node.name]), node.decimals)
        for node in plan.nodes
        if node.output
    }


def daily_frame(
    plan: Plan, cal: Calibration, paths: DailyPaths, rng: np.random.Generator
) -> pl.DataFrame:
    """Build the DAILY frame: OHLC around the simulated closes, volumes, sorted by symbol/date."""
    size = len(paths.dates)
    anchors = {spec.symbol: spec for spec in (cal.large, cal.small)}
    log_opens: dict[str, FloatArray] = {}
    parts: list[pl.DataFrame] = []
    for node in plan.nodes:
        if not node.output:
            continue
        r = paths.returns[node.name]
        log_close = paths.log_close[node.name]
        vol = float(np.std(r[1:]))
        if node.kind == "tracker":
            # A tracker opens where its index opens (indices come before trackers in the plan).
            parent = next(iter(node.parents))
            log_open = (
                log_opens[parent] - np.log(node.ratio) + node.own_vol * rng.standard_normal(size)
            )
        else:
            previous = np.concatenate(([log_close[0] - r[0]], log_close[:-1]))
            log_open = previous + GAP_SHARE * r + 0.1 * vol * rng.standard_normal(size)
        log_opens[node.name] = log_open
        open_, high, low, close = ohlc(rng, log_open, log_close, vol, node.decimals)
        if node.name in anchors:
            for day, value in anchors[node.name].anchors.items():
                close[paths.dates.index(day)] = value
        parts.append(
            pl.DataFrame(
                {
                    "symbol": [node.name] * size,
                    "date": list(paths.dates),
                    "open": open_,
                    "high": np.maximum(high, close),
                    "low": np.minimum(low, close),
                    "close": close,
                    "volume": volumes(rng, node.volume, r, vol),
                },
                schema=DAILY,
            )
        )
    return pl.concat(parts).sort("symbol", "date")
