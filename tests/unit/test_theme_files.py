"""The bundled theme files and the loader: kinds, contrast (WCAG), colour-blind safety, errors."""

from __future__ import annotations

import colorsys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from capgap.core.resources import themes_dir
from capgap.ui.themes import (
    CAPGAP_VARIABLES,
    DEFAULT_THEME,
    ThemeError,
    load_theme_file,
    load_themes,
    theme_cycle,
    user_themes_dir,
    variable_defaults,
)
from textual.color import Color, ColorParseError
from textual.theme import Theme

# --- colour science, from the published definitions ---
# sRGB (IEC 61966-2-1) to linear light, the matrix of linear sRGB to CIE XYZ (D65), and the
# dichromacy simulations: Machado, Oliveira & Fernandes 2009 (severity 1.0, applied to linear
# RGB), and Viénot, Brettel & Mollon 1999 (projection in Smith-Pokorny LMS onto the plane
# through black, blue and yellow), as in DaltonLens and colour-science.
XYZ_FROM_LINEAR = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
)
MACHADO = {
    "protan": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "deutan": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "tritan": np.array(
        [
            [1.255528, -0.076749, -0.178779],
            [-0.078411, 0.930809, 0.147602],
            [0.004733, 0.691367, 0.303900],
        ]
    ),
}
LMS_FROM_LINEAR = np.array(
    [
        [0.17885956, 0.43997117, 0.03596577],
        [0.03380394, 0.27515242, 0.03620635],
        [0.00031087, 0.00191661, 0.01528089],
    ]
)


def _vienot(deficiency: str) -> np.ndarray:
    normal = np.cross(LMS_FROM_LINEAR @ [1.0, 1.0, 0.0], LMS_FROM_LINEAR @ [0.0, 0.0, 1.0])
    if deficiency == "protan":  # the L cone is missing: L is rebuilt from M and S on the plane
        projection = [[0, -normal[1] / normal[0], -normal[2] / normal[0]], [0, 1, 0], [0, 0, 1]]
    else:
        projection = [[1, 0, 0], [-normal[0] / normal[1], 0, -normal[2] / normal[1]], [0, 0, 1]]
    return np.linalg.inv(LMS_FROM_LINEAR) @ np.array(projection) @ LMS_FROM_LINEAR


VIENOT = {name: _vienot(name) for name in ("protan", "deutan")}
SIMULATIONS = [
    *(("machado", name, matrix) for name, matrix in MACHADO.items()),
    *(("vienot", name, matrix) for name, matrix in VIENOT.items()),
]


def rgb(color: str) -> np.ndarray:
    parsed = Color.parse(color)
    assert parsed.ansi is None and parsed.a == 1, f"{color} is not an opaque RGB colour"
    return np.array(parsed.rgb, dtype=float)


def linear(color: str) -> np.ndarray:
    c = rgb(color) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(color: str) -> float:
    """WCAG 2 relative luminance."""
    return float(np.dot([0.2126, 0.7152, 0.0722], linear(color)))


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    dark, light = sorted((luminance(a), luminance(b)))
    return (light + 0.05) / (dark + 0.05)


