"""Screenshots of the dashboard on the sample session, compared with the accepted SVGs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app_support import SESSION_11AM, SNAPSHOT_THEME, wait_for

from tui.clock import ManualClock
from tui.engine import demo_engine
from tui.market.calendar import NEW_YORK
from tui.ui.app import CapgapApp

BEFORE_CLOSE = datetime(2025, 12, 5, 15, 59, tzinfo=NEW_YORK)


def demo_app(at: datetime) -> CapgapApp:
    # A manual clock never moves: the clock, the age and the countdown are the same every run.
    return CapgapApp(demo_engine(ManualClock(at)), theme=SNAPSHOT_THEME, animation_level="none")


async def data_shown(pilot: Any) -> None:
    app = pilot.app
    await wait_for(lambda: app.dashboard.applied >= 1, pilot)


def test_dashboard_80x24(snap_compare: Any) -> None:
    assert snap_compare(demo_app(SESSION_11AM), terminal_size=(80, 24), run_before=data_shown)


def test_dashboard_120x40(snap_compare: Any) -> None:
    assert snap_compare(demo_app(SESSION_11AM), terminal_size=(120, 40), run_before=data_shown)


def test_dashboard_120x40_before_the_close_sorted_by_sector(snap_compare: Any) -> None:
    assert snap_compare(
        demo_app(BEFORE_CLOSE),
        terminal_size=(120, 40),
        run_before=data_shown,
        press=["s", "s", "s", "s"],
    )


def test_dashboard_200x60(snap_compare: Any) -> None:
    assert snap_compare(demo_app(SESSION_11AM), terminal_size=(200, 60), run_before=data_shown)
