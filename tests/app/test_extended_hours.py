"""The pre/post-market gap and the index futures on the spread panel and the status line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app_support import (
    SNAPSHOT_THEME,
    ScriptedEngine,
    applied,
    counted,
    make_snapshot,
    wait_for,
)
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.records import replace
from capgap.core.snapshot import (
    ExtendedGap,
    IndexFutures,
    IndexQuote,
    Snapshot,
    futures_outside_session,
)
from capgap.market.calendar import market_session
from capgap.ui.app import CapgapApp
from capgap.ui.format import prices_label
from capgap.ui.widgets.spread_panel import SpreadPanel, spread_content
from capgap.ui.widgets.status_line import market_variants
from textual.widgets import Static


def ny(hour: int, minute: int, day: int = 5) -> datetime:
    """An instant of December 2025 by its New York wall time (the 5th is a Friday)."""
    return datetime(2025, 12, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


PRE_GAP = ExtendedGap("pre", "SPY", "IWM", 0.31, 0.52, 0.21, ny(8, 12))
FUTURES = IndexFutures(
    IndexQuote("ES=F", "E-mini S&P 500", 6870.25, 6849.75, 0.2993, ny(8, 14)),
    IndexQuote("RTY=F", "E-mini Russell 2000", 2540.0, 2527.3, 0.5025, ny(8, 14)),
)


def extended_snapshot(now: datetime, gap: ExtendedGap | None) -> Snapshot:
    snap = make_snapshot(now)
    return replace(snap, spread=replace(snap.spread, extended=gap), futures=FUTURES)


def test_the_pre_market_line_by_hand_at_each_width() -> None:
    spread = extended_snapshot(ny(8, 15), PRE_GAP).spread
    wide = spread_content(spread, 60).plain.split("\n")
    # The two index lines (with the day's gap) stay first; the extended gap follows.
    assert wide[:2] == spread_content(make_snapshot(ny(8, 15)).spread, 60).plain.split("\n")[:2]
    assert wide[2] == "pre 08:12 ET: S&P +0.31 % R2K +0.52 % gap +0.21 pp"
    # The compact panel's 46 columns take the tighter form, the gap still in it.
    compact = spread_content(spread, 46).plain.split("\n")
    assert compact[2] == "pre 08:12 ET S&P +0.31% R2K +0.52% gap +0.21pp"
    assert max(len(line) for line in compact) <= 46
    assert spread_content(spread, 30).plain.split("\n")[2] == "pre 08:12 ET gap +0.21 pp"


def test_a_gap_without_a_fresh_price_adds_no_line_and_no_status_note() -> None:
    blank = ExtendedGap("post", "SPY", "IWM", None, None, None, None)
    spread = extended_snapshot(ny(17, 0), blank).spread
    assert spread_content(spread).plain == spread_content(make_snapshot(ny(17, 0)).spread).plain
    assert prices_label(blank) is None
    assert prices_label(None) is None
    assert prices_label(PRE_GAP) == "pre 08:12 ET prices"


def test_the_futures_line_outside_the_session_only() -> None:
    pre = extended_snapshot(ny(8, 15), PRE_GAP)
    assert futures_outside_session(pre) is FUTURES
    lines = spread_content(pre.spread, 60, FUTURES).plain.split("\n")
    assert lines[3] == "fut  ES=F 6,870.25 +0.30%  RTY=F 2,540.00 +0.50%"
    assert spread_content(pre.spread, 46, FUTURES).plain.split("\n")[3] == (
        "fut  ES 6,870.25 +0.30%  RTY 2,540.00 +0.50%"
    )
    # In the regular session the futures stay off the panel; overnight (21:00) they show.
    assert futures_outside_session(extended_snapshot(ny(11, 0), None)) is None
    assert futures_outside_session(extended_snapshot(ny(21, 0), None)) is FUTURES
    unquoted = IndexFutures(
        IndexQuote("ES=F", "ES", None, None, None, None),
        IndexQuote("RTY=F", "RTY", None, None, None, None),
    )
    assert futures_outside_session(replace(pre, futures=unquoted)) is None


def test_the_status_line_names_the_extended_prices_first() -> None:
    now = ny(8, 15)
    session = market_session(now)
    plain = [v.content.plain for v in market_variants(session, now)]
    marked = [v.content.plain for v in market_variants(session, now, "pre 08:12 ET prices")]
    assert marked[0] == "PRE, opens 09:30 · pre 08:12 ET prices"
    # Every shorter form stays as it was, for narrow terminals.
    assert marked[1:] == plain


async def test_the_app_shows_the_pre_market_gap_and_says_so_in_the_status_line() -> None:
    now = ny(8, 15)
    engine = ScriptedEngine(ManualClock(now), extended_snapshot(now, PRE_GAP))
    app: Any = counted(CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none"))  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: applied(app) >= 1, pilot)
        await pilot.pause()
        panel = str(app.dashboard.query_one(SpreadPanel).content)
        # The panel is 46 columns wide at 120: the tighter form.
        assert "pre 08:12 ET S&P +0.31% R2K +0.52% gap +0.21pp" in panel
        assert "ES 6,870.25 +0.30%  RTY 2,540.00 +0.50%" in panel
        market = str(app.screen.query_one("#market-state", Static).content)
        assert market.endswith("pre 08:12 ET prices")
