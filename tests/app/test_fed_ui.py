"""The Fed panel's odds and the Fed detail screen, on hand-made Fed snapshots."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from app_support import (
    FED_EFFR,
    FED_FUTURES_SOURCE,
    SESSION_11AM,
    SNAPSHOT_THEME,
    ScriptedEngine,
    counted,
    make_fed,
    make_snapshot,
    received,
    screen_lines,
    wait_for,
)
from capgap.core import format as core_format
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.records import replace
from capgap.core.snapshot import FedSnapshot, MeetingOdds, Snapshot
from capgap.market import fedwatch
from capgap.ui.app import CapgapApp
from capgap.ui.glyphs import UNICODE
from capgap.ui.screens.fed_detail import (
    FedDetailScreen,
    FuturesTable,
    MeetingsTable,
    RatePathChart,
    current_month_rule,
    meeting_cells,
    now_cells,
    rate_path,
)
from capgap.ui.widgets.fed_panel import FedPanel, ago_text
from capgap.ui.widgets.odds_bars import (
    OddsBars,
    bar_cells,
    odds_content,
    whole_pct,
)
from capgap.ui.widgets.sectors_table import SectorsTable
from hypothesis import given
from hypothesis import strategies as st
from textual.widgets import Static

#: Two days after the December decision: the panel says it is out and counts to January.
AFTER_DECEMBER = datetime(2025, 12, 12, 11, 0, tzinfo=NEW_YORK)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CUT_CELL, HOLD_CELL, HIKE_CELL = UNICODE.cut, UNICODE.hold, UNICODE.hike


def make_app(engine: ScriptedEngine) -> CapgapApp:
    app = CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")  # type: ignore[arg-type]
    return counted(app)


async def started(app: CapgapApp, pilot: Any, count: int = 1) -> None:
    # Counted as the app takes them in: the dashboard under the Fed screen catches up only
    # when shown.
    await wait_for(lambda: received(app) >= count, pilot)
    await pilot.pause()  # let the compositor lay out what was applied


def half_up(value: float) -> int:
    """Round to a whole number, halves up, by decimal arithmetic (independent of whole_pct)."""
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fed_lines(app: CapgapApp) -> list[str]:
    """Return the rows of the screen inside the Fed panel's borders."""
    panel = app.dashboard.query_one(FedPanel).region
    lines = screen_lines(app)
    return [
        lines[y][panel.x + 2 : panel.right - 2].rstrip()
        for y in range(panel.y + 1, panel.bottom - 1)
    ]


def brightness(app: CapgapApp, needle: str) -> int:
    """Return r + g + b of the on-screen colour of the first segment that holds ``needle``."""
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            if needle in segment.text and segment.style and segment.style.color:
                red, green, blue = segment.style.color.get_truecolor()
                return red + green + blue
    raise AssertionError(f"{needle!r} not on screen")


def expected_row(odds: MeetingOdds, bar: int) -> str:
    """Build a meeting row from the snapshot's numbers: date, bar, cut hold hike, rate."""
    cut, hold, hike = odds.cut_pct, odds.hold_pct, odds.hike_pct
    cut_cells = half_up(cut / 100 * bar)
    hike_cells = half_up(hike / 100 * bar)
    cells = (
        CUT_CELL * cut_cells + HOLD_CELL * (bar - cut_cells - hike_cells) + HIKE_CELL * hike_cells
    )
    day = f"{odds.meeting.day:>2} {_MONTHS[odds.meeting.month - 1]}"
    return (
        f"{day}  {cells} {half_up(cut):>4}{half_up(hold):>5}{half_up(hike):>5}"
        f"  {odds.implied_rate:>5.2f}"
    )


# -- bars and rounding, against hand values and independent references -----------------------


