"""capgap's polars settings: the allocator's reach jemalloc after polars' defaults; threads."""

from __future__ import annotations

import subprocess
import sys

import pytest
from capgap.cli.polars_env import (
    ENV_NAME,
    POLARS_DEFAULTS,
    SETTINGS,
    THREADS,
    THREADS_NAME,
    tune_allocator,
    tune_polars,
)


@pytest.mark.parametrize(
    ("inherited", "expected"),
    [
        (None, SETTINGS),
        ("", SETTINGS),
        # A Python parent that loaded polars (pytest, a script) hands down polars' defaults:
        # left as they were, they would win over capgap's (the soak once measured that).
        (POLARS_DEFAULTS, SETTINGS),
        (f"{POLARS_DEFAULTS},narenas:4", f"{SETTINGS},narenas:4"),
        # The user's own setting comes last: jemalloc lets it win.
        ("narenas:4", f"{SETTINGS},narenas:4"),
    ],
)
def test_capgap_settings_come_before_the_users(inherited: str | None, expected: str) -> None:
    environ = {} if inherited is None else {ENV_NAME: inherited}
    tune_allocator(environ)
    assert environ[ENV_NAME] == expected


def test_polars_loads_with_capgaps_settings_after_its_defaults() -> None:
    # What polars finally hands to jemalloc, in a process started the way capgap's is.
    code = (
        "import os; from capgap.cli.polars_env import tune_allocator; tune_allocator(os.environ); "
        "import polars; print(os.environ['_RJEM_MALLOC_CONF'])"
    )
    environ = {"PATH": "/usr/bin:/bin", ENV_NAME: POLARS_DEFAULTS}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=True
    )
    final = done.stdout.strip().split(",")
    # Later settings win in jemalloc: capgap's come after every one of polars' defaults.
    for setting in SETTINGS.split(","):
        key = setting.split(":")[0]
        assert [s for s in final if s.startswith(f"{key}:")][-1] == setting


def test_polars_runs_one_thread_unless_the_user_says_otherwise() -> None:
    code = (
        "import os; from capgap.cli.polars_env import tune_polars; tune_polars(os.environ); "
        "import polars; print(polars.thread_pool_size())"
    )
    for given, expected in ((None, THREADS), ("2", "2")):
        environ = {"PATH": "/usr/bin:/bin"}
        if given is not None:
            environ[THREADS_NAME] = given
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=True
        )
        assert done.stdout.strip() == expected
    # And the allocator's settings are put there by the same call.
    environ = {}
    tune_polars(environ)
    assert environ == {ENV_NAME: SETTINGS, THREADS_NAME: THREADS}
