"""Many requests to one provider, at most N at a time; one item's problem is not everyone's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from capgap.feeds.base import FeedError

K = TypeVar("K")
T = TypeVar("T")
NOT_ASKED = "not asked: the provider failed"


async def fan_out(
    keys: Sequence[K],
    fetch: Callable[[K], Awaitable[T]],
    *,
    concurrency: int,
    item_errors: tuple[type[FeedError], ...],
) -> dict[K, T | str]:
    """Run ``fetch`` for every key, ``concurrency`` at a time, and return result or message.

    An error in ``item_errors`` is that key's problem and becomes its message. Any other
    error is the provider's: no further request starts, those in flight are cancelled, and
    the error is raised, so an outage never turns into a storm of requests.
    """
    gate = asyncio.Semaphore(max(1, concurrency))
    failed = asyncio.Event()

    async def one(key: K) -> T | str:
        async with gate:
            if failed.is_set():
                return NOT_ASKED
            try:
                return await fetch(key)
            except item_errors as exc:
                return str(exc)
            except BaseException:
                failed.set()
                raise

    tasks = [asyncio.create_task(one(key)) for key in keys]
    try:
        outcomes = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return dict(zip(keys, outcomes, strict=True))
