"""Terminal sizes: the breakpoints between capgap's layouts, and the smallest size it fits."""

from __future__ import annotations

#: The smallest terminal the dashboard fits whole. Width: the Russell 2000 line with the gap
#: is 44 cells, plus a cell of padding each side. Height: the status line, two index lines,
#: the FOMC countdown and its odds, the sectors table's border, header, three sectors and
#: border, and the keys. Smaller, every screen shows one line saying what capgap needs.
MIN_WIDTH = 46
MIN_HEIGHT = 12

#: Screen classes by width: -tiny-w (too small), -minimal-w, -narrow, -wide.
HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] = [
    (0, "-tiny-w"),
    (MIN_WIDTH, "-minimal-w"),
    (80, "-narrow"),
    (100, "-wide"),
]
#: Screen classes by height: -tiny-h (too small), -minimal-h, -short (no chart), -medium (the
#: chart beside or under the compact panels), -tall (the Fed panel at full height).
VERTICAL_BREAKPOINTS: list[tuple[int, str]] = [
    (0, "-tiny-h"),
    (MIN_HEIGHT, "-minimal-h"),
    (24, "-short"),
    (32, "-medium"),
    (36, "-tall"),
]
