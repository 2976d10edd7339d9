"""SIGTERM, SIGHUP and SIGQUIT end capgap cleanly: exit 0, terminal restored, a recording flushed.

capgap runs in a pty of its own (its controlling terminal, 120x40), as in a terminal window;
the test reads everything it writes. A signal arrives once the screen shows data; then capgap
must exit 0 like `q`, print no traceback, leave the alternate screen, show the cursor, turn
off the modes it turned on and put the tty back in the mode it found it in. Recording live
quotes (`capgap --record DIR` against a local Yahoo + NY Fed), nothing polled may be lost.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import sys
import termios
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from sshd_support import StreamReader, visible_text, wait_until

# The feed tests' local server and the Yahoo / NY Fed bodies they serve.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "feeds"))
from capgap.core.clock import SystemClock
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, serve_history, serve_index_quotes
from test_live_fed import EFFR_BODY, EFFR_PATH

__all__ = ["local_server"]

pytestmark = pytest.mark.e2e

CAPGAP = Path(sys.executable).parent / "capgap"
COLUMNS, ROWS = 120, 40
START_TIMEOUT_S = 30.0
#: "Promptly": a clean exit takes well under a second; this only bounds a hung one.
EXIT_LIMIT_S = 10.0
#: The exit code after SIGTERM or SIGHUP: the same as `q` (tui/ui/lifeline.py exits the app).
EXIT_ON_SIGNAL = 0
SPX_LAST = r"S&P 500\s+(\d{1,3}(?:,\d{3})*\.\d{2})"
SIGNALS = [
    pytest.param(signal.SIGTERM, id="SIGTERM"),
    pytest.param(signal.SIGHUP, id="SIGHUP"),
    # Its default action dumps core and leaves the alternate screen on.
    pytest.param(signal.SIGQUIT, id="SIGQUIT"),
]
#: Terminal modes Textual turns on (first) and must turn off again (second) before exiting.
MODES = {
    "alternate screen": (b"\x1b[?1049h", b"\x1b[?1049l"),
    "hidden cursor": (b"\x1b[?25l", b"\x1b[?25h"),
    "mouse reporting": (b"\x1b[?1000h", b"\x1b[?1000l"),
    "any-event mouse": (b"\x1b[?1003h", b"\x1b[?1003l"),
    "SGR mouse": (b"\x1b[?1006h", b"\x1b[?1006l"),
    "bracketed paste": (b"\x1b[?2004h", b"\x1b[?2004l"),
    "focus events": (b"\x1b[?1004h", b"\x1b[?1004l"),
}

if not CAPGAP.is_file():
    pytest.skip(f"needs the installed capgap next to {sys.executable}", allow_module_level=True)


class PtyCapgap:
    """capgap in a new session whose controlling terminal is a fresh pty."""

    def __init__(self, args: list[str], folder: Path) -> None:
        # COLUMNS and LINES would override the pty's size (pytest-xdist's workers set them).
        dropped = ("NO_COLOR", "COLUMNS", "LINES")
        env = {name: value for name, value in os.environ.items() if name not in dropped}
        env.update(
            TERM="xterm-256color",
            # State and config go to the test's folder, never the user's.
            XDG_CONFIG_HOME=str(folder / "xdg" / "config"),
            XDG_STATE_HOME=str(folder / "xdg" / "state"),
            XDG_CACHE_HOME=str(folder / "xdg" / "cache"),
            XDG_DATA_HOME=str(folder / "xdg" / "data"),
            # The local server only: a proxy from the environment must not see these requests.
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        argv = [str(CAPGAP), *args]
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        #: The tty's modes before capgap (cooked: echo, canonical input).
        self.modes_before = termios.tcgetattr(slave)
        pid = os.fork()
        if pid == 0:  # the child: only system calls until exec
            try:
                os.close(master)
                os.chdir(folder)
                os.login_tty(slave)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self._master, self._slave = pid, master, slave
        self.returncode: int | None = None
        self.modes_after: list[object] | None = None
        self.hung_up = False
        # The test keeps the slave open too: the tty's modes can be read after capgap exits.
        self.out = StreamReader(master, COLUMNS, ROWS).start()

    def poll(self) -> int | None:
        """Return the exit code once capgap has exited (minus the signal if one killed it)."""
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` for the exit; return the code (None: still running)."""
        wait_until(lambda: self.poll() is not None, timeout)
        return self.returncode

    def send(self, signum: int) -> None:
        """Send ``signum`` to capgap."""
        os.kill(self.pid, signum)

    def hang_up(self) -> None:
        """Close the terminal, as a terminal window or a tmux server going away does.

        The last descriptor of the pty's master goes, just as capgap writes: the kernel hangs
        up capgap's controlling terminal, sends it SIGHUP and SIGCONT, and its reads and
        writes fail.
        """
        # While capgap writes a frame, when a hang-up hurts most.
        if not self.out.close():
            os.close(self._master)
        os.close(self._slave)
        self.hung_up = True

    def finish(self) -> None:
        """Kill capgap if it is still running, read the tty's modes, then drain its output."""
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait(EXIT_LIMIT_S)
        if self.hung_up:
            return
        self.modes_after = termios.tcgetattr(self._slave)
        # With the last slave descriptor closed, reading the master ends (EIO) once drained.
        os.close(self._slave)
        self.out.closed.wait(EXIT_LIMIT_S)
        os.close(self._master)

    def wait_for_data(self, pattern: str = SPX_LAST) -> None:
        """Wait for ``pattern`` on screen; fail with what was seen instead."""
        match = self.out.wait_for(pattern, START_TIMEOUT_S)
        assert match is not None, (
            f"{pattern!r} not on screen within {START_TIMEOUT_S:g} s "
            f"(exit code {self.poll()}); the screen:\n{self.out.screen()}"
        )


