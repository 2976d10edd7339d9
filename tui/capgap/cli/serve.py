"""`capgap serve`: the monitor in web browsers (textual-serve), one viewer process per tab."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from capgap.cli.output import EXIT_OK, UsageError, say
from capgap.cli.sources import is_demo

if TYPE_CHECKING:
    from aiohttp import web
    from textual_serve.server import Server

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: How long serve waits, on its way out, for the sessions' viewers to quit.
SESSION_EXIT_S = 10.0
#: What to install when textual-serve is missing (it is an extra: the monitor does not need it).
INSTALL_HINT = "pip install 'capgap[serve]'"
#: Said whenever the page is served beyond this machine: textual-serve checks nobody.
NO_AUTH_NOTE = (
    "the page has no authentication of its own: anyone who reaches {url} gets the monitor; "
    "prefer an SSH tunnel (ssh -L {port}:127.0.0.1:{port} host) or a proxy that authenticates"
)
#: The terminal each browser tab draws on: xterm.js (256 colours and more, UTF-8). The viewer
#: reads TERM and the locale to choose its glyphs and colours, and serve's own say nothing of
#: the browser (a service under systemd has no TERM at all: the viewers would draw ASCII).
BROWSER_TERM = "xterm-256color"


def port_number(text: str) -> int:
    """Parse --port: a TCP port, 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 1 to 65535, got {text!r}")
    return value


def is_loopback(host: str) -> bool:
    """Return True when ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may well resolve to an address others reach


def viewer_command(args: argparse.Namespace, python: str = sys.executable) -> list[str]:
    """Return the command each browser session runs: a viewer that never polls (UsageError).

    The sample session (--demo) or a recording that `capgap record` writes (--follow DIR);
    a live source would make every tab a poller of its own, so there is none.
    """
    follow: Path | None = getattr(args, "serve_follow", None)
    source = getattr(args, "source", None)
    if source not in (None, "demo"):
        raise UsageError(
            f"--source {source}: `capgap serve` never polls; serve a recording that "
            "`capgap record --out DIR` writes with --follow DIR, or the sample with --demo"
        )
    if getattr(args, "at", None) is not None:
        raise UsageError("--at: `capgap serve` does not take --at")
    if follow is not None and is_demo(args):
        raise UsageError("--follow and --demo are two sources: give one")
    command = [python, "-m", "capgap"]
    if follow is not None:
        if not follow.is_dir():
            what = "no such folder" if not follow.exists() else "not a folder"
            raise UsageError(f"--follow: {follow}: {what} (give a recording's folder)")
        # Absolute: the viewer must not depend on the folder serve was started in.
        command += ["--follow", str(follow.resolve())]
    elif is_demo(args):
        command += ["--demo"]
    else:
        raise UsageError(
            "`capgap serve` never polls (each browser tab would be a poller of its own): "
            "give --follow DIR (a recording `capgap record --out DIR` writes) or --demo"
        )
    config: str | None = getattr(args, "config", None)
    if config is not None:
        command += ["--config", str(Path(config).resolve())]
    return command


def check_host(host: str, public: bool) -> None:
    """Refuse an address beyond this machine without --public, and --public without one."""
    if not is_loopback(host) and not public:
        raise UsageError(
            f"--host {host}: the page has no authentication of its own; to serve it beyond "
            "this machine add --public (or keep 127.0.0.1 and use an SSH tunnel)"
        )
    if public and is_loopback(host):
        raise UsageError(
            f"--public serves the page beyond this machine: give --host ADDR too (not {host})"
        )


def check_port_free(host: str, port: int) -> None:
    """Refuse a port another process listens on, before the server says it serves (UsageError).

    Bound as aiohttp binds (SO_REUSEADDR, each address of ``host``): a port in TIME_WAIT is free.
    """
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise UsageError(f"--host {host}: no such address ({exc.strerror or exc})") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise UsageError(port_problem(host, port, exc)) from None


def port_problem(host: str, port: int, exc: OSError) -> str:
    """Return the one line that says why ``host:port`` cannot be served."""
    import errno

    if exc.errno == errno.EADDRINUSE:
        return f"--port {port}: {host}:{port} is in use by another program; choose another port"
    if exc.errno == errno.EACCES:
        return f"--port {port}: not allowed to listen on {host}:{port} (below 1024 needs root)"
    return f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}"


def page_url(host: str, port: int) -> str:
    """Return the address the page (and its websocket) is reached at for ``host:port``.

    A wildcard address cannot be browsed to: the page names this machine instead.
    """
    import socket

    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def browser_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Return what to change in ``environ`` so that a viewer knows it draws in a browser.

    TERM names xterm.js; a locale that is not UTF-8 becomes C.UTF-8 (xterm.js decodes UTF-8,
    whatever serve's own locale), a UTF-8 one stays.
    """
    from capgap.ui.terminal import locale_is_utf8

    changes = {"TERM": BROWSER_TERM}
    if not locale_is_utf8(environ):
        changes["LC_ALL"] = "C.UTF-8"
    return changes


