"""The recorder writes what it was given, partitioned by New York date, atomically."""

import re
import signal
import subprocess
import sys
import time
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import capgap
import polars as pl
import pytest
from builders import quotes_table
from capgap.core.clock import ManualClock
from capgap.core.schemas import DAILY, QUOTES, empty
from capgap.feeds.base import ReferenceData
from capgap.feeds.recording.recorded import _quote_files, read_quote_files
from capgap.feeds.recording.recorder import Recorder, session_toml
from capgap.feeds.recording.session_info import read_session_info
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

OPEN = datetime(2025, 12, 5, 14, 30, tzinfo=UTC)  # 09:30 New York
FILE_NAME = re.compile(r"quotes-\d{6}-\d{6}\.parquet")


def quotes(rows: list[tuple[str, datetime, float]]) -> pl.DataFrame:
    return quotes_table(
        (symbol, moment, last, 100.0, 1000.0 + i) for i, (symbol, moment, last) in enumerate(rows)
    )


def read_all(folder: Path) -> pl.DataFrame:
    """Read every quote file independently of the replay code: plain polars."""
    files = sorted(folder.rglob("quotes-*.parquet"))
    if not files:
        return empty(QUOTES)
    return pl.concat([pl.read_parquet(path) for path in files])


def sort(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("time", "symbol")


def test_rows_written_equal_rows_read_back(tmp_path):
    clock = ManualClock(OPEN)
    rec = Recorder(tmp_path, clock)
    first = quotes([("AAA", OPEN, 10.0), ("BBB", OPEN, 50.0)])
    second = quotes([("AAA", OPEN + timedelta(seconds=5), 10.5), ("CCC", OPEN, 7.25)])
    rec.add_quotes(first)
    assert rec.flush() is None
    clock.advance(5)
    rec.add_quotes(second)
    assert rec.close() is None
    back = read_all(tmp_path)
    assert back.schema == QUOTES
    assert_frame_equal(sort(back), sort(pl.concat([first, second])))
    assert rec.rows_written == 4
    assert rec.files_written == 2
    names = [p.name for p in (tmp_path / "date=2025-12-05").glob("quotes-*")]
    assert all(FILE_NAME.fullmatch(name) for name in names)
    # HHMMSS is the New York wall time of the flush: 09:30:00 and 09:30:05.
    assert sorted(name[7:13] for name in names) == ["093000", "093005"]
    assert rec.summary() == f"wrote 4 rows in 2 files for 1 day (2025-12-05) to {tmp_path}"


def test_the_summary_counts_the_new_york_days_written(tmp_path):
    clock = ManualClock(OPEN)
    rec = Recorder(tmp_path, clock)
    # 01:00 UTC on the 5th is 20:00 on the 4th in New York: three New York days in all.
    rec.add_quotes(quotes([("AAA", datetime(2025, 12, 5, 1, 0, tzinfo=UTC), 10.0)]))
    rec.add_quotes(quotes([("AAA", OPEN, 11.0)]))
    rec.add_quotes(quotes([("AAA", OPEN + timedelta(days=3), 12.0)]))
    assert rec.close() is None
    assert rec.days_written == {date(2025, 12, 4), date(2025, 12, 5), date(2025, 12, 8)}
    assert rec.summary() == (
        f"wrote 3 rows in 3 files for 3 days (2025-12-04 to 2025-12-08) to {tmp_path}"
    )
    one = Recorder(tmp_path / "one", clock)
    one.add_quotes(quotes([("AAA", OPEN, 10.0)]))
    assert one.close() is None
    assert one.summary() == f"wrote 1 row in 1 file for 1 day (2025-12-05) to {tmp_path / 'one'}"


def test_partitions_follow_the_new_york_date(tmp_path):
    late = datetime(2025, 12, 6, 4, 30, tzinfo=UTC)  # 2025-12-05 23:30 New York
    after_midnight = datetime(2025, 12, 6, 5, 30, tzinfo=UTC)  # 2025-12-06 00:30 New York
    rec = Recorder(tmp_path, ManualClock(after_midnight))
    rec.add_quotes(
        quotes([("AAA", OPEN, 10.0), ("AAA", late, 10.1), ("AAA", after_midnight, 10.2)])
    )
    assert rec.flush() is None
    day5 = read_all(tmp_path / "date=2025-12-05")
    day6 = read_all(tmp_path / "date=2025-12-06")
    assert day5.get_column("last").sort().to_list() == [10.0, 10.1]
    assert day6.get_column("last").to_list() == [10.2]
    assert {p.name for p in tmp_path.iterdir()} == {"date=2025-12-05", "date=2025-12-06"}


def test_flush_interval_on_a_manual_clock(tmp_path):
    clock = ManualClock(OPEN)
    rec = Recorder(tmp_path, clock, flush_interval_s=5.0)
    rec.add_quotes(quotes([("AAA", OPEN, 10.0)]))
    assert rec.maybe_flush() is None
    assert rec.files_written == 0 and rec.buffered_rows == 1
    clock.advance(4.9)
    rec.maybe_flush()
    assert rec.files_written == 0
    clock.advance(0.1)
    assert rec.flush_due
    rec.maybe_flush()
    assert rec.files_written == 1 and rec.buffered_rows == 0
    # The interval restarts at each flush.
    rec.add_quotes(quotes([("AAA", OPEN + timedelta(seconds=5), 10.1)]))
    clock.advance(4.0)
    rec.maybe_flush()
    assert rec.files_written == 1
    clock.advance(1.0)
    rec.maybe_flush()
    assert rec.files_written == 2
    assert len(list(tmp_path.rglob("quotes-*.parquet"))) == 2


def test_an_empty_buffer_writes_no_file(tmp_path):
    rec = Recorder(tmp_path, ManualClock(OPEN))
    assert rec.flush() is None
    assert list(tmp_path.iterdir()) == []


def test_an_unchanged_quote_polled_again_is_stored_once(tmp_path):
    rec = Recorder(tmp_path, ManualClock(OPEN))
    frame = quotes([("AAA", OPEN, 10.0), ("BBB", OPEN, 50.0)])
    rec.add_quotes(frame)
    rec.add_quotes(frame)
    rec.flush()
    rec.add_quotes(frame)
    moved = quotes([("AAA", OPEN + timedelta(seconds=1), 10.0)])
    rec.add_quotes(moved)
    rec.close()
    assert_frame_equal(sort(read_all(tmp_path)), sort(pl.concat([frame, moved])))


def test_daily_and_reference_are_written_next_to_the_quotes(tmp_path):
    clock = ManualClock(OPEN)
    rec = Recorder(tmp_path, clock)
    daily = pl.DataFrame(
        {
            "symbol": ["AAA", "BBB"],
            "date": [date(2025, 12, 4)] * 2,
            "open": [9.0, 49.0],
            "high": [10.0, 51.0],
            "low": [8.5, 48.0],
            "close": [9.5, 50.0],
            "volume": [1e6, 2e6],
        },
        schema=DAILY,
    )
    rec.add_daily(daily)
    newer_bbb = daily.filter(pl.col("symbol") == "BBB").with_columns(pl.lit(50.5).alias("close"))
    rec.add_daily(newer_bbb)  # replaces BBB only, keeps AAA
    rec.set_reference(ReferenceData(target_range=(3.75, 4.0), effr=3.89), "nyfed")
    rec.add_quotes(quotes([("AAA", OPEN, 10.0)]))
    assert rec.close() is None
    part = tmp_path / "date=2025-12-05"
    expected = pl.concat([daily.filter(pl.col("symbol") == "AAA"), newer_bbb])
    assert_frame_equal(pl.read_parquet(part / "daily.parquet"), expected)
    info = read_session_info(part)
    assert info.session_date == date(2025, 12, 5)
    assert info.synthetic is False
    assert info.reference == ReferenceData(target_range=(3.75, 4.0), effr=3.89, label="nyfed")
    assert list(tmp_path.rglob("*.tmp")) == []
    assert list(tmp_path.rglob(".*")) == []


@settings(max_examples=60, deadline=None)
@given(
    label=st.text(max_size=30),
    effr=st.floats(allow_nan=False) | st.none(),
)
def test_session_toml_round_trips_through_tomllib(label, effr):
    ref = ReferenceData(target_range=(0.25, 0.5), effr=effr, label=label)
    raw = tomllib.loads(session_toml(date(2025, 12, 5), ref))
    assert raw["session_date"] == date(2025, 12, 5)
    assert raw["reference"]["label"] == label
    assert raw["reference"].get("effr") == effr
    assert raw["reference"]["target_range"] == [0.25, 0.5]


def test_a_write_failure_is_returned_and_the_rows_kept(tmp_path):
    out = tmp_path / "rec"
    out.write_text("a file where the recording folder should be")
    clock = ManualClock(OPEN)
    rec = Recorder(out, clock, max_buffered_rows=3)
    rows = [("AAA", OPEN + timedelta(seconds=i), 10.0 + i) for i in range(5)]
    rec.add_quotes(quotes(rows[:2]))
    error = rec.flush()
    assert error is not None and str(out) in error
    assert rec.last_error == error
    assert rec.buffered_rows == 2
    # Still failing: the buffer is bounded, the oldest rows go first, and the user is told.
    rec.add_quotes(quotes(rows[2:]))
    assert rec.buffered_rows == 3
    assert rec.last_error is not None and "dropped the 2 oldest" in rec.last_error
    error = rec.flush()
    assert error is not None and "2 unwritten rows dropped so far" in error
    assert rec.dropped_rows == 2
    # The disk is back: what was kept is written.
    out.unlink()
    out.mkdir()
    assert rec.flush() is None
    assert rec.last_error is None
    assert read_all(out).get_column("last").sort().to_list() == [12.0, 13.0, 14.0]
    assert list(out.rglob("*.tmp")) == []


CHILD = r"""
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from capgap.core.schemas import conform_quotes
from capgap.core.clock import SystemClock
from capgap.feeds.recording.recorder import Recorder, write_atomic

out, side = Path(sys.argv[1]), Path(sys.argv[2])
rec = Recorder(out, SystemClock(), flush_interval_s=0.05)
base = datetime(2025, 12, 5, 14, 30, tzinfo=UTC)


def report(flushed, pending):
    data = f"{flushed} {pending}\n".encode()

    def write(handle):
        handle.write(data)

    write_atomic(side, write)


row = 0
while True:
    n = 7
    frame = conform_quotes(
        pl.DataFrame(
            {
                "symbol": [f"S{(row + k) % 3}" for k in range(n)],
                "time": [base + timedelta(milliseconds=row + k) for k in range(n)],
                "last": [float(row + k) for k in range(n)],
                "prev_close": [1.0] * n,
                "volume": [float(row + k) for k in range(n)],
            }
        )
    )
    rec.add_quotes(frame)
    row += n
    if rec.flush_due:
        # Before the flush: what the disk will hold once it completes.
        report(rec.rows_written, rec.rows_written + rec.buffered_rows)
        assert rec.flush() is None
        report(rec.rows_written, rec.rows_written)
    time.sleep(0.001)
"""


def test_a_killed_recorder_leaves_only_whole_files_and_a_prefix(tmp_path):
    out, side = tmp_path / "rec", tmp_path / "side.txt"
    root = Path(capgap.__file__).resolve().parents[1]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(out), str(side)], cwd=root, stderr=subprocess.PIPE
    )
    assert child.stderr is not None
    try:
        # Bounded wait for the first flush (the child imports polars first), then ~0.7 s more.
        deadline = time.monotonic() + 3.0
        while not side.exists() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.02)
        assert side.exists(), child.stderr.read().decode() if child.poll() is not None else ""
        time.sleep(0.7)
        assert child.poll() is None, child.stderr.read().decode()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    flushed, pending = (int(x) for x in side.read_text().split())
    files = sorted(out.rglob("quotes-*.parquet"))
    assert len(files) >= 3, "the child should have flushed several times before the kill"
    # Every file reads back whole, with the schema it was written with.
    frames = [pl.read_parquet(path) for path in files]
    assert all(frame.schema == QUOTES for frame in frames)
    rows = pl.concat(frames).get_column("last").sort().to_list()
    # A prefix of what the child produced, losing only the rows of the unfinished flush.
    assert rows == [float(i) for i in range(len(rows))]
    assert len(rows) in {flushed, pending}
    assert len(rows) >= flushed > 0


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_a_bad_flush_interval_is_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        Recorder(tmp_path, ManualClock(OPEN), flush_interval_s=bad)


