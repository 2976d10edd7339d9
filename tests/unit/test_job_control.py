"""Ctrl+Z stops capgap only where a job-control shell can resume it (internals/job_control.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from capgap.ui.internals.job_control import resumable

PROBE = "from capgap.ui.internals.job_control import shell_can_resume; print(shell_can_resume())"


@pytest.mark.parametrize(
    ("pgrp", "sid", "parent_pgrp", "parent_sid", "expected"),
    [
        # bash runs a job in a group of its own, in bash's session: fg can resume it.
        (200, 100, 100, 100, True),
        # A tmux pane's own command leads a new session: its parent (tmux) is in another one.
        (200, 200, 50, 50, False),
        # `sh -c capgap` (no job control): capgap stays in its parent's group.
        (100, 100, 100, 100, False),
        # A job whose parent is in the same group is not separately resumable either.
        (300, 100, 300, 100, False),
    ],
)
def test_resumable_only_as_a_job_of_a_shell_in_the_same_session(
    pgrp: int, sid: int, parent_pgrp: int, parent_sid: int, expected: bool
) -> None:
    assert resumable(pgrp, sid, parent_pgrp, parent_sid) is expected


def probe(**popen: object) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, **popen
    )  # type: ignore[call-overload]
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_child_in_a_group_of_its_own_in_our_session_can_be_resumed() -> None:
    # What a job-control shell does for each job: a new process group, the same session.
    assert probe(process_group=0) == "True"


def test_a_child_in_its_parents_group_cannot() -> None:
    assert probe() == "False"


def test_a_child_leading_a_session_of_its_own_cannot() -> None:
    # What tmux, sshd and setsid do: nobody in the child's session could send it SIGCONT.
    assert probe(start_new_session=True) == "False"
