"""FedWatch probabilities against CME's worked examples, hand-computed cases and properties."""

import calendar
import math
from datetime import date

import numpy as np
import pytest
from capgap.market.fedwatch import (
    FedWatchError,
    TargetRangeProbability,
    cut_hold_hike,
    fedwatch,
    meeting_weights,
    move_distribution,
    path_moves,
    target_ranges,
)
from capgap.market.fomc import default_schedule
from hypothesis import given, settings
from hypothesis import strategies as st


def _as_dict(pairs):
    return dict(pairs)


def _assert_distribution(pairs, expected, tol=1e-9):
    got = _as_dict(pairs)
    assert set(got) == set(expected), (got, expected)
    for change, pct in expected.items():
        assert got[change] == pytest.approx(pct, abs=tol), (change, got)


# --- CME worked example A: the 17 Sep 2015 meeting -----------------------------------------


def test_worked_example_a_september_2015():
    # Aug 2015 (no meeting) 99.8675 -> 0.1325; Sep 2015 99.805 -> average 0.195;
    # N = 30, M = 16: end = 30/14 * (0.195 - 16/30 * 0.1325) = 0.26643.
    assert meeting_weights(date(2015, 9, 17)) == (16, 30)
    result = fedwatch({(2015, 8): 99.8675, (2015, 9): 99.805}, [date(2015, 9, 17)])
    (meeting,) = result.meetings
    assert meeting.anchor == "previous_month"
    assert meeting.start_rate == pytest.approx(0.1325, abs=1e-12)
    assert meeting.end_rate == pytest.approx(0.26643, abs=1e-5)
    outcomes = _as_dict(meeting.outcomes)
    assert set(outcomes) == {0, 25}
    assert outcomes[25] == pytest.approx(53.6, abs=0.05)
    assert outcomes[0] == pytest.approx(46.4, abs=0.05)
    assert (meeting.cut_pct, meeting.hold_pct) == (0.0, pytest.approx(46.4, abs=0.05))
    assert meeting.hike_pct == pytest.approx(53.6, abs=0.05)


def test_worked_example_a_is_unchanged_by_the_meetings_around_it():
    # The 2015 schedule had meetings on Jul 29 and Oct 28: August stays meeting-free.
    plain = fedwatch({(2015, 8): 99.8675, (2015, 9): 99.805}, [date(2015, 9, 17)])
    with_schedule = fedwatch(
        {(2015, 8): 99.8675, (2015, 9): 99.805},
        [date(2015, 9, 17)],
        schedule=[date(2015, 7, 29), date(2015, 9, 17), date(2015, 10, 28)],
    )
    assert with_schedule.meetings == plain.meetings


# --- CME worked example C: whole-month rates, two meetings -----------------------------------


def test_worked_example_c_whole_month_rates():
    # "No intra-month weighting" is modelled by meetings on the 1st: M = 0, so each meeting
    # month's average is its end rate. June starts at May's 5.125 and ends at 5.25 (k = 0.5);
    # July has no meeting-free neighbour quoted, so it chains from June's end: 5.25 -> 5.375.
    assert meeting_weights(date(2024, 6, 1)) == (0, 30)
    assert meeting_weights(date(2024, 7, 1)) == (0, 31)
    futures = {(2024, 5): 94.875, (2024, 6): 94.750, (2024, 7): 94.625}
    june, july = fedwatch(futures, [date(2024, 6, 1), date(2024, 7, 1)]).meetings
    assert june.anchor == "previous_month"
    assert (june.start_rate, june.end_rate) == (pytest.approx(5.125), pytest.approx(5.25))
    _assert_distribution(june.outcomes, {0: 50.0, 25: 50.0})
    _assert_distribution(june.cumulative, {0: 50.0, 25: 50.0})
    assert july.anchor == "previous_meeting"
    assert (july.start_rate, july.end_rate) == (pytest.approx(5.25), pytest.approx(5.375))
    _assert_distribution(july.outcomes, {0: 50.0, 25: 50.0})
    _assert_distribution(july.cumulative, {0: 25.0, 25: 50.0, 50: 25.0})


def test_meeting_on_the_first_never_solves_its_start_from_the_month_after():
    # With M = 0 the month's average says nothing about the rate before the meeting, so a
    # quoted meeting-free August must not be used to back out July's start (no division by 0).
    futures = {(2024, 5): 94.875, (2024, 6): 94.750, (2024, 7): 94.625, (2024, 8): 94.625}
    _, july = fedwatch(futures, [date(2024, 6, 1), date(2024, 7, 1)]).meetings
    assert july.anchor == "previous_meeting"
    _assert_distribution(july.cumulative, {0: 25.0, 25: 50.0, 50: 25.0})


