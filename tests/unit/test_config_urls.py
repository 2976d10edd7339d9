"""Provider URLs are checked when the config loads: a bad one is one line naming file:line:key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from capgap.cli.main import main
from capgap.settings.config import ConfigError, load_settings


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:99999", "port 99999 is outside 1..65535"),
        ("http://127.0.0.1:0", "port 0 is outside 1..65535"),
        ("http://127.0.0.1:http", "its port is not a number"),
        ("http://[::1", "its host is not valid"),
        ("http://:8080", "it has no host"),
        ("http://exa mple.com", "it contains spaces or control characters"),
        ("https://example.com/a?b=c", "a base URL takes no query or fragment"),
        ("https://example.com/#top", "a base URL takes no query or fragment"),
    ],
)
def test_a_bad_base_url_is_refused_with_file_line_and_key(tmp_path, url, problem):
    path = write(tmp_path, f'# mirrors\n\n[feeds.yahoo]\nbase_url = "{url}"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value) == f"{path}:4: [feeds.yahoo] base_url: {url!r}: {problem}"


def test_a_bad_cookie_url_is_refused_too(tmp_path):
    path = write(tmp_path, '[feeds.yahoo]\ncookie_url = "https://fc.yahoo.com:70000"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value) == (
        f"{path}:2: [feeds.yahoo] cookie_url: 'https://fc.yahoo.com:70000': "
        "port 70000 is outside 1..65535"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:65535",
        "https://[::1]:8443/base",
        "https://mirror.example/nyfed/",
        "http://localhost",
        "https://user@mirror.example",
    ],
)
def test_good_urls_still_load(tmp_path, url):
    path = write(tmp_path, f'[feeds.nyfed]\nbase_url = "{url}"\n')
    assert load_settings(path, environ={}).feeds.nyfed.base_url == url.rstrip("/")


def test_port_99999_exits_2_with_one_line(tmp_path, capsys):
    path = write(tmp_path, '[feeds.nyfed]\nbase_url = "http://127.0.0.1:99999"\n')
    assert main(["snapshot", "--config", str(path), "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"capgap: error: {path}:2: [feeds.nyfed] base_url: 'http://127.0.0.1:99999': "
        "port 99999 is outside 1..65535"
    ]


def test_port_99999_in_a_real_process_is_one_line_and_exit_2(tmp_path):
    path = write(tmp_path, '[feeds.yahoo]\nbase_url = "http://127.0.0.1:99999"\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "capgap",
            "record",
            "--config",
            str(path),
            "--out",
            str(tmp_path / "rec"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"capgap: error: {path}:2: [feeds.yahoo] base_url: 'http://127.0.0.1:99999': "
        "port 99999 is outside 1..65535"
    ]
    assert not (tmp_path / "rec").exists()


def test_the_ishares_base_url_is_a_setting_like_the_other_feeds(tmp_path):
    assert load_settings(None, environ={}).feeds.ishares.base_url == "https://www.ishares.com"
    path = write(tmp_path, '[feeds.ishares]\nbase_url = "http://127.0.0.1:8080/mirror/"\n')
    assert load_settings(path, environ={}).feeds.ishares.base_url == "http://127.0.0.1:8080/mirror"


def test_a_bad_ishares_base_url_or_key_is_refused_with_file_line_and_key(tmp_path):
    path = write(tmp_path, '[feeds.ishares]\nbase_url = "ftp://mirror"\n')
    with pytest.raises(ConfigError, match=r":2: \[feeds.ishares\] base_url: 'ftp://mirror'"):
        load_settings(path, environ={})
    path = write(tmp_path, '[feeds.ishares]\ncookie_url = "https://x.example"\n')
    with pytest.raises(ConfigError, match=r":2: \[feeds.ishares\] cookie_url: unknown key"):
        load_settings(path, environ={})


def test_fred_csv_base_url_defaults_beside_the_api_and_can_be_moved(tmp_path):
    # FRED's keyless CSV download lives on another host than its API: both are configurable.
    default = load_settings(write(tmp_path, ""), environ={}).feeds.fred
    assert default.base_url == "https://api.stlouisfed.org"
    assert default.csv_base_url == "https://fred.stlouisfed.org"
    path = write(tmp_path, '[feeds.fred]\ncsv_base_url = "http://127.0.0.1:8080/fred/"\n')
    moved = load_settings(path, environ={}).feeds.fred
    assert moved.csv_base_url == "http://127.0.0.1:8080/fred"
    assert moved.base_url == "https://api.stlouisfed.org"  # the API's stays


def test_a_bad_fred_csv_base_url_is_refused_as_a_base(tmp_path):
    path = write(tmp_path, '[feeds.fred]\ncsv_base_url = "https://fred.example/?id=DFF"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value) == (
        f"{path}:2: [feeds.fred] csv_base_url: 'https://fred.example/?id=DFF': "
        "a base URL takes no query or fragment"
    )
