"""FedWatch over time: the upcoming meetings' odds at past closes, by the engine of today's odds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from builders import daily_frame, quotes_frame, sparse_snapshot, store_with_quotes
from capgap.analytics.fed import FedInputs, fed_snapshot
from capgap.analytics.fed_history import horizon_start
from capgap.analytics.serialize import snapshot_to_dict
from capgap.analytics.store import MarketStore
from capgap.core.records import replace
from capgap.market.calendar import sessions_between
from capgap.market.fomc import default_schedule
from capgap.market.zq import default_naming

NOW = datetime(2025, 12, 5, 21, 0, tzinfo=UTC)  # Fri 5 Dec 2025, 16:00 New York
EFFR = 3.89
# Every past day: November (no meeting) at the EFFR, so it gives the Dec 10 meeting's start
# (rule 2); the December price then encodes a cut chance p (N = 31, M = 9) by hand.
NOV = 100 - EFFR


def dec_price(p_cut: float) -> float:
    return 100 - (9 / 31 * EFFR + 22 / 31 * (EFFR - p_cut * 0.25))


# Sessions from 2 Sep to 4 Dec 2025; on the i-th the market priced a cut at 20 % + i * 0.5 pp.
DAYS = [session.day for session in sessions_between(date(2025, 9, 2), date(2025, 12, 4))]
P_CUT = {day: 0.20 + 0.005 * index for index, day in enumerate(DAYS)}


def inputs() -> FedInputs:
    return FedInputs(
        target_range=(3.75, 4.0),
        target_source="sample",
        effr=EFFR,
        futures_label="sample ZQ",
        manual_prices={},
    )


def store(skip: frozenset[tuple[str, date]] = frozenset()) -> MarketStore:
    """Today's quotes (87 % cut) and the past closes, less the (symbol, day) in ``skip``."""
    market = store_with_quotes(
        quotes_frame(
            (s, NOW, price, price)
            for s, price in {"ZQX25.CBT": NOV, "ZQZ25.CBT": dec_price(0.87)}.items()
        )
    )
    rows = [
        (symbol, day, price)
        for day in DAYS
        for symbol, price in (("ZQX25.CBT", NOV), ("ZQZ25.CBT", dec_price(P_CUT[day])))
        if (symbol, day) not in skip
    ]
    market.apply_daily(daily_frame(rows))
    return market


def build(market: MarketStore, now: datetime = NOW):
    return fed_snapshot(
        market, now=now, schedule=default_schedule(), naming=default_naming(), inputs=inputs()
    )


def test_the_horizons_read_the_previous_session_five_sessions_and_a_month_back():
    today = date(2025, 12, 5)
    assert horizon_start("1d", today) == date(2025, 12, 4)
    # Dec 4, 3, 2, 1 and Nov 28 (Thanksgiving, Nov 27, is no session).
    assert horizon_start("1w", today) == date(2025, 11, 28)
    assert horizon_start("1m", today) == date(2025, 11, 5)
    # A Monday after a holiday weekend: the previous session is the Friday before.
    assert horizon_start("1d", date(2026, 1, 20)) == date(2026, 1, 16)
    with pytest.raises(ValueError, match="unknown horizon"):
        horizon_start("2w", today)


def test_past_odds_are_the_past_closes_priced_by_the_same_engine():
    fed = build(store())
    first = fed.probabilities[0]
    assert first.meeting == date(2025, 12, 10)
    assert first.cut_pct == pytest.approx(87.0, abs=1e-6)
    past = {row.horizon: row for row in first.history}
    assert [row.horizon for row in first.history] == ["1d", "1w", "1m"]
    for horizon, day in (
        ("1d", date(2025, 12, 4)),
        ("1w", date(2025, 11, 28)),
        ("1m", date(2025, 11, 5)),
    ):
        assert past[horizon].day == day
        assert past[horizon].cut_pct == pytest.approx(100 * P_CUT[day], abs=1e-6)
        assert past[horizon].hold_pct == pytest.approx(100 - 100 * P_CUT[day], abs=1e-6)
        assert past[horizon].hike_pct == pytest.approx(0.0, abs=1e-9)


