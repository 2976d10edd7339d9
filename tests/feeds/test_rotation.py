"""The members' rolling refresh: its pace by hand, and the host's budget over a simulated hour."""

from __future__ import annotations

import math
from collections import deque

import pytest
from capgap.feeds.live import YAHOO_QUOTE_BUDGET
from capgap.feeds.rotation import (
    HEADROOM,
    SWEEP_POLLS,
    HostBudget,
    MemberRotation,
    plan_poll,
    quote_requests_per_minute,
)
from capgap.settings.model import PollSettings

YAHOO = HostBudget(requests_per_minute=60, batch_size=50)
#: The shipped universe: 30 core symbols, 15 ZQ contracts and a focused symbol; 2,423 members.
FIXED, MEMBERS = 46, 2423
#: Both indices' minute bars and a focused symbol's, once a minute.
CHARTS_PER_MINUTE = 3
NAMES = [f"M{i:04d}" for i in range(MEMBERS)]


def rotation(members: list[str] = NAMES) -> MemberRotation:
    return MemberRotation(members, YAHOO, other_per_minute=CHARTS_PER_MINUTE)


def sweep(cadence_s: float, members: list[str] = NAMES) -> tuple[int, list[int]]:
    """Return the polls until every member was quoted once, and each poll's requests."""
    turn, seen, requests = rotation(members), set[str](), []
    while len(seen) < len(members):
        seen.update(turn.take(cadence_s, FIXED))
        requests.append(plan_requests(turn))
        turn.done()
    return len(requests), requests


def plan_requests(turn: MemberRotation) -> int:
    plan = turn.pending
    assert plan is not None
    return plan.requests


def test_the_yahoo_feed_declares_its_budget():
    assert YAHOO_QUOTE_BUDGET == YAHOO


def test_quote_requests_left_by_the_budget():
    # 60 a minute, 10 % kept for one-off requests, 3 charts: 51 quote requests a minute.
    assert HEADROOM == 0.1
    assert quote_requests_per_minute(YAHOO, CHARTS_PER_MINUTE) == pytest.approx(51.0)


def test_at_10_s_every_member_within_80_s_in_full_batches():
    # A slice of ceil(2423/8) = 303 beside 46 fixed symbols needs ceil(349/50) = 7 requests;
    # the members fill all 350 slots: 304 a poll, so 8 polls (7 x 304 = 2128 < 2423).
    plan = plan_poll(10, FIXED, MEMBERS, YAHOO, other_per_minute=CHARTS_PER_MINUTE)
    assert (plan.requests, plan.members) == (7, 304)
    polls, requests = sweep(10)
    assert SWEEP_POLLS == 8 and polls == 8
    assert polls * 10 <= 120  # the promise: every member at least every 2 minutes
    assert set(requests) == {7}  # 6 polls a minute: 42 quote requests + 3 charts = 45


def test_outside_the_session_the_sweep_slows_with_the_cadence():
    settings = PollSettings()
    assert (settings.extended_s, settings.closed_s) == (30.0, 300.0)
    assert sweep(30)[0] * 30 == 240  # 4 minutes in pre-market and after hours
    assert sweep(300)[0] * 300 == 2400  # 40 minutes at night


def test_at_2_s_the_budget_sets_the_pace():
    # 51 x 2 / 60 = 1.7 requests a poll: 2, 2, 1 ... on average 1.7, so 85 slots a poll, 39
    # of them members (85 - 46): 2423 / 39 = 62.1 -> 63 polls, about two minutes.
    polls, requests = sweep(2)
    assert set(requests) == {1, 2}
    assert polls == 63
    # One minute of polls spends the quote allowance (51), less a fraction still carried.
    assert 50 <= sum(requests[:30]) <= 51
    # Not within a minute (documented): the core alone takes 1,380 of 2,550 slots a minute.
    assert 60 < polls * 2 <= 130


def test_a_cadence_below_the_cores_need_plans_only_the_core():
    # At 1 s the 46 fixed symbols alone need 60 requests a minute: the members get the 4
    # free slots of the core's batch, and the token bucket holds the host to its budget.
    turn = rotation()
    for _ in range(120):
        assert len(turn.take(1, FIXED)) == 4
        assert plan_requests(turn) == 1
        turn.done()


@pytest.mark.parametrize("cadence_s", [2, 3, 5, 7.5, 10, 15, 30, 60, 300, 3600])
def test_the_budget_holds_in_every_minute_of_a_simulated_hour(cadence_s: float):
    # Every poll's quote requests, plus the charts once a minute, in any 60 s window: never
    # above the budget (the plan keeps under 90 % of it, plus at most one carried request).
    turn, window, polls = rotation(), deque[tuple[float, int]](), int(3600 / cadence_s)
    worst = 0
    for poll in range(polls):
        at = poll * cadence_s
        turn.take(cadence_s, FIXED)
        window.append((at, plan_requests(turn)))
        turn.done()
        while window[0][0] <= at - 60:
            window.popleft()
        worst = max(worst, sum(count for _, count in window) + CHARTS_PER_MINUTE)
    assert worst <= 60 * (1 - HEADROOM) + 1
    assert worst <= YAHOO.requests_per_minute


def test_the_rotation_is_round_robin_and_wraps():
    members = [f"S{i}" for i in range(10)]
    turn = MemberRotation(members, HostBudget(60, 5), other_per_minute=0)
    # 5 a request, 2 fixed: ceil(10/8) = 2 wanted -> 1 request, 3 slots.
    first = turn.take(10, 2)
    assert first == ["S0", "S1", "S2"]
    turn.done()
    assert turn.take(10, 2) == ["S3", "S4", "S5"]
    turn.done()
    turn.done()  # a second done() without a take() moves nothing
    assert turn.take(10, 2) == ["S6", "S7", "S8"]
    turn.done()
    assert turn.take(10, 2) == ["S9", "S0", "S1"]


def test_a_failed_poll_asks_the_same_members_again():
    turn = rotation()
    first = turn.take(10, FIXED)
    # No done(): the poll failed.
    assert turn.take(10, FIXED) == first


def test_no_members_no_slice():
    turn = rotation([])
    assert turn.take(10, FIXED) == []
    turn.done()
    assert turn.take(10, FIXED) == []


def test_a_small_universe_fills_the_free_slots_of_the_cores_batch():
    members = NAMES[:20]
    # 46 + ceil(20/8) = 49 symbols: one request, and its 4 free slots serve 4 members.
    plan = plan_poll(10, FIXED, 20, YAHOO, other_per_minute=CHARTS_PER_MINUTE)
    assert (plan.requests, plan.members) == (1, 4)
    assert sweep(10, members)[0] == math.ceil(20 / 4)
