"""Formatting of numbers, times and signs for display: pure functions, no widgets."""

from __future__ import annotations

from datetime import date, datetime

from textual.content import Content

from capgap.core import format as core_format

# The screen's figures follow the shared rules (the same as the report's and the alerts').
from capgap.core.format import COMPACT_FROM as COMPACT_FROM
from capgap.core.format import fit_decimals as fit_decimals
from capgap.core.format import shown_value as shown_value
from capgap.core.market_types import NEW_YORK, MarketSession
from capgap.core.text import fmt_ny_time
from capgap.ui.glyphs import glyphs


#: Shown where a figure is missing: never a zero that looks like data.
def missing() -> str:
    """Return how a figure that is not known is written (a dash; ASCII in --ascii)."""
    return glyphs().missing


#: Theme variables of the up and down colours (defaults come from the app, see CapgapApp).
UP_STYLE = "$gap-up"
DOWN_STYLE = "$gap-down"

# Short GICS names keep the sectors table usable at 80 columns.
_SHORT_SECTORS = {
    "Information Technology": "Info Tech",
    "Consumer Discretionary": "Cons Discr",
    "Consumer Staples": "Cons Staples",
    "Communication Services": "Comm Svcs",
}

_STATES = {"pre": "PRE", "open": "OPEN", "post": "POST", "closed": "CLOSED"}


def arrow(value: float | None) -> str:
    """Return ▲ for a rise, ▼ for a fall, = for no change and a space when unknown."""
    if value is None:
        return " "
    marks = glyphs()
    if value > 0:
        return marks.up
    if value < 0:
        return marks.down
    return marks.flat


def direction_style(value: float | None) -> str:
    """Return the theme style of a signed figure ("" when flat or unknown)."""
    if value is None or value == 0:
        return ""
    return UP_STYLE if value > 0 else DOWN_STYLE


def fmt_price(value: float | None, decimals: int = 2) -> str:
    """Format a price with thousands separators: 6870.4 -> '6,870.40' (compact from 1e6)."""
    if value is None:
        return missing()
    compact = core_format.compact(value)
    return compact if compact is not None else f"{value:,.{decimals}f}"


def fmt_signed(value: float | None, decimals: int = 2, suffix: str = "") -> str:
    """Format a signed figure with an explicit sign: 0.19 -> '+0.19' (compact from 1e6)."""
    return core_format.fmt_signed(value, decimals, suffix, missing=missing())


def fmt_plain(value: float | None, decimals: int = 2, suffix: str = "") -> str:
    """Format an unsigned figure (None as the missing mark; compact from 1e6)."""
    if value is None:
        return missing()
    compact = core_format.compact(value)
    return f"{compact if compact is not None else f'{value:.{decimals}f}'}{suffix}"


def signed_content(value: float | None, decimals: int = 2, suffix: str = "") -> Content:
    """Return '▲+0.19%'-style content coloured by the up/down theme variables."""
    shown = shown_value(value, decimals)
    text = f"{arrow(shown)}{fmt_signed(value, decimals, suffix)}"
    return Content.styled(text, direction_style(shown))


def fmt_age(seconds: float | None) -> str:
    """Format the age of data compactly: '4s', '2m05s', '1h02m', '3d04h'."""
    return missing() if seconds is None else core_format.fmt_age(seconds)


def ny_clock(moment: datetime, seconds: bool = True) -> str:
    """Return the New York wall time of an instant: '11:00:05' (or '11:00')."""
    return fmt_ny_time(moment, seconds=seconds)


def ny_date(moment: datetime) -> date:
    """Return the New York date of an instant (the market's "today")."""
    return moment.astimezone(NEW_YORK).date()


def fmt_range(bounds: tuple[float, float] | None, *, unit: bool = True) -> str:
    """Format a target range: (3.75, 4.0) -> '3.75-4.00 %' ('3.75-4.00' without the unit)."""
    if bounds is None:
        return missing()
    low, high = bounds
    return f"{low:.2f}-{high:.2f}" + (" %" if unit else "")


def market_label(session: MarketSession) -> str:
    """Return the session for the status line: 'OPEN', 'CLOSED - Christmas Day', ...

    An early-close day says so while the session is ahead or running: 'OPEN - early close 13:00'.
    """
    if session.state == "holiday":
        return f"CLOSED - {session.holiday}" if session.holiday else "CLOSED - holiday"
    label = _STATES.get(session.state, session.state.upper())
    if session.early_close and session.state in ("pre", "open"):
        close = ny_clock(session.next_close, seconds=False) if session.next_close else "13:00"
        label = f"{label} - early close {close}"
    return label


def short_sector(name: str) -> str:
    """Return a short display name of a GICS sector (the name itself when it is short)."""
    return _SHORT_SECTORS.get(name, name)
