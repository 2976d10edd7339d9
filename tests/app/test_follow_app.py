"""The app following a recording (capgap --follow): the poller's figures, its drilldown, and
the status line's word on the recording (source, age, STALE), headless on a manual clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import SESSION_11AM, SNAPSHOT_THEME, screen_lines, wait_for
from capgap.core.clock import ManualClock
from capgap.core.resources import sample_data_dir
from capgap.engine.loop import Engine
from capgap.engine.sources import follow_engine
from capgap.feeds.recording.recorder import Recorder
from capgap.feeds.recording.replay import ReplayFeed
from capgap.ui.app import CapgapApp
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.widgets.spread_panel import SpreadPanel
from capgap.ui.widgets.status_line import StatusLine


async def test_the_app_follows_a_recording_and_drills_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative folder: the status line's label (and so the room left for the feeds) does
    # not depend on how long the machine's temporary path is.
    monkeypatch.chdir(tmp_path)
    folder = Path("rec")
    # The poller: the sample session's engine recording (as `capgap record` does live). The
    # whole index is recorded, so this test takes a few seconds on a loaded machine.
    clock = ManualClock(SESSION_11AM)
    recorder = Recorder(folder, clock, source="demo", synthetic=True)
    poller = Engine(ReplayFeed(sample_data_dir(), clock, name="demo"), clock, recorder=recorder)
    polled = await poller.refresh()
    assert recorder.flush() is None
    viewer_clock = ManualClock(SESSION_11AM)
    app = CapgapApp(
        follow_engine(folder, clock=viewer_clock),
        theme=SNAPSHOT_THEME,
        animation_level="none",
    )
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(lambda: app.latest is not None, pilot)
        seen = app.latest
        assert seen is not None
        assert seen.spread.large.last == polled.spread.large.last
        assert seen.spread.small.change_pct == polled.spread.small.change_pct
        assert seen.demo  # recorded from synthetic data: the DEMO badge stays
        spread = str(app.dashboard.query_one(SpreadPanel).content)
        assert f"{polled.spread.large.last:,.2f}" in spread
        await pilot.pause()
        top = screen_lines(app)[0]
        assert "follow ok · recording 0s" in top
        assert top.rstrip().endswith("follow: demo via rec")
        # The poller stops: three flush intervals (5 s each) later the data age says STALE.
        viewer_clock.advance(16)
        app.dashboard.query_one(StatusLine).tick()  # the screen's one-second tick
        await pilot.pause()
        top = screen_lines(app)[0]
        assert "recording 16s" in top and "STALE" in top
        # The drilldown works on the recorded members as on the poller's.
        await pilot.press("enter")
        await wait_for(
            lambda: isinstance(app.screen, SectorScreen) and app.screen.detail is not None, pilot
        )
        screen = app.screen
        assert isinstance(screen, SectorScreen)
        detail = screen.detail
        assert detail is not None and detail.constituents
    # The poller's own drilldown of that sector: the same stocks at the same prices.
    poller.focus(sector=detail.name)
    theirs = (await poller.rebuild()).sector_detail
    assert theirs is not None
    assert [(row.symbol, row.last) for row in detail.constituents] == [
        (row.symbol, row.last) for row in theirs.constituents
    ]
    await poller.aclose()
