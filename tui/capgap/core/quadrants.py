"""The rotation map's quadrants: where a point of RS-ratio and RS-momentum falls."""

from __future__ import annotations

from typing import Literal

Quadrant = Literal["leading", "weakening", "lagging", "improving"]

#: The places a figure is compared at with 100: float noise (a flat line's 99.99999999999999)
#: must not move a point across a quadrant's border.
BORDER_DP = 9


def quadrant(rs_ratio: float, rs_momentum: float) -> Quadrant:
    """Return the quadrant of a point; a figure of exactly 100 counts as 100 or above.

    Ratio >= 100 and momentum >= 100 leading, ratio >= 100 and momentum < 100 weakening,
    both < 100 lagging, ratio < 100 and momentum >= 100 improving.
    """
    strong = round(rs_ratio, BORDER_DP) >= 100.0
    rising = round(rs_momentum, BORDER_DP) >= 100.0
    if strong:
        return "leading" if rising else "weakening"
    return "improving" if rising else "lagging"