# --- Hand-computed cases ----------------------------------------------------------------------


def test_fifty_bp_cut_priced_at_130_percent_of_a_step():
    # Meeting 16 Nov 2030 (N = 30, M = 15, weights 1/2 and 1/2). Oct (no meeting) 95.67 -> 4.33.
    # Wanted end = 4.33 - 1.3 * 0.25 = 4.005; Nov average = (4.33 + 4.005) / 2 = 4.1675 -> 95.8325.
    # k = -1.3: w = -1, f = 0.3 -> -25 bp gets 70 %, -50 bp gets 30 %.
    result = fedwatch(
        {(2030, 10): 95.67, (2030, 11): 95.8325},
        [date(2030, 11, 16)],
        current_range=(4.25, 4.50),
    )
    (meeting,) = result.meetings
    assert meeting.end_rate == pytest.approx(4.005, abs=1e-9)
    assert meeting.expected_change_bp == pytest.approx(-32.5, abs=1e-7)
    _assert_distribution(meeting.outcomes, {-50: 30.0, -25: 70.0}, tol=1e-7)
    assert meeting.cut_pct == pytest.approx(100.0)
    assert meeting.ranges == (
        # approx in a dataclass field: its == compares the field approximately.
        TargetRangeProbability(3.75, 4.00, -50, pytest.approx(30.0, abs=1e-7)),  # type: ignore[arg-type]
        TargetRangeProbability(4.00, 4.25, -25, pytest.approx(70.0, abs=1e-7)),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("april_price", "end", "expected"),
    [
        # Meeting 7 Apr 2031: N = 30, M = 6, weights 0.2 / 0.8; March (no meeting) 98.00 -> 2.00.
        # end 2.10: average 0.2 * 2 + 0.8 * 2.1 = 2.08 -> 97.92; k = 0.4.
        (97.92, 2.10, {0: 60.0, 25: 40.0}),
        # end 2.30: average 0.4 + 1.84 = 2.24 -> 97.76; k = 1.2: +25 gets 80 %, +50 gets 20 %.
        (97.76, 2.30, {25: 80.0, 50: 20.0}),
    ],
)
def test_hikes(april_price, end, expected):
    (meeting,) = fedwatch(
        {(2031, 3): 98.00, (2031, 4): april_price}, [date(2031, 4, 7)], current_range=(2.0, 2.25)
    ).meetings
    assert meeting_weights(date(2031, 4, 7)) == (6, 30)
    assert meeting.end_rate == pytest.approx(end, abs=1e-9)
    _assert_distribution(meeting.outcomes, expected, tol=1e-7)
    assert meeting.cut_pct == 0.0
    assert meeting.hike_pct == pytest.approx(100.0 - expected.get(0, 0.0), abs=1e-7)
    assert [(r.lower, r.upper) for r in meeting.ranges] == [
        (2.0 + change / 100, 2.25 + change / 100) for change in sorted(expected)
    ]


def test_two_meetings_in_consecutive_months():
    # Dec 10 2025 (N = 31, M = 9) starts at Nov's 3.89 and ends at 3.6725 (87 % of a cut).
    # Jan 28 2026 (N = 31, M = 27) takes its end from Feb (no meeting) 96.39 -> 3.61, and its
    # start is solved from its own average: designed start 3.6725, so
    # Jan average = (27 * 3.6725 + 4 * 3.61) / 31 = 113.5975 / 31; k = -0.0625 / 0.25 = -0.25.
    # By January: -50 bp 0.87 * 0.25 = 21.75 %; -25 bp 0.87 * 0.75 + 0.13 * 0.25 = 68.5 %;
    # 0 bp 0.13 * 0.75 = 9.75 %.
    assert meeting_weights(date(2026, 1, 28)) == (27, 31)
    futures = {
        (2025, 11): 96.11,
        (2025, 12): 100 - (9 * 3.89 + 22 * 3.6725) / 31,
        (2026, 1): 100 - 113.5975 / 31,
        (2026, 2): 96.39,
    }
    dec, jan = fedwatch(futures, [date(2025, 12, 10), date(2026, 1, 28)]).meetings
    assert (dec.anchor, jan.anchor) == ("previous_month", "next_month")
    assert jan.start_rate == pytest.approx(3.6725, abs=1e-9)
    assert jan.end_rate == pytest.approx(3.61, abs=1e-12)
    _assert_distribution(dec.outcomes, {-25: 87.0, 0: 13.0}, tol=1e-7)
    _assert_distribution(jan.outcomes, {-25: 25.0, 0: 75.0}, tol=1e-7)
    _assert_distribution(jan.cumulative, {-50: 21.75, -25: 68.5, 0: 9.75}, tol=1e-7)
    assert cut_hold_hike(jan.cumulative) == (
        pytest.approx(90.25, abs=1e-7),
        pytest.approx(9.75, abs=1e-7),
        0.0,
    )


