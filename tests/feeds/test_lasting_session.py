"""The monitor and `capgap record` start on the stored Yahoo session and the slow-data cache."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from capgap.analytics.fed import futures_symbols
from capgap.cli.record import feed_lines
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import SESSION_PROBLEM, Snapshot
from capgap.engine.sources import live_engine
from capgap.feeds.providers.yahoo import chart_path
from capgap.feeds.providers.yahoo_quote import CRUMB_PATH, QUOTE_PATH
from capgap.feeds.session_store import session_path
from capgap.market.fomc import default_schedule
from capgap.market.zq import default_naming
from capgap.settings.config import load_settings
from capgap.ui.screens.feeds import feed_content
from capgap.ui.widgets.status_line import feed_variants
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, serve_history, serve_index_quotes
from test_live_fed import EFFR_BODY, EFFR_PATH, NOT_FOUND
from test_quote_faults import small_universe
from test_yahoo_quote import COOKIE_PATH, INVALID_CRUMB, session_cookie

__all__ = ["local_server"]

# Fri 5 Dec 2025 11:00 New York, the market open.
MORNING = datetime(2025, 12, 5, 11, 0, tzinfo=NEW_YORK).astimezone(UTC)


def serve_a_market(server: LocalServer) -> None:
    """Both indices quoted 30 s before MORNING, every benchmark's history, the EFFR.

    The ZQ months' histories (the Fed odds over time) answer as Yahoo does for a month it
    does not know: that answer is kept on disk like a history.
    """
    serve_index_quotes(server, int(MORNING.timestamp()) - 30)
    serve_history(server, MORNING)
    for symbol in futures_symbols(MORNING, default_schedule(), default_naming()):
        server.add(chart_path(symbol), Reply.json(NOT_FOUND, 404))
    server.add(EFFR_PATH, Reply.json(EFFR_BODY))


def config_of(server: LocalServer, tmp_path: Path) -> Path:
    """The local config, with the funds' holdings on the local server too (the monitor's update)."""
    path = Path(config_for(server, tmp_path))
    path.write_text(path.read_text() + f'[feeds.ishares]\nbase_url = "{server.base_url}"\n')
    return path


async def one_start(server: LocalServer, config: Path, clock: ManualClock) -> Snapshot:
    """A new monitor process: the engine as the monitor builds it, polled once, closed."""
    settings = load_settings(config, environ={})
    engine = live_engine(settings, lasting=True, clock=clock, universe=small_universe())
    try:
        return await engine.refresh()
    finally:
        await engine.aclose()


def daily_charts(server: LocalServer, since: int = 0) -> int:
    """How many daily-history chart requests reached ``server`` after its first ``since``."""
    return sum(
        1
        for seen in server.seen[since:]
        if parse_qs(seen.query).get("interval") == ["1d"] and "/chart/" in seen.path
    )


async def test_a_second_start_reuses_the_session_history_and_rates(
    local_server: LocalServer, tmp_path: Path
) -> None:
    serve_a_market(local_server)
    config = config_of(local_server, tmp_path)
    clock = ManualClock(MORNING)
    first = await one_start(local_server, config, clock)
    cold = len(local_server.seen)
    assert daily_charts(local_server) > 0
    # Started again a minute later: the stored cookie and crumb, history and rates from disk.
    clock.advance(60)
    second = await one_start(local_server, config, clock)
    assert local_server.count(COOKIE_PATH) == 1 and local_server.count(CRUMB_PATH) == 1
    assert local_server.count(EFFR_PATH) == 1
    assert daily_charts(local_server, cold) == 0
    # The quotes themselves are asked, with the stored crumb.
    later = [seen for seen in local_server.seen[cold:] if seen.path == QUOTE_PATH]
    assert later and all(parse_qs(seen.query)["crumb"] == ["haT3oykhHqZ"] for seen in later)
    # The same figures both times: +0.19 % and -0.38 % (6870.40/6857.12, 2521.48/2531.16).
    assert first.fed.effr == second.fed.effr == 3.89
    for snapshot in (first, second):
        assert snapshot.spread.large.change_pct is not None
        assert round(snapshot.spread.large.change_pct, 2) == 0.19
    assert second.feeds[0].state == "ok"


async def test_a_rejected_stored_crumb_is_refreshed_once_and_stored(
    local_server: LocalServer, tmp_path: Path
) -> None:
    serve_a_market(local_server)
    config = config_of(local_server, tmp_path)
    clock = ManualClock(MORNING)
    await one_start(local_server, config, clock)
    assert json.loads(session_path().read_text())["crumb"] == "haT3oykhHqZ"
    # Yahoo now refuses the stored crumb once and opens a new session.
    cookie, crumb = session_cookie("two", "newCrumb123")
    local_server.replace(COOKIE_PATH, cookie)
    local_server.replace(CRUMB_PATH, crumb)
    good = local_server.queued(QUOTE_PATH)[-1]
    local_server.replace(QUOTE_PATH, Reply.json(INVALID_CRUMB, 401), good)
    clock.advance(timedelta(minutes=5).total_seconds())
    snapshot = await one_start(local_server, config, clock)
    assert snapshot.feeds[0].state == "ok"
    # One new session for the refusal, not one per batch or per retry.
    assert local_server.count(COOKIE_PATH) == 2 and local_server.count(CRUMB_PATH) == 2
    stored = json.loads(session_path().read_text())
    assert stored["crumb"] == "newCrumb123"
    assert any(entry["value"] == "d=two" for entry in stored["cookies"])


def blocked_by_a_folder() -> Path:
    """A folder where the session's file goes: no mode bits involved, so root is refused too."""
    session_path().mkdir(parents=True)
    return session_path().parent


