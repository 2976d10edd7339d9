"""`capgap serve`: what each browser tab runs, where it listens, and one-line refusals (exit 2).

The server itself is replaced by a stand-in here (nothing is served); the browser test in
tests/e2e/test_serve_browser.py serves the page for real.
"""

from __future__ import annotations

import errno
import shlex
import socket
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from capgap.cli import serve
from capgap.cli.main import build_parser, main
from capgap.cli.monitor import WEB_DRIVER, has_terminal
from capgap.cli.output import UsageError
from capgap.ui.terminal import TerminalLimits, terminal_limits


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _exit_code(argv: list[str]) -> int:
    """Run capgap; argparse's own refusals exit by SystemExit, the others return the code."""
    try:
        return main(argv)
    except SystemExit as exc:
        assert isinstance(exc.code, int)
        return exc.code


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


class FakeServer:
    """Stands in for textual-serve's server: records what it was given, serves nothing."""

    made: ClassVar[list[FakeServer]] = []

    def __init__(self, command: str, host: str, port: int, url: str, lines: list[str]) -> None:
        self.command, self.host, self.port, self.url, self.lines = command, host, port, url, lines
        self.error: OSError | None = None
        FakeServer.made.append(self)

    def serve(self) -> None:
        if self.error is not None:
            raise self.error


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> list[FakeServer]:
    FakeServer.made = []
    monkeypatch.setattr(serve, "make_server", FakeServer)
    # run() sets the viewers' terminal in os.environ: restored after the test.
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("LC_ALL", "C")
    return FakeServer.made


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["serve"], "never polls"),
        (["--source", "yahoo", "serve"], "never polls"),
        (["--source", "finnhub", "serve"], "never polls"),
        (["--source", "yahoo", "serve", "--demo"], "contradicts --source yahoo"),
        (["serve", "--demo", "--host", "0.0.0.0"], "add --public"),
        (["serve", "--demo", "--host", "::"], "add --public"),
        (["serve", "--demo", "--host", "192.168.1.5"], "add --public"),
        (["serve", "--demo", "--public"], "give --host ADDR too"),
        (["serve", "--demo", "--host", "::1", "--public"], "give --host ADDR too"),
        (["serve", "--demo", "--port", "70000"], "must be 1 to 65535"),
        (["serve", "--demo", "--port", "http"], "not a whole number"),
        (["--at", "11:00", "serve", "--demo"], "--at"),
        (["--speed", "2", "serve", "--demo"], "flag of the monitor"),
    ],
)
def test_refusals_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    fake_server: list[FakeServer],
    argv: list[str],
    needle: str,
) -> None:
    assert _exit_code(argv) == 2
    assert needle in _one_error_line(capsys)
    assert fake_server == []  # refused before anything is served


def test_follow_needs_a_folder_and_is_one_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_server: list[FakeServer]
) -> None:
    missing = tmp_path / "missing"
    assert main(["serve", "--follow", str(missing)]) == 2
    assert f"--follow: {missing}: no such folder" in _one_error_line(capsys)
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert main(["serve", "--follow", str(a_file)]) == 2
    assert "not a folder" in _one_error_line(capsys)
    assert main(["serve", "--demo", "--follow", str(tmp_path)]) == 2
    assert "two sources" in _one_error_line(capsys)
    assert fake_server == []


def test_a_port_in_use_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], fake_server: list[FakeServer]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--demo", "--port", str(port)]) == 2
    line = _one_error_line(capsys)
    assert f"127.0.0.1:{port} is in use" in line
    assert fake_server == []


def test_a_port_taken_between_the_check_and_the_bind_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_server: list[FakeServer],
) -> None:
    def taken(self: FakeServer) -> None:
        raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr(FakeServer, "serve", taken)
    port = _free_port()
    assert main(["serve", "--demo", "--port", str(port)]) == 2
    assert f"127.0.0.1:{port} is in use" in _one_error_line(capsys)


def test_without_textual_serve_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_server: list[FakeServer],
) -> None:
    # None in sys.modules makes the import fail, as when the package is not installed.
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert main(["serve", "--demo"]) == 2
    assert "pip install 'capgap[serve]'" in _one_error_line(capsys)


def test_the_demo_served_on_this_machine_by_default(
    capsys: pytest.CaptureFixture[str], fake_server: list[FakeServer]
) -> None:
    port = _free_port()
    assert main(["serve", "--demo", "--port", str(port)]) == 0
    (server,) = fake_server
    url = f"http://127.0.0.1:{port}"
    assert (server.host, server.port, server.url) == ("127.0.0.1", port, url)
    # Each tab runs the demo viewer with this very Python: no poller, no other capgap.
    assert shlex.split(server.command) == [sys.executable, "-m", "capgap", "--demo"]
    assert server.lines == [
        f"serving the sample session (DEMO) on {url}; each browser tab runs "
        "its own viewer; Ctrl+C stops"
    ]
    assert "no authentication" not in " ".join(server.lines)