def test_three_consecutive_meeting_months_use_each_rule():
    # Dec 2029 (no meeting) 96.00 -> 4.00 and Apr 2030 (no meeting) 96.55 -> 3.45 anchor a
    # block of three meeting months. Designed path 4.00 -> 3.80 -> 3.70 -> 3.45:
    # Jan 15 (N 31, M 14): (14 * 4.00 + 17 * 3.80) / 31 = 120.6 / 31, from the December anchor;
    # Feb 12 (N 28, M 11): (11 * 3.80 + 17 * 3.70) / 28 = 104.7 / 28, chained from January;
    # Mar 18 (N 31, M 17): (17 * 3.70 + 14 * 3.45) / 31 = 111.2 / 31, from the April anchor.
    futures = {
        (2029, 12): 96.00,
        (2030, 1): 100 - 120.6 / 31,
        (2030, 2): 100 - 104.7 / 28,
        (2030, 3): 100 - 111.2 / 31,
        (2030, 4): 96.55,
    }
    jan, feb, mar = fedwatch(
        futures, [date(2030, 1, 15), date(2030, 2, 12), date(2030, 3, 18)]
    ).meetings
    assert [m.anchor for m in (jan, feb, mar)] == [
        "previous_month",
        "previous_meeting",
        "next_month",
    ]
    for meeting, (start, end) in zip(
        (jan, feb, mar), [(4.00, 3.80), (3.80, 3.70), (3.70, 3.45)], strict=True
    ):
        assert meeting.start_rate == pytest.approx(start, abs=1e-9)
        assert meeting.end_rate == pytest.approx(end, abs=1e-9)
    _assert_distribution(jan.outcomes, {-25: 80.0, 0: 20.0}, tol=1e-7)
    _assert_distribution(feb.outcomes, {-25: 40.0, 0: 60.0}, tol=1e-7)
    _assert_distribution(mar.outcomes, {-25: 100.0}, tol=1e-7)
    # After Jan {-1: .8, 0: .2}; after Feb {-2: .32, -1: .56, 0: .12}; Mar shifts all by -1.
    _assert_distribution(feb.cumulative, {-50: 32.0, -25: 56.0, 0: 12.0}, tol=1e-7)
    _assert_distribution(mar.cumulative, {-75: 32.0, -50: 56.0, -25: 12.0}, tol=1e-7)
    assert (mar.cut_pct, mar.hold_pct, mar.hike_pct) == (pytest.approx(100.0), 0.0, 0.0)


def test_meeting_in_the_last_days_of_a_month():
    # Meeting 30 Oct 2030: N = 31, M = 29, so only 2 of 31 days carry the new rate.
    # Sep (no meeting) 95.75 -> 4.25; designed end 4.00: average (29 * 4.25 + 2 * 4.00) / 31.
    assert meeting_weights(date(2030, 10, 30)) == (29, 31)
    october = 100 - (29 * 4.25 + 2 * 4.00) / 31
    (meeting,) = fedwatch({(2030, 9): 95.75, (2030, 10): october}, [date(2030, 10, 30)]).meetings
    assert meeting.end_rate == pytest.approx(4.00, abs=1e-9)
    _assert_distribution(meeting.outcomes, {-25: 100.0})
    # One tick (0.0025) lower price raises the average by 0.0025 and the end by 0.0025 * 31 / 2
    # = 0.03875: k = (4.03875 - 4.25) / 0.25 = -0.845. Late meetings amplify price noise.
    (ticked,) = fedwatch(
        {(2030, 9): 95.75, (2030, 10): october - 0.0025}, [date(2030, 10, 30)]
    ).meetings
    assert ticked.end_rate == pytest.approx(4.03875, abs=1e-9)
    _assert_distribution(ticked.outcomes, {-25: 84.5, 0: 15.5}, tol=1e-6)


# --- The December 2025 scenario -------------------------------------------------------------

