"""Formatting of numbers, times and signs for display: pure functions, no widgets."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple, TypeVar

from textual.content import Content

from capgap.core import format as core_format

# The screen's figures follow the shared rules (the same as the report's and the alerts').
from capgap.core.format import COMPACT_FROM as COMPACT_FROM
from capgap.core.format import fit_decimals as fit_decimals
from capgap.core.format import shown_value as shown_value
from capgap.core.market_types import NEW_YORK, MarketSession
from capgap.core.snapshot import ExtendedGap, HistoryStatus
from capgap.core.text import extended_when as extended_when
from capgap.core.text import fmt_ny_time
from capgap.ui.glyphs import glyphs

_T = TypeVar("_T")


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

# Four-letter codes label the sectors where a name has no room (the rotation map's points).
_SECTOR_CODES = {
    "Information Technology": "TECH",
    "Financials": "FIN",
    "Industrials": "INDU",
    "Materials": "MATL",
    "Energy": "ENGY",
    "Consumer Discretionary": "DISC",
    "Communication Services": "COMM",
    "Real Estate": "REAL",
    "Consumer Staples": "STPL",
    "Health Care": "HLTH",
    "Utilities": "UTIL",
}

_STATES = {"pre": "PRE", "open": "OPEN", "post": "POST", "closed": "CLOSED"}


def by_direction(value: float | None, up: _T, down: _T, flat: _T) -> _T:
    """Return ``up`` for a rise, ``down`` for a fall, ``flat`` for no change or an unknown one."""
    if value is not None and value > 0:
        return up
    if value is not None and value < 0:
        return down
    # Zero, None and NaN: no direction.
    return flat


def arrow(value: float | None) -> str:
    """Return ▲ for a rise, ▼ for a fall, = for no change and a space when unknown."""
    if value is None:
        return " "
    marks = glyphs()
    return by_direction(value, marks.up, marks.down, marks.flat)


def direction_style(value: float | None) -> str:
    """Return the theme style of a signed figure ("" when flat or unknown)."""
    return by_direction(value, UP_STYLE, DOWN_STYLE, "")


def fmt_price(value: float | None, decimals: int = 2) -> str:
    """Format a price with thousands separators: 6870.4 -> '6,870.40' (compact from 1e6)."""
    if value is None:
        return missing()
    compact = core_format.compact(value)
    return compact if compact is not None else f"{value:,.{decimals}f}"


def fmt_pe(value: float | None) -> str:
    """Format a forward P/E: 23.06 -> '23.1x' (the missing mark below coverage, never 0)."""
    return fmt_plain(value, 1, "x")


def fmt_signed(value: float | None, decimals: int = 2, suffix: str = "") -> str:
    """Format a signed figure with an explicit sign: 0.19 -> '+0.19' (compact from 1e6)."""
    return core_format.fmt_signed(value, decimals, suffix, missing=missing())


def fmt_plain(value: float | None, decimals: int = 2, suffix: str = "") -> str:
    """Format an unsigned figure (None as the missing mark; compact from 1e6)."""
    if value is None:
        return missing()
    compact = core_format.compact(value)
    return f"{compact if compact is not None else f'{value:.{decimals}f}'}{suffix}"


class SignedFigure(NamedTuple):
    """A signed figure as displayed: its text and the rounded value its arrow and colour follow."""

    text: str
    shown: float | None


def signed_figure(
    value: float | None,
    decimals: int = 2,
    suffix: str = "",
    *,
    fit: bool = False,
    marked: bool = True,
) -> SignedFigure:
    """Return '▲+0.19%' (arrow and sign: the direction survives NO_COLOR) and the value shown.

    ``fit`` drops decimals as the figure grows (fit_decimals); ``marked=False`` leaves out
    the arrow where the colour alone carries the direction. Every signed cell and panel
    figure of the UI is built here, so they all read alike.
    """
    places = fit_decimals(value, decimals) if fit else decimals
    shown = shown_value(value, places)
    text = fmt_signed(value, places, suffix)
    return SignedFigure(f"{arrow(shown)}{text}" if marked else text, shown)


def signed_content(
    value: float | None, decimals: int = 2, suffix: str = "", *, fit: bool = False
) -> Content:
    """Return '▲+0.19%'-style content coloured by the up/down theme variables."""
    figure = signed_figure(value, decimals, suffix, fit=fit)
    return Content.styled(figure.text, direction_style(figure.shown))


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


def prices_label(gap: ExtendedGap | None) -> str | None:
    """Return which prices the gap shows outside the session: 'pre 08:12 ET prices'.

    None while the gap shows the regular prices (in the session, overnight, and in pre/post
    hours without a fresh extended price), as it always has.
    """
    if gap is None or not gap.shown:
        return None
    return f"{extended_when(gap)} prices"


def short_sector(name: str) -> str:
    """Return a short display name of a GICS sector (the name itself when it is short)."""
    return _SHORT_SECTORS.get(name, name)


def sector_code(name: str) -> str:
    """Return a sector's four-letter code ("TECH"); a custom sector's first four letters."""
    code = _SECTOR_CODES.get(name)
    if code is not None:
        return code
    letters = "".join(char for char in name if char.isalnum())
    return (letters[:4] or name[:4]).upper()


def history_progress(history: HistoryStatus | None) -> str | None:
    """Return "history 1,204/2,418" while the members' daily history is coming in, else None."""
    if history is None or history.loaded >= history.members:
        return None
    return f"history {history.loaded:,}/{history.members:,}"


def history_missing(history: HistoryStatus | None, too_short: str) -> str:
    """Return why the members' daily history gives no figure: failed, coming in, none, short.

    ``too_short`` is said when the history is there but does not reach back far enough. One
    wording for the sectors' windows and the rotation map.
    """
    if history is None:
        return "no members' history from this source"
    if history.error is not None:
        return history.error
    progress = history_progress(history)
    if progress is not None:
        return progress
    if history.through is None:
        return "no members' history from this source"
    return too_short
