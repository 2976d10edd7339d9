"""Yahoo's session kept in a file between runs: reused while young, replaced when refused."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from capgap.core.clock import ManualClock
from capgap.feeds.base import FeedError
from capgap.feeds.http import make_client
from capgap.feeds.providers.yahoo_quote import CRUMB_PATH, QUOTE_PATH, YahooQuotes
from capgap.feeds.session_store import MAX_SESSION_AGE, SessionStore
from server import LocalServer, Reply, local_server
from test_yahoo_quote import (
    CLIENT,
    COOKIE_PATH,
    CRUMB,
    INVALID_CRUMB,
    answer,
    item,
    open_session,
    session_cookie,
)

__all__ = ["local_server"]

START = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(CLIENT, trust_env=False) as shared:
        yield shared


def quotes_with(
    server: LocalServer, client: httpx.AsyncClient, store: SessionStore, clock: ManualClock
) -> YahooQuotes:
    """A quote provider on ``server`` whose session lives in ``store`` (a run of capgap)."""
    return YahooQuotes(
        client, server.base_url, cookie_url=server.base_url + COOKIE_PATH, clock=clock, store=store
    )


def serve_new_session(server: LocalServer, value: str, crumb: str) -> None:
    """From now on the cookie endpoint sets ``value`` and the crumb endpoint answers ``crumb``."""
    cookie, crumb_reply = session_cookie(value, crumb)
    server.replace(COOKIE_PATH, cookie)
    server.replace(CRUMB_PATH, crumb_reply)


async def one_run(server: LocalServer, store: SessionStore, clock: ManualClock) -> None:
    """A new process: a new client with an empty jar, quoting SPY once."""
    async with make_client(CLIENT, trust_env=False) as fresh:
        await quotes_with(server, fresh, store, clock).quotes(["SPY"])


async def test_a_stored_session_is_reused_by_the_next_run(local_server, tmp_path: Path):
    store = SessionStore(tmp_path / "session" / "yahoo.json")
    clock = ManualClock(START)
    open_session(local_server, "abc123")
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    await one_run(local_server, store, clock)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    # Just under a day later a new run asks for the quotes alone, with the stored pair.
    clock.advance((MAX_SESSION_AGE - timedelta(minutes=1)).total_seconds())
    await one_run(local_server, store, clock)
    assert [seen.path for seen in local_server.seen] == [
        COOKIE_PATH,
        CRUMB_PATH,
        QUOTE_PATH,
        QUOTE_PATH,
    ]
    last = local_server.seen[-1]
    assert "A3=d=abc123" in last.headers["cookie"]
    assert parse_qs(last.query)["crumb"] == [CRUMB]


async def test_a_day_old_session_is_opened_anew(local_server, tmp_path: Path):
    store = SessionStore(tmp_path / "yahoo.json")
    clock = ManualClock(START)
    open_session(local_server, "old", "oldCrumb111")
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    await one_run(local_server, store, clock)
    serve_new_session(local_server, "new", "newCrumb222")
    clock.advance(MAX_SESSION_AGE.total_seconds())
    await one_run(local_server, store, clock)
    assert local_server.count(COOKIE_PATH) == 2 and local_server.count(CRUMB_PATH) == 2
    assert json.loads(store.path.read_text())["crumb"] == "newCrumb222"


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        b'{"version": 1, "crumb": "x"}',
        b'{"version": 99, "saved_at": "2025-12-05T16:00:00+00:00", "crumb": "x", "cookies": []}',
        b'{"version": 1, "saved_at": "2025-12-05T16:00:00+00:00", "crumb": "x", "cookies": []}',
        b'{"version": 1, "saved_at": "2025-12-05T16:00:00", "crumb": "x",'
        b' "cookies": [{"name": "A3", "value": "v", "domain": "d", "path": "/"}]}',
        b"\xff\xfe\x00garbage",
        b"[" * 5000,
    ],
)
async def test_a_damaged_session_file_is_ignored_and_replaced(
    local_server, tmp_path: Path, damage: bytes
):
    store = SessionStore(tmp_path / "yahoo.json")
    store.path.write_bytes(damage)
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    await one_run(local_server, store, ManualClock(START))
    assert local_server.count(CRUMB_PATH) == 1
    assert json.loads(store.path.read_text())["crumb"] == CRUMB


async def test_a_refused_stored_session_is_renewed_once_and_the_new_one_stored(
    local_server, tmp_path: Path
):
    store = SessionStore(tmp_path / "yahoo.json")
    clock = ManualClock(START)
    open_session(local_server, "one", "firstCrumb1")
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    await one_run(local_server, store, clock)
    # Yahoo revokes it: 401 "Invalid Crumb" once, then the new session is served.
    local_server.replace(
        QUOTE_PATH, Reply.json(INVALID_CRUMB, 401), Reply.json(answer(item("SPY")))
    )
    serve_new_session(local_server, "two", "secondCrumb")
    clock.advance(60)
    await one_run(local_server, store, clock)
    assert local_server.count(COOKIE_PATH) == 2 and local_server.count(CRUMB_PATH) == 2
    stored = json.loads(store.path.read_text())
    assert stored["crumb"] == "secondCrumb"
    assert [cookie["value"] for cookie in stored["cookies"]] == ["d=two"]
    # The retry went out with the new cookie only: the refused one left the jar.
    retry = local_server.seen[-1]
    assert retry.headers["cookie"] == "A3=d=two"
    # And the run after that reuses the new pair.
    local_server.replace(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    await one_run(local_server, store, clock)
    assert local_server.count(CRUMB_PATH) == 2
    assert parse_qs(local_server.seen[-1].query)["crumb"] == ["secondCrumb"]


async def test_a_session_refused_twice_fails_after_one_renewal(local_server, tmp_path: Path):
    store = SessionStore(tmp_path / "yahoo.json")
    clock = ManualClock(START)
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    await one_run(local_server, store, clock)
    local_server.replace(QUOTE_PATH, Reply.json(INVALID_CRUMB, 401))
    with pytest.raises(FeedError, match=r"refused the session \(HTTP 401\)"):
        await one_run(local_server, store, clock)
    assert local_server.count(CRUMB_PATH) == 2


async def test_an_unwritable_store_costs_requests_not_the_quotes(
    local_server, tmp_path: Path, client
):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = SessionStore(blocker / "yahoo.json")
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY", 604.0))))
    provider = quotes_with(local_server, client, store, ManualClock(START))
    quotes, problems = await provider.quotes(["SPY"])
    assert quotes.get_column("last").to_list() == [604.0] and problems == {}
    problem = provider._session.store_problem
    assert problem is not None and str(blocker) in problem and CRUMB not in problem


def test_the_store_never_shows_the_tokens(tmp_path: Path):
    store = SessionStore(tmp_path / "yahoo.json")
    jar = httpx.Cookies()
    jar.set("A3", "d=secretcookie", domain="127.0.0.1", path="/")
    assert store.save("secretCrumb", jar, START) is None
    stored = store.load(START + timedelta(hours=1))
    assert stored is not None and stored.crumb == "secretCrumb"
    assert stored.cookies == (("A3", "d=secretcookie", "127.0.0.1", "/"),)
    for text in (repr(store), repr(stored)):
        assert "secret" not in text
    # A time ahead of the clock (the clock set back) is not trusted either.
    assert store.load(START - timedelta(minutes=1)) is None
