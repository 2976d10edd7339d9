"""The dashboard at every terminal size: what must stay on screen, and below the minimum size.

Sizes are walked on one app resized in place (cheap), and each check reads the rendered screen
text, not widget state: a widget may hold the countdown and still be clipped out of view.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from app_support import (
    SESSION_11AM,
    SNAPSHOT_THEME,
    ScriptedEngine,
    make_snapshot,
    screen_lines,
    wait_for,
)
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import MeetingOdds
from capgap.engine.sources import demo_engine
from capgap.ui.app import CapgapApp
from capgap.ui.messages import OpenSector
from capgap.ui.screens.help import HelpScreen
from capgap.ui.screens.sector import SectorScreen

#: Fri 5 Dec 11:00 ET to Wed 10 Dec 14:00 ET (the SEP meeting): 5 days 3 hours.
DEMO_COUNTDOWN = "in 05:03:00:00"
#: The day after the 29 Oct decision: the panel says it is out, and counts down to 10 Dec.
#: 11:00 EDT (15:00 UTC) on 30 Oct to 14:00 EST (19:00 UTC) on 10 Dec: 41 days 4 hours.
DECIDED_AT = datetime(2025, 10, 30, 11, 0, tzinfo=NEW_YORK)
DECIDED_COUNTDOWN = "in 41:04:00:00"

#: Every width and height from 60x20 to 200x60 in steps, and the sizes the issue names.
#: Each side of every breakpoint (80 and 100 columns; 24, 32 and 36 rows) is in the walk.
WIDTHS = (60, 79, 80, 99, 100, 120, 140, 160, 200)
HEIGHTS = (20, 23, 24, 28, 31, 32, 33, 34, 35, 36, 40, 44, 50, 60)
NAMED = ((100, 32), (100, 33), (100, 34), (100, 35), (120, 32), (160, 32))
WALK = sorted({*((w, h) for w in WIDTHS for h in HEIGHTS), *NAMED})


def whole(value: float) -> int:
    """Round a percentage half up, as a reader of FedWatch would (87.5 -> 88)."""
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def odds_patterns(odds: MeetingOdds) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Return the two forms the next meeting's odds take on screen, written out by hand.

    One line "cut 87% hold 13%" (compact and minimal layouts) or a meeting row
    "10 Dec  <bar>   87   13    0   3.67" (tall layout, under a header).
    """
    cut, hold, hike = whole(odds.cut_pct), whole(odds.hold_pct), whole(odds.hike_pct)
    summary = re.compile(rf"\bcut {cut}% hold {hold}%")
    day = f"{odds.meeting.day:>2} {odds.meeting.strftime('%b')}"
    row = re.compile(rf"{day}  \S*\s+{cut}\s+{hold}\s+{hike}\s+{odds.implied_rate:.2f}\b")
    return summary, row


async def settled(app: CapgapApp, pilot: Any) -> list[str]:
    """Return the screen once two captures in a row agree (resizes re-fit lines and charts)."""
    lines = screen_lines(app)
    for _ in range(50):
        await pilot.pause()
        again = screen_lines(app)
        if again == lines:
            return lines
        lines = again
    raise AssertionError("the screen did not settle")


def missing(lines: list[str], countdown: str, odds: MeetingOdds, gap: str) -> list[str]:
    """Return what of the countdown, the next meeting's odds and the gap is not on screen."""
    shown = "\n".join(lines)
    summary, row = odds_patterns(odds)
    lost = []
    if countdown not in shown:
        lost.append(countdown)
    if not (summary.search(shown) or row.search(shown)):
        lost.append(f"odds of {odds.meeting}")
    if gap not in shown:
        lost.append(gap)
    return lost


def report(failures: dict[str, list[str]]) -> str:
    """Return one line per size where something was lost."""
    return "lost from the screen:\n" + "\n".join(
        f"{size}: {lost}" for size, lost in failures.items()
    )


def gap_text(value: float) -> str:
    """Return the gap as the Russell line shows it: '▼-0.31 pp' (arrow, sign, two places)."""
    return f"{'▲' if value > 0 else '▼'}{value:+.2f} pp"


async def test_countdown_and_next_odds_are_on_screen_at_every_size_from_60x20() -> None:
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), theme=SNAPSHOT_THEME, animation_level="none"
    )
    async with app.run_test(size=WALK[0]) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        snapshot = app.dashboard.latest
        assert snapshot is not None and snapshot.spread.relative_pp.d1 is not None
        odds = snapshot.fed.probabilities[0]
        gap = gap_text(snapshot.spread.relative_pp.d1)
        failures = {}
        for width, height in WALK:
            await pilot.resize_terminal(width, height)
            lines = await settled(app, pilot)
            assert len(lines) == height and all(len(line) == width for line in lines)
            lost = missing(lines, DEMO_COUNTDOWN, odds, gap)
            if lost:
                failures[f"{width}x{height}"] = lost
        assert not failures, report(failures)


async def test_a_decision_just_out_still_leaves_room_for_countdown_and_odds() -> None:
    # The panel's extra "decision out" line must not push the countdown or the odds away.
    snapshot = make_snapshot(DECIDED_AT)
    assert snapshot.fed.last_decision is not None
    assert snapshot.spread.relative_pp.d1 is not None
    engine = ScriptedEngine(ManualClock(DECIDED_AT), snapshot)
    app = CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")  # type: ignore[arg-type]
    odds = snapshot.fed.probabilities[0]
    gap = gap_text(snapshot.spread.relative_pp.d1)
    sizes = sorted({*((w, h) for w in (60, 80, 100, 120, 200) for h in HEIGHTS), *NAMED})
    async with app.run_test(size=sizes[0]) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        failures = {}
        for width, height in sizes:
            await pilot.resize_terminal(width, height)
            lost = missing(await settled(app, pilot), DECIDED_COUNTDOWN, odds, gap)
            if lost:
                failures[f"{width}x{height}"] = lost
        assert not failures, report(failures)
        await pilot.resize_terminal(120, 40)
        assert "decision out" in "\n".join(await settled(app, pilot))