def test_bar_cells_by_hand() -> None:
    # 87 % of 10 cells is 8.7: 8 whole cells, and the leftover cell goes to the larger
    # fraction (0.7 against hold's 0.3), so 9 cut and 1 hold, as rounding 8.7 would say.
    assert bar_cells(87.0, 13.0, 0.0, 10) == (9, 1, 0)
    # 13.92 / 2.08 of 16 -> 14 / 2 (the panel's bar at 120 columns).
    assert bar_cells(87.0, 13.0, 0.0, 16) == (14, 2, 0)
    # Thirds of 10: 3.33 each, and the one leftover cell goes to the largest remainder.
    assert bar_cells(33.3, 33.3, 33.4, 10) == (3, 3, 4)
    # Exactly halves: the tie goes to cut (documented), never a cell lost or added.
    assert bar_cells(50.0, 50.0, 0.0, 5) == (3, 2, 0)
    assert bar_cells(0.0, 0.0, 0.0, 10) == (0, 0, 0)
    assert bar_cells(60.0, 40.0, 0.0, 0) == (0, 0, 0)


@given(
    st.floats(0, 100),
    st.floats(0, 100),
    st.floats(0, 100),
    st.integers(1, 60),
)
def test_bar_cells_fill_the_bar_within_one_cell_of_the_exact_share(
    cut: float, hold: float, hike: float, width: int
) -> None:
    total = cut + hold + hike
    cells = bar_cells(cut, hold, hike, width)
    if total == 0:
        assert cells == (0, 0, 0)
        return
    assert sum(cells) == width
    for part, count in zip((cut, hold, hike), cells, strict=True):
        assert abs(count - part / total * width) < 1


@given(st.integers(0, 2000))
def test_whole_pct_rounds_halves_up(tenths: int) -> None:
    value = tenths / 10
    assert whole_pct(value) == half_up(value)


def test_odds_content_fits_its_box() -> None:
    fed = make_fed(SESSION_11AM)
    first = fed.probabilities[0]
    # One line: the next meeting's odds; with room, a bar of at most ten cells in front.
    assert odds_content(fed.probabilities, None, 26, 1).plain == (
        f"{CUT_CELL * 8}{HOLD_CELL} cut 87% hold 13%"
    )
    assert odds_content(fed.probabilities, None, 16, 1).plain == "cut 87% hold 13%"
    # Taller: a header and as many meetings as fit, never wider than the box.
    rendered = odds_content(fed.probabilities, None, 46, 4).plain.split("\n")
    assert len(rendered) == 4
    assert rendered[1] == expected_row(first, 16)
    assert all(len(line) <= 46 for line in rendered)
    assert odds_content((), None, 46, 4).plain == ""
    assert odds_content(fed.probabilities, "no prices", 46, 4).plain == "no odds: no prices"
    assert odds_content(fed.probabilities, "x" * 40, 20, 4).plain == "no odds: xxxxxxxxxx…"


def test_ago_counts_new_york_days() -> None:
    statement = datetime(2025, 12, 10, 14, 0, tzinfo=NEW_YORK)
    assert ago_text(statement, statement + timedelta(minutes=35)) == "35m ago"
    assert ago_text(statement, statement + timedelta(hours=3, minutes=59)) == "3h ago"
    # 20:00 the next morning is less than a day, but it is the next day in New York.
    assert ago_text(statement, datetime(2025, 12, 11, 10, 0, tzinfo=NEW_YORK)) == "1d ago"
    assert ago_text(statement, AFTER_DECEMBER.astimezone(UTC)) == "2d ago"


def test_rate_path_starts_now_at_the_rate_before_the_first_meeting() -> None:
    fed = make_fed(SESSION_11AM)
    path = rate_path(fed)
    assert path[0] == ("now", fed.probabilities[0].start_rate) == ("now", FED_EFFR)
    assert [rate for _label, rate in path[1:]] == [odds.implied_rate for odds in fed.probabilities]
    assert path[1][0] == "10 Dec"
    # The table's first row is the same rate now: one path serves both.
    assert now_cells(path[0][1])["rate"] == f"{FED_EFFR:.3f}"
    # Without odds there is no path (the EFFR is in the summary, not a point of the futures).
    assert rate_path(replace(fed, probabilities=())) == ()


