"""The alert monitor: each rule fires once per crossing, with hysteresis, over hand-built ticks."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from builders import sector_leg, sparse_snapshot
from capgap.alerts.watch import (
    GAP_HYSTERESIS_PP,
    ODDS_HYSTERESIS_PP,
    RATIO_HYSTERESIS,
    SECTOR_HYSTERESIS_PP,
    Alert,
    AlertMonitor,
)
from capgap.core import records
from capgap.core.market_types import FomcDecision
from capgap.core.snapshot import (
    FeedStatus,
    MeetingOdds,
    SectorRow,
    Snapshot,
)
from capgap.settings.alert_rules import (
    AlertRule,
    FedOddsMove,
    FeedDown,
    FomcSoon,
    SectorSpread,
    SpreadCross,
)
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)  # Fri 5 Dec 2025, 10:00 in New York
# Wed 10 Dec 2025 14:00 EST is 19:00 UTC; Wed 28 Jan 2026 14:00 EST is 19:00 UTC.
DEC_10 = FomcDecision(date(2025, 12, 10), datetime(2025, 12, 10, 19, 0, tzinfo=UTC), 0, False)
JAN_28 = FomcDecision(date(2026, 1, 28), datetime(2026, 1, 28, 19, 0, tzinfo=UTC), 0, False)


def snap(
    as_of: datetime = T0,
    *,
    gap: float | None = -0.2,
    ratio: float | None = 0.367,
    sectors: dict[str, float | None] | None = None,
    feeds: Sequence[FeedStatus] = (),
    decision: FomcDecision | None = DEC_10,
) -> Snapshot:
    """Build a snapshot with only the figures the rules read set to something meaningful."""
    rows = tuple(
        SectorRow(
            sector=name,
            tag="cyclical",
            large=sector_leg(0.0, "XLI"),
            small=sector_leg(spread, "PSCI"),
            spread_pp=spread,
            breadth_pct=None,
            leaders=(),
            laggards=(),
        )
        for name, spread in (sectors or {}).items()
    )
    return sparse_snapshot(
        as_of, gap=gap, ratio=ratio, sectors=rows, feeds=feeds, decision=decision
    )


def run(monitor: AlertMonitor, snapshots: Sequence[Snapshot]) -> list[list[str]]:
    """Feed the snapshots in order; return each tick's alert messages."""
    return [[alert.message for alert in monitor.check(one)] for one in snapshots]


def gaps(rule: SpreadCross, values: Sequence[float | None]) -> list[list[str]]:
    return run(AlertMonitor([rule]), [snap(gap=value) for value in values])


def test_hysteresis_constants_are_the_documented_margins():
    assert (GAP_HYSTERESIS_PP, RATIO_HYSTERESIS, SECTOR_HYSTERESIS_PP) == (0.05, 0.0005, 0.05)


# Spread crossings ----------------------------------------------------------------------------


def test_crossing_above_fires_once_and_not_on_later_ticks():
    ticks = gaps(SpreadCross(-0.5, direction="above"), [-0.70, -0.60, -0.45, -0.40, -0.30, -0.42])
    assert ticks == [[], [], ["RUT-SPX gap crossed above -0.50 pp: now -0.45 pp"], [], [], []]


def test_the_first_value_sets_the_side_and_never_fires_a_crossing():
    # Already above the level when the monitor starts: no before, so no crossing.
    assert gaps(SpreadCross(-0.5, direction="above"), [-0.30, -0.20, -0.25]) == [[], [], []]
    assert gaps(SpreadCross(-0.5, direction="below"), [-0.90, -0.95]) == [[], []]
    # The first value below the level arms the upward crossing, however close to the level.
    assert gaps(SpreadCross(-0.5, direction="above"), [-0.51, -0.49])[1] == [
        "RUT-SPX gap crossed above -0.50 pp: now -0.49 pp"
    ]


def test_noise_within_the_margin_does_not_fire_again():
    values = [-0.60, -0.49, -0.51, -0.49, -0.54, -0.48, -0.53, -0.47]
    ticks = gaps(SpreadCross(-0.5, direction="above"), values)
    assert [len(tick) for tick in ticks] == [0, 1, 0, 0, 0, 0, 0, 0]


