"""Polars' allocator, set for a process that runs all day: freed memory goes back at once."""

from __future__ import annotations

from collections.abc import MutableMapping

#: jemalloc's settings, read once when polars loads (its build reads this variable name).
ENV_NAME = "_RJEM_MALLOC_CONF"
#: One arena, no thread caches, freed pages returned at once. jemalloc's defaults (an arena
#: per thread, pages kept 10 s) keep every short-lived frame's pages: over a replayed day the
#: demo's RSS peaked 28 MB higher with them (bench/session_memory.py). These cost no measurable
#: CPU at capgap's pace (bench/terminal_cost.py).
SETTINGS = "narenas:1,tcache:false,dirty_decay_ms:0,muzzy_decay_ms:0"


def tune_allocator(environ: MutableMapping[str, str]) -> None:
    """Set polars' allocator settings unless the user set their own; call before polars loads."""
    environ.setdefault(ENV_NAME, SETTINGS)
