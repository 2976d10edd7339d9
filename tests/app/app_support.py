"""Helpers of the app tests: hand-built snapshots, a scripted engine, screen text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tui.analytics.snapshot import (
    FedSnapshot,
    FeedStatus,
    IndexQuote,
    Mover,
    RatioPoint,
    RelativePerformance,
    SectorLeg,
    SectorRow,
    Snapshot,
    SpreadSnapshot,
    StyleLeg,
    StyleSnapshot,
    Valuation,
)
from tui.clock import ManualClock
from tui.market.calendar import NEW_YORK, market_session
from tui.market.fomc import next_decision

#: The instant of the snapshot tests: the bundled sample session, mid-morning.
SESSION_11AM = datetime(2025, 12, 5, 11, 0, tzinfo=NEW_YORK)
SNAPSHOT_THEME = "textual-dark"

# name, tag, large ETF, small ETF (None: from constituents), large %, small %, breadth %
SECTOR_FIGURES: tuple[tuple[str, str, str, str | None, float, float | None, float], ...] = (
    ("Information Technology", "cyclical", "XLK", "PSCT", 0.62, 0.15, 58.3),
    ("Financials", "cyclical", "XLF", "PSCF", -0.21, 0.48, 45.8),
    ("Industrials", "cyclical", "XLI", "PSCI", 0.05, -0.35, 41.7),
    ("Materials", "cyclical", "XLB", "PSCM", -0.44, -0.12, 33.3),
    ("Energy", "cyclical", "XLE", "PSCE", 1.10, 1.85, 83.3),
    ("Consumer Discretionary", "cyclical", "XLY", "PSCD", 0.30, -0.90, 37.5),
    ("Communication Services", "cyclical", "XLC", None, -0.75, -1.20, 25.0),
    ("Real Estate", "cyclical", "XLRE", None, 0.00, None, 50.0),
    ("Consumer Staples", "defensive", "XLP", "PSCC", -0.10, 0.20, 54.2),
    ("Health Care", "defensive", "XLV", "PSCH", 0.45, -0.60, 45.8),
    ("Utilities", "defensive", "XLU", "PSCU", -0.95, -1.40, 16.7),
)


def _movers(sector_index: int, sign: float) -> tuple[Mover, ...]:
    # "[BRK]"-like symbols would vanish in markup: one bracketed symbol checks that they do not.
    symbols = ("[TST]", "AAA", "BBB") if sector_index == 0 and sign > 0 else ("CCC", "DDD", "EEE")
    return tuple(
        Mover(
            symbol=symbol,
            name=f"{symbol} Inc.",
            bucket="large" if rank % 2 == 0 else "small",
            change_pct=sign * (3.0 - rank * 0.75 + sector_index * 0.1),
        )
        for rank, symbol in enumerate(symbols)
    )


def make_snapshot(
    now: datetime = SESSION_11AM,
    *,
    bump: float = 0.0,
    history_days: int = 60,
    feed_state: str = "ok",
    stale: bool = False,
) -> Snapshot:
    """Build a complete Snapshot by hand; ``bump`` shifts every sector's small-cap change."""
    now = now.astimezone(UTC)
    sectors = []
    for index, (name, tag, large_etf, small_etf, large, small, breadth) in enumerate(
        SECTOR_FIGURES
    ):
        small_value = None if small is None else round(small + bump * (index - 5) / 5, 4)
        sectors.append(
            SectorRow(
                sector=name,
                tag=tag,  # type: ignore[arg-type]
                large=SectorLeg(large_etf, large, False, breadth, 12),
                small=SectorLeg(small_etf, small_value, small_etf is None, breadth, 12),
                spread_pp=None if small_value is None else round(small_value - large, 4),
                breadth_pct=breadth,
                leaders=_movers(index, 1.0),
                laggards=_movers(index, -1.0),
            )
        )
    start = date(2025, 9, 1)
    history = tuple(
        RatioPoint(start + timedelta(days=day), 0.36 + 0.0001 * day) for day in range(history_days)
    )
    return Snapshot(
        as_of=now,
        source="test",
        demo=True,
        market=market_session(now),
        spread=SpreadSnapshot(
            large=IndexQuote("^GSPC", "S&P 500", 6870.40, 6857.12, 0.1937, now),
            small=IndexQuote("^RUT", "Russell 2000", 2521.48, 2531.16, -0.3824, now),
            relative_pp=RelativePerformance(-0.5761, 1.2345, -0.4, 2.75, 3.1, -12.5),
            ratio=0.367,
            ratio_z_1y=1.234,
            beta_60d=1.21,
            corr_60d=0.85,
            valuation=Valuation(23.0, 18.5, 19.5652, "sample"),
            ratio_history=history,
        ),
        sectors=tuple(sectors),
        style=StyleSnapshot(
            StyleLeg("IWD", "IWF", 0.1, 0.3, -0.2), StyleLeg("IWN", "IWO", -0.2, -0.5, 0.3)
        ),
        fed=FedSnapshot(next_decision(now), (3.75, 4.0), "sample"),
        feeds=(
            FeedStatus(
                "demo",
                feed_state,
                now,
                0.0,
                None if feed_state == "ok" else "HTTP 429",
                stale=stale,
            ),  # type: ignore[arg-type]
        ),
        data_as_of=now - timedelta(seconds=3),
    )


async def wait_for(condition: Callable[[], Any], pilot: Any, *, rounds: int = 400) -> None:
    """Let the app run until ``condition()`` is true (the engine polls in a worker thread)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not reached")


class ScriptedEngine:
    """The Engine API over snapshots the test chooses (a finite, deterministic source).

    ``run`` publishes the first snapshot and then waits for the test to ``push`` more; it
    returns once the clock has finished, as the real engine does at the end of a replay.
    """

    def __init__(
        self,
        clock: ManualClock,
        first: Snapshot | None = None,
        *,
        demo: bool = True,
        source_label: str = "DEMO test",
        fail_with: BaseException | None = None,
    ) -> None:
        self.clock = clock
        self.demo = demo
        self.source_label = source_label
        self.latest: Snapshot | None = None
        self.closed = False
        self._first = first or make_snapshot(clock.now())
        self._fail_with = fail_with
        self._publish: Callable[[Snapshot], None] | None = None
        self._finished = asyncio.Event()

    async def refresh(self) -> Snapshot:
        """Return the latest snapshot (there is nothing to poll)."""
        return self.latest or self._first

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        """Publish the first snapshot, then those pushed, until the clock finishes."""
        if self._fail_with is not None:
            raise self._fail_with
        self._publish = publish
        self.push(self._first)
        await self._finished.wait()

    def push(self, snapshot: Snapshot) -> None:
        """Publish a snapshot now; a finished clock ends the run after it, like a replay."""
        assert self._publish is not None, "the app has not started the engine yet"
        self.latest = snapshot
        self._publish(snapshot)
        if self.clock.finished:
            self._finished.set()

    async def aclose(self) -> None:
        """Record that the app closed the engine."""
        self.closed = True


def screen_lines(app: Any) -> list[str]:
    """Return the text of every row of the active screen, as a terminal would show it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]
