"""Messages the engine worker posts to the dashboard."""

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
