"""The monitor's terminal flags (--theme, --colors, --ascii, --mouse) over the config's [ui], the
config's universe in the engines, and `capgap snapshot --format tmux`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builders import quotes_frame
from capgap.cli.config import universe as _universe
from capgap.cli.main import main
from capgap.cli.monitor import color_system_env
from capgap.core.clock import ManualClock
from capgap.feeds.recording.recorder import Recorder
from capgap.settings.config import ConfigError
from capgap.settings.model import CustomSector, Settings, UniverseSettings

# Runs capgap with the app swapped for one that reports what it was given, then stops. Textual is
# imported for the first time inside run(), so its constants show what capgap set beforehand.
PROBE = """
import json, os, sys, types

fake = types.ModuleType("capgap.ui.app")


class CapgapApp:
    return_code = 0  # what Textual's app gives after a clean exit

    def __init__(self, engine, **kwargs):
        self.engine = engine
        self.kwargs = kwargs

    def run(self, **kwargs):
        polars_loaded = "polars" in sys.modules
        import textual.constants

        given = self.kwargs
        print(json.dumps({
            "color_system": textual.constants.COLOR_SYSTEM,
            "no_color": os.environ.get("NO_COLOR"),
            "run": kwargs,
            "theme": given["theme"],
            "ascii": given["ascii"],
            "state_path": str(given["state_path"]),
            "source": str(given["settings"].source),
            "themes": sorted(theme.name for theme in given["themes"].themes),
            "demo": self.engine.demo,
            "speed": self.engine.clock.speed,
            # Built only when asked: it loads polars and the sample session.
            "refresh_s": self.engine._factory().refresh_s if os.environ.get("BUILD") else None,
            "source_label": self.engine.source_label,
            "built_label": self.engine._factory().source_label if os.environ.get("BUILD") else None,
            "polars_loaded": polars_loaded,
            "textual_before_main": TEXTUAL_BEFORE_MAIN,
        }))


fake.CapgapApp = CapgapApp
sys.modules["capgap.ui.app"] = fake
import capgap.cli.monitor
from capgap.cli.main import main

capgap.cli.monitor.has_terminal = lambda: True  # the probe is piped: no terminal to draw on

