"""The rotation map's screen (issue 18, item 2): a key and the palette open it; it reads at
80x24 and 60x20, in every shipped theme, paused and after the replay's end."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from app_support import (
    SESSION_11AM,
    ScriptedEngine,
    make_rotation,
    make_snapshot,
    screen_lines,
    wait_for,
)
from capgap.core.clock import ManualClock
from capgap.core.records import replace
from capgap.core.snapshot import HistoryStatus, RotationPoint, Snapshot
from capgap.ui.app import CapgapApp
from capgap.ui.format import sector_code
from capgap.ui.glyphs import glyphs
from capgap.ui.screens.rotation import NEEDS, RotationScreen, RotationTable
from capgap.ui.widgets.rotation_chart import Label, RotationChart, place_labels
from test_chart_colours import check_theme, each_theme
from textual.command import CommandList, CommandPalette

QUADRANTS = ("Leading", "Weakening", "Lagging", "Improving")


def rotation_snapshot(rotation: tuple[RotationPoint, ...] | None = None) -> Snapshot:
    return replace(make_snapshot(), rotation=make_rotation() if rotation is None else rotation)


def rotation_app(snapshot: Snapshot | None = None, clock: ManualClock | None = None) -> CapgapApp:
    engine = ScriptedEngine(clock or ManualClock(SESSION_11AM), snapshot or rotation_snapshot())
    return CapgapApp(engine, theme="capgap-dark", animation_level="none")  # type: ignore[arg-type]


def map_drawn(app: CapgapApp) -> bool:
    """Whether the rotation screen is up with its map laid out and drawn."""
    if not isinstance(app.screen, RotationScreen):
        return False
    chart = app.screen.query_one(RotationChart)
    return chart.drawn and chart.size.height > 0


async def open_map(app: CapgapApp, pilot: Any) -> None:
    await wait_for(lambda: app.dashboard.latest is not None, pilot)
    await pilot.press("m")
    await wait_for(lambda: map_drawn(app), pilot)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_m_opens_the_map_with_its_quadrants_and_every_sectors_label(size):
    app = rotation_app()
    async with app.run_test(size=size) as pilot:
        await open_map(app, pilot)
        text = "\n".join(screen_lines(app))
        for name in QUADRANTS:
            assert name in text, name
        # Each sector with a point is labelled at its head by its code after the head's knob.
        for point in make_rotation():
            label = f"{glyphs().knob}{sector_code(point.sector)}"
            assert (label in text) == (point.rs_ratio is not None), label
        assert "Rotation" in screen_lines(app)[0]  # the breadcrumb


async def test_the_table_gives_each_sectors_quadrant_figures_tail_or_why_it_has_no_point():
    app = rotation_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_map(app, pilot)
        table = app.screen.query_one(RotationTable)
        assert table.row_keys() == [point.sector for point in make_rotation()]
        text = "\n".join(screen_lines(app))
        # Real Estate has no small-cap figure: no point, and the reason on its row.
        estate = [line for line in text.splitlines() if "REAL Real Estate" in line]
        assert len(estate) == 1 and "no small-cap history" in estate[0]
        # Energy's head (angle 4 x 360 / 11 = 130.9 degrees, radius 2.4): ratio 100 + 2.4 x
        # cos 130.9 = 98.43, momentum 100 + 1.2 x sin 130.9 = 100.91, improving; its tail
        # began 7 weeks earlier at 130.9 + 7 x 0.25 rad = 231.2 degrees, lagging: clockwise.
        energy = [line for line in text.splitlines() if "ENGY Energy" in line]
        assert len(energy) == 1
        assert energy[0].split()[3:7] == ["improving", "98.43", "100.91", "lagging"]
        assert "7 weeks ago" in energy[0]


async def test_the_palette_lists_the_map_and_opens_it():
    app = rotation_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Rotation map" in titles
        # Through the palette itself: Ctrl+P, the name, Enter.
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot)
        await pilot.press(*"Rotation map")
        await wait_for(lambda: app.screen.query_one(CommandList).option_count > 0, pilot)
        await pilot.press("enter")
        await wait_for(lambda: map_drawn(app), pilot)
        # Esc goes back to the dashboard.
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard, pilot)


async def test_the_map_is_readable_in_every_shipped_theme():
    app = rotation_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_map(app, pilot)
        problems = check_theme(app, "capgap-dark", "rotation") + await each_theme(
            app, pilot, "rotation"
        )
    assert not problems, "\n".join(problems)


async def test_the_map_opens_paused_after_the_replays_end():
    clock = ManualClock(SESSION_11AM, end=SESSION_11AM + timedelta(seconds=1))
    app = rotation_app(clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        await pilot.press("p")
        assert app.engine.paused
        # The replay reaches its end (a last snapshot): the screen opened afterwards still
        # shows the last map.
        clock.advance(1.0)
        app.engine.push(rotation_snapshot())  # type: ignore[attr-defined]
        await wait_for(lambda: app._engine_done, pilot)
        await open_map(app, pilot)
        text = "\n".join(screen_lines(app))
        assert all(name in text for name in QUADRANTS)
        assert f"{glyphs().knob}TECH" in text


@pytest.mark.parametrize(
    ("history", "why"),
    [
        (None, "no members' history from this source"),
        (HistoryStatus(2418, 2418, through=date(2025, 12, 4)), NEEDS),
        (HistoryStatus(0, 2418, error="members' history failed: HTTP 500"), "HTTP 500"),
    ],
    ids=["no-source", "too-short", "failed"],
)
async def test_without_history_the_screen_says_why_and_the_map_is_empty(
    history: HistoryStatus | None, why: str
):
    # The same reasons as the sectors table's windows (ui.format.history_missing).
    empty = replace(rotation_snapshot(()), sector_history=history)
    app = rotation_app(empty)
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        await pilot.press("m")
        await wait_for(lambda: isinstance(app.screen, RotationScreen), pilot)
        await wait_for(lambda: "no rotation map yet: " in "\n".join(screen_lines(app)), pilot)
        text = "\n".join(screen_lines(app))
        assert why in " ".join(text.split())
        assert "no data" in text


async def test_while_the_members_history_loads_the_screen_says_how_far():
    # Live, the members' closes arrive over hours: the screen counts them, as the sectors
    # table does where its windows would be.
    loading = replace(rotation_snapshot(()), sector_history=HistoryStatus(1204, 2418))
    app = rotation_app(loading)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        await pilot.press("m")
        await wait_for(lambda: isinstance(app.screen, RotationScreen), pilot)
        line = "no rotation map yet: history 1,204/2,418"
        await wait_for(lambda: line in "\n".join(screen_lines(app)), pilot)


async def test_the_map_is_redrawn_only_when_it_changes():
    app = rotation_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_map(app, pilot)
        chart = app.screen.query_one(RotationChart)
        rotation = make_rotation()
        # Another snapshot with the day's map (rebuilt: equal, not the same object).
        assert not chart.apply(rotation)
        moved = (replace(rotation[0], tail=rotation[0].tail[1:]), *rotation[1:])
        assert chart.apply(moved)


def _cells(label: Label, grid: tuple[int, int], spans: tuple[float, float]) -> set[tuple[int, int]]:
    """The cells a label's text covers, by hand: the same mapping as the chart's."""
    (columns, rows), (span_x, span_y) = grid, spans
    column = round((label.x - (100 - span_x)) / (2 * span_x) * (columns - 1))
    row = round((100 + span_y - label.y) / (2 * span_y) * (rows - 1))
    start = column if label.alignment == "left" else column - len(label.text) + 1
    return {(start + i, row) for i in range(len(label.text))}


def test_heads_close_together_get_labels_that_do_not_overlap() -> None:
    # Three heads a few cells apart on a 40 x 10 grid around 100 +/- 2 (a cell is 4/39 wide):
    # knobs at columns 20, 21 and 18 of row 4. TEC's code has a knob on either side, so it
    # goes on the row above (its knob alone on its point); FIN's goes right, ENE's left.
    grid, spans = (40, 10), (2.0, 2.0)
    heads = [("TEC", 100.0, 100.0), ("FIN", 100.15, 100.0), ("ENE", 99.8, 100.0)]
    labels = place_labels(heads, spans, grid, "*")
    assert [label.text for label in labels] == ["*", "TEC", "*FIN", "ENE*"]
    assert labels[1].y > labels[0].y
    covered = [_cells(label, grid, spans) for label in labels]
    assert sum(len(cells) for cells in covered) == len(set().union(*covered))


def test_a_head_at_the_right_edge_reads_to_its_left() -> None:
    labels = place_labels([("UTL", 102.0, 100.0)], (2.0, 2.0), (40, 10), "*")
    assert [(label.text, label.alignment) for label in labels] == [("UTL*", "right")]
