"""The collector held off while capgap starts, and started again (once) after."""

from __future__ import annotations

import gc

import pytest
from capgap.core import collector

pytestmark = pytest.mark.usefixtures("collector_restored")


def test_hold_stops_the_passes_and_release_freezes_and_starts_them_again() -> None:
    assert gc.isenabled()
    collector.hold()
    assert not gc.isenabled() and collector.held()
    made: list[list[int]] = [[] for _ in range(100)]  # objects the start made
    frozen = gc.get_freeze_count()
    collector.release()
    assert gc.isenabled() and not collector.held()
    # What existed moved out of the collector's way, the objects just made among them.
    assert gc.get_freeze_count() >= frozen + len(made)
    # Once: a second release changes nothing.
    again = gc.get_freeze_count()
    collector.release()
    assert gc.get_freeze_count() == again and gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off() -> None:
    gc.disable()
    collector.hold()
    assert not collector.held()
    collector.release()
    assert not gc.isenabled()


def test_what_the_start_left_in_cycles_is_freed_not_frozen() -> None:
    class Node:
        """An object in a cycle, which only the collector frees."""

        def __init__(self) -> None:
            self.me = self

    collector.hold()
    Node()  # garbage now, in a cycle
    alive = [id(obj) for obj in gc.get_objects() if isinstance(obj, Node)]
    assert alive  # nothing collected it while held
    collector.release()
    gc.unfreeze()  # frozen objects are out of get_objects()' sight: bring them back to it
    assert not [obj for obj in gc.get_objects() if isinstance(obj, Node)]
