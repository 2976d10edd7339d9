"""The Fed's easing cycles: the first cut of each, declared once with its source.

The dates are FOMC decision days (the day the cut was announced; target changes were
announced from 1994). A cycle's first cut is the first reduction of the federal funds target
after a hold or a hike; later cuts of the same cycle (the 2020 cuts belong to the 2019 cycle)
are not first cuts. The current cycle began on 2024-09-18, paused after the cut of
2024-12-18, and resumed with the cut of 2025-09-17.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: Where the decision dates come from (the Board's table of the target's changes).
FED_SOURCE = (
    "Federal Reserve Board, Open Market Operations: changes in the intended federal funds "
    "rate (federalreserve.gov/monetarypolicy/openmarket.htm), and the FOMC statements of "
    "those days"
)
#: The large and the small index of the study (Yahoo's symbols; the demo's are synthetic).
LARGE_INDEX = "^GSPC"
SMALL_INDEX = "^RUT"


@dataclass(frozen=True, slots=True)
class FirstCut:
    """The first cut of one easing cycle: the decision day and what to know about it."""

    day: date
    note: str
    source: str = FED_SOURCE


#: The first cut of each easing cycle since the Russell 2000 has a daily history, oldest first.
FIRST_CUTS: tuple[FirstCut, ...] = (
    FirstCut(date(1995, 7, 6), "a mid-cycle adjustment, no recession"),
    FirstCut(date(1998, 9, 29), "after the LTCM crisis, no recession"),
    FirstCut(date(2001, 1, 3), "between meetings; a recession began within the year"),
    FirstCut(date(2007, 9, 18), "a recession began within the year"),
    FirstCut(date(2019, 7, 31), "a mid-cycle adjustment; the 2020 cuts belong to it"),
    FirstCut(date(2024, 9, 18), "the current cycle"),
)


@dataclass(frozen=True, slots=True)
class CurrentCycle:
    """The cycle under way: its first cut, and the cut it resumed with after a pause."""

    first_cut: date
    resumed: date | None


#: The cycle under way: first cut 2024-09-18, paused after 2024-12-18, resumed 2025-09-17.
CURRENT_CYCLE = CurrentCycle(first_cut=date(2024, 9, 18), resumed=date(2025, 9, 17))
