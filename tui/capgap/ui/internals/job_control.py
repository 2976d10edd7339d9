"""Whether Ctrl+Z can hand the terminal back to a shell that will resume capgap with `fg`."""

from __future__ import annotations

import os


def resumable(pgrp: int, sid: int, parent_pgrp: int, parent_sid: int) -> bool:
    """Tell whether a process group can be stopped and later resumed by its parent's shell.

    A job-control shell runs each job in a process group of its own inside the shell's session:
    its parent is in the same session but another group. Without that (capgap as a tmux pane's
    command, under `ssh host capgap`, or from a shell without job control) the group is
    orphaned: nobody would ever send the SIGCONT, and the pane would hang.
    """
    return parent_sid == sid and parent_pgrp != pgrp


def shell_can_resume() -> bool:
    """Tell whether this process was started as a job of a job-control shell."""
    try:
        parent = os.getppid()
        return resumable(os.getpgrp(), os.getsid(0), os.getpgid(parent), os.getsid(parent))
    except (OSError, AttributeError):  # a parent already gone; no POSIX job control
        return False
