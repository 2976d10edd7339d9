"""Polling decisions on a manual clock: cadence, backoff with jitter, Retry-After, budget."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from capgap.core.clock import ManualClock
from capgap.feeds.poller import Backoff, TokenBucket, next_delay
from hypothesis import given
from hypothesis import strategies as st

NO_JITTER = Backoff(base_s=2, factor=2, max_s=300, jitter=0)


def test_backoff_schedule_without_jitter_doubles_up_to_the_cap():
    rng = random.Random(1)
    assert [NO_JITTER.delay(n, rng) for n in range(0, 11)] == [
        0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300,
    ]  # fmt: skip


@given(failures=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_jitter_stays_within_its_band_and_the_cap(failures, seed):
    backoff = Backoff(base_s=2, factor=2, max_s=300, jitter=0.2)
    raw = min(300, 2 * 2 ** (failures - 1))
    delay = backoff.delay(failures, random.Random(seed))
    assert raw * 0.8 - 1e-9 <= delay <= min(300, raw * 1.2) + 1e-9


def test_jitter_spreads_retries_of_many_clients():
    backoff = Backoff(jitter=0.2)
    delays = {round(backoff.delay(5, random.Random(seed)), 3) for seed in range(50)}
    assert len(delays) > 40


@pytest.mark.parametrize(
    ("failures", "retry_after", "expected"),
    [
        (0, None, 5.0),  # success: the session cadence
        (0, 40.0, 5.0),  # a stale Retry-After does not slow a healthy feed
        (1, None, 5.0),  # backoff 2 s, but never faster than the cadence
        (3, None, 8.0),
        (3, 40.0, 40.0),  # Retry-After wins when longer
        (9, 40.0, 300.0),
    ],
)
def test_next_delay(failures, retry_after, expected):
    assert (
        next_delay(
            cadence_s=5.0,
            failures=failures,
            retry_after_s=retry_after,
            backoff=NO_JITTER,
            rng=random.Random(0),
        )
        == expected
    )


def test_token_bucket_budget_refills_with_time():
    clock = ManualClock(datetime(2025, 12, 5, tzinfo=UTC))
    bucket = TokenBucket(capacity=3, rate_per_s=0.5, clock=clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_s() == pytest.approx(2.0)
    clock.advance(1.0)
    assert not bucket.try_take()
    clock.advance(1.0)
    assert bucket.try_take()
    clock.advance(3600)
    assert bucket.available() == 3  # never above capacity


def test_token_bucket_rejects_nonsense():
    clock = ManualClock(datetime(2025, 12, 5, tzinfo=UTC))
    with pytest.raises(ValueError):
        TokenBucket(capacity=0, rate_per_s=1, clock=clock)