def test_a_re_cross_beyond_the_margin_fires_again():
    # -0.56 is below -0.50 - 0.05: the rule re-arms, and the next rise past -0.50 fires.
    values = [-0.60, -0.49, -0.56, -0.52, -0.49, -0.40]
    ticks = gaps(SpreadCross(-0.5, direction="above"), values)
    assert ticks == [
        [],
        ["RUT-SPX gap crossed above -0.50 pp: now -0.49 pp"],
        [],
        [],
        ["RUT-SPX gap crossed above -0.50 pp: now -0.49 pp"],
        [],
    ]


def test_above_and_below_rules_ignore_the_other_direction():
    values = [-0.30, -0.70, -0.30, -0.70]
    above = gaps(SpreadCross(-0.5, direction="above"), values)
    below = gaps(SpreadCross(-0.5, direction="below"), values)
    assert [len(tick) for tick in above] == [0, 0, 1, 0]
    assert below == [
        [],
        ["RUT-SPX gap crossed below -0.50 pp: now -0.70 pp"],
        [],
        ["RUT-SPX gap crossed below -0.50 pp: now -0.70 pp"],
    ]


def test_either_fires_on_both_directions_once_each():
    values = [-0.30, -0.60, -0.58, -0.40, -0.44, -0.52, -0.51]
    ticks = gaps(SpreadCross(-0.5, direction="either"), values)
    assert ticks == [
        [],
        ["RUT-SPX gap crossed below -0.50 pp: now -0.60 pp"],
        [],
        ["RUT-SPX gap crossed above -0.50 pp: now -0.40 pp"],
        [],
        ["RUT-SPX gap crossed below -0.50 pp: now -0.52 pp"],
        [],
    ]


def test_either_does_not_flip_flop_on_noise_around_the_level():
    values = [-0.60, -0.49, -0.51, -0.49, -0.51, -0.49]
    ticks = gaps(SpreadCross(-0.5), values)  # "either" is the default
    assert [len(tick) for tick in ticks] == [0, 1, 0, 0, 0, 0]


def test_a_jump_straight_through_both_margins_fires_each_way():
    ticks = gaps(SpreadCross(0.0), [-0.3, 0.3, -0.3])
    assert ticks == [
        [],
        ["RUT-SPX gap crossed above 0.00 pp: now +0.30 pp"],
        ["RUT-SPX gap crossed below 0.00 pp: now -0.30 pp"],
    ]


def test_missing_values_neither_fire_nor_change_the_armed_state():
    rule = SpreadCross(-0.5, direction="above")
    # A gap in the data between below and above still completes the crossing.
    assert [len(t) for t in gaps(rule, [-0.60, None, None, -0.40])] == [0, 0, 0, 1]
    # None first: the first real value sets the side.
    assert [len(t) for t in gaps(rule, [None, -0.40, -0.30])] == [0, 0, 0]
    # After a fire, a None does not re-arm.
    assert [len(t) for t in gaps(rule, [-0.60, -0.40, None, -0.30, -0.20])] == [0, 1, 0, 0, 0]
    # NaN is treated as missing.
    assert [len(t) for t in gaps(rule, [-0.60, float("nan"), -0.40])] == [0, 0, 1]


def test_the_ratio_crosses_with_its_own_margin():
    rule = SpreadCross(0.365, metric="ratio", direction="above")
    values = [0.3640, 0.3652, 0.3647, 0.3655, 0.3644, 0.3651]
    ticks = run(AlertMonitor([rule]), [snap(ratio=value) for value in values])
    assert ticks == [
        [],
        ["RUT/SPX ratio crossed above 0.3650: now 0.3652"],
        [],  # 0.3647 is within 0.0005 of the level: not re-armed
        [],
        [],  # 0.3644 re-arms
        ["RUT/SPX ratio crossed above 0.3650: now 0.3651"],
    ]


