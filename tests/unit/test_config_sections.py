"""[ui], [universe], [keymap] and [[alerts]]: parsed into the settings, or one line naming the
file, the line and the key, and exit code 2."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from capgap.cli.main import main
from capgap.settings.alert_rules import FedOddsMove, FeedDown, FomcSoon, SectorSpread, SpreadCross
from capgap.settings.config import ConfigError, _Reader, builtin_sector_names, load_settings
from capgap.settings.model import CustomSector, NotifySettings, UiSettings


def write(tmp_path: Path, body: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    path.chmod(0o600)
    return path


FULL = """\
[ui]
theme = "capgap-light"
colors = 256
ascii = true
mouse = false
compact = true

[universe.aliases]
"^gspc" = "SPX"
"BRK.B" = " Berkshire "

[universe.watchlists]
mega = ["aapl", "MSFT", "nvda"]
"my banks" = ["JPM", "ZION"]

[[universe.sectors]]
name = "AI"
large = ["NVDA", "msft"]
small_etf = "iwo"

[[universe.sectors]]
name = "Regional banks"
large_etf = "KBE"
small = ["ZION", "WAL"]
tag = "defensive"

[keymap]
down = "j, down"
sort = "o"

[[alerts]]
kind = "spread"
level = -0.5

[[alerts]]
kind = "spread"
metric = "ratio"
level = 0.37
direction = "above"

[[alerts]]
kind = "sector"
sector = "industrials"
pp = 1.5

[[alerts]]
kind = "sector"
sector = "ai"
pp = 2

[[alerts]]
kind = "fomc"
minutes = 30

[[alerts]]
kind = "feed_down"
minutes = 5