def lab(linear_rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65 white) of a linear sRGB triple."""
    ratio = (XYZ_FROM_LINEAR @ np.clip(linear_rgb, 0, 1)) / (XYZ_FROM_LINEAR @ np.ones(3))
    delta = 6 / 29
    f = np.where(ratio > delta**3, np.cbrt(ratio), ratio / (3 * delta**2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str, simulation: np.ndarray | None = None) -> float:
    """CIE76 colour difference, as seen by normal vision or through a dichromacy matrix."""
    matrix = np.eye(3) if simulation is None else simulation
    return float(np.linalg.norm(lab(matrix @ linear(a)) - lab(matrix @ linear(b))))


def saturation(color: str) -> float:
    """HSL saturation 0..1 (colorsys, independent of Textual's own conversion)."""
    red, green, blue = rgb(color) / 255
    return colorsys.rgb_to_hls(red, green, blue)[2]


def hue_degrees(color: str) -> float:
    red, green, blue = rgb(color) / 255
    return colorsys.rgb_to_hls(red, green, blue)[0] * 360


def test_colour_science_matches_published_values():
    # WCAG: black on white is 21:1; #767676 is the lightest grey with 4.5:1 on white.
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", "#FFFFFF") < 4.5
    # CIELAB of sRGB red (D65): L* 53.24, a* 80.09, b* 67.20.
    assert lab(linear("#FF0000")) == pytest.approx([53.24, 80.09, 67.20], abs=0.05)
    # Dichromats see white as white, and Viénot keeps blue and yellow (the plane's anchors).
    for matrix in [*MACHADO.values(), *VIENOT.values()]:
        assert matrix @ np.ones(3) == pytest.approx(np.ones(3), abs=2e-3)
    for matrix in VIENOT.values():
        assert matrix @ [0.0, 0.0, 1.0] == pytest.approx([0, 0, 1], abs=1e-9)
        assert matrix @ [1.0, 1.0, 0.0] == pytest.approx([1, 1, 0], abs=1e-9)
    # The two methods agree: pure red and green, far apart for normal vision, both collapse.
    for name in ("protan", "deutan"):
        for matrix in (MACHADO[name], VIENOT[name]):
            assert delta_e("#FF0000", "#00FF00", matrix) < 0.5 * delta_e("#FF0000", "#00FF00")


# --- the bundled files ---
BUNDLED_FILES = sorted(themes_dir().glob("*.toml"))
BUNDLED = {theme.name: theme for theme in (load_theme_file(path) for path in BUNDLED_FILES)}
REQUIRED = (
    "capgap-dark",
    "capgap-light",
    "capgap-colorblind",
    "capgap-high-contrast",
    "capgap-ansi",
    "capgap-mono",
)


def palette(theme: Theme) -> dict[str, str]:
    """Every colour a theme shows: Textual's generated system, then capgap's variables."""
    generated = theme.to_color_system().generate()
    return {**generated, **variable_defaults(theme), **theme.variables}


def test_every_bundled_file_loads_and_names_are_unique_and_match_the_file():
    loaded = load_themes([themes_dir()])
    assert loaded.errors == ()
    assert len(loaded.names) == len(set(loaded.names)) == len(BUNDLED_FILES)
    assert {path.stem for path in BUNDLED_FILES} == set(loaded.names)
    assert loaded.names[0] == DEFAULT_THEME
    assert set(REQUIRED) <= set(loaded.names)


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=lambda path: path.stem)
def test_every_bundled_file_starts_with_a_comment_saying_what_it_is_for(path: Path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ") and len(first) > 20


def test_light_theme_is_light_and_the_others_dark():
    assert BUNDLED["capgap-light"].dark is False
    dark_ones = [name for name in REQUIRED if name != "capgap-light"]
    assert all(BUNDLED[name].dark for name in dark_ones)


def test_ansi_theme_uses_only_the_terminal_palette():
    theme = BUNDLED["capgap-ansi"]
    assert theme.ansi is True
    raw = tomllib.loads((themes_dir() / "capgap-ansi.toml").read_text(encoding="utf-8"))
    colours = [*raw["colors"].values(), *raw["variables"].values()]
    assert colours and all(value.startswith("ansi_") for value in colours)
    defaults = variable_defaults(theme)
    assert all(Color.parse(defaults[name]).ansi is not None for name in CAPGAP_VARIABLES)
    assert defaults["gap-up"] == "ansi_green" and defaults["gap-down"] == "ansi_red"


def test_mono_theme_is_greys_only_with_up_brighter_than_down():
    theme = BUNDLED["capgap-mono"]
    colours = {}
    for name, value in palette(theme).items():
        try:
            parsed = Color.parse(value)
        except ColorParseError:
            continue  # not a colour: "auto 87%", "bold", "underline", ...
        if parsed.a > 0:
            colours[name] = parsed.hex6
    assert len(colours) > 50
    assert {name: value for name, value in colours.items() if saturation(value) > 0.01} == {}
    up, down, stale = (palette(theme)[f"gap-{key}"] for key in ("up", "down", "stale"))
    assert luminance(up) > luminance(down) > luminance(stale)


def test_colorblind_theme_is_blue_up_orange_down():
    defaults = palette(BUNDLED["capgap-colorblind"])
    assert 190 <= hue_degrees(defaults["gap-up"]) <= 230
    assert 25 <= hue_degrees(defaults["gap-down"]) <= 45
    # The Fed bars follow the theme's own up/down, not Textual's success/error.
    assert defaults["gap-cut"] == defaults["gap-down"] != defaults["error"]
    assert defaults["gap-hike"] == defaults["gap-up"]


def test_high_contrast_theme_is_pure_black_and_white():
    theme = BUNDLED["capgap-high-contrast"]
    assert Color.parse(theme.background or "").hex6 == "#000000"
    assert Color.parse(theme.foreground or "").hex6 == "#FFFFFF"
    for name in ("gap-up", "gap-down"):
        assert saturation(palette(theme)[name]) == pytest.approx(1.0)


# Text sits on the background, on tables (surface) and on the status line (panel).
GROUNDS = ("background", "surface", "panel")
TEXT = ("foreground", "gap-up", "gap-down", "gap-flat")
RGB_THEMES = [name for name, theme in BUNDLED.items() if not theme.ansi]


@pytest.mark.parametrize("name", RGB_THEMES)
def test_text_contrast_meets_wcag(name: str):
    # AAA (7:1) for the high-contrast theme, AA (4.5:1) for the others; stale figures are
    # de-emphasised on purpose and need 3:1 (AA for large text), 7:1 in high contrast.
    colours = palette(BUNDLED[name])
    high = name == "capgap-high-contrast"
    text_min, stale_min = (7.0, 7.0) if high else (4.5, 3.0)
    for ground in GROUNDS:
        for text in TEXT:
            ratio = contrast(colours[text], colours[ground])
            assert ratio >= text_min, f"{name}: {text} on {ground} is {ratio:.2f}:1"
        ratio = contrast(colours["gap-stale"], colours[ground])
        assert ratio >= stale_min, f"{name}: gap-stale on {ground} is {ratio:.2f}:1"


def test_ansi_theme_is_left_out_of_contrast_checks_because_the_terminal_decides():
    assert [name for name, theme in BUNDLED.items() if theme.ansi] == ["capgap-ansi"]


@pytest.mark.parametrize(("method", "deficiency", "matrix"), SIMULATIONS)
def test_colorblind_up_and_down_stay_apart_for_dichromats(method, deficiency, matrix):
    colours = palette(BUNDLED["capgap-colorblind"])
    seen = delta_e(colours["gap-up"], colours["gap-down"], matrix)
    # CIE76 40 is many times a just-noticeable difference (~2.3): plainly two colours.
    assert seen >= 40, f"{method} {deficiency}: up/down only {seen:.1f} apart"


@pytest.mark.parametrize(
    ("method", "deficiency", "matrix"),
    [case for case in SIMULATIONS if case[1] != "tritan"],
)
def test_red_green_collapses_for_red_green_dichromats_and_blue_orange_does_not(
    method, deficiency, matrix
):
    dark = palette(BUNDLED["capgap-dark"])
    safe = palette(BUNDLED["capgap-colorblind"])

    def kept(colours: dict[str, str]) -> float:
        up, down = colours["gap-up"], colours["gap-down"]
        return delta_e(up, down, matrix) / delta_e(up, down)

    # Both pairs are far apart for normal vision; through the simulation green/red keeps much
    # less of its difference than blue/orange does.
    assert delta_e(dark["gap-up"], dark["gap-down"]) > 80
    assert delta_e(safe["gap-up"], safe["gap-down"]) > 80
    assert kept(dark) < 0.5 * kept(safe), f"{method} {deficiency}"


# --- the loader ---
GOOD = 'name = "good"\n[colors]\nprimary = "#336699"\n'


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        # tomllib names the line inside its own message.
        ('name = "x"\n[colors\n', None, "not valid TOML"),
        ('name = "x"\nsparkle = 1\n[colors]\nprimary = "#fff"\n', 2, "unknown keys sparkle"),
        ('name = "x"\n[colors]\nprimary = "#fff"\nsparkle = "#000"\n', 4, "unknown colour keys"),
        ('name = "x"\n[colors]\nprimary = "not-a-colour"\n', 3, "[colors] primary = 'not-a"),
        ('name = "x"\n[colors]\nprimary = "#fff"\nerror = 12\n', 4, "must be a colour string"),
        ('name = "x"\n[colors]\nprimary = "ansi_red"\n', 3, "set ansi = true"),
        ('name = "x"\nansi = true\n[colors]\nprimary = "ansi_reddish"\n', 4, "is not a colour"),
        ('name = "x"\n[colors]\nprimary = "#fff"\n[variables]\ngap-upp = "#0f0"\n', 5, "gap-upp"),
        ('name = "x"\n[colors]\nprimary = "#fff"\n[variables]\ngap-up = "lime!"\n', 5, "gap-up"),
        ('name = "x"\n[colors]\nprimary = "#fff"\n[variables]\nborder = "#0f0"\n', 5, "border"),
        ('[colors]\nprimary = "#fff"\n', None, "'name' is missing"),
        ('name = 3\n[colors]\nprimary = "#fff"\n', 1, "'name' is missing"),
        ('name = "x"\ndark = "yes"\n[colors]\nprimary = "#fff"\n', 2, "dark must be true or"),
        ('name = "x"\ncolors = "#fff"\n', 2, "[colors] must be a table"),
        ('name = "x"\n', None, "must set at least 'primary'"),
        ('name = "x"\n\n[colors]\nsecondary = "#fff"\n', 3, "must set at least 'primary'"),
        ('name = "a\\nb"\n[colors]\nprimary = "#fff"\n', 1, "not a one-line string"),
        # A dotted key and an inline table are found too.
        ('name = "x"\ncolors.primary = "bluu"\n', 2, "[colors] primary = 'bluu'"),
        ('name = "x"\ncolors = {primary = "#fff", error = "nope"}\n', 2, "[colors] error"),
    ],
)
def test_each_bad_file_gives_one_line_naming_the_file_and_line_and_the_rest_load(
    tmp_path: Path, body: str, line: int | None, problem: str
):
    bad = tmp_path / "bad.toml"
    bad.write_text(body, encoding="utf-8")
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ThemeError) as caught:
        load_theme_file(bad)
    message = str(caught.value)
    where = f"{bad}:{line}: " if line is not None else f"{bad}: "
    assert message.startswith(where), message
    assert problem in message and "\n" not in message
    loaded = load_themes([tmp_path])
    assert loaded.errors == (message,)
    assert loaded.names == ("good",)