DEC_END = 3.89 - 0.87 * 0.25  # 3.6725: an 87 % chance of a 25 bp cut from EFFR 3.89
DEC_PRICE = 100 - (9 / 31 * 3.89 + 22 / 31 * DEC_END)  # Dec 10: N = 31, M = 9


def test_december_2025_cut_priced_at_87_percent():
    assert meeting_weights(date(2025, 12, 10)) == (9, 31)
    result = fedwatch(
        {(2025, 11): 100 - 3.89, (2025, 12): DEC_PRICE},
        [date(2025, 12, 10)],
        start_rate=3.89,
        current_range=(3.75, 4.00),
    )
    (meeting,) = result.meetings
    assert meeting.anchor == "previous_month"
    assert _as_dict(meeting.outcomes)[-25] == pytest.approx(87.0, abs=0.1)
    assert _as_dict(meeting.outcomes)[0] == pytest.approx(13.0, abs=0.1)
    assert [(r.lower, r.upper, r.change_bp) for r in meeting.ranges] == [
        (3.50, 3.75, -25),
        (3.75, 4.00, 0),
    ]
    assert meeting.ranges[0].probability_pct == pytest.approx(87.0, abs=0.1)
    assert (meeting.cut_pct, meeting.hold_pct, meeting.hike_pct) == (
        pytest.approx(87.0, abs=0.1),
        pytest.approx(13.0, abs=0.1),
        0.0,
    )
    assert result.current_range == (3.75, 4.00)


def test_december_2025_with_the_shipped_schedule():
    # October 29 was a meeting, November had none: the shipped schedule keeps Nov an anchor.
    schedule = [meeting.date for meeting in default_schedule()]
    (meeting,) = fedwatch(
        {(2025, 11): 96.11, (2025, 12): DEC_PRICE}, [date(2025, 12, 10)], schedule=schedule
    ).meetings
    assert meeting.anchor == "previous_month"
    assert _as_dict(meeting.outcomes)[-25] == pytest.approx(87.0, abs=0.1)


# --- The current-month rule -----------------------------------------------------------------


def test_quoted_meeting_free_month_before_beats_the_published_rate():
    (meeting,) = fedwatch(
        {(2025, 11): 96.11, (2025, 12): DEC_PRICE}, [date(2025, 12, 10)], start_rate=3.95
    ).meetings
    assert meeting.anchor == "previous_month"
    assert meeting.start_rate == pytest.approx(3.89, abs=1e-12)


def test_published_rate_starts_the_first_meeting_without_an_earlier_anchor():
    # No November quote: the EFFR 3.89 is the start, and gives the same 87 %.
    (meeting,) = fedwatch({(2025, 12): DEC_PRICE}, [date(2025, 12, 10)], start_rate=3.89).meetings
    assert meeting.anchor == "start_rate"
    assert meeting.start_rate == 3.89
    assert _as_dict(meeting.outcomes)[-25] == pytest.approx(87.0, abs=0.1)


def test_published_rate_starts_only_the_first_meeting():
    # Two meetings, no November: Dec starts at the EFFR, Jan still takes its end from Feb.
    futures = {
        (2025, 12): DEC_PRICE,
        (2026, 1): 100 - 113.5975 / 31,
        (2026, 2): 96.39,
    }
    dec, jan = fedwatch(futures, [date(2025, 12, 10), date(2026, 1, 28)], start_rate=3.89).meetings
    assert (dec.anchor, jan.anchor) == ("start_rate", "next_month")
    assert jan.start_rate == pytest.approx(3.6725, abs=1e-9)


def test_a_meeting_free_month_after_beats_the_published_rate():
    # Pricing Jan 28 2026 alone while December held a meeting: February (no meeting) gives the
    # end and January's own contract the start, whatever the published rate says.
    schedule = [date(2025, 12, 10), date(2026, 1, 28)]
    futures = {(2025, 12): 96.0, (2026, 1): 100 - 113.5975 / 31, (2026, 2): 96.39}
    for start_rate in (None, 3.6725, 3.70):
        (meeting,) = fedwatch(
            futures, [date(2026, 1, 28)], start_rate=start_rate, schedule=schedule
        ).meetings
        assert meeting.anchor == "next_month"
        assert meeting.start_rate == pytest.approx(3.6725, abs=1e-9)
        _assert_distribution(meeting.outcomes, {-25: 25.0, 0: 75.0}, tol=1e-7)


