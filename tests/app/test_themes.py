"""Theme files: the bundled ones load, a broken one is reported in one line and skipped."""

from pathlib import Path

import pytest

from tui.ui.themes import DEFAULT_THEME, ThemeError, load_theme_file, load_themes


def test_bundled_themes_load_and_include_the_default():
    loaded = load_themes()
    assert loaded.errors == ()
    names = [theme.name for theme in loaded.themes]
    assert DEFAULT_THEME in names
    default = next(theme for theme in loaded.themes if theme.name == DEFAULT_THEME)
    assert default.variables["gap-up"] != default.variables["gap-down"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("name = 'x'\n[colors]\nprimary = 'not-a-colour'\n", "is not a colour"),
        ("[colors]\nprimary = '#fff'\n", "'name' is missing"),
        ("name = 'x'\n[colors]\nprimary = '#fff'\nsparkle = '#000'\n", "unknown colour keys"),
        ("name = 'x'\n[colors\n", "not valid TOML"),
        ("name = 'x'\n", "must set at least 'primary'"),
    ],
)
def test_broken_theme_files_get_one_line_naming_the_file(tmp_path: Path, body, problem):
    path = tmp_path / "broken.toml"
    path.write_text(body)
    with pytest.raises(ThemeError) as caught:
        load_theme_file(path)
    message = str(caught.value)
    assert problem in message and str(path) in message and "\n" not in message
    loaded = load_themes(tmp_path)
    assert loaded.themes == () and len(loaded.errors) == 1
