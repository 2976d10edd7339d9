"""The replay feed serves exactly what was known at the clock's instant, through the Feed API."""

import gc
import weakref
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from capgap.core.clock import ManualClock
from capgap.core.schemas import BARS, DAILY, QUOTES
from capgap.feeds.base import Feed, FeedError
from capgap.feeds.recording.replay import ReplayFeed

OPEN = datetime(2025, 12, 5, 14, 30, tzinfo=UTC)  # 09:30 New York


def _write_session(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "session.toml").write_text(
        "session_date = 2025-12-05\nsynthetic = true\n"
        "[reference]\ntarget_range = [3.75, 4.0]\neffr = 3.89\n"
        'label = "sample"\n'
    )
    daily = pl.DataFrame(
        {
            "symbol": ["AAA", "AAA", "BBB"],
            "date": [date(2025, 12, 3), date(2025, 12, 4), date(2025, 12, 4)],
            "open": [9.0, 10.0, 50.0],
            "high": [9.5, 10.5, 51.0],
            "low": [8.5, 9.5, 49.0],
            "close": [9.0, 10.0, 50.0],
            "volume": [1.0, 1.0, 1.0],
        },
        schema=DAILY,
    )
    daily.write_parquet(folder / "daily.parquet")
    times = [OPEN + timedelta(minutes=i) for i in range(3)]
    bars = pl.DataFrame(
        {
            "symbol": ["AAA"] * 3 + ["BBB"] * 3,
            "time": times * 2,
            "open": [10.1, 10.2, 10.3, 50.5, 50.6, 50.7],
            "high": [10.3, 10.4, 10.5, 50.9, 50.9, 50.9],
            "low": [10.0, 10.1, 10.2, 50.4, 50.5, 50.6],
            "close": [10.2, 10.3, 10.4, 50.6, 50.7, 50.8],
            "volume": [100.0, 200.0, 300.0, 10.0, 20.0, 30.0],
        },
        schema=BARS,
    )
    bars.write_parquet(folder / "intraday.parquet")


@pytest.fixture
def session(tmp_path: Path) -> Path:
    _write_session(tmp_path / "session")
    return tmp_path / "session"


def _last(frame: pl.DataFrame, symbol: str) -> float:
    return frame.filter(pl.col("symbol") == symbol).item(0, "last")


async def test_quotes_never_see_the_future(session):
    clock = ManualClock(OPEN - timedelta(hours=1))
    feed = ReplayFeed(session, clock)
    assert isinstance(feed, Feed)
    # Before the open: the previous close, unchanged.
    quotes = await feed.quotes(["AAA", "BBB"])
    assert quotes.schema == QUOTES
    assert _last(quotes, "AAA") == 10.0
    assert quotes.filter(pl.col("symbol") == "AAA").item(0, "prev_close") == 10.0
    # At the open no bar has completed yet: the opening price.
    clock.set(OPEN + timedelta(seconds=30))
    assert _last(await feed.quotes(["AAA"]), "AAA") == 10.1
    # After the first minute: the first bar's close, stamped at its end.
    clock.set(OPEN + timedelta(seconds=61))
    quotes = await feed.quotes(["AAA"])
    assert _last(quotes, "AAA") == 10.2
    assert quotes.item(0, "time") == OPEN + timedelta(minutes=1)
    # Long after the last bar: the day's close.
    clock.set(OPEN + timedelta(hours=5))
    assert _last(await feed.quotes(["BBB"]), "BBB") == 50.8


async def test_intraday_serves_completed_bars_only(session):
    clock = ManualClock(OPEN + timedelta(seconds=150))
    feed = ReplayFeed(session, clock)
    bars = await feed.intraday(["AAA"])
    assert bars.schema == BARS
    assert bars.get_column("close").to_list() == [10.2, 10.3]


