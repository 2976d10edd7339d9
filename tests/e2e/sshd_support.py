"""A private sshd on 127.0.0.1 for the e2e tests, the terminal stream they read, process checks.

The daemon runs with its own config, host key and authorized key in a temporary folder, for
the user running the tests (as root it needs /run/sshd, the privilege separation folder). When
it cannot run here, ``start_sshd`` raises ``Unavailable`` with the precise reason, sshd's own
words included, for the tests to skip with.

Process checks read /proc (Linux): processes are found by a unique marker in their command
line, and the sshd sessions as the listener's descendants. Zombies count as gone: they have
exited and only wait to be reaped (in some containers by an init that never does).

A terminal's output is read as it arrives: its bytes with their arrival times (for bytes per
second), and the screen they draw (pyte's emulator: text drawn by partial updates, cursor
moves between the changed cells, reads as on a real terminal).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import pyte

#: sshd lives in sbin, which a normal user's PATH often lacks.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
PRIVSEP_DIR = Path("/run/sshd")
#: Options only newer sshd knows; each is kept only where `sshd -t` accepts it.
OPTIONAL_OPTIONS = ("PerSourcePenalties no",)
T = TypeVar("T")


class Unavailable(Exception):
    """sshd or ssh cannot run here; the message says why (for pytest.skip)."""


def find_program(name: str) -> str | None:
    """Return the absolute path of ``name`` on PATH or in the sbin folders, or None."""
    from shutil import which

    return which(name, path=SEARCH_PATH)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(probe: Callable[[], T], timeout: float, every: float = 0.05) -> T:
    """Call ``probe`` until it returns something truthy or ``timeout`` passes; return the last."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(every)


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class Proc:
    """One live process as /proc shows it."""

    pid: int
    ppid: int
    state: str
    cmdline: str


def processes() -> dict[int, Proc]:
    """Return the processes that have not exited, by pid (zombies left out)."""
    table: dict[int, Proc] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue  # it exited while we looked
        # The command name in parentheses may hold spaces and parentheses: split after the last.
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if state in ("Z", "X"):
            continue
        table[int(entry)] = Proc(int(entry), int(ppid), state, raw.replace(b"\0", b" ").decode())
    return table


def mentioning(marker: str) -> list[Proc]:
    """Return the live processes whose command line contains ``marker`` (not this one)."""
    return [p for p in processes().values() if marker in p.cmdline and p.pid != os.getpid()]


def descendants(pid: int) -> list[Proc]:
    """Return the live descendants of ``pid``."""
    table = processes()
    children: dict[int, list[Proc]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc)
    found: list[Proc] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.pid)
    return found


def kill_all(procs: list[Proc]) -> None:
    """SIGKILL each of ``procs`` by pid (a test's leftovers), ignoring those already gone."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- terminal stream

_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: cursor moves, colours, modes
    rb"|\x1b[\]P_^X].*?(?:\x07|\x1b\\)"  # OSC, DCS, APC, PM, SOS strings
    rb"|\x1b[()*+][0-~]"  # character set selection
    rb"|\x1b[ -/]*(?![\[\]P_^X])[0-~]",  # any other escape (not a CSI or string opener)
    re.DOTALL,
)


def visible_text(stream: bytes) -> str:
    """Return the text of a terminal byte stream with every escape sequence removed."""
    return _ESCAPES.sub(b"", stream).decode("utf-8", "replace")


@dataclass
class StreamReader:
    """A thread reading a descriptor: its chunks with their arrival times, the screen drawn."""

    fd: int
    columns: int = 120
    rows: int = 40
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event)
    #: True once the reading thread has closed the descriptor itself (see ``close``).
    fd_closed: bool = False
    _close_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _screen: pyte.Screen | None = None
    _parser: pyte.ByteStream | None = None

    def start(self) -> StreamReader:
        """Start reading; the thread ends at end of file (or EIO: a pty with no slave left)."""
        self._screen = pyte.Screen(self.columns, self.rows)
        self._parser = pyte.ByteStream(self._screen)
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def close(self, within: float = 5.0) -> bool:
        """Have the reading thread close the descriptor at the next output, or after ``within``.

        For a pty master that is a hang-up while the program writes to its terminal. The
        thread closes it: a read blocked in another thread would keep the file open past a
        close() from here. Return whether it was closed (False: the stream had already ended).
        """
        self._close_at = time.monotonic() + within
        self.closed.wait(within + 5)
        return self.fd_closed

    def _close_fd(self) -> None:
        os.close(self.fd)
        self.fd_closed = True

    def _run(self) -> None:
        try:
            while True:
                if self._close_at is not None and time.monotonic() >= self._close_at:
                    self._close_fd()
                    break
                try:
                    if not select.select([self.fd], [], [], 0.05)[0]:
                        continue
                    data = os.read(self.fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                with self._lock:
                    self.chunks.append((time.monotonic(), data))
                    assert self._parser is not None
                    self._parser.feed(data)
                if self._close_at is not None:
                    self._close_fd()
                    break
        finally:
            self.closed.set()

    @property
    def data(self) -> bytes:
        """Every byte read so far."""
        with self._lock:
            return b"".join(chunk for _, chunk in self.chunks)

    def screen(self) -> str:
        """The screen as drawn by the stream so far."""
        with self._lock:
            return "\n".join(self._screen.display) if self._screen is not None else ""

    def data_between(self, start: float, end: float) -> bytes:
        """The bytes that arrived in the monotonic interval [start, end)."""
        with self._lock:
            return b"".join(chunk for at, chunk in self.chunks if start <= at < end)

    def bytes_between(self, start: float, end: float) -> int:
        """How many bytes arrived in the monotonic interval [start, end)."""
        return len(self.data_between(start, end))

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str] | None:
        """Wait for the screen to match ``pattern``; return the match (None: it never did)."""

        def probe() -> re.Match[str] | None:
            return re.search(pattern, self.screen())

        return wait_until(probe, timeout)


# --------------------------------------------------------------------------- sshd

_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized}
AllowUsers {user}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
AllowTcpForwarding no
LoginGraceTime 20
"""


