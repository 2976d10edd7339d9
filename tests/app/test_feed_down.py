"""Offline or with a feed down: the status line leads with what matters, and so do drilldowns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from app_support import SNAPSHOT_THEME, ScriptedEngine, make_snapshot, screen_lines, wait_for
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.records import replace
from capgap.core.snapshot import FeedState, FeedStatus, Snapshot
from capgap.market.calendar import market_session
from capgap.ui.app import CapgapApp
from capgap.ui.screens.fed_detail import FedDetailScreen, RatePathChart
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.widgets.ratio_chart import RatioChart
from capgap.ui.widgets.status_line import fit_pair, market_variants
from capgap.ui.widgets.themed_plot import NO_DATA

#: Saturday 6 Dec 2025, 10:00 New York: closed until Monday 09:30.
SATURDAY = datetime(2025, 12, 6, 10, 0, tzinfo=NEW_YORK)
RETRY = SATURDAY + timedelta(minutes=4, seconds=5)


def offline(now: datetime = SATURDAY, **overrides: object) -> Snapshot:
    """A snapshot whose quotes feed never answered and whose rates feed failed a while ago."""
    feeds = (
        FeedStatus(
            "yahoo", "down", None, None, "Yahoo connection failed: All connection attempts failed",
            next_retry=RETRY, stale=True,
        ),
        FeedStatus(
            "nyfed", "degraded", now - timedelta(minutes=20), 1200.0, "New York Fed HTTP 503",
            next_retry=now + timedelta(minutes=1),
        ),
    )  # fmt: skip
    return replace(make_snapshot(now), feeds=feeds, **overrides)  # type: ignore[arg-type]


def make_app(engine: ScriptedEngine) -> CapgapApp:
    return CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")  # type: ignore[arg-type]


def test_market_variants_say_when_it_next_opens() -> None:
    saturday = market_variants(market_session(SATURDAY), SATURDAY)
    assert [v.content.plain for v in saturday] == [
        "CLOSED, opens Mon 8 Dec 09:30",
        "CLOSED, opens Mon 09:30",
        "opens Mon 09:30",
        "CLOSED",
    ]
    thanksgiving = datetime(2025, 11, 27, 12, 0, tzinfo=NEW_YORK)
    assert [
        v.content.plain for v in market_variants(market_session(thanksgiving), thanksgiving)
    ] == [
        "CLOSED - Thanksgiving Day, opens Fri 28 Nov 09:30",
        "CLOSED - Thanksgiving Day, opens Fri 09:30",
        "CLOSED, opens Fri 09:30",
        "opens Fri 09:30",
        "CLOSED",
    ]
    early = datetime(2025, 12, 5, 8, 0, tzinfo=NEW_YORK)
    assert market_variants(market_session(early), early)[-3].content.plain == "PRE, opens 09:30"
    during = datetime(2025, 12, 5, 11, 0, tzinfo=NEW_YORK)
    assert [v.content.plain for v in market_variants(market_session(during), during)] == ["OPEN"]


def test_the_feeds_state_and_next_try_outrank_the_market_detail() -> None:
    snapshot = offline()
    markets = market_variants(snapshot.market, SATURDAY)
    from capgap.ui.widgets.status_line import feed_variants

    feeds = feed_variants(snapshot.feeds, SATURDAY)
    wide_market, wide_feeds = fit_pair(markets, feeds, 300)
    assert wide_market.plain == "CLOSED, opens Mon 8 Dec 09:30"
    assert "All connection attempts failed" in wide_feeds.plain
    # 50 cells: the market says only when it opens, the feeds keep the worst one's next try.
    market, feed = fit_pair(markets, feeds, 50)
    assert (market.plain, feed.plain) == ("opens Mon 09:30", "yahoo down, retry 10:04:05 +1")
    # 40 cells: the market gives way before the feeds lose their next try.
    market, feed = fit_pair(markets, feeds, 40)
    assert market.plain == "CLOSED"
    assert feed.plain == "yahoo down, retry 10:04:05 +1"


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (100, 32), (120, 40)])
async def test_offline_the_status_line_leads_with_state_and_next_try(
    size: tuple[int, int],
) -> None:
    clock = ManualClock(SATURDAY)
    engine = ScriptedEngine(clock, offline(), demo=False, source_label="yahoo")
    app = make_app(engine)
    async with app.run_test(size=size) as pilot:
        await wait_for(lambda: app.latest is not None, pilot)
        await pilot.pause()
        top = screen_lines(app)[0]
        assert "yahoo down" in top and "data 3s STALE" in top
        if size[0] >= 80:
            # State, then the next try; the other failing feed is counted where it has no room.
            assert "yahoo down, retry 10:04:05" in top
        if size[0] in (80, 100):
            assert "yahoo down, retry 10:04:05 +1" in top
        if size[0] >= 80:
            # A closed market says when it opens, at 80 columns in the fewest words.
            assert "opens Mon" in top
        if size[0] >= 100:
            assert "CLOSED, opens Mon" in top
        if size[0] >= 120:
            # The rates feed is a feed of its own.
            assert "yahoo down, retry 10:04:05 · nyfed degraded, retry 10:01:00" in top


@pytest.mark.parametrize(
    ("yahoo", "nyfed", "expected"),
    [
        ("ok", "ok", ["CLOSED, opens Mon 8 Dec 09:30", "yahoo ok · nyfed ok"]),
        ("ok", "degraded", ["CLOSED, opens Mon 09:30", "nyfed degraded, retry 10:01:00"]),
    ],
)
async def test_at_80_columns_a_closed_market_says_when_it_opens(
    yahoo: FeedState, nyfed: FeedState, expected: list[str]
) -> None:
    snapshot = offline()
    feeds = (
        replace(snapshot.feeds[0], state=yahoo, error=None, next_retry=None, stale=False),
        replace(snapshot.feeds[1], state=nyfed),
    )
    engine = ScriptedEngine(
        ManualClock(SATURDAY), replace(snapshot, feeds=feeds), demo=False, source_label="yahoo"
    )
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.latest is not None, pilot)
        await pilot.pause()
        top = screen_lines(app)[0]
        for text in expected:
            assert text in top


async def open_sector(app: CapgapApp, pilot: object) -> str:
    """Open the sector under the cursor once the first snapshot is in; return the top row."""
    await wait_for(lambda: app.latest is not None, pilot)
    await pilot.press("enter")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, SectorScreen), pilot)
    await pilot.pause()  # type: ignore[attr-defined]
    return screen_lines(app)[0]


def offline_app(snapshot: Snapshot | None = None) -> CapgapApp:
    """The app on a live-looking engine (source 'yahoo') serving ``snapshot`` (offline)."""
    engine = ScriptedEngine(
        ManualClock(SATURDAY), snapshot or offline(), demo=False, source_label="yahoo"
    )
    return make_app(engine)


async def test_drilldown_screens_show_the_feed_state() -> None:
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert "yahoo down, retry 10:04:05 +1" in await open_sector(app, pilot)
        await pilot.press("escape", "f")
        await wait_for(lambda: isinstance(app.screen, FedDetailScreen), pilot)
        await pilot.pause()
        assert "yahoo down, retry 10:04:05 +1" in screen_lines(app)[0]


async def test_an_empty_chart_says_no_data() -> None:
    clock = ManualClock(SATURDAY)
    empty = offline()
    empty = replace(
        empty,
        spread=replace(empty.spread, ratio_history=()),
        fed=replace(empty.fed, probabilities=()),
    )
    engine = ScriptedEngine(clock, empty, demo=False, source_label="yahoo")
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.latest is not None, pilot)
        await pilot.pause()
        chart = app.dashboard.query_one(RatioChart)
        lines = screen_lines(app)
        region = chart.content_region
        inside = [lines[y][region.x : region.right] for y in range(region.y, region.bottom)]
        assert any(NO_DATA in line for line in inside)
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, FedDetailScreen), pilot)
        await pilot.pause()
        path = app.screen.query_one(RatePathChart).content_region
        lines = screen_lines(app)
        assert any(NO_DATA in lines[y][path.x : path.right] for y in range(path.y, path.bottom))


def test_offline_snapshot_is_utc() -> None:
    assert offline().as_of.tzinfo is not None and offline().as_of.astimezone(UTC)


async def test_the_data_age_keeps_its_width_while_the_seconds_tick() -> None:
    # Each change of the age's width lays out the whole screen. A replay's age crosses a
    # minute at every poll: the width grows at once and shrinks only after a minute.
    from textual.widgets import Static

    clock = ManualClock(SATURDAY)
    snapshot = replace(offline(), data_as_of=SATURDAY - timedelta(seconds=50))
    feeds = tuple(replace(feed, state="ok", stale=False) for feed in snapshot.feeds)
    engine = ScriptedEngine(clock, replace(snapshot, feeds=feeds), demo=False)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.latest is not None, pilot)
        status = app.dashboard.query_one("#status")
        age = app.dashboard.query_one("#data-age", Static)

        def tick(seconds: float) -> int:
            clock.set(SATURDAY + timedelta(seconds=seconds))
            status.tick()  # type: ignore[attr-defined]
            return int(age.styles.width.value)  # type: ignore[union-attr]

        short = tick(0)  # 'data 50s': room for 'data 59s'
        assert short == len("data 59s") + 2
        long = tick(20)  # 'data 1m10s': grows at once
        assert long == len("data 59m59s") + 2
        widths = {tick(0) for _ in range(59)}  # back under a minute: keeps its room ...
        assert widths == {long}
        assert tick(0) == short  # ... for a minute, then gives it back


def test_a_trail_with_no_room_loses_its_first_steps_never_the_last() -> None:
    from capgap.ui.widgets.breadcrumb import fit_trail

    crumbs = ("Dashboard", "Utilities", "AWR")
    assert fit_trail(crumbs, 80).plain == "Dashboard › Utilities › AWR"
    assert fit_trail(crumbs, 20).plain == "… › Utilities › AWR"
    assert fit_trail(crumbs, 8).plain == "… › AWR"
    assert fit_trail(crumbs, 3).plain == "… › AWR"  # cut by the screen, never dropped


async def test_at_60_columns_the_drilldown_keeps_where_you_are_over_feeds_ok() -> None:
    snapshot = offline()
    fine = replace(
        snapshot,
        feeds=tuple(replace(f, state="ok", error=None, next_retry=None) for f in snapshot.feeds),
    )
    app = offline_app(fine)
    async with app.run_test(size=(60, 20)) as pilot:
        top = await open_sector(app, pilot)
        # The whole trail; "yahoo ok" only where it leaves the trail its room.
        assert f"Dashboard › {app.screen.crumb}" in top and "…" not in top  # type: ignore[attr-defined]
    # With a feed down the feed's state comes first, whatever the room.
    app = offline_app()
    async with app.run_test(size=(60, 20)) as pilot:
        assert "yahoo down" in await open_sector(app, pilot)
