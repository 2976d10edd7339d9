"""The Fed detail screen: the implied-rate path, the odds per meeting and the futures used."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Unpack, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import Reactive
from textual.widgets import Static

from capgap.core.snapshot import (
    ODDS_HORIZONS,
    CutOddsPoint,
    FedSnapshot,
    FuturesPrice,
    MeetingOdds,
    Snapshot,
)
from capgap.core.text import MONTHS, fmt_day
from capgap.market import fedwatch
from capgap.ui.format import fmt_age, fmt_range, fmt_signed, missing, ny_clock
from capgap.ui.glyphs import glyphs
from capgap.ui.internals.key_bar import KeyBar
from capgap.ui.screens.live import LiveScreen
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.fed_panel import countdown_text
from capgap.ui.widgets.keyed_table import KeyedTable
from capgap.ui.widgets.odds_bars import meeting_label, whole_pct
from capgap.ui.widgets.quiet import Plain, show
from capgap.ui.widgets.themed_plot import ThemedPlot

_MUTED = "$foreground-muted"

PathPoint = tuple[str, float]


def current_month_rule(doc: str | None = fedwatch.__doc__) -> str:
    """Return the FedWatch docstring's paragraph on the current month, as one line to wrap."""
    paragraphs = [" ".join(block.split()) for block in (doc or "").split("\n\n")]
    paragraphs = [paragraph for paragraph in paragraphs if paragraph]
    for paragraph in reversed(paragraphs):
        if paragraph.startswith("The current month:"):
            return paragraph
    return paragraphs[-1] if paragraphs else ""


def rule_content(fed: FedSnapshot | None) -> Content:
    """Return the rule that produced today's numbers (the first meeting's), then the general one."""
    general = Content.styled(current_month_rule(), _MUTED)
    if fed is None or not fed.probabilities:
        return general
    first = fed.probabilities[0]
    today = fedwatch.anchor_note(
        first.meeting,
        cast(fedwatch.Anchor, first.anchor),
        first.start_rate,
        first.implied_rate,
    )
    return Content("\n").join([Content(today), general])


def rate_now(fed: FedSnapshot) -> float | None:
    """Return the rate the futures imply now: the rate before the first priced meeting."""
    return fed.probabilities[0].start_rate if fed.probabilities else None


def rate_path(fed: FedSnapshot) -> tuple[PathPoint, ...]:
    """Return (label, rate) from the rate now through each meeting's implied rate."""
    now = rate_now(fed)
    if now is None:
        return ()
    return (("now", now), *((meeting_label(odds), odds.implied_rate) for odds in fed.probabilities))


def likely_range(odds: MeetingOdds) -> str:
    """Return the most likely target range after a meeting with its odds: '3.50-3.75 87%'."""
    if not odds.outcomes:
        return missing()
    best = max(odds.outcomes, key=lambda outcome: outcome.probability_pct)
    return f"{fmt_range(best.target_range, unit=False)} {whole_pct(best.probability_pct)}%"


def _rate(value: float) -> str:
    return f"{value:.{fedwatch.RATE_DECIMALS}f}"


def now_cells(rate: float) -> dict[str, str]:
    """Return the first row: the rate now, from which the changes below are measured."""
    blank = dict.fromkeys(("sep", "cut", "hold", "hike", "move", "total", "likely"), "")
    return {**blank, "meeting": "now", "rate": _rate(rate)}


def meeting_cells(odds: MeetingOdds) -> dict[str, str]:
    """Return the text of each column of a meeting's row."""
    return {
        "meeting": fmt_day(odds.meeting, weekday=False),
        "sep": "SEP" if odds.sep else "",
        "cut": f"{odds.cut_pct:.1f}",
        "hold": f"{odds.hold_pct:.1f}",
        "hike": f"{odds.hike_pct:.1f}",
        "rate": _rate(odds.implied_rate),
        # The shared signed formatter: a move that rounds to zero reads 0.0, never -0.0.
        "move": fmt_signed(odds.move_bp, 1),
        "total": fmt_signed(odds.total_bp, 1),
        "likely": likely_range(odds),
    }