def test_first_meeting_after_a_meeting_month_uses_the_published_rate_without_february():
    # Neither neighbour anchors (December held a meeting, February is not quoted): the EFFR.
    schedule = [date(2025, 12, 10), date(2026, 1, 28)]
    futures = {(2025, 12): 96.0, (2026, 1): 100 - 113.5975 / 31}
    (meeting,) = fedwatch(
        futures, [date(2026, 1, 28)], start_rate=3.6725, schedule=schedule
    ).meetings
    assert meeting.anchor == "start_rate"
    # end = (113.5975 / 31 - 27/31 * 3.6725) / (4/31) = 3.61: a 25 % chance of a cut.
    assert meeting.end_rate == pytest.approx(3.61, abs=1e-9)
    _assert_distribution(meeting.outcomes, {-25: 25.0, 0: 75.0}, tol=1e-7)


def test_april_2026_meeting_takes_its_end_from_may_not_the_effr():
    # The case: Apr 29 2026 (N 30, M 28) after the March meeting; April 96.373333
    # (average 3.626667), May (no meeting) 96.42 -> 3.58 = the rate after the meeting.
    # start = (3.626667 - 2/30 * 3.58) / (28/30) = 3.63; move -5 bp: a 20 % chance of a cut.
    # Starting from the EFFR 3.64 instead: end = (3.626667 - 28/30 * 3.64) / (2/30) = 3.44,
    # an 80 % cut: a 1 bp gap between the futures and the EFFR multiplied by 15.
    schedule = [meeting.date for meeting in default_schedule()]
    result = fedwatch(
        {(2026, 4): 96.373333, (2026, 5): 96.42},
        [date(2026, 4, 29)],
        start_rate=3.64,
        current_range=(3.50, 3.75),
        schedule=schedule,
    )
    (meeting,) = result.meetings
    assert meeting.anchor == "next_month"
    assert meeting.start_rate == pytest.approx(3.63, abs=1e-5)
    assert meeting.end_rate == pytest.approx(3.58, abs=1e-12)
    assert meeting.cut_pct == pytest.approx(20.0, abs=0.01)
    assert meeting.hold_pct == pytest.approx(80.0, abs=0.01)


def test_a_late_meeting_between_two_meeting_free_months_takes_its_end_from_the_next():
    # Meeting 30 Oct 2030 (N 31, M 29) between a meeting-free September (95.75 -> 4.25) and
    # a meeting-free November (96.00 -> 4.00); October priced for a cut to 4.00.
    october = 100 - (29 * 4.25 + 2 * 4.00) / 31
    futures = {(2030, 9): 95.75, (2030, 10): october, (2030, 11): 96.00}
    (meeting,) = fedwatch(futures, [date(2030, 10, 30)]).meetings
    assert meeting.anchor == "next_month"
    assert (meeting.start_rate, meeting.end_rate) == (pytest.approx(4.25), pytest.approx(4.00))
    _assert_distribution(meeting.outcomes, {-25: 100.0}, tol=1e-7)
    # A tick lower October price (+0.0025 on the average) now moves the start by
    # 0.0025 * 31 / 29 = 0.00267: k = (4.00 - 4.2526724) / 0.25 = -1.0106897, where solving the
    # end from September would have moved it by 0.0025 * 31 / 2 (84.5 % of a cut).
    ticked = dict(futures) | {(2030, 10): october - 0.0025}
    (noisy,) = fedwatch(ticked, [date(2030, 10, 30)]).meetings
    assert noisy.start_rate == pytest.approx(4.25 + 0.0025 * 31 / 29, abs=1e-9)
    _assert_distribution(noisy.outcomes, {-25: 98.93103, -50: 1.06897}, tol=1e-4)


def test_schedule_stops_a_meeting_month_from_anchoring():
    # If August 2015 had held a meeting, its average mixes two rates and must not be a start.
    futures = {(2015, 8): 99.8675, (2015, 9): 99.805}
    with pytest.raises(FedWatchError, match="start rate"):
        fedwatch(futures, [date(2015, 9, 17)], schedule=[date(2015, 8, 20)])
    (meeting,) = fedwatch(
        futures, [date(2015, 9, 17)], schedule=[date(2015, 8, 20)], start_rate=0.1325
    ).meetings
    assert meeting.anchor == "start_rate"
    assert _as_dict(meeting.outcomes)[25] == pytest.approx(53.6, abs=0.05)


# --- Errors ---------------------------------------------------------------------------------


def test_missing_meeting_month_contract_is_named():
    futures = {(2025, 11): 96.11, (2025, 12): DEC_PRICE}
    with pytest.raises(FedWatchError, match="no ZQ contract for Jan 2026"):
        fedwatch(futures, [date(2025, 12, 10), date(2026, 1, 28)])


