"""The pure helpers behind the widgets, against hand-worked values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app_support import make_snapshot
from capgap.core.records import replace
from capgap.core.snapshot import (
    RECORDING_FEED,
    FeedStatus,
    RatioPoint,
    RelativePerformance,
    Valuation,
    empty_leg,
)
from capgap.ui.widgets.breadth_panel import LINE_WIDTH, breadth_content
from capgap.ui.widgets.fed_panel import countdown_text
from capgap.ui.widgets.keyed_table import ValueText, ordering_key
from capgap.ui.widgets.ratio_chart import history_key, month_ticks
from capgap.ui.widgets.spread_panel import spread_content, valuation_line, valuation_source
from capgap.ui.widgets.status_line import feed_variants, is_stale


def test_month_ticks_mark_odd_months_at_their_first_point() -> None:
    # 2025-09-01 .. 2025-12-05 daily: Nov 1 is day 61 (30 in Sep + 31 in Oct).
    days = [date(2025, 9, 1) + timedelta(days=i) for i in range(96)]
    assert month_ticks(days) == ([61.0], ["Nov"])
    # A year from 2024-12-02 has ticks at Jan, Mar, May, Jul, Sep, Nov.
    year = [date(2024, 12, 2) + timedelta(days=i) for i in range(368)]
    positions, labels = month_ticks(year)
    assert labels == ["Jan", "Mar", "May", "Jul", "Sep", "Nov"]
    assert [year[int(p)] for p in positions] == [date(2025, m, 1) for m in (1, 3, 5, 7, 9, 11)]


def test_history_key_ignores_moves_smaller_than_a_plot_step() -> None:
    def history(last: float) -> tuple[RatioPoint, ...]:
        days = [date(2025, 12, d) for d in (1, 2, 3, 4, 5)]
        return tuple(
            RatioPoint(d, r) for d, r in zip(days, (0.30, 0.40, 0.32, 0.38, last), strict=True)
        )

    # Range 0.30..0.40 on 10 rows = 20 half-row steps of 0.005: 0.35 is step 10.
    assert history_key(history(0.35), 10) == (5, date(2025, 12, 5), 0.30, 0.40, 10)
    assert history_key(history(0.3501), 10) == history_key(history(0.35), 10)
    assert history_key(history(0.3526), 10)[-1] == 11  # half a step further
    assert history_key(history(0.41), 10)[3] == 0.41  # a new high moves the scale
    # On a one-row plot the same half step is invisible.
    assert history_key(history(0.3526), 1) == history_key(history(0.35), 1)
    assert history_key((), 10) == (0, None, 0.0, 0.0, 0)


def test_ordering_key_puts_missing_values_last_both_ways() -> None:
    cells = [ValueText("a", 1.0), ValueText("b", None), ValueText("c", -2.0), ValueText("d", 3.0)]
    up = sorted(cells, key=ordering_key(False))
    down = sorted(cells, key=ordering_key(True), reverse=True)
    assert [c.plain for c in up] == ["c", "a", "d", "b"]
    assert [c.plain for c in down] == ["d", "a", "c", "b"]


def test_countdown_text() -> None:
    now = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)
    statement = datetime(2025, 12, 10, 19, 0, tzinfo=UTC)
    assert countdown_text(statement, now) == "in 05:03:00:00"
    assert countdown_text(statement, statement + timedelta(seconds=5)) == "in 00:00:00:00"
    assert countdown_text(None, now) == ""


def test_feed_variants_name_state_age_and_error() -> None:
    now = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)
    feeds = (
        FeedStatus(
            "yahoo", "degraded", now - timedelta(seconds=40), 40.0, "HTTP 429 [rate limited]"
        ),
        FeedStatus("nyfed", "ok", now, 1.0, None),
    )
    # The error keeps its brackets: data never goes through markup.
    assert [v.content.plain for v in feed_variants(feeds, now)] == [
        "yahoo degraded, ok 40s ago: HTTP 429 [rate limited] · nyfed ok",
        "yahoo degraded, ok 40s ago · nyfed ok",
        "yahoo degraded · nyfed ok",
        "yahoo degraded",
    ]
    assert [v.content.plain for v in feed_variants((), now)] == ["no feed"]


def test_a_followed_recording_shows_its_age_and_goes_stale() -> None:
    now = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)
    fresh = FeedStatus(
        RECORDING_FEED, "ok", now - timedelta(seconds=4), 4.0, None, stale_after_s=15.0
    )
    follow = FeedStatus("follow", "ok", now, 0.0, None)
    # The age moves with the clock the status line ticks, not the snapshot's instant.
    variants = [variant.content.plain for variant in feed_variants((follow, fresh), now)]
    # Where room allows one feed, the recording's age rather than "follow ok".
    assert variants == ["follow ok · recording 4s", "recording 4s"]
    later = now + timedelta(seconds=3)
    assert feed_variants((follow, fresh), later)[0].content.plain == "follow ok · recording 7s"
    assert not is_stale((follow, fresh), later)
    # Past three flush intervals the data age says STALE, judged at each tick.
    assert is_stale((follow, fresh), now + timedelta(seconds=12))


def test_spread_content_lines_fit_the_compact_panel() -> None:
    lines = spread_content(make_snapshot().spread).plain.split("\n")
    assert len(lines) == 6
    # The compact layout gives the panel 46 columns inside its border and padding.
    assert max(len(line) for line in lines) <= 46
    spread = make_snapshot().spread
    empty = replace(
        spread,
        relative_pp=RelativePerformance(None, None, None, None, None, None),
        ratio=None,
        ratio_z_1y=None,
        beta_60d=None,
        corr_60d=None,
        valuation=Valuation(None, None, None, None),
    )
    missing = spread_content(empty).plain
    assert "RUT/SPX —  z1y —  β60 —  ρ60 —" in missing
    assert missing.split("\n")[-1] == "Fwd P/E — / —  small —  excl. neg · cov —/—%"
    assert valuation_source(empty.valuation) == ""  # no source label without figures


#: The valuation line of app_support.VALUATION written out by hand at each width: 23.1 and
#: 18.6 (18.6 / 23.1 = 0.8052: small caps 19.5 % cheaper), then the method, the P/E with
#: negative earners, the coverage of both legs (99.4, 93.2) and the unprofitable shares
#: (6.2, 41.4), as far as the width goes.
HEAD = "Fwd P/E 23.1x / 18.6x  small -19.5%"
VALUATION_BY_WIDTH = (
    (35, HEAD),
    (46, f"{HEAD}  excl. neg"),
    (60, f"{HEAD}  excl. neg · cov 99/93%"),
    (82, f"{HEAD}  excl. neg · incl. 24.0x / 27.3x · cov 99/93%"),
    (120, f"{HEAD}  excl. neg · incl. 24.0x / 27.3x · cov 99/93% · unprofitable 6% / 41%"),
    (166, f"{HEAD}  excl. neg · incl. 24.0x / 27.3x · cov 99/93% · unprofitable 6% / 41%"),
)


def test_valuation_line_shows_figures_and_method_at_every_width() -> None:
    valuation = make_snapshot().spread.valuation
    for width, expected in VALUATION_BY_WIDTH:
        line = valuation_line(valuation, width).plain
        assert line == expected, width
        assert len(line) <= width
    # The panel's last line is that line; the source goes on the border.
    assert (
        spread_content(make_snapshot().spread, 120).plain.split("\n")[-1]
        == (VALUATION_BY_WIDTH[-1][1])
    )
    assert valuation_source(valuation) == "P/E: sample"


def test_valuation_below_coverage_is_a_dash_never_zero() -> None:
    # The analytics leave a figure None below coverage: the line shows the dash in its place.
    valuation = replace(
        make_snapshot().spread.valuation,
        small_forward_pe=None,
        small_discount_pct=None,
        small_forward_pe_incl_negative=None,
        small_unprofitable_pct=None,
        small_coverage_pct=None,
    )
    line = valuation_line(valuation, 200).plain
    assert line == (
        "Fwd P/E 23.1x / —  small —  excl. neg · incl. 24.0x / — · cov 99/—% · unprofitable 6% / —"
    )
    assert "0.0" not in line and " 0%" not in line


def test_breadth_panel_lines_by_hand() -> None:
    legs = make_snapshot().indices
    lines = breadth_content(legs, "S&P 500", "Russell 2000").plain.split("\n")
    assert lines == [
        "                quoted    up  >50d  >200d 52w hi 52w lo unprof",
        "S&P 500        503/503   62%   55%    58%     12      3     6%",
        "Russell 2000 1890/1921   41%   38%    45%      4     18    41%",
    ]
    assert all(len(line) == LINE_WIDTH for line in lines)
    assert legs is not None
    blank = replace(legs, small=empty_leg(1921))
    small = breadth_content(blank, "S&P 500", "Russell 2000").plain.split("\n")[2]
    assert small.split() == ["Russell", "2000", "0/1921", *(["—"] * 6)]


def test_breadth_panel_sheds_columns_from_the_right_to_fit() -> None:
    legs = make_snapshot().indices
    lines = breadth_content(legs, "S&P 500", "Russell 2000", 46).plain.split("\n")
    # 12 (names) + 10 (quoted) + 6 (up) + 6 (>50d) + 7 (>200d) = 41 cells fit 46; 52w hi not.
    assert lines[1] == "S&P 500        503/503   62%   55%    58%"
    assert all(len(line) == 41 <= 46 for line in lines)