def test_the_ratio_rule_ignores_the_gap_and_the_other_way_round():
    ratio_rule = SpreadCross(0.365, metric="ratio")
    gap_rule = SpreadCross(-0.5)
    ticks = run(
        AlertMonitor([ratio_rule, gap_rule]),
        [snap(gap=-0.6, ratio=0.36), snap(gap=-0.6, ratio=0.37), snap(gap=-0.4, ratio=0.37)],
    )
    assert ticks == [
        [],
        ["RUT/SPX ratio crossed above 0.3650: now 0.3700"],
        ["RUT-SPX gap crossed above -0.50 pp: now -0.40 pp"],
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.floats(-1.0, 0.0).map(lambda v: round(v, 3))),
        min_size=1,
        max_size=40,
    )
)
def test_upward_crossings_obey_the_hysteresis_rules(values):
    level, margin = -0.5, GAP_HYSTERESIS_PP
    ticks = gaps(SpreadCross(level, direction="above"), values)
    seen = [(i, v) for i, v in enumerate(values) if v is not None]
    fired_at = [i for i, tick in enumerate(ticks) if tick]
    for i in fired_at:
        assert values[i] is not None and values[i] > level
        before = [v for j, v in seen if j < i]
        # Something came before, and the tick before was not above the level already.
        assert before and before[-1] <= level
    for first, second in itertools.pairwise(fired_at):
        # Between two fires the value went back below the level by the margin.
        assert any(v < level - margin for j, v in seen if first < j < second)
    for (_, prev), (j, v) in itertools.pairwise(seen):
        if prev < level - margin and v > level:
            assert j in fired_at  # a clear move from below to above always fires


# Sector spreads ------------------------------------------------------------------------------


def sector_ticks(rule: SectorSpread, values: Sequence[float | None]) -> list[list[str]]:
    snapshots = [snap(sectors={"Industrials": v, "Energy": 5.0}) for v in values]
    return run(AlertMonitor([rule]), snapshots)


def test_a_sector_beyond_the_band_fires_once_and_re_arms_inside_it():
    values = [1.0, 1.63, 1.70, 1.47, 1.60, 1.40, 1.55]
    ticks = sector_ticks(SectorSpread("Industrials", 1.5), values)
    assert ticks == [
        [],
        ["Industrials small-large spread +1.63 pp beyond 1.50 pp"],
        [],
        [],  # 1.47 is within 0.05 pp of the band: not re-armed
        [],
        [],  # 1.40 re-arms
        ["Industrials small-large spread +1.55 pp beyond 1.50 pp"],
    ]


def test_a_sector_below_minus_the_band_fires_too():
    ticks = sector_ticks(SectorSpread("Industrials", 1.5), [-1.2, -1.63, -1.8, -1.46, -1.6])
    assert ticks == [[], ["Industrials small-large spread -1.63 pp beyond -1.50 pp"], [], [], []]


def test_a_sector_condition_fires_on_the_first_snapshot_where_it_holds():
    ticks = sector_ticks(SectorSpread("Industrials", 1.5), [2.0, 2.1])
    assert ticks == [["Industrials small-large spread +2.00 pp beyond 1.50 pp"], []]


def test_a_sector_jumping_from_one_side_to_the_other_fires_each_side():
    ticks = sector_ticks(SectorSpread("Industrials", 1.5), [1.6, -1.6, 1.6])
    assert ticks == [
        ["Industrials small-large spread +1.60 pp beyond 1.50 pp"],
        ["Industrials small-large spread -1.60 pp beyond -1.50 pp"],
        ["Industrials small-large spread +1.60 pp beyond 1.50 pp"],
    ]


def test_sector_rules_read_only_their_sector_and_skip_missing_values():
    # Energy sits at +5 pp throughout; the Industrials rule never looks at it.
    assert sector_ticks(SectorSpread("Industrials", 1.5), [0.2, 0.3]) == [[], []]
    # None keeps the fired state: no second alert after the gap in the data.
    ticks = sector_ticks(SectorSpread("Industrials", 1.5), [1.6, None, 1.7])
    assert [len(tick) for tick in ticks] == [1, 0, 0]
    # A sector absent from the snapshot changes nothing either.
    monitor = AlertMonitor([SectorSpread("Industrials", 1.5)])
    ticks = run(
        monitor, [snap(sectors={"Industrials": 1.6}), snap(), snap(sectors={"Industrials": 1.7})]
    )
    assert [len(tick) for tick in ticks] == [1, 0, 0]
    # The sector name matches regardless of case (a hand-written config).
    assert len(sector_ticks(SectorSpread("industrials", 1.5), [1.6])[0]) == 1