def blocked_read_only() -> Path:
    """The session's folder, read-only (0500)."""
    folder = session_path().parent
    folder.mkdir(parents=True)
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root ignores the mode bits: the file case covers it
        folder.chmod(0o700)
        pytest.skip("running with permissions that ignore mode bits")
    return folder


@pytest.mark.parametrize(
    ("block", "reason"),
    [(blocked_by_a_folder, "Is a directory"), (blocked_read_only, "Permission denied")],
    ids=["a-folder", "read-only"],
)
async def test_a_session_that_cannot_be_stored_is_said_and_the_quotes_still_arrive(
    local_server: LocalServer, tmp_path: Path, block: Callable[[], Path], reason: str
) -> None:
    serve_a_market(local_server)
    config = config_of(local_server, tmp_path)
    folder = block()
    try:
        snapshot = await one_start(local_server, config, ManualClock(MORNING))
    finally:
        if folder.is_dir():
            folder.chmod(0o700)
    # The quotes are fine: the feed is ok, the figures are there.
    yahoo = snapshot.feeds[0]
    assert yahoo.name == "yahoo" and yahoo.state == "ok" and yahoo.error is None
    assert snapshot.spread.large.change_pct is not None
    # Beside them, once, why the next start will open a new session.
    said = f"cannot store the Yahoo session in {session_path()}: {reason}"
    # (The served quotes hold the two indices alone: the other benchmarks are problems too.)
    assert yahoo.problems[0] == (SESSION_PROBLEM, said)
    symbols = [key for key, _ in yahoo.problems[1:]]
    assert SESSION_PROBLEM not in symbols and "SPY" in symbols
    # The status line says it first, the way it says a feed's problems; the feeds screen
    # lists it apart from the symbols not quoted.
    count = len(yahoo.problems)
    line = feed_variants(snapshot.feeds, snapshot.as_of)[0].content.plain
    assert line.startswith(f"yahoo ok, {count} problems: {said}")
    screen = feed_content(yahoo, snapshot.as_of).plain.splitlines()
    assert screen[2:4] == [f"  {said}", f"  {len(symbols)} symbols not quoted:"]


async def test_capgap_record_says_a_session_not_stored_once(
    local_server: LocalServer, tmp_path: Path
) -> None:
    serve_a_market(local_server)
    config = config_of(local_server, tmp_path)
    blocked_by_a_folder()
    clock = ManualClock(MORNING)
    settings = load_settings(config, environ={})
    engine = live_engine(settings, lasting=True, clock=clock, universe=small_universe())
    said: set[str] = set()
    try:
        first = feed_lines(await engine.refresh(), said)
        clock.advance(60)
        second = feed_lines(await engine.refresh(), said)
    finally:
        await engine.aclose()
    line = f"yahoo: cannot store the Yahoo session in {session_path()}: Is a directory"
    # (The funds' holdings are not served: the iShares update says so on its own lines.)
    assert [said for said in first if said.startswith("yahoo")] == [line]
    assert [said for said in second if said.startswith("yahoo")] == []
