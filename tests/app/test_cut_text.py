"""Nothing on screen is cut mid-word or mid-number: what does not fit gives way whole.

Found by trying every screen at 60x20 to 200x60 (issue 16's audit): the key bar cut its last
key mid-word ("t The"), the sectors table showed a fund column cut mid-figure ("PSCU ▼-")
where it has no scrollbar, and the sector screen's summary broke a leg's figures over lines.
"""

from __future__ import annotations

import pytest
from capgap.ui.app import CapgapApp
from test_layout import settled
from test_screen_snapshots import SCREENS, demo_app
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: The sizes the audit found a key cut at, and the screens with a key bar.
CUT_SIZES = ((60, 20), (80, 24))
FOOTED = ("dashboard", "sector", "symbol", "spread", "fed")


def key_labels(app: CapgapApp) -> set[str]:
    """Return every key of the active screen's key bar as it reads whole ("t Theme")."""
    footer = app.screen.query_one(Footer)
    return {
        f"{key.key_display} {key.description}".strip()
        for key in footer.query(FooterKey)
        if not key.has_class("-command-palette")
    }


def shown_keys(line: str) -> list[str]:
    """Return the key items of a key-bar line left of the palette key, split on their gaps."""
    left = line.split("▏")[0]
    return [item.strip() for item in left.split("  ") if item.strip()]


@pytest.mark.parametrize("size", CUT_SIZES, ids=[f"{w}x{h}" for w, h in CUT_SIZES])
@pytest.mark.parametrize("screen", FOOTED)
async def test_the_key_bar_shows_whole_keys_only(screen: str, size: tuple[int, int]) -> None:
    app = demo_app("capgap-dark")
    async with app.run_test(size=size) as pilot:
        await SCREENS[screen](app, pilot)
        lines = await settled(app, pilot)
        labels = key_labels(app)
    items = shown_keys(lines[-1])
    assert items, lines[-1]
    # Each item on the bar is one whole key ("q Quit"), never a cut one ("t The").
    assert [item for item in items if item not in labels] == [], lines[-1]
    # The keys that give way are the last ones: the first keys all stay.
    assert items[0].startswith(("s ", "esc ")), lines[-1]
    assert "q Quit" in items, lines[-1]
