"""What screens and commands may read of the app, typed, so that none of them imports it.

The app satisfies these protocols structurally; screens reach it as ``self.app`` and ask it
for things only by posting messages (capgap.ui.messages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from textual.screen import Screen

from capgap.core.clock import Clock
from capgap.core.snapshot import Snapshot


class Named(Protocol):
    """Anything with a display name (a sector of the universe)."""

    @property
    def name(self) -> str:
        """The name shown."""
        ...


class UniverseView(Protocol):
    """What the command palette lists of the universe: sectors, watchlists, symbols."""

    @property
    def sectors(self) -> Sequence[Named]:
        """The sectors, in the universe's order."""
        ...

    @property
    def watchlists(self) -> Mapping[str, Sequence[str]]:
        """The user's watchlists by name."""
        ...

    def symbols(self) -> list[str]:
        """Return every symbol quoted."""
        ...

    def display(self, symbol: str) -> str:
        """Return the label shown for ``symbol``."""
        ...

    def name_of(self, symbol: str) -> str:
        """Return the display name of ``symbol``."""
        ...


class EngineView(Protocol):
    """What the UI reads of the engine (the app alone drives it)."""

    @property
    def clock(self) -> Clock:
        """The clock of the figures (system, replay or manual)."""
        ...

    @property
    def demo(self) -> bool:
        """True when the figures are demo data."""
        ...

    @property
    def paused(self) -> bool:
        """True while polling (and a replay's clock) is paused."""
        ...

    @property
    def universe(self) -> UniverseView | None:
        """The universe, once loaded."""
        ...


class CapgapHost(Protocol):
    """The app's state that screens read: the engine, the latest snapshot, the chart window."""

    @property
    def engine(self) -> EngineView:
        """The engine behind the figures."""
        ...

    @property
    def latest(self) -> Snapshot | None:
        """The last snapshot shown (None before the first)."""
        ...

    @property
    def window(self) -> str:
        """The time window of the charts (a reactive on the app: screens watch it)."""
        ...

    @property
    def aliases(self) -> Mapping[str, str]:
        """Display labels the user gave symbols."""
        ...

    def trail(self) -> list[str]:
        """Return the breadcrumb of the screens on the stack."""
        ...

    def sector_below(self, screen: Screen[None]) -> str | None:
        """Return the sector (or watchlist) screen's target under ``screen``, if any."""
        ...

    def index_name(self, symbol: str) -> str:
        """Return the display name of a benchmark index."""
        ...
