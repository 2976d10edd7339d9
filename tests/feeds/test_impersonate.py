"""The impersonating transport (curl_cffi as Chrome) against the local server, beside httpx's own.

Every fault goes through both transports: the FeedError a user reads must not depend on which
one the config chose, and httpx's client above the transport keeps cookies and redirects.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from capgap.analytics.fed import futures_symbols
from capgap.cli.main import main
from capgap.core.clock import SystemClock
from capgap.feeds import http
from capgap.feeds.base import FeedError, RateLimited
from capgap.feeds.http import ClientSettings, get_json, make_client
from capgap.feeds.providers.fred_csv import CSV_PATH
from capgap.feeds.providers.yahoo import chart_path
from capgap.feeds.providers.yahoo_quote import CRUMB_PATH, QUOTE_PATH
from capgap.market.fomc import default_schedule
from capgap.market.zq import default_naming
from capgap.settings.model import Transport
from server import LocalServer, Reply, local_server, provider_test_client
from test_live_engine import config_for, serve_history, serve_index_quotes
from test_live_fed import EFFR_BODY, EFFR_PATH, chart
from test_yahoo_quote import answer, item, open_session

pytest.importorskip("curl_cffi")
from capgap.feeds.impersonate import ImpersonatingTransport

__all__ = ["local_server"]

CLIENT = provider_test_client("Yahoo")
SHORT = ClientSettings(provider="Yahoo", read_timeout_s=0.3, connect_timeout_s=0.3)
KINDS: tuple[Transport, ...] = ("httpx", "impersonate")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(CLIENT, trust_env=False, kind="impersonate") as client:
        yield client


async def _message(kind: Transport, settings: ClientSettings, url: str) -> str:
    async with make_client(settings, trust_env=False, kind=kind) as client:
        with pytest.raises(FeedError) as caught:
            await get_json(client, "Yahoo", url)
    return str(caught.value)


async def test_the_client_uses_the_impersonating_transport(client):
    # httpx keeps a custom transport as is: every request goes through curl_cffi.
    assert isinstance(client._transport, ImpersonatingTransport)


async def test_a_get_comes_back_as_httpx_would_return_it(client, local_server):
    local_server.add("/data", Reply.json({"price": 5085.06, "names": ["^GSPC"]}))
    reply = await get_json(client, "Yahoo", local_server.base_url + "/data", params={"q": "a b"})
    assert reply.status == 200
    assert reply.body == {"price": 5085.06, "names": ["^GSPC"]}
    (seen,) = local_server.seen
    assert seen.method == "GET" and seen.query == "q=a+b"
    # Chrome's own identity, its UA and client hints, not httpx's; the request's Accept kept.
    assert "Chrome/" in seen.headers["user-agent"]
    assert "python-httpx" not in seen.headers["user-agent"]
    assert "sec-ch-ua" in seen.headers
    assert seen.headers["accept"] == "application/json, text/plain;q=0.9, */*;q=0.8"


async def test_a_compressed_body_is_decoded_once(client, local_server):
    payload = {"chart": {"result": [{"meta": {"regularMarketPrice": 6870.4}}]}}
    body = gzip.compress(json.dumps(payload).encode())
    local_server.add("/data", Reply(200, body, (("Content-Encoding", "gzip"),)))
    reply = await get_json(client, "Yahoo", local_server.base_url + "/data")
    assert reply.body == payload


async def test_a_form_post_goes_through_with_its_body(client, local_server):
    local_server.add("/collect", Reply.text("thanks", 200))
    response = await client.post(
        local_server.base_url + "/collect", data={"sessionId": "abc", "agree": "agree"}
    )
    assert response.status_code == 200 and response.text == "thanks"
    (seen,) = local_server.seen
    assert seen.method == "POST"
    assert seen.body == b"sessionId=abc&agree=agree"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_redirect_is_returned_with_its_headers_not_followed(kind, local_server):
    target = local_server.base_url + "/landing?token=T"
    reply = Reply.text(
        "",
        302,
        headers={"Location": target, "Set-Cookie": "A=1; Path=/", "Retry-After": "7"},
    )
    local_server.add("/collect", reply)
    local_server.add("/landing", Reply.text("landed"))
    async with make_client(CLIENT, trust_env=False, kind=kind) as client:
        response = await client.post(local_server.base_url + "/collect", data={"agree": "1"})
        assert response.status_code == 302
        assert response.headers["location"] == target
        assert response.headers["retry-after"] == "7"
        assert client.cookies.get("A") == "1"
    # follow_redirects=False holds: nobody went to the Location.
    assert local_server.count("/landing") == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_httpx_follows_a_redirect_when_asked_one_hop_at_a_time(kind, local_server):
    # The consent form's post answers 302 and sets the session cookie: httpx follows it
    # through the transport (as a GET), with the cookie, and curl follows nothing itself.
    local_server.add(
        "/collect",
        Reply.text("", 302, headers={"Location": "/landing", "Set-Cookie": "A=1; Path=/"}),
    )
    local_server.add("/landing", Reply.text("landed"))
    async with make_client(CLIENT, trust_env=False, kind=kind) as client:
        response = await client.post(
            local_server.base_url + "/collect", data={"agree": "1"}, follow_redirects=True
        )
    assert response.status_code == 200 and response.text == "landed"
    assert [r.status_code for r in response.history] == [302]
    assert [(s.method, s.path) for s in local_server.seen] == [
        ("POST", "/collect"),
        ("GET", "/landing"),
    ]
    assert local_server.seen[1].headers["cookie"] == "A=1"


async def test_cookies_live_in_httpx_jar_and_are_sent_once(client, local_server):
    local_server.add(
        "/cookie",
        Reply(
            404,
            b"",
            (("Set-Cookie", "A=1; Path=/"), ("Set-Cookie", "B=2; Path=/")),
            content_type="text/html",
        ),
    )
    local_server.add("/data", Reply.json({}))
    response = await client.get(local_server.base_url + "/cookie")
    # Both Set-Cookie headers pass through, as two headers.
    assert response.headers.get_list("set-cookie") == ["A=1; Path=/", "B=2; Path=/"]
    assert dict(client.cookies) == {"A": "1", "B": "2"}
    await client.get(local_server.base_url + "/data")
    await client.get(local_server.base_url + "/data")
    # The session stores none of its own: httpx's jar is the only one (each cookie once).
    cookies = [s.headers.get("cookie") for s in local_server.seen if s.path == "/data"]
    assert cookies == ["A=1; B=2", "A=1; B=2"]
    client.cookies.clear()
    await client.get(local_server.base_url + "/data")
    assert "cookie" not in local_server.seen[-1].headers


async def test_the_connection_limit_still_bounds_parallel_requests(local_server):
    # httpx's pool limits do not reach a custom transport: the session's own limit does.
    settings = ClientSettings(provider="X", read_timeout_s=5.0, max_connections=2, max_keepalive=2)
    local_server.add("/data", Reply.slow(0.1, {"ok": True}))
    async with make_client(settings, trust_env=False, kind="impersonate") as client:
        url = local_server.base_url + "/data"
        replies = await asyncio.gather(*(get_json(client, "X", url) for _ in range(6)))
    assert [reply.body for reply in replies] == [{"ok": True}] * 6
    assert local_server.count("/data") == 6
    assert local_server.max_in_flight <= 2


def _faults(server: LocalServer) -> dict[str, Reply]:
    return {
        "slow": Reply.slow(5.0, {"late": True}),
        "trickle": Reply.trickle(0.1),
        "reset": Reply.reset(),
        "close": Reply.close(),
        "truncated": Reply.truncated(b'{"chart": {"res', promised=400),
        "redirect": Reply.text("", 302, headers={"Location": server.base_url + "/c?s=X"}),
        "html": Reply.html(200),
        "500": Reply.text("oops", 500),
        "503": Reply.text("", 503, headers={"Retry-After": "40"}),
        "429": Reply.json({}, 429, headers={"Retry-After": "40"}),
    }


#: What each fault reads as (the httpx transport's words, independently of the other).
EXPECTED = {
    "slow": "Yahoo timed out after 0.3 s",
    "trickle": "Yahoo timed out after 0.9 s",
    "reset": "Yahoo connection failed: Server disconnected without sending a response.",
    "close": "Yahoo connection failed: Server disconnected without sending a response.",
    "truncated": "Yahoo response was cut short: peer closed connection without sending "
    "complete message body (received 15 bytes, expected 400)",
    "redirect": "Yahoo redirected the request (HTTP 302): a consent or login page?",
    "html": "Yahoo sent HTML where JSON was expected (a captive portal or a challenge page?)",
    "500": "Yahoo HTTP 500",
    "503": "Yahoo unavailable (HTTP 503), retry in 40 s",
    "429": "Yahoo rate limit (HTTP 429), retry in 40 s",
}


@pytest.mark.parametrize("fault", sorted(EXPECTED))
async def test_a_fault_reads_the_same_through_both_transports(fault, local_server):
    local_server.add(f"/{fault}", _faults(local_server)[fault])
    url = f"{local_server.base_url}/{fault}"
    messages = [await _message(kind, SHORT, url) for kind in KINDS]
    assert messages == [EXPECTED[fault], EXPECTED[fault]]
    # One call, one request each: neither transport retries or follows on its own.
    assert local_server.count(f"/{fault}") == 2


async def test_a_rate_limit_keeps_its_wait(client, local_server):
    local_server.add("/data", Reply.json({}, 429, headers={"Retry-After": "40"}))
    with pytest.raises(RateLimited) as caught:
        await get_json(client, "Yahoo", local_server.base_url + "/data")
    assert caught.value.retry_after_s == 40


async def test_a_refused_connection_is_a_connection_failure_without_the_query(client):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FeedError) as caught:
        await get_json(client, "Yahoo", f"http://127.0.0.1:{port}/x", params={"key": "SECRET"})
    message = str(caught.value)
    assert message.startswith("Yahoo connection failed: ")
    assert "SECRET" not in message and "curl_cffi" not in message and "See http" not in message


@pytest.fixture
def full_listener() -> Iterator[int]:
    """A loopback port whose accept queue is full: new connections wait for a SYN-ACK."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.1)  # let the handshakes that can complete, complete
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_connect_timeout_names_the_connect_phase(kind, full_listener):
    message = await _message(kind, SHORT, f"http://127.0.0.1:{full_listener}/x")
    assert message == "Yahoo timed out connecting after 0.3 s"


