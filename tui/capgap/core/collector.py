"""The garbage collector held off while capgap starts, then told to skip what the start made.

Starting, capgap imports Textual, polars and its own modules and builds its screens: about
90,000 objects that live as long as the process. The collector's passes over them while they
are made find nothing to free and cost the monitor 85-100 ms of CPU before its first figures
(225 young passes, 21 middle, one full, measured 2026-12-07). Held off until the engine's first
figures are on screen (the demo shows a second process's figures before its engine is built:
still the start), collected once, then frozen (later passes skip what is left), it runs as
before for the rest of the day.
"""

from __future__ import annotations

import gc

#: Whether hold() stopped the collector and release() has not yet started it again.
_held = False


def hold() -> None:
    """Stop the collector's passes until release(); call first thing in the process."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release() -> None:
    """Collect once, move what is left out of the collector's way and start it again.

    Once (a no-op unless hold() stopped it). The one pass frees what the start left in cycles
    (frozen, it would stay for the life of the process); it runs after the first figures.
    """
    global _held
    if _held:
        _held = False
        gc.collect()
        gc.freeze()
        gc.enable()


def held() -> bool:
    """Return whether the collector is held off by hold()."""
    return _held
