"""FedWatch over time, live: the ZQ contracts' daily closes come once a day, kept on disk."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from capgap.analytics.fed import futures_symbols
from capgap.core.clock import ManualClock
from capgap.core.records import replace
from capgap.core.snapshot import Snapshot
from capgap.engine.loop import Engine
from capgap.feeds.disk_cache import DiskCache
from capgap.feeds.live import YahooLiveFeed
from capgap.feeds.providers.yahoo import chart_path
from capgap.market.fomc import default_schedule
from capgap.market.universe import Universe, load_universe
from capgap.market.zq import default_naming
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, daily_chart, serve_history
from test_live_fed import EFFR_BODY, EFFR_PATH, NOT_FOUND
from test_member_rotation import quote_everything

__all__ = ["local_server"]

#: Tuesday 9 Dec 2025, 10:00 New York: the daily history kept on disk lasts until 16:00.
OPEN = datetime(2025, 12, 9, 15, 0, tzinfo=UTC)
EFFR = 3.89
NOV = 100 - EFFR
#: The closes served: one a calendar day up to Mon 8 Dec; the cut chance rises 1 pp a day.
DAYS = 40
P_CUT = [0.40 + 0.01 * i for i in range(DAYS)]


class BucketRefillingClock(ManualClock):
    """A manual clock whose monotonic time moves a second at each look, its wall time not.

    The request budget then refills as it would over the seconds a one-shot's thirty-odd
    requests take (a plain ManualClock never refills it past the burst).
    """

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._looks = 0.0

    def monotonic(self) -> float:
        self._looks += 1.0
        return super().monotonic() + self._looks


async def polls_until_loaded(
    engine: Engine, clock: ManualClock, server: LocalServer, contracts: list[str]
) -> tuple[Snapshot, list[int]]:
    """Poll every 10 s until the day's contracts are loaded; the last snapshot, and the
    contract requests each poll made."""
    per_poll: list[int] = []
    for _ in range(3 * len(contracts)):
        before = sum(server.count(chart_path(symbol)) for symbol in contracts)
        clock.advance(10)
        snapshot = await engine.refresh()
        per_poll.append(sum(server.count(chart_path(symbol)) for symbol in contracts) - before)
        if not engine._contracts_left:
            return snapshot, [count for count in per_poll if count]
    raise AssertionError(f"the contracts were not all loaded: {per_poll}")


def dec_price(p_cut: float) -> float:
    """The December 2025 price of a p_cut chance of 25 bp off on the 10th (N 31, M 9)."""
    return 100 - (9 / 31 * EFFR + 22 / 31 * (EFFR - p_cut * 0.25))


def tiny_universe() -> Universe:
    """The shipped universe with three members a leg: the analytics run, the requests stay few."""
    universe = load_universe()
    legs = [
        universe.constituents.filter(pl.col("bucket") == bucket).head(3)
        for bucket in ("large", "small")
    ]
    return replace(universe, constituents=pl.concat(legs))


def engine_for(server: LocalServer, tmp_path: Path, clock: ManualClock) -> Engine:
    """A new process's engine: a live Yahoo feed keeping slow data in tmp_path/slow."""
    settings = load_settings(Path(config_for(server, tmp_path)), environ={})
    universe = tiny_universe()
    feed = YahooLiveFeed(
        settings.feeds, clock, universe.benchmarks, cache=DiskCache(tmp_path / "slow")
    )
    return Engine(feed, clock, universe)


def served_engine(
    server: LocalServer, tmp_path: Path, clock: ManualClock, futures: list[str]
) -> Engine:
    """Serve the tiny universe's and ``futures``' quotes, the histories and the EFFR."""
    universe = tiny_universe()
    quote_everything(server, universe.symbols() + futures, int(OPEN.timestamp()) - 30, "")
    serve_history(server, OPEN)
    server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    return engine_for(server, tmp_path, clock)