def test_missing_anchor_is_named():
    with pytest.raises(FedWatchError, match=r"Nov 2025 contract or a start rate"):
        fedwatch({(2025, 12): DEC_PRICE}, [date(2025, 12, 10)])


def test_missing_anchor_in_a_chain_names_the_months_it_needs():
    # Pricing Jan 28 alone (Dec 10 known from the schedule): Jan needs a start rate, Feb, or
    # a priced December, and December in turn needs November. The message carries all of it.
    futures = {(2025, 12): DEC_PRICE, (2026, 1): 96.3}
    with pytest.raises(FedWatchError) as caught:
        fedwatch(futures, [date(2026, 1, 28)], schedule=[date(2025, 12, 10)])
    message = str(caught.value)
    assert message.startswith("cannot price the 2026-01-28 meeting")
    for needed in ("a start rate", "a Feb 2026 contract", "2025-12-10", "a Nov 2025 contract"):
        assert needed in message
    # In date order the first meeting that cannot be priced is the one reported.
    with pytest.raises(FedWatchError, match=r"^cannot price the 2025-12-10 meeting"):
        fedwatch(futures, [date(2025, 12, 10), date(2026, 1, 28)])


@pytest.mark.parametrize(
    "price", [0.0, -1.0, 100.5, math.nan, math.inf, -math.inf, "96.1", None, True]
)
def test_bad_prices_are_rejected_with_the_month(price):
    with pytest.raises(FedWatchError, match="Dec 2025"):
        fedwatch({(2025, 11): 96.11, (2025, 12): price}, [date(2025, 12, 10)])


def test_numpy_prices_are_numbers():
    (meeting,) = fedwatch(
        {(2025, 11): np.float64(96.11), (2025, 12): np.float32(DEC_PRICE)},  # type: ignore[dict-item]
        [date(2025, 12, 10)],
    ).meetings
    assert _as_dict(meeting.outcomes)[-25] == pytest.approx(87.0, abs=0.1)


def test_price_of_exactly_100_is_a_zero_rate():
    (meeting,) = fedwatch({(2020, 3): 100.0, (2020, 4): 100.0}, [date(2020, 4, 29)]).meetings
    assert (meeting.start_rate, meeting.end_rate) == (0.0, 0.0)
    assert meeting.outcomes == ((0, 100.0),)


def test_other_bad_inputs():
    futures = {(2025, 11): 96.11, (2025, 12): DEC_PRICE}
    with pytest.raises(FedWatchError, match="two meetings in Dec 2025"):
        fedwatch(futures, [date(2025, 12, 10), date(2025, 12, 17)])
    with pytest.raises(FedWatchError, match="not positive"):
        fedwatch(futures, [date(2025, 12, 10)], step_bp=0)
    with pytest.raises(FedWatchError, match="target range"):
        fedwatch(futures, [date(2025, 12, 10)], current_range=(4.0, 3.75))
    with pytest.raises(FedWatchError, match="start rate"):
        fedwatch(futures, [date(2025, 12, 10)], start_rate=math.nan)
    with pytest.raises(FedWatchError, match="calendar month"):
        fedwatch({(2025, 13): 96.0}, [date(2025, 12, 10)])


def test_no_meetings_gives_an_empty_result():
    result = fedwatch({(2025, 11): 96.11}, [], current_range=(3.75, 4.0))
    assert result.meetings == ()
    assert result.current_range == (3.75, 4.0)


def test_meetings_are_priced_in_date_order():
    futures = {
        (2025, 11): 96.11,
        (2025, 12): DEC_PRICE,
        (2026, 1): 100 - 113.5975 / 31,
        (2026, 2): 96.39,
    }
    ordered = fedwatch(futures, [date(2025, 12, 10), date(2026, 1, 28)])
    shuffled = fedwatch(futures, [date(2026, 1, 28), date(2025, 12, 10)])
    assert shuffled == ordered
    assert [m.date for m in ordered.meetings] == [date(2025, 12, 10), date(2026, 1, 28)]


# --- The pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (0.0, ((0, 1.0),)),
        (1.0, ((1, 1.0),)),
        (-1.0, ((-1, 1.0),)),
        (0.25, ((0, 0.75), (1, 0.25))),
        (-0.25, ((-1, 0.25), (0, 0.75))),
        (-2.25, ((-3, 0.25), (-2, 0.75))),
        (2.5, ((2, 0.5), (3, 0.5))),
        (1 - 1e-12, ((1, 1.0),)),  # float noise is not a branch
    ],
)
def test_move_distribution(k, expected):
    got = move_distribution(k)
    assert [steps for steps, _ in got] == [steps for steps, _ in expected]
    assert [p for _, p in got] == pytest.approx([p for _, p in expected], abs=1e-12)


