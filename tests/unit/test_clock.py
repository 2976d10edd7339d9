from datetime import UTC, datetime, timedelta, timezone

import pytest
from capgap.core.clock import Clock, ManualClock, ReplayClock, SystemClock

START = datetime(2025, 12, 5, 14, 30, tzinfo=UTC)


def test_manual_clock_moves_only_when_told():
    clock = ManualClock(START)
    assert clock.now() == START
    clock.advance(90)
    assert clock.now() == START + timedelta(seconds=90)
    assert clock.monotonic() == 90
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_replay_clock_runs_at_speed_and_holds_at_end():
    wall = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
    end = START + timedelta(minutes=10)
    clock = ReplayClock(START, speed=30, end=end, monotonic=wall)
    assert clock.now() == START
    wall.advance(2)  # two wall seconds at 30x: one replayed minute
    assert clock.now() == START + timedelta(seconds=60)
    assert not clock.finished
    wall.advance(3600)
    assert clock.now() == end
    assert clock.finished


def test_replay_clock_converts_offsets_to_utc():
    eastern = timezone(timedelta(hours=-5))
    clock = ReplayClock(datetime(2025, 12, 5, 9, 30, tzinfo=eastern), monotonic=ManualClock(START))
    assert clock.now() == START
    assert clock.now().tzinfo == UTC


@pytest.mark.parametrize("speed", [0, -1])
def test_replay_clock_rejects_non_positive_speed(speed):
    with pytest.raises(ValueError):
        ReplayClock(START, speed=speed)


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError):
        ManualClock(datetime(2025, 12, 5, 9, 30))


def test_system_clock_is_aware_utc_and_a_clock():
    clock = SystemClock()
    assert isinstance(clock, Clock)
    assert clock.now().tzinfo == UTC
    assert clock.monotonic() <= clock.monotonic()