def run(args: argparse.Namespace) -> int:
    """Serve the monitor to browsers until Ctrl+C or SIGTERM; each tab runs viewer_command."""
    command = viewer_command(args)
    host: str = args.host
    port: int = args.port
    check_host(host, args.public)
    try:
        import textual_serve.server  # noqa: F401  (only whether it is there)
    except ImportError:
        raise UsageError(f"`capgap serve` needs textual-serve: {INSTALL_HINT}") from None
    check_port_free(host, port)
    url = page_url(host, port)
    follow: Path | None = getattr(args, "serve_follow", None)
    what = "the sample session (DEMO)" if follow is None else f"the recording in {follow}"
    lines = [f"serving {what} on {url}; each browser tab runs its own viewer; Ctrl+C stops"]
    if args.public:
        lines.append(NO_AUTH_NOTE.format(url=url, port=port))
    # The viewers inherit serve's environment (textual-serve copies it for each session).
    os.environ.update(browser_environment(os.environ))
    server = make_server(shlex.join(command), host, port, url, lines)
    try:
        server.serve()
    except OSError as exc:  # taken between the check and the bind
        raise UsageError(port_problem(host, port, exc)) from None
    say("stopped serving")
    return EXIT_OK


def make_server(command: str, host: str, port: int, url: str, lines: list[str]) -> Server:
    """Return textual-serve's server for ``command``, saying ``lines`` once it starts.

    On the way out (Ctrl+C, SIGTERM) it ends every session: textual-serve leaves a session's
    websocket open until aiohttp's shutdown timeout (a minute), and its viewer with it.
    """
    import asyncio

    from textual_serve.server import Server

    #: The handlers of the sessions open now (one per browser tab).
    sessions: set[asyncio.Task[object]] = set()

    class CapgapServer(Server):
        """textual-serve's server, with capgap's lines for a banner and a prompt way out."""

        async def on_startup(self, app: web.Application) -> None:
            """Say where the page is and what it shows (the port was checked free)."""
            for line in lines:
                say(line)

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            """Run one browser session, known to on_shutdown while it lasts."""
            task = asyncio.current_task()
            assert task is not None  # a handler always runs in a task
            sessions.add(task)
            try:
                response: web.WebSocketResponse = await super().handle_websocket(request)
                return response
            finally:
                sessions.discard(task)

        async def on_shutdown(self, app: web.Application) -> None:
            """End each session: cancelled, textual-serve tells its viewer to quit and waits."""
            ending = set(sessions)
            for task in ending:
                task.cancel()
            if ending:
                await asyncio.wait(ending, timeout=SESSION_EXIT_S)

    return CapgapServer(command, host=host, port=port, title="capgap", public_url=url)
