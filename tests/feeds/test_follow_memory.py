"""A viewer holds what its screens need of a busy day, not the day: its figures stay the same.

The reference is a replay of the same recording (RecordedFeed), which keeps every row of the
day; the viewer (FollowFeed) keeps one quote per symbol and the charted symbols' rows.
"""

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
from builders import quotes_table
from capgap.core.clock import ManualClock
from capgap.engine.sources import follow_engine
from capgap.feeds.recording import follow
from capgap.feeds.recording.follow import KEPT_SYMBOLS, FollowFeed
from capgap.feeds.recording.recorded import RecordedFeed
from capgap.feeds.recording.recorder import Recorder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from test_quote_faults import STOCK, small_universe

OPEN = datetime(2025, 12, 5, 14, 30, tzinfo=UTC)  # 09:30 New York
#: After every row below: the replay then serves them all, as a viewer does.
LATER = OPEN + timedelta(hours=2)

Row = tuple[str, int, float, float]  # symbol, seconds after the open, price, day volume


def write_files(recorder: Recorder, clock: ManualClock, files: list[list[Row]]) -> None:
    """Write each list of rows as one flush of the recorder: one quote file each."""
    for rows in files:
        if not rows:
            continue
        clock.advance(1)
        recorder.add_quotes(
            quotes_table(
                (symbol, OPEN + timedelta(seconds=second), price, 10.0, volume)
                for symbol, second, price, volume in rows
            )
        )
        assert recorder.flush() is None