@dataclass
class Sshd:
    """A running sshd: ``ssh_argv`` builds the client command; ``stop`` ends it."""

    process: subprocess.Popen[bytes]
    port: int
    user: str
    ssh: str
    client_key: Path
    log_path: Path

    def ssh_argv(self, remote_command: str) -> list[str]:
        """Return the argv of an ``ssh -tt`` client running ``remote_command`` on this sshd."""
        return [
            self.ssh,
            "-tt",
            "-F",
            "/dev/null",
            "-i",
            str(self.client_key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            "-p",
            str(self.port),
            f"{self.user}@127.0.0.1",
            remote_command,
        ]

    def log(self) -> str:
        """What sshd has written to stderr so far."""
        try:
            return self.log_path.read_text(errors="replace").strip()
        except OSError:
            return ""

    def sessions(self) -> list[Proc]:
        """The live processes sshd forked for connections (none when every session ended)."""
        return descendants(self.process.pid)

    def stop(self) -> None:
        """End the listener and whatever session it still has."""
        leftovers = self.sessions()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        kill_all(leftovers)


def _keygen(keygen: str, path: Path) -> None:
    subprocess.run(
        [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "capgap-test", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )


def _accepted_options(sshd: str, config: Path, base: str) -> str:
    """Return ``base`` plus each optional option that this sshd's config test accepts."""
    text = base
    for option in OPTIONAL_OPTIONS:
        config.write_text(text + option + "\n")
        if subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True).returncode == 0:
            text += option + "\n"
    config.write_text(text)
    return text


def _privsep_ready() -> str | None:
    """Return why sshd cannot run as root here (no privilege separation folder), or None."""
    if os.geteuid() != 0 or PRIVSEP_DIR.is_dir():
        return None
    try:
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    except OSError as exc:
        return f"sshd needs {PRIVSEP_DIR} as root and it cannot be created: {exc}"
    return None


def start_sshd(folder: Path) -> Sshd:
    """Start sshd on a free loopback port for the current user; raise Unavailable if it cannot."""
    if not sys.platform.startswith("linux"):
        raise Unavailable(f"the sshd tests read /proc: Linux only (this is {sys.platform})")
    sshd, ssh, keygen = (find_program(name) for name in ("sshd", "ssh", "ssh-keygen"))
    if sshd is None or ssh is None or keygen is None:
        raise Unavailable(
            f"needs OpenSSH's sshd, ssh and ssh-keygen (found sshd={sshd}, ssh={ssh}, "
            f"ssh-keygen={keygen}); .ci/run installs openssh-server"
        )
    problem = _privsep_ready()
    if problem is not None:
        raise Unavailable(problem)
    folder.mkdir(parents=True, exist_ok=True)
    host_key, client_key = folder / "host_key", folder / "client_key"
    _keygen(keygen, host_key)
    _keygen(keygen, client_key)
    authorized = folder / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    user = pwd.getpwuid(os.getuid()).pw_name
    port = free_port()
    config = folder / "sshd_config"
    base = _CONFIG.format(
        port=port,
        host_key=host_key,
        pid_file=folder / "sshd.pid",
        authorized=authorized,
        user=user,
    )
    _accepted_options(sshd, config, base)
    log_path = folder / "sshd.log"
    with log_path.open("wb") as log:
        # An absolute path: sshd re-executes itself for every connection.
        process = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    daemon = Sshd(process, port, user, ssh, client_key, log_path)

    def listening() -> bool:
        # sshd -e says so on stderr; a probing TCP connection would only add noise to its log.
        return process.poll() is not None or f"listening on 127.0.0.1 port {port}" in daemon.log()

    wait_until(listening, timeout=15)
    if process.poll() is not None:
        raise Unavailable(f"sshd exited with {process.returncode}: {daemon.log() or 'no output'}")
    _probe(daemon)
    return daemon


def _probe(daemon: Sshd) -> None:
    """Log in once with a pty; stop sshd and raise Unavailable if that does not work here."""
    try:
        probe = subprocess.run(
            daemon.ssh_argv("exit 0"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )
        failed = probe.returncode != 0
        said = (probe.stdout + probe.stderr).decode(errors="replace").strip()
    except subprocess.TimeoutExpired:
        failed, said = True, "no answer within 30 s"
    if failed:
        log = daemon.log()
        daemon.stop()
        hint = ""
        if "chown(/dev/pts" in log:
            hint = (
                " (as a normal user sshd cannot give the pty to group tty: /dev/pts is mounted "
                "without gid=5 here; run as root, or where devpts has gid=5)"
            )
        raise Unavailable(
            f"ssh -tt {daemon.user}@127.0.0.1 to the test sshd failed (ssh: {said or 'silent'}); "
            f"sshd: {log or 'no output'}{hint}"
        )


def remote_shell_command(
    cwd: Path, env: dict[str, str], argv: list[str], size: tuple[int, int]
) -> str:
    """Return a POSIX shell command: cd, size the pty (columns, rows), export env, exec argv."""
    columns, rows = size
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    return (
        f"cd {shlex.quote(str(cwd))} && stty cols {columns} rows {rows} && export {exports} && "
        f"exec {' '.join(shlex.quote(arg) for arg in argv)}"
    )


def close_quietly(stream: IO[bytes] | None) -> None:
    """Close a pipe the test no longer needs, ignoring one already broken."""
    if stream is None:
        return
    with contextlib.suppress(OSError):
        stream.close()