def fomc_line(lines: list[str]) -> str:
    return next(line for line in lines if DEMO_COUNTDOWN in line)


@pytest.mark.parametrize("size", [(60, 20), (79, 23), (46, 12), (120, 20)])
async def test_minimal_layout_labels_the_countdown_fomc(size: tuple[int, int]) -> None:
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), theme=SNAPSHOT_THEME, animation_level="none"
    )
    async with app.run_test(size=size) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        lines = await settled(app, pilot)
        # "FOMC Wed 10 Dec  in 05:03:00:00": what the countdown counts down to, on its line.
        assert re.search(rf"\bFOMC\s+Wed 10 Dec\s+{DEMO_COUNTDOWN}", fomc_line(lines))


README = Path(__file__).resolve().parents[2] / "README.md"
_COUNTDOWN = re.compile(r"in \d\d:\d\d:\d\d:\d\d")


def readme_minimal_block() -> list[str]:
    """Return the lines of the README's 60x20 example (under Terminals), indent removed."""
    text = README.read_text(encoding="utf-8")
    assert "At 60x20:" in text, "the README shows the minimal layout at 60x20"
    after = text.split("At 60x20:", 1)[1]
    block = after.split("```", 2)[1]
    # The example stops after a few sectors with "...".
    return [line[2:].rstrip() for line in block.splitlines() if line.strip() not in ("", "...")]


async def test_the_readme_shows_the_minimal_layout_as_it_is() -> None:
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), theme=SNAPSHOT_THEME, animation_level="none"
    )
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        lines = [line.rstrip() for line in await settled(app, pilot)]
    documented = readme_minimal_block()
    assert len(documented) >= 8
    # The status line's clock and age, and the countdown, are those of a live run: compare
    # every other character, and the status line's words.
    assert documented[0].split()[:2] == lines[0].split()[:2]
    for shown, written in zip(lines[1:], documented[1:], strict=False):
        assert _COUNTDOWN.sub("in …", shown) == _COUNTDOWN.sub("in …", written)


#: The smallest size at which the dashboard shows everything it must (written out by hand:
#: the Russell line with the gap is 44 cells plus the panel's padding of one a side; the
#: rows are the status line, two index lines, the FOMC line, its odds line, the sectors'
#: border, header, three sectors and border, and the keys).
MIN_WIDTH, MIN_HEIGHT = 46, 12


async def test_everything_is_on_screen_at_the_minimum_size() -> None:
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), theme=SNAPSHOT_THEME, animation_level="none"
    )
    async with app.run_test(size=(MIN_WIDTH, MIN_HEIGHT)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        snapshot = app.dashboard.latest
        assert snapshot is not None and snapshot.spread.relative_pp.d1 is not None
        lines = await settled(app, pilot)
        assert "too small" not in "\n".join(lines)
        gap = gap_text(snapshot.spread.relative_pp.d1)
        assert missing(lines, DEMO_COUNTDOWN, snapshot.fed.probabilities[0], gap) == []
        large, small = snapshot.spread.large, snapshot.spread.small
        assert lines[1].strip().startswith(f"{large.name}") and f"{large.last:,.2f}" in lines[1]
        assert lines[2].strip().startswith(f"{small.name}") and f"{small.last:,.2f}" in lines[2]
        assert gap in lines[2]
        sectors = [row.sector for row in snapshot.sectors]
        assert "Sector" in "\n".join(lines)
        shown = [line for line in lines if line.startswith("│ ") and "Sector" not in line]
        assert len(shown) >= 3
        assert "Quit" in lines[-1]
        assert sectors  # the table has rows to show


def too_small_lines(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if line.strip()]


@pytest.mark.parametrize(
    "size", [(MIN_WIDTH - 1, MIN_HEIGHT), (MIN_WIDTH, MIN_HEIGHT - 1), (44, 12), (60, 11), (20, 5)]
)
async def test_below_the_minimum_one_line_says_so_and_names_the_size_needed(
    size: tuple[int, int],
) -> None:
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), theme=SNAPSHOT_THEME, animation_level="none"
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        await pilot.resize_terminal(*size)
        shown = too_small_lines(await settled(app, pilot))
        assert len(shown) == 1, shown
        assert f"{MIN_WIDTH}x{MIN_HEIGHT}" in shown[0]
        if size[0] >= 30:
            assert "too small" in shown[0]
        # Back to a usable size, the dashboard returns whole.
        await pilot.resize_terminal(MIN_WIDTH, MIN_HEIGHT)
        lines = await settled(app, pilot)
        assert DEMO_COUNTDOWN in "\n".join(lines)
        assert "too small" not in "\n".join(lines)


async def test_too_small_covers_every_screen_and_the_help() -> None:
    app = CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), theme=SNAPSHOT_THEME, animation_level="none"
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        app.post_message(OpenSector("Industrials"))
        await wait_for(lambda: isinstance(app.screen, SectorScreen), pilot)
        await pilot.resize_terminal(40, 10)
        shown = too_small_lines(await settled(app, pilot))
        assert len(shown) == 1 and f"{MIN_WIDTH}x{MIN_HEIGHT}" in shown[0]
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        shown = too_small_lines(await settled(app, pilot))
        assert len(shown) == 1 and f"{MIN_WIDTH}x{MIN_HEIGHT}" in shown[0]
        await pilot.resize_terminal(120, 40)
        lines = "\n".join(await settled(app, pilot))
        assert "too small" not in lines and "Keys" in lines
