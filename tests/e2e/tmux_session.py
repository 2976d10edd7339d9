"""A private tmux server running one command in a real pty, and checks that it left it clean.

Imported by the e2e modules as ``from tmux_session import Tmux`` (pytest puts tests/e2e on
sys.path). Nothing here is capgap's code: it only drives a terminal and reads it back.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

TMUX = shutil.which("tmux")
#: The capgap installed next to this Python (the venv's console script), else on PATH.
CAPGAP = shutil.which(
    "capgap", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
)
#: Why the e2e modules skip (None when tmux and capgap are both there).
MISSING = (
    None
    if TMUX is not None and CAPGAP is not None
    else f"needs tmux and an installed capgap (tmux={TMUX}, capgap={CAPGAP})"
)

EXIT_MARK = "CAPGAP-EXIT="
TTY_MARK = "CAPGAP-TTY="
MODES_MARK = "CAPGAP-MODES="
#: Generous: CI runs the suite on two busy cores.
TIMEOUT = 20.0
# Variables of the parent environment that would change how capgap looks or where it reads.
# COLUMNS and LINES override the terminal's own size in Textual (pytest-xdist's workers set
# them to 80 and 24, and capgap then drew 24 rows in a 40-row pane).
_DROPPED = ("NO_COLOR", "COLORTERM", "FORCE_COLOR", "TMUX", "TMUX_PANE", "COLUMNS", "LINES")
_DROPPED_PREFIXES = ("TEXTUAL_", "CAPGAP_")


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """Return the environment for a pane: no user config, state or colour overrides.

    ``home`` gets the config, state, cache and data folders, so a theme chosen with `t` is
    remembered there and not in the developer's own state file.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _DROPPED and not key.startswith(_DROPPED_PREFIXES)
    }
    for name in ("CONFIG", "STATE", "CACHE", "DATA"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name}_HOME"] = str(folder)
    env["HOME"] = str(home)
    env.update(extra)
    return env