async def test_daily_and_reference(session):
    feed = ReplayFeed(session, ManualClock(OPEN))
    daily = await feed.daily(["AAA"])
    assert daily.get_column("date").to_list() == [date(2025, 12, 3), date(2025, 12, 4)]
    ref = await feed.reference()
    assert ref.target_range == (3.75, 4.0)
    assert ref.label == "sample"
    assert feed.demo
    assert feed.session_bounds() == (OPEN, OPEN + timedelta(minutes=3))


async def test_unknown_symbols_are_left_out(session):
    feed = ReplayFeed(session, ManualClock(OPEN))
    assert (await feed.quotes(["ZZZ"])).height == 0


def test_a_missing_or_broken_session_is_a_feed_error(tmp_path):
    with pytest.raises(FeedError):
        ReplayFeed(tmp_path, ManualClock(OPEN))
    (tmp_path / "session.toml").write_text("session_date = 2025-12-05\n")
    (tmp_path / "intraday.parquet").write_text("<html>not parquet</html>")
    with pytest.raises(FeedError):
        ReplayFeed(tmp_path, ManualClock(OPEN))


async def test_answers_kept_within_a_minute_follow_the_symbols_and_the_minute(session):
    clock = ManualClock(OPEN + timedelta(seconds=61))
    feed = ReplayFeed(session, clock)
    assert (await feed.quotes(["AAA"])).get_column("symbol").to_list() == ["AAA"]
    # Same minute, more symbols: BBB must be there, not the answer kept for AAA alone.
    both = await feed.quotes(["AAA", "BBB"])
    assert sorted(both.get_column("symbol").to_list()) == ["AAA", "BBB"]
    clock.set(OPEN + timedelta(seconds=119))
    assert _last(await feed.quotes(["AAA"]), "AAA") == 10.2
    assert (await feed.intraday(["BBB"])).get_column("close").to_list() == [50.6]
    # The next minute: the next bar's close, and one more completed bar.
    clock.set(OPEN + timedelta(seconds=120))
    assert _last(await feed.quotes(["AAA"]), "AAA") == 10.3
    assert (await feed.intraday(["BBB"])).get_column("close").to_list() == [50.6, 50.7]


async def test_answers_of_a_past_minute_are_not_kept(session):
    # A replay moves on: the quotes it answered a minute ago are never asked again, and
    # keeping them (and the frames they were selected from) cost the demo megabytes.
    clock = ManualClock(OPEN + timedelta(seconds=61))
    feed = ReplayFeed(session, clock)
    first = await feed.quotes(["AAA"])
    everything = await feed.quotes(["AAA", "BBB"])
    gone = [weakref.ref(first), weakref.ref(everything)]
    del first, everything
    clock.set(OPEN + timedelta(seconds=125))
    now = await feed.quotes(["AAA", "BBB"])
    gc.collect()
    assert [ref() for ref in gone] == [None, None]
    # Asking every symbol again within the minute gives the same answer, computed once.
    assert await feed.quotes(["BBB", "AAA"]) is not None
    assert await feed.quotes(["AAA", "BBB"]) is now
    assert _last(now, "AAA") == 10.3 and _last(now, "BBB") == 50.7


# ---------------------------------------------------------------- outside the regular session

PRE_START = datetime(2025, 12, 5, 9, 0, tzinfo=UTC)  # 04:00 New York
CLOSE = datetime(2025, 12, 5, 21, 0, tzinfo=UTC)  # 16:00 New York
FUTURES_START = datetime(2025, 12, 4, 23, 0, tzinfo=UTC)  # 18:00 New York the evening before


def _bars(rows: list[tuple[str, datetime, float]]) -> pl.DataFrame:
    """One-minute bars whose open, high, low and close are all the given price."""
    return pl.DataFrame(
        {
            "symbol": [row[0] for row in rows],
            "time": [row[1] for row in rows],
            "open": [row[2] for row in rows],
            "high": [row[2] for row in rows],
            "low": [row[2] for row in rows],
            "close": [row[2] for row in rows],
            "volume": [1.0] * len(rows),
        },
        schema=BARS,
    )


