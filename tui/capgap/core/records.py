"""One way to copy a frozen record with some fields changed, whichever kind defines it."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, cast

import msgspec

T = TypeVar("T")


def replace(record: T, /, **changes: Any) -> T:
    """Return a copy of ``record`` (a msgspec Struct or a dataclass) with ``changes`` made."""
    # The Snapshot's records are Structs (built in C: the tick makes a few hundred), the
    # settings' and the market's are dataclasses; callers need not know which is which.
    if isinstance(record, msgspec.Struct):
        return cast(T, msgspec.structs.replace(record, **changes))
    return dataclasses.replace(record, **changes)  # type: ignore[type-var]
