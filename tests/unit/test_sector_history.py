"""The sector legs' daily levels and windows against hand values and the closes themselves."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from builders import members_frame, quotes_frame
from capgap.analytics.build import build_snapshot
from capgap.analytics.quotes import quote_rows
from capgap.analytics.sector_history import (
    closes_start,
    current_leg_levels,
    heaviest_first,
    history_members_of,
    leg_levels,
)
from capgap.analytics.sectors import etf_symbols, sector_rows
from capgap.analytics.serialize import snapshot_to_dict
from capgap.analytics.store import MarketStore
from capgap.core.clock import ManualClock
from capgap.core.quadrants import quadrant
from capgap.core.schemas import LEG_LEVELS
from capgap.core.snapshot import SECTOR_WINDOW_IDS, FedSnapshot, SectorRow, Snapshot
from capgap.engine.sources import demo_engine
from capgap.engine.startup import demo_window
from capgap.feeds.base import FeedError
from capgap.market.calendar import market_session, sessions_between
from capgap.market.universe import Benchmarks, SectorDef, Universe, load_universe
from capgap.market.windows import window_start

BENCH = Benchmarks(
    "^GSPC", "^RUT", "SPY", "IWM", "IWD", "IWF", "IWN", "IWO", "^VIX", "^TNX", "ES=F", "RTY=F"
)
D1, D2, D3, D4 = date(2025, 3, 3), date(2025, 3, 4), date(2025, 3, 5), date(2025, 3, 6)


def hand_members() -> pl.DataFrame:
    """A large leg of three members and a small leg of one (sector 0), one outside any sector."""
    return pl.DataFrame(
        {
            "symbol": ["AAA", "BBB", "CCC", "SSS", "ZZZ"],
            "sector_idx": [0, 0, 0, 0, None],
            "bucket": ["large", "large", "large", "small", "large"],
            "q": [10.0, 5.0, 2.0, 1.0, 1.0],
            "ref_value": [1000.0, 1000.0, 100.0, 50.0, 1.0],
        },
        schema_overrides={"sector_idx": pl.UInt32},
    )


def hand_closes() -> pl.DataFrame:
    rows = [
        ("AAA", D1, 100.0),
        ("AAA", D2, 110.0),
        ("AAA", D3, 121.0),
        ("AAA", D4, 110.0),
        # BBB misses D2: it sits out D2 and D3 rather than jump from D1 to D3.
        ("BBB", D1, 200.0),
        ("BBB", D3, 210.0),
        ("BBB", D4, 220.0),
        # CCC joins on D3: it counts from D4.
        ("CCC", D3, 50.0),
        ("CCC", D4, 55.0),
        ("SSS", D1, 10.0),
        ("SSS", D2, 9.0),
        ("SSS", D3, 9.0),
        ("SSS", D4, 9.9),
        ("ZZZ", D1, 1.0),
        ("ZZZ", D4, 1000.0),
    ]
    return pl.DataFrame(
        rows, schema={"symbol": pl.String, "date": pl.Date, "close": pl.Float64}, orient="row"
    )


def test_leg_levels_by_hand() -> None:
    levels = leg_levels(hand_closes(), hand_members())
    assert levels.schema == LEG_LEVELS
    large = levels.filter(pl.col("bucket") == "large")
    small = levels.filter(pl.col("bucket") == "small")
    assert large.get_column("date").to_list() == [D1, D2, D3, D4]
    # D2 and D3: AAA alone has both closes, +10 % each; it is 1000 of the leg's 2100.
    # D4: AAA 10 * -11, BBB 5 * +10, CCC 2 * +5 = -50 over 10 * 121 + 5 * 210 + 2 * 50 = 2360.
    assert large.get_column("level").to_list() == pytest.approx(
        [100.0, 110.0, 121.0, 121.0 * (1 - 50 / 2360)]
    )
    assert large.get_column("coverage_pct").to_list() == pytest.approx(
        [0.0, 1000 / 2100 * 100, 1000 / 2100 * 100, 100.0]
    )
    # The small leg is its own: 10 -> 9 -> 9 -> 9.9.
    assert small.get_column("level").to_list() == pytest.approx([100.0, 90.0, 90.0, 99.0])
    assert small.get_column("coverage_pct").to_list() == pytest.approx([0.0, 100.0, 100.0, 100.0])
    # ZZZ is in no sector: its jump moves nothing.
    assert levels.get_column("sector_idx").unique().to_list() == [0]


def test_leg_levels_take_a_close_given_twice_once_and_ignore_bad_closes() -> None:
    rows = []
    for symbol, day, close in hand_closes().iter_rows():
        if (symbol, day) == ("AAA", D2):
            rows.append((symbol, day, 999.0))  # given first, then corrected: the last counts
        if (symbol, day) == ("SSS", D3):
            close = float("nan")  # no close: SSS sits out D3 and D4
        rows.append((symbol, day, close))
    closes = pl.DataFrame(rows, schema=hand_closes().schema, orient="row")
    levels = leg_levels(closes, hand_members())
    large = levels.filter(pl.col("bucket") == "large").get_column("level").to_list()
    assert large == pytest.approx([100.0, 110.0, 121.0, 121.0 * (1 - 50 / 2360)])
    small = levels.filter(pl.col("bucket") == "small")
    assert small.get_column("level").to_list() == pytest.approx([100.0, 90.0, 90.0, 90.0])
    assert small.get_column("coverage_pct").to_list() == pytest.approx([0.0, 100.0, 0.0, 0.0])


def test_leg_levels_do_not_depend_on_the_closes_order() -> None:
    ordered = leg_levels(hand_closes(), hand_members())
    assert leg_levels(hand_closes().reverse(), hand_members()).equals(ordered)
    # Read in chunks of members (here one each), the levels are the same.
    assert leg_levels(hand_closes(), hand_members(), chunk=1).equals(ordered)


def test_leg_levels_of_nothing_are_empty() -> None:
    nothing = hand_closes().clear()
    assert leg_levels(nothing, hand_members()).schema == LEG_LEVELS
    assert leg_levels(nothing, hand_members()).is_empty()


# A universe of two sectors, each leg two members of unequal weights, over sessions from July.
TODAY = date(2025, 12, 5)
NOW = datetime(2025, 12, 5, 18, 0, tzinfo=UTC)
SECTORS = (
    SectorDef("Information Technology", "cyclical", "XLK", "PSCT"),
    SectorDef("Energy", "cyclical", "XLE", "PSCE"),
)
MEMBERS = [
    ("AAA", "Aaa", "Information Technology", "large"),
    ("BBB", "Bbb", "Information Technology", "large"),
    ("CCC", "Ccc", "Information Technology", "small"),
    ("DDD", "Ddd", "Information Technology", "small"),
    ("EEE", "Eee", "Energy", "large"),
    ("FFF", "Fff", "Energy", "small"),
]
SHARES = {"AAA": 3.0, "BBB": 1.0, "CCC": 2.0, "DDD": 5.0, "EEE": 1.0, "FFF": 4.0}
DAYS = [session.day for session in sessions_between(date(2025, 7, 1), date(2025, 12, 4))]


def two_sector_universe() -> Universe:
    frame = members_frame(MEMBERS).with_columns(
        shares=pl.col("symbol").replace_strict(SHARES, return_dtype=pl.Float64)
    )
    return Universe(benchmarks=BENCH, sectors=SECTORS, names={}, constituents=frame)


def close_of(symbol: str, position: int) -> float:
    """A made-up but deterministic close: each symbol its own drift and wiggle."""
    seed = sum(map(ord, symbol))
    return 50.0 + seed % 17 + position * (seed % 5 - 2) * 0.1 + (position * seed % 7) * 0.3


def history_closes(missing: frozenset[tuple[str, date]] = frozenset()) -> pl.DataFrame:
    rows = [
        (symbol, day, close_of(symbol, position))
        for symbol in SHARES
        for position, day in enumerate(DAYS)
        if (symbol, day) not in missing
    ]
    return pl.DataFrame(
        rows, schema={"symbol": pl.String, "date": pl.Date, "close": pl.Float64}, orient="row"
    )


#: Today's changes: every last is the last close times this.
TODAY_MOVE = {"AAA": 1.02, "BBB": 0.97, "CCC": 1.01, "DDD": 1.04, "EEE": 1.0, "FFF": 0.99}


def store_with_history(universe: Universe, closes: pl.DataFrame) -> MarketStore:
    store = MarketStore()
    last = len(DAYS) - 1
    store.apply_quotes(
        quotes_frame(
            (symbol, NOW, close_of(symbol, last) * move, close_of(symbol, last))
            for symbol, move in TODAY_MOVE.items()
        )
    )
    members = history_members_of(store, universe)
    store.apply_leg_levels(leg_levels(closes.lazy(), members))
    return store


def rows_of(store: MarketStore, universe: Universe, today: date = TODAY) -> tuple[SectorRow, ...]:
    return sector_rows(store, universe, quote_rows(store.quotes, etf_symbols(universe)), today)


def value_over(window: str, symbols: list[str]) -> float:
    """The leg's value now over its value at the window's base, in %, straight from closes.

    With every member's close on every day the chain-linked return telescopes: the day's
    values sum(q * c) divide out, leaving today's value over the base's.
    """
    start = window_start(window, TODAY)
    base = max(position for position, day in enumerate(DAYS) if day <= start)
    last = len(DAYS) - 1
    now = sum(SHARES[s] * close_of(s, last) * TODAY_MOVE[s] for s in symbols)
    then = sum(SHARES[s] * close_of(s, base) for s in symbols)
    return (now / then - 1.0) * 100.0


def test_windows_match_the_legs_values_from_their_closes() -> None:
    universe = two_sector_universe()
    tech, energy = rows_of(store_with_history(universe, history_closes()), universe)
    for window in ("5d", "1m", "3m"):
        got = tech.window(window)
        large, small = value_over(window, ["AAA", "BBB"]), value_over(window, ["CCC", "DDD"])
        assert got.large_pct == pytest.approx(large, rel=1e-9)
        assert got.small_pct == pytest.approx(small, rel=1e-9)
        assert got.spread_pp == pytest.approx(small - large, rel=1e-9)
        assert energy.window(window).small_pct == pytest.approx(value_over(window, ["FFF"]))
    # The history begins in July: YTD has no base (December 31) and no figure.
    assert tech.window("ytd").large_pct is None and tech.window("ytd").spread_pp is None


def test_the_one_day_window_is_the_rows_own_change() -> None:
    universe = two_sector_universe()
    for row in rows_of(store_with_history(universe, history_closes()), universe):
        one_day = row.window("1d")
        assert (one_day.large_pct, one_day.small_pct, one_day.spread_pp) == (
            row.large.change_pct,
            row.small.change_pct,
            row.spread_pp,
        )
    tech = rows_of(store_with_history(universe, history_closes()), universe)[0]
    # AAA +2 % on 3 x its close, BBB -3 % on 1 x: the leg's change, weighted as the index.
    last = len(DAYS) - 1
    aaa, bbb = 3 * close_of("AAA", last), close_of("BBB", last)
    assert tech.window("1d").large_pct == pytest.approx(
        (0.02 * aaa - 0.03 * bbb) / (aaa + bbb) * 100
    )


def test_a_window_over_too_little_of_a_leg_has_no_figure() -> None:
    universe = two_sector_universe()
    # DDD (5 x ~60 of the small leg's ~7 x 60) lacks a close three weeks ago: the small leg
    # covers too little that day and the next, so 1M and 3M have no figure; 5D still does.
    gap = DAYS[-15]
    rows = rows_of(
        store_with_history(universe, history_closes(frozenset({("DDD", gap)}))), universe
    )
    tech = rows[0]
    assert tech.window("1m").small_pct is None and tech.window("3m").small_pct is None
    assert tech.window("1m").spread_pp is None
    assert tech.window("5d").small_pct == pytest.approx(value_over("5d", ["CCC", "DDD"]))
    assert tech.window("1m").large_pct == pytest.approx(value_over("1m", ["AAA", "BBB"]))


def test_a_history_that_stops_short_of_the_last_session_gives_no_window() -> None:
    universe = two_sector_universe()
    store = store_with_history(universe, history_closes())
    # A week on, the history (through December 4) no longer ends at the last session.
    tech = rows_of(store, universe, date(2025, 12, 12))[0]
    assert all(tech.window(window).large_pct is None for window in ("5d", "1m", "3m"))


def test_without_levels_the_rows_have_windows_of_none() -> None:
    universe = two_sector_universe()
    store = MarketStore()
    store.apply_quotes(quotes_frame([("AAA", NOW, 101.0, 100.0)]))
    assert current_leg_levels(store, universe).is_empty()
    row = rows_of(store, universe)[0]
    assert [window.id for window in row.windows] == list(SECTOR_WINDOW_IDS[1:])
    assert all(window.large_pct is None for window in row.windows)


def test_members_come_heaviest_first_by_their_weight_in_their_index() -> None:
    # Weights by hand: large A 600/1000 = 0.6, B 0.4; small C 30/100 = 0.3, D 0.1, E 0.6.
    # B is in both indices (0.4 and 0.1): its larger weight counts. A and E tie: by symbol.
    members = pl.DataFrame(
        {
            "symbol": ["B", "A", "C", "D", "E", "B"],
            "sector_idx": [0, 1, 0, 1, 1, 0],
            "bucket": ["large", "large", "small", "small", "small", "small"],
            "q": [1.0] * 6,
            "ref_value": [400.0, 600.0, 30.0, None, 60.0, 10.0],
        }
    )
    # D's missing value weighs nothing: it comes last (and C's 30 of 100 puts it above it).
    assert heaviest_first(members) == ["A", "E", "B", "C", "D"]


def test_closes_start_reaches_the_earliest_base() -> None:
    # In December YTD reaches back to the previous December 31; in January 3M reaches further.
    assert closes_start(TODAY) < date(2024, 12, 31)
    assert closes_start(date(2026, 1, 15)) < date(2025, 10, 15)
    assert (TODAY - closes_start(TODAY)).days < 400


def test_the_json_names_each_window() -> None:
    universe = two_sector_universe()
    store = store_with_history(universe, history_closes())
    snapshot = build_snapshot(
        store,
        universe,
        now=NOW,
        source="test",
        demo=True,
        market=market_session(NOW),
        fed=FedSnapshot(None, None, None),
    )
    data = json.loads(json.dumps(snapshot_to_dict(snapshot)))
    tech = data["sectors"][0]
    assert list(tech["windows"]) == ["1d", "5d", "1m", "3m", "ytd"]
    for window in tech["windows"].values():
        assert list(window) == ["large_pct", "small_pct", "spread_pp"]
    assert tech["windows"]["1d"]["spread_pp"] == tech["spread_pp"]
    assert tech["windows"]["1m"]["large_pct"] == pytest.approx(
        value_over("1m", ["AAA", "BBB"]), abs=1e-4
    )
    assert tech["windows"]["ytd"]["large_pct"] is None


def test_the_demo_shows_every_sectors_windows() -> None:
    # The sample's members' daily history (a year before the session): every window of every
    # sector with both legs has a figure once the engine has reduced it.
    engine = demo_engine(ManualClock(demo_window()[1]), universe=load_universe())
    snapshot = asyncio.run(engine.refresh_with_history())
    assert snapshot.sector_history is not None
    assert snapshot.sector_history.error is None
    assert snapshot.sector_history.through == date(2025, 12, 4)
    assert len(snapshot.sectors) == 11
    for row in snapshot.sectors:
        for window in SECTOR_WINDOW_IDS:
            shown = row.window(window)
            assert shown.large_pct is not None and shown.small_pct is not None, (row.sector, window)
            assert shown.spread_pp == pytest.approx(shown.small_pct - shown.large_pct)
    # The rotation map comes from the same legs' levels: a year of weeks puts every sector on
    # it with a full tail, its quadrant the one its two figures name.
    assert [point.sector for point in snapshot.rotation] == [row.sector for row in snapshot.sectors]
    for point in snapshot.rotation:
        assert point.rs_ratio is not None and point.rs_momentum is not None, point.reason
        assert len(point.tail) == 8 and point.tail[-1].rs_ratio == point.rs_ratio
        assert point.quadrant == quadrant(point.rs_ratio, point.rs_momentum)


class BrokenHistory:
    """A member_closes that fails when called, or whose closes fail when read."""

    def __init__(self, when: str) -> None:
        self.when = when

    def __call__(self, symbols: object, since: date) -> pl.LazyFrame:
        if self.when == "call":
            raise FeedError("members' file unreadable")
        # A column the file does not have: polars fails only when the frame is read.
        return pl.LazyFrame({"symbol": ["AAPL"]}).select("symbol", "date", "close")


@pytest.mark.parametrize("when", ["call", "read"])
def test_a_failed_history_is_shown_and_the_poll_goes_on(
    when: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = demo_engine(ManualClock(demo_window()[1]), universe=load_universe())
    monkeypatch.setattr(engine.feed, "member_closes", BrokenHistory(when))
    snapshot = asyncio.run(engine.refresh_with_history())
    assert snapshot.feeds[0].state == "ok"  # the quotes' poll did not fail with it
    history = snapshot.sector_history
    assert history is not None and history.error is not None
    assert history.error.startswith("members' history failed: ")
    assert "unreadable" in history.error if when == "call" else "date" in history.error
    assert all(row.window("5d").spread_pp is None for row in snapshot.sectors)
    assert snapshot.sectors[0].window("1d").spread_pp == snapshot.sectors[0].spread_pp


def test_a_replay_that_ends_at_once_still_shows_the_windows_and_the_map() -> None:
    # Started at the close, the replay's first poll is its last: the members' history it
    # starts reducing was only ever taken by a later poll, so the windows and the rotation
    # map stayed blank for good after the replay's end.
    end = demo_window()[1]
    engine = demo_engine(ManualClock(end, end=end), universe=load_universe())
    published: list[Snapshot] = []
    asyncio.run(engine.run(published.append))
    last = published[-1]
    assert last.sector_history is not None and last.sector_history.error is None
    assert all(row.window("5d").large_pct is not None for row in last.sectors)
    assert all(point.rs_ratio is not None for point in last.rotation)


def test_a_growing_history_is_reduced_a_few_times_an_hour_not_per_poll() -> None:
    from capgap.engine.loop import reduce_again

    # 2,418 members: a tenth is 241.8, so 242 more.
    assert not reduce_again(100, 100, 2418, 3600.0)  # nothing new
    assert not reduce_again(341, 100, 2418, 3600.0)  # 241 more: under a tenth
    assert reduce_again(342, 100, 2418, 900.0)  # a tenth more, 15 minutes on
    assert not reduce_again(342, 100, 2418, 899.0)  # too soon
    assert reduce_again(2418, 2417, 2418, 1.0)  # the last member: at once
    # Never reduced before: a tenth is enough, with no wait.
    assert not reduce_again(241, 0, 2418, None) and reduce_again(242, 0, 2418, None)
    # A poll every 10 s for an hour while 30 members arrive a minute (about what the budget
    # fetches before the open): one reduction each quarter hour, not 360.
    reductions, reduced, since = 0, 0, 0.0
    for second in range(10, 3601, 10):
        loaded = min(2418, second // 2)
        since += 10
        if reduce_again(loaded, reduced, 2418, since):
            reductions, reduced, since = reductions + 1, loaded, 0.0
    assert reductions == 4


def test_a_paused_monitor_shows_the_windows_once_the_history_is_reduced() -> None:
    # Paused after the first figures, the monitor makes no poll: the reduction that ends
    # meanwhile wakes it to rebuild, so the windows and the map come without a resume.
    start = demo_window()[0] + timedelta(hours=2)
    engine = demo_engine(ManualClock(start), universe=load_universe())
    published: list[Snapshot] = []

    def publish(snapshot: Snapshot) -> None:
        published.append(snapshot)
        engine.pause()  # paused as soon as the first figures are there

    async def main() -> None:
        runner = asyncio.ensure_future(engine.run(publish))
        try:
            for _ in range(2000):
                if any(
                    row.window("5d").large_pct is not None for s in published for row in s.sectors
                ):
                    break
                await asyncio.sleep(0.01)
        finally:
            runner.cancel()
            await engine.aclose()

    asyncio.run(main())
    assert engine.paused
    last = published[-1]
    assert len(published) >= 2
    assert all(row.window("5d").large_pct is not None for row in last.sectors)
    assert all(point.rs_ratio is not None for point in last.rotation)
    # No poll while paused: the clock, and so the quotes' time, stood still.
    assert last.as_of == published[0].as_of