def test_a_broken_theme_is_known_by_its_name_and_its_file_name(tmp_path: Path):
    (tmp_path / "mine.toml").write_text('name = "Mine"\n[colors]\nprimary = "blu"\n')
    (tmp_path / "torn.toml").write_text('name = "torn"\n[colors\n')
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    loaded = load_themes([tmp_path])
    mine = next(error for error in loaded.errors if "mine.toml" in error)
    torn = next(error for error in loaded.errors if "torn.toml" in error)
    assert mine.startswith(f"{tmp_path / 'mine.toml'}:3: [colors] primary = 'blu'")
    # Asked for by the name inside the file, or by the file's name when the file is unreadable.
    assert loaded.error_for("Mine") == loaded.error_for("mine") == mine
    assert loaded.error_for("torn") == torn
    assert loaded.error_for("good") is None and loaded.error_for("absent") is None


def test_unknown_variable_error_names_the_key_and_the_allowed_ones(tmp_path: Path):
    path = tmp_path / "t.toml"
    path.write_text('name = "t"\n[colors]\nprimary = "#fff"\n[variables]\nup = "#0f0"\n')
    with pytest.raises(ThemeError, match=r"unknown variable up in \[variables\]") as caught:
        load_theme_file(path)
    assert all(name in str(caught.value) for name in CAPGAP_VARIABLES)


