"""The app's remembered choices (the theme), kept in a small TOML file in the state directory."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from capgap.core.atomic import write_bytes_atomic
from capgap.core.toml import toml_string
from capgap.settings.model import UiSettings


@dataclass(frozen=True, slots=True)
class UiState:
    """What the app remembers between runs; None means nothing chosen yet."""

    theme: str | None = None


def default_state_path() -> Path:
    """Return the platform's state file path (it may not exist)."""
    from platformdirs import user_state_path

    return user_state_path("capgap", appauthor=False) / "state.toml"


def load_state(path: Path) -> UiState:
    """Read the remembered choices; a missing or broken file gives the defaults, never an error."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return UiState()
    theme = raw.get("theme")
    return UiState(theme=theme.strip() if isinstance(theme, str) and theme.strip() else None)


def save_state(path: Path, state: UiState) -> str | None:
    """Write the choices atomically (a temp file renamed over the old one), making the folder.

    Return None when saved, else a one-line reason: the choice is then simply not remembered,
    and the app goes on (it never raises for an unwritable place).
    """
    lines = ["# capgap remembers the choices made in the app here (safe to delete)."]
    if state.theme is not None:
        lines.append(f"theme = {toml_string(state.theme)}")
    data = ("\n".join(lines) + "\n").encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror or exc}"
    return None


def resolve_theme(cli: str | None, state: UiState, config: UiSettings) -> str | None:
    """Return the theme to start with: --theme, else the remembered one, else [ui] theme.

    None leaves the choice to the app (its default theme).
    """
    return cli or state.theme or config.theme
