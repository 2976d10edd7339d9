"""A headless Chromium driven over its DevTools protocol (CDP), for the browser view's test.

Nothing beyond aiohttp (textual-serve's own dependency) speaks the protocol: the test needs no
Playwright and no browser download, only a Chromium from the system's packages. The browser
resolves no name but 127.0.0.1 (--host-resolver-rules): the page's web font stays unfetched
and no test touches the internet.

The page draws the terminal with xterm.js on a canvas, so its text is in no DOM node and no
accessibility node. What the page shows is read from what it is sent instead: every binary
websocket frame the page receives (CDP's Network events) is fed, in order, to pyte's terminal
emulator at the size the page asked for, exactly as xterm.js is fed them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pyte

#: The names Chromium goes by in the distributions' packages.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Return the path of a Chromium on PATH, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class PageTerminal:
    """The terminal screen a textual-serve page shows, rebuilt from its websocket frames."""

    def __init__(self) -> None:
        self.screen: pyte.Screen | None = None
        self.stream: pyte.ByteStream | None = None
        self.frames = 0

    def opened(self, url: str) -> None:
        """The page opened its session's websocket: its query says the terminal's size."""
        query = parse_qs(urlsplit(url).query)
        self.screen = pyte.Screen(int(query["width"][0]), int(query["height"][0]))
        self.stream = pyte.ByteStream(self.screen)

    def sent(self, payload: str) -> None:
        """The page sent a message: a resize changes the size the app draws at."""
        with contextlib.suppress(ValueError):
            message = json.loads(payload)
            resize = isinstance(message, list) and message and message[0] == "resize"
            if resize and self.screen is not None:
                size = message[1]
                self.screen.resize(int(size["height"]), int(size["width"]))

    def received(self, opcode: int, payload: str) -> None:
        """The page received a frame: a binary one is terminal output (base64 in CDP)."""
        if opcode == 2 and self.stream is not None:
            self.stream.feed(base64.b64decode(payload))
            self.frames += 1

    def text(self) -> str:
        """Return the screen's lines, joined by newlines."""
        return "" if self.screen is None else "\n".join(self.screen.display)


class Chromium:
    """A headless Chromium with one page, driven over CDP."""

    def __init__(self, executable: str, profile: Path, width: int, height: int) -> None:
        self.executable = executable
        self.profile = profile
        self.size = (width, height)
        self.process: subprocess.Popen[bytes] | None = None
        self.http: aiohttp.ClientSession | None = None
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.terminal = PageTerminal()
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self, port: int, timeout: float) -> None:
        """Start the browser with its DevTools on ``port`` and attach to its blank page."""
        width, height = self.size
        self.process = subprocess.Popen(
            [
                self.executable,
                "--headless=new",
                "--no-sandbox",  # the tests may run as root, where the sandbox refuses
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = aiohttp.ClientSession()
        deadline = time.monotonic() + timeout
        targets: list[dict[str, Any]] = []
        while not targets:
            with contextlib.suppress(aiohttp.ClientError):
                async with self.http.get(f"http://127.0.0.1:{port}/json/list") as reply:
                    targets = [t for t in await reply.json() if t.get("type") == "page"]
            if not targets:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("Chromium's DevTools did not answer")
                await asyncio.sleep(0.1)
        self.socket = await self.http.ws_connect(targets[0]["webSocketDebuggerUrl"], max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        await self.call("Network.enable")
        await self.call("Page.enable")

    async def _read(self) -> None:
        assert self.socket is not None
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            params = data.get("params", {})
            method = data.get("method")
            if method == "Network.webSocketCreated":
                self.terminal.opened(params["url"])
            elif method == "Network.webSocketFrameSent":
                self.terminal.sent(params["response"]["payloadData"])
            elif method == "Network.webSocketFrameReceived":
                response = params["response"]
                self.terminal.received(response["opcode"], response["payloadData"])

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one CDP command and return its result (RuntimeError on a protocol error)."""
        assert self.socket is not None
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        await self.socket.send_json({"id": self._next_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 30.0)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        """Return the value of a JavaScript expression in the page."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def type_char(self, char: str) -> None:
        """Type one printable character into the terminal (xterm.js's hidden textarea)."""
        await self.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
        await self.call("Input.dispatchKeyEvent", type="keyDown", key=char, text=char)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=char)

    async def screenshot(self, path: Path) -> bytes:
        """Save the page as PNG at ``path`` and return its bytes."""
        data = base64.b64decode((await self.call("Page.captureScreenshot", format="png"))["data"])
        path.write_bytes(data)
        return data

    async def close(self) -> None:
        """Close the connection and end the browser (by its own pid)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.socket is not None:
            await self.socket.close()
        if self.http is not None:
            await self.http.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def wait_for(probe: Callable[[], Awaitable[Any] | Any], timeout: float) -> Any:
    """Await ``probe`` (or call it) until it gives something truthy or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(0.1)