async def test_contract_history_is_fetched_once_kept_on_disk_and_blank_where_missing(
    local_server: LocalServer, tmp_path: Path
):
    naming = default_naming()
    symbols = futures_symbols(OPEN, default_schedule(), naming)
    contracts = [symbol for symbol in symbols if naming.month_of(symbol) is not None]
    served = {
        "ZQX25.CBT": [NOV] * DAYS,
        "ZQZ25.CBT": [dec_price(p) for p in P_CUT],
    }
    for symbol in contracts:
        closes = served.get(symbol)
        local_server.add(
            chart_path(symbol),
            Reply.json(daily_chart(symbol, closes, OPEN)) if closes else Reply.json(NOT_FOUND, 404),
        )
    clock = ManualClock(OPEN)
    engine = served_engine(local_server, tmp_path, clock, symbols)
    try:
        first = await engine.refresh()
        # The first figures come before the contracts' history: none asked yet.
        assert {local_server.count(chart_path(symbol)) for symbol in contracts} == {0}
        assert first.fed.cut_odds_history == ()
        # Then one a poll at the open's 10 s cadence, in the budget's headroom (6 a minute).
        snapshot, per_poll = await polls_until_loaded(engine, clock, local_server, contracts)
        assert per_poll == [1] * len(contracts)
    finally:
        await engine.feed.aclose()
    assert engine.health.failures == 0
    asked = {symbol: local_server.count(chart_path(symbol)) for symbol in contracts}
    # Every single month once (ZQ=F's history is not asked: it rolls between months).
    assert set(asked.values()) == {1}
    assert local_server.count(chart_path("ZQ=F")) == 0
    odds = {meeting.meeting: meeting for meeting in snapshot.fed.probabilities}
    december = {row.horizon: row for row in odds[date(2025, 12, 10)].history}
    # The previous session is Mon 8 Dec, the last close served (P_CUT[-1]).
    assert december["1d"].day == date(2025, 12, 8)
    assert december["1d"].cut_pct == pytest.approx(100 * P_CUT[-1], abs=1e-6)
    # 5 sessions back: Tue 2 Dec, six calendar days before the last close.
    assert december["1w"].day == date(2025, 12, 2)
    assert december["1w"].cut_pct == pytest.approx(100 * P_CUT[-7], abs=1e-6)
    assert [point.cut_pct for point in snapshot.fed.cut_odds_history][-1] == pytest.approx(
        100 * P_CUT[-1], abs=1e-6
    )
    # January's meeting needs the January and February contracts Yahoo did not know: blank.
    january = odds[date(2026, 1, 28)].history
    assert [row.cut_pct for row in january] == [None, None, None]
    # A new start an hour later, within the history's expiry (the 16:00 close): the contracts
    # with history come from disk, no chart request for them.
    clock.advance(3600)
    again = engine_for(local_server, tmp_path, clock)
    try:
        await again.refresh()
        second, _ = await polls_until_loaded(again, clock, local_server, contracts)
    finally:
        await again.feed.aclose()
    # Nor for the months Yahoo does not know: that answer is kept until the close too.
    assert {symbol: local_server.count(chart_path(symbol)) for symbol in contracts} == asked
    assert all(local_server.count(chart_path(symbol)) == 1 for symbol in served)
    assert second.fed.cut_odds_history == snapshot.fed.cut_odds_history
    assert second.fed.probabilities[0].history == snapshot.fed.probabilities[0].history


async def test_a_failing_contract_history_costs_the_poll_nothing_and_says_so(
    local_server: LocalServer, tmp_path: Path
):
    symbols = futures_symbols(OPEN, default_schedule(), default_naming())
    for symbol in symbols:
        local_server.add(chart_path(symbol), Reply.html(503))
    clock = ManualClock(OPEN)
    engine = served_engine(local_server, tmp_path, clock, symbols)
    try:
        await engine.refresh()
        clock.advance(10)
        snapshot = await engine.refresh()
    finally:
        await engine.feed.aclose()
    assert engine.health.failures == 0
    assert snapshot.spread.large.last == 6870.4
    note = snapshot.fed.history_note
    assert note is not None and note.startswith("the ZQ contracts' daily closes failed")
    assert snapshot.fed.cut_odds_history == ()
    assert all(row.cut_pct is None for row in snapshot.fed.probabilities[0].history)


async def test_a_one_shot_snapshot_waits_for_the_contracts_history(
    local_server: LocalServer, tmp_path: Path
):
    # `capgap snapshot` polls once: it asks the contracts' closes after its poll, not never.
    naming = default_naming()
    symbols = futures_symbols(OPEN, default_schedule(), naming)
    for symbol in symbols:
        closes = [dec_price(p) for p in P_CUT] if symbol == "ZQZ25.CBT" else [NOV] * DAYS
        local_server.add(chart_path(symbol), Reply.json(daily_chart(symbol, closes, OPEN)))
    universe = tiny_universe()
    quote_everything(local_server, universe.symbols() + symbols, int(OPEN.timestamp()) - 30, "")
    serve_history(local_server, OPEN)
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    engine = engine_for(local_server, tmp_path, BucketRefillingClock(OPEN))
    try:
        snapshot = await engine.refresh_with_history()
    finally:
        await engine.feed.aclose()
    assert local_server.count(chart_path("ZQZ25.CBT")) == 1
    assert snapshot.fed.history_note is None, snapshot.fed.history_note
    assert snapshot.fed.cut_odds_history[-1].cut_pct == pytest.approx(100 * P_CUT[-1], abs=1e-6)
