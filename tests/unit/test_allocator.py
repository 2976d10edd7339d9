"""capgap's allocator settings reach polars' jemalloc, after polars' defaults, before the user's."""

from __future__ import annotations

import subprocess
import sys

import pytest
from capgap.cli.allocator import ENV_NAME, POLARS_DEFAULTS, SETTINGS, tune_allocator


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
        "import os; from capgap.cli.allocator import tune_allocator; tune_allocator(os.environ); "
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
