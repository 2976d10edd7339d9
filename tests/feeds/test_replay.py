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
