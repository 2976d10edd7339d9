"""The monitor's exit: a crash is exit 1 with one line and no local variables, and without a
terminal on stdin and stdout it refuses at once (exit 2) instead of drawing into a file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

# The monitor with its app crashing on start, in a function whose local holds a secret.
CRASHING = """
import sys

from capgap.cli.main import main
from capgap.ui.app import CapgapApp


def on_mount(self):
    api_key = "LOCAL-SECRET-4711"
    raise RuntimeError("the screen broke\\nbadly " + str(len(api_key)))


CapgapApp.on_mount = on_mount
sys.exit(main(sys.argv[1:]))
"""
SECRET = "LOCAL-SECRET-4711"


def _environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    environ = dict(os.environ)
    environ |= {
        "TERM": "xterm-256color",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    return environ | extra


def _run_in_a_pty(args: list[str], environ: dict[str, str]) -> tuple[int, str]:
    """Run ``python args`` on a pty (stdin, stdout, stderr); return its code and all it wrote.

    The text is what a terminal would keep: escape sequences dropped, one entry per line.
    """
    master, slave = os.openpty()
    written: list[bytes] = []

    def drain() -> None:
        # The terminal must be read, or the app blocks on a full pty buffer.
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            written.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        child = subprocess.run(
            [sys.executable, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environ,
            timeout=120,
            start_new_session=True,
        )
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    text = ESCAPE.sub("", b"".join(written).decode(errors="replace"))
    return child.returncode, text.replace("\r\n", "\n")


#: CSI and OSC sequences (the alternate screen, modes, the title): not text a user reads.
ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[=>])")


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "CAPGAP_DEBUG"])
def test_a_crash_exits_1_with_one_line_and_no_local_variables(tmp_path: Path, debug: bool):
    environ = _environ(tmp_path, **({"CAPGAP_DEBUG": "1"} if debug else {}))
    code, out = _run_in_a_pty(["-c", CRASHING, "--demo"], environ)
    assert code == 1, out
    line = "capgap: error: the monitor crashed: RuntimeError: the screen broke\\nbadly 17"
    lines = [text for text in out.splitlines() if text.strip()]
    assert lines[-1] == line, out
    # Local variables may hold keys: never printed, traceback or not.
    assert SECRET not in out
    if debug:
        assert "Traceback" in out and "on_mount" in out
    else:
        assert lines == [line], out


REFUSAL = (
    "capgap: error: the monitor needs a terminal on stdin and stdout; "
    "for a script or a file use `capgap snapshot`"
)


@pytest.mark.parametrize("stdin", ["devnull", "closed"])
def test_without_a_terminal_the_monitor_refuses_with_exit_2(tmp_path: Path, stdin: str):
    # As under nohup, cron or a redirect: it would otherwise draw into a file for ever.
    out = tmp_path / "out.txt"
    with out.open("wb") as handle:
        child = subprocess.run(
            [sys.executable, "-m", "capgap", "--demo"],
            stdin=subprocess.DEVNULL if stdin == "devnull" else None,
            stdout=handle,
            stderr=subprocess.PIPE,
            env=_environ(tmp_path),
            timeout=120,
            # Closed: the descriptor is gone before Python starts.
            preexec_fn=(lambda: os.close(0)) if stdin == "closed" else None,
        )
    assert child.returncode == 2, child.stderr
    assert child.stderr.decode().splitlines() == [REFUSAL]
    assert out.read_bytes() == b""