def test_beyond_this_machine_it_says_the_page_has_no_authentication(
    monkeypatch: pytest.MonkeyPatch, fake_server: list[FakeServer]
) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda: "desk.example")
    # The suite resolves no name but this machine's (0.0.0.0 included): the port check is
    # stood in for here, and binds for real in test_a_port_in_use_is_one_line_and_exit_2.
    checked: list[tuple[str, int]] = []
    monkeypatch.setattr(serve, "check_port_free", lambda host, port: checked.append((host, port)))
    port = _free_port()
    assert main(["serve", "--demo", "--host", "0.0.0.0", "--public", "--port", str(port)]) == 0
    (server,) = fake_server
    assert server.host == "0.0.0.0" and checked == [("0.0.0.0", port)]
    # A browser cannot go to 0.0.0.0: the page (and its websocket) name the machine.
    assert server.url == f"http://desk.example:{port}"
    (note,) = [line for line in server.lines if "no authentication" in line]
    assert f"ssh -L {port}:127.0.0.1:{port}" in note


def test_follow_runs_a_viewer_of_the_recording_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_server: list[FakeServer]
) -> None:
    recording = tmp_path / "desk's rec"  # a space and a quote survive the shell
    recording.mkdir()
    config = tmp_path / "config.toml"
    config.write_text("")
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--follow", "desk's rec", "--config", "config.toml"]) == 0
    (server,) = fake_server
    assert shlex.split(server.command) == [
        sys.executable, "-m", "capgap", "--follow", str(recording), "--config", str(config)
    ]  # fmt: skip
    assert "the recording in desk's rec" in server.lines[0]


def test_viewer_command_refuses_a_live_source() -> None:
    args = build_parser().parse_args(["serve"])
    with pytest.raises(UsageError, match="never polls"):
        serve.viewer_command(args)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("desk.example", False),
    ],
)
def test_which_hosts_stay_on_this_machine(host: str, loopback: bool) -> None:
    assert serve.is_loopback(host) is loopback


def test_page_url_brackets_ipv6() -> None:
    assert serve.page_url("::1", 8000) == "http://[::1]:8000"
    assert serve.page_url("127.0.0.1", 80) == "http://127.0.0.1:80"


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"LANG": "C"},
        {"LANG": "en_US.UTF-8", "TERM": "dumb"},
        {"LC_ALL": "POSIX", "TERM": "vt100"},
    ],
)
def test_the_viewers_draw_for_the_browser_whatever_serve_was_started_in(
    environ: dict[str, str],
) -> None:
    changed = {**environ, **serve.browser_environment(environ)}
    # The same judge the monitor uses: xterm.js draws box lines and colour.
    assert terminal_limits(changed) == TerminalLimits()
    if environ.get("LANG") == "en_US.UTF-8":
        assert changed["LANG"] == "en_US.UTF-8" and "LC_ALL" not in changed  # kept


def test_a_browser_session_is_a_terminal_for_the_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual_serve.app_service import AppService
    from textual_serve.download_manager import DownloadManager

    async def nothing(*_: Any) -> None:
        return None

    service = AppService(
        "true",
        write_bytes=nothing,
        write_str=nothing,
        close=nothing,
        download_manager=DownloadManager(),
    )
    # The driver textual-serve names for its sessions is the one the monitor accepts.
    session_env = service._build_environment()
    assert session_env["TEXTUAL_DRIVER"] == WEB_DRIVER
    # textual-serve's pipes are no terminals: only the web driver makes them one.
    monkeypatch.setattr("os.isatty", lambda fd: False)
    assert has_terminal({"TEXTUAL_DRIVER": WEB_DRIVER})
    assert not has_terminal({})


def test_the_extra_the_message_names_brings_textual_serve() -> None:
    import re
    import tomllib

    extra = re.fullmatch(r"pip install 'capgap\[(\w+)\]'", serve.INSTALL_HINT)
    assert extra is not None
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    wanted = [req for req in extras[extra.group(1)] if req.startswith("textual-serve")]
    assert wanted
    # The tests' extra has it too: CI runs the browser test in a venv of `.[test]`.
    assert wanted == [req for req in extras["test"] if req.startswith("textual-serve")]