def futures_cells(future: FuturesPrice) -> dict[str, str]:
    """Return the text of each column of a futures row."""
    return {
        "symbol": future.symbol,
        "month": future.month,
        "price": f"{future.price:.4f}",
        "rate": f"{future.implied_rate:.3f}",
        "age": fmt_age(future.age_s),
    }


def next_content(fed: FedSnapshot | None, now: datetime) -> Content:
    """Return the head line: the next decision, its statement time and the countdown to it."""
    if fed is None:
        return Content("waiting for data…")
    decision = fed.next_decision
    if decision is None:
        return Content("no decision in the schedule")
    when = f"{fmt_day(decision.date)} {ny_clock(decision.statement_at, seconds=False)} ET"
    return Content.assemble(
        ("Next FOMC ", "bold"),
        when,
        ("  SEP" if decision.sep else ""),
        "  ",
        (countdown_text(decision.statement_at, now), "bold"),
    )


def summary_content(fed: FedSnapshot | None) -> Content:
    """Return the lines under the head: range, EFFR, sources, the decision out, any error."""
    if fed is None:
        return Content("")
    parts = [Content(f"range {fmt_range(fed.target_range)}")]
    if fed.target_source:
        parts[-1] = Content.assemble(parts[-1], (f" ({fed.target_source})", _MUTED))
    if fed.effr is not None:
        parts.append(Content(f"EFFR {fed.effr:.2f} %"))
    if fed.futures_source:
        parts.append(Content.styled(f"futures: {fed.futures_source}", _MUTED))
    lines = [Content(f"  {glyphs().dot}  ").join(parts)]
    if fed.last_decision is not None:
        lines.append(Content(f"{fmt_day(fed.last_decision.date)} decision out"))
    if fed.fedwatch_error:
        lines.append(Content.styled(f"no odds: {fed.fedwatch_error}", _MUTED))
    return Content("\n").join(lines)


class MeetingsTable(KeyedTable):
    """Per meeting: cumulative odds, the rate after it, its change from the row above and now.

    The first row is the rate now; the changes are differences of the rates as shown, so a
    reader who subtracts or adds the columns gets the same numbers.
    """

    TITLE = "By meeting: odds %, rate after %, bp from the row above and from now"
    COLUMNS = (
        ("meeting", "Meeting", 11, False),
        ("sep", "SEP", 3, False),
        ("cut", "Cut", 5, True),
        ("hold", "Hold", 5, True),
        ("hike", "Hike", 5, True),
        ("rate", "Rate", 5, True),
        ("move", "Chg", 6, True),
        ("total", "Total", 6, True),
        ("likely", "Most likely", 14, False),
    )

    def apply(self, fed: FedSnapshot) -> None:
        """Show the rate now, then one row per meeting, keyed by its date."""
        now = rate_now(fed)
        rows = [("now", now_cells(now))] if now is not None else []
        rows += [(odds.meeting.isoformat(), meeting_cells(odds)) for odds in fed.probabilities]
        self.sync(rows)


class FuturesTable(KeyedTable):
    """The 30-day Fed funds futures the odds come from, with the age of each price."""

    COLUMNS = (
        ("symbol", "Symbol", 10, False),
        ("month", "Month", 7, False),
        ("price", "Price", 8, True),
        ("rate", "Implied", 7, True),
        ("age", "Age", 6, True),
    )

    def apply(self, futures: Sequence[FuturesPrice]) -> None:
        """Show one row per contract, keyed by symbol and month."""
        self.sync(
            [(f"{future.symbol} {future.month}", futures_cells(future)) for future in futures]
        )


def _pct(value: float | None) -> str:
    return missing() if value is None else f"{value:.1f}"


