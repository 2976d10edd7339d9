"""The command palette's entries: jump to a sector, watchlist, symbol or screen, and switches."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from capgap.market.windows import WINDOW_LABELS
from capgap.ui.windows import WINDOWS

if TYPE_CHECKING:
    from capgap.ui.app import CapgapApp


def capgap_commands(app: CapgapApp) -> Iterator[SystemCommand]:
    """Yield capgap's own commands (Textual's system commands are added by the app)."""
    yield SystemCommand("Spread screen", "RUT/SPX ratio over a window", app.action_open_spread)
    yield SystemCommand("Fed screen", "FOMC odds, implied path, futures", app.action_fed)
    yield SystemCommand(
        "Feeds", "State, errors and symbols not quoted, feed by feed", app.action_feeds
    )
    yield SystemCommand("Dashboard", "Back to the dashboard", app.action_dashboard)
    paused = app.engine.paused
    yield SystemCommand(
        "Resume updates" if paused else "Pause updates",
        "Stop or restart polling (a replay pauses too)",
        app.action_pause,
    )
    yield SystemCommand("Refresh now", "Poll the feed at once", app.action_refresh)
    yield SystemCommand("Toggle compact layout", "Panels without the chart", app.action_compact)
    yield SystemCommand("Keys", "Every key binding and its id", app.action_help)
    for window in WINDOWS:
        yield SystemCommand(
            f"Window: {WINDOW_LABELS[window]}",
            "Time window of the charts",
            partial(app.action_set_window, window),
        )
    for name in app.capgap_theme_names():
        yield SystemCommand(
            f"Theme: {name}", "Switch theme (remembered)", partial(app.set_theme, name)
        )
    universe = app.engine.universe
    if universe is None:
        return
    for sector in universe.sectors:
        yield SystemCommand(
            f"Sector: {sector.name}",
            "Large and small constituents",
            partial(app.open_sector, sector.name),
        )
    for name in universe.watchlists:
        yield SystemCommand(
            f"Watchlist: {name}", "Your symbols", partial(app.open_sector, name, kind="watchlist")
        )
    for symbol in universe.symbols():
        shown = universe.display(symbol)
        label = shown if shown == symbol else f"{shown} ({symbol})"
        yield SystemCommand(
            f"Symbol: {label}", universe.name_of(symbol), partial(app.open_symbol, symbol)
        )
