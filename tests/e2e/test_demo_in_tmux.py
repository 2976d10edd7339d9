"""The installed `capgap` in a real terminal (tmux): it starts small, shows data, quits cleanly.

The whole journey (drilldown, resizes, theme, pause) is in test_session_in_tmux.py; this module
keeps the quick checks: the first layout at 80x24, and a bad flag.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from tmux_session import CAPGAP, MISSING, Tmux, capgap_command, demo_snapshot, isolated_env
from tmux_session import quit_and_check_restored as quit_cleanly

pytestmark = pytest.mark.e2e

if MISSING is not None:
    pytest.skip(MISSING, allow_module_level=True)


def test_demo_starts_at_80x24_shows_the_close_and_quits_cleanly(tmp_path: Path) -> None:
    expected = demo_snapshot("16:00")
    spread = expected["spread"]
    assert isinstance(spread, dict)
    large_last = f"{spread['large']['last']:,.2f}"
    small_last = f"{spread['small']['last']:,.2f}"
    gap = spread["relative_pp"]["1d"]
    gap_text = f"{'▲' if gap > 0 else '▼'}{gap:+.2f} pp"
    command = capgap_command("--demo", "--at", "15:58", "--speed", "120")
    env = isolated_env(tmp_path / "home")
    # Start just before the close at high speed: the replay reaches 16:00 and holds there.
    with Tmux(command, width=80, height=24, env=env, cwd=tmp_path) as term:
        term.wait_for("REPLAY END 16:00")
        screen = term.wait_for(large_last)
        assert small_last in screen
        assert gap_text in screen
        assert "DEMO" in screen.splitlines()[0]
        assert "q Quit" in screen.splitlines()[-1]
        history = quit_cleanly(term)
        # The alternate screen is gone: the dashboard's panels are no longer shown.
        assert large_last not in history


def test_a_sector_opened_after_the_replay_ended_shows_its_constituents(tmp_path: Path) -> None:
    command = capgap_command("--demo", "--at", "15:58", "--speed", "120")
    env = isolated_env(tmp_path / "home")
    with Tmux(command, width=120, height=40, env=env, cwd=tmp_path) as term:
        term.wait_for("REPLAY END 16:00")
        term.wait_for_match(r"^│ Sector .*\n│ \S+(?: \S+)?  +[▲▼=]")
        term.keys("Enter")
        term.wait_for("Dashboard › ")
        # Working, the summary comes with the next poll (immediate on a focus change).
        term.wait_for_match(r"^ .+ \((cyclical|defensive)\)  ·  S-L .*\n Large ", timeout=5)


def test_a_bad_flag_gets_one_line_and_exit_2(tmp_path: Path) -> None:
    assert CAPGAP is not None
    result = subprocess.run(
        [CAPGAP, "--at", "10:00"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--demo" in result.stderr


def test_the_readme_picture_is_what_its_caption_command_draws(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    caption = re.search(
        r"^At 80x24, `capgap ([^`]+)`.*?drawn with\s+`tmux new-session -x 80 -y 24 "
        r"'capgap ([^']+)'`.*?\n```\n(.*?)\n```",
        readme,
        re.MULTILINE | re.DOTALL,
    )
    assert caption is not None, "the 80x24 picture's caption gives no command"
    args, drawn_with, picture = caption.groups()
    assert args == drawn_with
    command = capgap_command(*args.split())
    env = isolated_env(tmp_path / "home")
    # Only the running clock, the data's age and the countdown depend on the moment captured.
    moving = re.compile(r"\d\d:\d\d:\d\d ET|data \d+s|in \d\d:\d\d:\d\d:\d\d")

    def steady(text: str) -> list[str]:
        return [moving.sub("#", line).rstrip() for line in text.splitlines()]

    with Tmux(command, width=80, height=24, env=env, cwd=tmp_path) as term:
        term.wait_for_match(r"data \d+s")
        screen = term.wait_for_match(r"(?s)^.*Comm Svcs.*$").group(0)
        assert steady(screen)[:24] == steady(picture)
        quit_cleanly(term)
