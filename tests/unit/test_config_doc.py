"""`capgap config`: the documented default file, the settings in effect (keys masked), the path."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from capgap.cli.main import main
from capgap.core import records
from capgap.core.toml import toml_string
from capgap.settings.alert_rules import FedOddsMove, FeedDown, FomcSoon, SectorSpread, SpreadCross
from capgap.settings.config import (
    ALERT_KEYS,
    COLOR_SYSTEMS,
    DIRECTIONS,
    NOTIFY_METHODS,
    SECTION_KEYS,
    SECTOR_TAGS,
    SPREAD_METRICS,
    load_settings,
)
from capgap.settings.keys import KNOWN_BINDINGS
from capgap.settings.model import Settings


@pytest.fixture
def no_user_config(tmp_path, monkeypatch):
    """The default config path, in tmp_path (tests/conftest.py keeps the user's out)."""
    default = tmp_path / "user-config" / "config.toml"
    monkeypatch.setattr("capgap.settings.config.default_config_path", lambda: default)
    return default


def printed(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def save(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_the_default_file_loads_as_the_defaults(tmp_path, capsys, no_user_config):
    text = printed(capsys, "config", "--default")
    settings = load_settings(save(tmp_path, text, "default.toml"), environ={})
    assert records.replace(settings, source=None) == Settings()


def _mentions(text: str, section: str, key: str) -> bool:
    # As an assignment (maybe commented out) or as the header of its own table.
    pattern = rf"^#?\s*(\[\[?{re.escape(section)}\.{re.escape(key)}\]\]?|{re.escape(key)}\s*=)"
    return re.search(pattern, text, re.MULTILINE) is not None


def test_the_default_file_documents_every_key_the_parser_accepts(capsys, no_user_config):
    text = printed(capsys, "config", "--default")
    missing = [
        f"{section}.{key}"
        for section, keys in SECTION_KEYS.items()
        for key in keys
        if not _mentions(text, section, key)
    ]
    missing += [
        f"alerts.{key}"
        for keys in ALERT_KEYS.values()
        for key in keys
        if not _mentions(text, "alerts", key)
    ]
    for section in {section.split(".")[0] for section in SECTION_KEYS} | {"alerts"}:
        if not re.search(rf"^#?\s*\[\[?{section}[\].]", text, re.MULTILINE):
            missing.append(f"[{section}]")
    assert missing == []
    # Each binding id with its default keys, and every allowed value of the choice keys.
    for binding, (keys, _) in KNOWN_BINDINGS.items():
        assert f"# {binding} = {toml_string(keys)}" in text
    for value in (
        *COLOR_SYSTEMS,
        *SECTOR_TAGS,
        *SPREAD_METRICS,
        *DIRECTIONS,
        *ALERT_KEYS,
        *NOTIFY_METHODS,
    ):
        assert f'"{value}"' in text, value
    assert all(len(line) <= 100 for line in text.splitlines())


def test_the_examples_in_the_default_file_are_valid(tmp_path, capsys, no_user_config):
    text = printed(capsys, "config", "--default")
    # Uncomment every example line: "# key = ..." and "# [[table]]" (not the prose).
    examples = re.sub(r"^# (?=\[|[A-Za-z_\"]\S* = )", "", text, flags=re.MULTILINE)
    assert examples != text
    settings = load_settings(save(tmp_path, examples, "examples.toml"), environ={})
    assert settings.ui.theme == "capgap-light" and settings.ui.colors == "256"
    assert dict(settings.keymap) == {binding: keys for binding, (keys, _) in KNOWN_BINDINGS.items()}
    assert [d.date for d in settings.fomc.extra_decisions] == [date(2028, 1, 26), date(2028, 3, 15)]
    assert dict(settings.fedwatch.prices) == {(2026, 1): 96.37, (2026, 3): 96.5}
    assert dict(settings.universe.aliases) == {"^GSPC": "SPX", "^RUT": "RUT"}
    assert set(settings.universe.watchlists) == {"mega", "banks"}
    assert [sector.name for sector in settings.universe.sectors] == ["Regional banks"]
    assert settings.feeds.fred.api_key == "your-fred-key"
    assert settings.feeds.fred.api_key_from == "file"
    assert settings.alerts == (
        SpreadCross(-0.5, "gap_1d", "below"),
        SectorSpread("Industrials", 1.5),
        FomcSoon(30.0),
        FeedDown(5.0),
        FedOddsMove(10.0, 60.0),
    )
    assert settings.notify.command == "ntfy publish capgap-alerts"


SECRET_FILE = "file-secret-7f3a9c"
SECRET_ENV = "env-secret-2b8d41"


def test_show_masks_keys_from_the_file_and_the_environment(
    tmp_path, capsys, monkeypatch, no_user_config
):
    path = save(
        tmp_path,
        f'[feeds.fred]\napi_key = "{SECRET_FILE}"\n[ui]\ntheme = "capgap-mono"\n',
        "config.toml",
    )
    monkeypatch.setenv("FINNHUB_API_KEY", SECRET_ENV)
    assert main(["config", "--show", "--config", str(path)]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert SECRET_FILE not in out + captured.err and SECRET_ENV not in out + captured.err
    # The secrets' tails are not shown either.
    assert SECRET_FILE[-4:] not in out and SECRET_ENV[-4:] not in out
    assert out.splitlines()[0] == (
        f"# capgap settings in effect: {path}, with API keys from the environment."
    )
    data = tomllib.loads(out)
    assert data["feeds"]["fred"]["api_key"] == "***"
    assert data["feeds"]["finnhub"]["api_key"] == "***"
    assert 'api_key = "***"  # masked; from the config file' in out
    assert 'api_key = "***"  # masked; from $FINNHUB_API_KEY' in out
    assert data["ui"]["theme"] == "capgap-mono"


def test_an_environment_key_wins_and_show_says_so(tmp_path, capsys, monkeypatch, no_user_config):
    path = save(tmp_path, f'[feeds.fred]\napi_key = "{SECRET_FILE}"\n', "config.toml")
    monkeypatch.setenv("FRED_API_KEY", SECRET_ENV)
    out = printed(capsys, "config", "--show", "--config", str(path))
    assert 'api_key = "***"  # masked; from $FRED_API_KEY' in out
    assert "# api_key is not set ($FINNHUB_API_KEY or this key)" in out
    assert SECRET_FILE not in out and SECRET_ENV not in out


def test_show_without_a_file_says_defaults(capsys, no_user_config):
    out = printed(capsys, "config", "--show")
    assert out.startswith("# capgap settings in effect: defaults (no config file)")
    settings = load_settings(None, environ={})
    assert tomllib.loads(out)["poll"] == {"open_s": 10.0, "extended_s": 30.0, "closed_s": 300.0}
    assert settings == Settings()


def test_show_prints_settings_that_load_back_the_same(tmp_path, capsys, no_user_config):
    from test_config_sections import FULL

    body = (
        FULL
        + "[fomc]\nextra_decisions = [{date = 2028-01-26, sep = true}]\n"
        + '[fedwatch]\nprices = {"2026-01" = 96.37}\n[poll]\nopen_s = 15\n'
        + '[feeds.nyfed]\nbase_url = "http://127.0.0.1:9/x"\n'
        + '[feeds.fred]\ncsv_base_url = "http://127.0.0.1:9/csv"\n'
    )
    path = save(tmp_path, body, "config.toml")
    original = load_settings(path, environ={})
    out = printed(capsys, "config", "--show", "--config", str(path))
    again = load_settings(save(tmp_path, out, "shown.toml"), environ={})
    assert records.replace(again, source=path) == original


def test_show_reads_capgap_config(tmp_path, capsys, monkeypatch, no_user_config):
    path = save(tmp_path, "[ui]\ncompact = true\n", "env.toml")
    monkeypatch.setenv("CAPGAP_CONFIG", str(path))
    out = printed(capsys, "config", "--show")
    assert f"in effect: {path}," in out and tomllib.loads(out)["ui"]["compact"] is True


def test_path_names_the_file_even_when_it_is_missing_or_broken(
    tmp_path, capsys, monkeypatch, no_user_config
):
    assert printed(capsys, "config", "--path") == f"{no_user_config}\n"
    broken = save(tmp_path, "[ui\n", "broken.toml")
    monkeypatch.setenv("CAPGAP_CONFIG", str(broken))
    assert printed(capsys, "config", "--path") == f"{broken}\n"
    flag = tmp_path / "not-yet.toml"
    assert printed(capsys, "config", "--path", "--config", str(flag)) == f"{flag}\n"
    # --default needs no valid config either.
    assert printed(capsys, "config", "--default").startswith("# capgap configuration")


def test_config_needs_one_of_its_flags(capsys, no_user_config):
    with pytest.raises(SystemExit) as caught:
        main(["config"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--default --show --path" in err
    with pytest.raises(SystemExit):
        main(["config", "--show", "--path"])
    assert "not allowed with" in capsys.readouterr().err


def test_show_of_a_missing_named_file_exits_2(tmp_path, capsys, no_user_config):
    missing = tmp_path / "nope.toml"
    assert main(["config", "--show", "--config", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"capgap: error: {missing}: config file not found (from --config)\n"
    )


@pytest.mark.parametrize("text", ["plain", 'quo"te', "back\\slash", "tab\there", "ünï", "\x7f"])
def test_toml_string_round_trips(text):
    assert tomllib.loads(f"v = {toml_string(text)}")["v"] == text