def test_target_ranges_use_whole_basis_points():
    ranges = target_ranges([(-50, 10.0), (-25, 60.0), (0, 30.0)], (3.75, 4.00))
    assert [(r.lower, r.upper) for r in ranges] == [(3.25, 3.50), (3.50, 3.75), (3.75, 4.00)]
    assert [r.probability_pct for r in ranges] == [10.0, 60.0, 30.0]


# --- Properties -----------------------------------------------------------------------------


def _shift(month, by):
    index = month[0] * 12 + month[1] - 1 + by
    return index // 12, index % 12 + 1


@st.composite
def scenarios(draw):
    """A window of months with meetings on random days, every month around it quoted."""
    first = (draw(st.integers(2000, 2090)), draw(st.integers(1, 12)))
    length = draw(st.integers(1, 12))
    months = [_shift(first, i) for i in range(length)]
    held = draw(st.lists(st.booleans(), min_size=length, max_size=length))
    held[draw(st.integers(0, length - 1))] = True
    meetings = []
    for (year, month), has_meeting in zip(months, held, strict=True):
        if has_meeting:
            last = calendar.monthrange(year, month)[1]
            meetings.append(date(year, month, draw(st.integers(1, last))))
    quoted = [_shift(first, i) for i in range(-1, length + 1)]
    price = st.floats(min_value=90.0, max_value=100.0, allow_nan=False)
    futures = {month: draw(price) for month in quoted}
    start_rate = draw(st.none() | st.floats(min_value=0.0, max_value=10.0))
    if start_rate is not None and draw(st.booleans()):
        # The published rate must carry the first meeting when nothing quotes the month before.
        del futures[_shift((meetings[0].year, meetings[0].month), -1)]
    return futures, meetings, start_rate


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_distributions_are_probabilities_with_the_implied_mean(scenario):
    futures, meetings, start_rate = scenario
    result = fedwatch(futures, meetings, start_rate=start_rate, current_range=(3.75, 4.00))
    assert [m.date for m in result.meetings] == meetings
    running_expected = 0.0
    for meeting in result.meetings:
        for pairs in (meeting.outcomes, meeting.cumulative):
            assert all(0.0 <= pct <= 100.0 for _, pct in pairs)
            assert sum(pct for _, pct in pairs) == pytest.approx(100.0, abs=1e-9)
            assert all(change % 25 == 0 for change, _ in pairs)
        implied_bp = (meeting.end_rate - meeting.start_rate) * 100
        assert meeting.expected_change_bp == pytest.approx(implied_bp, rel=1e-12, abs=1e-9)
        outcome_mean = sum(change * pct for change, pct in meeting.outcomes) / 100
        assert outcome_mean == pytest.approx(implied_bp, rel=1e-9, abs=1e-6)
        running_expected += meeting.expected_change_bp
        cumulative_mean = sum(change * pct for change, pct in meeting.cumulative) / 100
        assert cumulative_mean == pytest.approx(running_expected, rel=1e-9, abs=1e-6)
        assert meeting.cut_pct + meeting.hold_pct + meeting.hike_pct == pytest.approx(100.0)
        assert sum(r.probability_pct for r in meeting.ranges) == pytest.approx(100.0)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_implied_rates_reproduce_each_meeting_months_average(scenario):
    futures, meetings, start_rate = scenario
    for meeting in fedwatch(futures, meetings, start_rate=start_rate).meetings:
        before, days = meeting_weights(meeting.date)
        average = (before * meeting.start_rate + (days - before) * meeting.end_rate) / days
        expected = 100 - futures[(meeting.date.year, meeting.date.month)]
        assert average == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    first_year=st.integers(2000, 2090),
    first_month=st.integers(1, 12),
    days=st.lists(st.integers(1, 28), min_size=1, max_size=6),
    data=st.data(),
)
def test_a_block_of_meeting_months_matches_a_linear_solve(first_year, first_month, days, data):
    # A second method: the rates r1..rL of a block of consecutive meeting months with only a
    # left anchor r0 solve the lower-bidiagonal system a_j r_(j-1) + (1 - a_j) r_j = avg_j.
    months = [_shift((first_year, first_month), i) for i in range(len(days))]
    meetings = [date(y, m, d) for (y, m), d in zip(months, days, strict=True)]
    price = st.floats(min_value=94.0, max_value=99.0, allow_nan=False)
    anchor = data.draw(price)
    futures = {_shift(months[0], -1): anchor} | {month: data.draw(price) for month in months}
    size = len(meetings)
    matrix = np.zeros((size, size))
    rhs = np.array([100 - futures[month] for month in months])
    for j, meeting in enumerate(meetings):
        before, length = meeting_weights(meeting)
        weight = before / length
        matrix[j, j] = 1 - weight
        if j == 0:
            rhs[0] -= weight * (100 - anchor)
        else:
            matrix[j, j - 1] = weight
    solved = np.linalg.solve(matrix, rhs)
    result = fedwatch(futures, meetings).meetings
    ends = [meeting.end_rate for meeting in result]
    assert ends == pytest.approx(list(solved), rel=1e-9, abs=1e-9)
    starts = [meeting.start_rate for meeting in result]
    assert starts == pytest.approx([100 - anchor, *solved[:-1]], rel=1e-9, abs=1e-9)


