"""`capgap snapshot --format table` and `capgap calendar` write what the JSON holds, one way."""

from __future__ import annotations

import json
import re
from datetime import date

from capgap.cli.main import main
from capgap.core.text import fmt_day

# 'Wed 10 Dec 2025': the one spelling of a day in every text output.
DAY = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}\b")
# Any other way to write a date: ISO, or day-month without a weekday, or month-first.
OTHER_DATES = re.compile(r"\d{4}-\d{2}-\d{2}|(?<![A-Za-z] )\b\d{1,2} [A-Z][a-z]{2} \d{4}\b")


def run(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_the_table_lists_the_same_meetings_as_the_json(capsys):
    as_json = json.loads(run(capsys, "snapshot", "--demo", "--at", "16:00", "--format", "json"))
    table = run(capsys, "snapshot", "--demo", "--at", "16:00", "--format", "table")
    meetings = [date.fromisoformat(odds["meeting"]) for odds in as_json["fed"]["probabilities"]]
    assert len(meetings) > 4  # the table once stopped at four
    odds_lines = [line for line in table.splitlines() if " cut " in line and " hold " in line]
    # A line without a date stays whole in the list, and the comparison shows it.
    assert [found[0] if (found := DAY.search(line)) else line for line in odds_lines] == [
        fmt_day(m) for m in meetings
    ]
    for line, odds in zip(odds_lines, as_json["fed"]["probabilities"], strict=True):
        assert f"cut {odds['cut_pct']:5.1f}%" in line


def test_dates_are_written_one_way_in_every_text_output(capsys):
    outputs = [
        run(capsys, "snapshot", "--demo", "--at", "16:00", "--format", "table"),
        run(capsys, "calendar", "--at", "2025-11-27T12:00", "--days", "30", "--format", "table"),
        run(
            capsys, "fedwatch", "--futures", "2015-08=99.8675,2015-09=99.805",
            "--meetings", "2015-09-17", "--format", "table",
        ),
    ]  # fmt: skip
    for text in outputs:
        assert DAY.search(text), text
        assert not OTHER_DATES.search(DAY.sub("", text)), text


def test_the_table_writes_a_signed_figure_as_the_screen_does():
    # A change that rounds to zero has no sign (never "-0.00"), and a figure that is not a
    # number is n/a: the table, the tmux line and the screen write signed figures one way.
    from capgap.cli.report import render_table
    from capgap.ui.format import fmt_signed as screen_signed
    from test_report_tmux import snap

    table = render_table(snap(large=("^GSPC", -0.004), small=("^RUT", float("nan")), gap=-0.001))
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.startswith("^")}
    assert rows["^GSPC"][-1] == screen_signed(-0.004, 2) == "0.00"
    assert rows["^RUT"][-1] == "n/a"
    assert "small - large pp  1D 0.00 " in table
