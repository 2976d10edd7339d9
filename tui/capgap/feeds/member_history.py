"""The index members' daily closes, live: fetched in Yahoo's spare budget and kept on disk.

The sectors' windows and the rotation map need every member's closes over about a year
(see capgap.analytics.sector_history.closes_start): 2,400 chart requests, one a member,
which no poll could afford. A background task fetches them one at a time, the heaviest
members first (the caller orders them), and only in the budget the polls leave:

- the host's token bucket must hold more than HISTORY_RESERVE tokens: a poll (at most a
  dozen requests at the default cadences) always finds its tokens waiting, so the quotes
  keep their pace and never wait for the history;
- the host's requests over the last minute (every request, the polls' too: RequestLog), with
  the polls' next lump on top, must stay within the share of the budget the plan spends
  (capgap.feeds.rotation.HEADROOM left over): the 10 % for one-off requests (a new session,
  a focused symbol's history) stays free, and Yahoo sees no more than 54 requests a minute.

The closes are kept in one parquet file (symbol, date, close) in capgap's cache folder,
written atomically: a restart the same day asks nothing, the next day one short range per
member (from its last cached close on). A damaged file is discarded with one warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from capgap.core.atomic import write_bytes_atomic
from capgap.core.clock import Clock
from capgap.core.market_types import NEW_YORK
from capgap.feeds.base import (
    FeedError,
    RateLimited,
    SymbolError,
    UnknownSymbol,
    describe_exception,
)
from capgap.feeds.poller import Backoff, TokenBucket
from capgap.feeds.providers.yahoo import PROVIDER, YahooChart
from capgap.feeds.rotation import HEADROOM
from capgap.feeds.values import MAX_FACTOR, clock_now
from capgap.market.calendar import previous_session

_log = logging.getLogger(__name__)

#: The file of the members' closes in capgap's cache folder.
CLOSES_FILE = "member-closes.parquet"
#: Its columns: one close a member and session.
CLOSES_SCHEMA = pl.Schema({"symbol": pl.String(), "date": pl.Date(), "close": pl.Float64()})
#: Tokens of the host's bucket the history never takes: a poll at the default cadences needs
#: at most 7 quote requests, 3 charts and a focused symbol's history, so it never waits.
HISTORY_RESERVE = 15.0
#: The longest the task sleeps before looking at the bucket and the clock again.
MAX_NAP_S = 1.0
#: The file is rewritten after this many members arrived (and when the queue is done): a
#: crash costs at most these requests again, and the file is not rewritten per member.
SAVE_EVERY = 100
#: A history fault backs off as a feed's poll does, slower: the history is never urgent.
HISTORY_BACKOFF = Backoff(base_s=10.0, max_s=600.0, open_max_s=600.0)


#: The span the host's recent requests are counted over (its budget is per minute).
WINDOW_S = 60.0


#: Requests closer than this belong to one lump (a poll's batch of quotes and charts).
LUMP_S = 2.0
#: The polls' lumps are remembered this long: longer than the slowest cadence (300 s).
LUMP_MEMORY_S = 600.0
#: Set while the history's own request goes out: the log tells it from the polls' requests.
_HISTORY_REQUEST: ContextVar[bool] = ContextVar("history_request", default=False)


class RequestLog:
    """When a host's requests went out (clock seconds): ``hook`` is its client's request hook.

    The history's own requests are told apart (see ``room``): the polls' come in lumps, one a
    poll, which the history must leave room for.
    """

    def __init__(self, clock: Clock) -> None:
        """Count on ``clock``'s monotonic seconds."""
        self._clock = clock
        self._times: deque[tuple[float, bool]] = deque()

    async def hook(self, _request: Any) -> None:
        """Note one request (an httpx request hook)."""
        self._times.append((self._clock.monotonic(), _HISTORY_REQUEST.get()))

    def recent(self, window_s: float = WINDOW_S) -> int:
        """Return the requests of the last ``window_s`` seconds (at most LUMP_MEMORY_S)."""
        now = self._clock.monotonic()
        while self._times and self._times[0][0] <= now - LUMP_MEMORY_S:
            self._times.popleft()
        start = now - window_s
        return sum(1 for at, _ in self._times if at > start)

    def room(self, allowed: float) -> bool:
        """Return True when one more request keeps the last minute within ``allowed``.

        With room for a poll's lump too (its requests within LUMP_S of each other, seen
        within LUMP_MEMORY_S): the next poll's lump, much like the last ones, comes on top
        of whatever the history adds now. The larger of the last two, as the last may be a
        poll still under way; not the largest: a cold start's lump (the day's histories, a
        session) is not what the next poll makes.
        """
        recent = self.recent()
        lumps: list[int] = [0]
        last: float | None = None
        for at, history in self._times:
            if history:
                continue
            if last is not None and at - last <= LUMP_S:
                lumps[-1] += 1
            else:
                lumps.append(1)
            last = at
        return recent + 1 + max(lumps[-2:]) <= allowed


