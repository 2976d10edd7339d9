"""An httpx transport that speaks through curl_cffi as Chrome does (TLS and HTTP/2 fingerprints).

Imported only when ``[feeds.yahoo] transport = "impersonate"`` chooses it: curl_cffi takes a
quarter of a second to import. Everything above the transport (timeouts, budgets, cookies,
redirects, the response gate of capgap.feeds.http) stays httpx's: this class only moves one
request and its response, and turns curl's errors into the httpx exceptions the gate maps.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
from curl_cffi import CurlECode, CurlError
from curl_cffi.requests import AsyncSession, Response

#: The browser curl_cffi impersonates: its newest Chrome.
BROWSER = "chrome"

#: Request headers httpx adds that describe the client or the connection rather than the
#: request: the impersonated browser sends its own, so they agree with its TLS handshake (a
#: Chrome fingerprint under another User-Agent is itself a sign of a script).
_CLIENT_HEADERS = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "user-agent"}
    | {"accept-encoding"}
)
#: Response headers that describe the encoded body: curl has already decoded it, and httpx
#: would otherwise decode it a second time.
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})

#: curl's errors that mean no connection was made (the server was never reached).
_CONNECT_ERRORS = frozenset(
    {
        CurlECode.COULDNT_RESOLVE_HOST,
        CurlECode.COULDNT_RESOLVE_PROXY,
        CurlECode.COULDNT_CONNECT,
        CurlECode.SSL_CONNECT_ERROR,
        CurlECode.PEER_FAILED_VERIFICATION,
        CurlECode.SSL_CACERT_BADFILE,
        CurlECode.PROXY,
    }
)
#: curl_cffi wraps curl's own words: "Failed to perform, curl: (7) <words>. See https://...".
_CURL_WORDS = re.compile(r"^(?:.*?curl: \(\d+\)\s*)?(?P<words>.*?)(?:\s*See https?://\S+.*)?$")


class ImpersonatingTransport(httpx.AsyncBaseTransport):
    """Send httpx's requests through a curl_cffi session impersonating Chrome.

    The session follows no redirect and keeps no cookie: httpx's client does both, so a
    consent flow's manual redirects and its cookie jar work as they do over httpx's own
    transport.
    """

    def __init__(self, *, max_connections: int, trust_env: bool = True) -> None:
        """Open a session of at most ``max_connections`` connections (a client's limit)."""
        self._session: AsyncSession[Response] = AsyncSession(
            impersonate=BROWSER,
            max_clients=max_connections,
            allow_redirects=False,
            discard_cookies=True,
            trust_env=trust_env,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return its response with the body still to be streamed."""
        timeouts = request.extensions.get("timeout", {})
        connect = _limit(timeouts.get("connect"))
        read = _limit(timeouts.get("read"))
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if name.lower() not in _CLIENT_HEADERS
        ]
        body = await request.aread()
        try:
            # Headers are due within connect + read: curl's own timers in stream mode are
            # whole seconds of "too slow", so the read timeout is kept here instead. A
            # transfer given up here is ended by curl itself within ceil(connect + read) s
            # (its low-speed limit of 1 byte a second), so it holds a connection no longer.
            async with asyncio.timeout(connect + read if read else None):
                response = await self._session.request(
                    cast(Any, request.method),
                    str(request.url),
                    headers=headers,
                    content=body or None,
                    timeout=(connect, read) if read else None,
                    stream=True,
                )
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out waiting for the response", request=request) from exc
        except CurlError as exc:
            raise _httpx_error(exc, request, None) from exc
        stream = _CurlStream(response, request, read, response.headers.get("content-length"))
        return httpx.Response(
            status_code=response.status_code,
            headers=[
                (name, value)
                for name, value in response.headers.multi_items()
                if name.lower() not in _BODY_HEADERS and value is not None
            ],
            stream=stream,
            request=request,
            extensions={"http_version": _http_version(response.http_version)},
        )

    async def aclose(self) -> None:
        """Close the session and its connections."""
        await self._session.close()


class _CurlStream(httpx.AsyncByteStream):
    """A curl response body read chunk by chunk, each read bounded by the read timeout."""

    def __init__(
        self, response: Response, request: httpx.Request, read_s: float, promised: str | None
    ) -> None:
        self._response = response
        self._request = request
        self._read_s = read_s
        self._promised = promised

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the body's chunks as curl decodes them."""
        # curl_cffi leaves aiter_content unannotated; it yields the decoded body's bytes.
        chunks: AsyncIterator[bytes] = self._response.aiter_content()  # type: ignore[no-untyped-call]
        received = 0
        while True:
            try:
                async with asyncio.timeout(self._read_s or None):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                raise httpx.ReadTimeout(
                    "timed out reading the body", request=self._request
                ) from exc
            except CurlError as exc:
                raise _httpx_error(exc, self._request, (received, self._promised)) from exc
            received += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        """Stop the transfer if the body was not read to its end (refused, timed out)."""
        # The task that runs curl's transfer (curl_cffi types it only as an Awaitable).
        task = cast("asyncio.Task[None] | None", self._response.astream_task)
        if task is not None and not task.done():
            quit_now = self._response.quit_now
            if quit_now is not None:
                quit_now.set()
            task.cancel()
            # wait() neither raises the task's cancellation nor swallows our own.
            await asyncio.wait([task])


def _limit(value: object) -> float:
    """Return a timeout in seconds; 0 stands for none (httpx's None)."""
    return float(value) if isinstance(value, int | float) else 0.0


def _http_version(code: int) -> bytes:
    # CURL_HTTP_VERSION_*: 2 is 1.1, 3 is 2, 30 is 3; 1.0 otherwise.
    return {2: b"HTTP/1.1", 3: b"HTTP/2", 30: b"HTTP/3"}.get(code, b"HTTP/1.0")


def curl_words(exc: CurlError) -> str:
    """Return curl's own description of a failure, without curl_cffi's wrapping."""
    text = str(exc).strip()
    match = _CURL_WORDS.match(text)
    words = match.group("words").strip() if match else ""
    return words.rstrip(".") or text


def _httpx_error(
    exc: CurlError, request: httpx.Request, body: tuple[int, str | None] | None
) -> httpx.TransportError:
    """Return the httpx exception httpx's own transport raises for the same failure.

    ``body`` is (bytes received, Content-Length promised) once the headers arrived.
    """
    code = getattr(exc, "code", 0)
    words = curl_words(exc)
    if code == CurlECode.OPERATION_TIMEDOUT:
        # curl says "Connection timed out" (or "Failed to connect ... Timeout") for the
        # connect phase; anything later is a read that stalled.
        if body is None and "connect" in words.lower():
            return httpx.ConnectTimeout(words, request=request)
        return httpx.ReadTimeout(words, request=request)
    if code in _CONNECT_ERRORS:
        return httpx.ConnectError(words, request=request)
    if body is not None and code == CurlECode.PARTIAL_FILE:
        received, promised = body
        if promised is not None:
            # httpx's (h11's) own words for a body cut short, so both transports read alike.
            words = (
                "peer closed connection without sending complete message body "
                f"(received {received} bytes, expected {promised})"
            )
        return httpx.RemoteProtocolError(words, request=request)
    if code == CurlECode.GOT_NOTHING:
        # httpx's (httpcore's) own words for a connection closed before any reply.
        return httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    return httpx.ReadError(words, request=request)
