"""The daily holdings update: fetch a fund's iShares file, validate it, keep it only when good.

A download replaces the cached universe file (see capgap.market.holdings) only when
parse_holdings accepts it against the last good file's row count; otherwise the universe in
use stays and the caller gets one line saying why. Each fund's last attempt (its New York
date, whether it worked, its line) is kept in ``updates.json`` beside the files, so the live
monitor fetches at most once a day however often it starts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx

from capgap.core.atomic import write_bytes_atomic
from capgap.core.clock import Clock
from capgap.core.market_types import NEW_YORK
from capgap.feeds.base import FeedError, describe_exception
from capgap.feeds.http import ClientSettings, endpoint_label, fetch, make_client
from capgap.feeds.poller import TokenBucket
from capgap.feeds.providers.ishares import parse_holdings
from capgap.market.holdings import FUNDS, Fund, Holdings, write_holdings
from capgap.market.universe import UniverseSource, newest_holdings

#: The provider's name in messages and among the feeds.
ISHARES = "iShares"
#: A holdings file is a few hundred kilobytes from a slow site: a generous read timeout.
CLIENT = ClientSettings(
    provider=ISHARES, read_timeout_s=30.0, connect_timeout_s=10.0, max_connections=2
)
#: Two files a day: both at once, then one request every ten seconds at most.
BUDGET_CAPACITY = 2.0
BUDGET_RATE_PER_S = 0.1
#: The file beside the cached holdings that remembers each fund's last attempt.
ATTEMPTS_FILE = "updates.json"
#: The path of a fund's holdings CSV under its product page (see notes/providers.md).
_AJAX = "1467271812596.ajax"


def holdings_url(base_url: str, fund: Fund) -> str:
    """Return the URL of ``fund``'s holdings CSV under the iShares ``base_url``."""
    return (
        f"{base_url.rstrip('/')}/{fund.product_path}/{_AJAX}"
        f"?fileType=csv&fileName={fund.ticker}_holdings&dataType=fund"
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of one fund's update: the line for humans, and the file written if any."""

    fund: str
    ok: bool
    line: str
    path: Path | None = None
    holdings: Holdings | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """A fund's last update attempt: its New York date, instant, result, line, last success."""

    day: date
    at: datetime
    ok: bool
    line: str
    last_ok: datetime | None = None


def _in_use(fund: Fund, folder: Path) -> UniverseSource | None:
    """Return the fund's universe in use with ``folder`` as the cache (None if none reads)."""
    try:
        return newest_holdings(fund, folder)[1]
    except ValueError:
        return None  # no shipped file either (a fresh checkout regenerating it)


def _keeping(source: UniverseSource | None) -> str:
    if source is None:
        return "no universe file to keep"
    return f"keeping the universe of {source.as_of.isoformat()} ({source.origin})"


def store_holdings(body: bytes, fund: Fund, folder: Path, *, source: str) -> Outcome:
    """Validate a holdings CSV and write it into ``folder`` when good; never raises.

    Refused: whatever parse_holdings refuses (compared with the row count of the universe in
    use), and a file older than it. The line then says why and what stays in use.
    """
    kept = _in_use(fund, folder)
    try:
        holdings = parse_holdings(
            body, fund.ticker, last_good_rows=kept.members if kept else None, source=source
        )
        if kept is not None and holdings.as_of < kept.as_of:
            raise FeedError(
                f"{ISHARES} {fund.ticker}: the holdings file is as of {holdings.as_of}, "
                f"older than the universe in use"
            )
        path = write_holdings(folder, holdings)
    except FeedError as exc:
        return Outcome(fund.ticker, False, f"{exc}; {_keeping(kept)}")
    except OSError as exc:
        line = f"{ISHARES} {fund.ticker}: cannot write into {folder}: {describe_exception(exc)}"
        return Outcome(fund.ticker, False, f"{line}; {_keeping(kept)}")
    line = (
        f"{fund.ticker} ({fund.index}): {holdings.rows.height} members as of "
        f"{holdings.as_of.isoformat()}, written to {path}"
    )
    return Outcome(fund.ticker, True, line, path, holdings)


async def fetch_fund(
    client: httpx.AsyncClient, base_url: str, fund: Fund, folder: Path, clock: Clock
) -> Outcome:
    """Download ``fund``'s holdings and store them when good (see store_holdings)."""
    url = holdings_url(base_url, fund)
    try:
        raw = await fetch(client, endpoint_label(ISHARES, fund.ticker), url, clock=clock)
    except FeedError as exc:
        kept = await asyncio.to_thread(_in_use, fund, folder)
        return Outcome(fund.ticker, False, f"{exc}; {_keeping(kept)}")
    # Parsing two thousand rows and writing the file: off the event loop.
    return await asyncio.to_thread(store_holdings, raw.body, fund, folder, source=url)


async def update_funds(
    funds: Sequence[Fund],
    base_url: str,
    folder: Path,
    clock: Clock,
    *,
    settings: ClientSettings = CLIENT,
    transport: httpx.AsyncBaseTransport | None = None,
    remember: bool = True,
) -> list[Outcome]:
    """Fetch each fund's holdings in turn into ``folder``; ``remember`` notes each attempt."""
    budget = TokenBucket(BUDGET_CAPACITY, BUDGET_RATE_PER_S, clock)
    outcomes = []
    async with make_client(settings, transport=transport, budget=budget) as client:
        for fund in funds:
            outcome = await fetch_fund(client, base_url, fund, folder, clock)
            if remember:
                await asyncio.to_thread(record_attempt, folder, outcome, clock.now())
            outcomes.append(outcome)
    return outcomes


def _attempt(raw: Any) -> Attempt | None:
    try:
        last_ok = raw.get("last_ok")
        return Attempt(
            day=date.fromisoformat(raw["day"]),
            at=datetime.fromisoformat(raw["at"]),
            ok=bool(raw["ok"]),
            line=str(raw["line"]),
            last_ok=datetime.fromisoformat(last_ok) if last_ok else None,
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def read_attempts(folder: Path) -> dict[str, Attempt]:
    """Return each fund's last attempt; an unreadable file counts as none (fetch again)."""
    try:
        raw = json.loads((folder / ATTEMPTS_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    attempts = {fund: _attempt(entry) for fund, entry in raw.items()}
    return {fund: attempt for fund, attempt in attempts.items() if attempt is not None}


def record_attempt(folder: Path, outcome: Outcome, now: datetime) -> None:
    """Remember ``outcome`` as its fund's last attempt (a failure to write is not fatal)."""
    attempts = read_attempts(folder)
    previous = attempts.get(outcome.fund)
    last_ok = now if outcome.ok else previous.last_ok if previous else None
    attempts[outcome.fund] = Attempt(
        now.astimezone(NEW_YORK).date(), now, outcome.ok, outcome.line, last_ok
    )
    payload = {
        fund: {
            "day": attempt.day.isoformat(),
            "at": attempt.at.isoformat(),
            "ok": attempt.ok,
            "line": attempt.line,
            "last_ok": attempt.last_ok.isoformat() if attempt.last_ok else None,
        }
        for fund, attempt in attempts.items()
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(folder / ATTEMPTS_FILE, json.dumps(payload, indent=1).encode())
    except OSError:
        # Without the note the next start fetches again: one request more, nothing lost.
        return


def due_funds(folder: Path, today: date) -> list[Fund]:
    """Return the funds not yet tried on the New York date ``today`` (success or failure)."""
    attempts = read_attempts(folder)
    return [
        fund
        for fund in FUNDS
        if (attempt := attempts.get(fund.ticker)) is None or attempt.day != today
    ]
