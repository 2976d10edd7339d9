"""The characters capgap draws with, in Unicode or plain ASCII (``--ascii``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Glyphs:
    """One character set: arrows, odds-bar cells, separators and the chart marker."""

    up: str
    down: str
    flat: str
    cut: str
    hold: str
    hike: str
    dot: str
    crumb: str
    rule: str
    knob: str
    # A figure that is not known, the Greek letters of beta and correlation, a minus sign.
    missing: str
    beta: str
    rho: str
    minus: str
    # plotext marker: "hd" draws 2x2 block quadrants; an ASCII terminal gets a plain "*".
    marker: str


UNICODE = Glyphs(
    up="▲",
    down="▼",
    flat="=",
    cut="▇",
    hold="▁",
    hike="▀",
    dot="·",
    crumb="›",
    rule="─",
    knob="●",
    missing="—",
    beta="β",
    rho="ρ",
    minus="−",
    marker="hd",
)
# Every cell keeps its width in ASCII, so layouts do not move between the two sets.
ASCII = Glyphs(
    up="^",
    down="v",
    flat="=",
    cut="#",
    hold="_",
    hike="+",
    dot="|",
    crumb=">",
    rule="-",
    knob="o",
    missing="-",
    beta="b",
    rho="r",
    minus="-",
    marker="*",
)

_active: list[Glyphs] = [UNICODE]


def glyphs() -> Glyphs:
    """Return the character set in use."""
    return _active[0]


def use_ascii(enabled: bool) -> None:
    """Switch every later rendering to ASCII (True) or Unicode (False); the app sets it once."""
    _active[0] = ASCII if enabled else UNICODE
