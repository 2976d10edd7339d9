"""Config and flag inputs that used to escape the one-line error: each is one printable line
naming file, line and key where there is one, and exit 2; only ConfigError leaves
load_settings, whatever the file holds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from capgap.cli.main import main
from capgap.core.toml import toml_key, toml_value
from capgap.settings.config import ALERT_KEYS, SECTION_KEYS, ConfigError, find_config, load_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DIGITS = sys.get_int_max_str_digits()


def capgap(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run capgap (a real process: the one line and the exit code are what a user gets)."""
    environ = dict(os.environ)
    environ["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    return subprocess.run(
        [sys.executable, "-m", "capgap", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )


@pytest.mark.parametrize(
    ("body", "line"),
    [
        # An alert kind that is a list: unhashable, it escaped as a TypeError.
        (
            '[poll]\nopen_s = 5\n\n[[alerts]]\nkind = ["spread"]\n',
            "{path}:5: [[alerts]] kind: unknown kind ['spread'] "
            "(known: spread, sector, fomc, feed_down, fed_odds)",
        ),
        # Nested 5,000 deep: tomllib's recursion escaped as a RecursionError.
        (
            "[poll]\nopen_s = " + "[" * 5000 + "]" * 5000 + "\n",
            "{path}: not valid TOML: nested too deeply",
        ),
        # A 100,000-digit integer: Python's digit limit escaped as a ValueError.
        (
            "[poll]\nextended_s = 30\nopen_s = " + "9" * 100_000 + "\n",
            f"{{path}}:3: not valid TOML: a number of more than {DIGITS} digits",
        ),
        # A key with a newline and an escape sequence: echoed raw, it split the line and was
        # obeyed by the terminal. Its line is found, its characters escaped.
        (
            '[ui]\nascii = true\n"a\\nb\\u001b[31m" = 1\n',
            "{path}:3: [ui] a\\nb\\x1b[31m: unknown key "
            "(known: ascii, colors, compact, mouse, theme)",
        ),
    ],
    ids=["list-kind", "deep", "huge-int", "escapes"],
)
def test_config_faults_are_one_printable_line_and_exit_2(tmp_path, body, line):
    path = tmp_path / "config.toml"
    path.write_text(body)
    result = capgap(tmp_path, "calendar", "--config", str(path), "--format", "json")
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"capgap: error: {line.format(path=path)}"]
    assert result.stderr.isprintable() is False  # only the final newline is not
    assert result.stderr[:-1].isprintable(), result.stderr


def test_a_utf8_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf[poll]\nopen_s = 5\n")
    assert load_settings(path).poll.open_s == 5.0


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("folder", "a folder, not a config file"),
        ("devnull", "a character device, not a config file"),
    ],
)
def test_a_config_that_is_not_a_file_says_what_it_is(tmp_path, name, what):
    path = tmp_path if name == "folder" else Path(os.devnull)
    with pytest.raises(ConfigError) as caught:
        find_config(str(path), environ={})
    assert str(caught.value) == f"{path}: {what} (from --config)"
    result = capgap(tmp_path, "calendar", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr == f"capgap: error: {path}: {what} (from --config)\n"


def test_calendar_days_beyond_the_range_is_one_line(tmp_path):
    result = capgap(tmp_path, "calendar", "--days", "999999999")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "--days" in result.stderr


def test_paths_in_messages_are_printed_with_non_printables_escaped(tmp_path, capsys):
    missing = tmp_path / "gone\x1b[2J\nx.toml"
    assert main(["calendar", "--config", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err
    assert f"{tmp_path}/gone\\x1b[2J\\nx.toml: config file not found" in err


# --- Generated configs: whatever the file holds, only ConfigError leaves load_settings. ---

_KEY_TEXT = st.text(
    alphabet=st.sampled_from("abc_-. \"'\\\n\t\x1b\x7f\u202eé[]={}#0123456789"), max_size=8
)
_KEYS = sorted({key for keys in (*SECTION_KEYS.values(), *ALERT_KEYS.values()) for key in keys})
_SECTIONS = [*SECTION_KEYS, "alerts", "bogus", "universe.watchlists", "universe.aliases"]


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(["spread", "sector", "fomc", "feed_down", "Energy", "http://x", "256"]),
        st.dates(),
        st.datetimes(),
        st.times(),
    )


_VALUES = st.recursive(
    _scalars(),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(_KEYS), _KEY_TEXT), inner, max_size=4),
    ),
    max_leaves=12,
)


def _known_keys(section: str) -> list[str]:
    """The keys a section takes: most generated keys are these, so the values get checked."""
    if section == "alerts":
        return sorted({key for keys in ALERT_KEYS.values() for key in keys})
    return sorted(SECTION_KEYS.get(section, _KEYS))


@st.composite
def _documents(draw: st.DrawFn) -> str:
    lines: list[str] = []
    # One or two sections: an error in one would hide what the next one does with its keys.
    for section in draw(st.lists(st.sampled_from(_SECTIONS), min_size=1, max_size=2, unique=True)):
        array = section in ("alerts", "universe.sectors") and draw(st.booleans())
        keys = st.one_of(st.sampled_from(_known_keys(section)), _KEY_TEXT)
        for _ in range(draw(st.integers(1, 2)) if array else 1):
            lines.append(f"[[{section}]]" if array else f"[{section}]")
            pairs = draw(st.dictionaries(keys, _VALUES, max_size=4))
            if section == "alerts":
                # Every alert needs a kind: mostly a real one, its other keys then checked.
                pairs["kind"] = draw(st.one_of(st.sampled_from(sorted(ALERT_KEYS)), _VALUES))
            lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in pairs.items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_documents(), prefix=st.sampled_from(["", "\ufeff"]))
def test_only_config_errors_leave_load_settings(tmp_path_factory, document, prefix):
    path = tmp_path_factory.mktemp("generated") / "config.toml"
    path.write_text(prefix + document, encoding="utf-8")
    try:
        load_settings(path, environ={})
    except ConfigError as exc:
        assert str(exc)  # a message to print, whatever the file held


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_only_config_errors_leave_load_settings_for_any_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "config.toml"
    path.write_bytes(data)
    try:
        load_settings(path, environ={})
    except ConfigError as exc:
        assert str(exc)