async def assert_same_figures(viewer: FollowFeed, folder: Path, symbols: list[str]) -> None:
    """The viewer's quotes and minute bars equal a replay's of every row, symbol by symbol."""
    replay = RecordedFeed(folder, ManualClock(LATER))
    assert_frame_equal(await viewer.quotes(symbols), await replay.quotes(symbols))
    for symbol in symbols:
        assert_frame_equal(await viewer.intraday([symbol]), await replay.intraday([symbol]))
    assert_frame_equal(await viewer.intraday(symbols), await replay.intraday(symbols))


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C", "D"]),
        st.integers(0, 600),
        st.integers(1, 999).map(float),
        st.integers(0, 5000).map(float),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows_strategy,
    cuts=st.lists(st.integers(0, 60), max_size=12),
    batch=st.integers(1, 4),
)
async def test_a_viewers_figures_match_a_replay_of_every_row(
    tmp_path_factory: pytest.TempPathFactory, rows: list[Row], cuts: list[int], batch: int
) -> None:
    # Files of any length, times in any order across them (a second recorder, a late flush),
    # read a few files at a time; "A" charted from the start, the others asked later.
    folder = tmp_path_factory.mktemp("rec")
    edges = sorted({0, len(rows), *(min(cut, len(rows)) for cut in cuts)})
    files = [rows[start:end] for start, end in pairwise(edges)]
    clock = ManualClock(LATER)
    recorder = Recorder(folder, clock, flush_interval_s=0.0)
    write_files(recorder, clock, files[: len(files) // 2])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(follow, "READ_BATCH", batch)
        viewer = FollowFeed(folder, clock, charts=["A"])
        if len(files) > 1:
            await assert_same_figures(viewer, folder, ["A", "B", "C", "D"])
        # The rest arrives while the viewer runs: read as new files, onto what it holds.
        write_files(recorder, clock, files[len(files) // 2 :])
        await assert_same_figures(viewer, folder, ["A", "B", "C", "D"])


async def test_minute_bars_by_hand_from_a_viewer_that_read_many_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "READ_BATCH", 2)
    clock = ManualClock(LATER)
    recorder = Recorder(tmp_path, clock, flush_interval_s=0.0)
    # One row a file; OTHER fills files between AAA's rows.
    prices = [(5, 10.0, 100.0), (20, 10.5, 150.0), (50, 9.8, 170.0), (70, 10.2, 200.0)]
    for second, price, volume in prices:
        write_files(
            recorder, clock, [[("AAA", second, price, volume)], [("OTHER", second, 1.0, 0)]]
        )
    viewer = FollowFeed(tmp_path, clock, charts=["AAA"])
    bars = await viewer.intraday(["AAA"])
    # 09:30: open 10.0, high 10.5, low 9.8, close 9.8, volume 170 - 100 (its first seen);
    # 09:31: one price, volume 200 - 170.
    assert bars.select("time", "open", "high", "low", "close", "volume").rows() == [
        (OPEN, 10.0, 10.5, 9.8, 9.8, 70.0),
        (OPEN + timedelta(minutes=1), 10.2, 10.2, 10.2, 10.2, 30.0),
    ]


async def test_a_viewer_holds_one_quote_per_symbol_however_many_files(tmp_path: Path) -> None:
    clock = ManualClock(LATER)
    recorder = Recorder(tmp_path, clock, flush_interval_s=0.0)
    members = [f"M{index:03d}" for index in range(50)]

    def polls(first: int, count: int) -> list[list[Row]]:
        # The index every poll; a slice of 10 members in turn, as a rolling refresh.
        return [
            [("IDX", poll, 100.0 + poll, float(poll))]
            + [(m, poll, 1.0 + poll, float(poll)) for m in members[poll % 5 * 10 :][:10]]
            for poll in range(first, first + count)
        ]

    write_files(recorder, clock, polls(0, 100))
    viewer = FollowFeed(tmp_path, clock, charts=["IDX"])
    await viewer.quotes(["IDX"])
    # 51 symbols' last quotes and the index's 100 rows, of the 1,100 recorded.
    assert viewer.rows_held == 51 + 100
    write_files(recorder, clock, polls(100, 200))
    await viewer.quotes(["IDX"])
    assert viewer.rows_held == 51 + 300
    assert viewer.window() == (OPEN, OPEN + timedelta(seconds=299))
    await assert_same_figures(viewer, tmp_path, ["IDX", "M000", "M049"])


async def test_a_viewer_lets_go_of_symbols_drilled_into_long_ago(tmp_path: Path) -> None:
    clock = ManualClock(LATER)
    recorder = Recorder(tmp_path, clock, flush_interval_s=0.0)
    symbols = [f"S{index:02d}" for index in range(KEPT_SYMBOLS + 3)]
    write_files(
        recorder,
        clock,
        [
            [(symbol, second, 1.0 + second, float(second)) for symbol in symbols]
            for second in range(4)
        ],
    )
    viewer = FollowFeed(tmp_path, clock)
    replay = RecordedFeed(tmp_path, ManualClock(LATER))
    for symbol in symbols:
        assert_frame_equal(await viewer.intraday([symbol]), await replay.intraday([symbol]))
    # The last KEPT_SYMBOLS asked keep their 4 rows each, beside one quote per symbol.
    assert viewer.rows_held == len(symbols) + 4 * KEPT_SYMBOLS
    # The first, let go, is read again from the day's files when asked again.
    assert_frame_equal(await viewer.intraday([symbols[0]]), await replay.intraday([symbols[0]]))
    assert viewer.rows_held == len(symbols) + 4 * KEPT_SYMBOLS


async def test_a_viewer_drilled_into_a_stock_charts_its_whole_day(tmp_path: Path) -> None:
    # Charted from the indices alone at start: the stock's rows are read when drilled into.
    clock = ManualClock(LATER)
    recorder = Recorder(tmp_path, clock, flush_interval_s=0.0)
    write_files(
        recorder,
        clock,
        [
            [(symbol, second, 100.0 + second % 7, float(second)) for symbol in ("^GSPC", "^RUT")]
            + [(STOCK, second, 200.0 + second % 11, 10.0 * second)]
            for second in range(0, 600, 10)
        ],
    )
    viewer = follow_engine(tmp_path, clock=clock, universe=small_universe())
    await viewer.refresh()
    viewer.focus(symbol=STOCK)
    detail = (await viewer.refresh()).symbol_detail
    assert detail is not None and detail.symbol == STOCK
    bars = await RecordedFeed(tmp_path, ManualClock(LATER)).intraday([STOCK])
    assert bars.height == 10
    assert [(point.time, point.close) for point in detail.intraday] == bars.select(
        "time", "close"
    ).rows()
    await viewer.aclose()


async def test_files_read_while_a_symbols_day_is_read_count_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A poll reads a new file while a drilldown reads the symbol's day in its thread.
    clock = ManualClock(LATER)
    recorder = Recorder(tmp_path, clock, flush_interval_s=0.0)
    write_files(
        recorder, clock, [[("B", second, 1.0 + second, 10.0 * second)] for second in (0, 30)]
    )
    viewer = FollowFeed(tmp_path, clock)
    await viewer.quotes(["B"])
    started, release = threading.Event(), threading.Event()
    read_ticks = follow._read_ticks

    def slow_read(paths: list[Path], symbols: set[str]) -> pl.DataFrame:
        started.set()
        assert release.wait(10)
        return read_ticks(paths, symbols)

    monkeypatch.setattr(follow, "_read_ticks", slow_read)
    drilldown = asyncio.create_task(viewer.intraday(["B"]))
    while not started.is_set():
        await asyncio.sleep(0.01)
    write_files(recorder, clock, [[("B", 70, 5.0, 900.0)]])
    await viewer.quotes(["B"])  # the poll: reads the new file, B's row kept
    release.set()
    bars = await drilldown
    replay = await RecordedFeed(tmp_path, ManualClock(LATER)).intraday(["B"])
    assert_frame_equal(bars, replay)
    assert bars.height == 2 and viewer.rows_held == 1 + 3