def request_hooks(client: Any) -> list[Callable[[Any], Awaitable[None]]]:
    """Return ``client``'s request hooks (a list it reads on every request)."""
    hooks: list[Callable[[Any], Awaitable[None]]] = client.event_hooks["request"]
    return hooks


def _empty_closes() -> pl.DataFrame:
    return pl.DataFrame(schema=CLOSES_SCHEMA)


def sane_closes(
    bars: pl.DataFrame, symbol: str, *, first: date, today: date, reference: float | None
) -> pl.DataFrame:
    """Return a chart's daily bars (BARS) as closes (CLOSES_SCHEMA), ``first`` to before ``today``.

    Dated in New York. A bar of today or later is dropped (today's is a live partial bar; a
    later one is a wrong timestamp), and so is a close more than MAX_FACTOR from
    ``reference`` (the member's last cached close) or, without one, from the reply's median:
    such a close is a wrong number, not a move.
    """
    closes = bars.select(
        pl.lit(symbol, pl.String()).alias("symbol"),
        pl.col("time").dt.convert_time_zone(NEW_YORK.key).dt.date().alias("date"),
        pl.col("close").cast(pl.Float64()),
    ).filter((pl.col("date") >= first) & (pl.col("date") < today) & pl.col("close").is_finite())
    if closes.height == 0:
        return _empty_closes()
    middle = reference if reference is not None else closes.get_column("close").median()
    if not isinstance(middle, float) or middle <= 0:
        return _empty_closes()
    close = pl.col("close")
    return (
        closes.filter((close >= middle / MAX_FACTOR) & (close <= middle * MAX_FACTOR))
        .unique("date", keep="last", maintain_order=True)
        .sort("date")
    )


class ClosesCache:
    """The members' closes in memory and, with a path, in one parquet file between runs."""

    def __init__(self, path: Path | None) -> None:
        """Read the closes kept at ``path`` (None: in memory only); damage is one warning."""
        self.path = path
        #: Why the kept file was discarded (said once), or why it could not be written.
        self.warning: str | None = None
        self._frame = _empty_closes()
        self._added: list[pl.DataFrame] = []
        #: Each member's last cached date and close: what a new day's short range starts from.
        self._last: dict[str, tuple[date, float]] = {}
        self._load()

    def _load(self) -> None:
        path = self.path
        if path is None or not path.exists():
            return
        try:
            frame = pl.read_parquet(path)
            if frame.schema != CLOSES_SCHEMA:
                raise ValueError(f"columns {list(frame.schema.items())}")
            close = pl.col("close")
            if not frame.select((close.is_finite() & (close > 0)).all()).item():
                raise ValueError("a close that is not a positive number")
        except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
            self.warning = (
                f"the members' history cache {path} was damaged and is fetched again ({exc})"
            )
            _log.warning("%s", self.warning)
            return
        self._frame = frame.sort("symbol", "date")
        last = self._frame.group_by("symbol").agg(pl.col("date", "close").last())
        self._last = {s: (d, c) for s, d, c in last.iter_rows()}

    def last(self, symbol: str) -> tuple[date, float] | None:
        """Return the member's last cached (date, close), or None without any."""
        return self._last.get(symbol)

    def add(self, closes: pl.DataFrame) -> None:
        """Add one member's closes (CLOSES_SCHEMA, sorted by date; later than the kept ones)."""
        if closes.height == 0:
            return
        self._added.append(closes)
        symbol, day, close = closes.row(-1)
        self._last[symbol] = (day, close)

    def parts(self) -> list[pl.DataFrame]:
        """Return the kept closes and those added since, as they are (not yet merged)."""
        return [self._frame, *self._added]

    def merged(self, merged: pl.DataFrame, count: int) -> None:
        """Take ``merged`` (merge_closes of parts()) as the kept closes; ``count`` parts merged.

        Members added while the merge ran (in a thread) stay added.
        """
        self._frame = merged
        del self._added[: count - 1]

    def closes(self, symbols: Sequence[str], since: date) -> pl.LazyFrame:
        """Return the cached closes of ``symbols`` from ``since`` on (a lazy frame, unmerged).

        Its reader (capgap.analytics.sector_history.leg_levels) sorts the rows and counts a
        repeated (symbol, date) once: nothing is merged on the event loop.
        """
        wanted = pl.Series(list(symbols), dtype=pl.String())
        return pl.concat([part.lazy() for part in self.parts()]).filter(
            pl.col("symbol").is_in(wanted.implode()) & (pl.col("date") >= since)
        )

    def write(self, frame: pl.DataFrame) -> str | None:
        """Write ``frame`` (merged closes) to the file atomically; None, or why not."""
        if self.path is None:
            return None
        buffer = io.BytesIO()
        try:
            frame.write_parquet(buffer)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(self.path, buffer.getvalue())
        except (OSError, pl.exceptions.PolarsError) as exc:
            return f"cannot keep the members' history in {self.path}: {exc}"
        return None

    def save(self, since: date | None = None) -> str | None:
        """Merge what was added and write it (the closes from ``since`` on); None, or why not."""
        parts = self.parts()
        self.merged(merge_closes(parts, since), len(parts))
        return self.write(self._frame)


