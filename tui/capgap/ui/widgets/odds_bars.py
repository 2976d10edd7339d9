"""The cut / hold / hike odds of the coming FOMC meetings as bars, sized to the room they get."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Unpack

from textual.content import Content
from textual.reactive import Reactive
from textual.widget import Widget

from capgap.core.snapshot import MeetingOdds, RangeOdds
from capgap.ui.format import DOWN_STYLE, UP_STYLE
from capgap.ui.glyphs import glyphs
from capgap.ui.widget_options import WidgetOptions

# Rates down on the "down" colour, up on the "up" colour, all on the panel's shade as a track.
CUT_STYLE = f"{DOWN_STYLE} on $panel"
HOLD_STYLE = "$foreground-muted on $panel"
HIKE_STYLE = f"{UP_STYLE} on $panel"
MUTED = "$foreground-muted"
# One character per outcome (see tui/ui/glyphs.py), so the bar reads without colour: a cut
# fills the cell, a hold leaves a baseline, a hike hangs from the top.
LEGEND_WIDTH = len("Xcut Xhold Xhike")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A meeting row: "10 Dec" (6), two spaces, the bar, a space, then the figures below.
_DATE_WIDTH = 6
_FIGURES_WIDTH = len(f"{0:>4}{0:>5}{0:>5}  {0.0:>5.2f}")
_ROW_FIXED = _DATE_WIDTH + 2 + 1 + _FIGURES_WIDTH
#: Narrower than this, a meeting row drops its bar rather than show a meaningless stub.
MIN_BAR = 4
#: The one-line summary's bar never grows past this.
SUMMARY_BAR = 10


def whole_pct(value: float) -> int:
    """Round a percentage to a whole number, halves up (87.5 -> 88), as odds are shown."""
    return math.floor(value + 0.5)


def bar_cells(cut: float, hold: float, hike: float, width: int) -> tuple[int, int, int]:
    """Share ``width`` cells between cut, hold and hike in proportion to their odds.

    Largest remainder: each outcome gets the whole cells of its exact share, and the cells
    left over go to the largest fractions (ties to cut, then hold), so the parts always fill
    the bar exactly and none is off by a cell or more: 87 / 13 / 0 of 10 -> 9 / 1 / 0.
    """
    parts = (max(cut, 0.0), max(hold, 0.0), max(hike, 0.0))
    total = sum(parts)
    if width <= 0 or total <= 0:
        return (0, 0, 0)
    exact = [part / total * width for part in parts]
    cells = [math.floor(share) for share in exact]
    leftover = width - sum(cells)
    by_fraction = sorted(range(3), key=lambda index: (-(exact[index] - cells[index]), index))
    for index in by_fraction[:leftover]:
        cells[index] += 1
    return (cells[0], cells[1], cells[2])


def odds_bar(odds: MeetingOdds, width: int) -> Content:
    """Return the bar of one meeting, ``width`` cells: cut, then hold, then hike."""
    cut, hold, hike = bar_cells(odds.cut_pct, odds.hold_pct, odds.hike_pct, width)
    marks = glyphs()
    return Content.assemble(
        (marks.cut * cut, CUT_STYLE),
        (marks.hold * hold, HOLD_STYLE),
        (marks.hike * hike, HIKE_STYLE),
    )


def meeting_label(odds: MeetingOdds) -> str:
    """Return the short date of a meeting: '10 Dec'."""
    return f"{odds.meeting.day:>2} {_MONTHS[odds.meeting.month - 1]}"


def bar_width(width: int) -> int:
    """Return the bar width of a meeting row ``width`` cells wide (0: no bar)."""
    room = width - _ROW_FIXED
    return room if room >= MIN_BAR else 0


def header_row(width: int) -> Content:
    """Return the muted header of the meeting rows: the bar legend and the column names."""
    bar = bar_width(width)
    if bar >= LEGEND_WIDTH:
        # The legend's marks carry the bar's colours: the key to the bars in any theme.
        marks = glyphs()
        legend = Content.assemble(
            (marks.cut, CUT_STYLE),
            ("cut ", MUTED),
            (marks.hold, HOLD_STYLE),
            ("hold ", MUTED),
            (marks.hike, HIKE_STYLE),
            ("hike", MUTED),
        ).pad_right(bar - LEGEND_WIDTH)
    else:
        legend = Content(" " * bar)
    columns = f" {'cut':>4}{'hold':>5}{'hike':>5}  {'rate':>5}"
    row = Content.assemble(" " * (_DATE_WIDTH + 2), legend, (columns, MUTED))
    return row.truncate(width)


def meeting_row(odds: MeetingOdds, width: int) -> Content:
    """Return '10 Dec  ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▁▁   87   13    0   3.67' for one meeting."""
    bar = bar_width(width)
    figures = (
        f" {whole_pct(odds.cut_pct):>4}{whole_pct(odds.hold_pct):>5}"
        f"{whole_pct(odds.hike_pct):>5}  {odds.implied_rate:>5.2f}"
    )
    row = Content.assemble(f"{meeting_label(odds):<{_DATE_WIDTH}}  ", odds_bar(odds, bar), figures)
    return row.truncate(width)


def summary_text(odds: MeetingOdds) -> str:
    """Return 'cut 87% hold 13%' for one meeting (hike only when it shows as at least 1 %)."""
    text = f"cut {whole_pct(odds.cut_pct)}% hold {whole_pct(odds.hold_pct)}%"
    hike = whole_pct(odds.hike_pct)
    return f"{text} hike {hike}%" if hike else text


def summary_line(odds: MeetingOdds, width: int) -> Content:
    """Return the next meeting's odds on one line, with a bar in front when there is room."""
    text = summary_text(odds)
    bar = min(SUMMARY_BAR, width - len(text) - 1)
    if bar < MIN_BAR:
        return Content(text).truncate(width, ellipsis=True)
    return Content.assemble(odds_bar(odds, bar), " ", text)


