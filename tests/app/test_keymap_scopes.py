"""The binding scopes settings.keys declares (for the keymap's conflict check) are the app's own."""

from __future__ import annotations

from typing import Any

from app_support import SESSION_11AM, wait_for
from capgap.core.clock import ManualClock
from capgap.engine.sources import demo_engine
from capgap.settings.keys import KNOWN_BINDINGS, screen_scopes
from capgap.ui.app import CapgapApp
from capgap.ui.messages import OpenSector, OpenSymbol
from capgap.ui.screens.cycles import CyclesScreen
from capgap.ui.screens.dashboard import DashboardScreen
from capgap.ui.screens.fed_detail import FedDetailScreen
from capgap.ui.screens.feeds import FeedsScreen
from capgap.ui.screens.rotation import RotationScreen
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.screens.spread import SpreadScreen
from capgap.ui.screens.symbol import SymbolScreen
from textual.dom import DOMNode


def ids(node: DOMNode) -> set[str]:
    """The remappable binding ids a node declares (its class's BINDINGS, inherited ones too)."""
    return {
        binding.id
        for bindings in node._bindings.key_to_bindings.values()
        for binding in bindings
        if binding.id in KNOWN_BINDINGS
    }


def chains(screen: Any) -> set[frozenset[str]]:
    """Every set of ids a key press can reach on ``screen``: Textual walks from the focused
    widget up through its ancestors to the screen and the app; with nothing focused, the
    screen and the app."""
    found = {frozenset(ids(screen) | ids(screen.app))}
    for widget in screen.query("*"):
        if widget.can_focus:
            reach: set[str] = set()
            for node in widget.ancestors_with_self:
                reach |= ids(node)
            found.add(frozenset(reach))
    return found


async def test_declared_scopes_are_the_binding_chains_of_every_screen() -> None:
    app = CapgapApp(demo_engine(ManualClock(SESSION_11AM)), animation_level="none")
    opened = {
        "dashboard": (DashboardScreen, lambda: None),
        "sector": (SectorScreen, lambda: app.post_message(OpenSector("Information Technology"))),
        "symbol": (SymbolScreen, lambda: app.post_message(OpenSymbol("AAPL"))),
        "spread": (SpreadScreen, app.action_open_spread),
        "Fed": (FedDetailScreen, app.action_fed),
        "feeds": (FeedsScreen, app.action_feeds),
        "rotation": (RotationScreen, app.action_rotation),
        "cycles": (CyclesScreen, app.action_cycles),
    }
    declared = screen_scopes()
    assert set(declared) == set(opened)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        for name, (kind, open_it) in opened.items():
            app.action_dashboard()
            await pilot.pause()
            open_it()
            await wait_for(lambda kind=kind: isinstance(app.screen, kind), pilot)  # type: ignore[misc]
            await pilot.pause()
            assert chains(app.screen) == declared[name], name
