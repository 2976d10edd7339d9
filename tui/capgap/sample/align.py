"""Members that add up to their index: each period's member moves shifted by a common amount.

Live, a leg weighted as its fund holds it (shares held q times price p) reproduces the fund's
move, so the sample's members must too: at every daily close and every minute of the session
day, sum(q * (p - prev)) / sum(q * prev) over an index's members equals the index's change.
After the members' moves are simulated (factor + sector + own noise), every member's log move
of a period gets the same constant c added: a common shift multiplies every member's gross
return by exp(c), so the weighted gross return becomes exp(c) times what it was and one c
makes it the index's. The shift leaves the members' differences from each other (dispersion,
sector moves, own noise) unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from capgap.core.records import replace
from capgap.sample.daily import DailyPaths
from capgap.sample.intraday import DayPath
from capgap.sample.model import FloatArray, floats
from capgap.sample.plan import Plan


@dataclass(frozen=True, slots=True)
class IndexMembers:
    """An index and its members with data, with the shares its fund holds of each."""

    index: str
    symbols: tuple[str, ...]
    shares: FloatArray


def index_members(plan: Plan, constituents: pl.DataFrame) -> tuple[IndexMembers, ...]:
    """Return the plan's members grouped by index (``constituents``: symbol, bucket, shares)."""
    with_data = constituents.filter(pl.col("symbol").is_in(list(plan.driver_of)))
    groups: list[IndexMembers] = []
    for bucket, index in (("large", plan.large_index), ("small", plan.small_index)):
        rows = with_data.filter(pl.col("bucket") == bucket)
        if rows.get_column("shares").null_count():
            raise ValueError(f"members of {index} without shares held: the weights are unknown")
        groups.append(
            IndexMembers(
                index=index,
                symbols=tuple(rows.get_column("symbol").to_list()),
                shares=floats(rows.get_column("shares").to_numpy()),
            )
        )
    return tuple(groups)


def common_shift(
    weights: FloatArray, log_moves: FloatArray, target: float | FloatArray
) -> FloatArray:
    """Return the c per column that makes sum(w * exp(moves + c)) / sum(w) = exp(target).

    ``weights`` (members, 1) are the members' values at the base (q * prev), ``log_moves``
    (members, columns) their log moves from it, ``target`` the index's log move per column.
    """
    gross = np.sum(weights * np.exp(log_moves), axis=0) / np.sum(weights, axis=0)
    return floats(target - np.log(gross))


def align_daily(paths: DailyPaths, groups: tuple[IndexMembers, ...]) -> DailyPaths:
    """Shift the members' daily returns so each index's members add up to it every day.

    Worked backward from the last close, which stays where the path put it (the holdings'
    price): with the close of day k known, the members' values at day k - 1 are q * p_k *
    exp(-r_k) up to the common factor exp(-c_k), which the weights do not see, so each day's
    shift is exact and the earlier closes follow from it.
    """
    returns = dict(paths.returns)
    closes = dict(paths.log_close)
    for group in groups:
        r = np.stack([returns[symbol] for symbol in group.symbols])
        log_close = np.stack([closes[symbol] for symbol in group.symbols])
        index = closes[group.index]
        for k in range(r.shape[1] - 1, 0, -1):
            # Relative to each member's own close: the weights need only ratios, and exp() of
            # log prices near each other keeps full precision.
            base = group.shares * np.exp(log_close[:, k] - r[:, k])
            shift = common_shift(base[:, None], r[:, k : k + 1], index[k] - index[k - 1])
            r[:, k] += shift[0]
            log_close[:, k - 1] = log_close[:, k] - r[:, k]
        for row, symbol in enumerate(group.symbols):
            returns[symbol] = floats(r[row])
            closes[symbol] = floats(log_close[row])
    return replace(paths, returns=returns, log_close=closes)


def align_day(
    days: dict[str, DayPath],
    groups: tuple[IndexMembers, ...],
    prev_close: dict[str, float],
) -> dict[str, DayPath]:
    """Shift the members' session day so each index's members add up to it at every minute.

    The base of the day's change is the previous close, the same for every minute, so every
    point of the minute path (the open included) gets its own exact shift.
    """
    aligned = dict(days)
    for group in groups:
        index = days[group.index]
        moves = np.stack([days[symbol].gap + days[symbol].path for symbol in group.symbols])
        base = group.shares * floats([prev_close[symbol] for symbol in group.symbols])
        shift = common_shift(base[:, None], moves, index.gap + index.path)
        for row, symbol in enumerate(group.symbols):
            level = moves[row] + shift
            aligned[symbol] = DayPath(gap=float(level[0]), path=floats(level - level[0]))
    return aligned
