"""`r` during a Retry-After window: one manual try, then a notice of when the next try is."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from app_support import SNAPSHOT_THEME, QuotesOnlyFeed, counted, received, wait_for
from capgap.core.clock import ManualClock
from capgap.engine.loop import Engine
from capgap.feeds.base import RateLimited
from capgap.ui.app import CapgapApp

MESSAGE = "Yahoo quote: rate limit (HTTP 429), retry in 60 s"


class RateLimitedFeed(QuotesOnlyFeed):
    """A live-like feed whose quote requests all answer "retry in 60 s", counting them."""

    def __init__(self) -> None:
        self.requests = 0

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        self.requests += 1
        raise RateLimited(MESSAGE, 60.0)


async def test_r_tries_once_per_window_then_says_when_the_next_try_is(
    manual_clock: ManualClock,
) -> None:
    feed = RateLimitedFeed()
    engine = Engine(feed, manual_clock, refresh_s=10.0)
    app = CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")  # type: ignore[arg-type]
    counted(app)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(lambda: app.latest is not None, pilot)
        assert feed.requests == 1
        assert app.latest is not None and app.latest.feeds[0].error == MESSAGE
        # The first `r` of the window is a real try.
        await pilot.press("r")
        await wait_for(lambda: received(app) >= 2, pilot)
        assert feed.requests == 2
        assert not [note for note in app._notifications if note.title == "refresh"]
        # Further presses in the window send nothing and say when the next try is.
        for _ in range(4):
            await pilot.press("r")
        notes = [note.message for note in app._notifications if note.title == "refresh"]
        assert notes == ["already tried once in this wait: next try in 1m00s"] * 4
        # Opening a sector inside the window builds it from the store: still no request.
        await pilot.press("enter")
        await wait_for(lambda: received(app) >= 3, pilot)
        assert feed.requests == 2
