"""Nothing on screen is cut mid-word or mid-number: what does not fit gives way whole.

Found by trying every screen at 60x20 to 200x60 (issue 16's audit): the key bar cut its last
key mid-word ("t The"), the sectors table showed a fund column cut mid-figure ("PSCU ▼-")
where it has no scrollbar, and the sector screen's summary broke a leg's figures over lines.
"""

from __future__ import annotations

import re

import pytest
from capgap.core.snapshot import SECTOR_WINDOW_IDS
from capgap.ui.app import CapgapApp
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.widgets.sectors_table import SectorsTable, window_headers
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


#: The sectors table's headers, written out by hand (README "Sectors").
SECTOR_HEADERS = {
    "Sector",
    # The legs' and the spread's headers name the window shown (the `w` cycle).
    *(header for window in SECTOR_WINDOW_IDS for header in window_headers(window).values()),
    "Wt L/S",
    "Brd%",
    "Tag",
    "Lg fund",
    "S600 fund",
    "Leaders",
    "Laggards",
}
#: Widths either side of where a column ends, at heights without (24, 32) and with (40) the
#: table's horizontal scrollbar.
TABLE_SIZES = ((60, 20), (70, 24), (80, 24), (90, 24), (100, 32), (110, 32), (120, 40), (130, 40))


#: A whole cell of the table, by hand from README "Sectors": a sector name, a signed change
#: with two decimals, the weights, breadth, the tag, a fund with its change, a mover with one
#: decimal, or the dash of a missing figure. (Movers are two spaces apart: one cell each.)
WHOLE_CELL = re.compile(
    r"[A-Z][a-z]+( [A-Z][a-z]+)?"
    r"|[▲▼=][+-]?\d+\.\d\d"
    r"|\d+/\d+"
    r"|\d+%"
    r"|CYC|DEF"
    r"|[A-Z]+ [▲▼=][+-]?\d+\.\d\d"
    r"|[A-Z][A-Z.\-]* [+-]\d+\.\d"
    r"|—"
)


def table_lines(lines: list[str]) -> list[str]:
    """Return the sectors table's rows between its side borders (header first)."""
    start = next(i for i, line in enumerate(lines) if "Sectors" in line and "╭" in line)
    rows = []
    for line in lines[start + 1 :]:
        if line.lstrip().startswith("╰"):
            break
        rows.append(line[line.index("│") + 1 : line.rindex("│")])
    return rows


@pytest.mark.parametrize("size", TABLE_SIZES, ids=[f"{w}x{h}" for w, h in TABLE_SIZES])
async def test_the_sectors_table_shows_whole_columns_only(size: tuple[int, int]) -> None:
    app = demo_app("capgap-dark")
    async with app.run_test(size=size) as pilot:
        await SCREENS["dashboard"](app, pilot)
        rows = table_lines(await settled(app, pilot))
        table = app.screen.query_one(SectorsTable)
        # The columns past the edge are still there, for `h` `l` to scroll to.
        assert table.max_scroll_x > 0 or "Laggards" in rows[0]
    header = [item.strip() for item in rows[0].split("  ") if item.strip()]
    assert [item for item in header if item not in SECTOR_HEADERS] == [], rows[0]
    for row in rows[1:]:
        cells = [item.strip() for item in row.split("  ") if item.strip()]
        # Every cell whole: a figure keeps its decimals ("PSCU ▼-" and "XLU ▼-0.7" are cut).
        assert [cell for cell in cells if not WHOLE_CELL.fullmatch(cell)] == [], row


SUMMARY_SIZES = ((60, 20), (80, 24), (100, 32), (120, 40), (200, 60))


@pytest.mark.parametrize("size", SUMMARY_SIZES, ids=[f"{w}x{h}" for w, h in SUMMARY_SIZES])
async def test_the_sector_summary_keeps_each_leg_on_one_line(size: tuple[int, int]) -> None:
    app = demo_app("capgap-dark")
    async with app.run_test(size=size) as pilot:
        await SCREENS["sector"](app, pilot)
        lines = await settled(app, pilot)
        screen = app.screen
        assert isinstance(screen, SectorScreen) and screen.detail is not None
        row = screen.detail.row
    assert row is not None
    for label, leg, fund in (("Large", row.large, "fund"), ("Small", row.small, "S600 fund")):
        assert leg.etf_symbol is not None and leg.etf_change_pct is not None
        line = next(line for line in lines if f"{label} " in line and " wt " in line)
        # The leg's weight, members and P/E on its line; its fund whole, on it or under it.
        assert f" of {leg.members} P/E " in line, line
        fund_line = next(line for line in lines if f"{fund} {leg.etf_symbol} " in line)
        assert f"{leg.etf_change_pct:+.2f}" in fund_line, fund_line
        if size[0] >= 80:
            assert fund_line == line