@pytest.mark.parametrize(
    ("move_bp", "written"),
    [
        # A move that rounds to zero is written 0.0 as every other output writes it, never
        # "-0.0" (a fall nobody can see) nor "+0.0".
        (-0.04, "0.0"),
        (0.04, "0.0"),
        (0.0, "0.0"),
        (-9.0, "-9.0"),
        (12.34, "+12.3"),
        (-24.05, "-24.1"),
    ],
)
def test_meeting_changes_are_signed_figures_as_everywhere_else(
    move_bp: float, written: str
) -> None:
    odds = replace(make_fed(SESSION_11AM).probabilities[0], move_bp=move_bp, total_bp=move_bp)
    cells = meeting_cells(odds)
    assert cells["move"] == cells["total"] == written
    # One formatter: the screen writes the figure as core.format (report, alerts) does.
    assert written == core_format.fmt_signed(move_bp, 1)


def test_current_month_rule_is_the_docstring_paragraph() -> None:
    doc = fedwatch.__doc__
    assert doc is not None
    start = doc.index("The current month:")
    expected = " ".join(doc[start:].split())
    assert current_month_rule() == expected
    assert current_month_rule("A.\n\nB b\n  b.\n") == "B b b."


# -- the panel --------------------------------------------------------------------------------


async def test_panel_shows_one_row_per_meeting_that_fits() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        fed = engine.latest.fed  # type: ignore[union-attr]
        lines = fed_lines(app)
        assert lines[:4] == [
            "Wed 10 Dec 2025  SEP",
            "statement 14:00 ET",
            "in 05:03:00:00",
            f"range 3.75-4.00 % (sample)  EFFR {FED_EFFR:.2f} %",
        ]
        assert lines[4].split() == ["▇cut", "▁hold", "▀hike", "cut", "hold", "hike", "rate"]
        # Eleven rows inside the panel: four lines, the header, and six meetings.
        rows = lines[5:]
        assert len(fed.probabilities) == 6
        assert rows == [expected_row(odds, 16) for odds in fed.probabilities]
        # By hand, the first row: 87 % of 16 cells = 13.92 -> 14 cut cells, 2 hold.
        assert rows[0] == "10 Dec  " + CUT_CELL * 14 + HOLD_CELL * 2 + "   87   13    0   3.67"
        panel = app.dashboard.query_one(FedPanel)
        assert panel.border_subtitle == FED_FUTURES_SOURCE
        assert panel.region.bottom == app.dashboard.query_one("#style").region.y


async def test_panel_shows_fewer_meetings_when_fewer_fit() -> None:
    steps = (-0.87, -0.2, -0.4, -0.3, 0.1, -0.25, -0.1, 0.0)
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock, make_snapshot(fed=make_fed(SESSION_11AM, steps=steps)))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        fed = engine.latest.fed  # type: ignore[union-attr]
        rows = fed_lines(app)[5:]
        assert len(fed.probabilities) == 8
        assert rows == [expected_row(odds, 16) for odds in fed.probabilities[:6]]
        # Taller terminal, more room: all eight.
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        rows = fed_lines(app)[5:13]
        assert rows == [expected_row(odds, 16) for odds in fed.probabilities]


async def test_rows_left_over_show_the_target_ranges_after_each_meeting() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(200, 60)) as pilot:
        await started(app, pilot)
        fed = engine.latest.fed  # type: ignore[union-attr]
        lines = fed_lines(app)
        assert lines[5:11] == [expected_row(odds, 16) for odds in fed.probabilities]
        # Bars of 30 cells, each range its own: 87 % -> 26.1 -> 26 cells, 13 % -> 3.9 -> 4.
        # Below today's 3.75-4.00 is a cut, today's range a hold.
        assert lines[11:15] == [
            "",
            "target range after 10 Dec",
            "3.50-3.75  " + CUT_CELL * 26 + " " * 4 + "  87%",
            "3.75-4.00  " + HOLD_CELL * 4 + " " * 26 + "  13%",
        ]
        # January, by hand: 0.87 x 0.2 = 17.4 % two cuts, 0.87 x 0.8 + 0.13 x 0.2 = 72.2 % one,
        # 0.13 x 0.8 = 10.4 % none; of 30 cells: 5.22 -> 5, 21.66 -> 22, 3.12 -> 3.
        assert lines[15:20] == [
            "",
            "target range after 28 Jan",
            "3.25-3.50  " + CUT_CELL * 5 + " " * 25 + "  17%",
            "3.50-3.75  " + CUT_CELL * 22 + " " * 8 + "  72%",
            "3.75-4.00  " + HOLD_CELL * 3 + " " * 27 + "  10%",
        ]
        # Whole blocks only: after the last block, too few rows are left for the next one.
        titles = [index for index, line in enumerate(lines) if line.startswith("target range")]
        shown = len(titles)
        assert 3 <= shown < len(fed.probabilities)
        ranges = [o for o in fed.probabilities[shown - 1].outcomes if half_up(o.probability_pct)]
        left = lines[titles[-1] + 1 + len(ranges) :]
        assert all(line == "" for line in left)
        following = fed.probabilities[shown].outcomes
        assert len(left) < 2 + len([o for o in following if half_up(o.probability_pct)])


