"""Messages of the UI: the engine worker's snapshots, and the screens' requests to the app."""

from __future__ import annotations

from textual.message import Message

from capgap.core.snapshot import Snapshot


class SnapshotReady(Message):
    """A new Snapshot is ready to be shown; a queued older one is dropped in its favour."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        """Return True for another SnapshotReady: only the newest snapshot matters."""
        return isinstance(message, SnapshotReady)


class OpenSector(Message):
    """Open a sector's (or a watchlist's) constituents on a new screen."""

    def __init__(self, name: str, kind: str = "sector") -> None:
        super().__init__()
        self.name = name
        self.kind = kind


class OpenSymbol(Message):
    """Open a symbol's screen."""

    def __init__(self, symbol: str) -> None:
        super().__init__()
        self.symbol = symbol


class DetailsWanted(Message):
    """The top screen needs the details of a sector (or watchlist) and a symbol (None: none)."""

    def __init__(self, sector: str | None, symbol: str | None) -> None:
        super().__init__()
        self.sector = sector
        self.symbol = symbol
