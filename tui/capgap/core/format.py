"""Numbers, durations and index names as every text output writes them (screen, report, alerts).

One implementation serves the UI (ui/format.py adds its missing mark, arrows and colours), the
table and the tmux line of `capgap snapshot`, and the alert messages, so the same figure reads
the same everywhere. Plain functions of plain values: no polars, no Textual.
"""

from __future__ import annotations

import math

#: Shown where a figure is missing in plain-text output (ASCII: status bars and pipes).
NA = "n/a"

#: Short names of the benchmark indices in one-line output.
INDEX_LABELS = {"^GSPC": "SPX", "^RUT": "RUT", "^SP600": "SP600"}

#: From a million up, figures are written compactly (12.35M, 2.50T, 1.00e+308): no true
#: figure is that large, and a wrong one must not wrap over its panel or a status bar.
COMPACT_FROM = 1e6
# Suffixes up to trillions; beyond, scientific notation keeps any finite float to 9 cells.
_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"))
_SCIENTIFIC_FROM = 1e15


def index_label(symbol: str) -> str:
    """Return the short name of an index (SPX for ^GSPC, RUT, SP600), else the symbol."""
    return INDEX_LABELS.get(symbol, symbol)


def compact(value: float) -> str | None:
    """Return a figure of COMPACT_FROM or more in at most 9 cells (None when smaller or NaN)."""
    size = abs(value)
    if not size >= COMPACT_FROM:
        return None
    if size >= _SCIENTIFIC_FROM:
        return f"{value:.2e}"
    scale, suffix = next((scale, suffix) for scale, suffix in _SUFFIXES if size >= scale)
    return f"{value / scale:.2f}{suffix}"


def shown_value(value: float | None, decimals: int) -> float | None:
    """Return a figure as it is displayed (rounded; None when missing or not finite).

    Its sign, arrow and colour are taken from this, so they agree with the digits shown.
    """
    if value is None or not math.isfinite(value):
        return None
    return round(value, decimals)


def fit_decimals(value: float | None, decimals: int = 2) -> int:
    """Drop decimals as a figure grows so it keeps its width: 1.23, 12.3, 123.

    The size is that of the figure as it would be shown: 9.996 rounds to 10.00, so it is
    written '10.0' like 10.004, not '10.00'. At most two decimals are dropped.
    """
    places = decimals
    for digits in (1, 2):
        shown = shown_value(value, places)
        if places == 0 or shown is None or abs(shown) < 10**digits:
            break
        places -= 1
    return places


def fmt_signed(
    value: float | None, decimals: int = 2, suffix: str = "", *, missing: str = NA
) -> str:
    """Format a signed figure: 0.19 -> '+0.19', '-0.58', '0.00' (never '-0.00'), 12.35M.

    The figure is rounded first and its sign taken from the rounded value; a missing or
    non-finite figure is ``missing``.
    """
    shown = shown_value(value, decimals)
    if value is None or shown is None:
        return missing
    large = compact(value)
    if large is not None:
        return f"{'+' if value > 0 else ''}{large}{suffix}"
    if shown == 0:
        return f"{0.0:.{decimals}f}{suffix}"
    return f"{shown:+.{decimals}f}{suffix}"


def fmt_fitted(
    value: float | None, decimals: int = 2, suffix: str = "", *, missing: str = NA
) -> str:
    """Format a signed figure with fewer decimals as it grows (fit_decimals): '+12.3%'."""
    return fmt_signed(value, fit_decimals(value, decimals), suffix, missing=missing)


def _from_an_hour(whole: int) -> str:
    """Return a duration of an hour or more: '5h02m' below a day, '4d05h' from one."""
    hours, rest = divmod(whole, 3_600)
    if hours < 24:
        return f"{hours}h{rest // 60:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def compact_countdown(seconds: float) -> str:
    """Format a duration compactly: '4d22h' from a day, '5h12m' from an hour, '38m', '<1m'.

    Units below the largest one are zero-padded ('4d05h', '5h02m') so the width is steady.
    """
    whole = max(0, int(seconds))
    if whole < 60:
        return "<1m"
    if whole < 3_600:
        return f"{whole // 60}m"
    return _from_an_hour(whole)


def fmt_age(seconds: float) -> str:
    """Format the age of data compactly: '4s', '2m05s', '1h02m', '3d04h'."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3_600:
        minutes, secs = divmod(whole, 60)
        return f"{minutes}m{secs:02d}s"
    return _from_an_hour(whole)