def merge_closes(parts: Sequence[pl.DataFrame], since: date | None) -> pl.DataFrame:
    """Return the closes of ``parts`` (from ``since`` on) in one frame, sorted by symbol and date.

    A member's short range starts after its last kept date: a (symbol, date) given twice is a
    re-fetch of that day, and the part given later wins.
    """
    frame = pl.concat(parts).unique(["symbol", "date"], keep="last", maintain_order=True)
    if since is not None:
        frame = frame.filter(pl.col("date") >= since)
    return frame.sort("symbol", "date")


class MemberHistoryFetcher:
    """Fetches the members' missing closes in the background, in the host's spare budget.

    ``want`` names the members (heaviest first) and the first date needed, and starts the
    task when something is missing; ``settled`` counts the members done for today (closes
    in, or known to have none). A member Yahoo does not know is listed in ``problems`` once
    and never asked again; a rate limit or an outage backs off and resumes with the same
    member; the quotes' polls are never awaited on it.
    """

    def __init__(
        self,
        chart: YahooChart,
        cache: ClosesCache,
        bucket: TokenBucket,
        clock: Clock,
        *,
        log: RequestLog | None = None,
        reserve: float = HISTORY_RESERVE,
        nap_s: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Fetch with ``chart`` (its client spends ``bucket``) into ``cache``.

        ``log`` counts the host's requests (its hook must be on the client: see
        YahooLiveFeed); without one only the bucket's reserve holds the history back.
        """
        self.cache = cache
        self.log = log
        self._chart = chart
        self._bucket = bucket
        self._clock = clock
        self._reserve = reserve
        self._nap_s = nap_s
        self._waiting_since: float | None = None
        self._rng = rng or random.Random()
        #: Per member, why it has no closes (unknown, an empty chart), for the UI.
        self.problems: dict[str, str] = {}
        #: The provider's last failure while the task backs off (None when it works).
        self.error: str | None = None
        self._queue: deque[str] = deque()
        self._settled: set[str] = set()
        self._unknown: set[str] = set()
        self._day: date | None = None
        self._since: date | None = None
        self._failures = 0
        self._resume_at: float | None = None
        self._fetched = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Return True while the task has members to fetch."""
        return self._task is not None and not self._task.done()

    @property
    def gated(self) -> bool:
        """Return True while the task waits for the budget (a backoff, or the polls' reserve)."""
        return self._waiting_since is not None

    @property
    def waiting_since(self) -> float | None:
        """Return the clock's monotonic second of the task's last look that found no room.

        None while it fetches. Equal to the clock's now: it has seen the budget as it is.
        """
        return self._waiting_since

    def want(self, symbols: Sequence[str], since: date) -> None:
        """Fetch, from ``since`` on, the closes ``symbols`` (in this order) lack."""
        today = clock_now(self._clock).astimezone(NEW_YORK).date()
        if today != self._day:
            # A new day: every member needs the session that just closed.
            self._day, self._settled = today, set()
        self._since = since
        last_session = previous_session(today).day
        queue: list[str] = []
        for symbol in dict.fromkeys(symbols):
            kept = self.cache.last(symbol)
            if symbol in self._unknown or (kept is not None and kept[0] >= last_session):
                self._settled.add(symbol)
            elif symbol not in self._settled:
                queue.append(symbol)
        self._queue = deque(queue)
        if queue and not self.running:
            self._task = asyncio.ensure_future(self._run())

    def settled(self, symbols: Sequence[str]) -> int:
        """Return how many of ``symbols`` are done for today."""
        return sum(1 for symbol in symbols if symbol in self._settled)

    async def _run(self) -> None:
        while self._queue:
            symbol = self._queue[0]
            if symbol in self._settled:
                # want() named it again while it was being fetched.
                self._queue.popleft()
                continue
            try:
                await self._turn()
            finally:
                self._waiting_since = None
            try:
                closes = await self._fetch(symbol)
            except UnknownSymbol:
                self._unknown.add(symbol)
                self._settle(symbol, f"{PROVIDER} does not know {symbol}")
            except RateLimited as exc:
                self._fault(str(exc), exc.retry_after_s)
            except SymbolError as exc:
                # This member's chart is unusable today (an empty result): the next day asks
                # again; the others go on.
                self._settle(symbol, str(exc))
            except FeedError as exc:
                self._fault(str(exc), None)
            except Exception as exc:
                # A reply no parser foresaw must not end the task: this member is listed and
                # the others go on (the next day asks it again).
                self._settle(symbol, f"{symbol}'s daily closes: {describe_exception(exc)}")
            else:
                self._failures, self._resume_at, self.error = 0, None, None
                self.cache.add(closes)
                self._settle(symbol, None)
                self._fetched += 1
                if self._fetched % SAVE_EVERY == 0:
                    await self._save()
        await self._save()

    def _settle(self, symbol: str, problem: str | None) -> None:
        if self._queue and self._queue[0] == symbol:
            self._queue.popleft()
        else:
            with contextlib.suppress(ValueError):
                self._queue.remove(symbol)
        self._settled.add(symbol)
        if problem is None:
            self.problems.pop(symbol, None)
        else:
            self.problems[symbol] = problem

    def _fault(self, message: str, retry_after_s: float | None) -> None:
        """Back off after a failure of the provider itself; the member stays first in line."""
        self._failures += 1
        self.error = f"members' history: {message}"
        wait = HISTORY_BACKOFF.delay(self._failures, self._rng)
        if retry_after_s is not None:
            wait = max(wait, retry_after_s)
        self._resume_at = self._clock.monotonic() + wait

    async def _turn(self) -> None:
        """Wait until a backoff is over and the budget has room (see the module docstring)."""
        # The requests a minute the plan may spend (the rest is for one-off requests).
        share = (1 - HEADROOM) * self._bucket.rate_per_s * WINDOW_S
        while True:
            now = self._clock.monotonic()
            if self._resume_at is not None and now < self._resume_at:
                wait = self._resume_at - now
            elif self.log is not None and not self.log.room(share):
                # A request leaves the window within it: look again soon.
                wait = 1.0
            elif self._bucket.available() >= self._reserve + 1:
                return
            else:
                wait = self._bucket.wait_s(self._reserve + 1)
            self._waiting_since = now
            # Naps, not one sleep: the clock may be a replay's or a test's.
            nap = MAX_NAP_S if self._nap_s is None else self._nap_s
            await asyncio.sleep(min(max(wait, 0.001), nap))

    async def _fetch(self, symbol: str) -> pl.DataFrame:
        """Return the member's closes after its last cached one (all from ``since`` without)."""
        now = clock_now(self._clock)
        today = now.astimezone(NEW_YORK).date()
        since = self._since or today
        kept = self.cache.last(symbol)
        first = since if kept is None or kept[0] < since else kept[0] + timedelta(days=1)
        start = datetime.combine(first, time(), NEW_YORK)
        token = _HISTORY_REQUEST.set(True)
        try:
            chart = await self._chart.chart(symbol, interval="1d", since=start, until=now)
        finally:
            _HISTORY_REQUEST.reset(token)
        reference = kept[1] if kept is not None and kept[0] >= since else None
        closes = sane_closes(chart.bars, symbol, first=first, today=today, reference=reference)
        if closes.height == 0 and kept is None:
            raise SymbolError(symbol, f"{PROVIDER} sent no daily closes for {symbol}")
        return closes

    async def _save(self) -> None:
        """Merge and write the closes in a thread (the polls go on meanwhile)."""
        cache = self.cache
        parts = cache.parts()
        merged = await asyncio.to_thread(merge_closes, parts, self._since)
        cache.merged(merged, len(parts))
        problem = await asyncio.to_thread(cache.write, merged)
        if problem is not None:
            cache.warning = problem

    async def aclose(self) -> None:
        """Stop the task and keep what arrived."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._save()