@pytest.fixture
def extended_session(session: Path) -> Path:
    """The small session plus AAA's pre/post trades and a future FUT quoted around the clock."""
    minute = timedelta(minutes=1)
    trades = [
        ("AAA", PRE_START, 10.05),  # 04:00-04:01
        ("AAA", PRE_START + timedelta(hours=3), 10.08),  # 07:00-07:01
        ("AAA", CLOSE + 2 * minute, 10.6),  # 16:02-16:03
    ]
    future = [("FUT", FUTURES_START + j * 60 * minute, 100.0 + j) for j in range(23)]
    pl.concat([_bars(trades), _bars(future)]).write_parquet(session / "extended.parquet")
    daily = pl.read_parquet(session / "daily.parquet")
    settlement = daily.head(1).with_columns(
        symbol=pl.lit("FUT"), date=pl.lit(date(2025, 12, 4)), close=pl.lit(99.5)
    )
    pl.concat([daily, settlement]).write_parquet(session / "daily.parquet")
    return session


def _row(frame: pl.DataFrame, symbol: str) -> dict[str, object]:
    return frame.filter(pl.col("symbol") == symbol).row(0, named=True)


async def test_pre_and_post_market_prices_are_the_last_trade_done_by_the_clock(extended_session):
    clock = ManualClock(PRE_START + timedelta(seconds=30))
    feed = ReplayFeed(extended_session, clock)
    # 04:00:30: the first trade's minute is not over, so no pre-market price yet.
    aaa = _row(await feed.quotes(["AAA"]), "AAA")
    assert aaa["pre_price"] is None and aaa["post_price"] is None
    assert aaa["last"] == 10.0  # the regular price stays the previous close
    # 08:00: the 07:00 trade is the last done (never the future's), stamped at its minute's end.
    clock.set(PRE_START + timedelta(hours=4))
    aaa = _row(await feed.quotes(["AAA"]), "AAA")
    assert (aaa["pre_price"], aaa["pre_time"]) == (10.08, PRE_START + timedelta(hours=3, minutes=1))
    assert aaa["post_price"] is None
    # 16:05: the post-market trade of 16:02, and the day's pre-market price kept.
    clock.set(CLOSE + timedelta(minutes=5))
    aaa = _row(await feed.quotes(["AAA"]), "AAA")
    assert (aaa["post_price"], aaa["post_time"]) == (10.6, CLOSE + timedelta(minutes=3))
    assert aaa["pre_price"] == 10.08
    assert aaa["last"] == 10.4  # the regular close, not the post-market trade
    # A symbol without extended trades has none.
    assert _row(await feed.quotes(["BBB"]), "BBB")["pre_price"] is None


async def test_a_future_is_quoted_through_the_night_against_its_settlement(extended_session):
    # FUT's one-minute bars start on each hour from 18:00 (price 100, 101, ...). At 08:00 New
    # York, 14 hours on, the last bar done is the one of 07:00-07:01, the 14th: price 113.
    clock = ManualClock(FUTURES_START + timedelta(hours=14))
    feed = ReplayFeed(extended_session, clock)
    fut = _row(await feed.quotes(["FUT"]), "FUT")
    assert fut["last"] == 113.0
    assert fut["prev_close"] == 99.5  # the last daily close: the 16:00 settlement
    assert fut["time"] == FUTURES_START + timedelta(hours=13, minutes=1)
    # Its bars are served as any symbol's, completed ones only.
    closes = (await feed.intraday(["FUT"])).get_column("close").to_list()
    assert closes == [100.0 + j for j in range(14)]
    # The future has a tier of its own: AAA's regular quote is unchanged by it.
    assert _row(await feed.quotes(["AAA", "FUT"]), "AAA")["last"] == 10.0


async def test_a_trade_bar_inside_the_regular_session_is_refused(session):
    _bars([("AAA", OPEN + timedelta(minutes=30), 10.3)]).write_parquet(session / "extended.parquet")
    with pytest.raises(FeedError, match="AAA bar at 2025-12-05 15:00 UTC is outside"):
        ReplayFeed(session, ManualClock(OPEN))
