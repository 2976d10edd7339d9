"""The sectors table over windows: `w` cycles 1D..YTD, the headers and the sort follow it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from app_support import (
    SESSION_11AM,
    SNAPSHOT_THEME,
    ScriptedEngine,
    applied,
    counted,
    make_snapshot,
    screen_lines,
    wait_for,
)
from capgap.core.clock import ManualClock
from capgap.core.records import replace
from capgap.core.snapshot import HistoryStatus, SectorRow, SectorWindow, Snapshot
from capgap.engine.sources import demo_engine
from capgap.ui.app import CapgapApp
from capgap.ui.widgets.sectors_table import SectorsTable
from test_cut_text import table_lines


def with_windows(snapshot: Snapshot) -> Snapshot:
    """Give each sector made-up windows whose order differs from the day's (and per window)."""
    rows = []
    for index, row in enumerate(snapshot.sectors):
        windows = []
        for step, window in enumerate(("5d", "1m", "3m", "ytd"), start=1):
            large = round((index * 7 % 11 - 5) * step * 0.9, 4)
            small = round((index * 5 % 11 - 5) * step * 1.3 + 0.25, 4)
            windows.append(SectorWindow(window, large, small, round(small - large, 4)))
        rows.append(replace(row, windows=tuple(windows)))
    return replace(snapshot, sectors=tuple(rows))


def order(rows: tuple[SectorRow, ...], window: str, column: str, descending: bool) -> list[str]:
    """The rows sorted on one window's figure, independently of the widget (missing last)."""

    def value(row: SectorRow) -> float | None:
        shown = row.window(window)
        return {"large": shown.large_pct, "small": shown.small_pct, "spread": shown.spread_pp}[
            column
        ]

    present = [row for row in rows if value(row) is not None]
    present.sort(key=lambda row: value(row), reverse=descending)  # type: ignore[arg-type, return-value]
    return [row.sector for row in present] + [row.sector for row in rows if value(row) is None]


def make_app(engine: ScriptedEngine) -> CapgapApp:
    app = CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")  # type: ignore[arg-type]
    return counted(app)


async def started(app: CapgapApp, pilot: Any) -> SectorsTable:
    await wait_for(lambda: applied(app) >= 1, pilot)
    await pilot.pause()
    return app.dashboard.query_one(SectorsTable)


def header(app: CapgapApp) -> list[str]:
    """The table's column headers as shown (two spaces or more between them)."""
    line = table_lines(screen_lines(app))[0]
    return [item.strip() for item in line.split("  ") if item.strip()]


async def test_w_cycles_the_window_and_the_sort_follows_it() -> None:
    clock = ManualClock(SESSION_11AM)
    snapshot = with_windows(make_snapshot(clock.now()))
    engine = ScriptedEngine(clock, snapshot)
    app = make_app(engine)
    rows = snapshot.sectors
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(app, pilot)
        assert table.window == "1d"
        assert header(app)[1:4] == ["Lg 1D", "Sm 1D", "S-L 1D"]
        assert table.row_keys() == order(rows, "1d", "spread", True)
        for window, label in (("5d", "5D"), ("1m", "1M"), ("3m", "3M"), ("ytd", "YTD")):
            await pilot.press("w")
            await pilot.pause()
            assert table.window == window
            assert str(table.border_title).startswith(f"Sectors {label} ")
            assert header(app)[1:4] == [f"Lg {label}", f"Sm {label}", f"S-L {label}"]
            # The cells are the window's figures, and the spread sort follows them.
            energy = next(row for row in rows if row.sector == "Energy").window(window)
            assert table.get_cell("Energy", "spread").value == energy.spread_pp
            assert table.get_cell("Energy", "large").value == energy.large_pct
            assert table.row_keys() == order(rows, window, "spread", True)
        # `s` sorts on the large leg: over the window shown, not over the day.
        await pilot.press("s")
        await pilot.pause()
        assert table.row_keys() == order(rows, "ytd", "large", True)
        # Back to the day after YTD.
        await pilot.press("w")
        await pilot.pause()
        assert table.window == "1d"
        assert table.get_cell("Energy", "large").value == next(
            row.large.change_pct for row in rows if row.sector == "Energy"
        )
        assert table.row_keys() == order(rows, "1d", "large", True)
        # A new snapshot keeps the window and the sort.
        await pilot.press("w")
        engine.push(with_windows(make_snapshot(clock.now(), bump=1.0)))
        await wait_for(lambda: applied(app) >= 2, pilot)
        await pilot.pause()
        assert table.window == "5d"
        assert table.row_keys() == order(app.dashboard.latest.sectors, "5d", "large", True)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        (HistoryStatus(loaded=812, members=2418), "5D: history 812/2,418"),
        (None, "5D: no members' history from this source"),
        # Read, but the source had none (a recording without the members' closes).
        (HistoryStatus(loaded=2418, members=2418), "5D: no members' history from this source"),
        (
            HistoryStatus(loaded=2418, members=2418, through=date(2025, 12, 4)),
            "5D: too little history for this window",
        ),
        (
            HistoryStatus(loaded=0, members=2418, error="members' history failed: HTTP 500"),
            "5D: members' history failed: HTTP 500",
        ),
    ],
)
async def test_a_window_without_figures_says_why(
    history: HistoryStatus | None, reason: str
) -> None:
    clock = ManualClock(SESSION_11AM)
    # The rows have no windows yet: every longer window is blank.
    engine = ScriptedEngine(clock, replace(make_snapshot(clock.now()), sector_history=history))
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await started(app, pilot)
        assert str(table.border_subtitle) == "legs: members weighted as the index"
        await pilot.press("w")
        await pilot.pause()
        assert str(table.border_subtitle) == reason
        assert table.get_cell("Energy", "spread").plain.strip() == "—"


