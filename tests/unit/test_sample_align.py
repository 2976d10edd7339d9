"""The sample generator's alignment of members to their index, on small hand-made paths."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from capgap.sample.align import IndexMembers, align_daily, align_day, common_shift
from capgap.sample.daily import DailyPaths
from capgap.sample.intraday import DayPath

DATES = (date(2025, 12, 1), date(2025, 12, 2), date(2025, 12, 3))


def test_common_shift_by_hand() -> None:
    # Values 100 and 300 at the base; moves +10 % and 0 %: the weighted gross return is
    # (100 x 1.1 + 300) / 400 = 1.025. For the index's +5 % every move gets log(1.05 / 1.025).
    weights = np.array([[100.0], [300.0]])
    moves = np.log(np.array([[1.10], [1.00]]))
    shift = common_shift(weights, moves, float(np.log(1.05)))
    assert shift == pytest.approx([np.log(1.05 / 1.025)])


def test_align_daily_makes_the_held_value_follow_the_index() -> None:
    group = IndexMembers(index="IDX", symbols=("A", "B"), shares=np.array([2.0, 5.0]))
    index = np.log(np.array([100.0, 103.0, 101.0]))
    a = np.log(np.array([10.0, 10.5, 11.0]))
    b = np.log(np.array([40.0, 39.0, 41.0]))
    returns = {
        "IDX": np.concatenate(([0.0], np.diff(index))),
        "A": np.concatenate(([0.01], np.diff(a))),
        "B": np.concatenate(([-0.01], np.diff(b))),
    }
    paths = DailyPaths(dates=DATES, returns=returns, log_close={"IDX": index, "A": a, "B": b})
    aligned = align_daily(paths, (group,))
    a_close, b_close = np.exp(aligned.log_close["A"]), np.exp(aligned.log_close["B"])
    held = 2.0 * a_close + 5.0 * b_close
    level = np.exp(index)
    assert held[1:] / held[:-1] == pytest.approx(level[1:] / level[:-1], rel=1e-12)
    # The last close stays put (the holdings' price); the members' relative moves too.
    assert (a_close[-1], b_close[-1]) == (pytest.approx(11.0), pytest.approx(41.0))
    spread = aligned.returns["A"][1:] - aligned.returns["B"][1:]
    assert spread == pytest.approx(returns["A"][1:] - returns["B"][1:])
    assert aligned.returns["A"][1:] == pytest.approx(np.diff(aligned.log_close["A"]))
    # The first entry only shapes the first open: untouched.
    assert aligned.returns["A"][0] == returns["A"][0]


def test_align_day_makes_every_minute_follow_the_index() -> None:
    group = IndexMembers(index="IDX", symbols=("A", "B"), shares=np.array([3.0, 1.0]))
    prev = {"IDX": 200.0, "A": 20.0, "B": 60.0}
    days = {
        "IDX": DayPath(gap=0.002, path=np.array([0.0, 0.001, -0.004, 0.003])),
        "A": DayPath(gap=-0.01, path=np.array([0.0, 0.02, 0.01, 0.0])),
        "B": DayPath(gap=0.005, path=np.array([0.0, -0.01, 0.002, 0.004])),
    }
    aligned = align_day(days, (group,), prev)
    assert aligned["IDX"] is days["IDX"]

    def level(symbol: str) -> np.ndarray:
        day = aligned[symbol]
        return prev[symbol] * np.exp(day.gap + day.path)

    held = 3.0 * level("A") + 1.0 * level("B")
    assert held / (3.0 * 20.0 + 60.0) == pytest.approx(level("IDX") / 200.0, rel=1e-12)
    assert aligned["A"].path[0] == 0.0
    # A common shift: A's path minus B's is what it was.
    before = days["A"].gap + days["A"].path - days["B"].gap - days["B"].path
    after = aligned["A"].gap + aligned["A"].path - aligned["B"].gap - aligned["B"].path
    assert after == pytest.approx(before)
