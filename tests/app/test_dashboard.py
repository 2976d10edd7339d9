"""Pilot tests of the dashboard with snapshots built by hand (every figure known in advance)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app_support import (
    SESSION_11AM,
    SNAPSHOT_THEME,
    Calls,
    ScriptedEngine,
    applied,
    counted,
    make_snapshot,
    screen_lines,
    wait_for,
)
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.records import replace
from capgap.core.snapshot import SectorRow
from capgap.ui.app import CapgapApp
from capgap.ui.messages import SnapshotReady
from capgap.ui.widgets.ratio_chart import RatioChart
from capgap.ui.widgets.sectors_table import SectorsTable, movers_width
from capgap.ui.widgets.spread_panel import SpreadPanel
from textual.color import Color
from textual.message import Message
from textual.widgets import Static


def make_app(engine: ScriptedEngine) -> CapgapApp:
    app = CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")  # type: ignore[arg-type]
    return counted(app)


def text(app: CapgapApp, selector: str) -> str:
    return str(app.dashboard.query_one(selector, Static).content)


async def started(app: CapgapApp, pilot: Any, count: int = 1) -> None:
    await wait_for(lambda: applied(app) >= count, pilot)
    await pilot.pause()  # let the compositor paint what was applied


def expected_order(rows: tuple[SectorRow, ...], value: Any, descending: bool) -> list[str]:
    """Sort independently of the widget: missing values last, ties in file order."""
    present = [row for row in rows if value(row) is not None]
    missing = [row.sector for row in rows if value(row) is None]
    ordered = sorted(present, key=value, reverse=descending)
    return [row.sector for row in ordered] + missing


async def test_panels_show_the_snapshot_figures() -> None:
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        snap = engine.latest
        assert snap is not None
        spread = str(app.dashboard.query_one(SpreadPanel).content)
        large, small = snap.spread.large, snap.spread.small
        assert f"{large.name}       {large.last:,.2f}  ▲+{large.change_pct:.2f}%" in spread
        assert f"{small.name}  {small.last:,.2f}  ▼{small.change_pct:.2f}%" in spread
        rel = snap.spread.relative_pp
        # 1D 5D 1M 3M YTD 1Y, each with arrow and sign; -12.5 keeps its width with one decimal.
        assert "S-L  ▼-0.58 ▲+1.23 ▼-0.40 ▲+2.75 ▲+3.10 ▼-12.5" in spread
        assert f"▼{rel.d1:.2f} pp" in spread  # the gap
        assert f"RUT/SPX {snap.spread.ratio:.4f}" in spread
        assert f"z1y +{snap.spread.ratio_z_1y:.2f}" in spread
        assert f"β60 {snap.spread.beta_60d:.2f}" in spread
        assert f"ρ60 {snap.spread.corr_60d:.2f}" in spread
        # The valuation gap with its method, at the panel's 46 columns (the rest, coverage
        # and the unprofitable shares, fit wider panels and the breadth panel).
        assert spread.split("\n")[-1] == "Fwd P/E 23.1x / 18.6x  small -19.5%  excl. neg"
        assert app.dashboard.query_one(SpreadPanel).border_subtitle == "P/E: sample"

        # 11:00 on Fri 5 Dec to 14:00 on Wed 10 Dec: 5 days 3 hours.
        assert text(app, "#fed-day") == "Wed 10 Dec 2025  SEP"
        assert text(app, "#fed-statement") == "statement 14:00 ET"
        assert text(app, "#fed-countdown") == "in 05:03:00:00"
        assert text(app, "#fed-range") == "range 3.75-4.00 % (sample)"

        # Value minus growth: large -0.2 pp (IWD 0.1 - IWF 0.3), small +0.3 pp.
        assert text(app, "#style") == "Lg ▼-0.20  Sm ▲+0.30 pp"

        assert app.dashboard.query_one("#demo-badge").display
        assert text(app, "#market-state") == "OPEN"
        assert text(app, "#ny-clock") == "11:00:00 ET"
        assert text(app, "#source") == "DEMO test"
        assert text(app, "#feed-state") == "demo ok"
        assert text(app, "#data-age") == "data 3s"  # data_as_of is 3 s before now


async def test_clock_age_and_countdown_follow_the_clock() -> None:
    clock = ManualClock(SESSION_11AM)
    app = make_app(ScriptedEngine(clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        clock.advance(61)
        # The screen's 1 s interval would do this; calling its tick keeps the test free of timing.
        app.dashboard.tick_clocks()
        assert text(app, "#ny-clock") == "11:01:01 ET"
        assert text(app, "#data-age") == "data 1m04s"
        assert text(app, "#fed-countdown") == "in 05:02:58:59"


async def test_no_dashboard_widget_styles_links_on_each_render() -> None:
    # capgap shows no links; Textual's link styling would copy every segment of every render.
    app = make_app(ScriptedEngine(ManualClock(SESSION_11AM)))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        ours = [
            widget
            for widget in app.dashboard.query("*")
            if type(widget).__module__.startswith("capgap.")
            or (isinstance(widget, Static) and widget.id is not None)
        ]
        assert len(ours) > 15
        assert [widget for widget in ours if widget.auto_links and not widget.is_container] == []


async def test_unchanged_sector_rows_are_not_rebuilt(monkeypatch: Any) -> None:
    app = make_app(ScriptedEngine(ManualClock(SESSION_11AM)))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        rows = table._rows
        built: list[str] = []
        original = SectorsTable._cells

        def counting(self: SectorsTable, row: SectorRow) -> Any:
            built.append(row.sector)
            return original(self, row)

        monkeypatch.setattr(SectorsTable, "_cells", counting)
        table.apply(rows)
        assert built == []
        moved = replace(rows[0], spread_pp=(rows[0].spread_pp or 0.0) + 1.0)
        table.apply((moved, *rows[1:]))
        assert built == [moved.sector]
        assert table.get_cell(moved.sector, "spread").value == moved.spread_pp


async def test_sort_keys_cycle_and_follow_the_values() -> None:
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        rows = engine.latest.sectors  # type: ignore[union-attr]
        cases: list[tuple[str | None, Any, bool, str]] = [
            (None, lambda r: r.spread_pp, True, "S-L ▼"),
            ("s", lambda r: r.large.change_pct, True, "Large % ▼"),
            ("s", lambda r: r.small.change_pct, True, "Small % ▼"),
            ("s", lambda r: r.breadth_pct, True, "Breadth ▼"),
            ("s", lambda r: r.large.weight_pct, True, "Weight ▼"),
            ("s", lambda r: r.sector, False, "Sector ▲"),
            ("S", lambda r: r.sector, True, "Sector ▼"),
            ("s", lambda r: r.spread_pp, True, "S-L ▼"),
            ("S", lambda r: r.spread_pp, False, "S-L ▲"),
        ]
        for key, value, descending, title in cases:
            if key:
                await pilot.press(key)
            assert table.row_keys() == expected_order(rows, value, descending), title
            assert str(table.border_title).endswith(f"sort {title}")
        # Missing values stay last in both directions (Real Estate has no small-cap figure).
        assert table.row_keys()[-1] == "Real Estate"


async def test_rows_update_by_key_and_cursor_stays_on_its_sector() -> None:
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        cleared: list[bool] = []
        table.clear = lambda *a, **k: cleared.append(True)  # type: ignore[method-assign,assignment]
        keys_before = set(table.rows)
        await pilot.press("down", "down")
        chosen = table.row_keys()[table.cursor_row]

        # Shift the small-cap figures: the S-L ranking changes, the rows must follow.
        clock.advance(1)
        bumped = make_snapshot(clock.now(), bump=2.0)
        engine.push(bumped)
        await started(app, pilot, 2)
        expected = expected_order(bumped.sectors, lambda r: r.spread_pp, True)
        assert table.row_keys() == expected
        assert expected != expected_order(engine._first.sectors, lambda r: r.spread_pp, True)
        assert set(table.rows) == keys_before
        assert not cleared
        assert table.row_keys()[table.cursor_row] == chosen
        energy = next(row for row in bumped.sectors if row.sector == "Energy")
        cell = table.get_cell("Energy", "small")
        assert cell.plain == f"▲+{energy.small.change_pct:.2f}"
        assert cell.value == energy.small.change_pct  # type: ignore[attr-defined]


async def test_market_strings_are_never_markup() -> None:
    app = make_app(ScriptedEngine(ManualClock(SESSION_11AM)))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        assert table.get_cell("Information Technology", "leaders").plain.startswith("[TST] +3.0")
        assert any("[TST] +3.0" in line for line in screen_lines(app))


async def test_chart_redraws_only_when_the_history_changes() -> None:
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        chart = app.dashboard.query_one(RatioChart)
        assert chart.drawn
        draws = Calls(chart, "draw_line")  # every redraw from here on
        clock.advance(1)
        engine.push(make_snapshot(clock.now(), bump=1.0))  # same history, other sectors
        await started(app, pilot, 2)
        assert draws.count == 0
        engine.push(make_snapshot(clock.now(), history_days=61))
        await started(app, pilot, 3)
        assert draws.count == 1
        # Today's point inside the range: moving it far less than a plot step does not repaint.
        base = make_snapshot(clock.now(), history_days=61)
        points = base.spread.ratio_history

        def with_last(ratio: float) -> Any:
            history = (*points[:-1], replace(points[-1], ratio=ratio))
            return replace(base, spread=replace(base.spread, ratio_history=history))

        engine.push(with_last(0.363))
        await started(app, pilot, 4)
        assert draws.count == 2
        engine.push(with_last(0.363 + 1e-7))
        await started(app, pilot, 5)
        assert draws.count == 2


async def test_snapshot_ready_is_posted_and_coalesces() -> None:
    seen: list[Message] = []
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await started(app, pilot)
        ready = [message for message in seen if isinstance(message, SnapshotReady)]
        assert ready and ready[0].snapshot is engine.latest
        assert app.dashboard.latest is engine.latest
    first, second = make_snapshot(), make_snapshot(bump=1.0)
    assert SnapshotReady(first).can_replace(SnapshotReady(second))
    assert not SnapshotReady(first).can_replace(Message())


async def test_states_shown_in_the_status_line() -> None:
    christmas = datetime(2025, 12, 25, 11, 0, tzinfo=NEW_YORK)
    clock = ManualClock(christmas)
    engine = ScriptedEngine(clock, make_snapshot(christmas, feed_state="degraded", stale=True))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        # The feed's error outranks the holiday's name; when the market opens stays.
        assert text(app, "#market-state") == "CLOSED, opens Fri 09:30"
        assert text(app, "#feed-state") == "demo degraded, ok 0s ago: HTTP 429"
        assert text(app, "#data-age") == "data 3s STALE"
    app = make_app(engine)
    async with app.run_test(size=(200, 40)) as pilot:
        await started(app, pilot)
        assert text(app, "#market-state") == "CLOSED - Christmas Day, opens Fri 26 Dec 09:30"


async def test_replay_end_keeps_the_last_figures() -> None:
    close = datetime(2025, 12, 5, 16, 0, tzinfo=NEW_YORK)
    clock = ManualClock(close - timedelta(seconds=30), end=close)
    engine = ScriptedEngine(clock)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        clock.set(close)
        last = make_snapshot(close, bump=1.0)
        engine.push(last)
        await wait_for(lambda: text(app, "#market-state") == "REPLAY END 16:00", pilot)
        await wait_for(lambda: app.dashboard.latest is last, pilot)
        table = app.dashboard.query_one(SectorsTable)
        assert table.row_keys() == expected_order(last.sectors, lambda r: r.spread_pp, True)
        assert "6,870.40" in str(app.dashboard.query_one(SpreadPanel).content)
        assert engine.closed  # the finished run closed its feed


async def test_engine_error_is_reported_and_the_app_keeps_running() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM), fail_with=RuntimeError("boom"))
    app = make_app(engine)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(lambda: "engine stopped" in text(app, "#feed-state"), pilot)
        assert text(app, "#feed-state") == "engine stopped: RuntimeError: boom"
        await wait_for(lambda: len(app.screen.query("Toast")) > 0, pilot)
        await pilot.pause()
        assert any("RuntimeError: boom" in line for line in screen_lines(app))  # the toast
        await pilot.press("s")  # still responsive
        assert str(app.dashboard.query_one(SectorsTable).border_title).endswith("Large % ▼")
        assert app.is_running


async def test_q_quits_and_closes_the_engine() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert engine.closed


async def test_compact_layout_at_80x24_keeps_every_sector() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        assert app.dashboard.has_class("-narrow", "-short")
        assert not app.dashboard.query_one(RatioChart).display
        lines = screen_lines(app)
        assert len(lines) == 24 and all(len(line) == 80 for line in lines)
        shown = "\n".join(lines)
        for label in ("Info Tech", "Cons Discr", "Comm Svcs", "Real Estate", "Utilities"):
            assert label in shown
        for figure in ("6,870.40", "2,521.48", "in 05:03:00:00", "3.75-4.00 %", "DEMO"):
            assert figure in shown
        assert "Quit" in lines[-1]


async def test_chart_appears_on_tall_screens() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        chart = app.dashboard.query_one(RatioChart)
        assert chart.display and chart.size.width > 40 and chart.size.height > 10
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.dashboard.has_class("-short")
        assert not chart.display


async def test_up_down_colours_follow_any_builtin_theme() -> None:
    from test_themes import wcag

    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        for theme in ("nord", "textual-light", "gruvbox"):
            app.theme = theme
            await pilot.pause()
            colors = app.current_theme.to_color_system().generate()
            # Up and down are the theme's success and error, made readable (4.5:1) on its
            # backgrounds where they are not (nord's green, textual-light's green and red).
            for variable, base in (("gap-up", "success"), ("gap-down", "error")):
                shown = app.theme_variables[variable]
                worst = min(wcag(shown, colors[ground]) for ground in ("background", "panel"))
                assert shown == colors[base] or worst >= 4.5, (theme, variable, worst)
            # The table's rich cells are re-coloured with the new theme (Energy is up).
            cell = app.dashboard.query_one(SectorsTable).get_cell("Energy", "large")
            expected = Color.parse(app.theme_variables["gap-up"]).rich_color
            assert [span.style.color for span in cell.spans] == [expected]  # type: ignore[union-attr]


async def test_wide_tables_show_three_movers_and_narrow_fewer() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(200, 60)) as pilot:
        await started(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        energy = next(row for row in engine.latest.sectors if row.sector == "Energy")  # type: ignore[union-attr]
        three = "  ".join(f"{m.symbol} {m.change_pct:+.1f}" for m in energy.leaders)
        assert table.get_cell("Energy", "leaders").plain == three
        assert table.columns["leaders"].width == movers_width(3)  # type: ignore[index]
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        two = "  ".join(f"{m.symbol} {m.change_pct:+.1f}" for m in energy.leaders[:2])
        assert table.get_cell("Energy", "leaders").plain == two
        assert table.columns["leaders"].width == movers_width(2)  # type: ignore[index]
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        one = f"{energy.leaders[0].symbol} {energy.leaders[0].change_pct:+.1f}"
        assert table.get_cell("Energy", "leaders").plain == one
        assert table.columns["leaders"].width == movers_width(1)  # type: ignore[index]
        # One mover a side fits 120 columns beside the funds: the laggard is on screen.
        last = energy.laggards[0]
        row = next(line for line in screen_lines(app) if line.startswith("│ Energy"))
        assert f"{last.symbol} {last.change_pct:+.1f}" in row


async def test_sectors_show_weights_and_the_reference_funds() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        lines = screen_lines(app)
        header = next(line for line in lines if "Sector" in line and "Lg 1D" in line)
        # The small side's funds are S&P SmallCap 600 funds, and the header says so.
        for label in ("Wt L/S", "Brd%", "Lg fund", "S600 fund", "Leaders", "Laggards"):
            assert label in header, label
        # Information Technology weighs 34.2 % of the S&P 500 and 13.9 % of the Russell 2000;
        # its funds moved 0.05 pp more than the members (0.62 and 0.15).
        row = next(line for line in lines if line.startswith("│ Info Tech"))
        assert table.get_cell("Information Technology", "weight").plain == "34/14"
        assert "34/14" in row
        assert "XLK ▲+0.67" in row and "PSCT ▲+0.20" in row
        # Communication Services has no S&P 600 fund: a dash, not a made-up reference.
        assert table.get_cell("Communication Services", "small_etf").plain == "—"
        assert str(table.border_subtitle) == "legs: members weighted as the index"
        # The weight sorts like any figure (the large side's weight, heaviest first).
        rows = engine.latest.sectors  # type: ignore[union-attr]
        for key in ("s", "s", "s", "s"):
            await pilot.press(key)
        assert str(table.border_title).endswith("sort Weight ▼")
        assert table.row_keys() == expected_order(rows, lambda r: r.large.weight_pct, True)


async def test_breadth_panel_at_120x40_and_shed_in_the_compact_layouts() -> None:
    engine = ScriptedEngine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    # Written by hand from app_support.INDEX_LEGS.
    large = "S&P 500        503/503   62%   55%    58%     12      3     6%"
    small = "Russell 2000 1890/1921   41%   38%    45%      4     18    41%"
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        shown = "\n".join(screen_lines(app))
        assert large in shown and small in shown
        assert "Breadth: large vs small" in shown
        for size in ((80, 24), (60, 20), (100, 32), (120, 30)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            shown = "\n".join(screen_lines(app))
            if size == (100, 32):
                # Wide and medium: the chart's column has room for it, its 46 columns for
                # the members quoted and three breadth figures (the rest gives way).
                assert large[:41] in shown and small[:41] in shown, size
                assert "52w hi" not in shown
                continue
            assert large not in shown and "Breadth" not in shown, size
            # What the compact and minimal layouts keep first.
            assert "in 05:03:00:00" in shown and "▼-0.58 pp" in shown, size


async def test_compact_layout_keeps_countdown_and_style_beside_the_spread() -> None:
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock)
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        lines = "\n".join(screen_lines(app))
        assert "in 05:03:00:00" in lines
        assert "Lg ▼-0.20  Sm ▲+0.30 pp" in lines
        # The statement time gives way at 80x24: it is always 14:00 ET.
        assert not app.dashboard.query_one("#fed-statement").display
