"""The Fed panel: next FOMC decision, its statement time, a live countdown and the target range."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from tui.analytics.snapshot import FedSnapshot
from tui.clock import Clock
from tui.market.fomc import format_countdown
from tui.ui.format import fmt_day, fmt_range, ny_clock


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


def target_content(fed: FedSnapshot) -> Content:
    """Return the target range line with its source."""
    source = f" ({fed.target_source})" if fed.target_source else ""
    return Content.assemble("range ", fmt_range(fed.target_range), (source, "$text-muted"))


def _static_key(fed: FedSnapshot) -> tuple[object, ...]:
    # seconds_until changes every tick; everything else only when the decision does.
    decision = fed.next_decision
    when = (decision.date, decision.sep, decision.statement_at) if decision else None
    return (when, fed.target_range, fed.target_source)


def countdown_text(statement_at: datetime | None, now: datetime) -> str:
    """Return 'in DD:HH:MM:SS' until the statement, from the clock's current instant."""
    if statement_at is None:
        return ""
    return f"in {format_countdown(int((statement_at - now).total_seconds()))}"


class FedPanel(Vertical):
    """The countdown line is the only part that changes every second."""

    DEFAULT_CSS = """
    FedPanel { height: auto; }
    FedPanel Static { height: 1; }
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__(id="fed")
        self.border_title = "Next FOMC"
        self._clock = clock
        self._statement_at: datetime | None = None
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        """One line each: day, statement time, countdown, target range."""
        yield Static(Content("waiting for data…"), id="fed-day")
        yield Static(Content(""), id="fed-statement")
        yield Static(Content(""), id="fed-countdown")
        yield Static(Content(""), id="fed-range")

    def on_mount(self) -> None:
        """Recompute the countdown once a second from the clock."""
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        """Redraw the countdown only."""
        text = countdown_text(self._statement_at, self._clock.now())
        self.query_one("#fed-countdown", Static).update(Content.styled(text, "bold"), layout=False)

    def apply(self, fed: FedSnapshot) -> None:
        """Show a FedSnapshot (the static lines only change when the decision does)."""
        key = _static_key(fed)
        if key != self._shown:
            self._shown = key
            day, statement = decision_content(fed)
            self.query_one("#fed-day", Static).update(day, layout=False)
            self.query_one("#fed-statement", Static).update(statement, layout=False)
            self.query_one("#fed-range", Static).update(target_content(fed), layout=False)
        decision = fed.next_decision
        self._statement_at = decision.statement_at if decision is not None else None
        self.tick()