# FOMC ---------------------------------------------------------------------------------------


def fomc_ticks(rule: FomcSoon, moments: Sequence[tuple[datetime, FomcDecision | None]]):
    return run(AlertMonitor([rule]), [snap(at, decision=d) for at, d in moments])


def test_fomc_within_the_window_fires_once_as_the_clock_moves():
    statement = DEC_10.statement_at
    moments = [statement - timedelta(minutes=m) for m in (60, 31, 30, 28, 10)]
    moments += [statement]  # the statement itself: still this decision, already announced
    ticks = fomc_ticks(FomcSoon(30), [(at, DEC_10) for at in moments])
    assert ticks == [[], [], ["FOMC decision in 30m (Wed 10 Dec 14:00 ET)"], [], [], []]


def test_fomc_re_arms_for_the_next_decision():
    statement = DEC_10.statement_at
    ticks = fomc_ticks(
        FomcSoon(30),
        [
            (statement - timedelta(minutes=28), DEC_10),
            (statement + timedelta(minutes=1), JAN_28),
            (JAN_28.statement_at - timedelta(minutes=45), JAN_28),
            (JAN_28.statement_at - timedelta(minutes=20, seconds=30), JAN_28),
            (JAN_28.statement_at - timedelta(minutes=5), JAN_28),
        ],
    )
    assert ticks == [
        ["FOMC decision in 28m (Wed 10 Dec 14:00 ET)"],
        [],
        [],
        ["FOMC decision in 20m (Wed 28 Jan 14:00 ET)"],
        [],
    ]


def test_fomc_window_in_hours_and_summer_time():
    # 30 Jul 2025 14:00 EDT is 18:00 UTC: the message shows New York time, not UTC.
    july = FomcDecision(date(2025, 7, 30), datetime(2025, 7, 30, 18, 0, tzinfo=UTC), 0, False)
    at = july.statement_at - timedelta(hours=23, minutes=30)
    assert fomc_ticks(FomcSoon(24 * 60), [(at, july)]) == [
        ["FOMC decision in 23h30m (Wed 30 Jul 14:00 ET)"]
    ]


def test_fomc_without_a_next_decision_changes_nothing():
    statement = DEC_10.statement_at
    ticks = fomc_ticks(
        FomcSoon(30),
        [
            (statement - timedelta(minutes=20), DEC_10),
            (statement - timedelta(minutes=15), None),
            (statement - timedelta(minutes=10), DEC_10),
        ],
    )
    assert [len(tick) for tick in ticks] == [1, 0, 0]


# Feeds --------------------------------------------------------------------------------------


def feed(name: str, state: str, last_success: datetime | None, error: str | None = None):
    return FeedStatus(name, state, last_success, None, error)  # type: ignore[arg-type]


def test_a_feed_down_for_n_minutes_fires_once_per_outage():
    ok_at = T0
    steps = [
        (0, "ok", ok_at, None),
        (2, "down", ok_at, "HTTP 503"),
        (4.99, "down", ok_at, "HTTP 503"),
        (5, "down", ok_at, "HTTP 503"),
        (6, "down", ok_at, "timeout"),
        (7, "degraded", ok_at, "HTTP 429"),  # degraded is not the end of the outage
        (8, "down", ok_at, "HTTP 503"),
        (9, "ok", T0 + timedelta(minutes=9), None),
        (10, "down", T0 + timedelta(minutes=9), "reset"),
        (13.5, "down", T0 + timedelta(minutes=9), "reset"),
        (14, "down", T0 + timedelta(minutes=9), "reset"),
    ]
    snapshots = [
        snap(T0 + timedelta(minutes=m), feeds=[feed("yahoo", state, last, error)])
        for m, state, last, error in steps
    ]
    ticks = run(AlertMonitor([FeedDown(5)]), snapshots)
    assert ticks == [
        [],
        [],
        [],
        ["yahoo down for 5m: HTTP 503"],
        [],
        [],
        [],
        [],
        [],
        [],
        ["yahoo down for 5m: reset"],
    ]


