"""The members' daily closes, live: fetched in the spare budget, kept on disk, faults survived."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import polars as pl
import pytest
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.records import replace
from capgap.core.schemas import BARS, UTC_TIME
from capgap.feeds import member_history
from capgap.feeds.http import make_client
from capgap.feeds.member_history import (
    HISTORY_RESERVE,
    ClosesCache,
    MemberHistoryFetcher,
    RequestLog,
    request_hooks,
    sane_closes,
)
from capgap.feeds.poller import TokenBucket
from capgap.feeds.providers import yahoo as yahoo_module
from capgap.feeds.providers.yahoo import YahooChart, chart_path
from capgap.market.universe import Universe, load_universe
from server import LocalServer, Reply, local_server
from test_live_engine import chart_body
from test_retry_window import until
from test_yahoo import NOT_FOUND

__all__ = ["local_server"]

#: Tuesday 9 Dec 2025, 10:00 New York: the last session is Monday the 8th.
NOW = datetime(2025, 12, 9, 15, 0, tzinfo=UTC)
TODAY = date(2025, 12, 9)
#: The first date asked for in these tests (the engine asks from closes_start).
SINCE = date(2025, 12, 1)
#: The sessions from SINCE to the last one before TODAY.
SESSIONS = [date(2025, 12, day) for day in (1, 2, 3, 4, 5, 8)]


def stamp(day: date) -> int:
    """The epoch second of a daily bar: the session's 09:30 in New York."""
    return int(datetime.combine(day, time(9, 30), NEW_YORK).timestamp())


def member_chart(symbol: str, days: list[date], closes: list[float]) -> Reply:
    """A daily chart reply of ``symbol``: one bar a day, at its close."""
    body = chart_body(
        symbol,
        [stamp(day) for day in days],
        closes,
        exchangeTimezoneName="America/New_York",
        regularMarketPrice=closes[-1],
        regularMarketTime=stamp(days[-1]),
        chartPreviousClose=closes[0],
    )
    return Reply.json(body)


def closes_of(base: float) -> list[float]:
    """Six closes of a member, one a session of SESSIONS: base, base + 1, ..."""
    return [base + i for i in range(len(SESSIONS))]


class Rig:
    """A fetcher on the local server with a manual clock and the live feed's bucket."""

    def __init__(
        self, server: LocalServer, path: Path | None, clock: ManualClock, capacity: float
    ) -> None:
        self.clock = clock
        self.bucket = TokenBucket(capacity, 1.0, clock)
        self.client = make_client(yahoo_module.CLIENT_SETTINGS, budget=self.bucket)
        self.log = RequestLog(clock)
        request_hooks(self.client).append(self.log.hook)
        chart = YahooChart(self.client, server.base_url, clock=clock)
        self.fetcher = MemberHistoryFetcher(
            chart, ClosesCache(path), self.bucket, clock, log=self.log
        )

    def closes(self, symbols: list[str]) -> pl.DataFrame:
        """What member_closes would return, collected and sorted."""
        return self.fetcher.cache.closes(symbols, SINCE).collect().sort("symbol", "date")

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        await self.client.aclose()


@pytest.fixture(autouse=True)
def short_naps(monkeypatch: pytest.MonkeyPatch) -> None:
    # The manual clock moves when a test says so: the fetcher looks again soon after.
    monkeypatch.setattr(member_history, "MAX_NAP_S", 0.01)


@pytest.fixture
async def rigs(local_server: LocalServer) -> AsyncIterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(path: Path | None, clock: ManualClock | None = None, capacity: float = 100) -> Rig:
        rig = Rig(local_server, path, clock or ManualClock(NOW), capacity)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        await rig.aclose()


def settled_on_clock(fetcher: MemberHistoryFetcher, clock: ManualClock) -> bool:
    """Whether the fetcher is done, or has looked at the budget at the clock's second."""
    return not fetcher.running or fetcher.waiting_since == clock.monotonic()


def charts_asked(server: LocalServer, symbol: str) -> list[dict[str, list[str]]]:
    """The query of every chart request of ``symbol``, in order."""
    return [parse_qs(seen.query) for seen in server.seen if seen.path == chart_path(symbol)]


def expected(symbol: str, days: list[date], closes: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"symbol": [symbol] * len(days), "date": days, "close": closes},
        schema=member_history.CLOSES_SCHEMA,
    )


