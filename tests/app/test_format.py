"""Formatting helpers against hand-written expectations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from app_support import make_snapshot
from capgap.core.market_types import MarketSession
from capgap.core.records import replace
from capgap.core.snapshot import Mover
from capgap.core.text import fmt_day, fmt_ny_moment
from capgap.ui.format import (
    COMPACT_FROM,
    DOWN_STYLE,
    UP_STYLE,
    arrow,
    direction_style,
    fit_decimals,
    fmt_age,
    fmt_plain,
    fmt_price,
    fmt_range,
    fmt_signed,
    market_label,
    missing,
    ny_clock,
    sector_code,
    short_sector,
    signed_content,
)
from capgap.ui.widgets.keyed_table import signed_cell
from capgap.ui.widgets.sectors_table import SectorsTable
from capgap.ui.widgets.spread_panel import spread_content
from rich.style import Style


@pytest.mark.parametrize(
    ("value", "expected"),
    [(6870.4, "6,870.40"), (2521.484, "2,521.48"), (0.5, "0.50"), (None, missing())],
)
def test_fmt_price(value: float | None, expected: str) -> None:
    assert fmt_price(value) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (0.1937, 2, "+0.19"),
        (-0.3824, 2, "-0.38"),
        (-0.004, 2, "0.00"),  # rounds to zero: no "-0.00"
        (0.0, 1, "0.0"),
        (12.345, 1, "+12.3"),
        (None, 2, missing()),
    ],
)
def test_fmt_signed(value: float | None, decimals: int, expected: str) -> None:
    assert fmt_signed(value, decimals) == expected


def test_arrows_and_styles_follow_the_sign() -> None:
    assert (arrow(1.0), arrow(-1.0), arrow(0.0), arrow(None)) == ("▲", "▼", "=", " ")
    assert (direction_style(0.2), direction_style(-0.2), direction_style(0.0)) == (
        UP_STYLE,
        DOWN_STYLE,
        "",
    )


def test_signed_content_carries_arrow_sign_and_colour() -> None:
    content = signed_content(-0.3824, suffix="%")
    assert content.plain == "▼-0.38%"
    assert [span.style for span in content.spans] == [DOWN_STYLE]


@pytest.mark.parametrize(("value", "expected"), [(1.234, 2), (-12.5, 1), (150.0, 0), (None, 2)])
def test_fit_decimals_keeps_width(value: float | None, expected: int) -> None:
    assert fit_decimals(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0s"), (4.9, "4s"), (125, "2m05s"), (3720, "1h02m"), (273_600, "3d04h"), (-5, "0s")],
)
def test_fmt_age(seconds: float, expected: str) -> None:
    assert fmt_age(seconds) == expected


def test_ny_clock_converts_utc_across_dst() -> None:
    winter = datetime(2025, 12, 5, 16, 0, 5, tzinfo=UTC)  # EST, UTC-5
    summer = datetime(2025, 7, 1, 15, 0, tzinfo=UTC)  # EDT, UTC-4
    assert ny_clock(winter) == "11:00:05"
    assert ny_clock(summer, seconds=False) == "11:00"


def test_fmt_day_and_range() -> None:
    assert fmt_day(date(2025, 12, 10)) == "Wed 10 Dec 2025"
    assert fmt_day(date(2026, 1, 28)) == "Wed 28 Jan 2026"
    assert fmt_day(date(2026, 1, 8), year=False) == "Thu 8 Jan"
    assert fmt_day(date(2026, 1, 8), weekday=False, year=False) == "8 Jan"
    # 14:00 New York in summer is 18:00 UTC, in winter 19:00 UTC.
    assert fmt_ny_moment(datetime(2026, 6, 17, 18, 0, tzinfo=UTC)) == "Wed 17 Jun 2026 14:00 ET"
    assert fmt_ny_moment(datetime(2025, 12, 10, 19, 0, tzinfo=UTC)) == "Wed 10 Dec 2025 14:00 ET"
    assert fmt_range((3.75, 4.0)) == "3.75-4.00 %"
    assert fmt_range(None) == missing()


def test_market_labels() -> None:
    close = datetime(2025, 11, 28, 18, 0, tzinfo=UTC)  # 13:00 New York, the early close
    assert market_label(MarketSession("open", None, None)) == "OPEN"
    assert market_label(MarketSession("post", None, None)) == "POST"
    assert market_label(MarketSession("holiday", None, None, "Christmas Day")) == (
        "CLOSED - Christmas Day"
    )
    early = MarketSession("open", None, close, early_close=True)
    assert market_label(early) == "OPEN - early close 13:00"


def test_sector_codes_are_four_letters_and_tell_the_shipped_sectors_apart() -> None:
    from capgap.market.universe import load_universe

    names = [sector.name for sector in load_universe().sectors]
    codes = [sector_code(name) for name in names]
    assert len(set(codes)) == len(names) == 11
    assert all(1 <= len(code) <= 4 and code.isupper() for code in codes)
    assert sector_code("Information Technology") == "TECH"
    # A custom sector: its first four letters (a market string, brackets and all, stays text).
    assert sector_code("AI & chips") == "AICH"
    assert sector_code("[x]") == "X"


def test_short_sector_names() -> None:
    assert short_sector("Information Technology") == "Info Tech"
    assert short_sector("Energy") == "Energy"


def test_arrow_and_colour_follow_the_digits_shown() -> None:
    # -0.0026 % prints as 0.00: no down arrow, no red, for a change nobody can see.
    tiny = signed_content(-0.0026, suffix="%")
    assert tiny.plain == "=0.00%"
    assert tiny.spans == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (999_999.99, "999,999.99"),
        (1_000_000.0, "1.00M"),
        (12_345_678.9, "12.35M"),
        (-3e9, "-3.00B"),
        (2.5e12, "2.50T"),
        (1e308, "1.00e+308"),
    ],
)
def test_large_numbers_are_compact(value: float, expected: str) -> None:
    # An absurd figure must not wrap over a panel: at most 9 cells from a million up.
    assert fmt_price(value) == expected
    assert len(expected) <= 10
    if abs(value) >= COMPACT_FROM:
        assert fmt_plain(value) == expected


def test_large_signed_figures_are_compact_with_their_sign() -> None:
    assert fmt_signed(1e306, 2, "%") == "+1.00e+306%"
    assert fmt_signed(-25_000_000.0) == "-25.00M"
    assert fmt_signed(999_999.0, 0) == "+999999"


def test_ascii_writes_every_panel_figure_in_ascii() -> None:
    # A vt100, TERM=dumb or a C locale gets --ascii by itself: beta, rho, the minus sign and
    # the dash of a missing figure must be ASCII there too, not only the arrows and borders.
    from app_support import make_snapshot
    from capgap.ui.glyphs import use_ascii
    from capgap.ui.widgets.spread_panel import spread_content

    spread = make_snapshot().spread
    try:
        use_ascii(True)
        text = spread_content(spread).plain + fmt_range(None)
        assert text.isascii() and "b60" in text and "r60" in text
        assert missing() == "-"
    finally:
        use_ascii(False)
    assert "β60" in spread_content(spread).plain and missing() == "—"


def test_a_figure_that_is_not_a_number_is_missing_not_nan() -> None:
    # As the tmux line and the table write it: no "+nan" nor "+inf" in a signed cell.
    for value in (float("nan"), float("inf"), float("-inf")):
        assert fmt_signed(value, 2, "%") == missing()
        content = signed_content(value, suffix="%")
        assert content.plain == f" {missing()}"
        assert content.spans == []


#: A signed figure fitted to its cell, as every panel and table writes it, by hand: text,
#: the same as a sector's mover (one decimal, no arrow) and direction (1 up, -1 down, 0 none).
FITTED = [
    (0.1937, "▲+0.19", "+0.2", 1),
    (-12.54, "▼-12.5", "-13", -1),
    (9.996, "▲+10.0", "+10", 1),  # rounds to 10.00: written as wide as 10.004
    (-0.004, "=0.00", "0.0", 0),  # rounds to zero: no arrow down, no red
    (150.4, "▲+150", "+150", 1),
    (None, " —", "—", 0),
]


@pytest.mark.parametrize(("value", "text", "mover", "direction"), FITTED)
def test_every_signed_cell_is_built_by_one_rule(
    value: float | None, text: str, mover: str, direction: int
) -> None:
    # The content of the symbol screen, the spread panel's cells, the tables' cells and the
    # sectors' movers were four copies of arrow + sign + colour; now one function builds them.
    theme_style = {1: UP_STYLE, -1: DOWN_STYLE, 0: ""}[direction]
    content = signed_content(value, fit=True)
    assert content.plain == text
    assert [span.style for span in content.spans] == ([theme_style] if direction else [])

    up, down = Style(color="green"), Style(color="red")
    cell = signed_cell(value, (up, down))
    assert cell.plain == text and cell.value == value
    assert [span.style for span in cell.spans] == ({1: [up], -1: [down], 0: []}[direction])

    # The panel's row of S-L changes: seven cells of seven columns, all this figure.
    spread = make_snapshot().spread
    windows = dict.fromkeys(("d1", "d5", "m1", "m3", "ytd", "y1"), value)
    panel = spread_content(replace(spread, relative_pp=replace(spread.relative_pp, **windows)))
    row = panel.plain.split("\n")[3]
    assert row == "S-L " + text.rjust(7) * 6

    if value is not None:
        # A mover: the same figure at one decimal, without the arrow (its colour says it).
        table = SectorsTable()
        table._styles = (up, down)
        movers = table._movers((Mover("AAA", "A Inc.", "large", value),))
        assert movers.plain == f"AAA {mover}"
        assert [span.style for span in movers.spans] == ({1: [up], -1: [down], 0: []}[direction])
