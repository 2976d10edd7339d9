"""What a tmux line costs its process beside the request: the CA bundle, the collector, imports."""

from __future__ import annotations

import asyncio
import gc
import json
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from capgap.cli import main as cli_main
from capgap.cli import report
from capgap.cli import snapshot as snapshot_cli
from capgap.cli.main import console_main, main
from capgap.engine.sources import live_engine
from capgap.feeds import http
from capgap.feeds.disk_cache import cache_folder
from capgap.feeds.http import ClientSettings, make_client
from capgap.feeds.member_history import CLOSES_FILE
from capgap.settings.config import find_config, load_settings
from server import LocalServer, local_server
from test_snapshot_session import source

__all__ = ["local_server", "source"]

#: Modules a run on a stored session has no use for (the cookie's consent flow, the rates'
#: stand-ins while the New York Fed's figures are kept, Finnhub, recording, replaying, the
#: JSON and the calendar); a live tmux line run again loads none of them.
UNUSED_ON_A_STORED_SESSION = (
    "capgap.feeds.providers.yahoo_consent",
    "capgap.feeds.providers.fred",
    "capgap.feeds.providers.fred_csv",
    "capgap.feeds.providers.finnhub",
    "capgap.analytics.serialize",
    "capgap.market.upcoming",
    "capgap.feeds.recording.recorder",
    "capgap.feeds.recording.replay",
    "capgap.feeds.recording.session_info",
    "html.parser",
)


@pytest.fixture
def fresh_tls() -> Any:
    """Forget the process's TLS context before and after (the next test loads its own)."""
    http._tls_loading.cache_clear()
    yield
    http._tls_loading.cache_clear()


def test_the_ca_bundle_loads_once_in_a_thread_and_clients_share_it(
    fresh_tls: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded_in: list[str] = []
    real = httpx.create_ssl_context

    def create(**kwargs: Any) -> ssl.SSLContext:
        loaded_in.append(threading.current_thread().name)
        return real(**kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", create)
    http.prepare_tls_context()
    http.prepare_tls_context()
    context = http.tls_context(True)
    client = make_client(ClientSettings(provider="A"))
    pool_context = client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert loaded_in == ["capgap-tls"]
    assert pool_context is context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_bundle_that_fails_to_load_fails_where_a_client_is_made(
    fresh_tls: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: Any) -> ssl.SSLContext:
        raise ssl.SSLError("no usable certificate in the bundle")

    monkeypatch.setattr(httpx, "create_ssl_context", broken)
    http.prepare_tls_context()
    with pytest.raises(ssl.SSLError, match="no usable certificate"):
        make_client(ClientSettings(provider="A"))


def test_the_tmux_line_runs_without_the_collector_and_turns_it_back_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    collecting: list[bool] = []
    real = report.format_tmux

    def spy(snapshot: Any) -> str:
        collecting.append(gc.isenabled())
        return real(snapshot)

    monkeypatch.setattr(report, "format_tmux", spy)
    assert gc.isenabled()
    assert main(["snapshot", "--demo", "--at", "16:00", "--format", "tmux"]) == 0
    assert collecting == [False]
    assert gc.isenabled()
    # The line itself is the one the README shows.
    assert capsys.readouterr().out == "DEMO SPX +0.19% RUT -0.38% gap -0.58pp FOMC 4d22h\n"


def test_a_failing_tmux_line_turns_the_collector_back_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(_args: Any, _fmt: str) -> int:
        assert not gc.isenabled()
        raise RuntimeError("the source broke")

    monkeypatch.setattr(snapshot_cli, "_print", fail)
    assert main(["snapshot", "--demo", "--format", "tmux"]) == 1
    assert gc.isenabled()
    assert "the source broke" in capsys.readouterr().err


def test_the_command_freezes_what_is_left_before_the_process_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli_main, "main", lambda argv=None: 3)
    before = gc.get_freeze_count()
    try:
        assert console_main() == 3
        assert gc.get_freeze_count() > before
        # The start's hold on the collector ends with main(), whatever main() did.
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_tmux_line_run_again_loads_no_module_it_does_not_use(
    source: tuple[LocalServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _server, config = source
    # The first run opens the session (the consent flow's module among others) and keeps it.
    assert main(["snapshot", "--config", config, "--format", "tmux"]) == 0
    line = capsys.readouterr().out
    probe = (
        "import json, sys\n"
        "from capgap.cli.main import main\n"
        f"code = main(['snapshot', '--config', {config!r}, '--format', 'tmux'])\n"
        "sys.stderr.write(json.dumps([code, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(config).parent,
        timeout=120,
    )
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0 and done.stdout == line
    assert "polars" in modules and "httpx" in modules
    assert [name for name in UNUSED_ON_A_STORED_SESSION if name in modules] == []


def test_a_tmux_line_leaves_the_members_closes_a_monitor_keeps_unread(
    source: tuple[LocalServer, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _server, config = source
    # A monitor keeps a year of every member's closes beside the slow data (here damaged).
    closes = cache_folder() / CLOSES_FILE
    closes.parent.mkdir(parents=True, exist_ok=True)
    closes.write_bytes(b"not a parquet file")
    read: list[str] = []
    real = pl.read_parquet

    def spy(where: Any, *args: Any, **kwargs: Any) -> pl.DataFrame:
        read.append(str(where))
        return real(where, *args, **kwargs)

    monkeypatch.setattr(pl, "read_parquet", spy)
    assert main(["snapshot", "--config", config, "--format", "tmux"]) == 0
    assert capsys.readouterr().out.startswith("SPX +0.19% RUT -0.38% gap -0.58pp")
    assert str(closes) not in read
    # The engine of the other formats reads it (and says it was damaged).
    engine = live_engine(load_settings(find_config(config)), keep_between_runs=True)
    try:
        assert str(closes) in read
        warning = engine.feed.member_history.cache.warning  # type: ignore[attr-defined]
        assert "damaged" in str(warning)
    finally:
        asyncio.run(engine.aclose())
