"""The pure helpers behind the widgets, against hand-worked values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from app_support import make_snapshot
from capgap.core.snapshot import FeedStatus, RatioPoint, RelativePerformance, Valuation
from capgap.ui.widgets.fed_panel import countdown_text
from capgap.ui.widgets.keyed_table import ValueText, ordering_key
from capgap.ui.widgets.ratio_chart import history_key, month_ticks
from capgap.ui.widgets.spread_panel import spread_content
from capgap.ui.widgets.status_line import feed_variants


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
    assert "Fwd P/E — / —  disc —" in missing
    assert "(" not in missing.split("\n")[-1]  # no source label without figures
