"""A closed screen's key bar is freed: drilling in and out all day does not grow memory.

Textual's Footer binds each key to the bar (``data_bind``) and kept every key it ever built
alive, with its render caches, through that binding's watcher: about 1.5 MB a drilldown.
"""

from __future__ import annotations

import gc

from app_support import wait_for
from capgap.ui.messages import OpenSymbol
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.screens.symbol import SymbolScreen
from test_screen_snapshots import demo_app, symbol
from textual.widgets._footer import FooterKey


def kept_keys() -> int:
    """Keys alive though in no bar on screen."""
    gc.collect()
    return sum(1 for key in gc.get_objects() if isinstance(key, FooterKey) and not key.is_attached)


async def test_the_keys_of_closed_screens_are_not_kept() -> None:
    app = demo_app("capgap-dark")
    async with app.run_test(size=(120, 40)) as pilot:

        async def drill_out_and_in(times: int) -> int:
            for _ in range(times):
                await pilot.press("escape")
                await wait_for(lambda: isinstance(app.screen, SectorScreen), pilot)
                app.post_message(OpenSymbol("CAT"))
                await wait_for(
                    lambda: isinstance(app.screen, SymbolScreen) and app.screen.detail is not None,
                    pilot,
                )
            await pilot.pause()
            return kept_keys()

        await symbol(app, pilot)
        few = await drill_out_and_in(2)
        many = await drill_out_and_in(6)
    # The last bars removed may linger a while (the compositor's caches), but no more of
    # them with more drilldowns; before, every bar built stayed: about 16 keys a screen change.
    assert many <= few, (few, many)
