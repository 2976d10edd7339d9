"""Theme files (TOML) to Textual themes: the bundled ones in themes/ and the user's own."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from capgap.core.resources import themes_dir
from capgap.core.text import printable
from capgap.settings.config import toml_key_line

DEFAULT_THEME = "capgap-dark"
#: capgap's own colour variables: the only names a theme file may set in [variables].
#: up/down colour signed figures, flat the unchanged ones, stale the figures older than their
#: feed allows; cut/hike colour the Fed odds bars (rates down / up).
CAPGAP_VARIABLES: tuple[str, ...] = (
    "gap-up",
    "gap-down",
    "gap-flat",
    "gap-stale",
    "gap-cut",
    "gap-hike",
    "gap-warn",
)
_COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)
_TOP_KEYS = ("name", "dark", "ansi", "colors", "variables")
#: WCAG AA for text: the contrast a colour capgap derives keeps against the theme's backgrounds.
READABLE_CONTRAST = 4.5
# The step by which a derived colour is lightened or darkened until it is readable.
_READABLE_STEP = 0.02
# How far stale figures fade from the foreground toward the background.
_STALE_FADE = 0.4
# Textual's ANSI colour system leaves these out, yet its toasts, tooltips and buttons use them:
# without a value an ANSI theme would fail to apply. Values follow Textual's own ansi themes.
_ANSI_WIDGET_VARIABLES = {
    True: {"ansi-background": "ansi_black", "ansi-foreground": "ansi_white"},
    False: {"ansi-background": "ansi_white", "ansi-foreground": "ansi_black"},
}


class ThemeError(ValueError):
    """A theme file is unusable; the message names the file, the line and the problem.

    ``theme`` is the name the file gives its theme, when it could be read that far.
    """

    def __init__(self, message: str, theme: str | None = None) -> None:
        # Shown as a notification or on stderr: a file name's control characters are escaped.
        super().__init__(printable(message))
        self.theme = theme


@dataclass(frozen=True, slots=True)
class LoadedThemes:
    """The themes that loaded (the default first), and one message per file that did not.

    ``broken`` maps a theme that did not load to its file's error, under the name the file
    gives it and under the file's name (``mine.toml`` -> "mine"), so asking for a theme by
    either name finds what is wrong with it.
    """

    themes: tuple[Theme, ...]
    errors: tuple[str, ...]
    broken: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the loaded themes in their cycling order."""
        return tuple(theme.name for theme in self.themes)

    def error_for(self, name: str) -> str | None:
        """Return the error of the file behind a theme that did not load (None: no such file)."""
        return self.broken.get(name)