async def test_over_a_longer_window_the_today_only_columns_say_1d() -> None:
    # The funds' changes, the movers and breadth stay today's: over 5D their headers and the
    # table's note say so, and back over 1D they read as before.
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock, with_windows(make_snapshot(clock.now())))
    app = make_app(engine)
    async with app.run_test(size=(200, 60)) as pilot:
        table = await started(app, pilot)
        assert header(app)[7:] == ["Lg fund", "S600 fund", "Leaders", "Laggards"]
        await pilot.press("w")
        await pilot.pause()
        assert header(app)[1:4] == ["Lg 5D", "Sm 5D", "S-L 5D"]
        assert header(app)[7:] == ["Lg fd 1D", "S600 fd 1D", "Leaders 1D", "Laggards 1D"]
        assert str(table.border_subtitle) == (
            "legs: members weighted as the index; breadth, funds, movers: 1D"
        )
        for _ in range(4):
            await pilot.press("w")
        await pilot.pause()
        assert table.window == "1d"
        assert header(app)[7:] == ["Lg fund", "S600 fund", "Leaders", "Laggards"]
        assert str(table.border_subtitle) == "legs: members weighted as the index"


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_the_longest_windows_label_fits_small_terminals(size: tuple[int, int]) -> None:
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock, with_windows(make_snapshot(clock.now())))
    app = make_app(engine)
    async with app.run_test(size=size) as pilot:
        table = await started(app, pilot)
        for _ in range(4):
            await pilot.press("w")
        await pilot.pause()
        assert table.window == "ytd"
        assert header(app)[:4] == ["Sector", "Lg YTD", "Sm YTD", "S-L YTD"]
        # Every figure whole (YTD's larger figures drop a decimal rather than a digit).
        energy = next(line for line in table_lines(screen_lines(app)) if "Energy" in line)
        shown = next(r for r in app.dashboard.latest.sectors if r.sector == "Energy")  # type: ignore[union-attr]
        figure = shown.window("ytd").spread_pp
        assert figure is not None and f"{figure:+.1f}" in energy


async def test_the_demo_shows_the_windows_once_its_history_is_reduced() -> None:
    # The real demo engine: the members' history is read after the first figures, off the
    # event loop, and the windows appear on a later poll (a short cadence keeps this quick).
    engine = demo_engine(ManualClock(SESSION_11AM), refresh_s=0.1)
    app = CapgapApp(engine, theme=SNAPSHOT_THEME, animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        table = app.dashboard.query_one(SectorsTable)
        await pilot.press("w", "w", "w")
        assert table.window == "3m"

        def energy() -> SectorWindow | None:
            latest = app.dashboard.latest
            row = (
                next((r for r in latest.sectors if r.sector == "Energy"), None) if latest else None
            )
            return row.window("3m") if row is not None else None

        await wait_for(
            lambda: table.get_cell("Energy", "spread").value is not None, pilot, rounds=2000
        )
        shown = energy()
        assert shown is not None and shown.spread_pp is not None
        assert table.get_cell("Energy", "spread").value == shown.spread_pp
        assert app.dashboard.latest.sector_history.through == date(2025, 12, 4)  # type: ignore[union-attr]
        assert str(table.border_subtitle) == (
            "legs: members weighted as the index; breadth, funds, movers: 1D"
        )