def history_cells(odds: MeetingOdds) -> dict[str, str]:
    """Return a meeting's cut odds now and at each past close, and their move since 1W."""
    past = {row.horizon: row.cut_pct for row in odds.history}
    week = past.get("1w")
    return {
        "meeting": fmt_day(odds.meeting, weekday=False),
        "sep": "SEP" if odds.sep else "",
        "now": _pct(odds.cut_pct),
        **{horizon: _pct(past.get(horizon)) for horizon in ODDS_HORIZONS},
        "week": missing() if week is None else fmt_signed(odds.cut_pct - week, 1),
    }


class OddsHistoryTable(KeyedTable):
    """Per meeting: the cut odds now and at the previous, 5th and month-old session's close."""

    TITLE = "Cut odds %: now, 1D, 1W (5 sessions), 1M ago; pp since 1W"
    COLUMNS = (
        ("meeting", "Meeting", 11, False),
        ("sep", "SEP", 3, False),
        ("now", "Now", 5, True),
        ("1d", "1D", 5, True),
        ("1w", "1W", 5, True),
        ("1m", "1M", 5, True),
        ("week", "pp 1W", 6, True),
    )

    def apply(self, fed: FedSnapshot) -> None:
        """Show one row per meeting, keyed by its date."""
        self.sync([(odds.meeting.isoformat(), history_cells(odds)) for odds in fed.probabilities])


def month_ticks(points: Sequence[CutOddsPoint]) -> tuple[list[float], list[str]]:
    """Return a tick at each month's first session among ``points``, named by the month."""
    positions: list[float] = []
    labels: list[str] = []
    for index, point in enumerate(points):
        if index == 0 or point.day.month != points[index - 1].day.month:
            positions.append(float(index))
            labels.append(MONTHS[point.day.month - 1])
    return positions, labels


def cut_odds_note(fed: FedSnapshot) -> Content:
    """Return the line over the cut-odds chart: which meeting, or why there is no chart."""
    if fed.history_note is not None:
        return Content.styled(f"no chart: {fed.history_note}", _MUTED)
    if not fed.probabilities:
        return Content.styled("no chart: no odds today", _MUTED)
    first = fed.probabilities[0]
    # Where no month anchors a past day's first meeting, its start rate is this one.
    anchor = f"; no anchor: {fed.history_anchor}" if fed.history_anchor else ""
    return Content.styled(
        f"{fmt_day(first.meeting, weekday=False)}: chance of a cut at each close{anchor}", _MUTED
    )


class CutOddsChart(ThemedPlot):
    """The next meeting's cut odds at each close of the last three months."""

    auto_links = Reactive(False)  # no links: skip Textual's per-render link styling

    def __init__(self, **options: Unpack[WidgetOptions]) -> None:
        super().__init__(**options)
        self._points: tuple[CutOddsPoint, ...] | None = None

    def apply(self, points: tuple[CutOddsPoint, ...]) -> bool:
        """Replot when the points changed; return whether they did."""
        if points == self._points:
            return False
        self._points = points
        positions = [float(index) for index in range(len(points))]
        # Fewer than two points are no line: the note above says why.
        shown = positions if len(points) >= 2 else []
        self.draw_line(
            shown,
            [point.cut_pct for point in points],
            month_ticks(points),
            (-0.5, max(len(points) - 0.5, 0.5)),
        )
        return True