TEXTUAL_BEFORE_MAIN = "textual" in sys.modules
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Config and state folders inside tmp_path: the real ones are never read or written."""
    (tmp_path / "state").mkdir()
    (tmp_path / "config").mkdir()
    return tmp_path


def run_capgap(home: Path, *argv: str, env: dict[str, str] | None = None):
    environ = dict(os.environ)
    environ |= {"XDG_STATE_HOME": str(home / "state"), "XDG_CONFIG_HOME": str(home / "config")}
    # A capable terminal unless the test says otherwise: CI may run with TERM=dumb.
    environ |= {"TERM": "xterm-256color", "LC_ALL": "C.UTF-8"}
    environ |= env or {}
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )


def launched(home: Path, *argv: str, env: dict[str, str] | None = None) -> dict:
    result = run_capgap(home, *argv, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def config(home: Path, body: str) -> Path:
    path = home / "capgap.toml"
    path.write_text(body)
    path.chmod(0o600)
    return path


def remember(home: Path, theme: str) -> None:
    folder = home / "state" / "capgap"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state.toml").write_text(f'theme = "{theme}"\n')


@pytest.mark.parametrize(
    ("flag", "configured", "environ", "expected"),
    [
        ("16", None, {}, "standard"),
        ("256", "16", {}, "256"),
        ("truecolor", None, {"TEXTUAL_COLOR_SYSTEM": "standard"}, "truecolor"),  # flag wins
        (None, "16", {}, "standard"),
        (None, "256", {"TEXTUAL_COLOR_SYSTEM": "truecolor"}, "truecolor"),  # env over config
        (None, None, {}, None),
    ],
)
def test_color_system_order_flag_env_config(flag, configured, environ, expected):
    env = dict(environ) | {"NO_COLOR": "1"}
    color_system_env(flag, configured, env)
    assert env.get("TEXTUAL_COLOR_SYSTEM") == expected
    assert env["NO_COLOR"] == "1"  # never touched


def test_flags_reach_the_app_and_textual_before_it_loads(home):
    path = config(home, '[ui]\ntheme = "capgap-light"\nascii = true\nmouse = true\n')
    got = launched(home, "--demo", "--colors", "16", "--no-mouse", "--config", str(path))
    assert got["textual_before_main"] is False
    assert got["color_system"] == "standard"
    assert got["run"] == {"mouse": False}
    assert got["ascii"] is True
    assert got["theme"] == "capgap-light"
    assert got["state_path"] == str(home / "state" / "capgap" / "state.toml")
    assert got["source"] == str(path)
    assert {"capgap-dark", "capgap-light"} <= set(got["themes"])
    assert got["demo"] is True
    # The engine (and polars) is built later, in a thread, after the first paint.
    assert got["polars_loaded"] is False


def test_the_config_gives_the_defaults_and_flags_override(home):
    path = config(home, '[ui]\ncolors = "256"\nascii = true\nmouse = false\n')
    got = launched(home, "--demo", "--config", str(path))
    assert got["color_system"] == "256"
    assert (got["ascii"], got["run"]) == (True, {"mouse": False})
    assert got["theme"] is None  # nothing chosen anywhere: the app's default
    got = launched(home, "--demo", "--config", str(path), "--no-ascii", "--mouse")
    assert (got["ascii"], got["run"]) == (False, {"mouse": True})
    got = launched(home, "--demo", "--config", str(path), env={"TEXTUAL_COLOR_SYSTEM": "truecolor"})
    assert got["color_system"] == "truecolor"


def test_no_color_is_left_to_textual(home):
    got = launched(home, "--demo", "--colors", "256", env={"NO_COLOR": "1"})
    assert got["no_color"] == "1" and got["color_system"] == "256"


def test_theme_flag_then_remembered_then_config(home):
    path = config(home, '[ui]\ntheme = "capgap-light"\n')
    remember(home, "capgap-mono")
    assert launched(home, "--demo", "--config", str(path))["theme"] == "capgap-mono"
    got = launched(home, "--demo", "--config", str(path), "--theme", "textual-dark")
    assert got["theme"] == "textual-dark"
    # A remembered theme that no longer exists is passed over quietly.
    remember(home, "deleted-theme")
    assert launched(home, "--demo", "--config", str(path))["theme"] == "capgap-light"


def test_an_unknown_theme_flag_exits_2_with_one_line(home):
    result = run_capgap(home, "--demo", "--theme", "nope")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("capgap: error: --theme: no theme named 'nope' (known: ")
    assert "capgap-dark" in lines[0] and "textual-dark" in lines[0]


def test_an_unknown_config_theme_names_file_line_and_key(home):
    path = config(home, '# mine\n[ui]\ntheme = "nope"\n')
    result = run_capgap(home, "--demo", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"capgap: error: {path}:3: [ui] theme: no theme named 'nope'")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--colors", "8"], "--colors: invalid choice: '8'"),
        (["--colors"], "--colors: expected one argument"),
        (["--ascii=yes"], "--ascii"),
        (["snapshot", "--demo", "--theme", "capgap-dark"], "unrecognized arguments: --theme"),
    ],
)
def test_bad_terminal_flags_exit_2_with_one_line(argv, needle):
    result = subprocess.run(
        [sys.executable, "-m", "capgap", *argv], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_the_shipped_universe_is_used_without_config_or_download():
    universe = _universe(Settings())
    assert [(source.fund, source.origin) for source in universe.sources] == [
        ("IVV", "shipped"),
        ("IWM", "shipped"),
    ]


def test_a_universe_the_analytics_refuse_is_a_config_error(tmp_path):
    # Built by hand, past the parser (which refuses it first, with its line).
    settings = Settings(
        source=tmp_path / "c.toml",
        universe=UniverseSettings(sectors=(CustomSector("Energy", large_etf="XLE"),)),
    )
    with pytest.raises(ConfigError) as caught:
        _universe(settings)
    assert str(caught.value).startswith(f"{tmp_path / 'c.toml'}: [universe]: ")
    assert "Energy" in str(caught.value)


def test_custom_sectors_reach_the_snapshot(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(
        '[[universe.sectors]]\nname = "Chips"\nlarge = ["NVDA", "AVGO"]\nsmall = ["SANM"]\n'
        '[universe.watchlists]\nmine = ["AAPL"]\n'
    )
    argv = ["snapshot", "--demo", "--at", "14:00", "--config", str(path), "--format", "json"]
    assert main(argv) == 0
    sectors = {row["sector"]: row for row in json.loads(capsys.readouterr().out)["sectors"]}
    assert "Chips" in sectors and len(sectors) == 12
    chips = sectors["Chips"]
    # No ETFs: both legs are the equal-weighted mean of the listed constituents, all three of
    # which are among the sector's movers.
    moves = {m["symbol"]: m["change_pct"] for m in chips["leaders"] + chips["laggards"]}
    assert set(moves) == {"NVDA", "AVGO", "SANM"}
    assert chips["large"]["etf_symbol"] is None and chips["small"]["etf_symbol"] is None
    assert (chips["large"]["members"], chips["small"]["members"]) == (2, 1)
    # A weighted mean of two moves lies between them.
    low, high = sorted((moves["NVDA"], moves["AVGO"]))
    assert low - 2e-4 <= chips["large"]["change_pct"] <= high + 2e-4
    assert chips["small"]["change_pct"] == pytest.approx(moves["SANM"], abs=2e-4)
    assert chips["spread_pp"] == pytest.approx(
        chips["small"]["change_pct"] - chips["large"]["change_pct"], abs=1e-3
    )


def test_snapshot_tmux_line_agrees_with_the_json(capsys):
    assert main(["snapshot", "--demo", "--at", "14:00", "--format", "json"]) == 0
    snap = json.loads(capsys.readouterr().out)
    assert main(["snapshot", "--demo", "--at", "14:00", "--format", "tmux"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n") and out.count("\n") == 1
    line = out.rstrip("\n")
    spread = snap["spread"]
    assert line.startswith("DEMO ")
    assert f"SPX {spread['large']['change_pct']:+.2f}%" in line
    assert f"RUT {spread['small']['change_pct']:+.2f}%" in line
    assert f"gap {spread['relative_pp']['1d']:+.2f}pp" in line
    assert re.search(r"FOMC \d+d\d{2}h", line)  # 2025-12-05 14:00 to the 10th: days away
    assert len(line) <= 60


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        # Range checks: a replay step of an hour, or faster than the screen can follow.
        (["--demo", "--refresh", "3600"], "--refresh"),
        (["--demo", "--refresh", "0.05"], "--refresh"),
        (["--demo", "--speed", "3601"], "--speed"),
        (["--demo", "--speed", "nan"], "--speed"),
        (["--demo", "--speed", "1e10"], "--speed"),  # overflowed the replay clock once
        (["--demo", "--speed", "inf"], "--speed"),
        # Replay flags with a live source were accepted and ignored.
        (["--speed", "60"], "--speed"),
        (["--refresh", "2"], "--refresh"),
        (["--source", "yahoo", "--speed", "2"], "--speed"),
        (["--source", "finnhub", "--refresh", "2"], "--refresh"),
        # Two sources at once: one of them was dropped without a word.
        (["--demo", "--source", "yahoo"], "--demo"),
        (["--replay", "EMPTY", "--demo"], "--replay"),
        (["--replay", "EMPTY", "--source", "finnhub"], "--replay"),
        # Recording needs a live source.
        (["--demo", "--record", "REC"], "recording needs a live source"),
        (["--source", "demo", "--record", "REC"], "recording needs a live source"),
        (["--replay", "EMPTY", "--record", "REC"], "recording needs a live source"),
        # A replay of nothing is bad input, not a data error.
        (["--replay", "MISSING"], "--replay"),
        (["--replay", "EMPTY"], "--replay"),
    ],
)
def test_monitor_flags_that_mean_nothing_or_are_out_of_range_exit_2(home, argv, needle):
    (home / "empty").mkdir()
    paths = {"REC": home / "rec", "EMPTY": home / "empty", "MISSING": home / "missing"}
    argv = [str(paths[arg]) if arg in paths else arg for arg in argv]
    # The providers sit on a closed local port, should anything try to poll them.
    offline = config(home, '[feeds.yahoo]\nbase_url = "http://127.0.0.1:9"\n')
    result = run_capgap(home, *argv, "--config", str(offline))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("capgap: error: ") and needle in lines[0]
    assert not (home / "rec").exists()


@pytest.mark.parametrize(
    ("argv", "speed", "refresh_s"),
    [
        (["--demo"], 30.0, 1.0),
        (["--demo", "--speed", "3600", "--refresh", "0.1"], 3600.0, 0.1),
        (["--source", "demo", "--speed", "0.5", "--refresh", "60"], 0.5, 60.0),
    ],
)
def test_speed_and_refresh_set_the_replay_clock_and_step(home, argv, speed, refresh_s):
    got = launched(home, *argv, env={"BUILD": "1"})
    assert got["demo"] is True
    assert got["speed"] == speed
    assert got["refresh_s"] == refresh_s


def user_theme(home: Path, name: str, body: str) -> Path:
    """Write a theme file into the user's themes folder (XDG_CONFIG_HOME points into home)."""
    folder = home / "config" / "capgap" / "themes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    ("body", "own_error"),
    [
        ('name = "mine"\n[colors]\nprimary = "blu"\n', ":3: [colors] primary = 'blu' is not a"),
        ('name = "mine"\nsparkle = 1\n[colors]\nprimary = "#fff"\n', ":2: unknown keys sparkle"),
        ('name = "mine"\n[colors\nprimary = "#fff"\n', ": not valid TOML: "),
    ],
)
def test_a_broken_user_theme_asked_for_says_what_is_wrong_with_it(home, body, own_error):
    path = user_theme(home, "mine", body)
    result = run_capgap(home, "--demo", "--theme", "mine")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("capgap: error: --theme: theme 'mine' does not load: ")
    assert f"{path}{own_error}" in lines[0]
    assert "no theme named" not in lines[0]