async def test_compact_panel_shows_day_countdown_range_and_one_odds_line() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        fed = engine.latest.fed  # type: ignore[union-attr]
        first = fed.probabilities[0]
        odds = f"cut {half_up(first.cut_pct)}% hold {half_up(first.hold_pct)}%"
        # 26 cells: a 9-cell bar (87 % -> 7.83 -> 8 cut cells, 1 hold), a space, the odds.
        assert fed_lines(app) == [
            "Wed 10 Dec  in 05:03:00:00",
            "range 3.75-4.00 % (sample)",
            CUT_CELL * 8 + HOLD_CELL + " " + odds,
        ]
        lines = screen_lines(app)
        assert len(lines) == 24 and all(len(line) == 80 for line in lines)
        shown = "\n".join(lines)
        for label in ("Info Tech", "Financials", "Industrials", "Materials", "Energy"):
            assert label in shown
        for label in ("Cons Discr", "Comm Svcs", "Real Estate", "Cons Staples", "Health Care"):
            assert label in shown
        assert "Utilities" in shown
        assert app.dashboard.query_one(FedPanel).outer_size.height == 5


async def test_fedwatch_error_replaces_the_odds_by_one_muted_line() -> None:
    error = "[HTTP 404] ZQF26.CBT not found"
    fed = make_fed(SESSION_11AM, error=error)
    engine = ScriptedEngine(ManualClock(SESSION_11AM), make_snapshot(fed=fed))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        lines = fed_lines(app)
        # Bracketed text stays: the error is content, never markup.
        assert lines[4] == f"no odds: {error}"
        assert all(line == "" for line in lines[5:])
        # Muted: darker on screen than the ordinary text of the panel (the range line).
        assert brightness(app, "no odds:") < brightness(app, "range 3.75")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert fed_lines(app)[2] == "no odds: [HTTP 404] ZQF26…"


async def test_no_odds_and_no_error_show_nothing() -> None:
    fed = make_fed(SESSION_11AM, steps=())
    engine = ScriptedEngine(ManualClock(SESSION_11AM), make_snapshot(fed=fed))
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        assert not app.dashboard.query_one(OddsBars).display
        assert fed_lines(app) == ["Wed 10 Dec  in 05:03:00:00", "range 3.75-4.00 % (sample)"]
        assert len(screen_lines(app)) == 24


async def test_last_decision_is_out_and_the_countdown_goes_on() -> None:
    clock = ManualClock(AFTER_DECEMBER)
    fed = make_fed(AFTER_DECEMBER, target_range=(3.5, 3.75), effr=3.64)
    engine = ScriptedEngine(clock, make_snapshot(AFTER_DECEMBER, fed=fed))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        assert fed.last_decision is not None and fed.last_decision.date == date(2025, 12, 10)
        lines = fed_lines(app)
        # Fri 12 Dec 11:00 to Wed 28 Jan 14:00: 47 days 3 hours.
        assert lines[:5] == [
            "Wed 28 Jan 2026",
            "statement 14:00 ET",
            "in 47:03:00:00",
            "range 3.50-3.75 % (sample)  EFFR 3.64 %",
            "Wed 10 Dec decision out (2d ago)",
        ]
        # One meeting fewer fits under the extra line; the first is January's.
        rows = lines[6:]
        assert rows == [expected_row(odds, 16) for odds in fed.probabilities[:5]]
        assert rows[0].startswith("28 Jan")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        # Compact: the decision just out takes the range's line.
        assert fed_lines(app)[:2] == ["Wed 28 Jan  in 47:03:00:00", "10 Dec decision out 2d ago"]
        assert len(screen_lines(app)) == 24


