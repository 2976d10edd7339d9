"""The members' age on the status line: shown with a universe, shed first when narrow."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from app_support import screen_lines, wait_for
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import FeedStatus, UniverseInfo, UniverseSnapshot
from capgap.market.calendar import market_session
from capgap.ui import app as app_module
from capgap.ui.themes import variable_defaults
from capgap.ui.widgets.status_line import StatusLine, member_age, members_since
from textual.app import App, ComposeResult

#: Tuesday 9 Dec 2025, 11:00 New York: open.
NOW = datetime(2025, 12, 9, 11, 0, tzinfo=NEW_YORK)
CSS = Path(app_module.__file__).parent / "styles" / "app.tcss"


def leg(index: str, fund: str, oldest: float | None) -> UniverseInfo:
    return UniverseInfo(index, f"iShares {fund}", date(2025, 11, 18), "shipped", 500, 499, oldest)


UNIVERSE = UniverseSnapshot(
    large=leg("S&P 500", "IVV", 70.0), small=leg("Russell 2000", "IWM", 100.0), rolling=True
)


def snapshot(universe: UniverseSnapshot | None, *feeds: FeedStatus) -> Any:
    """What StatusLine.apply reads of a Snapshot (the analytics' types are not this test's)."""
    ok = FeedStatus("yahoo", "ok", NOW, 0.0, None)
    return SimpleNamespace(
        as_of=NOW,
        data_as_of=NOW - timedelta(seconds=3),
        feeds=feeds or (ok,),
        market=market_session(NOW),
        universe=universe,
        # In the regular session: no pre/post prices to name.
        spread=SimpleNamespace(extended=None),
    )


class StatusApp(App[None]):
    CSS_PATH = str(CSS)

    def __init__(self, clock: ManualClock) -> None:
        super().__init__()
        self.clock = clock

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # capgap's own colours ($gap-warn for the badges and states), as CapgapApp gives them.
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield StatusLine(self.clock, demo=False, source_label="yahoo", id="status")


def test_the_members_age_is_the_older_legs():
    since = members_since(UNIVERSE, NOW)
    assert since == NOW - timedelta(seconds=100)
    assert member_age(since, NOW).plain == "mbr 1m40s"
    assert member_age(since, NOW + timedelta(seconds=5)).plain == "mbr 1m45s"
    assert member_age(members_since(None, NOW), NOW).plain == "mbr —"
    none_quoted = UniverseSnapshot(large=leg("S&P 500", "IVV", None), small=None)
    assert members_since(none_quoted, NOW) is None


@pytest.mark.parametrize("width", [60, 80, 120])
async def test_the_status_line_shows_the_members_age_where_there_is_room(width: int):
    clock = ManualClock(NOW)
    app = StatusApp(clock)
    async with app.run_test(size=(width, 5)) as pilot:
        status = app.query_one(StatusLine)
        status.apply(snapshot(UNIVERSE))
        await pilot.pause()
        await wait_for(lambda: "yahoo ok" in screen_lines(app)[0], pilot)
        top = screen_lines(app)[0]
        # The essentials first: the market state, the feed's state, the data age.
        assert "OPEN" in top and "data 3s" in top
        assert "mbr 1m40s" in top
        clock.set(NOW + timedelta(seconds=20))
        status.tick()
        await pilot.pause()
        assert "mbr 2m00s" in screen_lines(app)[0]


async def test_without_a_universe_there_is_no_members_age():
    app = StatusApp(ManualClock(NOW))
    async with app.run_test(size=(120, 5)) as pilot:
        app.query_one(StatusLine).apply(snapshot(None))
        await pilot.pause()
        await wait_for(lambda: "yahoo ok" in screen_lines(app)[0], pilot)
        assert "mbr" not in screen_lines(app)[0]


async def test_at_60_columns_a_feed_down_outranks_the_members_age():
    down = FeedStatus(
        "yahoo", "down", NOW - timedelta(minutes=5), 300.0, "Yahoo HTTP 503",
        next_retry=NOW + timedelta(seconds=40),
    )  # fmt: skip
    rates = FeedStatus("nyfed", "degraded", NOW, 0.0, "New York Fed HTTP 503", next_retry=NOW)
    app = StatusApp(ManualClock(NOW))
    async with app.run_test(size=(60, 5)) as pilot:
        app.query_one(StatusLine).apply(snapshot(UNIVERSE, down, rates))
        await pilot.pause()
        await wait_for(lambda: "yahoo down" in screen_lines(app)[0], pilot)
        top = screen_lines(app)[0]
        assert "yahoo down, retry 11:00:40" in top
        assert "mbr" not in top
    # With room, both.
    app = StatusApp(ManualClock(NOW))
    async with app.run_test(size=(120, 5)) as pilot:
        app.query_one(StatusLine).apply(snapshot(UNIVERSE, down, rates))
        await pilot.pause()
        await wait_for(lambda: "yahoo down" in screen_lines(app)[0], pilot)
        top = screen_lines(app)[0]
        assert "yahoo down, retry 11:00:40" in top and "mbr 1m40s" in top


async def test_a_replay_serving_every_member_shows_no_members_age():
    # Every poll of a replay quotes every member: their age is the data's, already shown.
    clock = ManualClock(NOW)
    app = StatusApp(clock)
    async with app.run_test(size=(120, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.apply(snapshot(UniverseSnapshot(UNIVERSE.large, UNIVERSE.small, rolling=False)))
        await pilot.pause()
        assert not app.query_one("#member-age").display
        line.apply(snapshot(UNIVERSE))
        await pilot.pause()
        assert app.query_one("#member-age").display
