"""capgap over a real SSH connection on loopback: what crosses the wire, and hanging up.

A private sshd (tests/e2e/sshd_support.py) runs on a free port of 127.0.0.1; ``ssh -tt`` runs
capgap's demo in a 120x40 pty on the far side. The client's stdout is what crossed the
connection (decrypted): the tests read it for the dashboard's data and count its bytes.
Run with -s to see the bytes per second.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sshd_support import (
    Proc,
    Sshd,
    StreamReader,
    Unavailable,
    close_quietly,
    find_program,
    kill_all,
    mentioning,
    remote_shell_command,
    start_sshd,
    visible_text,
    wait_until,
)

pytestmark = pytest.mark.e2e

# The environment over SSH is sshd's, not this one's: capgap is named by its absolute path.
CAPGAP = Path(sys.executable).parent / "capgap"
SIZE = (120, 40)
MEASURE_S = 10
HANGUP_LIMIT_S = 5.0
START_TIMEOUT_S = 30.0
#: The S&P 500 row of the dashboard with a price: the demo's data has arrived.
SPX_LAST = r"S&P 500\s+(\d{1,3}(?:,\d{3})*\.\d{2})"
RUT_LAST = r"Russell 2000\s+(\d{1,3}(?:,\d{3})*\.\d{2})"

if not CAPGAP.is_file():
    pytest.skip(f"needs the installed capgap next to {sys.executable}", allow_module_level=True)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """One private sshd for the module (skips, with sshd's reason, where it cannot run)."""
    try:
        daemon = start_sshd(tmp_path_factory.mktemp("sshd"))
    except Unavailable as exc:
        pytest.skip(f"no sshd for the SSH tests: {exc}")
    try:
        yield daemon
    finally:
        daemon.stop()


class RemoteDemo:
    """``capgap --demo`` on the far side of ``ssh -tt``, its output read as it arrives."""

    def __init__(self, sshd: Sshd, folder: Path, prefix: tuple[str, ...] = ()) -> None:
        self.sshd = sshd
        #: A command capgap runs under (e.g. setsid), or nothing: capgap is the shell's exec.
        self.prefix = prefix
        # A config path no other process names: it finds capgap's process, and only it.
        self.marker = str(folder / f"capgap-ssh-{uuid.uuid4().hex}.toml")
        Path(self.marker).write_text("# capgap over ssh (e2e test)\n")
        xdg = folder / "xdg"
        env = {
            "TERM": "xterm-256color",
            # State and config go to the test's folder, never the user's.
            "XDG_CONFIG_HOME": str(xdg / "config"),
            "XDG_STATE_HOME": str(xdg / "state"),
            "XDG_CACHE_HOME": str(xdg / "cache"),
            "XDG_DATA_HOME": str(xdg / "data"),
        }
        argv = [*prefix, str(CAPGAP), "--demo", "--speed", "30", "--config", self.marker]
        self.client = subprocess.Popen(
            sshd.ssh_argv(remote_shell_command(folder, env, argv, SIZE)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert self.client.stdout is not None and self.client.stderr is not None
        self.out = StreamReader(self.client.stdout.fileno(), *SIZE).start()
        self.err = StreamReader(self.client.stderr.fileno()).start()

    def capgap_processes(self) -> list[Proc]:
        """The live processes of this capgap (found by its marker; the ssh client aside)."""
        return [proc for proc in mentioning(self.marker) if proc.pid != self.client.pid]

    def wait_for_data(self) -> re.Match[str]:
        """Wait for the S&P 500's last price on screen; fail with what was seen instead."""
        match = self.out.wait_for(SPX_LAST, START_TIMEOUT_S)
        assert match is not None, (
            f"no S&P 500 price within {START_TIMEOUT_S:g} s over ssh; {self.evidence()}"
        )
        return match

    def evidence(self) -> str:
        """What the connection showed, for failure messages."""
        said = self.err.data.decode(errors="replace")
        return (
            f"ssh exit={self.client.poll()}, ssh stderr={said!r}\n"
            f"screen:\n{self.out.screen()}\n"
            f"sshd log: {self.sshd.log()[-1500:]}"
        )

    def close(self) -> None:
        """Hang up if still connected; end anything of this run still alive (by pid)."""
        if self.client.poll() is None:
            self.client.kill()
        self.client.wait(timeout=10)
        wait_until(lambda: not self.capgap_processes() and not self.sshd.sessions(), 10)
        kill_all(self.capgap_processes())
        kill_all(self.sshd.sessions())
        close_quietly(self.client.stdin)
        close_quietly(self.client.stdout)
        close_quietly(self.client.stderr)


def test_demo_over_ssh_bytes_per_second(
    sshd: Sshd, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    remote = RemoteDemo(sshd, tmp_path)
    try:
        remote.wait_for_data()
        start, first = time.monotonic(), remote.out.screen()
        time.sleep(MEASURE_S)
        last = remote.out.screen()
        total = remote.out.bytes_between(start, start + MEASURE_S)
        per_second = [remote.out.bytes_between(start + i, start + i + 1) for i in range(MEASURE_S)]
        rate = total / MEASURE_S
        figure = (
            f"capgap --demo --speed 30 over ssh -tt at {SIZE[0]}x{SIZE[1]}: "
            f"{rate / 1024:.2f} KB/s ({total} bytes in {MEASURE_S} s after the first data; "
            f"per second: {per_second})"
        )
        print(f"\n{figure}")
        record_property("ssh_bytes_per_s", round(rate))
        assert "Traceback" not in visible_text(remote.out.data), f"{figure}\n{remote.evidence()}"
        assert remote.client.poll() is None, f"ssh ended during the measurement; {figure}"
        # The dashboard's data crossed the connection, not an error page.
        for pattern in (SPX_LAST, RUT_LAST, "DEMO", "Sectors", "Next FOMC", "Info Tech"):
            assert re.search(pattern, last), f"{pattern!r} not on screen; {figure}\n{last}"
        # The replay clock in the header moved over the window: the screen is live.
        clocks = [
            found[0] if (found := re.search(r"\d\d:\d\d:\d\d ET", screen.splitlines()[0])) else ""
            for screen in (first, last)
        ]
        assert all(clocks), f"no clock in the header; {figure}\n{first}\n{last}"
        assert clocks[0] != clocks[1], f"the header clock stood still; {figure}\n{last}"
    finally:
        remote.close()


SETSID = find_program("setsid")
HANGUPS = {
    # The connection drops with no goodbye (the client dies).
    "client killed": (signal.SIGKILL, ()),
    # The client ends the connection itself, as when its user closes it.
    "client terminated": (signal.SIGTERM, ()),
    # The local terminal window is closed under the client.
    "client hung up": (signal.SIGHUP, ()),
    # capgap in a session of its own: the pty's hangup sends it no SIGHUP, only its writes
    # and reads start failing (as under a wrapper that does not pass SIGHUP on).
    "dropped, no SIGHUP for capgap": (signal.SIGKILL, (str(SETSID), "--wait")),
}


@pytest.mark.parametrize("how", list(HANGUPS))
def test_hanging_up_ends_capgap_and_its_session(sshd: Sshd, tmp_path: Path, how: str) -> None:
    signum, prefix = HANGUPS[how]
    if prefix and SETSID is None:
        pytest.skip("needs setsid (util-linux) to run capgap in a session of its own")
    remote = RemoteDemo(sshd, tmp_path, prefix)
    try:
        remote.wait_for_data()
        running = wait_until(remote.capgap_processes, 5)
        # capgap itself, not the wrapper it runs under (whose command line names it too).
        capgaps = [proc for proc in running if not prefix or proc.cmdline.split()[0] != prefix[0]]
        # Without capgap's process found by its marker, "none left" below would prove nothing.
        assert len(capgaps) == 1, running
        assert sshd.sessions(), "sshd shows no session process for the open connection"
        remote.client.send_signal(signum)
        hung_up = time.monotonic()
        wait_until(lambda: not remote.capgap_processes() and not sshd.sessions(), HANGUP_LIMIT_S)
        waited = time.monotonic() - hung_up
        capgap_left, sessions_left = remote.capgap_processes(), sshd.sessions()
        assert not capgap_left, (
            f"{how}: capgap still running {waited:.1f} s after the hangup: {capgap_left}"
        )
        assert not sessions_left, (
            f"{how}: sshd session processes left {waited:.1f} s after the hangup: {sessions_left}"
        )
        print(f"\n{how}: capgap and its sshd session gone within {waited:.2f} s")
        assert "Traceback" not in visible_text(remote.out.data), remote.evidence()
    finally:
        remote.close()