async def test_last_decision_line_goes_once_the_next_is_nearer() -> None:
    clock = ManualClock(AFTER_DECEMBER)
    engine = ScriptedEngine(clock, make_snapshot(AFTER_DECEMBER))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        assert app.dashboard.query_one("#fed-last").display
        later = datetime(2026, 1, 10, 11, 0, tzinfo=NEW_YORK)  # 31 days after, 18 before
        clock.set(later)
        engine.push(make_snapshot(later))
        await started(app, pilot, 2)
        assert engine.latest.fed.last_decision is None  # type: ignore[union-attr]
        assert not app.dashboard.query_one("#fed-last").display
        assert fed_lines(app)[4].split()[0] == "▇cut"


# -- the detail screen ------------------------------------------------------------------------


def table_rows(table: Any) -> list[list[str]]:
    return [[cell.plain for cell in table.get_row(row.key)] for row in table.ordered_rows]


def signed_tenths(value: float) -> str:
    # The rule written out by hand: a sign only on what shows as non-zero.
    tenths = round(value, 1)
    return "0.0" if tenths == 0 else f"{tenths:+.1f}"


def expected_meetings(fed: FedSnapshot) -> list[list[str]]:
    rows = [["now", "", "", "", "", f"{fed.probabilities[0].start_rate:.3f}", "", "", ""]]
    for odds in fed.probabilities:
        best = max(odds.outcomes, key=lambda outcome: outcome.probability_pct)
        low, high = best.target_range
        rows.append(
            [
                f"{odds.meeting.day} {_MONTHS[odds.meeting.month - 1]} {odds.meeting.year}",
                "SEP" if odds.sep else "",
                f"{odds.cut_pct:.1f}",
                f"{odds.hold_pct:.1f}",
                f"{odds.hike_pct:.1f}",
                f"{odds.implied_rate:.3f}",
                signed_tenths(odds.move_bp),
                signed_tenths(odds.total_bp),
                f"{low:.2f}-{high:.2f} {half_up(best.probability_pct)}%",
            ]
        )
    return rows


def expected_futures(fed: FedSnapshot) -> list[list[str]]:
    # Ages 30 s, 90 s, 150 s, ...: fmt_age writes 30s, 1m30s, 2m30s.
    ages = ["30s"] + [f"{(30 + 60 * i) // 60}m{(30 + 60 * i) % 60:02d}s" for i in range(1, 20)]
    return [
        [f.symbol, f.month, f"{f.price:.4f}", f"{f.implied_rate:.3f}", ages[i]]
        for i, f in enumerate(fed.futures)
    ]


async def test_enter_on_the_fed_panel_opens_the_detail_and_esc_returns() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        # The table keeps the first focus; the Fed panel is one focus away.
        assert isinstance(app.screen.focused, SectorsTable)
        panel = app.dashboard.query_one(FedPanel)
        panel.focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, FedDetailScreen), pilot)
        fed = engine.latest.fed  # type: ignore[union-attr]
        detail = app.screen
        meetings = table_rows(detail.query_one(MeetingsTable))
        assert meetings == expected_meetings(fed)
        # 3.6725 is stored a hair below the half, so three decimals show 3.672: the change
        # from 3.890 as shown is -21.8 bp.
        assert meetings[:2] == [
            ["now", "", "", "", "", "3.890", "", "", ""],
            ["10 Dec 2025", "SEP", "87.0", "13.0", "0.0", "3.672", "-21.8", "-21.8",
             "3.50-3.75 87%"],
        ]  # fmt: skip
        futures = table_rows(detail.query_one(FuturesTable))
        assert futures == expected_futures(fed)
        assert futures[0] == ["ZQZ25.CBT", "2025-12", "96.2650", "3.735", "30s"]
        assert [str(key.value) for key in detail.query_one(MeetingsTable).rows] == [
            "now",
            *(odds.meeting.isoformat() for odds in fed.probabilities),
        ]
        shown = "\n".join(screen_lines(app))
        assert "The current month: a meeting-free month after the first meeting" in shown
        assert "now" in shown and "10 Dec" in shown  # the chart's x labels
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard, pilot)
        assert app.screen.focused is panel