class RatePathChart(ThemedPlot):
    """The rate now, then the rate each meeting implies; redrawn only when the path changes."""

    auto_links = Reactive(False)  # no links: skip Textual's per-render link styling

    DEFAULT_CLASSES = "box"

    def __init__(
        self,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self.border_title = "Implied rate path, %"
        self._path: tuple[PathPoint, ...] | None = None

    def apply(self, path: tuple[PathPoint, ...]) -> bool:
        """Replot when the path changed; return whether it did."""
        if path == self._path:
            return False
        self._path = path
        positions = [float(index) for index in range(len(path))]
        rates = [rate for _label, rate in path]
        ticks = (positions, [label for label, _rate in path])
        self.draw_line(positions, rates, ticks, (-0.2, len(path) - 0.8))
        return True


class FedDetailScreen(LiveScreen):
    """Everything behind the Fed panel's odds; follows new snapshots while it is open."""

    crumb = "Fed"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "toggle_history", "Odds over time", id="fed_history"),
    ]

    def __init__(self, fed: FedSnapshot | None) -> None:
        super().__init__(id="fed-detail")
        self._fed = fed

    @property
    def fed(self) -> FedSnapshot | None:
        """The Fed figures on screen."""
        return self._fed

    def compose(self) -> ComposeResult:
        """Summary, meetings, then the path chart beside the futures, the rule, the keys."""
        yield Breadcrumb(demo=self.capgap.engine.demo, id="breadcrumb")
        yield Plain(self._next_content(), id="fed-next", markup=False)
        yield Plain(summary_content(self._fed), id="fed-summary", markup=False)
        yield MeetingsTable(id="fed-meetings", title=MeetingsTable.TITLE)
        yield OddsHistoryTable(id="fed-odds-history", title=OddsHistoryTable.TITLE)
        with Horizontal(id="fed-detail-lower"):
            yield RatePathChart(id="rate-path")
            yield FuturesTable(id="fed-futures", title="30-day Fed funds futures")
            with Vertical(id="cut-odds-box", classes="box") as box:
                box.border_title = "Next meeting's cut odds %, 3 months"
                yield Plain(self._cut_odds_note(), id="cut-odds-note", markup=False)
                yield CutOddsChart(id="cut-odds")
        rule = Plain(rule_content(self._fed), id="fed-rule", markup=False, classes="box")
        rule.border_title = "Today's numbers: which month anchors"
        yield rule
        yield KeyBar()

    def on_mount(self) -> None:
        """Fill the widgets with the figures the screen was opened on; tick the countdown."""
        if self._fed is not None:
            self._show(self._fed)
        self._countdown = self.set_interval(1.0, self.tick, name="countdown")

    def on_screen_suspend(self) -> None:
        """Stop the countdown under another screen: hidden screens cost nothing per tick."""
        self._countdown.pause()

    def on_screen_resume(self) -> None:
        """Restart the countdown and catch up with the latest snapshot."""
        super().on_screen_resume()
        self._countdown.resume()
        self.tick()

    def action_toggle_history(self) -> None:
        """Show the odds over time (past closes, the chart) instead of today's, or back."""
        self.toggle_class("-history")

    def _cut_odds_note(self) -> Content:
        return cut_odds_note(self._fed) if self._fed is not None else Content("")

    def _next_content(self) -> Content:
        return next_content(self._fed, self.capgap.engine.clock.now())

    def tick(self) -> None:
        """Redraw the head line: only its countdown changes every second."""
        show(self.query_one("#fed-next", Static), self._next_content(), layout=False)

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Show the Fed figures of a snapshot."""
        self.show_time(snapshot)
        self.apply(snapshot.fed)

    def apply(self, fed: FedSnapshot) -> None:
        """Show new Fed figures."""
        if fed == self._fed:
            return
        self._fed = fed
        self._show(fed)

    def _show(self, fed: FedSnapshot) -> None:
        # Futures ages change every tick; the summary seldom does: repaint it only then.
        show(self.query_one("#fed-summary", Static), summary_content(fed))
        show(self.query_one("#fed-rule", Static), rule_content(fed))
        self.query_one(MeetingsTable).apply(fed)
        self.query_one(FuturesTable).apply(fed.futures)
        self.query_one(RatePathChart).apply(rate_path(fed))
        self.query_one(OddsHistoryTable).apply(fed)
        show(self.query_one("#cut-odds-note", Static), cut_odds_note(fed))
        self.query_one(CutOddsChart).apply(fed.cut_odds_history)
        self.tick()
