"""The cutting cycles live: the indices' whole history from a local Yahoo, kept on disk a day."""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from capgap.cli.main import main
from capgap.core.clock import ManualClock
from capgap.core.cycles import CyclesReport
from capgap.core.market_types import NEW_YORK
from capgap.engine.cycles import load_cycles
from capgap.feeds.index_history import HistoryUnavailable
from capgap.feeds.providers.yahoo import chart_path
from server import LocalServer, Reply, local_server
from test_live_engine import daily_chart
from test_live_fed import feeds_for

__all__ = ["local_server"]

# Fri 5 Dec 2025 11:00 New York: the session closes at 16:00.
MORNING = datetime(2025, 12, 5, 11, 0, tzinfo=NEW_YORK).astimezone(UTC)
DAYS = 600
#: daily_chart's bars: one a calendar day, the last on the day before MORNING.
FIRST = (MORNING - timedelta(days=DAYS)).date()


def serve(server: LocalServer) -> None:
    """^GSPC flat at 100, ^RUT at 100 + day number: the gap is a ratio of day numbers."""
    server.add(chart_path("^GSPC"), Reply.json(daily_chart("^GSPC", [100.0] * DAYS, MORNING)))
    small = [100.0 + i for i in range(DAYS)]
    server.add(chart_path("^RUT"), Reply.json(daily_chart("^RUT", small, MORNING)))


def served_cycles(
    server: LocalServer, clock: ManualClock, cache_dir: Path
) -> Callable[[], Awaitable[CyclesReport]]:
    """Serve the two histories (see serve); return a run of the live cycles on ``clock``."""
    serve(server)

    async def run() -> CyclesReport:
        return await load_cycles(
            demo=False, feeds=feeds_for(server), clock=clock, cache_dir=cache_dir
        )

    return run


async def fresh_then_a_day_of_yahoo_down(
    server: LocalServer, cache_dir: Path
) -> tuple[ManualClock, Callable[[], Awaitable[CyclesReport]], CyclesReport]:
    """Fetch the history this morning, then have Yahoo answer 503 and move to the next morning.

    Returns the clock, the run (see served_cycles) and this morning's report.
    """
    clock = ManualClock(MORNING)
    run = served_cycles(server, clock, cache_dir)
    fresh = await run()
    for symbol in ("^GSPC", "^RUT"):
        server.replace(chart_path(symbol), Reply.html(503))
    clock.advance(24 * 3600)
    return clock, run, fresh


def since_hand(cut: date) -> tuple[int, float]:
    """Sessions from day 0 (row z) to the last row, and 100 (RUT_last / RUT_base - 1)."""
    zero = (cut - FIRST).days
    last = DAYS - 1
    return last - zero, 100.0 * ((100.0 + last) / (100.0 + zero - 1) - 1.0)


async def test_the_whole_history_is_asked_once_a_day_and_measured(
    local_server: LocalServer, tmp_path: Path
) -> None:
    clock = ManualClock(MORNING)
    run = served_cycles(local_server, clock, tmp_path)

    report = await run()
    assert local_server.total == 2
    for seen in local_server.seen:
        query = parse_qs(seen.query)
        assert query["range"] == ["max"] and query["interval"] == ["1d"]
    assert report.current is not None and report.resumed is not None
    sessions, gap = since_hand(date(2024, 9, 18))
    assert report.current.sessions_since == sessions
    assert report.current.gap_pp == pytest.approx(gap)
    sessions, gap = since_hand(date(2025, 9, 17))
    assert (report.resumed.sessions_since, report.resumed.gap_pp) == (sessions, pytest.approx(gap))
    assert not report.demo
    # An hour later, from disk: no request, the same figures.
    clock.advance(3600)
    assert await run() == report
    assert local_server.total == 2
    # After the 16:00 close the history is asked again.
    clock.advance((datetime(2025, 12, 5, 21, 0, tzinfo=UTC) - clock.now()).total_seconds())
    await run()
    assert local_server.total == 4


async def test_with_yahoo_down_the_history_kept_on_disk_is_used_and_said_old(
    local_server: LocalServer, tmp_path: Path
) -> None:
    # Fetched today, kept until the close; the next morning Yahoo answers 503: the figures
    # come from yesterday's history, said as such, rather than none at all.
    _clock, run, fresh = await fresh_then_a_day_of_yahoo_down(local_server, tmp_path)
    assert fresh.stale is None
    old = await run()
    assert local_server.total == 4
    assert old.current == fresh.current and old.as_of == fresh.as_of
    assert old.stale is not None
    assert old.stale.startswith("^GSPC: ") and "kept on disk, through " in old.stale
    assert "^RUT: " in old.stale