def test_a_feed_that_never_succeeded_is_timed_from_when_it_was_first_seen_down():
    steps = [(0, "down"), (3, "down"), (5, "down"), (6, "down")]
    snapshots = [snap(T0 + timedelta(minutes=m), feeds=[feed("fred", s, None)]) for m, s in steps]
    assert run(AlertMonitor([FeedDown(5)]), snapshots) == [[], [], ["fred down for 5m"], []]


def test_feeds_are_watched_independently():
    base = T0 - timedelta(minutes=10)
    snapshots = [
        snap(T0, feeds=[feed("yahoo", "down", base, "HTTP 503"), feed("fred", "ok", T0)]),
        snap(
            T0 + timedelta(minutes=1),
            feeds=[feed("yahoo", "down", base, "HTTP 503"), feed("fred", "down", T0)],
        ),
        snap(
            T0 + timedelta(minutes=5),
            feeds=[feed("yahoo", "down", base, "HTTP 503"), feed("fred", "down", T0)],
        ),
    ]
    assert run(AlertMonitor([FeedDown(5)]), snapshots) == [
        ["yahoo down for 10m: HTTP 503"],
        [],
        ["fred down for 5m"],
    ]


# Several rules --------------------------------------------------------------------------------


def test_rules_are_independent_and_alerts_come_in_rule_order():
    rules: list[AlertRule] = [
        FeedDown(5),
        SpreadCross(-0.5, direction="above"),
        SectorSpread("Energy", 1.0),
        FomcSoon(60),
    ]
    near = DEC_10.statement_at - timedelta(minutes=50)
    snapshots = [
        snap(T0, gap=-0.6, sectors={"Energy": 0.5}),
        snap(T0 + timedelta(minutes=1), gap=-0.4, sectors={"Energy": 1.2}),
        snap(
            near,
            gap=-0.3,
            sectors={"Energy": 1.3},
            feeds=[feed("yahoo", "down", near - timedelta(minutes=6), "HTTP 503")],
        ),
    ]
    monitor = AlertMonitor(rules)
    alerts = [monitor.check(one) for one in snapshots]
    assert [[a.message for a in tick] for tick in alerts] == [
        [],
        [
            "RUT-SPX gap crossed above -0.50 pp: now -0.40 pp",
            "Energy small-large spread +1.20 pp beyond 1.00 pp",
        ],
        ["yahoo down for 6m: HTTP 503", "FOMC decision in 50m (Wed 10 Dec 14:00 ET)"],
    ]
    assert [a.rule for a in alerts[1]] == [rules[1], rules[2]]
    assert [(a.title, a.severity) for a in alerts[2]] == [
        ("yahoo down", "error"),
        ("FOMC decision", "warning"),
    ]


def test_two_equal_rules_keep_separate_state():
    rule = SpreadCross(-0.5, direction="above")
    monitor = AlertMonitor([rule, rule])
    assert [len(monitor.check(snap(gap=v))) for v in (-0.6, -0.4, -0.3)] == [0, 2, 0]


def test_an_alert_is_a_frozen_one_line_value():
    alert = AlertMonitor([SectorSpread("Energy", 1.0)]).check(snap(sectors={"Energy": 1.5}))[0]
    assert alert == Alert(
        SectorSpread("Energy", 1.0),
        "Energy spread",
        "Energy small-large spread +1.50 pp beyond 1.00 pp",
        "warning",
        1.5,
    )
    assert "\n" not in alert.message
    with pytest.raises(dataclasses.FrozenInstanceError):
        alert.message = "changed"  # type: ignore[misc]


# --- the next meeting's cut odds moving (FedOddsMove) ----------------------------------------


def odds_snap(as_of: datetime, cut: float | None, meeting: date = date(2025, 12, 10)) -> Snapshot:
    """A snapshot whose next meeting's cut odds are ``cut`` % (None: no odds at all)."""
    base = snap(as_of)
    if cut is None:
        return base
    odds = MeetingOdds(
        meeting=meeting,
        sep=True,
        cut_pct=cut,
        hold_pct=100.0 - cut,
        hike_pct=0.0,
        implied_rate=3.7,
        expected_change_bp=-cut / 4,
        outcomes=(),
        start_rate=3.89,
        anchor="previous_month",
        move_bp=0.0,
        total_bp=0.0,
    )
    return records.replace(base, fed=records.replace(base.fed, probabilities=(odds,)))


