"""The live engine quotes the members in a rolling refresh against the local Yahoo server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import polars as pl
import pytest
from capgap.analytics.fed import futures_symbols
from capgap.core.clock import ManualClock
from capgap.core.records import replace
from capgap.engine import loop
from capgap.engine.loop import Engine
from capgap.engine.sources import live_engine
from capgap.feeds.providers.yahoo_quote import QUOTE_PATH
from capgap.feeds.unknown import OMISSIONS_BEFORE_UNKNOWN
from capgap.market.universe import Universe, load_universe
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, serve_history
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_yahoo_quote import answer, item, open_session

__all__ = ["local_server"]

#: Tuesday 9 Dec 2025, 10:00 New York: open, so the engine polls every 10 s.
OPEN = datetime(2025, 12, 9, 15, 0, tzinfo=UTC)
#: 150 members of each index: 300 members, 45 core symbols (benchmarks, sector funds, ZQ).
PER_LEG = 150
#: A member Yahoo never answers for.
GONE = 0


def small_universe(offset: int = 0) -> Universe:
    """The shipped universe cut to PER_LEG members of each leg, from ``offset`` on."""
    universe = load_universe()
    legs = [
        universe.constituents.filter(pl.col("bucket") == bucket).slice(offset, PER_LEG)
        for bucket in ("large", "small")
    ]
    return replace(universe, constituents=pl.concat(legs))


def quote_everything(server: LocalServer, symbols: list[str], stamp: int, gone: str) -> None:
    """Answer every quote request with all of ``symbols`` but ``gone`` (parse keeps the asked)."""
    open_session(server)
    items = [
        item(symbol, 100.0, time=stamp, prev_close=99.0, marketCap=1e10 + i)
        for i, symbol in enumerate(symbols)
        if symbol != gone
    ]
    indices = {"^GSPC": (6870.4, 6857.12), "^RUT": (2521.48, 2531.16)}
    for entry in items:
        if entry["symbol"] in indices:
            entry["regularMarketPrice"], entry["regularMarketPreviousClose"] = indices[
                entry["symbol"]
            ]
    server.add(QUOTE_PATH, Reply.json(answer(*items)))


class Built:
    """Stands in for build_snapshot (the analytics are not this test's): keeps its inputs."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, store: Any, universe: Universe, **kwargs: Any) -> Any:
        self.calls.append({"universe": universe, **kwargs})
        return SimpleNamespace(feeds=kwargs["feeds"], universe=kwargs.get("universe_info"))


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[Built]:
    fake = Built()
    monkeypatch.setattr(loop, "build_snapshot", fake)
    yield fake


def quoted_per_request(server: LocalServer, start: int) -> list[list[str]]:
    """The symbols of each quote request since request ``start``."""
    return [
        parse_qs(seen.query)["symbols"][0].split(",")
        for seen in server.seen[start:]
        if seen.path == QUOTE_PATH
    ]


async def engine_on(server: LocalServer, tmp_path: Path, universe: Universe) -> Engine:
    settings = load_settings(Path(config_for(server, tmp_path)), environ={})
    return live_engine(settings, clock=ManualClock(OPEN), universe=universe)


async def test_members_in_turns_the_core_every_poll_within_the_budget(
    local_server: LocalServer, tmp_path: Path, built: Built
):
    universe = small_universe()
    members = universe.member_symbols()
    assert len(members) == 2 * PER_LEG
    gone = members[GONE]
    stamp = int(OPEN.timestamp()) - 30
    engine = await engine_on(local_server, tmp_path, universe)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    everything = universe.symbols() + futures_symbols(OPEN, engine.schedule, engine.naming)
    quote_everything(local_server, everything, stamp, gone)
    serve_history(local_server, OPEN)
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    core = set(universe.core_symbols())
    polls: list[set[str]] = []
    requests_at: list[tuple[float, int]] = []
    try:
        for _ in range(60):  # ten simulated minutes at the open cadence
            start = len(local_server.seen)
            at = (clock.now() - OPEN).total_seconds()
            await engine.refresh()
            assert engine.health.failures == 0, engine.health.status(clock.now()).error
            requests = quoted_per_request(local_server, start)
            polls.append({symbol for batch in requests for symbol in batch})
            yahoo = [s for s in local_server.seen[start:] if s.path != EFFR_PATH]
            requests_at.append((at, len(yahoo)))
            # Every batch full but the last: no request is wasted on half a batch.
            assert all(len(batch) == 50 for batch in requests[:-1])
            assert engine.next_delay_s == 10.0
            clock.advance(engine.next_delay_s)
    finally:
        await engine.aclose()
    # The core on every poll.
    for asked in polls:
        assert core <= asked
    # Each poll a slice, not all of them: 300 members beside the fixed symbols (30 core and
    # the ZQ strip), a slice of ceil(300/8) = 38 needs 2 requests, and the members fill the
    # rest of their 100 slots (one fewer when the turn comes to the member no longer asked).
    fixed = len(core | set(futures_symbols(OPEN, engine.schedule, engine.naming)))
    slots = 100 - fixed
    slices = [len(asked & set(members)) for asked in polls]
    assert set(slices) <= {slots - 1, slots} and slices.count(slots) > slices.count(slots - 1)
    # Every member (Yahoo's unknown aside) within a sweep of 6 polls (300 / 55 = 5.5).
    assert 50 < slots <= 60
    for start in range(0, len(polls) - 6):
        window = set().union(*polls[start : start + 6])
        assert set(members) - {gone} <= window
    # The member Yahoo does not know: asked on its turn until it counts as unknown, then not.
    asked_gone = sum(gone in asked for asked in polls)
    assert asked_gone == OMISSIONS_BEFORE_UNKNOWN
    problems = engine.feed.problems  # type: ignore[attr-defined]
    assert problems[gone] == f"Yahoo does not know {gone}"
    assert list(problems).count(gone) == 1
    # Requests to Yahoo in any simulated minute (the first poll's 10 daily charts and session
    # included) stay within the budget of 60.
    for at, _ in requests_at:
        minute = sum(count for when, count in requests_at if at <= when < at + 60)
        assert minute <= 60
    steady = [count for when, count in requests_at if when >= 60]
    assert sum(steady) / ((requests_at[-1][0] + 10 - 60) / 60) <= 60 * 0.9
    # The members' age reaches the snapshot: every member but one quoted, the oldest within
    # a sweep (6 polls, 60 s) of the last poll's clock.
    info = built.calls[-1]["universe_info"]
    assert info.large.source == "iShares IVV" and info.small.source == "iShares IWM"
    assert (info.large.members, info.small.members) == (PER_LEG, PER_LEG)
    assert info.large.quoted + info.small.quoted == 2 * PER_LEG - 1
    assert info.large.oldest_quote_s is not None and info.large.oldest_quote_s <= 60
    assert info.large.index == "S&P 500" and info.small.as_of == universe.sources[1].as_of


async def test_a_new_universe_takes_effect_on_the_next_poll(
    local_server: LocalServer, tmp_path: Path, built: Built
):
    first, second = small_universe(), small_universe(offset=PER_LEG)
    engine = await engine_on(local_server, tmp_path, first)
    futures = futures_symbols(OPEN, engine.schedule, engine.naming)
    stamp = int(OPEN.timestamp()) - 30
    quote_everything(local_server, first.symbols() + second.symbols() + futures, stamp, "")
    serve_history(local_server, OPEN)
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    try:
        for _ in range(3):
            await engine.refresh()
            clock.advance(10)
        engine.replace_universe(second)
        assert engine.universe is first  # not in the middle of anything: on the next poll
        asked: set[str] = set()
        for _ in range(6):
            start = len(local_server.seen)
            await engine.refresh()
            asked |= {s for batch in quoted_per_request(local_server, start) for s in batch}
            clock.advance(10)
    finally:
        await engine.aclose()
    assert engine.universe is second
    new_members = set(second.member_symbols())
    # The rotation started again over the new members: all of them within a sweep ...
    assert new_members <= asked
    # ... and none of the old ones asked any more.
    assert not (set(first.member_symbols()) - new_members) & asked
    assert built.calls[-1]["universe"] is second


async def test_a_replay_quotes_every_symbol_each_poll(built: Built):
    # A replay has no request budget: the rotation does not apply (and its answer is cached
    # while the symbols asked stay the same).
    from capgap.engine.sources import demo_engine

    universe = small_universe()
    engine = demo_engine(universe=universe)
    asked: list[list[str]] = []
    quotes = engine.feed.quotes

    async def spy(symbols: Any) -> Any:
        asked.append(list(symbols))
        return await quotes(symbols)

    engine.feed.quotes = spy  # type: ignore[method-assign]
    for _ in range(2):
        await engine.refresh()
    await engine.aclose()
    assert len(asked) == 2
    assert all(set(universe.symbols()) <= set(symbols) for symbols in asked)