def user_themes_dir() -> Path:
    """Return the folder of the user's own theme files (it may not exist)."""
    from platformdirs import user_config_path

    return user_config_path("capgap", appauthor=False) / "themes"


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _File:
    """One theme file being read: its errors name the file and, where found, the line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.theme: str | None = None

    def error(self, problem: str, *keys: str) -> ThemeError:
        """Return the error for ``problem`` at the dotted key ``keys`` ("colors", "primary")."""
        line = toml_key_line(self.text, keys) if keys else None
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        return ThemeError(f"{where}: {problem}", self.theme)


def _color(file: _File, table: str, key: str, value: Any, ansi: bool) -> str:
    where = f"[{table}] {key}"
    if not isinstance(value, str):
        raise file.error(f"{where} must be a colour string, got {value!r}", table, key)
    if value.startswith("ansi_") and not ansi:
        # Textual shades and blends the base colours; ANSI colours only work in ANSI themes.
        raise file.error(f"{where} = {value!r} is an ANSI colour: set ansi = true", table, key)
    try:
        Color.parse(value)
    except ColorParseError as exc:
        hint = f" (did you mean {exc.suggested_color!r}?)" if exc.suggested_color else ""
        raise file.error(f"{where} = {value!r} is not a colour{hint}", table, key) from None
    return value


def _table(file: _File, raw: dict[str, Any], key: str) -> dict[str, Any]:
    table = raw.get(key, {})
    if not isinstance(table, dict):
        raise file.error(f"[{key}] must be a table", key)
    return table


def _flag(file: _File, raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise file.error(f"{key} must be true or false, got {value!r}", key)
    return value


def _parse(file: _File, raw: dict[str, Any]) -> Theme:
    name = raw.get("name")
    if isinstance(name, str) and name.isprintable():
        file.theme = name
    unknown = sorted(set(raw) - set(_TOP_KEYS))
    if unknown:
        raise file.error(
            f"unknown keys {', '.join(unknown)} (allowed: {', '.join(_TOP_KEYS)})", unknown[0]
        )
    if not isinstance(name, str) or not name.strip() or name != _one_line(name):
        raise file.error("'name' is missing or not a one-line string", "name")
    if not name.isprintable():
        # The name is shown in the palette, notifications and the state file: an escape
        # sequence in it would reach the terminal. Not echoed: it is not printable.
        raise file.error(
            "'name' has control characters: a theme name is printable characters only", "name"
        )
    dark = _flag(file, raw, "dark", True)
    ansi = _flag(file, raw, "ansi", False)
    colors = _table(file, raw, "colors")
    if "primary" not in colors:
        raise file.error("[colors] must set at least 'primary'", "colors")
    unknown = sorted(set(colors) - set(_COLOR_KEYS))
    if unknown:
        raise file.error(
            f"unknown colour keys {', '.join(unknown)} in [colors]", "colors", unknown[0]
        )
    variables = _table(file, raw, "variables")
    unknown = sorted(set(variables) - set(CAPGAP_VARIABLES))
    if unknown:
        raise file.error(
            f"unknown variable {', '.join(unknown)} in [variables]"
            f" (allowed: {', '.join(CAPGAP_VARIABLES)})",
            "variables",
            unknown[0],
        )
    palette = {key: _color(file, "colors", key, value, ansi) for key, value in colors.items()}
    return Theme(
        name=name,
        primary=palette["primary"],
        secondary=palette.get("secondary"),
        accent=palette.get("accent"),
        foreground=palette.get("foreground"),
        background=palette.get("background"),
        surface=palette.get("surface"),
        panel=palette.get("panel"),
        boost=palette.get("boost"),
        success=palette.get("success"),
        warning=palette.get("warning"),
        error=palette.get("error"),
        dark=dark,
        ansi=ansi,
        variables={
            key: _color(file, "variables", key, value, ansi) for key, value in variables.items()
        },
    )


def load_theme_file(path: Path) -> Theme:
    """Read one theme file; raise ThemeError with a one-line message when it is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: cannot read: {_one_line(str(exc))}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line N, column M)".
        raise ThemeError(f"{path}: not valid TOML: {_one_line(str(exc))}") from None
    return _parse(_File(path, text), raw)


def _theme_files(folder: Path) -> list[Path]:
    # A folder that does not exist simply has no themes; one that cannot be listed is an error.
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise ThemeError(f"{folder}: not a folder")
    try:
        return sorted(path for path in folder.glob("*.toml") if path.is_file())
    except OSError as exc:
        raise ThemeError(f"{folder}: cannot list: {_one_line(str(exc))}") from None


def load_themes(folders: Sequence[Path] | None = None) -> LoadedThemes:
    """Load every *.toml theme of ``folders`` in turn (default: bundled, then the user's).

    Files load in name order within a folder. A theme named like one from an earlier folder
    replaces it (so a user's "capgap-dark" replaces the bundled one, keeping its place); two
    files of one folder with the same name keep the first. Each bad file gives one error line
    "FILE: problem" and the others still load. The default theme comes first.
    """
    errors: list[str] = []
    if folders is None:
        folders = [user_themes_dir()]
        try:
            folders.insert(0, themes_dir())
        except FileNotFoundError as exc:
            # A broken installation: say so, and still offer the user's and Textual's themes.
            errors.append(str(exc))
    by_name: dict[str, Theme] = {}
    broken: dict[str, str] = {}
    for folder in folders:
        defined_here: dict[str, Path] = {}
        try:
            paths = _theme_files(folder)
        except ThemeError as exc:
            errors.append(str(exc))
            continue
        for path in paths:
            try:
                theme = load_theme_file(path)
            except ThemeError as exc:
                errors.append(str(exc))
                for name in (exc.theme, path.stem):
                    if name:
                        broken.setdefault(name, str(exc))
                continue
            if theme.name in defined_here:
                errors.append(
                    printable(
                        f"{path}: theme {theme.name!r} is already defined by "
                        f"{defined_here[theme.name]}"
                    )
                )
                continue
            defined_here[theme.name] = path
            by_name[theme.name] = theme
    ordered = sorted(by_name.values(), key=lambda theme: theme.name != DEFAULT_THEME)
    return LoadedThemes(tuple(ordered), tuple(errors), broken)


