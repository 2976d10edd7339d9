"""Ctrl+Z in a real terminal: back to the shell, `fg` brings capgap back whole.

Under an interactive bash (job control on) Ctrl+Z stops capgap, the shell gets its screen and
its prompt back, and `fg` redraws the dashboard exactly as it was. As a pane's own command
(no shell could ever resume it) capgap says so and keeps running.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tmux_session import (
    MISSING,
    MODES_MARK,
    TTY_MARK,
    Tmux,
    capgap_command,
    isolated_env,
    marker,
)
from tmux_session import quit_and_check_restored as quit_cleanly

pytestmark = pytest.mark.e2e

if MISSING is not None:
    pytest.skip(MISSING, allow_module_level=True)

BASH = shutil.which("bash")
PROMPT = "e2e-shell$ "
#: Reaches the close at once and holds there: nothing on screen changes after that.
HELD_AT_THE_CLOSE = ("--demo", "--at", "15:58", "--speed", "120")


def at_prompt(screen: str) -> bool:
    """Tell whether the shell's prompt is the last thing on the screen."""
    return screen.rstrip().endswith(PROMPT.rstrip())


@pytest.mark.skipif(BASH is None, reason="needs bash for a job-control shell")
def test_ctrl_z_returns_to_the_shell_and_fg_brings_capgap_back_whole(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home", PS1=PROMPT)
    with Tmux(f"{BASH} --norc --noprofile -i", env=env, cwd=tmp_path) as term:
        term.wait_until(at_prompt, "the shell's prompt")
        term.keys(capgap_command(*HELD_AT_THE_CLOSE), "Enter")
        term.wait_for("REPLAY END 16:00")
        before = term.wait_still()
        term.keys("C-z")
        stopped = term.wait_until(
            lambda s: s if "Stopped" in s and at_prompt(s) else None, "the job stopped"
        )
        assert term.flag("alternate_on") == "0", "the shell's own screen is back"
        assert "Traceback" not in stopped
        term.keys("fg", "Enter")
        term.wait_until(lambda _: term.flag("alternate_on") == "1", "capgap back on screen")
        # Drawn whole: the output filter starts afresh after the shell wrote over the screen.
        assert term.wait_still() == before
        term.keys("q")
        term.wait_until(lambda s: term.flag("alternate_on") == "0" and at_prompt(s), "quit")
        term.keys('echo "capgap-rc=$?"', "Enter")
        term.wait_for("capgap-rc=0")
        term.keys("exit", "Enter")
        history = term.wait_until(lambda s: s if marker(s, MODES_MARK) else None, "bash ends")
        assert "Traceback" not in term.history()
        assert marker(history, TTY_MARK) == "same", f"tty settings not restored:\n{history}"


def test_ctrl_z_with_no_shell_to_return_to_keeps_capgap_running(tmp_path: Path) -> None:
    # The pane runs capgap from `sh -c` (no job control): stopped, it could never be resumed.
    env = isolated_env(tmp_path / "home")
    with Tmux(capgap_command(*HELD_AT_THE_CLOSE), env=env, cwd=tmp_path) as term:
        term.wait_for("REPLAY END 16:00")
        term.keys("C-z")
        term.wait_for("no shell to return to here")
        assert term.flag("alternate_on") == "1"
        quit_cleanly(term)