# --- A steady gap between the futures and the EFFR cancels ------------------------------------


def _month_average(month, path):
    """The average rate of ``month`` for a path [(decision day, rate after it)], flat before."""
    year, number = month
    days = calendar.monthrange(year, number)[1]
    total = 0.0
    for day in range(1, days + 1):
        today = date(year, number, day)
        rate = path[0][1]
        for decided, after in path[1:]:
            if decided <= today:  # the decision day runs at the new rate
                rate = after
        total += rate
    return total / days


@settings(max_examples=150, deadline=None)
@given(
    first=st.integers(0, 14),
    count=st.integers(1, 8),
    start=st.floats(min_value=2.0, max_value=5.0),
    moves=st.lists(st.floats(min_value=-0.5, max_value=0.25), min_size=8, max_size=8),
    gap_bp=st.floats(min_value=1.0, max_value=2.0) | st.floats(min_value=-2.0, max_value=-1.0),
)
def test_a_steady_gap_between_futures_and_effr_moves_no_odds_beyond_2pp(
    first, count, start, moves, gap_bp
):
    # The live chain: today's EFFR is the start, and every month from the one before the first
    # upcoming meeting to the one after the last is quoted (what capgap polls). The futures
    # price a path exactly; then every futures rate sits gap_bp above (or below) that path,
    # the EFFR not. Only differences of futures rates should matter.
    schedule = [m.date for m in default_schedule() if date(2026, 1, 1) <= m.date]
    priced = schedule[first : first + count]
    path = [(date(1900, 1, 1), start)]
    rate = start
    for day, move in zip(priced, moves, strict=False):
        # A futures price is at most 100: the path stays at or above a quarter point, so
        # that even a 2 bp gap below it is a price the exchange could quote.
        rate = max(rate + move, 0.25)
        path.append((day, rate))
    months = [_shift((priced[0].year, priced[0].month), -1)]
    while months[-1] <= (priced[-1].year, priced[-1].month):
        months.append(_shift(months[-1], 1))
    exact = {month: 100 - _month_average(month, path) for month in months}
    shifted = {month: price - gap_bp / 100 for month, price in exact.items()}
    known = [m.date for m in default_schedule()]
    baseline = fedwatch(exact, priced, start_rate=start, current_range=(3.5, 3.75), schedule=known)
    gapped = fedwatch(shifted, priced, start_rate=start, current_range=(3.5, 3.75), schedule=known)
    for plain, moved in zip(baseline.meetings, gapped.meetings, strict=True):
        for attribute in ("cut_pct", "hold_pct", "hike_pct"):
            assert abs(getattr(plain, attribute) - getattr(moved, attribute)) <= 2.0, (
                plain.date,
                plain.anchor,
                attribute,
            )


def test_path_moves_are_differences_of_the_rates_as_shown():
    # 3.6725 shows as 3.672 or 3.673 depending on its binary value; the moves follow the
    # shown (rounded) rates so that they add up: 3.890 -> 3.6726 (3.673) -> 3.6104 (3.610).
    assert path_moves(3.89, [3.6726, 3.6104]) == ((-21.7, -21.7), (-6.3, -28.0))
    assert path_moves(3.89, []) == ()
    moves = path_moves(4.0, [3.91234, 3.70049, 3.80011, 3.1])
    assert sum(move for move, _total in moves) == pytest.approx(moves[-1][1], abs=1e-9)
