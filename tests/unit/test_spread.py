"""Spread figures against hand-computed values, numpy and dateutil's calendar arithmetic."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from builders import daily_frame as daily
from builders import quotes_frame
from capgap.analytics import spread as spread_module
from capgap.analytics.quotes import quote_rows
from capgap.analytics.spread import (
    base_closes,
    daily_basis,
    make_valuation,
    session_date,
    spread_snapshot,
)
from capgap.analytics.store import MarketStore
from capgap.core.snapshot import SpreadSnapshot, Valuation
from capgap.market.calendar import sessions_between
from capgap.market.universe import Benchmarks

BENCH = Benchmarks(
    large_index="^GSPC",
    small_index="^RUT",
    large_etf="SPY",
    small_etf="IWM",
    large_value="IWD",
    large_growth="IWF",
    small_value="IWN",
    small_growth="IWO",
    volatility="^VIX",
    ten_year="^TNX",
    large_future="ES=F",
    small_future="RTY=F",
)
NAMES = {"^GSPC": "S&P 500", "^RUT": "Russell 2000"}
TODAY = date(2025, 12, 5)
QUOTE_TIME = datetime(2025, 12, 5, 20, 0, tzinfo=UTC)  # 15:00 in New York
NO_VALUATION = Valuation(None, None, None, None)


def quotes(rows: list[tuple[str, float, float]], moment: datetime = QUOTE_TIME) -> pl.DataFrame:
    return quotes_frame((symbol, moment, last, prev) for symbol, last, prev in rows)


def closes(pairs: list[tuple[date, float]]) -> pl.DataFrame:
    return pl.DataFrame(pairs, schema={"date": pl.Date, "close": pl.Float64}, orient="row")


def snapshot_of(store: MarketStore, today: date = TODAY) -> SpreadSnapshot:
    rows = quote_rows(store.quotes, [BENCH.large_index, BENCH.small_index])
    return spread_snapshot(store, BENCH, rows, NAMES, NO_VALUATION, today)


# ------------------------------------------------------------------------------ base closes


def test_base_closes_by_hand() -> None:
    history = closes(
        [
            (date(2024, 12, 31), 50.0),
            (date(2025, 9, 5), 60.0),
            (date(2025, 11, 5), 70.0),
            (date(2025, 11, 28), 80.0),
            (date(2025, 12, 1), 81.0),
            (date(2025, 12, 2), 82.0),
            (date(2025, 12, 3), 83.0),
            (date(2025, 12, 4), 84.0),
            (date(2025, 12, 5), 999.0),  # today's own bar never counts as history
        ]
    )
    # 5th most recent close before Friday 2025-12-05: Dec 4, 3, 2, 1, then Nov 28.
    assert base_closes(history, TODAY) == {
        "5d": 80.0,
        "1m": 70.0,
        "3m": 60.0,
        "ytd": 50.0,
        "1y": None,  # history starts after 2024-12-05: the window is not reached
    }
    with_year = pl.concat([closes([(date(2024, 12, 4), 45.0)]), history])
    assert base_closes(with_year, TODAY)["1y"] == 45.0


def test_base_closes_walk_back_over_weekends_and_holidays() -> None:
    history = closes(
        [
            (date(2024, 11, 29), 10.0),
            (date(2024, 12, 31), 11.0),
            (date(2025, 8, 29), 12.0),  # Friday before Labor Day (Sep 1)
            (date(2025, 10, 31), 13.0),  # Friday before Saturday Nov 1
            (date(2025, 11, 26), 14.0),
            (date(2025, 11, 28), 15.0),
        ]
    )
    today = date(2025, 12, 1)  # Monday
    bases = base_closes(history, today)
    assert bases["1m"] == 13.0  # target Sat 2025-11-01 -> Fri Oct 31
    assert bases["3m"] == 12.0  # target Mon 2025-09-01 (holiday) -> Fri Aug 29
    assert bases["1y"] == 10.0  # target Sun 2024-12-01 -> Fri Nov 29
    assert bases["ytd"] == 11.0
    # Five sessions back is Fri Nov 21 (Nov 28, 26, 25, 24, 21: Thanksgiving is closed); the
    # history's last close on or before it is Oct 31.
    assert bases["5d"] == 13.0


def test_five_day_base_on_real_sessions() -> None:
    days = [s.day for s in sessions_between(date(2025, 11, 1), date(2025, 12, 4))]
    history = closes([(day, float(i + 1)) for i, day in enumerate(days)])
    position = days.index(date(2025, 11, 28))
    assert base_closes(history, TODAY)["5d"] == float(position + 1)
    # A history that begins after the 5th session back has no 5D base.
    assert base_closes(history.tail(4), TODAY)["5d"] is None


def test_month_end_clamp_picks_the_clamped_day() -> None:
    history = closes(
        [(date(2025, 2, 27), 10.0), (date(2025, 2, 28), 11.0), (date(2025, 3, 3), 12.0)]
    )
    assert base_closes(history, date(2025, 3, 31))["1m"] == 11.0


# ------------------------------------------------------------------------ relative performance


def _hand_store() -> MarketStore:
    large = {
        date(2024, 12, 4): 202.0,
        date(2024, 12, 31): 80.8,
        date(2025, 9, 5): 101.0,
        date(2025, 11, 5): 50.5,
        date(2025, 11, 28): 100.0,
        date(2025, 12, 1): 100.0,
        date(2025, 12, 2): 100.0,
        date(2025, 12, 3): 100.0,
        date(2025, 12, 4): 100.0,
    }
    small = {
        date(2024, 12, 4): 24.75,
        date(2024, 12, 31): 39.6,
        date(2025, 9, 5): 99.0,
        date(2025, 11, 5): 49.5,
        date(2025, 11, 28): 45.0,
        date(2025, 12, 1): 50.0,
        date(2025, 12, 2): 50.0,
        date(2025, 12, 3): 50.0,
        date(2025, 12, 4): 50.0,
    }
    store = MarketStore()
    store.apply_daily(
        daily(
            [("^GSPC", d, c) for d, c in large.items()] + [("^RUT", d, c) for d, c in small.items()]
        )
    )
    store.apply_quotes(quotes([("^GSPC", 101.0, 100.0), ("^RUT", 49.5, 50.0)]))
    return store


def test_relative_performance_by_hand() -> None:
    snap = snapshot_of(_hand_store())
    # Performance = (last / base - 1) * 100; relative = small - large, in pp.
    # 1d:  large 101/100 -> +1 %,       small 49.5/50 -> -1 %      => -2
    # 5d:  large 101/100 (Nov 28) +1 %, small 49.5/45 -> +10 %     => +9
    # 1m:  large 101/50.5 -> +100 %,    small 49.5/49.5 -> 0 %     => -100
    # 3m:  large 101/101 -> 0 %,        small 49.5/99 -> -50 %     => -50
    # ytd: large 101/80.8 -> +25 %,     small 49.5/39.6 -> +25 %   => 0
    # 1y:  large 101/202 -> -50 %,      small 49.5/24.75 -> +100 % => +150
    expected = {"1d": -2.0, "5d": 9.0, "1m": -100.0, "3m": -50.0, "ytd": 0.0, "1y": 150.0}
    got = dict(snap.relative_pp.items())
    assert got == pytest.approx(expected, abs=1e-9)
    assert snap.large.change_pct == pytest.approx(1.0)
    assert snap.small.change_pct == pytest.approx(-1.0)
    assert snap.large.name == "S&P 500"
    assert snap.large.as_of == QUOTE_TIME
    assert snap.ratio == pytest.approx(49.5 / 101.0)
    # Too little history for beta/corr (61 closes) and the z-score (20 ratios).
    assert snap.beta_60d is None and snap.corr_60d is None and snap.ratio_z_1y is None
    # History: one point per paired daily close, plus today's live ratio.
    assert [p.day for p in snap.ratio_history][-1] == TODAY
    assert snap.ratio_history[-1].ratio == pytest.approx(49.5 / 101.0)
    assert snap.ratio_history[0].ratio == pytest.approx(24.75 / 202.0)
    assert len(snap.ratio_history) == 10


def test_missing_quotes_or_history_give_none_not_errors() -> None:
    empty = snapshot_of(MarketStore())
    assert all(value is None for _, value in empty.relative_pp.items())
    assert empty.large.last is None and empty.ratio is None and empty.ratio_history == ()
    only_quotes = MarketStore()
    only_quotes.apply_quotes(quotes([("^GSPC", 101.0, 100.0), ("^RUT", 49.5, 50.0)]))
    snap = snapshot_of(only_quotes)
    assert snap.relative_pp.d1 == pytest.approx(-2.0)
    assert (snap.relative_pp.d5, snap.relative_pp.ytd, snap.relative_pp.y1) == (None, None, None)
    one_side = MarketStore()
    one_side.apply_quotes(quotes([("^GSPC", 101.0, 100.0)]))
    snap = snapshot_of(one_side)
    assert snap.large.change_pct == pytest.approx(1.0)
    assert snap.small.last is None and snap.relative_pp.d1 is None and snap.ratio is None


# ---------------------------------------------------------------- statistics against numpy


def _random_history(
    rng: np.random.Generator, sessions: int, drop_small: int = 0
) -> tuple[list[date], np.ndarray, np.ndarray, pl.DataFrame]:
    days = [s.day for s in sessions_between(date(2024, 6, 1), date(2025, 12, 4))][-sessions:]
    common = rng.standard_normal(len(days)) * 0.01
    large = 5000 * np.exp(np.cumsum(common + rng.standard_normal(len(days)) * 0.003))
    small = 2000 * np.exp(np.cumsum(1.2 * common + rng.standard_normal(len(days)) * 0.008))
    small_days = list(days)
    small_values = list(small)
    for _ in range(drop_small):  # holes in one series: statistics use common dates only
        index = int(rng.integers(1, len(small_days) - 1))
        del small_days[index], small_values[index]
    frame = daily(
        [("^GSPC", d, float(c)) for d, c in zip(days, large, strict=True)]
        + [("^RUT", d, float(c)) for d, c in zip(small_days, small_values, strict=True)]
    )
    small_by_day = dict(zip(small_days, small_values, strict=True))
    paired_days = [d for d in days if d in small_by_day]
    large_by_day = dict(zip(days, large, strict=True))
    return (
        paired_days,
        np.array([large_by_day[d] for d in paired_days]),
        np.array([small_by_day[d] for d in paired_days]),
        frame,
    )


@pytest.mark.parametrize("seed, holes", [(1, 0), (2, 5), (3, 0)])
def test_z_score_beta_and_correlation_match_numpy(seed: int, holes: int) -> None:
    rng = np.random.default_rng(seed)
    days, large, small, frame = _random_history(rng, 320, drop_small=holes)
    store = MarketStore()
    store.apply_daily(frame)
    large_last, small_last = float(large[-1] * 1.004), float(small[-1] * 0.991)
    store.apply_quotes(
        quotes([("^GSPC", large_last, float(large[-1])), ("^RUT", small_last, float(small[-1]))])
    )
    snap = snapshot_of(store)

    ratios = (small / large)[-252:]
    live = small_last / large_last
    assert snap.ratio == pytest.approx(live)
    assert snap.ratio_z_1y == pytest.approx((live - ratios.mean()) / ratios.std(ddof=1), rel=1e-9)

    large_r = np.diff(large[-61:]) / large[-61:-1]
    small_r = np.diff(small[-61:]) / small[-61:-1]
    assert len(large_r) == 60
    beta = np.cov(small_r, large_r, ddof=1)[0, 1] / np.var(large_r, ddof=1)
    assert snap.beta_60d == pytest.approx(beta, rel=1e-9)
    assert snap.corr_60d == pytest.approx(np.corrcoef(small_r, large_r)[0, 1], rel=1e-9)

    # The history reaches back to the 1Y base: the last paired session on or before Dec 5.
    base = max(i for i, day in enumerate(days) if day <= date(2024, 12, 5))
    history = snap.ratio_history
    assert [p.day for p in history[:-1]] == days[base:]
    assert np.allclose([p.ratio for p in history[:-1]], (small / large)[base:], rtol=1e-12)
    assert history[-1].day == TODAY and history[-1].ratio == pytest.approx(live)


def test_beta_needs_a_full_window_and_z_a_minimum() -> None:
    rng = np.random.default_rng(7)
    _, _, _, frame = _random_history(rng, 60)  # 59 returns only
    store = MarketStore()
    store.apply_daily(frame)
    store.apply_quotes(quotes([("^GSPC", 5000.0, 5000.0), ("^RUT", 2000.0, 2000.0)]))
    snap = snapshot_of(store)
    assert snap.beta_60d is None and snap.corr_60d is None
    assert snap.ratio_z_1y is not None  # 60 ratios are enough for a z-score


def test_flat_ratio_has_no_z_score() -> None:
    days = [s.day for s in sessions_between(date(2025, 6, 1), date(2025, 12, 4))]
    store = MarketStore()
    store.apply_daily(
        daily([("^GSPC", d, 100.0) for d in days] + [("^RUT", d, 40.0) for d in days])
    )
    store.apply_quotes(quotes([("^GSPC", 100.0, 100.0), ("^RUT", 41.0, 40.0)]))
    snap = snapshot_of(store)
    assert snap.ratio_z_1y is None  # std of a constant is zero: no z-score rather than inf
    assert snap.beta_60d is None  # zero variance of the large returns


# ----------------------------------------------------------------------------------- caching


def test_daily_work_is_cached_per_daily_version(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[date] = []
    real = spread_module.daily_basis

    def counting(frame: pl.DataFrame, large: str, small: str, today: date) -> object:
        calls.append(today)
        return real(frame, large, small, today)

    monkeypatch.setattr(spread_module, "daily_basis", counting)
    store = _hand_store()
    first = snapshot_of(store)
    for step in range(3):  # quote ticks: no daily recomputation
        store.apply_quotes(
            quotes([("^GSPC", 101.0 + step, 100.0), ("^RUT", 49.5, 50.0)], QUOTE_TIME)
        )
        snapshot_of(store)
    assert len(calls) == 1
    store.apply_daily(daily([("^GSPC", date(2025, 12, 4), 100.5)]))
    again = snapshot_of(store)
    assert len(calls) == 2
    assert first.ratio_history[-2].ratio == pytest.approx(50.0 / 100.0)
    assert again.ratio_history[-2].ratio == pytest.approx(50.0 / 100.5)  # the new Dec 4 close
    snapshot_of(store, today=date(2025, 12, 8))  # a new session day recomputes too
    assert len(calls) == 3


def test_daily_basis_ignores_today_and_later_bars() -> None:
    store = _hand_store()
    before = daily_basis(store.daily, "^GSPC", "^RUT", TODAY)
    store.apply_daily(daily([("^GSPC", TODAY, 1.0), ("^RUT", TODAY + timedelta(days=3), 1.0)]))
    after = daily_basis(store.daily, "^GSPC", "^RUT", TODAY)
    assert after == before


# ------------------------------------------------------------------- session date, valuation


def test_session_date_is_the_new_york_date_of_the_newest_index_quote() -> None:
    store = MarketStore()
    late = datetime(2025, 12, 6, 1, 30, tzinfo=UTC)  # 20:30 on Dec 5 in New York
    store.apply_quotes(quotes([("^GSPC", 1.0, 1.0)], late))
    store.apply_quotes(quotes([("^RUT", 1.0, 1.0)], QUOTE_TIME))
    rows = quote_rows(store.quotes, ["^GSPC", "^RUT"])
    assert session_date(rows, ("^GSPC", "^RUT"), date(2000, 1, 1)) == date(2025, 12, 5)
    assert session_date({}, ("^GSPC", "^RUT"), date(2000, 1, 1)) == date(2000, 1, 1)


def test_valuation_discount() -> None:
    value = make_valuation(23.0, 18.5, "sample")
    assert value.small_discount_pct == pytest.approx((1 - 18.5 / 23.0) * 100)
    assert value.small_discount_pct == pytest.approx(19.565217, abs=1e-6)
    assert value.source == "sample"
    assert make_valuation(None, 18.5, "x").small_discount_pct is None
    assert make_valuation(23.0, None, "x").small_discount_pct is None
    bad = make_valuation(0.0, math.nan, None)
    assert (bad.large_forward_pe, bad.small_forward_pe, bad.small_discount_pct) == (
        None,
        None,
        None,
    )
