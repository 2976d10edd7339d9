"""Config files: validated, with one-line errors naming the file, the key and the line."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from capgap.cli.main import main
from capgap.settings.config import ConfigError, find_config, load_settings


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


def test_no_file_means_defaults():
    assert find_config(None, environ={}) is None
    settings = load_settings(None)
    assert settings.fomc.extra_decisions == () and dict(settings.fedwatch.prices) == {}


def test_a_valid_file(tmp_path):
    path = write(
        tmp_path,
        "[fomc]\nextra_decisions = [{date = 2028-01-26}, {date = 2028-03-15, sep = true}]\n"
        '[fedwatch]\nprices = {"2026-01" = 96.37, "2026-03" = 96.5}\n',
    )
    settings = load_settings(path)
    assert [(d.date, d.sep) for d in settings.fomc.extra_decisions] == [
        (date(2028, 1, 26), False),
        (date(2028, 3, 15), True),
    ]
    assert dict(settings.fedwatch.prices) == {(2026, 1): 96.37, (2026, 3): 96.5}


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ("[fomc]\n\n[colours]\nup = 1\n", 3, "[colours]: unknown section"),
        ("[fomc]\nextra = 1\n", 2, "[fomc] extra: unknown key"),
        ("[fomc]\nextra_decisions = [{date = '2028-01-26'}]\n", 2, "is not a TOML date"),
        ("[fomc]\nextra_decisions = [{date = 2028-01-26, sep = 'yes'}]\n", 2, "sep must be"),
        ('# what-if\n[fedwatch]\nprices = {"2026-13" = 96.0}\n', 3, "is not a month"),
        ('[fedwatch]\nprices = {"2026-01" = 101.0}\n', 2, "outside (0, 100]"),
        ('[fedwatch]\nprices = {"2026-01" = "high"}\n', 2, "is not a number"),
        ("[fomc\n", None, "not valid TOML"),
        ('[feeds.nyfed]\nbase_url = "ftp://x"\n', 2, "[feeds.nyfed] base_url: 'ftp://x' is not"),
        ("[feeds.yahoo]\nbase = 1\n", 2, "[feeds.yahoo] base: unknown key"),
        ("[feeds.stooq]\n", 1, "[feeds] stooq: unknown key"),
        ("[poll]\nopen_s = 0.5\n", 2, "[poll] open_s: 0.5 is outside"),
        ("[poll]\nclosed_s = 'slow'\n", 2, "is not a number of seconds"),
    ],
)
def test_errors_name_file_key_and_line(tmp_path, body, line, needle):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "\n" not in message and needle in message
    assert message.startswith(f"{path}:{line}:" if line else f"{path}:")


def test_a_named_file_that_is_missing_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        find_config(str(tmp_path / "nope.toml"), environ={})
    with pytest.raises(ConfigError, match="CAPGAP_CONFIG"):
        find_config(None, environ={"CAPGAP_CONFIG": str(tmp_path / "nope.toml")})


def test_cli_flag_wins_over_the_environment(tmp_path):
    flag = write(tmp_path, "")
    env_file = tmp_path / "env.toml"
    env_file.write_text("")
    assert find_config(str(flag), environ={"CAPGAP_CONFIG": str(env_file)}) == flag
    assert find_config(None, environ={"CAPGAP_CONFIG": str(env_file)}) == env_file


def test_added_decisions_reach_the_calendar(tmp_path, capsys):
    path = write(tmp_path, "[fomc]\nextra_decisions = [{date = 2028-01-26, sep = true}]\n")
    assert main(["calendar", "--config", str(path), "--at", "2027-12-20", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fed"]["next_decision"]["date"] == "2028-01-26"
    assert data["fed"]["next_decision"]["statement_at"] == "2028-01-26T19:00:00+00:00"


def test_a_bad_config_exits_2_with_one_line(tmp_path):
    path = write(tmp_path, "[fomc]\nextra = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "capgap", "snapshot", "--demo", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"capgap: error: {path}:2: [fomc] extra: unknown key (known: extra_decisions)"
    ]


def test_feeds_and_poll_settings(tmp_path):
    path = write(
        tmp_path,
        '[feeds.yahoo]\nbase_url = "http://127.0.0.1:8080/"\n'
        '[feeds.nyfed]\nbase_url = "https://mirror.example/nyfed"\n'
        "[poll]\nopen_s = 10\nclosed_s = 600\n",
    )
    settings = load_settings(path)
    assert settings.feeds.yahoo.base_url == "http://127.0.0.1:8080"
    assert settings.feeds.yahoo.cookie_url == "https://fc.yahoo.com"  # the default stays
    assert settings.feeds.nyfed.base_url == "https://mirror.example/nyfed"
    assert (settings.poll.open_s, settings.poll.extended_s, settings.poll.closed_s) == (
        10.0,
        30.0,
        600.0,
    )


def test_api_keys_from_file_or_environment_and_never_in_repr(tmp_path):
    path = write(tmp_path, '[feeds.fred]\napi_key = "file-secret"\n')
    from_file = load_settings(path, environ={})
    assert from_file.feeds.fred.api_key == "file-secret"
    assert "file-secret" not in repr(from_file)
    from_env = load_settings(path, environ={"FRED_API_KEY": "env-secret"})
    assert from_env.feeds.fred.api_key == "env-secret"
    assert load_settings(None, environ={"FINNHUB_API_KEY": "k"}).feeds.finnhub.api_key == "k"


def test_a_bad_key_is_named_without_echoing_it(tmp_path):
    path = write(tmp_path, "[feeds.fred]\napi_key = 12345\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert "[feeds.fred] api_key: must be a non-empty string" in str(caught.value)
    assert "12345" not in str(caught.value)
    with pytest.raises(ConfigError, match=r"\[feeds.yahoo\] api_key: unknown key"):
        load_settings(write(tmp_path, '[feeds.yahoo]\napi_key = "x"\n'), environ={})
