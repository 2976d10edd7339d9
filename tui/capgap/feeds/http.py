"""Shared HTTP plumbing of the live providers: one client factory and one response-to-data gate."""

from __future__ import annotations

import asyncio
import functools
import json
import math
import re
import ssl
import threading
from collections.abc import Awaitable, Callable, Collection, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from capgap.core.clock import Clock
from capgap.feeds.base import FeedError, RateLimited, describe_exception, without_queries
from capgap.feeds.poller import MAX_RETRY_AFTER_S, TokenBucket
from capgap.settings.model import Transport

#: A current desktop browser: some providers (Yahoo) refuse or throttle library user agents.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/142.0.0.0 Safari/537.36"
)

#: Bodies larger than this are refused: a quote or a rate is a few kilobytes, a day of
#: one-minute bars well under one megabyte, so anything bigger is not what we asked for.
MAX_BODY_BYTES = 8 * 1024 * 1024

_JSON_ACCEPT = "application/json, text/plain;q=0.9, */*;q=0.8"


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Timeouts and connection limits of one provider's client."""

    provider: str
    read_timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    max_connections: int = 8
    max_keepalive: int = 4
    keepalive_expiry_s: float = 30.0


@dataclass(frozen=True, slots=True)
class JsonReply:
    """A decoded JSON body and the HTTP status it came with."""

    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class RawReply:
    """A body as it arrived: status, content type and bytes (at most MAX_BODY_BYTES).

    ``headers`` keeps every header as sent (Set-Cookie repeats), for the steps that read a
    Location or a cookie (the consent flow).
    """

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (any letter case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def endpoint_label(provider: str, endpoint: str) -> str:
    """Return what a provider's messages about one endpoint begin with: "Yahoo crumb:".

    Passed as the ``provider`` of fetch and get_json, so "Yahoo crumb: HTTP 500" says
    which of a provider's several requests failed.
    """
    return f"{provider} {endpoint}:"


def budget_hook(
    bucket: TokenBucket, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> Callable[[httpx.Request], Awaitable[None]]:
    """Return a request hook that waits for a token of the host's budget before each request."""

    async def spend(request: httpx.Request) -> None:
        while not bucket.try_take():
            await sleep(bucket.wait_s())

    return spend


@functools.cache
def _tls_loading(trust_env: bool) -> Future[ssl.SSLContext]:
    """Start loading the verifying TLS context in a thread of its own; return its future."""
    loading: Future[ssl.SSLContext] = Future()

    def load() -> None:
        try:
            loading.set_result(httpx.create_ssl_context(trust_env=trust_env))
        except BaseException as exc:
            # Raised again where the context is wanted (make_client), as it was before.
            loading.set_exception(exc)

    threading.Thread(target=load, name="capgap-tls", daemon=True).start()
    return loading


def prepare_tls_context(trust_env: bool = True) -> None:
    """Start loading the CA bundle now, in a thread, for a client made later in the process.

    OpenSSL parses the bundle (about 25-50 ms) without the GIL: a one-shot command (the
    tmux line) that starts it before importing polars gets it for the price of a thread.
    """
    _tls_loading(trust_env)


def tls_context(trust_env: bool) -> ssl.SSLContext:
    """Return the process's one verifying TLS context (SSL_CERT_FILE/DIR heeded with trust_env).

    Each client would load the CA bundle into a context of its own, about 50 ms apiece: a
    one-shot command such as the tmux line opens three clients. Waits for a loading that
    prepare_tls_context started, or loads it now.
    """
    return _tls_loading(trust_env).result()


def make_client(
    settings: ClientSettings,
    *,
    trust_env: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
    budget: TokenBucket | None = None,
    kind: Transport = "httpx",
) -> httpx.AsyncClient:
    """Return a new client for one provider: explicit timeouts, bounded pool, browser UA.

    With ``budget`` every request first takes a token: a per-host request budget that turns
    bursts into a steady trickle instead of a rate limit. ``kind`` "impersonate" sends the
    requests through curl_cffi as Chrome does (capgap.feeds.impersonate); the client above
    it, and so every caller, is the same.
    """
    if kind == "impersonate" and transport is None:
        # Imported here: curl_cffi is optional, and slow to import.
        from capgap.feeds.impersonate import ImpersonatingTransport

        transport = ImpersonatingTransport(
            max_connections=settings.max_connections, trust_env=trust_env
        )
    timeout = httpx.Timeout(
        settings.read_timeout_s,
        connect=settings.connect_timeout_s,
        read=settings.read_timeout_s,
        write=settings.read_timeout_s,
        pool=settings.read_timeout_s,
    )
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_keepalive,
        keepalive_expiry=settings.keepalive_expiry_s,
    )
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": _JSON_ACCEPT,
            "Accept-Language": "en-US,en;q=0.9",
        },
        # A redirect from a data API is a consent or login page: report it, do not follow it.
        follow_redirects=False,
        verify=tls_context(trust_env),
        trust_env=trust_env,
        transport=transport,
        event_hooks={"request": [budget_hook(budget)]} if budget is not None else None,
    )