def test_a_broken_user_theme_named_in_the_config_names_both_files(home):
    theme = user_theme(home, "mine", 'name = "mine"\n[colors]\nprimary = "#fff"\nerror = 3\n')
    path = config(home, '[ui]\ntheme = "mine"\n')
    result = run_capgap(home, "--demo", "--config", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"capgap: error: {path}:2: [ui] theme: theme 'mine' does not load: ")
    assert f"{theme}:4: [colors] error must be a colour string" in lines[0]


def test_a_keymap_conflict_stops_capgap_naming_both_ids(home):
    path = config(home, '[keymap]\nfed = "q"\n')
    result = run_capgap(home, "--demo", "--config", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"capgap: error: {path}:2: [keymap] fed: ")
    assert "both fed and quit" in lines[0]


@pytest.mark.parametrize(
    ("env", "ascii", "color_system", "no_color"),
    [
        ({}, False, "auto", None),
        ({"TERM": "dumb"}, True, "auto", "1"),
        ({"TERM": "vt100"}, True, "standard", None),
        ({"LC_ALL": "en_US.ISO-8859-1"}, True, "auto", None),
        ({"LC_ALL": "", "LC_CTYPE": "", "LANG": "C"}, True, "auto", None),
        # Python's own coercion of a C locale (PEP 538) says nothing about the terminal.
        ({"LC_ALL": "", "LC_CTYPE": "C.UTF-8", "LANG": "C"}, True, "auto", None),
        ({"LC_ALL": "", "LC_CTYPE": "", "LANG": "de_DE.utf8"}, False, "auto", None),
    ],
)
def test_a_limited_terminal_gets_ascii_and_fewer_colours_by_itself(
    home, env, ascii, color_system, no_color
):
    got = launched(home, "--demo", env=env)
    assert (got["ascii"], got["color_system"], got["no_color"]) == (ascii, color_system, no_color)


