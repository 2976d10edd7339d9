"""TOML as capgap writes it (settings, remembered state, session.toml); stdlib tomllib reads it.

One writer of values: strings with every character TOML forbids escaped, floats including
nan and inf, dates and times, arrays and inline tables. Files are put together line by line
by their owners (with comments), from these values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, time

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# The replacement character stands for a lone surrogate: it cannot be encoded at all.
_REPLACEMENT = 0xFFFD


def toml_string(text: str) -> str:
    """Return ``text`` as a TOML basic string (quotes, backslashes and controls escaped)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            # TOML forbids raw control characters in a basic string.
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            # A lone surrogate (a file name's undecodable byte) has no UTF-8 form.
            out.append(f"\\u{_REPLACEMENT:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def toml_key(key: str) -> str:
    """Return ``key`` bare when TOML allows it, else quoted."""
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_value(value: object) -> str:
    """Return a TOML literal: bool, int, float, str, date/datetime/time, array, inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # '3.75', '1e+300', 'nan', 'inf', '-inf': all TOML floats
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, date | time):
        # A datetime is a date too; isoformat() writes TOML's local or offset forms.
        return value.isoformat()
    if isinstance(value, Mapping):
        items = ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + items + "}" if items else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")