class HttpProvider:
    """Base of the HTTP providers: a shared client (owned by the caller) and a base URL.

    The optional clock dates a Retry-After given as an HTTP date when the reply has none.
    """

    default_base_url = ""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        """Use ``client`` against ``base_url`` (default: the provider's public endpoint)."""
        self._client = client
        self._base_url = (base_url or self.default_base_url).rstrip("/")
        self._clock = clock


class KeyedProvider(HttpProvider):
    """A provider that needs an API key: the key is kept out of every repr and message."""

    #: The one-line message when no key is configured (each provider names its settings).
    missing_key_message = "this provider needs an API key"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Use ``client`` (shared, owned by the caller) against ``base_url`` with ``api_key``."""
        super().__init__(client, base_url, clock=clock)
        self._api_key = (api_key or "").strip() or None

    def __repr__(self) -> str:
        """Name the provider and its endpoint, never the key."""
        state = "set" if self._api_key else "unset"
        return f"{type(self).__name__}(base_url={self._base_url!r}, api_key={state})"

    def _require_key(self) -> str:
        if self._api_key is None:
            raise FeedError(self.missing_key_message)
        return self._api_key


#: A provider's own words are cut to this length for the status line (after masking).
MAX_MESSAGE_CHARS = 240


def mask_secret(text: str, secret: str) -> str:
    """Return ``text`` with every spelling of ``secret`` replaced by ``***``.

    A provider may echo a key raw, percent-encoded (hex in either case, "/" kept or not),
    with "+" for a space, or encoded twice: each character of the key matches itself or
    any of those encodings, so a mix of them is masked too.
    """
    if not secret:
        return text
    return _secret_pattern(secret).sub("***", text)


def _secret_pattern(secret: str) -> re.Pattern[str]:
    parts = []
    for char in secret:
        encoded = "".join(f"%(?:25)?{byte:02X}" for byte in char.encode("utf-8"))
        options = [re.escape(char), encoded]
        if char == " ":
            options.append(r"\+")
        parts.append(f"(?:{'|'.join(options)})")
    # Case-blind for the hex digits; masking a key's other-case twin as well costs nothing.
    return re.compile("".join(parts), re.IGNORECASE)


def clip_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Return ``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def scrubbed(error: FeedError, key: str) -> FeedError:
    """Return ``error`` with ``key`` masked, then cut to length, its chain of causes dropped.

    Masking comes first: a message cut through the middle of a key would keep half of it.
    """
    # get_json strips query strings, but a provider may echo the key in its own words.
    error.args = (clip_message(mask_secret(str(error), key)),)
    # The chained httpx exception holds the request, whose URL holds the key: drop the chain.
    error.__cause__ = None
    error.__context__ = None
    error.__suppress_context__ = True
    return error


async def get_json(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    accept: Collection[int] = (200,),
    clock: Clock | None = None,
) -> JsonReply:
    """GET ``url`` and return its JSON body, or raise FeedError with a message for humans.

    ``accept`` lists the statuses whose JSON body the caller wants to read (a provider that
    explains errors in JSON, such as Yahoo's 404 for an unknown symbol); any other status is
    an error. ``clock`` is only needed to read a Retry-After date when the reply has no Date
    header. Nothing but FeedError leaves this function, and no message carries a query string.
    """
    raw = await fetch(client, provider, url, params=params, accept=accept, clock=clock)
    return JsonReply(raw.status, decode_json(provider, raw))


async def fetch(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    accept: Collection[int] = (200,),
    clock: Clock | None = None,
    form: Mapping[str, str] | None = None,
) -> RawReply:
    """GET ``url`` (or POST ``form`` to it, form-encoded) and return the reply undecoded.

    The same gate as get_json (deadline, size cap, 429 as RateLimited, statuses outside
    ``accept`` as FeedError) for bodies that are not JSON, or whose status decides first.
    """
    deadline = _total_deadline_s(client)
    method = "GET" if form is None else "POST"
    try:
        async with asyncio.timeout(deadline):
            async with client.stream(method, url, params=params, data=form) as response:
                if response.status_code not in accept or response.status_code == 429:
                    raise _status_error(provider, response, clock)
                body = await _read_capped(provider, response)
                content_type = response.headers.get("content-type", "")
                status = response.status_code
                headers = tuple(response.headers.multi_items())
    except FeedError:
        raise
    except TimeoutError as exc:
        raise FeedError(f"{provider} timed out after {_seconds(deadline)} s") from exc
    except httpx.TimeoutException as exc:
        raise FeedError(_timeout_message(provider, client, exc)) from exc
    except httpx.TransportError as exc:
        raise FeedError(f"{provider} connection failed: {_describe(exc)}") from exc
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError, ValueError) as exc:
        raise FeedError(f"{provider} request failed: {_describe(exc)}") from exc
    except Exception as exc:
        # Anything else (an OverflowError in a task group for port 99999, a bug in a
        # transport) is still this provider failing: its type is named, the engine goes on.
        raise FeedError(f"{provider} request failed: {describe_exception(exc)}") from exc
    return RawReply(status, content_type, body, headers)


def decode_json(provider: str, raw: RawReply) -> Any:
    """Decode a fetched body as JSON, or raise FeedError (HTML, empty, malformed, bad status)."""
    return _decode(provider, raw.status, raw.content_type, raw.body)


def retry_after_seconds(value: str | None, reference: datetime | None) -> float | None:
    """Parse a Retry-After header: delay seconds, or an HTTP date measured from ``reference``.

    Returns None when the header is absent or unreadable, or is a date with no reference. A
    number too large for a float ("9" * 400) is infinite; the caller caps every wait.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    # A number, however large; "inf" or "nan" are words, and no date either.
    if not math.isnan(seconds) and text[0] in "0123456789+-.":
        return max(seconds, 0.0)
    if reference is None:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are GMT; parsedate_to_datetime leaves "-0000" naive.
        when = when.replace(tzinfo=UTC)
    return max((when - reference).total_seconds(), 0.0)


def capped_wait(seconds: float) -> tuple[float, bool]:
    """Return a server's requested wait bounded by MAX_RETRY_AFTER_S, and whether it was cut.

    An all-day Retry-After (or a date in 9999) would silence a monitor until tomorrow.
    """
    if seconds > MAX_RETRY_AFTER_S:
        return MAX_RETRY_AFTER_S, True
    return seconds, False


def _total_deadline_s(client: httpx.AsyncClient) -> float:
    # A server that trickles bytes never trips the per-read timeout: bound the whole exchange.
    connect = client.timeout.connect or 0.0
    read = client.timeout.read or 0.0
    return connect + 2 * read if read else 60.0


def _status_error(provider: str, response: httpx.Response, clock: Clock | None) -> FeedError:
    status = response.status_code
    if status in (429, 503):
        # Both may say when to come back; the poller waits at least that long.
        reference = _http_date(response.headers.get("date"))
        if reference is None and clock is not None:
            reference = clock.now()
        wait = retry_after_seconds(response.headers.get("retry-after"), reference)
        if status == 503 and wait is None:
            return FeedError(f"{provider} HTTP 503")
        what = "rate limit" if status == 429 else "unavailable"
        message = f"{provider} {what} (HTTP {status})"
        if wait is not None:
            wait, capped = capped_wait(wait)
            message += f", retry in {math.ceil(wait)} s"
            if capped:
                message += f" (its Retry-After is capped at {_minutes(MAX_RETRY_AFTER_S)})"
        return RateLimited(message, wait)
    if 300 <= status < 400:
        # The Location may carry tokens in its query: name the status, never the target.
        return FeedError(
            f"{provider} redirected the request (HTTP {status}): a consent or login page?"
        )
    return FeedError(f"{provider} HTTP {status}")


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


async def _read_capped(provider: str, response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise FeedError(f"{provider} sent more than {_megabytes(MAX_BODY_BYTES)}; refused")
            chunks.append(chunk)
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        # The headers arrived, the body did not: say so rather than "connection failed".
        raise FeedError(f"{provider} response was cut short: {_describe(exc)}") from exc
    return b"".join(chunks)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _decode(provider: str, status: int, content_type: str, body: bytes) -> Any:
    success = 200 <= status < 300
    # Off the 2xx path the body only matters if it is JSON; otherwise the status says it all.
    failure = None if success else FeedError(f"{provider} HTTP {status}")
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise failure or FeedError(f"{provider} sent an empty response")
    if "html" in content_type.lower() or stripped[:1] == b"<":
        raise failure or FeedError(
            f"{provider} sent HTML where JSON was expected (a captive portal or a challenge page?)"
        )
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError) as exc:
        raise failure or FeedError(f"{provider} sent malformed JSON") from exc


def _timeout_message(provider: str, client: httpx.AsyncClient, exc: httpx.TimeoutException) -> str:
    limits = client.timeout
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{provider} timed out connecting after {_seconds(limits.connect)} s"
    if isinstance(exc, httpx.PoolTimeout):
        return f"{provider} timed out waiting for a free connection after {_seconds(limits.pool)} s"
    if isinstance(exc, httpx.WriteTimeout):
        return f"{provider} timed out sending after {_seconds(limits.write)} s"
    return f"{provider} timed out after {_seconds(limits.read)} s"


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}"


def _describe(exc: BaseException) -> str:
    """Return the exception's own words without any URL query string (it may hold keys)."""
    text = str(exc).strip() or type(exc).__name__
    return without_queries(text)
