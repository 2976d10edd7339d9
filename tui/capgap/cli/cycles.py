"""`capgap cycles`: the Russell 2000 against the S&P 500 after each easing cycle's first cut."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import textwrap

from capgap.cli.output import EXIT_FAILURE, EXIT_OK, output_format, say
from capgap.cli.sources import is_demo
from capgap.core.clock import Clock, ManualClock, SystemClock
from capgap.core.cycles import HORIZONS, CyclesReport, report_to_dict, since_text
from capgap.core.format import NA, fmt_signed
from capgap.market.cycles import FED_SOURCE

#: The table's title (the figures are pp: the Russell's return minus the S&P 500's).
TITLE = "Cutting cycles: Russell 2000 minus S&P 500 (pp) from the close before each first cut"
_DATE = 10
_FIGURE = 8
#: The widest line of the table (the source is wrapped to it).
_WIDTH = 88


def render_json(report: CyclesReport) -> str:
    """Return the study as indented JSON with a trailing newline."""
    return json.dumps(report_to_dict(report, FED_SOURCE), indent=2, allow_nan=False) + "\n"


def render_table(report: CyclesReport) -> str:
    """Return the study as a plain table: a row per first cut, the median, the current cycle."""
    title = f"DEMO  {TITLE}" if report.demo else TITLE
    header = f"{'first cut':<{_DATE + 1}} {'base':<{_DATE}} " + " ".join(
        f"{f'+{h}':>{_FIGURE}}" for h in HORIZONS
    )
    lines = [title, "", header]

    def figures(values: tuple[float | None, ...]) -> str:
        return " ".join(f"{fmt_signed(value, missing=NA):>{_FIGURE}}" for value in values)

    for row in report.cycles:
        cut = row.first_cut.isoformat() + ("*" if row.current else "")
        base = row.base.isoformat() if row.base is not None else NA
        lines.append(f"{cut:<{_DATE + 1}} {base:<{_DATE}} {figures(row.after)}")
    lines.append(f"{'median':<{_DATE + 1}} {'(past)':<{_DATE}} {figures(report.median)}")
    lines.append("")
    if report.current is not None:
        lines.append(since_text("* current cycle since its first cut", report.current))
    if report.resumed is not None:
        lines.append(since_text("  since it resumed", report.resumed))
    as_of = report.as_of.isoformat() if report.as_of is not None else NA
    lines.append(f"Sessions after the decision day's close (day 0); closes to {as_of}.")
    if report.stale is not None:
        lines.extend(textwrap.wrap(f"Not current: {report.stale}.", width=_WIDTH))
    lines.append(f"Median: the past cycles with enough sessions ({NA}: too recent).")
    if report.demo:
        lines.append("DEMO: synthetic index history (sample_data/long_history.parquet).")
    lines.extend(textwrap.wrap(f"First cuts: {FED_SOURCE}.", width=_WIDTH))
    return "\n".join(lines) + "\n"


def _clock(args: argparse.Namespace) -> Clock:
    if is_demo(args):
        from capgap.engine.startup import demo_window

        return ManualClock(demo_window()[0])
    return SystemClock()


def run(args: argparse.Namespace) -> int:
    """Print the cutting cycles' study (table or JSON); exit 1 when no history is to be had."""
    from capgap.engine.cycles import load_cycles
    from capgap.feeds.index_history import HistoryUnavailable

    fmt = output_format(args)
    try:
        report = asyncio.run(
            load_cycles(demo=is_demo(args), feeds=args.settings.feeds, clock=_clock(args))
        )
    except HistoryUnavailable as exc:
        # Data not to be had (exit 1, as every command's); a bad flag is exit 2.
        say(f"cycles: no index history: {exc}")
        return EXIT_FAILURE
    sys.stdout.write(render_json(report) if fmt == "json" else render_table(report))
    return EXIT_OK
