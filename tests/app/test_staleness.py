"""Staleness on screen: judged as the clock ticks, per index, and the symbols a feed let down."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl
import pytest
from app_support import (
    SESSION_11AM,
    SNAPSHOT_THEME,
    QuotesOnlyFeed,
    ScriptedEngine,
    applied,
    counted,
    make_snapshot,
    wait_for,
)
from capgap.core.clock import ManualClock
from capgap.core.records import replace
from capgap.core.snapshot import FeedStatus
from capgap.engine.loop import Engine
from capgap.ui.app import CapgapApp
from capgap.ui.screens.feeds import FeedsScreen
from capgap.ui.widgets.spread_panel import SpreadPanel
from textual.widgets import Static


class HangingFeed(QuotesOnlyFeed):
    """Answers the first poll with the two indices, then never answers again (a hung poll)."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self.polls = 0
        self._never = asyncio.Event()

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        self.polls += 1
        if self.polls > 1:
            await self._never.wait()
        now = self._clock.now()
        return pl.DataFrame(
            {
                "symbol": ["^GSPC", "^RUT"],
                "time": [now, now],
                "last": [6870.40, 2521.48],
                "prev_close": [6857.12, 2531.16],
                "volume": [None, None],
            },
            schema={"symbol": pl.String, "time": pl.Datetime("us", "UTC"), "last": pl.Float64,
                    "prev_close": pl.Float64, "volume": pl.Float64},
        )  # fmt: skip

    async def aclose(self) -> None:
        self._never.set()


def status_text(app: CapgapApp, selector: str) -> str:
    return str(app.dashboard.query_one(selector, Static).content)


async def test_stale_shows_while_a_poll_hangs() -> None:
    # A poll that takes minutes sends no snapshot: the status line must judge staleness
    # from its own ticking clock, not wait for the snapshot that does not come.
    clock = ManualClock(SESSION_11AM)
    feed = HangingFeed(clock)
    engine = Engine(feed, clock, refresh_s=5.0)
    app = CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")  # type: ignore[arg-type]
    counted(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        assert "STALE" not in status_text(app, "#data-age")
        engine.wake()
        await wait_for(lambda: feed.polls >= 2, pilot)  # the second poll hangs from now on
        clock.advance(40)
        await wait_for(lambda: "STALE" in status_text(app, "#data-age"), pilot, rounds=800)
        assert applied(app) == 1  # no new snapshot: the tick alone found it stale
        assert status_text(app, "#data-age") == "data 40s STALE"


async def test_a_stale_index_and_the_problems_are_shown() -> None:
    snapshot = make_snapshot(SESSION_11AM)
    spread = snapshot.spread
    stale_small = replace(spread.small, age_s=45.0, stale=True)
    problems = (("^RUT", "yahoo has no price for ^RUT"), ("ZZZ", "yahoo does not know ZZZ"))
    feed = FeedStatus("yahoo", "ok", snapshot.as_of, 0.0, None, problems=problems)
    snapshot = replace(snapshot, spread=replace(spread, small=stale_small), feeds=(feed,))
    engine = ScriptedEngine(ManualClock(SESSION_11AM), snapshot)
    app = CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        panel = str(app.dashboard.query_one(SpreadPanel).content)
        assert "Russell STALE" in panel and "S&P 500" in panel and "S&P 500 STALE" not in panel
        assert status_text(app, "#feed-state").startswith("yahoo ok, 2 problems")
        await pilot.press("e")
        screen = app.screen
        assert isinstance(screen, FeedsScreen)
        await wait_for(
            lambda: "not quoted" in str(screen.query_one("#feeds", Static).content), pilot
        )
        listed = str(screen.query_one("#feeds", Static).content)
        assert "2 symbols not quoted" in listed
        assert "yahoo has no price for ^RUT" in listed and "yahoo does not know ZZZ" in listed
        await pilot.press("escape")
        assert app.screen is app.dashboard


def test_stale_is_one_definition_for_the_engine_and_the_screen() -> None:
    from capgap.feeds.health import FeedHealth

    health = FeedHealth("yahoo", cadence_s=5.0)
    start = datetime(2025, 12, 5, 16, 0)
    health.succeeded(start)
    for seconds in (0, 9.9, 10.0, 10.1, 60):
        now = start + timedelta(seconds=seconds)
        status = health.status(now)
        assert status.stale == (seconds > 10.0) == status.stale_at(now)
    later = start + timedelta(seconds=30)
    assert health.status(start).stale_at(later)  # a status judged again later turns stale


@pytest.mark.parametrize(
    "theme",
    ["capgap-dark", "capgap-light", "capgap-ansi", "capgap-mono", "capgap-colorblind",
     "capgap-high-contrast"],
)  # fmt: skip
async def test_the_stale_mark_and_the_feeds_screen_draw_in_every_theme(theme: str) -> None:
    # Every colour they use ($gap-stale, $warning, $success, $error) exists in each shipped
    # theme: a missing variable would fail the render, not fall back.
    snapshot = make_snapshot(SESSION_11AM)
    spread = replace(snapshot.spread, small=replace(snapshot.spread.small, stale=True))
    problems = (("^RUT", "yahoo has no price for ^RUT"),)
    feeds = (
        FeedStatus("yahoo", "ok", snapshot.as_of, 0.0, None, problems=problems),
        FeedStatus("nyfed", "down", None, None, "New York Fed HTTP 503"),
    )
    engine = ScriptedEngine(
        ManualClock(SESSION_11AM), replace(snapshot, spread=spread, feeds=feeds)
    )
    app = CapgapApp(engine, theme=theme, animation_level="none")  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        assert "Russell STALE" in str(app.dashboard.query_one(SpreadPanel).content)
        await pilot.press("e")
        screen = app.screen
        assert isinstance(screen, FeedsScreen)
        await wait_for(
            lambda: "nyfed down" in str(screen.query_one("#feeds", Static).content), pilot
        )
        await pilot.pause()
        assert app.return_code is None  # nothing failed to render
