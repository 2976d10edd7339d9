"""[feeds.yahoo] transport: httpx by default, "impersonate" only with curl_cffi installed."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from capgap.cli.main import main
from capgap.settings.config import ConfigError, load_settings


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


def test_httpx_is_the_default_transport(tmp_path):
    assert load_settings(None, environ={}).feeds.yahoo.transport == "httpx"
    path = write(tmp_path, '[feeds.yahoo]\nbase_url = "http://127.0.0.1:8080"\n')
    assert load_settings(path, environ={}).feeds.yahoo.transport == "httpx"


@pytest.mark.parametrize("kind", ["httpx", "impersonate"])
def test_the_transport_is_chosen_in_the_config(tmp_path, kind):
    pytest.importorskip("curl_cffi")
    path = write(tmp_path, f'[feeds.yahoo]\ntransport = "{kind}"\n')
    assert load_settings(path, environ={}).feeds.yahoo.transport == kind


@pytest.mark.parametrize(
    ("value", "shown"),
    [('"curl"', "'curl'"), ('"Impersonate"', "'Impersonate'"), ("true", "True"), ("[]", "[]")],
)
def test_an_unknown_transport_names_the_choices(tmp_path, value, shown):
    path = write(tmp_path, f"[feeds.yahoo]\n\ntransport = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value) == (
        f'{path}:3: [feeds.yahoo] transport: {shown} is not one of "httpx", "impersonate"'
    )


def test_only_yahoo_has_a_transport(tmp_path):
    path = write(tmp_path, '[feeds.nyfed]\ntransport = "impersonate"\n')
    with pytest.raises(ConfigError, match=r"\[feeds.nyfed\] transport: unknown key"):
        load_settings(path, environ={})


def test_impersonate_without_curl_cffi_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    # None in sys.modules is how Python spells "this module cannot be imported".
    monkeypatch.setitem(sys.modules, "curl_cffi", None)
    path = write(tmp_path, '[feeds.yahoo]\ntransport = "impersonate"\n')
    assert main(["snapshot", "--demo", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f'capgap: error: {path}:2: [feeds.yahoo] transport: "impersonate" needs curl_cffi: '
        "pip install 'capgap[impersonate]'"
    ]


@pytest.mark.parametrize("kind", ["httpx", "impersonate"])
def test_show_gives_the_transport_in_effect(tmp_path, capsys, kind):
    pytest.importorskip("curl_cffi")
    path = write(tmp_path, f'[feeds.yahoo]\ntransport = "{kind}"\n')
    assert main(["config", "--show", "--config", str(path)]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    assert data["feeds"]["yahoo"]["transport"] == kind
    # The other providers take no transport, and --show offers them none.
    assert "transport" not in data["feeds"]["nyfed"]