def test_the_chart_is_the_next_meetings_cut_odds_over_three_months():
    fed = build(store())
    chart = fed.cut_odds_history
    # The 3M window starts on Fri 5 Sep 2025, a session: it is the first point.
    assert chart[0].day == date(2025, 9, 5)
    assert [point.day for point in chart] == [day for day in DAYS if day >= date(2025, 9, 5)]
    for point in chart:
        assert point.cut_pct == pytest.approx(100 * P_CUT[point.day], abs=1e-6)
    assert fed.history_note is None
    assert fed.history_anchor == "today's EFFR"


def test_a_missing_past_close_leaves_that_horizon_blank():
    fed = build(store(skip=frozenset({("ZQZ25.CBT", date(2025, 11, 28))})))
    past = {row.horizon: row for row in fed.probabilities[0].history}
    assert past["1w"].day == date(2025, 11, 28)
    assert (past["1w"].cut_pct, past["1w"].hold_pct, past["1w"].hike_pct) == (None, None, None)
    assert past["1d"].cut_pct == pytest.approx(100 * P_CUT[date(2025, 12, 4)], abs=1e-6)
    assert date(2025, 11, 28) not in [point.day for point in fed.cut_odds_history]


def test_no_daily_closes_gives_blank_history_and_says_why():
    market = store_with_quotes(
        quotes_frame(
            (s, NOW, p, p) for s, p in {"ZQX25.CBT": NOV, "ZQZ25.CBT": dec_price(0.87)}.items()
        )
    )
    fed = build(market)
    history = fed.probabilities[0].history
    assert [(row.day, row.cut_pct) for row in history] == [(None, None)] * 3
    assert fed.cut_odds_history == ()
    assert fed.history_note is not None and "no daily closes" in fed.history_note


def test_only_meetings_upcoming_today_have_history():
    # After the Dec 10 decision the first meeting is Jan 28; the December contract's closes
    # from before it no longer price a meeting that is listed.
    fed = build(store(), now=datetime(2025, 12, 12, 21, 0, tzinfo=UTC))
    assert all(odds.meeting > date(2025, 12, 10) for odds in fed.probabilities)


def test_the_history_is_priced_once_per_daily_history_not_per_tick(monkeypatch):
    import capgap.analytics.fed as fed_module

    calls: list[object] = []
    real = fed_module.fedwatch

    def counting(*args: object, **kwargs: object):
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fed_module, "fedwatch", counting)
    market = store()
    build(market)
    first = len(calls)
    assert first > len(DAYS) // 2  # every charted day was priced
    build(market)
    build(market)
    assert len(calls) == first
    # A new daily bar (the next day's history): priced again.
    market.apply_daily(daily_frame([("ZQX25.CBT", date(2025, 12, 4), NOV + 0.0025)]))
    build(market)
    assert len(calls) > first


def test_json_gives_each_horizon_and_the_chart_series():
    fed = build(store())
    data = snapshot_to_dict(replace(sparse_snapshot(NOW), fed=fed))["fed"]
    history = data["probabilities"][0]["history"]
    assert sorted(history) == ["1d", "1m", "1w"]
    dec_4 = 100 * P_CUT[date(2025, 12, 4)]
    assert history["1d"] == {
        "date": "2025-12-04",
        "cut_pct": pytest.approx(dec_4, abs=1e-4),
        "hold_pct": pytest.approx(100 - dec_4, abs=1e-4),
        "hike_pct": 0.0,
    }
    assert data["cut_odds_history"][0] == {
        "date": "2025-09-05",
        "cut_pct": pytest.approx(100 * P_CUT[date(2025, 9, 5)], abs=1e-4),
    }
    assert data["history_anchor"] == "today's EFFR" and data["history_note"] is None