def outcome_cell(target: tuple[float, float], current: tuple[float, float] | None) -> str:
    """Return the bar character of a range: a cut below today's range, a hike above it."""
    marks = glyphs()
    if current is None or target == current:
        return marks.hold
    return marks.cut if sum(target) < sum(current) else marks.hike


def outcome_row(outcome: RangeOdds, current: tuple[float, float] | None, width: int) -> Content:
    """Return '3.50-3.75  ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇   87%': one range after a meeting.

    Each range has a bar of its own, its probability of the full width rounded half up.
    """
    low, high = outcome.target_range
    pct = whole_pct(outcome.probability_pct)
    label = f"{low:.2f}-{high:.2f}  "
    bar = max(0, width - len(label) - len(" 100%"))
    cells = whole_pct(outcome.probability_pct / 100 * bar)
    cell = outcome_cell(outcome.target_range, current)
    marks = glyphs()
    style = {marks.cut: CUT_STYLE, marks.hold: HOLD_STYLE, marks.hike: HIKE_STYLE}[cell]
    return Content.assemble(
        label, (cell * cells, style), " " * (bar - cells), f" {pct:>3}%"
    ).truncate(width)


def outcome_block(
    odds: MeetingOdds, current: tuple[float, float] | None, width: int
) -> list[Content]:
    """Return a blank line, a muted title and one row per target range after a meeting.

    Ranges that round to 0 % are left out: they would be rows of empty bars.
    """
    outcomes = [o for o in odds.outcomes if whole_pct(o.probability_pct) > 0]
    title = Content.styled(f"target range after {meeting_label(odds)}", MUTED).truncate(width)
    rows = [outcome_row(outcome, current, width) for outcome in outcomes]
    return [Content(""), title, *rows]


def error_line(error: str, width: int) -> Content:
    """Return why there are no odds, muted, on one line."""
    return Content.styled(f"no odds: {error}", MUTED).truncate(width, ellipsis=True)


def odds_content(
    odds: Sequence[MeetingOdds],
    error: str | None,
    width: int,
    height: int,
    current: tuple[float, float] | None = None,
) -> Content:
    """Render what fits ``width`` x ``height``: one summary line, or a header and one row each.

    Rows left over once every meeting is shown take the outcomes (target ranges) of the
    meetings in turn, whole blocks only. An error replaces the odds by one muted line; no odds
    and no error render nothing. ``current`` is today's target range.
    """
    if width <= 0 or height <= 0:
        return Content("")
    if error:
        return error_line(error, width)
    if not odds:
        return Content("")
    if height == 1:
        return summary_line(odds[0], width)
    rows = [meeting_row(meeting, width) for meeting in odds[: height - 1]]
    spare = height - 1 - len(rows)
    for meeting in odds:
        block = outcome_block(meeting, current, width)
        if len(block) > spare:
            break
        rows.extend(block)
        spare -= len(block)
    return Content("\n").join([header_row(width), *rows])


class OddsBars(Widget):
    """The odds part of the Fed panel; renders for its current size, so resizes need no code."""

    auto_links = Reactive(False)  # no links: skip Textual's per-render link styling

    DEFAULT_CSS = """
    OddsBars { height: 1fr; }
    """

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self._odds: tuple[MeetingOdds, ...] = ()
        self._error: str | None = None
        self._current: tuple[float, float] | None = None
        self.display = False

    @property
    def meetings(self) -> tuple[MeetingOdds, ...]:
        """The meetings shown (as many as fit)."""
        return self._odds

    def apply(
        self,
        odds: tuple[MeetingOdds, ...],
        error: str | None,
        current: tuple[float, float] | None = None,
    ) -> None:
        """Show new odds (or the error) against today's range; repaint only on a change."""
        if (odds, error, current) == (self._odds, self._error, self._current):
            return
        self._odds = odds
        self._error = error
        self._current = current
        self.display = bool(odds) or bool(error)
        self.refresh()

    def render(self) -> Content:
        """Render the odds for the space the layout gave this widget."""
        size = self.content_size
        return odds_content(self._odds, self._error, size.width, size.height, self._current)