def test_a_chart_keeps_the_closes_before_today_and_drops_absurd_ones():
    days = [*SESSIONS, TODAY, TODAY + timedelta(days=3)]
    closes = [50.0, 51.0, 5000.0, 52.0, 0.5, 53.0, 54.0, 55.0]
    bars = pl.DataFrame(
        {
            "symbol": ["AAA"] * len(days),
            "time": [datetime.fromtimestamp(stamp(day), UTC) for day in days],
            **{name: closes for name in ("open", "high", "low", "close")},
            "volume": [1.0] * len(days),
        },
        schema=BARS | {"time": UTC_TIME},
    )
    got = sane_closes(bars, "AAA", first=SINCE, today=TODAY, reference=None)
    # Today's live bar and a bar dated later go; 5000 and 0.5 are over 10x from the median
    # of the reply (52.5): wrong numbers, not moves.
    kept = [(d, c) for d, c in zip(SESSIONS, closes, strict=False) if c not in (5000.0, 0.5)]
    assert got.equals(expected("AAA", [d for d, _ in kept], [c for _, c in kept]))
    # A short range is judged against the member's last cached close.
    short = sane_closes(bars.slice(5, 1), "AAA", first=SINCE, today=TODAY, reference=5.0)
    assert short.height == 0  # 53 is over 10x from 5
    assert sane_closes(bars.slice(5, 1), "AAA", first=SINCE, today=TODAY, reference=52.0).equals(
        expected("AAA", [SESSIONS[5]], [53.0])
    )


async def test_members_come_in_the_order_given_and_a_restart_asks_nothing(
    local_server: LocalServer, tmp_path: Path, rigs: Callable[..., Rig]
):
    members = {"HEAVY": 100.0, "MID": 50.0, "LIGHT": 10.0}
    for symbol, base in members.items():
        local_server.add(chart_path(symbol), member_chart(symbol, SESSIONS, closes_of(base)))
    path = tmp_path / "cache" / member_history.CLOSES_FILE
    order = ["HEAVY", "MID", "LIGHT"]
    rig = rigs(path)
    rig.fetcher.want(order, SINCE)
    await until(lambda: not rig.fetcher.running, "every member fetched")
    charts = [seen.path for seen in local_server.seen]
    assert charts == [chart_path(symbol) for symbol in order]
    # Each asked from SINCE (00:00 New York) on, daily.
    query = charts_asked(local_server, "HEAVY")[0]
    assert query["interval"] == ["1d"]
    assert query["period1"] == [str(int(datetime.combine(SINCE, time(), NEW_YORK).timestamp()))]
    want = pl.concat(
        [expected(symbol, SESSIONS, closes_of(members[symbol])) for symbol in order]
    ).sort("symbol", "date")
    assert rig.closes(order).equals(want)
    assert rig.fetcher.settled(order) == 3
    assert path.exists()
    # A restart the same day: the closes from disk, no request.
    again = rigs(path)
    again.fetcher.want(order, SINCE)
    assert not again.fetcher.running
    assert again.fetcher.settled(order) == 3
    assert again.closes(order).equals(want)
    assert local_server.total == 3


async def test_the_next_day_costs_one_short_range_per_member(
    local_server: LocalServer, tmp_path: Path, rigs: Callable[..., Rig]
):
    path = tmp_path / member_history.CLOSES_FILE
    order = ["AAA", "BBB"]
    for symbol in order:
        local_server.add(chart_path(symbol), member_chart(symbol, SESSIONS, closes_of(20)))
    rig = rigs(path)
    rig.fetcher.want(order, SINCE)
    await until(lambda: not rig.fetcher.running, "the first day fetched")
    await rig.aclose()
    # Wednesday: Tuesday's close is missing; Yahoo sends it and today's live bar.
    wednesday = ManualClock(NOW + timedelta(days=1))
    for symbol in order:
        local_server.replace(
            chart_path(symbol), member_chart(symbol, [TODAY, TODAY + timedelta(1)], [26.0, 27.0])
        )
    next_day = rigs(path, wednesday)
    next_day.fetcher.want(order, SINCE)
    await until(lambda: not next_day.fetcher.running, "the second day fetched")
    tuesday = str(int(datetime.combine(TODAY, time(), NEW_YORK).timestamp()))
    for symbol in order:
        asked = charts_asked(local_server, symbol)
        assert len(asked) == 2
        assert asked[1]["period1"] == [tuesday]
    want = pl.concat([expected(s, [*SESSIONS, TODAY], [*closes_of(20), 26.0]) for s in order]).sort(
        "symbol", "date"
    )
    assert next_day.closes(order).equals(want)


