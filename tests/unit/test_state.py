"""The remembered theme: saved atomically, read back, a broken file means defaults; and the order
in which the start-up theme is chosen."""

from __future__ import annotations

import os

import pytest
from capgap.settings.model import UiSettings
from capgap.settings.state import UiState, default_state_path, load_state, resolve_theme, save_state


def test_save_then_load(tmp_path):
    path = tmp_path / "deep" / "er" / "state.toml"
    assert save_state(path, UiState(theme="capgap-light")) is None
    assert load_state(path) == UiState(theme="capgap-light")
    # Overwritten in place, and no temp files left beside it.
    assert save_state(path, UiState(theme="textual-dark")) is None
    assert load_state(path) == UiState(theme="textual-dark")
    assert [p.name for p in path.parent.iterdir()] == ["state.toml"]
    assert save_state(path, UiState()) is None
    assert load_state(path) == UiState()


@pytest.mark.parametrize("theme", ['my "quoted" theme', "back\\slash", "thème-ünï"])
def test_awkward_names_survive(tmp_path, theme):
    path = tmp_path / "state.toml"
    save_state(path, UiState(theme=theme))
    assert load_state(path).theme == theme


@pytest.mark.parametrize(
    "content",
    [b"theme = \n", b"[theme\n", b"\xff\xfe\x00garbage", b"theme = 5\n", b'theme = "  "\n', b""],
)
def test_a_broken_file_gives_the_defaults(tmp_path, content):
    path = tmp_path / "state.toml"
    path.write_bytes(content)
    assert load_state(path) == UiState()


def test_missing_file_and_folder(tmp_path):
    assert load_state(tmp_path / "nope" / "state.toml") == UiState()
    assert load_state(tmp_path) == UiState()  # a directory, not a file


def test_unknown_keys_are_ignored(tmp_path):
    path = tmp_path / "state.toml"
    path.write_text('theme = "capgap-mono"\nlater = 1\n')
    assert load_state(path) == UiState(theme="capgap-mono")


def test_a_folder_that_cannot_be_made_gives_a_reason(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    error = save_state(blocker / "state.toml", UiState(theme="x"))
    assert error is not None and error.startswith(f"cannot write {blocker / 'state.toml'}: ")
    assert "\n" not in error


def test_a_read_only_folder_gives_a_reason_and_leaves_nothing(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores the mode bits
            pytest.skip("running with permissions that ignore mode bits")
        assert save_state(folder / "state.toml", UiState(theme="x")) is not None
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "state.toml"
    save_state(path, UiState(theme="old"))

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("capgap.core.atomic.os.replace", refuse)
    assert save_state(path, UiState(theme="new")) == f"cannot write {path}: disk full"
    assert load_state(path).theme == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.toml"]


def test_default_path_follows_the_platform_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_state_path() == tmp_path / "capgap" / "state.toml"


@pytest.mark.parametrize(
    ("cli", "remembered", "configured", "expected"),
    [
        ("flag", "remembered", "config", "flag"),
        (None, "remembered", "config", "remembered"),
        (None, None, "config", "config"),
        (None, None, None, None),
        ("flag", None, None, "flag"),
        (None, "remembered", None, "remembered"),
    ],
)
def test_theme_order_flag_then_remembered_then_config(cli, remembered, configured, expected):
    assert resolve_theme(cli, UiState(remembered), UiSettings(theme=configured)) == expected
