"""Pilot tests of the app on the bundled sample session (the real engine, a manual clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app_support import SESSION_11AM, SNAPSHOT_THEME, wait_for
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.engine.loop import Engine
from capgap.engine.sources import demo_engine
from capgap.market.fomc import format_countdown
from capgap.ui.app import CapgapApp
from capgap.ui.messages import SnapshotReady
from capgap.ui.widgets.sectors_table import SectorsTable
from capgap.ui.widgets.spread_panel import SpreadPanel
from textual.message import Message
from textual.widgets import Static

CLOSE = datetime(2025, 12, 5, 16, 0, tzinfo=NEW_YORK)


def make_app(engine: Engine) -> CapgapApp:
    return CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")


def text(app: CapgapApp, selector: str) -> str:
    return str(app.dashboard.query_one(selector, Static).content)


async def first_snapshot(app: CapgapApp, pilot: Any) -> None:
    await wait_for(lambda: app.dashboard.latest is not None, pilot)


def signed(value: float) -> str:
    # The reference formatting, written out independently of capgap.ui.format.
    return f"{'▲' if value > 0 else '▼' if value < 0 else '='}{value:+.2f}"


async def test_demo_app_starts_and_shows_the_engine_figures() -> None:
    seen: list[Message] = []
    clock = ManualClock(SESSION_11AM)
    engine = demo_engine(clock)
    app = make_app(engine)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await first_snapshot(app, pilot)
        snap = app.dashboard.latest
        assert snap is not None and snap.demo
        ready = [m for m in seen if isinstance(m, SnapshotReady)]
        assert ready and any(m.snapshot is snap for m in ready)

        spread = str(app.dashboard.query_one(SpreadPanel).content)
        for quote in (snap.spread.large, snap.spread.small):
            assert quote.last is not None and quote.change_pct is not None
            assert f"{quote.last:,.2f}" in spread
            assert f"{signed(quote.change_pct)}%" in spread
        assert snap.spread.ratio is not None
        assert f"RUT/SPX {snap.spread.ratio:.4f}" in spread
        assert "Fwd P/E" in spread and "excl. neg" in spread  # the method beside the figures
        assert app.dashboard.query_one(SpreadPanel).border_subtitle == "P/E: demo"

        assert app.dashboard.query_one("#demo-badge").display
        assert text(app, "#market-state") == "OPEN"
        assert text(app, "#ny-clock") == "11:00:00 ET"
        assert text(app, "#source") == engine.source_label

        decision = snap.fed.next_decision
        assert decision is not None and decision.date.isoformat() == "2025-12-10"
        assert text(app, "#fed-day") == "Wed 10 Dec 2025  SEP"
        seconds = int((decision.statement_at - clock.now()).total_seconds())
        assert text(app, "#fed-countdown") == f"in {format_countdown(seconds)}"
        assert text(app, "#fed-range") == "range 3.75-4.00 % (sample)"

        table = app.dashboard.query_one(SectorsTable)
        assert set(table.row_keys()) == {row.sector for row in snap.sectors}
        for row in snap.sectors:
            if row.spread_pp is not None:
                assert table.get_cell(row.sector, "spread").plain == signed(round(row.spread_pp, 2))


async def test_sorting_the_demo_sectors_follows_their_values() -> None:
    engine = demo_engine(ManualClock(SESSION_11AM))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await first_snapshot(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        snap = app.dashboard.latest
        assert snap is not None
        getters: list[tuple[Any, bool]] = [
            (lambda r: r.large.change_pct, True),
            (lambda r: r.small.change_pct, True),
            (lambda r: r.breadth_pct, True),
            (lambda r: r.large.weight_pct, True),  # the sector's weight in the S&P 500
            (lambda r: r.sector, False),
        ]
        for getter, descending in getters:
            await pilot.press("s")
            present = [r for r in snap.sectors if getter(r) is not None]
            expected = [r.sector for r in sorted(present, key=getter, reverse=descending)]
            expected += [r.sector for r in snap.sectors if getter(r) is None]
            assert table.row_keys() == expected
        await pilot.press("S")
        assert table.row_keys() == sorted((r.sector for r in snap.sectors), reverse=True)


async def test_replay_end_keeps_the_closing_figures() -> None:
    clock = ManualClock(CLOSE - timedelta(seconds=30), end=CLOSE)
    engine = demo_engine(clock, refresh_s=0.05)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await first_snapshot(app, pilot)
        clock.set(CLOSE)
        await wait_for(lambda: text(app, "#market-state") == "REPLAY END 16:00", pilot)
        await pilot.pause()
        snap = app.dashboard.latest
        assert snap is engine.latest and snap is not None
        spread = str(app.dashboard.query_one(SpreadPanel).content)
        # The sample session's closing prints (calibration anchors of sample_data).
        assert "6,870.40" in spread and "2,521.48" in spread
        assert not app.workers  # the engine's loop has returned; the screen keeps its figures
        await pilot.press("s")  # and the app stays usable
        assert app.is_running


async def test_before_the_open_breadth_leaders_and_laggards_are_missing() -> None:
    # 09:00 on the sample day: every last is the previous close. Before, the table showed 0%
    # breadth and the alphabetically first names as leaders and laggards.
    clock = ManualClock(datetime(2025, 12, 5, 9, 0, tzinfo=NEW_YORK))
    app = make_app(demo_engine(clock))
    async with app.run_test(size=(200, 40)) as pilot:
        await first_snapshot(app, pilot)
        table = app.dashboard.query_one(SectorsTable)
        for sector in table.row_keys():
            assert table.get_cell(sector, "breadth").plain == "—"
            assert table.get_cell(sector, "leaders").plain == "—"
            assert table.get_cell(sector, "laggards").plain == "—"


async def test_rec_shows_on_the_status_line_while_recording(tmp_path: Any) -> None:
    from app_support import screen_lines
    from capgap.core.resources import sample_data_dir
    from capgap.feeds.recording.recorder import Recorder
    from capgap.feeds.recording.replay import ReplayFeed

    clock = ManualClock(SESSION_11AM)
    recorder = Recorder(tmp_path / "rec", clock)
    engine = Engine(ReplayFeed(sample_data_dir(), clock, name="demo"), clock, recorder=recorder)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await first_snapshot(app, pilot)
        await pilot.pause()
        badge = app.dashboard.query_one("#rec-badge", Static)
        assert badge.display and str(badge.content).strip() == "REC"
        assert " REC " in screen_lines(app)[0]


async def test_rec_is_not_shown_without_a_recording() -> None:
    from app_support import screen_lines

    app = make_app(demo_engine(ManualClock(SESSION_11AM)))
    async with app.run_test(size=(120, 40)) as pilot:
        await first_snapshot(app, pilot)
        await pilot.pause()
        assert "REC" not in screen_lines(app)[0]
