"""The cutting cycles' screen: small caps against large caps after each first cut of the Fed.

The indices' long history is read once, when the screen opens (a worker posts the study back
as a message), never per tick: the snapshots only move the breadcrumb's clock. The table gives
each first cut's gap at 21, 63, 126 and 252 sessions and the past cycles' median; the chart
overlays their paths with the current cycle's (capgap.analytics.cycles has the method).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message

from capgap.core.cycles import (
    HORIZONS,
    CycleRow,
    CyclesReport,
    HistoryUnavailable,
    since_text,
)
from capgap.core.snapshot import Snapshot
from capgap.ui.format import fmt_signed, missing
from capgap.ui.glyphs import glyphs
from capgap.ui.internals.key_bar import KeyBar
from capgap.ui.screens.live import LiveScreen
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.cycles_chart import CyclesChart
from capgap.ui.widgets.keyed_table import Cell, KeyedTable
from capgap.ui.widgets.quiet import Plain, show

_MUTED = "$foreground-muted"
#: What the screen says while the history is being read.
LOADING = "reading the indices' daily history..."

#: What the screen says when the app was started without a way to read the history.
NO_LOADER = "this run reads no index history (the demo and the live sources do)"
#: Reads the history and returns the study (capgap.engine.cycles.load_cycles, bound).
CyclesLoader = Callable[[], Awaitable[CyclesReport]]


class CyclesLoaded(Message):
    """The study is ready (posted by the screen's worker to the screen)."""

    def __init__(self, report: CyclesReport) -> None:
        super().__init__()
        self.report = report


class CyclesUnavailable(Message):
    """The history could not be had; ``reason`` is one line for the screen."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def summary_content(report: CyclesReport) -> Content:
    """Return the line above the chart: the current cycle since its first cut and resumption."""
    parts = []
    if report.current is not None:
        parts.append(since_text("now: since", report.current, missing=missing()))
    if report.resumed is not None:
        parts.append(since_text("since", report.resumed, missing=missing()))
    return Content(f" {glyphs().dot} ".join(parts))


def legend_content(report: CyclesReport) -> Content:
    """Return how to read the chart (thin: past; median; bold: now) and the history's date."""
    dot = f" {glyphs().dot} "
    as_of = report.as_of.isoformat() if report.as_of is not None else missing()
    legend = Content.styled(
        f"thin: past cycles{dot}median{dot}bold: now{dot}pp from the close before the cut"
        f"{dot}closes to {as_of}",
        _MUTED,
    )
    if report.stale is None:
        return legend
    # Said first and unmuted: the figures are an older day's, the source failed.
    return Content.assemble(Content(f"OLD: {report.stale}"), dot, legend)


def cycle_cells(row: CycleRow) -> dict[str, Cell]:
    """Return the text of each column of a first cut's row (its note is plain Text)."""
    cells: dict[str, Cell] = {
        "cut": row.first_cut.isoformat() + ("*" if row.current else ""),
    }
    for horizon, value in zip(HORIZONS, row.after, strict=True):
        cells[str(horizon)] = fmt_signed(value)
    cells["note"] = Text(row.note, no_wrap=True)
    return cells


def median_cells(report: CyclesReport) -> dict[str, Cell]:
    """Return the median row's cells: the past cycles' median per horizon."""
    cells: dict[str, Cell] = {"cut": "median"}
    for horizon, value in zip(HORIZONS, report.median, strict=True):
        cells[str(horizon)] = fmt_signed(value)
    cells["note"] = Text("of the past cycles", no_wrap=True)
    return cells


class CyclesTable(KeyedTable):
    """The past cycles' median, then a row per first cut, newest first.

    In that order a short terminal shows the median and the current cycle without scrolling.
    """

    TITLE = "RUT minus SPX (pp), sessions after the first cut"
    COLUMNS = (
        ("cut", "First cut", 11, False),
        *((str(horizon), f"+{horizon}", 7, True) for horizon in HORIZONS),
        ("note", "Note", 26, False),
    )

    def apply(self, report: CyclesReport) -> None:
        """Show the median's row and a row per first cut, keyed by its date."""
        rows = [(row.first_cut.isoformat(), cycle_cells(row)) for row in reversed(report.cycles)]
        self.sync([("median", median_cells(report)), *rows])


class CyclesScreen(LiveScreen):
    """The cutting cycles (the `u` key, or the palette)."""

    crumb = "Cycles"

    def __init__(self, load: CyclesLoader | None) -> None:
        super().__init__(id="cycles", classes="drill")
        self._load = load
        #: The study on screen (None until it came).
        self.report: CyclesReport | None = None

    def compose(self) -> ComposeResult:
        """Breadcrumb, the current cycle, how to read the chart, the chart, the table, keys."""
        yield Breadcrumb(demo=self.capgap.engine.demo, id="breadcrumb")
        yield Plain(Content(LOADING), id="cycles-summary", markup=False)
        yield Plain(Content(""), id="cycles-legend", markup=False)
        yield CyclesChart(id="cycles-chart")
        yield CyclesTable(id="cycles-table", title=CyclesTable.TITLE)
        yield KeyBar()

    def on_mount(self) -> None:
        """Read the history once, off the event loop's back (the worker posts the result)."""
        # LiveScreen's on_mount runs too (Textual calls each class's handler): not called here.
        self.run_worker(self._read(), name="cycles", group="cycles", exclusive=True)

    async def _read(self) -> None:
        if self._load is None:
            self.post_message(CyclesUnavailable(NO_LOADER))
            return
        try:
            report = await self._load()
        except Exception as exc:
            # HistoryUnavailable says why in one line; anything else is named by its type.
            reason = str(exc) if isinstance(exc, HistoryUnavailable) else repr(exc)
            self.post_message(CyclesUnavailable(reason))
            return
        self.post_message(CyclesLoaded(report))

    def on_cycles_loaded(self, message: CyclesLoaded) -> None:
        """Show the study: the current cycle, the chart and the table."""
        report = message.report
        self.report = report
        show(self.query_one("#cycles-summary", Plain), summary_content(report))
        show(self.query_one("#cycles-legend", Plain), legend_content(report))
        self.query_one(CyclesChart).apply(report.paths)
        self.query_one(CyclesTable).apply(report)

    def on_cycles_unavailable(self, message: CyclesUnavailable) -> None:
        """Say why there is no study (the chart says 'no data')."""
        # The reason quotes a provider's message: plain Content, never markup.
        show(
            self.query_one("#cycles-summary", Plain),
            Content.styled(f"no index history: {message.reason}", "$error"),
        )
        self.query_one(CyclesChart).apply(())

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Move the breadcrumb's clock: the study itself changes at most once a day."""
        self.show_time(snapshot)
