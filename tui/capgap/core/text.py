"""Dates and times as every text output writes them: the screen, the tables and the tmux line.

One spelling everywhere ('Wed 10 Dec 2025', 'Wed 10 Dec 2025 14:00 ET'); where room is short a
form drops the year or the weekday, never reorders. English names whatever the locale (strftime's
%a and %b follow it), and New York wall time for every instant. Text from outside (file names)
is shown with its control characters escaped.
"""

from __future__ import annotations

from datetime import date, datetime

from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import ExtendedGap

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt_day(day: date, *, weekday: bool = True, year: bool = True) -> str:
    """Format a date: 'Wed 10 Dec 2025', 'Wed 10 Dec' (no year), '10 Dec 2025' (no weekday)."""
    text = f"{day.day} {MONTHS[day.month - 1]}"
    if weekday:
        text = f"{WEEKDAYS[day.weekday()]} {text}"
    return f"{text} {day.year}" if year else text


def fmt_ny_time(moment: datetime, *, seconds: bool = True) -> str:
    """Return the New York wall time of an instant: '11:00:05' (or '11:00')."""
    local = moment.astimezone(NEW_YORK)
    return f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"


def extended_when(gap: ExtendedGap) -> str:
    """Return the session and time of the extended prices: 'pre 08:12 ET' ('pre' without any)."""
    if gap.as_of is None:
        return gap.session
    return f"{gap.session} {fmt_ny_time(gap.as_of, seconds=False)} ET"


def fmt_ny_moment(moment: datetime, *, seconds: bool = False) -> str:
    """Format an instant in New York: 'Wed 10 Dec 2025 14:00 ET'."""
    local = moment.astimezone(NEW_YORK)
    return f"{fmt_day(local.date())} {fmt_ny_time(moment, seconds=seconds)} ET"


def printable(text: str) -> str:
    """Return ``text`` with every non-printable character escaped as repr() writes it.

    For text from outside shown in a message: an escape sequence in a file name must not
    reach the terminal.
    """
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