@pytest.mark.parametrize("damage", ["garbage", "columns"])
async def test_a_damaged_cache_is_discarded_with_one_warning_and_fetched_again(
    local_server: LocalServer, tmp_path: Path, rigs: Callable[..., Rig], damage: str
):
    path = tmp_path / member_history.CLOSES_FILE
    if damage == "garbage":
        path.write_bytes(b"PAR1 not a parquet file at all")
    else:
        pl.DataFrame({"ticker": ["AAA"], "px": [1.0]}).write_parquet(path)
    local_server.add(chart_path("AAA"), member_chart("AAA", SESSIONS, closes_of(20)))
    rig = rigs(path)
    warning = rig.fetcher.cache.warning
    assert warning is not None and "damaged" in warning and str(path) in warning
    rig.fetcher.want(["AAA"], SINCE)
    await until(lambda: not rig.fetcher.running, "the member fetched again")
    assert rig.closes(["AAA"]).equals(expected("AAA", SESSIONS, closes_of(20)))
    # Written whole again: the next run reads it without a warning.
    assert ClosesCache(path).warning is None


async def test_an_unknown_member_is_listed_once_and_not_asked_again(
    local_server: LocalServer, rigs: Callable[..., Rig]
):
    local_server.add(chart_path("GONE"), Reply.json(NOT_FOUND, 404))
    local_server.add(chart_path("AAA"), member_chart("AAA", SESSIONS, closes_of(20)))
    # An empty result for another member: listed; the members after it still come.
    local_server.add(chart_path("EMPTY"), Reply.json({"chart": {"result": [], "error": None}}))
    rig = rigs(None)
    order = ["GONE", "EMPTY", "AAA"]
    rig.fetcher.want(order, SINCE)
    await until(lambda: not rig.fetcher.running, "every member tried")
    problems = rig.fetcher.problems
    assert problems["GONE"].startswith("Yahoo does not know GONE")
    assert problems["EMPTY"] == "Yahoo sent an empty chart for EMPTY"
    assert rig.fetcher.settled(order) == 3
    assert rig.closes(order).get_column("symbol").unique().to_list() == ["AAA"]
    # Asked again (the engine's next reduction): the unknown member is not requested.
    rig.fetcher.want(order, SINCE)
    assert not rig.fetcher.running
    assert local_server.count(chart_path("GONE")) == 1


async def test_a_rate_limit_backs_off_and_the_next_history_arrives_after_it(
    local_server: LocalServer, rigs: Callable[..., Rig]
):
    local_server.add(
        chart_path("AAA"),
        Reply.json({}, 429, {"Retry-After": "120"}),
        member_chart("AAA", SESSIONS, closes_of(20)),
    )
    local_server.add(chart_path("BBB"), member_chart("BBB", SESSIONS, closes_of(30)))
    rig = rigs(None)
    rig.fetcher.want(["AAA", "BBB"], SINCE)
    await until(lambda: rig.fetcher.error is not None and rig.fetcher.gated, "the backoff")
    assert "429" in (rig.fetcher.error or "")
    # Waiting: nothing more is asked while the clock stands before the Retry-After.
    rig.clock.advance(119)
    await until(lambda: settled_on_clock(rig.fetcher, rig.clock), "still waiting")
    assert local_server.total == 1
    rig.clock.advance(2)
    await until(lambda: not rig.fetcher.running, "the fault cleared")
    assert rig.fetcher.error is None
    assert [len(charts_asked(local_server, s)) for s in ("AAA", "BBB")] == [2, 1]
    assert rig.closes(["AAA", "BBB"]).height == 2 * len(SESSIONS)