class Tmux:
    """One detached tmux session on a private server (``-L``, no user config) with one pane.

    The pane runs ``command`` under ``sh`` and, once it exits, prints ``CAPGAP-EXIT=<code>``,
    whether the tty settings are the ones from before the command (``CAPGAP-TTY=same``) and
    the line-discipline modes in force (``CAPGAP-MODES=...``), then idles so the pane can
    still be read.
    """

    def __init__(
        self,
        command: str,
        *,
        width: int = 120,
        height: int = 40,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        term: str = "screen-256color",
    ) -> None:
        if TMUX is None:
            raise RuntimeError("tmux is not installed")
        self.socket = f"capgap-e2e-{uuid.uuid4().hex[:10]}"
        self._env = dict(env if env is not None else os.environ)
        self._env.pop("TMUX", None)
        # One word per line, then the flags of interest, set ("icanon") or not ("-icanon").
        modes = "stty -a | tr -s ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo|isig|icrnl|opost)'"
        wrapper = (
            'before="$(stty -g)"; '
            f"{command}; "
            "code=$?; "
            'after="$(stty -g)"; '
            f'echo "{EXIT_MARK}$code"; '
            f'if [ "$before" = "$after" ]; then echo "{TTY_MARK}same"; '
            f'else echo "{TTY_MARK}changed"; fi; '
            f'echo "{MODES_MARK}$({modes} | tr "\\n" " ")"; '
            "exec sleep 600"
        )
        start = [
            "start-server",
            ";",
            # The pane's TERM; tmux's own default, "screen", would mean 16 colours.
            "set-option",
            "-g",
            "default-terminal",
            term,
            ";",
            # The wrapper is POSIX sh, whatever the user's login shell is.
            "set-option",
            "-g",
            "default-shell",
            "/bin/sh",
            ";",
            "new-session",
            "-d",
            "-x",
            str(width),
            "-y",
            str(height),
            "-s",
            "t",
        ]
        if cwd is not None:
            start += ["-c", str(cwd)]
        self.run(*start, wrapper)

    def run(self, *args: str) -> str:
        """Run one tmux command against this server and return its output."""
        assert TMUX is not None
        return subprocess.run(
            [TMUX, "-u", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
            env=self._env,
            timeout=TIMEOUT,
        ).stdout

    def screen(self) -> str:
        """Return the visible screen as text, one line per row."""
        return self.run("capture-pane", "-p", "-t", "t")

    def history(self) -> str:
        """Return the pane's whole history and screen, wrapped lines joined."""
        return self.run("capture-pane", "-p", "-J", "-S", "-", "-t", "t")

    def keys(self, *keys: str) -> None:
        """Send keys by tmux name ("Enter", "Escape") or as text ("q")."""
        self.run("send-keys", "-t", "t", *keys)

    def resize(self, width: int, height: int) -> None:
        """Resize the window (the app gets SIGWINCH, as from a terminal emulator)."""
        self.run("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def display(self, fmt: str) -> str:
        """Return a tmux format expanded for the pane: '#{alternate_on}' -> '1'."""
        return self.run("display-message", "-p", "-t", "t", fmt).strip()

    def flag(self, name: str) -> str:
        """Return one of tmux's pane flags ('0' or '1'), failing if tmux does not know it."""
        value = self.display(f"#{{{name}}}")
        assert value in ("0", "1"), f"tmux has no pane flag {name!r} (got {value!r})"
        return value

    def wait_until(
        self,
        probe: Callable[[str], T | None],
        what: str,
        timeout: float = TIMEOUT,
        explain: Callable[[str], str] | None = None,
    ) -> T:
        """Poll the screen until ``probe`` returns something other than None (or False).

        On timeout the assertion says what was awaited, ``explain(screen)`` when given, and
        shows the last screen.
        """
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            found = probe(screen)
            if found is not None and found is not False:
                return found
            if time.monotonic() >= deadline:
                reason = f"\n{explain(screen)}" if explain is not None else ""
                raise AssertionError(f"never saw {what}{reason}\nthe screen was:\n{screen}")
            time.sleep(0.1)

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> str:
        """Wait until ``text`` is on the screen; return that screen."""
        return self.wait_until(lambda s: s if text in s else None, repr(text), timeout)

    def wait_for_match(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Wait until the regular expression matches the screen; return the match."""
        regex = re.compile(pattern, re.MULTILINE)
        return self.wait_until(regex.search, f"/{pattern}/", timeout)

    def wait_gone(self, text: str, timeout: float = TIMEOUT) -> str:
        """Wait until ``text`` is no longer on the screen; return that screen."""
        return self.wait_until(lambda s: s if text not in s else None, f"{text!r} gone", timeout)

    def wait_still(self, interval: float = 1.0, timeout: float = TIMEOUT) -> str:
        """Wait until two captures ``interval`` seconds apart are the same; return it.

        For a paused app: the last update in flight has landed and nothing repaints.
        """
        deadline = time.monotonic() + timeout
        before = self.screen()
        while True:
            time.sleep(interval)
            now = self.screen()
            if now == before:
                return now
            if time.monotonic() >= deadline:
                raise AssertionError(f"the screen never settled; the last was:\n{now}")
            before = now

    def kill(self) -> None:
        """Stop this private server (and the pane's processes with it)."""
        assert TMUX is not None
        subprocess.run(
            [TMUX, "-L", self.socket, "kill-server"], capture_output=True, timeout=TIMEOUT
        )

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def demo_snapshot(at: str) -> dict[str, Any]:
    """`capgap snapshot --demo --at AT --format json`, parsed: the reference for the screen."""
    assert CAPGAP is not None
    out = subprocess.run(
        [CAPGAP, "snapshot", "--demo", "--at", at, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def capgap_command(*args: str) -> str:
    """Return the shell command line running the installed capgap with ``args``."""
    assert CAPGAP is not None
    return shlex.join([CAPGAP, *args])


def marker(text: str, mark: str) -> str | None:
    """Return what follows ``mark`` on its line in ``text`` (None when absent)."""
    found = re.search(rf"^{re.escape(mark)}(.*)$", text, re.MULTILINE)
    return found.group(1).strip() if found else None


def quit_and_check_restored(term: Tmux, key: str = "q", *, mouse: bool = True) -> str:
    """Quit with ``key`` and check the terminal is as before: return the pane's history.

    Checked: exit code 0; nothing printed on the normal screen (no traceback, no warning);
    the alternate screen left, the cursor shown, mouse reporting off and autowrap on again;
    the tty settings identical to those from before the start, in cooked mode.
    """
    running = {"alternate_on": "1", "cursor_flag": "0", "wrap_flag": "0"}
    restored = {"alternate_on": "0", "cursor_flag": "1", "wrap_flag": "1"}
    for name in ("mouse_any_flag", "mouse_sgr_flag"):
        running[name] = "1" if mouse else "0"
        restored[name] = "0"
    for name in ("mouse_all_flag", "mouse_button_flag", "mouse_standard_flag"):
        restored[name] = "0"
    # While the app runs these differ from the defaults: proof that tmux tracks them.
    seen = {name: term.flag(name) for name in running}
    assert seen == running, f"while running, tmux's flags were {seen}, expected {running}"
    term.keys(key)
    term.wait_until(lambda s: marker(s, MODES_MARK), f"{MODES_MARK} after quitting")
    history = term.history()
    assert "Traceback" not in history, f"a traceback:\n{history}"
    assert marker(history, EXIT_MARK) == "0", f"exit code not 0:\n{history}"
    printed = history.split(EXIT_MARK, 1)[0]
    assert printed.strip() == "", f"capgap left output on the terminal:\n{printed}"
    assert marker(history, TTY_MARK) == "same", f"tty settings not restored:\n{history}"
    modes = (marker(history, MODES_MARK) or "").split()
    cooked = ["icanon", "echo", "isig", "icrnl", "opost"]
    assert sorted(modes) == sorted(cooked), f"tty modes {modes}, expected {cooked}"
    seen = {name: term.flag(name) for name in restored}
    assert seen == restored, f"after quitting, tmux's flags were {seen}, expected {restored}"
    return history
