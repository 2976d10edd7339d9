"""Theme files (TOML) to Textual themes: the ones shipped in themes/ and, later, the user's."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from tui.resources import themes_dir

DEFAULT_THEME = "capgap-dark"
_COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "success",
    "warning",
    "error",
)


class ThemeError(ValueError):
    """A theme file is unusable; the message names the file and the problem in one line."""


@dataclass(frozen=True, slots=True)
class LoadedThemes:
    """The themes that loaded, and one message per file that did not."""

    themes: tuple[Theme, ...]
    errors: tuple[str, ...]


def _color(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path}: {key} must be a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{path}: {key} = {value!r} is not a colour") from None
    return value


def load_theme_file(path: Path) -> Theme:
    """Read one theme file; raise ThemeError with a one-line message when it is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: not valid TOML: {exc}") from None
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ThemeError(f"{path}: 'name' is missing or not a string")
    colors = raw.get("colors", {})
    if not isinstance(colors, dict) or "primary" not in colors:
        raise ThemeError(f"{path}: [colors] must set at least 'primary'")
    unknown = sorted(set(colors) - set(_COLOR_KEYS))
    if unknown:
        raise ThemeError(f"{path}: unknown colour keys {', '.join(unknown)}")
    variables = raw.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(f"{path}: [variables] must be a table")
    palette = {key: _color(path, key, value) for key, value in colors.items()}
    return Theme(
        name=name,
        primary=palette["primary"],
        secondary=palette.get("secondary"),
        accent=palette.get("accent"),
        foreground=palette.get("foreground"),
        background=palette.get("background"),
        surface=palette.get("surface"),
        panel=palette.get("panel"),
        success=palette.get("success"),
        warning=palette.get("warning"),
        error=palette.get("error"),
        dark=bool(raw.get("dark", True)),
        variables={key: _color(path, key, value) for key, value in variables.items()},
    )


def load_themes(folder: Path | None = None) -> LoadedThemes:
    """Load every *.toml theme of a folder (default: the bundled themes/), sorted by file name."""
    folder = folder or themes_dir()
    themes: list[Theme] = []
    errors: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            themes.append(load_theme_file(path))
        except ThemeError as exc:
            errors.append(str(exc))
    return LoadedThemes(tuple(themes), tuple(errors))