async def test_the_history_takes_only_the_tokens_above_the_polls_reserve(
    local_server: LocalServer, rigs: Callable[..., Rig]
):
    symbols = [f"M{i:02d}" for i in range(40)]
    for symbol in symbols:
        local_server.add(chart_path(symbol), member_chart(symbol, SESSIONS, closes_of(20)))
    rig = rigs(None, capacity=30)
    rig.fetcher.want(symbols, SINCE)
    # A full bucket of 30: the history takes 15 and leaves the reserve for the polls.
    await until(lambda: rig.fetcher.settled(symbols) == 15 and rig.fetcher.gated, "15 members")
    assert local_server.total == 30 - HISTORY_RESERVE
    assert rig.bucket.available() == pytest.approx(HISTORY_RESERVE)
    # Five seconds refill five tokens: five more members, and the reserve still stands.
    rig.clock.advance(5)
    await until(lambda: rig.fetcher.settled(symbols) == 20 and rig.fetcher.gated, "20 members")
    assert local_server.total == 20
    assert rig.bucket.available() == pytest.approx(HISTORY_RESERVE)


async def test_the_history_leaves_the_tenth_of_the_budget_for_one_off_requests(
    local_server: LocalServer, rigs: Callable[..., Rig]
):
    symbols = [f"M{i:02d}" for i in range(40)]
    for symbol in symbols:
        local_server.add(chart_path(symbol), member_chart(symbol, SESSIONS, closes_of(20)))
    rig = rigs(None, capacity=100)  # a bucket that would allow far more
    # The polls made 5 requests every 10 s over the last minute: 30, in lumps of 5.
    for lump in range(6):
        rig.clock.advance(10 if lump else 0)
        for _ in range(5):
            await rig.log.hook(None)
    rig.fetcher.want(symbols, SINCE)
    # 90 % of 60 is 54: 30 made, 5 for the next poll's lump, so the history may make 19
    # (by hand: 30 + 19 + 5 = 54).
    await until(lambda: rig.fetcher.settled(symbols) == 19 and rig.fetcher.gated, "19 members")
    assert local_server.total == 19
    # A minute on, all of those left the window: the 21 members left go (21 < 54).
    rig.clock.advance(61)
    await until(lambda: not rig.fetcher.running, "the rest")
    assert local_server.total == 40
    assert rig.log.recent() == 21