def test_a_past_day_keeps_its_figures_and_today_follows(tmp_path):
    clock = ManualClock(OPEN)
    rec = Recorder(tmp_path, clock)
    rec.set_reference(ReferenceData(effr=3.89), "nyfed")
    rec.add_quotes(quotes([("AAA", OPEN, 10.0)]))
    assert rec.flush() is None
    clock.set(datetime(2025, 12, 8, 14, 30, tzinfo=UTC))  # Monday
    rec.set_reference(ReferenceData(effr=3.64), "nyfed")
    # Friday's closing quote seen again on Monday, with a later stamp: it belongs to Friday.
    rec.add_quotes(quotes([("AAA", OPEN + timedelta(hours=6), 10.4)]))
    assert rec.flush() is None
    assert read_session_info(tmp_path / "date=2025-12-05").reference.effr == 3.89
    monday = read_session_info(tmp_path / "date=2025-12-08")
    assert monday.reference.effr == 3.64
    assert monday.session_date == date(2025, 12, 8)
    assert read_all(tmp_path / "date=2025-12-05").height == 2


def test_rows_added_while_a_flush_is_writing_are_kept_for_the_next(tmp_path, monkeypatch):
    # At shutdown the final flush can overlap a poll still adding rows on the event loop.
    clock = ManualClock(OPEN)
    rec = Recorder(tmp_path, clock)
    first = quotes([("AAA", OPEN, 10.0)])
    late = quotes([("BBB", OPEN + timedelta(seconds=1), 20.0)])
    rec.add_quotes(first)
    write = Recorder._write_quotes

    def write_while_rows_arrive(self, day, frame, stamp):
        self.add_quotes(late)  # what the other thread does in the middle of the write
        write(self, day, frame, stamp)

    monkeypatch.setattr(Recorder, "_write_quotes", write_while_rows_arrive)
    assert rec.flush() is None
    assert rec.buffered_rows == 1
    monkeypatch.setattr(Recorder, "_write_quotes", write)
    clock.advance(5)
    assert rec.close() is None
    assert_frame_equal(sort(read_all(tmp_path)), sort(pl.concat([first, late])))


