"""A recording replays through the Feed API: only what was recorded by the clock's instant."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from builders import quotes_table
from capgap.core.clock import ManualClock
from capgap.core.resources import sample_data_dir
from capgap.core.schemas import BARS, DAILY, QUOTES
from capgap.feeds.base import Feed, FeedError, ReferenceData
from capgap.feeds.recording.recorded import RecordedFeed, recorded_days, recording_window
from capgap.feeds.recording.recorder import Recorder
from capgap.feeds.recording.replay import ReplayFeed
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

OPEN = datetime(2025, 12, 5, 14, 30, tzinfo=UTC)  # 09:30 New York


def at(minute: int, second: int = 0) -> datetime:
    return OPEN + timedelta(minutes=minute, seconds=second)


def quotes(rows: list[tuple[str, datetime, float, float]]) -> pl.DataFrame:
    return quotes_table(
        (symbol, moment, last, 10.0, volume) for symbol, moment, last, volume in rows
    )


def record(folder: Path, rows: list[tuple[str, datetime, float, float]], **meta) -> None:
    clock = ManualClock(max(r[1] for r in rows))
    rec = Recorder(folder, clock)
    if "daily" in meta:
        rec.add_daily(meta["daily"])
    if "reference" in meta:
        rec.set_reference(meta["reference"], "nyfed")
    rec.add_quotes(quotes(rows))
    assert rec.close() is None


# AAA through three minutes; BBB starts later.
ROWS = [
    ("AAA", at(0, 5), 10.0, 100.0),
    ("AAA", at(0, 20), 10.5, 150.0),
    ("AAA", at(0, 50), 9.8, 170.0),
    ("AAA", at(1, 10), 10.2, 200.0),
    ("AAA", at(1, 40), 10.1, 260.0),
    ("AAA", at(2, 5), 10.4, 300.0),
    ("BBB", at(1, 30), 50.0, 5.0),
]

DAILY_FRAME = pl.DataFrame(
    {
        "symbol": ["AAA", "AAA", "BBB"],
        "date": [date(2025, 12, 4), date(2025, 12, 5), date(2025, 12, 4)],
        "open": [9.0, 9.5, 49.0],
        "high": [10.0, 10.6, 51.0],
        "low": [8.5, 9.4, 48.0],
        "close": [9.5, 10.4, 50.0],
        "volume": [1e6, 1e6, 2e6],
    },
    schema=DAILY,
)


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    record(
        tmp_path,
        ROWS,
        daily=DAILY_FRAME,
        reference=ReferenceData(target_range=(3.75, 4.0), effr=3.89),
    )
    return tmp_path


async def test_quotes_never_see_the_future(recording):
    clock = ManualClock(at(0))
    feed = RecordedFeed(recording, clock)
    assert isinstance(feed, Feed)
    assert feed.name == "replay" and feed.demo is False
    # Nothing recorded yet: symbols are left out, not invented.
    assert (await feed.quotes(["AAA", "BBB"])).height == 0
    clock.set(at(0, 20))  # a row stamped exactly now is known
    q = await feed.quotes(["AAA", "BBB"])
    assert q.schema == QUOTES
    prices = q.select("symbol", "time", "last", "prev_close", "volume")
    assert prices.rows() == [("AAA", at(0, 20), 10.5, 10.0, 150.0)]
    clock.set(at(1, 35))
    q = await feed.quotes(["AAA", "BBB"])
    assert q.select("symbol", "last").rows() == [("AAA", 10.2), ("BBB", 50.0)]
    clock.set(at(30))
    assert (await feed.quotes(["AAA"])).item(0, "last") == 10.4
    assert (await feed.quotes(["ZZZ"])).height == 0


async def test_intraday_bars_by_hand(recording):
    clock = ManualClock(at(1, 59))
    feed = RecordedFeed(recording, clock)
    bars = await feed.intraday(["AAA"])
    assert bars.schema == BARS
    # Only the first minute has completed: prices 10.0, 10.5, 9.8; volume 170 - 100.
    assert bars.rows() == [("AAA", at(0), 10.0, 10.5, 9.8, 9.8, 70.0)]
    clock.set(at(2, 30))
    bars = await feed.intraday(["AAA", "BBB"])
    assert bars.rows() == [
        ("AAA", at(0), 10.0, 10.5, 9.8, 9.8, 70.0),
        # 10.2 then 10.1; volume since the previous bar's last: 260 - 170.
        ("AAA", at(1), 10.2, 10.2, 10.1, 10.1, 90.0),
        ("BBB", at(1), 50.0, 50.0, 50.0, 50.0, 0.0),
    ]


async def test_daily_and_reference_come_from_the_partition(recording):
    feed = RecordedFeed(recording, ManualClock(at(5)))
    daily = await feed.daily(["AAA"])
    # The day's own bar is not history yet.
    assert_frame_equal(daily, DAILY_FRAME.filter(pl.col("symbol") == "AAA").head(1))
    ref = await feed.reference()
    assert ref == ReferenceData(target_range=(3.75, 4.0), effr=3.89, label="nyfed")
    assert feed.session_date == date(2025, 12, 5)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 600), st.integers(1, 999)),
        min_size=1,
        max_size=40,
    ),
    probes=st.lists(st.integers(-10, 700), min_size=1, max_size=8),
)
async def test_quotes_match_a_brute_force_reference(tmp_path_factory, data, probes):
    folder = tmp_path_factory.mktemp("rec")
    rows = [(s, OPEN + timedelta(seconds=t), float(p), 0.0) for s, t, p in data]
    record(folder, rows)
    clock = ManualClock(OPEN - timedelta(seconds=20))
    feed = RecordedFeed(folder, clock)
    # Probes in increasing order exercise the incremental cache; then one jump back.
    for probe in [*sorted(probes), min(probes)]:
        moment = OPEN + timedelta(seconds=probe)
        clock.set(moment)
        latest: dict[str, datetime] = {}
        for symbol, when, _, _ in rows:
            if when <= moment:
                latest[symbol] = max(when, latest.get(symbol, when))
        got = await feed.quotes(["A", "B", "C"])
        assert sorted(got.get_column("symbol").to_list()) == sorted(latest)
        for symbol, when, price in got.select("symbol", "time", "last").rows():
            assert when == latest[symbol] <= moment
            # Two rows of one symbol at one instant: either is a faithful answer.
            assert price in {p for s, w, p, _ in rows if s == symbol and w == when}


async def test_the_partition_follows_the_clock_date(tmp_path):
    day4 = datetime(2025, 12, 4, 15, 0, tzinfo=UTC)
    record(tmp_path, [("AAA", day4, 9.0, 1.0)])
    record(tmp_path, [("AAA", at(0), 10.0, 1.0)])
    assert sorted(recorded_days(tmp_path)) == [date(2025, 12, 4), date(2025, 12, 5)]
    clock = ManualClock(day4 + timedelta(hours=1))
    feed = RecordedFeed(tmp_path, clock)
    assert (await feed.quotes(["AAA"])).item(0, "last") == 9.0
    # Before the open of Dec 5 the Dec 5 partition is used, and it has nothing yet.
    clock.set(at(0) - timedelta(minutes=1))
    assert feed.session_date == date(2025, 12, 5)
    assert (await feed.quotes(["AAA"])).height == 0
    # Saturday: the latest day recorded before it.
    clock.set(datetime(2025, 12, 6, 15, 0, tzinfo=UTC))
    assert feed.session_date == date(2025, 12, 5)
    assert (await feed.quotes(["AAA"])).item(0, "last") == 10.0
    with pytest.raises(FeedError):
        await RecordedFeed(tmp_path, ManualClock(day4 - timedelta(days=3))).quotes(["AAA"])


def test_an_empty_folder_is_a_feed_error(tmp_path):
    with pytest.raises(FeedError):
        RecordedFeed(tmp_path, ManualClock(OPEN))
    with pytest.raises(FeedError):
        recording_window(tmp_path)


async def test_foreign_and_corrupt_files_are_skipped_with_a_warning(recording):
    part = recording / "date=2025-12-05"
    (part / "quotes-235959-999999.parquet").write_bytes(b"PAR1 half a file")
    pl.DataFrame({"x": [1, 2]}).write_parquet(part / "foreign.parquet")
    (part / "notes.txt").write_text("ignored: not parquet")
    feed = RecordedFeed(recording, ManualClock(at(30)))
    q = await feed.quotes(["AAA", "BBB"])
    assert q.select("symbol", "last").rows() == [("AAA", 10.4), ("BBB", 50.0)]
    assert len(feed.warnings) == 2
    assert any("quotes-235959-999999.parquet" in w for w in feed.warnings)
    assert any("foreign.parquet" in w for w in feed.warnings)
    # A warning is recorded once, not at every poll.
    await feed.quotes(["AAA"])
    assert len(feed.warnings) == 2


async def test_a_missing_session_toml_still_replays(recording):
    (recording / "date=2025-12-05" / "session.toml").unlink()
    feed = RecordedFeed(recording, ManualClock(at(30)))
    assert await feed.reference() == ReferenceData()
    assert (await feed.quotes(["AAA"])).item(0, "last") == 10.4
    assert any("session.toml" in w for w in feed.warnings)


async def test_rows_recorded_later_are_picked_up(tmp_path):
    clock = ManualClock(at(0, 10))
    rec = Recorder(tmp_path, clock, flush_interval_s=1.0)
    rec.add_quotes(quotes([("AAA", at(0, 5), 10.0, 1.0)]))
    rec.flush()
    feed = RecordedFeed(tmp_path, clock)
    assert (await feed.quotes(["AAA"])).item(0, "last") == 10.0
    clock.advance(10)
    rec.add_quotes(quotes([("AAA", at(0, 15), 10.7, 2.0)]))
    rec.maybe_flush()
    assert (await feed.quotes(["AAA"])).item(0, "last") == 10.7


async def test_a_day_recorded_after_the_feed_opened_is_picked_up(tmp_path):
    record(tmp_path, [("AAA", datetime(2025, 12, 4, 20, 0, tzinfo=UTC), 9.0, 1.0)])
    clock = ManualClock(at(0))
    feed = RecordedFeed(tmp_path, clock)
    assert feed.session_date == date(2025, 12, 4)
    assert (await feed.quotes(["AAA"])).item(0, "last") == 9.0
    record(tmp_path, [("AAA", at(0), 10.0, 1.0)])
    assert (await feed.quotes(["AAA"])).item(0, "last") == 10.0
    assert feed.session_date == date(2025, 12, 5)


def test_recording_window(recording):
    assert recording_window(recording) == (at(0, 5), at(2, 5))
    assert recording_window(recording / "date=2025-12-05") == (at(0, 5), at(2, 5))
    assert recording_window(recording, date(2025, 12, 5)) == (at(0, 5), at(2, 5))
    with pytest.raises(FeedError):
        recording_window(recording, date(2025, 12, 4))
    assert RecordedFeed(recording, ManualClock(at(0))).window() == (at(0, 5), at(2, 5))


async def test_a_replayed_session_recorded_and_replayed_again_matches(tmp_path):
    """Record what the sample replay serves, minute by minute, then replay the recording."""
    source_clock = ManualClock(at(5))
    source = ReplayFeed(sample_data_dir(), source_clock)
    bars = pl.read_parquet(sample_data_dir() / "intraday.parquet")
    symbols = sorted(bars.get_column("symbol").unique().to_list())[:25]
    rec = Recorder(tmp_path, source_clock, flush_interval_s=60.0)
    rec.add_daily(await source.daily(symbols))
    rec.set_reference(await source.reference(), "sample")
    served: dict[datetime, pl.DataFrame] = {}
    for _ in range(30):
        served[source_clock.now()] = await source.quotes(symbols)
        rec.add_quotes(served[source_clock.now()])
        rec.maybe_flush()
        source_clock.advance(60)
    end = source_clock.now()
    assert rec.close() is None
    assert rec.files_written == 29  # due every 60 s from the second poll on

    clock = ManualClock(at(5))
    replay = RecordedFeed(tmp_path, clock)
    assert replay.session_date == source.session_date
    for moment, frame in served.items():
        clock.set(moment)
        assert_frame_equal(await replay.quotes(symbols), frame.sort("symbol"))
    assert_frame_equal(await replay.daily(symbols), await source.daily(symbols))
    assert await replay.reference() == await source.reference()
    # Each recorded quote is a source bar's close stamped at its end: the recorded minute bars
    # carry the source closes, one minute later.
    clock.set(end)
    source_clock.set(end)
    first = symbols[0]
    mine = (await replay.intraday([first])).filter(pl.col("time") < end - timedelta(minutes=1))
    theirs = await source.intraday([first])
    shifted = theirs.select(pl.col("time") + timedelta(minutes=1), "close")
    joined = mine.select("time", "close").join(shifted, on="time", suffix="_src")
    assert joined.height == mine.height > 20
    assert joined.get_column("close").to_list() == joined.get_column("close_src").to_list()
