"""Locate files that ship with capgap: package data, the bundled themes and sample session."""

from __future__ import annotations

from pathlib import Path

#: The capgap package folder (this module lives in its core/ room).
_PACKAGE = Path(__file__).resolve().parents[1]
#: The checkout's top level: tui/ is the source root, so the package sits two folders down.
_CHECKOUT = _PACKAGE.parents[1]


def package_data(name: str) -> Path:
    """Return the path of a data file inside ``capgap/data``."""
    return _PACKAGE / "data" / name


def bundled_dir(name: str) -> Path:
    """Return a top-level folder that travels in the wheel (``themes`` or ``sample_data``).

    An installed wheel carries it as ``capgap/_bundled/<name>``; a source checkout has it at
    the top level, beside ``tui/``.
    """
    for candidate in (_PACKAGE / "_bundled" / name, _CHECKOUT / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"capgap's bundled {name}/ folder is missing from this installation")


def sample_data_dir() -> Path:
    """Return the folder of the bundled sample session."""
    return bundled_dir("sample_data")


def themes_dir() -> Path:
    """Return the folder of the bundled theme files."""
    return bundled_dir("themes")
