"""Every test runs without the user's config, state, API keys or colour overrides.

The autouse fixture in tests/conftest.py provides this; these tests hold it to it, in this
process and in a child process (which inherits os.environ).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from capgap.settings.config import CONFIG_ENV, default_config_path, find_config
from capgap.settings.model import KEY_ENV
from capgap.settings.state import default_state_path
from capgap.ui.themes import user_themes_dir

XDG = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")

_CHILD = """
import json, os
from capgap.settings.config import default_config_path
from capgap.settings.state import default_state_path
print(json.dumps({
    "env": dict(os.environ),
    "config": str(default_config_path()),
    "state": str(default_state_path()),
}))
"""


def _under(path: Path | str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_no_user_config_and_no_api_keys_in_the_environment() -> None:
    for name in (CONFIG_ENV, *KEY_ENV.values()):
        assert name not in os.environ, name
    assert not [name for name in os.environ if name.startswith("CAPGAP_")]
    for name in ("TEXTUAL_COLOR_SYSTEM", "NO_COLOR", "FORCE_COLOR"):
        assert name not in os.environ, name


def test_a_variable_set_by_code_under_test_does_not_outlive_its_test() -> None:
    # `capgap` run in-process sets NO_COLOR on a dumb terminal (os.environ.setdefault).
    os.environ["NO_COLOR"] = "1"
    os.environ[CONFIG_ENV] = "/nowhere.toml"


def test_the_variables_set_by_the_previous_test_are_gone() -> None:
    assert "NO_COLOR" not in os.environ and CONFIG_ENV not in os.environ


def test_platform_folders_are_in_a_temporary_folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = tmp_path_factory.getbasetemp()
    for name in XDG:
        assert name in os.environ, name
        assert _under(os.environ[name], base), name
    # platformdirs honours the XDG variables on Linux: capgap's own paths move with them.
    assert _under(default_config_path(), Path(os.environ["XDG_CONFIG_HOME"]))
    assert _under(user_themes_dir(), Path(os.environ["XDG_CONFIG_HOME"]))
    assert _under(default_state_path(), Path(os.environ["XDG_STATE_HOME"]))
    assert find_config(None) is None  # nothing written there: no config file is read


def test_each_test_gets_its_own_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Write state as the app would; the next test (below) must not see it.
    path = default_state_path()
    assert _under(path, tmp_path_factory.getbasetemp())  # never write the user's own file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('theme = "nord"\n')
    assert path.exists()


def test_state_written_by_another_test_is_gone() -> None:
    assert not default_state_path().exists()


def test_a_child_process_inherits_the_clean_environment(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    child = json.loads(out)
    assert {CONFIG_ENV, *KEY_ENV.values()}.isdisjoint(child["env"])
    base = tmp_path_factory.getbasetemp()
    assert all(_under(child["env"][name], base) for name in XDG)
    assert _under(child["config"], base) and _under(child["state"], base)
