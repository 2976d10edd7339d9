"""`capgap --replay DIR [--day YYYY-MM-DD]`: which recorded day plays, and days after today."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from capgap.cli.monitor import replay_clock
from capgap.cli.output import UsageError
from capgap.core.clock import ManualClock, ReplayClock
from capgap.engine.sources import recording_engine
from capgap.feeds.base import FeedError
from capgap.feeds.recording.recorded import replay_day
from capgap.ui.widgets.status_line import feed_variants
from test_recorded import record

TODAY = date(2025, 12, 6)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


@pytest.fixture
def days(tmp_path: Path) -> Path:
    """A recording of 4 and 5 December 2025, and a day "recorded" in 2999 by a bad stamp."""
    folder = tmp_path / "rec"
    for day in (date(2025, 12, 4), date(2025, 12, 5), date(2999, 1, 4)):
        record(folder, [("AAA", _at(day, 15), 10.0, 1.0), ("AAA", _at(day, 18), 11.0, 2.0)])
    return folder


def test_the_latest_day_on_or_before_today_plays_and_later_days_are_named(days: Path):
    day, notices = replay_day(days, TODAY)
    assert day == date(2025, 12, 5)
    assert notices == ["ignoring 1 recorded day after today (2025-12-06): 2999-01-04"]


def test_a_chosen_day_plays(days: Path):
    assert replay_day(days, TODAY, date(2025, 12, 4))[0] == date(2025, 12, 4)


@pytest.mark.parametrize("wanted", [date(2025, 12, 1), date(2999, 1, 4)])
def test_a_day_not_recorded_or_after_today_lists_the_days_there_are(days: Path, wanted: date):
    with pytest.raises(FeedError) as caught:
        replay_day(days, TODAY, wanted)
    assert str(caught.value) == (
        f"nothing recorded on {wanted} in {days} (recorded days: 2025-12-04, 2025-12-05)"
    )


def test_only_days_after_today_is_nothing_to_replay(tmp_path: Path):
    record(tmp_path, [("AAA", _at(date(2999, 1, 4), 15), 10.0, 1.0)])
    with pytest.raises(FeedError, match=r"^nothing recorded on or before 2025-12-06 in .*2999"):
        replay_day(tmp_path, TODAY)


def test_the_replay_clock_runs_over_the_chosen_day_and_says_what_it_ignored(days: Path, capsys):
    clock = replay_clock(days, None, 30.0, TODAY)
    assert isinstance(clock, ReplayClock)
    assert (clock.start, clock.end) == (_at(date(2025, 12, 5), 15), _at(date(2025, 12, 5), 18))
    assert capsys.readouterr().err == (
        "capgap: note: ignoring 1 recorded day after today (2025-12-06): 2999-01-04\n"
    )
    chosen = replay_clock(days, date(2025, 12, 4), 30.0, TODAY)
    assert isinstance(chosen, ReplayClock) and chosen.start == _at(date(2025, 12, 4), 15)
    with pytest.raises(UsageError, match=r"^--day: nothing recorded on 2025-12-03 in "):
        replay_clock(days, date(2025, 12, 3), 30.0, TODAY)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "capgap", *argv], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--replay", "REC", "--day", "2025-12-03"], "recorded days: 2025-12-04, 2025-12-05"),
        (["--replay", "REC", "--day", "5 Dec"], "--day: not a date (YYYY-MM-DD): '5 Dec'"),
        (["--day", "2025-12-04"], "--day chooses the recorded day of --replay"),
        (["--demo", "--day", "2025-12-04"], "--day chooses the recorded day of --replay"),
        (["--day", "2025-12-04", "snapshot", "--demo"], "--day is a flag of the monitor"),
    ],
)
def test_bad_day_flags_get_one_line_and_exit_2(days: Path, argv: list[str], needle: str):
    result = _run(*(str(days) if arg == "REC" else arg for arg in argv))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and "Traceback" not in result.stderr


def test_help_names_the_day_flag():
    result = _run("--help")
    assert "--day YYYY-MM-DD" in result.stdout


# --- item 15: unreadable files of a recording are counted and shown ---------------------------


def _spoil(days: Path) -> Path:
    """Two unreadable quote files in 5 December's partition, as a crash or a disk error leaves."""
    part = days / "date=2025-12-05"
    (part / "quotes-235959-999999.parquet").write_bytes(b"PAR1 half a file")
    (part / "quotes-235959-999998.parquet").write_bytes(b"")
    return part


async def test_skipped_files_make_the_replay_degraded_and_say_how_many(days: Path):
    _spoil(days)
    engine = recording_engine(days, ManualClock(_at(date(2025, 12, 5), 18)))
    snapshot = await engine.refresh()
    (replay,) = snapshot.feeds
    assert replay.state == "degraded"
    assert replay.error == "skipped 2 unreadable files of the recording"
    # The readable rows still play, and the count is said once, not once per poll.
    assert (await engine.feed.quotes(["AAA"])).get_column("last").to_list() == [11.0]
    again = await engine.refresh()
    assert again.feeds[0].error == "skipped 2 unreadable files of the recording"
    line = feed_variants(again.feeds, again.as_of)[0].content.plain
    assert line == "replay degraded, ok 0s ago: skipped 2 unreadable files of the recording"


async def test_a_clean_recording_replays_ok(days: Path):
    engine = recording_engine(days, ManualClock(_at(date(2025, 12, 5), 18)))
    (replay,) = (await engine.refresh()).feeds
    assert (replay.state, replay.error) == ("ok", None)


def test_the_replay_says_once_how_many_files_it_skipped(days: Path, capsys):
    part = _spoil(days)
    replay_clock(days, None, 30.0, TODAY)
    assert capsys.readouterr().err == (
        "capgap: note: ignoring 1 recorded day after today (2025-12-06): 2999-01-04\n"
        f"capgap: warning: skipped 2 unreadable files in {part}\n"
    )