[[alerts]]
kind = "fed_odds"
pp = 10
minutes = 60
"""


def test_a_full_file_is_read_and_normalised(tmp_path):
    settings = load_settings(write(tmp_path, FULL), environ={})
    assert settings.ui == UiSettings(
        theme="capgap-light", colors="256", ascii=True, mouse=False, compact=True
    )
    universe = settings.universe
    # Symbols are upper-cased; aliases keep their text, trimmed.
    assert dict(universe.aliases) == {"^GSPC": "SPX", "BRK.B": "Berkshire"}
    assert dict(universe.watchlists) == {
        "mega": ("AAPL", "MSFT", "NVDA"),
        "my banks": ("JPM", "ZION"),
    }
    assert universe.sectors == (
        CustomSector("AI", ("NVDA", "MSFT"), (), None, "IWO", "cyclical"),
        CustomSector("Regional banks", (), ("ZION", "WAL"), "KBE", None, "defensive"),
    )
    assert dict(settings.keymap) == {"down": "j,down", "sort": "o"}
    assert settings.alerts == (
        SpreadCross(-0.5, "gap_1d", "either"),
        SpreadCross(0.37, "ratio", "above"),
        SectorSpread("Industrials", 1.5),  # spelled as the sector is
        SectorSpread("AI", 2.0),
        FomcSoon(30.0),
        FeedDown(5.0),
        FedOddsMove(10.0, 60.0),
    )
    assert settings.warnings == ()


def test_sectors_may_be_written_inline(tmp_path):
    body = '[universe]\nsectors = [{name = "AI", large = ["NVDA"], small = ["SOUN"]}]\n'
    settings = load_settings(write(tmp_path, body), environ={})
    assert settings.universe.sectors == (CustomSector("AI", ("NVDA",), ("SOUN",)),)


def test_notify_is_read_with_its_defaults(tmp_path):
    assert load_settings(write(tmp_path, ""), environ={}).notify == NotifySettings(
        ("bell",), None, 5.0
    )
    body = (
        '[notify]\nmethods = ["osc777", "notify-send", "osc777"]\n'
        'command = "logger"\ntimeout_s = 2\n'
    )
    notify = load_settings(write(tmp_path, body), environ={}).notify
    # A method named twice acts once.
    assert notify == NotifySettings(("osc777", "notify-send"), "logger", 2.0)


def test_the_gics_names_come_from_the_shipped_sectors():
    names = builtin_sector_names()
    assert len(names) == 11 and "Industrials" in names and "Real Estate" in names


TWO_SECTORS = (
    '[[universe.sectors]]\nname = "A"\nlarge = ["X"]\nsmall = ["Y"]\ntag = "cyclical"\n\n'
    '[[universe.sectors]]\nname = "B"\nlarge = ["Z"]\nsmall = ["W"]\ntag = "growth"\n'
)
ERRORS = [
    # [ui]
    ("[ui]\nfont = 'x'\n", 2, "[ui] font", "unknown key (known: ascii, colors, compact"),
    ("[ui]\ntheme = 3\n", 2, "[ui] theme", "must be a theme name, got 3"),
    ('[ui]\ntheme = ""\n', 2, "[ui] theme", "must be a theme name"),
    ('# terminal\n[ui]\ncolors = "8"\n', 3, "[ui] colors", '\'8\' is not one of "16", "256"'),
    ("[ui]\ncolors = 88\n", 2, "[ui] colors", "88 is not one of"),
    ("[ui]\ncolors = true\n", 2, "[ui] colors", "True is not one of"),
    ('[ui]\nascii = "yes"\n', 2, "[ui] ascii", "must be true or false, got 'yes'"),
    ("[ui]\nmouse = 1\n", 2, "[ui] mouse", "must be true or false, got 1"),
    ("[ui]\ncompact = 0\n", 2, "[ui] compact", "must be true or false"),
    # [universe]
    ("[universe]\nstocks = []\n", 2, "[universe] stocks", "unknown key"),
    ("[universe.watchlists]\ntech = []\n", 2, "[universe.watchlists] tech", "at least one"),
    (
        '[universe.watchlists]\nmega = ["AAPL"]\ntech = ["AAPL", "aapl"]\n',
        3,
        "[universe.watchlists] tech",
        "AAPL is listed twice",
    ),
    ('[universe.watchlists]\ntech = ["BRK B"]\n', 2, "[universe.watchlists] tech", "'BRK B'"),
    ('[universe.watchlists]\ntech = [""]\n', 2, "[universe.watchlists] tech", "not a symbol"),
    ('[universe.watchlists]\ntech = "AAPL"\n', 2, "[universe.watchlists] tech", "must be a list"),
    ("[universe.watchlists]\ntech = [1]\n", 2, "[universe.watchlists] tech", "1 is not a symbol"),
    (
        '[universe.watchlists]\nenergy = ["XOM"]\n',
        2,
        "[universe.watchlists] energy",
        "'energy' is already a GICS sector",
    ),
    ("[universe]\n\nwatchlists = [1]\n", 3, "[universe] watchlists", "must be a table"),
    ("[universe]\nwatchlists = {tech = []}\n", 2, "[universe.watchlists] tech", "at least one"),
    ('[universe.aliases]\n"^GSPC" = ""\n', 2, "[universe.aliases] ^GSPC", "non-empty text"),
    (
        '[universe.aliases]\n"^GSPC" = "X"\n"^RUT" = "x"\n',
        3,
        "[universe.aliases] ^RUT",
        "alias 'x' is taken by ^GSPC",
    ),
    ('[universe.aliases]\n"A B" = "x"\n', 2, "[universe.aliases] A B", "not a symbol"),
    ('[universe.aliases]\naapl = "x"\nAAPL = "y"\n', 3, "[universe.aliases] AAPL", "already"),
    ("[universe.aliases]\nAAPL = 1\n", 2, "[universe.aliases] AAPL", "got 1"),
    # [[universe.sectors]]: the line is the one in the right block of the array.
    (
        '[[universe.sectors]]\nname = "AI"\nlarge = ["NVDA"]\nsmall_etf = "IWO"\n\n'
        '[[universe.sectors]]\nname = "Empty"\nlarge = ["MSFT"]\n',
        6,
        "[[universe.sectors]] small",
        "'Empty' needs small symbols or a small_etf",
    ),
    (
        '[[universe.sectors]]\nname = "Nothing"\n',
        1,
        "[[universe.sectors]] large",
        "'Nothing' needs large symbols or a large_etf",
    ),
    (TWO_SECTORS, 11, "[[universe.sectors]] tag", "'growth' is not one of cyclical, defensive"),
    (
        '[[universe.sectors]]\nname = "AI"\nlarge = ["NVDA"]\nsmall_etf = "IWO"\nsize = 3\n',
        5,
        "[[universe.sectors]] size",
        "unknown key (known: large, large_etf, name, small, small_etf, tag)",
    ),
    (
        '[[universe.sectors]]\nname = "energy"\nlarge_etf = "XLE"\nsmall_etf = "PSCE"\n',
        2,
        "[[universe.sectors]] name",
        "'energy' is already a GICS sector",
    ),
    (
        '[[universe.sectors]]\nname = "AI"\nlarge_etf = "Q"\nsmall_etf = "I"\n'
        '[[universe.sectors]]\nname = "ai"\nlarge_etf = "Q"\nsmall_etf = "I"\n',
        6,
        "[[universe.sectors]] name",
        "'ai' is already a sector",
    ),
    (
        '[[universe.sectors]]\nname = "AI"\nlarge_etf = "Q"\nsmall_etf = "I"\n'
        '[universe.watchlists]\nai = ["NVDA"]\n',
        6,
        "[universe.watchlists] ai",
        "'ai' is already a sector",
    ),
    (
        '[[universe.sectors]]\nname = "AI"\nlarge = ["NVDA"]\nsmall = ["nvda"]\n',
        4,
        "[[universe.sectors]] small",
        "NVDA is also in large",
    ),
    (
        '[[universe.sectors]]\nname = "AI"\nlarge_etf = 5\nsmall_etf = "IWO"\n',
        3,
        "[[universe.sectors]] large_etf",
        "5 is not a symbol",
    ),
    ('[[universe.sectors]]\nlarge = ["X"]\n', 1, "[[universe.sectors]] name", "got None"),
    ('[universe.sectors]\nname = "AI"\n', 1, "[universe] sectors", "must be an array of tables"),
    (
        '[universe]\nsectors = [{name = "A", large = ["X"], small = ["Y"], tag = "growth"}]\n',
        2,
        "[[universe.sectors]] tag",
        "'growth' is not one of",
    ),
    # [keymap]
    (
        '[keymap]\nsort = "o"\nsortt = "o"\n',
        3,
        "[keymap] sortt",
        "unknown binding id (known: back, bottom, compact",
    ),
    ('[keymap]\nsort = ""\n', 2, "[keymap] sort", "is not a list of keys"),
    ('[keymap]\ndown = "j,,down"\n', 2, "[keymap] down", "'j,,down' is not a list of keys"),
    ('[keymap]\ndown = "page down"\n', 2, "[keymap] down", "is not a list of keys"),
    ('[keymap]\ndown = ["j"]\n', 2, "[keymap] down", "is not a list of keys"),
    # [[alerts]]
    ('[[alerts]]\nkind = "volume"\n', 2, "[[alerts]] kind", "unknown kind 'volume' (known: spread"),
    ("[[alerts]]\nlevel = 1.0\n", 1, "[[alerts]]", "missing kind (one of: spread, sector"),
    (
        '[[alerts]]\nkind = "fomc"\nminutes = 30\n\n[[alerts]]\nkind = "fomc"\nminutes = -5\n',
        7,
        "[[alerts]] minutes",
        "must be more than 0, got -5",
    ),
    (
        '[[alerts]]\nkind = "fomc"\nminutes = 30\nlevel = 1\n',
        4,
        "[[alerts]] level",
        "unknown key for kind 'fomc' (known: kind, minutes)",
    ),
    ('[[alerts]]\nkind = "spread"\n', 1, "[[alerts]]", "kind = 'spread' needs level"),
    ('[[alerts]]\nkind = "spread"\nlevel = "high"\n', 3, "[[alerts]] level", "is not a number"),
    ('[[alerts]]\nkind = "spread"\nlevel = nan\n', 3, "[[alerts]] level", "is not a number"),
    (
        '[[alerts]]\nkind = "spread"\nlevel = 1\nmetric = "gap_5d"\n',
        4,
        "[[alerts]] metric",
        "'gap_5d' is not one of gap_1d, ratio",
    ),
    (
        '[[alerts]]\nkind = "spread"\nlevel = 1\ndirection = "up"\n',
        4,
        "[[alerts]] direction",
        "'up' is not one of above, below, either",
    ),
    (
        '[[alerts]]\nkind = "spread"\nmetric = "ratio"\nlevel = -0.1\n',
        4,
        "[[alerts]] level",
        "must be more than 0",
    ),
    (
        '[[alerts]]\nkind = "sector"\nsector = "Tech"\npp = 1\n',
        3,
        "[[alerts]] sector",
        "'Tech' is not a sector (known: Information Technology",
    ),
    ('[[alerts]]\nkind = "sector"\npp = 1\n', 1, "[[alerts]]", "needs sector"),
    ('[[alerts]]\nkind = "sector"\nsector = "Energy"\npp = 0\n', 4, "[[alerts]] pp", "more than 0"),
    ('[[alerts]]\nkind = "feed_down"\nminutes = true\n', 3, "[[alerts]] minutes", "not a number"),
    ('[[alerts]]\nkind = "fed_odds"\nminutes = 60\n', 1, "[[alerts]]", "'fed_odds' needs pp"),
    ('[[alerts]]\nkind = "fed_odds"\npp = 10\n', 1, "[[alerts]]", "'fed_odds' needs minutes"),
    ('[[alerts]]\nkind = "fed_odds"\npp = -5\nminutes = 60\n', 3, "[[alerts]] pp", "more than 0"),
    ('[[alerts]]\nkind = "fed_odds"\npp = 120\nminutes = 60\n', 3, "[[alerts]] pp", "at most 100"),
    (
        '[[alerts]]\nkind = "fed_odds"\npp = 5\nminutes = "1h"\n',
        4,
        "[[alerts]] minutes",
        "not a number",
    ),
    (
        '[[alerts]]\nkind = "fed_odds"\npp = 5\nminutes = 60\nlevel = 1\n',
        5,
        "[[alerts]] level",
        "unknown key for kind 'fed_odds' (known: kind, minutes, pp)",
    ),
    ('[alerts]\nkind = "fomc"\n', 1, "[alerts]", "must be an array of tables: [[alerts]]"),
    ('[notify]\nmethods = "osc9"\n', 2, "[notify] methods", "must be a list of"),
    ('[notify]\nmethods = ["osc"]\n', 2, "[notify] methods", "'osc' is not one of \"bell\""),
    ("[notify]\ncommand = 3\n", 2, "[notify] command", "must be a shell command, got 3"),
    ('[notify]\ncommand = " "\n', 2, "[notify] command", "must be a shell command"),
    ("[notify]\ntimeout_s = 0\n", 2, "[notify] timeout_s", "more than 0 and at most 300"),
    ("[notify]\ntimeout_s = nan\n", 2, "[notify] timeout_s", "more than 0 and at most 300"),
    ('[notify]\ntimeout_s = "5"\n', 2, "[notify] timeout_s", "not a number of seconds"),
    ("[notify]\nsound = true\n", 2, "[notify] sound", "unknown key"),
    ("[themes]\n", 1, "[themes]", "unknown section (known: alerts, fedwatch, feeds, fomc, keymap"),
    ('# mine\ntheme = "capgap-light"\n[ui]\n', 2, "theme", "a key outside any section"),
]


@pytest.mark.parametrize(("body", "line", "where", "needle"), ERRORS)
def test_errors_name_file_line_and_key(tmp_path, body, line, where, needle):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: {where}: "), message
    assert needle in message


@pytest.mark.parametrize(("body", "line", "where", "needle"), ERRORS)
def test_the_cli_prints_one_line_and_exits_2(tmp_path, capsys, body, line, where, needle):
    path = write(tmp_path, body)
    assert main(["config", "--show", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"capgap: error: {path}:{line}: {where}: ")


def test_the_monitor_refuses_a_bad_config_before_the_screen(tmp_path):
    path = write(tmp_path, '[keymap]\nsortt = "o"\n')
    result = subprocess.run(
        [sys.executable, "-m", "capgap", "--demo", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"capgap: error: {path}:2: [keymap] sortt: unknown binding id")


@pytest.mark.parametrize(
    ("text", "section", "key", "index", "line"),
    [
        # A dotted key, a quoted key holding a dot, spaces in a header.
        ('[universe]\naliases."BRK.B" = "x"\n', "universe.aliases", "BRK.B", None, 2),
        ('[ feeds . "fred" ]\n\napi_key = 1\n', "feeds.fred", "api_key", None, 3),
        # The same key in an earlier section is not taken.
        ("[poll]\ntheme = 1\n[ui]\ntheme = 2\n", "ui", "theme", None, 4),
        # The n-th block of an array of tables; a key missing there gives the block's header.
        ("[[alerts]]\npp = 1\n[[alerts]]\npp = 2\n[[alerts]]\nkind = 1\n", "alerts", "pp", 1, 4),
        ("[[alerts]]\npp = 1\n[[alerts]]\npp = 2\n[[alerts]]\nkind = 1\n", "alerts", "pp", 2, 5),
        # A multi-line array's items are not keys or headers.
        ('[universe.watchlists]\na = [\n  "X",\n]\nb = [\n  "Y",\n]\n', "universe.watchlists",
         "b", None, 5),
        # Comments never match.
        ('[keymap]\n# sort = "s"\nsort = "o"\n', "keymap", "sort", None, 3),
        # A key in an inline table: the line of the table's key.
        ("[universe]\nwatchlists = { tech = [] }\n", "universe.watchlists", "tech", None, 2),
        ("", "ui", "theme", None, 1),
    ],
)  # fmt: skip
def test_line_of_finds_keys_in_nested_and_array_tables(text, section, key, index, line):
    assert _Reader(Path("c.toml"), text).line_of(section, key, index) == line


def test_a_key_others_can_read_is_warned_about(tmp_path, capsys):
    path = write(tmp_path, '[feeds.fred]\napi_key = "s3cret-file-key"\n')
    path.chmod(0o644)
    expected = f"{path} holds an API key and is readable by others (chmod 600 {path})"
    assert load_settings(path, environ={}).warnings == (expected,)
    # The CLI says it once on stderr and carries on.
    assert main(["config", "--show", "--config", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"capgap: warning: {expected}\n"
    assert "s3cret-file-key" not in captured.out + captured.err
    path.chmod(0o640)  # the group alone is enough to warn
    assert load_settings(path, environ={}).warnings == (expected,)
    path.chmod(0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(path, environ={}).warnings == ()


def test_no_warning_for_a_readable_file_without_a_key(tmp_path):
    path = write(tmp_path, '[feeds.fred]\nbase_url = "https://mirror.example"\n')
    path.chmod(0o644)
    assert load_settings(path, environ={"FRED_API_KEY": "from-env"}).warnings == ()


# --- [keymap]: one key, two ids in one scope ---
@pytest.mark.parametrize(
    ("body", "line", "binding", "other", "where"),
    [
        # An app-wide key is live on every screen: a screen's key cannot take it.
        ('[keymap]\nfed = "q"\n', 2, "fed", "quit", "on the dashboard"),
        ('[keymap]\nfed = "F,q"\n', 2, "fed", "quit", "on the dashboard"),
        # Two app-wide ids.
        ('[keymap]\npause = "t"\n', 2, "pause", "theme", "app-wide"),
        # Textual's name of a key and the key itself are one key.
        ('[keymap]\nfed = "?"\n', 2, "fed", "help", "on the dashboard"),
        ('[keymap]\nfilter = "question_mark"\n', 2, "filter", "help", "on the sector screen"),
        # A screen's key and the key of a table on it: the table has the focus.
        ('[keymap]\nsort = "j"\n', 2, "sort", "down", "on the dashboard"),
        ('[keymap]\nback = "g"\n', 2, "back", "top", "on the dashboard"),
        # Two ids of one screen, both remapped: the second one's line.
        ('[keymap]\nwindow_1m = "m"\nwindow_3m = "m"\n', 3, "window_3m", "window_1m", "symbol"),
        # An app-wide id moved onto a screen's default key.
        ('[keymap]\n\nrefresh = "s"\n', 3, "refresh", "sort", "on the dashboard"),
    ],
)
def test_a_key_bound_to_two_ids_in_one_scope_is_refused(
    tmp_path, body, line, binding, other, where
):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: [keymap] {binding}: "), message
    assert f"both {binding} and {other}" in message or f"both {other} and {binding}" in message
    assert where in message and "\n" not in message


@pytest.mark.parametrize(
    "body",
    [
        # Different screens: the sector screen's filter and the dashboard's Fed key.
        '[keymap]\nfilter = "f"\n',
        # The symbol screen's window key and the sort key of the dashboard and sector screens.
        '[keymap]\nwindow_1m = "s"\n',
        # Two widgets of one screen that never have the focus together: a panel and a table.
        '[keymap]\nopen = "j"\n',
        # The key moved away first: quit leaves q, fed takes it.
        '[keymap]\nquit = "ctrl+q"\nfed = "q"\n',
        # One id bound twice to one key is no conflict.
        '[keymap]\nfed = "F,F"\n',
    ],
)
def test_keys_shared_across_scopes_are_fine(tmp_path, body):
    settings = load_settings(write(tmp_path, body), environ={})
    assert settings.keymap


def test_the_default_keys_have_no_conflict():
    from capgap.settings.keys import KNOWN_BINDINGS, keymap_conflict

    assert keymap_conflict({}) is None
    defaults = {binding: keys for binding, (keys, _) in KNOWN_BINDINGS.items()}
    assert keymap_conflict(defaults) is None


def test_keys_are_named_the_way_textual_names_them():
    from capgap.settings.keys import key_name
    from textual.keys import _normalize_key_list

    for code in range(32, 127):
        char = chr(code)
        if char == ",":
            continue  # the separator of a list of keys
        assert key_name(char) == _normalize_key_list(char), repr(char)
    for name in ("ctrl+p", "escape", "question_mark", "shift+tab", "f1"):
        assert key_name(name) == _normalize_key_list(name)