async def test_f_opens_the_detail_and_esc_keeps_the_table_cursor() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        await pilot.press("down", "down")
        chosen = table.row_keys()[table.cursor_row]
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, FedDetailScreen), pilot)
        assert len(table_rows(app.screen.query_one(MeetingsTable))) == 7
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard, pilot)
        assert app.screen.focused is table
        assert table.row_keys()[table.cursor_row] == chosen


async def test_detail_follows_new_snapshots_and_redraws_the_chart_only_on_a_new_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every path drawn, from the screen's first on (the spy is the test's, not the chart's).
    paths: list[object] = []
    draw_line = RatePathChart.draw_line

    def drawn(chart: RatePathChart, *args: Any) -> None:
        paths.append(chart)
        draw_line(chart, *args)

    monkeypatch.setattr(RatePathChart, "draw_line", drawn)
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, FedDetailScreen), pilot)
        detail = app.screen
        assert isinstance(detail, FedDetailScreen)
        chart = detail.query_one(RatePathChart)
        meetings = detail.query_one(MeetingsTable)
        assert paths == [chart]  # drawn once, on opening

        # Same odds, prices a minute older: the ages change, the path and chart do not.
        clock.advance(60)
        older = make_snapshot(clock.now(), fed=_aged(engine.latest, 60.0))  # type: ignore[arg-type]
        engine.push(older)
        await started(app, pilot, 2)
        assert detail.fed == older.fed
        assert table_rows(detail.query_one(FuturesTable))[0][4] == "1m30s"
        assert paths == [chart]

        # A dovish repricing: new odds in the table, a new path on the chart.
        dovish = make_fed(clock.now(), steps=(-1.0, -0.5, -0.4, -0.3, 0.1, -0.25))
        engine.push(make_snapshot(clock.now(), fed=dovish))
        await started(app, pilot, 3)
        assert table_rows(meetings) == expected_meetings(dovish)
        assert table_rows(meetings)[1][2:4] == ["100.0", "0.0"]
        assert paths == [chart, chart]

        # An unscheduled meeting between two others gets its row in date order; once the
        # December decision is out, its row goes. Rows are changed by key, never cleared.
        cleared: list[bool] = []
        meetings.clear = lambda *a, **k: cleared.append(True)  # type: ignore[method-assign,assignment]
        extra = replace(dovish.probabilities[1], meeting=date(2026, 1, 7), sep=False)
        odds = (dovish.probabilities[0], extra, *dovish.probabilities[1:])
        engine.push(make_snapshot(clock.now(), fed=replace(dovish, probabilities=odds)))
        await started(app, pilot, 4)
        keys = [meeting.meeting.isoformat() for meeting in odds]
        assert meetings.row_keys() == ["now", *keys] and keys[1] == "2026-01-07"
        engine.push(make_snapshot(clock.now(), fed=replace(dovish, probabilities=odds[1:])))
        await started(app, pilot, 5)
        assert meetings.row_keys() == ["now", *keys[1:]]
        assert table_rows(meetings)[1][0] == "7 Jan 2026"
        assert not cleared
        assert app.screen is detail  # still open, still the same screen


def _aged(snapshot: Snapshot, seconds: float) -> FedSnapshot:
    fed = snapshot.fed
    futures = tuple(
        replace(future, age_s=(future.age_s or 0.0) + seconds) for future in fed.futures
    )
    return replace(fed, futures=futures)


async def test_detail_opened_without_figures_catches_up_with_the_latest_snapshot() -> None:
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        detail = FedDetailScreen(None)
        await app.push_screen(detail)
        await pilot.pause()
        # Shown, the screen takes the latest snapshot at once rather than wait for the next.
        assert detail.fed == app.latest.fed  # type: ignore[union-attr]
        head = detail.query_one("#fed-next", Static)
        assert str(head.content).startswith("Next FOMC Wed 10 Dec 2025 14:00 ET  SEP")
        assert len(table_rows(detail.query_one(MeetingsTable))) == 7


