"""Polars' process settings for a monitor that runs all day: its allocator and its threads."""

from __future__ import annotations

from collections.abc import MutableMapping

#: jemalloc's settings, read once when polars loads (its build reads this variable name).
ENV_NAME = "_RJEM_MALLOC_CONF"
#: One arena, no thread caches, freed pages returned within 10 ms by jemalloc's background
#: thread. With an arena per thread and freed pages kept for seconds, the demo's RSS peaked
#: 8.5 MB higher over a replayed day (bench/session_memory.py) and the soak's switch to a new
#: recorded day 20 MB higher. Returning them at once on each free (a decay of 0) kept the
#: memory too, but inside the analytics tick, about 40 % slower (bench/analytics_tick.py, which
#: runs with these settings). A decay of 100 ms in the background was as fast, but let a
#: replayed session peak 11 MB higher (155.5 MB against 143.9 MB; 10 ms: 144.0 MB).
SETTINGS = "narenas:1,tcache:false,background_thread:true,dirty_decay_ms:10,muzzy_decay_ms:0"
#: What polars writes into the variable when it loads, before any setting of the user's
#: (polars/__init__.py): a parent Python process that loaded polars hands this down.
POLARS_DEFAULTS = "dirty_decay_ms:500,muzzy_decay_ms:1000"
#: Polars' thread pool size, read once when polars loads.
THREADS_NAME = "POLARS_MAX_THREADS"
#: One thread: a tick's frames are a few thousand rows, where handing work to a pool costs
#: more than it saves (a group-by or a sort took twice as long with two threads on the
#: 2-core development machine), and a monitor on a shared host should not take every core.
THREADS = "1"


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


def tune_polars(environ: MutableMapping[str, str]) -> None:
    """Put capgap's allocator and thread settings in ``environ``; the user's own win."""
    tune_allocator(environ)
    environ.setdefault(THREADS_NAME, THREADS)
