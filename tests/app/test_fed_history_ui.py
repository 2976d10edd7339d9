"""The Fed screen's odds over time (key o): past closes' cut odds and the three-month chart."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from app_support import SESSION_11AM, ScriptedEngine, make_fed, make_snapshot, screen_lines
from capgap.core.clock import ManualClock
from capgap.core.records import replace
from capgap.core.snapshot import CutOddsPoint, FedSnapshot, PastOdds
from capgap.ui.format import missing
from capgap.ui.screens.fed_detail import (
    CutOddsChart,
    FuturesTable,
    MeetingsTable,
    OddsHistoryTable,
    month_ticks,
)
from test_fed_ui import _open_fed, make_app, table_rows

#: Sessions of the chart: weekdays from 1 Sep to 4 Dec 2025, cut odds rising 0.5 pp a day.
CHART_DAYS = [
    date(2025, 9, 1) + timedelta(days=n)
    for n in range(95)
    if (date(2025, 9, 1) + timedelta(days=n)).weekday() < 5
]


def fed_with_history(*, points: int = len(CHART_DAYS), note: str | None = None) -> FedSnapshot:
    """The scripted Fed figures with the first meeting's past odds and a chart of ``points``."""
    fed = make_fed(SESSION_11AM)
    first = fed.probabilities[0]
    history = (
        PastOdds("1d", date(2025, 12, 4), 80.0, 20.0, 0.0),
        PastOdds("1w", date(2025, 11, 28), 70.25, 29.75, 0.0),
        PastOdds("1m", None, None, None, None),
    )
    chart = tuple(
        CutOddsPoint(day, 40.0 + 0.5 * index) for index, day in enumerate(CHART_DAYS[:points])
    )
    return replace(
        fed,
        probabilities=(replace(first, history=history), *fed.probabilities[1:]),
        cut_odds_history=chart,
        history_note=note,
        history_anchor="today's EFFR",
    )


def app_on(fed: FedSnapshot) -> Any:
    clock = ManualClock(SESSION_11AM)
    return make_app(ScriptedEngine(clock, make_snapshot(SESSION_11AM, fed=fed)))


def test_month_ticks_name_each_months_first_session():
    points = [CutOddsPoint(day, 1.0) for day in CHART_DAYS]
    positions, labels = month_ticks(points)
    assert labels == ["Sep", "Oct", "Nov", "Dec"]
    # 1 Sep, 1 Oct, 3 Nov (1-2 Nov is a weekend), 1 Dec: their places among the weekdays.
    assert [CHART_DAYS[int(p)] for p in positions] == [
        date(2025, 9, 1),
        date(2025, 10, 1),
        date(2025, 11, 3),
        date(2025, 12, 1),
    ]


async def test_o_shows_the_odds_over_time_at_80x24_and_back():
    fed = fed_with_history()
    app = app_on(fed)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_fed(app, pilot)
        screen = app.screen
        assert screen.query_one(MeetingsTable).display
        assert not screen.query_one(OddsHistoryTable).display
        await pilot.press("o")
        await pilot.pause()
        assert not screen.query_one(MeetingsTable).display
        assert not screen.query_one(FuturesTable).display
        rows = table_rows(screen.query_one(OddsHistoryTable))
        first = fed.probabilities[0]
        # Now, 1D, 1W, 1M (no close: the missing mark), and the move since 1W in pp.
        assert rows[0][:2] == ["10 Dec 2025", "SEP"]
        assert rows[0][2:] == [
            f"{first.cut_pct:.1f}",
            "80.0",
            "70.2",
            missing(),
            f"{first.cut_pct - 70.25:+.1f}",
        ]
        # A meeting without past closes: every past cell blank, never a crash.
        assert rows[1][3:] == [missing(), missing(), missing(), missing()]
        chart = screen.query_one(CutOddsChart)
        assert chart.has_data()
        # Readable at 80x24: the chart box has rows to draw in, the months under it.
        assert chart.region.height >= 6 and chart.region.width >= 60
        shown = "\n".join(screen_lines(app))
        assert "Next meeting's cut odds %, 3 months" in shown
        assert "Sep" in shown and "Dec" in shown
        assert "10 Dec 2025: chance of a cut at each close; no anchor: today's EFFR" in shown
        await pilot.press("o")
        await pilot.pause()
        assert screen.query_one(MeetingsTable).display
        assert not screen.query_one("#cut-odds-box").display


async def test_too_little_history_says_why_instead_of_a_chart():
    fed = fed_with_history(
        points=1,
        note="the ZQ closes price the 2025-12-10 meeting on 1 of 1 sessions: too few to chart",
    )
    app = app_on(fed)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_fed(app, pilot)
        await pilot.press("o")
        await pilot.pause()
        chart = app.screen.query_one(CutOddsChart)
        assert not chart.has_data()
        shown = " ".join(" ".join(screen_lines(app)).split())
        assert "no chart: the ZQ closes price the 2025-12-10 meeting on 1 of 1 sessions" in shown