@pytest.fixture
def runs() -> Iterator[list[PtyCapgap]]:
    """The capgap runs of a test, each killed and closed at the end if the test did not."""
    started: list[PtyCapgap] = []
    yield started
    for run in started:
        if run.modes_after is None:
            run.finish()


def assert_clean_exit(run: PtyCapgap, how: str) -> None:
    """Check the exit code, the absence of a traceback and the terminal's restoration."""
    out = run.out.data
    text = visible_text(out)
    if run.returncode is not None and run.returncode < 0:
        pytest.fail(
            f"{how}: capgap was killed by signal {-run.returncode} (its default action: no "
            f"handler ran); terminal left as is, last output {out[-200:]!r}"
        )
    assert run.returncode == EXIT_ON_SIGNAL, (
        f"{how}: exit code {run.returncode} (None: still running {EXIT_LIMIT_S:g} s later), "
        f"expected {EXIT_ON_SIGNAL}; screen text: {text[-1500:]!r}"
    )
    assert "Traceback" not in text, f"{how}: a traceback on the terminal: {text[-3000:]!r}"
    for mode, (on, off) in MODES.items():
        if on in out:
            assert out.rfind(off) > out.rfind(on), (
                f"{how}: {mode} left on ({off!r} never sent after the last {on!r}); "
                f"output ends {out[-200:]!r}"
            )
    left = out[out.rfind(MODES["alternate screen"][1]) :]
    assert len(visible_text(left).strip().splitlines()) <= 1, (
        f"{how}: drawing after leaving the alternate screen: {left!r}"
    )
    assert run.modes_after is not None
    iflag, lflag = 0, 3
    for index, name in ((iflag, "input"), (lflag, "local")):
        assert run.modes_after[index] == run.modes_before[index], (
            f"{how}: the tty's {name} modes were not restored "
            f"({run.modes_after[index]:#o}, was {run.modes_before[index]:#o}: raw mode left on)"
        )


