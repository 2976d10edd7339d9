"""Polars' allocator, set for a process that runs all day: freed memory goes back at once."""

from __future__ import annotations

from collections.abc import MutableMapping

#: jemalloc's settings, read once when polars loads (its build reads this variable name).
ENV_NAME = "_RJEM_MALLOC_CONF"
#: One arena, no thread caches, freed pages returned at once. With an arena per thread and
#: freed pages kept for seconds, the demo's RSS peaked 8.5 MB higher over a replayed day
#: (bench/session_memory.py) and the soak's switch to a new recorded day 20 MB higher. The
#: price is CPU: about 0.4 points of a core at the 30x demo, 0.1 at a live pace.
SETTINGS = "narenas:1,tcache:false,dirty_decay_ms:0,muzzy_decay_ms:0"
#: What polars writes into the variable when it loads, before any setting of the user's
#: (polars/__init__.py): a parent Python process that loaded polars hands this down.
POLARS_DEFAULTS = "dirty_decay_ms:500,muzzy_decay_ms:1000"


def tune_allocator(environ: MutableMapping[str, str]) -> None:
    """Put capgap's allocator settings in ``environ``; call before polars loads.

    Polars prepends its own defaults when it loads, and jemalloc lets a later setting win:
    capgap's come after polars' defaults and before any setting of the user's, which wins.
    """
    current = environ.get(ENV_NAME, "")
    if not current:
        environ[ENV_NAME] = SETTINGS
    elif current.startswith(POLARS_DEFAULTS):
        # Inherited from a Python parent that loaded polars; the rest is the user's own.
        environ[ENV_NAME] = SETTINGS + current[len(POLARS_DEFAULTS) :]
    else:
        environ[ENV_NAME] = f"{SETTINGS},{current}"
