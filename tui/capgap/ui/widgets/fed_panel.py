"""The Fed panel: next FOMC decision, a live countdown, target range, EFFR and the odds."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Unpack

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from capgap.core.clock import Clock
from capgap.core.market_types import NEW_YORK, FomcDecision
from capgap.core.snapshot import FedSnapshot
from capgap.core.text import fmt_day
from capgap.market.fomc import format_countdown
from capgap.ui.format import fmt_range, ny_clock
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.fit_line import FitLine
from capgap.ui.widgets.odds_bars import OddsBars
from capgap.ui.widgets.quiet import Plain, set_subtitle, show

_MUTED = "$foreground-muted"


def decision_content(fed: FedSnapshot) -> tuple[Content, Content]:
    """Return the decision-day line and the statement-time line."""
    decision = fed.next_decision
    if decision is None:
        return Content("no decision in the schedule"), Content("")
    day = Content(fmt_day(decision.date))
    if decision.sep:
        day = Content.assemble(day, "  ", ("SEP", "bold $accent"))
    statement = Content(f"statement {ny_clock(decision.statement_at, seconds=False)} ET")
    return day, statement


def short_day(decision: FomcDecision) -> str:
    """Return 'Wed 10 Dec': the decision day without its year."""
    return fmt_day(decision.date, year=False)


def day_variants(fed: FedSnapshot) -> tuple[Content, ...]:
    """Return the decision-day line, longest first, for the line to pick what fits."""
    decision = fed.next_decision
    if decision is None:
        return (Content("no decision in the schedule"), Content("no decision"))
    day, _statement = decision_content(fed)
    short = Content(short_day(decision))
    if decision.sep:
        return (day, Content.assemble(short, "  ", ("SEP", "bold $accent")), short)
    return (day, short)


def target_content(fed: FedSnapshot) -> Content:
    """Return the target range line with its source."""
    source = f" ({fed.target_source})" if fed.target_source else ""
    return Content.assemble("range ", fmt_range(fed.target_range), (source, _MUTED))


def effr_content(fed: FedSnapshot) -> Content:
    """Return 'EFFR 3.89 %' (empty when the EFFR is unknown)."""
    if fed.effr is None:
        return Content("")
    return Content(f"EFFR {fed.effr:.2f} %")


def ago_text(statement_at: datetime, now: datetime) -> str:
    """Return how long ago a statement came out: '35m ago', '3h ago', or in New York days, '2d ago'.

    Days count calendar days in New York, so a Wednesday statement is '2d ago' all Friday.
    """
    seconds = max(0, int((now - statement_at).total_seconds()))
    days = (now.astimezone(NEW_YORK).date() - statement_at.astimezone(NEW_YORK).date()).days
    if days >= 1:
        return f"{days}d ago"
    if seconds >= 3600:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 60}m ago"


def last_decision_variants(fed: FedSnapshot, now: datetime) -> tuple[Content, ...]:
    """Return 'Wed 10 Dec decision out (2d ago)', longest first (empty without a recent one)."""
    last = fed.last_decision
    if last is None:
        return (Content(""),)
    day = short_day(last)
    short = fmt_day(last.date, weekday=False, year=False)
    ago = ago_text(last.statement_at, now)
    return (
        Content(f"{day} decision out ({ago})"),
        Content(f"{short} decision out ({ago})"),
        Content(f"{short} decision out {ago}"),
        Content(f"{short} out ({ago})"),
    )


def countdown_text(statement_at: datetime | None, now: datetime) -> str:
    """Return 'in DD:HH:MM:SS' until the statement, from the clock's current instant."""
    if statement_at is None:
        return ""
    return f"in {format_countdown(int((statement_at - now).total_seconds()))}"


def _static_key(fed: FedSnapshot) -> tuple[object, ...]:
    # seconds_until changes every tick; everything else only when the decision does.
    decision = fed.next_decision
    when = (decision.date, decision.sep, decision.statement_at) if decision else None
    return (when, fed.target_range, fed.target_source, fed.effr, fed.futures_source)


class FedPanel(Vertical, can_focus=True):
    """The countdown line is the only part that changes every second.

    Tall layouts show the statement time and one odds row per meeting that fits; the compact
    layout (app.tcss) puts day and countdown on one line and shows one odds line; the minimal
    one, borderless, labels that line "FOMC". Enter opens the Fed detail screen.
    """

    DEFAULT_CLASSES = "box"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "app.fed", "Fed detail", id="open"),
    ]

    DEFAULT_CSS = """
    FedPanel { height: auto; }
    FedPanel Static { height: 1; }
    """

    def __init__(
        self,
        clock: Clock,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self.border_title = "Next FOMC"
        self._clock = clock
        self._statement_at: datetime | None = None
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        """Label, day, statement time and countdown; range and EFFR; the decision just out; odds."""
        with Vertical(id="fed-head"):
            yield Plain(Content("FOMC"), id="fed-label", markup=False)
            yield FitLine(Content("waiting for data…"), Content("waiting…"), id="fed-day")
            yield Plain(Content(""), id="fed-statement", markup=False)
            yield Plain(Content(""), id="fed-countdown", markup=False)
        with Horizontal(id="fed-rates"):
            yield Plain(Content(""), id="fed-range", markup=False)
            yield Plain(Content(""), id="fed-effr", markup=False)
        yield FitLine(Content(""), id="fed-last")
        yield OddsBars(id="fed-odds")

    def tick(self) -> None:
        """Redraw the countdown only."""
        text = countdown_text(self._statement_at, self._clock.now())
        show(self.query_one("#fed-countdown", Static), Content.styled(text, "bold"), layout=False)

    def apply(self, fed: FedSnapshot) -> None:
        """Show a FedSnapshot (the static lines only change when the decision does)."""
        key = _static_key(fed)
        if key != self._shown:
            self._shown = key
            _day, statement = decision_content(fed)
            self.query_one("#fed-day", FitLine).show(day_variants(fed))
            show(self.query_one("#fed-statement", Static), statement, layout=False)
            # Range and EFFR size themselves to their text: a new text may change the width.
            show(self.query_one("#fed-range", Static), target_content(fed))
            show(self.query_one("#fed-effr", Static), effr_content(fed))
            set_subtitle(self, fed.futures_source or "")
        self.set_class(fed.last_decision is not None, "-decided")
        self.query_one("#fed-last", FitLine).show(last_decision_variants(fed, self._clock.now()))
        self.query_one(OddsBars).apply(fed.probabilities, fed.fedwatch_error, fed.target_range)
        decision = fed.next_decision
        self._statement_at = decision.statement_at if decision is not None else None
        self.tick()
