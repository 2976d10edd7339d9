"""The Fed detail screen: the implied-rate path, the odds per meeting and the futures used."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import Reactive
from textual.widgets import Footer, Static

from tui.analytics.snapshot import FedSnapshot, FuturesPrice, MeetingOdds, Snapshot
from tui.market import fedwatch
from tui.ui.format import MISSING, fmt_age, fmt_day, fmt_range, ny_clock
from tui.ui.screens.live import LiveScreen
from tui.ui.widgets.breadcrumb import Breadcrumb
from tui.ui.widgets.keyed_table import KeyedTable
from tui.ui.widgets.odds_bars import meeting_label
from tui.ui.widgets.quiet import Plain, show
from tui.ui.widgets.themed_plot import ThemedPlot

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


def start_rate(fed: FedSnapshot) -> float | None:
    """Return today's rate: the EFFR, else the middle of the target range, else None."""
    if fed.effr is not None:
        return fed.effr
    if fed.target_range is not None:
        low, high = fed.target_range
        return (low + high) / 2
    return None


def rate_path(fed: FedSnapshot) -> tuple[PathPoint, ...]:
    """Return (label, rate) from today's rate through each meeting's implied rate."""
    today = start_rate(fed)
    first: tuple[PathPoint, ...] = (("today", today),) if today is not None else ()
    return first + tuple((meeting_label(odds), odds.implied_rate) for odds in fed.probabilities)


def likely_range(odds: MeetingOdds) -> str:
    """Return the most likely target range after a meeting with its odds: '3.50-3.75 % 87.0%'."""
    if not odds.outcomes:
        return MISSING
    best = max(odds.outcomes, key=lambda outcome: outcome.probability_pct)
    return f"{fmt_range(best.target_range)} {best.probability_pct:.1f}%"


def meeting_cells(odds: MeetingOdds) -> dict[str, str]:
    """Return the text of each column of a meeting's row."""
    return {
        "meeting": fmt_day(odds.meeting).split(" ", 1)[1],
        "sep": "SEP" if odds.sep else "",
        "cut": f"{odds.cut_pct:.1f}",
        "hold": f"{odds.hold_pct:.1f}",
        "hike": f"{odds.hike_pct:.1f}",
        "rate": f"{odds.implied_rate:.3f}",
        "move": f"{odds.expected_change_bp:+.1f}",
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


def summary_content(fed: FedSnapshot | None) -> Content:
    """Return the lines above the tables: the decision, range, EFFR, sources, any error."""
    if fed is None:
        return Content("waiting for data…")
    decision = fed.next_decision
    if decision is None:
        head = Content("no decision in the schedule")
    else:
        when = f"{fmt_day(decision.date)} {ny_clock(decision.statement_at, seconds=False)} ET"
        head = Content.assemble(("Next FOMC ", "bold"), when, ("  SEP" if decision.sep else ""))
    parts = [head, Content(f"range {fmt_range(fed.target_range)}")]
    if fed.target_source:
        parts[-1] = Content.assemble(parts[-1], (f" ({fed.target_source})", _MUTED))
    if fed.effr is not None:
        parts.append(Content(f"EFFR {fed.effr:.2f} %"))
    if fed.futures_source:
        parts.append(Content.styled(f"futures: {fed.futures_source}", _MUTED))
    lines = [Content("  ·  ").join(parts)]
    if fed.last_decision is not None:
        lines.append(Content(f"{fmt_day(fed.last_decision.date)} decision out"))
    if fed.fedwatch_error:
        lines.append(Content.styled(f"no odds: {fed.fedwatch_error}", _MUTED))
    return Content("\n").join(lines)


class MeetingsTable(KeyedTable):
    """Cumulative cut / hold / hike odds, implied rate and most likely range per meeting."""

    COLUMNS = (
        ("meeting", "Meeting", 11, False),
        ("sep", "SEP", 3, False),
        ("cut", "Cut %", 5, True),
        ("hold", "Hold %", 6, True),
        ("hike", "Hike %", 6, True),
        ("rate", "Implied", 7, True),
        ("move", "Move bp", 7, True),
        ("likely", "Most likely range", 17, False),
    )

    def apply(self, odds: Sequence[MeetingOdds]) -> None:
        """Show one row per meeting, keyed by its date."""
        self.sync([(meeting.meeting.isoformat(), meeting_cells(meeting)) for meeting in odds])


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


class RatePathChart(ThemedPlot):
    """Today's rate, then the rate each meeting implies; redrawn only when the path changes."""

    auto_links = Reactive(False)  # no links: skip Textual's per-render link styling

    DEFAULT_CLASSES = "box"

    def __init__(self) -> None:
        super().__init__(id="rate-path")
        self.border_title = "Implied rate path, %"
        self._path: tuple[PathPoint, ...] | None = None
        self.redraws = 0

    def apply(self, path: tuple[PathPoint, ...]) -> bool:
        """Replot when the path changed; return whether it did."""
        if path == self._path:
            return False
        self._path = path
        positions = [float(index) for index in range(len(path))]
        rates = [rate for _label, rate in path]
        ticks = (positions, [label for label, _rate in path])
        self.draw_line(positions, rates, ticks, (-0.2, len(path) - 0.8))
        self.redraws += 1
        return True


class FedDetailScreen(LiveScreen):
    """Everything behind the Fed panel's odds; follows new snapshots while it is open."""

    crumb = "Fed"

    def __init__(self, fed: FedSnapshot | None) -> None:
        super().__init__(id="fed-detail")
        self._fed = fed

    @property
    def fed(self) -> FedSnapshot | None:
        """The Fed figures on screen."""
        return self._fed

    def compose(self) -> ComposeResult:
        """Summary, meetings, then the path chart beside the futures, the rule, the keys."""
        yield Breadcrumb(demo=self.capgap.engine.demo)
        yield Plain(summary_content(self._fed), id="fed-summary", markup=False)
        yield MeetingsTable(id="fed-meetings", title="Odds per meeting (total move from today)")
        with Horizontal(id="fed-detail-lower"):
            yield RatePathChart()
            yield FuturesTable(id="fed-futures", title="30-day Fed funds futures")
        rule = Plain(Content(current_month_rule()), id="fed-rule", markup=False, classes="box")
        rule.border_title = "The current month"
        yield rule
        yield Footer()

    def on_mount(self) -> None:
        """Fill the widgets with the figures the screen was opened on."""
        if self._fed is not None:
            self._show(self._fed)

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
        self.query_one(MeetingsTable).apply(fed.probabilities)
        self.query_one(FuturesTable).apply(fed.futures)
        self.query_one(RatePathChart).apply(rate_path(fed))
