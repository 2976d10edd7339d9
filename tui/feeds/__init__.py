"""Data feeds: the Feed interface, replay and providers (no textual)."""