def odds_run(rule: FedOddsMove, path: Sequence[tuple[float, float | None]]) -> list[Alert]:
    """Feed (minutes after T0, cut %) snapshots in order; return every alert raised."""
    monitor = AlertMonitor([rule])
    fired: list[Alert] = []
    for minutes, cut in path:
        fired.extend(monitor.check(odds_snap(T0 + timedelta(minutes=minutes), cut)))
    return fired


def test_a_cut_odds_move_fires_once_when_it_reaches_pp_within_the_window():
    rule = FedOddsMove(pp=10.0, minutes=60.0)
    # 50 -> 55 -> 59.9: 9.9 pp, not yet; 61 at minute 30: 11 pp within the hour, fires; going
    # on to 70 fires nothing more (the move is under way, the rule waits).
    fired = odds_run(rule, [(0, 50.0), (10, 55.0), (20, 59.9), (30, 61.0), (40, 70.0)])
    assert [alert.value for alert in fired] == [pytest.approx(11.0)]
    assert fired[0].title == "Fed cut odds"
    assert fired[0].message == "Wed 10 Dec FOMC cut odds up +11.00 pp within 60 min: now 61.0 %"
    assert fired[0].severity == "warning" and fired[0].rule is rule


def test_a_slow_drift_never_fires_a_move_within_the_window():
    # 1 pp every 10 minutes: 6 pp an hour, 30 pp in five hours; never 10 pp within 60 minutes.
    path = [(10.0 * step, 40.0 + step) for step in range(31)]
    assert odds_run(FedOddsMove(pp=10.0, minutes=60.0), path) == []


def test_a_level_held_for_hours_still_counts_as_the_value_within_the_window():
    # Held at 50 for three hours (one change only, at minute 0), then 38 at 3h: -12 pp.
    fired = odds_run(FedOddsMove(pp=10.0, minutes=60.0), [(0, 50.0), (180, 50.0), (181, 38.0)])
    assert [alert.value for alert in fired] == [pytest.approx(-12.0)]
    assert "down -12.00 pp" in fired[0].message


def test_it_re_arms_only_once_the_move_within_the_window_is_back_under_pp_less_the_margin():
    rule = FedOddsMove(pp=10.0, minutes=60.0)
    assert ODDS_HYSTERESIS_PP == 1.0
    fired = odds_run(
        rule,
        [
            (0, 50.0),
            (5, 62.0),  # +12 within the hour: fires
            (30, 51.0),  # back: the hour still holds 50 and 62 (-11 from 62), no re-fire
            (70, 51.0),  # 62 was in force at the hour's start (10 min): -11, still waiting
            (100, 51.0),  # only 51 within the hour now: move 0, re-armed
            (110, 61.5),  # +10.5 from 51: fires again
        ],
    )
    assert [round(alert.value or 0, 6) for alert in fired] == [12.0, 10.5]


def test_noise_just_under_pp_does_not_re_arm_between_firings():
    rule = FedOddsMove(pp=10.0, minutes=60.0)
    # Fires at +10; the odds then wobble so the hour's move stays 9.5 (within the 1 pp margin
    # under pp): it stays disarmed, and the next 10 pp wobble fires nothing.
    path = [(0, 50.0), (1, 60.0), (30, 59.5), (61, 50.0), (62, 60.0), (70, 50.5), (90, 60.0)]
    assert len(odds_run(rule, path)) == 1


def test_a_new_next_meeting_starts_the_window_again_and_missing_odds_change_nothing():
    rule = FedOddsMove(pp=10.0, minutes=60.0)
    monitor = AlertMonitor([rule])
    assert monitor.check(odds_snap(T0, 87.0)) == []
    assert monitor.check(odds_snap(T0 + timedelta(minutes=1), None)) == []
    # After the December decision January is next: its 20 % is no move from December's 87 %.
    assert monitor.check(odds_snap(T0 + timedelta(minutes=2), 20.0, date(2026, 1, 28))) == []
    fired = monitor.check(odds_snap(T0 + timedelta(minutes=3), 31.0, date(2026, 1, 28)))
    assert [alert.value for alert in fired] == [pytest.approx(11.0)]
    assert "Wed 28 Jan" in fired[0].message
