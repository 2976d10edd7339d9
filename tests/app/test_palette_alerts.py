"""The command palette, alerts in the app, binding ids, and the terminal without colour."""

from __future__ import annotations

import inspect
from typing import Any

import capgap.ui as ui_package
import pytest
from app_support import (
    SESSION_11AM,
    ScriptedEngine,
    counted,
    make_snapshot,
    received,
    screen_lines,
    wait_for,
)
from capgap.core.clock import ManualClock
from capgap.engine.sources import demo_engine
from capgap.settings.alert_rules import SectorSpread
from capgap.settings.keys import KNOWN_BINDINGS
from capgap.settings.model import Settings
from capgap.ui.app import CapgapApp
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.screens.symbol import SymbolScreen
from textual.binding import Binding
from textual.command import CommandInput, CommandPalette
from textual.dom import DOMNode


def demo_app(settings: Settings | None = None) -> CapgapApp:
    return CapgapApp(
        demo_engine(ManualClock(SESSION_11AM)), animation_level="none", settings=settings
    )


async def run_command(app: CapgapApp, pilot: Any, text: str, *, typed: bool = True) -> None:
    """Open the palette, type ``text``, wait for it to be the first match, run it.

    ``typed`` False pastes the text into the palette's input in one go: the palette gathers
    its results for a quarter of a second after each key, so typing a long command key by key
    costs seconds; the commands' search and actions are the same either way.
    """
    await pilot.press("ctrl+p")
    await pilot.pause()
    if typed:
        await pilot.press(*text)
    else:
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        palette.query_one(CommandInput).value = text
    # The palette searches in the background: give it time to list the match.
    await pilot.pause(0.5)
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.asyncio
async def test_palette_jumps_to_a_sector_and_a_symbol() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None and app.engine.universe, pilot)
        await run_command(app, pilot, "Sector: Industrials")
        await wait_for(lambda: isinstance(app.screen, SectorScreen), pilot)
        assert isinstance(app.screen, SectorScreen) and app.screen.target == "Industrials"
        await run_command(app, pilot, "Symbol: CAT")
        await wait_for(lambda: isinstance(app.screen, SymbolScreen), pilot)
        assert isinstance(app.screen, SymbolScreen) and app.screen.symbol == "CAT"
        # The symbol opened from the palette sits on top of the sector: Esc goes back to it.
        await pilot.press("escape")
        assert isinstance(app.screen, SectorScreen)


@pytest.mark.asyncio
async def test_palette_switches_window_theme_and_pause() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        await run_command(app, pilot, "Window: 3M")
        assert app.window == "3m"
        await run_command(app, pilot, "Theme: capgap-light", typed=False)
        assert app.theme == "capgap-light"
        await run_command(app, pilot, "Pause updates", typed=False)
        assert app.engine.paused
        await run_command(app, pilot, "Resume updates", typed=False)
        assert not app.engine.paused
        await run_command(app, pilot, "Toggle compact layout", typed=False)
        assert app.dashboard.has_class("-compact")


@pytest.mark.asyncio
async def test_an_alert_notifies_and_rings_once_per_crossing() -> None:
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock, make_snapshot(clock.now()))
    first = engine._first
    energy = next(row for row in first.sectors if row.sector == "Energy")
    assert energy.spread_pp is not None
    # A threshold just beyond today's Energy spread: the first snapshot is inside it.
    level = abs(energy.spread_pp) + 0.10
    settings = Settings(alerts=(SectorSpread(sector="Energy", pp=level),))
    app = CapgapApp(engine, animation_level="none", settings=settings)  # type: ignore[arg-type]
    bells: list[bool] = []
    app.bell = lambda: bells.append(True)  # type: ignore[method-assign]
    counted(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.latest is not None, pilot)
        assert not bells
        # Energy sits before the middle of the list: a negative bump raises its small leg, so its
        # spread moves beyond the level (checked here, so the test cannot pass vacuously).
        beyond = make_snapshot(clock.now(), bump=-1.0)
        moved = next(row for row in beyond.sectors if row.sector == "Energy").spread_pp
        assert moved is not None and abs(moved) > level
        engine.push(beyond)
        await wait_for(lambda: received(app) >= 2, pilot)
        engine.push(make_snapshot(clock.now(), bump=-1.2))
        await wait_for(lambda: received(app) >= 3, pilot)
        assert len(bells) == 1, "once per crossing, not on every tick"
        notes = [n for n in app._notifications if "Energy" in n.message]
        assert len(notes) == 1
        # Back inside, then beyond again: a second crossing rings again.
        engine.push(make_snapshot(clock.now()))
        await wait_for(lambda: received(app) >= 4, pilot)
        engine.push(make_snapshot(clock.now(), bump=-1.0))
        await wait_for(lambda: received(app) >= 5, pilot)
        assert len(bells) == 2


def _ui_binding_ids() -> set[str]:
    ids: set[str] = set()
    import importlib
    import pkgutil

    for module_info in pkgutil.walk_packages(ui_package.__path__, "capgap.ui."):
        module = importlib.import_module(module_info.name)
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, DOMNode) and value.__module__ == module.__name__:
                for item in value.BINDINGS:
                    if isinstance(item, Binding) and item.id:
                        ids.add(item.id)
    from capgap.ui.vim import VIM_TABLE_BINDINGS
    from capgap.ui.windows import WINDOW_BINDINGS

    for item in [*VIM_TABLE_BINDINGS, *WINDOW_BINDINGS]:
        if isinstance(item, Binding) and item.id:
            ids.add(item.id)
    return ids


def test_every_binding_id_is_documented_and_every_documented_id_is_bound() -> None:
    used = _ui_binding_ids() - {"help_close"}
    assert used == set(KNOWN_BINDINGS)


@pytest.mark.asyncio
async def test_no_color_keeps_up_and_down_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        await pilot.pause()
        assert app.no_color
        text = "\n".join(screen_lines(app))
        # Direction is carried by arrow and sign, not by colour alone.
        assert "▲+" in text and "▼-" in text