def test_flags_and_the_environment_win_over_the_guess(home):
    got = launched(home, "--demo", "--no-ascii", "--colors", "256", env={"TERM": "dumb"})
    assert (got["ascii"], got["color_system"], got["no_color"]) == (False, "256", None)
    got = launched(home, "--demo", env={"TERM": "vt100", "TEXTUAL_COLOR_SYSTEM": "256"})
    assert (got["ascii"], got["color_system"]) == (True, "256")


def _one_day_recording(folder: Path) -> Path:
    """Record one quote of the S&P 500 on a past session: enough for `--replay` to start."""
    moment = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)
    recorder = Recorder(folder, ManualClock(moment))
    recorder.add_quotes(quotes_frame([("^GSPC", moment, 6850.0, 6840.0)]))
    assert recorder.close() is None
    return folder


@pytest.mark.parametrize("source", ["demo", "replay"])
def test_a_replay_is_named_alike_before_and_after_its_engine_is_built(home, source):
    # The status line takes the deferred engine's label at once; the snapshot's feed carries the
    # built engine's. A recording's replay was "replay" in one and "replay 30x" in the other.
    argv = ["--demo"] if source == "demo" else ["--replay", str(_one_day_recording(home / "rec"))]
    got = launched(home, *argv, "--speed", "30", env={"BUILD": "1"})
    assert got["source_label"] == got["built_label"]
    assert got["source_label"] == ("DEMO replay 30x" if source == "demo" else "replay 30x")