def _faded(foreground: str, background: str) -> str:
    fore, back = Color.parse(foreground), Color.parse(background)
    if fore.ansi is not None or back.ansi is not None:
        # The terminal decides ANSI colours, so there is nothing to blend: its dim grey.
        return "ansi_bright_black"
    return fore.blend(back, _STALE_FADE).hex


def relative_luminance(color: Color) -> float:
    """Return a colour's relative luminance, as WCAG 2 defines it (0 black to 1 white)."""

    def channel(value: int) -> float:
        scaled = value / 255
        return scaled / 12.92 if scaled <= 0.03928 else ((scaled + 0.055) / 1.055) ** 2.4

    red, green, blue = color.rgb
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast_ratio(first: Color, second: Color) -> float:
    """Return the WCAG 2 contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable(color: str, backgrounds: Sequence[str], *, dark: bool) -> str:
    """Return ``color``, lightened (dark theme) or darkened until readable on ``backgrounds``.

    Readable: READABLE_CONTRAST against every one of them. Textual's own themes take up and
    down from success and error, which were 2.8:1 on textual-dark's rows and 1.5:1 on
    textual-light's (green on light grey); the DEMO badge was 1.3:1 there. ANSI colours are
    the terminal's to choose and stay as they are.
    """
    base = Color.parse(color)
    if base.ansi is not None:
        return color
    grounds = [Color.parse(ground) for ground in backgrounds]
    if any(ground.ansi is not None for ground in grounds):
        return color
    if all(contrast_ratio(base, ground) >= READABLE_CONTRAST for ground in grounds):
        # As given: lighten(0) goes through Lab and back, and may round a channel off by one.
        return color
    candidate = base
    for step in range(1, int(1 / _READABLE_STEP) + 1):
        amount = step * _READABLE_STEP
        candidate = base.lighten(amount) if dark else base.darken(amount)
        if all(contrast_ratio(candidate, ground) >= READABLE_CONTRAST for ground in grounds):
            break
    return candidate.hex


def variable_defaults(theme: Theme) -> dict[str, str]:
    """Return a colour for each of CAPGAP_VARIABLES derived from ``theme``'s base colours.

    Up/down follow success/error, warn (badges, REPLAY END, STALE) warning, each made
    readable on the theme's backgrounds (see readable); flat the foreground, stale a faded
    foreground, and the Fed's cut/hike bars the theme's down/up. Values the theme sets
    itself are kept as set (so cut follows a theme's own down colour). ANSI themes also get
    the widget variables Textual leaves out. Meant for App.get_theme_variable_defaults, so
    any theme, Textual's own included, works.
    """
    generated = theme.to_color_system().generate()
    own = theme.variables
    # Every background a figure or a badge sits on: the screen, the panels, the zebra rows.
    grounds = [
        generated[name]
        for name in ("background", "surface", "panel", "surface-darken-1", "surface-lighten-1")
    ]
    up = own.get("gap-up", readable(generated["success"], grounds, dark=theme.dark))
    down = own.get("gap-down", readable(generated["error"], grounds, dark=theme.dark))
    defaults = {
        "gap-up": up,
        "gap-down": down,
        "gap-flat": own.get("gap-flat", generated["foreground"]),
        "gap-stale": own.get("gap-stale", _faded(generated["foreground"], generated["background"])),
        "gap-cut": own.get("gap-cut", down),
        "gap-hike": own.get("gap-hike", up),
        "gap-warn": own.get("gap-warn", readable(generated["warning"], grounds, dark=theme.dark)),
    }
    if theme.ansi:
        defaults.update(_ANSI_WIDGET_VARIABLES[theme.dark])
    return defaults


def theme_cycle(available: Sequence[str], current: str) -> str:
    """Return the theme after ``current`` in ``available``, wrapping round (the `t` key).

    From a theme not in ``available`` (one of Textual's) go to the first; with nothing
    available stay on ``current``.
    """
    if not available:
        return current
    if current not in available:
        return available[0]
    return available[(list(available).index(current) + 1) % len(available)]