async def test_live_engine_fills_the_windows_as_the_history_arrives_within_the_budget(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from capgap.analytics.sector_history import leg_levels
    from capgap.engine import loop
    from capgap.engine.sources import live_engine
    from capgap.feeds.live import YAHOO_BURST, YAHOO_REQUESTS_PER_S, YahooLiveFeed
    from capgap.feeds.providers.yahoo_quote import QUOTE_PATH
    from capgap.settings.config import load_settings
    from test_live_engine import config_for, serve_history
    from test_live_fed import EFFR_BODY, EFFR_PATH
    from test_member_rotation import OPEN, Built, quote_everything

    assert OPEN == NOW
    monkeypatch.setattr(loop, "build_snapshot", built := Built())
    reductions: list[int] = []

    def counted(closes: pl.LazyFrame, members: pl.DataFrame) -> pl.DataFrame:
        reductions.append(closes.collect().get_column("symbol").n_unique())
        return leg_levels(closes, members)

    monkeypatch.setattr(loop, "leg_levels", counted)
    universe = small_universe(12)
    members = universe.member_symbols()
    assert len(members) == 24
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    clock = ManualClock(OPEN)
    engine = live_engine(settings, clock=clock, universe=universe)
    feed = engine.feed
    assert isinstance(feed, YahooLiveFeed)
    fetcher = feed.member_history
    futures = loop.futures_symbols(OPEN, engine.schedule, engine.naming)
    quote_everything(local_server, universe.symbols() + futures, int(OPEN.timestamp()) - 30, "")
    serve_history(local_server, OPEN)
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    for symbol in members:
        local_server.add(chart_path(symbol), member_chart(symbol, SESSIONS, closes_of(20)))
    member_paths = {chart_path(symbol) for symbol in members}
    quotes_per_poll: list[int] = []
    history_per_poll: list[int] = []
    yahoo_by: list[tuple[float, int]] = []
    try:
        for _ in range(12):  # two simulated minutes at the open cadence
            start = len(local_server.seen)
            await engine.refresh()
            await until(lambda: settled_on_clock(fetcher, clock), "the history waits")
            clock.advance(10)
            # The history takes the new tokens before the next poll, as it would live.
            await until(lambda: settled_on_clock(fetcher, clock), "the history's turn")
            this_poll = [seen.path for seen in local_server.seen[start:]]
            quotes_per_poll.append(this_poll.count(QUOTE_PATH))
            history_per_poll.append(sum(1 for path in this_poll if path in member_paths))
            yahoo = sum(1 for seen in local_server.seen if seen.path != EFFR_PATH)
            yahoo_by.append(((clock.now() - OPEN).total_seconds(), yahoo))
    finally:
        await engine.aclose()
    # Each poll quotes the core and a slice of the members in as many requests, history or
    # not: 48 core symbols (the benchmarks with RSP and ^SP600, the funds, the ZQ strip) and
    # ceil(24 / 8) = 3 members are two batches of 50.
    assert quotes_per_poll == [2] * 12
    # The history ran beside them, in the spare tokens, and completed.
    assert sum(history_per_poll) == len(members)
    assert sum(1 for count in history_per_poll if count) >= 2
    # Never beyond the host's bucket: its burst plus one request a second of clock time; and
    # after the cold start no minute over the budget of 60.
    for at, total in yahoo_by:
        assert total <= YAHOO_BURST + YAHOO_REQUESTS_PER_S * at
    for (at, before), (later, after) in itertools.combinations(yahoo_by, 2):
        if later - at <= 60:
            assert after - before <= 60
    # Reduced when the day began and again when every member was in: not on every poll.
    assert reductions[0] < len(members)
    assert reductions[-1] == len(members) and len(reductions) == 2
    status = built.calls[-1]["sector_history"]
    assert (status.loaded, status.members, status.error) == (24, 24, None)
    assert status.through == SESSIONS[-1]
    assert engine.store.leg_levels.get_column("date").max() == SESSIONS[-1]


def small_universe(per_leg: int) -> Universe:
    """The shipped universe cut to ``per_leg`` members of each leg."""
    universe = load_universe()
    legs = [
        universe.constituents.filter(pl.col("bucket") == bucket).slice(0, per_leg)
        for bucket in ("large", "small")
    ]
    return replace(universe, constituents=pl.concat(legs))


async def test_an_unforeseen_error_in_one_reply_lists_the_member_and_the_rest_come(
    local_server: LocalServer, rigs: Callable[..., Rig], monkeypatch: pytest.MonkeyPatch
):
    real = member_history.sane_closes

    def fragile(bars: pl.DataFrame, symbol: str, **kwargs: object) -> pl.DataFrame:
        if symbol == "BAD":
            raise OverflowError("a reply no parser foresaw")
        return real(bars, symbol, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(member_history, "sane_closes", fragile)
    for symbol in ("BAD", "AAA"):
        local_server.add(chart_path(symbol), member_chart(symbol, SESSIONS, closes_of(20)))
    rig = rigs(None)
    rig.fetcher.want(["BAD", "AAA"], SINCE)
    await until(lambda: rig.fetcher.settled(["BAD", "AAA"]) == 2, "both members settled")
    assert rig.fetcher.problems == {
        "BAD": "BAD's daily closes: OverflowError: a reply no parser foresaw"
    }
    assert rig.closes(["BAD", "AAA"]).equals(expected("AAA", SESSIONS, closes_of(20)))


async def test_a_feed_down_from_the_start_counts_no_history_yet_not_none(tmp_path: Path):
    # Yahoo unreachable from the start: no poll succeeds, so no reduction begins. The
    # windows and the map say none of the members' history has come, not that the source
    # has none ("no members' history from this source" was shown before).
    from capgap.engine.sources import live_engine
    from capgap.settings.config import load_settings

    closed = "http://127.0.0.1:9"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[feeds.yahoo]\nbase_url = "{closed}"\ncookie_url = "{closed}"\n'
        f'[feeds.nyfed]\nbase_url = "{closed}"\n'
        f'[feeds.fred]\nbase_url = "{closed}"\ncsv_base_url = "{closed}"\n'
    )
    universe = small_universe(3)
    engine = live_engine(
        load_settings(config, environ={}), clock=ManualClock(NOW), universe=universe
    )
    try:
        snapshot = await engine.refresh()
    finally:
        await engine.aclose()
    assert engine.health.failures == 1
    history = snapshot.sector_history
    assert history is not None and history.error is None
    assert (history.loaded, history.members) == (0, len(universe.member_symbols()))
