"""The lost-terminal checks and the exit signals (capgap/ui/internals/lifeline.py)."""

from __future__ import annotations

import asyncio
import os
import pty
import signal

from capgap.ui.internals.lifeline import EXIT_SIGNALS, install_exit_signals, terminal_alive


def test_a_pty_is_alive_until_its_master_side_closes():
    master, slave = pty.openpty()
    try:
        assert terminal_alive(slave)
        # What sshd does when the connection drops: the master side goes away.
        os.close(master)
        assert not terminal_alive(slave)
    finally:
        os.close(slave)


def test_a_file_or_a_pipe_is_no_terminal(tmp_path):
    read_end, write_end = os.pipe()
    path = tmp_path / "out.txt"
    with path.open("w") as handle:
        try:
            assert not terminal_alive(read_end)
            assert not terminal_alive(handle.fileno())
        finally:
            os.close(read_end)
            os.close(write_end)


async def test_sigterm_sighup_and_sigquit_reach_the_callback_not_the_default_action():
    loop = asyncio.get_running_loop()
    received: list[int] = []
    arrived = asyncio.Event()

    def on_signal(signum: int) -> None:
        received.append(signum)
        if len(received) == len(EXIT_SIGNALS):
            arrived.set()

    installed = install_exit_signals(on_signal)
    try:
        assert sorted(installed) == sorted(EXIT_SIGNALS)
        for signum in EXIT_SIGNALS:
            # Without the handler either signal would end this test process.
            os.kill(os.getpid(), signum)
        await asyncio.wait_for(arrived.wait(), timeout=10)
    finally:
        for installed_signum in installed:
            loop.remove_signal_handler(installed_signum)
    assert sorted(received) == sorted([signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT])
