"""`capgap serve --demo` in headless Chromium: the dashboard shows, a key changes the screen.

The installed capgap serves on a free port; Chromium (the system's package, driven over its
DevTools protocol: browser_support.py) opens the page. The test waits for the dashboard's
figures, presses `?`, waits for the keys' list, saves a screenshot of each state under the
test's tmp dir (their paths are printed), then stops the server with SIGINT (Ctrl+C): it must
exit 0, without a traceback, and take the tab's viewer process with it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from browser_support import Chromium, find_chromium, wait_for
from sshd_support import descendants, free_port, kill_all, processes, wait_until

pytestmark = pytest.mark.e2e

CAPGAP = Path(sys.executable).parent / "capgap"
#: The window's size in CSS pixels: xterm.js fits about 150x40 cells into it.
WINDOW = (1280, 800)
#: Start-up bounds on a loaded 2-core machine (the first figures come in about 2 s).
SERVE_TIMEOUT_S = 20.0
FIGURES_TIMEOUT_S = 45.0
#: The dashboard's figures: the S&P 500's last price, as the Large vs small panel writes it.
SPX_LAST = re.compile(r"S&P 500\s+\d{1,3}(?:,\d{3})*\.\d{2}")
#: The viewer each tab runs (cli/serve.py's viewer_command).
VIEWER = "-m capgap --demo"


def _chromium() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip("Chromium is absent (apt-get install chromium); the browser view is untested")
    pytest.importorskip("textual_serve", reason="textual-serve is absent (pip install .[serve])")
    return found


def _viewers(server: subprocess.Popen[bytes]) -> list[int]:
    """Return the pids of the viewers the server started (not the shell that runs one)."""
    found = descendants(server.pid)
    return [p.pid for p in found if VIEWER in p.cmdline and "sh -c" not in p.cmdline]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def test_the_dashboard_in_a_browser_answers_a_key(tmp_path: Path) -> None:
    chromium = _chromium()
    port = free_port()
    log = (tmp_path / "serve.err").open("wb")
    server = subprocess.Popen(
        [str(CAPGAP), "serve", "--demo", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=os.environ.copy(),
    )
    browser = Chromium(chromium, tmp_path / "profile", *WINDOW)
    leftovers: list[int] = []
    try:
        said = lambda: (tmp_path / "serve.err").read_text()  # noqa: E731
        assert wait_until(lambda: "serving" in said() or server.poll() is not None, SERVE_TIMEOUT_S)
        assert server.poll() is None, said()
        assert f"http://127.0.0.1:{port}" in said()
        await browser.start(free_port(), SERVE_TIMEOUT_S)
        await browser.call("Page.navigate", url=f"http://127.0.0.1:{port}/")
        page = browser.terminal

        shown = await wait_for(lambda: SPX_LAST.search(page.text()), FIGURES_TIMEOUT_S)
        assert shown, f"no figures in the page after {FIGURES_TIMEOUT_S:g}s:\n{page.text()}"
        before = page.text()
        assert "DEMO" in before and "Large vs small caps" in before
        assert "Does" not in before  # the keys' list is not open yet
        # The page drew what it received: xterm.js got its first byte and shows the terminal.
        assert "-first-byte" in await browser.evaluate("document.body.className")
        dashboard = tmp_path / "serve-dashboard.png"
        first = await browser.screenshot(dashboard)

        # One browser tab, one viewer process of its own (the browsers add no polling).
        viewers = wait_until(lambda: _viewers(server), 5.0)
        leftovers = viewers
        assert len(viewers) == 1, descendants(server.pid)
        print(f"\nthe tab's viewer: pid {viewers[0]}, RSS {_rss_mib(viewers[0]):.0f} MiB")

        await browser.type_char("?")
        listed = await wait_for(
            lambda: "Does" in page.text() and "palette" in page.text(), FIGURES_TIMEOUT_S
        )
        assert listed, f"`?` did not open the keys' list:\n{page.text()}"
        assert page.text() != before
        keys = tmp_path / "serve-keys.png"
        second = await browser.screenshot(keys)
        assert second != first  # the pixels changed too, not only the stream
        print(f"screenshots: {dashboard} {keys}")

        server.send_signal(signal.SIGINT)  # Ctrl+C
        assert server.wait(SERVE_TIMEOUT_S) == 0, said()
        assert "Traceback" not in said()
        assert "stopped serving" in said()
        gone = wait_until(lambda: not set(viewers) & set(processes()), 10.0)
        assert gone, f"the viewer outlived the server: {descendants(server.pid)}"
    finally:
        await browser.close()
        if server.poll() is None:
            kill_all(descendants(server.pid))
            server.kill()
            server.wait()
        live = processes()
        kill_all([live[pid] for pid in leftovers if pid in live])
        log.close()
