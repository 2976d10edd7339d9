"""`capgap snapshot --format tmux` run again: the stored Yahoo session and the disk cache answer."""

from __future__ import annotations

import json
import stat
from datetime import UTC
from pathlib import Path

import pytest
from capgap.cli.main import main
from capgap.core.clock import SystemClock
from capgap.feeds.providers.yahoo_quote import CRUMB_PATH, QUOTE_PATH
from capgap.feeds.session_store import session_path
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, serve_history, serve_index_quotes
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_yahoo_quote import COOKIE_PATH, INVALID_CRUMB, session_cookie

__all__ = ["local_server"]


@pytest.fixture
def source(local_server: LocalServer, tmp_path: Path) -> tuple[LocalServer, str]:
    """The local server answering as Yahoo and the NY Fed, and a config pointing at it."""
    now = SystemClock().now().astimezone(UTC)
    serve_index_quotes(local_server, int(now.timestamp()) - 30)
    serve_history(local_server, now)
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    return local_server, config_for(local_server, tmp_path)


def tmux_line(config: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["snapshot", "--config", config, "--format", "tmux"]) == 0
    return capsys.readouterr().out


def test_a_second_tmux_run_makes_at_most_two_requests(
    source: tuple[LocalServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, config = source
    first = tmux_line(config, capsys)
    cold = server.total
    second = tmux_line(config, capsys)
    warm = server.total - cold
    # The session, the daily history and the rates come from disk: the quotes alone are asked.
    assert warm <= 2, [seen.path for seen in server.seen[cold:]]
    assert server.count(COOKIE_PATH) == 1 and server.count(CRUMB_PATH) == 1
    assert server.count(EFFR_PATH) == 1
    # The same figures both times (hand-computed from the served quotes: +0.19 %, -0.38 %);
    # the countdown after them follows the wall clock (it failed when the runs straddled an
    # hour of it: "2d23h" then "2d22h").
    assert first.split(" FOMC ")[0] == second.split(" FOMC ")[0]
    assert " FOMC " in first and " FOMC " in second
    assert first.startswith("SPX +0.19% RUT -0.38% gap -0.58pp")


def test_the_stored_session_is_private_and_never_printed(
    source: tuple[LocalServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _server, config = source
    assert main(["snapshot", "--config", config, "--format", "json"]) == 0
    out = capsys.readouterr()
    path = session_path()
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = path.read_text()
    assert "haT3oykhHqZ" in stored and "d=one" in stored
    assert "haT3oykhHqZ" not in out.out + out.err and "d=one" not in out.out + out.err
    # Never in the config folder either.
    assert not (Path(config).parent / path.name).exists()


def test_a_rejected_stored_session_is_refreshed_once_and_replaced(
    source: tuple[LocalServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, config = source
    tmux_line(config, capsys)
    assert json.loads(session_path().read_text())["crumb"] == "haT3oykhHqZ"
    # Yahoo now refuses the stored crumb once; a new cookie and crumb are served.
    cookie, crumb = session_cookie("two", "newCrumb123")
    server.replace(COOKIE_PATH, cookie)
    server.replace(CRUMB_PATH, crumb)
    good = server.queued(QUOTE_PATH)[-1]
    server.replace(QUOTE_PATH, Reply.json(INVALID_CRUMB, 401), good)
    line = tmux_line(config, capsys)
    assert line.startswith("SPX +0.19% RUT -0.38%")
    assert server.count(COOKIE_PATH) == 2 and server.count(CRUMB_PATH) == 2
    stored = json.loads(session_path().read_text())
    assert stored["crumb"] == "newCrumb123"
    assert any(cookie["value"] == "d=two" for cookie in stored["cookies"])
    # The refused request carried the stored crumb, the retry the new one.
    crumbs = [seen.query for seen in server.seen if seen.path == QUOTE_PATH][-2:]
    assert "crumb=haT3oykhHqZ" in crumbs[0] and "crumb=newCrumb123" in crumbs[1]
