"""The installed `capgap` in a real terminal (tmux): it starts, shows data, quits cleanly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")
CAPGAP = shutil.which(
    "capgap", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
)

if TMUX is None or CAPGAP is None:
    pytest.skip(
        f"needs tmux and an installed capgap (tmux={TMUX}, capgap={CAPGAP})",
        allow_module_level=True,
    )


class Tmux:
    """A private tmux server running one command in a pane of a given size."""

    def __init__(self, width: int, height: int, command: str) -> None:
        self.socket = f"capgap-test-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, "TERM": "xterm-256color"}
        env.pop("NO_COLOR", None)
        self._run(
            "new-session",
            "-d",
            "-x",
            str(width),
            "-y",
            str(height),
            "-s",
            "t",
            f"{command}; echo CAPGAP-EXIT=$?; sleep 60",
            env=env,
        )

    def _run(self, *args: str, env: dict[str, str] | None = None) -> str:
        assert TMUX is not None
        return subprocess.run(
            [TMUX, "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self._run("send-keys", "-t", "t", *keys)

    def resize(self, width: int, height: int) -> None:
        self._run("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")

    def kill(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True)


def _snapshot(at: str) -> dict:
    assert CAPGAP is not None
    out = subprocess.run(
        [CAPGAP, "snapshot", "--demo", "--at", at, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


@pytest.mark.parametrize(("width", "height"), [(80, 24), (120, 40)])
def test_demo_shows_the_close_and_quits_cleanly(width, height, tmp_path):
    # Start just before the close at high speed: the replay reaches 16:00 and holds there.
    expected = _snapshot("16:00")
    large_last = f"{expected['spread']['large']['last']:,.2f}"
    small_last = f"{expected['spread']['small']['last']:,.2f}"
    term = Tmux(width, height, f"cd {tmp_path} && {CAPGAP} --demo --at 15:58 --speed 120")
    try:
        screen = term.wait_for(large_last)
        assert small_last in screen
        assert "DEMO" in screen
        term.keys("q")
        screen = term.wait_for("CAPGAP-EXIT=", timeout=10)
        assert "CAPGAP-EXIT=0" in screen
        assert "Traceback" not in screen
        # The alternate screen is gone: the dashboard's panels are no longer shown.
        assert large_last not in screen
    finally:
        term.kill()


def test_a_bad_flag_gets_one_line_and_exit_2(tmp_path):
    assert CAPGAP is not None
    result = subprocess.run(
        [CAPGAP, "--at", "10:00"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--demo" in result.stderr
