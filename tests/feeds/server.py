"""A local HTTP server for the feed tests: scripted replies per path, faults, request counts.

It binds 127.0.0.1 on a free port, serves from a daemon thread and is stopped by the fixture.
Each path has a queue of replies (served in order; the last one repeats once the queue is down
to it), so a test can say "first a 429 with Retry-After: 40, then a 200 with this body". A path
with a query ("/graph/fredgraph.csv?id=DFF") is a route of its own, taken by the requests whose
query holds those parameters (one endpoint that answers by a parameter).
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import pytest
from capgap.feeds.http import ClientSettings

#: The read timeout of the provider tests' clients. Slow-reply faults wait longer than this;
#: a real reply from the local server never should, even on a busy 2-core CI machine (0.3 s
#: was once too short there for a plain reply).
TEST_READ_TIMEOUT_S = 2.0

Fault = Literal["reset", "close", "truncate", "trickle"]


@dataclass(frozen=True)
class Reply:
    """One scripted response, or a fault in place of one."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json;charset=utf-8"
    delay_s: float = 0.0
    fault: Fault | None = None
    send_date: bool = True

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        """A JSON body (NaN and Infinity are written as Python's json does)."""
        return cls(status, json.dumps(payload).encode(), tuple((headers or {}).items()))

    @classmethod
    def text(
        cls,
        body: str,
        status: int = 200,
        content_type: str = "text/plain;charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """A body sent exactly as given."""
        return cls(status, body.encode(), tuple((headers or {}).items()), content_type)

    @classmethod
    def html(cls, status: int = 200) -> Reply:
        """A captive-portal style HTML page."""
        page = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Wi-Fi</body></html>"
        return cls.text(page, status, "text/html; charset=utf-8")

    @classmethod
    def slow(cls, delay_s: float, payload: Any = None) -> Reply:
        """Wait ``delay_s`` before answering (longer than the client's timeout in tests)."""
        return cls(200, json.dumps(payload).encode(), delay_s=delay_s)

    @classmethod
    def reset(cls) -> Reply:
        """Abort the connection with a TCP reset instead of answering."""
        return cls(fault="reset")

    @classmethod
    def close(cls) -> Reply:
        """Close the connection cleanly without sending any response."""
        return cls(fault="close")

    @classmethod
    def trickle(cls, every_s: float) -> Reply:
        """Send the headers, then one byte of a never-ending body every ``every_s`` seconds."""
        return cls(200, b" ", (("Content-Length", "1000000"),), delay_s=every_s, fault="trickle")

    @classmethod
    def truncated(cls, body: bytes, promised: int) -> Reply:
        """Promise ``promised`` bytes in Content-Length, send ``body``, then close."""
        return cls(200, body, (("Content-Length", str(promised)),), fault="truncate")


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    path: str
    raw_target: str
    query: str
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""


@dataclass
class _Script:
    queues: dict[str, deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    in_flight: int = 0
    max_in_flight: int = 0
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (timeouts, refused bodies) is part of the tests, not a failure.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalServer:
    """The running server: script replies with ``add``, read ``count`` and ``seen``."""

    def __init__(self) -> None:
        self._script = _Script()
        self._stopping = threading.Event()
        handler = _handler_class(self._script, self._stopping)
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        # A short poll interval makes shutdown (once per test) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, path: str, *replies: Reply) -> None:
        """Queue replies for ``path`` (served in order; the last one repeats)."""
        with self._script.lock:
            self._script.queues[path].extend(replies)

    def replace(self, path: str, *replies: Reply) -> None:
        """Answer ``path`` with these replies from now on (what was queued is dropped)."""
        with self._script.lock:
            queue = self._script.queues[path]
            queue.clear()
            queue.extend(replies)

    def queued(self, path: str) -> list[Reply]:
        """The replies still queued for ``path`` (the last one repeats)."""
        with self._script.lock:
            return list(self._script.queues[path])

    def count(self, path: str) -> int:
        """How many requests reached ``path`` (with a query: the requests its route takes)."""
        with self._script.lock:
            if "?" not in path:
                return self._script.counts[path]
            return sum(1 for seen in self._script.seen if _route_takes(path, seen.raw_target))

    @property
    def total(self) -> int:
        """How many requests reached the server."""
        with self._script.lock:
            return sum(self._script.counts.values())

    @property
    def max_in_flight(self) -> int:
        """The most requests the server was answering at the same moment."""
        with self._script.lock:
            return self._script.max_in_flight

    @property
    def seen(self) -> list[Seen]:
        """Every request received, in order."""
        with self._script.lock:
            return list(self._script.seen)

    def stop(self) -> None:
        """Stop serving, wake any delayed reply and close the socket."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _route_takes(route: str, target: str) -> bool:
    """Whether a query-qualified ``route`` takes a request for ``target`` (path and query)."""
    route_parts, target_parts = urlsplit(route), urlsplit(target)
    wanted = set(parse_qsl(route_parts.query, keep_blank_values=True))
    given = set(parse_qsl(target_parts.query, keep_blank_values=True))
    return route_parts.path == target_parts.path and wanted <= given


def _handler_class(script: _Script, stopping: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET", b"")

        def do_POST(self) -> None:
            # A form post (the consent flow): its body is kept for the test to read.
            length = int(self.headers.get("Content-Length") or 0)
            self._serve("POST", self.rfile.read(length))

        def _serve(self, method: str, body: bytes) -> None:
            parts = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            with script.lock:
                script.counts[parts.path] += 1
                script.seen.append(Seen(parts.path, self.path, parts.query, headers, method, body))
                queue = next(
                    (
                        queue
                        for key, queue in script.queues.items()
                        if "?" in key and queue and _route_takes(key, self.path)
                    ),
                    script.queues.get(parts.path),
                )
                reply = (queue.popleft() if len(queue) > 1 else queue[0]) if queue else None
                script.in_flight += 1
                script.max_in_flight = max(script.max_in_flight, script.in_flight)
            try:
                self._answer(reply or Reply.text(f"nothing scripted for {parts.path}", 404))
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first (a timeout test): nothing left to say.
                self.close_connection = True
            finally:
                with script.lock:
                    script.in_flight -= 1

        def _answer(self, reply: Reply) -> None:
            if reply.fault != "trickle" and reply.delay_s and stopping.wait(reply.delay_s):
                self.close_connection = True
                return
            if reply.fault in ("reset", "close"):
                if reply.fault == "reset":
                    # SO_LINGER 0 turns close() into a TCP RST.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                self.close_connection = True
                return
            self.send_response_only(reply.status)
            names = {name.lower() for name, _ in reply.headers}
            if reply.send_date and "date" not in names:
                self.send_header("Date", self.date_time_string())
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers:
                self.send_header(name, value)
            if "content-length" not in names:
                self.send_header("Content-Length", str(len(reply.body)))
            if reply.fault in ("truncate", "trickle"):
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
            if reply.fault == "trickle":
                # Bounded: the client's deadline ends it long before a thousand bytes.
                for _ in range(1000):
                    if stopping.wait(reply.delay_s):
                        break
                    self.wfile.write(b" ")
                    self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            # Keep pytest output clean; the tests read counts and `seen` instead.
            return

    return Handler


@contextmanager
def serving() -> Iterator[LocalServer]:
    """Run a LocalServer for the duration of the block."""
    server = LocalServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A LocalServer on loopback, stopped after the test."""
    with serving() as server:
        yield server


def provider_test_client(provider: str) -> ClientSettings:
    """Client settings for a provider test: slow faults trip its read timeout."""
    return ClientSettings(
        provider=provider, read_timeout_s=TEST_READ_TIMEOUT_S, connect_timeout_s=5.0
    )