def test_undecodable_file_is_one_error(tmp_path: Path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"name = '\xff\xfe'\n")
    loaded = load_themes([tmp_path])
    assert loaded.themes == () and len(loaded.errors) == 1
    assert loaded.errors[0].startswith(f"{path}: cannot read")


def test_ansi_theme_file_may_mix_ansi_and_rgb_colours(tmp_path: Path):
    path = tmp_path / "mixed.toml"
    path.write_text(
        'name = "mixed"\nansi = true\n[colors]\nprimary = "ansi_blue"\nerror = "#ff0000"\n'
        '[variables]\ngap-up = "ansi_bright_green"\n'
    )
    theme = load_theme_file(path)
    assert theme.ansi and theme.variables == {"gap-up": "ansi_bright_green"}


def test_user_theme_replaces_a_bundled_one_in_place_and_adds_new_ones(tmp_path: Path):
    user = tmp_path / "themes"
    user.mkdir()
    (user / "mine.toml").write_text('name = "capgap-dark"\n[colors]\nprimary = "#123456"\n')
    (user / "extra.toml").write_text('name = "zz-extra"\n[colors]\nprimary = "#654321"\n')
    (user / "broken.toml").write_text("name = ")
    loaded = load_themes([themes_dir(), user])
    assert len(loaded.errors) == 1 and loaded.errors[0].startswith(str(user / "broken.toml"))
    bundled = load_themes([themes_dir()]).names
    assert loaded.names == (*bundled, "zz-extra")
    dark = loaded.themes[0]
    assert dark.name == DEFAULT_THEME and dark.primary == "#123456"