def _two_recorders_flushing_at_once(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> list[pl.DataFrame]:
    """Flush two recorders of one folder at the same instant, the second inside the first's write.

    The second recorder's whole flush happens while the first is writing its file: the moment
    a name chosen by one is not yet on disk for the other.
    """
    clock = ManualClock(OPEN)
    first, second = Recorder(folder, clock), Recorder(folder, clock)
    mine = quotes([("AAA", OPEN, 10.0), ("BBB", OPEN, 50.0)])
    theirs = quotes([("CCC", OPEN, 7.0), ("DDD", OPEN, 8.0), ("EEE", OPEN, 9.0)])
    first.add_quotes(mine)
    second.add_quotes(theirs)
    write_parquet = pl.DataFrame.write_parquet
    interleaved: list[str | None] = []
    started = False

    def write_while_the_other_flushes(self: pl.DataFrame, *args: object, **kwargs: object) -> None:
        nonlocal started
        if not started:  # the first write is the first recorder's: the second flushes inside
            started = True
            interleaved.append(second.flush())
        write_parquet(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pl.DataFrame, "write_parquet", write_while_the_other_flushes)
    assert first.flush() is None
    monkeypatch.setattr(pl.DataFrame, "write_parquet", write_parquet)
    assert interleaved == [None]
    assert first.rows_written == 2 and second.rows_written == 3
    return [mine, theirs]


def assert_every_row_kept(folder: Path, written: list[pl.DataFrame]) -> None:
    """Plain polars and the replay's reader both see every row of both recorders."""
    assert_frame_equal(sort(read_all(folder)), sort(pl.concat(written)))
    part = folder / "date=2025-12-05"
    warnings: list[str] = []
    replayed = read_quote_files(_quote_files(part), warnings)
    assert warnings == []
    assert_frame_equal(sort(replayed), sort(pl.concat(written)))
    assert list(folder.rglob("*.tmp")) == []


def test_a_second_recorder_keeps_the_daily_history_of_the_first(tmp_path):
    # daily.parquet is replaced whole: the second writer must not drop the first's symbols.
    def history(symbol: str, close: float) -> pl.DataFrame:
        return pl.DataFrame(
            {"symbol": [symbol], "date": [date(2025, 12, 4)], "open": [close], "high": [close],
             "low": [close], "close": [close], "volume": [1e6]},
            schema=DAILY,
        )  # fmt: skip

    clock = ManualClock(OPEN)
    first, second = Recorder(tmp_path, clock), Recorder(tmp_path, clock)
    first.add_daily(pl.concat([history("AAA", 9.5), history("BBB", 50.0)]))
    first.add_quotes(quotes([("AAA", OPEN, 10.0)]))
    assert first.close() is None
    second.add_daily(pl.concat([history("BBB", 50.5), history("CCC", 7.0)]))
    second.add_quotes(quotes([("CCC", OPEN, 7.25)]))
    assert second.close() is None
    written = pl.read_parquet(tmp_path / "date=2025-12-05" / "daily.parquet")
    # AAA only the first knew; BBB and CCC as the second, later, wrote them.
    expected = pl.concat([history("AAA", 9.5), history("BBB", 50.5), history("CCC", 7.0)])
    assert_frame_equal(written, expected)


def test_two_recorders_into_one_folder_never_replace_each_others_files(tmp_path, monkeypatch):
    written = _two_recorders_flushing_at_once(tmp_path, monkeypatch)
    assert_every_row_kept(tmp_path, written)
    part = tmp_path / "date=2025-12-05"
    assert all(FILE_NAME.fullmatch(p.name) for p in part.glob("quotes-*"))


def test_without_hard_links_two_recorders_still_keep_every_row(tmp_path, monkeypatch):
    # FAT and some network file systems refuse hard links: the name itself is then unique.
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("os.link", no_links)
    written = _two_recorders_flushing_at_once(tmp_path, monkeypatch)
    assert_every_row_kept(tmp_path, written)
