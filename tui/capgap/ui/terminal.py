"""What the terminal can draw, from TERM and the locale: Unicode or ASCII, and how many colours."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Terminals without line drawing in UTF-8 nor more than the 8/16 ANSI colours (if any).
PLAIN_TERMS = frozenset({"vt52", "vt100", "vt102", "vt220", "vt320", "ansi"})
#: A terminal that cannot even move the cursor in colour: no colour at all.
DUMB_TERMS = frozenset({"dumb", "unknown"})
_POSIX_LOCALES = frozenset({"C", "POSIX"})


@dataclass(frozen=True, slots=True)
class TerminalLimits:
    """What capgap falls back to by itself: ASCII glyphs, 16 colours, or no colour."""

    ascii: bool = False
    colors: str | None = None  # "16" (a --colors value) or None for the terminal's own
    no_color: bool = False
    reason: str | None = None


def locale_is_utf8(environ: Mapping[str, str]) -> bool:
    """Tell whether the locale the terminal runs in is UTF-8 (LC_ALL, LC_CTYPE, LANG in turn).

    Python turns a C locale into C.UTF-8 for itself (PEP 538) by setting LC_CTYPE: beside
    LANG=C that value says nothing about the terminal. Nothing set at all counts as UTF-8,
    as Textual assumes.
    """
    lang = environ.get("LANG", "")
    for key in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = environ.get(key, "")
        if not value:
            continue
        if key == "LC_CTYPE" and value == "C.UTF-8" and lang in _POSIX_LOCALES:
            return False
        normal = value.lower().replace("-", "")
        return "utf8" in normal
    return True


def terminal_limits(environ: Mapping[str, str]) -> TerminalLimits:
    """Return what a terminal described by ``environ`` cannot draw, and why."""
    term = environ.get("TERM", "").lower()
    if term in DUMB_TERMS:
        return TerminalLimits(ascii=True, no_color=True, reason=f"TERM={term}")
    if term in PLAIN_TERMS:
        return TerminalLimits(ascii=True, colors="16", reason=f"TERM={term}")
    if not locale_is_utf8(environ):
        return TerminalLimits(ascii=True, reason="the locale is not UTF-8")
    return TerminalLimits()