async def test_once_yahoo_answers_again_the_new_history_replaces_the_old_one(
    local_server: LocalServer, tmp_path: Path
) -> None:
    # The fault clears the day after: the next run fetches the new history (a day longer),
    # says nothing of an old one, and keeps the new one on disk for the rest of the day.
    clock, run, fresh = await fresh_then_a_day_of_yahoo_down(local_server, tmp_path)
    assert (await run()).stale is not None
    next_morning = MORNING + timedelta(days=1)
    local_server.replace(
        chart_path("^GSPC"), Reply.json(daily_chart("^GSPC", [100.0] * (DAYS + 1), next_morning))
    )
    small = [100.0 + i for i in range(DAYS + 1)]
    local_server.replace(chart_path("^RUT"), Reply.json(daily_chart("^RUT", small, next_morning)))
    asked = local_server.total
    clock.advance(600)
    again = await run()
    assert local_server.total == asked + 2
    assert again.stale is None
    assert again.as_of is not None and fresh.as_of is not None
    assert again.as_of > fresh.as_of
    assert again.current is not None and fresh.current is not None
    before = fresh.current.sessions_since
    assert before is not None and again.current.sessions_since == before + 1
    # Kept: an hour later the figures come from disk, with no request.
    clock.advance(3600)
    assert await run() == again
    assert local_server.total == asked + 2


async def test_an_unknown_symbol_is_history_unavailable(
    local_server: LocalServer, tmp_path: Path
) -> None:
    not_found = {"chart": {"result": None, "error": {"code": "Not Found", "description": "x"}}}
    local_server.add(chart_path("^GSPC"), Reply.json(not_found, 404))
    with pytest.raises(HistoryUnavailable, match=r"\^GSPC"):
        await load_cycles(
            demo=False,
            feeds=feeds_for(local_server),
            clock=ManualClock(MORNING),
            cache_dir=tmp_path,
        )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_without_network_or_cache_the_command_says_so_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[feeds.yahoo]\nbase_url = "http://127.0.0.1:{closed_port()}"\n')
    assert main(["cycles", "--config", str(config), "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("capgap: cycles: no index history: ^GSPC")


def test_the_command_writes_the_json_the_issue_names(
    local_server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(local_server)
    config = tmp_path / "config.toml"
    config.write_text(f'[feeds.yahoo]\nbase_url = "{local_server.base_url}"\n')
    assert main(["cycles", "--config", str(config), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["first_cut"] for row in data["cycles"]][-1] == "2024-09-18"
    assert all(set(row["after"]) == {"21", "63", "126", "252"} for row in data["cycles"])
    # The history starts in 2024: no past cycle has a base, so every median is blank.
    assert data["median"] == {"21": None, "63": None, "126": None, "252": None}
    assert data["demo"] is False
    current = data["current"]
    sessions, gap = since_hand(date(2024, 9, 18))
    assert current["first_cut"] == "2024-09-18"
    assert (current["sessions_since"], current["gap_pp"]) == (sessions, round(gap, 2))
    assert current["resumed"]["date"] == "2025-09-17"


async def test_a_poller_writes_the_history_its_followers_read_without_a_request(
    local_server: LocalServer, tmp_path: Path
) -> None:
    import asyncio

    from capgap.engine.cycles import record_index_history_daily
    from capgap.feeds.index_history import RECORDED_INDEX_HISTORY

    serve(local_server)
    out = tmp_path / "rec"
    said: list[str] = []
    clock = ManualClock(MORNING)
    keeper = asyncio.ensure_future(
        record_index_history_daily(
            out, feeds_for(local_server), clock, said.append, tmp_path / "slow", first_after_s=0
        )
    )
    try:
        for _ in range(500):
            if (out / RECORDED_INDEX_HISTORY).exists():
                break
            await asyncio.sleep(0.01)
    finally:
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
    assert said == [] and local_server.total == 2
    # A follower reads it from the recording: no request reaches the server.
    follower = await load_cycles(
        demo=False, feeds=feeds_for(local_server), clock=clock, recording=out
    )
    direct = await load_cycles(
        demo=False, feeds=feeds_for(local_server), clock=clock, cache_dir=tmp_path / "slow"
    )
    assert local_server.total == 2
    assert follower == direct


async def test_a_follower_without_the_posted_history_says_why(tmp_path: Path) -> None:
    with pytest.raises(HistoryUnavailable, match="carries no index history yet"):
        await load_cycles(demo=False, clock=ManualClock(MORNING), recording=tmp_path)