def _spring_fed(now: datetime) -> FedSnapshot:
    """March and April 2026 priced from futures whose anchors disagree by 2 bp (real analytics)."""
    from builders import quotes_table
    from capgap.analytics.fed import FedInputs, fed_snapshot
    from capgap.analytics.store import MarketStore
    from capgap.market.fomc import default_schedule
    from capgap.market.zq import default_naming

    prices = {
        "ZQG26.CBT": 100 - 3.64,
        "ZQH26.CBT": 100 - (17 * 3.64 + 14 * 3.55) / 31,
        "ZQJ26.CBT": 100 - (28 * 3.53 + 2 * 3.40) / 30,
        "ZQK26.CBT": 100 - 3.40,
    }
    store = MarketStore()
    store.apply_quotes(
        quotes_table(
            (symbol, now - timedelta(minutes=1), price, price, 0.0)
            for symbol, price in prices.items()
        )
    )
    inputs = FedInputs((3.5, 3.75), "New York Fed", 3.63, "Yahoo ZQ", {})
    return fed_snapshot(
        store, now=now, schedule=default_schedule(), naming=default_naming(), inputs=inputs
    )


def _spring_app() -> tuple[CapgapApp, ManualClock]:
    """The app on 10 Feb 2026 with the spring futures, and its clock."""
    now = datetime(2026, 2, 10, 11, 0, tzinfo=NEW_YORK)
    clock = ManualClock(now)
    return make_app(ScriptedEngine(clock, make_snapshot(now, fed=_spring_fed(now)))), clock


async def _open_fed(app: CapgapApp, pilot: Any) -> None:
    await started(app, pilot)
    await pilot.press("f")
    await wait_for(lambda: isinstance(app.screen, FedDetailScreen), pilot)


async def test_the_meeting_columns_add_up() -> None:
    # Rate after each meeting, the change from the row above and the total from now: a reader
    # who subtracts the rates or adds the changes gets the numbers shown. Before, "Move bp" was
    # each meeting's own move (-13.0 for April) while the rates fell 15 bp from March to April.
    app, _clock = _spring_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_fed(app, pilot)
        table = app.screen.query_one(MeetingsTable)
        assert "from the row above" in str(table.border_title)
        assert "from now" in str(table.border_title)
        header = [str(column.label) for column in table.columns.values()]
        rows = table_rows(table)
        assert rows[0][0] == "now" and rows[0][header.index("Rate")] == "3.640"
        rate, chg, total = (header.index(name) for name in ("Rate", "Chg", "Total"))
        assert [row[rate] for row in rows[1:]] == ["3.550", "3.400"]
        assert [row[chg] for row in rows[1:]] == ["-9.0", "-15.0"]
        assert [row[total] for row in rows[1:]] == ["-9.0", "-24.0"]
        for above, row in itertools.pairwise(rows):
            move = round((float(row[rate]) - float(above[rate])) * 100, 1)
            assert float(row[chg]) == move
        assert float(rows[-1][total]) == sum(float(row[chg]) for row in rows[1:])
        # Every column fits 80 columns: the last one is on screen in full.
        assert any("3.50-3.75" in line for line in screen_lines(app))


async def test_the_fed_screen_counts_down_and_names_the_rule_behind_todays_numbers() -> None:
    app, clock = _spring_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_fed(app, pilot)
        # Tue 10 Feb 11:00 to Wed 18 Mar 14:00 New York is 36 days 3 wall-clock hours, but the
        # clocks go forward on 8 Mar: 36 days 2 hours of real time.
        await wait_for(lambda: "in 36:02:00:00" in "\n".join(screen_lines(app)), pilot)
        clock.advance(61)
        await wait_for(lambda: "in 36:01:58:59" in "\n".join(screen_lines(app)), pilot)
        shown = " ".join(" ".join(screen_lines(app)).split())
        # March starts from February (no meeting): the note says so, with the rates.
        assert "The rate before the Wed 18 Mar 2026 meeting, 3.640 %, is the Feb 2026" in shown
        # The general rule follows it.
        assert "The current month:" in shown