@pytest.mark.parametrize("signum", SIGNALS)
def test_a_signal_ends_the_demo_cleanly(
    signum: signal.Signals, tmp_path: Path, runs: list[PtyCapgap]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("# capgap signal test\n")
    run = PtyCapgap(["--demo", "--speed", "30", "--config", str(config)], tmp_path)
    runs.append(run)
    run.wait_for_data()
    run.send(signum)
    run.wait(EXIT_LIMIT_S)
    run.finish()
    assert_clean_exit(run, f"{signum.name} during the demo")


def test_q_ends_the_demo_cleanly(tmp_path: Path, runs: list[PtyCapgap]) -> None:
    # The reference the signals are held to: the same checks pass for the quit key.
    config = tmp_path / "config.toml"
    config.write_text("# capgap signal test\n")
    run = PtyCapgap(["--demo", "--speed", "30", "--config", str(config)], tmp_path)
    runs.append(run)
    run.wait_for_data()
    os.write(run._master, b"q")
    run.wait(EXIT_LIMIT_S)
    run.finish()
    assert_clean_exit(run, "q during the demo")


#: Terminals closed in the hang-up test, each as soon as its data shows (the others still
#: starting: a loaded machine, as when a tmux server with several panes is killed). capgap's
#: exit then races the kernel's SIGHUP and SIGCONT and its own writes failing.
TERMINALS = 6
HANGUP_LIMIT_S = 5.0


def test_closing_the_terminal_ends_capgap(tmp_path: Path, runs: list[PtyCapgap]) -> None:
    started = []
    for index in range(TERMINALS):
        folder = tmp_path / f"terminal-{index}"
        folder.mkdir()
        started.append(PtyCapgap(["--demo", "--speed", "30"], folder))
        runs.append(started[-1])
    closed: dict[int, float] = {}

    def close_when_shown(run: PtyCapgap) -> None:
        run.wait_for_data()
        run.hang_up()
        closed[run.pid] = time.monotonic()

    with ThreadPoolExecutor(TERMINALS) as pool:
        for future in [pool.submit(close_when_shown, run) for run in started]:
            future.result()
    wait_until(lambda: all(run.poll() is not None for run in started), HANGUP_LIMIT_S)
    codes = {run.pid: run.poll() for run in started}
    now = time.monotonic()
    hung = {pid: f"{now - closed[pid]:.1f} s" for pid, code in codes.items() if code is None}
    assert not hung, f"capgap still running after its terminal closed (pid: for how long): {hung}"
    # A handler ran (the default action of SIGHUP would show as -1) and the app ended as by `q`.
    assert set(codes.values()) == {EXIT_ON_SIGNAL}, f"exit codes by pid: {codes}"


def serve_a_market(server: LocalServer, stamp: int) -> None:
    """Script the local Yahoo + NY Fed: the two indices at ``stamp``, history and the EFFR."""
    serve_index_quotes(server, stamp)
    serve_history(server, datetime.fromtimestamp(stamp, UTC))
    server.add(EFFR_PATH, Reply.json(EFFR_BODY))


@pytest.mark.parametrize("signum", SIGNALS)
def test_a_signal_while_recording_keeps_every_polled_quote(
    signum: signal.Signals, local_server: LocalServer, tmp_path: Path, runs: list[PtyCapgap]
) -> None:
    stamp = int(SystemClock().now().timestamp()) - 30
    serve_a_market(local_server, stamp)
    config = Path(config_for(local_server, tmp_path))
    # One poll only before the signal: its rows wait in the recorder's buffer (flushed every
    # few seconds), so only the shutdown's flush can put them on disk.
    config.write_text(config.read_text() + "[poll]\nopen_s = 600\nextended_s = 600\n")
    out = tmp_path / "recording"
    run = PtyCapgap(["--record", str(out), "--config", str(config)], tmp_path)
    runs.append(run)
    run.wait_for_data(r"S&P 500\s+6,870\.40")
    # The snapshot on screen comes after the whole poll, the EFFR included.
    assert local_server.count(EFFR_PATH) >= 1
    on_disk_before = sorted(p.name for p in out.rglob("quotes-*.parquet"))
    run.send(signum)
    run.wait(EXIT_LIMIT_S)
    run.finish()
    how = f"{signum.name} while recording"
    files = sorted(out.rglob("quotes-*.parquet"))
    assert files, (
        f"{how}: no quotes recorded in {out} (exit code {run.returncode}; files before the "
        f"signal: {on_disk_before})"
    )
    recorded = pl.read_parquet(files).sort("symbol")
    polled = datetime.fromtimestamp(stamp, UTC)
    got = recorded.select("symbol", "time", "last", "prev_close").rows()
    want = [("^GSPC", polled, 6870.40, 6857.12), ("^RUT", polled, 2521.48, 2531.16)]
    assert got == want, f"{how}: recorded {recorded}"
    # The reference figures polled with the quotes were written with them.
    sessions = list(out.rglob("session.toml"))
    assert len(sessions) == 1, f"{how}: session files {sessions}"
    reference = tomllib.loads(sessions[0].read_text())["reference"]
    assert reference["target_range"] == [3.75, 4.0] and reference["effr"] == 3.89, reference
    assert_clean_exit(run, how)
    print(f"\n{how}: files on disk before the signal {on_disk_before}, after {len(files)}")
