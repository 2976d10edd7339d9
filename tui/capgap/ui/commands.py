"""The command palette's entries: jump to a sector, watchlist, symbol or screen, and switches.

Each entry runs one of the app's actions or posts one of its messages: nothing here knows the
app's class, only Textual's App and what the palette lists (capgap.ui.host).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial

from textual.app import App, SystemCommand
from textual.message import Message

from capgap.core.chart_windows import CHART_WINDOWS
from capgap.ui.host import EngineView
from capgap.ui.messages import OpenSector, OpenSymbol


def capgap_commands(
    app: App[None], engine: EngineView, themes: Sequence[str]
) -> Iterator[SystemCommand]:
    """Yield capgap's own commands (Textual's system commands are added by the app)."""

    def action(name: str) -> Callable[[], object]:
        return partial(app.run_action, name)

    def post(make: Callable[[], Message]) -> Callable[[], object]:
        # A new message each time the command runs: a message is delivered once.
        return lambda: app.post_message(make())

    yield SystemCommand("Spread screen", "RUT/SPX ratio over a window", action("open_spread"))
    yield SystemCommand("Fed screen", "FOMC odds, implied path, futures", action("fed"))
    yield SystemCommand(
        "Rotation map", "Sectors' small caps against large, week by week", action("rotation")
    )
    yield SystemCommand(
        "Cutting cycles", "Small caps against large after the Fed's first cuts", action("cycles")
    )
    yield SystemCommand(
        "Feeds", "State, errors and symbols not quoted, feed by feed", action("feeds")
    )
    yield SystemCommand("Dashboard", "Back to the dashboard", action("dashboard"))
    yield SystemCommand(
        "Resume updates" if engine.paused else "Pause updates",
        "Stop or restart polling (a replay pauses too)",
        action("pause"),
    )
    yield SystemCommand("Refresh now", "Poll the feed at once", action("refresh"))
    yield SystemCommand("Toggle compact layout", "Panels without the chart", action("compact"))
    yield SystemCommand("Keys", "Every key binding and its id", action("help"))
    for window in CHART_WINDOWS:
        yield SystemCommand(
            f"Window: {window.label}",
            "Time window of the charts",
            action(f"set_window({window.id!r})"),
        )
    for name in themes:
        yield SystemCommand(
            f"Theme: {name}", "Switch theme (remembered)", action(f"set_theme({name!r})")
        )
    universe = engine.universe
    if universe is None:
        return
    for sector in universe.sectors:
        yield SystemCommand(
            f"Sector: {sector.name}",
            "Large and small constituents",
            post(partial(OpenSector, sector.name)),
        )
    for name in universe.watchlists:
        yield SystemCommand(
            f"Watchlist: {name}",
            "Your symbols",
            post(partial(OpenSector, name, kind="watchlist")),
        )
    for symbol in universe.symbols():
        shown = universe.display(symbol)
        label = shown if shown == symbol else f"{shown} ({symbol})"
        yield SystemCommand(
            f"Symbol: {label}",
            universe.name_of(symbol),
            post(partial(OpenSymbol, symbol)),
        )
