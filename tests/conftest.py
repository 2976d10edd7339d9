"""Guards for the whole suite: no test reaches beyond this machine or into the user's files.

tests/ is on sys.path (pytest's "prepend" import of this conftest), so every test folder can
import the shared helpers: ``from builders import ...``.
"""

from __future__ import annotations

import gc
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from capgap.core import collector
from capgap.settings.config import CONFIG_ENV
from capgap.settings.model import KEY_ENV

_LOCAL = {"localhost", "127.0.0.1", "::1", "", None}
_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name not in _LOCAL and not str(name).startswith("127."):
        raise OSError(f"tests must not touch the internet (tried to resolve {name!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only)
    yield


#: What capgap (and Textual's colour choice) reads from the environment, besides the XDG
#: folders: a user's config file, API keys, debug switches and colour overrides.
_READ_BY_CAPGAP = (CONFIG_ENV, *KEY_ENV.values(), "TEXTUAL_COLOR_SYSTEM", "NO_COLOR", "FORCE_COLOR")
_XDG = ("CONFIG", "DATA", "STATE", "CACHE")


@pytest.fixture(autouse=True)
def xdg_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Run each test without the user's config, state, API keys or colour overrides.

    The XDG folders (where platformdirs puts capgap's config and state on Linux) point into a
    fresh temporary folder, separate from the test's own tmp_path. os.environ is changed, so
    child processes inherit it. HOME stays: capgap reads nothing from it once XDG is set, and
    the terminal tests set their own.
    """
    names = set(_READ_BY_CAPGAP) | {name for name in os.environ if name.startswith("CAPGAP_")}
    for name in names:
        # setenv first: monkeypatch then removes the variable at teardown even when the code
        # under test sets it (the CLI sets NO_COLOR in-process), so nothing leaks to the next test.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("xdg")
    for name in _XDG:
        monkeypatch.setenv(f"XDG_{name}_HOME", str(home / name.lower()))
    yield home


#: The tests that drive a real terminal (tmux, a pty, sshd) or run the day-long soak: they run
#: one after another on one worker, never two at once, while the other worker runs the rest.
_ONE_AT_A_TIME = ("e2e", "soak")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the terminal-driving and soak tests in one xdist group (run with --dist loadgroup).

    First among the hooks: xdist reads the group into each test's id in its own.
    """
    for item in items:
        if Path(str(item.path)).parent.name in _ONE_AT_A_TIME:
            item.add_marker(pytest.mark.xdist_group("terminal"))


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Leave the garbage collector running and nothing frozen, as the test found it."""
    yield
    collector.release()
    gc.unfreeze()
    gc.enable()