async def test_an_oversized_body_is_refused_and_the_transfer_stopped(
    client, local_server, monkeypatch
):
    monkeypatch.setattr(http, "MAX_BODY_BYTES", 1000)
    # 1,500 bytes at once, then a byte every 0.05 s of a million promised: still sending.
    big = Reply(200, b" " * 1500, (("Content-Length", "1000000"),), delay_s=0.05, fault="trickle")
    local_server.add("/big", big)
    local_server.add("/data", Reply.json({"ok": True}))
    with pytest.raises(FeedError, match="sent more than"):
        await get_json(client, "Yahoo", local_server.base_url + "/big")
    # The session goes on: the refused transfer gave its connection back.
    reply = await get_json(client, "Yahoo", local_server.base_url + "/data")
    assert reply.body == {"ok": True}


def test_curl_cffi_is_imported_only_when_chosen(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[feeds.yahoo]\ntransport = "impersonate"\n')
    code = f"""
import sys
from pathlib import Path
from capgap.feeds.http import make_client
from capgap.feeds.providers.yahoo import CLIENT_SETTINGS
from capgap.settings.config import load_settings
settings = load_settings(Path({str(config)!r}))
assert settings.feeds.yahoo.transport == "impersonate"
assert "curl_cffi" not in sys.modules, "loading the config imported curl_cffi"
make_client(CLIENT_SETTINGS)
assert "curl_cffi" not in sys.modules, "an httpx client imported curl_cffi"
make_client(CLIENT_SETTINGS, kind=settings.feeds.yahoo.transport)
assert "curl_cffi" in sys.modules
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("kind", KINDS)
def test_check_probes_through_the_chosen_transport_and_names_it(
    kind, local_server: LocalServer, tmp_path: Path, capsys
):
    for symbol, price in (("^GSPC", 6870.40), ("^RUT", 2521.48)):
        local_server.add(chart_path(symbol), Reply.json(chart(symbol, price)))
    open_session(local_server)
    local_server.add(
        QUOTE_PATH, Reply.json(answer(*(item(s) for s in ("^GSPC", "^RUT", "SPY", "IWM"))))
    )
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    config = Path(config_for(local_server, tmp_path))
    config.write_text(
        config.read_text().replace("[feeds.yahoo]\n", f'[feeds.yahoo]\ntransport = "{kind}"\n')
    )
    assert main(["check", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(" ok " in line for line in lines[1:4])
    if kind == "impersonate":
        assert lines[-1] == (
            f"Yahoo is reached through curl_cffi {version('curl_cffi')} impersonating Chrome "
            '(transport = "impersonate")'
        )
    else:
        assert lines[-1] == 'Yahoo is reached through httpx (transport = "httpx")'
    # Yahoo's requests (charts, cookie, crumb, quote) came from Chrome, or from httpx (the
    # rates' hosts, the New York Fed and FRED's CSV, stay on httpx).
    yahoo = [s for s in local_server.seen if s.path not in (EFFR_PATH, CSV_PATH)]
    assert len(yahoo) == 5
    assert all(("sec-ch-ua" in s.headers) == (kind == "impersonate") for s in yahoo)


def _impersonating_config(server: LocalServer, tmp_path: Path) -> str:
    config = Path(config_for(server, tmp_path))
    text = config.read_text().replace(
        "[feeds.yahoo]\n", '[feeds.yahoo]\ntransport = "impersonate"\n'
    )
    config.write_text(text)
    return str(config)


def test_a_live_snapshot_comes_through_the_impersonating_transport(
    local_server: LocalServer, tmp_path: Path, capsys
):
    now = SystemClock().now().astimezone(UTC)
    stamp = int(now.timestamp()) - 30
    serve_index_quotes(
        local_server,
        stamp,
        item("SPY", 685.0, time=stamp, prev_close=684.0, quote_type="ETF"),
        item("IWM", 250.0, time=stamp, prev_close=251.0, quote_type="ETF"),
    )
    serve_history(local_server, now)
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    config = _impersonating_config(local_server, tmp_path)
    assert main(["snapshot", "--config", config, "--format", "json"]) == 0
    snap = json.loads(capsys.readouterr().out)
    assert snap["feeds"][0]["name"] == "yahoo" and snap["feeds"][0]["state"] == "ok"
    assert snap["spread"]["large"]["last"] == 6870.40
    assert snap["spread"]["small"]["last"] == 2521.48
    assert snap["fed"]["effr"] == 3.89
    # Every Yahoo request (cookie, crumb, quotes, charts) came as Chrome; the NY Fed's did not.
    yahoo = [s for s in local_server.seen if s.path != EFFR_PATH]
    assert local_server.count(CRUMB_PATH) == 1 and len(yahoo) > 3
    assert all("sec-ch-ua" in s.headers for s in yahoo)
    assert all("sec-ch-ua" not in s.headers for s in local_server.seen if s.path == EFFR_PATH)


def test_fedwatch_probes_the_futures_through_the_impersonating_transport(
    local_server: LocalServer, tmp_path: Path, capsys
):
    symbols = futures_symbols(SystemClock().now(), default_schedule(), default_naming())
    for symbol in symbols:
        local_server.add(chart_path(symbol), Reply.json(chart(symbol, 96.25)))
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    config = _impersonating_config(local_server, tmp_path)
    assert main(["fedwatch", "--config", config, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["futures_source"] == "Yahoo ZQ"
    assert out["meetings"][0]["hold_pct"] == pytest.approx(100.0)
    charts = [s for s in local_server.seen if s.path != EFFR_PATH]
    assert charts and all("sec-ch-ua" in s.headers for s in charts)