def test_default_folders_are_the_bundled_then_the_users_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # platformdirs honours XDG_CONFIG_HOME on Linux: the user's folder moves into tmp_path.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    user = user_themes_dir()
    assert user == tmp_path / "capgap" / "themes"
    assert load_themes().names == load_themes([themes_dir()]).names  # no user folder: fine
    user.mkdir(parents=True)
    (user / "own.toml").write_text('name = "own"\n[colors]\nprimary = "#abcdef"\n')
    loaded = load_themes()
    assert loaded.errors == () and loaded.names[-1] == "own"


def test_a_file_where_the_folder_should_be_is_one_error(tmp_path: Path):
    not_a_folder = tmp_path / "themes"
    not_a_folder.write_text("")
    loaded = load_themes([themes_dir(), not_a_folder])
    assert loaded.errors == (f"{not_a_folder}: not a folder",)
    assert DEFAULT_THEME in loaded.names


def test_two_files_of_one_folder_with_one_name_keep_the_first(tmp_path: Path):
    (tmp_path / "a.toml").write_text('name = "same"\n[colors]\nprimary = "#111111"\n')
    (tmp_path / "b.toml").write_text('name = "same"\n[colors]\nprimary = "#222222"\n')
    loaded = load_themes([tmp_path])
    assert [theme.primary for theme in loaded.themes] == ["#111111"]
    assert len(loaded.errors) == 1
    assert loaded.errors[0].startswith(f"{tmp_path / 'b.toml'}: ")
    assert str(tmp_path / "a.toml") in loaded.errors[0]


# --- cycling ---
def test_theme_cycle_goes_in_order_and_wraps():
    names = ("capgap-dark", "capgap-ansi", "capgap-light")
    assert theme_cycle(names, "capgap-dark") == "capgap-ansi"
    assert theme_cycle(names, "capgap-ansi") == "capgap-light"
    assert theme_cycle(names, "capgap-light") == "capgap-dark"


def test_theme_cycle_from_a_textual_theme_goes_to_the_first():
    assert theme_cycle(("capgap-dark", "capgap-light"), "nord") == "capgap-dark"
    assert theme_cycle((), "nord") == "nord"


def test_theme_cycle_visits_every_loaded_theme_once_starting_from_the_default():
    names = load_themes([themes_dir()]).names
    seen = [DEFAULT_THEME]
    while (following := theme_cycle(names, seen[-1])) != DEFAULT_THEME:
        seen.append(following)
        assert len(seen) <= len(names)
    assert tuple(seen) == names


@pytest.mark.parametrize(
    "name",
    ["evil\\u001b[2Jname", "bell\\u0007", "del\\u007f", "c1-csi\\u009b2J"],
    ids=["escape", "bell", "delete", "c1-csi"],
)
def test_a_theme_name_with_control_characters_is_refused_in_one_printable_line(
    tmp_path: Path, name: str
):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'name = "{name}"\n[colors]\nprimary = "#fff"\n', encoding="utf-8")
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    loaded = load_themes([tmp_path])
    assert loaded.names == ("good",)
    assert loaded.errors == (
        f"{bad}:1: 'name' has control characters: a theme name is printable characters only",
    )
    assert all(error.isprintable() for error in loaded.errors)
    # Asked for by its file name, the theme says what is wrong with it.
    assert loaded.error_for("bad") == loaded.errors[0]


def test_a_theme_file_name_with_control_characters_is_shown_escaped(tmp_path: Path):
    bad = tmp_path / "odd\x1b[2J.toml"
    bad.write_text('name = "odd"\n[colors]\nprimary = "blu"\n', encoding="utf-8")
    loaded = load_themes([tmp_path])
    assert loaded.errors == (
        f"{tmp_path}/odd\\x1b[2J.toml:3: [colors] primary = 'blu' is not a colour"
        " (did you mean 'blue'?)",
    )
