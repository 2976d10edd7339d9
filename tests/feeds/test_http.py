"""The shared HTTP gate: every fault of a provider becomes one FeedError with a human message."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from capgap.core.clock import ManualClock
from capgap.feeds import http
from capgap.feeds.base import FeedError
from capgap.feeds.http import (
    USER_AGENT,
    ClientSettings,
    JsonReply,
    RateLimited,
    get_json,
    make_client,
    retry_after_seconds,
)
from server import LocalServer, Reply, local_server, provider_test_client

__all__ = ["local_server"]

CLIENT = provider_test_client("Yahoo")
# Only the timeout tests use a short read timeout: a plain reply from the local server can
# take longer than 0.3 s on a busy CI machine.
SHORT = ClientSettings(provider="Yahoo", read_timeout_s=0.3, connect_timeout_s=0.3)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(CLIENT, trust_env=False) as client:
        yield client


@pytest.fixture
async def short_client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(SHORT, trust_env=False) as client:
        yield client


async def _fail(client: httpx.AsyncClient, server: LocalServer, reply: Reply) -> FeedError:
    server.add("/data", reply)
    with pytest.raises(FeedError) as caught:
        await get_json(client, "Yahoo", server.base_url + "/data")
    # One call, one request: the gate never retries on its own.
    assert server.count("/data") == 1
    return caught.value


async def test_json_body_comes_back_decoded(client, local_server):
    local_server.add("/data", Reply.json({"price": 5085.06, "names": ["^GSPC"]}))
    reply = await get_json(client, "Yahoo", local_server.base_url + "/data")
    assert reply == JsonReply(200, {"price": 5085.06, "names": ["^GSPC"]})
    assert local_server.count("/data") == 1


async def test_every_request_carries_a_browser_user_agent(client, local_server):
    local_server.add("/data", Reply.json({}))
    await get_json(client, "Yahoo", local_server.base_url + "/data", params={"a": "1"})
    headers = local_server.seen[0].headers
    assert headers["user-agent"] == USER_AGENT
    assert headers["user-agent"].startswith("Mozilla/5.0 (")
    assert "python" not in headers["user-agent"].lower()
    assert "application/json" in headers["accept"]
    assert local_server.seen[0].query == "a=1"


def test_the_client_has_explicit_timeouts():
    settings = ClientSettings(provider="X", read_timeout_s=7.0, connect_timeout_s=2.0)
    client = make_client(settings)
    assert client.timeout == httpx.Timeout(7.0, connect=2.0)
    assert client.follow_redirects is False


async def test_the_connection_limit_bounds_parallel_requests(local_server):
    settings = ClientSettings(provider="X", read_timeout_s=5.0, max_connections=2, max_keepalive=2)
    local_server.add("/data", Reply.slow(0.1, {"ok": True}))
    async with make_client(settings, trust_env=False) as client:
        url = local_server.base_url + "/data"
        replies = await asyncio.gather(*(get_json(client, "X", url) for _ in range(6)))
    assert [reply.body for reply in replies] == [{"ok": True}] * 6
    assert local_server.count("/data") == 6
    assert local_server.max_in_flight <= 2


async def test_rate_limit_with_retry_after_seconds(client, local_server):
    error = await _fail(client, local_server, Reply.json({}, 429, {"Retry-After": "40"}))
    assert isinstance(error, RateLimited)
    assert str(error) == "Yahoo rate limit (HTTP 429), retry in 40 s"
    assert error.retry_after_s == 40.0


async def test_rate_limit_with_retry_after_date_uses_the_date_header(client, local_server):
    headers = {
        "Date": "Wed, 25 Nov 2026 15:00:00 GMT",
        "Retry-After": "Wed, 25 Nov 2026 15:01:30 GMT",
    }
    error = await _fail(client, local_server, Reply.text("slow down", 429, headers=headers))
    assert isinstance(error, RateLimited)
    assert error.retry_after_s == 90.0
    assert str(error) == "Yahoo rate limit (HTTP 429), retry in 90 s"


async def test_rate_limit_date_without_date_header_falls_back_to_the_clock(local_server):
    local_server.add(
        "/data",
        Reply(
            status=429, headers=(("Retry-After", "Wed, 25 Nov 2026 15:02:00 GMT"),), send_date=False
        ),
    )
    clock = ManualClock(datetime(2026, 11, 25, 15, 0, 0, tzinfo=UTC))
    async with make_client(CLIENT, trust_env=False) as client:
        with pytest.raises(RateLimited) as caught:
            await get_json(client, "Yahoo", local_server.base_url + "/data", clock=clock)
    assert caught.value.retry_after_s == 120.0


async def test_rate_limit_without_retry_after(client, local_server):
    error = await _fail(client, local_server, Reply.json({}, 429))
    assert isinstance(error, RateLimited)
    assert str(error) == "Yahoo rate limit (HTTP 429)"
    assert error.retry_after_s is None


@pytest.mark.parametrize(
    ("value", "reference", "expected"),
    [
        ("40", None, 40.0),
        (" 7 ", None, 7.0),
        ("0", None, 0.0),
        ("-3", None, 0.0),
        ("soon", None, None),
        ("", None, None),
        (None, None, None),
        ("Wed, 25 Nov 2026 15:00:30 GMT", datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30.0),
        # A date already past means "now", not a negative wait.
        ("Wed, 25 Nov 2026 14:59:00 GMT", datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 0.0),
        ("Wed, 25 Nov 2026 15:00:30 GMT", None, None),
        ("inf", datetime(2026, 11, 25, 15, 0, tzinfo=UTC), None),
    ],
)
def test_retry_after_parsing(value, reference, expected):
    assert retry_after_seconds(value, reference) == expected


@pytest.mark.parametrize("status", [500, 502, 503, 504, 403])
async def test_server_errors_name_the_status(client, local_server, status):
    error = await _fail(client, local_server, Reply.json({"error": "x"}, status))
    assert type(error) is FeedError
    assert str(error) == f"Yahoo HTTP {status}"


async def test_an_html_error_page_is_still_reported_by_status(client, local_server):
    error = await _fail(client, local_server, Reply.html(503))
    assert str(error) == "Yahoo HTTP 503"


async def test_html_with_200_is_a_clear_error(client, local_server):
    error = await _fail(client, local_server, Reply.html(200))
    assert str(error) == (
        "Yahoo sent HTML where JSON was expected (a captive portal or a challenge page?)"
    )


async def test_html_is_sniffed_even_when_labelled_json(client, local_server):
    reply = Reply.text("\n  <html><body>verify</body></html>", content_type="application/json")
    error = await _fail(client, local_server, reply)
    assert "HTML where JSON was expected" in str(error)


async def test_malformed_json(client, local_server):
    reply = Reply.text('{"chart": {"result": [', content_type="application/json")
    error = await _fail(client, local_server, reply)
    assert str(error) == "Yahoo sent malformed JSON"


async def test_empty_body(client, local_server):
    error = await _fail(client, local_server, Reply.text("", content_type="application/json"))
    assert str(error) == "Yahoo sent an empty response"


async def test_slow_response_times_out(short_client, local_server):
    error = await _fail(short_client, local_server, Reply.slow(5.0, {"late": True}))
    assert str(error) == "Yahoo timed out after 0.3 s"


async def test_a_trickling_body_hits_the_overall_deadline(short_client, local_server):
    # One byte every 0.1 s never trips the 0.3 s read timeout; the 0.3 + 2 x 0.3 s deadline does.
    error = await _fail(short_client, local_server, Reply.trickle(0.1))
    assert str(error) == "Yahoo timed out after 0.9 s"


@pytest.mark.parametrize("reply", [Reply.reset(), Reply.close()], ids=["reset", "close"])
async def test_dropped_connection(client, local_server, reply):
    error = await _fail(client, local_server, reply)
    assert str(error).startswith("Yahoo connection failed: ")
    assert len(str(error)) > len("Yahoo connection failed: ")


async def test_truncated_body(client, local_server):
    error = await _fail(client, local_server, Reply.truncated(b'{"chart": {"res', promised=400))
    assert str(error).startswith("Yahoo response was cut short: ")
    assert "400" in str(error)


async def test_refused_connection_hides_the_query_string(client):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FeedError) as caught:
        await get_json(client, "Yahoo", f"http://127.0.0.1:{port}/x", params={"key": "SECRET"})
    assert str(caught.value).startswith("Yahoo connection failed: ")
    assert "SECRET" not in str(caught.value)


async def test_a_redirect_is_reported_not_followed(client, local_server):
    target = local_server.base_url + "/consent?sessionId=SECRET"
    reply = Reply.text("", 302, headers={"Location": target})
    error = await _fail(client, local_server, reply)
    assert str(error) == "Yahoo redirected the request (HTTP 302): a consent or login page?"
    assert local_server.count("/consent") == 0


async def test_an_accepted_error_status_returns_its_json(client, local_server):
    local_server.add("/data", Reply.json({"error": "Not Found"}, 404))
    reply = await get_json(client, "Yahoo", local_server.base_url + "/data", accept=(200, 404))
    assert reply == JsonReply(404, {"error": "Not Found"})


async def test_an_accepted_error_status_without_json_is_the_status(client, local_server):
    local_server.add("/data", Reply.text("Not here", 404))
    with pytest.raises(FeedError, match=r"^Yahoo HTTP 404$"):
        await get_json(client, "Yahoo", local_server.base_url + "/data", accept=(200, 404))


async def test_oversized_body_is_refused(client, local_server, monkeypatch):
    monkeypatch.setattr(http, "MAX_BODY_BYTES", 1024 * 1024)
    payload = {"pad": "x" * (1024 * 1024 + 10)}
    error = await _fail(client, local_server, Reply.json(payload))
    assert str(error) == "Yahoo sent more than 1 MB; refused"


def test_describe_strips_query_strings():
    error = httpx.ConnectError("failed for https://api.example.com/v1/q?apikey=SECRET&x=1 (boom)")
    assert http._describe(error) == "failed for https://api.example.com/v1/q (boom)"


async def test_clients_share_one_verifying_tls_context():
    import ssl

    from capgap.feeds.http import tls_context

    # Loading the CA bundle once per process, not once per client (three for the tmux line).
    async with (
        make_client(ClientSettings(provider="A")) as first,
        make_client(ClientSettings(provider="B")) as second,
    ):
        contexts = [client._transport._pool._ssl_context for client in (first, second)]  # type: ignore[attr-defined]
    assert contexts[0] is contexts[1] is tls_context(True)
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname
